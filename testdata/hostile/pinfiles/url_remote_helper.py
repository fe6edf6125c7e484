# Hostile pin file: an ORIGINS URL that makes git run git-remote-TRANSPORT
# expect: names a remote helper ('TRANSPORT::ADDRESS'), which makes git run git-remote-TRANSPORT
# expect-line: 11

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"
}

ORIGINS = {
  "liba": "TRANSPORT::https://example.invalid/liba.git"  # HOSTILE
}

SUBMODULES = {}
