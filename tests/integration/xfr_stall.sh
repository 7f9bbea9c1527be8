#!/usr/bin/env bash
# xfr_stall.sh -- a zone transfer whose reader stops holds only itself: TCP queries and other transfers go on; --xfr-out-max
#
# ddiplane serves big.test. (50,000 A records, ~1.3 MB of AXFR: more than
# the socket buffers hold) to 198.18.0.0/24. A client asks for its AXFR
# with a 4 KiB receive buffer and stops reading (xfr_stall_client.py stall).
# While it stalls:
#   - TCP queries (dig +tcp) are answered within 1 s, with the right data;
#   - a second AXFR completes and verifies (record count, SOA first and
#     last) while the stalled one still runs (out_running stays 1);
#   - after --tcp-idle-timeout the stalled transfer is given up: out_timeout,
#     aborted, out_running 0, and the stalled client sees its connection end.
# Then with --xfr-out-max 1, a stalled transfer holding the only slot:
#   - an AXFR is refused at once (REFUSED, well under 1 s; signed with TSIG
#     it is REFUSED signed, which dig verifies), counted in out_refused_limit;
#   - once the stalled one is given up, an AXFR completes again;
#   - a client that pipelines AXFR and an SOA query gets the whole transfer
#     first and then the SOA answer (RFC 7766 6.2.1.1), nothing dropped.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig kdig python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done

CTL="$DDI_BUILDDIR/ddictl"
DB="$DDI_TMP/db"
SOCK="$DDI_TMP/ctl.sock"
S4=198.18.0.1
BIG=big.test.
N=50000
IDLE=6            # --tcp-idle-timeout: the stalled transfer's bound
CLIENT=(python3 "$(dirname "$0")/xfr_stall_client.py")

{
  printf '$ORIGIN %s\n$TTL 3600\n@ IN SOA ns1.big.test. hostmaster.big.test. 1 3600 900 604800 300\n' $BIG
  printf '@ IN NS ns1\nns1 IN A 198.19.0.1\n'
  python3 -c "
for i in range($N):
    print('h%05d IN A 198.19.%d.%d' % (i, i // 250, i % 250 + 1))"
} >"$DDI_TMP/big.zone"
"$CTL" --db "$DB" zone import $BIG "$DDI_TMP/big.zone" >/dev/null
XKEY=$("$CTL" --db "$DB" key add xfr.key. 2>/dev/null)
"$CTL" --db "$DB" zone acl $BIG --transfer 198.18.0.0/24 >/dev/null
ddi_ns_setup

# xfr counter NAME from ddictl stats (JSON), "?" when absent
xc() {
  "$CTL" -s "$SOCK" --json stats 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['arguments']['xfr'].get('$1', '?'))" 2>/dev/null || echo '?'
}
# wait SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for() {
  local secs=$1 i; shift
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}
xc_is() { [ "$(xc "$1")" = "$2" ]; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# An AXFR with dig: "COUNT FIRST-TYPE LAST-TYPE" of the answer records
axfr_check() {
  ddi_cli dig +time=15 +tries=1 @$S4 $BIG AXFR +noall +answer 2>/dev/null |
    awk 'NF >= 5 {n++; if (n == 1) f = $4; l = $4} END {print n + 0, f, l}'
}
STALL_OUT=$DDI_TMP/stall.out
start_staller() {   # HOLD seconds
  ddi_cli "${CLIENT[@]}" stall $S4 $BIG "$1" >"$STALL_OUT" 2>&1 &
  STALLER=$!
  _DDI_PIDS+=("$STALLER")
}

ddi_log "a stalled AXFR beside TCP queries and a second AXFR (--tcp-idle-timeout $IDLE)"
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20 --tcp-idle-timeout $IDLE
ddi_wait_answer $S4 big.test 60
SERIAL=$(ddi_cli dig +short @$S4 big.test SOA | awk '{print $3}')
T_STALL=$(date +%s%N)
start_staller $((IDLE * 2))
# By now the transfer has filled the client's window, the socket buffer
# and the 128 KiB queue. (A fixed wait, not a wait for the counter: the
# queries below must go while the stall lasts, whatever the build.)
sleep 1.5

t=$(date +%s%N)
a=$(ddi_cli dig +tcp +time=3 +tries=1 +short @$S4 big.test SOA 2>&1 | awk '{print $3}') || true
ms=$(ms_since "$t")
ddi_expect "TCP SOA query during the stall: answered" "$SERIAL" "$a"
[ "$ms" -lt 1000 ] && ddi_ok "TCP SOA query during the stall: $ms ms (< 1000)" ||
  ddi_fail "TCP SOA query during the stall: $ms ms (< 1000)"
t=$(date +%s%N)
a=$(ddi_cli dig +tcp +time=3 +tries=1 +short @$S4 h04242.big.test A 2>&1) || true
ms2=$(ms_since "$t")
ddi_expect "TCP A query during the stall: answered" 198.19.16.243 "$a"
[ "$ms2" -lt 1000 ] && ddi_ok "TCP A query during the stall: $ms2 ms (< 1000)" ||
  ddi_fail "TCP A query during the stall: $ms2 ms (< 1000)"
echo "latency of TCP queries 1.5 s into the stall: SOA $ms ms, A $ms2 ms"
ddi_expect "meanwhile the stalled AXFR runs (out_running)" 1 "$(xc out_running)"

t=$(date +%s%N)
got=$(axfr_check) || true
ms=$(ms_since "$t")
ddi_expect "second AXFR during the stall: $((N + 4)) records, SOA first and last" "$((N + 4)) SOA SOA" "$got"
echo "second AXFR during the stall: $ms ms"
ddi_expect "the stalled AXFR still runs after it (out_running)" 1 "$(xc out_running)"
[ "$(ms_since "$T_STALL")" -lt $((IDLE * 1000)) ] && ddi_ok "all of it before the stalled transfer's bound" ||
  ddi_fail "all of it before the stalled transfer's bound ($(ms_since "$T_STALL") ms >= ${IDLE}000)"

wait_for $((IDLE + 10)) xc_is out_timeout 1 || true
ddi_expect "the stalled AXFR given up at the bound: out_timeout" 1 "$(xc out_timeout)"
ddi_expect "counted as aborted too" 1 "$(xc aborted)"
ddi_expect "no transfer runs (out_running)" 0 "$(xc out_running)"
ddi_expect "2 AXFR counted as served (the second and the one given up)" 2 "$(xc axfr)"
wait "$STALLER" 2>/dev/null || true
ddi_expect_match "the stalled client's connection was closed by the server" 'end=(eof|reset)' "$(cat "$STALL_OUT")"
ddi_stop

ddi_log "--xfr-out-max 1: a second transfer is refused while one runs"
ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20 --tcp-idle-timeout $IDLE \
  --xfr-out-max 1 --metrics 127.0.0.1:9153
ddi_wait_answer $S4 big.test 60
start_staller $((IDLE * 2))
wait_for 5 xc_is out_running 1 || true
ddi_expect "the stalled AXFR holds the only slot" 1 "$(xc out_running)"
got=$(ddi_cli "${CLIENT[@]}" rcode $S4 $BIG 2>&1) || true
ddi_expect "AXFR over the limit: REFUSED" REFUSED "${got%% *}"
ms=${got##* }
[ "${ms:-9999}" -lt 1000 ] 2>/dev/null && ddi_ok "AXFR over the limit refused at once: $ms ms" ||
  ddi_fail "AXFR over the limit refused at once" "$got"
# signed: kdig names the rcode (it does not check the TSIG of an error
# answer); dig checks the signature ("Couldn't verify signature: expected a
# TSIG" when the refusal is unsigned, as it would be without xfr_check)
got=$(ddi_cli kdig +timeout=3 +retry=0 -y "$XKEY" @$S4 $BIG AXFR 2>&1 |
  sed -n "s/.*server replied with error '\([A-Z]*\)'.*/\1/p" | head -1) || true
ddi_expect "signed AXFR over the limit: REFUSED" REFUSED "$got"
got=$(ddi_cli dig +time=3 +tries=1 -y "$XKEY" @$S4 $BIG AXFR 2>&1) || true
if grep -q "Transfer failed" <<<"$got" && ! grep -q "verify" <<<"$got"; then
  ddi_ok "signed AXFR over the limit: the refusal is signed (dig verified its TSIG)"
else
  ddi_fail "signed AXFR over the limit: the refusal is signed (dig verified its TSIG)" "$got"
fi
ddi_expect "counted: out_refused_limit" 3 "$(xc out_refused_limit)"
ddi_expect "counted: not as ACL refusals" 0 "$(xc refused)"
# /metrics in the server's namespace (its own loopback)
m=$(ddi_srv curl -s --max-time 3 http://127.0.0.1:9153/metrics 2>&1 |
  grep -E '^ddiplane_xfr_(out_running|total\{outcome="out_refused_limit"\})' | tr '\n' ' ') || true
ddi_expect "/metrics: the gauge and the limit's counter" \
  'ddiplane_xfr_total{outcome="out_refused_limit"} 3 ddiplane_xfr_out_running 1 ' "$m"
a=$(ddi_cli dig +tcp +time=3 +tries=1 +short @$S4 big.test SOA 2>&1 | awk '{print $3}')
ddi_expect "TCP query while the only slot stalls: answered" "$SERIAL" "$a"
wait_for $((IDLE + 10)) xc_is out_timeout 1 || true
ddi_expect "the stalled AXFR given up: out_timeout" 1 "$(xc out_timeout)"
got=$(axfr_check) || true
ddi_expect "AXFR after the slot is free again: complete" "$((N + 4)) SOA SOA" "$got"

ddi_log "pipelining: AXFR and an SOA query in one write"
got=$(ddi_cli "${CLIENT[@]}" pipeline $S4 $BIG 2>&1) || true
ddi_expect_match "the whole transfer, then the SOA answer" \
  "xfr_msgs=[0-9]+ xfr_rrs=$((N + 4)) soa_first=1 soa_last=1 then=ID2 rcode=NOERROR an=1" "$got"
ddi_expect "3 AXFR served on this server (the given up, the one after, the pipelined)" 3 "$(xc axfr)"
wait "$STALLER" 2>/dev/null || true
ddi_expect "the server still runs" 0 "$(ddi_alive "$DDI_PID" && echo 0 || echo 1)"
ddi_stop
ddi_expect "ddiplane exited cleanly" 0 "$DDI_EXIT"
ddi_summary
