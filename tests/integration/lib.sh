# lib.sh -- shared helpers for integration tests: namespaces + veth, ddiplane by pid, bounded waits, cleanup
#
# Source it from a bash test script:
#   . "$(dirname "$0")/lib.sh"
#   ddi_ns_setup                      # namespaces $DDI_NS_SRV / $DDI_NS_CLI, veth ddi-s / ddi-c
#   ddi_db_default "$dir"             # the sample zones of share/ imported with ddictl
#   ddi_start --db "$dir" --address 198.18.0.1/24 --address 2001:2::1/64
#   ddi_wait_answer 198.18.0.1 ddi.test 20
#   ddi_cli dig @198.18.0.1 www.ddi.test A
# Everything created is removed by the EXIT trap (ddi_cleanup), processes by pid.
#
# Network: only 198.18.0.0/15 and 2001:2::/48. The server end of the veth
# (ddi-s) carries no kernel address, answers no ARP and drops whatever the
# kernel stack would see (tc ingress drop: packet sockets, and so DPDK's
# net_af_packet, see frames before tc ingress), so every answer a test
# sees came from ddiplane.

set -euo pipefail

DDI_SRCDIR=${DDI_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DDI_BUILDDIR=${DDI_BUILDDIR:-$DDI_SRCDIR/build}
DDI_ID=${DDI_ID:-$$}
DDI_NS_SRV=${DDI_NS_SRV:-ddi-srv-$DDI_ID}
DDI_NS_CLI=${DDI_NS_CLI:-ddi-cli-$DDI_ID}
DDI_TMP=${DDI_TMP:-$(mktemp -d /tmp/ddi-test.XXXXXX)}
DDI_PID=
DDI_LOG=$DDI_TMP/ddiplane.log
DDI_FAILS=0
DDI_CHECKS=0
_DDI_PIDS=()
_DDI_NS=()

ddi_log() { printf '%s\n' "== $*" >&2; }

# True while process $1 runs (a zombie, exited but not yet reaped, does not count).
ddi_alive() {
  local st
  st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

ddi_need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (network namespaces, DPDK)" >&2
    exit 77
  fi
}

ddi_srv() { ip netns exec "$DDI_NS_SRV" "$@"; }
ddi_cli() { ip netns exec "$DDI_NS_CLI" "$@"; }

# Namespaces and the veth pair. Client: ddi-c = 198.18.0.2/24, 2001:2::2/64.
ddi_ns_setup() {
  ip netns add "$DDI_NS_SRV"; _DDI_NS+=("$DDI_NS_SRV")
  ip netns add "$DDI_NS_CLI"; _DDI_NS+=("$DDI_NS_CLI")
  ip -n "$DDI_NS_SRV" link add ddi-s type veth peer name ddi-c netns "$DDI_NS_CLI"
  ip -n "$DDI_NS_SRV" link set lo up
  ip -n "$DDI_NS_CLI" link set lo up
  # Server end: no address, no ARP, no IPv6, nothing up the kernel stack.
  ddi_srv sysctl -qw net.ipv6.conf.ddi-s.disable_ipv6=1
  ip -n "$DDI_NS_SRV" link set ddi-s arp off up
  if ddi_srv tc qdisc add dev ddi-s clsact 2>/dev/null; then
    ddi_srv tc filter add dev ddi-s ingress matchall action drop 2>/dev/null ||
      ddi_srv sysctl -qw net.ipv4.conf.ddi-s.rp_filter=1 net.ipv4.conf.all.rp_filter=1
  else
    ddi_srv sysctl -qw net.ipv4.conf.ddi-s.rp_filter=1 net.ipv4.conf.all.rp_filter=1
  fi
  # Client end. Checksum offload off: over a veth the kernel leaves UDP
  # checksums to be filled in later (CHECKSUM_PARTIAL) and a packet socket
  # on the other end sees the unfinished checksum, which ddiplane would
  # rightly count as bad.
  ddi_cli ip addr add 198.18.0.2/24 dev ddi-c
  ddi_cli ip addr add 2001:2::2/64 dev ddi-c nodad
  ddi_cli ethtool -K ddi-c tx off >/dev/null 2>&1 || true
  ip -n "$DDI_NS_CLI" link set ddi-c up
}

# A VLAN subinterface on the client (ddi-c.ID = 198.18.ID.2/24) and on the
# server's tap (ddi0.ID = 198.18.ID.1/24, so the kernel answers ARP there).
ddi_vlan_setup() {
  local id=$1
  ddi_cli ip link add link ddi-c name "ddi-c.$id" type vlan id "$id"
  ddi_cli ethtool -K "ddi-c.$id" tx off >/dev/null 2>&1 || true
  ddi_cli ip addr add "198.18.$id.2/24" dev "ddi-c.$id"
  ddi_cli ip link set "ddi-c.$id" up
  ddi_srv ip link add link "${DDI_TAP:-ddi0}" name "${DDI_TAP:-ddi0}.$id" type vlan id "$id"
  ddi_srv ip addr add "198.18.$id.1/24" dev "${DDI_TAP:-ddi0}.$id"
  ddi_srv ip link set "${DDI_TAP:-ddi0}.$id" up
}

# A self-signed certificate for the HTTP API on 127.0.0.1: $DDI_TMP/cert.pem and key.pem.
ddi_http_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$DDI_TMP/key.pem" -out "$DDI_TMP/cert.pem" 2>/dev/null
}

# ddi_hold_store DB SECS OUT: tests/tools/lmdbhold holds the write lock of the store DB
# for SECS seconds (what it says goes to OUT); returns once it holds it (at most 5 s
# later), its pid in HOLD_PID and among the pids the cleanup stops.
ddi_hold_store() {
  local db=$1 secs=$2 out=$3 i
  "$DDI_BUILDDIR/tests/tools/lmdbhold" "$db" "$secs" >"$out" 2>&1 &
  HOLD_PID=$!
  _DDI_PIDS+=("$HOLD_PID")
  for ((i = 0; i < 50; i++)); do
    grep -q '^holding' "$out" && break
    sleep 0.1
  done
}

# ddi_http_start PORT DB SOCK: the namespaces, then ddiplane on 198.18.0.1 with the store DB,
# its control socket SOCK and its HTTP API on 127.0.0.1:PORT over a new certificate
# (ddi_http_cert); returns once it answers for ddi.test.
ddi_http_start() {
  local port=$1 db=$2 sock=$3
  ddi_http_cert
  ddi_ns_setup
  ddi_start --db "$db" --address 198.18.0.1/24 --control "$sock" --idle-sleep-us 20 \
    --http 127.0.0.1:"$port" --http-cert "$DDI_TMP/cert.pem" --http-key "$DDI_TMP/key.pem"
  ddi_wait_answer 198.18.0.1 ddi.test 60
}

# Import the sample zones of share/ into a new LMDB store in directory $1.
ddi_db_default() {
  local db=$1 f origin
  mkdir -p "$db"
  for f in "$DDI_SRCDIR"/share/*.zone; do
    origin=$(basename "$f" .zone).
    "$DDI_BUILDDIR/ddictl" --db "$db" zone import "$origin" "$f" >/dev/null
  done
}

# The DPDK port on ddi-s: DDI_PMD=packet (net_af_packet, the default of the
# tests: works on every kernel) or xdp (net_af_xdp in copy mode: needs the
# kernel's AF_XDP, holds its rate under overload where a packet socket's
# receive path does not; scripts/run.sh prefers it).
ddi_vdev() {
  case ${DDI_PMD:-packet} in
    xdp) echo "net_af_xdp0,iface=ddi-s,start_queue=0,queue_count=1" ;;
    *) echo "net_af_packet0,iface=ddi-s" ;;
  esac
}

# Start ddiplane in the server namespace on ddi-s; extra arguments are its own options.
# DDI_EAL overrides the EAL arguments.
ddi_start() {
  local eal=${DDI_EAL:--l 0,1 --no-huge -m 512 --no-shconf --no-pci --file-prefix ddi$DDI_ID --vdev $(ddi_vdev)}
  # shellcheck disable=SC2086
  ip netns exec "$DDI_NS_SRV" "$DDI_BUILDDIR/ddiplane" $eal -- "$@" >"$DDI_LOG" 2>&1 &
  DDI_PID=$!
  _DDI_PIDS+=("$DDI_PID")
}

# Wait (at most $3 seconds) until `dig @$1 SOA $2` gets an answer from ddiplane.
ddi_wait_answer() {
  local addr=$1 zone=$2 secs=${3:-30} i
  for ((i = 0; i < secs * 2; i++)); do
    if ! ddi_alive "$DDI_PID"; then
      echo "ddiplane exited early; its log:" >&2
      cat "$DDI_LOG" >&2
      return 1
    fi
    if ddi_cli dig +time=1 +tries=1 +short "@$addr" "$zone" SOA 2>/dev/null | grep -q .; then
      return 0
    fi
    sleep 0.5
  done
  echo "no answer from $addr after ${secs}s; ddiplane log:" >&2
  cat "$DDI_LOG" >&2
  return 1
}

# Stop ddiplane (SIGTERM, at most 10 s, then SIGKILL); its exit status is
# left in DDI_EXIT, its log stays in $DDI_LOG.
DDI_EXIT=
ddi_stop() {
  local pid=${1:-$DDI_PID} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    ddi_alive "$pid" || break
    sleep 0.1
  done
  if ddi_alive "$pid"; then
    echo "ddiplane (pid $pid) did not stop within 10 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  DDI_EXIT=0
  wait "$pid" 2>/dev/null || DDI_EXIT=$?
}

ddi_cleanup() {
  local pid ns
  for pid in "${_DDI_PIDS[@]}"; do ddi_stop "$pid"; done
  for ns in "${_DDI_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -z "${DDI_KEEP_TMP:-}" ]; then rm -rf "$DDI_TMP"; fi
}
trap ddi_cleanup EXIT

# --- assertions ------------------------------------------------------------

ddi_ok() { DDI_CHECKS=$((DDI_CHECKS + 1)); printf 'ok   %s\n' "$1"; }
ddi_fail() { DDI_CHECKS=$((DDI_CHECKS + 1)); DDI_FAILS=$((DDI_FAILS + 1)); printf 'FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/     | /'; return 0; }

# ddi_expect NAME EXPECTED ACTUAL
ddi_expect() {
  if [ "$2" = "$3" ]; then ddi_ok "$1"; else ddi_fail "$1" "expected: $2
got:      $3"; fi
}

# ddi_expect_match NAME REGEX ACTUAL
# (a here-string, not a pipe: grep -q exits at the first match and, under
# pipefail, the writer's SIGPIPE would fail the check on long text)
ddi_expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then ddi_ok "$1"; else ddi_fail "$1" "expected /$2/ in:
$3"; fi
}

ddi_summary() {
  echo "$((DDI_CHECKS - DDI_FAILS))/$DDI_CHECKS checks passed"
  [ "$DDI_FAILS" -eq 0 ]
}
