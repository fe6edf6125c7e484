#!/usr/bin/env bash
# Benchmark: bringing a workspace to its pins, against the way the original
# Python tool did it (one project after another) and against the bound (every
# project at once). Issue 6.
#
#   scripts/bench.sh                    # N=32 projects, 150 ms per connection, 3 repetitions
#   scripts/bench.sh --quick            # smoke run: N=8, small histories, 1 repetition
#   scripts/bench.sh --projects 16 --latency 50 --reps 5
#
# Options:
#   --projects N   projects in the organisation (default 32)
#   --latency MS   milliseconds slept per connection (default 150)
#   --reps R       repetitions; every figure is the median (default 3)
#   --quick        N=8, 40 commits over about 150 files, 1 repetition
#   --commits C    commits per project (default 300; the big one has 5x)
#   --files F      files per project (default 1000; the big one has 5x)
#   --org DIR      the organisation: reused when DIR holds one built with the
#                  same N, C and F, built there when DIR is missing or empty
#                  (default target/bench/org-nN-cC-fF, kept between runs)
#   --bin FILE     measure this openxla-workspace binary instead of building
#                  target/release/openxla-workspace with cargo
#   --work DIR     keep the scratch folder (workspaces of the last
#                  repetition, logs, counters) in DIR instead of a temporary
#                  folder removed at exit. That temporary folder is made in
#                  $TMPDIR when set, else in /dev/shm (a tmpfs) when it has
#                  2 GiB free, else in /tmp: in memory, the figures hold the
#                  network and the CPU but not the disk, whose write-back
#                  makes repetitions differ by 2x or more on small VMs.
#                  Point --work (or TMPDIR) at a disk to include it.
#
# The organisation comes from scripts/fixture-org.sh --bench and is served
# over ssh://bench-host/... URLs through GIT_SSH_COMMAND=WORK/latency-ssh, a
# stand-in for ssh that logs one line per connection, sleeps, then runs the
# requested git-upload-pack locally. A `git` wrapper first on PATH logs each
# git process that the tool (or the baseline script) starts; git's own
# children (index-pack, upload-pack, submodule--helper, ...) resolve to git's
# exec-path first and are not counted.
#
# Figures (medians over the repetitions; each cold run starts from an empty
# workspace):
#   (a) baseline  per project, one after another: git clone, git fetch origin,
#                 git checkout --detach PIN, submodules (what the original
#                 tool did), after cloning app
#   (b) bound     the same commands for app and every project at once
#                 (xargs -P N+1; the pins are taken as known in advance)
#   (c) ours      openxla-workspace checkout --ro --sync app, with the default
#                 --jobs, then -j 16 and -j 32
#   (d) ours      openxla-workspace sync --repo app when all is at its pins
#   (e) ours      openxla-workspace pin --repo app
#   (f) ours      openxla-workspace checkout --ro --sync --depth 1 app
#   (g) ours      checkout --ro --sync app with --cache-dir: a first workspace
#                 that fills an empty cache, then a second one with the warm
#                 cache (only when the tool's --help mentions --cache-dir)
# It prints a table, then PASS/FAIL for each target of issue 6, and exits 0
# whatever the verdicts (it is a measurement); it exits 1 only when it could
# not measure.
set -euo pipefail

readonly PROG=bench.sh
die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

repo=$(cd "$(dirname "$0")/.." && pwd -P)
N=32 LATENCY=150 REPS=3 COMMITS=300 FILES=1000 ORG= WORK= QUICK= BIN=
while (($# > 0)); do
	case $1 in
	-h | --help) usage && exit 0 ;;
	--quick) QUICK=1 && shift ;;
	--projects | --latency | --reps | --commits | --files | --org | --work | --bin)
		(($# >= 2)) || die "$1 needs a value"
		case $1 in
		--projects) N=$2 ;;
		--latency) LATENCY=$2 ;;
		--reps) REPS=$2 ;;
		--commits) COMMITS=$2 ;;
		--files) FILES=$2 ;;
		--org) ORG=$2 ;;
		--work) WORK=$2 ;;
		--bin) BIN=$2 ;;
		esac
		shift 2
		;;
	*) usage >&2 && exit 2 ;;
	esac
done
if [[ -n $QUICK ]]; then
	N=8 REPS=1 COMMITS=40 FILES=150
fi
for v in N LATENCY REPS COMMITS FILES; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "${v,,} must be a number, not '${!v}'"
done
((N >= 1 && REPS >= 1)) || die "--projects and --reps must be at least 1"

# ---------------------------------------------------------------------------
# Tools

REAL_GIT=$(command -v git) || die "git is not on PATH"
command -v awk >/dev/null || die "awk is not on PATH"
command -v xargs >/dev/null || die "xargs is not on PATH"

if [[ -z $BIN ]]; then
	printf 'building openxla-workspace (cargo build --release)\n'
	cargo build --release --quiet --manifest-path "$repo/Cargo.toml" || die "cargo build failed"
	BIN=$repo/target/release/openxla-workspace
	BIN_FROM="$("$REAL_GIT" -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout')"
else
	[[ -x $BIN ]] || die "--bin $BIN is not an executable"
	BIN=$(cd "$(dirname "$BIN")" && pwd -P)/$(basename "$BIN")
	BIN_FROM="--bin $BIN"
fi
HAS_CACHE=
help=$("$BIN" --help 2>/dev/null) || true
if [[ $help == *--cache-dir* ]]; then
	HAS_CACHE=1
fi

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
# child_cpu FILE: user + system seconds in FILE, the output of bash's
# `times` run in the main shell (not in $(...), a subshell with no children
# of its own): its second line sums every finished child of the shell with
# their own waited-for children, i.e. the tool, git, the ssh stand-in and
# upload-pack alike.
child_cpu() {
	awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
		printf "%.2f", t
	}' "$1"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---------------------------------------------------------------------------
# The organisation (built once, reused while N, C and F stay the same)

if [[ -z $ORG ]]; then
	ORG=$repo/target/bench/org-n$N-c$COMMITS-f$FILES
	DEFAULT_ORG=1
else
	DEFAULT_ORG=
fi
org_matches() {
	[[ -f $1/bench.env ]] &&
		grep -qx "BENCH_N=$N" "$1/bench.env" &&
		grep -qx "BENCH_COMMITS=$COMMITS" "$1/bench.env" &&
		grep -qx "BENCH_FILES=$FILES" "$1/bench.env"
}
if [[ -d $ORG ]] && org_matches "$ORG"; then
	printf 'organisation: reusing %s\n' "$ORG"
else
	if [[ -e $ORG && -n $(ls -A -- "$ORG" 2>/dev/null) ]]; then
		# Our own default folder may hold an interrupted build: start afresh.
		[[ -n $DEFAULT_ORG ]] || die "$ORG holds something other than a bench organisation for N=$N C=$COMMITS F=$FILES; give another --org or remove it"
		rm -rf -- "$ORG"
	fi
	t0=$(now)
	bash "$repo/scripts/fixture-org.sh" --bench "$N" --commits "$COMMITS" --files "$FILES" "$ORG" ||
		die "could not build the organisation"
	printf 'organisation: generated in %ss\n' "$(elapsed "$t0" "$(now)")"
fi
ORG=$(cd "$ORG" && pwd -P)
# shellcheck source=/dev/null
source "$ORG/bench.env"
IFS=, read -r -a PROJECTS <<<"$BENCH_PROJECTS"

# ---------------------------------------------------------------------------
# Scratch folder, transport, git wrapper, hermetic environment

if [[ -n $WORK ]]; then
	mkdir -p "$WORK"
	W=$(cd "$WORK" && pwd -P)
	rm -rf "${W:?}"/{ws-*,logs,bin,home,cache-*,latency-ssh,per-project}
else
	scratch=${TMPDIR:-/tmp}
	if [[ -z ${TMPDIR-} && -d /dev/shm && -w /dev/shm ]] &&
		(($(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 + 0 }') > 2 * 1024 * 1024)); then
		scratch=/dev/shm
	fi
	W=$(mktemp -d "$scratch/openxla-workspace-bench.XXXXXX")
	trap 'rm -rf -- "$W"' EXIT
fi
mkdir -p "$W/bin" "$W/home" "$W/logs"

# A stand-in for ssh: git runs it as
#   latency-ssh [-o SendEnv=GIT_PROTOCOL] [-p PORT] bench-host "git-upload-pack '/path/NAME.git'"
# with GIT_PROTOCOL in its environment (kept, so protocol v2 works). It logs
# the connection, waits like a handshake with a distant host, then runs the
# command locally.
cat >"$W/latency-ssh" <<'EOF'
#!/bin/sh
if [ "$1" = -G ]; then exit 0; fi # OpenSSH probe (ssh.variant=auto): not a connection
for last; do :; done
printf '%s\n' "$last" >>"${BENCH_CONN_LOG:-/dev/null}"
if [ "${BENCH_LATENCY_MS:-0}" -gt 0 ]; then
	sleep "$(printf '%d.%03d' $((BENCH_LATENCY_MS / 1000)) $((BENCH_LATENCY_MS % 1000)))"
fi
exec sh -c "$last"
EOF
# The git wrapper: one line per process that the tool or a baseline starts.
cat >"$W/bin/git" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"\${BENCH_GIT_LOG:-/dev/null}"
exec '$REAL_GIT' "\$@"
EOF
# What the original tool did for one project: clone, fetch, check out the
# pin, then submodules; for app (PIN "-") only the clone. Run one after
# another (baseline) or all at once (bound).
cat >"$W/per-project" <<'EOF'
#!/bin/sh
# per-project WORKSPACE URL NAME PIN|- WITH_SUBMODULES
set -e
cd "$1"
git clone -q "$2" "$3"
if [ "$4" = - ]; then exit 0; fi
cd "$3"
git fetch -q origin
git -c advice.detachedHead=false checkout -q --detach "$4"
if [ "$5" = 1 ]; then
	git submodule update -q --init --depth 1 --recommend-shallow
fi
EOF
chmod +x "$W/latency-ssh" "$W/bin/git" "$W/per-project"

unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM XDG_CONFIG_HOME GIT_SSH OPENXLA_WORKSPACE_CACHE
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=protocol.file.allow GIT_CONFIG_VALUE_0=always
export GIT_AUTHOR_NAME="Bench Bot" GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME="Bench Bot" GIT_COMMITTER_EMAIL=bench@example.invalid
# The latency script is a plain ssh as far as git is concerned: with the
# OpenSSH variant git passes -o SendEnv=GIT_PROTOCOL and speaks protocol v2.
export GIT_SSH_COMMAND=$W/latency-ssh GIT_SSH_VARIANT=ssh
export BENCH_LATENCY_MS=$LATENCY
export OPENXLA_WORKSPACE_REGISTRY=$ORG/registry.toml
export PATH=$W/bin:$PATH
export BENCH_GIT_LOG=/dev/null BENCH_CONN_LOG=/dev/null

# ---------------------------------------------------------------------------
# Runs and their checks

pin_of() {
	local key=PIN_$1
	printf '%s' "${!key}"
}

# per_project_args WORKSPACE: one line of per-project arguments for app,
# then for each project. The pins come from bench.env, the same commits that
# app's sync_deps.py holds.
per_project_args() {
	local p
	printf '%s %s %s - 0\n' "$1" "$BENCH_URL_PREFIX/app.git" app
	for p in "${PROJECTS[@]}"; do
		printf '%s %s %s %s %s\n' "$1" "$BENCH_URL_PREFIX/$p.git" "$p" "$(pin_of "$p")" \
			"$([[ $p == "$BENCH_SUBMODULES" ]] && echo 1 || echo 0)"
	done
}
baseline() { # WORKSPACE: app, then one project after another
	per_project_args "$1" | xargs -P 1 -n 5 "$W/per-project"
}
bound() { # WORKSPACE: app and every project at once
	per_project_args "$1" | xargs -P "$((N + 1))" -n 5 "$W/per-project"
}
ours() { # WORKSPACE ARGS...
	local ws=$1
	shift
	(cd "$ws" && "$BIN" "$@")
}

# check_at_pins WORKSPACE: every project at its pin, submodules at their
# recorded commits, no temporary clone left. Uses the real git, uncounted.
check_at_pins() {
	local ws=$1 p head bad=()
	[[ -d $ws/app/.git ]] || bad+=("app missing")
	for p in "${PROJECTS[@]}"; do
		head=$("$REAL_GIT" -C "$ws/$p" rev-parse HEAD 2>/dev/null) || head=missing
		[[ $head == "$(pin_of "$p")" ]] || bad+=("$p at $head")
	done
	if [[ -d $ws/$BENCH_SUBMODULES ]]; then
		# A leading "-", "+" or "U" marks a submodule not at its recorded commit.
		head=$("$REAL_GIT" -C "$ws/$BENCH_SUBMODULES" submodule status 2>&1) || head="-failed"
		if [[ -z $head || $'\n'$head == *$'\n'[^\ ]* ]]; then
			bad+=("$BENCH_SUBMODULES: submodules not at their recorded commits")
		fi
	fi
	if compgen -G "$ws/.openxla-partial-*" >/dev/null; then
		bad+=("temporary clone folders left")
	fi
	if ((${#bad[@]} > 0)); then
		printf '%s' "${bad[*]}"
		return 1
	fi
}

# Results: R[FIG.REP.KEY], KEY one of time, cpu, git, conn, connmax
# ("COUNT NAME" of the busiest project), connsub, objects, ok (empty when
# the run ended at the pins, else what was wrong).
declare -A R
FIGS=()

# measure FIG REP CHECK_WS COMMAND...: runs the command with fresh counters,
# records its time, git processes and connections, then checks the workspace
# (when CHECK_WS is not "-").
measure() {
	local fig=$1 rep=$2 check_ws=$3
	shift 3
	[[ " ${FIGS[*]} " == *" $fig "* ]] || FIGS+=("$fig")
	local log=$W/logs/$fig.$rep
	: >"$log.git"
	: >"$log.conn"
	local t0 t1 status=0
	# Start each run with no dirty pages of the previous one (a removed
	# workspace, a finished clone) still being written back.
	sync
	local cpu0 cpu1
	times >"$log.times0"
	t0=$(now)
	BENCH_GIT_LOG=$log.git BENCH_CONN_LOG=$log.conn "$@" </dev/null >"$log.out" 2>&1 || status=$?
	t1=$(now)
	times >"$log.times1"
	cpu0=$(child_cpu "$log.times0")
	cpu1=$(child_cpu "$log.times1")
	R[$fig.$rep.time]=$(elapsed "$t0" "$t1")
	R[$fig.$rep.cpu]=$(elapsed "$cpu0" "$cpu1")
	R[$fig.$rep.git]=$(wc -l <"$log.git")
	R[$fig.$rep.conn]=$(wc -l <"$log.conn")
	# Connections per repository: the busiest project (app, pNN), and the
	# submodule repositories apart.
	R[$fig.$rep.connmax]=$(sed -n "s|.*/\([^/]*\)\.git'\$|\1|p" "$log.conn" | sort | uniq -c |
		awk '$2 !~ /^sub/ && $1 > m { m = $1; r = $2 } END { printf "%d %s", m, r }')
	R[$fig.$rep.connsub]=$(sed -n "s|.*/\(sub[0-9]*\)\.git'\$|\1|p" "$log.conn" | sort | uniq -c |
		awk '{ printf "%s%s:%d", (NR > 1 ? " " : ""), $2, $1 }')
	local what=
	if ((status != 0)); then
		what="exit status $status"
	elif [[ $check_ws != - ]]; then
		what=$(check_at_pins "$check_ws") || true
	fi
	if [[ -n $what ]]; then
		R[$fig.$rep.ok]=$what
		printf '  %-10s rep %d: %6ss  WRONG: %s (log: %s.out)\n' "$fig" "$rep" "${R[$fig.$rep.time]}" "$what" "$log"
		tail -n 15 "$log.out" | sed 's/^/      | /'
	else
		printf '  %-10s rep %d: %6ss  %6ss cpu  %4d git  %4d conn  (load %s)\n' "$fig" "$rep" "${R[$fig.$rep.time]}" \
			"${R[$fig.$rep.cpu]}" "${R[$fig.$rep.git]}" "${R[$fig.$rep.conn]}" "$(loadavg)"
	fi
}

new_ws() { # NAME: an empty workspace (initialised for ours)
	local ws=$W/ws-$1
	rm -rf -- "$ws"
	mkdir -p "$ws"
	if [[ ${2-} == init ]]; then
		(cd "$ws" && "$BIN" -q init >/dev/null)
	fi
	printf '%s' "$ws"
}

# objects_in WORKSPACE: "OBJECTS KIB ALTERNATES SUB_OBJECTS SUB_KIB": the
# objects (and KiB) in the projects' own object stores, how many of those
# stores borrow through alternates, and the objects (and KiB) in their
# submodules' stores (.git/modules/...). What is borrowed is not counted.
objects_in() {
	local ws=$1 head gitdir o k
	local objects=0 kib=0 alternates=0 sub_objects=0 sub_kib=0
	while IFS= read -r head; do
		gitdir=${head%/HEAD}
		[[ -d $gitdir/objects ]] || continue
		read -r o k < <("$REAL_GIT" --git-dir="$gitdir" count-objects -v |
			awk -F': ' '$1 == "count" || $1 == "in-pack" { o += $2 }
			            $1 == "size" || $1 == "size-pack" { k += $2 }
			            END { print o + 0, k + 0 }')
		if [[ $gitdir == */.git/modules/* ]]; then
			sub_objects=$((sub_objects + o)) sub_kib=$((sub_kib + k))
			continue
		fi
		objects=$((objects + o)) kib=$((kib + k))
		if [[ -s $gitdir/objects/info/alternates ]]; then
			alternates=$((alternates + 1))
		fi
	done < <(find "$ws" -type f -name HEAD -path '*/.git/*')
	printf '%d %d %d %d %d' "$objects" "$kib" "$alternates" "$sub_objects" "$sub_kib"
}

# ---------------------------------------------------------------------------
# The runs

printf '\nopenxla-workspace benchmark: %d projects (%d commits over ~%d files each; %s 5x; %s with 2 submodules),\n' \
	"$N" "$COMMITS" "$FILES" "$BENCH_BIG" "$BENCH_SUBMODULES"
printf '%d ms per connection, %d repetition(s), %s, %d cores, %s (%s)\n' \
	"$LATENCY" "$REPS" "$("$REAL_GIT" --version)" "$(nproc)" "$("$BIN" --version)" \
	"$BIN_FROM"
printf 'workspaces in %s (%s); load average %s\n' "$W" \
	"$(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 }')" "$(loadavg)"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)" -v c="$(nproc)" 'BEGIN { exit !(l > c) }'; then
	printf 'warning: 1-minute load above %d cores (an earlier run, or other work): timings may be noisy\n' "$(nproc)"
fi
printf 'organisation: %s (%s of packs)\n' "$ORG" "$(du -sh "$ORG/git" | cut -f1)"
[[ -n $HAS_CACHE ]] || printf '(g) skipped: openxla-workspace --help does not mention --cache-dir\n'

JOBS_LIST=(16 32)
for ((rep = 1; rep <= REPS; rep++)); do
	printf '\nrepetition %d of %d\n' "$rep" "$REPS"

	ws=$(new_ws a)
	measure a "$rep" "$ws" baseline "$ws"
	rm -rf -- "$ws"

	ws=$(new_ws b)
	measure b "$rep" "$ws" bound "$ws"
	rm -rf -- "$ws"

	ws=$(new_ws c init)
	measure c "$rep" "$ws" ours "$ws" checkout --ro --sync app
	measure d "$rep" "$ws" ours "$ws" sync --repo app
	measure e "$rep" - ours "$ws" pin --repo app
	R[c.$rep.objects]=$(objects_in "$ws")
	[[ $rep == "$REPS" && -n $WORK ]] || rm -rf -- "$ws"

	for j in "${JOBS_LIST[@]}"; do
		ws=$(new_ws "c-j$j" init)
		measure "c-j$j" "$rep" "$ws" ours "$ws" -j "$j" checkout --ro --sync app
		rm -rf -- "$ws"
	done

	ws=$(new_ws f init)
	measure f "$rep" "$ws" ours "$ws" checkout --ro --sync --depth 1 app
	R[f.$rep.objects]=$(objects_in "$ws")
	[[ $rep == "$REPS" && -n $WORK ]] || rm -rf -- "$ws"

	if [[ -n $HAS_CACHE ]]; then
		cache=$W/cache-$rep
		rm -rf -- "$cache"
		ws=$(new_ws g0 init)
		measure g0 "$rep" "$ws" ours "$ws" --cache-dir "$cache" checkout --ro --sync app
		ws2=$(new_ws g init)
		measure g "$rep" "$ws2" ours "$ws2" --cache-dir "$cache" checkout --ro --sync app
		R[g.$rep.objects]=$(objects_in "$ws2")
		if [[ $rep != "$REPS" || -z $WORK ]]; then
			rm -rf -- "$ws" "$ws2" "$cache"
		fi
	fi
done

# ---------------------------------------------------------------------------
# Report

median() { # VALUES...
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fig_median() { # FIG KEY
	local rep vals=()
	for ((rep = 1; rep <= REPS; rep++)); do
		[[ -n ${R[$1.$rep.$2]+x} ]] && vals+=("${R[$1.$rep.$2]}")
	done
	median ${vals[@]+"${vals[@]}"}
}
fig_ok() { # FIG: true when every repetition ended at the pins
	local rep
	for ((rep = 1; rep <= REPS; rep++)); do
		[[ -z ${R[$1.$rep.ok]-} ]] || return 1
	done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A LABEL=(
	[a]="(a) baseline: sequential, per project"
	[b]="(b) bound: all projects at once"
	[c]="(c) ours: checkout --ro --sync (default -j)"
	[c-j16]="(c) ours: checkout --ro --sync -j 16"
	[c-j32]="(c) ours: checkout --ro --sync -j 32"
	[d]="(d) ours: no-op sync"
	[e]="(e) ours: pin"
	[f]="(f) ours: checkout --ro --sync --depth 1"
	[g0]="(g) ours: 1st workspace, empty --cache-dir"
	[g]="(g) ours: 2nd workspace, warm --cache-dir"
)
declare -A T U G C
for fig in "${FIGS[@]}"; do
	T[$fig]=$(fig_median "$fig" time)
	U[$fig]=$(fig_median "$fig" cpu)
	G[$fig]=$(fig_median "$fig" git)
	C[$fig]=$(fig_median "$fig" conn)
done
base=${T[a]} bnd=${T[b]}

printf '\nResults (N=%d, %d ms per connection, median of %d; cpu s: user + system time of\n' "$N" "$LATENCY" "$REPS"
printf 'every process involved, client and server side; load average at the end: %s)\n\n' "$(loadavg)"
dashes() { printf -- '-%.0s' $(seq "$1"); }
printf '| %-44s | %8s | %7s | %9s | %11s | %10s | %7s |\n' figure "median s" "cpu s" "git procs" connections "/ baseline" "/ bound"
printf '|%s|%s:|%s:|%s:|%s:|%s:|%s:|\n' "$(dashes 46)" "$(dashes 9)" "$(dashes 8)" "$(dashes 10)" "$(dashes 12)" "$(dashes 11)" "$(dashes 8)"
for fig in "${FIGS[@]}"; do
	rb=- rd=-
	case $fig in
	c* | f | g*) rb=$(ratio "${T[$fig]}" "$base") rd=$(ratio "${T[$fig]}" "$bnd") ;;
	b) rb=$(ratio "${T[$fig]}" "$base") ;;
	esac
	mark=
	fig_ok "$fig" || mark=" (WRONG)"
	printf '| %-44s | %8s | %7s | %9s | %11s | %10s | %7s |\n' "${LABEL[$fig]}$mark" "${T[$fig]}" "${U[$fig]}" "${G[$fig]}" "${C[$fig]}" "$rb" "$rd"
done

printf '\nGit processes by command (last repetition; what the PATH wrapper saw):\n'
for fig in "${FIGS[@]}"; do
	printf '  %-6s %s\n' "$fig" "$(awk '{
		for (i = 1; i <= NF; i++) {
			if ($i == "-c" || $i == "-C") { i++; continue }
			if ($i ~ /^-/ && i < NF) continue
			n[$i]++; break
		} } END { for (k in n) printf "%s %d, ", k, n[k] }' "$W/logs/$fig.$REPS.git" | sed 's/, $//')"
done
printf 'Connections per repository (last repetition): busiest project, submodule repositories:\n'
for fig in "${FIGS[@]}"; do
	printf '  %-6s %s; %s\n' "$fig" "${R[$fig.$REPS.connmax]}" "${R[$fig.$REPS.connsub]:-none}"
done
objects_line() { # FIG
	local o k a so sk
	read -r o k a so sk <<<"${R[$1.$REPS.objects]}"
	printf '  %-6s %d objects (%d KiB) in the projects'"'"' own stores (%d borrow through alternates); submodules: %d objects (%d KiB)\n' \
		"$1" "$o" "$k" "$a" "$so" "$sk"
}
printf 'Objects received (last repetition; count-objects in the new workspace, alternates not counted):\n'
objects_line c
objects_line f
if [[ -n $HAS_CACHE ]]; then
	objects_line g
	read -r g_obj g_kib _ g_sub_obj g_sub_kib <<<"${R[g.$REPS.objects]}"
fi

# Targets of issue 6.
verdict() { # OK DESCRIPTION
	if [[ $1 == 1 ]]; then printf 'PASS  %s\n' "$2"; else printf 'FAIL  %s\n' "$2"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
printf '\nTargets (issue 6; N=%d, %d ms):\n' "$N" "$LATENCY"
speedup=$(ratio "$base" "${T[c]}")
verdict "$(le 8 "$speedup")" "cold checkout --sync at least 8x faster than the baseline: ${speedup}x"
over=$(ratio "${T[c]}" "$bnd")
verdict "$(le "$over" 1.25)" "cold checkout --sync within 1.25x of the bound: ${over}x"
verdict "$(le "${C[d]}" 0)" "no-op sync: zero connections: ${C[d]}"
verdict "$(le "${G[d]}" $((2 * N)))" "no-op sync: at most 2 git processes per project: ${G[d]} for $N projects"
share=$(awk -v a="${T[d]}" -v b="${T[c]}" 'BEGIN { printf "%.1f", 100 * a / b }')
verdict "$(le "$share" 5)" "no-op sync under 5% of the cold time: ${share}%"
verdict "$(le "${G[e]}" "$N")" "pin: one git process per dep: ${G[e]} for $N deps"
read -r busiest busiest_repo <<<"${R[c.$REPS.connmax]}"
verdict "$(le "$busiest" 1)" "cold sync: one connection per project (pins reachable from the cloned branch): at most ${busiest:-0} (${busiest_repo:-none})"
if [[ -n $HAS_CACHE ]]; then
	verdict "$(le "$g_obj" 0)" "second workspace, warm cache: zero objects fetched into the projects: $g_obj ($g_kib KiB); ${C[g]} connections; submodules: $g_sub_obj objects ($g_sub_kib KiB)"
fi
for fig in "${FIGS[@]}"; do
	fig_ok "$fig" || printf 'WRONG %s did not end with every project at its pin (see above)\n' "${LABEL[$fig]}"
done
[[ -z $WORK ]] || printf '\nlogs, counters and the last workspaces: %s\n' "$W"
