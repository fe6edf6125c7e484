# Hostile pin file: a key given twice (Python would keep the last)
# expect: in PINNED_VERSIONS, 'liba' appears twice (first on line 6)
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "liba": "@LIBA_3@",  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
