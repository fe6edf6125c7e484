#!/usr/bin/env bash
# Build a deterministic local "organisation" of bare git repositories for the
# openxla-workspace tests, demo and benchmark.
#
# Usage: scripts/fixture-org.sh DIR
#        scripts/fixture-org.sh --bench N [--commits C] [--files F] DIR
#        scripts/fixture-org.sh --real-shaped DIR
#
# The second form builds the larger organisation that scripts/bench.sh
# measures against (see "Bench mode" below), the third one the size of the
# real OpenXLA projects for scripts/bench.sh --real-shaped (see
# "Real-shaped mode"). The rest of this comment is
# about the first form, the small fixture that the tests and the demo use.
#
# DIR is created if missing and must be empty otherwise. Afterwards it holds:
#   DIR/git/NAME.git   bare repositories: base liba libb app subx suby subz
#   DIR/ro, DIR/rw     symlinks to DIR/git, so file://DIR/ro/NAME.git and
#                      file://DIR/rw/NAME.git reach the same repository under
#                      two distinct URLs (read-only vs read-write clones)
#   DIR/registry.toml  a registry of app, liba, libb, base (include_default = false)
#   DIR/fixture.env    KEY=value lines: FIXTURE_DIR and every commit id
#                      (BASE_1..4, LIBA_1..3, LIBB_1..3, APP_1..3, SUBX_1..3,
#                      SUBY_1..3, SUBZ_1..3: the highest number is each main
#                      branch's tip; LIBA_D1..5 on liba's branch daily)
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
# Daily bumps (built last, so every id above stays as it was): liba's branch
# daily goes on from LIBA_3 as a superproject that bumps its submodules does;
# subz (3 commits) is only used by it.
#   liba D1: subx forward to SUBX_3, suby back to SUBY_1
#        D2: subx back to SUBX_1; sync_deps.py pins base@BASE_4
#        D3: adds submodule third_party/subz at SUBZ_2
#        D4: removes submodule third_party/suby
#        D5: subz forward to SUBZ_3, subx to SUBX_2; pins base@BASE_2 (tip)
#
# Commit ids depend only on DIR (the pin files and the registry embed its
# absolute path): rebuilding into the same path gives the same ids.
#
# Needs only bash, git (2.38+) and coreutils (bench mode: also awk); no
# network.

set -euo pipefail

readonly PROG=fixture-org.sh

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s DIR\n' "$PROG"
	printf '       %s --bench N [--commits C] [--files F] DIR\n' "$PROG"
	printf '       %s --real-shaped DIR\n' "$PROG"
	printf 'Build a deterministic organisation of bare git repositories in DIR (new or empty):\n'
	printf 'the small fixture of the tests and the demo, or with --bench the benchmark\n'
	printf 'organisation of N projects, C commits over about F files each (default 300, 1000),\n'
	printf 'or with --real-shaped one the size of the real OpenXLA projects (kept and resumed).\n'
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

# The tool's own sources: pin files are assembled from its header and
# runnable part exactly as `render` in src/model/pinfile/write.rs does, so that
# `openxla-workspace pin` after a sync leaves them byte-identical. Both must
# change together.
TOOL_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../src" && pwd -P)"

# render_pin_file PINS ORIGINS SUBMODULES: a whole pin file, from three
# dict literals made by py_dict.
render_pin_file() {
	cat "$TOOL_SRC/model/pinfile/header.py"
	printf 'PINNED_VERSIONS = %s\n\nORIGINS = %s\n\nSUBMODULES = %s\n\n\n' "$1" "$2" "$3"
	cat "$TOOL_SRC/sync_deps_template.py"
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
	render_pin_file "$(py_dict "${pins[@]}")" "$(py_dict "${origins[@]}")" \
		"$(py_dict ${submodules[@]+"${submodules[@]}"})" >"$repo/sync_deps.py"
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

# move_submodule REPO_DIR PATH COMMIT: record the submodule at PATH at COMMIT.
move_submodule() {
	git_q -C "$1/$2" -c advice.detachedHead=false checkout -q --detach "$3"
	git_q -C "$1" add -- "$2"
}

build_liba_daily() {
	local w=$WORK/liba n=0 sha
	git_q -C "$w" checkout -q -b daily
	move_submodule "$w" third_party/subx "$SUBX_3"
	move_submodule "$w" third_party/suby "$SUBY_1"
	commit "$w" "liba: daily 1: subx forward, suby back"
	move_submodule "$w" third_party/subx "$SUBX_1"
	write_pin_file "$w" "base=$BASE_4"
	commit "$w" "liba: daily 2: subx back, base moves"
	add_submodule "$w" third_party/subz subz "$SUBZ_2"
	commit "$w" "liba: daily 3: add subz"
	git_q -C "$w" rm -q third_party/suby
	commit "$w" "liba: daily 4: remove suby"
	move_submodule "$w" third_party/subz "$SUBZ_3"
	move_submodule "$w" third_party/subx "$SUBX_2"
	write_pin_file "$w" "base=$BASE_2"
	commit "$w" "liba: daily 5: subz and subx forward, base back"
	git_q -C "$w" push -q "$DIR/git/liba.git" daily
	git -C "$w" rev-list --reverse main..daily >"$GIT_LOG"
	while read -r sha; do
		n=$((n + 1))
		printf -v "LIBA_D$n" '%s' "$sha"
	done <"$GIT_LOG"
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
		for key in BASE_{1..4} LIBA_{1..3} LIBB_{1..3} APP_{1..3} SUBX_{1..3} SUBY_{1..3} \
			SUBZ_{1..3} LIBA_D{1..5}; do
			printf '%s=%s\n' "$key" "${!key}"
		done
	} >"$DIR/fixture.env"
}

# ---------------------------------------------------------------------------
# Bench mode: scripts/fixture-org.sh --bench N [--commits C] [--files F] DIR
#
# The organisation scripts/bench.sh measures against. DIR then holds:
#   DIR/git/NAME.git   bare repositories, fully repacked (with bitmaps, as a
#                      hosting service keeps them):
#                      p01..pNN  N projects, each C commits over about F files
#                                of generated source, every one with content
#                                of its own; the middle one (BENCH_BIG) has 5x
#                                the commits and files; one (BENCH_SUBMODULES)
#                                has two submodules, third_party/sub1 and
#                                third_party/sub2, with relative URLs
#                      sub1, sub2  small repositories, only used as those
#                                submodules
#                      app       depends on every pNN; its sync_deps.py pins
#                                each at its tip~3 (never a branch tip)
#   DIR/registry.toml  app and p01..pNN (include_default = false), every URL
#                      ssh://bench-host/DIR/git/NAME.git, to be served through
#                      GIT_SSH_COMMAND (scripts/bench.sh brings a transport
#                      that adds latency and counts connections)
#   DIR/bench.env      KEY=value lines: BENCH_DIR, BENCH_N, BENCH_COMMITS,
#                      BENCH_FILES, BENCH_PROJECTS (comma-separated),
#                      BENCH_BIG, BENCH_SUBMODULES, BENCH_URL_PREFIX, APP_TIP,
#                      PIN_pNN and TIP_pNN for every project, SUB1_TIP,
#                      SUB1_PINNED (sub1's commit recorded at the pinned
#                      commit of BENCH_SUBMODULES), SUB2_TIP. Written last:
#                      its presence means the organisation is complete.
#
# The submodule project records sub1 at sub1's tip~2 up to its pinned
# commit and moves it to sub1's tip at its own tip~1: like a superproject
# that bumps a submodule often, syncing it to its pin needs a submodule
# commit that is not a branch tip. sub2 stays at its tip throughout.
#
# History is generated in bulk with `git fast-import` from a seeded
# pseudo-random generator (awk), with fixed identities and dates, so commit
# ids depend only on N, C, F and DIR (embedded in app's pin file).

# Bench repositories are generated this many at a time.
BENCH_JOBS=$(nproc 2>/dev/null || echo 2)

# The generator: a fast-import stream on stdout, a linear history of
# `commits` commits on refs/heads/main over about `files` files. Variables:
# name seed commits files date0; sm_paths, sm_urls, sm_shas (space-separated,
# gitlinks recorded in the first commit); bump_at, bump_path, bump_sha (a
# gitlink moved in commit number bump_at, counted from 0). Park-Miller
# (16807 * x mod 2^31-1) stays exact in awk's doubles, so every awk gives
# the same stream.
readonly BENCH_AWK='
function rnd() { X = (X * 16807) % 2147483647; return X }
function pick(n) { return rnd() % n }
function word() { return W[pick(NW)] }
function line(   k) {
	k = pick(8)
	if (k == 0) return ""
	if (k == 1) return "// " word() " " word() " " word() " " word() " " word() "."
	if (k == 2) return "  " word() "_" word() " = " word() "(" word() ", " pick(4096) ");"
	if (k == 3) return "  if (" word() "->" word() " > " pick(100) ") return " word() ";"
	if (k == 4) return "static int " word() "_" word() "(int " word() ", int " word() ") {"
	if (k == 5) return "}"
	if (k == 6) return "  for (int i = 0; i < " word() "_count; ++i) " word() "[i] += " pick(9) ";"
	return "  " word() "." word() "(" word() "_" pick(64) ");"
}
function new_file(f,   n, i) {
	PATHS[f] = sprintf("src/%s/%s_%04d.cc", DIRS[f % ND], word(), f)
	n = 12 + pick(60)
	NL[f] = n
	for (i = 1; i <= n; i++) L[f, i] = line()
}
function data(s) { printf "data %d\n%s\n", length(s), s }
function emit_file(f,   s, i, n) {
	s = "// " name ": " PATHS[f] "\n"
	n = NL[f]
	for (i = 1; i <= n; i++) s = s L[f, i] "\n"
	printf "M 100644 inline %s\n", PATHS[f]
	data(s)
}
function stamp(c,   when) {
	when = date0 + c * 3600
	print "commit refs/heads/main"
	print "author Bench Bot <bench@example.invalid> " when " +0000"
	print "committer Bench Bot <bench@example.invalid> " when " +0000"
}
BEGIN {
	X = seed % 2147483646 + 1
	for (i = 0; i < 20; i++) rnd()
	# A vocabulary of its own per repository, so that contents differ.
	split("ka lo mi ne ru sa ti vo xe za bel cor dan fen gar hol", SY, " ")
	NW = 400
	for (i = 0; i < NW; i++) W[i] = SY[1 + pick(16)] SY[1 + pick(16)] (pick(3) ? SY[1 + pick(16)] : "")
	ND = int(files / 40) + 1
	for (i = 0; i < ND; i++) DIRS[i] = sprintf("%s%02d", word(), i)
	for (f = 0; f < files; f++) new_file(f)
	sm_n = split(sm_paths, SMP, " ")
	split(sm_urls, SMU, " ")
	split(sm_shas, SMS, " ")

	stamp(0)
	data(name ": initial import")
	printf "M 100644 inline README.md\n"
	data("# " name "\n\nA generated repository for the openxla-workspace benchmark.\n")
	for (f = 0; f < files; f++) emit_file(f)
	if (sm_n > 0) {
		gm = ""
		for (i = 1; i <= sm_n; i++)
			gm = gm "[submodule \"" SMP[i] "\"]\n\tpath = " SMP[i] "\n\turl = " SMU[i] "\n"
		printf "M 100644 inline .gitmodules\n"
		data(gm)
		for (i = 1; i <= sm_n; i++) print "M 160000 " SMS[i] " " SMP[i]
	}
	for (c = 1; c < commits; c++) {
		stamp(c)
		m = 1 + pick(5)
		data(name ": " word() " " word() " in " m " file" (m > 1 ? "s" : "") " (change " c ")")
		for (j = 0; j < m; j++) {
			f = pick(files)
			k = 1 + pick(3)
			for (i = 0; i < k; i++) L[f, 1 + pick(NL[f])] = line()
			if (pick(4) == 0) L[f, ++NL[f]] = line()
			emit_file(f)
		}
		if (c == bump_at) print "M 160000 " bump_sha " " bump_path
	}
	print "done"
}'

bench_url() { printf 'ssh://bench-host%s/git/%s.git' "$DIR" "$1"; }

# bench_repo NAME SEED COMMITS FILES [AWK_ASSIGNMENT...]: generate
# DIR/git/NAME.git, then repack it the way a server keeps its repositories.
# Runs in the background beside others, so it logs to a file of its own.
bench_repo() {
	local name=$1 seed=$2 commits=$3 files=$4
	shift 4
	local bare=$DIR/git/$name.git log=$WORK/$name.log assignment
	local extra=()
	for assignment in "$@"; do
		extra+=(-v "$assignment")
	done
	if ! {
		git -c init.defaultBranch=main init -q --bare "$bare" &&
			awk -v name="$name" -v seed="$seed" -v commits="$commits" -v files="$files" \
				-v date0="$FIRST_COMMIT_EPOCH" ${extra[@]+"${extra[@]}"} "$BENCH_AWK" |
			git --git-dir="$bare" fast-import --quiet --done &&
			git --git-dir="$bare" repack -a -d -q &&
			git --git-dir="$bare" pack-refs --all
	} >"$log" 2>&1; then
		cat "$log" >&2
		die "could not generate $name"
	fi
}

# Background generation, at most BENCH_JOBS at a time.
BENCH_RUNNING=0
bench_spawn() {
	if ((BENCH_RUNNING >= BENCH_JOBS)); then
		wait -n || die "generating a bench repository failed"
		BENCH_RUNNING=$((BENCH_RUNNING - 1))
	fi
	"$@" &
	BENCH_RUNNING=$((BENCH_RUNNING + 1))
}
bench_wait_all() {
	while ((BENCH_RUNNING > 0)); do
		wait -n || die "generating a bench repository failed"
		BENCH_RUNNING=$((BENCH_RUNNING - 1))
	done
}

# rev NAME REV: the commit REV names in DIR/git/NAME.git.
rev() { git --git-dir="$DIR/git/$1.git" rev-parse --verify --quiet "$2^{commit}"; }

# fi_commit WHEN MESSAGE, then fi_file PATH CONTENT...: a fast-import stream
# for app, whose few small commits are written from the shell.
fi_data() { printf 'data %d\n%s\n' "${#1}" "$1"; }
fi_commit() {
	printf 'commit refs/heads/main\n'
	printf 'author Bench Bot <bench@example.invalid> %s +0000\n' "$1"
	printf 'committer Bench Bot <bench@example.invalid> %s +0000\n' "$1"
	fi_data "$2"
}
fi_file() {
	printf 'M 100644 inline %s\n' "$1"
	fi_data "$2"
}

# bench_pin_file: app's sync_deps.py, pinning every project at PIN_<name>,
# in the tool's dict layout.
bench_pin_file() {
	local pins=() origins=() submodules=() name pin
	for name in "${BENCH_NAMES[@]}"; do
		pin=PIN_$name
		pins+=("\"$name\": \"${!pin}\"")
		origins+=("\"$name\": \"$(bench_url "$name")\"")
		if [[ $name == "$BENCH_SUBMODULES" ]]; then
			submodules+=("\"$name\": 1")
		fi
	done
	printf '%s\n' "# Generated by openxla-workspace (bench fixture). Python 3.8+ and git only.

PINNED_VERSIONS = $(py_dict "${pins[@]}")

ORIGINS = $(py_dict "${origins[@]}")

SUBMODULES = $(py_dict ${submodules[@]+"${submodules[@]}"})

if __name__ == \"__main__\":
    raise SystemExit(\"fixture pin file: use openxla-workspace sync\")"
}

bench_build_app() {
	local bare=$DIR/git/app.git t=$FIRST_COMMIT_EPOCH
	git_q -c init.defaultBranch=main init -q --bare "$bare"
	{
		fi_commit "$t" "app: initial import"
		fi_file README.md "# app

Depends on every project of the benchmark organisation."
		fi_commit "$((t + 3600))" "app: pin ${#BENCH_NAMES[@]} dependencies"
		fi_file sync_deps.py "$(bench_pin_file)"
		fi_commit "$((t + 7200))" "app: describe the pins"
		fi_file README.md "# app

Depends on every project of the benchmark organisation; sync_deps.py pins
each one three commits below its branch tip."
		printf 'done\n'
	} | git --git-dir="$bare" fast-import --quiet --done 2>"$GIT_LOG" || {
		cat "$GIT_LOG" >&2
		die "could not generate app"
	}
	git_q --git-dir="$bare" pack-refs --all
}

bench_write_registry() {
	local name deps
	deps=$(printf '"%s", ' "${BENCH_NAMES[@]}")
	{
		printf '# Benchmark organisation made by scripts/fixture-org.sh --bench\n'
		printf 'include_default = false\n\n'
		printf '[repos.app]\nro_url = "%s"\nrw_url = "%s"\ndeps = [%s]\n' \
			"$(bench_url app)" "$(bench_url app)" "${deps%, }"
		for name in "${BENCH_NAMES[@]}"; do
			printf '\n[repos.%s]\nro_url = "%s"\nrw_url = "%s"\n' \
				"$name" "$(bench_url "$name")" "$(bench_url "$name")"
			if [[ $name == "$BENCH_SUBMODULES" ]]; then
				printf 'submodules = true\n'
			fi
		done
	} >"$DIR/registry.toml"
}

bench_write_manifest() {
	local name key list
	list=$(printf '%s,' "${BENCH_NAMES[@]}")
	{
		printf 'BENCH_DIR=%s\n' "$DIR"
		printf 'BENCH_N=%s\nBENCH_COMMITS=%s\nBENCH_FILES=%s\n' \
			"${#BENCH_NAMES[@]}" "$BENCH_COMMITS" "$BENCH_FILES"
		printf 'BENCH_PROJECTS=%s\n' "${list%,}"
		printf 'BENCH_BIG=%s\nBENCH_SUBMODULES=%s\n' "$BENCH_BIG" "$BENCH_SUBMODULES"
		printf 'BENCH_URL_PREFIX=ssh://bench-host%s/git\n' "$DIR"
		printf 'APP_TIP=%s\n' "$(rev app main)"
		for name in "${BENCH_NAMES[@]}"; do
			key=PIN_$name
			printf '%s=%s\n' "$key" "${!key}"
			key=TIP_$name
			printf '%s=%s\n' "$key" "${!key}"
		done
		printf 'SUB1_TIP=%s\nSUB1_PINNED=%s\nSUB2_TIP=%s\n' "$SUB1_TIP" "$SUB1_PINNED" "$SUB2_TIP"
	} >"$DIR/bench.env"
}

bench_main() {
	local n=${1-} commits=300 files=1000
	shift || true
	while (($# > 0)); do
		case $1 in
		--commits | --files)
			if (($# < 2)); then
				usage >&2
				exit 2
			fi
			if [[ $1 == --commits ]]; then commits=$2; else files=$2; fi
			shift 2
			;;
		-*)
			usage >&2
			exit 2
			;;
		*) break ;;
		esac
	done
	if (($# != 1)) || [[ -z $1 || ! $n =~ ^[1-9][0-9]{0,2}$ || ! $commits =~ ^[0-9]+$ || ! $files =~ ^[1-9][0-9]*$ ]] ||
		((commits < 5)); then
		usage >&2
		printf '%s: --bench takes N in 1..999, C >= 5 commits and F >= 1 files\n' "$PROG" >&2
		exit 2
	fi
	prepare_dir "$1"
	readonly DIR
	readonly WORK=$DIR/.work
	readonly GIT_LOG=$WORK/git.log
	mkdir -p "$DIR/git" "$DIR/.home" "$WORK"
	hermetic_git_env "$DIR/.home"
	BENCH_COMMITS=$commits
	BENCH_FILES=$files

	local width=$((${#n} < 2 ? 2 : ${#n})) i name
	BENCH_NAMES=()
	for ((i = 1; i <= n; i++)); do
		printf -v name 'p%0*d' "$width" "$i"
		BENCH_NAMES+=("$name")
	done
	BENCH_BIG=${BENCH_NAMES[n / 2]}
	BENCH_SUBMODULES=${BENCH_NAMES[(n / 4 > 0 ? n / 4 : 1) - 1]}

	# The submodules first: their commits go into the submodule project.
	bench_spawn bench_repo sub1 1 20 30
	bench_spawn bench_repo sub2 2 20 30
	bench_wait_all
	SUB1_TIP=$(rev sub1 main)
	SUB1_PINNED=$(rev sub1 main~2)
	SUB2_TIP=$(rev sub2 main)

	# The big one first, so it overlaps the many small ones.
	local order=("$BENCH_BIG")
	for name in "${BENCH_NAMES[@]}"; do
		[[ $name == "$BENCH_BIG" ]] || order+=("$name")
	done
	local c f seed sm
	for name in "${order[@]}"; do
		c=$commits f=$files
		if [[ $name == "$BENCH_BIG" ]]; then
			c=$((commits * 5)) f=$((files * 5))
		fi
		seed=$((10#${name#p} * 7919 + 104729))
		sm=()
		if [[ $name == "$BENCH_SUBMODULES" ]]; then
			sm=("sm_paths=third_party/sub1 third_party/sub2"
				"sm_urls=../sub1.git ../sub2.git"
				"sm_shas=$SUB1_PINNED $SUB2_TIP"
				"bump_at=$((c - 2))" "bump_path=third_party/sub1" "bump_sha=$SUB1_TIP")
		fi
		bench_spawn bench_repo "$name" "$seed" "$c" "$f" ${sm[@]+"${sm[@]}"}
	done
	bench_wait_all
	for name in "${BENCH_NAMES[@]}"; do
		printf -v "PIN_$name" '%s' "$(rev "$name" main~3)"
		printf -v "TIP_$name" '%s' "$(rev "$name" main)"
	done

	bench_build_app
	bench_write_registry
	bench_write_manifest
	rm -rf -- "$WORK"
	printf 'bench organisation ready: %s (%d projects, %d commits over about %d files each; %s 5x)\n' \
		"$DIR" "$n" "$commits" "$files" "$BENCH_BIG"
}

# ---------------------------------------------------------------------------
# Real-shaped mode: scripts/fixture-org.sh --real-shaped DIR
#
# An organisation the size of the real OpenXLA projects, for
# scripts/bench.sh --real-shaped. DIR then holds:
#   DIR/git/NAME.git   bare repositories, repacked with bitmaps:
#                      iree       20,000 commits, about 7,200 files at the
#                                 tip, 10 submodules third_party/NAME with
#                                 relative URLs: llvm-project (large: 20,000
#                                 files at the tip, 1,500 commits) and nine
#                                 small ones
#                      jax        37,000 commits, about 2,000 files (mostly
#                                 Python, PiperOrigin-RevId trailers)
#                      stablehlo  1,900 commits, about 3,600 files (large
#                                 MLIR tests, big changes per commit)
#                      llvm-project, googletest, ...  iree's submodules
#                      openxla-pjrt-plugin  300 commits over 150 files, then
#                                 a sync_deps.py (the tool's own format,
#                                 runnable) pinning iree, jax and stablehlo
#                                 each three commits below its branch tip
#   DIR/registry.toml  the four projects (include_default = false), every
#                      URL ssh://bench-host/DIR/git/NAME.git
#   DIR/real.env       KEY=value lines: REAL_DIR, REAL_VERSION, REAL_PLUGIN,
#                      REAL_DEPS (comma-separated), REAL_SUBMODULES (the
#                      project with submodules), REAL_SUBS (its submodule
#                      repositories), REAL_URL_PREFIX, PLUGIN_TIP, PIN_NAME,
#                      TIP_NAME and COUNT_NAME (commits reachable from the
#                      pin) for each dep, GEN_SECONDS_NAME for each
#                      repository (what generating it took, when it was
#                      built). Written last.
#   DIR/real-shaped.version  the generator version that built DIR.
#
# Content is generated source text (C++, Python, MLIR, each file with a
# vocabulary of its own: it compresses about 4x with zlib, like source).
# Every commit changes a few lines in a few files, or, more rarely, many
# lines in many files, adds files and deletes others; files are added and
# removed over the history so that the tip ends with the file count above.
# Each file's versions are written one after another into the fast-import
# stream, so that fast-import stores each as a delta against the previous
# one, as a repack would. Every submodule's recorded commit moves along the
# submodule's history and stays two commits below its branch tip.
#
# The big repositories depend only on the generator (not on DIR), take
# minutes to make, and are kept: a run finds DIR/git/NAME.git complete
# (each is renamed into place once finished) and skips it, so an
# interrupted run resumes. The plugin embeds DIR and the tool's pin-file
# format, so it, the registry and real.env are rebuilt on every run (about
# a second). Change REAL_VERSION whenever the output of the big ones changes:
# `fixture-org.sh --real-shaped-version` prints it, and scripts/bench.sh
# names its folder after it.
readonly REAL_VERSION=1

# The generator: a fast-import stream on stdout. Variables: name seed
# commits files (at the tip) dirs init (percent of the files in the first
# commit) pyw mlw (percent of Python and MLIR files; the rest C++) lscale
# (percent: file sizes) churn (percent: lines changed per commit) big (per
# mille of commits that are large) trailer (none, rev or sob) date0 smfile
# (optional: "PATH URL SHA..." lines, one per submodule).
readonly REAL_AWK='
function rnd() { X = (X * 16807) % 2147483647; return X }
function pick(n) { return rnd() % n }
function word() { return W[pick(NW)] }
function lw() { return pick(8) ? LW[pick(NLW)] : W[pick(NW)] }
function ident(   k) { k = pick(6); if (k == 0) return LI[pick(NLI)] "_" lw(); if (k == 1) return LI[pick(NLI)]; if (k == 2) return lw(); return LI[pick(NLI)] }
function num() { return pick(4) ? pick(16) : pick(1000) }
function cline(   k) {
	k = pick(12)
	if (k == 0) return ""
	if (k == 1) return IND[pick(4)] "// " lw() " " lw() " " lw() " " lw() " " lw() " " lw() "."
	if (k == 2) return IND[pick(4)] ident() " = " ident() "(" ident() ", " num() ");"
	if (k == 3) return IND[pick(4)] "if (" ident() "->" ident() "() > " num() ") return " ident() ";"
	if (k == 4) return "static " TY[pick(NT)] " " ident() "(" TY[pick(NT)] " " ident() ", " TY[pick(NT)] " " ident() ") {"
	if (k == 5) return IND[pick(3)] "}"
	if (k == 6) return IND[pick(4)] "for (int i = 0; i < " ident() ".size(); ++i) " ident() "[i] += " num() ";"
	if (k == 7) return IND[pick(4)] "auto " ident() " = " ident() "." ident() "<" TY[pick(NT)] ">(" ident() ");"
	if (k == 8) return IND[pick(4)] "return " ident() "(" ident() ", " ident() ");"
	if (k == 9) return "#include \"" lw() "/" lw() "/" ident() ".h\""
	if (k == 10) return IND[pick(4)] "  " ident() "." ident() "(" ident() "_" num() ");"
	return IND[pick(4)] "LLVM_DEBUG(llvm::dbgs() << \"" lw() " " lw() ": \" << " ident() " << \"\\n\");"
}
function pline(   k) {
	k = pick(10)
	if (k == 0) return ""
	if (k == 1) return IND[pick(3)] "# " lw() " " lw() " " lw() " " lw() " " lw() "."
	if (k == 2) return IND[pick(4)] ident() " = " ident() "(" ident() ", " num() ")"
	if (k == 3) return IND[pick(3)] "if " ident() "." ident() " > " num() ":"
	if (k == 4) return "def " ident() "(" ident() ", " ident() "=" num() "):"
	if (k == 5) return IND[pick(4)] "return " ident() "." ident() "(" ident() ")"
	if (k == 6) return IND[pick(4)] "for " ident() " in " ident() "(" ident() "):"
	if (k == 7) return "from " lw() "." lw() " import " ident()
	if (k == 8) return IND[pick(4)] "self." ident() " = jnp." ident() "(" ident() ", axis=" pick(4) ")"
	return IND[pick(4)] "\"\"\"" lw() " " lw() " " lw() " " lw() "\"\"\""
}
function mline(   k) {
	k = pick(8)
	if (k == 0) return ""
	if (k <= 3) return "  %" pick(400) " = stablehlo." lw() " %" pick(400) ", %" pick(400) " : tensor<" (1 + pick(64)) "x" (1 + pick(128)) "x" ET[pick(4)] ">"
	if (k == 4) return "// CHECK: " lw() "." lw() " %" pick(100) " : tensor<" (1 + pick(16)) "x" ET[pick(4)] ">"
	if (k == 5) return "func.func @" ident() "(%arg0: tensor<" (1 + pick(32)) "x" ET[pick(4)] ">) -> tensor<" (1 + pick(32)) "x" ET[pick(4)] "> {"
	if (k == 6) return "  func.return %" pick(400) " : tensor<" (1 + pick(32)) "x" ET[pick(4)] ">"
	return "}"
}
function line(f) { if (FL[f] == 1) return pline(); if (FL[f] == 2) return mline(); return cline() }
function live_add(f) { LV[++nlive] = f; POS[f] = nlive }
function live_del(f,   p, g) { p = POS[f]; g = LV[nlive]; LV[p] = g; POS[g] = p; delete LV[nlive]; nlive--; delete POS[f] }
function add_file(c,   f, d, r, ext) {
	f = NF++
	d = 1 + pick(ND - 1)
	r = pick(100)
	if (r < pyw) { FL[f] = 1; ext = ".py" } else if (r < pyw + mlw) { FL[f] = 2; ext = ".mlir" } else { FL[f] = 0; ext = pick(3) ? ".cpp" : ".h" }
	PATH[f] = DP[d] "/" word() "_" f ext
	NV[f] = 1
	TOUCH[f] = c
	CH[c] = CH[c] " " f
	live_add(f)
}
function file_lines(f,   r, n) {
	r = pick(100)
	if (r < 55) n = 15 + pick(120); else if (r < 85) n = 120 + pick(400); else if (r < 97) n = 500 + pick(1500); else n = 2000 + pick(6000)
	return int(n * lscale / 100) + 2
}
# set_line I TEXT: line I of the current file becomes TEXT (size kept in SZ).
function set_line(i, s) { SZ += length(s) - (i in L ? length(L[i]) + 1 : 0) + 1; L[i] = s }
function edit(f, k,   h, per, j, p, op, i, e) {
	h = 1 + (k > 8 ? pick(4) : 0)
	per = int(k / h) + 1
	for (j = 0; j < h; j++) {
		p = 2 + pick(N - 1)
		op = pick(10)
		if (op == 6 || op == 7 || op == 9) {
			if (op == 9) p = N + 1
			for (i = N; i >= p; i--) L[i + per] = L[i]
			for (i = p; i < p + per; i++) { delete L[i]; set_line(i, line(f)) }
			N += per
		} else if (op == 8 && N > per + 5) {
			for (i = p; i < p + per && i <= N; i++) SZ -= length(L[i]) + 1
			e = i - p
			for (i = p; i + e <= N; i++) L[i] = L[i + e]
			for (; i <= N; i++) delete L[i]
			N -= e
		} else {
			for (i = p; i < p + per && i <= N; i++) set_line(i, line(f))
		}
	}
}
function msg(c,   s, b, i, j, n) {
	s = "[" word() "] " toupper(substr(word(), 1, 1)) substr(word(), 2)
	n = 3 + pick(7)
	for (i = 0; i < n; i++) s = s " " word()
	if (pick(10) < 7) {
		n = 1 + pick(3)
		for (i = 0; i < n; i++) {
			b = ""
			for (j = 0; j < 10 + pick(40); j++) b = b (j % 11 == 10 ? "\n" : " ") word()
			s = s "\n\n" substr(b, 2)
		}
	}
	if (trailer == "rev") s = s "\n\nPiperOrigin-RevId: " (600000000 + c * 17 + pick(17))
	else if (trailer == "sob") s = s "\n\nSigned-off-by: " AUTH[pick(NA)]
	return s
}
function data(s) { printf "data %d\n%s\n", length(s), s }
BEGIN {
	X = seed % 2147483646 + 1
	for (i = 0; i < 20; i++) rnd()
	split("ab ac ad al an ar as at be ca ce co de di do el em en er es et fi ge in io is it la le li lo ma me mi mo na ne no op or pa pe po ra re ri ro sa se si so ta te ti to tu un ur va ve vi ga gu ho ke", SY, " ")
	NSY = 64
	NW = 3000
	for (i = 0; i < NW; i++) { w = SY[1 + pick(NSY)] SY[1 + pick(NSY)]; if (pick(3)) w = w SY[1 + pick(NSY)]; if (!pick(4)) w = w SY[1 + pick(NSY)]; W[i] = w }
	NT = split("int int64_t Value Operation* LogicalResult Type StringRef bool size_t OpBuilder& Location unsigned", TY, " ")
	NT2 = split("f32 i32 bf16 f16", ET, " ")
	IND[0] = ""; IND[1] = "  "; IND[2] = "    "; IND[3] = "      "
	NA = 150
	for (i = 0; i < NA; i++) { a = word(); b = word(); AUTH[i] = toupper(substr(a, 1, 1)) substr(a, 2) " " toupper(substr(b, 1, 1)) substr(b, 2) " <" a "." b "@example.invalid>" }
	# Folders: a few at the top, the rest below them (mostly shallow).
	ND = dirs
	DP[0] = ""
	ntop = 5 + pick(6)
	for (d = 1; d < ND; d++) {
		if (d <= ntop) { p = 0; DEP[d] = 1 }
		else { p = pick(d - 1); q = pick(d - 1); p = 1 + (q < p ? q : p); while (DEP[p] >= 6) p = PAR[p]; DEP[d] = DEP[p] + 1 }
		PAR[d] = p
		nm = (p ? DP[p] "/" : "") word()
		if (nm in SEEN) nm = nm d
		SEEN[nm] = 1
		DP[d] = nm
	}
	# Phase 1: plan which files each commit adds, changes and deletes.
	NF = 0; nlive = 0
	F0 = int(files * init / 100)
	for (i = 0; i < F0; i++) add_file(0)
	for (c = 1; c < commits; c++) {
		r = pick(1000)
		if (r < big) { m = 10 + pick(60); k = 20 + pick(200); a = 3 + pick(30); d = pick(15) }
		else if (r < 200) { m = 3 + pick(10); k = 3 + pick(30); a = pick(3); d = pick(2) }
		else { m = 1 + pick(3); k = 1 + pick(6); a = (pick(20) == 0); d = (pick(30) == 0) }
		k = int(k * churn / 100) + 1
		t = F0 + (files - F0) * c / (commits - 1)
		e = nlive + a - d - t
		if (e < 0) a -= int(e)
		else if (e > 20) d += int(e / 2)
		for (j = 0; j < d && nlive > 1; j++) {
			f = LV[1 + pick(nlive)]
			if (TOUCH[f] == c) continue
			TOUCH[f] = c; DL[c] = DL[c] " " f; live_del(f)
		}
		for (j = 0; j < m && nlive > 0; j++) {
			f = LV[1 + pick(nlive)]
			if (TOUCH[f] == c) continue
			TOUCH[f] = c; NV[f]++; EK[f, NV[f]] = 1 + pick(k); CH[c] = CH[c] " " f
		}
		for (j = 0; j < a; j++) add_file(c)
	}
	# Submodules: "PATH URL SHA..." lines; the first SHA recorded at the
	# import, the others spread over the history, the last at commits-5.
	ns = 0
	if (smfile != "") while ((getline sl < smfile) > 0) {
		n = split(sl, SL, " ")
		ns++; SMP[ns] = SL[1]; SMU[ns] = SL[2]; SM0[ns] = SL[3]
		for (i = 4; i <= n; i++) { at = int((i - 3) * (commits - 5) / (n - 3)); BUMP[at] = BUMP[at] "M 160000 " SL[i] " " SL[1] "\n" }
	}
	# Phase 2: every version of each file in a row, so fast-import stores
	# each as a delta against the one before (as a repack would).
	mark = 0
	for (f = 0; f < NF; f++) {
		N = file_lines(f)
		NLW = 30 + pick(30)
		for (i = 0; i < NLW; i++) LW[i] = W[pick(NW)]
		NLI = 20 + pick(20)
		for (i = 0; i < NLI; i++) { a = LW[pick(NLW)]; b = LW[pick(NLW)]; LI[i] = pick(2) ? a toupper(substr(b, 1, 1)) substr(b, 2) : a "_" b }
		SZ = 0
		split("", L)
		set_line(1, (FL[f] == 1 ? "# " : "// ") name ": " PATH[f])
		for (i = 2; i <= N; i++) set_line(i, line(f))
		for (v = 1; v <= NV[f]; v++) {
			if (v > 1) edit(f, EK[f, v])
			MK[f, v] = ++mark
			printf "blob\nmark :%d\ndata %d\n", mark, SZ
			for (i = 1; i <= N; i++) print L[i]
		}
	}
	# Phase 3: the commits.
	when = date0
	for (c = 0; c < commits; c++) {
		when += 600 + pick(7200)
		a = AUTH[pick(NA)]
		print "commit refs/heads/main"
		print "author " a " " when " +0000"
		print "committer " a " " when " +0000"
		data(c ? msg(c) : name ": initial import")
		if (c == 0) {
			print "M 100644 inline README.md"
			data("# " name "\n\nA generated repository for the openxla-workspace real-shaped benchmark.\n")
			if (ns > 0) {
				gm = ""
				for (i = 1; i <= ns; i++) gm = gm "[submodule \"" SMP[i] "\"]\n\tpath = " SMP[i] "\n\turl = " SMU[i] "\n"
				print "M 100644 inline .gitmodules"
				data(gm)
				for (i = 1; i <= ns; i++) print "M 160000 " SM0[i] " " SMP[i]
			}
		}
		n = split(CH[c], T, " ")
		for (i = 1; i <= n; i++) { f = T[i]; CV[f]++; print "M 100644 :" MK[f, CV[f]] " " PATH[f] }
		n = split(DL[c], T, " ")
		for (i = 1; i <= n; i++) print "D " PATH[T[i]]
		if (c in BUMP) printf "%s", BUMP[c]
	}
	print "done"
}'

# real_repo NAME SEED COMMITS FILES DIRS INIT PYW MLW LSCALE CHURN BIG TRAILER [SMFILE]:
# generate DIR/git/NAME.git unless an earlier run did. Runs beside others.
real_repo() {
	local name=$1 bare=$DIR/git/$1.git tmp=$DIR/git/.$1.git.tmp log=$WORK/$1.log t0
	[[ ! -d $bare ]] || return 0
	t0=$SECONDS
	rm -rf -- "$tmp"
	if ! {
		git -c init.defaultBranch=main init -q --bare "$tmp" &&
			awk -v name="$name" -v seed="$2" -v commits="$3" -v files="$4" -v dirs="$5" \
				-v init="$6" -v pyw="$7" -v mlw="$8" -v lscale="$9" -v churn="${10}" \
				-v big="${11}" -v trailer="${12}" -v smfile="${13-}" \
				-v date0="$FIRST_COMMIT_EPOCH" "$REAL_AWK" |
			git --git-dir="$tmp" fast-import --quiet --done &&
			git --git-dir="$tmp" repack -a -d -q &&
			git --git-dir="$tmp" pack-refs --all
	} >"$log" 2>&1; then
		cat "$log" >&2
		die "could not generate $name"
	fi
	printf '%d\n' "$((SECONDS - t0))" >"$tmp/generation-seconds"
	mv -- "$tmp" "$bare"
}

# iree's submodules: NAME SEED COMMITS FILES DIRS PYW MLW LSCALE.
REAL_SUB_SPECS=(
	"llvm-project 101 1500 20000 2500 5 30 55"
	"googletest 102 600 250 30 5 0 100"
	"benchmark 103 400 150 20 10 0 100"
	"flatbuffers 104 500 500 50 10 0 100"
	"cpuinfo 105 300 120 15 5 0 100"
	"spirv_cross 106 300 200 20 5 0 200"
	"vulkan_headers 107 300 80 10 0 0 400"
	"tracy 108 300 400 40 5 0 100"
	"musl 109 200 300 40 0 0 60"
	"webgpu_headers 110 200 30 5 0 0 200"
)

# real_sm_file FILE: the submodule lines for iree's generator: each
# submodule recorded at up to 40 commits of its history, oldest first,
# ending two commits below its tip.
real_sm_file() {
	local spec name n
	: >"$1"
	for spec in "${REAL_SUB_SPECS[@]}"; do
		name=${spec%% *}
		git --git-dir="$DIR/git/$name.git" rev-list --reverse main~2 >"$GIT_LOG"
		n=$(wc -l <"$GIT_LOG")
		printf 'third_party/%s ../%s.git %s\n' "$name" "$name" \
			"$(awk -v n="$n" -v k=40 'NR == 1 || NR == n || (n > k && NR % int(n / k) == 0) || n <= k { printf "%s ", $0 }' "$GIT_LOG")" >>"$1"
	done
}

# real_plugin: openxla-pjrt-plugin, rebuilt every run: a generated history,
# then the pin file.
real_plugin() {
	local name=openxla-pjrt-plugin bare=$DIR/git/openxla-pjrt-plugin.git dep key
	local pins=() origins=() t
	rm -rf -- "$bare"
	for dep in "${REAL_DEPS[@]}"; do
		key=PIN_$dep
		pins+=("\"$dep\": \"${!key}\"")
		origins+=("\"$dep\": \"$(bench_url "$dep")\"")
	done
	git_q -c init.defaultBranch=main init -q --bare "$bare"
	awk -v name="$name" -v seed=201 -v commits=300 -v files=150 -v dirs=20 -v init=40 \
		-v pyw=60 -v mlw=0 -v lscale=100 -v churn=100 -v big=30 -v trailer=none \
		-v date0="$FIRST_COMMIT_EPOCH" "$REAL_AWK" |
		git --git-dir="$bare" fast-import --quiet --done 2>"$GIT_LOG" || {
		cat "$GIT_LOG" >&2
		die "could not generate $name"
	}
	t=$(git --git-dir="$bare" log -1 --format=%ct main)
	{
		fi_commit "$((t + 3600))" "Pin iree, jax and stablehlo"
		printf 'from refs/heads/main^0\n'
		fi_file sync_deps.py "$(render_pin_file "$(py_dict "${pins[@]}")" "$(py_dict "${origins[@]}")" \
			"$(py_dict "\"iree\": 1")")"
		printf 'done\n'
	} | git --git-dir="$bare" fast-import --quiet --done 2>"$GIT_LOG" || {
		cat "$GIT_LOG" >&2
		die "could not add the pin file to $name"
	}
	git_q --git-dir="$bare" repack -a -d -q
	git_q --git-dir="$bare" pack-refs --all
}

real_write_registry() {
	local dep
	{
		printf '# Real-shaped benchmark organisation made by scripts/fixture-org.sh --real-shaped\n'
		printf 'include_default = false\n\n'
		printf '[repos.openxla-pjrt-plugin]\nro_url = "%s"\nrw_url = "%s"\ndeps = ["iree", "jax", "stablehlo"]\n' \
			"$(bench_url openxla-pjrt-plugin)" "$(bench_url openxla-pjrt-plugin)"
		for dep in "${REAL_DEPS[@]}"; do
			printf '\n[repos.%s]\nro_url = "%s"\nrw_url = "%s"\n' "$dep" "$(bench_url "$dep")" "$(bench_url "$dep")"
			[[ $dep != iree ]] || printf 'submodules = true\n'
		done
	} >"$DIR/registry.toml"
}

real_write_manifest() {
	local dep key spec subs=() name
	for spec in "${REAL_SUB_SPECS[@]}"; do
		subs+=("${spec%% *}")
	done
	{
		printf 'REAL_DIR=%s\nREAL_VERSION=%s\n' "$DIR" "$REAL_VERSION"
		printf 'REAL_PLUGIN=openxla-pjrt-plugin\nREAL_DEPS=%s\nREAL_SUBMODULES=iree\n' "$(IFS=,; echo "${REAL_DEPS[*]}")"
		printf 'REAL_SUBS=%s\n' "$(IFS=,; echo "${subs[*]}")"
		printf 'REAL_URL_PREFIX=ssh://bench-host%s/git\n' "$DIR"
		printf 'PLUGIN_TIP=%s\n' "$(rev openxla-pjrt-plugin main)"
		for dep in "${REAL_DEPS[@]}"; do
			key=PIN_$dep
			printf 'PIN_%s=%s\nTIP_%s=%s\n' "$dep" "${!key}" "$dep" "$(rev "$dep" main)"
			printf 'COUNT_%s=%s\n' "$dep" "$(git --git-dir="$DIR/git/$dep.git" rev-list --count "${!key}")"
		done
		for name in "${REAL_DEPS[@]}" "${subs[@]}"; do
			printf 'GEN_SECONDS_%s=%s\n' "${name//-/_}" "$(cat "$DIR/git/$name.git/generation-seconds")"
		done
	} >"$DIR/real.env"
}

real_main() {
	if (($# != 1)) || [[ -z $1 ]]; then
		usage >&2
		exit 2
	fi
	local given=$1
	if [[ -d $given && -n $(ls -A -- "$given") ]]; then
		[[ -f $given/real-shaped.version ]] ||
			die "$given is not empty and holds no real-shaped organisation; give a new or empty folder"
		[[ $(cat "$given/real-shaped.version") == "$REAL_VERSION" ]] ||
			die "$given was built by real-shaped generator version $(cat "$given/real-shaped.version"), not $REAL_VERSION; remove it or give another folder"
		DIR=$(cd -- "$given" && pwd -P)
		[[ $DIR =~ ^[A-Za-z0-9._/+@,=:~-]+$ ]] || die "path $DIR has characters that would need quoting in URLs; use a plainer path"
	else
		prepare_dir "$given"
		printf '%s\n' "$REAL_VERSION" >"$DIR/real-shaped.version"
	fi
	readonly DIR
	readonly WORK=$DIR/.work
	readonly GIT_LOG=$WORK/git.log
	rm -f -- "$DIR/real.env"
	rm -rf -- "$WORK"
	mkdir -p "$DIR/git" "$DIR/.home" "$WORK"
	hermetic_git_env "$DIR/.home"

	local spec name dep f
	REAL_DEPS=(iree jax stablehlo)
	# The longest first: jax and llvm-project, then the rest; iree last, as
	# it records its submodules' commits.
	bench_spawn real_repo jax 2 37000 2000 150 40 85 3 100 100 30 rev
	for spec in "${REAL_SUB_SPECS[@]}"; do
		read -r -a f <<<"$spec"
		bench_spawn real_repo "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[4]}" 40 "${f[5]}" "${f[6]}" "${f[7]}" 100 30 none
	done
	bench_spawn real_repo stablehlo 3 1900 3600 200 40 10 50 120 1100 120 sob
	bench_wait_all
	real_sm_file "$WORK/iree.submodules"
	real_repo iree 1 20000 7200 800 40 15 35 100 450 80 none "$WORK/iree.submodules"
	for dep in "${REAL_DEPS[@]}"; do
		printf -v "PIN_$dep" '%s' "$(rev "$dep" main~3)"
	done
	real_plugin
	# Like a hosting service: partial clones and fetches by id allowed.
	for name in "$DIR"/git/*.git; do
		git_q --git-dir="$name" config uploadpack.allowFilter true
		git_q --git-dir="$name" config uploadpack.allowAnySHA1InWant true
	done
	real_write_registry
	real_write_manifest
	rm -rf -- "$WORK"
	printf 'real-shaped organisation ready: %s\n' "$DIR"
	for name in "${REAL_DEPS[@]}" llvm-project; do
		printf '  %-13s %6d commits %6d files at the tip %8s packed\n' "$name" \
			"$(git --git-dir="$DIR/git/$name.git" rev-list --count main)" \
			"$(git --git-dir="$DIR/git/$name.git" ls-tree -r main | grep -c '^100')" \
			"$(du -sh "$DIR/git/$name.git/objects/pack" | cut -f1)"
	done
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
	--bench)
		shift
		bench_main "$@"
		return
		;;
	--real-shaped)
		shift
		real_main "$@"
		return
		;;
	--real-shaped-version)
		printf '%s\n' "$REAL_VERSION"
		return
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
	build_leaf_for_submodule subz SUBZ
	build_liba_daily

	write_registry
	write_manifest
	rm -rf -- "$WORK"
	printf 'fixture organisation ready: %s\n' "$DIR"
}

main "$@"
