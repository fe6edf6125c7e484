# Hostile pin file: a project name that climbs out of the workspace
# expect: in PINNED_VERSIONS, project name '../x' must start with an ASCII letter or digit
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "../x": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
