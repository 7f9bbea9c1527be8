#!/usr/bin/env bash
# startup.sh -- the start-up: queries sent while ddiplane comes up get no answer or a full one, never one from a half-loaded index
#
# The store holds the sample zones, big.test. with NAMES A names, big6.test.
# and big7.test. with NAMES6 AAAA names each, so that the index load (in its
# own thread) outlasts EAL and the ports. The client knows the port's MAC in
# advance (a permanent neighbour entry), so its queries reach the port from
# the moment it is started, while the load may still run. Queries for the
# names that come last in the load (and the sample www.ddi.test.) are sent
# every 5 ms from before the start until 100 answers came back (those queued
# in the port during the load are all answered at once when the workers
# start): every answer must be NOERROR with the right address (a half-built
# index would say NXDOMAIN or REFUSED). Then: one start-up line naming the
# phases, the last names and a synthesized reverse name answer, and a store
# whose data file was cut short is refused with its reason.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
NAMES=${NAMES:-120000}   # at most 130,000: addresses from 198.18.1.0 up, beside the samples' 198.18.0.0/24
NAMES6=${NAMES6:-300000} # big6.test. and big7.test. each: AAAA in 2001:2:0:6::/64 and 2001:2:0:7::/64
                         # (so that the load outlasts EAL and the ports; ddictl takes 16 MiB a file)
CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
S4=198.18.0.1

ddi_log "store: the sample zones, big.test. with $NAMES names, big6.test. and big7.test. with $NAMES6 each"
ddi_db_default "$DB"
awk -v n="$NAMES" 'BEGIN {
  print "$ORIGIN big.test."
  print "$TTL 300"
  print "@ SOA ns1 hostmaster 1 3600 900 1209600 300"
  print "@ NS ns1"
  print "ns1 A 198.18.0.53"
  for (i = 0; i < n; i++)
    printf "h%d A 198.%d.%d.%d\n", i, 18 + int((i + 256) / 65536), int((i + 256) / 256) % 256, i % 256
}' >"$DDI_TMP/big.zone"
"$CTL" --db "$DB" zone import big.test. "$DDI_TMP/big.zone" >/dev/null
for z in 6 7; do
  awk -v n="$NAMES6" -v z=$z 'BEGIN {
    print "$ORIGIN big" z ".test."
    print "$TTL 300"
    print "@ SOA ns1 hostmaster 1 3600 900 1209600 300"
    print "@ NS ns1"
    print "ns1 AAAA 2001:2::53"
    for (i = 0; i < n; i++)
      printf "v%d AAAA 2001:2:0:%d::%x:%x\n", i, z, int(i / 65536), i % 65536
  }' >"$DDI_TMP/big$z.zone"
  "$CTL" --db "$DB" zone import big$z.test. "$DDI_TMP/big$z.zone" >/dev/null
done
# The last names in the load (key order: labels reversed, byte order) and their addresses.
LAST=$(awk -v n="$NAMES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.big.test. 198.%d.%d.%d\n",
  i, 18 + int((i + 256) / 65536), int((i + 256) / 256) % 256, i % 256 }' | LC_ALL=C sort | tail -n 2)
# big7.test. comes last in key order: its last name is the load's last.
LAST6=$(awk -v n="$NAMES6" 'BEGIN { for (i = 0; i < n; i++) printf "v%d.big7.test. 2001:2:0:7::%x:%x\n",
  i, int(i / 65536), i % 65536 }' | LC_ALL=C sort | tail -n 1)

ddi_ns_setup
MAC=$(ip -n "$DDI_NS_SRV" -o link show ddi-s | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ddi_cli ip neigh replace $S4 lladdr "$MAC" dev ddi-c nud permanent

# The probe: from before the start, one query every 5 ms (names in turn),
# until 100 answers or 60 s. Prints "answers N bad M" and each bad answer.
cat >"$DDI_TMP/probe.py" <<'PY'
import socket, struct, sys, time
server, want = sys.argv[1], [(n, a) for n, a in (x.split("=") for x in sys.argv[2:])]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
sent, good, bad, t_end, before = {}, 0, [], time.time() + 60, None
def query(qid, name, addr):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for l in name.rstrip(".").split("."):
        q += bytes([len(l)]) + l.encode()
    return q + b"\0" + struct.pack(">HH", 28 if ":" in addr else 1, 1)
i = 0
while good + len(bad) < 100 and time.time() < t_end:
    name, addr = want[i % len(want)]
    qid = i % 65536   # unique while fewer than 65,536 are sent (60 s at 5 ms: 12,000)
    sent[qid] = (name, addr)
    try:
        s.sendto(query(qid, name, addr), (server, 53))
    except OSError:
        pass
    i += 1
    deadline = time.time() + 0.005
    while time.time() < deadline:
        try:
            r = s.recv(4096)
        except BlockingIOError:
            time.sleep(0.0005)
            continue
        qid, flags, qd, an = struct.unpack(">HHHH", r[:8])
        if qid not in sent:
            continue
        name, addr = sent.pop(qid)
        if r[12:12 + len(query(0, name, addr)) - 16] != query(0, name, addr)[12:-4]:
            bad.append("%s: the reply's question is another one" % name)
            continue
        if before is None:
            before = i
        if ":" in addr:
            got = socket.inet_ntop(socket.AF_INET6, r[-16:]) if an >= 1 else None
        else:
            got = socket.inet_ntoa(r[-4:]) if an >= 1 else None
        if flags & 0xF == 0 and an == 1 and got == addr:
            good += 1
        else:
            bad.append("%s: rcode %d, %d answers, %s" % (name, flags & 0xF, an, got))
print("answers %d bad %d sent %d before the first answer %d" % (good + len(bad), len(bad), i, before or 0))
for b in bad[:10]:
    print("bad " + b)
PY
set -- $LAST $LAST6
ddi_cli python3 "$DDI_TMP/probe.py" $S4 "$1=$2" "$3=$4" "$5=$6" "www.ddi.test.=198.18.0.10" \
  >"$DDI_TMP/probe.out" 2>&1 &
PROBE=$!
_DDI_PIDS+=("$PROBE")
sleep 0.3   # the probe is sending before the server starts
ddi_start --db "$DB" --address $S4/24 --idle-sleep-us 20
wait "$PROBE" || true
OUT=$(cat "$DDI_TMP/probe.out")
ddi_log "probe: $OUT"
ddi_expect_match "queries during start-up: 100 answers or more" '^answers (1[0-9]{2}|[2-9][0-9]{2}|[0-9]{4,}) ' "$OUT"
ddi_expect_match "every answer during start-up is the full one" ' bad 0 ' "$OUT"
ddi_expect_match "the probe sent queries while the server started (50 or more)" \
  'before the first answer ([5-9][0-9]|[0-9]{3,})$' "$(head -n 1 <<<"$OUT")"

ddi_wait_answer $S4 ddi.test 30
LINE=$(grep 'start-up: options' "$DDI_LOG" || true)
ddi_log "${LINE#*info: }"
ddi_expect "one start-up line" 1 "$(grep -c 'start-up: options' "$DDI_LOG" || true)"
ddi_expect_match "it names the phases and the records" \
  "eal [0-9]+ ms.*ports and taps [0-9]+ ms.*index [0-9]+ ms \(([0-9]{1,3},)*[0-9]{3} RRsets, .* records, 6 zones" "$LINE"
ddi_expect_match "the LMDB map's pages were given back" "LMDB map pages released [1-9][0-9]* MiB" "$LINE"
ddi_expect_match "the first answer's time is logged" "start-up: first answer [0-9]+ ms after start" \
  "$(cat "$DDI_LOG")"
ddi_expect "the last A name" "$2" "$(ddi_cli dig +time=2 +tries=1 +short @$S4 "$1" A)"
ddi_expect "the last name of the load" "$6" "$(ddi_cli dig +time=2 +tries=1 +short @$S4 "$5" AAAA)"
# Informational: whether the ports were up while the index loaded (the
# window this test is about) depends on the machine's speed and load.
ddi_log "waited for the load after the ports: $(grep -o 'waited [0-9]* ms' <<<"$LINE")"
ddi_expect "a sample record" 198.18.0.10 "$(ddi_cli dig +time=2 +tries=1 +short @$S4 www.ddi.test A)"
ddi_expect "a reverse name (synthesized from the same index)" www.ddi.test. \
  "$(ddi_cli dig +time=2 +tries=1 +short @$S4 -x 198.18.0.10)"

ddi_log "a store that does not load is refused with its reason, nothing answered"
ddi_stop
cp -a "$DB" "$DDI_TMP/bad"
truncate -s 65536 "$DDI_TMP/bad/data.mdb"   # cut short: LMDB alone would SIGBUS on it
ddi_start --db "$DDI_TMP/bad" --address $S4/24
for _ in $(seq 100); do ddi_alive "$DDI_PID" || break; sleep 0.1; done
ddi_alive "$DDI_PID" && ddi_stop
BAD_EXIT=0
wait "$DDI_PID" 2>/dev/null || BAD_EXIT=$?
ddi_expect "the server exits at once, status 1" 1 "$BAD_EXIT"
ddi_expect_match "with a clear message" \
  "ddiplane: cannot open the database '$DDI_TMP/bad': .*cut short" "$(cat "$DDI_LOG")"
ddi_summary
