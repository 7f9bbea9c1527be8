#!/usr/bin/env bash
# xfr_size.sh -- bytes on the wire of AXFR versus IXFR for one change in a large zone (dig's "XFR size")
#
#   sudo bench/xfr_size.sh [RECORDS]     (default 200000)
# ddiplane in a namespace (tests/integration/lib.sh), dig in the client
# namespace: AXFR of the zone, one `ddictl record add`, IXFR from the old serial.
. "$(dirname "$0")/../tests/integration/lib.sh"
ddi_need_root
N=${1:-200000}
CTL="$DDI_BUILDDIR/ddictl"
DB="$DDI_TMP/db"
SOCK="$DDI_TMP/ctl.sock"
mkdir -p "$DB"
{
  printf '$ORIGIN big.test.\n$TTL 3600\n@ IN SOA ns1.big.test. hostmaster.big.test. 1 3600 900 604800 300\n@ IN NS ns1\nns1 IN A 198.19.0.1\n'
  python3 -c "
for i in range($N):
    print('h%07d IN A 198.19.%d.%d' % (i, (i // 250) % 256, i % 250 + 1))"
} >"$DDI_TMP/big.zone"
"$CTL" --db "$DB" zone import big.test. "$DDI_TMP/big.zone" >/dev/null
"$CTL" --db "$DB" zone acl big.test. --transfer 198.18.0.0/24 >/dev/null
ddi_ns_setup
ddi_start --db "$DB" --address 198.18.0.1/24 --control "$SOCK" --idle-sleep-us 20
ddi_wait_answer 198.18.0.1 big.test 60
S0=$(ddi_cli dig +short @198.18.0.1 big.test SOA | awk '{print $3}')
echo "AXFR ($N records):"
ddi_cli dig @198.18.0.1 big.test AXFR +noall +stats | grep -E 'XFR size|Query time'
"$CTL" -s "$SOCK" record add new1.big.test. 3600 A 198.19.255.254 >/dev/null
echo "IXFR=$S0 after one record add:"
ddi_cli dig @198.18.0.1 big.test IXFR=$S0 +noall +stats | grep -E 'XFR size|Query time'
ddi_cli dig @198.18.0.1 big.test IXFR=$S0 +noall +answer
