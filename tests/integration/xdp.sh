#!/usr/bin/env bash
# xdp.sh -- the port scripts/run.sh prefers, net_af_xdp, end to end: UDP and TCP, IPv4 and IPv6, ping through
# the exception path, 100,000 queries under load with every answer NOERROR and none lost
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT
S4=198.18.0.1 S6=2001:2::1
DB=$DDI_TMP/db
ddi_db_default "$DB"
ddi_ns_setup
export DDI_PMD=xdp
ddi_start --db "$DB" --address $S4/24 --address $S6/64 --idle-sleep-us 20
ddi_wait_answer $S4 ddi.test 30
ddi_expect_match "an XDP program is attached to ddi-s (AF_XDP, not a packet socket)" 'xdp' \
  "$(ip -n "$DDI_NS_SRV" -d link show ddi-s | grep -oE 'xdp[a-z]*|prog/xdp' | head -1)"
ddi_expect "UDP IPv4" "198.18.0.10" "$(ddi_cli dig +short +time=2 +tries=2 @$S4 www.ddi.test A)"
ddi_expect "UDP IPv6" "2001:2::10" "$(ddi_cli dig +short +time=2 +tries=2 @$S6 www.ddi.test AAAA)"
ddi_expect "TCP IPv4 (through the tap)" "198.18.0.10" "$(ddi_cli dig +tcp +short +time=2 +tries=2 @$S4 www.ddi.test A)"
ddi_expect "TCP IPv6 (through the tap)" "2001:2::10" "$(ddi_cli dig +tcp +short +time=2 +tries=2 @$S6 www.ddi.test AAAA)"
ddi_expect "PTR synthesized" "www.ddi.test." "$(ddi_cli dig +short +time=2 +tries=2 @$S4 -x 198.18.0.10)"
ddi_expect "ping through the exception path" 0 "$(ddi_cli ping -c 2 -W 2 $S4 >/dev/null 2>&1; echo $?)"
printf '%s\n' 'www.ddi.test A' 'mail.ddi.test AAAA' 'nosuch.ddi.test A' >"$DDI_TMP/q"
out=$(ddi_cli timeout 60 dnsperf -s $S4 -d "$DDI_TMP/q" -n 33334 -l 30 -c 8 -q 200 -t 2 2>&1)
ddi_expect_match "dnsperf: 100,000 queries completed" 'Queries completed: +100002 \(100\.00%\)' "$out"
ddi_expect_match "dnsperf: none lost" 'Queries lost: +0 ' "$out"
ddi_expect_match "dnsperf: NOERROR and NXDOMAIN in the zone's proportions" 'NOERROR 66668 .*NXDOMAIN 33334' "$out"
ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_summary
