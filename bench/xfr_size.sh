#!/usr/bin/env bash
# xfr_size.sh -- AXFR of a large zone (bytes, time, the transfer server's peak RSS growth) and IXFR size for one change
#
#   sudo bench/xfr_size.sh [RECORDS]     (default 1000000)
#   sudo DDI_BUILDDIR_BEFORE=/path/to/build bench/xfr_size.sh 1000000
#   SERIES=5: first, per build, 5 AXFRs in a row from one process (time, retransmissions)
#
# ddiplane in a namespace (tests/integration/lib.sh), dig in the client
# namespace. A zone big.test. of RECORDS A records is imported (bench/zone-load);
# then, for each ddiplane build (DDI_BUILDDIR_BEFORE first when given, then
# DDI_BUILDDIR; same store, alternating, REPS rounds), one AXFR each from
# a freshly started ddiplane (a process's heap keeps what it once grew to):
#   bytes      dig's "XFR size" (DNS payload, without TCP length prefixes)
#   time       wall time of dig (connect to the last message read)
#   peak RSS   growth of ddiplane's peak resident set during the AXFR:
#              /proc/PID/clear_refs reset to the current RSS before it
#              (echo 5), VmHWM after it, minus VmRSS before it
# Only AXFRs that returned the whole zone (RECORDS + 4 records: SOA, NS, glue A, SOA) count.
# Last, with DDI_BUILDDIR: one `ddictl record add` and IXFR from the old
# serial (bytes versus the AXFR). Then a client that stops reading mid-AXFR,
# and a TCP query meanwhile (after, then before when given).
. "$(dirname "$0")/../tests/integration/lib.sh"
ddi_need_root
N=${1:-1000000}
REPS=${REPS:-3}
CTL="$DDI_BUILDDIR/ddictl"
DB="$DDI_TMP/db"
SOCK="$DDI_TMP/ctl.sock"
mkdir -p "$DB"
{
  printf '$ORIGIN big.test.\n$TTL 3600\n@ IN SOA ns1.big.test. hostmaster.big.test. 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 198.19.0.1\n'
  python3 -c "
for i in range($N):
    print('h%07d IN A 198.19.%d.%d' % (i, (i // 250) % 256, i % 250 + 1))"
} >"$DDI_TMP/big.zone"
t0=$(date +%s)
# ddictl's import goes through a control request (16 MiB at most): bench/zone-load for any size
"$DDI_BUILDDIR/bench/zone-load" "$DB" big.test. "$DDI_TMP/big.zone"
echo "import of $N records: $(($(date +%s) - t0)) s"
"$CTL" --db "$DB" zone acl big.test. --transfer 198.18.0.0/24 >/dev/null
ddi_ns_setup
echo "machine: $(nproc) vCPU, load average $(cut -d' ' -f1-3 /proc/loadavg)"

kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$DDI_PID/status"; }

# One AXFR from a freshly started ddiplane of build $1 (label $2, run $3), then stopped.
axfr_run() {
  local bdir=$1 label=$2 r=$3 rss0 hwm t1 t2 out size recs
  DDI_BUILDDIR=$bdir ddi_start --db "$DB" --address 198.18.0.1/24 --control "$SOCK" --idle-sleep-us 20
  ddi_wait_answer 198.18.0.1 big.test 300 || return 1
  rss0=$(kb VmRSS)
  echo 5 >"/proc/$DDI_PID/clear_refs"
  t1=$(date +%s%N)
  out=$(ddi_cli dig +time=60 +tries=1 @198.18.0.1 big.test AXFR +noall +stats 2>&1)
  t2=$(date +%s%N)
  hwm=$(kb VmHWM)
  size=$(sed -n 's/.*XFR size: \([0-9]*\) records (messages \([0-9]*\), bytes \([0-9]*\)).*/\1 \2 \3/p' <<<"$out")
  recs=${size%% *}
  if [ "$recs" != "$((N + 4))" ]; then
    echo "| $label | $r | failed: $(tr '\n' ' ' <<<"$out") | | |"
  else
    printf '| %s | %d | %s records, %s messages, %s bytes | %d ms | %d KiB | %d KiB |\n' "$label" "$r" \
      "$recs" "$(cut -d' ' -f2 <<<"$size")" "$(cut -d' ' -f3 <<<"$size")" \
      $(((t2 - t1) / 1000000)) "$rss0" $((hwm - rss0))
  fi
  [ "$label" = after ] && [ "$r" = "$REPS" ] && return 0   # the last one serves the IXFR below
  ddi_stop
}

# SERIES consecutive AXFRs from one ddiplane of build $1 (label $2): time and the
# server namespace's TCP retransmissions (nstat), which explain outliers on a loaded machine.
axfr_series() {
  local bdir=$1 label=$2 i t1 t2 out
  DDI_BUILDDIR=$bdir ddi_start --db "$DB" --address 198.18.0.1/24 --control "$SOCK" --idle-sleep-us 20
  ddi_wait_answer 198.18.0.1 big.test 300 || return 1
  for ((i = 1; i <= SERIES; i++)); do
    ddi_srv nstat -n >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    out=$(ddi_cli dig +time=60 +tries=1 @198.18.0.1 big.test AXFR +noall +stats 2>&1 | grep -o 'XFR size: [0-9]* records') || true
    t2=$(date +%s%N)
    printf '| %s | %d | %s | %d ms | %s | %s |\n' "$label" "$i" "${out#XFR size: }" $(((t2 - t1) / 1000000)) \
      "$(ddi_srv nstat -z TcpRetransSegs 2>/dev/null | awk '/TcpRetransSegs/ {print $2}')" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  ddi_stop
}
SERIES=${SERIES:-0}
if [ "$SERIES" -gt 0 ]; then
  echo "| build | AXFR in a row | records | time | server TCP retransmissions | load |"
  echo "|---|---:|---|---:|---:|---:|"
  [ -n "${DDI_BUILDDIR_BEFORE:-}" ] && axfr_series "$DDI_BUILDDIR_BEFORE" before
  axfr_series "$DDI_BUILDDIR" after
fi

echo "| build | run | AXFR (dig) | time | ddiplane RSS before | peak RSS growth |"
echo "|---|---:|---|---:|---:|---:|"
for ((r = 1; r <= REPS; r++)); do
  [ -n "${DDI_BUILDDIR_BEFORE:-}" ] && axfr_run "$DDI_BUILDDIR_BEFORE" before $r
  axfr_run "$DDI_BUILDDIR" after $r
done
echo "load average after the AXFRs: $(cut -d' ' -f1-3 /proc/loadavg)"

S0=$(ddi_cli dig +short @198.18.0.1 big.test SOA | awk '{print $3}')
"$CTL" -s "$SOCK" record add new1.big.test. 3600 A 198.19.255.254 >/dev/null
echo "IXFR=$S0 after one record add:"
ddi_cli dig @198.18.0.1 big.test IXFR=$S0 +noall +stats | grep -E 'XFR size|Query time'
ddi_cli dig @198.18.0.1 big.test IXFR=$S0 +noall +answer

# A reader that stops mid-AXFR: a client asks for the AXFR with a 4 KiB
# receive buffer and then stops reading; the transfer waits for it until
# --tcp-idle-timeout (default 10 s) has passed. Before the transfer threads
# (control/tcp/tcp.h) that wait held the TCP server's only thread, so a TCP
# query sent meanwhile waited too; now only the transfer waits. UDP never did.
# Measured on the running (after) server, then, with DDI_BUILDDIR_BEFORE, on
# a before server started on the same store.
stall_run() {
  local label=$1 ab0 ab1 t1 t2 a
  echo "a reader that stops mid-AXFR ($label build, default --tcp-idle-timeout 10):"
  ab0=$("$CTL" -s "$SOCK" --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['xfr']['aborted'])")
  ddi_cli python3 - <<'PY' &
import socket, struct, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("198.18.0.1", 53))
q = struct.pack("!6H", 7, 0, 1, 0, 0, 0) + b"\x03big\x04test\x00" + struct.pack("!HH", 252, 1)
s.sendall(struct.pack("!H", len(q)) + q)
s.recv(100)
time.sleep(15)
PY
  STALLER=$!
  sleep 1
  t1=$(date +%s%N); a=$(ddi_cli dig +tcp +time=20 +tries=1 +short @198.18.0.1 big.test SOA 2>&1); t2=$(date +%s%N)
  echo "  TCP SOA query 1 s into the stall: $(((t2 - t1) / 1000000)) ms (answer: ${a:0:30})"
  t1=$(date +%s%N); a=$(ddi_cli dig +time=5 +tries=1 +short @198.18.0.1 big.test SOA 2>&1); t2=$(date +%s%N)
  echo "  UDP SOA query after it: $(((t2 - t1) / 1000000)) ms"
  wait "$STALLER" 2>/dev/null || true
  ab1=$("$CTL" -s "$SOCK" --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['xfr']['aborted'])")
  echo "  transfers aborted (xfr counter): $ab0 -> $ab1"
}
stall_run after
if [ -n "${DDI_BUILDDIR_BEFORE:-}" ]; then
  ddi_stop
  DDI_BUILDDIR=$DDI_BUILDDIR_BEFORE ddi_start --db "$DB" --address 198.18.0.1/24 --control "$SOCK" --idle-sleep-us 20
  ddi_wait_answer 198.18.0.1 big.test 300
  stall_run before
fi
