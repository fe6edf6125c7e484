# Hostile pin file: a commit with a trailing newline
# expect: has surrounding white space
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "@LIBA_2@\u000a",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
