#!/usr/bin/env bash
# Benchmark: bringing a workspace to its pins, against the way the original
# Python tool did it (one project after another) and against the bound (every
# project at once). Issue 6.
#
#   scripts/bench.sh                    # N=32 projects, 150 ms per connection, 3 repetitions
#   scripts/bench.sh --quick            # smoke run: N=8, small histories, 1 repetition
#   scripts/bench.sh --projects 16 --latency 50 --reps 5
#   scripts/bench.sh --real-shaped      # the real OpenXLA sizes, 50 ms, 100 Mbit/s, 3 repetitions
#   scripts/bench.sh --real-sshd        # over a real sshd: N = 16, 32, 64 (scripts/bench-sshd.sh)
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
#   --real-shaped  measure against an organisation the size of the real
#                  OpenXLA projects instead (see "Real-shaped" below); the
#                  default latency is then 50 ms, and --projects, --commits,
#                  --files and --quick do not apply
#   --bandwidth MBIT  with --real-shaped: the link every connection shares,
#                  in Mbit/s (default 100; 0 = unlimited)
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
#
# Real-shaped (--real-shaped): scripts/fixture-org.sh --real-shaped builds,
# once, an organisation sized like the real projects (iree-like: 20,000
# commits, 7,200 files, 10 submodules of which llvm-project-like is large;
# jax-like: 37,000 commits, 2,000 files; stablehlo-like: 1,900 commits,
# 3,600 files; openxla-pjrt-plugin pinning the three in a runnable
# sync_deps.py). It takes about 10 minutes on 2 cores and 800 MB, and is
# kept in target/bench/real-vV (V: the generator's version; older versions
# there are removed). The ssh stand-in then also passes upload-pack's output
# through one link of --bandwidth Mbit/s that all connections share (a
# token bucket in a file, like one network link of a workstation), and
# counts the bytes of each connection both ways. Figures, each from an
# empty workspace:
#   bounds        plain git for the plugin and its three deps at once
#                 (xargs -P 4; the pins taken as known): clone --no-checkout
#                 and checkout --detach PIN, iree's submodules with
#                 submodule update --init --depth 1 --recommend-shallow
#                 --jobs 8 (what the tool does); full, --filter=blob:none,
#                 --filter=tree:0, and depth 1 (init + fetch --depth 1 PIN)
#   ours          checkout --ro --sync openxla-pjrt-plugin: full, with
#                 --filter=blob:none (only when checkout --help mentions
#                 --filter), with --depth 1; then a no-op sync
#   sync_deps.py  python3 sync_deps.py with its defaults, in a clone of the
#                 plugin made beforehand (as CI runs it)
#   cache         a first workspace filling an empty --cache-dir, then a
#                 second one through the warm cache (when --help mentions
#                 --cache-dir)
# Each with wall time, CPU time (user + system of every process: the tool,
# git, the stand-in and upload-pack), MB through the link (both ways), the
# connections, the git processes, the .git folders' size, and the peak RSS
# of the tool's own process (VmHWM in /proc/PID/status, read every 20 ms
# until it exits: GNU time and getrusage report the largest of the process
# and its waited-for children, here git's index-pack). It then prints
# PASS/FAIL for the targets of issue 14 and exits 0 whatever the verdicts.
# Three repetitions take about 35 minutes on 2 cores; the workspaces need
# about 3 GB in the scratch folder.
set -euo pipefail

readonly PROG=bench.sh
die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

repo=$(cd "$(dirname "$0")/.." && pwd -P)
# The real-sshd mode is a script of its own, with its own options.
for arg; do
	[[ $arg != --real-sshd ]] || exec bash "$repo/scripts/bench-sshd.sh" "$@"
done
N=32 LATENCY= REPS=3 COMMITS=300 FILES=1000 ORG= WORK= QUICK= BIN= REAL= BANDWIDTH=100
while (($# > 0)); do
	case $1 in
	-h | --help) usage && exit 0 ;;
	--quick) QUICK=1 && shift ;;
	--real-shaped) REAL=1 && shift ;;
	--projects | --latency | --reps | --commits | --files | --org | --work | --bin | --bandwidth)
		(($# >= 2)) || die "$1 needs a value"
		case $1 in
		--projects) N=$2 ;;
		--latency) LATENCY=$2 ;;
		--bandwidth) BANDWIDTH=$2 ;;
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
[[ -z $QUICK || -z $REAL ]] || die "--quick and --real-shaped exclude each other"
if [[ -n $QUICK ]]; then
	N=8 REPS=1 COMMITS=40 FILES=150
fi
if [[ -z $LATENCY ]]; then
	LATENCY=150
	[[ -z $REAL ]] || LATENCY=50
fi
for v in N LATENCY REPS COMMITS FILES BANDWIDTH; do
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
HAS_FILTER=
help=$("$BIN" checkout --help 2>/dev/null) || true
if [[ $help == *--filter* ]]; then
	HAS_FILTER=1
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

new_ws() { # NAME: an empty workspace (initialised for ours)
	local ws=$W/ws-$1
	rm -rf -- "$ws"
	mkdir -p "$ws"
	if [[ ${2-} == init ]]; then
		(cd "$ws" && "$BIN" -q init >/dev/null)
	fi
	printf '%s' "$ws"
}

# Medians and verdicts over R[FIG.REP.KEY] (filled by the runs below).
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

dashes() { printf -- '-%.0s' $(seq "$1"); }
verdict() { # OK DESCRIPTION
	if [[ $1 == 1 ]]; then printf 'PASS  %s\n' "$2"; else printf 'FAIL  %s\n' "$2"; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
all() { # ARGS...: 1 when every argument is 1, else 0
	local a
	for a in "$@"; do
		[[ $a == 1 ]] || { echo 0 && return; }
	done
	echo 1
}

# ---------------------------------------------------------------------------
# Scratch folder, transport, git wrapper, hermetic environment

# setup_scratch: the folder W, the ssh stand-in, the git wrapper, the
# per-project script of the baseline, and the environment of every run.
setup_scratch() {
	if [[ -n $WORK ]]; then
		mkdir -p "$WORK"
		W=$(cd "$WORK" && pwd -P)
		rm -rf "${W:?}"/{ws-*,logs,bin,home,cache-*,latency-ssh,per-project,link-ssh,link.py,link.state,rs-clone,rs-bound,rs-bound.list,sleep.fifo}
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
	cat >"$W/latency-ssh" <<-'EOF'
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
	cat >"$W/bin/git" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$*" >>"\${BENCH_GIT_LOG:-/dev/null}"
	exec '$REAL_GIT' "\$@"
	EOF
	# What the original tool did for one project: clone, fetch, check out the
	# pin, then submodules; for app (PIN "-") only the clone. Run one after
	# another (baseline) or all at once (bound).
	cat >"$W/per-project" <<-'EOF'
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
}

# ---------------------------------------------------------------------------
# Real-shaped (--real-shaped)

# rs_org: build or reuse the real-shaped organisation, then load real.env.
rs_org() {
	local version old t0
	version=$(bash "$repo/scripts/fixture-org.sh" --real-shaped-version) || die "fixture-org.sh has no real-shaped mode"
	if [[ -z $ORG ]]; then
		ORG=$repo/target/bench/real-v$version
		# Our own default folders of older generator versions: about 1 GB each.
		for old in "$repo"/target/bench/real-v*; do
			if [[ -d $old && $old != "$ORG" ]]; then
				printf 'removing %s (made by an older generator)\n' "$old"
				rm -rf -- "$old"
			fi
		done
	fi
	t0=$(now)
	bash "$repo/scripts/fixture-org.sh" --real-shaped "$ORG" || die "could not build the real-shaped organisation"
	printf 'organisation: ready in %ss (big repositories reused when already built)\n' "$(elapsed "$t0" "$(now)")"
	ORG=$(cd "$ORG" && pwd -P)
	# shellcheck source=/dev/null
	source "$ORG/real.env"
	IFS=, read -r -a RS_DEPS <<<"$REAL_DEPS"
	IFS=, read -r -a RS_SUBS <<<"$REAL_SUBS"
}

# rs_describe_org: for each repository, what makes it real-shaped.
rs_describe_org() {
	local name g total=0 secs
	printf '\n| repository | commits | files at the tip | size-pack | du of the bare repository | generated in |\n|---|--:|--:|--:|--:|--:|\n'
	for name in "${RS_DEPS[@]}" "${RS_SUBS[@]}" "$REAL_PLUGIN"; do
		g=$ORG/git/$name.git
		secs=GEN_SECONDS_${name//-/_}
		secs=${!secs-}
		[[ -z $secs ]] || total=$((total + secs))
		printf '| %s | %d | %d | %s | %s | %s |\n' "$name" \
			"$("$REAL_GIT" --git-dir="$g" rev-list --count main)" \
			"$("$REAL_GIT" --git-dir="$g" ls-tree -r main | grep -c '^100')" \
			"$("$REAL_GIT" --git-dir="$g" count-objects -vH | sed -n 's/^size-pack: //p')" \
			"$(du -sh "$g" | cut -f1)" "${secs:+${secs} s}"
	done
	printf '\ntotal: %s in %s; generating the repositories took %d s of per-repository time (once;\nthey are made %d at a time)\n' \
		"$(du -sh "$ORG/git" | cut -f1)" "$ORG" "$total" "$(nproc)"
}

# rs_transport: the link stand-in. link-ssh logs the connection and hands
# it to link.py, which sleeps the latency, runs upload-pack, passes its
# output through the shared link and counts the bytes both ways.
rs_transport() {
	cat >"$W/link-ssh" <<-'EOF'
	#!/bin/sh
	if [ "$1" = -G ]; then exit 0; fi # OpenSSH probe (ssh.variant=auto): not a connection
	for last; do :; done
	printf '%s\n' "$last" >>"${BENCH_CONN_LOG:-/dev/null}"
	exec python3 -S "$BENCH_LINK" "$last"
	EOF
	cat >"$W/link.py" <<-'EOF'
	# link.py COMMAND: runs COMMAND (git-upload-pack ...) after
	# BENCH_LATENCY_MS, copies stdin to it and its output to stdout through
	# a link of BENCH_LINK_RATE bytes/s that every connection shares: each
	# chunk takes the next free slot of the link (a time kept in the file
	# BENCH_LINK_STATE, under flock) and is written when its slot ends.
	# Appends "DOWN UP COMMAND" to BENCH_BYTES_LOG.
	import fcntl, os, struct, subprocess, sys, threading, time

	def main():
	    cmd = sys.argv[1]
	    rate = float(os.environ.get("BENCH_LINK_RATE", "0"))
	    time.sleep(int(os.environ.get("BENCH_LATENCY_MS", "0")) / 1000)
	    child = subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.PIPE,
	                             stdout=subprocess.PIPE, bufsize=0)
	    up = [0]

	    def upstream():
	        try:
	            while True:
	                data = os.read(0, 65536)
	                if not data:
	                    break
	                up[0] += len(data)
	                child.stdin.write(data)
	        except OSError:
	            pass
	        try:
	            child.stdin.close()
	        except OSError:
	            pass

	    threading.Thread(target=upstream, daemon=True).start()
	    state = None
	    if rate > 0:
	        state = os.open(os.environ["BENCH_LINK_STATE"], os.O_RDWR | os.O_CREAT, 0o600)
	    down = 0
	    source = child.stdout.fileno()
	    try:
	        while True:
	            data = os.read(source, 65536)
	            if not data:
	                break
	            if state is not None:
	                fcntl.flock(state, fcntl.LOCK_EX)
	                now = time.monotonic()
	                raw = os.pread(state, 8, 0)
	                free = struct.unpack("d", raw)[0] if len(raw) == 8 else 0.0
	                done = max(now, free) + len(data) / rate
	                os.pwrite(state, struct.pack("d", done), 0)
	                fcntl.flock(state, fcntl.LOCK_UN)
	                if done > now:
	                    time.sleep(done - now)
	            view = memoryview(data)
	            while view:
	                view = view[os.write(1, view):]
	            down += len(data)
	    except OSError:  # the client went away
	        child.kill()
	    status = child.wait()
	    log = os.environ.get("BENCH_BYTES_LOG")
	    if log:
	        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
	        os.write(fd, f"{down} {up[0]} {cmd}\n".encode())
	        os.close(fd)
	    sys.exit(status if status >= 0 else 1)

	main()
	EOF
	# The bounds: one project with plain git, as fast as git goes.
	cat >"$W/rs-clone" <<-'EOF'
	#!/bin/sh
	# rs-clone MODE WORKSPACE URL NAME PIN|- WITH_SUBMODULES
	# MODE: full, blobless, treeless or depth1; PIN "-": the plugin (its tip).
	set -e
	cd "$2"
	case $1 in
	full) filter= ;;
	blobless) filter=--filter=blob:none ;;
	treeless) filter=--filter=tree:0 ;;
	depth1) filter=--depth=1 ;;
	*) exit 2 ;;
	esac
	if [ "$5" = - ]; then
		git clone -q $filter "$3" "$4"
		exit 0
	fi
	if [ "$1" = depth1 ]; then
		git init -q "$4"
		cd "$4"
		git remote add origin "$3"
		git fetch -q --no-tags --depth=1 origin "$5"
	else
		git clone -q --no-checkout $filter "$3" "$4"
		cd "$4"
	fi
	git -c advice.detachedHead=false checkout -q --detach "$5"
	if [ "$6" = 1 ]; then
		git submodule update -q --init --depth 1 --recommend-shallow --jobs 8
	fi
	EOF
	chmod +x "$W/link-ssh" "$W/rs-clone"
	mkfifo "$W/sleep.fifo"
	export GIT_SSH_COMMAND=$W/link-ssh BENCH_LINK=$W/link.py BENCH_LINK_STATE=$W/link.state
	export BENCH_LINK_RATE=$((BANDWIDTH * 1000000 / 8)) BENCH_BYTES_LOG=/dev/null
}

rs_url() { printf '%s/%s.git' "$REAL_URL_PREFIX" "$1"; }
rs_pin() {
	local key=PIN_$1
	printf '%s' "${!key}"
}

# rs_bound_script: WORK/rs-bound MODE WORKSPACE, the plugin and its deps at
# once (rs-clone for each; the pins as known in advance).
rs_bound_script() {
	local dep
	{
		printf '%s %s - 0\n' "$(rs_url "$REAL_PLUGIN")" "$REAL_PLUGIN"
		for dep in "${RS_DEPS[@]}"; do
			printf '%s %s %s %s\n' "$(rs_url "$dep")" "$dep" "$(rs_pin "$dep")" \
				"$([[ $dep == "$REAL_SUBMODULES" ]] && echo 1 || echo 0)"
		done
	} >"$W/rs-bound.list"
	cat >"$W/rs-bound" <<-EOF
	#!/bin/sh
	sed "s|^|\$1 \$2 |" '$W/rs-bound.list' | xargs -P $((${#RS_DEPS[@]} + 1)) -n 6 '$W/rs-clone'
	EOF
	chmod +x "$W/rs-bound"
}

# rs_check WORKSPACE [offline]: every dep at its pin, the submodules of
# REAL_SUBMODULES at their recorded commits, no temporary folder left; with
# "offline", each dep's whole history readable by `git log` with the network
# and lazy fetches turned off. Prints what is wrong. Uses the real git.
rs_check() {
	local ws=$1 dep head bad=() count key
	[[ -d $ws/$REAL_PLUGIN/.git ]] || bad+=("$REAL_PLUGIN missing")
	for dep in "${RS_DEPS[@]}"; do
		head=$("$REAL_GIT" -C "$ws/$dep" rev-parse HEAD 2>/dev/null) || head=missing
		[[ $head == "$(rs_pin "$dep")" ]] || bad+=("$dep at $head")
		if [[ ${2-} == offline && $head != missing ]]; then
			key=COUNT_$dep
			count=$(GIT_NO_LAZY_FETCH=1 GIT_SSH_COMMAND=false "$REAL_GIT" -C "$ws/$dep" log --format=%H HEAD 2>/dev/null | wc -l)
			[[ $count == "${!key}" ]] || bad+=("$dep: offline git log shows $count commits of ${!key}")
		fi
	done
	if [[ -d $ws/$REAL_SUBMODULES ]]; then
		head=$("$REAL_GIT" -C "$ws/$REAL_SUBMODULES" submodule status 2>&1) || head="-failed"
		if [[ -z $head || $'\n'$head == *$'\n'[^\ ]* ]]; then
			bad+=("$REAL_SUBMODULES: submodules not at their recorded commits")
		fi
	fi
	if compgen -G "$ws/.openxla-partial-*" >/dev/null || compgen -G "$ws/.*.sync-deps-*" >/dev/null; then
		bad+=("temporary folders left")
	fi
	if ((${#bad[@]} > 0)); then
		printf '%s' "${bad[*]}"
		return 1
	fi
}

# git_mb WORKSPACE: MB in the workspace's .git folders (submodules' included).
git_mb() {
	find "$1" -maxdepth 2 -name .git -type d -print0 | xargs -0 -r du -sk | awk '{ k += $1 } END { printf "%.0f", k / 1024 }'
}

# rs_measure FIG REP CHECK DIR COMMAND...: runs COMMAND in DIR (exec'd, in
# the background, so that its own peak RSS can be read while it runs) with
# fresh counters; CHECK is a workspace to check with rs_check ("-": none;
# "WS offline": also the offline log).
rs_measure() {
	local fig=$1 rep=$2 check=$3 dir=$4
	shift 4
	[[ " ${FIGS[*]} " == *" $fig "* ]] || FIGS+=("$fig")
	local log=$W/logs/$fig.$rep status=0 t0 t1 pid hwm=0 key value rest found
	: >"$log.git"
	: >"$log.conn"
	: >"$log.bytes"
	sync
	times >"$log.times0"
	t0=$(now)
	(
		export BENCH_GIT_LOG=$log.git BENCH_CONN_LOG=$log.conn BENCH_BYTES_LOG=$log.bytes
		cd "$dir" && exec "$@"
	) </dev/null >"$log.out" 2>&1 &
	pid=$!
	# VmHWM of the process itself (the subshell has exec'd the command):
	# read until it exits; a zombie no longer shows the line.
	while :; do
		found=
		{
			while read -r key value rest; do
				if [[ $key == VmHWM: ]]; then
					found=1
					((value <= hwm)) || hwm=$value
				fi
			done <"/proc/$pid/status"
		} 2>/dev/null || true
		[[ -n $found ]] || break
		read -r -t 0.02 -u "$SLEEP_FD" _ || true
	done
	wait "$pid" || status=$?
	t1=$(now)
	times >"$log.times1"
	R[$fig.$rep.time]=$(elapsed "$t0" "$t1")
	R[$fig.$rep.cpu]=$(elapsed "$(child_cpu "$log.times0")" "$(child_cpu "$log.times1")")
	R[$fig.$rep.git]=$(wc -l <"$log.git")
	R[$fig.$rep.conn]=$(wc -l <"$log.conn")
	R[$fig.$rep.mb]=$(awk '{ b += $1 + $2 } END { printf "%.1f", b / 1e6 }' "$log.bytes")
	R[$fig.$rep.rss]=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
	local what=
	if ((status != 0)); then
		what="exit status $status"
	elif [[ $check != - ]]; then
		# shellcheck disable=SC2086 # "WS offline" is two words
		what=$(rs_check $check) || true
	fi
	[[ $check == - ]] || R[$fig.$rep.gitmb]=$(git_mb "${check%% *}")
	if [[ -n $what ]]; then
		R[$fig.$rep.ok]=$what
		printf '  %-10s rep %d: %7ss  WRONG: %s (log: %s.out)\n' "$fig" "$rep" "${R[$fig.$rep.time]}" "$what" "$log"
		tail -n 15 "$log.out" | sed 's/^/      | /'
	else
		printf '  %-10s rep %d: %7ss %7ss cpu %8s MB %4d conn %4d git %6s MB rss  (load %s)\n' "$fig" "$rep" \
			"${R[$fig.$rep.time]}" "${R[$fig.$rep.cpu]}" "${R[$fig.$rep.mb]}" "${R[$fig.$rep.conn]}" \
			"${R[$fig.$rep.git]}" "${R[$fig.$rep.rss]}" "$(loadavg)"
	fi
}

rs_main() {
	rs_org
	setup_scratch
	rs_transport
	rs_bound_script
	exec {SLEEP_FD}<>"$W/sleep.fifo"
	declare -gA R
	FIGS=()

	printf '\nopenxla-workspace real-shaped benchmark: %s pinning %s; %d ms per connection,\n' \
		"$REAL_PLUGIN" "${RS_DEPS[*]}" "$LATENCY"
	printf '%s Mbit/s shared link, %d repetition(s), %s, %d cores, %s (%s)\n' \
		"$([[ $BANDWIDTH == 0 ]] && echo unlimited || echo "$BANDWIDTH")" "$REPS" "$("$REAL_GIT" --version)" \
		"$(nproc)" "$("$BIN" --version)" "$BIN_FROM"
	printf 'workspaces in %s (%s); load average %s\n' "$W" \
		"$(df -PT "$W" 2>/dev/null | awk 'NR == 2 { print $2 }')" "$(loadavg)"
	rs_describe_org
	[[ -n $HAS_FILTER ]] || printf '(ours --filter=blob:none) skipped: checkout --help does not mention --filter\n'
	[[ -n $HAS_CACHE ]] || printf '(cache) skipped: --help does not mention --cache-dir\n'

	local rep ws ws2 cache mode
	for ((rep = 1; rep <= REPS; rep++)); do
		printf '\nrepetition %d of %d\n' "$rep" "$REPS"
		for mode in full blobless treeless depth1; do
			ws=$(new_ws "b-$mode")
			rs_measure "b-$mode" "$rep" "$ws$([[ $mode == blobless ]] && echo ' offline')" "$ws" "$W/rs-bound" "$mode" "$ws"
			rm -rf -- "$ws"
			case $mode in
			full)
				ws=$(new_ws o-full init)
				rs_measure o-full "$rep" "$ws" "$ws" "$BIN" checkout --ro --sync "$REAL_PLUGIN"
				rs_measure o-noop "$rep" "$ws" "$ws/$REAL_PLUGIN" "$BIN" sync
				rm -rf -- "$ws"
				;;
			blobless)
				if [[ -n $HAS_FILTER ]]; then
					ws=$(new_ws o-blobless init)
					rs_measure o-blobless "$rep" "$ws offline" "$ws" "$BIN" checkout --ro --sync --filter blob:none "$REAL_PLUGIN"
					rm -rf -- "$ws"
				fi
				;;
			depth1)
				ws=$(new_ws o-depth1 init)
				rs_measure o-depth1 "$rep" "$ws" "$ws" "$BIN" checkout --ro --sync --depth 1 "$REAL_PLUGIN"
				rm -rf -- "$ws"
				ws=$(new_ws py)
				"$REAL_GIT" clone -q "$(rs_url "$REAL_PLUGIN")" "$ws/$REAL_PLUGIN" || die "could not clone $REAL_PLUGIN"
				rs_measure py "$rep" "$ws" "$ws/$REAL_PLUGIN" python3 sync_deps.py
				rm -rf -- "$ws"
				;;
			esac
		done
		if [[ -n $HAS_CACHE ]]; then
			cache=$W/cache-$rep
			rm -rf -- "$cache"
			ws=$(new_ws c1 init)
			rs_measure o-cache1 "$rep" "$ws" "$ws" "$BIN" --cache-dir "$cache" checkout --ro --sync "$REAL_PLUGIN"
			ws2=$(new_ws c2 init)
			rs_measure o-cache2 "$rep" "$ws2" "$ws2" "$BIN" --cache-dir "$cache" checkout --ro --sync "$REAL_PLUGIN"
			rm -rf -- "$ws" "$ws2" "$cache"
		fi
	done
	rs_report
}

rs_report() {
	declare -A LABEL=(
		[b-full]="bound: full clones"
		[b-blobless]="bound: --filter=blob:none"
		[b-treeless]="bound: --filter=tree:0"
		[b-depth1]="bound: depth 1"
		[o-full]="ours: checkout --ro --sync"
		[o-noop]="ours: no-op sync"
		[o-blobless]="ours: checkout --ro --sync --filter blob:none"
		[o-depth1]="ours: checkout --ro --sync --depth 1"
		[py]="python3 sync_deps.py (defaults)"
		[o-cache1]="ours: 1st workspace, empty --cache-dir"
		[o-cache2]="ours: 2nd workspace, warm --cache-dir"
	)
	declare -A BOUND=([o-full]=b-full [o-blobless]=b-blobless [o-depth1]=b-depth1 [py]=b-depth1
		[o-cache1]=b-full [o-cache2]=b-full)
	declare -A T U MB C G RSS GMB
	local fig mark rb order=()
	# Bounds first, then ours, whatever order they ran in.
	for fig in b-full b-blobless b-treeless b-depth1 o-full o-blobless o-depth1 py o-cache1 o-cache2 o-noop; do
		[[ " ${FIGS[*]} " != *" $fig "* ]] || order+=("$fig")
	done
	FIGS=("${order[@]}")
	for fig in "${FIGS[@]}"; do
		T[$fig]=$(fig_median "$fig" time)
		U[$fig]=$(fig_median "$fig" cpu)
		MB[$fig]=$(fig_median "$fig" mb)
		C[$fig]=$(fig_median "$fig" conn)
		G[$fig]=$(fig_median "$fig" git)
		RSS[$fig]=$(fig_median "$fig" rss)
		GMB[$fig]=$(fig_median "$fig" gitmb)
	done
	printf '\nResults (median of %d; %d ms per connection, %s Mbit/s shared; cpu s: user + system of\n' \
		"$REPS" "$LATENCY" "$([[ $BANDWIDTH == 0 ]] && echo unlimited || echo "$BANDWIDTH")"
	printf 'every process, client and server; MB: through the link, both ways; rss: the peak of the\n'
	printf 'process itself (the tool, or python3 for sync_deps.py), not of its git children)\n\n'
	printf '| %-46s | %7s | %7s | %8s | %5s | %5s | %7s | %6s | %7s |\n' figure "wall s" "cpu s" "MB" conn git ".git MB" "rss MB" "/ bound"
	printf '|%s|%s:|%s:|%s:|%s:|%s:|%s:|%s:|%s:|\n' "$(dashes 48)" "$(dashes 8)" "$(dashes 8)" "$(dashes 9)" \
		"$(dashes 6)" "$(dashes 6)" "$(dashes 8)" "$(dashes 7)" "$(dashes 8)"
	for fig in "${FIGS[@]}"; do
		rb=-
		[[ -z ${BOUND[$fig]-} ]] || rb=$(ratio "${T[$fig]}" "${T[${BOUND[$fig]}]}")
		mark=
		fig_ok "$fig" || mark=" (WRONG)"
		if [[ $fig == b-* ]]; then RSS[$fig]=-; fi
		printf '| %-46s | %7s | %7s | %8s | %5s | %5s | %7s | %6s | %7s |\n' "${LABEL[$fig]}$mark" "${T[$fig]}" \
			"${U[$fig]}" "${MB[$fig]}" "${C[$fig]}" "${G[$fig]}" "${GMB[$fig]}" "${RSS[$fig]}" "$rb"
	done
	printf '\n/ bound: wall time against the bound of the same kind (full for the cache runs, depth 1\n'
	printf 'for sync_deps.py).\n'

	printf '\nGit processes by command (last repetition; what the PATH wrapper saw):\n'
	for fig in "${FIGS[@]}"; do
		printf '  %-10s %s\n' "$fig" "$(awk '{
			for (i = 1; i <= NF; i++) {
				if ($i == "-c" || $i == "-C") { i++; continue }
				if ($i ~ /^-/ && i < NF) continue
				n[$i]++; break
			} } END { for (k in n) printf "%s %d, ", k, n[k] }' "$W/logs/$fig.$REPS.git" | sed 's/, $//')"
	done
	printf 'MB per repository (last repetition; down + up through the link):\n'
	for fig in "${FIGS[@]}"; do
		printf '  %-10s %s\n' "$fig" "$(sed -n "s|^\([0-9]*\) \([0-9]*\) .*/\([^/]*\)\.git'\$|\3 \1 \2|p" "$W/logs/$fig.$REPS.bytes" |
			awk '{ b[$1] += $2 + $3; n[$1]++ } END { for (k in b) printf "%s %.1f (%d), ", k, b[k] / 1e6, n[k] }' | sed 's/, $//')"
	done

	printf '\nTargets (issue 14):\n'
	local r rb_mb
	if [[ -n $HAS_FILTER ]]; then
		r=$(ratio "${T[o-blobless]}" "${T[b-blobless]}")
		rb_mb=$(ratio "${MB[o-blobless]}" "${MB[b-blobless]}")
		verdict "$(all "$(fig_ok o-blobless && echo 1)" "$(le "$r" 1.25)" "$(le "$rb_mb" 1.25)")" \
			"--filter=blob:none checkout --sync within 1.25x of the blobless bound, git log offline: ${r}x time, ${rb_mb}x bytes$(fig_ok o-blobless || echo ", WRONG: ${R[o-blobless.$REPS.ok]-see above}")"
	else
		verdict 0 "--filter=blob:none checkout --sync within 1.25x of the blobless bound: not measured, checkout --help has no --filter"
	fi
	r=$(ratio "${T[py]}" "${T[b-depth1]}")
	verdict "$(le "$r" 1.1)" "python3 sync_deps.py (defaults) within 1.1x of the depth-1 bound: ${r}x (${T[py]} s against ${T[b-depth1]} s; ${MB[py]} MB against ${MB[b-depth1]} MB)"
	r=$(ratio "${T[o-full]}" "${T[b-full]}")
	verdict "$(le "$r" 1.05)" "full checkout --sync within 1.05x of the full bound: ${r}x"
	if [[ -n $HAS_CACHE ]]; then
		r=$(awk -v a="${MB[o-cache2]}" -v b="${MB[o-cache1]}" 'BEGIN { printf "%.2f", (b > 0 ? 100 * a / b : 0) }')
		verdict "$(le "$r" 1)" "second workspace through a warm cache at most 1% of the cold bytes: ${r}% (${MB[o-cache2]} MB of ${MB[o-cache1]} MB)"
	else
		verdict 0 "second workspace through a warm cache: not measured, --help has no --cache-dir"
	fi
	verdict "$(all "$(le "${T[o-noop]}" 0.1)" "$(le "${C[o-noop]}" 0)")" "no-op sync at most 0.1 s and no connection: ${T[o-noop]} s, ${C[o-noop]} connections"
	local max=0
	for fig in "${FIGS[@]}"; do
		[[ $fig != o-* ]] || max=$(awk -v a="$max" -v b="${RSS[$fig]}" 'BEGIN { print (b > a ? b : a) }')
	done
	verdict "$(le "$max" 50)" "the tool's own peak RSS at most 50 MB: ${max} MB (largest over its runs)"
	for fig in "${FIGS[@]}"; do
		fig_ok "$fig" || printf 'WRONG %s: %s\n' "${LABEL[$fig]}" "${R[$fig.$REPS.ok]:-an earlier repetition (see above)}"
	done
	[[ -z $WORK ]] || printf '\nlogs and counters: %s\n' "$W"
}

if [[ -n $REAL ]]; then
	rs_main
	exit 0
fi

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

setup_scratch

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
