# Hostile pin file: the parent folder as a project name
# expect: in PINNED_VERSIONS, project name '..' must start with an ASCII letter or digit
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "..": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
