#!/usr/bin/env bash
# test.sh -- install what is missing, build, and run every test: unit tests
# (plain and under ASan+UBSan) and the integration tests in network namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
meson test -C build-asan --suite unit --print-errorlogs
echo "== unit and integration tests"
meson test -C build --print-errorlogs
