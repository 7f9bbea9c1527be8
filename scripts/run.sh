#!/usr/bin/env bash
# run.sh -- build ddiplane and serve the sample zones of share/ on a virtual port until Ctrl-C
#
# What it does (as root, on a fresh Debian 12):
#   1. scripts/build.sh: installs the missing Debian packages, builds build/.
#   2. Creates the embedded default database var/db from share/*.zone with
#      `build/ddictl --db var/db zone import ORIGIN FILE` if it is missing.
#   3. Creates two network namespaces joined by a veth pair:
#        ddi-srv: ddi-s, no kernel address (ddiplane drives it through DPDK's
#                 net_af_xdp where the kernel has AF_XDP, else net_af_packet)
#        ddi-cli: ddi-c = 198.18.0.2/24, 2001:2::2/64 (the clients: dig, kdig, dnsperf)
#   4. Starts ddiplane in ddi-srv (main lcore 0, worker pinned to lcore 1,
#      no hugepages) serving 198.18.0.1 and 2001:2::1; its tap ddi0 in
#      ddi-srv carries these addresses for ARP/ND, ping and TCP.
#   5. Shows real dig answers (UDP and TCP, IPv4 and IPv6), prints how to
#      query and load-test it, serves until Ctrl-C, then removes everything
#      it created (namespaces, processes) and prints ddiplane's counters.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: needs root (network namespaces, DPDK); try: sudo $0" >&2
  exit 1
fi

scripts/build.sh

export DDI_SRCDIR=$PWD DDI_BUILDDIR=$PWD/build DDI_NS_SRV=ddi-srv DDI_NS_CLI=ddi-cli DDI_ID=run
for ns in ddi-srv ddi-cli; do
  if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
    echo "run.sh: namespace $ns exists (another run.sh?); remove it with: ip netns del $ns" >&2
    exit 1
  fi
done
# shellcheck source=../tests/integration/lib.sh
. tests/integration/lib.sh

DB=$PWD/var/db
if [ ! -f "$DB/data.mdb" ]; then
  ddi_log "creating the default database $DB from share/"
  ddi_db_default "$DB"
fi

ddi_log "namespaces ddi-srv (ddi-s, no address) and ddi-cli (ddi-c 198.18.0.2/24, 2001:2::2/64)"
ddi_ns_setup

# net_af_xdp first: under overload it keeps its rate where a packet socket's
# receive path collapses (bench/RESULTS.md "On the wire"); net_af_packet works
# on every kernel, so it is the fallback.
ddi_log "starting ddiplane in ddi-srv on net_af_xdp (log: $DDI_LOG)"
export DDI_PMD=xdp
ddi_start --db "$DB" --address 198.18.0.1/24 --address 2001:2::1/64 --nsid ddiplane-demo
if ! ddi_wait_answer 198.18.0.1 ddi.test 30 2>/dev/null; then
  ddi_log "net_af_xdp did not come up here; falling back to net_af_packet"
  ddi_stop
  ip -n ddi-srv link del ddi0 2>/dev/null || true
  export DDI_PMD=packet
  ddi_start --db "$DB" --address 198.18.0.1/24 --address 2001:2::1/64 --nsid ddiplane-demo
  ddi_wait_answer 198.18.0.1 ddi.test 60
fi
cat "$DDI_LOG"

show() {
  printf '\n$ ip netns exec ddi-cli %s\n' "$*"
  ddi_cli "$@" 2>&1 | sed 's/^/  /'
}
ddi_log "real answers"
show dig +norec +noall +answer @198.18.0.1 www.ddi.test A
show dig +norec +noall +answer @198.18.0.1 www.ddi.test AAAA
show dig +norec +noall +answer @2001:2::1 ddi.test MX
show dig +norec +tcp +noall +answer @198.18.0.1 ddi.test TXT
show dig +norec +tcp +noall +answer @2001:2::1 mail.ddi.test AAAA
show dig +norec +noall +answer @198.18.0.1 -x 198.18.0.10
show dig +norec +noall +answer @2001:2::1 -x 2001:2::20
show dig +norec +noall +comments @198.18.0.1 nosuch.ddi.test A
show ping -c 1 -W 2 198.18.0.1

cat <<EOM

== ddiplane serves 198.18.0.1 and 2001:2::1 (zones: ddi.test., 0.18.198.in-addr.arpa.,
   0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.) from namespace ddi-srv. In another terminal:

   ip netns exec ddi-cli dig @198.18.0.1 www.ddi.test A
   ip netns exec ddi-cli dig @2001:2::1 -x 2001:2::10
   ip netns exec ddi-cli kdig +tcp @198.18.0.1 big.ddi.test TXT
   ip netns exec ddi-cli dig +nsid @198.18.0.1 ddi.test SOA

   Load test (100k queries, at most 30 s):
   printf 'www.ddi.test A\nmail.ddi.test AAAA\nnosuch.ddi.test A\n' > /tmp/ddi-queries.txt
   ip netns exec ddi-cli dnsperf -s 198.18.0.1 -d /tmp/ddi-queries.txt -n 35000 -l 30 -c 8 -q 500

   (for peak numbers restart with --idle-sleep-us 0: the worker then never sleeps)

   Ctrl-C stops ddiplane and removes the namespaces.
EOM

trap 'echo; ddi_log "stopping"' INT TERM
wait "$DDI_PID" 2>/dev/null || true
ddi_stop
echo
cat "$DDI_LOG" | sed -n '/dataplane: notice: stopping/,$p'
