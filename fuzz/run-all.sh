#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 600), one after the other,
# from the seeds, the test data and the kept corpus; a crash is written to
# fuzz/artifacts/TARGET/ and fuzzing goes on (fork mode). Keep each crash
# as a regression input in testdata/fuzz/TARGET/ once it is fixed.
# Needs cargo-fuzz; on a stable toolchain it runs with RUSTC_BOOTSTRAP=1.
# Usage: fuzz/run-all.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
export RUSTC_BOOTSTRAP=1
mkdir -p corpus/pinfile corpus/registry
common=(-fork=1 -ignore_crashes=1 -timeout=10 -max_total_time="$secs" -print_final_stats=1)
cargo fuzz run pinfile corpus/pinfile ../testdata/pinfiles ../testdata/pinfiles/bad \
	../testdata/hostile/pinfiles ../testdata/fuzz/pinfile \
	-- -dict=pinfile.dict -max_len=8192 "${common[@]}"
cargo fuzz run registry corpus/registry seeds/registry ../testdata/hostile/registries \
	../testdata/fuzz/registry \
	-- -dict=registry.dict -max_len=4096 "${common[@]}"
