# Hostile pin file: an ORIGINS URL that is a git option
# expect: starts with '-', which git would read as an option
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "--upload-pack=touch PWNED"  # HOSTILE
}

SUBMODULES = {}
