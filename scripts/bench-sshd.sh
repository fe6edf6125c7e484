#!/usr/bin/env bash
# Benchmark over a real OpenSSH server (issue 23): `scripts/bench.sh
# --real-sshd` runs this script.
#
#   scripts/bench.sh --real-sshd                      # N = 16 32 64, 150 ms, 1 repetition
#   scripts/bench.sh --real-sshd --sizes "32" --reps 3 --jobs "8 16 32"
#
# Options:
#   --sizes "N..."   organisation sizes (default "16 32 64")
#   --jobs "J..."    --jobs values measured for ours (default "8 16 32 64";
#                    values above N are left out, N itself is always in)
#   --latency MS     milliseconds added to each new connection (default 150)
#   --reps R         repetitions; figures are medians (default 1)
#   --commits C, --files F   per project (default 40 and 150: the
#                    figures are about connections, not pack sizes)
#   --bin FILE       measure this binary instead of a release build
#
# sshd runs on 127.0.0.1 with its default settings (MaxStartups 10:30:100,
# MaxSessions 10), from scripts/local-sshd.sh: ssh -F its config, whose
# ProxyCommand logs every new connection (a handshake), sleeps the
# latency, then connects with nc. The organisations come from
# scripts/fixture-org.sh --bench (URLs ssh://bench-host/..., which that ssh
# config sends to the server), kept in target/bench/.
#
# Figures per N, each from an empty workspace:
#   bound         plain git for app and every project at once (xargs -P
#                 N+1: clone, fetch, checkout --detach PIN, submodules), and
#                 how many of those projects failed (dropped connections)
#   ours -j J     openxla-workspace checkout --ro --sync app, connections
#                 shared (the default)
#   no-op rerun   openxla-workspace sync --repo app in the last workspace
#   unshared -j J the same checkout with OPENXLA_WORKSPACE_SSH_SHARING=0, at
#                 the default --jobs and at -j N
# Each line: seconds, handshakes (new ssh connections), whether every
# project ended at its pin, and the time as a ratio to the bound. Always
# exits 0 once it could measure.
set -euo pipefail

readonly PROG=bench.sh
die() {
	printf '%s --real-sshd: %s\n' "$PROG" "$*" >&2
	exit 1
}
repo=$(cd "$(dirname "$0")/.." && pwd -P)
SIZES="16 32 64" JOBS="8 16 32 64" LATENCY=150 REPS=1 COMMITS=40 FILES=150 BIN=
while (($# > 0)); do
	case $1 in
	--real-sshd) shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
	--sizes | --jobs | --latency | --reps | --commits | --files | --bin)
		(($# >= 2)) || die "$1 needs a value"
		case $1 in
		--sizes) SIZES=$2 ;; --jobs) JOBS=$2 ;; --latency) LATENCY=$2 ;;
		--reps) REPS=$2 ;; --commits) COMMITS=$2 ;; --files) FILES=$2 ;; --bin) BIN=$2 ;;
		esac
		shift 2
		;;
	*) die "unknown option $1 (see --help)" ;;
	esac
done

REAL_GIT=$(command -v git) || die "git is not on PATH"
if [[ -z $BIN ]]; then
	printf 'building openxla-workspace (cargo build --release)\n'
	cargo build --release --quiet --manifest-path "$repo/Cargo.toml" || die "cargo build failed"
	BIN=$repo/target/release/openxla-workspace
fi
[[ -x $BIN ]] || die "$BIN is not an executable"
BIN=$(cd "$(dirname "$BIN")" && pwd -P)/$(basename "$BIN")

scratch=${TMPDIR:-/tmp}
[[ -n ${TMPDIR-} || ! -w /dev/shm ]] || scratch=/dev/shm
W=$(mktemp -d "$scratch/oxw-bench-sshd.XXXXXX")
SSHD_PID=
cleanup() {
	[[ -z $SSHD_PID ]] || kill "$SSHD_PID" 2>/dev/null || true
	rm -rf -- "$W"
}
trap cleanup EXIT
trap "exit 130" INT TERM
eval "$(bash "$repo/scripts/local-sshd.sh" "$W/sshd" | sed 's/^/SSHD_/')"
awk -v ms="$LATENCY" 'BEGIN { printf "%.3f\n", ms / 1000 }' >"$W/sshd/latency"

mkdir -p "$W/home"
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_SSH GIT_SSH_VARIANT \
	GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG GIT_CONFIG_PARAMETERS OPENXLA_WORKSPACE_CACHE \
	OPENXLA_WORKSPACE_SSH_SHARING OPENXLA_WORKSPACE_JOBS
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=protocol.file.allow GIT_CONFIG_VALUE_0=always
export GIT_SSH_COMMAND="ssh -F $W/sshd/ssh_config"

# What the original tool did for one project, run for all at once (the
# bound); a failure is logged, not fatal.
cat >"$W/per-project" <<'EOF'
#!/bin/sh
# per-project WORKSPACE URL NAME PIN|- WITH_SUBMODULES
cd "$1" || exit 1
{
	git clone -q "$2" "$3" && cd "$3" && {
		[ "$4" = - ] || {
			git fetch -q origin &&
				git -c advice.detachedHead=false checkout -q --detach "$4" &&
				if [ "$5" = 1 ]; then git submodule update -q --init --depth 1 --recommend-shallow; fi
		}
	}
} 2>>"$BENCH_ERRORS" || echo "$3" >>"$BENCH_FAILED"
EOF
chmod +x "$W/per-project"

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
handshakes() { wc -l <"$W/sshd/handshakes.log"; }

# org N: the organisation of N projects, built once into target/bench/.
org() {
	local dir=$repo/target/bench/org-n$1-c$COMMITS-f$FILES
	if ! grep -qx "BENCH_N=$1" "$dir/bench.env" 2>/dev/null; then
		rm -rf -- "$dir"
		bash "$repo/scripts/fixture-org.sh" --bench "$1" --commits "$COMMITS" --files "$FILES" "$dir" >/dev/null ||
			die "could not build the organisation of $1 projects"
	fi
	printf '%s' "$dir"
}

# at_pins WS: every project at its pin (the pins from bench.env).
at_pins() {
	local p key bad=0
	for p in "${PROJECTS[@]}"; do
		key=PIN_$p
		[[ $("$REAL_GIT" -C "$1/$p" rev-parse HEAD 2>/dev/null) == "${!key}" ]] || bad=$((bad + 1))
	done
	printf '%d' "$bad"
}

# run LABEL WS COMMAND...: one measured run, appended to the results as
# "LABEL SECONDS HANDSHAKES EXIT OFF_PIN FAILED".
run() {
	local label=$1 ws=$2 h0 t0 t1 status=0 failed
	shift 2
	: >"$W/failed"
	h0=$(handshakes)
	sync
	t0=$(now)
	BENCH_FAILED=$W/failed BENCH_ERRORS=$W/errors "$@" </dev/null >>"$W/log" 2>&1 || status=$?
	t1=$(now)
	failed=$(wc -l <"$W/failed")
	printf '%s %s %d %d %d %d\n' "$label" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
		"$(($(handshakes) - h0))" "$status" "$(at_pins "$ws")" "$failed" | tee -a "$W/rep.$rep"
}

new_ws() {
	rm -rf -- "$W/ws"
	mkdir -p "$W/ws"
	[[ ${1-} != init ]] || (cd "$W/ws" && "$BIN" -q init >/dev/null)
	printf '%s' "$W/ws"
}

ours() { (cd "$1" && shift && "$BIN" "$@"); }
bound() {
	{
		printf '%s %s %s - 0\n' "$1" "$BENCH_URL_PREFIX/app.git" app
		for p in "${PROJECTS[@]}"; do
			key=PIN_$p
			printf '%s %s %s %s %s\n' "$1" "$BENCH_URL_PREFIX/$p.git" "$p" "${!key}" \
				"$([[ $p == "$BENCH_SUBMODULES" ]] && echo 1 || echo 0)"
		done
	} | xargs -P "$((N + 1))" -n 5 "$W/per-project"
}

printf 'real sshd on 127.0.0.1:%s (defaults), %s ms per new connection, %s, %s, %d cores, load %s\n' \
	"$SSHD_PORT" "$LATENCY" "$(ssh -V 2>&1)" "$("$REAL_GIT" --version)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
for N in $SIZES; do
	ORG=$(org "$N")
	# shellcheck source=/dev/null
	source "$ORG/bench.env"
	IFS=, read -r -a PROJECTS <<<"$BENCH_PROJECTS"
	export OPENXLA_WORKSPACE_REGISTRY=$ORG/registry.toml
	printf '\nN = %d\n' "$N"
	for ((rep = 1; rep <= REPS; rep++)); do
		: >"$W/rep.$rep"
		ws=$(new_ws)
		run bound "$ws" bound "$ws"
		jobs_here=()
		for j in $JOBS; do ((j > N)) || jobs_here+=("$j"); done
		[[ " ${jobs_here[*]} " == *" $N "* ]] || jobs_here+=("$N")
		for j in "${jobs_here[@]}"; do
			ws=$(new_ws init)
			run "shared-j$j" "$ws" ours "$ws" -j "$j" checkout --ro --sync app
		done
		run noop "$ws" ours "$ws" sync --repo app
		ws=$(new_ws init)
		OPENXLA_WORKSPACE_SSH_SHARING=0 run unshared-default "$ws" ours "$ws" checkout --ro --sync app
		ws=$(new_ws init)
		OPENXLA_WORKSPACE_SSH_SHARING=0 run "unshared-j$N" "$ws" ours "$ws" -j "$N" checkout --ro --sync app
	done
	cat "$W"/rep.* >"$W/results.n$N"
	rm -f "$W"/rep.*
done

median_of() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '\n| N | run | median s | handshakes | exit | off pin | bound projects failed | / bound |\n|--:|---|--:|--:|--:|--:|--:|--:|\n'
for N in $SIZES; do
	bound_t=$(awk '$1 == "bound" { print $2 }' "$W/results.n$N" | median_of)
	awk '!seen[$1]++ { print $1 }' "$W/results.n$N" | while read -r label; do
		t=$(awk -v l="$label" '$1 == l { print $2 }' "$W/results.n$N" | median_of)
		read -r h e o f < <(awk -v l="$label" '$1 == l { r = $3 " " $4 " " $5 " " $6 } END { print r }' "$W/results.n$N")
		[[ $label == bound ]] && ratio= || ratio=$(awk -v a="$t" -v b="$bound_t" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
		printf '| %d | %s | %s | %d | %d | %d | %s | %s |\n' "$N" "$label" "$t" "$h" "$e" "$o" \
			"$([[ $label == bound ]] && echo "$f")" "$ratio"
	done
done
