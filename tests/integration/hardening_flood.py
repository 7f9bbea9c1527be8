#!/usr/bin/env python3
"""hardening_flood -- a paced UDP query stream for the rate-limiting test, counted from the client side.

  hardening_flood.py SRC DST RATE SECONDS [QNAME]

Sends `www.ddi.test A` (no EDNS, so no cookie: every response is charged to
the rate limiter) from SRC to DST:53 at RATE queries per second for SECONDS
seconds, reads every answer until 0.5 s after the last query, and prints one
line: 'sent=N full=N tc=N other=N' (full: NOERROR with answers and no TC;
tc: TC set). Only 198.18.0.0/15 and 2001:2::/48 addresses are used; the loop
is bounded by SECONDS (at most 10) and RATE (at most 5000).
"""
import random
import socket
import struct
import sys
import time


def query(qid, qname):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in qname.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    rate = min(int(sys.argv[3]), 5000)
    secs = min(float(sys.argv[4]), 10.0)
    qname = sys.argv[5] if len(sys.argv) > 5 else "www.ddi.test"
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    count = {"full": 0, "tc": 0, "other": 0}
    seen = set()

    def drain():
        while True:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                return
            if len(data) < 12:
                count["other"] += 1
                continue
            qid, flags, _, an = struct.unpack("!HHHH", data[:8])
            if qid in seen:       # a duplicate would be a bug: count it apart
                count["other"] += 1
                continue
            seen.add(qid)
            if flags & 0x0200:
                count["tc"] += 1
            elif flags & 0xf == 0 and an > 0:
                count["full"] += 1
            else:
                count["other"] += 1

    sent = 0
    start = time.monotonic()
    ids = random.sample(range(65536), min(65536, int(rate * secs) + 1))
    while True:
        now = time.monotonic()
        if now - start >= secs:
            break
        due = min(int((now - start) * rate) + 1, len(ids))
        while sent < due:
            try:
                s.sendto(query(ids[sent], qname), (dst, 53))
            except BlockingIOError:
                break
            sent += 1
        drain()
        time.sleep(0.002)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    print("sent=%d full=%d tc=%d other=%d" % (sent, count["full"], count["tc"], count["other"]))


if __name__ == "__main__":
    main()
