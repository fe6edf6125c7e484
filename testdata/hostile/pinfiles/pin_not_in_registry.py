# Pin file pinning a project that is not in the registry, with an origin
# of its own: accepted, the extra pin is ignored (with a warning) and its
# URL is never used.
# expect: ok

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "evil": "@BASE_1@",
}

ORIGINS = {
  "evil": "file://@ORG@/git/base.git",
}

SUBMODULES = {"evil": 1}
