#!/usr/bin/env bash
# tcpupd.sh -- an UPDATE over TCP does not hold the TCP query loop: queries answered while its commit waits, answers in order per connection, a connection closed with its UPDATE in flight harms nothing
#
# The commit is made slow on purpose from outside the daemon: the store's
# LMDB write lock is held by another process for HOLD seconds
# (tests/tools/lmdbhold, as a `ddictl --db` import or a backup would), so
# every UPDATE committed meanwhile waits in the DDNS thread. During the hold:
#   - a big TSIG-signed UPDATE over TCP (1,000 TXT records) is in flight
#     (updates_in_flight in "ddictl stats" >= 1);
#   - on another connection, an UPDATE and a query pipelined in one write;
#   - on a third, a big UPDATE whose connection is reset at once;
#   - dig +tcp queries, each on its own connection, are answered with the
#     right data within QBOUND_MS each, far below the hold.
# After it: the big UPDATE is answered NOERROR after the hold (so it was in
# flight while the queries were answered) and applied, the pipelined pair
# came in order (UPDATE's answer first, then the query's), the abandoned
# UPDATE is applied too and its answer counted as discarded, nothing is in
# flight, and TCP and UDP are still served. The figures go to bench/RESULTS.md.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
HOLD_BIN="$DDI_BUILDDIR/tests/tools/lmdbhold"
for b in "$DDI_BUILDDIR/ddiplane" "$DDI_BUILDDIR/ddictl" "$HOLD_BIN"; do
  [ -x "$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
DB="$DDI_TMP/db"
SOCK="$DDI_TMP/ctl.sock"
S4=198.18.0.1
HOLD=8                # seconds the store's write lock is held
QBOUND_MS=1000        # a TCP query's bound during the hold (dig's start-up included)
N=1000                # TXT records of the big UPDATEs
CLIENT=(python3 "$DDI_SRCDIR/tests/integration/tcpupd_client.py")

ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add up.key. 2>/dev/null)
"$CTL" --db "$DB" policy add up.key. grant subdomain dyn.ddi.test. TXT >/dev/null

ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --metrics 127.0.0.1:9153 --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

tcpstat() {
  "$CTL" -s "$SOCK" --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['tcp'].get('$1', 'absent'))"
}
txt() { ddi_cli dig +tcp +time=2 +tries=1 +short "@$S4" "$1" TXT 2>&1; }

ddi_expect "TCP before the hold" 198.18.0.10 "$(ddi_cli dig +tcp +time=2 +tries=1 +short @$S4 www.ddi.test A 2>&1)"
ddi_expect "UPDATE over TCP without a hold: NOERROR" "rcode=NOERROR" \
  "$(ddi_cli "${CLIENT[@]}" big $S4 "$KEY" ddi.test. w.dyn.ddi.test. 10 | sed 's/ at=.*//')"
ddi_expect "it applied" '"ok"' "$(txt h9.w.dyn.ddi.test)"

ddi_log "hold the store's write lock for ${HOLD}s"
ddi_hold_store "$DB" "$HOLD" "$DDI_TMP/hold.out"
ddi_expect_match "lmdbhold holds the write lock" '^holding ' "$(cat "$DDI_TMP/hold.out")"

ddi_cli "${CLIENT[@]}" big $S4 "$KEY" ddi.test. a.dyn.ddi.test. $N >"$DDI_TMP/big.out" 2>&1 &
BIG_PID=$!
_DDI_PIDS+=("$BIG_PID")
ddi_cli "${CLIENT[@]}" pipeline $S4 "$KEY" ddi.test. pp.dyn.ddi.test. www.ddi.test. >"$DDI_TMP/pipe.out" 2>&1 &
PIPE_PID=$!
_DDI_PIDS+=("$PIPE_PID")
ddi_cli "${CLIENT[@]}" abandon $S4 "$KEY" ddi.test. c.dyn.ddi.test. $N >"$DDI_TMP/abandon.out" 2>&1 &
AB_PID=$!
_DDI_PIDS+=("$AB_PID")
for ((i = 0; i < 20; i++)); do      # the clients' start-up, on a loaded machine
  inflight=$(tcpstat updates_in_flight)
  [ "$inflight" = 3 ] && break
  sleep 0.1
done
ddi_expect "updates in flight during the hold: the 3 sent" 3 "$inflight"

ddi_log "dig +tcp during the hold, one connection each"
worst=0 ok=0 times=""
for ((i = 0; i < 8; i++)); do
  t0=$(date +%s%N)
  a=$(ddi_cli dig +tcp +time=8 +tries=1 +short @$S4 www.ddi.test A 2>&1)
  ms=$((($(date +%s%N) - t0) / 1000000))
  times="$times $ms"
  [ "$a" = 198.18.0.10 ] && ok=$((ok + 1))
  [ $ms -gt $worst ] && worst=$ms
  sleep 0.1
done
held=$(grep -c '^released' "$DDI_TMP/hold.out" || true)
echo "dig +tcp times during the hold (ms):$times; worst $worst; hold released before the last: $held"
ddi_expect "every TCP query during the hold answered right" 8 "$ok"
if [ "$worst" -lt $QBOUND_MS ]; then ddi_ok "TCP queries during the hold within ${QBOUND_MS} ms (worst $worst ms)"
else ddi_fail "TCP queries during the hold within ${QBOUND_MS} ms (worst $worst ms)"; fi
ddi_expect "the hold lasted past the queries" 0 "$held"

wait "$HOLD_PID" "$BIG_PID" "$PIPE_PID" "$AB_PID" 2>/dev/null || true
big=$(cat "$DDI_TMP/big.out")
echo "big UPDATE over TCP: $big"
ddi_expect_match "the big UPDATE over TCP: NOERROR" '^rcode=NOERROR ' "$big"
bat=$(sed -n 's/.* at=\([0-9.]*\) .*/\1/p' <<<"$big")
rel=$(sed -n 's/^released //p' "$DDI_TMP/hold.out")
if python3 -c "import sys; sys.exit(not float('$bat') >= float('$rel'))" 2>/dev/null; then
  ddi_ok "its answer came after the hold's end: it was in flight during the queries"
else ddi_fail "its answer came after the hold's end: it was in flight during the queries" "answer at $bat, released at $rel"; fi
ddi_expect "the big UPDATE applied (first record)" '"ok"' "$(txt h0.a.dyn.ddi.test)"
ddi_expect "the big UPDATE applied (last record)" '"ok"' "$(txt h$((N - 1)).a.dyn.ddi.test)"
ddi_expect "pipelined UPDATE + query: answers in order" "first=update:NOERROR second=query:NOERROR" \
  "$(cat "$DDI_TMP/pipe.out")"
ddi_expect "the pipelined UPDATE applied" '"ok"' "$(txt pp.dyn.ddi.test)"
ddi_expect "the abandoned UPDATE was sent" sent "$(cat "$DDI_TMP/abandon.out")"
ddi_expect "the abandoned UPDATE applied all the same" '"ok"' "$(txt h$((N - 1)).c.dyn.ddi.test)"
ddi_expect "its answer discarded, counted" 1 "$(tcpstat updates_discarded)"
ddi_expect "nothing in flight after" 0 "$(tcpstat updates_in_flight)"
m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)
ddi_expect_match "metrics: updates in flight (gauge)" '^ddiplane_tcp_updates_in_flight 0$' \
  "$(grep '^ddiplane_tcp_updates_in_flight' <<<"$m")"
ddi_expect_match "metrics: updates discarded" '^ddiplane_tcp_updates_discarded_total 1$' \
  "$(grep '^ddiplane_tcp_updates_discarded_total' <<<"$m")"
ddi_expect "TCP still served" 198.18.0.10 "$(ddi_cli dig +tcp +time=2 +tries=1 +short @$S4 www.ddi.test A 2>&1)"
ddi_expect "UDP still served" 198.18.0.10 "$(ddi_cli dig +time=2 +tries=1 +short @$S4 www.ddi.test A 2>&1)"
ddi_alive "$DDI_PID" && ddi_ok "ddiplane still runs" || ddi_fail "ddiplane still runs"

ddi_stop
ddi_expect "ddiplane exits cleanly" 0 "$DDI_EXIT"
if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$DDI_LOG"; then
  ddi_fail "no sanitizer report in the log" "$(grep -m3 'AddressSanitizer\|runtime error' "$DDI_LOG")"
fi
ddi_summary
