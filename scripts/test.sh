#!/usr/bin/env bash
# test.sh -- install what is missing, build, and run every test: unit tests
# (plain and under ASan+UBSan, the fuzz corpora replayed in both), the
# integration tests in network namespaces, and a short libFuzzer run of every
# harness (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# meson's own summary, kept for the closing line
summary() { grep -E '^(Ok|Fail|Timeout|Unexpected Pass):' "$1" | awk '{s[$1] += $2} END {
  printf "%d %d\n", s["Ok:"], s["Fail:"] + s["Timeout:"] + s["Unexpected"] }'; }

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
meson test -C build-asan --suite unit --print-errorlogs | tee "$log"
read -r ok1 bad1 < <(summary "$log")
echo "== unit and integration tests"
meson test -C build --print-errorlogs | tee "$log"
read -r ok2 bad2 < <(summary "$log")
echo "== fuzz smoke: every harness for a few seconds (scripts/fuzz.sh)"
scripts/fuzz.sh 5 | tee "$log"
read -r ok3 bad3 < <(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log")
echo "all: $((ok1 + ok2 + ok3)) passed, $((bad1 + bad2 + bad3)) failed"
