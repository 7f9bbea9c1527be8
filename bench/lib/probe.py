#!/usr/bin/env python3
"""bench/lib/probe.py: polls a DNS server over UDP until it answers NAME TYPE with NOERROR and data.

Used by bench/wire.sh for "time from start to first answer": dig's shortest
timeout is one second, too coarse; this sends one query every --interval
seconds (default 10 ms) from one socket, accepts any reply whose ID matches
one it sent, and exits 0 printing the wall-clock time of that reply in
nanoseconds since the epoch. Exits 1 after --timeout seconds without one.
Only the address given is ever sent to.
"""

import argparse
import os
import select
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "SOA": 6, "PTR": 12, "AAAA": 28}


def query(qid, name, qtype):
    wire = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError("bad label in %r" % name)
        wire += bytes([len(raw)]) + raw
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + b"\0" + struct.pack("!HH", qtype, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--name", required=True)
    ap.add_argument("--type", default="A", choices=sorted(TYPES))
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    deadline = time.monotonic() + a.timeout
    sent = set()
    qid = int.from_bytes(os.urandom(2), "big")
    while time.monotonic() < deadline:
        qid = (qid + 1) & 0xFFFF
        sent.add(qid)
        try:
            s.sendto(query(qid, a.name, TYPES[a.type]), (a.server, a.port))
        except OSError:
            pass  # no route or ICMP error queued from the last try: keep polling
        until = time.monotonic() + a.interval
        while True:
            left = until - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                data = s.recv(4096)
            except OSError:
                continue  # ICMP port unreachable: the server is not bound yet
            if len(data) < 12:
                continue
            rid, flags, _, ancount = struct.unpack("!HHHH", data[:8])
            if rid in sent and flags & 0x8000 and flags & 0xF == 0 and ancount > 0:
                print(time.time_ns())
                return 0
    print("probe: no NOERROR answer for %s %s from %s within %.0f s"
          % (a.name, a.type, a.server, a.timeout), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
