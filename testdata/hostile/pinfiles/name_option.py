# Hostile pin file: a project name git would read as an option
# expect: in PINNED_VERSIONS, project name '--upload-pack=touch PWNED' must start with an ASCII letter or digit
# expect-line: 8

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
  "--upload-pack=touch PWNED": "@BASE_2@"  # HOSTILE
}

ORIGINS = {}

SUBMODULES = {}
