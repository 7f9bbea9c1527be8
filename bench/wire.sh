#!/usr/bin/env bash
# bench/wire.sh: on-the-wire benchmark of ddiplane beside Knot DNS and NSD over a veth pair between two network namespaces.
#
# One topology, one generated zone, one query file; each server in turn
# (ddiplane on net_af_packet and net_af_xdp, knotd in XDP and in UDP mode,
# NSD with one server process), each driven by dnsperf and by kxdpgun at the
# same offered loads. Prints one table of throughput, loss and latency, and
# one of memory per record and time from start to first answer.
#
# Usage: sudo bench/wire.sh [--quick] [--names N] [--duration S]
#            [--loads "20000 50000 100000 200000 max"]
#            [--servers "ddiplane-packet ddiplane-xdp knot-xdp knot-udp nsd"]
#            [--gens "dnsperf kxdpgun"] [--out FILE] [--keep]
#   --gens "" runs no generator: only memory per record and start-up time.
#   Start-up is timed with the client's neighbour entry for the server
#   pinned beforehand (NEIGH_PIN=0: resolved by ARP during the start).
#   Servers "before-packet" and "before-xdp" are ddiplane again from the
#   binary in DDIPLANE_BEFORE (its ddictl beside it): before/after in one run.
# Environment: DDIPLANE, DDICTL (binaries; default build/ then build-*/),
#              DDIPLANE_BEFORE (a second ddiplane, e.g. main built elsewhere),
#              DDI_EXTRA (more ddiplane options, e.g. "--query-log /tmp/q.log"),
#              NAMES, DURATION, LOADS, SERVERS, GENS as the flags.
#
# Only 198.18.0.0/15 and 2001:2::/48 are used, inside namespaces this script
# creates (bench-srv, bench-cli) and removes on exit, with every process it
# started killed by pid. Server worker on CPU $SRV_CPU, generator on
# CPU $GEN_CPU, the same for every server. Every run and wait is bounded.
# Not a test: it asserts nothing and is not registered with meson test.

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

NAMES=${NAMES:-1000000}
DURATION=${DURATION:-10}
LOADS=${LOADS:-"20000 50000 100000 200000 max"}
SERVERS=${SERVERS:-"ddiplane-packet ddiplane-xdp knot-xdp knot-udp nsd"}
GENS=${GENS:-"dnsperf kxdpgun"}
OUT=""
KEEP=0
QUICK=0
# The DPDK worker lcore is the second of "-l 0,1", so the server worker is on
# CPU 1 and the generator on CPU 0, for every server alike.
SRV_CPU=1
GEN_CPU=0
# "max" for kxdpgun: a rate it cannot reach on this machine, so it sends as
# fast as it can.
KXDP_MAX=5000000
START_TIMEOUT=300
# Other work may share this machine (builds): server and generator run at
# this niceness, every server alike, so that they keep their cores.
NICE=${NICE:--15}
# ddiplane's --idle-sleep-us: 0 keeps the worker polling (its core at 100 %).
DDI_IDLE_SLEEP_US=${DDI_IDLE_SLEEP_US:-0}
DDI_EXTRA=${DDI_EXTRA:-}
# dnsperf -v prints one line per query with its latency: the only way to a
# p99 with dnsperf 2.10 (no histogram option yet). Printing costs the
# generator about a quarter of its rate, so it is used only up to this
# offered load; above it the table has dnsperf's own average and standard
# deviation and no p99.
P99_MAX_LOAD=${P99_MAX_LOAD:-50000}
# The kernel servers' addresses are on the veth before they start, so the
# client's first ARP request is answered at once; ddiplane answers ARP (on
# its tap) only once it runs, and the client's kernel retries an unanswered
# request after 1 s: its first-answer time then measured the client's ARP
# timer (about 1,050 ms whatever the server did). Every server's MAC is the
# veth's (net_af_packet and net_af_xdp take the interface's), so the
# client's entry is pinned to it before each start, for every server alike,
# as a router that knew the service address before a restart would have it.
NEIGH_PIN=${NEIGH_PIN:-1}

usage() { sed -n '9,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--names) NAMES=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--loads) LOADS=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	--gens) GENS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) usage 0 ;;
	*) echo "wire.sh: unknown argument $1" >&2; usage ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	NAMES=50000; DURATION=2; LOADS="50000 max"
fi
case "$NAMES$DURATION" in *[!0-9]*) echo "wire.sh: --names and --duration take integers" >&2; exit 2 ;; esac
for l in $LOADS; do
	case "$l" in max) ;; ''|*[!0-9]*) echo "wire.sh: bad load $l" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "wire.sh: needs root (network namespaces, XDP)" >&2; exit 2; }
for t in ip tc ethtool sysctl taskset setsid chrt renice timeout python3 dnsperf kxdpgun knotd nsd; do
	command -v "$t" >/dev/null || { echo "wire.sh: $t not found" >&2; exit 2; }
done

NS_S=bench-srv
NS_C=bench-cli
IF_S=bsrv0
IF_C=bcli0
SRV4=198.18.0.1
CLI4=198.18.0.2
SRV6=2001:2::1
CLI6=2001:2::2

for ns in $NS_S $NS_C; do
	if ip netns list | grep -qw "^$ns"; then
		echo "wire.sh: namespace $ns exists (another run, or a crashed one: ip netns del $ns)" >&2
		exit 2
	fi
done

# The interpreter itself, not a version manager's shim that takes a tenth of
# a second to start (the probe's start counts in the first-answer time).
PY=$(python3 -c 'import sys; print(sys.executable)')

WORK=$(mktemp -d /tmp/ddi-wire.XXXXXX)
PIDS=()
log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		stop_pid "$p"
	done
	softirq_prio restore
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_C 2>/dev/null
	if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID: TERM, up to 10 s, then KILL; bounded.
stop_pid() {
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

# softirq_prio raise|restore: once a core's softirq work overflows (a
# veth's NAPI or backlog under load) the kernel defers all of it to that
# core's ksoftirqd thread until it has run. Beside a generator or server
# that polls without sleeping (kxdpgun, ddiplane) at niceness $NICE, a
# ksoftirqd at 0 waits for its share and every packet through that core
# waits with it. Set above both (-20) for the run, as softirqs are above
# any task outside overload; the old values put back on exit.
KSOFT=()
softirq_prio() {
	local p n
	if [ "$1" = raise ]; then
		for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
			n=$(ps -o ni= -p "$p" | tr -d ' ')
			KSOFT+=("$p:$n")
			renice -n -20 -p "$p" >/dev/null 2>&1
		done
	else
		for p in "${KSOFT[@]}"; do
			renice -n "${p#*:}" -p "${p%%:*}" >/dev/null 2>&1
		done
		KSOFT=()
	fi
}

# ---- topology -------------------------------------------------------------

setup_net() {
	ip netns add $NS_S && ip netns add $NS_C || return 1
	ip link add $IF_S type veth peer name $IF_C || return 1
	ip link set $IF_S netns $NS_S && ip link set $IF_C netns $NS_C || return 1
	ip -n $NS_S link set lo up && ip -n $NS_C link set lo up
	ip -n $NS_C addr add $CLI4/24 dev $IF_C
	ip -n $NS_C addr add $CLI6/64 dev $IF_C nodad
	# Over a veth the kernel leaves UDP checksums unfinished (CHECKSUM_PARTIAL)
	# and a packet socket or XDP on the other end sees them so: the client
	# computes its checksums in software, for every server alike.
	ip netns exec $NS_C ethtool -K $IF_C tx off >/dev/null || return 1
	# A veth hands a frame to its peer on the CPU that sent it. RPS puts each
	# side's receive processing on its own side's core: replies on the
	# generator's, queries on the server's, where the kernel delivers them to
	# a UDP socket, a packet socket (net_af_packet) or generic XDP. Native
	# veth XDP (knotd XDP, net_af_xdp when it attaches natively) runs before
	# RPS, on the sender's core. Without RPS a busy-polling server's core also
	# carries the client's receive work, through ksoftirqd.
	ip netns exec $NS_C sh -c "echo $(printf %x $((1 << GEN_CPU))) > /sys/class/net/$IF_C/queues/rx-0/rps_cpus" || return 1
	ip netns exec $NS_S sh -c "echo $(printf %x $((1 << SRV_CPU))) > /sys/class/net/$IF_S/queues/rx-0/rps_cpus" || return 1
	ip -n $NS_S link set $IF_S up && ip -n $NS_C link set $IF_C up || return 1
}

# Kernel servers (Knot, NSD) need the addresses on the server veth. ddiplane
# owns the port itself: the veth then carries no address, answers no ARP and
# its kernel stack drops what arrives (tc ingress; packet sockets and XDP see
# frames before that), so every answer measured came from ddiplane.
srv_addr() {
	ip -n $NS_S addr flush dev $IF_S
	ip -n $NS_C neigh flush dev $IF_C 2>/dev/null
	ip netns exec $NS_S tc qdisc del dev $IF_S clsact 2>/dev/null
	if [ "$1" = on ]; then
		ip netns exec $NS_S sysctl -qw net.ipv6.conf.$IF_S.disable_ipv6=0
		ip -n $NS_S link set $IF_S arp on
		ip -n $NS_S addr add $SRV4/24 dev $IF_S
		ip -n $NS_S addr add $SRV6/64 dev $IF_S nodad
	else
		ip netns exec $NS_S sysctl -qw net.ipv6.conf.$IF_S.disable_ipv6=1
		ip -n $NS_S link set $IF_S arp off
		# Without the matchall classifier the kernel still drops them: the
		# veth has no address to deliver to and the namespace forwards nothing.
		ip netns exec $NS_S tc qdisc add dev $IF_S clsact 2>/dev/null &&
			ip netns exec $NS_S tc filter add dev $IF_S ingress matchall action drop 2>/dev/null
		return 0
	fi
}

xdp_off() {
	ip -n $NS_S link set dev $IF_S xdp off 2>/dev/null
	ip -n $NS_C link set dev $IF_C xdp off 2>/dev/null
	return 0
}

# ---- data -----------------------------------------------------------------

gen_data() {
	log "generating zones: $NAMES names"
	"$PY" "$HERE/gen_zone.py" --names "$NAMES" --out "$WORK/full" || return 1
	"$PY" "$HERE/gen_zone.py" --names 1 --empty --out "$WORK/empty" || return 1
	RECORDS=$(sed -n 's/^records=//p' "$WORK/full/counts.txt")
	EMPTY_RECORDS=$(sed -n 's/^records=//p' "$WORK/empty/counts.txt")
	read -r PROBE_NAME PROBE_TYPE < "$WORK/full/probe.txt"
}

# ---- servers --------------------------------------------------------------
# start_X DATADIR TAG: starts the server in $NS_S, sets SPID; returns non-zero
# with the reason in $WORK/TAG.why when it cannot.

find_ddi() {
	local b
	DDIPLANE=${DDIPLANE:-}
	DDICTL=${DDICTL:-}
	if [ -z "$DDIPLANE" ]; then
		for b in "$ROOT/build/ddiplane" $(ls -t "$ROOT"/build*/ddiplane 2>/dev/null); do
			[ -x "$b" ] && { DDIPLANE=$b; break; }
		done
	fi
	if [ -z "$DDICTL" ] && [ -n "$DDIPLANE" ]; then
		DDICTL=$(dirname "$DDIPLANE")/ddictl
		[ -x "$DDICTL" ] || for b in "$ROOT/build/ddictl" $(ls -t "$ROOT"/build*/ddictl 2>/dev/null); do
			[ -x "$b" ] && { DDICTL=$b; break; }
		done
	fi
}

start_ddiplane() { # DATADIR TAG VDEV [BIN]
	local data=$1 tag=$2 vdev=$3 db o f t0 t1
	db=$WORK/$tag.db
	find_ddi
	local DDIPLANE=$DDIPLANE DDICTL=$DDICTL
	if [ -n "${4:-}" ]; then
		DDIPLANE=$4
		DDICTL=$(dirname "$4")/ddictl
	fi
	if [ -z "$DDIPLANE" ] || [ ! -x "$DDIPLANE" ]; then
		echo "no ddiplane binary (${DDIPLANE:-build/ddiplane, build-*/ddiplane})" > "$WORK/$tag.why"; return 1
	fi
	if [ -z "$DDICTL" ] || [ ! -x "$DDICTL" ]; then
		echo "no ddictl binary beside $DDIPLANE" > "$WORK/$tag.why"; return 1
	fi
	rm -rf "$db"; mkdir -p "$db"
	t0=$(date +%s%N)
	while read -r o f; do
		if ! timeout 600 "$DDICTL" --db "$db" zone import "$o" "$f" >> "$WORK/$tag.import.log" 2>&1; then
			echo "ddictl zone import $o failed: $(tail -n 1 "$WORK/$tag.import.log")" > "$WORK/$tag.why"
			return 1
		fi
	done < "$data/zones.txt"
	t1=$(date +%s%N)
	echo "$(( (t1 - t0) / 1000000 ))" > "$WORK/$tag.import_ms"
	du -sk "$db" | awk '{print $1}' > "$WORK/$tag.db_kb"
	srv_addr off
	neigh_pin
	T_START=$(date +%s%N)
	setsid ip netns exec $NS_S "$DDIPLANE" -l $GEN_CPU,$SRV_CPU --no-huge -m 1024 --no-shconf --no-pci \
		--file-prefix "ddiwire$$" --vdev "$vdev" -- \
		--db "$db" --control "$WORK/$tag.sock" --address $SRV4/24 --address $SRV6/64 \
		--idle-sleep-us "$DDI_IDLE_SLEEP_US" $DDI_EXTRA > "$WORK/$tag.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
}

start_knot() { # DATADIR TAG xdp|udp
	local data=$1 tag=$2 mode=$3 d o f
	d=$WORK/$tag
	rm -rf "$d"; mkdir -p "$d/run" "$d/db"
	{
		echo "server:"
		echo "    rundir: $d/run"
		echo "    udp-workers: 1"
		echo "    tcp-workers: 1"
		echo "    background-workers: 1"
		echo "    listen: [ $SRV4@53, $SRV6@53 ]"
		if [ "$mode" = xdp ]; then
			echo "xdp:"
			echo "    listen: $IF_S@53"
			echo "    udp: on"
		fi
		echo "database:"
		echo "    storage: $d/db"
		echo "log:"
		echo "  - target: stderr"
		echo "    any: info"
		echo "template:"
		echo "  - id: default"
		echo "    storage: $data"
		echo "    zonefile-sync: -1"
		echo "    zonefile-load: whole"
		echo "    journal-content: none"
		echo "zone:"
		while read -r o f; do
			echo "  - domain: $o"
			echo "    file: $f"
		done < "$data/zones.txt"
	} > "$d/knot.conf"
	srv_addr on
	neigh_pin
	T_START=$(date +%s%N)
	setsid ip netns exec $NS_S taskset -c $SRV_CPU knotd -c "$d/knot.conf" > "$WORK/$tag.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
}

start_nsd() { # DATADIR TAG
	local data=$1 tag=$2 d o f
	d=$WORK/$tag
	rm -rf "$d"; mkdir -p "$d"
	{
		echo "server:"
		echo "    server-count: 1"
		echo "    ip-address: $SRV4"
		echo "    ip-address: $SRV6"
		echo "    port: 53"
		echo "    username: \"\""
		echo "    chroot: \"\""
		echo "    zonesdir: \"$data\""
		echo "    database: \"\""
		echo "    pidfile: \"$d/nsd.pid\""
		echo "    xfrdfile: \"$d/xfrd.state\""
		echo "    zonelistfile: \"$d/zone.list\""
		echo "    logfile: \"$d/nsd.log\""
		echo "    verbosity: 1"
		# Debian's NSD limits responses per source /24 (RRL, 200 q/s):
		# off, as Knot and ddiplane have none by default. Minimal
		# responses (no NS in authority on positive answers) as the others.
		echo "    rrl-ratelimit: 0"
		echo "    rrl-whitelist-ratelimit: 0"
		echo "    minimal-responses: yes"
		echo "remote-control:"
		echo "    control-enable: no"
		while read -r o f; do
			echo "zone:"
			echo "    name: \"$o\""
			echo "    zonefile: \"$f\""
		done < "$data/zones.txt"
	} > "$d/nsd.conf"
	srv_addr on
	neigh_pin
	T_START=$(date +%s%N)
	setsid ip netns exec $NS_S taskset -c $SRV_CPU nsd -d -c "$d/nsd.conf" > "$WORK/$tag.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
}

# The client's neighbour entry for the server: pinned to the veth's MAC, or
# left to ARP (NEIGH_PIN=0; a pin left by bench_mode is removed).
neigh_pin() {
	local mac
	ip -n $NS_C neigh del $SRV4 dev $IF_C 2>/dev/null
	[ "$NEIGH_PIN" = 1 ] || return 0
	mac=$(ip -n $NS_S -o link show $IF_S | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	[ -n "$mac" ] && ip -n $NS_C neigh replace $SRV4 lladdr "$mac" dev $IF_C nud permanent
}

SPID=
start_server() { # NAME DATADIR TAG
	SPID=
	case "$1" in
	ddiplane-packet) start_ddiplane "$2" "$3" "net_af_packet0,iface=$IF_S,qpairs=1" ;;
	ddiplane-xdp) start_ddiplane "$2" "$3" "net_af_xdp0,iface=$IF_S,start_queue=0,queue_count=1" ;;
	before-packet) start_ddiplane "$2" "$3" "net_af_packet0,iface=$IF_S,qpairs=1" "$DDIPLANE_BEFORE" ;;
	before-xdp) start_ddiplane "$2" "$3" "net_af_xdp0,iface=$IF_S,start_queue=0,queue_count=1" "$DDIPLANE_BEFORE" ;;
	knot-xdp) start_knot "$2" "$3" xdp ;;
	knot-udp) start_knot "$2" "$3" udp ;;
	nsd) start_nsd "$2" "$3" ;;
	esac
}

# wait_first_answer TAG NAME TYPE: sets TTFA_MS; fails (reason in TAG.why)
# when the server dies or does not answer in START_TIMEOUT seconds.
wait_first_answer() {
	local tag=$1 t
	ip netns exec $NS_C "$PY" "$HERE/lib/probe.py" --server $SRV4 --name "$2" --type "$3" \
		--timeout $START_TIMEOUT > "$WORK/$tag.probe" 2>> "$WORK/$tag.log" &
	local ppid=$!
	PIDS+=("$ppid")
	while kill -0 "$ppid" 2>/dev/null; do
		if ! kill -0 "$SPID" 2>/dev/null; then
			stop_pid "$ppid"
			echo "server exited at start: $(grep -v '^\s*$' "$WORK/$tag.log" | grep -iE 'error|fail|cannot|invalid|unknown' | tail -n 1)" > "$WORK/$tag.why"
			return 1
		fi
		sleep 0.05
	done
	wait "$ppid"; t=$?
	if [ $t != 0 ] || ! [ -s "$WORK/$tag.probe" ]; then
		echo "no answer for $2 $3 within ${START_TIMEOUT}s" > "$WORK/$tag.why"
		return 1
	fi
	TTFA_MS=$(( ($(cat "$WORK/$tag.probe") - T_START) / 1000000 ))
}

# mem_kb PID: proportional set size of PID and all its descendants (NSD forks
# its server and xfrd; PSS counts pages shared between them once).
mem_kb() {
	local p kids total=0 v
	for p in $1 $(pgrep -P "$1") $(for k in $(pgrep -P "$1"); do pgrep -P "$k"; done); do
		v=$(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null)
		total=$(( total + ${v:-0} ))
	done
	echo "$total"
}

# With autogroup scheduling (kernel.sched_autogroup_enabled) niceness counts
# only inside a session: each server and generator runs in a session of its
# own (setsid) whose autogroup gets niceness $NICE, so that other sessions
# on the machine do not take its core.
# hi CMD...: run CMD in a new session at autogroup niceness $NICE.
hi() {
	setsid sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec "$@"' "$NICE" "$@"
}

# bench_mode NAME: once the server answers (start-up measured at the default
# priority, as an operator starts it), give it (its autogroup and every
# thread) niceness $NICE, and pin
# the client's neighbour entry so ARP is not part of any run.
# ddiplane's main lcore (the control lcore, thread id = pid) shares the
# generator's core and, with --idle-sleep-us 0, polls without sleeping: it
# goes to SCHED_IDLE instead, leaving that core to the generator.
bench_mode() {
	local p t mac
	echo "$NICE" > /proc/"$SPID"/autogroup 2>/dev/null || log "$1: could not set its autogroup niceness"
	for p in $SPID $(pgrep -P "$SPID"); do
		for t in /proc/"$p"/task/*; do
			renice -n "$NICE" -p "${t##*/}" >/dev/null 2>&1
		done
	done
	case "$1" in ddiplane-*|before-*)
		chrt -i -p 0 "$SPID" >/dev/null 2>&1 || log "$1: chrt -i on the control lcore failed" ;;
	esac
	mac=$(ip -n $NS_C neigh show $SRV4 dev $IF_C | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
	[ -n "$mac" ] && ip -n $NS_C neigh replace $SRV4 lladdr "$mac" dev $IF_C nud permanent
}

stop_server() {
	[ -n "$SPID" ] && stop_pid "$SPID"
	SPID=
	xdp_off
}

# ---- generators -----------------------------------------------------------
# Each prints one line: "sent/s replies/s loss% avg_ms sd_ms p99_ms reply_bytes".

run_dnsperf() { # LOAD OUTFILE
	local q=() v=() load=$1 out=$2
	[ "$load" != max ] && q=(-Q "$load")
	[ "$load" != max ] && [ "$load" -le "$P99_MAX_LOAD" ] && v=(-v)
	hi ip netns exec $NS_C nice -n "$NICE" taskset -c $GEN_CPU timeout $((DURATION + 20)) \
		dnsperf -s $SRV4 -d "$WORK/full/queries.txt" -l "$DURATION" -c 4 -T 1 -q 1000 -t 2 \
		"${q[@]}" "${v[@]}" > "$out" 2>&1
	awk -v dur="$DURATION" '
		/^> / { lat[n++] = $NF; next }
		/Queries sent:/ { sent = $3 }
		/Queries completed:/ { done = $3 }
		/Queries lost:/ { lost = $3 }
		/Run time \(s\):/ { rt = $4 }
		/Average Latency \(s\):/ { savg = $4 }
		/Latency StdDev \(s\):/ { ssd = $4 }
		/Average packet size:/ { rsz = $NF }
		END {
			if (sent == "" || rt == "" || rt == 0) { print "- - - - - - -"; exit }
			m = 0
			printf "%.0f %.0f %.2f %.3f %.3f ", sent / rt, done / rt, sent ? 100 * lost / sent : 0, 1000 * savg, 1000 * ssd
			if (n == 0) { print "- " rsz; exit }
			# p99 by sorting (asort is gawk-only): counting on a 1 us grid.
			for (i = 0; i < n; i++) { b = int(lat[i] * 1e6); c[b]++; if (b > m) m = b }
			want = 0.99 * n; acc = 0
			for (b = 0; b <= m; b++) { acc += c[b]; if (acc >= want) break }
			printf "%.3f %s\n", b / 1000, rsz
		}' "$out"
}

run_kxdpgun() { # LOAD OUTFILE
	local load=$1 out=$2 rate mac r=()
	rate=$load; [ "$load" = max ] && rate=$KXDP_MAX
	# The server's MAC as ARP learnt it during start-up (ddiplane's port MAC
	# need not be the veth's).
	mac=$(ip -n $NS_C neigh show $SRV4 dev $IF_C | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
	[ -n "$mac" ] && r=(-R "$mac")
	hi ip netns exec $NS_C nice -n "$NICE" timeout $((DURATION + 20)) \
		kxdpgun -t "$DURATION" -Q "$rate" -F $GEN_CPU -i "$WORK/full/queries.txt" \
		-I $IF_C "${r[@]}" $SRV4 > "$out" 2>&1
	ip -n $NS_C link set dev $IF_C xdp off 2>/dev/null
	awk '
		/^total queries:/ { q = $3; qp = $4 }
		/^total replies:/ { r = $3; rp = $4 }
		/^duration:/ { d = $2 }
		/^average DNS reply size:/ { rsz = $5 }
		END {
			gsub(/\(/, "", qp); gsub(/\(/, "", rp)
			if (q == "" || d == "" || d == 0) { print "- - - - - - -"; exit }
			printf "%.0f %.0f %.2f - - - %s\n", q / d, r / d, q ? 100 * (q - r) / q : 0, rsz == "" ? "-" : rsz
		}' "$out"
}

# ---- main -----------------------------------------------------------------

TABLE=$WORK/table.md
MEMTAB=$WORK/mem.md
T_BEGIN=$(date +%s)
LOAD_BEGIN=$(cut -d' ' -f1-3 /proc/loadavg)

setup_net || { echo "wire.sh: could not set up namespaces" >&2; exit 1; }
softirq_prio raise
gen_data || { echo "wire.sh: zone generation failed" >&2; exit 1; }

{
	echo "| server | generator | offered q/s | sent q/s | replies/s | loss % | latency avg ms | latency sd ms | latency p99 ms | reply B |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$TABLE"
{
	echo "| server | records | PSS empty zone MiB | PSS loaded MiB | bytes/record | start to first answer ms | notes |"
	echo "|---|---:|---:|---:|---:|---:|---|"
} > "$MEMTAB"

for srv in $SERVERS; do
	case "$srv" in before-*) [ -x "${DDIPLANE_BEFORE:-}" ] || {
		log "$srv needs DDIPLANE_BEFORE, skipped"; continue; } ;; esac
	case "$srv" in ddiplane-packet|ddiplane-xdp|before-packet|before-xdp|knot-xdp|knot-udp|nsd) ;; *)
		log "unknown server $srv, skipped"; continue ;;
	esac
	note=""
	# Baseline: the same server on zones holding only SOA and NS.
	log "$srv: empty-zone baseline"
	empty_kb=""
	if start_server "$srv" "$WORK/empty" "$srv-empty" &&
	   wait_first_answer "$srv-empty" bench.test. SOA; then
		sleep 1
		empty_kb=$(mem_kb "$SPID")
	fi
	stop_server
	log "$srv: loading $RECORDS records"
	if ! start_server "$srv" "$WORK/full" "$srv" || ! wait_first_answer "$srv" "$PROBE_NAME" "$PROBE_TYPE"; then
		why=$(cat "$WORK/$srv.why" 2>/dev/null || echo "did not start")
		log "$srv: not available: $why"
		stop_server
		for g in $GENS; do
			echo "| $srv | $g | not available: $why | | | | | | | |" >> "$TABLE"
		done
		echo "| $srv | $RECORDS | | | | | not available: $why |" >> "$MEMTAB"
		continue
	fi
	bench_mode "$srv"
	case "$srv" in ddiplane-*|before-*) note="control lcore on CPU $GEN_CPU at SCHED_IDLE; " ;; esac
	sleep 1
	full_kb=$(mem_kb "$SPID")
	if [ -s "$WORK/$srv.import_ms" ]; then
		note="${note}data imported beforehand by ddictl in $(cat "$WORK/$srv.import_ms") ms, LMDB $(( $(cat "$WORK/$srv.db_kb") / 1024 )) MiB on disk"
	fi
	if [ -n "$empty_kb" ]; then
		bpr=$(( (full_kb - empty_kb) * 1024 / RECORDS ))
		echo "| $srv | $RECORDS | $(( empty_kb / 1024 )) | $(( full_kb / 1024 )) | $bpr | $TTFA_MS | $note |" >> "$MEMTAB"
	else
		echo "| $srv | $RECORDS | n/a: $(cat "$WORK/$srv-empty.why" 2>/dev/null) | $(( full_kb / 1024 )) | | $TTFA_MS | $note |" >> "$MEMTAB"
	fi
	log "$srv: up in $TTFA_MS ms, PSS $(( full_kb / 1024 )) MiB"
	grep -h 'start-up:' "$WORK/$srv.log" 2>/dev/null | sed 's/^/    /' >&2
	for g in $GENS; do
		for load in $LOADS; do
			if ! kill -0 "$SPID" 2>/dev/null; then
				echo "| $srv | $g | $load | server died | | | | | | |" >> "$TABLE"
				continue
			fi
			out=$WORK/$srv.$g.$load.out
			case "$g" in
			dnsperf) r=$(run_dnsperf "$load" "$out") ;;
			kxdpgun) r=$(run_kxdpgun "$load" "$out") ;;
			*) log "unknown generator $g"; continue ;;
			esac
			read -r sent rep loss avg sd p99 rsz <<< "$r"
			if [ "$sent" = - ]; then
				why=$(grep -iE 'error|fail|cannot|unable' "$out" | head -n 1)
				echo "| $srv | $g | $load | failed: ${why:-no statistics} | | | | | | |" >> "$TABLE"
			else
				echo "| $srv | $g | $load | $sent | $rep | $loss | $avg | $sd | $p99 | $rsz |" >> "$TABLE"
			fi
			log "$srv $g $load: sent/s $sent replies/s $rep loss% $loss avg $avg sd $sd p99 $p99"
		done
	done
	stop_server
done

T_END=$(date +%s)
{
	echo "Names: $NAMES ($RECORDS records in 4 zones), $DURATION s per run, server worker on CPU $SRV_CPU, generator on CPU $GEN_CPU, nice $NICE, $(( T_END - T_BEGIN )) s in all."
	echo "Load average (1, 5, 15 min) at start: $LOAD_BEGIN; at end: $(cut -d' ' -f1-3 /proc/loadavg)."
	[ -n "${DDIPLANE:-}" ] && echo "ddiplane: $DDIPLANE, ddictl: $DDICTL (tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null))."
	[ -n "${DDIPLANE_BEFORE:-}" ] && echo "before-*: $DDIPLANE_BEFORE."
	[ "$NEIGH_PIN" = 1 ] && echo "Client's neighbour entry for the server pinned before each start (NEIGH_PIN=0: left to ARP)."
	echo
	cat "$TABLE"
	echo
	cat "$MEMTAB"
} > "$WORK/report.md"
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
exit 0
