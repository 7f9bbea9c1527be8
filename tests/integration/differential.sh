#!/usr/bin/env bash
# differential.sh -- ddiplane's answer function against Knot DNS on the same zones, query by query
#
# Knot DNS (knotd from Debian) runs with its own temporary configuration,
# storage and run directory, on 127.0.0.1 and a free high port; it is
# started here and killed by its pid. tests/tools/zoneanswer loads the same
# master files into a ddiplane index, sends each generated question to knotd
# and answers the same bytes with answer_message(); any difference prints
# the question and both responses and fails the test. What is compared and
# which differences the RFCs allow is written at the top of
# tests/tools/zoneanswer.c.
set -euo pipefail

builddir="${DDI_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}"
tool="$builddir/tests/tools/zoneanswer"
[ -x "$tool" ] || { echo "differential: $tool not built" >&2; exit 1; }
if ! command -v knotd >/dev/null 2>&1; then
	echo "differential: knotd not installed (scripts/deps.sh), skipping"
	exit 77
fi

tmp=$(mktemp -d /tmp/ddi-differential.XXXXXX)
knot_pid=
cleanup() {
	if [ -n "$knot_pid" ] && kill -0 "$knot_pid" 2>/dev/null; then
		kill "$knot_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$knot_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$knot_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- the zones ---------------------------------------------------------------
# Wildcards (RFC 4592 examples: a wildcard does not apply below an existing
# name nor at an empty non-terminal), a CNAME chain, CNAMEs that end out of
# the zone, in NXDOMAIN and in a wildcard, a delegation with glue, empty
# non-terminals, mixed-case owners, a TXT RRset too large for 512 bytes,
# MX and SRV with in-zone targets, reverse zones with explicit PTRs.
cat > "$tmp/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
@       IN NS  ns1
@       IN NS  ns2.example.net.
@       IN MX  10 mail
@       IN MX  20 mail2.example.net.
@       IN A   192.0.2.1
@       IN TXT "v=spf1 -all"
ns1     IN A   192.0.2.53
ns1     IN AAAA 2001:db8::53
mail    IN A   192.0.2.25
mail    IN AAAA 2001:db8::25
WwW     IN A   192.0.2.80
www     IN AAAA 2001:db8::80
Mixed.Case IN A 192.0.2.81
UPPER.case.Sub2 600 IN TXT "Mixed Case Data"
alias   IN CNAME www
chain1  IN CNAME chain2
chain2  IN CNAME chain3
chain3  IN CNAME www
dangling IN CNAME nothere
outside IN CNAME www.example.org.
towild  IN CNAME foo.wild
tonodata IN CNAME ns1
toreverse IN CNAME 80.2.0.192.in-addr.arpa.
*.wild  IN A   192.0.2.100
*.wild  IN TXT "wildcard"
exists.wild IN A 192.0.2.101
sub.exists.wild IN TXT "below"
*.cwild IN CNAME www
*       IN MX  10 mail
a.b.c.ent IN A 192.0.2.102
_sip._udp IN SRV 10 60 5060 sip
_sip._udp IN SRV 20 60 5060 mail
sip     IN A   192.0.2.60
sub     IN NS  ns1.sub
sub     IN NS  ns.example.net.
ns1.sub IN A   192.0.2.54
ns1.sub IN AAAA 2001:db8::54
deep.sub IN A  192.0.2.55
big     IN TXT "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "1123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
big     IN TXT "2123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
bigalias IN CNAME big
multi   IN A 192.0.2.11
multi   IN A 192.0.2.12
multi   IN A 192.0.2.13
caa     IN CAA 0 issue "ca.example.net"
ZONE

cat > "$tmp/2.0.192.in-addr.arpa.zone" <<'ZONE'
$ORIGIN 2.0.192.in-addr.arpa.
$TTL 3600
@   IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 600
@   IN NS  ns1.example.com.
80  IN PTR www.example.com.
200 IN PTR unowned.example.com.
201 IN PTR Unowned-Two.Example.COM.
202 IN CNAME 202.128/26
128/26 IN NS ns1.example.com.
ZONE

cat > "$tmp/8.b.d.0.1.0.0.2.ip6.arpa.zone" <<'ZONE'
$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
$TTL 1800
@   IN SOA ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 900
@   IN NS  ns1.example.com.
0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR www.example.com.
f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR unowned6.example.com.
ZONE

zones=(example.com. 2.0.192.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa.)

# --- knotd ------------------------------------------------------------------
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! ss -Hlun "sport = :$p" | grep -q . && ! ss -Hltn "sport = :$p" | grep -q .; then
		port=$p
		break
	fi
done
[ -n "$port" ] || { echo "differential: no free port" >&2; exit 1; }

mkdir -p "$tmp/run" "$tmp/db"
{
	echo "server:"
	echo "    listen: 127.0.0.1@$port"
	echo "    rundir: $tmp/run"
	echo "database:"
	echo "    storage: $tmp/db"
	echo "template:"
	echo "  - id: default"
	echo "    storage: $tmp"
	echo "    semantic-checks: off"
	echo "    zonefile-sync: -1"
	echo "    zonefile-load: whole"
	echo "    journal-content: none"
	echo "zone:"
	for z in "${zones[@]}"; do
		echo "  - domain: $z"
		echo "    file: $tmp/$z""zone"
	done
} > "$tmp/knot.conf"
knotc -c "$tmp/knot.conf" conf-check >/dev/null

knotd -c "$tmp/knot.conf" > "$tmp/knotd.log" 2>&1 &
knot_pid=$!
ready=
for _ in $(seq 600); do   # up to 60 s: knotd starts slowly on a loaded machine
	if grep -q "server started" "$tmp/knotd.log" &&
	   [ "$(grep -c '] loaded, serial' "$tmp/knotd.log")" -ge "${#zones[@]}" ]; then
		ready=1
		break
	fi
	kill -0 "$knot_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "differential: knotd did not start" >&2
	cat "$tmp/knotd.log" >&2
	exit 1
fi

# --- compare ----------------------------------------------------------------
args=()
for z in "${zones[@]}"; do
	args+=(-z "$z=$tmp/$z""zone")
done
# Reverse names of addresses that A/AAAA records hold but no PTR names:
# ddiplane synthesizes them and the tool skips them (counted as skipped).
args+=(-n 1.2.0.192.in-addr.arpa. -n 25.2.0.192.in-addr.arpa.)
args+=(-n 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.)
# and addresses nobody holds, answered alike
args+=(-n 99.2.0.192.in-addr.arpa. -n 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.)
"$tool" -s 127.0.0.1 -p "$port" "${args[@]}" ${DIFFERENTIAL_VERBOSE:+-v}
