#!/usr/bin/env python3
"""seeds -- write the seed corpora of tests/fuzz (python3 tests/fuzz/seeds.py [CORPUS_DIR]).

The seeds are kept in the tree; this script is how they were made, so that a
new harness or a changed format gets its seeds the same way. Every packet is
built by hand (struct), with correct lengths and checksums, so the fuzzer
starts from inputs that reach deep into each parser.

corpus/records/ is not written here: its seeds are values of a real store
(ddictl --db zone import, record add/replace, key add, policy add, prefix
add, alloc address; then `mdb_dump -s DB`), each prefixed with the byte that
selects its database in fuzz_records.c; the key's secret replaced by a fixed
test value.
"""
import json
import os
import struct
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "tests", "fuzz", "corpus")


def put(kind, name, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- DNS messages -----------------------------------------------------------

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41, "ANY": 255, "AXFR": 252, "IXFR": 251, "CAA": 257}


def wname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def opt(size=1232, do=False, options=b""):
    return b"\0" + struct.pack("!HHIH", 41, size, 0x8000 if do else 0, len(options)) + options


def query(name, qtype, qid=0x1234, flags=0x0100, edns=None):
    ar = 1 if edns is not None else 0
    msg = header(qid, flags, 1, 0, 0, ar) + wname(name) + struct.pack("!HH", TYPES[qtype], 1)
    return msg + (edns if edns is not None else b"")


def rr(name, rtype, ttl, rdata, rclass=1):
    return wname(name) + struct.pack("!HHIH", TYPES.get(rtype, rtype) if isinstance(rtype, str)
                                     else rtype, rclass, ttl, len(rdata)) + rdata


def update(zone, prereq=(), updates=(), qid=0x4242):
    # RFC 2136 2.2: ZOCOUNT, PRCOUNT, UPCOUNT, ADCOUNT; opcode 5
    msg = header(qid, 5 << 11, 1, len(prereq), len(updates), 0)
    msg += wname(zone) + struct.pack("!HH", TYPES["SOA"], 1)
    return msg + b"".join(prereq) + b"".join(updates)


def tkey_query(keyname, mode, sect="ar", signed=False, token=b"\x60\x0b\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"):
    now = 1700000000
    rd = wname("gss-tsig") + struct.pack("!IIHHH", now, now + 3600, mode, 0, len(token)) + token
    rd += struct.pack("!H", 0)
    tk = rr(keyname, 249, 0, rd, 255)
    extra = b""
    if signed:   # a TSIG RR with a gss-tsig MAC (28 bytes, as a krb5 MIC is)
        trd = wname("gss-tsig") + struct.pack("!HIH", 0, now, 300) + struct.pack("!H", 28) + \
            b"\x04" * 28 + struct.pack("!HHH", 0x4243, 0, 0)
        extra = rr(keyname, 250, 0, trd, 255)
    an, ar = (1, 0) if sect == "an" else (0, 1)
    msg = header(0x4243, 0, 1, an, 0, ar + (1 if signed else 0))
    return msg + wname(keyname) + struct.pack("!HH", 249, 255) + tk + extra


# --- frames -----------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


MAC_S = bytes.fromhex("020000000001")
MAC_C = bytes.fromhex("020000000002")


def udp4(payload, src="198.18.0.2", dst="198.18.0.1", sport=40000, dport=53, vlan=None, frag=0):
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    ulen = 8 + len(payload)
    pseudo = s + d + struct.pack("!BBH", 0, 17, ulen)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + u) or 0xffff
    u = u[:6] + struct.pack("!H", c) + u[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, frag, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = MAC_S + MAC_C + (struct.pack("!HH", 0x8100, vlan) if vlan else b"") + b"\x08\x00"
    return eth + ip + u


def udp6(payload, sport=40000, dport=53):
    s = bytes.fromhex("20010002000000000000000000000002")
    d = bytes.fromhex("20010002000000000000000000000001")
    ulen = 8 + len(payload)
    pseudo = s + d + struct.pack("!IxxxB", ulen, 17)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + u) or 0xffff
    u = u[:6] + struct.pack("!H", c) + u[8:]
    ip = struct.pack("!IHBB16s16s", 0x60000000, ulen, 17, 64, s, d)
    return MAC_S + MAC_C + b"\x86\xdd" + ip + u


def main():
    # zone files: the embedded ones and the shapes a reader must handle
    for f in sorted(os.listdir(os.path.join(TOP, "share"))):
        if f.endswith(".zone"):
            with open(os.path.join(TOP, "share", f), "rb") as fh:
                put("zonefile", f, fh.read())
    put("zonefile", "shapes.zone", """$ORIGIN fuzz.test.
$TTL 1h30m
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
        7200 3600 1209600 300 )
  IN NS ns1
ns1 300 IN A 198.18.0.1
ns1 IN 300 AAAA 2001:2::1
txt IN TXT "a \\"quoted\\" string" plain \\065\\066
esc\\.dot IN A 198.18.0.9
* IN MX 10 mail.example.net.
srv IN SRV 0 5 5060 ns1
caa IN CAA 0 issue "ca.example.net"
gen IN TYPE65280 \\# 4 0a0b0c0d
a IN TYPE1 \\# 4 c6120001
dhcid IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
""")
    put("zonefile", "bad-line7.zone", "$TTL 300\n@ SOA a b 1 2 3 4 5\n@ NS a\na A 1.2.3.4\n\n\n"
        "b IN2 A 1.2.3.4\n")

    # queries: every type the index answers, names that exist and not, EDNS
    qs = [("www.ddi.test", "A"), ("ddi.test", "SOA"), ("ddi.test", "NS"), ("ddi.test", "MX"),
          ("ddi.test", "ANY"), ("nothere.ddi.test", "A"), ("ns1.ddi.test", "AAAA"),
          ("1.0.18.198.in-addr.arpa", "PTR"), ("alias.shapes.test", "A"), ("c1.shapes.test", "A"),
          ("loop1.shapes.test", "A"), ("x.wild.shapes.test", "TXT"), ("a.cw.shapes.test", "A"),
          ("ns.sub.shapes.test", "A"), ("deep.sub.shapes.test", "A"), ("big.shapes.test", "TXT"),
          ("b.c.ent.shapes.test", "A"), ("example.org", "A"), ("ddi.test", "AXFR")]
    frames = []
    for i, (n, t) in enumerate(qs):
        q = query(n, t, qid=i)
        put("answer", "q%02d-%s-%s" % (i, n, t), q)
        e = query(n, t, qid=i, edns=opt(4096 if i % 2 else 512, do=bool(i % 3),
                                           options=struct.pack("!HH", 3, 0) if i % 4 == 0 else b""))
        put("answer", "e%02d-%s-%s" % (i, n, t), e)
        frames.append(("q%02d" % i, q))
    put("answer", "badvers", query("ddi.test", "SOA", edns=b"\0" + struct.pack("!HHIH", 41, 1232,
                                                                             0x00010000, 0)))
    put("answer", "notify", header(7, 4 << 11) + wname("ddi.test") + struct.pack("!HH", 6, 1))
    put("answer", "compressed-loop", header(9, 0x0100) + b"\xc0\x0c" + struct.pack("!HH", 1, 1))
    put("answer", "short", b"\x12\x34\x01")

    # frames: IPv4, IPv6, VLAN, fragments, other protocols, bad checksums
    for name, q in frames[:8]:
        put("frame", name + "-v4", udp4(q))
        put("frame", name + "-v6", udp6(q))
    put("frame", "vlan", udp4(frames[0][1], vlan=100))
    put("frame", "frag", udp4(frames[0][1], frag=0x2000))
    put("frame", "update-v4", udp4(update("ddi.test")))
    bad = bytearray(udp4(frames[1][1]))
    bad[-1] ^= 0xff
    put("frame", "badsum", bytes(bad))
    put("frame", "arp", MAC_S + b"\xff" * 6 + b"\x08\x06" + bytes(28))
    put("frame", "other-port", udp4(frames[0][1], dport=5353))
    # DNS cookies (RFC 7873): a client cookie, a client and server cookie, a malformed length
    for name, ck in (("cookie-client", bytes(range(1, 9))),
                     ("cookie-server", bytes(range(1, 9)) + b"\x01\0\0\0" + bytes(12)),
                     ("cookie-malformed", bytes(range(1, 11)))):
        cq = query("www.ddi.test", "A", qid=77, edns=opt(options=struct.pack("!HH", 10, len(ck)) + ck))
        put("frame", name + "-v4", udp4(cq))
        put("frame", name + "-v6", udp6(cq))
        put("answer", name, cq)

    # updates: the forms of RFC 2136 2.4 and 2.5, and a NOTIFY
    a = struct.pack("!4B", 198, 18, 0, 200)
    put("update", "add-a", update("ddi.test", updates=[rr("fz1.ddi.test", "A", 300, a)]))
    put("update", "add-aaaa", update("ddi.test", updates=[
        rr("fz2.ddi.test", "AAAA", 300, bytes.fromhex("20010002000000000000000000000abc"))]))
    put("update", "del-rrset", update("ddi.test", updates=[rr("www.ddi.test", "A", 0, b"", 255)]))
    put("update", "del-name", update("ddi.test", updates=[rr("fz1.ddi.test", 255, 0, b"", 255)]))
    put("update", "del-rr", update("ddi.test", updates=[rr("fz1.ddi.test", "A", 0, a, 254)]))
    put("update", "prereq-yxdomain", update("ddi.test", prereq=[rr("www.ddi.test", 255, 0, b"",
                                                                       255)],
                                            updates=[rr("fz3.ddi.test", "TXT", 60, b"\x02hi")]))
    put("update", "prereq-nxdomain", update("ddi.test", prereq=[rr("no.ddi.test", 255, 0, b"",
                                                                       254)]))
    put("update", "prereq-yxrrset", update("ddi.test", prereq=[rr("www.ddi.test", "A", 0, b"",
                                                                      255)]))
    put("update", "prereq-value", update("ddi.test", prereq=[rr("ns1.ddi.test", "A", 0,
                                                                    struct.pack("!4B", 198, 18,
                                                                                0, 1))]))
    put("update", "outside-zone", update("example.org", updates=[rr("x.example.org", "A", 1,
                                                                       a)]))
    put("update", "notify", header(7, 4 << 11 | 0x0400) + wname("ddi.test") +
        struct.pack("!HH", 6, 1))
    # TKEY queries (RFC 2930, RFC 3645 4.1): GSS-API negotiation as nsupdate -g sends it (TKEY
    # in the additional section), as Windows does (answer section), a deletion signed with
    # gss-tsig, a mode the server does not do
    for name, mode, sect, tsig in (("tkey-gss", 3, "ar", False), ("tkey-gss-answer", 3, "an", False),
                                   ("tkey-delete", 5, "ar", True), ("tkey-badmode", 2, "ar", False)):
        put("update", name, tkey_query("123.sig-client.ddi.test", mode, sect, tsig))
    tsig = rr("fuzz.key", 250, 0, wname("hmac-sha256") + struct.pack("!HIHH", 0, 1700000000,
                                                                      300, 32) + bytes(32) +
              struct.pack("!HHH", 0x4242, 0, 0), 255)
    signed = bytearray(update("ddi.test", updates=[rr("fz4.ddi.test", "A", 300, a)]))
    signed[11] = 1
    put("update", "tsig-badsig", bytes(signed) + tsig)

    # the Update Lease option (RFC 9664): on an UPDATE, and its own parser's inputs
    def lease_opt(data):
        return struct.pack("!HH", 2, len(data)) + data
    for name, data in (("lease", struct.pack("!I", 3600)),
                       ("lease-key", struct.pack("!II", 5, 7200)),
                       ("lease-short", b"\0\0\1"),
                       ("lease-twice", None)):
        opts = (lease_opt(data) if data is not None else
                lease_opt(struct.pack("!I", 1)) + lease_opt(struct.pack("!I", 2)))
        leased = bytearray(update("ddi.test", updates=[rr("fz5.ddi.test", "A", 300, a)]))
        leased[11] = 1
        put("update", "add-" + name, bytes(leased) + opt(options=opts))
        put("lease", name, opts)
        put("lease", name + "-message", header(1, 5 << 11, 0, 0, 0, 1) + opt(options=opts))
    put("lease", "cookie-then-lease", struct.pack("!HH", 10, 8) + bytes(range(8)) +
        lease_opt(struct.pack("!I", 60)))
    put("lease", "overrun", struct.pack("!HH", 2, 200) + bytes(4))

    # IPAM CSV: both sections, quoting, the columns NetBox exports
    put("csv", "both.csv", "prefix,status,description,dns_zone,dns_policy\n"
        "198.18.9.0/24,active,imported,ddi.test,off\n2001:2:0:9::/64,reserved,\"six, quoted\",,\n"
        "\naddress,status,dns_name,description\n198.18.9.10/24,active,imp1.ddi.test,\n"
        "2001:2:0:9::10/64,dhcp,imp2.ddi.test,\"a \"\"quoted\"\" word\"\n")
    put("csv", "prefixes.csv", "prefix,status,description\n198.18.0.0/15,container,all\n")
    put("csv", "bad-address.csv", "address,status,dns_name,description\n"
        "198.18.9.300/24,active,imp2.ddi.test,\n")
    # NetBox's export with metadata: tags (a quoted list), tenant, custom fields
    # (cf_*, one of them a ddiplane column), columns not kept (ID, Site, Role)
    put("csv", "netbox-meta.csv", "ID,Prefix,Status,Site,VRF,Tenant,Tags,cf_site_code,cf_dns_zone\n"
        "1,198.18.20.0/24,active,FRA1,,acme,\"prod, edge\",FRA1,\n"
        "\nID,Address,Tenant,Status,Role,DNS name,Tags,cf_rack,cf_owner\n"
        "10,198.18.20.10/24,acme,active,,nb1.ddi.test,web,\"r1 \"\"north\"\"\",alice\n"
        "11,198.18.20.13/24,,reserved,,,,,\n")
    # what ipam export writes: tags, tenant, the cf_ columns in use
    put("csv", "export-meta.csv", "prefix,status,description,dns_zone,dns_policy,tags,tenant,"
        "cf_site_code\n198.18.21.0/24,active,,,off,lab,acme,AMS2\n\n"
        "address,status,dns_name,description,mac_address,client_id,owner,lease_expires,tags,"
        "tenant,cf_rack\n198.18.21.1/24,active,r3.ddi.test,,,,unix:root,,\"db,web\","
        "\"acme, Inc.\",\"r1 \"\"north\"\"\"\n")

    # control requests: every command once, with arguments the way ddictl sends them
    reqs = [
        {"command": "list-commands"},
        {"command": "status"},
        {"command": "zone-list"},
        {"command": "zone-add", "arguments": {"zone": "fuzz.test."}},
        {"command": "zone-export", "arguments": {"zone": "ddi.test."}},
        {"command": "zone-import", "arguments": {"zone": "f2.test.", "text":
                                                 "@ 300 SOA a b 1 2 3 4 5\n@ NS a\na A 1.2.3.4\n"}},
        {"command": "record-add", "arguments": {"name": "fz.ddi.test.", "ttl": 300, "type": "A",
                                                "rdata": "198.18.0.99"}},
        {"command": "record-replace", "arguments": {"name": "fz.ddi.test.", "ttl": 60,
                                                    "type": "TXT", "rdatas": ["\"a\"", "b"]}},
        {"command": "record-get", "arguments": {"name": "www.ddi.test."}},
        {"command": "record-list", "arguments": {"zone": "ddi.test.", "type": "A"}},
        {"command": "record-delete", "arguments": {"name": "fz.ddi.test.", "type": "A"}},
        {"command": "changes", "arguments": {"changes": [
            {"op": "add", "name": "c1.ddi.test.", "ttl": 1, "type": "A", "rdata": "198.18.0.5"},
            {"op": "delete", "name": "c1.ddi.test."}]}},
        {"command": "journal", "arguments": {"since": 1, "limit": 5}},
        {"command": "key-list"},
        {"command": "policy-list"},
        {"command": "prefix-add", "arguments": {"prefix": "198.18.4.0/24", "zone": "ddi.test.",
                                                "policy": "auto"}},
        {"command": "alloc-next", "arguments": {"prefix": "198.18.4.0/24",
                                                "name": "h1.ddi.test."}},
        {"command": "alloc-prefix", "arguments": {"parent": "198.18.4.0/24", "length": 28}},
        {"command": "utilization", "arguments": {"prefix": "198.18.4.0/24"}},
        {"command": "address-show", "arguments": {"address": "198.18.4.1"}},
        {"command": "prefix-tree"},
        {"command": "conflicts"},
        {"command": "ipam-export"},
        {"command": "release", "arguments": {"address": "198.18.4.1"}},
        {"command": "zone-remove", "arguments": {"zone": "fuzz.test."}},
        {"command": 7},
        {"arguments": []},
        # the IPAM model's commands (appended: the numbers above stay)
        {"command": "prefix-edit", "arguments": {"prefix": "198.18.4.0/24", "tenant": "acme",
                                                 "tags": ["prod"], "untag": ["x"],
                                                 "fields": {"site_code": "FRA1", "gone": ""}}},
        {"command": "alloc-reserve", "arguments": {"address": "198.18.4.9", "note": "gw"}},
        {"command": "alloc-list", "arguments": {"prefix": "198.18.4.0/24", "after": "198.18.4.1",
                                                "limit": 2}},
        {"command": "alloc-edit", "arguments": {"address": "198.18.4.1", "name": "h2.ddi.test",
                                                "no_dns": False, "tags": ["web"]}},
        {"command": "range-list", "arguments": {"prefix": "198.18.4.0/24"}},
        {"command": "range-edit", "arguments": {"first": "198.18.4.100", "last": "198.18.4.110",
                                                "new_last": "198.18.4.120", "dynamic": "no"}},
        {"command": "range-remove", "arguments": {"first": "198.18.4.100",
                                                  "last": "198.18.4.120"}},
        {"command": "prefix-remove", "arguments": {"prefix": "198.18.4.0/24", "release": True}},
    ]
    for i, r in enumerate(reqs):
        put("ctl", "%02d-%s" % (i, r.get("command", "none")), json.dumps(r))
    xfr_seeds()
    signedq_seeds()
    xfrout_seeds()
    query_seeds()


def signedq_seeds():
    # fuzz_signedq.c: a mode byte (bit 0: the harness signs the message with its key; bits 1-3:
    # response buffer; bit 7: TCP), then the message
    tsig_empty = rr("q.key.", 250, 0, b"", rclass=255)
    put("signedq", "signed-a", b"\x03" + query("www.ddi.test.", "A"))
    put("signedq", "signed-a-edns", b"\x05" + query("www.ddi.test.", "A", edns=opt()))
    put("signedq", "signed-txt-512", b"\x03" + query("big.shapes.test.", "TXT"))
    put("signedq", "signed-nx", b"\x07" + query("nothere.ddi.test.", "AAAA", edns=opt(4096)))
    put("signedq", "signed-tcp", b"\x89" + query("ddi.test.", "SOA"))
    put("signedq", "raw-empty-tsig", b"\x00" + header(0x1234, 0x0100, 1, 0, 0, 1) +
        wname("www.ddi.test.") + struct.pack("!HH", 1, 1) + tsig_empty)


def xfr_stream(mode, messages):
    """A transfer answer for fuzz_xfrin: the mode byte, then each message behind its length."""
    return bytes([mode]) + b"".join(struct.pack("!H", len(m)) + m for m in messages)


def xfr_seeds():
    zone = "ddi.test."
    def soa(serial):
        return rr(zone, "SOA", 3600, wname("ns1." + zone) + wname("hostmaster." + zone) +
                  struct.pack("!IIIII", serial, 7200, 3600, 1209600, 300))
    def answer(rrs, qtype="AXFR", question=True):
        qd = wname(zone) + struct.pack("!HH", TYPES[qtype], 1) if question else b""
        return header(0x1234, 0x8400, 1 if question else 0, len(rrs)) + qd + b"".join(rrs)
    a = rr("www." + zone, "A", 300, bytes([198, 18, 0, 10]))
    aaaa = rr("www." + zone, "AAAA", 300, bytes.fromhex("20010002000000000000000000000010"))
    ns = rr(zone, "NS", 3600, wname("ns1." + zone))
    txt = rr("t." + zone, "TXT", 60, b"\x05hello")
    new, old = 2024010102, 2024010100
    put("xfrin", "axfr-one", xfr_stream(0, [answer([soa(new), ns, a, aaaa, txt, soa(new)])]))
    put("xfrin", "axfr-three", xfr_stream(0, [answer([soa(new), ns]), answer([a, aaaa], question=False),
                                              answer([txt, soa(new)], question=False)]))
    put("xfrin", "ixfr-two-steps", xfr_stream(1, [answer([
        soa(new), soa(old), a, soa(old + 1), aaaa, soa(old + 1), soa(new), txt, soa(new)], "IXFR")]))
    put("xfrin", "ixfr-uptodate", xfr_stream(1, [answer([soa(old)], "IXFR")]))
    put("xfrin", "ixfr-as-axfr", xfr_stream(1, [answer([soa(new), ns, a, soa(new)], "IXFR")]))
    put("xfrin", "soa", xfr_stream(2, [answer([soa(new)], "SOA")]))
    put("xfrin", "soa-mismatch", xfr_stream(0, [answer([soa(new), a, soa(new + 1)])]))
    put("xfrin", "refused", xfr_stream(0, [header(0x1234, 0x8405, 1, 0) + wname(zone) +
                                           struct.pack("!HH", 252, 1)]))
    put("xfrin", "cut-short", xfr_stream(0, [answer([soa(new), a, soa(new)])])[:-7])
    put("xfrin", "signed-unsigned", xfr_stream(4, [answer([soa(new), a, soa(new)])]))



def xfrout_seeds():
    """Requests for fuzz_xfrout: the path byte (0 transfer, 1 checks, 2 checks when full), then the query."""
    def ixfr(zone, serial, qid=0x1234):
        soa = rr(zone, "SOA", 0, wname("ns1.ddi.test.") + wname("hostmaster.ddi.test.") +
                 struct.pack("!IIIII", serial, 0, 0, 0, 0))
        return header(qid, 0, 1, 0, 1) + wname(zone) + struct.pack("!HH", TYPES["IXFR"], 1) + soa
    for mode, label in ((0, "serve"), (1, "check"), (2, "full")):
        put("xfrout", label + "-axfr", bytes([mode]) + query("ddi.test.", "AXFR", flags=0))
        put("xfrout", label + "-ixfr", bytes([mode]) + ixfr("ddi.test.", 1))
        put("xfrout", label + "-soa", bytes([mode]) + query("ddi.test.", "SOA", flags=0))
    put("xfrout", "serve-axfr-reverse", bytes([0]) + query("0.18.198.in-addr.arpa.", "AXFR", flags=0))
    put("xfrout", "serve-ixfr-current", bytes([0]) + ixfr("ddi.test.", 4000000000))
    put("xfrout", "check-notauth", bytes([1]) + query("example.org.", "AXFR", flags=0))
    put("xfrout", "check-no-acl", bytes([1]) + query("0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.2.ip6.arpa.", "AXFR",
                                                     flags=0))
    put("xfrout", "check-ixfr-no-soa", bytes([1]) + query("ddi.test.", "IXFR", flags=0))


def query_seeds():
    """Messages for fuzz_query: the common query's shapes and each way out of its path."""
    def raw(qname_wire, qtype=1, flags=0x0100, counts=(1, 0, 0, 0), tail=b""):
        return header(0x5151, flags, *counts) + qname_wire + struct.pack("!HH", qtype, 1) + tail
    plain = opt(1232)
    put("query", "a", query("h123456.bench.test", "A"))
    put("query", "a-opt", query("h123456.bench.test", "A", edns=plain))
    put("query", "a-opt-do", query("Www.DDI.test", "AAAA", edns=opt(4096, do=True)))
    put("query", "opt-small", query("ddi.test", "A", edns=opt(100)))
    put("query", "opt-badvers", query("ddi.test", "SOA", edns=b"\0" + struct.pack("!HHIH", 41, 1232,
                                                                              0x00010000, 0)))
    put("query", "opt-nsid", query("ddi.test", "A", edns=opt(options=struct.pack("!HH", 3, 0))))
    put("query", "opt-cookie", query("ddi.test", "A", edns=opt(options=struct.pack("!HH", 10, 8) +
                                                                 bytes(range(8)))))
    put("query", "opt-owner", query("ddi.test", "A", edns=b"\1x\0" + plain[1:]))
    put("query", "two-opts", raw(wname("ddi.test"), counts=(1, 0, 0, 2), tail=plain + plain))
    put("query", "root-ns", raw(b"\0", qtype=2, counts=(1, 0, 0, 1), tail=plain))
    put("query", "label63", raw(b"\x3f" + b"a" * 63 + b"\0"))
    put("query", "name255", raw((b"\x3f" + b"b" * 63) * 3 + b"\x3d" + b"c" * 61 + b"\0"))
    put("query", "name256", raw((b"\x3f" + b"b" * 63) * 3 + b"\x3e" + b"c" * 62 + b"\0"))
    put("query", "label-zero-bytes", raw(b"\x03a\x00b\x02\x01A\0", counts=(1, 0, 0, 1), tail=plain))
    put("query", "pointer", raw(b"\xc0\x0c"))
    put("query", "qdcount2", raw(wname("ddi.test"), counts=(2, 0, 0, 0)))
    put("query", "answer-rr", raw(wname("ddi.test"), counts=(1, 1, 0, 0),
                                  tail=b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(4)))
    tsig = rr("key", 250, 0, wname("hmac-sha256") + bytes(16), 255)
    put("query", "tsig", raw(wname("ddi.test"), counts=(1, 0, 0, 2), tail=plain + tsig))
    put("query", "trailing", query("ddi.test", "A") + b"\0")
    put("query", "response", raw(wname("ddi.test"), flags=0x8100))
    put("query", "update", update("ddi.test"))


if __name__ == "__main__":
    main()
