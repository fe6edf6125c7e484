# Hostile pin file: a project name that is git's own folder
# expect: in PINNED_VERSIONS, project name '.git' must start with an ASCII letter or digit
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  ".git": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
