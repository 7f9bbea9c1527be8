#!/usr/bin/env bash
# systemd.sh -- the unit verifies, and ddiplane speaks sd_notify: READY=1 only once it answers, WATCHDOG=1 while
# healthy, STOPPING=1 on SIGTERM (through a notify socket of the test's own, as systemd would give it); under a
# running systemd also as a transient Type=notify unit.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

S4=198.18.0.1
DB=$DDI_TMP/db

ddi_log "share/systemd/ddiplane.service verifies"
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/ddiplane|$DDI_BUILDDIR/ddiplane|" "$DDI_SRCDIR/share/systemd/ddiplane.service" \
    >"$DDI_TMP/ddiplane.service"
  out=$(systemd-analyze verify "$DDI_TMP/ddiplane.service" 2>&1); rc=$?
  ddi_expect "systemd-analyze verify: exit 0" 0 "$rc"
  ddi_expect "systemd-analyze verify: no warning" "" "$out"
  ddi_expect_match "the unit is Type=notify with a watchdog" '^WatchdogSec=' \
    "$(grep -E '^(Type|WatchdogSec)=' "$DDI_SRCDIR/share/systemd/ddiplane.service" | sort)"
  ddi_expect_match "the unit runs as its own user" '^User=ddiplane$' "$(cat "$DDI_SRCDIR/share/systemd/ddiplane.service")"
else
  ddi_fail "systemd-analyze is installed (scripts/deps.sh)"
fi

ddi_log "sd_notify through a notify socket: READY once answering, WATCHDOG while healthy, STOPPING"
ddi_db_default "$DB"
ddi_ns_setup
NSOCK=$DDI_TMP/notify.sock
# the listener records every datagram with the time it came, until STOPPING=1 (at most 60 s)
python3 - "$NSOCK" "$DDI_TMP/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as f:
    try:
        while True:
            m = s.recv(4096).decode()
            f.write("%.6f %s\n" % (time.time(), m.replace("\n", " ")))
            f.flush()
            if "STOPPING=1" in m:
                break
    except socket.timeout:
        pass
PY
LISTENER=$!
_DDI_PIDS+=("$LISTENER")
for _ in $(seq 50); do [ -S "$NSOCK" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$NSOCK WATCHDOG_USEC=1000000 ddi_start --db "$DB" --address $S4/24
# READY=1 must not come before the server answers: the first answer is asked right after it
for _ in $(seq 300); do grep -q 'READY=1' "$DDI_TMP/notify.log" 2>/dev/null && break; sleep 0.1; done
ddi_expect_match "READY=1 sent" 'READY=1' "$(cat "$DDI_TMP/notify.log")"
ddi_expect "answering at READY" "198.18.0.10" "$(ddi_cli dig +short +time=1 +tries=1 @$S4 www.ddi.test A)"
sleep 2.2
n=$(grep -c 'WATCHDOG=1' "$DDI_TMP/notify.log" || true)
ddi_expect_match "WATCHDOG=1 every half period while healthy (1 s watchdog: at least 3 in 2.2 s, got $n)" '^([3-9]|[1-9][0-9]+)$' "$n"
ddi_stop
wait "$LISTENER" 2>/dev/null || true
ddi_expect_match "STOPPING=1 on SIGTERM" 'STOPPING=1' "$(cat "$DDI_TMP/notify.log")"
ddi_expect "ddiplane exits 0" 0 "$DDI_EXIT"

ddi_log "without NOTIFY_SOCKET nothing is sent (and the server runs as before); --log-level per subsystem"
ddi_start --db "$DB" --address $S4/24 --control "$DDI_TMP/ctl.sock" --log stderr --log-level info,follow=notice
ddi_wait_answer $S4 ddi.test 30
for _ in $(seq 50); do [ -S "$DDI_TMP/ctl.sock" ] && break; sleep 0.1; done
"$DDI_BUILDDIR/ddictl" -s "$DDI_TMP/ctl.sock" record add quiet.ddi.test. 60 A 198.18.0.61 >/dev/null
ddi_expect "the change is answered" "198.18.0.61" "$(ddi_cli dig +short +time=2 +tries=2 @$S4 quiet.ddi.test A)"
ddi_expect "follow=notice: the change is not logged" 0 "$(grep -c 'quiet\.ddi\.test' "$DDI_LOG" || true)"
ddi_stop
ddi_expect "ddiplane exits 0 without systemd" 0 "$DDI_EXIT"

if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null; then
  ddi_log "a transient Type=notify unit under the running systemd"
  unit=ddiplane-test-$DDI_ID
  systemd-run --unit "$unit" --property Type=notify --property NotifyAccess=main --wait --collect \
    --property TimeoutStartSec=60 ip netns exec "$DDI_NS_SRV" "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge \
    -m 512 --no-shconf --no-pci --file-prefix ddiu$DDI_ID --vdev net_af_packet0,iface=ddi-s -- \
    --db "$DB" --address $S4/24 >/dev/null 2>&1 &
  for _ in $(seq 600); do
    [ "$(systemctl is-active "$unit" 2>/dev/null)" = active ] && break
    sleep 0.1
  done
  ddi_expect "the unit reaches active (READY)" active "$(systemctl is-active "$unit" 2>/dev/null)"
  ddi_expect "and answers" "198.18.0.10" "$(ddi_cli dig +short +time=1 +tries=3 @$S4 www.ddi.test A)"
  systemctl stop "$unit" 2>/dev/null || true
else
  echo "skipped: the transient unit part (no systemd is running on this machine)"
fi
ddi_summary
