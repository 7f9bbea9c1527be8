#!/usr/bin/env bash
# bigzone.sh -- a zone too big for the caches (20,000 names), where the worker walks each burst's lookups
# together: exact answers of every kind, and 30,000 queries under load with the zone's rcodes and none lost
#
# Above answer_bulk_worth()'s 16,384 names the worker parses a whole burst,
# walks its trie descents together and answers from those walks (index/answer.h,
# answer_bulk_*); the other integration tests use small zones that the
# one-by-one path answers. Every check here asserts the answer itself.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
S4=198.18.0.1 S6=2001:2::1
N=20000

ddi_log "zone big.test with $N names, reverse zone 19.198.in-addr.arpa"
{
  printf '$TTL 300\n@ IN SOA ns.big.test. host.big.test. 1 3600 600 86400 60\n@ IN NS ns\n'
  printf 'ns IN A 198.18.0.1\nsub IN NS ns.sub\nns.sub IN A 198.19.250.1\n'
  printf '*.wild IN TXT "w"\nalias IN CNAME h7\n'
  awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
    printf "h%d IN A 198.19.%d.%d\nh%d IN AAAA 2001:2:0:1::%x\n", i, int(i / 250), i % 250 + 1, i, i }'
} >"$DDI_TMP/big.zone"
printf '$TTL 300\n@ IN SOA ns.big.test. host.big.test. 1 3600 600 86400 60\n@ IN NS ns.big.test.\n' \
  >"$DDI_TMP/rev.zone"
mkdir -p "$DB"
"$CTL" --db "$DB" zone import big.test. "$DDI_TMP/big.zone" >/dev/null
"$CTL" --db "$DB" zone import 19.198.in-addr.arpa. "$DDI_TMP/rev.zone" >/dev/null

ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --address $S6/64 --idle-sleep-us 20
ddi_wait_answer $S4 big.test 60

q() { ddi_cli dig +time=2 +tries=2 "@$S4" "$@"; }
ddi_expect "A of a name deep in the trie" "198.19.49.96" "$(q +short h12345.big.test A)"
ddi_expect "AAAA, name in mixed case" "2001:2:0:1::3039" "$(q +short H12345.Big.TEST AAAA)"
ddi_expect "over IPv6" "198.19.79.250" "$(ddi_cli dig +short +time=2 +tries=2 @$S6 h19999.big.test A)"
ddi_expect_match "NXDOMAIN, authoritative, SOA in authority" \
  'status: NXDOMAIN.*flags: qr aa rd;.*AUTHORITY: 1' "$(q nx42.big.test A | tr '\n' ' ')"
ddi_expect_match "NODATA for a type the name lacks" 'status: NOERROR.*ANSWER: 0, AUTHORITY: 1' \
  "$(q h5.big.test MX | tr '\n' ' ')"
ddi_expect "referral below the cut: NS in authority" "ns.sub.big.test." \
  "$(q +noall +authority x.sub.big.test A | awk '$4 == "NS" { print $5 }')"
ddi_expect_match "referral: not authoritative, glue" 'flags: qr rd;.*ns\.sub\.big\.test\..*A.*198\.19\.250\.1' \
  "$(q x.sub.big.test A | tr '\n' ' ')"
ddi_expect "wildcard" '"w"' "$(q +short anything.wild.big.test TXT)"
ddi_expect "CNAME followed" "$(printf 'h7.big.test.\n198.19.0.8')" "$(q +short alias.big.test A)"
ddi_expect "PTR synthesized from the address index" "h12345.big.test." "$(q +short -x 198.19.49.96)"
ddi_expect_match "REFUSED outside our zones" 'status: REFUSED' "$(q www.example.org A)"

ddi_log "dnsperf: 30,000 queries over many names"
awk -v n=$N 'BEGIN { srand(7); for (i = 0; i < 4000; i++) printf "h%d.big.test A\n", int(rand() * n)
  for (i = 0; i < 1000; i++) printf "h%d.big.test AAAA\n", int(rand() * n)
  for (i = 0; i < 1000; i++) printf "nx%d.big.test A\n", i }' >"$DDI_TMP/q"
out=$(ddi_cli timeout 60 dnsperf -s $S4 -d "$DDI_TMP/q" -n 5 -l 40 -c 8 -q 200 -t 2 2>&1)
ddi_expect_match "dnsperf: 30,000 queries completed" 'Queries completed: +30000 \(100\.00%\)' "$out"
ddi_expect_match "dnsperf: none lost" 'Queries lost: +0 ' "$out"
ddi_expect_match "dnsperf: NOERROR and NXDOMAIN in the file's proportions" 'NOERROR 25000 .*NXDOMAIN 5000' "$out"
ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_summary
