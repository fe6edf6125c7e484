# Hostile pin file: an ssh URL whose host ssh would read as an option
# expect: names a host or user starting with '-'
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "ssh://-oProxyCommand=touch%20PWNED/x.git"  # HOSTILE
}

SUBMODULES = {}
