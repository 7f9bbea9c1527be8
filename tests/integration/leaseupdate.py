#!/usr/bin/env python3
"""leaseupdate -- one TSIG-signed RFC 2136 UPDATE with an RFC 9664 Update Lease option (stdlib only).

nsupdate and knsupdate cannot send EDNS options on an UPDATE, so the
lifecycle test (tests/integration/lifecycle.sh) sends its leases with this
independent client: its own wire encoding and HMAC (RFC 8945), so a bug in
ddiplane's TSIG or option code cannot hide behind the same code on both ends.

  leaseupdate.py SERVER alg:name:secret ZONE [--lease N] [--key-lease N]
                 [--raw-option HEX] [--tcp] OP...
  OP: "add NAME TTL A|AAAA ADDRESS" | "del NAME A|AAAA" | "delname NAME"

Prints "rcode=NAME lease=N key_lease=N tsig=ok|bad|none" (lease=- when the
response carries no lease option). --raw-option sends the option data as
given (for malformed-option tests). Exits 0 when an answer came, 1 when
none came within 3 s, 2 on usage errors.
"""
import base64
import hashlib
import hmac
import ipaddress
import random
import socket
import struct
import sys
import time

RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
          "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
ALGS = {"hmac-sha256": hashlib.sha256, "hmac-sha512": hashlib.sha512,
        "hmac-sha1": hashlib.sha1}
T_A, T_AAAA, T_OPT, T_TSIG, T_SOA, T_ANY = 1, 28, 41, 250, 6, 255


def wire_name(name):
    name = name.rstrip(".")
    out = b""
    for label in name.split(".") if name else []:
        raw = label.encode()
        if not 0 < len(raw) < 64:
            raise SystemExit(2)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def rr(name, rtype, rclass, ttl, rdata):
    return wire_name(name) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def parse_ops(args):
    out = []
    while args:
        op = args.pop(0)
        if op == "add":
            name, ttl, t, addr = args[:4]
            del args[:4]
            rt = T_A if t == "A" else T_AAAA
            out.append(rr(name, rt, 1, int(ttl), ipaddress.ip_address(addr).packed))
        elif op == "del":
            name, t = args[:2]
            del args[:2]
            out.append(rr(name, T_A if t == "A" else T_AAAA, 255, 0, b""))
        elif op == "delname":
            name = args.pop(0)
            out.append(rr(name, T_ANY, 255, 0, b""))
        else:
            raise SystemExit(2)
    return out


def skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n >= 0xC0:
            return pos + 2
        pos += 1 + n


def tsig_vars(key, alg, signed, fudge, error=0, other=b""):
    return (wire_name(key.lower()) + struct.pack("!HI", 255, 0) + wire_name(alg)
            + struct.pack("!HIH", signed >> 32, signed & 0xFFFFFFFF, fudge)
            + struct.pack("!HH", error, len(other)) + other)


def main():
    argv = sys.argv[1:]
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    server, keyspec, zone = argv[:3]
    rest = argv[3:]
    lease = key_lease = raw = None
    tcp = False
    while rest and rest[0].startswith("--"):
        opt = rest.pop(0)
        if opt == "--lease":
            lease = int(rest.pop(0))
        elif opt == "--key-lease":
            key_lease = int(rest.pop(0))
        elif opt == "--raw-option":
            raw = bytes.fromhex(rest.pop(0))
        elif opt == "--tcp":
            tcp = True
        else:
            return 2
    alg, kname, secret = keyspec.split(":", 2)
    secret = base64.b64decode(secret)
    updates = parse_ops(rest)

    mid = random.randrange(65536)
    additional = []
    if lease is not None or raw is not None:
        data = raw if raw is not None else struct.pack("!I", lease) + (
            struct.pack("!I", key_lease) if key_lease is not None else b"")
        opt_rdata = struct.pack("!HH", 2, len(data)) + data
        additional.append(b"\0" + struct.pack("!HHIH", T_OPT, 1232, 0, len(opt_rdata)) + opt_rdata)
    body = wire_name(zone) + struct.pack("!HH", T_SOA, 1) + b"".join(updates) + b"".join(additional)
    header = struct.pack("!HHHHHH", mid, 5 << 11, 1, 0, len(updates), len(additional))
    msg = header + body
    signed, fudge = int(time.time()), 300
    mac = hmac.new(secret, msg + tsig_vars(kname, alg, signed, fudge), ALGS[alg]).digest()
    trdata = (wire_name(alg) + struct.pack("!HIH", signed >> 32, signed & 0xFFFFFFFF, fudge)
              + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", mid, 0, 0))
    header = struct.pack("!HHHHHH", mid, 5 << 11, 1, 0, len(updates), len(additional) + 1)
    wire = header + body + rr(kname, T_TSIG, 255, 0, trdata)

    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    try:
        if tcp:
            s = socket.create_connection((server, 53), timeout=3)
            s.sendall(struct.pack("!H", len(wire)) + wire)
            ln = struct.unpack("!H", s.recv(2))[0]
            resp = b""
            while len(resp) < ln:
                resp += s.recv(ln - len(resp))
        else:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.sendto(wire, (server, 53))
            resp = s.recv(65535)
    except OSError:
        print("no answer")
        return 1

    rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", resp[:12])
    rcode = flags & 0xF
    pos = 12
    for _ in range(qd):
        pos = skip_name(resp, pos) + 4
    got_lease = got_key = "-"
    tsig = "none"
    for i in range(an + ns + ar):
        start = pos
        pos = skip_name(resp, pos)
        rt, rc, ttl, rdl = struct.unpack("!HHIH", resp[pos:pos + 10])
        rd = resp[pos + 10:pos + 10 + rdl]
        pos += 10 + rdl
        if rt == T_OPT:
            o = 0
            while o + 4 <= len(rd):
                code, olen = struct.unpack("!HH", rd[o:o + 4])
                if code == 2 and olen in (4, 8):
                    got_lease = str(struct.unpack("!I", rd[o + 4:o + 8])[0])
                    if olen == 8:
                        got_key = str(struct.unpack("!I", rd[o + 8:o + 12])[0])
                o += 4 + olen
        if rt == T_TSIG and i == an + ns + ar - 1:
            # RFC 8945 5.3: the request MAC, the response without its TSIG, the variables
            p = skip_name(rd, 0)
            hi, lo, rfudge, maclen = struct.unpack("!HIHH", rd[p:p + 10])
            rmac = rd[p + 10:p + 10 + maclen]
            q = p + 10 + maclen
            orig, err, olen = struct.unpack("!HHH", rd[q:q + 6])
            other = rd[q + 6:q + 6 + olen]
            unsigned = struct.pack("!HHHHHH", orig, flags, qd, an, ns, ar - 1) + resp[12:start]
            want = hmac.new(secret, struct.pack("!H", len(mac)) + mac + unsigned
                            + tsig_vars(kname, alg, (hi << 32) | lo, rfudge, err, other),
                            ALGS[alg]).digest()
            tsig = "ok" if hmac.compare_digest(want, rmac) else "bad"
    name = RCODES[rcode] if rcode < len(RCODES) else str(rcode)
    print(f"rcode={name} lease={got_lease} key_lease={got_key} tsig={tsig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
