#!/usr/bin/env python3
"""xfr_stall_client -- DNS-over-TCP clients for xfr_stall.sh: a reader that stalls, an AXFR's rcode, pipelining.

  xfr_stall_client.py stall SERVER ZONE HOLD
      Ask for AXFR with a 4 KiB receive buffer, read 100 bytes, then read
      nothing for HOLD seconds; then read what is left until the server
      closes. Prints "first=N rest=M end=eof|reset|open".
  xfr_stall_client.py rcode SERVER ZONE
      Ask for AXFR; print the first response's RCODE name and the time to
      it in ms ("REFUSED 3").
  xfr_stall_client.py pipeline SERVER ZONE
      Send AXFR (ID 1) and SOA (ID 2) in one write; read every response.
      Prints "xfr_msgs=N xfr_rrs=R soa_first=0|1 soa_last=0|1 then=ID2 rcode=.. an=..":
      the transfer's messages must all come before the answer to ID 2.
"""
import socket
import struct
import sys
import time

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          9: "NOTAUTH"}


def qname(zone):
    out = b""
    for label in zone.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(qid, zone, qtype):
    q = struct.pack("!6H", qid, 0, 1, 0, 0, 0) + qname(zone) + struct.pack("!HH", qtype, 1)
    return struct.pack("!H", len(q)) + q


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_msg(s):
    (ln,) = struct.unpack("!H", recv_exact(s, 2))
    return recv_exact(s, ln)


def skip_name(m, p):
    while True:
        ln = m[p]
        if ln & 0xC0 == 0xC0:
            return p + 2
        if ln == 0:
            return p + 1
        p += 1 + ln


def rr_types(m):
    """The TYPE of every answer RR of message m."""
    qd, an = struct.unpack("!HH", m[4:8])
    p = 12
    for _ in range(qd):
        p = skip_name(m, p) + 4
    types = []
    for _ in range(an):
        p = skip_name(m, p)
        t, _c, _ttl, rdlen = struct.unpack("!HHIH", m[p:p + 10])
        types.append(t)
        p += 10 + rdlen
    return types


def connect(server, rcvbuf=None):
    s = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(20)
    s.connect((server, 53))
    return s


def stall(server, zone, hold):
    s = connect(server, 4096)
    s.sendall(query(7, zone, 252))
    first = len(s.recv(100))
    time.sleep(hold)
    rest, end = 0, "open"
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                end = "eof"
                break
            rest += len(chunk)
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "open"
    print("first=%d rest=%d end=%s" % (first, rest, end))


def rcode(server, zone):
    s = connect(server)
    t0 = time.monotonic()
    s.sendall(query(9, zone, 252))
    m = read_msg(s)
    ms = int((time.monotonic() - t0) * 1000)
    print("%s %d" % (RCODES.get(m[3] & 0xF, str(m[3] & 0xF)), ms))


def pipeline(server, zone):
    s = connect(server)
    s.sendall(query(1, zone, 252) + query(2, zone, 6))
    msgs, rrs, types, after = 0, 0, [], None
    while after is None:
        m = read_msg(s)
        (qid,) = struct.unpack("!H", m[0:2])
        if qid == 1:
            msgs += 1
            t = rr_types(m)
            rrs += len(t)
            types += t
        elif qid == 2:
            after = m
    print("xfr_msgs=%d xfr_rrs=%d soa_first=%d soa_last=%d then=ID2 rcode=%s an=%d" % (
        msgs, rrs, int(bool(types) and types[0] == 6), int(bool(types) and types[-1] == 6),
        RCODES.get(after[3] & 0xF, "?"), struct.unpack("!H", after[6:8])[0]))


if __name__ == "__main__":
    mode, server, zone = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "stall":
        stall(server, zone, float(sys.argv[4]))
    elif mode == "rcode":
        rcode(server, zone)
    else:
        pipeline(server, zone)
