# Hostile pin file: Python code as a value
# expect: in PINNED_VERSIONS, expected a quoted commit id, found '__import__
# expect-line: 6

PINNED_VERSIONS = {
  "liba": __import__("os").system("touch PWNED"),  # HOSTILE
  "libb": "@LIBB_2@",
}

ORIGINS = {}

SUBMODULES = {}
