#!/usr/bin/env bash
# config.sh -- the configuration file: settings from the file, flags override it, a broken file refused with its
# line; a setting changed and reloaded (ddictl reload and SIGHUP) without a restart while queries are answered
# throughout; what needs a restart is said.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
SOCK=$DDI_TMP/ctl.sock
CONF=$DDI_TMP/ddiplane.conf
S4=198.18.0.1
ddi_db_default "$DB"
ddi_ns_setup

ddi_log "a broken file is refused with its line, and ddiplane does not start"
cat >"$CONF" <<EOF
# ddiplane test configuration
db $DB
address $S4/24

udp-size 99999
EOF
out=$(ip netns exec "$DDI_NS_SRV" "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge -m 256 --no-shconf --no-pci \
      --file-prefix ddic$DDI_ID --vdev net_null0 -- --config "$CONF" 2>&1) && ddi_fail "a broken file is refused" "$out" ||
  ddi_expect_match "a broken file is refused: file, line, reason" "^ddiplane: $CONF:5: --udp-size must be 512\\.\\." "$out"
printf 'db %s\naddress %s/24\nno-such-setting 1\n' "$DB" $S4 >"$CONF"
out=$(ip netns exec "$DDI_NS_SRV" "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge -m 256 --no-shconf --no-pci \
      --file-prefix ddic$DDI_ID --vdev net_null0 -- --config "$CONF" 2>&1) && ddi_fail "an unknown setting is refused" "$out" ||
  ddi_expect_match "an unknown setting is refused with its line" "^ddiplane: $CONF:3: unknown setting 'no-such-setting'" "$out"

ddi_log "settings from the file; a flag overrides the file"
cat >"$CONF" <<EOF
# ddiplane test configuration: every long option is a setting
db $DB
control $SOCK
address $S4/24     # the service address
address 198.18.0.9/24
nsid from-the-file
log stderr
access $DDI_TMP/access
rrl-rate 1000
EOF
# the file's access rules: root admin, everyone else (nobody) read-only
printf 'uid:0 admin\n* read-only\n' >"$DDI_TMP/access"
nb() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" "$@"; }
ddi_start --config "$CONF" --address $S4/24
ddi_wait_answer $S4 ddi.test 30
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
chmod 0711 "$DDI_TMP"; chmod 0666 "$SOCK"
ddi_expect_match "the file's nsid is served" 'from-the-file' "$(ddi_cli dig +nsid +time=2 +tries=2 @$S4 ddi.test SOA)"
ddi_expect "the flag's address list replaced the file's (198.18.0.9 not served)" "" \
  "$(ddi_cli dig +short +time=1 +tries=1 @198.18.0.9 ddi.test SOA 2>/dev/null | grep -v '^;' || true)"
out=$(nb record add before.ddi.test. 60 A 198.18.0.81 2>&1) &&
  ddi_fail "the file's access rule is in force (nobody read-only)" "$out" ||
  ddi_expect_match "the file's access rule is in force (nobody read-only)" 'access denied' "$out"

ddi_log "change the access rule and reload, with queries answered throughout"
( ok=0 bad=0
  for ((i = 0; i < 40; i++)); do
    if [ "$(ddi_cli dig +short +time=1 +tries=1 @$S4 www.ddi.test A)" = 198.18.0.10 ]; then
      ok=$((ok + 1)); else bad=$((bad + 1)); fi
    sleep 0.05
  done
  echo "$ok $bad" >"$DDI_TMP/during" ) &
during=$!
printf 'uid:0 admin\nuid:65534 admin\n* read-only\n' >"$DDI_TMP/access"
echo "tcp-max-clients 100" >>"$CONF"
out=$("$CTL" -s "$SOCK" reload 2>&1) || true
ddi_expect_match "reload: done" '^configuration reloaded' "$out"
ddi_expect_match "reload: says what needs a restart" '^restart needed: tcp-max-clients$' "$out"
out=$(nb record add after.ddi.test. 60 A 198.18.0.82 2>&1) || true
ddi_expect_match "the new access rule is in force without a restart (nobody admin)" '^added after\.ddi\.test\.' "$out"
ddi_expect "and the change is answered" "198.18.0.82" "$(ddi_cli dig +short +time=2 +tries=2 @$S4 after.ddi.test A)"
wait $during
ddi_expect "queries answered throughout the reload (40 of 40)" "40 0" "$(cat "$DDI_TMP/during")"
ddi_expect "the server was not restarted" "$DDI_PID" "$(pgrep -f "ddiplane.*--config $CONF" | head -1)"

ddi_log "a running rate limiter takes a new rate at reload"
sed -i 's/^rrl-rate 1000$/rrl-rate 500/' "$CONF"
out=$("$CTL" -s "$SOCK" --json reload | tr -d ' \n')
ddi_expect_match "reload: the rate limiter's new rate is applied live" '"reloaded":\["log","access","rrl-rate/rrl-slip"\]' "$out"
ddi_expect_match "reload: and is not among what needs a restart" '"restart_needed":\["tcp-max-clients"\]' "$out"

ddi_log "a broken file at reload is refused and changes nothing; SIGHUP reloads too"
echo "rrl-slip lots" >>"$CONF"
out=$("$CTL" -s "$SOCK" reload 2>&1) && ddi_fail "a broken file at reload is refused" "$out" ||
  ddi_expect_match "a broken file at reload is refused with its line" "reload refused, nothing changed: .*$CONF:[0-9]+: --rrl-slip must be" "$out"
sed -i '/rrl-slip lots/d' "$CONF"
printf 'uid:0 admin\n* read-only\n' >"$DDI_TMP/access"
nrel=$(grep -c 'configuration reloaded' "$DDI_LOG" || true)
kill -HUP "$DDI_PID"
for _ in $(seq 30); do [ "$(grep -c 'configuration reloaded' "$DDI_LOG" || true)" -gt "$nrel" ] && break; sleep 0.1; done
ddi_expect "SIGHUP: one more reload logged" "$((nrel + 1))" "$(grep -c 'configuration reloaded' "$DDI_LOG" || true)"
out=$(nb record add hup.ddi.test. 60 A 198.18.0.83 2>&1) &&
  ddi_fail "after SIGHUP the read-only rule is back" "$out" ||
  ddi_expect_match "after SIGHUP the read-only rule is back" 'access denied' "$out"
ddi_expect "the server still answers" "198.18.0.10" "$(ddi_cli dig +short +time=2 +tries=2 @$S4 www.ddi.test A)"
ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_summary
