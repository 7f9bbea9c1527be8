#!/usr/bin/env bash
# signedq.sh -- round-trip time of a TSIG-signed query over UDP (DDNS thread) beside an unsigned one (workers), kdig, median of N
#
# Usage: sudo bench/signedq.sh [N]          (default 100)
#
# ddiplane runs as in tests/integration (net_af_packet on a veth, its own
# namespace, lcores 0,1). One kdig process sends N queries in sequence
# (each waits for its answer) and prints the time of each ("in X ms",
# 0.1 ms resolution); unsigned and signed (hmac-sha256) runs alternate
# in the same ddiplane. Only answers counted: a signed one must carry a
# TSIG kdig verified (no WARNING), an unsigned one NOERROR. Not a test:
# prints a table, asserts nothing.
N=${1:-100}
. "$(cd "$(dirname "$0")" && pwd)/../tests/integration/lib.sh"
set +e
ddi_need_root
CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add bench.key. 2>/dev/null)
S4=198.18.0.1
ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --control "$DDI_TMP/ctl.sock" --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60 || exit 1

# run KIND [kdig options]: N queries in one kdig; the times of the answers that count, one a line
run() {
  local args=() i
  for ((i = 0; i < N; i++)); do args+=(www.ddi.test A); done
  ddi_cli kdig +norec +time=2 +retry=0 "@$S4" "$@" "${args[@]}" 2>&1 |
    awk '/^;; WARNING/ {bad = 1} /status: NOERROR/ {ok = 1} /TSIG PSEUDOSECTION/ {tsig = 1}
         /^;; From .* in [0-9.]+ ms/ { if (ok && !bad && (tsig || !want)) { sub(/.* in /, ""); print $1 }
                                        ok = 0; bad = 0; tsig = 0 }' want="$WANT"
}
median() { sort -n | awk '{a[NR] = $1} END { if (NR == 0) { print "-"; exit }
  print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo
echo "| query | answers counted | median RTT (ms) |"
echo "|---|---:|---:|"
for round in 1 2; do
  u=$(WANT= run); s=$(WANT=1 run -y "$KEY")
  printf '| unsigned A, workers (round %d) | %d/%d | %s |\n' "$round" "$(grep -c . <<<"$u")" "$N" "$(median <<<"$u")"
  printf '| hmac-sha256 signed A, DDNS thread (round %d) | %d/%d | %s |\n' "$round" "$(grep -c . <<<"$s")" "$N" "$(median <<<"$s")"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
