#!/usr/bin/env bash
# callgrind.sh -- instructions per query of the answer path, counted by valgrind's callgrind (no timing noise)
#
# Usage: bench/callgrind.sh [BUILD_DIR] [NAMES]      (defaults: build, 1000000)
#
# Runs bench-icount under callgrind, collecting only inside its
# icount_run_* functions (10,000 queries each, the index build is not
# counted), and prints a Markdown table of instructions per query. The
# count is the same on every run of the same binary, so two commits can be
# compared with it: a change that adds 50 instructions to the answer path
# shows as 50, whatever the machine is doing. Cache misses are not in it
# (that is what the timed benchmarks measure). The raw profile is kept in
# $BUILD_DIR/bench/callgrind.out for callgrind_annotate / kcachegrind.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
names=${2:-1000000}
exe=$build/bench/bench-icount
nq=10000

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$exe" ] || ninja -C "$build" bench/bench-icount >/dev/null
out=$build/bench/callgrind.out

valgrind --tool=callgrind --collect-atstart=no --toggle-collect='icount_run_*' \
	--callgrind-out-file="$out" "$exe" "$names" >/dev/null 2>"$out.log" ||
	{ cat "$out.log" >&2; exit 1; }

ann=$(callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null)
ir_of() {
	# inclusive Ir of a function, from the line "N (p%)  file:fn [binary]"
	awk -v fn="$1" '$0 ~ (":" fn " \\[") { gsub(",", "", $1); print $1; exit }' <<<"$ann"
}

echo "Instructions per query (callgrind, $names names, $nq queries per row, $(basename "$exe") of $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| path | query | instructions per query |"
echo "|---|---|---:|"
for k in A AAAA NXDOMAIN PTR; do
	ir=$(ir_of "icount_run_$k")
	[ -n "$ir" ] || { echo "callgrind.sh: no count for icount_run_$k" >&2; exit 1; }
	printf '| message (parse, lookup, render) | %s | %d |\n' "$k" $((ir / nq))
done
ir=$(ir_of icount_run_frame_mix)
[ -n "$ir" ] || { echo "callgrind.sh: no count for icount_run_frame_mix" >&2; exit 1; }
printf '| frame (dp_packet_process: headers, checksums, answer) | mix 60/15/15/10 | %d |\n' $((ir / nq))
while read -r fn label; do
	ir=$(ir_of "icount_run_frame_$fn")
	[ -n "$ir" ] || { echo "callgrind.sh: no count for icount_run_frame_$fn" >&2; exit 1; }
	printf '| frame, %s | mix 60/15/15/10 | %d |\n' "$label" $((ir / nq))
done <<'EOF'
cookies_none cookies on, queries without a COOKIE
cookies_client cookies on, client cookie: a server cookie made (one SipHash)
cookies_server cookies on, our valid server cookie: checked (one SipHash) and echoed
rrl_pass RRL on, every response within the rate
rrl_limited RRL on (1/s), nearly every response dropped or slipped
tkey GSS-TSIG on: each query's question checked for TKEY
EOF
echo
echo "Top functions by own instructions (all rows together):"
echo
echo '```'
callgrind_annotate --threshold=95 "$out" 2>/dev/null |
	awk '/^-+$/ { n++ ; next } n >= 3 && NF { print }' | grep -v '^ *Ir' |
	sed -e 's# [^ ]*/\.\./# #' -e 's# \[[^]]*\]$##' | awk 'NR <= 14'
echo '```'
