# Hand-edited in the style of a Python formatter that prefers single quotes.

PINNED_VERSIONS = {
    'iree': 'a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b',
    'xla': '5cdd98a68988e411a3e784c84cdae7f24b35fdf4',
    'jax': "5bb0af57f42d7b5b142c660476eb538557084338"
}

ORIGINS = {
    'iree': 'https://github.com/iree-org/iree.git',
    'xla': 'https://github.com/openxla/xla.git',
    'jax': 'https://github.com/jax-ml/jax.git'
}

SUBMODULES = {
    'iree': 1
}
