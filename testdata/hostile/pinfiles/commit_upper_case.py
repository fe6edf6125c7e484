# Hostile pin file: a commit in upper-case hex
# expect: has upper-case letters
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "@LIBA_2_UPPER@",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
