#!/usr/bin/python3
"""gss_client -- a second GSS-TSIG client for gsstsig.sh: TKEY, signed UPDATEs, a forged MIC, key deletion.

Written apart from ddiplane's code (python3-gssapi over MIT Kerberos, the
DNS messages and the RFC 3645/8945 digests built here by hand), so that
what it checks is the wire, not ddiplane agreeing with itself:

  gss_client.py SERVER SERVICE ZONE OWNER udp|tcp

with a ticket in KRB5CCNAME. Prints one "name: outcome" line per step:
  tkey      the negotiation (TKEY mode 3) completed: "ok"
  update    a signed UPDATE adding OWNER TXT: its rcode, and "signed-ok" when
            ddiplane's answer carries a MIC that gss verify_signature accepts
  query     (udp only) a signed QUERY for ZONE SOA: rcode, "signed-ok" as above,
            and the answer count
  forged    the same UPDATE with a MIC over other bytes: rcode/TSIG error
  delete    TKEY mode 5 signed with the key: rcode and TKEY error
  after     an UPDATE signed with the deleted key: rcode/TSIG error
"""
import random
import socket
import struct
import sys
import time

import gssapi

SERVER, SERVICE, ZONE, OWNER, TRANSPORT = sys.argv[1:6]
TKEY, TSIG, ANY = 249, 250, 255
ALG = b"\x08gss-tsig\x00"
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
          "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
TSIG_ERRORS = {0: "", 16: "BADSIG", 17: "BADKEY", 18: "BADTIME"}


def wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"


def exchange(msg):
    if TRANSPORT == "tcp":
        s = socket.create_connection((SERVER, 53), timeout=5)
        s.sendall(struct.pack("!H", len(msg)) + msg)
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        r = s.recv(n, socket.MSG_WAITALL)
        s.close()
        return r
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(msg, (SERVER, 53))
    r = s.recv(65535)
    s.close()
    return r


def skip_name(m, p):
    while m[p] != 0:
        if m[p] & 0xc0:
            return p + 2
        p += 1 + m[p]
    return p + 1


def records(m):
    """(owner offset, type, rdata offset, rdlen, record start) of every record after the question."""
    qd, an, ns, ar = struct.unpack("!HHHH", m[4:12])
    p = 12
    for _ in range(qd):
        p = skip_name(m, p) + 4
    out = []
    for _ in range(an + ns + ar):
        start = p
        p = skip_name(m, p)
        t, _c, _ttl, rdlen = struct.unpack("!HHIH", m[p:p + 10])
        out.append((start, t, p + 10, rdlen))
        p += 10 + rdlen
    return out


def tsig_vars(keyname, now, fudge=300, error=0):
    return wire(keyname) + struct.pack("!HI", ANY, 0) + ALG + struct.pack("!HIHHH", now >> 32,
                                                                          now & 0xffffffff,
                                                                          fudge, error, 0)


def sign(ctx, keyname, msg, forge=False):
    """Append a gss-tsig TSIG RR (RFC 3645 3.3): the MIC of the message and the TSIG variables."""
    now = int(time.time())
    data = msg + tsig_vars(keyname, now)
    mic = ctx.get_signature(data + (b"forged" if forge else b""))
    qid = msg[:2]
    rd = ALG + struct.pack("!HIH", now >> 32, now & 0xffffffff, 300) + struct.pack("!H", len(mic))
    rd += mic + qid + struct.pack("!HH", 0, 0)
    rr = wire(keyname) + struct.pack("!HHIH", TSIG, ANY, 0, len(rd)) + rd
    ar = struct.unpack("!H", msg[10:12])[0]
    return msg[:10] + struct.pack("!H", ar + 1) + msg[12:] + rr, mic


def check_answer(ctx, r, req_mic):
    """rcode, TSIG error, and whether the answer's MIC verifies (RFC 8945 4.3.1 digest)."""
    rcode = RCODES[r[3] & 15] if (r[3] & 15) < len(RCODES) else str(r[3] & 15)
    recs = records(r)
    if not recs or recs[-1][1] != TSIG:
        return rcode, "", "unsigned"
    start, _t, rdo, rdlen = recs[-1]
    p = skip_name(r, rdo)
    hi, lo, fudge, maclen = struct.unpack("!HIHH", r[p:p + 10])
    mac = r[p + 10:p + 10 + maclen]
    orig_id, error, olen = struct.unpack("!HHH", r[p + 10 + maclen:p + 16 + maclen])
    if maclen == 0:
        return rcode, TSIG_ERRORS.get(error, str(error)), "unsigned"
    body = r[:start]
    ar = struct.unpack("!H", body[10:12])[0]
    body = struct.pack("!H", orig_id) + body[2:10] + struct.pack("!H", ar - 1) + body[12:]
    keyname = KEYNAME
    vars_ = wire(keyname) + struct.pack("!HI", ANY, 0) + ALG + struct.pack(
        "!HIHHH", hi, lo, fudge, error, olen) + r[p + 16 + maclen:p + 16 + maclen + olen]
    data = struct.pack("!H", len(req_mic)) + req_mic + body + vars_
    try:
        ctx.verify_signature(data, mac)
        ok = "signed-ok"
    except gssapi.exceptions.GSSError:
        ok = "signed-bad"
    return rcode, TSIG_ERRORS.get(error, str(error)), ok


def tkey_query(keyname, mode, token):
    now = int(time.time())
    hdr = struct.pack("!HHHHHH", random.randrange(65536), 0, 1, 0, 0, 1)
    q = wire(keyname) + struct.pack("!HH", TKEY, ANY)
    rd = ALG + struct.pack("!IIHHH", now, now + 3600, mode, 0, len(token)) + token + b"\0\0"
    return hdr + q + wire(keyname) + struct.pack("!HHIH", TKEY, ANY, 0, len(rd)) + rd


def tkey_answer(r):
    for _start, t, rdo, rdlen in records(r):
        if t == TKEY:
            p = skip_name(r, rdo)
            _inc, _exp, mode, error, klen = struct.unpack("!IIHHH", r[p:p + 14])
            return mode, error, r[p + 14:p + 14 + klen]
    return None, None, b""


def update(owner, text):
    hdr = struct.pack("!HHHHHH", random.randrange(65536), 5 << 11, 1, 0, 1, 0)
    txt = text.encode()
    rd = bytes([len(txt)]) + txt
    return hdr + wire(ZONE) + struct.pack("!HH", 6, 1) + wire(owner) + struct.pack(
        "!HHIH", 16, 1, 300, len(rd)) + rd


KEYNAME = "%d.sig-pyclient.%s" % (random.randrange(1 << 30), ZONE)
target = gssapi.Name(SERVICE, gssapi.NameType.kerberos_principal)
ctx = gssapi.SecurityContext(name=target, usage="initiate",
                             flags=[gssapi.RequirementFlag.mutual_authentication,
                                    gssapi.RequirementFlag.integrity])
token = ctx.step()
for _ in range(4):   # Kerberos needs one leg; the loop is bounded whatever the server says
    r = exchange(tkey_query(KEYNAME, 3, token))
    mode, error, out = tkey_answer(r)
    if error:
        print("tkey: TKEY error %d" % error)
        sys.exit(0)
    if out:
        token = ctx.step(out)
    if ctx.complete:
        break
print("tkey: %s" % ("ok" if ctx.complete else "incomplete"))

msg, mic = sign(ctx, KEYNAME, update(OWNER, "py-" + TRANSPORT))
print("update: %s %s %s" % check_answer(ctx, exchange(msg), mic))
if TRANSPORT == "udp":
    q = struct.pack("!HHHHHH", random.randrange(65536), 0, 1, 0, 0, 0) + wire(ZONE) + struct.pack("!HH", 6, 1)
    msg, mic = sign(ctx, KEYNAME, q)
    r = exchange(msg)
    print("query: %s %s %s an=%d" % (check_answer(ctx, r, mic) + (struct.unpack("!H", r[6:8])[0],)))
msg, mic = sign(ctx, KEYNAME, update(OWNER, "forged"), forge=True)
rc, err, _ = check_answer(ctx, exchange(msg), mic)
print("forged: %s %s" % (rc, err))
msg, mic = sign(ctx, KEYNAME, tkey_query(KEYNAME, 5, b""))
r = exchange(msg)
mode, error, _ = tkey_answer(r)
rc, _err, signed = check_answer(ctx, r, mic)
print("delete: %s mode=%s error=%s %s" % (rc, mode, error, signed))
msg, mic = sign(ctx, KEYNAME, update(OWNER, "after-delete"))
rc, err, _ = check_answer(ctx, exchange(msg), mic)
print("after: %s %s" % (rc, err))
