#!/usr/bin/env bash
# secondary.sh -- ddiplane as a secondary of Knot DNS: AXFR at start, NOTIFY -> IXFR, a wrong TSIG key refused, UPDATE NOTAUTH
#
# Knot DNS (knotd) is the primary of secv.test. in the client namespace on
# 198.18.0.5 (its own config, storage and run directory under $DDI_TMP,
# killed by pid), reached from ddiplane's tap through ddiplane's port:
# ddiplane's transfer client (kernel TCP/UDP on the tap) and the NOTIFY it
# receives (dataplane -> DDNS thread) cross the wire, as in production.
# Knot allows transfer and sends NOTIFY only with the TSIG key xfr.key.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig nsupdate knotd knotc; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
P4=198.18.0.5
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
KD="$DDI_TMP/knot"
Z=secv.test.
mkdir -p "$KD/storage" "$KD/run"

ddi_log "ddiplane's store: a TSIG key and the secondary zone $Z of $P4"
ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add xfr.key. 2>/dev/null)
SECRET=${KEY##*:}
out=$("$CTL" --db "$DB" zone add $Z --primary $P4 --key xfr.key 2>&1)
ddi_expect_match "zone add --primary makes a secondary zone" 'secondary zone secv\.test\. added' "$out"
out=$("$CTL" --db "$DB" zone list)
ddi_expect_match "zone list shows the role" 'secv\.test\. +secondary' "$out"
out=$("$CTL" --db "$DB" record add www.$Z 300 A 198.18.0.99 2>&1 || true)
ddi_expect_match "a record command on a secondary zone is refused, naming its primary" \
  'secv\.test\. is a secondary zone of 198\.18\.0\.5: change it on its primary' "$out"

cat >"$KD/secv.test.zone" <<ZONE
\$ORIGIN secv.test.
\$TTL 300
@    IN SOA ns1 hostmaster 100 3600 60 600 60
@    IN NS  ns1
ns1  IN A   198.18.0.5
www  IN A   198.18.0.80
ZONE
cat >"$KD/knot.conf" <<CONF
server:
    rundir: "$KD/run"
    listen: $P4@53
log:
  - target: stderr
    any: info
# Knot keeps its journal and timers in database.storage (default /var/lib/knot,
# shared by every run): each run gets its own, so the zone starts at the zone
# file's serial 100 and nothing of an earlier run is replayed.
database:
    storage: "$KD/storage"
key:
  - id: xfr.key
    algorithm: hmac-sha256
    secret: $SECRET
remote:
  - id: ddiplane
    address: $S4@53
    via: $P4
    key: xfr.key
acl:
  - id: to-ddiplane
    address: $S4
    key: xfr.key
    action: [transfer]
template:
  - id: default
    storage: "$KD/storage"
    file: "$KD/%s.zone"
    journal-content: changes
    zonefile-load: whole
    zonefile-sync: -1
    serial-policy: increment
zone:
  - domain: $Z
    notify: ddiplane
    acl: to-ddiplane
CONF

ddi_ns_setup
ddi_cli ip addr add $P4/24 dev ddi-c
# Not through ddi_cli (a function: `&` would fork a subshell and $! would be
# that subshell, not knotd): `ip netns exec` execs knotd, so $! is knotd's pid.
# lib.sh's EXIT trap (ddi_cleanup) stops it by that pid: TERM, at most 10 s,
# then KILL, and waits for it -- also when a check fails early.
ip netns exec "$DDI_NS_CLI" knotd -c "$KD/knot.conf" >"$KD/knotd.log" 2>&1 &
KNOT_PID=$!
_DDI_PIDS+=("$KNOT_PID")
knotc() { ddi_cli knotc -c "$KD/knot.conf" "$@" || true; }
for _ in $(seq 50); do knotc zone-status $Z 2>/dev/null | grep -q 'serial: 100' && break; sleep 0.1; done
ddi_expect_match "Knot loaded the zone file at serial 100 (fresh journal)" \
  'loaded, serial none -> 100' "$(cat "$KD/knotd.log")"

ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

short() { ddi_cli dig +norec +time=1 +tries=2 +short "@$S4" "$@" 2>&1; }
status() { ddi_cli dig +norec +time=1 +tries=2 "@$S4" "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
# wait_for SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do "$@" && return 0; sleep 0.25; done
  return 1
}
answers() { [ "$(short "$1" A)" = "$2" ]; }
zjson() { "$CTL" -s "$SOCK" --json zone list; }
# the serial of zone $1 in ddiplane's store (zone list), empty when unknown
zserial() { zjson | jq -r --arg z "$1" '.arguments.zones[] | select(.zone == $z) | .serial' 2>/dev/null; }
at_serial() { [ "$(zserial $Z)" = "$1" ]; }

ddi_log "initial AXFR"
# Knot is changed only after ddiplane holds serial 100: else the first
# transfer could already carry the change below
if wait_for 20 at_serial 100; then ddi_ok "zone list: the secondary zone is at the primary's serial 100"
else ddi_fail "zone list: the secondary zone is at the primary's serial 100" "$(zjson; tail -20 "$DDI_LOG")"; fi
if wait_for 20 answers www.$Z 198.18.0.80; then ddi_ok "the zone transferred at start answers through the dataplane"
else ddi_fail "the zone transferred at start answers through the dataplane" "$(short www.$Z A; zjson; tail -20 "$DDI_LOG")"; fi
ddi_expect_match "its SOA is the primary's (serial 100)" ' 100 3600 60 600 60$' "$(short $Z SOA)"
ddi_expect_match "zone list: last transfer AXFR, no error" '"last_transfer": "AXFR"' "$(zjson)"

ddi_log "a change on Knot -> NOTIFY -> IXFR"
knotc zone-begin $Z >/dev/null
knotc zone-set $Z new 300 A 198.18.0.77 >/dev/null
knotc zone-unset $Z www A 198.18.0.80 >/dev/null
knotc zone-set $Z www 300 A 198.18.0.81 >/dev/null
knotc zone-commit $Z >/dev/null
ddi_expect "Knot took the change (serial 101)" "101" \
  "$(ddi_cli dig +norec +time=1 +tries=2 +short @$P4 $Z SOA | awk '{print $3}')"
if wait_for 15 answers new.$Z 198.18.0.77; then ddi_ok "the change is answered after Knot's NOTIFY"
else ddi_fail "the change is answered after Knot's NOTIFY" "$(zjson; tail -20 "$DDI_LOG"; tail -20 "$KD/knotd.log")"; fi
ddi_expect "a replaced record follows" "198.18.0.81" "$(short www.$Z A)"
ddi_expect_match "zone list: last transfer IXFR" '"last_transfer": "IXFR"' "$(zjson)"
ddi_expect_match "ddiplane logged the IXFR" 'secv\.test\.: IXFR, serial 101' "$(cat "$DDI_LOG")"

ddi_expect_match "Knot's NOTIFY (from $P4, signed) was answered NOERROR" \
  'notify, outgoing, remote 198\.18\.0\.1@53, serial 101' "$(cat "$KD/knotd.log")"

ddi_log "zone acl on a secondary keeps its primaries"
"$CTL" -s "$SOCK" zone acl $Z --transfer 198.18.0.0/24 >/dev/null
ddi_expect_match "the ACL is set beside the primaries" \
  '"primaries".*198\.18\.0\.5.*"transfer"' "$("$CTL" -s "$SOCK" --json zone acl $Z | tr -d ' \n')"
"$CTL" -s "$SOCK" zone acl $Z --clear >/dev/null
out=$("$CTL" -s "$SOCK" --json zone acl $Z | tr -d ' \n')
ddi_expect_match "--clear keeps the primaries and the key" '"primaries":\["198\.18\.0\.5"\].*"primary_key":"xfr\.key\."' "$out"
ddi_expect "--clear removed the transfer rules" "" "$(printf '%s' "$out" | grep -o '"transfer"')"
ddi_expect_match "zone list still names the primary" '"primaries": "198\.18\.0\.5' "$(zjson)"

ddi_log "a transfer with a wrong key is refused; the zone keeps its answers"
"$CTL" -s "$SOCK" key remove xfr.key. >/dev/null
"$CTL" -s "$SOCK" key add xfr.key. >/dev/null   # a new secret: no longer Knot's
knotc zone-begin $Z >/dev/null
knotc zone-set $Z late 300 A 198.18.0.78 >/dev/null
knotc zone-commit $Z >/dev/null
"$CTL" -s "$SOCK" zone refresh $Z --force >/dev/null
if wait_for 10 sh -c "'$CTL' -s '$SOCK' --json zone list | grep -q '\"last_error\": \".*TSIG'"; then
  ddi_ok "the zone's last error says TSIG"
else ddi_fail "the zone's last error says TSIG" "$(zjson)"; fi
ddi_expect "the refused transfer changed nothing (old answer kept)" "198.18.0.81" "$(short www.$Z A)"
ddi_expect "the refused transfer changed nothing (no new name)" "NXDOMAIN" "$(status late.$Z A)"
ddi_expect_match "the refusal is logged" 'secv\.test\.: refresh failed: .*TSIG' "$(cat "$DDI_LOG")"

ddi_log "UPDATE to the secondary zone: NOTAUTH (RFC 2136 3.1)"
out=$( { printf 'server %s\nzone %s\nupdate add x.%s 300 A 198.18.0.9\nsend\n' $S4 $Z $Z; } |
       ddi_cli timeout 20 nsupdate 2>&1 || true)
ddi_expect_match "UPDATE gets NOTAUTH" 'NOTAUTH' "$out"

ddi_expect_match "zone list shows the next refresh" '"next_refresh": [1-9]' "$(zjson)"

ddi_summary
