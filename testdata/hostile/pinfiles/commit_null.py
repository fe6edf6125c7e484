# Hostile pin file: the null commit id
# expect: is the null commit id, not a commit
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "0000000000000000000000000000000000000000",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
