#!/usr/bin/env bash
# ddictl_db -- ddictl --db end to end with the real binary: import, export, errors that change nothing, journal
set -euo pipefail

BUILD=${DDI_BUILDDIR:?DDI_BUILDDIR not set}
CTL="$BUILD/ddictl"
[ -x "$CTL" ] || { echo "no $CTL"; exit 1; }

T=$(mktemp -d /tmp/ddictl-db.XXXXXX)
trap 'rm -rf "$T"' EXIT
DB="$T/db"
ME="unix:$(id -un 2>/dev/null || echo "uid=$(id -u)")"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { # check NAME COMMAND...: passes when COMMAND succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# run CMD...: sets $rc, $out, $err
run() {
	set +e
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

# A master file as people write them: relative names, $TTL, parentheses,
# comments, owner inheritance, TTL units, quoted strings.
cat >"$T/example.com.zone" <<'EOF'
$ORIGIN example.com.
$TTL 1h
@   IN  SOA ns1 hostmaster (
            2024010101 ; serial
            3600       ; refresh
            900        ; retry
            1209600    ; expire
            300 )      ; minimum
    IN  NS  ns1
    IN  NS  ns2.example.com.
    IN  MX  10 mail
ns1         IN A     198.18.0.1
ns2     300 IN A     198.18.0.2
            IN AAAA  2001:2::2
www     5m  IN A     198.18.0.10
www     5m  IN A     198.18.0.11
mail        IN A     198.18.0.20
ftp         IN CNAME www
txt         IN TXT   "hello world" "second string"
_sip._tcp   IN SRV   10 20 5060 www
*.wild      IN A     198.18.0.30
EOF

# What the export must hold (sorted): absolute names, one record per line.
sort >"$T/expected" <<'EOF'
example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 3600 900 1209600 300
example.com. 3600 IN NS ns1.example.com.
example.com. 3600 IN NS ns2.example.com.
example.com. 3600 IN MX 10 mail.example.com.
ns1.example.com. 3600 IN A 198.18.0.1
ns2.example.com. 300 IN A 198.18.0.2
ns2.example.com. 3600 IN AAAA 2001:2::2
www.example.com. 300 IN A 198.18.0.10
www.example.com. 300 IN A 198.18.0.11
mail.example.com. 3600 IN A 198.18.0.20
ftp.example.com. 3600 IN CNAME www.example.com.
txt.example.com. 3600 IN TXT "hello world" "second string"
_sip._tcp.example.com. 3600 IN SRV 10 20 5060 www.example.com.
*.wild.example.com. 3600 IN A 198.18.0.30
EOF

# --- import, export, compare ------------------------------------------------
run "$CTL" --db "$DB" zone import example.com. "$T/example.com.zone"
check "zone import exits 0" [ "$rc" -eq 0 ]
check "zone import reports serial and size" grep -q "serial 2024010101, 12 RRsets, 14 records" "$T/out"

run "$CTL" --db "$DB" zone export example.com.
check "zone export exits 0" [ "$rc" -eq 0 ]
cp "$T/out" "$T/export1"
sort "$T/export1" >"$T/export1.sorted"
check "export equals the input records" cmp -s "$T/export1.sorted" "$T/expected"
check "export starts with the SOA" bash -c "head -1 '$T/export1' | grep -q ' IN SOA '"

run "$CTL" --db "$DB" --json zone export example.com.
check "zone export --json: SOA first, every record" bash -c "[ \$(grep -c '\"rdata\"' '$T/out') -eq 14 ] && grep -m1 '\"type\"' '$T/out' | grep -q SOA"

# The export is a master file: it imports into a fresh store and exports the same.
run "$CTL" --db "$T/db2" zone import example.com. "$T/export1"
check "the export imports again" [ "$rc" -eq 0 ]
run "$CTL" --db "$T/db2" zone export example.com.
check "second export is byte-identical" cmp -s "$T/out" "$T/export1"

# --- a syntax error in line 7 names file:7, exits 1, changes nothing -----------
cat >"$T/broken.zone" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@    IN SOA ns1 hostmaster 2024010102 3600 900 1209600 300
@    IN NS  ns1
ns1  IN A   198.18.0.1
new  IN A   198.18.0.99
bad  IN A   198.18.0.256
EOF
run "$CTL" --db "$DB" zone import example.com. "$T/broken.zone"
check "syntax error exits 1" [ "$rc" -eq 1 ]
check "syntax error names file:7" grep -qF "$T/broken.zone:7:" "$T/err"
run "$CTL" --db "$DB" zone export example.com.
check "previous zone intact after the syntax error" cmp -s "$T/out" "$T/export1"

# A validation error (CNAME beside data) is refused whole, naming the record.
printf '@ IN SOA a b 5 1 1 1 1\nwww IN A 198.18.0.1\nwww IN CNAME x\n' >"$T/cname.zone"
run "$CTL" --db "$DB" zone import example.com. "$T/cname.zone"
check "CNAME conflict exits 1" [ "$rc" -eq 1 ]
check "CNAME conflict names the owner" grep -q "www.example.com.: a CNAME" "$T/err"
printf '@ IN SOA a b 5 1 1 1 1\n$INCLUDE /etc/hostname\n' >"$T/include.zone"
run "$CTL" --db "$DB" zone import example.com. "$T/include.zone"
check "\$INCLUDE refused" [ "$rc" -eq 1 ]
run "$CTL" --db "$DB" zone export example.com.
check "previous zone intact after refused imports" cmp -s "$T/out" "$T/export1"

# --- records ------------------------------------------------------------------
run "$CTL" --db "$DB" record add host1.example.com. 60 A 198.18.0.50
check "record add exits 0" [ "$rc" -eq 0 ]
run "$CTL" --db "$DB" record add note.example.com 60 TXT "two words"
check "record add TXT with a space" [ "$rc" -eq 0 ]
run "$CTL" --db "$DB" record get note.example.com. TXT
check "record get shows the TXT as one string" [ "$out" = 'note.example.com. 60 IN TXT "two words"' ]
run "$CTL" --db "$DB" --json record get host1.example.com.
check "record get --json" grep -q '"rdata": "198.18.0.50"' "$T/out"
run "$CTL" --db "$DB" zone export example.com.
check "serial advanced by one per change" grep -q "IN SOA ns1.example.com. hostmaster.example.com. 2024010103 " "$T/out"
run "$CTL" --db "$DB" record add other.example.org. 60 A 198.18.0.51
check "record outside every zone exits 1" [ "$rc" -eq 1 ]
run "$CTL" --db "$DB" record delete host1.example.com. A 198.18.0.50
check "record delete exits 0" [ "$rc" -eq 0 ]
run "$CTL" --db "$DB" record get host1.example.com.
check "deleted record is gone" [ "$rc" -eq 1 ]

# --- zones ---------------------------------------------------------------------
run "$CTL" --db "$DB" zone add test.example. --ns ns1.test.example. --ns ns2.test.example.
check "zone add exits 0" [ "$rc" -eq 0 ]
run "$CTL" --db "$DB" zone list
check "zone list shows both zones" bash -c "grep -q '^example.com. ' '$T/out' && grep -q '^test.example. ' '$T/out'"
run "$CTL" --db "$DB" --json zone list
check "zone list --json" grep -q '"zone": "test.example."' "$T/out"
run "$CTL" --db "$DB" zone remove test.example.
check "zone remove exits 0" [ "$rc" -eq 0 ]
run "$CTL" --db "$DB" zone export test.example.
check "removed zone is gone" [ "$rc" -eq 1 ]

# --- journal -------------------------------------------------------------------
run "$CTL" --db "$DB" journal
check "journal exits 0" [ "$rc" -eq 0 ]
check "journal lists the import with the actor" \
	bash -c "grep -E '^1 +[0-9T:-]+Z +$ME ' '$T/out' >/dev/null"
check "journal shows the zone-replace op" grep -q "zone-replace *example.com." "$T/out"
check "refused imports took no journal seq" \
	bash -c "grep -E '^2 ' -A1 '$T/out' | grep -q 'rr-add *example.com. *host1.example.com.'"
run "$CTL" --db "$DB" --json journal --since 2 --limit 1
check "journal --json --since --limit" bash -c "grep -q '\"seq\": 2' '$T/out' && ! grep -q '\"seq\": 1,' '$T/out' && grep -q '\"actor\": \"$ME\"' '$T/out'"

# --- usage and the reserved socket option ----------------------------------------
run "$CTL" --db "$DB" zone import example.com.
check "missing argument exits 2" [ "$rc" -eq 2 ]
run "$CTL" zone list
check "no --db exits 2" [ "$rc" -eq 2 ]
run "$CTL" -s "$T/ctl.sock" zone list
check "-s without a server exits 1 naming the socket" bash -c "[ $rc -eq 1 ] && grep -q 'cannot connect to $T/ctl.sock' '$T/err'"
run "$CTL" --db "$T/nothing" zone list
check "missing store exits 1" [ "$rc" -eq 1 ]
run "$CTL" zone import --help
check "subcommand --help" bash -c "[ $rc -eq 0 ] && grep -q 'SYNOPSIS' '$T/out'"

# --- progress of long work: on a terminal only -----------------------------------
python3 -c "
print('\$ORIGIN big.test.\n\$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 198.18.0.1')
for i in range(50000): print('h%d A 198.18.%d.%d' % (i, (i >> 8) & 255, i & 255))
" >"$T/big.zone"
run script -qec "$CTL --db $T/pdb zone import big.test. $T/big.zone" /dev/null
check "on a terminal: progress with the count, the total, the rate" \
  grep -Eq 'ddictl: zone-import: [0-9]+ of about 50005 records read, [0-9]+/s' "$T/out"
check "on a terminal: the result after the progress" grep -q 'zone big.test. imported: serial 1, 50003 RRsets' "$T/out"
run "$CTL" --db "$T/pdb2" zone import big.test. "$T/big.zone"
check "not a terminal: no progress, only the result" \
  bash -c "! grep -q 'records read' '$T/out' '$T/err' && grep -q 'imported: serial 1, 50003 RRsets' '$T/out'"
run script -qec "$CTL --db $T/pdb backup $T/pdb-backup" /dev/null
check "backup on a terminal: progress in bytes, then the result" \
  bash -c "grep -Eq 'ddictl: backup: [0-9]+ of about [0-9]+ bytes copied, [0-9]+/s, done' '$T/out' && grep -q 'backup of the store at journal seq 1' '$T/out'"
run script -qec "$CTL --json --db $T/pdb3 zone import big.test. $T/big.zone" /dev/null
check "--json on a terminal: no progress" bash -c "! grep -q 'records read' '$T/out'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
