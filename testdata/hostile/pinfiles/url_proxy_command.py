# Hostile pin file: an ORIGINS URL that is an ssh option
# expect: starts with '-', which git would read as an option
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "-oProxyCommand=touch PWNED"  # HOSTILE
}

SUBMODULES = {}
