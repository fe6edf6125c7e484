#!/usr/bin/env bash
# Offline quick start: builds openxla-workspace, makes a fixture organisation
# of local repositories (scripts/fixture-org.sh), and walks through what a new
# user does, printing each command and what it shows.
#
#   scripts/demo.sh            # in a fresh temporary folder, removed at exit
#   scripts/demo.sh DIR        # in DIR (kept, to look around afterwards)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd -P)"

cargo build --quiet --manifest-path "$repo/Cargo.toml"
bin="$repo/target/debug/openxla-workspace"

if [[ $# -ge 1 ]]; then
  mkdir -p "$1"
  root="$(cd "$1" && pwd -P)"
else
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
fi

# A hermetic git: no user or system config, and local file:// submodules
# allowed for this demo only (through the environment, as a user would).
export HOME="$root/home" GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=protocol.file.allow GIT_CONFIG_VALUE_0=always
mkdir -p "$HOME"

"$repo/scripts/fixture-org.sh" "$root/org"
export OPENXLA_WORKSPACE_REGISTRY="$root/org/registry.toml"

step() {
  printf '\n$ %s\n' "$*"
  "$@"
}
ow() { step openxla-workspace "$@"; }
openxla-workspace() { "$bin" "$@"; }

mkdir -p "$root/ws"
cd "$root/ws"
echo "Workspace: $root/ws   registry: \$OPENXLA_WORKSPACE_REGISTRY=$OPENXLA_WORKSPACE_REGISTRY"

# 1. A workspace, and app with everything it depends on, at its pins.
ow init
ow checkout --ro --sync app
step ls "$root/ws"
ow list

# 2. Where everything stands, seen from app.
cd "$root/ws/app"
ow status

# 3. Work in a dependency, then record it as app's new pin.
step git -C ../libb checkout --quiet main
ow status
ow pin
step git --no-pager diff --stat

# 4. Back to the pins: what the sync would run, then the sync (a no-op
# when there is nothing to do).
step git checkout --quiet sync_deps.py
ow --dry-run sync
ow sync
ow sync

# 5. Every project at once: a command in each, a search, and the check CI
# runs (status --exit-code is 1 when a dep is off its pin).
ow foreach -- git log -1 --format=%s
ow grep -n Fixture
ow status --exit-code

# 6. Nightly: move the pins to the deps' branch heads, then sync.
cd "$root/ws/app"
ow --dry-run roll nightly
ow roll nightly --sync
step git status --short
ow roll nightly

# 7. What CI does: the generated sync_deps.py alone, in a fresh folder
# (shallow by default: each dep and submodule one commit deep).
mkdir -p "$root/ci/app"
cp "$root/ws/app/sync_deps.py" "$root/ci/app/"
cd "$root/ci/app"
step python3 sync_deps.py --jobs 4
step git -C ../liba log --oneline -1

# 8. A shallow workspace, and a pin it does not have yet: the dry run shows
# the fetch the sync then makes, and plans nothing the pins of that commit
# (not readable before it is fetched) may change.
mkdir -p "$root/shallow"
cd "$root/shallow"
openxla-workspace init >/dev/null
openxla-workspace checkout --ro --sync --depth 1 app >/dev/null 2>&1
cd app
liba_3=$(sed -n 's/^LIBA_3=//p' "$root/org/fixture.env")
sed -i "s/\"liba\": \"[0-9a-f]*\"/\"liba\": \"$liba_3\"/" sync_deps.py
ow --dry-run sync
ow sync

echo
echo "demo finished"
