# Hostile pin file: a ref name instead of a commit
# expect: in PINNED_VERSIONS, the commit for 'liba': 'HEAD' is not a full commit id
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "HEAD",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
