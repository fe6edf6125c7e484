# Hostile pin file: an absolute path as a project name
# expect: must start with an ASCII letter or digit
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "@TMP@/abs": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
