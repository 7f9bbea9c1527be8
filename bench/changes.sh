#!/usr/bin/env bash
# changes.sh -- control plane under load, through the real daemon: changes/s, visibility latency, worker replies/s with and without a change storm
#
#   bench/changes.sh [BUILD_DIR]      (root: namespaces; about 90 s)
#
# 1. bench-changes (in process): single-record and batched commits per
#    second, committed and published; acknowledgement -> published p50/p99.
# 2. ddiplane in a namespace (tests/integration/lib.sh), one worker:
#    a. visibility: 1000 record-replace over the control socket, one per
#       millisecond at most; after each acknowledgement, UDP queries until a
#       worker answers the new address: p50/p99 of ack -> answer and of
#       request -> answer.
#    b. dnsperf 10 s without changes, then 10 s while a client commits
#       10,000 record changes per second (batches of 500 per commit):
#       replies per second and lost queries, in one run.
set -euo pipefail
BUILD=${1:-${DDI_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)/build}}
export DDI_BUILDDIR=$BUILD
. "$(dirname "$0")/../tests/integration/lib.sh"
ddi_need_root
CLI="$DDI_SRCDIR/tests/integration/control_client.py"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
SECS=${SECS:-10}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== store on: $(df -T "${BENCH_DIR:-/tmp}" | awk 'NR==2 {print $1, $2}')"

echo "== in process: bench-changes (5000 single commits, 100 x 1000-record commits, 3000 at 1000/s)"
"$BUILD/bench/bench-changes" 5000 100 1000 1000 3000

echo "== through ddiplane (net_af_packet on a veth, 1 worker)"
ddi_db_default "$DDI_TMP/db"
"$BUILD/ddictl" --db "$DDI_TMP/db" zone add storm.test. --ns ns1.storm.test. >/dev/null
ddi_ns_setup
ddi_start --db "$DDI_TMP/db" --address $S4/24 --control "$SOCK" --idle-sleep-us 50
ddi_wait_answer $S4 ddi.test 60

echo "-- visibility: 1000 changes, at most 1000/s"
ddi_cli python3 "$CLI" latency "$SOCK" $S4 1000 v.ddi.test. 0.001

printf '%s\n' 'www.ddi.test A' 'mail.ddi.test AAAA' 'ddi.test MX' 'nosuch.ddi.test A' >"$DDI_TMP/q.txt"
perf() { ddi_cli dnsperf -s $S4 -d "$DDI_TMP/q.txt" -l "$SECS" -c 8 -q 256 -t 2 2>&1 |
         awk '/Queries sent|Queries completed|Queries lost|Queries per second/'; }
# Alternate the two phases (twice) so that other load on the machine hits both alike.
for round in 1 2; do
  echo "-- round $round: dnsperf ${SECS} s, no changes"
  perf
  echo "-- round $round: dnsperf ${SECS} s during 10,000 changes/s (500 per commit)"
  python3 "$CLI" paced "$SOCK" storm.test. 10000 500 "$((SECS + 1))" >"$DDI_TMP/storm.out" &
  storm=$!
  sleep 0.5
  perf
  wait $storm
  cat "$DDI_TMP/storm.out"
done
echo "-- control counters"
"$BUILD/ddictl" -s "$SOCK" stats | grep -E '^(control|tcp):|^noerror|^nxdomain|^tx_dropped|^rx '
