#!/usr/bin/env bash
# ipam.sh -- IPAM end to end: alloc/release answered by the running dataplane (A/AAAA and PTR), strict/auto policy, 50 concurrent alloc next, full prefixes and /31 /32 /127 /128, CSV import all or nothing
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

ddi_log "prefixes: strict IPv4, auto IPv6, their reverse zones"
out=$(c prefix add 198.18.5.0/24 --zone ddi.test. --policy strict --description "lab hosts")
ddi_expect_match "prefix add acknowledged" '^prefix 198\.18\.5\.0/24 added \(journal seq [0-9]+, published\)$' "$out"
c prefix add 2001:2:0:5::/64 --zone ddi.test. --policy auto >/dev/null
ddi_expect_match "IPv4 reverse zone created and served" '^5\.18\.198\.in-addr\.arpa\.[[:space:]]' \
  "$(D +noall +answer @$S4 5.18.198.in-addr.arpa SOA)"
ddi_expect_match "IPv6 reverse zone created and served" '^5\.0\.0\.0\.0\.0\.0\.0\.2\.0\.0\.0\.1\.0\.0\.2\.ip6\.arpa\.[[:space:]]' \
  "$(D +noall +answer @$S4 5.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa SOA)"
ddi_expect "prefix tree" "198.18.5.0/24 strict
2001:2:0:5::/64 auto" "$(c --json prefix tree | python3 -c 'import json,sys; [print(p["prefix"], p["policy"]) for p in json.load(sys.stdin)["arguments"]["prefixes"]]')"
refused "prefix with host bits refused" 'host bits' c prefix add 198.18.5.1/24

ddi_log "alloc next: A/AAAA and PTR answered at once; release removes both"
out=$(c alloc next 198.18.5.0/24 host1.ddi.test)
ddi_expect_match "alloc next: the first usable address" '^198\.18\.5\.1 host1\.ddi\.test\. \(journal seq [0-9]+, published\)$' "$out"
ddi_expect "allocated host answers A" "198.18.5.1" "$(short @$S4 host1.ddi.test A)"
ddi_expect "its PTR (in-addr.arpa)" "host1.ddi.test." "$(short @$S4 -x 198.18.5.1)"
out=$(c alloc next 2001:2:0:5::/64 host6.ddi.test --mac 00:1A:2B:3C:4D:5E)
ddi_expect_match "alloc next IPv6: ::1 (the anycast ::0 skipped)" '^2001:2:0:5::1 host6\.ddi\.test\.' "$out"
ddi_expect "allocated host answers AAAA" "2001:2:0:5::1" "$(short @$S4 host6.ddi.test AAAA)"
ddi_expect "its PTR (ip6.arpa)" "host6.ddi.test." "$(short @$S4 -x 2001:2:0:5::1)"
ddi_expect_match "address show: MAC kept" '^mac +00:1a:2b:3c:4d:5e$' "$(c address show 2001:2:0:5::1)"
out=$(c alloc next 198.18.5.0/24 host2.ddi.test)
ddi_expect_match "second alloc next: the next address" '^198\.18\.5\.2 ' "$out"
c release 198.18.5.1 >/dev/null
ddi_expect_match "released: A gone (NXDOMAIN)" 'status: NXDOMAIN' "$(D @$S4 host1.ddi.test A)"
ddi_expect_match "released: PTR gone" 'status: NXDOMAIN' "$(D @$S4 -x 198.18.5.1)"
c release 2001:2:0:5::1 >/dev/null
ddi_expect_match "released IPv6: AAAA gone" 'status: NXDOMAIN' "$(D @$S4 host6.ddi.test AAAA)"
ddi_expect_match "released IPv6: PTR gone" 'status: NXDOMAIN' "$(D @$S4 -x 2001:2:0:5::1)"
refused "release of a free address" 'not allocated' c release 198.18.5.1
out=$(c alloc next 198.18.5.0/24 host9.corp.ddi.test)
ddi_expect_match "a name without its final dot is absolute, not completed with the zone" \
  ' host9\.corp\.ddi\.test\. \(journal' "$out"
c release "$(cut -d' ' -f1 <<<"$out")" >/dev/null
ddi_expect_match "alloc next reuses the released address" '^198\.18\.5\.1 host3\.ddi\.test\.' "$(c alloc next 198.18.5.0/24 host3.ddi.test)"
out=$(c alloc address 198.18.5.50 fixed.ddi.test)
ddi_expect "alloc address answered" "198.18.5.50" "$(short @$S4 fixed.ddi.test A)"
refused "alloc address of a taken address" 'already allocated to fixed\.ddi\.test\.' c alloc address 198.18.5.50 other.ddi.test
refused "alloc address of the broadcast" 'cannot be handed out' c alloc address 198.18.5.255 bcast.ddi.test

ddi_log "DNS policy: strict refuses a record for an unallocated address, auto allocates"
refused "strict: record for an unallocated address refused with the reason" \
  '198\.18\.5\.77 is not allocated \(198\.18\.5\.0/24 has DNS policy strict\)' \
  c record add rogue.ddi.test. 300 A 198.18.5.77
ddi_expect_match "strict: the refused record is not served" 'status: NXDOMAIN' "$(D @$S4 rogue.ddi.test A)"
refused "strict: record for an address of another name refused" 'allocated to fixed\.ddi\.test\.' \
  c record add rogue.ddi.test. 300 A 198.18.5.50
c record add fixed.ddi.test. 300 TXT "allowed" >/dev/null
out=$(c record add auto6.ddi.test. 300 AAAA 2001:2:0:5::99)
ddi_expect_match "auto: record accepted" '^added auto6\.ddi\.test\. AAAA' "$out"
ddi_expect_match "auto: its address is now allocated to it" '^name +auto6\.ddi\.test\.$' "$(c address show 2001:2:0:5::99)"
ddi_expect "auto: PTR answered" "auto6.ddi.test." "$(short @$S4 -x 2001:2:0:5::99)"

ddi_log "50 concurrent alloc next (25 over the socket, 25 with --db) give 50 distinct addresses"
c prefix add 198.18.6.0/24 --zone ddi.test. >/dev/null
pids=()
for i in $(seq 1 50); do
  if ((i % 2)); then
    timeout 60 "$CTL" -s "$SOCK" alloc next 198.18.6.0/24 "c$i.ddi.test" >"$DDI_TMP/alloc.$i" 2>&1 &
  else
    timeout 60 "$CTL" --db "$DB" alloc next 198.18.6.0/24 "c$i.ddi.test" >"$DDI_TMP/alloc.$i" 2>&1 &
  fi
  pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
ddi_expect "all 50 succeeded" "0" "$fails"
addrs=$(cat "$DDI_TMP"/alloc.* | awk '{print $1}' | sort -u)
ddi_expect "50 distinct addresses" "50" "$(printf '%s\n' "$addrs" | grep -c '^198\.18\.6\.')"
ddi_expect "exactly .1 to .50" "$(seq 1 50 | sed 's/^/198.18.6./' | sort)" "$addrs"
ddi_expect_match "utilization: 50 of 254" '^198\.18\.6\.0/24 +50 / 254 addresses used \(19\.68%\)' "$(c utilization 198.18.6.0/24)"
ddi_expect "a --db allocation is served (the server follows the journal)" "c50.ddi.test." \
  "$(ddi_wait_for() { for _ in $(seq 1 40); do r=$(short @$S4 -x "$(awk '{print $1}' "$DDI_TMP/alloc.50")"); [ -n "$r" ] && break; sleep 0.05; done; echo "$r"; }; ddi_wait_for)"

ddi_log "full prefixes and the /31 /32 /127 /128 edges"
c prefix add 198.18.7.0/30 --zone ddi.test. >/dev/null
ddi_expect_match "/30: .1" '^198\.18\.7\.1 ' "$(c alloc next 198.18.7.0/30 f1.ddi.test)"
ddi_expect_match "/30: .2" '^198\.18\.7\.2 ' "$(c alloc next 198.18.7.0/30 f2.ddi.test)"
refused "/30 full: a clear 'prefix full'" '^ddictl: prefix full: 198\.18\.7\.0/30 has no free address$' c alloc next 198.18.7.0/30 f3.ddi.test
c prefix add 198.18.7.4/31 --zone ddi.test. >/dev/null
ddi_expect_match "/31: both addresses usable, .4 first" '^198\.18\.7\.4 ' "$(c alloc next 198.18.7.4/31 p1.ddi.test)"
ddi_expect_match "/31: then .5" '^198\.18\.7\.5 ' "$(c alloc next 198.18.7.4/31 p2.ddi.test)"
refused "/31 full" 'prefix full' c alloc next 198.18.7.4/31 p3.ddi.test
c prefix add 198.18.7.8/32 --zone ddi.test. >/dev/null
ddi_expect_match "/32: its one address" '^198\.18\.7\.8 ' "$(c alloc next 198.18.7.8/32 s1.ddi.test)"
refused "/32 full" 'prefix full' c alloc next 198.18.7.8/32 s2.ddi.test
c prefix add 2001:2:0:7::/127 --zone ddi.test. >/dev/null
ddi_expect_match "/127: ::0 usable" '^2001:2:0:7:: ' "$(c alloc next 2001:2:0:7::/127 l1.ddi.test)"
ddi_expect_match "/127: then ::1" '^2001:2:0:7::1 ' "$(c alloc next 2001:2:0:7::/127 l2.ddi.test)"
refused "/127 full" 'prefix full' c alloc next 2001:2:0:7::/127 l3.ddi.test
c prefix add 2001:2:0:7::8/128 --zone ddi.test. >/dev/null
ddi_expect_match "/128: its one address" '^2001:2:0:7::8 ' "$(c alloc next 2001:2:0:7::8/128 h1.ddi.test)"
refused "/128 full" 'prefix full' c alloc next 2001:2:0:7::8/128 h2.ddi.test
ddi_expect "/127 PTR answered" "l1.ddi.test." "$(short @$S4 -x 2001:2:0:7::)"
ddi_expect_match "alloc prefix: next free /26 of a /24" '^prefix 198\.18\.5\.0/26 allocated' "$(c alloc prefix 198.18.5.0/24 26)"
ddi_expect_match "alloc prefix: then the second /26" '^prefix 198\.18\.5\.64/26 allocated' "$(c alloc prefix 198.18.5.0/24 26)"

ddi_log "CSV import: all or nothing, the line of the first error"
cat >"$DDI_TMP/bad.csv" <<'EOF'
prefix,status,description,dns_zone,dns_policy
198.18.9.0/24,active,imported,ddi.test,off

address,status,dns_name,description
198.18.9.10/24,active,imp1.ddi.test,
198.18.9.300/24,active,imp2.ddi.test,
EOF
refused "import with a bad address: refused with the file and line" '^ddictl: .*bad\.csv:6: .*198\.18\.9\.300' c ipam import "$DDI_TMP/bad.csv"
refused "nothing of the bad file was imported (no prefix)" 'no prefix 198\.18\.9\.0/24' c prefix show 198.18.9.0/24
ddi_expect_match "nothing of the bad file is answered" 'status: NXDOMAIN' "$(D @$S4 imp1.ddi.test A)"
sed -i 's/198\.18\.9\.300/198.18.9.11/' "$DDI_TMP/bad.csv"
ddi_expect_match "the corrected file imports" '^1 prefixes, 2 addresses \(2 records\) imported' "$(c ipam import "$DDI_TMP/bad.csv")"
ddi_expect "imported address answered with its PTR" "imp2.ddi.test." "$(short @$S4 -x 198.18.9.11)"
c ipam export >"$DDI_TMP/export.csv"
ddi_expect_match "export holds the imported address" '^198\.18\.9\.11/24,active,imp2\.ddi\.test,' "$(cat "$DDI_TMP/export.csv")"

ddi_log "conflicts report"
c prefix add 198.18.10.0/24 >/dev/null
c record add loose.ddi.test. 300 A 198.18.10.9 >/dev/null
ddi_expect_match "a record in an unmanaged prefix without allocation is reported" \
  'record-unallocated +198\.18\.10\.9 ' "$(c conflicts)"

ddi_log "journal: IPAM changes carry the actor"
ddi_expect_match "journal names the actor of alloc next" 'unix:' "$(c journal --limit 3)"

ddi_summary
