#!/usr/bin/env bash
# xfr.sh -- ddiplane as a primary for real secondaries: BIND 9 named and Knot DNS pull AXFR then IXFR after NOTIFY, synthesized PTRs in the reverse zones by IXFR, IPv6 and TSIG with named, REFUSED/NOTAUTH, TSIG-signed multi-message AXFR, a catalog zone Knot interprets
#
# ddiplane runs in the server namespace (lib.sh); named (198.18.0.5) and
# knotd (198.18.0.6) run in the client namespace, each with its own config,
# rundir and working directory under $DDI_TMP. ddiplane's TCP (transfers)
# and its NOTIFY (a kernel UDP socket in the server namespace) go through
# its tap, which carries 198.18.0.1/24 and 2001:2::1/64: the secondaries are
# on that link. named also listens on 2001:2::5 and pulls the IPv6 reverse
# zone from 2001:2::1, TSIG-signed; it refreshes that zone over TCP, where
# ddiplane signs its answer to a signed SOA query (the workers, over UDP, do not).
#
# Outcomes are read from both sides: ddiplane's xfr counters (ddictl stats)
# and the secondaries' logs and answers (dig against each secondary).
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig kdig nsupdate named knotd python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl; do
  [ -x "$DDI_BUILDDIR/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
NAMED=198.18.0.5
KNOT=198.18.0.6
S6=2001:2::1
NAMED6=2001:2::5
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
REV=0.18.198.in-addr.arpa.
REV6=0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.
BIG=big.test.
BIGN=8000     # records in big.test: several 64 KiB messages of a signed AXFR
CAT=catalog.invalid.

ddi_log "store: the sample zones, a generated zone of $BIGN records, keys, ACLs"
ddi_db_default "$DB"
{
  printf '$ORIGIN %s\n$TTL 3600\n@ IN SOA ns1.ddi.test. hostmaster.ddi.test. 1 3600 900 604800 300\n@ IN NS ns1.ddi.test.\n' $BIG
  python3 -c "
for i in range($BIGN):
    print('h%05d IN A 198.19.%d.%d' % (i, i // 250, i % 250 + 1))"
} >"$DDI_TMP/big.zone"
"$CTL" --db "$DB" zone import $BIG "$DDI_TMP/big.zone" >/dev/null
NSKEY=$("$CTL" --db "$DB" key add ns.key. 2>/dev/null)
XKEY=$("$CTL" --db "$DB" key add xfr.key. 2>/dev/null)
BADKEY="hmac-sha256:xfr.key:$(printf '%044d' 0 | head -c 43)="
"$CTL" --db "$DB" policy add ns.key. grant subdomain dyn.ddi.test. --prefix 198.18.0.0/24 >/dev/null
"$CTL" --db "$DB" prefix add 198.18.0.0/24 --zone ddi.test. --policy auto >/dev/null
ACL=(--transfer 198.18.0.0/24 --notify $NAMED --notify $KNOT)
"$CTL" --db "$DB" zone acl ddi.test. "${ACL[@]}" >/dev/null
"$CTL" --db "$DB" zone acl $REV "${ACL[@]}" >/dev/null
"$CTL" --db "$DB" zone acl $BIG --transfer $KNOT --transfer-key xfr.key. \
  --notify $KNOT --notify-key xfr.key. >/dev/null
"$CTL" --db "$DB" zone acl $CAT --catalog --transfer $KNOT --notify $KNOT >/dev/null
ddi_expect_match "zone acl shows what was set" 'xfr\.key' "$("$CTL" --db "$DB" zone acl $BIG)"
# the IPv6 reverse zone goes to named over IPv6 only, TSIG-signed both ways
"$CTL" --db "$DB" zone acl $REV6 --transfer 2001:2::/64 --transfer-key xfr.key. \
  --notify $NAMED6 --notify-key xfr.key. >/dev/null

CATOPT="--catalog $CAT"; [ -n "${DDI_NOCAT:-}" ] && CATOPT=
ddi_ns_setup
ddi_cli ip addr add $NAMED/24 dev ddi-c
ddi_cli ip addr add $KNOT/24 dev ddi-c
ddi_cli ip addr add $NAMED6/64 dev ddi-c nodad
ddi_start --db "$DB" --address $S4/24 --address $S6/64 --control "$SOCK" --idle-sleep-us 20 $CATOPT
ddi_wait_answer $S4 ddi.test 60

# xfr counter NAME from ddictl stats (JSON)
xc() {
  "$CTL" -s "$SOCK" --json stats 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['xfr']['$1'])"
}
# wait SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}
# the error a transfer from the primary ends with (kdig: "server replied with error 'REFUSED'")
xstatus() {
  ddi_cli kdig +timeout=3 +retry=0 "@$S4" "$@" 2>&1 | sed -n "s/.*server replied with error '\([A-Z]*\)'.*/\1/p" | head -1
}
named_has() { [ "$(ddi_cli dig +norec +time=1 +tries=1 +short "@$NAMED" "$1" "$2" 2>/dev/null)" = "$3" ]; }
knot_has() { [ "$(ddi_cli dig +norec +time=1 +tries=1 +short "@$KNOT" "$1" "$2" 2>/dev/null)" = "$3" ]; }
serial_at() { ddi_cli dig +norec +time=1 +tries=1 +short "@$1" "$2" SOA 2>/dev/null | awk '{print $3}'; }

ddi_log "refusals before any secondary: no ACL, wrong key, not our zone"
"$CTL" -s "$SOCK" record add www.ddi.test. 300 TXT probe >/dev/null   # a zone without ACL follows:
ddi_expect "AXFR of a zone with no ACL: REFUSED (RFC 5936 2.2.1)" REFUSED \
  "$(xstatus -b $NAMED 0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa. AXFR)"
# RFC 8945 5.2.2: NOTAUTH with the TSIG error BADSIG (kdig names the TSIG error)
ddi_expect "AXFR signed with a wrong key: NOTAUTH/BADSIG" BADSIG "$(xstatus -b $KNOT -y "$BADKEY" $BIG AXFR)"
ddi_expect "AXFR of big.test unsigned (its ACL names a key): REFUSED" REFUSED "$(xstatus -b $KNOT $BIG AXFR)"
ddi_expect "AXFR of big.test from outside its ACL's prefix: REFUSED" REFUSED "$(xstatus -b $NAMED $BIG AXFR)"
ddi_expect "AXFR of a zone we do not have: NOTAUTH" NOTAUTH "$(xstatus -b $NAMED example.org. AXFR)"
ddi_expect "counted: refused" 3 "$(xc refused)"
ddi_expect "counted: notauth" 2 "$(xc notauth)"

ddi_log "secondaries: named and knotd, their own config and working directories"
ND=$DDI_TMP/named
mkdir -p "$ND"
cat >"$ND/named.conf" <<EOF
options {
  directory "$ND";
  pid-file "$ND/named.pid";
  session-keyfile "$ND/session.key";
  managed-keys-directory "$ND";
  listen-on port 53 { $NAMED; };
  listen-on-v6 { $NAMED6; };
  transfer-source $NAMED;
  transfer-source-v6 $NAMED6;
  notify-source $NAMED;
  notify-source-v6 $NAMED6;
  query-source address $NAMED;
  query-source-v6 address $NAMED6;
  recursion no;
  notify no;
  dnssec-validation no;
};
controls { };
key "xfr.key" { algorithm hmac-sha256; secret "${XKEY##*:}"; };
logging {
  channel f { file "$ND/named.log"; severity info; print-time yes; print-category yes; };
  category default { f; }; category xfer-in { f; }; category notify { f; }; category general { f; };
};
zone "ddi.test" { type secondary; primaries { $S4; }; file "ddi.test.db"; };
zone "$REV" { type secondary; primaries { $S4; }; file "rev.db"; };
zone "$REV6" { type secondary; primaries { $S6 key "xfr.key"; }; file "rev6.db"; };
# refresh over TCP: ddiplane signs its answer to a signed SOA query there (control/xfr/out.c);
# the workers answer a signed SOA query over UDP unsigned, which named rejects (expected a TSIG)
server $S6 { tcp-only yes; };
EOF
# by ip netns exec, so that $! is named itself and lib.sh stops it by pid
ip netns exec "$DDI_NS_CLI" named -f -c "$ND/named.conf" >"$ND/stderr" 2>&1 &
_DDI_PIDS+=("$!")
NAMED_PID=$!

KD=$DDI_TMP/knot
mkdir -p "$KD/db"
cat >"$KD/knot.conf" <<EOF
server:
  rundir: "$KD"
  pidfile: "$KD/knot.pid"
  listen: $KNOT@53
log:
  - target: "$KD/knot.log"
    any: info
database:
  storage: "$KD/db"
key:
  - id: xfr.key
    algorithm: hmac-sha256
    secret: ${XKEY##*:}
remote:
  - id: ddi
    address: $S4@53
    via: $KNOT
  - id: ddi-key
    address: $S4@53
    key: xfr.key
    via: $KNOT
acl:
  - id: notify
    address: $S4
    action: notify
  - id: notify-key
    address: $S4
    key: xfr.key
    action: notify
template:
  - id: default
    storage: "$KD/db"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
  - id: member
    storage: "$KD/db"
    zonefile-sync: -1
    zonefile-load: none
    master: ddi
    acl: notify
zone:
  - domain: ddi.test.
    master: ddi
    acl: notify
  - domain: $REV
    master: ddi
    acl: notify
  - domain: $BIG
    master: ddi-key
    acl: notify-key
  - domain: $CAT
    master: ddi
    acl: notify
    catalog-role: interpret
    catalog-template: member
EOF
ip netns exec "$DDI_NS_CLI" knotd -c "$KD/knot.conf" >"$KD/stderr" 2>&1 &
_DDI_PIDS+=("$!")
KNOT_PID=$!

ddi_log "first transfers: AXFR"
S0=$(serial_at $S4 ddi.test)
R0=$(serial_at $S4 $REV)
if wait_for 20 named_has ns1.ddi.test A 198.18.0.1 && wait_for 20 knot_has ns1.ddi.test A 198.18.0.1; then
  ddi_ok "named and knotd answer ddi.test after their first transfer"
else
  ddi_fail "named and knotd answer ddi.test after their first transfer" \
    "$(tail -20 "$ND/named.log" "$KD/knot.log" "$ND/stderr" "$KD/stderr" 2>&1)"
fi
ddi_expect "named has the primary's serial" "$S0" "$(serial_at $NAMED ddi.test)"
ddi_expect "knotd has the primary's serial" "$S0" "$(serial_at $KNOT ddi.test)"
ddi_expect_match "knotd's log: AXFR of ddi.test finished" '\[ddi\.test\.\] AXFR, incoming, remote 198\.18\.0\.1@53.*finished' "$(cat "$KD/knot.log")"
ddi_expect_match "named's log: transfer of ddi.test completed" "transfer of 'ddi.test/IN' from $S4#53: Transfer completed" "$(cat "$ND/named.log")"
ddi_expect_match "ddiplane counted AXFRs" '^[1-9]' "$(xc axfr)"
# the reverse zone carries the PTRs the index synthesizes from ddi.test's A records
wait_for 20 named_has 10.0.18.198.in-addr.arpa PTR www.ddi.test. || true
ddi_expect "named answers a synthesized PTR" www.ddi.test. \
  "$(ddi_cli dig +norec +short @$NAMED 10.0.18.198.in-addr.arpa PTR 2>&1)"
wait_for 20 knot_has 10.0.18.198.in-addr.arpa PTR www.ddi.test. || true
ddi_expect "knotd answers a synthesized PTR" www.ddi.test. \
  "$(ddi_cli dig +norec +short @$KNOT 10.0.18.198.in-addr.arpa PTR 2>&1)"

ddi_log "IPv6 and TSIG with BIND: named pulls $REV6 from $S6, signed with xfr.key"
rev6() { python3 -c "import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).reverse_pointer)" "$1"; }
wait_for 20 named_has "$(rev6 2001:2::10)" PTR www.ddi.test. || true
ddi_expect "named answers a synthesized IPv6 PTR of $REV6" www.ddi.test. \
  "$(ddi_cli dig +norec +short @$NAMED6 "$(rev6 2001:2::10)" PTR 2>&1)"
ddi_expect_match "named's log: TSIG-signed transfer of $REV6 over IPv6" \
  "transfer of '${REV6%.}/IN' from $S6#53: connected using [0-9a-f:]+#53 TSIG xfr\.key" "$(cat "$ND/named.log")"
ddi_expect_match "named's log: it completed" "transfer of '${REV6%.}/IN' from $S6#53: Transfer completed" "$(cat "$ND/named.log")"
out=$(ddi_cli kdig +timeout=3 +retry=0 "@$S6" $REV6 AXFR 2>&1 | sed -n "s/.*server replied with error '\([A-Z]*\)'.*/\1/p" | head -1) || true
ddi_expect "AXFR of $REV6 over IPv6 without the key: REFUSED" REFUSED "$out"
ddi_expect_match "ddiplane answered named's signed SOA queries signed (counted: soa_signed)" '^[1-9]' "$(xc soa_signed)"

ddi_log "TSIG-signed AXFR of $BIGN records to knotd (RFC 8945 5.3.1, every message signed)"
LAST=$(printf 'h%05d.%s' $((BIGN - 1)) $BIG)
LASTA=198.19.$(((BIGN - 1) / 250)).$(((BIGN - 1) % 250 + 1))
if wait_for 30 knot_has "$LAST" A "$LASTA"; then ddi_ok "knotd answers the last name of big.test"
else ddi_fail "knotd answers the last name of big.test" "$(grep -i big.test "$KD/knot.log" | tail -5)"; fi
ddi_expect_match "knotd's log: signed AXFR of big.test in several messages" \
  '\[big\.test\.\] AXFR, incoming, remote 198\.18\.0\.1@53, finished, .* [2-9] messages' "$(cat "$KD/knot.log")"
out=$(ddi_cli kdig +timeout=5 +retry=0 -b $KNOT -y "$XKEY" "@$S4" $BIG AXFR 2>&1 | tail -4) || true
ddi_expect_match "kdig verifies every message of the signed AXFR of big.test" "Received [0-9]+ B \([2-9] messages, $((BIGN + 3)) records\)" "$out"
out=$(ddi_cli dig +time=5 +tries=1 -b $KNOT -y "$XKEY" "@$S4" $BIG AXFR 2>&1 | tail -3) || true
ddi_expect_match "dig verifies it too" "XFR size: $((BIGN + 3)) records \(messages [2-9]," "$out"

ddi_log "a record, an IPAM allocation and a dynamic update: NOTIFY, then IXFR"
before_ixfr=$(xc ixfr)
before_sent=$(xc notify_sent)
before_acked=$(xc notify_acked)
before_ixfr_axfr=$(xc ixfr_axfr)
S1=$S0
"$CTL" -s "$SOCK" record add rec1.ddi.test. 300 A 198.18.0.77 >/dev/null
out=$("$CTL" -s "$SOCK" alloc next 198.18.0.0/24 alloc1.ddi.test 2>&1)
ALLOC=${out%% *}
ddi_expect_match "alloc next gave an address" '^198\.18\.0\.[0-9]+$' "$ALLOC"
Rm=$(serial_at $S4 $REV)
nsout=$(printf 'server %s\nzone ddi.test.\nupdate add upd1.dyn.ddi.test. 300 A 198.18.0.88\nsend\n' $S4 |
  ddi_cli timeout 20 nsupdate -y "$NSKEY" 2>&1) && ddi_ok "nsupdate accepted" || ddi_fail "nsupdate accepted" "$nsout"
S1=$(serial_at $S4 ddi.test)
R1=$(serial_at $S4 $REV)
[ -n "$R1" ] && [ "$R1" -gt "$R0" ] && ddi_ok "the reverse zone's serial advanced with the allocation ($R0 -> $R1: its synthesized PTRs changed)" ||
  ddi_fail "the reverse zone's serial advanced with the allocation" "$R0 -> $R1"
for sec in named knot; do
  host=$NAMED; [ $sec = knot ] && host=$KNOT
  ok=1
  wait_for 20 ${sec}_has rec1.ddi.test A 198.18.0.77 || ok=0
  wait_for 10 ${sec}_has alloc1.ddi.test A "$ALLOC" || ok=0
  wait_for 10 ${sec}_has upd1.dyn.ddi.test A 198.18.0.88 || ok=0
  if [ $ok = 1 ]; then ddi_ok "$sec answers the record, the allocation and the update"
  else ddi_fail "$sec answers the record, the allocation and the update"; fi
  ddi_expect "$sec has serial $S1" "$S1" "$(serial_at $host ddi.test)"
  rev=$(awk -F. '{print $4"."$3"."$2"."$1".in-addr.arpa"}' <<<"$ALLOC")
  wait_for 20 ${sec}_has "$rev" PTR alloc1.ddi.test. || true
  ddi_expect "$sec answers the synthesized PTR of $ALLOC" alloc1.ddi.test. \
    "$(ddi_cli dig +norec +short @$host "$rev" PTR 2>&1)"
  ddi_expect "$sec has the reverse zone's serial $R1" "$R1" "$(serial_at $host $REV)"
done
ddi_expect_match "NOTIFY sent" '^[0-9]+$' "$(xc notify_sent)"
[ "$(xc notify_sent)" -gt "$before_sent" ] && ddi_ok "NOTIFY sent after the changes" || ddi_fail "NOTIFY sent after the changes"
[ "$(xc notify_acked)" -ge $((before_acked + 2)) ] && ddi_ok "NOTIFY acknowledged by both" ||
  ddi_fail "NOTIFY acknowledged by both" "acked $(xc notify_acked), before $before_acked"
ddi_expect_match "named's log: NOTIFY from ddiplane" "client @0x[0-9a-f]+ $S4#[0-9]+: received notify for zone 'ddi.test'" "$(cat "$ND/named.log")"
ddi_expect_match "knotd's log: NOTIFY from ddiplane" '\[ddi\.test\.\] notify, incoming, remote 198\.18\.0\.1@[0-9]+' "$(cat "$KD/knot.log")"
ddi_expect_match "knotd's log: IXFR of ddi.test" '\[ddi\.test\.\] IXFR, incoming, remote 198\.18\.0\.1@53.*finished' "$(cat "$KD/knot.log")"
[ "$(xc ixfr)" -ge $((before_ixfr + 2)) ] && ddi_ok "ddiplane served IXFRs from its differences" ||
  ddi_fail "ddiplane served IXFRs from its differences" "ixfr $(xc ixfr), before $before_ixfr"

ddi_log "the reverse zone's IXFR: just the synthesized PTRs that changed (store/diff.c records them)"
ddi_expect "no IXFR fell back to the whole zone" "$before_ixfr_axfr" "$(xc ixfr_axfr)"
ddi_expect_match "knotd's log: IXFR of the reverse zone" '\[0\.18\.198\.in-addr\.arpa\.\] IXFR, incoming, remote 198\.18\.0\.1@53.*finished' "$(cat "$KD/knot.log")"
# named 9.18 logs no transfer type. Its transfer to $R1 came from $R0 or a serial between
# (NOTIFYs race the three changes): an IXFR of k changes of one PTR each is 2 + 3k records,
# fewer than the AXFR's; and named answers IXFR from the journal that IXFR wrote.
nax=$(ddi_cli dig +time=5 +tries=2 -b $NAMED "@$S4" $REV AXFR +noall +answer 2>&1 | grep -c .) || true
nrec=$(sed -n "s/.*transfer of '0\.18\.198\.in-addr\.arpa\/IN' from $S4#53: Transfer completed: 1 messages, \([0-9]*\) records, .*(serial $R1)/\1/p" "$ND/named.log" | head -1)
if [ -n "$nrec" ] && [ "$nrec" -lt "$nax" ] && [ $(((nrec - 2) % 3)) = 0 ]; then
  ddi_ok "named's log: its transfer of $REV to $R1 had the IXFR shape ($nrec records, the AXFR has $nax)"
else
  ddi_fail "named's log: its transfer of $REV to $R1 had the IXFR shape" "records '$nrec', AXFR $nax"
fi
out=$(ddi_cli dig +time=5 +tries=2 "@$NAMED" $REV IXFR=$Rm +noall +answer 2>&1 | awk '{print $1, $4, $5}' | tr '\n' '|') || true
ddi_expect "named answers IXFR=$Rm of $REV from its journal: the one new PTR" \
  "$REV SOA ns1.ddi.test.|$REV SOA ns1.ddi.test.|$REV SOA ns1.ddi.test.|88.$REV PTR upd1.dyn.ddi.test.|$REV SOA ns1.ddi.test.|" "$out"
# one change (the nsupdate of upd1 -> 198.18.0.88): the IXFR carries that PTR and nothing else
out=$(ddi_cli dig +time=5 +tries=2 -b $NAMED "@$S4" $REV IXFR=$Rm +noall +answer 2>&1 | awk '{print $1, $4, $5}' | tr '\n' '|') || true
ddi_expect "IXFR=$Rm of $REV after one update: SOA $R1, SOA $Rm, SOA $R1, the new PTR, SOA $R1" \
  "$REV SOA ns1.ddi.test.|$REV SOA ns1.ddi.test.|$REV SOA ns1.ddi.test.|88.$REV PTR upd1.dyn.ddi.test.|$REV SOA ns1.ddi.test.|" "$out"
out=$(ddi_cli dig +time=5 +tries=2 -b $NAMED "@$S4" $REV IXFR=$Rm +noall +answer 2>&1 | awk '$4 == "SOA" {print $7}' | tr '\n' ' ') || true
ddi_expect "its SOA serials" "$R1 $Rm $R1 $R1 " "$out"
out=$(ddi_cli dig +time=5 +tries=2 -b $NAMED "@$S4" $REV IXFR=$R0 +noall +answer 2>&1 | awk '$4 == "PTR" {print $1, $5}' | sort | tr '\n' '|') || true
ddi_expect "IXFR=$R0 of $REV: the three new PTRs (record add, alloc next, nsupdate), nothing else" \
  "$(printf '%s\n' "77.$REV rec1.ddi.test." "88.$REV upd1.dyn.ddi.test." "${ALLOC##*.}.$REV alloc1.ddi.test." | sort | tr '\n' '|')" "$out"
ddi_log "the shape of an IXFR answer (RFC 1995 4): SOA new, SOA old, removed, SOA new, added, SOA new"
out=$(ddi_cli dig +time=2 +tries=1 -b $NAMED "@$S4" ddi.test IXFR=$S0 +noall +answer 2>&1 | awk '{print $4}' | tr '\n' ' ')
ddi_expect_match "IXFR=$S0: difference sequences framed by SOAs" '^SOA SOA (SOA )?.*A .*SOA $' "$out"
out=$(ddi_cli dig +time=2 +tries=1 -b $NAMED "@$S4" ddi.test IXFR=$S1 +noall +answer 2>&1 | awk '{print $4}' | tr '\n' ' ')
ddi_expect "IXFR at the current serial: the SOA alone" "SOA " "$out"

ddi_log "IPv6: an AAAA added, NOTIFY (signed) to named over IPv6, the PTR by a signed IXFR"
R6a=$(serial_at $S4 $REV6)
"$CTL" -s "$SOCK" record add rec6.ddi.test. 300 AAAA 2001:2::77 >/dev/null
R6b=$(serial_at $S4 $REV6)
[ -n "$R6b" ] && [ "$R6b" -gt "$R6a" ] && ddi_ok "$REV6's serial advanced ($R6a -> $R6b)" ||
  ddi_fail "$REV6's serial advanced" "$R6a -> $R6b"
wait_for 20 named_has "$(rev6 2001:2::77)" PTR rec6.ddi.test. || true
ddi_expect "named answers the new IPv6 PTR" rec6.ddi.test. \
  "$(ddi_cli dig +norec +short @$NAMED6 "$(rev6 2001:2::77)" PTR 2>&1)"
ddi_expect "named has $REV6's serial $R6b" "$R6b" "$(serial_at $NAMED6 $REV6)"
ddi_expect_match "named's log: signed NOTIFY for $REV6 from $S6" \
  "client @0x[0-9a-f]+ $S6#[0-9]+/key xfr\.key: received notify for zone '${REV6%.}'" "$(cat "$ND/named.log")"
ddi_expect_match "named's log: its transfer of $REV6 to $R6b was incremental (5 records)" \
  "transfer of '${REV6%.}/IN' from $S6#53: Transfer completed: 1 messages, 5 records, .*\(serial $R6b\)" "$(cat "$ND/named.log")"
out=$(ddi_cli dig +time=5 +tries=2 -b $NAMED6 -y "$XKEY" "@$S6" $REV6 IXFR=$R6a +noall +answer 2>&1 | awk '{print $4, $5}' | tr '\n' '|') || true
ddi_expect "signed IXFR=$R6a of $REV6 over IPv6: SOA, SOA, SOA, the new PTR, SOA" \
  "SOA ns1.ddi.test.|SOA ns1.ddi.test.|SOA ns1.ddi.test.|PTR rec6.ddi.test.|SOA ns1.ddi.test.|" "$out"

ddi_log "catalog zone (RFC 9432): knotd serves a zone created on ddiplane afterwards"
"$CTL" -s "$SOCK" zone add new.test. --ns ns1.ddi.test. >/dev/null
"$CTL" -s "$SOCK" zone acl new.test. "${ACL[@]}" >/dev/null
"$CTL" -s "$SOCK" record add www.new.test. 300 A 198.18.0.99 >/dev/null
if wait_for 30 knot_has www.new.test A 198.18.0.99; then ddi_ok "knotd serves new.test from the catalog"
else ddi_fail "knotd serves new.test from the catalog" "$(grep -i 'catalog\|new.test' "$KD/knot.log" | tail -8)"; fi
out=$(ddi_cli dig +time=2 +tries=1 -b $KNOT "@$S4" $CAT AXFR +noall +answer 2>&1)
ddi_expect_match "the catalog says version 2" 'version\.catalog\.invalid\.[[:space:]]+0[[:space:]]+IN[[:space:]]+TXT[[:space:]]+"2"' "$out"
ddi_expect_match "the catalog lists new.test" 'zones\.catalog\.invalid\.[[:space:]]+0[[:space:]]+IN[[:space:]]+PTR[[:space:]]+new\.test\.' "$out"
"$CTL" -s "$SOCK" zone remove new.test. >/dev/null
if wait_for 30 sh -c "! ip netns exec $DDI_NS_CLI dig +norec +time=1 +tries=1 @$KNOT www.new.test A | grep -q 'status: NOERROR'"; then
  ddi_ok "knotd stops serving new.test once it left the catalog"
else ddi_fail "knotd stops serving new.test once it left the catalog"; fi

ddi_log "secondaries and ddiplane still up"
ddi_alive "$NAMED_PID" && ddi_ok "named still runs" || ddi_fail "named still runs" "$(tail "$ND/stderr")"
ddi_alive "$KNOT_PID" && ddi_ok "knotd still runs" || ddi_fail "knotd still runs" "$(tail "$KD/stderr")"
ddi_alive "$DDI_PID" && ddi_ok "ddiplane still runs" || ddi_fail "ddiplane still runs"
echo "xfr counters: $("$CTL" -s "$SOCK" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["xfr"])')"
ddi_summary
