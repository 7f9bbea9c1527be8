#!/usr/bin/env bash
# lease_sweep.sh -- expiry sweep cost: N leased names ending in the same second, the workers' reply rate before and during their removal, and how long the removal takes
#
# Usage: sudo bench/lease_sweep.sh [N] [LEASE_S] [BATCH] [QPS]   (defaults 100000, 40, 1000, 0)
#
# ddiplane runs as in tests/integration (net_af_packet on a veth, its own
# namespace), EAL -l 0,1: the worker lcore on CPU 1, the main lcore and the
# control threads (follower, lease thread) on CPU 0; dnsperf, the load
# generator, is pinned to CPU 0 too (the machine has two). N names with an
# AAAA each are written into the store by bench/leasefill as accepted
# UPDATEs would write them (dynamic RRset, lease LEASE_S counted from the
# start, so they all end in the same second), then ddiplane starts and
# dnsperf sends queries for the zone's static names for the whole run,
# unthrottled (QPS 0) or at QPS offered (-Q: on a busy shared machine a
# fixed offered rate below capacity shows the server's loss, not the
# generator's share of CPU 0), printing its rate every second (-S 1).
# What counts:
#   - the reply rate is the workers' own count of NOERROR answers
#     (ddictl stats, total.noerror), sampled every 0.2 s: what the workers
#     did, whatever dnsperf's share of CPU 0 (its per-second rates, -S 1,
#     are printed beside, and its NOERROR total against its responses);
#   - "before": the mean rate from 3 s after dnsperf starts to the moment
#     the leases end; "during": from then to the moment the follower has
#     published the last lease-expiry commit (the workers answer from the
#     index: that is when they stop seeing the names);
#   - removal time: from the end of the leases to the last lease-expiry
#     journal entry (removed from the store) and to its publication.
# Only 198.18.0.0/15 and 2001:2::/48 inside namespaces removed on exit;
# every process is stopped by pid. Prints, asserts nothing.
N=${1:-100000}
LEASE=${2:-40}
BATCH=${3:-1000}
QPS=${4:-0}
. "$(cd "$(dirname "$0")" && pwd)/../tests/integration/lib.sh"
set +e
ddi_need_root
CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
ddi_db_default "$DB"
echo "== writing $N leased names (lease ${LEASE}s, all ending in the same second)"
fill=$("$DDI_BUILDDIR/bench/leasefill" "$DB" ddi.test. "$N" "$LEASE") || { echo "$fill"; exit 1; }
first=$(sed -n 's/.*first=\([0-9]*\).*/\1/p' <<<"$fill")
last=$(sed -n 's/.*last=\([0-9]*\).*/\1/p' <<<"$fill")
echo "leases end between $(date -u -d @$((first / 1000000000)) +%T) and $(date -u -d @$((last / 1000000000)) +%T) UTC" \
  "($(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.2f", (b-a)/1e9}') s apart)"
ddi_ns_setup
DDI_EAL="-l 0,1 --no-huge -m 1024 --no-shconf --no-pci --file-prefix ddi$DDI_ID --vdev $(ddi_vdev)"
ddi_start --db "$DB" --address 198.18.0.1/24 --control "$DDI_TMP/ctl.sock" --idle-sleep-us 20 \
  --sweep-interval-ms 200 --sweep-batch "$BATCH"
ddi_wait_answer 198.18.0.1 ddi.test 120 || exit 1
now=$(date +%s%N)
if [ "$now" -ge "$first" ]; then echo "the server took too long to start: raise LEASE_S"; exit 1; fi
ddi_expect "a leased name answers before the end" "2001:2:0:ff::1" \
  "$(ddi_cli dig +short +time=1 +tries=2 @198.18.0.1 l0.ddi.test. AAAA)"

qf=$DDI_TMP/queries
for n in ns1 ns2 mail www; do echo "$n.ddi.test A"; done > "$qf"
dur=$(( (first - now) / 1000000000 + 25 ))
echo "== dnsperf on CPU 0 ($([ "$QPS" -gt 0 ] && echo "$QPS/s offered" || echo unthrottled)) for ${dur}s (worker on CPU 1), leases end at +$(( (first - now) / 1000000000 ))s"
qopt=; [ "$QPS" -gt 0 ] && qopt="-Q $QPS"
# shellcheck disable=SC2086
ddi_cli taskset -c 0 dnsperf -s 198.18.0.1 -d "$qf" -l "$dur" -c 8 -q 200 -t 2 -S 1 $qopt \
  > "$DDI_TMP/dnsperf.out" 2>&1 &
dpid=$!; _DDI_PIDS+=($dpid)
# watch the follower: when does the published seq reach the last lease-expiry commit?
pub_done=
: > "$DDI_TMP/samples"
while ddi_alive $dpid; do
  st=$("$CTL" -s "$DDI_TMP/ctl.sock" --json status 2>/dev/null)
  stats=$("$CTL" -s "$DDI_TMP/ctl.sock" --json stats 2>/dev/null)
  exp=$(sed -n 's/.*"lease_expired_rrsets": \([0-9]*\).*/\1/p' <<<"$stats")
  python3 -c 'import json,sys,time; a=json.load(sys.stdin)["arguments"]; print(time.time_ns(), a["total"]["noerror"], sum(p.get("imissed", 0) for p in a.get("ports", [])))' \
    <<<"$stats" >> "$DDI_TMP/samples" 2>/dev/null
  if [ -z "$pub_done" ] && [ "${exp:-0}" -ge "$N" ]; then
    ps=$(sed -n 's/.*"seq": \([0-9]*\).*/\1/p' <<<"$st" | head -1)
    ss=$(sed -n 's/.*"store_seq": \([0-9]*\).*/\1/p' <<<"$st")
    if [ -n "$ps" ] && [ "$ps" -ge "$ss" ]; then pub_done=$(date +%s%N); fi
  fi
  sleep 0.2
done
cp "$DDI_TMP/samples" "${SAMPLES_OUT:-/tmp/lease_sweep.samples}" 2>/dev/null
cp "$DDI_TMP/dnsperf.out" "${DNSPERF_OUT:-/tmp/lease_sweep.dnsperf}" 2>/dev/null
wait $dpid
out=$(cat "$DDI_TMP/dnsperf.out")
journ=$("$CTL" -s "$DDI_TMP/ctl.sock" --json journal --actor lease-expiry --limit 100000)
j_last=$(python3 -c 'import json,sys; e=json.load(sys.stdin)["arguments"]["entries"]; print(max(x["time"] for x in e) if e else 0, len(e))' <<<"$journ")
swept=$("$CTL" -s "$DDI_TMP/ctl.sock" --json stats | sed -n 's/.*"lease_expired_rrsets": \([0-9]*\).*/\1/p')
gone=$(ddi_cli dig +norec +time=1 +tries=2 @198.18.0.1 "l$((N - 1)).ddi.test." AAAA | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
python3 - "$first" "$last" "${pub_done:-0}" "${j_last% *}" "${j_last#* }" "$swept" "$gone" <<PY
import re, sys
first, last, pub, jlast = (int(x) for x in sys.argv[1:5])
batches, swept, gone = sys.argv[5], sys.argv[6], sys.argv[7]
out = open("$DDI_TMP/dnsperf.out").read()
rates = [(float(t), float(r)) for t, r in re.findall(r"^\s*(\d+\.\d+): (\d+(?:\.\d+)?)\s*$", out, re.M)]
noerr = re.search(r"NOERROR (\d+)", out)
resp = re.search(r"Queries completed:\s+(\d+)", out)
samples = [tuple(int(x) for x in l.split()) for l in open("$DDI_TMP/samples") if l.strip()]
def missed(a, b):   # frames the port dropped (receive ring full: the worker behind) between a and b
    sa = min(samples, key=lambda s: abs(s[0] / 1e9 - a))
    sb = min(samples, key=lambda s: abs(s[0] / 1e9 - b))
    return sb[2] - sa[2]
if not rates or len(samples) < 10:
    print(out[-2000:]); sys.exit(1)
t0 = rates[0][0]
f, p = first / 1e9, (pub / 1e9 if pub else jlast / 1e9)
def rate(a, b):   # workers' NOERROR answers per second between the samples nearest a and b
    sa = min(samples, key=lambda s: abs(s[0] / 1e9 - a))
    sb = min(samples, key=lambda s: abs(s[0] / 1e9 - b))
    return (sb[1] - sa[1]) / ((sb[0] - sa[0]) / 1e9) if sb[0] > sa[0] else 0
mb = rate(samples[0][0] / 1e9 + 3, f)
md = rate(f, max(p, f + 1))
before = [r for t, r in rates if t0 + 3 <= t <= f]
during = [r for t, r in rates if f < t <= max(p, f) + 1]
print("removed from the store: %s RRsets in %s journaled batches, last batch %.2f s after the leases ended"
      % (swept, batches, (jlast - first) / 1e9))
if pub:
    print("published to the workers %.2f s after the leases ended (%.2f s after the last lease ended)"
          % ((pub - first) / 1e9, (pub - last) / 1e9))
print("the last name afterwards: %s" % gone)
print("workers' NOERROR replies before: %.0f/s, during the sweep (%.1f s): %.0f/s, ratio %.3f"
      % (mb, max(p, f + 1) - f, md, md / mb if mb else 0))
print("frames the port dropped (imissed: the worker behind its receive ring): before %d, during %d"
      % (missed(samples[0][0] / 1e9 + 3, f), missed(f, max(p, f + 1))))
print("dnsperf's view (its per-second responses): before %.0f/s, during %.0f/s"
      % (sum(before) / len(before) if before else 0, sum(during) / len(during) if during else 0))
print("workers' rate per second around the end of the leases (s from it: rate):")
print("  " + "  ".join("%+d:%.0f" % (k, rate(f + k, f + k + 1)) for k in range(-4, int(max(p, f) - f) + 4)))
print("dnsperf: %s queries completed, %s NOERROR" % (resp.group(1) if resp else "?",
                                                    noerr.group(1) if noerr else "?"))
print("dnsperf's per-second rates around the end of the leases:")
print("  " + "  ".join("%+.0f:%.0f" % (t - f, r) for t, r in rates if f - 3 <= t <= max(p, f) + 3))
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
