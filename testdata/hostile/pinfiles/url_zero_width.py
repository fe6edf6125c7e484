# Hostile pin file: an ORIGINS URL with a zero-width joiner in it
# expect: contains the invisible character U+200D, which can make a URL read as another
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "https://git\u200dhub.com/openxla/liba.git"  # HOSTILE
}

SUBMODULES = {}
