#!/usr/bin/env bash
# httpapi.sh -- the HTTP API over HTTPS with curl: records and allocations answered by the dataplane, tokens and scoped roles refused outside their scope, revocation, idempotent PUT, the OpenAPI document, a Unix user as ipam-editor on the control socket
#
# ddiplane serves the API on 127.0.0.1 of its own namespace with a
# certificate this test makes; curl runs in that namespace and trusts only
# that certificate. Every reply of a change waits for its publication, so
# a dig right after it must see the change.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig curl openssl python3 useradd userdel runuser; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
PORT=18443
BASE="https://127.0.0.1:$PORT/api/v1"
TUSER="ddiapi$$"   # a Unix user of this run only, removed by the trap
TUSER=${TUSER:0:31}

cleanup_user() { userdel -r "$TUSER" >/dev/null 2>&1 || true; }
trap 'cleanup_user; ddi_cleanup' EXIT

ddi_log "certificate, database, namespaces, ddiplane with --http"
ddi_db_default "$DB"
chmod 755 "$DDI_TMP"   # the run's Unix user reaches the socket and the certificate
ddi_http_start $PORT "$DB" "$SOCK"

D() { ddi_cli dig +norec +time=1 +tries=2 "$@" 2>&1; }
short() { D +short "$@" | sort; }
c() { "$CTL" -s "$SOCK" "$@"; }
# api TOKEN METHOD PATH [JSON]: prints "STATUS BODY"
api() {
  local tok=$1 m=$2 p=$3 body=${4:-}
  local args=(-sS --cacert "$DDI_TMP/cert.pem" -X "$m" -H "Authorization: Bearer $tok"
              -w '\n%{http_code}' "$BASE$p")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local out
  out=$(ddi_srv curl "${args[@]}")
  printf '%s %s\n' "$(tail -n1 <<<"$out")" "$(sed '$d' <<<"$out")"
}
status() { cut -d' ' -f1 <<<"$1"; }
field() { sed 's/^[0-9]* //' <<<"$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$2"; }

ddi_log "tokens: made by ddictl, only their hash stored"
ADMIN=$(c token add admin1 --role admin 2>/dev/null)
READER=$(c token add ro --role reader 2>/dev/null)
EDITOR=$(c token add ed --role dns-editor --zone ddi.test. 2>/dev/null)
IPAM=$(c token add ip --role ipam-editor --prefix 198.18.7.0/24 2>/dev/null)
ddi_expect_match "a token is ddi_NAME_HEX" '^ddi_admin1_[0-9a-f]{64}$' "$ADMIN"
ddi_expect "the store holds no token, only hashes" "0" \
  "$(c --json send '{"command":"token-list"}' | grep -c "${ADMIN#ddi_admin1_}" || true)"
ddi_expect_match "token list shows scopes" 'ed +dns-editor +ddi\.test\.' "$(c token list)"

ddi_log "no token, a wrong token: 401"
ddi_expect "no Authorization header: 401" "401" "$(status "$(api '' GET /zones)")"
ddi_expect "a made-up token: 401" "401" "$(status "$(api ddi_admin1_$(printf '0%.0s' {1..64}) GET /zones)")"

ddi_log "admin: a zone and a record over HTTPS, answered by the workers"
r=$(api "$ADMIN" POST /zones '{"zone":"other.test","ns":["ns1.other.test."]}')
ddi_expect "POST /zones: 201" "201" "$(status "$r")"
r=$(api "$ADMIN" POST /records '{"name":"web.ddi.test","ttl":300,"type":"A","rdata":"198.18.0.80"}')
ddi_expect "POST /records: 201" "201" "$(status "$r")"
ddi_expect "the reply waited for publication" "True" "$(field "$r" 'd["published"]')"
ddi_expect "created record answered by the dataplane" "198.18.0.80" "$(short @$S4 web.ddi.test A)"
ddi_expect "journaled with actor token:admin1" "token:admin1" \
  "$(c --json journal --name web.ddi.test. | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["entries"][-1]["actor"])')"

ddi_log "IPAM: next free address with A and PTR"
c prefix add 198.18.7.0/24 --zone ddi.test. --policy strict >/dev/null
c prefix add 198.18.8.0/24 --zone ddi.test. --policy strict >/dev/null
r=$(api "$ADMIN" POST /prefixes/198.18.7.0/24/allocations '{"name":"srv1.ddi.test"}')
ddi_expect "POST allocations (next free): 201" "201" "$(status "$r")"
ddi_expect "srv1 answers A" "198.18.7.1" "$(short @$S4 srv1.ddi.test A)"
ddi_expect "and its PTR" "srv1.ddi.test." "$(short @$S4 -x 198.18.7.1)"

ddi_log "a reader token is refused on a write"
r=$(api "$READER" POST /records '{"name":"ro.ddi.test","ttl":300,"type":"A","rdata":"198.18.0.81"}')
ddi_expect "reader write: 403" "403" "$(status "$r")"
ddi_expect_match "with the reason" 'needs the dns-editor role \(or admin\), token:ro has reader' "$r"
ddi_expect_match "nothing answered" 'status: NXDOMAIN' "$(D @$S4 ro.ddi.test A)"
ddi_expect "reader read: 200" "200" "$(status "$(api "$READER" GET /zones)")"

ddi_log "a dns-editor of ddi.test. writes there and is refused in other.test."
r=$(api "$EDITOR" PUT /records/ed.ddi.test/A '{"ttl":300,"rdata":"198.18.0.82"}')
ddi_expect "editor in its zone: 200" "200" "$(status "$r")"
ddi_expect "answered" "198.18.0.82" "$(short @$S4 ed.ddi.test A)"
r=$(api "$EDITOR" PUT /records/ed.other.test/A '{"ttl":300,"rdata":"198.18.0.83"}')
ddi_expect "editor in another zone: 403" "403" "$(status "$r")"
ddi_expect_match "outside its zones" 'may not change ed\.other\.test.*outside its zones' "$r"
ddi_expect_match "not answered" 'status: NXDOMAIN' "$(D @$S4 ed.other.test A)"
ddi_expect "editor reads its zone's records: 200" "200" "$(status "$(api "$EDITOR" GET /zones/ddi.test/records)")"
r=$(api "$EDITOR" GET /zones/other.test/records)
ddi_expect "editor reads another zone's records: 403" "403" "$(status "$r")"
ddi_expect_match "with the reason" 'may not read other\.test.*outside its zones' "$r"
ddi_expect "editor may not allocate: 403" "403" \
  "$(status "$(api "$EDITOR" POST /prefixes/198.18.7.0/24/allocations '{"name":"x.ddi.test"}')")"
ddi_expect_match "the refusal is journaled with the principal" '"note": *"refused record-replace' \
  "$(c --json journal --actor token:ed)"
for i in 1 2 3 4 5; do api "$EDITOR" PUT /records/ed.other.test/A '{"ttl":300,"rdata":"198.18.0.83"}' >/dev/null; done
ddi_expect "refusals noted once per principal and reason a minute" "1" \
  "$(c --json journal --actor token:ed | grep -o 'refused record-replace' | wc -l)"

ddi_log "an ipam-editor of 198.18.7.0/24 allocates there only"
ddi_expect "in its prefix: 201" "201" "$(status "$(api "$IPAM" POST /prefixes/198.18.7.0/24/allocations '{"name":"ip1.ddi.test"}')")"
ddi_expect "outside: 403" "403" "$(status "$(api "$IPAM" POST /prefixes/198.18.8.0/24/allocations '{"name":"ip2.ddi.test"}')")"

ddi_log "idempotent PUT: twice, one record and one journal entry"
n0=$(c --json journal --name conv.ddi.test. | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("arguments",{}).get("entries",[])))')
r1=$(api "$ADMIN" PUT /records/conv.ddi.test/TXT '{"ttl":300,"rdata":"\"converged\""}')
r2=$(api "$ADMIN" PUT /records/conv.ddi.test/TXT '{"ttl":300,"rdata":"\"converged\""}')
ddi_expect "both PUTs 200" "200 200" "$(status "$r1") $(status "$r2")"
n1=$(c --json journal --name conv.ddi.test. | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["arguments"]["entries"]))')
ddi_expect "one journal entry for two PUTs" "1" "$((n1 - n0))"
ddi_expect "one record" '"converged"' "$(short @$S4 conv.ddi.test TXT)"
r=$(api "$ADMIN" PUT /allocations/198.18.7.50 '{"name":"fixed.ddi.test"}')
r2=$(api "$ADMIN" PUT /allocations/198.18.7.50 '{"name":"fixed.ddi.test"}')
ddi_expect "PUT allocation twice: 200, then no change" "200 False" "$(status "$r") $(field "$r2" 'd["changed"]')"
ddi_expect "PUT allocation to another name: 409" "409" \
  "$(status "$(api "$ADMIN" PUT /allocations/198.18.7.50 '{"name":"other.ddi.test"}')")"
r=$(api "$ADMIN" DELETE /allocations/198.18.7.50)
r2=$(api "$ADMIN" DELETE /allocations/198.18.7.50)
ddi_expect "DELETE allocation twice: 200, then no change" "200 False" "$(status "$r") $(field "$r2" 'd["changed"]')"
ddi_expect_match "released: A gone" 'status: NXDOMAIN' "$(D @$S4 fixed.ddi.test A)"
r=$(api "$ADMIN" DELETE /records/conv.ddi.test/TXT)
r2=$(api "$ADMIN" DELETE /records/conv.ddi.test/TXT)
ddi_expect "DELETE RRset twice: 200, then no change" "200 False" "$(status "$r") $(field "$r2" 'd["changed"]')"

ddi_log "pagination: limit and cursor"
for i in 1 2 3 4 5; do api "$ADMIN" PUT /records/p$i.ddi.test/A "{\"ttl\":60,\"rdata\":\"198.18.0.$((100 + i))\"}" >/dev/null; done
r=$(api "$ADMIN" GET "/zones/ddi.test/records?type=A&name=ddi.test&limit=2")
ddi_expect "a page of 2" "2" "$(field "$r" 'len(d["records"])')"
cur=$(field "$r" 'd["next_cursor"]')
r2=$(api "$ADMIN" GET "/zones/ddi.test/records?type=A&name=ddi.test&limit=2&cursor=$cur")
ddi_expect "the next page starts after the first" "False" \
  "$(python3 -c 'import sys; print(sys.argv[1] == sys.argv[2])' "$(field "$r" 'd["records"][0]["name"]')" "$(field "$r2" 'd["records"][0]["name"]')")"
ddi_expect "a bad limit: 400" "400" "$(status "$(api "$ADMIN" GET '/zones?limit=0')")"
r=$(api "$ADMIN" GET "/journal?limit=3")
ddi_expect "journal pages by seq" "4" "$(field "$r" 'd["next_cursor"]')"

ddi_log "bounds and errors"
big=$(python3 -c 'print("{\"pad\":\"" + "x" * (5 << 20) + "\"}")')
printf '%s' "$big" >"$DDI_TMP/big.json"
code=$(ddi_srv curl -sS -o /dev/null -w '%{http_code}' --cacert "$DDI_TMP/cert.pem" -X POST \
  -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data-binary @"$DDI_TMP/big.json" "$BASE/records")
ddi_expect "a 5 MiB body: 413" "413" "$code"
# a body announced larger than the bound is refused before it is read (above); a
# chunked one, whose length nobody announced, is cut off as it passes the bound
code=$(ddi_srv curl -sS -o /dev/null -w '%{http_code}' --cacert "$DDI_TMP/cert.pem" -X POST \
  -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' --data-binary @"$DDI_TMP/big.json" \
  "$BASE/records" 2>/dev/null || true)
ddi_expect_match "a 5 MiB chunked body: cut off (413, or closed after 100 Continue), never read whole" '^(413|000|100)$' "$code"
ddi_expect "the API still answers after them" "200" "$(status "$(api "$ADMIN" GET /zones)")"
ddi_expect "not JSON: 400" "400" "$(status "$(api "$ADMIN" POST /records 'not json')")"
ddi_expect "unknown resource: 404" "404" "$(status "$(api "$ADMIN" GET /nothing)")"
ddi_expect "wrong method: 405" "405" "$(status "$(api "$ADMIN" PATCH /zones)")"
ddi_expect "plain HTTP on the HTTPS port fails" "000" \
  "$(ddi_srv curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/zones" || true)"

ddi_log "the OpenAPI document: in the tree, served, every path served and documented"
out=$(ddi_srv python3 "$DDI_SRCDIR/tests/integration/openapi_check.py" "$DDI_SRCDIR/control/mgmt/openapi.json" \
  "$DDI_SRCDIR/control/mgmt/http.c" "https://127.0.0.1:$PORT" "$READER" "$DDI_TMP/cert.pem" 2>&1) && rc=0 || rc=$?
ddi_expect_match "openapi_check passes" 'openapi: [0-9]+ operations, [0-9]+ routes, 0 problems' "$out"

ddi_log "a revoked token is refused"
c token remove ed >/dev/null
r=$(api "$EDITOR" PUT /records/ed.ddi.test/A '{"ttl":300,"rdata":"198.18.0.99"}')
ddi_expect "revoked: 401" "401" "$(status "$r")"
ddi_expect "record unchanged" "198.18.0.82" "$(short @$S4 ed.ddi.test A)"

ddi_log "a Unix user mapped to ipam-editor for one prefix, on the control socket"
useradd -M -N -s /usr/sbin/nologin "$TUSER"
chmod 666 "$SOCK"
u() { runuser -u "$TUSER" -- "$CTL" -s "$SOCK" "$@"; }
out=$(u alloc next 198.18.7.0/24 user1.ddi.test 2>&1) && rc=0 || rc=$?
ddi_expect_match "without a role: read-only, refused" 'access denied' "$out"
c role add "user:$TUSER" --role ipam-editor --prefix 198.18.7.0/24 >/dev/null
out=$(u alloc next 198.18.7.0/24 user1.ddi.test 2>&1) && rc=0 || rc=$?
ddi_expect_match "in its prefix: allocated" '^198\.18\.7\.[0-9]+ user1\.ddi\.test\.' "$out"
ddi_expect_match "answered" '^198\.18\.7\.[0-9]+$' "$(short @$S4 user1.ddi.test A)"
ddi_expect "journaled as the user" "unix:$TUSER" \
  "$(c --json journal --name user1.ddi.test. | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["entries"][-1]["actor"])')"
out=$(u alloc next 198.18.8.0/24 user2.ddi.test 2>&1) && rc=0 || rc=$?
ddi_expect "outside its prefix: exit 1" "1" "$rc"
ddi_expect_match "with the reason" "unix:$TUSER \(ipam-editor for 198\.18\.7\.0/24\) may not change 198\.18\.8\.0/24: outside its prefixes" "$out"
out=$(u record add x.ddi.test. 300 A 198.18.0.90 2>&1) && rc=0 || rc=$?
ddi_expect_match "records need dns-editor" 'needs the dns-editor role' "$out"
ddi_expect_match "root stays admin" '^198\.18\.8\.1 ' "$(c alloc next 198.18.8.0/24 rootalloc.ddi.test)"

ddi_log "metrics of the API"
m=$(api "$READER" GET /stats)
ddi_expect "stats over the API" "200" "$(status "$m")"

ddi_stop
ddi_summary
