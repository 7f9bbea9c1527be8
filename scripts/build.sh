#!/usr/bin/env bash
# build.sh -- configure and build ddiplane in build/ (and, with --asan, build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/deps.sh"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build
if [ "${1:-}" = "--asan" ]; then
  [ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  ninja -C build-asan
fi
