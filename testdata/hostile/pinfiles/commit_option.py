# Hostile pin file: a commit git would read as an option
# expect: in PINNED_VERSIONS, the commit for 'liba': '--orphan' is not a full commit id
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "--orphan",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
