#!/usr/bin/env bash
# ddns.sh -- RFC 2136 dynamic updates end to end: nsupdate/knsupdate with TSIG over UDP and TCP, refusals (BADKEY, BADSIG, BADTIME, scope, subnet, unsigned) counted, logged and noted once per key and reason, the journal, Kea's kea-dhcp-ddns
#
# ddiplane runs in its own namespace (lib.sh) with keys and rules made by
# ddictl; the clients run in the client namespace and every answer is
# checked with dig through the dataplane. Kea D2 runs in the client
# namespace too, fed NameChangeRequests (UDP, JSON) on its loopback.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig nsupdate knsupdate python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl tsigupdate; do
  [ -x "$DDI_BUILDDIR/$b" ] || [ -x "$DDI_BUILDDIR/tests/tools/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
TU="$DDI_BUILDDIR/tests/tools/tsigupdate"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"

ddi_log "store with the sample zones, keys and rules"
ddi_db_default "$DB"
K1=$("$CTL" --db "$DB" key add ns.key. 2>/dev/null)                                   # nsupdate
K2=$("$CTL" --db "$DB" key add kn.key. --algorithm hmac-sha512 2>/dev/null)          # knsupdate
K3=$("$CTL" --db "$DB" key add h9.ddi.test. 2>/dev/null)                              # scoped to its own name
K4=$("$CTL" --db "$DB" key add kea.key. 2>/dev/null)                                  # Kea D2
ddi_expect_match "key add prints alg:name:secret once" '^hmac-sha256:ns\.key:[A-Za-z0-9+/]{43}=$' "$K1"
ddi_expect_match "key add --algorithm hmac-sha512" '^hmac-sha512:kn\.key:' "$K2"
P="$CTL --db $DB policy add"
$P ns.key. grant subdomain dyn.ddi.test. --prefix 198.18.0.0/24 2001:2::/48 >/dev/null
$P kn.key. grant subdomain dyn.ddi.test. A AAAA TXT --prefix 198.18.0.0/24 >/dev/null
$P h9.ddi.test. grant self . A --prefix 198.18.0.0/24 >/dev/null
# no type list: Kea deletes whole names (class ANY, type ANY) when a host goes
$P kea.key. grant subdomain ddi.test. --prefix 198.18.0.0/24 >/dev/null
$P kea.key. grant subdomain 0.18.198.in-addr.arpa. PTR DHCID ANY >/dev/null
# IPAM: updates inside this prefix register dynamic allocations owned by their key
"$CTL" --db "$DB" prefix add 198.18.0.0/24 --zone ddi.test. --policy auto >/dev/null
out=$("$CTL" --db "$DB" key list)
ddi_expect_match "key list names the keys" 'kea\.key\. +hmac-sha256' "$out"
if grep -q "${K1##*:}" <<<"$out"; then ddi_fail "key list never shows secrets"; else ddi_ok "key list never shows secrets"; fi
ddi_expect_match "policy list shows the rules with their index" 'kea\.key\. +1  grant subdomain 0\.18\.198\.in-addr\.arpa\. PTR DHCID ANY' "$("$CTL" --db "$DB" policy list)"

ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

short() { ddi_cli dig +norec +time=1 +tries=2 +short "@$S4" "$@" 2>&1 | sort; }
status() { ddi_cli dig +norec +time=1 +tries=2 "@$S4" "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# nsu KEY [nsupdate options] <<< "commands": the update's result line ("ok" or nsupdate's complaint)
nsu() {
  local key=$1; shift
  local out
  if out=$( { printf 'server %s\nzone ddi.test.\n' $S4; cat; printf 'send\n'; } |
            ddi_cli timeout 20 nsupdate ${key:+-y "$key"} "$@" 2>&1); then echo ok
  else sed -n 's/.*\(NOTAUTH([A-Z]*)\).*/\1/p; t; s/.*update failed: \([A-Z]*\).*/\1/p' <<<"$out" | head -1; fi
}
knu() {
  local key=$1; shift
  local out
  out=$( { printf 'server %s\nzone ddi.test.\n' $S4; cat; printf 'send\nanswer\n'; } |
         ddi_cli timeout 20 knsupdate -y "$key" "$@" 2>&1) || true
  sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | tail -1
}
seq_now() { "$CTL" -s "$SOCK" --json status | sed -n 's/.*"store_seq": \([0-9]*\).*/\1/p'; }

for tr in udp tcp; do
  opt=; kopt=; [ $tr = tcp ] && { opt=-v; kopt=-v; }
  ddi_log "nsupdate over $tr: add, replace, delete, prerequisites"
  h=n$tr.dyn.ddi.test.
  ddi_expect "nsupdate/$tr add: NOERROR" ok "$(nsu "$K1" $opt <<<"update add $h 300 A 198.18.0.61")"
  ddi_expect "nsupdate/$tr add answered" 198.18.0.61 "$(short $h A)"
  ddi_expect_match "nsupdate/$tr add: a dynamic allocation owned by the key" \
    'state +dynamic.*owner +ns\.key' "$("$CTL" -s "$SOCK" address show 198.18.0.61 | tr '\n' ' ')"
  ddi_expect "nsupdate/$tr replace: NOERROR" ok "$(nsu "$K1" $opt <<<"update delete $h A
update add $h 300 A 198.18.0.62
update add $h 300 AAAA 2001:2::62")"
  ddi_expect "nsupdate/$tr replace answered" 198.18.0.62 "$(short $h A)"
  ddi_expect_match "nsupdate/$tr replace released the old address" \
    'state +free' "$("$CTL" -s "$SOCK" address show 198.18.0.61 | tr '\n' ' ')"
  ddi_expect "nsupdate/$tr AAAA answered" 2001:2::62 "$(short $h AAAA)"
  ddi_expect "nsupdate/$tr prereq yxdomain holds: NOERROR" ok "$(nsu "$K1" $opt <<<"prereq yxdomain $h
update add $h 300 TXT \"held\"")"
  ddi_expect "nsupdate/$tr TXT under a holding prereq answered" '"held"' "$(short $h TXT)"
  ddi_expect "nsupdate/$tr prereq nxdomain fails: YXDOMAIN" YXDOMAIN "$(nsu "$K1" $opt <<<"prereq nxdomain $h
update add $h 300 A 198.18.0.63")"
  ddi_expect "nsupdate/$tr prereq nxrrset fails: YXRRSET" YXRRSET "$(nsu "$K1" $opt <<<"prereq nxrrset $h A
update add $h 300 A 198.18.0.63")"
  ddi_expect "nsupdate/$tr prereq yxrrset with value fails: NXRRSET" NXRRSET "$(nsu "$K1" $opt <<<"prereq yxrrset $h A 198.18.0.99
update add $h 300 A 198.18.0.63")"
  ddi_expect "nsupdate/$tr failed prereqs changed nothing" 198.18.0.62 "$(short $h A)"
  ddi_expect "nsupdate/$tr delete name: NOERROR" ok "$(nsu "$K1" $opt <<<"update delete $h")"
  ddi_expect "nsupdate/$tr deleted name: NXDOMAIN" NXDOMAIN "$(status $h A)"

  ddi_log "knsupdate over $tr"
  h=k$tr.dyn.ddi.test.
  ddi_expect "knsupdate/$tr prereq nxdomain + add: NOERROR" NOERROR "$(knu "$K2" $kopt <<<"prereq nxdomain $h
add $h 300 A 198.18.0.71")"
  ddi_expect "knsupdate/$tr add answered" 198.18.0.71 "$(short $h A)"
  ddi_expect "knsupdate/$tr replace: NOERROR" NOERROR "$(knu "$K2" $kopt <<<"prereq yxrrset $h A 198.18.0.71
del $h A
add $h 300 A 198.18.0.72")"
  ddi_expect "knsupdate/$tr replace answered" 198.18.0.72 "$(short $h A)"
  ddi_expect "knsupdate/$tr prereq yxdomain of an absent name: NXDOMAIN" NXDOMAIN "$(knu "$K2" $kopt <<<"prereq yxdomain absent.dyn.ddi.test.
add $h 300 A 198.18.0.73")"
  ddi_expect "knsupdate/$tr delete RR: NOERROR" NOERROR "$(knu "$K2" $kopt <<<"del $h A 198.18.0.72")"
  ddi_expect "knsupdate/$tr deleted: NXDOMAIN" NXDOMAIN "$(status $h A)"
done

ddi_log "refusals: each with its rcode, nothing changed, counted and logged; authenticated ones noted once per key and reason"
before=$(seq_now)
h=bad.dyn.ddi.test.
bad_secret="hmac-sha256:ns.key:$(printf 'x%.0s' {1..32} | base64)"
out=$(ddi_cli "$TU" $S4 "hmac-sha256:nokey.:${K1##*:}" ddi.test. $h 198.18.0.81)
ddi_expect "unknown key: NOTAUTH + BADKEY, unsigned" "rcode=9 tsig_error=17 signed=0" "$out"
out=$(ddi_cli "$TU" $S4 "$bad_secret" ddi.test. $h 198.18.0.81)
ddi_expect "wrong secret: NOTAUTH + BADSIG, unsigned" "rcode=9 tsig_error=16 signed=0" "$out"
out=$(ddi_cli "$TU" $S4 "$K1" ddi.test. $h 198.18.0.81 -3600)
ddi_expect "an hour old: NOTAUTH + BADTIME, signed" "rcode=9 tsig_error=18 signed=1" "$out"
out=$(ddi_cli "$TU" $S4 "$K1" ddi.test. $h 198.18.0.81)
ddi_expect "the same request in time: NOERROR" "rcode=0 tsig_error=0 signed=1" "$out"
ddi_expect "...answered" 198.18.0.81 "$(short $h A)"
ddi_expect "nsupdate with a wrong secret: NOTAUTH(BADSIG)" "NOTAUTH(BADSIG)" "$(nsu "$bad_secret" <<<"update add x.dyn.ddi.test. 300 A 198.18.0.82")"
ddi_expect "self key: its own name granted" ok "$(nsu "$K3" <<<"update add h9.ddi.test. 300 A 198.18.0.90")"
ddi_expect "self key: another name REFUSED" REFUSED "$(nsu "$K3" <<<"update add h8.ddi.test. 300 A 198.18.0.91")"
ddi_expect "self key: another type REFUSED" REFUSED "$(nsu "$K3" <<<"update add h9.ddi.test. 300 TXT \"x\"")"
ddi_expect "foreign subnet REFUSED" REFUSED "$(nsu "$K1" <<<"update add x.dyn.ddi.test. 300 A 10.0.0.1")"
ddi_expect "foreign subnet over TCP REFUSED" REFUSED "$(nsu "$K1" -v <<<"update add x.dyn.ddi.test. 300 A 198.19.0.1")"
ddi_expect "outside the key's names REFUSED" REFUSED "$(nsu "$K1" <<<"update add www.ddi.test. 300 A 198.18.0.83")"
ddi_expect "an address of another name REFUSED" REFUSED "$(nsu "$K1" <<<"update add x.dyn.ddi.test. 300 A 198.18.0.10")"
ddi_expect "unsigned REFUSED" REFUSED "$(nsu "" <<<"update add x.dyn.ddi.test. 300 A 198.18.0.84")"
ddi_expect "refused updates changed nothing" NXDOMAIN "$(status x.dyn.ddi.test. A)"
ddi_expect "h8 not created" NXDOMAIN "$(status h8.ddi.test. A)"
ddi_expect "www unchanged" 198.18.0.10 "$(short www.ddi.test. A)"
j=$("$CTL" -s "$SOCK" journal --since $((before + 1)))
ddi_expect_match "journal: the accepted update with key and source" 'tsig:ns\.key@198\.18\.0\.2 +2 ops' "$j"
# Authenticated refusals are on record, once per (key, reason) a minute; strangers' never
ddi_expect_match "journal: self key refused another name" 'tsig:h9\.ddi\.test@198\.18\.0\.2' "$j"
ddi_expect_match "journal: foreign subnet (the first policy refusal of ns.key)" 'REFUSED: .*10\.0\.0\.1' "$j"
n=$(grep -c 'REFUSED' <<<"$j" || true)
ddi_expect "journal: one note per (key, reason): h9 policy, ns.key policy (2 of 6 refusals)" 2 "$n"
for w in 'TSIG BADKEY' 'TSIG BADSIG' 'TSIG BADTIME' 'unsigned@'; do
  if grep -q "$w" <<<"$j"; then ddi_fail "journal: nothing of a stranger's update ($w)" "$j"
  else ddi_ok "journal: nothing of a stranger's update ($w)"; fi
done
st=$("$CTL" -s "$SOCK" --json stats)
rb() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["arguments"]["ddns"]["refused_by"][sys.argv[2]])' "$st" "$1"; }
ddi_expect "stats: refused_by tsig_badkey" 1 "$(rb tsig_badkey)"
ddi_expect "stats: refused_by tsig_badsig (tsigupdate, nsupdate)" 2 "$(rb tsig_badsig)"
ddi_expect "stats: refused_by tsig_badtime" 1 "$(rb tsig_badtime)"
ddi_expect "stats: refused_by unsigned" 1 "$(rb unsigned)"
ddi_expect "stats: refused_by policy" 6 "$(rb policy)"
# stderr: every refusal is a line or counted in a "N more" line (at most 10 lines a second,
# so which of a quick series are lines depends on the clock; the counters are exact)
log=$(cat "$DDI_LOG")
ddi_expect_match "log: a TSIG refusal names reason, key and source (or is summed up)" \
  'update refused \(tsig_bad(key|sig|time)\): update ddi\.test\. NOTAUTH: TSIG BAD.* actor=tsig:[a-z0-9.]+@198\.18\.0\.2|[0-9]+ more refused updates not logged' "$log"
lines=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])["arguments"]["ddns"]
print(r["refusal_log"]["lines"] + r["refusal_log"]["suppressed"], sum(v for k, v in r["refused_by"].items() if k != "nochange"))' "$st")
ddi_expect_match "stats: every refusal logged or suppressed" '^([0-9]+) \1$' "$lines"

ddi_log "NOTIFY is answered"
out=$(ddi_cli python3 - $S4 <<'PY'
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x4242, 4 << 11 | 0x0400, 1, 0, 0, 0) + b"\x03ddi\x04test\x00" + struct.pack(">HH", 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(q, (sys.argv[1], 53)); r = s.recv(512)
print("id=%x opcode=%d qr=%d rcode=%d" % (struct.unpack(">H", r[:2])[0], (r[2] >> 3) & 15, r[2] >> 7, r[3] & 15))
PY
)
ddi_expect "NOTIFY for our zone: NOERROR" "id=4242 opcode=4 qr=1 rcode=0" "$out"

if command -v kea-dhcp-ddns >/dev/null; then
  ddi_log "kea-dhcp-ddns: NameChangeRequests add and remove a host's A and PTR"
  KS=${K4##*:}
  cat >"$DDI_TMP/d2.json" <<EOF
{ "DhcpDdns": {
  "ip-address": "127.0.0.1", "port": 53001, "dns-server-timeout": 2000,
  "ncr-protocol": "UDP", "ncr-format": "JSON",
  "tsig-keys": [ { "name": "kea.key", "algorithm": "HMAC-SHA256", "secret": "$KS" } ],
  "forward-ddns": { "ddns-domains": [ { "name": "ddi.test.", "key-name": "kea.key",
      "dns-servers": [ { "ip-address": "$S4", "port": 53 } ] } ] },
  "reverse-ddns": { "ddns-domains": [ { "name": "0.18.198.in-addr.arpa.", "key-name": "kea.key",
      "dns-servers": [ { "ip-address": "$S4", "port": 53 } ] } ] },
  "loggers": [ { "name": "kea-dhcp-ddns", "severity": "INFO",
      "output_options": [ { "output": "$DDI_TMP/d2.log" } ] } ]
} }
EOF
  KEA_PIDFILE_DIR=$DDI_TMP KEA_LOCKFILE_DIR=$DDI_TMP ip netns exec "$DDI_NS_CLI" \
    kea-dhcp-ddns -c "$DDI_TMP/d2.json" >"$DDI_TMP/d2.out" 2>&1 &
  _DDI_PIDS+=($!)
  for ((i = 0; i < 100; i++)); do   # D2 listening on its NCR port (at most 10 s)
    ddi_cli ss -Hluan 2>/dev/null | grep -q '127\.0\.0\.1:53001' && break
    sleep 0.1
  done
  ncr() {  # ncr CHANGE(0 add, 1 remove): one NCR to D2's listener, JSON after a 2-byte length
    ddi_cli python3 - "$1" <<'PY'
import json, socket, struct, sys, time
ncr = json.dumps({"change-type": int(sys.argv[1]), "forward-change": True, "reverse-change": True,
                  "fqdn": "kea-host.ddi.test.", "ip-address": "198.18.0.123",
                  "dhcid": "000101DEADBEEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01",
                  "lease-expires-on": "20991231000000", "lease-length": 3600,
                  "use-conflict-resolution": True}).encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(struct.pack(">H", len(ncr)) + ncr, ("127.0.0.1", 53001))   # D2 does not answer
PY
  }
  waitfor() {  # waitfor EXPECTED ARGS...: poll dig (at most 10 s)
    local want=$1 got i; shift
    for ((i = 0; i < 50; i++)); do
      got=$(short "$@"); [ "$got" = "$want" ] && break; sleep 0.2
    done
    printf '%s' "$got"
  }
  ncr 0
  ddi_expect "Kea add: the host's A" 198.18.0.123 "$(waitfor 198.18.0.123 kea-host.ddi.test. A)"
  ddi_expect "Kea add: the host's PTR" kea-host.ddi.test. "$(waitfor kea-host.ddi.test. -x 198.18.0.123)"
  ddi_expect "Kea add: the DHCID is stored" "AAEB3q2+7wEjRWeJq83vASNFZ4mrze8BI0VniavN7wE=" "$(short kea-host.ddi.test. DHCID | tr -d ' ')"
  ddi_expect_match "Kea add: a dynamic allocation owned by Kea's key" \
    'state +dynamic.*owner +kea\.key' "$("$CTL" -s "$SOCK" address show 198.18.0.123 | tr '\n' ' ')"
  ncr 1
  ddi_expect "Kea remove: the A is gone" "" "$(waitfor "" kea-host.ddi.test. A)"
  ddi_expect "Kea remove: the PTR is gone" "" "$(waitfor "" -x 198.18.0.123)"
  ddi_expect_match "Kea remove: the allocation is released" \
    'state +free' "$("$CTL" -s "$SOCK" address show 198.18.0.123 | tr '\n' ' ')"
  ddi_expect_match "journal: Kea's changes under its key" 'tsig:kea\.key@198\.18\.0\.2' "$("$CTL" -s "$SOCK" journal)"
else
  ddi_fail "kea-dhcp-ddns installed (scripts/deps.sh)"
fi

ddi_summary
