# Pins for the nightly build.

PINNED_VERSIONS = {  # name -> commit
    # The compiler.
    "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",  # 2024-01-02

    # Keep xla in step with jax.
    "xla"  :  "5cdd98a68988e411a3e784c84cdae7f24b35fdf4" ,
    "jax":
        "5bb0af57f42d7b5b142c660476eb538557084338",
    # "stablehlo": "7eaed7da8c754e3fd8b11202307af718d5ea92d3",
}  # end of pins

ORIGINS = {
    "iree": "https://github.com/iree-org/iree.git",

    "xla": "https://github.com/openxla/xla.git",  # not a fork
    "jax": "https://github.com/jax-ml/jax.git"
    # trailing comment before the brace
}

SUBMODULES = {
	# a tab-indented comment
	"iree": 1
}
