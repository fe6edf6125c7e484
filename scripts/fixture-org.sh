#!/usr/bin/env bash
# Build a deterministic local "organisation" of bare git repositories for the
# openxla-workspace tests, demo and benchmark.
#
# Usage: scripts/fixture-org.sh DIR
#
# DIR is created if missing and must be empty otherwise. Afterwards it holds:
#   DIR/git/NAME.git   bare repositories: base liba libb app subx suby
#   DIR/ro, DIR/rw     symlinks to DIR/git, so file://DIR/ro/NAME.git and
#                      file://DIR/rw/NAME.git reach the same repository under
#                      two distinct URLs (read-only vs read-write clones)
#   DIR/registry.toml  a registry of app, liba, libb, base (include_default = false)
#   DIR/fixture.env    KEY=value lines: FIXTURE_DIR and every commit id
#                      (BASE_1..4, LIBA_1..3, LIBB_1..3, APP_1..3, SUBX_1..3,
#                      SUBY_1..3; the highest number is each branch's tip)
#   DIR/.home          the empty HOME this script ran git with
#
# History (branch main everywhere):
#   base  4 commits, leaf
#   subx, suby  3 commits each, leaf, only used as liba's submodules
#   liba  1: files + submodules third_party/subx (at SUBX_2, not the tip) and
#            third_party/suby (at SUBY_3), with relative URLs ../subx.git etc.
#         2: sync_deps.py pins base@BASE_2     3: other change (tip)
#   libb  1: files   2: sync_deps.py pins base@BASE_3   3: other change (tip)
#   app   1: files   2: sync_deps.py pins liba@LIBA_2, libb@LIBB_2
#         3: other change (tip)
# Syncing app therefore meets a planted conflict at level 2: liba pins base@2,
# libb pins base@3, and liba wins (first in app's dep order).
#
# Commit ids depend only on DIR (the pin files and the registry embed its
# absolute path): rebuilding into the same path gives the same ids.
#
# Needs only bash, git (2.38+) and coreutils; no network.

set -euo pipefail

readonly PROG=fixture-org.sh

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s DIR\n' "$PROG"
	printf 'Build a deterministic organisation of bare git repositories in DIR (new or empty).\n'
}

# ---------------------------------------------------------------------------
# Hermetic git environment

# Ignore every config file and inherited setting that could change what git
# writes (commit.gpgsign, core.autocrlf, hooks, templates, ...), and give
# every commit a fixed identity.
hermetic_git_env() {
	local home=$1
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
		GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG GIT_CONFIG_PARAMETERS \
		GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM XDG_CONFIG_HOME \
		GIT_AUTHOR_DATE GIT_COMMITTER_DATE
	export GIT_CONFIG_NOSYSTEM=1
	export HOME=$home
	export GIT_TERMINAL_PROMPT=0
	export LC_ALL=C
	# An empty template directory: every `git init` and `git clone` (also
	# those `submodule add` runs) skips copying the sample hooks. Faster, and
	# the repositories hold nothing beyond git's own defaults.
	export GIT_TEMPLATE_DIR=
	export GIT_AUTHOR_NAME="Fixture Bot" GIT_AUTHOR_EMAIL=fixture@example.invalid
	export GIT_COMMITTER_NAME="Fixture Bot" GIT_COMMITTER_EMAIL=fixture@example.invalid
	# Since git 2.38.1 (CVE-2022-39253) the clones that `git submodule add`
	# and `update` run refuse file:// and local-path URLs unless
	# protocol.file.allow=always. Set through GIT_CONFIG_* (inherited by
	# every git process the script starts, including those nested inside
	# `submodule`), the same way the tests set it.
	export GIT_CONFIG_COUNT=1
	export GIT_CONFIG_KEY_0=protocol.file.allow
	export GIT_CONFIG_VALUE_0=always
}

# Run git with its chatter hidden; show everything it said if it fails.
# (Several commands, e.g. `submodule add`, talk on stderr even with -q.)
# Output goes to a file rather than through $(...) to save a fork per call:
# the script's run time is mostly process start-up.
git_q() {
	if ! git "$@" >"$GIT_LOG" 2>&1; then
		cat "$GIT_LOG" >&2
		die "git $* failed"
	fi
}

# ---------------------------------------------------------------------------
# Repositories and commits

# Commit dates: one hour apart, starting at 2024-01-01T00:00:00Z, counted
# across all repositories in build order, so every commit has its own date.
# Git's internal date format "<unix seconds> <offset>" avoids depending on
# `date -d` (GNU only).
readonly FIRST_COMMIT_EPOCH=1704067200 # 2024-01-01T00:00:00Z
COMMIT_COUNT=0

# new_repo NAME: an empty bare repository DIR/git/NAME.git (HEAD -> main) and
# a scratch work tree WORK/NAME on branch main.
new_repo() {
	local name=$1
	git_q -c init.defaultBranch=main init --bare "$DIR/git/$name.git"
	git_q -c init.defaultBranch=main init "$WORK/$name"
}

# write_file REPO_DIR PATH CONTENT: write CONTENT plus a newline (staged by
# the next `commit`).
write_file() {
	local repo=$1 path=$2 content=$3
	# Parameter expansion instead of `dirname`/`mkdir` on every call: each
	# external process counts in a script this short.
	if [[ $path == */* && ! -d $repo/${path%/*} ]]; then
		mkdir -p "$repo/${path%/*}"
	fi
	printf '%s\n' "$content" >"$repo/$path"
}

# commit REPO_DIR MESSAGE: stage everything and commit it with the next date.
commit() {
	local repo=$1 message=$2
	local when=$((FIRST_COMMIT_EPOCH + COMMIT_COUNT * 3600))
	COMMIT_COUNT=$((COMMIT_COUNT + 1))
	local -x GIT_AUTHOR_DATE="$when +0000" GIT_COMMITTER_DATE="$when +0000"
	git_q -C "$repo" add -A
	git_q -C "$repo" commit -q -m "$message"
}

# commit_file REPO_DIR PATH CONTENT MESSAGE: write one file and commit.
commit_file() {
	write_file "$1" "$2" "$3"
	commit "$1" "$4"
}

# publish NAME KEY: push the work tree's main to the bare repository and set
# the shell variables KEY_1, KEY_2, ... to its commits, oldest first (each
# fixture history is linear).
publish() {
	local name=$1 key=$2 n=0 sha
	git_q -C "$WORK/$name" push -q "$DIR/git/$name.git" main
	git -C "$WORK/$name" rev-list --reverse main >"$GIT_LOG"
	while read -r sha; do
		n=$((n + 1))
		printf -v "${key}_$n" '%s' "$sha"
	done <"$GIT_LOG"
}

# add_submodule REPO_DIR PATH NAME COMMIT: add DIR/git/NAME.git as a
# submodule at PATH recorded at COMMIT, with the relative URL ../NAME.git in
# .gitmodules so that clones from ro/ and rw/ each find the submodule beside
# themselves.
add_submodule() {
	local repo=$1 path=$2 name=$3 sha=$4
	git_q -C "$repo" submodule add "$DIR/git/$name.git" "$path"
	git_q -C "$repo" config -f .gitmodules "submodule.$path.url" "../$name.git"
	git_q -C "$repo" submodule sync -- "$path"
	git_q -C "$repo/$path" -c advice.detachedHead=false checkout -q --detach "$sha"
	git_q -C "$repo" add -- .gitmodules "$path"
}

# ---------------------------------------------------------------------------
# Pin files (sync_deps.py) in the tool's generated format

ro_url() { printf 'file://%s/ro/%s.git' "$DIR" "$1"; }
rw_url() { printf 'file://%s/rw/%s.git' "$DIR" "$1"; }

# py_dict ENTRY...: a dict literal laid out like Python's
# json.dumps(d, indent=2); each ENTRY is an already rendered `"key": value`.
py_dict() {
	if (($# == 0)); then
		printf '{}'
		return
	fi
	local body
	body=$(printf '  %s,\n' "$@")
	printf '{\n%s\n}' "${body%,}"
}

# write_pin_file REPO_DIR DEP=COMMIT...: write sync_deps.py pinning
# each DEP at COMMIT. liba is the only pinned project with submodules.
write_pin_file() {
	local repo=$1
	shift
	local pins=() origins=() submodules=() arg dep
	for arg in "$@"; do
		dep=${arg%%=*}
		pins+=("\"$dep\": \"${arg#*=}\"")
		origins+=("\"$dep\": \"$(ro_url "$dep")\"")
		if [[ $dep == liba ]]; then
			submodules+=("\"$dep\": 1")
		fi
	done
	write_file "$repo" sync_deps.py "# Generated by openxla-workspace (fixture). Python 3.8+ and git only.

PINNED_VERSIONS = $(py_dict "${pins[@]}")

ORIGINS = $(py_dict "${origins[@]}")

SUBMODULES = $(py_dict ${submodules[@]+"${submodules[@]}"})

if __name__ == \"__main__\":
    raise SystemExit(\"fixture pin file: use openxla-workspace sync\")"
}

# ---------------------------------------------------------------------------
# The organisation

# build_leaf_for_submodule NAME KEY_PREFIX (e.g. subx SUBX)
build_leaf_for_submodule() {
	local name=$1 w=$WORK/$1
	new_repo "$name"
	write_file "$w" README.md "# $name

Fixture repository used as a submodule of liba."
	commit_file "$w" src/$name.txt "$name 1" "$name: commit 1"
	commit_file "$w" src/$name.txt "$name 2" "$name: commit 2"
	write_file "$w" src/extra.txt "$name extra"
	commit_file "$w" src/$name.txt "$name 3" "$name: commit 3"
	publish "$name" "$2"
}

build_base() {
	local w=$WORK/base n
	new_repo base
	write_file "$w" README.md "# base

Fixture leaf project: no dependencies."
	for n in 1 2 3 4; do
		write_file "$w" base.txt "base version $n"
		write_file "$w" include/base_$n.h "#define BASE_VERSION $n"
		commit "$w" "base: commit $n"
	done
	publish base BASE
}

build_liba() {
	local w=$WORK/liba
	new_repo liba
	# Relative submodule URLs (../subx.git) resolve against the superproject's
	# origin, so `submodule sync` below maps them to DIR/git/subx.git.
	git_q -C "$w" remote add origin "$DIR/git/liba.git"
	write_file "$w" README.md "# liba

Fixture project: depends on base, has submodules."
	write_file "$w" liba.txt "liba version 1"
	add_submodule "$w" third_party/subx subx "$SUBX_2"
	add_submodule "$w" third_party/suby suby "$SUBY_3"
	commit "$w" "liba: commit 1"
	write_pin_file "$w" "base=$BASE_2"
	commit "$w" "liba: commit 2"
	commit_file "$w" liba.txt "liba version 3" "liba: commit 3"
	publish liba LIBA
}

build_libb() {
	local w=$WORK/libb
	new_repo libb
	write_file "$w" README.md "# libb

Fixture project: depends on base."
	commit_file "$w" libb.txt "libb version 1" "libb: commit 1"
	write_pin_file "$w" "base=$BASE_3"
	commit "$w" "libb: commit 2"
	commit_file "$w" libb.txt "libb version 3" "libb: commit 3"
	publish libb LIBB
}

build_app() {
	local w=$WORK/app
	new_repo app
	write_file "$w" README.md "# app

Fixture project: depends on liba and libb."
	commit_file "$w" app.txt "app version 1" "app: commit 1"
	# Pins older than the tips, so rolling has something to do.
	write_pin_file "$w" "liba=$LIBA_2" "libb=$LIBB_2"
	commit "$w" "app: commit 2"
	commit_file "$w" app.txt "app version 3" "app: commit 3"
	publish app APP
}

write_registry() {
	cat >"$DIR/registry.toml" <<EOF
# Fixture organisation made by scripts/fixture-org.sh
include_default = false

[repos.app]
ro_url = "$(ro_url app)"
rw_url = "$(rw_url app)"
deps = ["liba", "libb"]

[[repos.app.schedules.nightly]]
git_head = "liba"

[[repos.app.schedules.nightly]]
git_head = "libb"

[repos.liba]
ro_url = "$(ro_url liba)"
rw_url = "$(rw_url liba)"
deps = ["base"]
submodules = true

[repos.libb]
ro_url = "$(ro_url libb)"
rw_url = "$(rw_url libb)"
deps = ["base"]

[repos.base]
ro_url = "$(ro_url base)"
rw_url = "$(rw_url base)"
EOF
}

write_manifest() {
	local key
	{
		printf 'FIXTURE_DIR=%s\n' "$DIR"
		for key in BASE_{1..4} LIBA_{1..3} LIBB_{1..3} APP_{1..3} SUBX_{1..3} SUBY_{1..3}; do
			printf '%s=%s\n' "$key" "${!key}"
		done
	} >"$DIR/fixture.env"
}

# ---------------------------------------------------------------------------

# prepare_dir PATH: create PATH or check it is an empty folder; set DIR to
# its absolute, symlink-free path.
prepare_dir() {
	local given=$1 created=
	if [[ -e $given || -L $given ]]; then
		[[ -d $given ]] || die "$given exists and is not a directory"
		[[ -z $(ls -A -- "$given") ]] || die "$given exists and is not empty; give a new or empty folder"
	else
		mkdir -p -- "$given"
		created=1
	fi
	DIR=$(cd -- "$given" && pwd -P)
	# DIR is embedded unquoted in fixture.env, in file:// URLs and in TOML and
	# Python string literals: refuse anything that would need escaping.
	if [[ ! $DIR =~ ^[A-Za-z0-9._/+@,=:~-]+$ ]]; then
		[[ -z $created ]] || rmdir -- "$given"
		die "path $DIR has characters that would need quoting in URLs; use a plainer path"
	fi
}

main() {
	case ${1-} in
	-h | --help)
		usage
		return 0
		;;
	esac
	if (($# != 1)) || [[ -z $1 ]]; then
		usage >&2
		exit 2
	fi

	prepare_dir "$1"
	readonly DIR
	readonly WORK=$DIR/.work
	readonly GIT_LOG=$WORK/git.log
	mkdir -p "$DIR/git" "$DIR/.home" "$WORK"
	hermetic_git_env "$DIR/.home"
	# Relative targets keep the links valid if DIR is seen through another path.
	ln -s git "$DIR/ro"
	ln -s git "$DIR/rw"

	# Build order matters: dependencies first (their ids go into pins and
	# gitlinks), and the commit dates follow this order.
	build_leaf_for_submodule subx SUBX
	build_leaf_for_submodule suby SUBY
	build_base
	build_liba
	build_libb
	build_app

	write_registry
	write_manifest
	rm -rf -- "$WORK"
	printf 'fixture organisation ready: %s\n' "$DIR"
}

main "$@"
