#!/usr/bin/env bash
# fuzz.sh -- build the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) and run each for SECONDS
#
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
#   SECONDS    how long each harness runs (default 60); the test suite runs 5
#   HARNESS    zonefile answer frame csv ctl update records xfrin xfrout catalog http lease signedq query (default: all)
#
# Each harness starts from its seed corpus (tests/fuzz/corpus/NAME, never
# written) and keeps what it finds in build-fuzz/corpus/NAME, so a second run
# goes on from there. A crash stops with the harness's report and the input
# that caused it (build-fuzz/crash-NAME-*); copy that input into
# tests/fuzz/corpus/NAME once fixed, so the suite replays it for ever.
# Prints one line per harness: executions, executions per second, coverage
# (libFuzzer's cov: edges and ft: features) and the corpus size, then a
# closing "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
ALL=(zonefile answer frame csv ctl update records xfrin xfrout catalog http lease signedq query)
HARNESSES=("${@:-${ALL[@]}}")
case $SECS in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$SECS'" >&2; exit 2 ;; esac

scripts/deps.sh
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dwerror=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C build-fuzz $(printf 'tests/fuzz/fuzz-%s ' "${HARNESSES[@]}") >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pass=0 fail=0
for h in "${HARNESSES[@]}"; do
  work=build-fuzz/corpus/$h
  mkdir -p "$work"
  log=build-fuzz/fuzz-$h.log
  # -max_len: a DNS message over UDP or a frame is small; CSV, zone and JSON texts get more
  case $h in zonefile|csv|ctl) maxlen=8192 ;; *) maxlen=2048 ;; esac
  if build-fuzz/tests/fuzz/fuzz-"$h" "$work" "tests/fuzz/corpus/$h" -max_total_time="$SECS" \
      -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/crash-$h-" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
    printf 'fuzz-%-9s ok    %10s execs %8s/s  %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-}"
    pass=$((pass + 1))
  else
    printf 'fuzz-%-9s FAILED (see %s)\n' "$h" "$log"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
    fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
