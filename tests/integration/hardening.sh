#!/usr/bin/env bash
# hardening.sh -- response rate limiting (flood vs a quiet neighbour, slip, stats) and DNS cookies (dig, kdig) end to end
#
# ddiplane runs with --rrl-rate 50 --rrl-slip 2. Cookies first (dig and kdig
# learn a server cookie, send it back, forge one, send a malformed one), then
# one client floods www.ddi.test from 198.18.0.2 (198.18.0.0/24) at 1000
# queries per second for 3 s while a second client, 198.18.3.2 (another
# /24) on the same veth, asks 10 per second: the first gets about 50 per
# second plus every other limited response truncated, the second every
# answer. Counted on the client side and with "ddictl stats". Cookies over
# TCP (the same secrets as UDP), and last the shared secret of
# --cookie-secret-file: a cookie made before a restart (another server of
# the same anycast address) stays valid, a secret rolled by reload keeps the
# old cookies valid, another secret does not, a bad file stops the start.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig kdig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

FLOOD="$DDI_SRCDIR/tests/integration/hardening_flood.py"
CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
RATE=50
SECS=3
FLOOD_QPS=1000

ddi_log "database, namespaces, ddiplane with --rrl-rate $RATE --rrl-slip 2 (cookies on by default)"
ddi_db_default "$DDI_TMP/db"
ddi_ns_setup
ddi_cli ip addr add 198.18.3.2/32 dev ddi-c
ddi_start --db "$DDI_TMP/db" --address $S4/24 --address 2001:2::1/64 --control "$SOCK" \
  --idle-sleep-us 50 --rrl-rate $RATE --rrl-slip 2
ddi_wait_answer $S4 ddi.test 60

D() { ddi_cli dig +norec +time=2 +tries=1 "$@" 2>&1; }
# a total counter from "ddictl --json stats"
stat() {
  "$CTL" -s "$SOCK" --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['total']['$1'])"
}
# the COOKIE dig or kdig printed (hex, lower case), or nothing
cookie_of() { { grep -oi 'COOKIE: [0-9a-f]*' <<<"$1" || true; } | head -1 | cut -d' ' -f2 | tr 'A-F' 'a-f'; }

ddi_log "help documents the options"
help=$("$DDI_BUILDDIR/ddiplane" --help)
for o in --rrl-rate --rrl-slip --rrl-table-size --rrl-exempt --no-cookies --cookie-secret-lifetime \
  --cookie-secret-file; do
  ddi_expect_match "--help: $o" -- "$o" "$help"
done

ddi_log "DNS cookies with dig"
CC=0102030405060708
out=$(D +cookie=$CC @$S4 www.ddi.test A)
ck=$(cookie_of "$out")
ddi_expect_match "dig +cookie: answered" 'status: NOERROR' "$out"
ddi_expect_match "dig +cookie: client cookie and a 16-byte server cookie" "^${CC}01000000[0-9a-f]{24}\$" "$ck"
ddi_expect_match "dig +cookie: dig finds it good" 'COOKIE: [0-9a-f]+ \(good\)' "$out"
valid0=$(stat cookie_valid)
out=$(D +cookie="$ck" @$S4 www.ddi.test A)
ddi_expect_match "the server cookie sent back: answered" 'status: NOERROR' "$out"
ddi_expect "the server cookie sent back: echoed as it is" "$ck" "$(cookie_of "$out")"
ddi_expect "the server cookie sent back: counted valid" "$((valid0 + 1))" "$(stat cookie_valid)"
bad0=$(stat cookie_bad)
forged="${CC}01000000$(printf '%08x' "$(date +%s)")0011223344556677"
out=$(D +cookie="$forged" @$S4 www.ddi.test A)
fresh=$(cookie_of "$out")
ddi_expect_match "forged server cookie: answered normally (RFC 7873 5.2.4)" 'status: NOERROR.*ANSWER: 1' "$(tr '\n' ' ' <<<"$out")"
ddi_expect_match "forged server cookie: a fresh cookie" "^${CC}01000000[0-9a-f]{24}\$" "$fresh"
if [ "$fresh" != "$forged" ]; then ddi_ok "forged server cookie: not echoed"; else ddi_fail "forged server cookie: echoed"; fi
ddi_expect "forged server cookie: counted bad" "$((bad0 + 1))" "$(stat cookie_bad)"
out=$(D +cookie=0102030405060708090a0b0c @$S4 www.ddi.test A)
ddi_expect_match "malformed COOKIE (12 bytes): FORMERR (RFC 7873 5.2.2)" 'status: FORMERR' "$out"
ddi_expect "malformed COOKIE: no cookie back" "" "$(cookie_of "$out")"
ddi_expect_match "malformed COOKIE: counted" '^[1-9]' "$(stat cookie_malformed)"
out=$(D +cookie=$CC @2001:2::1 www.ddi.test AAAA)
ddi_expect_match "dig +cookie over IPv6: a server cookie" "^${CC}01000000[0-9a-f]{24}\$" "$(cookie_of "$out")"

ddi_log "DNS cookies with kdig"
out=$(ddi_cli kdig +cookie +time=2 +retry=0 @$S4 www.ddi.test A 2>&1)
kck=$(cookie_of "$out")
ddi_expect_match "kdig +cookie: client and server cookie" '^[0-9a-f]{16}01000000[0-9a-f]{24}$' "$kck" ||
  echo "$out"
out=$(ddi_cli kdig +cookie="$kck" +time=2 +retry=0 @$S4 www.ddi.test A 2>&1)
ddi_expect_match "kdig sends it back: answered" 'status: NOERROR' "$out"
ddi_expect "kdig sends it back: echoed" "$kck" "$(cookie_of "$out")"

ddi_log "DNS cookies over TCP: the same secrets as UDP"
tstat() {
  "$CTL" -s "$SOCK" --json stats | python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['tcp']['$1'])"
}
tn0=$(tstat cookie_new); tv0=$(tstat cookie_valid); tb0=$(tstat cookie_bad)
out=$(D +tcp +cookie=$CC @$S4 www.ddi.test A)
tck=$(cookie_of "$out")
ddi_expect_match "dig +tcp +cookie: answered" 'status: NOERROR' "$out"
ddi_expect_match "dig +tcp +cookie: client cookie and a 16-byte server cookie" "^${CC}01000000[0-9a-f]{24}\$" "$tck"
ddi_expect "dig +tcp +cookie: counted new" "$((tn0 + 1))" "$(tstat cookie_new)"
out=$(D +tcp +cookie="$ck" @$S4 www.ddi.test A)
ddi_expect "the UDP server cookie sent over TCP: echoed as it is" "$ck" "$(cookie_of "$out")"
ddi_expect "the UDP server cookie over TCP: counted valid" "$((tv0 + 1))" "$(tstat cookie_valid)"
out=$(D +tcp +cookie="$forged" @$S4 www.ddi.test A)
fresh=$(cookie_of "$out")
ddi_expect_match "forged server cookie over TCP: a fresh one" "^${CC}01000000[0-9a-f]{24}\$" "$fresh"
if [ "$fresh" != "$forged" ]; then ddi_ok "forged server cookie over TCP: not echoed"; else ddi_fail "forged over TCP: echoed"; fi
ddi_expect "forged server cookie over TCP: counted bad" "$((tb0 + 1))" "$(tstat cookie_bad)"
out=$(D +tcp +cookie=0102030405060708090a0b0c @$S4 www.ddi.test A)
ddi_expect_match "malformed COOKIE over TCP: FORMERR" 'status: FORMERR' "$out"
out=$(ddi_cli kdig +tcp +cookie="$kck" +time=2 +retry=0 @$S4 www.ddi.test A 2>&1)
ddi_expect "kdig +tcp with its UDP cookie: echoed" "$kck" "$(cookie_of "$out")"
out=$(D +tcp +cookie=$CC @2001:2::1 www.ddi.test AAAA)
ddi_expect_match "dig +tcp +cookie over IPv6: a server cookie" "^${CC}01000000[0-9a-f]{24}\$" "$(cookie_of "$out")"

ddi_log "rate limiting: $FLOOD_QPS q/s for ${SECS}s from 198.18.0.2 against $RATE/s, 10 q/s from 198.18.3.2"
sleep 1.2        # the buckets the queries above used are full again
p0=$(stat rrl_passed); d0=$(stat rrl_dropped); s0=$(stat rrl_slipped); e0=$(stat rrl_exempt)
ddi_cli python3 "$FLOOD" 198.18.3.2 $S4 10 $SECS >"$DDI_TMP/quiet.out" &
quiet=$!
ddi_cli python3 "$FLOOD" 198.18.0.2 $S4 $FLOOD_QPS $SECS >"$DDI_TMP/flood.out" &
flood=$!
# In the middle of the flood, a query with a valid server cookie from the
# flooded prefix: its address is proven, it is not limited.
sleep 1.5
out=$(D +cookie="$ck" @$S4 www.ddi.test A)
ddi_expect_match "during the flood, a valid server cookie: full answer" 'status: NOERROR.*ANSWER: 1' "$(tr '\n' ' ' <<<"$out")"
ddi_expect_match "during the flood, a valid server cookie: no TC" 'flags: qr aa;' "$out"
wait "$flood" "$quiet"
read -r fsent ffull ftc fother < <(sed 's/[a-z]*=//g' "$DDI_TMP/flood.out")
read -r qsent qfull qtc qother < <(sed 's/[a-z]*=//g' "$DDI_TMP/quiet.out")
echo "flood: $(cat "$DDI_TMP/flood.out")"
echo "quiet: $(cat "$DDI_TMP/quiet.out")"
dp=$(( $(stat rrl_passed) - p0 )); dd=$(( $(stat rrl_dropped) - d0 ))
ds=$(( $(stat rrl_slipped) - s0 )); de=$(( $(stat rrl_exempt) - e0 ))
echo "stats: rrl_passed +$dp rrl_dropped +$dd rrl_slipped +$ds rrl_exempt +$de"

# A bucket holds one second's worth and refills at $RATE/s: at most
# RATE * (SECS + 1) full answers, and not much fewer than RATE * SECS.
ddi_expect_match "flood: sent ~$((FLOOD_QPS * SECS))" '^(2[5-9]|3[0-9])[0-9]{2}$' "$fsent"
if [ "$ffull" -le $((RATE * (SECS + 1) + 10)) ] && [ "$ffull" -ge $((RATE * SECS * 8 / 10)) ]; then
  ddi_ok "flood: $ffull full answers, about $RATE/s"
else
  ddi_fail "flood: $ffull full answers, want $((RATE * SECS * 8 / 10))..$((RATE * (SECS + 1) + 10))"
fi
limited=$((fsent - ffull))
if [ "$ftc" -ge $((limited * 45 / 100)) ] && [ "$ftc" -le $((limited * 55 / 100 + 2)) ]; then
  ddi_ok "flood: $ftc of $limited limited answers slipped with TC (slip 2: every other)"
else
  ddi_fail "flood: $ftc of $limited limited answers slipped, want about half"
fi
ddi_expect "flood: nothing else came back" "0" "$fother"
ddi_expect "quiet neighbour (another /24): every query answered in full" "$qsent $qsent 0" "$qsent $qfull $qtc"
# The server's counters say the same: passed = full answers of both clients
# (+ the valid-cookie query counted exempt), slipped = TC answers, and the
# rest of the flood dropped (a few answers may be lost on the veth).
if [ "$dp" -ge $((ffull + qfull)) ] && [ "$dp" -le $((ffull + qfull + 5)) ]; then
  ddi_ok "stats: rrl_passed +$dp = client full answers $((ffull + qfull))"
else
  ddi_fail "stats: rrl_passed +$dp, clients saw $((ffull + qfull)) full answers"
fi
if [ "$ds" -ge "$ftc" ] && [ "$ds" -le $((ftc + 5)) ]; then
  ddi_ok "stats: rrl_slipped +$ds = client TC answers $ftc"
else
  ddi_fail "stats: rrl_slipped +$ds, the client saw $ftc TC answers"
fi
if [ $((dp + dd + ds)) -ge $((fsent + qsent)) ] && [ $((dp + dd + ds)) -le $((fsent + qsent + 5)) ]; then
  ddi_ok "stats: passed + dropped + slipped = $((dp + dd + ds)) = queries sent $((fsent + qsent))"
else
  ddi_fail "stats: passed + dropped + slipped = $((dp + dd + ds)), queries sent $((fsent + qsent))"
fi
ddi_expect_match "stats: the valid-cookie query counted exempt" '^[1-9]' "$de"
out=$("$CTL" -s "$SOCK" stats)
ddi_expect_match "ddictl stats: rrl_dropped row" '^rrl_dropped +[0-9]+' "$out"

ddi_log "a second later the flooded prefix is answered again"
sleep 1.1
out=$(D @$S4 www.ddi.test A)
ddi_expect_match "after the flood: full answer" 'flags: qr aa;.*ANSWER: 1' "$(tr '\n' ' ' <<<"$out")"

ddi_stop
ddi_expect "ddiplane exits 0" "0" "$DDI_EXIT"

ddi_log "a shared cookie secret (--cookie-secret-file): valid across servers and restarts"
SA=00112233445566778899aabbccddeeff
SB=ffeeddccbbaa99887766554433221100
SF="$DDI_TMP/cookie.secret"
start_with_secret() {
  ddi_start --db "$DDI_TMP/db" --address $S4/24 --address 2001:2::1/64 --control "$SOCK" \
    --idle-sleep-us 50 --cookie-secret-file "$SF"
  ddi_wait_answer $S4 ddi.test 60
}
printf '# the fleet secret\n%s\n' "$SA" >"$SF"
start_with_secret
out=$(D +cookie=$CC @$S4 www.ddi.test A)
sck=$(cookie_of "$out")
ddi_expect_match "secret A: a server cookie" "^${CC}01000000[0-9a-f]{24}\$" "$sck"
ddi_stop
start_with_secret     # another server of the same address: a new process, the same secret
v0=$(stat cookie_valid)
out=$(D +cookie="$sck" @$S4 www.ddi.test A)
ddi_expect "secret A, the next server: the cookie is echoed" "$sck" "$(cookie_of "$out")"
ddi_expect "secret A, the next server: counted valid" "$((v0 + 1))" "$(stat cookie_valid)"
printf '%s\n%s\n' "$SB" "$SA" >"$SF"
out=$("$CTL" -s "$SOCK" --json reload 2>&1) || true
ddi_expect_match "roll to secret B by reload: done" '"reloaded": \[[^]]*"cookie-secret-file"' "$(tr -d "\n" <<<"$out")"
r0=$(stat cookie_refreshed)
out=$(D +cookie="$sck" @$S4 www.ddi.test A)
nck=$(cookie_of "$out")
ddi_expect "after the roll, the cookie of A: counted refreshed" "$((r0 + 1))" "$(stat cookie_refreshed)"
if [ -n "$nck" ] && [ "$nck" != "$sck" ]; then ddi_ok "after the roll: a new cookie (secret B)"; else ddi_fail "after the roll: $nck"; fi
v0=$(stat cookie_valid)
out=$(D +cookie="$nck" @$S4 www.ddi.test A)
ddi_expect "the cookie of B: echoed" "$nck" "$(cookie_of "$out")"
ddi_expect "the cookie of B: counted valid" "$((v0 + 1))" "$(stat cookie_valid)"
ddi_stop
printf '%s\n' "$SB" >"$SF"
start_with_secret     # B alone: a cookie of A is no longer one of ours
b0=$(stat cookie_bad)
out=$(D +cookie="$sck" @$S4 www.ddi.test A)
ddi_expect "secret B alone, the cookie of A: counted bad" "$((b0 + 1))" "$(stat cookie_bad)"
out=$(D +tcp +cookie="$nck" @$S4 www.ddi.test A)
ddi_expect "secret B alone, the cookie of B over TCP: echoed" "$nck" "$(cookie_of "$out")"
ddi_stop
ddi_expect "ddiplane exits 0 (shared secret)" "0" "$DDI_EXIT"
ddi_log "receive steering: the kernel's receive work for the af_packet port leaves the worker's CPU"
RPS=/sys/class/net/ddi-s/queues/rx-0/rps_cpus
if [ "${DDI_PMD:-packet}" != packet ]; then
  ddi_log "(DDI_PMD=$DDI_PMD: no af_packet port, nothing to steer)"
elif ddi_srv test -w $RPS; then
  ddi_srv sh -c "echo 2 > $RPS"            # CPU 1: the worker of -l 0,1
  start_with_secret
  ddi_expect "while it runs: RPS on CPU 0 only (the CPUs no worker polls)" "1" "$(ddi_srv cat $RPS)"
  ddi_expect_match "and it says so" 'receive steering of 1 queue moved off the worker CPUs' "$(cat "$DDI_LOG")"
  ddi_stop
  ddi_expect "after it stops: the map it found" "2" "$(ddi_srv cat $RPS)"
  ddi_start --db "$DDI_TMP/db" --address $S4/24 --control "$SOCK" --no-steer-rx
  ddi_wait_answer $S4 ddi.test 60
  ddi_expect "--no-steer-rx: left alone" "2" "$(ddi_srv cat $RPS)"
  ddi_stop
  ddi_srv sh -c "echo 0 > $RPS"
else
  ddi_fail "receive steering: no writable $RPS to check it on"
fi
printf '%s\n# a comment\n0011 not hex\n' "$SA" >"$SF"
out=$(ddi_srv "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge -m 256 --no-shconf --no-pci --file-prefix ddic$DDI_ID \
  --vdev net_null0 -- --address $S4/24 --db "$DDI_TMP/db" --cookie-secret-file "$SF" 2>&1) &&
  ddi_fail "a bad secret file is refused" "$out" ||
  ddi_expect_match "a bad secret file: refused, naming file and line" "^ddiplane: $SF:3: a cookie secret is exactly 32 hexadecimal digits" "$out"
if grep -q "$SA" <<<"$out"; then ddi_fail "the error prints the secret"; else ddi_ok "the error does not print the secret"; fi
ddi_summary
