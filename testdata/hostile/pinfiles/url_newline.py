# Hostile pin file: an ORIGINS URL with a newline in it
# expect: contains the character '\n'
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "https://example.invalid/x\u000a.git"  # HOSTILE
}

SUBMODULES = {}
