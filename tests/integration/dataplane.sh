#!/usr/bin/env bash
# dataplane.sh -- ddiplane end to end: real dig/kdig/dnsperf queries over a veth, exception path, malformed frames
#
# ddiplane runs in its own namespace on the server end of a veth (DPDK
# net_af_packet, no hugepages), serving the sample zones of share/ imported
# with ddictl. The server end has no kernel address: every answer comes from
# ddiplane (UDP from the worker, TCP/ICMP/ARP/ND from the kernel behind its tap).
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig kdig dnsperf python3 ethtool ping; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
[ -x "$DDI_BUILDDIR/ddiplane" ] && [ -x "$DDI_BUILDDIR/ddictl" ] || { echo "build ddiplane and ddictl first"; exit 1; }

PKT="$DDI_SRCDIR/tests/integration/dataplane_pkt.py"
S4=198.18.0.1
S6=2001:2::1

ddi_log "database from share/ with ddictl, namespaces, ddiplane"
ddi_db_default "$DDI_TMP/db"
ddi_ns_setup
ddi_start --db "$DDI_TMP/db" --address $S4/24 --address $S6/64 --address 198.18.100.1 \
  --nsid ddiplane-test --idle-sleep-us 50
ddi_wait_answer $S4 ddi.test 60

D() { ddi_cli dig +norec +time=2 +tries=2 "$@" 2>&1; }
short() { D +short "$@" | sort; }

ddi_log "answers (exact rdata), IPv4 and IPv6 transport"
for srv in $S4 $S6; do
  ddi_expect "A over $srv" "198.18.0.10" "$(short @$srv www.ddi.test A)"
  ddi_expect "AAAA over $srv" "2001:2::10" "$(short @$srv www.ddi.test AAAA)"
done
ddi_expect "MX" "10 mail.ddi.test.
20 mail2.ddi.test." "$(short @$S4 ddi.test MX)"
ddi_expect "TXT" '"v=spf1 mx -all"' "$(short @$S6 ddi.test TXT)"
ddi_expect "NS" "ns1.ddi.test.
ns2.ddi.test." "$(short @$S4 ddi.test NS)"
ddi_expect_match "SOA" '^ns1\.ddi\.test\. hostmaster\.ddi\.test\. [0-9]+ 3600 900 604800 300$' "$(short @$S4 ddi.test SOA)"
ddi_expect "PTR v4 (from the address index)" "www.ddi.test." "$(short @$S4 -x 198.18.0.10)"
ddi_expect "PTR v6 (from the address index)" "mail.ddi.test." "$(short @$S6 -x 2001:2::20)"
ddi_expect "CNAME chain" "198.18.0.10
www.ddi.test." "$(short @$S4 ftp.ddi.test A)"
ddi_expect "wildcard" "198.18.0.30" "$(short @$S4 anything.apps.ddi.test A)"

out=$(D @$S4 nosuch.ddi.test A)
ddi_expect_match "NXDOMAIN" 'status: NXDOMAIN' "$out"
ddi_expect_match "NXDOMAIN has the SOA" 'ddi\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+SOA' "$out"
out=$(D @$S4 www.ddi.test TXT)
ddi_expect_match "NODATA" 'status: NOERROR.*' "$out"
ddi_expect_match "NODATA: empty answer, SOA in authority" 'ANSWER: 0, AUTHORITY: 1' "$out"
out=$(D @$S4 host.sub.ddi.test A)
ddi_expect_match "referral: NOERROR, not authoritative" 'flags: qr;' "$out"
ddi_expect_match "referral: NS in authority" 'sub\.ddi\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+NS[[:space:]]+ns1\.sub\.ddi\.test\.' "$out"
ddi_expect_match "referral: glue" 'ns1\.sub\.ddi\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.0\.40' "$out"
ddi_expect_match "REFUSED outside our zones" 'status: REFUSED' "$(D @$S4 www.example.com A)"
ddi_expect_match "case echoed" '^WwW\.dDi\.TEST\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.0\.10' \
  "$(D +noall +answer @$S4 WwW.dDi.TEST A)"

ddi_log "EDNS, NSID, truncation, TCP"
out=$(D +bufsize=4096 +nsid @$S4 www.ddi.test A)
ddi_expect_match "EDNS: our UDP size 1232" 'udp: 1232' "$out"
ddi_expect_match "NSID" 'NSID: .*"ddiplane-test"' "$out"
out=$(D +ignore +bufsize=1232 @$S4 big.ddi.test TXT)
ddi_expect_match "TC over UDP (1232)" 'flags: qr aa tc;' "$out"
out=$(D +ignore +noedns @$S6 big.ddi.test TXT)
ddi_expect_match "TC over UDP (512, no EDNS)" 'flags: qr aa tc;' "$out"
out=$(D @$S4 big.ddi.test TXT)
ddi_expect_match "TC then TCP retry" 'Truncated, retrying in TCP mode' "$out"
ddi_expect_match "TCP retry gets all 8 TXT" 'ANSWER: 8,' "$out"
ddi_expect "A over TCP/IPv4" "198.18.0.10" "$(short +tcp @$S4 www.ddi.test A)"
ddi_expect "AAAA over TCP/IPv6" "2001:2::10" "$(short +tcp @$S6 www.ddi.test AAAA)"
ddi_expect "kdig UDP" "198.18.0.10" "$(ddi_cli kdig +short @$S4 www.ddi.test A 2>&1)"
ddi_expect "kdig TCP, two queries on one connection" "198.18.0.10
2001:2::20" "$(ddi_cli kdig +tcp +keepopen +short @$S4 www.ddi.test A mail.ddi.test AAAA 2>&1)"
ddi_expect_match "TCP: pipelined answers in order, idle connection closed after ~10 s" \
  '^ids=1,2,3 idle_close=(9|10|11)$' "$(ddi_cli python3 "$PKT" tcp $S6)"
ddi_expect_match "NOTIFY answered by the control lcore (RFC 1996)" 'opcode: NOTIFY, status: NOERROR' \
  "$(D +opcode=notify @$S4 ddi.test SOA)"
ddi_expect_match "NOTIFY for a zone not ours: NOTAUTH" 'opcode: NOTIFY, status: NOTAUTH' \
  "$(D +opcode=notify @$S4 other.example SOA)"

ddi_log "exception path: ARP, ND, ping"
mac=$(ip -n "$DDI_NS_SRV" -o link show ddi-s | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
ddi_expect_match "ping IPv4" ' 0% packet loss' "$(ddi_cli ping -c 3 -i 0.2 -W 2 $S4 2>&1)"
ddi_expect_match "ping IPv6" ' 0% packet loss' "$(ddi_cli ping -c 3 -i 0.2 -W 2 $S6 2>&1)"
ddi_expect_match "ARP: $S4 is at the port's MAC" "^$S4 dev ddi-c lladdr $mac" "$(ddi_cli ip neigh show $S4)"
ddi_expect_match "ND: $S6 is at the port's MAC" "^$S6 dev ddi-c lladdr $mac" "$(ddi_cli ip neigh show $S6)"

ddi_log "VLAN 100: the answer carries the query's tag"
# A tagged query as raw frame: works on kernels without 802.1Q support too.
ddi_expect "raw tagged query answered with tag 100" "vlan=100 a=198.18.0.10" \
  "$(ddi_cli python3 "$PKT" vlanq ddi-c "$mac" 100)"
# With 802.1Q in the kernel: dig on a VLAN interface, the tap's VLAN interface answers ARP.
if ddi_cli ip link add link ddi-c name ddi-c.99 type vlan id 99 2>/dev/null; then
  ddi_cli ip link del ddi-c.99
  ddi_vlan_setup 100
  ddi_cli python3 "$PKT" vlan ddi-c 100 8 >"$DDI_TMP/vlan.out" &
  cap=$!
  sleep 0.5
  ddi_expect "dig over VLAN 100" "198.18.0.10" "$(short @198.18.100.1 www.ddi.test A)"
  wait "$cap" || true
  ddi_expect "dig answer tagged 100" "vlan=100" "$(cat "$DDI_TMP/vlan.out")"
else
  echo "note: no 802.1Q support in this kernel: dig over a VLAN interface not tried"
fi

ddi_log "malformed frames are counted and dropped; the worker goes on"
ddi_cli python3 "$PKT" send ddi-c "$mac" badlen badlen badsum badsum badsum shorthdr good
ddi_expect "answer after malformed frames" "198.18.0.10" "$(short @$S4 www.ddi.test A)"

ddi_log "dnsperf: 100000 queries, none lost"
printf '%s\n' 'www.ddi.test A' 'www.ddi.test AAAA' 'mail.ddi.test A' 'ddi.test MX' 'ddi.test SOA' \
  'nosuch.ddi.test A' 'x.apps.ddi.test A' 'ftp.ddi.test A' 'ns1.ddi.test AAAA' 'missing.ddi.test AAAA' \
  >"$DDI_TMP/queries.txt"
perf=$(ddi_cli dnsperf -s $S4 -d "$DDI_TMP/queries.txt" -n 10000 -l 120 -c 4 -q 64 -t 5 2>&1)
echo "$perf" | sed -n '/Statistics/,/Latency StdDev/p'
ddi_expect_match "dnsperf: 100000 completed" 'Queries completed:[[:space:]]+100000 ' "$perf"
ddi_expect_match "dnsperf: 0 lost" 'Queries lost:[[:space:]]+0 ' "$perf"
ddi_expect_match "dnsperf: 80000 NOERROR, 20000 NXDOMAIN" 'Response codes:[[:space:]]+NOERROR 80000 \(80\.00%\), NXDOMAIN 20000 \(20\.00%\)$' "$perf"

ddi_log "SIGTERM: clean stop, counters, tap removed"
ddi_stop
ddi_expect "exit status after SIGTERM" "0" "$DDI_EXIT"
log=$(cat "$DDI_LOG")
cnt() { printf '%s\n' "$log" | awk -v k="$1" '$1 == k { print $NF }'; }
ddi_expect "counted: bad UDP length" "2" "$(cnt malformed_length)"
ddi_expect "counted: bad UDP checksum" "3" "$(cnt malformed_checksum)"
ddi_expect "counted: short DNS header" "1" "$(cnt malformed_dns_header)"
ddi_expect_match "counted: truncated answers" '^[1-9]' "$(cnt truncated)"
ddi_expect_match "counted: ARP through the tap" '^[1-9]' "$(cnt exc_arp)"
ddi_expect_match "counted: TCP through the tap" '^[1-9]' "$(cnt exc_tcp)"
ddi_expect_match "counted: both NOTIFYs to the control lcore" '^2$' "$(cnt to_control)"
ddi_expect "counted: nothing dropped at TX" "" "$(cnt tx_dropped)"
if ip -n "$DDI_NS_SRV" link show ddi0 >/dev/null 2>&1; then ddi_fail "tap removed"; else ddi_ok "tap removed"; fi

ddi_summary
