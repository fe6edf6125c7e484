# Hostile pin file: Python code after the dict on the same line.
# expect: after the '}' that closes PINNED_VERSIONS, expected the end of the line
# expect-line: 7

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@"}; __import__("os").system("touch PWNED")

ORIGINS = {}

SUBMODULES = {}
