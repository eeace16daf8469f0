#!/bin/sh
# Owns the bounded fuzz run: builds the libFuzzer targets of fuzz/ with clang into build-fuzz/
# and runs each for SECONDS (default 20) on a temporary copy of its seed corpus in fuzz/corpus/.
# Fails (exit 1) when any target crashes, leaks, times out or runs out of memory; the input is
# kept as build-fuzz/crashes/<target>-crash-... (replay: build-fuzz/fuzz/<target> FILE).
# SW_FUZZ_NO_SETUP=1 skips scripts/setup.sh (packages already installed).
set -eu
cd "$(dirname "$0")/.."
budget=${1:-20}
case $budget in
  '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS]" >&2
    exit 2
    ;;
esac

[ -n "${SW_FUZZ_NO_SETUP:-}" ] || sh scripts/setup.sh
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSW_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "${JOBS:-2}"

work=$(mktemp -d "${TMPDIR:-/tmp}/sw-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir -p build-fuzz/crashes
failed=""
for src in fuzz/*_fuzz.cc; do
  t=$(basename "$src" .cc)
  mkdir "$work/$t"
  if [ -d "fuzz/corpus/$t" ]; then cp fuzz/corpus/"$t"/* "$work/$t/"; fi
  # UB aborts; leaks are errors; one input may take at most 10 s.
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/fuzz/$t" -max_total_time="$budget" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t-" "$work/$t" \
    >"$work/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
    n=$(find "$work/$t" -type f | wc -l)
    echo "fuzz: $t ok: ${runs:-?} runs in ${budget}s, ${cov:-cov: ?}, corpus $n"
  else
    echo "fuzz: $t FAILED; its log:" >&2
    grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED)|^\s+NEW_FUNC' "$work/$t.log" | tail -n 80 >&2
    failed="$failed $t"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: failed:$failed (inputs in build-fuzz/crashes/)" >&2
  exit 1
fi
echo "fuzz: all targets ran ${budget}s without a crash"
