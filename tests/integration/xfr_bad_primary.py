#!/usr/bin/env python3
"""xfr_bad_primary.py -- a fake primary for xfr_bad.sh: serves AXFR over TCP, well-formed or broken on purpose.

Usage: xfr_bad_primary.py ADDR ZONE KEYNAME SECRET_B64 SCENARIO_FILE LOG_FILE

Listens on ADDR port 53 (TCP). For each connection it reads one query
(two-byte length prefix, RFC 7766 8), reads the scenario to play from
SCENARIO_FILE (one line: NAME [SERIAL]) and answers the zone's AXFR as
one message, TSIG-signed with KEYNAME (hmac-sha256, RFC 8945 5.3) when
the query was signed. Scenarios:
  good SERIAL    a correct transfer at SERIAL; www gets 198.18.0.(SERIAL-20)
  long_prefix    a length prefix 64 bytes longer than the message, then EOF
  cut            a message cut short (ends inside a record), then EOF
  soa_mismatch   the last SOA (serial 102) differs from the first (101)
  bad_tsig       a correct transfer at 101 whose MAC is wrong
  unsigned       a correct transfer at 101 without TSIG (the query was signed)
Standard library only; every connection is logged to LOG_FILE.
"""
import base64
import hashlib
import hmac
import socket
import struct
import sys
import time

T_A, T_NS, T_SOA, T_TSIG = 1, 2, 6, 250


def wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.lower().encode()
    return out + b"\0"


def read_name(msg, pos):
    """The name at pos (pointers followed) and the offset after it."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = (n & 0x3F) << 8 | msg[pos + 1]
            hops += 1
            if hops > 64:
                raise ValueError("pointer loop")
            continue
        if n == 0:
            return ".".join(labels) + ".", end if end is not None else pos + 1
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n


def parse_query(msg):
    """ID, question wire bytes, qtype and the request's TSIG MAC (None: unsigned)."""
    qid, _, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    _, pos = read_name(msg, 12)
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    question = msg[12:pos + 4]
    pos += 4
    mac = None
    for i in range(an + ns + ar):
        _, pos = read_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        rd = msg[pos + 10:pos + 10 + rdlen]
        pos += 10 + rdlen
        if rtype == T_TSIG and i == an + ns + ar - 1:
            _, p = read_name(rd, 0)
            maclen = struct.unpack("!H", rd[p + 8:p + 10])[0]
            mac = rd[p + 10:p + 10 + maclen]
    return qid, question, qtype, mac


def rr(owner, rtype, ttl, rdata):
    return wire(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa(zone, serial):
    rd = wire("ns1." + zone) + wire("hostmaster." + zone)
    rd += struct.pack("!5I", serial, 3600, 3600, 86400, 300)   # refresh and retry: none due
    return rr(zone, T_SOA, 300, rd)


def records(zone, first, last):
    www = socket.inet_aton("198.18.0.%d" % (first - 20))
    return [soa(zone, first), rr(zone, T_NS, 300, wire("ns1." + zone)),
            rr("ns1." + zone, T_A, 300, socket.inet_aton("198.18.0.7")),
            rr("www." + zone, T_A, 300, www), soa(zone, last)]


def message(qid, question, rrs, ar=0):
    return struct.pack("!6H", qid, 0x8400, 1, len(rrs), 0, ar) + question + b"".join(rrs)


def sign(msg, qid, reqmac, keyname, secret, corrupt=False):
    """RFC 8945 4.3.1 / 5.3: the response's MAC over request MAC, message, TSIG variables."""
    alg, now = wire("hmac-sha256."), int(time.time())
    timers = struct.pack("!HIH", now >> 32, now & 0xFFFFFFFF, 300)
    variables = wire(keyname) + struct.pack("!HI", 255, 0) + alg + timers + struct.pack("!HH", 0, 0)
    mac = hmac.new(secret, struct.pack("!H", len(reqmac)) + reqmac + msg + variables,
                   hashlib.sha256).digest()
    if corrupt:
        mac = bytes([mac[0] ^ 0xFF]) + mac[1:]
    rd = alg + timers + struct.pack("!H", len(mac)) + mac + struct.pack("!HHH", qid, 0, 0)
    tsig = wire(keyname) + struct.pack("!HHIH", T_TSIG, 255, 0, len(rd)) + rd
    ar = struct.unpack("!H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack("!H", ar) + msg[12:] + tsig


def answer(scenario, zone, query, keyname, secret):
    """The bytes to send (length prefixes included) for one query."""
    qid, question, qtype, reqmac = parse_query(query)
    name, _, arg = scenario.partition(" ")
    first = last = int(arg) if name == "good" else 101
    if name == "soa_mismatch":
        last = 102
    msg = message(qid, question, records(zone, first, last))
    if reqmac is not None and name != "unsigned":
        msg = sign(msg, qid, reqmac, keyname, secret, corrupt=name == "bad_tsig")
    if name == "long_prefix":
        return struct.pack("!H", len(msg) + 64) + msg
    if name == "cut":
        msg = msg[:len(msg) // 2]
    return struct.pack("!H", len(msg)) + msg


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("the client closed")
        data += chunk
    return data


def main():
    addr, zone, keyname, secret_b64, scenario_file, log_file = sys.argv[1:7]
    secret = base64.b64decode(secret_b64)
    zone = zone if zone.endswith(".") else zone + "."
    srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, 53))
    srv.listen(8)
    with open(log_file, "a", buffering=1) as log:
        log.write("listening on %s port 53 for %s\n" % (addr, zone))
        while True:
            conn, peer = srv.accept()
            conn.settimeout(10)
            try:
                n = struct.unpack("!H", recv_exact(conn, 2))[0]
                query = recv_exact(conn, n)
                with open(scenario_file) as f:
                    scenario = f.read().strip()
                conn.sendall(answer(scenario, zone, query, keyname, secret))
                log.write("%s: query of %d bytes, played %s\n" % (peer[0], n, scenario))
            except (OSError, ValueError, EOFError, struct.error, IndexError) as e:
                log.write("%s: %s\n" % (peer[0], e))
            finally:
                conn.close()


if __name__ == "__main__":
    main()
