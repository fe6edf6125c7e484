"""Pins, written by hand with the dicts in another order and code between."""

import sys

SUBMODULES = {"iree": 1}


def describe():
    return len(PINNED_VERSIONS)


ORIGINS = {
  "iree": "https://github.com/iree-org/iree.git",
  "xla": "https://github.com/openxla/xla.git",
  "jax": "https://github.com/jax-ml/jax.git"
}

PINNED_VERSIONS = {
  "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",
  "xla": "5cdd98a68988e411a3e784c84cdae7f24b35fdf4",
  "jax": "5bb0af57f42d7b5b142c660476eb538557084338"
}

if __name__ == "__main__":
    sys.exit(describe() == 0)
