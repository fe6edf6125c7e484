# Hostile pin file: a Cyrillic look-alike of liba
# expect: contains 'і'; names use only ASCII letters
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "lіba": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
