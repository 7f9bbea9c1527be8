#!/usr/bin/env bash
# querylog.sh -- the sampled query log: one line per answered query with client, name, type and rcode; sampling
# keeps one in N per worker; nothing logged without --query-log
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT
S4=198.18.0.1 S6=2001:2::1
DB=$DDI_TMP/db
QLOG=$DDI_TMP/queries.log
ddi_db_default "$DB"
ddi_ns_setup
ddi_start --db "$DB" --address $S4/24 --address $S6/64 --control "$DDI_TMP/ctl.sock" --query-log "$QLOG"
ddi_wait_answer $S4 ddi.test 30
before=$(wc -l <"$QLOG")   # ddi_wait_answer's own queries are logged too
ddi_cli dig +short +time=2 +tries=1 @$S4 www.ddi.test A >/dev/null
ddi_cli dig +short +time=2 +tries=1 @$S6 mail.ddi.test AAAA >/dev/null
ddi_cli dig +short +time=2 +tries=1 @$S4 nosuch.ddi.test TXT >/dev/null
sleep 0.5   # the writer drains every 100 ms
new=$(tail -n +$((before + 1)) "$QLOG")
ddi_expect_match "IPv4 query: time, client#port, name, type, rcode, size" \
  '^20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z 198\.18\.0\.2#[0-9]+ www\.ddi\.test\. A NOERROR [0-9]+$' "$new"
ddi_expect_match "IPv6 query" '^[^ ]+ 2001:2::2#[0-9]+ mail\.ddi\.test\. AAAA NOERROR [0-9]+$' "$new"
ddi_expect_match "NXDOMAIN" ' nosuch\.ddi\.test\. TXT NXDOMAIN ' "$new"
printf '%s\n' 'www.ddi.test A' >"$DDI_TMP/q"
ddi_cli timeout 30 dnsperf -s $S4 -d "$DDI_TMP/q" -n 2000 -c 4 -q 20 -t 2 >/dev/null 2>&1
sleep 0.5
n=$(tail -n +$((before + 4)) "$QLOG" | grep -c ' www\.ddi\.test\. A NOERROR ' || true)
ddi_expect "2,000 more queries, every one logged at sample 1" 2000 "$n"
st=$("$DDI_BUILDDIR/ddictl" -s "$DDI_TMP/ctl.sock" --json stats | tr -d ' \n')
ddi_expect_match "stats: the query log and its drops" '"query_log":\{[^}]*"dropped":0' "$st"
ddi_stop

ddi_log "sampling: one in 10"
rm -f "$QLOG"
ip -n "$DDI_NS_SRV" link del ddi0 2>/dev/null || true
ddi_start --db "$DB" --address $S4/24 --query-log "$QLOG" --query-log-sample 10
ddi_wait_answer $S4 ddi.test 30
ddi_cli timeout 30 dnsperf -s $S4 -d "$DDI_TMP/q" -n 1000 -c 4 -q 20 -t 2 >/dev/null 2>&1
sleep 0.5
n=$(grep -c ' www\.ddi\.test\. A NOERROR ' "$QLOG" || true)
ddi_expect_match "1,000 queries at sample 10: about 100 lines ($n)" '^(9[0-9]|10[0-2])$' "$n"
ddi_stop
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"
ddi_summary
