# Hostile pin file: an empty project name
# expect: in PINNED_VERSIONS, a project name cannot be empty
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
