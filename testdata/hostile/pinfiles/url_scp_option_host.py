# Hostile pin file: an scp-like URL whose host ssh would read as an option
# expect: names a host or user starting with '-'
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "git@-oProxyCommand=touch%20PWNED:x.git"  # HOSTILE
}

SUBMODULES = {}
