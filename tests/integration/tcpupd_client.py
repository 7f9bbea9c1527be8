#!/usr/bin/env python3
"""tcpupd_client -- TSIG-signed RFC 2136 UPDATEs over TCP for tcpupd.sh (stdlib only).

An independent client (its own wire encoding and HMAC, RFC 8945), so that
the test controls what goes on one connection and when it closes, which
nsupdate does not let it do.

  tcpupd_client.py big SERVER alg:name:secret ZONE PARENT N
      one UPDATE adding N TXT records h0.PARENT .. h(N-1).PARENT;
      prints "rcode=NAME at=EPOCH ms=MILLISECONDS" (when its answer came, and
      how long after the UPDATE was sent)
  tcpupd_client.py pipeline SERVER alg:name:secret ZONE NAME QNAME
      on one connection, in one write: an UPDATE adding "NAME TXT ok", then
      a QUERY for QNAME A; prints "first=OPCODE:RCODE second=OPCODE:RCODE"
      in the order the answers came (OPCODE update or query, told by ID too)
  tcpupd_client.py abandon SERVER alg:name:secret ZONE PARENT N
      the big UPDATE, then the connection reset at once without reading
      (SO_LINGER 0); prints "sent"
Exits 0 when the answers came, 1 when not within 30 s, 2 on usage errors.
"""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import time

RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
          "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
ALGS = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512}
T_A, T_TXT, T_SOA, T_TSIG = 1, 16, 6, 250
UPDATE_ID, QUERY_ID = 0x5501, 0x5502


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode()
        if not 0 < len(raw) < 64:
            raise SystemExit(2)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def rr(name, rtype, rclass, ttl, rdata):
    return wire_name(name) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def tsig_vars(key, alg, signed, fudge):
    return (wire_name(key.lower()) + struct.pack("!HI", 255, 0) + wire_name(alg)
            + struct.pack("!HIH", signed >> 32, signed & 0xFFFFFFFF, fudge) + struct.pack("!HH", 0, 0))


def update(keyspec, zone, rrs):
    alg, kname, secret = keyspec.split(":", 2)
    secret = base64.b64decode(secret)
    body = wire_name(zone) + struct.pack("!HH", T_SOA, 1) + b"".join(rrs)
    msg = struct.pack("!HHHHHH", UPDATE_ID, 5 << 11, 1, 0, len(rrs), 0) + body
    signed, fudge = int(time.time()), 300
    mac = hmac.new(secret, msg + tsig_vars(kname, alg, signed, fudge), ALGS[alg]).digest()
    trdata = (wire_name(alg) + struct.pack("!HIH", signed >> 32, signed & 0xFFFFFFFF, fudge)
              + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", UPDATE_ID, 0, 0))
    wire = (struct.pack("!HHHHHH", UPDATE_ID, 5 << 11, 1, 0, len(rrs), 1) + body
            + rr(kname, T_TSIG, 255, 0, trdata))
    if len(wire) > 65535:
        raise SystemExit(2)
    return struct.pack("!H", len(wire)) + wire


def txt_adds(parent, n):
    return [rr(f"h{i}.{parent}", T_TXT, 1, 300, b"\x02ok") for i in range(n)]


def query(qname):
    msg = struct.pack("!HHHHHH", QUERY_ID, 0, 1, 0, 0, 0) + wire_name(qname) + struct.pack("!HH", T_A, 1)
    return struct.pack("!H", len(msg)) + msg


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise OSError("closed")
        b += c
    return b


def read_msg(s):
    return recv_exact(s, struct.unpack("!H", recv_exact(s, 2))[0])


def describe(m):
    mid, flags = struct.unpack("!HH", m[:4])
    op = {5: "update", 0: "query"}.get((flags >> 11) & 0xF, "other")
    if (op == "update") != (mid == UPDATE_ID):
        op = "mismatch"
    rc = flags & 0xF
    return f"{op}:{RCODES[rc] if rc < len(RCODES) else rc}"


def main():
    a = sys.argv[1:]
    if len(a) != 6 or a[0] not in ("big", "pipeline", "abandon"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, server, key, zone = a[:4]
    try:
        s = socket.create_connection((server, 53), timeout=30)
        if mode == "pipeline":
            s.sendall(update(key, zone, [rr(a[4], T_TXT, 1, 300, b"\x02ok")]) + query(a[5]))
            first, second = read_msg(s), read_msg(s)
            print(f"first={describe(first)} second={describe(second)}")
            return 0
        wire = update(key, zone, txt_adds(a[4], int(a[5])))
        t0 = time.monotonic()
        s.sendall(wire)
        if mode == "abandon":
            time.sleep(0.05)   # let it reach the server before the reset
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            print("sent")
            return 0
        m = read_msg(s)
        print(f"rcode={describe(m).split(':')[1]} at={time.time():.3f} "
              f"ms={int((time.monotonic() - t0) * 1000)}")
        return 0
    except OSError as e:
        print(f"no answer ({e})")
        return 1


if __name__ == "__main__":
    sys.exit(main())
