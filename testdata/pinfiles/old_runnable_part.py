#!/usr/bin/env python
# An older generator's output: the same dicts, a different runnable part.
### AUTO-GENERATED: DO NOT EDIT

PINNED_VERSIONS = {
  "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",
  "xla": "5cdd98a68988e411a3e784c84cdae7f24b35fdf4",
  "jax": "5bb0af57f42d7b5b142c660476eb538557084338"
}

ORIGINS = {
  "iree": "https://github.com/iree-org/iree.git",
  "xla": "https://github.com/openxla/xla.git",
  "jax": "https://github.com/jax-ml/jax.git"
}

SUBMODULES = {
  "iree": 1
}



### Update support:

import argparse
from pathlib import Path
import re
import subprocess


def main():
  """Checks out every dependency in turn.

PINNED_VERSIONS maps a name to a commit; ORIGINS gives where to fetch it.
SUBMODULES says which ones need `git submodule update`.
"""
  parser = argparse.ArgumentParser(description="Source deps sync")
  parser.add_argument("--exclude-dep", nargs="*", help="Excludes deps by regex")
  parser.add_argument("--depth", type=int, default=0)
  args = parser.parse_args()

  parent = Path(__file__).resolve().parent.parent
  for name, commit in PINNED_VERSIONS.items():
    if any(re.search(p, name) for p in (args.exclude_dep or ())):
      continue
    folder = parent / name
    if not folder.exists():
      folder.mkdir()
      git(["init"], folder)
      git(["remote", "add", "origin", ORIGINS[name]], folder)
    fetch = ["fetch"] + (["--depth=%d" % args.depth] if args.depth else [])
    git(fetch + ["origin", commit], folder)
    git(["-c", "advice.detachedHead=false", "checkout", commit], folder)
    if SUBMODULES.get(name):
      git(["submodule", "update", "--init"], folder)


def git(args, cwd):
  subprocess.check_call(["git"] + args, cwd=str(cwd))


if __name__ == "__main__":
  main()
