#!/usr/bin/env bash
# crash.sh -- kill -9 of the server at random moments while acknowledged changes stream in, 20 times in a row:
# every change acknowledged (a control-socket reply, an UPDATE answered NOERROR) is in the store afterwards and
# answered by the restarted server.
#
# Each round starts ddiplane on the same store, streams record-add over the
# control socket and RFC 2136 updates with nsupdate, kills the server with
# SIGKILL a random 0.2 to 1.5 s after the first acknowledgement, and then
# reads the store directly (ddictl --db): a change that was acknowledged must
# be there, since ddiplane answers only after its LMDB transaction synced.
# Bounded: ROUNDS rounds (20), each at most ~15 s.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

ROUNDS=${ROUNDS:-20}
CTL="$DDI_BUILDDIR/ddictl"
CLI="$DDI_SRCDIR/tests/integration/control_client.py"
DB=$DDI_TMP/db
SOCK=$DDI_TMP/ctl.sock
S4=198.18.0.1
ddi_db_default "$DB"
"$CTL" --db "$DB" policy add . grant subdomain ddi.test. --source 198.18.0.0/15 >/dev/null
ddi_ns_setup

start() {
  ddi_start --db "$DB" --control "$SOCK" --address $S4/24
  ddi_wait_answer $S4 ddi.test 30
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
}

# updater PREFIX OUT: one nsupdate after another (at most 400), each name answered NOERROR appended to OUT
updater() {
  local j
  for ((j = 1; j <= 400; j++)); do
    printf 'server %s\nupdate add %s-%d.ddi.test. 60 A 198.18.2.%d\nsend\n' $S4 "$1" $j $((j % 250 + 1)) |
      ddi_cli nsupdate -t 2 >/dev/null 2>&1 || continue
    echo "$1-$j.ddi.test." >>"$2"
  done
}

total_acked=0 total_upd=0 missing=0
for ((round = 1; round <= ROUNDS; round++)); do
  start || { ddi_fail "round $round: the server starts on the store of the previous kill"; break; }
  acked=$DDI_TMP/acked-$round upd=$DDI_TMP/upd-$round
  : >"$acked"; : >"$upd"
  python3 "$CLI" acked "$SOCK" "c$round.ddi.test." "$acked" 10 &
  acker=$!
  updater "u$round" "$upd" &
  updr=$!
  for _ in $(seq 100); do   # the first acknowledgement, at most 10 s
    [ -s "$acked" ] && break
    sleep 0.1
  done
  sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.2 + 1.3 * r / 32768}')"
  kill -KILL "$DDI_PID"
  wait "$DDI_PID" 2>/dev/null || true
  kill "$updr" 2>/dev/null || true
  wait "$acker" "$updr" 2>/dev/null || true
  ip -n "$DDI_NS_SRV" link del ddi0 2>/dev/null || true
  # the updater may have been killed between NOERROR and its echo: that loses a name from
  # the list, never adds one that was not acknowledged
  "$CTL" --db "$DB" zone export ddi.test. | awk '$4 == "A" {print $1}' | sort -u >"$DDI_TMP/have"
  lost=$(sort -u "$acked" "$upd" | comm -23 - "$DDI_TMP/have")
  [ -z "$lost" ] || { missing=$((missing + $(wc -l <<<"$lost"))); echo "missing after round $round: $lost"; }
  total_acked=$((total_acked + $(wc -l <"$acked")))
  total_upd=$((total_upd + $(wc -l <"$upd")))
done

ddi_expect_match "control-socket changes were acknowledged before the kills ($total_acked)" '^[1-9][0-9]*$' "$total_acked"
ddi_expect_match "UPDATEs were answered NOERROR before the kills ($total_upd)" '^[1-9][0-9]*$' "$total_upd"
ddi_expect "every acknowledged change is in the store after $ROUNDS kill -9" "0" "$missing"

start
last_c=$(tail -n 1 "$DDI_TMP/acked-$ROUNDS")
ddi_expect_match "the last round's last acknowledged change is answered after restart" '^198\.18\.1\.' \
  "$(ddi_cli dig +short +time=2 +tries=2 @$S4 "$last_c" A)"
last_u=$(cat "$DDI_TMP"/upd-* | tail -n 1)
ddi_expect_match "an update acknowledged before a kill is answered after restart" '^198\.18\.2\.' \
  "$(ddi_cli dig +short +time=2 +tries=2 @$S4 "$last_u" A)"
ddi_stop
ddi_summary
