#!/usr/bin/env bash
# signedq.sh -- TSIG-signed queries over UDP: the workers hand them to the DDNS thread, which verifies, answers from the index and signs (dig -y, kdig -y), BADSIG/BADKEY refused with NOTAUTH, unsigned queries still answered by the workers, counters in stats and /metrics, an UPDATE answered during a flood of signed queries
#
# ddiplane runs in its own namespace (lib.sh); dig and kdig in the client
# namespace. Every check reads the client's own verdict on the answer's
# TSIG (dig's TSIG PSEUDOSECTION and its "Couldn't verify" complaint,
# kdig's TSIG section and warnings), not only that an answer came.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig kdig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl; do
  [ -x "$DDI_BUILDDIR/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"

ddi_log "store with the sample zones and two keys"
ddi_db_default "$DB"
K1=$("$CTL" --db "$DB" key add q.key. 2>/dev/null)                          # hmac-sha256
K2=$("$CTL" --db "$DB" key add sec.key. --algorithm hmac-sha512 2>/dev/null) # a secondary's key
ddi_expect_match "key add prints alg:name:secret" '^hmac-sha256:q\.key:' "$K1"
"$CTL" --db "$DB" policy add q.key. grant subdomain dyn.ddi.test. A --prefix 198.18.0.0/24 >/dev/null
# an A RRset of 30 addresses: 12 + 18 + 30 * 16 = 510 bytes unsigned, too large for 512 with a TSIG
for i in $(seq 100 129); do "$CTL" --db "$DB" record add big.ddi.test. 300 A 198.18.1.$i >/dev/null; done
BAD="${K1%:*}:$(printf 'not the secret, not at all!!!!!!' | base64)"
UNKNOWN="hmac-sha256:nobody.key:${K1##*:}"

ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --metrics 127.0.0.1:9153 --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

stats() { "$CTL" -s "$SOCK" --json stats; }
# jget JSON PATH...: one value of the stats (0 when absent)
jget() { python3 -c 'import json,sys
v=json.loads(sys.argv[1])["arguments"]
for k in sys.argv[2:]: v=v.get(k, 0) if isinstance(v, dict) else 0
print(v)' "$@"; }
dg() { ddi_cli dig +norec +time=2 +tries=2 "@$S4" "$@" 2>&1; }
kd() { ddi_cli kdig +norec +time=2 +retry=1 "@$S4" "$@" 2>&1; }
status() { sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$1" | head -1; }

st0=$(stats)
noerr0=$(jget "$st0" total noerror)

ddi_log "unsigned queries: answered by the workers, as before"
out=$(dg www.ddi.test A)
ddi_expect "unsigned A: NOERROR" NOERROR "$(status "$out")"
ddi_expect_match "unsigned A: the address" 'www\.ddi\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.0\.10' "$out"
st1=$(stats)
ddi_expect "unsigned A: counted noerror by the dataplane" "$((noerr0 + 1))" "$(jget "$st1" total noerror)"
ddi_expect "unsigned A: nothing handed to the DDNS thread" 0 "$(jget "$st1" total signed_to_ddns)"

ddi_log "dig -y: the answer, signed, verified by dig"
out=$(dg -y "$K1" www.ddi.test A)
ddi_expect "dig -y A: NOERROR" NOERROR "$(status "$out")"
ddi_expect_match "dig -y A: the address" 'www\.ddi\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.0\.10' "$out"
ddi_expect_match "dig -y A: a TSIG pseudosection with our key, NOERROR" \
  '^q\.key\.[[:space:]]+0[[:space:]]+ANY[[:space:]]+TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 32 [A-Za-z0-9+/=]+ [0-9]+ NOERROR 0' "$out"
if grep -qiE "couldn't verify|tsig verify failure|expected a TSIG" <<<"$out"; then
  ddi_fail "dig -y A: dig verified the answer's TSIG" "$out"
else ddi_ok "dig -y A: dig verified the answer's TSIG"; fi
out=$(dg -y "$K1" +dnssec +bufsize=1232 mail.ddi.test AAAA)
ddi_expect_match "dig -y with EDNS: NOERROR or NODATA, signed" 'TSIG[[:space:]]+hmac-sha256\. .* NOERROR 0' "$out"
if grep -qiE "couldn't verify|tsig verify failure" <<<"$out"; then ddi_fail "dig -y with EDNS: verified" "$out"
else ddi_ok "dig -y with EDNS: verified"; fi
out=$(dg -y "$K1" nosuchname.ddi.test A)
ddi_expect "dig -y NXDOMAIN: signed NXDOMAIN" NXDOMAIN "$(status "$out")"
ddi_expect_match "dig -y NXDOMAIN: TSIG present" 'TSIG[[:space:]]+hmac-sha256\.' "$out"

ddi_log "truncation: the answer does not fit 512 bytes with its TSIG (RFC 8945 5.3)"
out=$(dg +noedns +ignore big.ddi.test A)
ddi_expect_match "unsigned, no EDNS: 30 addresses fit 512" 'ANSWER: 30,' "$out"
out=$(dg -y "$K1" +noedns +ignore big.ddi.test A)
ddi_expect_match "signed, no EDNS: TC, NOERROR, no answer records" 'flags: qr aa tc; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1' "$out"
ddi_expect_match "signed, no EDNS: the TSIG" 'TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 32 .* NOERROR 0' "$out"
if grep -qiE "couldn't verify|tsig verify failure" <<<"$out"; then ddi_fail "signed, no EDNS: verified" "$out"
else ddi_ok "signed, no EDNS: verified"; fi
out=$(dg -y "$K1" +bufsize=1232 big.ddi.test A)
ddi_expect_match "signed, EDNS 1232: all 30 addresses, signed" 'ANSWER: 30,' "$out"

ddi_log "kdig -y: the answer, signed, verified by kdig"
out=$(kd -y "$K1" www.ddi.test A)
ddi_expect_match "kdig -y A: the address" 'www\.ddi\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.0\.10' "$out"
ddi_expect_match "kdig -y A: a TSIG section" 'TSIG PSEUDOSECTION' "$out"
# kdig checks the reply's TSIG and warns ";; WARNING: reply verification ... (failed to verify TSIG)"
if grep -qE '^;; WARNING' <<<"$out"; then ddi_fail "kdig -y A: kdig verified the answer's TSIG" "$out"
else ddi_ok "kdig -y A: kdig verified the answer's TSIG"; fi

ddi_log "a secondary's SOA refresh over UDP, hmac-sha512"
out=$(dg -y "$K2" ddi.test SOA)
ddi_expect "dig -y SOA: NOERROR" NOERROR "$(status "$out")"
ddi_expect_match "dig -y SOA: the SOA" 'ddi\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA' "$out"
ddi_expect_match "dig -y SOA: signed with sec.key, hmac-sha512" '^sec\.key\.[[:space:]]+0[[:space:]]+ANY[[:space:]]+TSIG[[:space:]]+hmac-sha512\. [0-9]+ 300 64 ' "$out"
if grep -qiE "couldn't verify|tsig verify failure" <<<"$out"; then ddi_fail "dig -y SOA: verified" "$out"
else ddi_ok "dig -y SOA: verified"; fi
out=$(kd -y "$K2" ddi.test SOA)
ddi_expect_match "kdig -y SOA: the SOA, signed" 'TSIG PSEUDOSECTION' "$out"
if grep -qE '^;; WARNING' <<<"$out"; then ddi_fail "kdig -y SOA: verified" "$out"
else ddi_ok "kdig -y SOA: verified"; fi

ddi_log "refusals: wrong secret, unknown key"
out=$(dg -y "$BAD" www.ddi.test A)
ddi_expect "wrong secret: NOTAUTH" NOTAUTH "$(status "$out")"
ddi_expect_match "wrong secret: TSIG error BADSIG" 'TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 0 +[0-9]+ BADSIG 0' "$out"
if grep -q '198\.18\.0\.10' <<<"$out"; then ddi_fail "wrong secret: no answer records" "$out"
else ddi_ok "wrong secret: no answer records"; fi
out=$(dg -y "$UNKNOWN" www.ddi.test A)
ddi_expect "unknown key: NOTAUTH" NOTAUTH "$(status "$out")"
ddi_expect_match "unknown key: TSIG error BADKEY" 'TSIG[[:space:]]+hmac-sha256\. [0-9]+ 300 0 +[0-9]+ BADKEY 0' "$out"
out=$(kd -y "$BAD" www.ddi.test A)
# kdig shows NOTAUTH with the TSIG error as the extended status, and cannot verify the unsigned reply
ddi_expect_match "kdig wrong secret: BADSIG, no answer" 'status: BADSIG;.*ANSWER: 0' "$(tr '\n' ' ' <<<"$out")"

ddi_log "counters"
st2=$(stats)
ddi_expect "ddns: signed queries truncated" 1 "$(jget "$st2" ddns signed_query_truncated)"
ddi_expect "ddns: signed queries answered (dig 5, kdig 2)" 7 "$(jget "$st2" ddns signed_query_answered)"
ddi_expect "ddns: signed queries refused BADSIG (dig, kdig)" 2 "$(jget "$st2" ddns signed_query_badsig)"
ddi_expect "ddns: signed queries refused BADKEY" 1 "$(jget "$st2" ddns signed_query_badkey)"
ddi_expect "dataplane: signed queries queued to the DDNS thread" 11 "$(jget "$st2" total signed_to_ddns)"
ddi_expect "dataplane: none dropped for the share" 0 "$(jget "$st2" total signed_ddns_full)"
ddi_expect "dataplane: noerror counts the unsigned queries only" "$((noerr0 + 2))" "$(jget "$st2" total noerror)"
m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)
ddi_expect_match "metrics: signed queries answered" '^ddiplane_ddns_messages_total\{outcome="signed_query_answered"\} 7$' "$m"
ddi_expect_match "metrics: signed queries refused BADSIG" '^ddiplane_ddns_messages_total\{outcome="signed_query_badsig"\} 2$' "$m"
ddi_expect "metrics: signed queries queued to the DDNS thread, summed over lcores" 11 \
  "$(awk -F' ' '/^ddiplane_packets_total\{.*outcome="signed_to_ddns"\}/ {s += $2} END {print s + 0}' <<<"$m")"
ddi_expect "metrics: none dropped for the share" 0 \
  "$(awk -F' ' '/^ddiplane_packets_total\{.*outcome="signed_ddns_full"\}/ {s += $2} END {print s + 0}' <<<"$m")"

ddi_log "a flood of signed queries (unknown key) does not starve an UPDATE"
ddi_cli python3 - $S4 3 >"$DDI_TMP/flood.out" 2>&1 <<'PY' &
import socket, struct, sys, time
# www.ddi.test A signed by a key the server does not know (TSIG with no MAC): BADKEY each
q = (struct.pack(">HHHHHH", 0x5151, 0, 1, 0, 0, 1) + b"\x03www\x03ddi\x04test\x00" + struct.pack(">HH", 1, 1) +
     b"\x05flood\x03key\x00" + struct.pack(">HHIH", 250, 255, 0, 29) + b"\x0bhmac-sha256\x00" +
     struct.pack(">HIHH", 0, int(time.time()), 300, 0) + struct.pack(">HHH", 0x5151, 0, 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
end, n = time.time() + float(sys.argv[2]), 0
while time.time() < end:
    try:
        s.sendto(q, (sys.argv[1], 53)); n += 1
    except BlockingIOError:
        time.sleep(0.0005)
print(n)
PY
flood=$!
sleep 0.5
out=$({ printf 'server %s\nzone ddi.test.\nupdate add f.dyn.ddi.test. 300 A 198.18.0.77\nsend\n' $S4; } |
      ddi_cli timeout 20 nsupdate -y "$K1" 2>&1) && out=ok
wait $flood || true
ddi_expect "UPDATE during the flood: NOERROR" ok "$out"
ddi_expect "UPDATE during the flood: answered" 198.18.0.77 "$(ddi_cli dig +norec +short +time=2 "@$S4" f.dyn.ddi.test A)"
st3=$(stats)
sent=$(cat "$DDI_TMP/flood.out")
bk=$(jget "$st3" ddns signed_query_badkey); full=$(jget "$st3" total signed_ddns_full)
echo "     flood: $sent signed queries sent, $((bk - 1)) answered BADKEY, $full dropped for the share" >&2
ddi_expect_match "flood: refused BADKEY by the DDNS thread" '^[0-9]{3,}$' "$bk"

ddi_summary
