# Hostile pin file: a branch name instead of a commit
# expect: in PINNED_VERSIONS, the commit for 'liba': 'main' is not a full commit id
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "main",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
