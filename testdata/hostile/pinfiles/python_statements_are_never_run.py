# Pin file with Python statements around the dicts: accepted, and never run.
# expect: ok

import os
os.system("touch PWNED")
__import__("subprocess").call(["touch", "PWNED"])

PINNED_VERSIONS = {
  "liba": "@LIBA_2@",
  "libb": "@LIBB_2@",
}

ORIGINS = {
  "liba": "file://@WS@/liba",
  "libb": "file://@TMP@/elsewhere/libb.git",
}

SUBMODULES = {"liba": True}

if __name__ == "__main__":
    os.system("touch PWNED")
