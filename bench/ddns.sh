#!/usr/bin/env bash
# ddns.sh -- RFC 2136 update throughput with TSIG: ddiplane against Knot DNS on the same zone, dnsperf -u at several concurrencies
#
# Usage: sudo bench/ddns.sh [DURATION_S] ["CONCURRENCIES"] [QUERY_QPS]   (env: LOOP_WINDOWS, PER_RUN)
#
# ddiplane runs as in tests/integration (net_af_packet on a veth, its own
# namespace, worker lcore on CPU 1); knotd runs in a third namespace behind a
# second veth pair, so both see the same kernel path from dnsperf, which is
# pinned to CPU 0. Only 198.18.0.0/15 and 2001:2::/48, inside namespaces
# removed on exit; every process is stopped by pid. Not a test: prints
# tables, asserts nothing.
#
# What counts:
#   - an update is an update when it was answered NOERROR: the rate is the
#     NOERROR answers divided by dnsperf's run time (refusals and errors are
#     shown in their own column, never counted);
#   - every update adds a name of its own with an AAAA address of its own
#     (2001:2:0:RUN::HI:LO, RUN distinct per run), and dnsperf reads its input at
#     most once (-n 1), so nothing repeats within or across runs;
#   - after each run the names present in the server's zone are counted
#     (ddiplane: its LMDB store through ddictl --db, i.e. what was synced;
#     Knot: an AXFR) and compared with the NOERROR count: "durable" is
#     present/acknowledged;
#   - queries on the workers: dnsperf at a fixed offered rate (QUERY_QPS)
#     alone, then again while updates run at the highest concurrency; the
#     answered rates and their ratio are printed.
DUR=${1:-10}
CONC=${2:-"1 16 64"}
QPS=${3:-20000}
PER_RUN=${PER_RUN:-200000}              # updates written per run's input (more than any run can send)
LOOP_WINDOWS=${LOOP_WINDOWS:-"1 16 64"}   # bench/updloop windows (closed loop)
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
ddi_start --db "$DB" --address 198.18.0.1/24 --control "$DDI_TMP/ctl.sock" --idle-sleep-us 20
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
  - id: xfr
    address: 198.18.1.2
    action: transfer
template:
  - id: default
    storage: $K/zones
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: ddi.test
    file: ddi.test.zone
    acl: [upd, xfr]
EOF
ip netns exec $NS_K knotd -c $K/knot.conf > $K/knot.log 2>&1 &
_DDI_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
  ddi_cli dig +short +time=1 +tries=1 @198.18.1.1 ddi.test SOA 2>/dev/null | grep -q . && break
  sleep 0.2
done

# mkupd PREFIX N RUN: N updates, each adding one new name with its own AAAA address.
mkupd() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
p, n, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.stdout.write("".join("ddi.test\nadd %s%d 300 AAAA 2001:2:0:%x::%x:%x\nsend\n"
                         % (p, i, run, (i + 1) >> 16, (i + 1) & 0xffff) for i in range(n)))
PY
}

# field OUT REGEX: the first number dnsperf printed after REGEX.
field() { sed -n "s/.*$2 *\([0-9.]*\).*/\1/p" <<<"$1" | head -n 1; }

# present SERVER PREFIX: names of the zone starting with PREFIX, as the server stores them.
present() {
  if [ "$1" = ddiplane ]; then
    "$CTL" --db "$DB" zone export ddi.test. 2>/dev/null | grep -c "^$2"
  else
    ddi_cli dig +tcp +noall +answer +time=10 @198.18.1.1 ddi.test AXFR 2>/dev/null |
      awk '$4 == "AAAA"' | grep -c "^$2"
  fi
}

run=0
CPU_GEN=0
echo "== updates (TSIG hmac-sha256, dnsperf -u -c 1 -q CONC -l $DUR -n 1, pinned to CPU $CPU_GEN)"
printf '%-9s %5s %10s %9s %9s %8s %8s %10s\n' server conc NOERROR/s "avg ms" "sd ms" other lost durable
declare -A RATE
for srv in ddiplane knot; do
  addr=198.18.0.1; [ $srv = knot ] && addr=198.18.1.1
  for c in $CONC; do
    run=$((run + 1))
    pfx="$srv-r$run-"
    f=$DDI_TMP/upd-$run; mkupd "$pfx" "$PER_RUN" "$run" > "$f"
    out=$(ddi_cli timeout $((DUR + 30)) taskset -c $CPU_GEN dnsperf -u -s $addr -d "$f" \
          -y "hmac-sha256:bench.key:$SECRET" -c 1 -q "$c" -l "$DUR" -n 1 -t 5 2>&1)
    rt=$(field "$out" 'Run time (s):')
    ok=$(field "$out" 'NOERROR')
    done_=$(field "$out" 'completed:')
    lost=$(field "$out" 'lost:')
    avg=$(field "$out" 'Average Latency (s):')
    sd=$(field "$out" 'Latency StdDev (s):')
    ok=${ok:-0}; done_=${done_:-0}
    rate=$(awk -v n="$ok" -v t="${rt:-0}" 'BEGIN{printf "%.0f", (t > 0 ? n / t : 0)}')
    RATE[$srv-$c]=$rate
    have=$(present $srv "$pfx")
    printf '%-9s %5s %10s %9s %9s %8s %8s %10s\n' $srv "$c" "$rate" \
      "$(awk -v a="${avg:-0}" 'BEGIN{printf "%.2f", a*1000}')" \
      "$(awk -v a="${sd:-0}" 'BEGIN{printf "%.2f", a*1000}')" "$((done_ - ok))" "${lost:-?}" \
      "$have/$ok"
    [ -n "$rt" ] && [ -z "${VERBOSE:-}" ] || printf "%s\n" "$out" | tail -16
  done
done
# One outstanding update, closed loop: dnsperf -u -q 1 paces itself at about 75/s whatever the
# server's latency, so this row comes from bench/updloop (next update as soon as the answer came).
echo "== closed loop (bench/updloop, WINDOW outstanding, pinned to CPU $CPU_GEN)"
printf '%-9s %6s %10s %9s %9s %8s %8s %10s\n' server window NOERROR/s "p50 ms" "p99 ms" other lost durable
for srv in ddiplane knot; do
  addr=198.18.0.1; [ $srv = knot ] && addr=198.18.1.1
  for w in $LOOP_WINDOWS; do
    run=$((run + 1))
    pfx="$srv-l$run"
    o=$(ddi_cli taskset -c $CPU_GEN "$DDI_BUILDDIR/bench/updloop" $addr "hmac-sha256:bench.key:$SECRET" \
        ddi.test "$pfx" $run "$DUR" $w)
    rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$o")
    ok=$(sed -n 's/.* noerror=\([0-9]*\).*/\1/p' <<<"$o")
    RATE[$srv-loop$w]=$rate
    printf '%-9s %6s %10s %9s %9s %8s %8s %10s\n' $srv $w "$rate" \
      "$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$o")" "$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$o")" \
      "$(sed -n 's/.* other=\([0-9]*\).*/\1/p' <<<"$o")" "$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$o")" \
      "$(present $srv "$pfx-")/$ok"
  done
done

echo "== ratio ddiplane / Knot DNS (NOERROR updates per second)"
for w in $LOOP_WINDOWS; do
  printf 'closed loop, %s outstanding: %s\n' "$w" "$(awk -v a="${RATE[ddiplane-loop$w]:-0}" \
    -v b="${RATE[knot-loop$w]:-0}" 'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "n/a" }')"
done
for c in $CONC; do
  printf 'conc %-4s %s\n' "$c" "$(awk -v a="${RATE[ddiplane-$c]:-0}" -v b="${RATE[knot-$c]:-0}" \
    'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "n/a" }')"
done

# Queries on the workers without and with the update load (the highest concurrency).
qf=$DDI_TMP/queries
for n in ns1 ns2 mail www ddi.test; do echo "$n.ddi.test A"; done | sed 's/ddi.test.ddi.test/ddi.test/' > "$qf"
qrun() { # -> answered queries per second at QPS offered
  local o
  o=$(ddi_cli timeout $((DUR + 30)) taskset -c $CPU_GEN dnsperf -s 198.18.0.1 -d "$qf" -l "$DUR" \
      -Q "$QPS" -c 4 -q 500 -t 2 2>&1)
  awk -v n="$(field "$o" 'NOERROR')" -v t="$(field "$o" 'Run time (s):')" \
    'BEGIN{printf "%.0f", (t > 0 ? n / t : 0)}'
}
maxc=${CONC##* }
echo "== queries answered NOERROR per second at $QPS offered (dnsperf -Q $QPS), alone and during updates at conc $maxc"
q0=$(qrun)
run=$((run + 1)); f=$DDI_TMP/upd-$run; mkupd "q-r$run-" "$PER_RUN" "$run" > "$f"
ddi_cli timeout $((DUR + 30)) taskset -c $CPU_GEN dnsperf -u -s 198.18.0.1 -d "$f" \
  -y "hmac-sha256:bench.key:$SECRET" -c 1 -q "$maxc" -l "$DUR" -n 1 -t 5 > "$DDI_TMP/qupd.out" 2>&1 &
upid=$!; _DDI_PIDS+=($upid)
q1=$(qrun)
wait $upid
u1=$(field "$(cat "$DDI_TMP/qupd.out")" 'NOERROR')
printf 'alone %s/s, during updates %s/s (%s updates NOERROR meanwhile), ratio %s\n' "$q0" "$q1" \
  "${u1:-0}" "$(awk -v a="$q1" -v b="$q0" 'BEGIN{ if (b > 0) printf "%.3f", a / b; else print "n/a" }')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
