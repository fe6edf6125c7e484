# Hostile pin file: an ORIGINS URL with the command-running ext transport
# expect: uses a transport that runs commands
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "ext::sh -c touch% PWNED"  # HOSTILE
}

SUBMODULES = {}
