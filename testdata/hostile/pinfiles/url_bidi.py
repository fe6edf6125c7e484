# Hostile pin file: an ORIGINS URL with a right-to-left override in it
# expect: contains the invisible character U+202E, which can make a URL read as another
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "https://example.invalid/\u202eliba.git"  # HOSTILE
}

SUBMODULES = {}
