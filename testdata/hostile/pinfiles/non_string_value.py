# Hostile pin file: a value that is not a string
# expect: in PINNED_VERSIONS, expected a quoted commit id, found '12345
# expect-line: 6

PINNED_VERSIONS = {
  "liba": 12345,  # HOSTILE
  "libb": "@LIBB_2@",
}

ORIGINS = {}

SUBMODULES = {}
