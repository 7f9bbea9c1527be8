#!/usr/bin/env bash
# catalog.sh -- ddiplane consumes Knot DNS's catalog zone (RFC 9432 v2): members added on Knot appear and are answered, members removed disappear
#
# Knot DNS (knotd) in the client namespace on 198.18.0.5 (its own config,
# database storage and run directory under $DDI_TMP, stopped by pid) is the
# primary of the catalog cat.test. it generates (catalog-role: generate)
# and of its member zones (catalog-role: member), all TSIG-signed with
# xfr.key. ddiplane gets only `ddictl catalog add cat.test --primary
# 198.18.0.5 --key xfr.key`: every member zone must follow from the catalog.
# Zones are added to and removed from Knot by editing its config and
# `knotc reload`; Knot regenerates the catalog and NOTIFYs ddiplane.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig knotd knotc jq; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
P4=198.18.0.5
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
KD="$DDI_TMP/knot"
CAT=cat.test.
mkdir -p "$KD/storage" "$KD/run"

ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add xfr.key. 2>/dev/null)
SECRET=${KEY##*:}

zonefile() {   # zonefile NAME ADDR: a member zone of Knot with www -> ADDR
  cat >"$KD/${1%.}.zone" <<ZONE
\$ORIGIN $1
\$TTL 300
@    IN SOA ns1 hostmaster 1 3600 60 600 60
@    IN NS  ns1
ns1  IN A   $P4
www  IN A   $2
ZONE
}
# knot_conf MEMBER...: Knot's config with these member zones
knot_conf() {
  cat >"$KD/knot.conf" <<CONF
server:
    rundir: "$KD/run"
    listen: $P4@53
log:
  - target: stderr
    any: info
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
    zonefile-sync: -1
    notify: ddiplane
    acl: to-ddiplane
zone:
  - domain: $CAT
    catalog-role: generate
CONF
  local m
  for m in "$@"; do
    printf '  - domain: %s\n    catalog-role: member\n    catalog-zone: %s\n' "$m" "$CAT" >>"$KD/knot.conf"
  done
}
zonefile m1.test. 198.18.0.81
zonefile m2.test. 198.18.0.82
knot_conf m1.test.

ddi_ns_setup
ddi_cli ip addr add $P4/24 dev ddi-c
# `ip netns exec` execs knotd: $! is knotd, stopped by pid by lib.sh's EXIT trap
ip netns exec "$DDI_NS_CLI" knotd -c "$KD/knot.conf" >"$KD/knotd.log" 2>&1 &
KNOT_PID=$!
_DDI_PIDS+=("$KNOT_PID")
knotc() { ddi_cli knotc -c "$KD/knot.conf" "$@" || true; }

ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --metrics 127.0.0.1:9153 --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

short() { ddi_cli dig +norec +time=1 +tries=2 +short "@$S4" "$@" 2>&1; }
status() { ddi_cli dig +norec +time=1 +tries=2 "@$S4" "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
wait_for() {   # wait_for SECS CMD...: until CMD succeeds, at most SECS seconds
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do "$@" && return 0; sleep 0.25; done
  return 1
}
answers() { [ "$(short "$1" A)" = "$2" ]; }
gone() { [ "$(status "$1" A)" != NOERROR ] && ! zjson | grep -q "\"zone\": \"$2\""; }
zjson() { "$CTL" -s "$SOCK" --json zone list; }
why() { zjson; "$CTL" -s "$SOCK" catalog list; tail -15 "$DDI_LOG"; tail -15 "$KD/knotd.log"; }

for _ in $(seq 50); do knotc zone-status m1.test. 2>/dev/null | grep -q 'serial: 1' && break; sleep 0.1; done
ddi_expect_match "Knot generated its catalog" 'cat\.test\..*serial' "$(knotc zone-status $CAT)"

ddi_log "catalog add: the only configuration ddiplane gets"
out=$("$CTL" -s "$SOCK" catalog add $CAT --primary $P4 --key xfr.key 2>&1)
ddi_expect_match "catalog add" 'catalog cat\.test\. added' "$out"
out=$("$CTL" -s "$SOCK" catalog add bad.test --primary 198.18.0.5@99999 2>&1 || true)
ddi_expect_match "a bad primary is refused" 'not ADDR\[@PORT\]' "$out"

if wait_for 30 answers www.m1.test 198.18.0.81; then ddi_ok "m1.test (from Knot's catalog) is answered through the dataplane"
else ddi_fail "m1.test (from Knot's catalog) is answered through the dataplane" "$(why)"; fi
out=$(zjson)
ddi_expect "zone list: m1.test. is a catalog member" "catalog member cat.test." \
  "$(jq -r '.arguments.zones[] | select(.zone == "m1.test.") | "\(.role) \(.catalog)"' <<<"$out")"
ddi_expect "zone list: cat.test. is a catalog" "catalog" \
  "$(jq -r '.arguments.zones[] | select(.zone == "cat.test.") | .role' <<<"$out")"
ddi_expect "m1.test. follows Knot with the catalog's primary" "198.18.0.5" \
  "$(jq -r '.arguments.zones[] | select(.zone == "m1.test.") | .primaries' <<<"$out")"
out=$("$CTL" -s "$SOCK" --json catalog list)
ddi_expect "catalog list: one member zone, no error" "1 " \
  "$(jq -r '.arguments.catalogs[0] | "\(.member_zones) \(.catalog_error)"' <<<"$out")"
ddi_expect_match "the member was added by actor catalog:cat.test." 'catalog:cat\.test\.' \
  "$("$CTL" -s "$SOCK" journal 2>&1 | grep -B1 'zone-add *m1\.test' | head -1)"

ddi_log "a zone added on Knot appears on ddiplane"
knot_conf m1.test. m2.test.
knotc reload >/dev/null
if wait_for 30 answers www.m2.test 198.18.0.82; then ddi_ok "m2.test, added to Knot's catalog, is answered by ddiplane"
else ddi_fail "m2.test, added to Knot's catalog, is answered by ddiplane" "$(why)"; fi
if wait_for 10 answers www.m1.test 198.18.0.81; then ddi_ok "m1.test still answers"   # bounded: one lost answer on a loaded machine is no failure
else ddi_fail "m1.test still answers" "$(short www.m1.test A)"; fi

ddi_log "a zone removed from Knot's catalog disappears from ddiplane"
knot_conf m2.test.
knotc reload >/dev/null
if wait_for 30 gone www.m1.test m1.test.; then ddi_ok "m1.test, removed from Knot's catalog, is no longer served"
else ddi_fail "m1.test, removed from Knot's catalog, is no longer served" "$(status www.m1.test A; why)"; fi
if wait_for 10 answers www.m2.test 198.18.0.82; then ddi_ok "m2.test stays"   # bounded: one lost answer on a loaded machine is no failure
else ddi_fail "m2.test stays" "$(short www.m2.test A)"; fi
ddi_expect_match "ddiplane logged the catalog's changes" '1 removed.*actor=catalog:cat\.test\.' "$(cat "$DDI_LOG")"
ddi_expect_match "the catalog was refreshed by IXFR after Knot's NOTIFY" 'cat\.test\.: IXFR' "$(cat "$DDI_LOG")"

m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)
ddi_expect_match "metrics: members added" '^ddiplane_catalog_total\{outcome="added"\} 2$' "$m"
ddi_expect_match "metrics: members removed" '^ddiplane_catalog_total\{outcome="removed"\} 1$' "$m"
ddi_expect_match "metrics: the catalog's members and state" \
  'ddiplane_catalog_members\{catalog="cat\.test\."\} 1.*ddiplane_catalog_ok\{catalog="cat\.test\."\} 1' "$(tr '\n' ' ' <<<"$m")"

ddi_log "a zone of ours is never taken over by a catalog"
zonefile ddi.test. 198.18.0.66
knot_conf m2.test. ddi.test.
knotc reload >/dev/null
wait_for 15 sh -c "'$CTL' -s '$SOCK' --json catalog list | grep -q '\"members_listed\": 2'" || true
ddi_expect_match "ddi.test (a primary zone of ours) is left alone" 'ddi\.test\. is already a zone of ours' "$(cat "$DDI_LOG")"
ddi_expect_match "metrics: the conflict is counted" '^ddiplane_catalog_total\{outcome="conflict"\} [1-9]' \
  "$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)"
ddi_expect "ddi.test is still ours" "primary" \
  "$(zjson | jq -r '.arguments.zones[] | select(.zone == "ddi.test.") | .role')"

ddi_log "catalog remove takes the members it added"
out=$("$CTL" -s "$SOCK" catalog remove $CAT 2>&1)
ddi_expect_match "catalog remove" 'removed with its 1 member zone' "$out"
if wait_for 10 gone www.m2.test m2.test.; then ddi_ok "m2.test is gone with its catalog"
else ddi_fail "m2.test is gone with its catalog" "$(why)"; fi
ddi_expect "ddi.test stays" "primary" "$(zjson | jq -r '.arguments.zones[] | select(.zone == "ddi.test.") | .role')"
ddi_alive "$KNOT_PID" && ddi_ok "knotd still runs" || ddi_fail "knotd still runs" "$(tail "$KD/knotd.log")"

ddi_summary
