#!/usr/bin/env bash
# api.sh -- the HTTP API under load: durable record creations and next-free allocations per second over HTTPS, and the time from an API reply to the workers' first answer
#
# Usage: sudo bench/api.sh [DURATION_S] ["CONCURRENCIES"] [LATENCY_SAMPLES]   (env: ROUNDS, default 3)
#
# ddiplane runs as in tests/integration (its own namespace, net_af_packet on
# a veth), with the API on 127.0.0.1 of that namespace over HTTPS (a
# certificate made here); bench/lib/api_client.py drives it with keep-alive
# connections. Only 198.18.0.0/15 and 2001:2::/48, inside namespaces removed
# on exit; every process stopped by pid. Not a test: prints a table.
#
# What counts:
#   - a request counts when it was answered 2xx; every reply of a change
#     waits for the commit (an LMDB transaction synced to disk) and for the
#     publication of the index version holding it, as the control socket
#     does; "unpub" counts 2xx replies that gave up waiting (none expected);
#   - every request creates a name of its own (no request repeats);
#   - "socket-*" rows send the same commands over the control socket from the
#     same client (one request at a time per connection): the API's cost over
#     the socket, measured side by side in one run on a shared machine;
#   - after each run the acknowledged names are looked up in the store
#     (ddictl -s record get, a sample of 50 per run): "durable" is found/asked;
#   - latency: a PUT of a new A record, then from the moment its reply is
#     read, a UDP query every 0.2 ms from the client namespace until the
#     workers answer it; "first" is how often the first query already got
#     the answer (the reply is sent after publication, so it should be all).
DUR=${1:-10}
CONC=${2:-"1 4 16"}
SAMPLES=${3:-200}
ROUNDS=${ROUNDS:-3}
. "$(cd "$(dirname "$0")" && pwd)/../tests/integration/lib.sh"
set +e
ddi_need_root
CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
PORT=18444
BASE=https://127.0.0.1:$PORT
ddi_db_default "$DB"
TOKEN=$("$CTL" --db "$DB" token add bench --role admin 2>/dev/null)
# an IPv6 /64: no run fills it (a /16 filled within the rounds of one bench)
"$CTL" --db "$DB" prefix add 2001:2:0:100::/64 --zone ddi.test. --policy strict >/dev/null
ddi_http_start $PORT "$DB" "$DDI_TMP/ctl.sock" || exit 1
CLIENT="$DDI_SRCDIR/bench/lib/api_client.py"

durable() {   # durable FILE: "found/asked" over a sample of 50 acknowledged names
  python3 - "$1" "$CTL" "$DDI_TMP/ctl.sock" <<'PY'
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
names, rr = r["names"], "AAAA" if r["kind"].endswith("alloc") else "A"
sample = names[::max(1, len(names) // 50)][:50]
found = 0
for n in sample:
    p = subprocess.run([sys.argv[2], "-s", sys.argv[3], "record", "get", n, rr], capture_output=True, text=True)
    found += p.returncode == 0 and n.rstrip(".") in p.stdout
print("%d/%d" % (found, len(sample)))
PY
}

# warm-up (not counted): the first commits of a fresh store and the first TLS sessions
ddi_srv python3 "$CLIENT" rate "$BASE" "$TOKEN" "$DDI_TMP/cert.pem" record 1 2 warm >/dev/null 2>&1
echo "# machine: $(nproc) vCPU, $(uptime | sed 's/.*load average/load average/')"
# ROUNDS rounds, each running every kind and concurrency once in turn, so that
# the stalls of a shared machine (another process's fsync, a busy CPU) fall
# on all of them alike; the table shows per kind the median of the rounds.
run=0
for r in $(seq "$ROUNDS"); do
  for kind in record socket-record alloc socket-alloc; do
    for c in $CONC; do
      run=$((run + 1))
      base=$BASE
      [ "${kind#socket}" != "$kind" ] && base=$DDI_TMP/ctl.sock
      ddi_srv python3 "$CLIENT" rate "$base" "$TOKEN" "$DDI_TMP/cert.pem" "$kind" "$DUR" "$c" "$run" \
        >"$DDI_TMP/run$run.json" 2>"$DDI_TMP/run$run.err"
      echo "$(durable "$DDI_TMP/run$run.json")" >"$DDI_TMP/run$run.durable"
    done
  done
done
python3 - "$DDI_TMP" "$run" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
rows = {}
for i in range(1, n + 1):
    try:
        r = json.load(open("%s/run%d.json" % (d, i)))
    except (OSError, ValueError):
        continue
    r["durable"] = open("%s/run%d.durable" % (d, i)).read().strip()
    rows.setdefault((r["kind"], r["concurrency"]), []).append(r)
print("%-13s %5s %6s %9s %9s %8s %6s %6s %9s %9s %s" % ("kind", "conc", "rounds", "ok/s med", "ok/s min",
      "ok", "errors", "unpub", "p50_ms", "p99_ms", "durable"))
for (kind, c), rs in rows.items():
    found = sum(int(x["durable"].split("/")[0]) for x in rs)
    asked = sum(int(x["durable"].split("/")[1]) for x in rs)
    print("%-13s %5d %6d %9.1f %9.1f %8d %6d %6d %9.2f %9.2f %d/%d" % (kind, c, len(rs),
          statistics.median(x["rps"] for x in rs), min(x["rps"] for x in rs), sum(x["ok"] for x in rs),
          sum(x["errors"] for x in rs), sum(x["unpublished"] for x in rs),
          statistics.median(x["p50_ms"] or 0 for x in rs), max(x["p99_ms"] or 0 for x in rs), found, asked))
    for x in rs:
        for k, v in x.get("error_kinds", {}).items():
            print("    %s x%d: %s" % (kind, v, k))
PY
echo "# latency from the API reply to the first answer by the workers ($SAMPLES samples)"
ddi_srv python3 "$CLIENT" latency "$BASE" "$TOKEN" "$DDI_TMP/cert.pem" "$SAMPLES" 198.18.0.1 "$DDI_NS_CLI"
echo "# load average after: $(uptime | sed 's/.*load average: //')"
