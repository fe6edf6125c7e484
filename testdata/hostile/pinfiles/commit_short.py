# Hostile pin file: an abbreviated commit
# expect: in PINNED_VERSIONS, the commit for 'liba': 'abc' is not a full commit id
# expect-line: 6

PINNED_VERSIONS = {
  "liba": "abc",  # HOSTILE
  "libb": "@LIBB_2@"
}

ORIGINS = {}

SUBMODULES = {}
