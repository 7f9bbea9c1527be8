#!/usr/bin/env bash
# lifecycle.sh -- the DDI lifecycle end to end: RFC 9664 update leases (expiry through the dataplane, IPAM allocation and PTR gone, refresh, restart), aging and scavenging, the stale report, history and revert
#
# ddiplane runs in its own namespace (lib.sh); updates come from the client
# namespace, sent by tests/integration/leaseupdate.py (nsupdate cannot send
# the Update Lease option) and by nsupdate; every answer is checked with dig
# through the dataplane.
. "$(dirname "$0")/lib.sh"
ddi_need_root
for t in dig nsupdate python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps.sh installs it)"; exit 77; }
done
for b in ddiplane ddictl; do
  [ -x "$DDI_BUILDDIR/$b" ] || { echo "build $b first"; exit 1; }
done

CTL="$DDI_BUILDDIR/ddictl"
LU="python3 $DDI_SRCDIR/tests/integration/leaseupdate.py"
S4=198.18.0.1
SOCK="$DDI_TMP/ctl.sock"
DB="$DDI_TMP/db"

ddi_log "store: sample zones, a key for dyn.ddi.test., IPAM prefix with policy auto"
ddi_db_default "$DB"
K=$("$CTL" --db "$DB" key add lease.key. 2>/dev/null)
"$CTL" --db "$DB" policy add lease.key. grant subdomain dyn.ddi.test. A AAAA \
  --prefix 198.18.0.0/24 --lease-max 3600 >/dev/null
"$CTL" --db "$DB" prefix add 198.18.0.0/24 --zone ddi.test. --policy auto >/dev/null
ddi_expect_match "policy list shows the lease bound" 'lease\.key\. +0  grant subdomain dyn\.ddi\.test\. A AAAA --prefix 198\.18\.0\.0/24 --lease-max 3600' \
  "$("$CTL" --db "$DB" policy list)"

ddi_ns_setup
start() {
  ddi_start --db "$DB" --address $S4/24 --control "$SOCK" --idle-sleep-us 20 --sweep-interval-ms 200 \
    --metrics 127.0.0.1:9153
  ddi_wait_answer $S4 ddi.test 60
}
start

# answers only (a retry's ";; communications error" line on a loaded machine is not an answer)
short() { ddi_cli dig +norec +time=1 +tries=3 +short "@$S4" "$@" 2>/dev/null | grep -v '^;;' | sort; }
status() { ddi_cli dig +norec +time=1 +tries=2 "@$S4" "$@" 2>&1 | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
lu() { ddi_cli timeout 20 $LU $S4 "$K" ddi.test. "$@"; }
alloc_state() { "$CTL" -s "$SOCK" address show "$1" | sed -n 's/^ *state *\([a-z]*\).*/\1/p' | head -1; }
# wait_status SECONDS STATUS dig-args: poll until the answer's status is STATUS
wait_status() {
  local secs=$1 want=$2 i; shift 2
  for ((i = 0; i < secs * 5; i++)); do
    [ "$(status "$@")" = "$want" ] && return 0
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------------------
ddi_log "update leases (RFC 9664): grant, answer, expiry, refresh"
# elapsed: seconds since the first lease was granted (the checks below say when they ran)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
# until T: sleep until T seconds after t0
until_s() { sleep "$(awk -v a="$t0" -v t="$1" -v b="$(date +%s.%N)" 'BEGIN{d = a + t - b; printf "%.2f", (d > 0 ? d : 0)}')"; }
t0=$(date +%s.%N)
out=$(lu --lease 5 add l1.dyn.ddi.test. 300 A 198.18.0.91)
ddi_expect "a 5 s lease is granted as asked, in a signed response" "rcode=NOERROR lease=5 key_lease=- tsig=ok" "$out"
ddi_expect "the leased name answers through the dataplane (at $(elapsed) s)" 198.18.0.91 "$(short l1.dyn.ddi.test. A)"
ddi_expect "its PTR answers" l1.dyn.ddi.test. "$(short -x 198.18.0.91)"
ddi_expect "its address is a dynamic IPAM allocation" dynamic "$(alloc_state 198.18.0.91)"
out=$(lu --lease 30 add l2.dyn.ddi.test. 300 A 198.18.0.92)
ddi_expect "a second name with a 30 s lease" "rcode=NOERROR lease=30 key_lease=- tsig=ok" "$out"
if wait_status 15 NXDOMAIN l1.dyn.ddi.test. A; then
  ddi_ok "l1 is gone after its 5 s lease (at $(elapsed) s)"
else
  ddi_fail "l1 is gone after its 5 s lease" "$(short l1.dyn.ddi.test. A)"
fi
ddi_expect "l1's PTR is gone" NXDOMAIN "$(status -x 198.18.0.91)"
ddi_expect "l1's dynamic allocation is released" free "$(alloc_state 198.18.0.91)"
out=$(lu --lease 999999 --key-lease 10 add big.dyn.ddi.test. 300 A 198.18.0.93)
ddi_expect "a lease above the key's --lease-max is cut to it (KEY-LEASE too)" "rcode=NOERROR lease=3600 key_lease=10 tsig=ok" "$out"
out=$(lu --raw-option 000001 add bad.dyn.ddi.test. 300 A 198.18.0.94)
ddi_expect_match "a lease option of 3 bytes: FORMERR" '^rcode=FORMERR' "$out"
out=$(lu --raw-option 00000001000000020000000300 add bad.dyn.ddi.test. 300 A 198.18.0.94)
ddi_expect_match "a lease option of 13 bytes: FORMERR" '^rcode=FORMERR' "$out"
ddi_expect "a malformed lease changed nothing" NXDOMAIN "$(status bad.dyn.ddi.test. A)"
# a refresh before the end: l2 (30 s) refreshed at 12 s must outlive its first end (30 s)
until_s 12
out=$(lu --lease 30 add l2.dyn.ddi.test. 300 A 198.18.0.92)
ddi_expect "refresh of l2 (same record, new lease) granted at $(elapsed) s" "rcode=NOERROR lease=30 key_lease=- tsig=ok" "$out"
until_s 33
ddi_expect "l2, refreshed, still answers after its first lease ended (at $(elapsed) s)" 198.18.0.92 "$(short l2.dyn.ddi.test. A)"
ddi_expect "l2's PTR still answers" l2.dyn.ddi.test. "$(short -x 198.18.0.92)"
if wait_status 20 NXDOMAIN l2.dyn.ddi.test. A; then ddi_ok "l2 goes when its refreshed lease ends (at $(elapsed) s)"
else ddi_fail "l2 goes when its refreshed lease ends"; fi
ddi_expect "l2's allocation is released" free "$(alloc_state 198.18.0.92)"
j=$("$CTL" -s "$SOCK" journal --actor lease-expiry)
ddi_expect_match "the expiry is journaled with actor lease-expiry (records)" 'rrset-delete +ddi\.test\. +l1\.dyn\.ddi\.test\. +A' "$j"
ddi_expect_match "the expiry is journaled with actor lease-expiry (l2 too)" 'l2\.dyn\.ddi\.test\.' "$j"
ddi_expect "big.dyn (an hour's lease) still answers" 198.18.0.93 "$(short big.dyn.ddi.test. A)"

ddi_log "a record an operator rewrites loses its lease"
lu --lease 3 add op.dyn.ddi.test. 300 A 198.18.0.95 >/dev/null
"$CTL" -s "$SOCK" record replace op.dyn.ddi.test. 300 A 198.18.0.96 >/dev/null
sleep 4
ddi_expect "the operator's record outlives the lease it replaced" 198.18.0.96 "$(short op.dyn.ddi.test. A)"

ddi_log "leases survive a restart; what expired while the server was down goes at once"
lu --lease 300 add keep.dyn.ddi.test. 300 A 198.18.0.97 >/dev/null
lu --lease 5 add down.dyn.ddi.test. 300 A 198.18.0.98 >/dev/null
ddi_expect "down.dyn answers before the restart" 198.18.0.98 "$(short down.dyn.ddi.test. A)"
ddi_stop
sleep 6
st=$("$CTL" --db "$DB" stale --within 600)
ddi_expect_match "stale (server down): down.dyn's lease is past its time" 'expired: 1.*down\.dyn\.ddi\.test\. +A +lease' "$(tr '\n' ' ' <<<"$st")"
ddi_expect_match "stale (server down): keep.dyn's lease is still running" 'keep\.dyn\.ddi\.test\. +A +lease +in [0-9]+s' "$st"
start
if wait_status 5 NXDOMAIN down.dyn.ddi.test. A; then ddi_ok "the lease that ended while down expired at start"
else ddi_fail "the lease that ended while down expired at start"; fi
ddi_expect "keep.dyn's lease survived the restart: it answers" 198.18.0.97 "$(short keep.dyn.ddi.test. A)"
ddi_expect_match "keep.dyn's lease is still in the store" 'keep\.dyn\.ddi\.test\. +A +lease' "$("$CTL" -s "$SOCK" stale ddi.test --within 600)"

# ---------------------------------------------------------------------------
ddi_log "aging and scavenging (no-refresh 4 s, refresh 4 s)"
"$CTL" -s "$SOCK" record add static.dyn.ddi.test. 300 A 198.18.5.1 >/dev/null
nsu() {
  { printf 'server %s\nzone ddi.test.\n' $S4; cat; printf 'send\n'; } |
    ddi_cli timeout 20 nsupdate -y "$K" >/dev/null 2>&1 && echo ok
}
ddi_expect "zone aging on" "aging on" "$("$CTL" -s "$SOCK" zone aging ddi.test --no-refresh 4 --refresh 4)"
ddi_expect "zone aging shows it" "no-refresh 4s refresh 4s period 0s" "$("$CTL" -s "$SOCK" zone aging ddi.test)"
ddi_expect "nsupdate adds s2" ok "$(nsu <<<"update add s2.dyn.ddi.test. 300 A 198.18.0.82")"
ta=$(date +%s.%N)
ddi_expect "nsupdate adds s1" ok "$(nsu <<<"update add s1.dyn.ddi.test. 300 A 198.18.0.81")"
sleep 4.3
ddi_expect "nsupdate refreshes s1 after the no-refresh interval" ok "$(nsu <<<"update add s1.dyn.ddi.test. 300 A 198.18.0.81")"
# until s2's stamp is 8.5 s old: past both intervals; s1's (refreshed at 4.3 s or later) is not
sleep "$(awk -v a="$ta" -v b="$(date +%s.%N)" 'BEGIN{d = a + 8.5 - b; printf "%.2f", (d > 0 ? d : 0)}')"
dry=$("$CTL" -s "$SOCK" scavenge ddi.test --dry-run)
ddi_expect_match "dry run lists the unrefreshed s2" 's2\.dyn\.ddi\.test\. +A +refreshed' "$dry"
if grep -Eq 's1\.dyn|static\.dyn|keep\.dyn' <<<"$dry"; then ddi_fail "dry run lists neither refreshed nor static names" "$dry"
else ddi_ok "dry run lists neither refreshed nor static names"; fi
ddi_expect "dry run changed nothing: s2 answers" 198.18.0.82 "$(short s2.dyn.ddi.test. A)"
out=$("$CTL" -s "$SOCK" scavenge ddi.test)
ddi_expect_match "scavenge removes what the dry run listed" 'removed [1-9][0-9]* RRsets' "$out"
ddi_expect "s2 (not refreshed) is gone" NXDOMAIN "$(status s2.dyn.ddi.test. A)"
ddi_expect "s2's dynamic allocation is released" free "$(alloc_state 198.18.0.82)"
ddi_expect "s1 (refreshed) stays" 198.18.0.81 "$(short s1.dyn.ddi.test. A)"
ddi_expect "keep.dyn (not refreshed, but its lease runs) stays" 198.18.0.97 "$(short keep.dyn.ddi.test. A)"
ddi_expect "the static record stays" 198.18.5.1 "$(short static.dyn.ddi.test. A)"
ddi_expect "the sample zone's static records stay" 198.18.0.10 "$(short www.ddi.test. A)"
ddi_expect_match "scavenging is journaled with actor scavenger" 'scavenger.*s2\.dyn\.ddi\.test\.' \
  "$("$CTL" -s "$SOCK" journal --actor scavenger | tr '\n' ' ')"
ddi_log "periodic scavenging (--period 1)"
"$CTL" -s "$SOCK" zone aging ddi.test --no-refresh 1 --refresh 1 --period 1 >/dev/null
ddi_expect "nsupdate adds s3" ok "$(nsu <<<"update add s3.dyn.ddi.test. 300 A 198.18.0.83")"
if wait_status 8 NXDOMAIN s3.dyn.ddi.test. A; then ddi_ok "the server scavenges s3 by itself"
else ddi_fail "the server scavenges s3 by itself"; fi
ddi_expect "static records survive periodic scavenging" 198.18.5.1 "$(short static.dyn.ddi.test. A)"
m=$(ddi_srv curl -s --max-time 5 http://127.0.0.1:9153/metrics)
ddi_expect_match "metrics: RRsets removed by lease expiry since the restart" \
  '^ddiplane_lifecycle_removed_rrsets_total\{by="lease_expiry"\} [1-9]' "$m"
ddi_expect_match "metrics: RRsets the server's scavenger removed" \
  '^ddiplane_lifecycle_removed_rrsets_total\{by="scavenger"\} [1-9]' "$m"
ddi_expect_match "stats: the lifecycle counters" '"lease_expired_rrsets": [1-9]' \
  "$("$CTL" -s "$SOCK" --json stats)"
ddi_expect "zone aging --off" "aging off" "$("$CTL" -s "$SOCK" zone aging ddi.test --off)"
out=$("$CTL" -s "$SOCK" scavenge ddi.test 2>&1 || true)
ddi_expect_match "scavenge with aging off is refused with the reason" 'aging is off for ddi\.test\.' "$out"

# ---------------------------------------------------------------------------
ddi_log "stale report"
"$CTL" -s "$SOCK" alloc address 198.18.0.140 ghost.ddi.test >/dev/null
"$CTL" -s "$SOCK" record delete ghost.ddi.test A >/dev/null
st=$("$CTL" -s "$SOCK" stale 198.18.0.0/24)
ddi_expect_match "an allocation whose name no longer resolves" '198\.18\.0\.140 +ghost\.ddi\.test\. +static' "$st"
ddi_expect_match "an A record in an auto prefix without allocation" 'www\.ddi\.test\. +198\.18\.0\.10 +no allocation \(198\.18\.0\.0/24 auto\)' "$st"
if grep -q 'static\.dyn' <<<"$st"; then ddi_fail "the prefix filter leaves out 198.18.5.1" "$st"; else ddi_ok "the prefix filter leaves out 198.18.5.1"; fi

# ---------------------------------------------------------------------------
ddi_log "history and revert"
seqof() { sed -n 's/.*journal seq \([0-9]*\).*/\1/p' <<<"$1"; }
"$CTL" -s "$SOCK" record add h1.ddi.test. 300 A 198.18.5.11 >/dev/null
r=$("$CTL" -s "$SOCK" record replace h1.ddi.test. 600 A 198.18.5.12)
R=$(seqof "$r")
ddi_expect "h1 answers its new value" 198.18.5.12 "$(short h1.ddi.test. A)"
h=$("$CTL" -s "$SOCK" history h1.ddi.test)
ddi_expect_match "history shows the change with its actor" "seq $R .* unix:" "$h"
ddi_expect_match "history shows the old and the new value with TTLs" 'old 300 198\.18\.5\.11 +new 600 198\.18\.5\.12' "$(tr -s ' \n' ' ' <<<"$h")"
out=$("$CTL" -s "$SOCK" revert "$R")
ddi_expect_match "revert $R is itself a journaled change" "^reverted $R as [0-9]+" "$out"
V=$(sed -n 's/^reverted [0-9]* as \([0-9]*\).*/\1/p' <<<"$out")
ddi_expect "revert restores the previous answer" 198.18.5.11 "$(short h1.ddi.test. A)"
ddi_expect_match "revert restores the previous TTL" '\s300\s+IN\s+A\s+198\.18\.5\.11' "$(ddi_cli dig +norec +noall +answer "@$S4" h1.ddi.test. A)"
ddi_expect_match "the revert's journal entry names it and who" "^ *$V .*revert:$R by unix:" "$("$CTL" -s "$SOCK" journal --name h1.ddi.test.)"
ddi_expect_match "history shows the revert" "seq $V .*revert:$R by unix:" "$("$CTL" -s "$SOCK" history h1.ddi.test)"
r2=$("$CTL" -s "$SOCK" record replace h1.ddi.test. 300 A 198.18.5.13)
R2=$(seqof "$r2")
"$CTL" -s "$SOCK" record replace h1.ddi.test. 300 A 198.18.5.14 >/dev/null
out=$("$CTL" -s "$SOCK" revert "$R2" 2>&1 || true)
ddi_expect_match "a revert after the data moved on is refused with the reason" 'h1\.ddi\.test\. A changed again in [0-9]+ after [0-9]+: the data moved on' "$out"
ddi_expect "the refused revert changed nothing" 198.18.5.14 "$(short h1.ddi.test. A)"
out=$("$CTL" -s "$SOCK" revert 999999 2>&1 || true)
ddi_expect_match "a revert of an unknown entry is refused" 'no journal entry 999999' "$out"

ddi_summary
