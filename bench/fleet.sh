#!/usr/bin/env bash
# fleet.sh -- change-to-everywhere latency of a fleet (primary + 3 secondaries): ddiplane beside Knot DNS in one run
#
#   sudo bench/fleet.sh [RATE] [SECONDS]       (default 100 changes/s for 30 s)
#
# Two fleets in namespaces on one bridge (tests/integration/fleet_lib.sh):
#   ddiplane: server 1 primary of bench.test. (NOTIFY to 2-4, the catalog
#             catalog.bench.), servers 2-4 ddiplane secondaries that get only
#             `ddictl catalog add` (as tests/integration/fleet.sh);
#   Knot DNS: server 5 knotd primary of bench.test. (NOTIFY to 6-8), servers
#             6-8 knotd secondaries of it (journal, IXFR), each with its own
#             config and database storage.
# The same zone, and the same client for both: a Python driver in the hub
# namespace sends one unsigned RFC 2136 UPDATE (add cN.bench.test. A) every
# 1/RATE s to the primary and polls the three secondaries with A queries.
# A change counts only when the primary acknowledged it (NOERROR); its
# latency is from that acknowledgement to the first NOERROR answer of the
# LAST of the three secondaries. Polling: each secondary is asked for the
# oldest acknowledged change it has not shown yet; a positive answer moves
# on at once to the next (a secondary applies changes in order), a negative
# one waits 5 ms: the resolution is about 5 ms plus a round trip.
# The fleets are measured one after the other (ddiplane first), each for
# SECONDS, with a 10 s grace for the last changes. Prints one line per
# fleet and the load average before each.
. "$(dirname "$0")/../tests/integration/lib.sh"
. "$(dirname "$0")/../tests/integration/fleet_lib.sh"
ddi_need_root
for t in knotd python3; do command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }; done
RATE=${1:-100}
SECS=${2:-30}
CTL="$DDI_BUILDDIR/ddictl"
Z=bench.test.
CAT=catalog.bench.

cat >"$DDI_TMP/bench.zone" <<ZONE
\$ORIGIN $Z
\$TTL 300
@    IN SOA ns1 hostmaster 1 3600 60 600 60
@    IN NS  ns1
ns1  IN A   198.18.0.11
ZONE

ddi_log "ddiplane fleet: servers 1 (primary) to 4"
DB1=$DDI_TMP/db1
mkdir -p "$DB1"
"$CTL" --db "$DB1" zone import $Z "$DDI_TMP/bench.zone" >/dev/null
ACL=(--transfer 198.18.0.0/24 --notify "$(fleet_addr 2)" --notify "$(fleet_addr 3)" --notify "$(fleet_addr 4)")
"$CTL" --db "$DB1" zone acl $Z "${ACL[@]}" >/dev/null
"$CTL" --db "$DB1" zone acl $CAT --catalog "${ACL[@]}" >/dev/null
"$CTL" --db "$DB1" policy add . grant subdomain $Z A --source 198.18.0.2/32 >/dev/null
for i in 2 3 4; do
  mkdir -p "$DDI_TMP/db$i"
  "$CTL" --db "$DDI_TMP/db$i" catalog add $CAT --primary "$(fleet_addr 1)" >/dev/null
done
fleet_hub_setup
for i in 1 2 3 4; do fleet_add $i ddi; done
for i in 5 6 7 8; do fleet_add $i kernel; done
fleet_start_ddi 1 "$DB1" "$DDI_TMP/log1" --catalog $CAT
for i in 2 3 4; do fleet_start_ddi $i "$DDI_TMP/db$i" "$DDI_TMP/log$i"; done

ddi_log "Knot DNS fleet: servers 5 (primary) to 8"
knot_conf() {   # knot_conf I ROLE: config of server I (primary or secondary)
  local i=$1 d=$DDI_TMP/knot$1
  mkdir -p "$d/storage" "$d/run"
  cat >"$d/knot.conf" <<CONF
server:
    rundir: "$d/run"
    listen: $(fleet_addr "$i")@53
log:
  - target: stderr
    any: info
database:
    storage: "$d/storage"
remote:
  - id: primary
    address: $(fleet_addr 5)@53
  - id: s6
    address: $(fleet_addr 6)@53
  - id: s7
    address: $(fleet_addr 7)@53
  - id: s8
    address: $(fleet_addr 8)@53
acl:
  - id: update
    address: 198.18.0.2
    action: update
  - id: transfer
    address: 198.18.0.0/24
    action: transfer
  - id: notify
    address: $(fleet_addr 5)
    action: notify
template:
  - id: default
    storage: "$d/storage"
    journal-content: changes
    zonefile-sync: -1
CONF
  if [ "$2" = primary ]; then
    cp "$DDI_TMP/bench.zone" "$d/bench.test.zone"
    printf 'zone:\n  - domain: %s\n    file: "%s"\n    serial-policy: increment\n    notify: [s6, s7, s8]\n    acl: [update, transfer]\n' \
      $Z "$d/bench.test.zone" >>"$d/knot.conf"
  else
    printf 'zone:\n  - domain: %s\n    file: "%s"\n    zonefile-load: none\n    master: primary\n    acl: notify\n' \
      $Z "$d/bench.test.zone" >>"$d/knot.conf"
  fi
}
for i in 5 6 7 8; do
  role=secondary; [ $i = 5 ] && role=primary
  knot_conf $i $role
  # `ip netns exec` execs knotd: $! is knotd, stopped by pid by lib.sh's EXIT trap
  ip netns exec "$(fleet_ns $i)" knotd -c "$DDI_TMP/knot$i/knot.conf" >"$DDI_TMP/knot$i/log" 2>&1 &
  _DDI_PIDS+=("$!")
done

for i in 1 2 3 4 5 6 7 8; do
  fleet_wait_soa $i $Z 90 || { echo "server $i does not answer $Z" >&2; tail "$DDI_TMP/log$i" "$DDI_TMP/knot$i/log" 2>/dev/null >&2; exit 1; }
done

cat >"$DDI_TMP/driver.py" <<'PY'
# one UPDATE every 1/rate s to the primary; poll the secondaries; latency from acknowledgement to the last secondary
import select, socket, struct, sys, time

prim, secs = sys.argv[1], sys.argv[2].split(",")
zone, rate, dur, tag = sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]

def wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"

def update(i):
    hdr = struct.pack(">HHHHHH", i & 0xFFFF, 5 << 11, 1, 0, 1, 0)
    z = wire(zone) + struct.pack(">HH", 6, 1)
    rr = wire("c%d%s.%s" % (i, tag, zone)) + struct.pack(">HHIH", 1, 1, 300, 4)
    rr += bytes([198, 19, (i >> 8) & 0xFF, i & 0xFF])
    return hdr + z + rr

def query(i, qid):
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + wire("c%d%s.%s" % (i, tag, zone)) + struct.pack(">HH", 1, 1)

up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.connect((prim, 53))
qs = []
for s in secs:
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.connect((s, 53))
    qs.append(q)
n = int(rate * dur)
sent, acked, failed = {}, {}, 0
seen = [dict() for _ in secs]
nxt = [0] * len(secs)          # the change each secondary is polled for
inflight = [None] * len(secs)  # (change, qid, sent at)
wait_until = [0.0] * len(secs)
qid = 1
t0 = time.monotonic()
end = t0 + dur + 10
i = 0
while True:
    now = time.monotonic()
    while i < n and now >= t0 + i / rate:
        up.send(update(i))
        sent[i] = now
        i += 1
    if i >= n and now > end:
        break
    if i >= n and all(nxt[k] >= n or (nxt[k] not in sent) for k in range(len(secs))) and \
       all(len(seen[k]) >= len(acked) for k in range(len(secs))) and len(acked) + failed >= n:
        break
    for k, q in enumerate(qs):
        # skip changes the primary refused or never acknowledged (2 s)
        while nxt[k] < i and nxt[k] not in acked and now - sent[nxt[k]] > 2:
            nxt[k] += 1
        if inflight[k] and now - inflight[k][2] > 0.2:
            inflight[k] = None
        if inflight[k] is None and nxt[k] in acked and now >= wait_until[k]:
            qid = (qid + 1) & 0xFFFF
            inflight[k] = (nxt[k], qid, now)
            q.send(query(nxt[k], qid))
    timeout = max(0.0, min(0.002, t0 + i / rate - now)) if i < n else 0.002
    r, _, _ = select.select([up] + qs, [], [], timeout)
    now = time.monotonic()
    for s in r:
        try:
            m = s.recv(4096)
        except OSError:
            continue
        if len(m) < 12:
            continue
        mid, flags, _, an = struct.unpack(">HHHH", m[:8])
        if s is up:
            # the change with this id still waiting for its acknowledgement
            for c in range(max(0, i - 65536), i):
                if c & 0xFFFF == mid and c not in acked:
                    if flags & 0xF == 0:
                        acked[c] = now
                    else:
                        failed += 1
                    break
            continue
        k = qs.index(s)
        if not inflight[k] or inflight[k][1] != mid:
            continue
        c = inflight[k][0]
        inflight[k] = None
        if flags & 0xF == 0 and an > 0:
            seen[k].setdefault(c, now)
            nxt[k] = c + 1           # in order: the next one at once
        else:
            wait_until[k] = now + 0.005
lat = []
missing = 0
for c, ta in acked.items():
    ts = [seen[k].get(c) for k in range(len(secs))]
    if None in ts:
        missing += 1
        continue
    lat.append(max(ts) - ta)
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
print("sent %d, acknowledged %d, refused or unanswered %d, on all 3 secondaries %d (not within the grace: %d); "
      "latency ack -> last secondary: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; over 1 s: %d"
      % (n, len(acked), n - len(acked), len(lat), missing, pct(0.50), pct(0.90), pct(0.99),
         lat[-1] * 1000 if lat else float("nan"), sum(1 for x in lat if x > 1.0)))
# where in the run the slow ones were: p50 of each 5 s of sending
for b in range(0, int(dur), 5):
    w = sorted(max(seen[k][c] for k in range(len(secs))) - acked[c] for c in acked
               if b <= sent[c] - t0 < b + 5 and all(c in seen[k] for k in range(len(secs))))
    if w:
        print("  sent in [%d, %d) s: %d changes, p50 %.0f ms, max %.0f ms"
              % (b, b + 5, len(w), w[len(w) // 2] * 1000, w[-1] * 1000))
PY

run() {   # run NAME PRIMARY S1 S2 S3 TAG
  echo "== $1: load average $(cut -d' ' -f1-3 /proc/loadavg), $RATE changes/s for $SECS s"
  fleet_hub python3 "$DDI_TMP/driver.py" "$2" "$3,$4,$5" $Z "$RATE" "$SECS" "$6" | sed "s/^/$1: /"
}
sleep 2   # the secondaries hold the zone (above) and the first NOTIFYs are done
run ddiplane "$(fleet_addr 1)" "$(fleet_addr 2)" "$(fleet_addr 3)" "$(fleet_addr 4)" d
run knot "$(fleet_addr 5)" "$(fleet_addr 6)" "$(fleet_addr 7)" "$(fleet_addr 8)" k
echo "== after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ddiplane primary's transfer counters: $("$CTL" -s "$DDI_TMP/ctl1.sock" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["arguments"]["xfr"])')"
for i in 2 3 4; do
  echo "ddiplane secondary $i: $(grep -c 'bench\.test\.: IXFR' "$DDI_TMP/log$i") IXFR, $(grep -c 'bench\.test\.: AXFR' "$DDI_TMP/log$i") AXFR"
done
