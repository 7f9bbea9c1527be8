#!/usr/bin/env python3
"""bench/gen_zone.py: writes the forward and reverse zones and the dnsperf/kxdpgun query file for bench/wire.sh.

Every address is inside the benchmarking ranges (RFC 2544 / RFC 5180):
IPv4 in 198.18.0.0/15, IPv6 in 2001:2::/48. 198.18.0.0/24 is left out of the
A pool because the benchmark link itself lives there.

Data model (one host per name, as a DDI system would hold it):
  - every name hN.bench.test. has one AAAA, unique, in 2001:2:0:1::/64;
  - the first names (as many as the /15 holds, 129,794 at most, .0 and .255
    of every /24 skipped) also have one A, unique;
  - every address has its PTR in the reverse zones
    18.198.in-addr.arpa., 19.198.in-addr.arpa. and
    1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa. (2001:2:0:1::/64).

Query mix (random, fixed seed so every server gets the same file):
  70 % A of a name that has an A, 15 % AAAA of a name, 10 % NXDOMAIN
  (a name that does not exist under bench.test.), 5 % PTR (half IPv4, half
  IPv6) of an address that exists.

Output in --out DIR:
  fwd.zone rev4-18.zone rev4-19.zone rev6.zone  master files
  zones.txt        "ORIGIN FILE" per line, the order they are loaded in
  queries.txt      "NAME TYPE" per line (dnsperf and kxdpgun both read it)
  probe.txt        "NAME TYPE" of the last name written, for start-up polling
  counts.txt       key=value: names, a, aaaa, ptr, records (all RRs, SOA/NS too)
With --empty the zones hold only SOA and NS (the memory baseline) and no
queries are written.
"""

import argparse
import os
import random
import sys

ORIGIN = "bench.test."
REV6 = "1.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa."
REV4 = {18: "18.198.in-addr.arpa.", 19: "19.198.in-addr.arpa."}
TTL = 3600


def v4_pool():
    """Yield (b, c, d) of 198.b.c.d in order, skipping 198.18.0.0/24, .0 and .255."""
    for b in (18, 19):
        for c in range(256):
            if b == 18 and c == 0:
                continue
            for d in range(1, 255):
                yield b, c, d


V4_MAX = 2 * 256 * 254 - 254  # 129,794


def v6_host(i):
    """Low 64 bits of the AAAA of name i: start at 0x100 so ::1 and ::2 stay free."""
    return i + 0x100


def v6_text(i):
    h = v6_host(i)
    return "2001:2:0:1:%x:%x:%x:%x" % ((h >> 48) & 0xFFFF, (h >> 32) & 0xFFFF,
                                      (h >> 16) & 0xFFFF, h & 0xFFFF)


def v6_rel(i):
    """PTR owner of name i relative to REV6: the 16 nibbles of the host part, reversed."""
    return ".".join("%016x" % v6_host(i))[::-1]


def head(f, origin, serial=1):
    f.write("$ORIGIN %s\n$TTL %d\n" % (origin, TTL))
    f.write("@ SOA ns1.%s hostmaster.%s %d 3600 900 604800 300\n" % (ORIGIN, ORIGIN, serial))
    f.write("@ NS ns1.%s\n" % ORIGIN)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--names", type=int, default=1000000)
    ap.add_argument("--queries", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--out", required=True)
    ap.add_argument("--empty", action="store_true")
    a = ap.parse_args()
    if a.names < 1 or a.names > 1 << 40 or a.queries < 1:
        sys.exit("gen_zone: --names must be 1..2^40 and --queries >= 1")
    os.makedirs(a.out, exist_ok=True)
    n = 0 if a.empty else a.names
    n4 = min(n, V4_MAX)

    paths = {
        ORIGIN: os.path.join(a.out, "fwd.zone"),
        REV4[18]: os.path.join(a.out, "rev4-18.zone"),
        REV4[19]: os.path.join(a.out, "rev4-19.zone"),
        REV6: os.path.join(a.out, "rev6.zone"),
    }
    files = {o: open(p, "w", buffering=1 << 20) for o, p in paths.items()}
    for o, f in files.items():
        head(f, o)
    records = 2 * len(files)
    fwd = files[ORIGIN]
    fwd.write("ns1 A 198.18.0.1\nns1 AAAA 2001:2::1\n")
    records += 2

    v4 = []
    pool = v4_pool()
    w = fwd.write
    for i in range(n):
        if i < n4:
            b, c, d = next(pool)
            v4.append((b, c, d))
            w("h%d A 198.%d.%d.%d\n" % (i, b, c, d))
            files[REV4[b]].write("%d.%d PTR h%d.%s\n" % (d, c, i, ORIGIN))
        w("h%d AAAA %s\n" % (i, v6_text(i)))
        files[REV6].write("%s PTR h%d.%s\n" % (v6_rel(i), i, ORIGIN))
    records += 2 * n4 + 2 * n
    for f in files.values():
        f.close()

    with open(os.path.join(a.out, "zones.txt"), "w") as f:
        for o, p in paths.items():
            f.write("%s %s\n" % (o, os.path.abspath(p)))
    with open(os.path.join(a.out, "counts.txt"), "w") as f:
        f.write("names=%d\na=%d\naaaa=%d\nptr=%d\nrecords=%d\n" % (n, n4, n, n4 + n, records))
    with open(os.path.join(a.out, "probe.txt"), "w") as f:
        # The last name written: a server that answers it has loaded the lot.
        f.write("h%d.%s AAAA\n" % (n - 1, ORIGIN) if n else "%s SOA\n" % ORIGIN)
    if a.empty:
        return

    rnd = random.Random(a.seed)
    with open(os.path.join(a.out, "queries.txt"), "w", buffering=1 << 20) as f:
        w = f.write
        for _ in range(a.queries):
            r = rnd.random()
            if r < 0.70:
                w("h%d.%s A\n" % (rnd.randrange(n4), ORIGIN))
            elif r < 0.85:
                w("h%d.%s AAAA\n" % (rnd.randrange(n), ORIGIN))
            elif r < 0.95:
                w("nx%d.%s A\n" % (rnd.randrange(1 << 30), ORIGIN))
            elif r < 0.975:
                b, c, d = v4[rnd.randrange(n4)]
                w("%d.%d.%d.198.in-addr.arpa. PTR\n" % (d, c, b))
            else:
                w("%s.%s PTR\n" % (v6_rel(rnd.randrange(n)), REV6))


if __name__ == "__main__":
    main()
