# fleet_lib.sh -- a fleet in namespaces: one hub namespace with a bridge, one namespace and veth per server (ddiplane or a kernel-stack server such as knotd)
#
# Source it after lib.sh (tests/integration/fleet.sh, bench/fleet.sh):
#   fleet_hub_setup                     # namespace $FLEET_HUB, bridge br0 = 198.18.0.2/24
#   fleet_add 1 ddi                     # namespace $(fleet_ns 1), veth fs <-> fl1 on br0
#   fleet_start_ddi 1 "$db" "$log" --catalog NAME ...
#   fleet_add 5 kernel                  # fs carries $(fleet_addr 5)/24 in the kernel (knotd)
#   fleet_hub dig @$(fleet_addr 1) ...
# Server I answers on 198.18.0.(10+I). A ddiplane server's veth end carries
# no kernel address and drops what the kernel would see (as lib.sh's
# ddi-s): its answers, transfers and NOTIFYs all go through ddiplane's port.
# Names are derived from $DDI_ID (the test's pid), so fleets of tests
# running at the same time do not collide; lib.sh's EXIT trap removes the
# namespaces and stops every process by pid.

FLEET_HUB=ddi-fh-$DDI_ID
declare -A FLEET_PID=()

fleet_ns() { echo "ddi-f$1-$DDI_ID"; }
fleet_addr() { echo "198.18.0.$((10 + $1))"; }
fleet_hub() { ip netns exec "$FLEET_HUB" "$@"; }

fleet_hub_setup() {
  ip netns add "$FLEET_HUB"; _DDI_NS+=("$FLEET_HUB")
  ip -n "$FLEET_HUB" link set lo up
  ip -n "$FLEET_HUB" link add br0 type bridge
  fleet_hub sysctl -qw net.ipv6.conf.br0.disable_ipv6=1
  ip -n "$FLEET_HUB" addr add 198.18.0.2/24 dev br0
  ip -n "$FLEET_HUB" link set br0 up
  # over a veth the kernel leaves UDP checksums to be filled later; a packet
  # socket on the other end would see them unfinished (lib.sh, ddi-c)
  fleet_hub ethtool -K br0 tx off >/dev/null 2>&1 || true
}

# fleet_add I ddi|kernel: server I's namespace and its veth on the hub's bridge
fleet_add() {
  local i=$1 mode=$2 ns
  ns=$(fleet_ns "$i")
  ip netns add "$ns"; _DDI_NS+=("$ns")
  ip -n "$ns" link set lo up
  ip -n "$ns" link add fs type veth peer name "fl$i" netns "$FLEET_HUB"
  ip -n "$FLEET_HUB" link set "fl$i" master br0
  fleet_hub ethtool -K "fl$i" tx off >/dev/null 2>&1 || true
  ip -n "$FLEET_HUB" link set "fl$i" up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.fs.disable_ipv6=1
  if [ "$mode" = ddi ]; then
    ip -n "$ns" link set fs arp off up
    # as lib.sh's ddi-s: tc drops at ingress; without the matchall classifier,
    # strict reverse-path filtering (the way back to a client is the tap, not fs)
    if ! { ip netns exec "$ns" tc qdisc add dev fs clsact 2>/dev/null &&
           ip netns exec "$ns" tc filter add dev fs ingress matchall action drop 2>/dev/null; }; then
      ip netns exec "$ns" sysctl -qw net.ipv4.conf.fs.rp_filter=1 net.ipv4.conf.all.rp_filter=1
    fi
  else
    ip -n "$ns" addr add "$(fleet_addr "$i")/24" dev fs
    ip netns exec "$ns" ethtool -K fs tx off >/dev/null 2>&1 || true
    ip -n "$ns" link set fs up
  fi
}

# fleet_start_ddi I DB LOG [OPTION...]: ddiplane as server I (control socket $DDI_TMP/ctlI.sock)
fleet_start_ddi() {
  local i=$1 db=$2 log=$3 ns
  shift 3
  ns=$(fleet_ns "$i")
  # `ip netns exec` execs ddiplane: $! is ddiplane itself, stopped by pid
  ip netns exec "$ns" "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge -m 512 --no-shconf --no-pci \
    --file-prefix "ddif$i-$DDI_ID" --vdev net_af_packet0,iface=fs -- \
    --db "$db" --address "$(fleet_addr "$i")/24" --control "$DDI_TMP/ctl$i.sock" \
    --idle-sleep-us 100 "$@" >"$log" 2>&1 &
  FLEET_PID[$i]=$!
  _DDI_PIDS+=("$!")
}

# fleet_wait_soa I ZONE SECS: until server I answers ZONE's SOA (at most SECS seconds)
fleet_wait_soa() {
  local i
  for ((i = 0; i < $3 * 4; i++)); do
    fleet_hub dig +norec +time=1 +tries=1 +short "@$(fleet_addr "$1")" "$2" SOA 2>/dev/null | grep -q . && return 0
    sleep 0.25
  done
  return 1
}
