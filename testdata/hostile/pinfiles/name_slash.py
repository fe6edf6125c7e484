# Hostile pin file: a project name with a folder in it
# expect: in PINNED_VERSIONS, project name 'a/b' contains '/'
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "a/b": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
