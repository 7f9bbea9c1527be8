#!/usr/bin/env bash
# xfr_bad.sh -- ddiplane as a secondary refuses malformed transfers (bad framing, a message cut short, SOA mismatch, wrong or missing TSIG) and keeps its zone
#
# A fake primary (xfr_bad_primary.py, Python standard library only) runs in
# the client namespace on 198.18.0.7 and answers each AXFR with the
# scenario written in $SC: a correct TSIG-signed transfer, or one broken
# on purpose. ddiplane's zone bad.test. follows it with the key xfr.key;
# each broken transfer is forced (`ddictl zone refresh --force`) and must
# leave the zone as it was (serial 100, www -> 198.18.0.80: a broken
# transfer carries serial 101 and www -> 198.18.0.81), with the reason in
# `ddictl zone list` (last_error) and in ddiplane's log. A correct transfer
# at the end proves the fake primary and the checks can see a change.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig jq python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
P4=198.18.0.7
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
Z=bad.test.
SC="$DDI_TMP/scenario"
PLOG="$DDI_TMP/primary.log"

ddi_log "ddiplane's store: the key xfr.key and the secondary zone $Z of $P4"
ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add xfr.key. 2>/dev/null)
out=$("$CTL" --db "$DB" zone add $Z --primary $P4 --key xfr.key 2>&1)
ddi_expect_match "zone add --primary makes a secondary zone" 'secondary zone bad\.test\. added' "$out"

echo "good 100" >"$SC"
ddi_ns_setup
ddi_cli ip addr add $P4/24 dev ddi-c
# by ip netns exec, so that $! is python itself and lib.sh stops it by pid
ip netns exec "$DDI_NS_CLI" python3 "$(dirname "$0")/xfr_bad_primary.py" $P4 $Z xfr.key. "${KEY##*:}" \
  "$SC" "$PLOG" >"$DDI_TMP/primary.stderr" 2>&1 &
_DDI_PIDS+=("$!")
PRIMARY_PID=$!
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

# dig's answer lines only: a first try lost on a loaded machine prints ";; communications error"
short() { ddi_cli dig +norec +time=2 +tries=3 +short "@$S4" "$@" 2>&1 | grep -v '^;;' || true; }
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do "$@" && return 0; sleep 0.25; done
  return 1
}
zfield() {
  "$CTL" -s "$SOCK" --json zone list |
    jq -r --arg z $Z --arg f "$1" '.arguments.zones[] | select(.zone == $z) | .[$f] // empty' 2>/dev/null
}
answers() { [ "$(short www.$Z A)" = "$1" ]; }
played() { [ "$(grep -c "played $1" "$PLOG" 2>/dev/null)" -ge "$2" ]; }
failures_past() { [ "$(zfield failures)" -gt "$1" ] 2>/dev/null; }

ddi_log "the first transfer: correct, signed (serial 100)"
if wait_for 20 answers 198.18.0.80; then ddi_ok "the zone from the fake primary answers (www -> 198.18.0.80)"
else ddi_fail "the zone from the fake primary answers" "$(short www.$Z A; cat "$PLOG"; tail -20 "$DDI_LOG")"; fi
ddi_expect_match "its SOA has serial 100" ' 100 3600 3600 86400 300$' "$(short $Z SOA)"
ddi_expect "zone list: no error" "" "$(zfield last_error)"

# scenario, the reason zone list and the log must give (a regex)
cases=(
  "long_prefix|\\(malformed\\): TCP: the connection ended or stalled after 0 messages"
  "cut|\\(malformed\\): message 1 does not parse"
  "soa_mismatch|\\(soa\\): the last SOA \\(serial 102\\) differs from the first \\(serial 101\\)"
  "bad_tsig|\\(tsig\\): message 1: TSIG BADSIG"
  "unsigned|\\(tsig\\): message 1 is not signed"
)
n=0
for c in "${cases[@]}"; do
  sc=${c%%|*} why=${c#*|}
  n=$((n + 1))
  ddi_log "a broken transfer: $sc"
  f0=$(zfield failures)
  echo "$sc" >"$SC"
  "$CTL" -s "$SOCK" zone refresh $Z --force >/dev/null
  wait_for 20 played "$sc" 1 || true
  if wait_for 20 failures_past "${f0:-0}"; then ddi_ok "$sc: the refresh failed (failures $f0 -> $(zfield failures))"
  else ddi_fail "$sc: the refresh failed" "$(cat "$PLOG"; "$CTL" -s "$SOCK" --json zone list; tail -5 "$DDI_LOG")"; fi
  ddi_expect_match "$sc: zone list says why" "AXFR from $P4 refused .*($why)" "$(zfield last_error)"
  ddi_expect_match "$sc: the log says why" "bad\\.test\\.: refresh failed: AXFR from $P4 refused .*($why)" "$(cat "$DDI_LOG")"
  ddi_expect "$sc: the zone keeps its answer" 198.18.0.80 "$(short www.$Z A)"
  ddi_expect_match "$sc: the zone keeps its serial" ' 100 3600 3600 86400 300$' "$(short $Z SOA)"
  ddi_expect "$sc: zone list keeps the serial" 100 "$(zfield serial)"
done

ddi_log "a correct transfer after them is applied (the checks above can see a change)"
echo "good 102" >"$SC"
"$CTL" -s "$SOCK" zone refresh $Z --force >/dev/null
if wait_for 20 answers 198.18.0.82; then ddi_ok "serial 102 applied: www -> 198.18.0.82"
else ddi_fail "serial 102 applied" "$(short www.$Z A; cat "$PLOG"; tail -5 "$DDI_LOG")"; fi
ddi_expect "zone list: the error is cleared" "" "$(zfield last_error)"
ddi_expect "zone list: serial 102" 102 "$(zfield serial)"

ddi_alive "$PRIMARY_PID" && ddi_ok "the fake primary still runs" || ddi_fail "the fake primary still runs" "$(cat "$DDI_TMP/primary.stderr")"
ddi_alive "$DDI_PID" && ddi_ok "ddiplane still runs" || ddi_fail "ddiplane still runs"
ddi_summary
