#!/usr/bin/env bash
# restore.sh -- backup and restore: a restored store serves the same answers as the original at the backup;
# a restore is refused while a server runs on the target, refuses a backup that does not check, and keeps
# the replaced store.
. "$(dirname "$0")/lib.sh"
ddi_need_root
trap ddi_cleanup EXIT

CTL="$DDI_BUILDDIR/ddictl"
DB=$DDI_TMP/db
SOCK=$DDI_TMP/ctl.sock
S4=198.18.0.1
ddi_db_default "$DB"
ddi_ns_setup

start() {
  ddi_start --db "$DB" --control "$SOCK" --address $S4/24 --address 2001:2::1/64
  ddi_wait_answer $S4 ddi.test 30
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
}
# the answers a client sees for a fixed list of questions, one line each
answers() {
  local q
  for q in "www.ddi.test A" "ddi.test SOA" "ddi.test MX" "mail.ddi.test AAAA" "kept.ddi.test A" \
           "later.ddi.test A" "-x 198.18.0.70" "nothere.ddi.test A"; do
    # shellcheck disable=SC2086
    printf '%s: %s\n' "$q" "$(ddi_cli dig +time=2 +tries=2 +noall +answer +comments @$S4 $q |
      grep -E 'status:|IN' | sed 's/, id: [0-9]*//' | sort | tr '\n' ' ')"
  done
}

ddi_log "a server with data, a backup through its socket"
start
"$CTL" -s "$SOCK" record add kept.ddi.test. 300 A 198.18.0.70 >/dev/null
"$CTL" -s "$SOCK" key add restore.key. >/dev/null
before=$(answers)
out=$("$CTL" -s "$SOCK" backup "$DDI_TMP/bk")
ddi_expect_match "backup through the socket" 'backup of the store at journal seq [0-9]+' "$out"
"$CTL" -s "$SOCK" record add later.ddi.test. 300 A 198.18.0.71 >/dev/null
"$CTL" -s "$SOCK" record delete kept.ddi.test. A >/dev/null
changed=$(answers)
[ "$before" != "$changed" ] && ddi_ok "the answers changed after the backup" ||
  ddi_fail "the answers changed after the backup" "$changed"

ddi_log "restore while the server runs: refused, nothing touched"
out=$("$CTL" --db "$DB" restore "$DDI_TMP/bk" --replace 2>&1) && ddi_fail "restore under a running server is refused" "$out" ||
  ddi_expect_match "restore under a running server is refused, naming the server" \
    "restore refused: a server runs on $DB \\(pid $DDI_PID" "$out"
ddi_expect "the running server's answers are unchanged" "$changed" "$(answers)"
out=$("$CTL" --db "$DB" restore "$DDI_TMP/bk" 2>&1) && ddi_fail "restore over a store without --replace is refused" "$out" ||
  ddi_expect_match "restore over a store without --replace is refused" 'already holds a store: give --replace' "$out"

ddi_log "a second server on the same store is refused"
out=$(ip netns exec "$DDI_NS_SRV" "$DDI_BUILDDIR/ddiplane" -l 0,1 --no-huge -m 256 --no-shconf --no-pci \
      --file-prefix ddi2$DDI_ID --vdev net_null0 -- --db "$DB" --control "$DDI_TMP/ctl2.sock" \
      --address 198.18.0.9/24 2>&1) && ddi_fail "a second server on one store is refused" "$out" ||
  ddi_expect_match "a second server on one store is refused" "a server runs on $DB \\(pid $DDI_PID" "$out"

ddi_log "a backup that does not check is refused"
mkdir -p "$DDI_TMP/bad"
cp "$DDI_TMP/bk/data.mdb" "$DDI_TMP/bad/data.mdb"
# overwrite the middle of the file: pages that do not parse, or a journal that does not
size=$(stat -c %s "$DDI_TMP/bad/data.mdb")
dd if=/dev/urandom of="$DDI_TMP/bad/data.mdb" bs=4096 seek=$((size / 4096 / 2)) count=2 conv=notrunc 2>/dev/null
ddi_stop
ip -n "$DDI_NS_SRV" link del ddi0 2>/dev/null || true
out=$("$CTL" --db "$DDI_TMP/target-bad" restore "$DDI_TMP/bad" 2>&1) && ddi_fail "a damaged backup is refused" "$out" ||
  ddi_expect_match "a damaged backup is refused with the reason" 'restore refused: backup .*bad does not check' "$out"
[ -e "$DDI_TMP/target-bad" ] && ddi_fail "a refused restore creates nothing" "$(ls -la "$DDI_TMP/target-bad")" ||
  ddi_ok "a refused restore creates nothing"
out=$("$CTL" --db "$DB" restore "$DDI_TMP/nosuch" --replace 2>&1) && ddi_fail "a missing backup is refused" ||
  ddi_expect_match "a missing backup is refused" 'restore refused: backup .*nosuch does not check: no store' "$out"

ddi_log "restore with the server stopped, then serve"
out=$("$CTL" --db "$DB" restore "$DDI_TMP/bk" --replace)
ddi_expect_match "restore reports what it checked" "^restored $DB from $DDI_TMP/bk: journal seq [0-9]+ \\([0-9]+ entries\\), 3 zones, [0-9]+ records, 1 keys" "$out"
ddi_expect_match "the replaced store is kept" "kept in $DB\\.replaced-" "$out"
old=$(sed -n 's/^the replaced store is kept in //p' <<<"$out")
ddi_expect_match "the replaced store still holds the later change" '^later\.ddi\.test\.' \
  "$("$CTL" --db "$old" record get later.ddi.test. A 2>&1)"
start
ddi_expect "the restored server answers as the original did at the backup" "$before" "$(answers)"
ddi_expect_match "the key of the backup is there" 'restore\.key\.' "$("$CTL" -s "$SOCK" key list)"
out=$("$CTL" -s "$SOCK" record add after.ddi.test. 60 A 198.18.0.72)
ddi_expect_match "the restored store takes changes" '^added after\.ddi\.test\.' "$out"
ddi_expect "and serves them" "198.18.0.72" "$(ddi_cli dig +short +time=2 +tries=2 @$S4 after.ddi.test A)"
ddi_stop
ddi_summary
