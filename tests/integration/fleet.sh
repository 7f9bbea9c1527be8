#!/usr/bin/env bash
# fleet.sh -- one ddiplane primary and three catalog-driven ddiplane secondaries: a stream of 200 changes is answered by all four; a secondary killed -9 mid-stream catches up by IXFR
#
# Four ddiplane processes, each in its own namespace with its own veth on a
# bridge in a hub namespace (fleet_lib.sh), each with its own LMDB store,
# control socket and DPDK file prefix (--no-huge, workers sleeping when
# idle). Server 1 (198.18.0.11) is the primary: ddi.test. and its reverse
# zone 0.18.198.in-addr.arpa. may be transferred by 198.18.0.0/24 and are
# NOTIFYed to the secondaries, and it generates the catalog catalog.fleet.
# Servers 2-4 get nothing but `ddictl catalog add catalog.fleet. --primary
# 198.18.0.11`: the zones come from the catalog. The stream mixes ddictl
# record add, IPAM alloc next and RFC 2136 nsupdate; a change counts once it
# is acknowledged, and each must then be answered by every server's
# dataplane (dig from the hub). Server 3 is killed with SIGKILL after 40
# changes and restarted after 70 on the same store (the stream waits for its
# dataplane to come up, then goes on): it must catch up by
# IXFR (its log, and the primary's IXFR counter), not AXFR. (The primary
# keeps 100 differences per zone, STORE_DIFF_MAX_DEPTH_DEFAULT; a secondary
# further behind gets AXFR, as RFC 1995 allows.) Every transfer, SOA query
# and NOTIFY is TSIG-signed with xfr.fleet., made on the primary and given
# to the secondaries with key add --secret: an unsigned AXFR is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet_lib.sh"
ddi_need_root
for t in dig nsupdate jq; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed" >&2; exit 77; }
done

CTL="$DDI_BUILDDIR/ddictl"
CAT=catalog.fleet.
REV=0.18.198.in-addr.arpa.
N=${FLEET_CHANGES:-200}
KILL_AT=40
RESTART_AT=70   # within the 100 differences per zone the primary keeps (IXFR possible)
P=$(fleet_addr 1)

ddi_log "stores: the primary's zones, ACLs and catalog; the secondaries get only catalog add"
DB1=$DDI_TMP/db1
ddi_db_default "$DB1"
NSKEY=$("$CTL" --db "$DB1" key add ns.key. 2>/dev/null)
"$CTL" --db "$DB1" policy add ns.key. grant subdomain dyn.ddi.test. --prefix 198.18.0.0/24 >/dev/null
"$CTL" --db "$DB1" prefix add 198.18.0.0/24 --zone ddi.test. --policy auto >/dev/null
XKEY=$("$CTL" --db "$DB1" key add xfr.fleet. 2>/dev/null)   # hmac-sha256:xfr.fleet:SECRET
ACL=(--transfer 198.18.0.0/24 --transfer-key xfr.fleet. --notify-key xfr.fleet.
     --notify "$(fleet_addr 2)" --notify "$(fleet_addr 3)" --notify "$(fleet_addr 4)")
"$CTL" --db "$DB1" zone acl ddi.test. "${ACL[@]}" >/dev/null
"$CTL" --db "$DB1" zone acl $REV "${ACL[@]}" >/dev/null
"$CTL" --db "$DB1" zone acl $CAT --catalog "${ACL[@]}" >/dev/null
for i in 2 3 4; do
  mkdir -p "$DDI_TMP/db$i"
  out=$(printf '%s\n' "${XKEY##*:}" | "$CTL" --db "$DDI_TMP/db$i" key add xfr.fleet. --secret - 2>/dev/null)
  ddi_expect "secondary $i: the primary's transfer key, given with --secret -" "$XKEY" "$out"
  out=$("$CTL" --db "$DDI_TMP/db$i" catalog add $CAT --primary "$P" --key xfr.fleet. 2>&1)
  ddi_expect_match "secondary $i: catalog add is all it gets" 'catalog catalog\.fleet\. added' "$out"
done

fleet_hub_setup
for i in 1 2 3 4; do fleet_add $i ddi; done
fleet_start_ddi 1 "$DB1" "$DDI_TMP/log1" --catalog $CAT
for i in 2 3 4; do fleet_start_ddi $i "$DDI_TMP/db$i" "$DDI_TMP/log$i"; done

ctl() { local i=$1; shift; "$CTL" -s "$DDI_TMP/ctl$i.sock" "$@"; }
serial() { fleet_hub dig +norec +time=1 +tries=2 +short "@$(fleet_addr "$1")" "$2" SOA 2>/dev/null | awk '{print $3}'; }
xc() { ctl 1 --json stats 2>/dev/null | jq -r ".arguments.xfr.$1"; }
why() { local i; for i in 1 2 3 4; do echo "--- server $i"; ctl $i zone list 2>&1 | head -8; tail -6 "$DDI_TMP/log$i"; done; }

if fleet_wait_soa 1 ddi.test 60; then ddi_ok "the primary answers"
else ddi_fail "the primary answers" "$(cat "$DDI_TMP/log1")"; exit 1; fi
S0=$(serial 1 ddi.test || true)
insync() { local i; for i in 2 3 4; do [ "$(serial $i ddi.test)" = "$S0" ] || return 1; done; }
wait_insync() { local k; for ((k = 0; k < 240; k++)); do insync && return 0; sleep 0.25; done; return 1; }
if wait_insync; then ddi_ok "the three secondaries found ddi.test in the catalog and hold serial $S0"
else ddi_fail "the three secondaries found ddi.test in the catalog and hold serial $S0" "$(why)"; fi
ddi_expect "server 2: ddi.test. is a catalog member" "catalog member" \
  "$(ctl 2 --json zone list | jq -r '.arguments.zones[] | select(.zone == "ddi.test.") | .role')"
ddi_expect "server 4: the reverse zone too" "catalog member" \
  "$(ctl 4 --json zone list | jq -r --arg z $REV '.arguments.zones[] | select(.zone == $z) | .role')"

ddi_log "a stream of $N changes on the primary (record add, alloc next, nsupdate); server 3 killed -9 at $KILL_AT, restarted at $RESTART_AT"
EXP=$DDI_TMP/expected   # "NAME. A ADDR" of every acknowledged change
: >"$EXP"
ixfr0=$(xc ixfr)
acked=0 refused=0
for ((c = 1; c <= N; c++)); do
  if ((c % 20 == 0)); then
    out=$(ctl 1 alloc next 198.18.0.0/24 "alloc$c.ddi.test" 2>&1) && [[ $out =~ ^198\.18\.0\.[0-9]+ ]] &&
      echo "alloc$c.ddi.test. A ${out%% *}" >>"$EXP" && acked=$((acked + 1)) ||
      { refused=$((refused + 1)); echo "change $c (alloc next): $out" >>"$DDI_TMP/refused"; }
  elif ((c % 20 == 10)); then
    a=198.18.0.$((150 + c / 20))
    printf 'server %s\nzone ddi.test.\nupdate add upd%d.dyn.ddi.test. 300 A %s\nsend\n' "$P" $c $a |
      fleet_hub timeout 10 nsupdate -y "$NSKEY" >"$DDI_TMP/nsupdate.out" 2>&1 &&
      echo "upd$c.dyn.ddi.test. A $a" >>"$EXP" && acked=$((acked + 1)) ||
      { refused=$((refused + 1)); echo "change $c (nsupdate): $(cat "$DDI_TMP/nsupdate.out")" >>"$DDI_TMP/refused"; }
  else
    a=198.19.$((c / 250)).$((c % 250 + 1))
    out=$(ctl 1 record add "h$c.ddi.test." 300 A $a 2>&1) &&
      echo "h$c.ddi.test. A $a" >>"$EXP" && acked=$((acked + 1)) ||
      { refused=$((refused + 1)); echo "change $c (record add): $out" >>"$DDI_TMP/refused"; }
  fi
  if ((c == KILL_AT)); then
    kill -KILL "${FLEET_PID[3]}"
    wait "${FLEET_PID[3]}" 2>/dev/null || true
    ddi_log "server 3 killed with SIGKILL after change $c"
  fi
  if ((c == RESTART_AT)); then
    mv "$DDI_TMP/log3" "$DDI_TMP/log3.before"
    fleet_start_ddi 3 "$DDI_TMP/db3" "$DDI_TMP/log3"
    # the stream waits for its dataplane (it answers from its store at once):
    # DPDK's start takes seconds on a loaded machine, and the catch-up must
    # stay within the differences the primary keeps
    fleet_wait_soa 3 ddi.test 60 || ddi_fail "server 3 restarted" "$(cat "$DDI_TMP/log3")"
    ddi_log "server 3 restarted on its store after change $c"
  fi
done
if [ "$refused" -eq 0 ]; then ddi_ok "every change of the stream was acknowledged ($acked)"
else ddi_fail "every change of the stream was acknowledged" "$acked acknowledged, $refused refused:
$(head -5 "$DDI_TMP/refused")"; fi

# answered NAME. A ADDR lines of server $1 for every expected name, sorted
answers() {
  awk '{print $1, $2}' "$EXP" >"$DDI_TMP/q"
  fleet_hub dig +norec +time=1 +tries=3 "@$(fleet_addr "$1")" -f "$DDI_TMP/q" +noall +answer 2>/dev/null |
    awk '$4 == "A" {print $1, $4, $5}' | sort -u
}
sort -u "$EXP" >"$DDI_TMP/exp.sorted"
for i in 1 2 3 4; do
  ok=
  for _ in $(seq 60); do
    if answers $i | cmp -s - "$DDI_TMP/exp.sorted"; then ok=1; break; fi
    sleep 1
  done
  got=$(answers $i | comm -12 - "$DDI_TMP/exp.sorted" | wc -l)
  if [ -n "$ok" ]; then ddi_ok "server $i answers all $acked acknowledged changes (dig against its dataplane)"
  else ddi_fail "server $i answers all $acked acknowledged changes (dig against its dataplane)" \
    "answered $got of $(wc -l <"$DDI_TMP/exp.sorted"); missing: $(answers $i | comm -13 - "$DDI_TMP/exp.sorted" | head -3)
$(why)"; fi
done
SN=$(serial 1 ddi.test || true)
for i in 2 3 4; do ddi_expect "server $i holds the primary's final serial" "$SN" "$(serial $i ddi.test)"; done
ddi_expect "the synthesized PTR of an allocation is answered by server 4" "alloc$((N - N % 20)).ddi.test." \
  "$(fleet_hub dig +norec +short "@$(fleet_addr 4)" -x "$(awk -v n="alloc$((N - N % 20)).ddi.test." '$1 == n {print $3}' "$EXP")" PTR)"

ddi_log "the restarted secondary caught up by IXFR"
ddi_expect_match "server 3 held ddi.test before the kill" 'ddi\.test\.: (AXFR|IXFR), serial' "$(cat "$DDI_TMP/log3.before")"
ddi_expect_match "after the restart server 3 took ddi.test by IXFR" 'ddi\.test\.: IXFR, serial' "$(cat "$DDI_TMP/log3")"
ddi_expect "and by no AXFR" "" "$(grep -E 'ddi\.test\.: AXFR' "$DDI_TMP/log3" || true)"
ddi_expect "server 3's zone list: last transfer IXFR" "IXFR" \
  "$(ctl 3 --json zone list | jq -r '.arguments.zones[] | select(.zone == "ddi.test.") | .last_transfer')"
ixfr1=$(xc ixfr)
if [ "$ixfr1" -gt "$ixfr0" ]; then ddi_ok "the primary served IXFR ($ixfr0 -> $ixfr1 during the stream)"
else ddi_fail "the primary served IXFR" "$ixfr0 -> $ixfr1"; fi
echo "primary's transfer counters: $(ctl 1 --json stats | jq -c '.arguments.xfr')"

ddi_log "a refresh by the timer's path (an SOA query first, signed: over TCP) finds server 2 current"
zfield() { ctl 2 --json zone list | jq -r --arg f "$1" '.arguments.zones[] | select(.zone == "ddi.test.") | .[$f]'; }
lr0=$(zfield last_refresh)
sleep 1.1   # last_refresh has one-second steps
ctl 2 zone refresh ddi.test. >/dev/null
for ((k = 0; k < 40; k++)); do [ "$(zfield last_refresh)" -gt "$lr0" ] && break; sleep 0.25; done
if [ "$(zfield last_refresh)" -gt "$lr0" ]; then ddi_ok "server 2 refreshed ddi.test by its SOA query"
else ddi_fail "server 2 refreshed ddi.test by its SOA query" "$(ctl 2 zone list; tail -5 "$DDI_TMP/log2")"; fi
ddi_expect "server 2: no refresh error" "" "$(zfield last_error)"
ddi_expect "server 2's log: no failed refresh of ddi.test" "" "$(grep 'ddi\.test\.: refresh failed' "$DDI_TMP/log2" || true)"

ddi_log "transfers need the key: unsigned refused, signed served"
out=$(fleet_hub dig +time=3 +tries=1 "@$P" ddi.test AXFR 2>&1 || true)
ddi_expect_match "an unsigned AXFR from the fleet's prefix: refused" 'Transfer failed|REFUSED' "$out"
out=$(fleet_hub dig +time=3 +tries=1 -y "$XKEY" "@$P" ddi.test AXFR 2>&1 || true)
ddi_expect_match "AXFR signed with xfr.fleet.: the zone, signed" 'alloc[0-9]+\.ddi\.test\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+198\.18\.' "$(tr '\n' ' ' <<<"$out")"
ddi_expect_match "AXFR signed with xfr.fleet.: its TSIG verified by dig" 'xfr\.fleet\..*TSIG' "$out"
for i in 1 2 3 4; do
  ddi_alive "${FLEET_PID[$i]}" && ddi_ok "server $i still runs" || ddi_fail "server $i still runs" "$(tail "$DDI_TMP/log$i")"
done

ddi_summary
