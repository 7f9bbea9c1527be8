#!/usr/bin/env bash
# gsstsig.sh -- GSS-TSIG (RFC 3645) against a real MIT KDC with BIND's nsupdate -g, Kerberos principals in the update policy, and the per-rule TTL policy (clamp, refuse, default)
#
# The test starts its own KDC (krb5kdc, realm DDI.TEST, its kdc.conf,
# krb5.conf and database in the test's temporary folder, KRB5_CONFIG) on
# the client namespace's loopback: ddiplane never talks to it, it only
# holds the keytab of DNS/ns1.ddi.test@DDI.TEST (ns1.ddi.test. is the SOA
# MNAME of ddi.test., which nsupdate -g names the service after). Clients
# get tickets with kinit -k from their own keytabs; every change is checked
# with dig through ddiplane's dataplane.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig nsupdate krb5kdc kdb5_util kadmin.local kinit klist python3 curl; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl; do
  [ -x "$DDI_BUILDDIR/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
K="$DDI_TMP/krb5"
REALM=DDI.TEST
# a port of our own on the client namespace's loopback: nothing else listens there
KDC_PORT=$((20000 + DDI_ID % 20000))
mkdir -p "$K"

ddi_log "a KDC of our own: realm $REALM, database and config in $K"
cat >"$K/krb5.conf" <<EOF
[libdefaults]
  default_realm = $REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
[realms]
  $REALM = {
    kdc = 127.0.0.1:$KDC_PORT
  }
EOF
cat >"$K/kdc.conf" <<EOF
[kdcdefaults]
  kdc_ports = $KDC_PORT
  kdc_tcp_ports = $KDC_PORT
[realms]
  $REALM = {
    database_name = $K/principal
    key_stash_file = $K/stash
    acl_file = $K/kadm5.acl
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }
[logging]
  kdc = FILE:$K/kdc.log
EOF
: >"$K/kadm5.acl"
export KRB5_CONFIG="$K/krb5.conf" KRB5_KDC_PROFILE="$K/kdc.conf"
# the acceptor's replay cache in our folder, not the system's /var/tmp
export KRB5RCACHEDIR="$K"
kdb5_util create -s -r $REALM -P "test-master-$DDI_ID" >/dev/null 2>&1
kad() { kadmin.local -r $REALM -q "$1" >/dev/null 2>&1; }
kad "addprinc -randkey DNS/ns1.ddi.test@$REALM"
kad "ktadd -k $K/dns.keytab DNS/ns1.ddi.test@$REALM"
kad "addprinc -randkey host/h1.ddi.test@$REALM"
kad "ktadd -k $K/h1.keytab host/h1.ddi.test@$REALM"
kad "addprinc -randkey WIN7\$@$REALM"          # a Windows machine account
kad "ktadd -k $K/win7.keytab WIN7\$@$REALM"
kad "addprinc -randkey alice@$REALM"           # a user: only the realm-wide rule
kad "ktadd -k $K/alice.keytab alice@$REALM"
for f in dns h1 win7 alice; do
  [ -s "$K/$f.keytab" ] || { echo "kadmin.local made no $f.keytab"; exit 1; }
done

ddi_log "store: sample zones, principals and TTL rules"
ddi_db_default "$DB"
P="$CTL --db $DB policy add"
$P "host/h1.ddi.test@$REALM" grant self ddi.test. A AAAA >/dev/null
$P "@$REALM" grant self ddi.test. A >/dev/null                 # every host its own name
$P "@$REALM" grant subdomain realm.ddi.test. A TXT >/dev/null  # and anyone of the realm here
KT=$("$CTL" --db "$DB" key add ttl.key. 2>/dev/null)
$P ttl.key. grant subdomain clamp.ddi.test. A --ttl-default 120 --ttl-min 60 --ttl-max 600 >/dev/null
$P ttl.key. grant subdomain refuse.ddi.test. A --ttl-min 60 --ttl-max 600 --ttl-over refuse >/dev/null
pl=$("$CTL" --db "$DB" policy list)
ddi_expect_match "policy list shows a principal's rule" 'host/h1\.ddi\.test\\@ddi\.test\. +0  grant self ddi\.test\. A AAAA' "$pl"
ddi_expect_match "policy list shows the TTL policy" 'grant subdomain refuse\.ddi\.test\. A --ttl-min 60 --ttl-max 600 --ttl-over refuse' "$pl"
out=$("$CTL" --db "$DB" policy add ttl.key. grant name x.ddi.test. A --ttl-min 600 --ttl-max 60 2>&1 || true)
ddi_expect_match "min above max refused with a reason" 'ttl-min is above --ttl-max' "$out"
out=$("$CTL" --db "$DB" policy add ttl.key. grant name x.ddi.test. A --ttl-over sometimes 2>&1 || true)
ddi_expect_match "a bad --ttl-over refused with a reason" 'clamp or refuse' "$out"

ddi_ns_setup
ddi_cli env KRB5_CONFIG="$KRB5_CONFIG" KRB5_KDC_PROFILE="$KRB5_KDC_PROFILE" krb5kdc -n -r $REALM \
  -P "$K/kdc.pid" >"$K/kdc.out" 2>&1 &
_DDI_PIDS+=("$!")
# a principal the keytab does not hold: ddiplane refuses to start, saying why
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --gss-principal "DNS/nope.ddi.test@$REALM" \
  --gss-keytab "$K/dns.keytab"
for ((i = 0; i < 100; i++)); do ddi_alive "$DDI_PID" || break; sleep 0.2; done
if ddi_alive "$DDI_PID"; then ddi_fail "no credentials: ddiplane does not start"; ddi_stop; else ddi_ok "no credentials: ddiplane does not start"; fi
ddi_expect_match "and says why" "GSS-TSIG: no credentials for DNS/nope.ddi.test@$REALM in $K/dns.keytab" "$(cat "$DDI_LOG")"
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20 --metrics 127.0.0.1:9153 \
  --gss-principal "DNS/ns1.ddi.test@$REALM" --gss-keytab "$K/dns.keytab" --gss-max-contexts 16
ddi_wait_answer $S4 ddi.test 60

# a ticket for principal $1 from keytab $2 into credentials cache $3
ticket() {
  local i
  for ((i = 0; i < 20; i++)); do
    ddi_cli env KRB5_CONFIG="$KRB5_CONFIG" KRB5CCNAME="FILE:$3" kinit -k -t "$2" "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "kinit $1 failed; KDC log:" >&2; cat "$K/kdc.log" "$K/kdc.out" >&2 || true
  return 1
}
ticket "host/h1.ddi.test@$REALM" "$K/h1.keytab" "$K/cc.h1"
ticket "WIN7\$@$REALM" "$K/win7.keytab" "$K/cc.win7"
ticket "alice@$REALM" "$K/alice.keytab" "$K/cc.alice"
ddi_expect_match "kinit -k got a ticket from the test's KDC" "host/h1.ddi.test@$REALM" \
  "$(ddi_cli env KRB5_CONFIG="$KRB5_CONFIG" KRB5CCNAME="FILE:$K/cc.h1" klist 2>&1)"

short() { ddi_cli dig +norec +time=1 +tries=2 +short "@$S4" "$@" 2>&1 | sort; }
ttl_of() { ddi_cli dig +norec +time=1 +tries=2 +noall +answer "@$S4" "$1" A 2>&1 | awk '{print $2}' | head -1; }
# gsu CCACHE [nsupdate options] <<< "commands": "ok", or the rcode / the failure nsupdate printed
gsu() {
  local cc=$1; shift
  local out
  if out=$( { printf 'server %s\nzone ddi.test.\n' $S4; cat; printf 'send\n'; } |
            ddi_cli env KRB5_CONFIG="$KRB5_CONFIG" KRB5CCNAME="FILE:$cc" timeout 30 nsupdate -g "$@" 2>&1); then
    echo ok
  else
    echo "$out" >>"$DDI_TMP/nsupdate.log"
    sed -n 's/.*update failed: \([A-Z]*\).*/\1/p; t; s/.*\(tkey query failed\).*/\1/p; t; s/.*\(GSSAPI\|gss\|[Cc]redential\).*/no-credentials/p' <<<"$out" | head -1
  fi
}
nsu() {
  local key=$1; shift
  local out
  if out=$( { printf 'server %s\nzone ddi.test.\n' $S4; cat; printf 'send\n'; } |
            ddi_cli timeout 20 nsupdate -y "$key" "$@" 2>&1); then echo ok
  else sed -n 's/.*update failed: \([A-Z]*\).*/\1/p' <<<"$out" | head -1; fi
}

ddi_log "nsupdate -g: a host principal changes its own name (TKEY over TCP, update over UDP)"
ddi_expect "h1 adds h1.ddi.test.: NOERROR" ok "$(gsu "$K/cc.h1" <<<"update add h1.ddi.test. 300 A 198.18.0.71")"
ddi_expect "h1.ddi.test. answered by the dataplane" 198.18.0.71 "$(short h1.ddi.test. A)"
ddi_expect "h1 over TCP (-v) adds its AAAA: NOERROR" ok "$(gsu "$K/cc.h1" -v <<<"update add h1.ddi.test. 300 AAAA 2001:2::71")"
ddi_expect "h1.ddi.test. AAAA answered" 2001:2::71 "$(short h1.ddi.test. AAAA)"
ddi_expect "h1 may not change h2.ddi.test.: REFUSED" REFUSED "$(gsu "$K/cc.h1" <<<"update add h2.ddi.test. 300 A 198.18.0.72")"
ddi_expect "h2.ddi.test. not added" "" "$(short h2.ddi.test. A)"
ddi_expect "h1 may add under the realm-wide subdomain" ok "$(gsu "$K/cc.h1" <<<"update add a.realm.ddi.test. 300 A 198.18.0.73")"
ddi_expect "a.realm.ddi.test. answered" 198.18.0.73 "$(short a.realm.ddi.test. A)"

ddi_log "a Windows machine account (WIN7\$) registers its own name, a user only where the realm may"
ddi_expect "WIN7\$ adds win7.ddi.test.: NOERROR" ok "$(gsu "$K/cc.win7" <<<"update add win7.ddi.test. 300 A 198.18.0.74")"
ddi_expect "win7.ddi.test. answered" 198.18.0.74 "$(short win7.ddi.test. A)"
ddi_expect "WIN7\$ may not change h1.ddi.test.: REFUSED" REFUSED "$(gsu "$K/cc.win7" <<<"update delete h1.ddi.test. A")"
ddi_expect "h1.ddi.test. still there" 198.18.0.71 "$(short h1.ddi.test. A)"
ddi_expect "alice (a user) may not add alice.ddi.test.: REFUSED" REFUSED "$(gsu "$K/cc.alice" <<<"update add alice.ddi.test. 300 A 198.18.0.75")"
ddi_expect "alice may add under realm.ddi.test." ok "$(gsu "$K/cc.alice" <<<"update add b.realm.ddi.test. 300 TXT \"alice\"")"
ddi_expect "b.realm.ddi.test. TXT answered" '"alice"' "$(short b.realm.ddi.test. TXT)"

ddi_log "no ticket: nsupdate -g cannot negotiate, an unsigned update is refused"
# (BIND 9.18's nsupdate -g dies of SIGSEGV in start_gssrequest with an empty
# credentials cache, before it sends any TKEY: the failure is the client's;
# what ddiplane must show is that nothing was negotiated or changed)
est() { "$CTL" -s "$SOCK" --json stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["ddns"]["gss"]["established"])'; }
e0=$(est)
: >"$K/cc.none"
r=$(gsu "$K/cc.none" <<<"update add h3.ddi.test. 300 A 198.18.0.76")
if [ "$r" != ok ]; then ddi_ok "nsupdate -g without a ticket fails (${r:-killed})"; else ddi_fail "nsupdate -g without a ticket fails" "$r"; fi
ddi_expect "no GSS-TSIG context established without a ticket" "$e0" "$(est)"
out=$( { printf 'server %s\nzone ddi.test.\nupdate add h3.ddi.test. 300 A 198.18.0.76\nsend\n' $S4; } | ddi_cli timeout 20 nsupdate 2>&1 || true)
ddi_expect_match "the same update unsigned: REFUSED" 'update failed: REFUSED' "$out"
ddi_expect "h3.ddi.test. not added" "" "$(short h3.ddi.test. A)"

ddi_log "TKEY with a token that is no Kerberos ticket: BADKEY, and nothing kept"
tk=$(ddi_cli python3 - "$S4" <<'EOF'
import socket, struct, sys, time
def name(s):
    return b"".join(bytes([len(l)]) + l.encode() for l in s.rstrip(".").split(".")) + b"\0"
kn = name("junk.sig-test.")
hdr = struct.pack("!HHHHHH", 0x4242, 0, 1, 0, 0, 1)
q = kn + struct.pack("!HH", 249, 255)
now = int(time.time())
tok = b"\x60\x10not-a-kerberos-token"
rd = name("gss-tsig.") + struct.pack("!IIHHH", now, now + 3600, 3, 0, len(tok)) + tok + struct.pack("!H", 0)
rr = kn + struct.pack("!HHIH", 249, 255, 0, len(rd)) + rd
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.sendto(hdr + q + rr, (sys.argv[1], 53))
r = s.recv(4096)
rcode = r[3] & 15
an = struct.unpack("!H", r[6:8])[0]
p = 12 + len(q)
# answer: pointer name (2) + type class ttl rdlen (10), then alg name, 4+4, mode, error
p += 12 + len(name("gss-tsig."))
mode, err = struct.unpack("!HH", r[p + 8:p + 12]) if an else (0, 0)
print("rcode=%d an=%d mode=%d error=%d" % (rcode, an, mode, err))
EOF
)
ddi_expect "TKEY with a bogus token over UDP: TKEY error BADKEY (17)" "rcode=0 an=1 mode=3 error=17" "$tk"

ddi_log "TTL policy: clamp to the bounds, the default for TTL 0, refuse outside the bounds"
ddi_expect "3600 under the clamp rule: NOERROR" ok "$(nsu "$KT" <<<"update add a.clamp.ddi.test. 3600 A 198.18.0.81")"
ddi_expect "clamped to the maximum 600" 600 "$(ttl_of a.clamp.ddi.test.)"
ddi_expect "5 under the clamp rule: NOERROR" ok "$(nsu "$KT" <<<"update add b.clamp.ddi.test. 5 A 198.18.0.82")"
ddi_expect "raised to the minimum 60" 60 "$(ttl_of b.clamp.ddi.test.)"
ddi_expect "0 under the clamp rule: NOERROR" ok "$(nsu "$KT" <<<"update add c.clamp.ddi.test. 0 A 198.18.0.83")"
ddi_expect "TTL 0 got the rule's default 120" 120 "$(ttl_of c.clamp.ddi.test.)"
ddi_expect "300 under the clamp rule kept" ok "$(nsu "$KT" <<<"update add d.clamp.ddi.test. 300 A 198.18.0.84")"
ddi_expect "TTL 300 as asked" 300 "$(ttl_of d.clamp.ddi.test.)"
ddi_expect "3600 under the refuse rule: REFUSED" REFUSED "$(nsu "$KT" <<<"update add a.refuse.ddi.test. 3600 A 198.18.0.85")"
ddi_expect "a.refuse.ddi.test. not added" "" "$(short a.refuse.ddi.test. A)"
ddi_expect "5 under the refuse rule: REFUSED" REFUSED "$(nsu "$KT" <<<"update add b.refuse.ddi.test. 5 A 198.18.0.86")"
ddi_expect "b.refuse.ddi.test. not added" "" "$(short b.refuse.ddi.test. A)"
ddi_expect "300 under the refuse rule: NOERROR" ok "$(nsu "$KT" <<<"update add c.refuse.ddi.test. 300 A 198.18.0.87")"
ddi_expect "c.refuse.ddi.test. answered with TTL 300" 300 "$(ttl_of c.refuse.ddi.test.)"

ddi_log "a second client (python3-gssapi, its own RFC 3645 digests): answers' MICs, a forged MIC, key deletion"
if /usr/bin/python3 -c 'import gssapi' 2>/dev/null; then
  for tr in udp tcp; do
    out=$(ddi_cli env KRB5_CONFIG="$KRB5_CONFIG" KRB5CCNAME="FILE:$K/cc.alice" timeout 30 /usr/bin/python3 \
          "$DDI_SRCDIR/tests/integration/gss_client.py" $S4 "DNS/ns1.ddi.test@$REALM" ddi.test. \
          "py.realm.ddi.test." $tr 2>&1 || true)
    ddi_expect_match "py/$tr: TKEY negotiated" '^tkey: ok$' "$out"
    ddi_expect_match "py/$tr: signed UPDATE NOERROR, the answer's MIC verifies" '^update: NOERROR  signed-ok$' "$out"
    [ $tr = udp ] && ddi_expect_match "py/udp: a gss-tsig signed SOA query: answered, the answer's MIC verifies" \
      '^query: NOERROR  signed-ok an=1$' "$out"
    ddi_expect_match "py/$tr: a forged MIC is NOTAUTH/BADSIG" '^forged: NOTAUTH BADSIG$' "$out"
    ddi_expect_match "py/$tr: TKEY mode 5 deletes the key (signed answer)" '^delete: NOERROR mode=5 error=0 signed-ok$' "$out"
    ddi_expect_match "py/$tr: the deleted key is unknown: NOTAUTH/BADKEY" '^after: NOTAUTH BADKEY$' "$out"
    ddi_expect "py/$tr: the signed update landed, the others did not" "\"py-$tr\"" "$(short py.realm.ddi.test. TXT | grep "py-$tr")"
  done
  ddi_expect "py: no forged or late TXT" "" "$(short py.realm.ddi.test. TXT | grep -E 'forged|after-delete')"
else
  ddi_fail "python3-gssapi is missing (scripts/deps.sh installs it)"
fi

ddi_log "counters and the journal"
m=$("$CTL" -s "$SOCK" --json stats 2>&1 || true)
ddi_expect_match "GSS-TSIG contexts established are counted" '"established": [1-9]' "$m"
ddi_expect_match "a bogus TKEY is counted as rejected" '"rejected": [1-9]' "$m"
m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics 2>&1 || true)
ddi_expect_match "/metrics: GSS-TSIG outcomes" 'ddiplane_gss_total\{outcome="established"\} [1-9]' "$m"
ddi_expect_match "/metrics: forged MICs counted" 'ddiplane_gss_total\{outcome="mic_bad"\} [1-9]' "$m"
ddi_expect_match "/metrics: live contexts" 'ddiplane_gss_contexts [0-9]' "$m"
j=$("$CTL" -s "$SOCK" journal 2>&1 || true)
ddi_expect_match "the journal names the principal as actor" 'tsig:host/h1\.ddi\.test.*@198\.18\.0\.2' "$j"

ddi_log "the context table is bounded: live keys fill --gss-max-contexts 16, then TKEY is refused"
gstat() { "$CTL" -s "$SOCK" --json stats 2>/dev/null | python3 -c 'import json,sys; g=json.load(sys.stdin)["arguments"]["ddns"]["gss"]; print(g["'"$1"'"])'; }
for ((i = 0; i < 24; i++)); do
  r=$(gsu "$K/cc.alice" <<<"update add c$i.realm.ddi.test. 300 TXT \"$i\"")
  [ "$r" = ok ] || break
done
ddi_expect_match "a negotiation past the bound fails (after $i more)" '^[^o]|^$' "$r"
ddi_expect "the table holds exactly --gss-max-contexts keys" 16 "$(gstat contexts)"
ddi_expect_match "the refusals are counted (table_full)" '^[1-9]' "$(gstat table_full)"
ddi_expect "an update after the refusal did not land" "" "$(short c$i.realm.ddi.test. TXT)"

ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
if ! ddi_summary; then
  echo "--- nsupdate failures" >&2; cat "$DDI_TMP/nsupdate.log" >&2 2>/dev/null || true
  echo "--- ddiplane log" >&2; tail -50 "$DDI_LOG" >&2
  exit 1
fi
