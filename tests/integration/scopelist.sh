#!/usr/bin/env bash
# scopelist.sh -- lists seen by a scoped principal: a token (HTTP API) and a Unix user (control socket) scoped to one zone and one prefix see only their rows of every list, the journal included; admin sees all
#
# Two tenants: zone ta.test. with prefix 198.18.20.0/24, zone tb.test. with
# 198.18.21.0/24. The scoped principals belong to tenant A; the raw bodies
# they get must not hold one name or value of tenant B.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in curl openssl python3 useradd userdel runuser; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

CTL="$DDI_BUILDDIR/ddictl"
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
PORT=18444
BASE="https://127.0.0.1:$PORT/api/v1"
TUSER="ddisl$$"   # a Unix user of this run only, removed by the trap
TUSER=${TUSER:0:31}

cleanup_user() { userdel -r "$TUSER" >/dev/null 2>&1 || true; }
trap 'cleanup_user; ddi_cleanup' EXIT

ddi_log "certificate, database, namespaces, ddiplane with --http"
ddi_db_default "$DB"
chmod 755 "$DDI_TMP"   # the run's Unix user reaches the socket and the certificate
ddi_http_start $PORT "$DB" "$SOCK"

c() { "$CTL" -s "$SOCK" "$@"; }
# api TOKEN METHOD PATH [JSON]: prints the body, then the status on a line of its own
api() {
  local tok=$1 m=$2 p=$3 body=${4:-}
  local args=(-sS --cacert "$DDI_TMP/cert.pem" -X "$m" -H "Authorization: Bearer $tok"
              -w '\n%{http_code}' "$BASE$p")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  ddi_srv curl "${args[@]}"
}
body() { sed '$d' <<<"$1"; }
code() { tail -n1 <<<"$1"; }
# rows JSON KEY FIELD: the rows' FIELD, sorted, space-separated (the body of a list, or a socket reply)
rows() {
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
d = d.get("arguments", d)
print(" ".join(sorted(str(r.get(sys.argv[3])) for r in d.get(sys.argv[2], []))))' "$1" "$2" "$3"
}
# none_of TEXT: the tenant-B strings TEXT holds (empty when none)
none_of() { grep -o -E 'tb\.test|198\.18\.21\.|tb-secret-value|21\.18\.198|"tenb"|kb\.' <<<"$1" | sort -u | tr '\n' ' ' || true; }

ddi_log "two tenants: zones, records, prefixes with allocations, keys and rules, tokens"
ADMIN=$(c token add sladmin --role admin 2>/dev/null)
for z in ta tb; do
  [ "$(code "$(api "$ADMIN" POST /zones "{\"zone\":\"$z.test\",\"ns\":[\"ns1.$z.test.\"]}")")" = 201 ] ||
    ddi_fail "zone $z.test. added"
done
c record add web.ta.test. 300 A 198.18.0.80 >/dev/null
c record add secret.tb.test. 300 TXT '"tb-secret-value"' >/dev/null
c prefix add 198.18.20.0/24 --zone ta.test. >/dev/null
c prefix add 198.18.21.0/24 --zone tb.test. >/dev/null
c range add 198.18.20.10 198.18.20.20 >/dev/null
c range add 198.18.21.10 198.18.21.20 >/dev/null
c alloc next 198.18.20.0/24 hosta.ta.test >/dev/null
c alloc next 198.18.21.0/24 hostb.tb.test >/dev/null
c key add ka. >/dev/null
c key add kb. >/dev/null
c policy add ka. grant subdomain ta.test. A >/dev/null
c policy add kb. grant subdomain tb.test. A >/dev/null
TENA=$(c token add tena --role reader --zone ta.test. --prefix 198.18.20.0/24 2>/dev/null)
c token add tenb --role reader --zone tb.test. --prefix 198.18.21.0/24 >/dev/null
ddi_expect_match "scoped token made" '^ddi_tena_[0-9a-f]{64}$' "$TENA"

ddi_log "the scoped token over the HTTP API: its rows only"
check_lists() {   # check_lists WHO GET-FUNCTION: each list as WHO sees it
  local who=$1 get=$2 r
  r=$($get /zones zone-list); ddi_expect "$who: zones" "ta.test." "$(rows "$r" zones zone)"
  ddi_expect "$who: zones, nothing of tenant B" "" "$(none_of "$r")"
  r=$($get /prefixes prefix-list); ddi_expect "$who: prefixes" "198.18.20.0/24" "$(rows "$r" prefixes prefix)"
  r=$($get /ranges range-list); ddi_expect "$who: ranges" "198.18.20.10" "$(rows "$r" ranges first)"
  ddi_expect "$who: ranges, nothing of tenant B" "" "$(none_of "$r")"
  r=$($get /keys key-list); ddi_expect "$who: keys" "ka." "$(rows "$r" keys name)"
  r=$($get /policies policy-list); ddi_expect "$who: rules" "ta.test." "$(rows "$r" rules name)"
  r=$($get /tokens token-list); ddi_expect "$who: tokens" "$3" "$(rows "$r" tokens name)"
  r=$($get /journal journal)
  ddi_expect_match "$who: the journal shows its zone's changes" 'web\.ta\.test\.' "$r"
  ddi_expect_match "$who: and its prefix's allocation" '198\.18\.20\.1' "$r"
  ddi_expect "$who: the journal, nothing of tenant B (raw body)" "" "$(none_of "$r")"
}
http_get() { local r; r=$(api "$TENA" GET "$1"); [ "$(code "$r")" = 200 ] || ddi_fail "GET $1: $(code "$r")"; body "$r"; }
check_lists "token:tena" http_get "tena"
r=$(api "$TENA" GET /journal)
ddi_expect "token:tena: HTTP 200 on the journal" "200" "$(code "$r")"

ddi_log "admin over the HTTP API: every row"
r=$(body "$(api "$ADMIN" GET /zones)")
ddi_expect_match "admin: both zones" 'ta\.test\. .*tb\.test\.|tb\.test\..*ta\.test\.' "$(rows "$r" zones zone)"
ddi_expect "admin: both ranges" "198.18.20.10 198.18.21.10" "$(rows "$(body "$(api "$ADMIN" GET /ranges)")" ranges first)"
ddi_expect "admin: both keys" "ka. kb." "$(rows "$(body "$(api "$ADMIN" GET /keys)")" keys name)"
ddi_expect "admin: both prefixes" "198.18.20.0/24 198.18.21.0/24" "$(rows "$(body "$(api "$ADMIN" GET /prefixes)")" prefixes prefix)"
ddi_expect "admin: both tokens (and its own)" "sladmin tena tenb" "$(rows "$(body "$(api "$ADMIN" GET /tokens)")" tokens name)"
r=$(body "$(api "$ADMIN" GET /journal)")
ddi_expect_match "admin: the journal holds tenant B's changes" 'secret\.tb\.test\.' "$r"
ddi_expect_match "admin: and tenant B's allocation" '198\.18\.21\.1' "$r"

ddi_log "reads that would list every tenant: refused to the scoped token, counters shown"
r=$(api "$TENA" GET /stats)
ddi_expect "stats (counters) for the scoped token: 200" "200" "$(code "$r")"

ddi_log "a Unix user with the same scope on the control socket sees the same rows"
useradd -M -N -s /usr/sbin/nologin "$TUSER"
chmod 666 "$SOCK"
c role add "user:$TUSER" --role reader --zone ta.test. --prefix 198.18.20.0/24 >/dev/null
u() { runuser -u "$TUSER" -- "$CTL" -s "$SOCK" "$@"; }
sock_get() { u --json send "{\"command\":\"$2\"}" 2>&1; }
check_lists "unix:$TUSER" sock_get "" 
r=$(u --json send '{"command":"role-list"}' 2>&1)
ddi_expect "unix:$TUSER: role list shows only itself" "$TUSER" "$(rows "$r" roles name)"
out=$(u --json send '{"command":"ipam-export"}' 2>&1) && rc=0 || rc=$?
ddi_expect_match "ipam export for the scoped user: its prefix" '198\.18\.20\.0/24' "$out"
ddi_expect "ipam export: nothing of tenant B" "" "$(none_of "$out")"
out=$(u --json send '{"command":"conflicts"}' 2>&1) && rc=0 || rc=$?
ddi_expect "conflicts: nothing of tenant B" "" "$(none_of "$out")"
out=$(u --json send '{"command":"stale"}' 2>&1) && rc=0 || rc=$?
ddi_expect "stale: nothing of tenant B" "" "$(none_of "$out")"
out=$(u --json send '{"command":"history"}' 2>&1) && rc=0 || rc=$?
ddi_expect_match "history with no name refused to the scoped user" 'access denied' "$out"

ddi_stop
ddi_summary
