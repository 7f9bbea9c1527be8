#!/usr/bin/env bash
# refusals.sh -- what strangers can make ddiplane keep: 20,000 unsigned UPDATEs are answered REFUSED, counted and logged at a bounded rate, and grow no store; an authenticated refusal is noted once per (key, reason); TCP connection limits and the idle timeout
#
# One ddiplane in its namespace (lib.sh) with small TCP limits
# (--tcp-max-clients 6 --tcp-max-per-client 4 --tcp-idle-timeout 2); the
# client namespace gets a second address (198.18.0.3) to be "another
# client". The UDP flood is a python3 sender with a window of 64
# outstanding updates matched by ID (the DDNS ring holds 256), so nothing
# is lost and every update gets its answer.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig python3 mdb_stat; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl tests/tools/tsigupdate; do
  [ -x "$DDI_BUILDDIR/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
TU="$DDI_BUILDDIR/tests/tools/tsigupdate"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"
N=20000

ddi_log "store with the sample zones, one key with one rule"
ddi_db_default "$DB"
K=$("$CTL" --db "$DB" key add ref.key. 2>/dev/null)
"$CTL" --db "$DB" policy add ref.key. grant subdomain dyn.ddi.test. A --prefix 198.18.0.0/24 >/dev/null

ddi_ns_setup
ddi_cli ip addr add 198.18.0.3/24 dev ddi-c
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20 \
  --tcp-max-clients 6 --tcp-max-per-client 4 --tcp-idle-timeout 2
ddi_wait_answer $S4 ddi.test 60

stats() { "$CTL" -s "$SOCK" --json stats; }
# jget JSON PATH...: one integer from the stats
jget() { python3 -c 'import json,sys; v=json.loads(sys.argv[1])["arguments"]
for k in sys.argv[2:]: v=v[k]
print(v)' "$@"; }
seq_now() { "$CTL" -s "$SOCK" --json status | sed -n 's/.*"store_seq": \([0-9]*\).*/\1/p'; }
entries() { mdb_stat -a "$DB" | awk '/^Status of journal/ {j=1} j && /Entries:/ {print $2; exit}'; }

ddi_log "$N unsigned UPDATEs from one client: every one REFUSED, counted, none in the store"
seq0=$(seq_now)
size0=$(stat -c %s "$DB/data.mdb")
ent0=$(entries)
log0=$(grep -c 'update refused' "$DDI_LOG" || true)
t0=$(date +%s)
out=$(ddi_cli timeout 120 python3 - $S4 $N <<'PY'
import socket, struct, sys, time, select
srv, n = sys.argv[1], int(sys.argv[2])
def name(s):
    return b"".join(bytes([len(l)]) + l.encode() for l in s.rstrip(".").split(".")) + b"\0"
zone = name("ddi.test") + struct.pack("!HH", 6, 1)                 # SOA IN
upd = name("x.dyn.ddi.test") + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([198, 18, 0, 99])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((srv, 53))
WINDOW, TIMEOUT = 64, 2.0
rcodes, out, sent, retrans, nxt = {}, {}, 0, 0, 0   # out: id -> time sent
deadline = time.time() + 100
start = time.time()
while (nxt < n or out) and time.time() < deadline:
    while nxt < n and len(out) < WINDOW:
        qid = nxt & 0xffff
        if qid in out:
            break
        s.send(struct.pack("!HHHHHH", qid, 5 << 11, 1, 0, 1, 0) + zone + upd)
        out[qid] = time.time(); nxt += 1; sent += 1
    r, _, _ = select.select([s], [], [], 0.2)
    while r:
        try:
            m = s.recv(4096, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
        qid, flags = struct.unpack("!HH", m[:4])
        if qid in out:
            del out[qid]
            rc = flags & 0xf
            rcodes[rc] = rcodes.get(rc, 0) + 1
    now = time.time()
    for qid, t in list(out.items()):
        if now - t > TIMEOUT:                                   # lost: once more, same ID
            s.send(struct.pack("!HHHHHH", qid, 5 << 11, 1, 0, 1, 0) + zone + upd)
            out[qid] = now; sent += 1; retrans += 1
el = time.time() - start
sys.stderr.write("== sender: %d updates answered in %.2f s: %.0f refused updates/s\n" % (
    sum(rcodes.values()), el, sum(rcodes.values()) / el))
print("answered=%d refused=%d other=%d sent=%d retransmitted=%d" % (
    sum(rcodes.values()), rcodes.get(5, 0), sum(v for k, v in rcodes.items() if k != 5), sent, retrans))
PY
)
t1=$(date +%s)
ddi_log "sender: $out in $((t1 - t0)) s"
ddi_expect "every update answered, every one REFUSED, none retransmitted" \
  "answered=$N refused=$N other=0 sent=$N retransmitted=0" "$out"
sleep 1.5   # the DDNS thread's idle tick reports the last second's suppressed lines
st=$(stats)
ddi_expect "stats: ddns refused_by unsigned = $N" "$N" "$(jget "$st" ddns refused_by unsigned)"
ddi_expect "stats: ddns answers REFUSED = $N" "$N" "$(jget "$st" ddns refused)"
ddi_expect "stats: no journal note for a stranger" 0 "$(jget "$st" ddns refusal_notes journaled)"
logged=$(jget "$st" ddns refusal_log lines)
supp=$(jget "$st" ddns refusal_log suppressed)
ddi_expect "stats: every refusal logged or suppressed" "$N" "$((logged + supp))"
ddi_expect "journal: no entry (store_seq unchanged)" "$seq0" "$(seq_now)"
ddi_expect "mdb_stat: journal entries unchanged" "$ent0" "$(entries)"
size1=$(stat -c %s "$DB/data.mdb")
growth=$((size1 - size0))
if [ "$growth" -lt 65536 ]; then ddi_ok "data.mdb grew $growth bytes (< 64 KiB)"; else ddi_fail "data.mdb grew $growth bytes (>= 64 KiB)"; fi
lines=$(( $(grep -c 'update refused' "$DDI_LOG" || true) - log0 ))
bound=$(( 10 * (t1 - t0 + 3) ))
ddi_expect "stderr lines = the logged counter" "$logged" "$lines"
if [ "$lines" -le "$bound" ]; then ddi_ok "stderr: $lines refusal lines for $N refusals (<= $bound: 10 a second)"; else ddi_fail "stderr: $lines refusal lines (> $bound)"; fi
ddi_expect_match "stderr: a line names reason, source and zone" \
  'update refused \(unsigned\): update ddi\.test\. REFUSED.* actor=unsigned@198\.18\.0\.2' "$(cat "$DDI_LOG")"
ddi_expect_match "stderr: suppressed lines summed up" '[0-9]+ more refused updates not logged' "$(cat "$DDI_LOG")"
ddi_expect_match "metrics-shaped counter in ddictl stats" "unsigned=$N" "$("$CTL" -s "$SOCK" stats)"

ddi_log "a TSIG-signed update refused by policy 100 times: one journal note"
seq1=$(seq_now)
bad=0
for i in $(seq 1 100); do
  r=$(ddi_cli "$TU" $S4 "$K" ddi.test. www.ddi.test. 198.18.0.98)
  [ "$r" = "rcode=5 tsig_error=0 signed=1" ] || bad=$((bad + 1))
done
ddi_expect "100 signed updates outside the key's names answered REFUSED (signed)" 0 "$bad"
j=$("$CTL" -s "$SOCK" journal --since $((seq1 + 1)))
ddi_expect "journal: exactly one note for ref.key / policy" 1 "$(grep -c 'tsig:ref\.key@198\.18\.0\.2' <<<"$j" || true)"
ddi_expect_match "journal: the note says key, zone, rcode and reason" 'REFUSED: .*www\.ddi\.test' "$j"
st=$(stats)
ddi_expect "stats: refused policy = 100" 100 "$(jget "$st" ddns refused_by policy)"
ddi_expect "stats: 99 folded into the note" 99 "$(jget "$st" ddns refusal_notes folded)"
ddi_expect "stats: one note" 1 "$(jget "$st" ddns refusal_notes journaled)"
ddi_expect "the refused update changed nothing" "198.18.0.10" "$(ddi_cli dig +short +norec @$S4 www.ddi.test. A)"

ddi_log "TCP: per-client and total limits, a graceful reset, idle timeout"
out=$(ddi_cli timeout 60 python3 - $S4 <<'PY'
import socket, subprocess, sys, time
srv = sys.argv[1]
def conn(src):
    s = socket.socket(); s.bind((src, 0)); s.connect((srv, 53)); return s
def refused(s, wait=0.7):
    """True when the server closed or reset the connection within `wait` s."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
def count_refused(socks):
    """How many of `socks` the server closed or reset: one short look at all of them
    (a reset comes at once; waiting on each in turn would run into the idle timeout)."""
    time.sleep(0.3)
    return sum(refused(s, 0.01) for s in socks)
def dig(src):
    r = subprocess.run(["dig", "+tcp", "+short", "+time=2", "+tries=1", "-b", src, "@" + srv,
                        "www.ddi.test.", "A"], capture_output=True, text=True)
    return r.stdout.strip() or "none"
# all of this well inside the 2 s idle timeout of A's connections
a = [conn("198.18.0.2") for _ in range(6)]
print("client_a_refused=%d" % count_refused(a))
print("client_b_dig=%s" % dig("198.18.0.3"))
time.sleep(0.2)                       # the server has seen dig's close
b = [conn("198.18.0.3") for _ in range(3)]
print("client_b_refused=%d" % count_refused(b))
time.sleep(3.2)                       # idle timeout 2 s + the server's 0.5 s sweep
closed = 0
for s in a[:4] + b[:2]:
    closed += refused(s, 0.2)
print("idle_closed=%d" % closed)
for s in a + b:
    s.close()
time.sleep(0.3)
# slowloris: a message announced 100 bytes long, one byte every 0.4 s
s = conn("198.18.0.2")
s.sendall(b"\x00\x64")
trickle_closed = False
for i in range(12):
    time.sleep(0.4)
    try:
        s.sendall(b"\x00")
    except (ConnectionResetError, BrokenPipeError):
        trickle_closed = True
        break
    if refused(s, 0.01):
        trickle_closed = True
        break
print("trickle_closed_after=%s" % ("%.1fs" % (0.4 * (i + 1)) if trickle_closed else "never"))
s.close()
time.sleep(0.3)
print("after_dig=%s" % dig("198.18.0.2"))
PY
)
ddi_log "$(tr '\n' ' ' <<<"$out")"
ddi_expect_match "client A: 6 connections, 2 over --tcp-max-per-client 4 reset at once" 'client_a_refused=2$' "$out"
ddi_expect_match "client B: dig +tcp answered while A holds its 4" 'client_b_dig=198\.18\.0\.10$' "$out"
ddi_expect_match "client B: 3 connections, the third over --tcp-max-clients 6 reset" 'client_b_refused=1$' "$out"
ddi_expect_match "idle: all 6 held connections closed after --tcp-idle-timeout 2" 'idle_closed=6$' "$out"
ddi_expect_match "a message trickled one byte at a time is closed as idle" 'trickle_closed_after=[0-9.]+s$' "$out"
ddi_expect_match "after all that, dig +tcp answered" 'after_dig=198\.18\.0\.10$' "$out"
st=$(stats)
ddi_expect "stats: tcp refused_client_limit" 2 "$(jget "$st" tcp refused_client_limit)"
ddi_expect "stats: tcp refused_total_limit" 1 "$(jget "$st" tcp refused_total_limit)"
ic=$(jget "$st" tcp idle_closed)
if [ "$ic" -ge 7 ]; then ddi_ok "stats: tcp idle_closed $ic (6 held + the trickle)"; else ddi_fail "stats: tcp idle_closed $ic < 7"; fi
ddi_expect "stats: tcp open 0" 0 "$(jget "$st" tcp open)"

ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_expect_match "exit summary counts TCP refusals" 'refused: 1 at the total limit, 2 at the client limit' "$(cat "$DDI_LOG")"
ddi_summary
