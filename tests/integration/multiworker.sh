#!/usr/bin/env bash
# multiworker.sh -- two workers on a two-queue port: the port spreads flows over both RX queues and each worker
# answers its share correctly
#
# net_af_packet with qpairs=2 opens two packet sockets in one PACKET_FANOUT
# group (hash of the flow), so queries from many source ports reach both
# queues. Three lcores on this 2-CPU machine: the control lcore on CPU 0 and
# both workers on CPU 1 (--lcores), each sleeping when idle. Every answer is
# checked (dnsperf counts only NOERROR answers of names that exist), and the
# per-lcore counters of `ddictl stats` show both workers answering.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
SOCK=$DDI_TMP/ctl.sock
S4=198.18.0.1
ddi_db_default "$DB"
ddi_ns_setup
DDI_EAL="--lcores 0@0,1@1,2@1 --no-huge -m 512 --no-shconf --no-pci --file-prefix ddi$DDI_ID --vdev net_af_packet0,iface=ddi-s,qpairs=2" \
  ddi_start --db "$DB" --control "$SOCK" --address $S4/24 --address 2001:2::1/64 --idle-sleep-us 50
ddi_wait_answer $S4 ddi.test 30
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done

st=$("$CTL" -s "$SOCK" --json status | tr -d ' \n')
ddi_expect_match "two workers" '"workers":2' "$st"

ddi_log "queries from many flows: every answer NOERROR, none lost"
printf '%s\n' 'www.ddi.test A' 'mail.ddi.test AAAA' 'ddi.test MX' 'ns1.ddi.test A' >"$DDI_TMP/q"
out=$(ddi_cli timeout 30 dnsperf -s $S4 -d "$DDI_TMP/q" -c 32 -l 3 -Q 5000 -t 2 2>&1)
ddi_expect_match "dnsperf: every query answered" 'Queries lost: +0 ' "$out"
ddi_expect_match "dnsperf: every answer NOERROR" 'Response codes: +NOERROR [0-9]+ \(100\.00%\)' "$out"
for a in "www.ddi.test A 198.18.0.10" "ns1.ddi.test A 198.18.0.1"; do
  set -- $a
  ddi_expect "$1 $2 over IPv6 too" "$3" "$(ddi_cli dig +short +time=2 +tries=2 @2001:2::1 "$1" "$2")"
done

ddi_log "both workers answered their share"
js=$("$CTL" -s "$SOCK" --json stats)
read -r tx1 tx2 < <(python3 - <<PY
import json
d = json.loads('''$js''')
rows = {str(l.get("lcore")): l for l in d["arguments"]["lcores"]}
def tx(l):
    r = rows.get(l, {})
    c = r.get("counters", r)
    return c.get("tx", 0)
print(tx("1"), tx("2"))
PY
)
ddi_expect_match "worker lcore 1 sent answers ($tx1)" '^[1-9][0-9]+$' "$tx1"
ddi_expect_match "worker lcore 2 sent answers ($tx2)" '^[1-9][0-9]+$' "$tx2"
ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_summary
