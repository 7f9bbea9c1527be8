#!/usr/bin/env bash
# control.sh -- the control plane end to end: ddictl -s changes answered by the running dataplane, ddictl --db picked up, roles, bad JSON, metrics, consistency under a change storm with dnsperf, kill -9
#
# ddiplane runs in its own namespace (lib.sh); the control socket is a file
# in the test's directory, reached from the host namespace; /metrics listens
# on the server namespace's loopback.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig dnsperf python3 curl setpriv; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

CLI="$DDI_SRCDIR/tests/integration/control_client.py"
CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"

ddi_log "database, namespaces, ddiplane with --control and --metrics"
ddi_db_default "$DB"
ddi_ns_setup
chmod 755 "$DDI_TMP"
start() {
  ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --metrics 127.0.0.1:9153 --idle-sleep-us 20 "$@"
  ddi_wait_answer $S4 ddi.test 60
}
start

D() { ddi_cli dig +norec +time=1 +tries=2 "$@" 2>&1; }
short() { D +short "$@" | sort; }
c() { "$CTL" -s "$SOCK" "$@"; }

ddi_log "status and stats over the socket"
out=$(c status)
ddi_expect_match "status: version" '^version +0\.' "$out"
ddi_expect_match "status: one worker" '^workers +1$' "$out"
ddi_expect_match "status: generation" '^generation +[0-9]+$' "$out"
out=$(c --json status)
ddi_expect_match "status --json: result 0" '"result": 0' "$out"

ddi_log "a record added with ddictl -s is answered at once, a removed one is not"
out=$(c record add new.ddi.test. 300 A 198.18.0.77)
ddi_expect_match "record add acknowledged after publish" '^added new\.ddi\.test\. A \(journal seq [0-9]+, published\)$' "$out"
# the reply waited for the version to be published: no wait needed here
ddi_expect "new record answered right after the reply" "198.18.0.77" "$(short @$S4 new.ddi.test A)"
ddi_expect "PTR of the new address (address index)" "new.ddi.test." "$(short @$S4 -x 198.18.0.77)"
c record add new.ddi.test. 300 TXT "hello world" >/dev/null
ddi_expect "TXT with a space, one string" '"hello world"' "$(short @$S4 new.ddi.test TXT)"
c record replace new.ddi.test. 300 A 198.18.0.78 --rdata 198.18.0.79 >/dev/null
ddi_expect "record replace: both new addresses" "198.18.0.78
198.18.0.79" "$(short @$S4 new.ddi.test A)"
ddi_expect "record get" "new.ddi.test. 300 IN A 198.18.0.78
new.ddi.test. 300 IN A 198.18.0.79" "$(c record get new.ddi.test. A)"
c record delete new.ddi.test. >/dev/null
ddi_expect_match "deleted name: NXDOMAIN at once" 'status: NXDOMAIN' "$(D @$S4 new.ddi.test A)"
if c record get new.ddi.test. >/dev/null 2>&1; then ddi_fail "record get of a deleted name fails"; else ddi_ok "record get of a deleted name fails"; fi
out=$(c record add outside.example. 60 A 198.18.0.1 2>&1) && ddi_fail "record outside every zone refused" "$out" || \
  ddi_expect_match "record outside every zone refused, with the reason" 'outside|no zone' "$out"
c record add cname.ddi.test. 60 CNAME www.ddi.test. >/dev/null
out=$(c record add cname.ddi.test. 60 A 198.18.0.5 2>&1) && \
  ddi_fail "CNAME beside other data refused" "$out" || ddi_expect_match "CNAME beside other data refused, with the reason" 'CNAME' "$out"
ddi_expect "the CNAME alone is served" "www.ddi.test." "$(short @$S4 cname.ddi.test CNAME)"
out=$(c record add ttl.ddi.test. 4294967295 A 198.18.0.5 2>&1) && ddi_fail "TTL bound" "$out" || ddi_expect_match "TTL above 2^31-1 refused" 'TTL|ttl' "$out"

ddi_log "zone add / import / export / remove over the socket"
c zone add ctl.test. --ns ns1.ctl.test. >/dev/null
c record add ns1.ctl.test. 60 A 198.18.0.53 >/dev/null
ddi_expect_match "new zone's SOA answered" '^ns1\.ctl\.test\. hostmaster\.ctl\.test\. 2 ' "$(short @$S4 ctl.test SOA)"
cat >"$DDI_TMP/ctl.zone" <<'EOF'
$ORIGIN ctl.test.
$TTL 60
@ IN SOA ns1 hostmaster 100 3600 900 604800 60
  IN NS ns1
ns1 IN A 198.18.0.53
a IN A 198.18.0.54
EOF
c zone import ctl.test. "$DDI_TMP/ctl.zone" >/dev/null
ddi_expect "imported zone answered" "198.18.0.54" "$(short @$S4 a.ctl.test A)"
ddi_expect_match "import replaced the zone: serial 100" ' 100 3600 900 604800 60$' "$(short @$S4 ctl.test SOA)"
ddi_expect_match "export" '^a\.ctl\.test\. 60 IN A 198\.18\.0\.54$' "$(c zone export ctl.test.)"
printf '$ORIGIN ctl.test.\n@ 60 IN SOA ns1 hostmaster 101 1 1 1 1\n@ 60 IN NS ns1\nns1 60 IN A 198.18.0.53\n' >"$DDI_TMP/ctl2.zone"
c zone import ctl.test. "$DDI_TMP/ctl2.zone" >/dev/null
ddi_expect_match "names gone from an imported zone are gone from the index" 'status: NXDOMAIN' "$(D @$S4 a.ctl.test A)"
c zone remove ctl.test. >/dev/null
ddi_expect_match "removed zone: REFUSED" 'status: REFUSED' "$(D @$S4 ctl.test SOA)"

ddi_log "ddictl --db from another process while the server runs"
"$CTL" --db "$DB" record add dbhost.ddi.test. 60 A 198.18.0.88 >/dev/null
got=
for ((i = 0; i < 40; i++)); do got=$(short @$S4 dbhost.ddi.test A); [ -n "$got" ] && break; sleep 0.05; done
ddi_expect "change by ddictl --db picked up (bounded wait 2 s)" "198.18.0.88" "$got"

ddi_log "journal: who changed what"
out=$(c journal --name dbhost.ddi.test.)
ddi_expect_match "journal --name: the --db change, with its actor" "unix:$(id -un)" "$out"
ddi_expect_match "journal --name: rr-add op" 'rr-add +ddi\.test\. +dbhost\.ddi\.test\.' "$out"
n=$(c --json journal --zone ctl.test. | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["arguments"]["entries"]))')
ddi_expect "journal --zone ctl.test.: zone add, record, 2 imports, remove" "5" "$n"

ddi_log "access: a read-only peer may read but not change"
chmod 0666 "$SOCK"
ro() { setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$SOCK" "$@"; }
ddi_expect_match "read-only peer: status works" '^version' "$(ro status 2>&1)"
out=$(ro record add ro.ddi.test. 60 A 198.18.0.9 2>&1) && ddi_fail "read-only peer refused" "$out" || \
  ddi_expect_match "read-only peer's change refused with the reason" 'access denied.*admin.*(uid:65534|unix:nobody)' "$out"
ddi_expect_match "nothing was added" 'status: NXDOMAIN' "$(D @$S4 ro.ddi.test A)"

ddi_log "protocol: bad JSON, unknown command, oversize, clients that go away"
out=$(python3 "$CLI" send "$SOCK" '{"command": "status",, }')
ddi_expect_match "malformed JSON: result 1 with the parser's reason" '"result": 1, "text": "malformed JSON request: .*line 1' "$out"
out=$(python3 "$CLI" send "$SOCK" '{"command": "no-such"}')
ddi_expect_match "unknown command: result 2" '"result": 2' "$out"
out=$(python3 "$CLI" send "$SOCK" '[1,2]')
ddi_expect_match "not an object: result 1" '"result": 1, "text": "the request must be a JSON object' "$out"
out=$(python3 "$CLI" send "$SOCK" '{"command": "record-add", "arguments": {"name": "x.ddi.test."}}')
ddi_expect_match "missing argument named" '"result": 1, "text": "missing argument' "$out"
out=$(python3 "$CLI" oversize "$SOCK" 17000000)
ddi_expect_match "oversized request refused" '"result": 1, "text": "request larger than' "$out"
python3 "$CLI" partial "$SOCK" >/dev/null
python3 "$CLI" slow "$SOCK" 2 >"$DDI_TMP/slow.out" &
slow=$!
sleep 0.3
ddi_expect_match "a slow client does not block others" '^version' "$(c status)"
wait $slow || true
ddi_expect "the slow client gets its answer" "0" "$(cat "$DDI_TMP/slow.out")"
ddi_expect_match "server alive after a client left mid-request" '^version' "$(c status)"

ddi_log "every change is logged once published, with its actor"
c record add logged.ddi.test. 60 A 198.18.0.66 >/dev/null
for _ in $(seq 50); do grep -q 'logged\.ddi\.test\.' "$DDI_LOG" && break; sleep 0.1; done
ddi_expect_match "log: the change, its ops and its actor" \
  '^ddiplane: follow: info: change [0-9]+: rr-add logged\.ddi\.test\. A 0->1, serial ddi\.test\. SOA [0-9]+->[0-9]+, serial 0\.18\.198\.in-addr\.arpa\. SOA [0-9]+->[0-9]+ actor=unix:root$' \
  "$(grep 'logged\.ddi\.test\.' "$DDI_LOG")"

ddi_log "metrics"
m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)
ddi_expect_match "metrics: snapshot generation" '^ddiplane_snapshot_generation [1-9][0-9]*$' "$m"
ddi_expect_match "metrics: per-lcore responses by rcode" '^ddiplane_responses_total\{lcore="1",rcode="NOERROR"\} [1-9]' "$m"
ddi_expect_match "metrics: answered queries by type" '^ddiplane_queries_by_type_total\{lcore="1",qtype="A"\} [1-9]' "$m"
ddi_expect_match "metrics: drops by reason" '^ddiplane_drops_total\{lcore="1",reason="malformed_checksum"\} 0$' "$m"
ddi_expect_match "metrics: journal lag" '^ddiplane_journal_lag 0$' "$m"
ddi_expect_match "metrics: publish latency histogram" '^ddiplane_publish_latency_seconds_count [1-9]' "$m"
ddi_expect "metrics: 404 elsewhere" "404" "$(ddi_srv curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9153/)"
h=$(ddi_srv curl -s -w ' %{http_code}' --max-time 5 http://127.0.0.1:9153/health)
ddi_expect_match "health: 200 with the published generation and seq" '^ok: generation [1-9][0-9]*, journal seq [0-9]+ 200$' "$(tr -d '\n' <<<"$h")"
ddi_expect "health: HEAD answers 200 too" "200" "$(ddi_srv curl -s -I -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9153/health)"
out=$(c stats)
ddi_expect_match "stats: noerror row per lcore" '^noerror +[0-9]+ +[0-9]+ +[0-9]+' "$out"

ddi_log "change storm during dnsperf: no loss, every answer from one whole version"
c record replace t.ddi.test. 60 TXT '"gen 0 a"' --rdata '"gen 0 b"' >/dev/null
printf '%s\n' 'www.ddi.test A' 't.ddi.test TXT' 'mail.ddi.test AAAA' >"$DDI_TMP/q.txt"
ddi_cli dnsperf -s $S4 -d "$DDI_TMP/q.txt" -l 8 -c 4 -q 32 -Q 20000 -t 3 >"$DDI_TMP/perf.out" 2>&1 &
perf=$!
ddi_cli python3 "$CLI" check $S4 t.ddi.test 7 >"$DDI_TMP/check.out" &
chk=$!
python3 "$CLI" storm "$SOCK" t.ddi.test. 3000 >"$DDI_TMP/storm.out"
wait $chk || true
wait $perf || true
cat "$DDI_TMP/storm.out" "$DDI_TMP/check.out"
sed -n '/Queries sent/,/Queries lost/p' "$DDI_TMP/perf.out"
ddi_expect_match "3000 changes applied" '^changes=3000 ' "$(cat "$DDI_TMP/storm.out")"
ddi_expect_match "checker: answers, none mixed, none lost" '^answers=[1-9][0-9]* mixed=0 lost=0 generations=[1-9]' "$(cat "$DDI_TMP/check.out")"
ddi_expect_match "dnsperf: 0 lost during the storm" 'Queries lost:[[:space:]]+0 ' "$(cat "$DDI_TMP/perf.out")"
ddi_expect "last generation served" '"gen 3000 a"
"gen 3000 b"' "$(short @$S4 t.ddi.test TXT)"

ddi_log "kill -9 during a stream of acknowledged changes; restart serves all of them"
: >"$DDI_TMP/acked"
python3 "$CLI" acked "$SOCK" k.ddi.test. "$DDI_TMP/acked" 30 &   # until the kill ends it
acker=$!
# kill once a few changes were acknowledged (bounded: 20 s), mid-stream
for _ in $(seq 200); do
  [ "$(wc -l <"$DDI_TMP/acked")" -ge 5 ] && break
  sleep 0.1
done
sleep 0.2
kill -KILL "$DDI_PID"
wait "$acker" 2>/dev/null || true
wait "$DDI_PID" 2>/dev/null || true
nacked=$(wc -l <"$DDI_TMP/acked")
ddi_expect_match "changes were acknowledged before the kill" '^[1-9][0-9]*$' "$nacked"
ip -n "$DDI_NS_SRV" link del ddi0 2>/dev/null || true
# restarted with an access file that makes nobody an admin
printf '# test roles\nuser:nobody admin\n* read-only\n' >"$DDI_TMP/access"
start --access "$DDI_TMP/access"
missing=0
while read -r n; do
  "$CTL" --db "$DB" record get "$n" A >/dev/null 2>&1 || missing=$((missing + 1))
done <"$DDI_TMP/acked"
ddi_expect "every acknowledged change is in the store after kill -9 ($nacked)" "0" "$missing"
last=$(tail -n 1 "$DDI_TMP/acked")
ddi_expect_match "the last acknowledged change is answered after restart" '^198\.18\.1\.' "$(short @$S4 "$last" A)"

ddi_log "--access: a mapped peer gets its role"
chmod 0666 "$SOCK"
out=$(ro record add ro.ddi.test. 60 A 198.18.0.9 2>&1)
ddi_expect_match "nobody is admin by the access file" '^added ro\.ddi\.test\. A' "$out"
ddi_expect "and the change is answered" "198.18.0.9" "$(short @$S4 ro.ddi.test A)"
ddi_expect_match "journal records the actor unix:nobody" 'unix:nobody' "$(c journal --name ro.ddi.test.)"
out=$(c record add ro2.ddi.test. 60 A 198.18.0.9 2>&1) && ddi_fail "root is read-only by '* read-only'" "$out" || \
  ddi_expect_match "root is read-only by '* read-only'" 'access denied' "$out"

ddi_expect_match "log: the refused command with its actor" \
  'mgmt: info: record-add refused: needs the admin role, the peer has read-only actor=unix:root' "$(cat "$DDI_LOG")"
out=$(D +tcp +time=3 +tries=1 @$S4 ddi.test AXFR 2>&1 || true)
ddi_expect_match "AXFR without a transfer ACL: REFUSED" 'Transfer failed|REFUSED' "$out"
ddi_expect_match "log: the refused transfer with who asked" \
  'xfr: info: AXFR of ddi\.test\. refused: not allowed by the zone.s transfer ACL \(REFUSED\) actor=unsigned@198\.18\.0\.2' "$(cat "$DDI_LOG")"

ddi_log "backup and shutdown over the socket"
ro backup "$DDI_TMP/bk" >/dev/null
ddi_expect_match "backup holds the data" '^www\.ddi\.test\. ' "$("$CTL" --db "$DDI_TMP/bk" record get www.ddi.test. A)"
ro shutdown >/dev/null
for ((i = 0; i < 100; i++)); do ddi_alive "$DDI_PID" || break; sleep 0.1; done
if ddi_alive "$DDI_PID"; then ddi_fail "shutdown stops the server"; else ddi_ok "shutdown stops the server"; fi
wait "$DDI_PID" 2>/dev/null && st=0 || st=$?
ddi_expect "exit status after shutdown" "0" "$st"
ddi_expect "socket file removed" "" "$(ls "$SOCK" 2>/dev/null)"

ddi_summary
