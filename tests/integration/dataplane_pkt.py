#!/usr/bin/env python3
"""dataplane_pkt -- raw Ethernet frames for the dataplane integration test.

  send IFACE DSTMAC KIND...   send hand-made IPv4/UDP frames to 198.18.0.1:53 from
                              198.18.0.2 (KIND: badlen, badsum, shorthdr, good)
  vlan IFACE VID SECONDS      capture on IFACE; print 'vlan=N' for the first DNS answer
                              (UDP source port 53) with its 802.1Q tag, or 'vlan=none'
  vlanq IFACE DSTMAC VID      send a www.ddi.test A query tagged VID from 198.18.VID.2 to
                              198.18.VID.1 and print 'vlan=N a=ADDR' for its answer
                              (for kernels without 802.1Q support: no VLAN interface needed)
  tcp ADDR                    over one TCP connection to ADDR:53 send three queries in
                              one write (pipelined), read the answers, then wait (at
                              most 20 s) for the server to close the idle connection;
                              prints 'ids=1,2,3 idle_close=S' (S in whole seconds)
Only 198.18.0.0/15 and 2001:2::/48 addresses are used; every loop is bounded.
"""
import socket
import struct
import sys
import time

SRC = bytes([198, 18, 0, 2])
DST = bytes([198, 18, 0, 1])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def query(qid):
    hdr = struct.pack("!HHHHHH", qid, 0x0000, 1, 0, 0, 0)
    q = b"\x03www\x03ddi\x04test\x00" + struct.pack("!HH", 1, 1)
    return hdr + q


def frame(dstmac, srcmac, payload, kind, vid=None):
    sport = 33333
    ulen = 8 + len(payload)
    if kind == "badlen":
        ulen += 7                      # UDP length past the IP payload
    if kind == "shorthdr":
        payload = payload[:6]          # 6 bytes: not even a DNS header
        ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, 53, ulen, 0) + payload
    ph = SRC + DST + struct.pack("!BBH", 0, 17, ulen)
    c = csum(ph + udp) or 0xFFFF
    if kind == "badsum":
        c ^= 0x5A5A
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, SRC, DST)
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    tag = struct.pack("!HH", 0x8100, vid) if vid is not None else b""
    return dstmac + srcmac + tag + b"\x08\x00" + iph + udp


def send(iface, dstmac, kinds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    srcmac = s.getsockname()[4]
    dmac = bytes.fromhex(dstmac.replace(":", ""))
    for i, k in enumerate(kinds):
        s.send(frame(dmac, srcmac, query(0x4000 + i), k))
    s.close()


def vlan(iface, vid, seconds, sendframe=None):
    SOL_PACKET, PACKET_AUXDATA = 263, 8
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((iface, 0))
    s.settimeout(0.5)
    if sendframe:
        s.send(sendframe(s.getsockname()[4]))
    end = time.time() + float(seconds)
    while time.time() < end:
        try:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
        except socket.timeout:
            continue
        tag = None
        # A tag left in the data (no VLAN offload on the receive side)
        off = 12
        if data[12:14] == b"\x81\x00":
            tag = struct.unpack("!H", data[14:16])[0] & 0xFFF
            off = 16
        for level, typ, cdata in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci = struct.unpack("IIIHHH", cdata[:18])
                if status & 0x10:      # TP_STATUS_VLAN_VALID
                    tag = tci & 0xFFF
        if data[off:off + 2] != b"\x08\x00":
            continue
        ip = data[off + 2:]
        ihl = (ip[0] & 0xF) * 4
        if ip[9] != 17 or struct.unpack("!H", ip[ihl:ihl + 2])[0] != 53:
            continue
        ans = ""
        udp = ip[ihl:]
        if sendframe and len(udp) >= 8 + 12 + 4:
            ans = " a=%s" % socket.inet_ntoa(udp[-4:])
        print("vlan=%s%s" % (tag if tag is not None else "none", ans), flush=True)
        return
    print("vlan=timeout", flush=True)


def tcp(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((addr, 53))
    msgs = b"".join(struct.pack("!H", len(query(i))) + query(i) for i in (1, 2, 3))
    s.sendall(msgs)
    buf, ids = b"", []
    while len(ids) < 3:
        chunk = s.recv(65535)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
            n = struct.unpack("!H", buf[:2])[0]
            ids.append(struct.unpack("!H", buf[2:4])[0])
            buf = buf[2 + n:]
    start = time.time()
    s.settimeout(20)
    try:
        while s.recv(4096):
            pass
        closed = "%d" % int(time.time() - start)
    except socket.timeout:
        closed = "never"
    print("ids=%s idle_close=%s" % (",".join(map(str, ids)), closed), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "vlan":
        vlan(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "tcp":
        tcp(sys.argv[2])
    elif sys.argv[1] == "vlanq":
        vid = int(sys.argv[4])
        SRC = bytes([198, 18, vid, 2])
        DST = bytes([198, 18, vid, 1])
        dmac = bytes.fromhex(sys.argv[3].replace(":", ""))
        vlan(sys.argv[2], vid, 5,
             lambda smac: frame(dmac, smac, query(0x7777), "good", vid))
