#!/usr/bin/env bash
# ipam_model.sh -- the IPAM model end to end, checked with dig against the running dataplane: NetBox CSV without zones publishes A and PTR by name, alloc edit moves them, prefix remove --release, ranges, reservations, metadata round trip, one name rule on every command line
#
# ddiplane runs in its own namespace (lib.sh) with a control socket; every
# ddictl -s reply waits until the change is published, so a dig right after
# it must see the change. The IPAM prefixes are DNS data only: no packet is
# sent to them (queries go to the server's 198.18.0.1).
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

CTL="$DDI_BUILDDIR/ddictl"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"

ddi_log "database, namespaces, ddiplane with --control"
ddi_db_default "$DB"
ddi_ns_setup
chmod 755 "$DDI_TMP"
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 60

D() { ddi_cli dig +norec +time=1 +tries=2 "$@" 2>&1; }
short() { D +short "$@" | sort; }
c() { "$CTL" -s "$SOCK" "$@"; }
refused() {   # refused DESCRIPTION PATTERN COMMAND...: the command fails and says PATTERN
  local what=$1 pat=$2 out
  shift 2
  if out=$("$@" 2>&1); then ddi_fail "$what" "$out"; else ddi_expect_match "$what" "$pat" "$out"; fi
}
nx() { ddi_expect_match "$1" 'status: NXDOMAIN' "$(D @$S4 "${@:2}")"; }

c zone add lab.ddi.test >/dev/null

ddi_log "NetBox CSV: prefixes without a zone, addresses with dns_name -> A and PTR by name"
cat >"$DDI_TMP/netbox.csv" <<'EOF'
ID,Prefix,Status,Site,VRF,Tenant,Tags,Description,cf_site_code
1,198.18.20.0/24,active,FRA1,,acme,"prod,edge",imported from NetBox,FRA1

ID,Address,VRF,Tenant,Status,Role,DNS name,Description,Tags,cf_rack,Assigned
10,198.18.20.10/24,,acme,active,,nb1.ddi.test,,web,r12,
11,198.18.20.11/24,,,active,,nb2.lab.ddi.test,,,,
12,198.18.20.12/24,,,active,,nb3.nowhere.test,,,,
13,198.18.20.13/24,,,reserved,,,gateway,,,
EOF
out=$(c ipam import "$DDI_TMP/netbox.csv" 2>&1)
ddi_expect_match "import: 4 addresses, 2 records, 1 warning, the columns not kept counted" \
  '^1 prefixes, 4 addresses \(2 records\) imported, 1 warning, 4 columns not kept' "$out"
ddi_expect_match "import: the name in no served zone is a warning with file and line" \
  '^warning: .*netbox\.csv:7: 198\.18\.20\.12 nb3\.nowhere\.test\.: the name is in no served zone' "$out"
ddi_expect_match "import: the columns not kept are named" '^columns not kept: ID Site Role Assigned$' "$out"
ddi_expect "NetBox address answered: A" "198.18.20.10" "$(short @$S4 nb1.ddi.test A)"
ddi_expect "NetBox address answered: PTR" "nb1.ddi.test." "$(short @$S4 -x 198.18.20.10)"
ddi_expect "the closest enclosing zone holds it (lab.ddi.test.)" "198.18.20.11" "$(short @$S4 nb2.lab.ddi.test A)"
ddi_expect_match "... in lab.ddi.test.'s authority" 'lab\.ddi\.test\..*SOA' "$(D +noall +authority @$S4 nothere.lab.ddi.test A)"
ddi_expect "its PTR" "nb2.lab.ddi.test." "$(short @$S4 -x 198.18.20.11)"
ddi_expect "a name in no zone: allocated, no PTR" "" "$(short @$S4 -x 198.18.20.12)"
ddi_expect_match "... and allocated" '^state +static$' "$(c address show 198.18.20.12)"
ddi_expect_match "metadata kept: tenant, tags, field" '"tenant": "acme"' "$(c --json address show 198.18.20.10)"

ddi_log "alloc next / alloc address: the closest zone, or refused, or --no-dns"
out=$(c alloc next 198.18.20.0/24 web1.lab.ddi.test --tag web --tenant acme --field rack=r3)
ddi_expect_match "alloc next: the lowest free address" '^198\.18\.20\.1 web1\.lab\.ddi\.test\. \(journal seq [0-9]+, published\)$' "$out"
ddi_expect "alloc next: A in the closest zone" "198.18.20.1" "$(short @$S4 web1.lab.ddi.test A)"
refused "alloc next: a name in no served zone is refused" 'web2\.nowhere\.test\. is in no served zone' \
  c alloc next 198.18.20.0/24 web2.nowhere.test
ddi_expect "... and changes nothing (.2 still free)" "" "$(short @$S4 -x 198.18.20.2)"
ddi_expect_match "--no-dns allocates without DNS" '^198\.18\.20\.2 web2\.nowhere\.test\. ' \
  "$(c alloc next 198.18.20.0/24 web2.nowhere.test --no-dns)"
ddi_expect "--no-dns: no PTR" "" "$(short @$S4 -x 198.18.20.2)"

ddi_log "alloc edit --name moves the A and the PTR in one change"
seq0=$(c --json journal --limit 1000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["entries"][-1]["seq"])')
out=$(c alloc edit 198.18.20.10 --name moved.lab.ddi.test)
ddi_expect_match "alloc edit acknowledged" '^198\.18\.20\.10 changed \(journal seq [0-9]+' "$out"
seq1=$(c --json journal --limit 1000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["entries"][-1]["seq"])')
ddi_expect "one journal entry for the rename" "$((seq0 + 1))" "$seq1"
nx "old name gone" nb1.ddi.test A
ddi_expect "new name answered" "198.18.20.10" "$(short @$S4 moved.lab.ddi.test A)"
ddi_expect "PTR follows" "moved.lab.ddi.test." "$(short @$S4 -x 198.18.20.10)"
refused "rename into no served zone refused" 'is in no served zone' c alloc edit 198.18.20.10 --name x.nowhere.test
ddi_expect "... and the record stays" "198.18.20.10" "$(short @$S4 moved.lab.ddi.test A)"
c alloc edit 198.18.20.10 --tag blue --untag web --field rack= --field row=4 --tenant globex >/dev/null
ddi_expect "alloc edit metadata" "globex blue row=4" \
  "$(c --json address show 198.18.20.10 | python3 -c 'import json,sys; a=json.load(sys.stdin)["arguments"]["allocation"]; print(a["tenant"], ",".join(a["tags"]), ",".join(k+"="+v for k,v in a["fields"].items()))')"
ddi_expect "metadata leaves the DNS alone" "moved.lab.ddi.test." "$(short @$S4 -x 198.18.20.10)"
refused "a bad field name is refused with the reason" 'custom field name' c alloc edit 198.18.20.10 --field Bad-Name=1
refused "a too long tenant is refused" 'longer than 100 bytes' c alloc edit 198.18.20.10 --tenant "$(printf 'x%.0s' $(seq 1 101))"

ddi_log "reservations"
ddi_expect_match "alloc reserve" '^198\.18\.20\.3 reserved' "$(c alloc reserve 198.18.20.3 --note 'VRRP gateway')"
ddi_expect_match "alloc next steps over it" '^198\.18\.20\.4 ' "$(c alloc next 198.18.20.0/24 web4.ddi.test)"
refused "strict policy and reservations: a record for it is refused" 'reserved|allocated' \
  sh -c "\"$CTL\" -s \"$SOCK\" prefix edit 198.18.20.0/24 --policy strict >/dev/null && \"$CTL\" -s \"$SOCK\" record add rogue.ddi.test. 300 A 198.18.20.3"
c prefix edit 198.18.20.0/24 --policy off >/dev/null
nx "the reservation publishes nothing" -x 198.18.20.3

ddi_log "alloc list: pages"
out=$(c alloc list 198.18.20.0/24 --limit 3)
ddi_expect "first page: 3 rows and a pointer to the next" "198.18.20.1 198.18.20.2 198.18.20.3 more: ddictl alloc list 198.18.20.0/24 --after 198.18.20.3" \
  "$(awk 'NR>1 && !/^more/ {printf "%s ", $1} /^more/ {print}' <<<"$out")"
out=$(c alloc list 198.18.20.0/24 --after 198.18.20.3 --limit 100)
ddi_expect "second page: the rest, no pointer" "198.18.20.4 198.18.20.10 198.18.20.11 198.18.20.12 198.18.20.13" \
  "$(awk 'NR>1 {printf "%s%s", s, $1; s=" "} END {print ""}' <<<"$out")"

ddi_log "ranges: list, edit, remove (alloc next avoids them)"
c prefix add 198.18.21.0/24 >/dev/null
c range add 198.18.21.1 198.18.21.10 --dynamic --description pool >/dev/null
ddi_expect_match "range list" '^198\.18\.21\.1 +198\.18\.21\.10 +dynamic +pool$' "$(c range list 198.18.21.0/24)"
ddi_expect_match "alloc next after the range" '^198\.18\.21\.11 ' "$(c alloc next 198.18.21.0/24 r1.ddi.test)"
ddi_expect "... answered" "r1.ddi.test." "$(short @$S4 -x 198.18.21.11)"
c range edit 198.18.21.1 198.18.21.10 --new-last 198.18.21.5 --dynamic no >/dev/null
ddi_expect_match "range edit: new bounds, static" '^198\.18\.21\.1 +198\.18\.21\.5 +static' "$(c range list)"
ddi_expect_match "alloc next uses the freed addresses" '^198\.18\.21\.6 ' "$(c alloc next 198.18.21.0/24 r2.ddi.test)"
refused "range edit outside its prefix refused" 'no prefix holds' c range edit 198.18.21.1 198.18.21.5 --new-last 198.18.22.5
c range remove 198.18.21.1 198.18.21.5 >/dev/null
ddi_expect "range remove: no ranges left" "" "$(c range list 198.18.21.0/24 | tail -n +2)"
ddi_expect_match "alloc next starts at .1 again" '^198\.18\.21\.1 ' "$(c alloc next 198.18.21.0/24 r3.ddi.test)"
ddi_expect "... answered" "r3.ddi.test." "$(short @$S4 -x 198.18.21.1)"

ddi_log "tags, tenant and custom fields: export, remove, import, export"
c prefix edit 198.18.21.0/24 --tenant acme --tag lab --field site_code=AMS2 >/dev/null
c alloc edit 198.18.21.1 --tag db --tenant "acme, Inc." --field rack='r1 "north"' >/dev/null
c ipam export >"$DDI_TMP/export1.csv"
ddi_expect_match "export: the cf_ columns in the header" '^prefix,status,description,dns_zone,dns_policy,tags,tenant,cf_site_code$' "$(cat "$DDI_TMP/export1.csv")"
ddi_expect_match "export: a quoted tenant and field" '^198\.18\.21\.1/24,active,r3\.ddi\.test,.*,db,"acme, Inc\.","r1 ""north"""' "$(cat "$DDI_TMP/export1.csv")"
c prefix remove 198.18.20.0/24 --release >/dev/null
c prefix remove 198.18.21.0/24 --release >/dev/null
c ipam import "$DDI_TMP/export1.csv" >/dev/null
c ipam export >"$DDI_TMP/export2.csv"
ddi_expect "re-imported export is the same" "$(cat "$DDI_TMP/export1.csv")" "$(cat "$DDI_TMP/export2.csv")"
ddi_expect "re-imported names answered again" "r3.ddi.test." "$(short @$S4 -x 198.18.21.1)"

ddi_log "prefix remove: refused with allocations, --release removes them and their DNS"
ddi_expect "before: A" "198.18.20.10" "$(short @$S4 moved.lab.ddi.test A)"
refused "prefix remove refused while it holds allocations" \
  'prefix 198\.18\.20\.0/24 holds [0-9]+ allocations \(the first is 198\.18\.20\.1\).*--release' \
  c prefix remove 198.18.20.0/24
ddi_expect "refused: the A is still answered" "198.18.20.10" "$(short @$S4 moved.lab.ddi.test A)"
ddi_expect_match "prefix remove --release" '^prefix 198\.18\.20\.0/24 removed, [0-9]+ allocations released \(journal seq' \
  "$(c prefix remove 198.18.20.0/24 --release)"
nx "released: A gone" moved.lab.ddi.test A
nx "released: PTR gone" -x 198.18.20.10
nx "released: the other zone's A gone too" web1.lab.ddi.test A
refused "released: the allocations are gone" 'no prefix 198\.18\.20\.0/24' c alloc list 198.18.20.0/24
ddi_expect_match "released: address free" '^state +free$' "$(c address show 198.18.20.11)"

ddi_log "one rule for names on every command line: absolute, a missing final dot added"
ddi_expect_match "zone add ORIGIN" '^zone names\.test\. added' "$(c zone add names.test --ns ns1.names.test --ns ns2.elsewhere.test)"
ddi_expect "zone add --ns: absolute names" "ns1.names.test.
ns2.elsewhere.test." "$(short @$S4 names.test NS)"
c zone add soa.names2.test --soa "ns.soa.names2.test admin.soa.names2.test 7 3600 900 1209600 300" >/dev/null
ddi_expect "zone add --soa: absolute names" "ns.soa.names2.test. admin.soa.names2.test. 7 3600 900 1209600 300" "$(short @$S4 soa.names2.test SOA)"
ddi_expect_match "zone add without --soa: the defaults under the origin" 'ns1\.names\.test\. hostmaster\.names\.test\.' "$(c zone export names.test)"
c record add www.names.test 300 A 198.18.30.1 >/dev/null
ddi_expect "record add NAME" "198.18.30.1" "$(short @$S4 www.names.test A)"
c record add alias.names.test 300 CNAME www.names.test >/dev/null
ddi_expect "record add: a name in RDATA is absolute" "www.names.test.
198.18.30.1" "$(D +short @$S4 alias.names.test A)"
c record add names.test 300 MX 10 mail.names.test >/dev/null
ddi_expect "record add: MX exchange absolute" "10 mail.names.test." "$(short @$S4 names.test MX)"
c record replace www.names.test 300 A 198.18.30.2 >/dev/null
ddi_expect "record replace NAME" "198.18.30.2" "$(short @$S4 www.names.test A)"
ddi_expect_match "record get NAME" '^www\.names\.test\. 300 IN A 198\.18\.30\.2$' "$(c record get www.names.test A)"
ddi_expect_match "record list ZONE --name NAME" '^www\.names\.test\. ' "$(c record list names.test --name www.names.test)"
ddi_expect_match "journal --zone Z --name N" 'www\.names\.test\.' "$(c journal --zone names.test --name www.names.test)"
c record delete www.names.test A >/dev/null
nx "record delete NAME" www.names.test A
printf '@ 3600 IN SOA ns1 hostmaster 1 3600 900 1209600 300\n@ 3600 IN NS ns1\nns1 3600 IN A 198.18.30.9\n' >"$DDI_TMP/imp.zone"
c zone import imported.names.test "$DDI_TMP/imp.zone" >/dev/null
ddi_expect "zone import ORIGIN (relative names in the file are the master file's rule)" "198.18.30.9" "$(short @$S4 ns1.imported.names.test A)"
ddi_expect_match "zone export ORIGIN" '^imported\.names\.test\. 3600 IN SOA' "$(c zone export imported.names.test)"
ddi_expect_match "key add NAME" 'k1\.names\.test\.' "$(c key add k1.names.test 2>&1)"
ddi_expect_match "key list" '^k1\.names\.test\. ' "$(c key list)"
ddi_expect_match "policy add KEY ... NAME" 'k1\.names\.test\.' "$(c policy add k1.names.test grant subdomain names.test A)"
ddi_expect_match "policy list KEY" 'grant subdomain names\.test\. A' "$(c policy list k1.names.test)"
c policy remove k1.names.test 0 >/dev/null
ddi_expect "policy remove KEY" "" "$(c policy list k1.names.test 2>/dev/null | grep grant || true)"
c key remove k1.names.test >/dev/null
ddi_expect "key remove NAME" "" "$(c key list 2>/dev/null | grep k1 || true)"
ddi_expect_match "prefix add --zone ZONE" '"zone": "names\.test\."' "$(c --json prefix add 198.18.31.0/24 --zone names.test)"
ddi_expect_match "prefix edit --zone ZONE" '"zone": "lab\.ddi\.test\."' "$(c --json prefix edit 198.18.31.0/24 --zone lab.ddi.test)"
ddi_expect_match "alloc next NAME" '^198\.18\.31\.1 host\.names\.test\. ' "$(c alloc next 198.18.31.0/24 host.names.test)"
ddi_expect_match "alloc address IP NAME" '^198\.18\.31\.9 host9\.names\.test\. ' "$(c alloc address 198.18.31.9 host9.names.test)"
c alloc edit 198.18.31.9 --name host10.names.test >/dev/null
ddi_expect "alloc edit --name NAME" "host10.names.test." "$(short @$S4 -x 198.18.31.9)"
ddi_expect_match "alloc reserve --name NAME" '"name": "later\.names\.test\."' "$(c --json alloc reserve 198.18.31.20 --name later.names.test)"
c zone remove imported.names.test >/dev/null
ddi_expect_match "zone remove ORIGIN" 'status: REFUSED|status: NXDOMAIN' "$(D @$S4 ns1.imported.names.test A)"

ddi_summary
