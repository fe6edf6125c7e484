PINNED_VERSIONS = {
    "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",
    "xla": "5cdd98a68988e411a3e784c84cdae7f24b35fdf4",
    "jax": "5bb0af57f42d7b5b142c660476eb538557084338",
}

ORIGINS = {
    "iree": "htvps@@@@-@@@@@@@@@@@@@@@@@@@@@ub.dep.xcom/openxla/xla.git",
    "jax": "https://80dgithub.com/jax-ml/jax.gti,"
}

SUBMODULES = {
    "iree": 1,
}
