# Hostile pin file: a commit with a trailing space
# expect: has surrounding white space
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "@LIBA_2@ ",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
