#!/usr/bin/env bash
# ddns.sh -- RFC 2136 update throughput with TSIG: ddiplane against Knot DNS on the same zone, dnsperf -u at several concurrencies
#
# Usage: sudo bench/ddns.sh [DURATION_S] ["CONCURRENCIES"]
# ddiplane runs as in tests/integration (net_af_packet on a veth, its own
# namespace); knotd runs in a third namespace behind a second veth pair, so
# both see the same kernel path from dnsperf. Each run adds distinct names
# (no run repeats a previous one's update, so every update is a real
# commit). Only 198.18.0.0/15, inside namespaces removed on exit; every
# process is stopped by pid. Not a test: prints a table, asserts nothing.
DUR=${1:-10}
CONC=${2:-"1 4 16 64"}
. "$(cd "$(dirname "$0")" && pwd)/../tests/integration/lib.sh"
set +e
ddi_need_root
CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
ddi_db_default "$DB"
KEY=$("$CTL" --db "$DB" key add bench.key. 2>/dev/null)
"$CTL" --db "$DB" policy add bench.key. grant subdomain ddi.test. >/dev/null
SECRET=${KEY##*:}
ddi_ns_setup
ddi_start --db "$DB" --address 198.18.0.1/24 --idle-sleep-us 20
ddi_wait_answer 198.18.0.1 ddi.test 60 || exit 1

# Knot in its own namespace on 198.18.1.1, reached from the client namespace.
NS_K=ddi-knot-$DDI_ID
ip netns add $NS_K; _DDI_NS+=($NS_K)
ip -n $NS_K link add knot-s type veth peer name knot-c netns "$DDI_NS_CLI"
ip -n $NS_K addr add 198.18.1.1/24 dev knot-s
ip -n $NS_K link set lo up
ip -n $NS_K link set knot-s up
ip -n "$DDI_NS_CLI" addr add 198.18.1.2/24 dev knot-c
ip -n "$DDI_NS_CLI" link set knot-c up
K=$DDI_TMP/knot; mkdir -p $K/run $K/db $K/zones
cp "$DDI_SRCDIR/share/ddi.test.zone" $K/zones/
cat > $K/knot.conf <<EOF
server:
    rundir: $K/run
    listen: 198.18.1.1@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: $K/db
key:
  - id: bench.key
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: upd
    key: bench.key
    action: update
template:
  - id: default
    storage: $K/zones
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: ddi.test
    file: ddi.test.zone
    acl: upd
EOF
ip netns exec $NS_K knotd -c $K/knot.conf > $K/knot.log 2>&1 &
_DDI_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  ddi_cli dig +short +time=1 +tries=1 @198.18.1.1 ddi.test SOA 2>/dev/null | grep -q . && break
  sleep 0.2
done

# mkupd PREFIX N BASE: N updates, each adding one new name with its own address
# (198.19.0.0/16 from BASE on: ddiplane refuses an address another name holds)
mkupd() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
p, n, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(n):
    a = (base + i) & 0xffff
    out.append("ddi.test\nadd %s%d 300 A 198.19.%d.%d\nsend\n" % (p, i, a >> 8, a & 255))
sys.stdout.write("".join(out))
PY
}
run=0
printf '%-10s %6s %12s %10s %10s %8s\n' server conc updates/s "avg ms" "sd ms" lost
for srv in ddiplane knot; do
  addr=198.18.0.1; [ $srv = knot ] && addr=198.18.1.1
  for c in $CONC; do
    f=$DDI_TMP/upd-$srv-$c; mkupd "$srv-c$c-" 60000 $((run++ * 16384)) > $f
    out=$(ddi_cli timeout $((DUR + 30)) dnsperf -u -s $addr -d $f -y "hmac-sha256:bench.key:$SECRET" \
          -c 1 -q $c -l $DUR -t 5 2>&1)
    ups=$(sed -n 's/.*per second: *\([0-9.]*\).*/\1/p' <<<"$out")
    avg=$(sed -n 's/.*Average Latency (s): *\([0-9.]*\).*/\1/p' <<<"$out")
    sd=$(sed -n 's/.*Latency StdDev (s): *\([0-9.]*\).*/\1/p' <<<"$out")
    lost=$(sed -n 's/.* lost: *\([0-9]*\).*/\1/p' <<<"$out")
    ok=$(sed -n 's/.*NOERROR \([0-9]*\).*/\1/p' <<<"$out")
    printf '%-10s %6s %12s %10s %10s %8s  (NOERROR %s)\n' $srv $c "$ups" \
      "$(awk -v a="${avg:-0}" 'BEGIN{printf "%.3f", a*1000}')" \
      "$(awk -v a="${sd:-0}" 'BEGIN{printf "%.3f", a*1000}')" "$lost" "$ok"
    [ -n "$ups" ] || printf '%s\n' "$out" | tail -5
  done
done
