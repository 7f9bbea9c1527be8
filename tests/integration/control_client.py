#!/usr/bin/env python3
"""control_client -- control socket and DNS helpers for tests/integration/control.sh (stdlib only)

  send SOCK TEXT                 send raw bytes, print the reply line (or "EOF")
  partial SOCK                   send half a request and disconnect
  slow SOCK SECONDS              hold half a request open for SECONDS, then finish it
  oversize SOCK BYTES            send a request of BYTES bytes, print the reply
  storm SOCK NAME N              N record-replace of NAME TXT (two RRs "gen i a"/"gen i b")
                                 on one connection; prints changes/s
  acked SOCK LABEL.ZONE OUT SECS record-add LABEL-i.ZONE A, one by one for SECS seconds; each
                                 acknowledged name is appended to OUT after its reply
  check SERVER NAME SECS         query NAME TXT over UDP for SECS seconds; every answer must
                                 hold two TXT of one generation; prints answers/mixed/lost
  paced SOCK ZONE RATE BATCH SECS  RATE record changes per second for SECS seconds, BATCH per
                                 commit ("changes"), names h-0..h-9999.ZONE; prints the rate reached
  latency SOCK SERVER N [NAME [PERIOD]]
                                 N times (at most one per PERIOD seconds): record-replace NAME A,
                                 then query UDP until the new address is answered; prints p50/p99
                                 of ack->answer and request->answer (ms)
"""
import json
import socket
import struct
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_reply(s, timeout=30.0):
    s.settimeout(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            d = s.recv(65536)
        except socket.timeout:
            return None
        if not d:
            return json.loads(buf) if buf else None
        buf += d
    return json.loads(buf)


def call(s, cmd, args):
    s.sendall(json.dumps({"command": cmd, "arguments": args}).encode())
    return read_reply(s)


# --- DNS over UDP -----------------------------------------------------------

def qname_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def query(sock, server, name, qtype, qid):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + qname_wire(name) + struct.pack("!HH", qtype, 1)
    sock.sendto(q, (server, 53))


def parse_answers(msg):
    """(id, rcode, [(type, rdata bytes)])"""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    out = []
    for _ in range(an):
        pos = skip_name(msg, pos)
        t, c, ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        out.append((t, msg[pos:pos + rdlen]))
        pos += rdlen
    return qid, flags & 0xF, out


def txt_strings(rd):
    out, p = [], 0
    while p < len(rd):
        n = rd[p]
        out.append(rd[p + 1:p + 1 + n].decode())
        p += 1 + n
    return " ".join(out)


def main():
    cmd = sys.argv[1]
    if cmd == "send":
        s = connect(sys.argv[2])
        s.sendall(sys.argv[3].encode())
        r = read_reply(s, 5)
        print(json.dumps(r) if r is not None else "EOF")
    elif cmd == "partial":
        s = connect(sys.argv[2])
        s.sendall(b'{"command": "record-add", "arguments": {"name": "half.')
        s.close()
        print("closed")
    elif cmd == "slow":
        s = connect(sys.argv[2])
        s.sendall(b'{"command": "sta')
        time.sleep(float(sys.argv[3]))
        s.sendall(b'tus"}')
        r = read_reply(s, 5)
        print(r["result"] if r else "EOF")
    elif cmd == "oversize":
        s = connect(sys.argv[2])
        n = int(sys.argv[3])
        body = b'{"command": "status", "arguments": {"pad": "' + b"x" * n + b'"}}'
        try:
            s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = read_reply(s, 10)
        print(json.dumps(r) if r is not None else "EOF")
    elif cmd == "storm":
        s = connect(sys.argv[2])
        name, n = sys.argv[3], int(sys.argv[4])
        t0 = time.time()
        for i in range(1, n + 1):
            r = call(s, "record-replace", {"name": name, "ttl": 60, "type": "TXT",
                                           "rdatas": ["\"gen %d a\"" % i, "\"gen %d b\"" % i]})
            if not r or r["result"] != 0:
                print("FAIL change %d: %s" % (i, r))
                sys.exit(1)
        dt = time.time() - t0
        print("changes=%d seconds=%.2f rate=%.0f" % (n, dt, n / dt))
    elif cmd == "acked":
        s = connect(sys.argv[2])
        prefix, out, secs = sys.argv[3], sys.argv[4], float(sys.argv[5])
        end = time.time() + secs
        i = 0
        with open(out, "a") as f:
            while time.time() < end:
                i += 1
                label, zone = prefix.split(".", 1)
                name = "%s-%d.%s" % (label, i, zone)
                try:
                    r = call(s, "record-add", {"name": name, "ttl": 60, "type": "A",
                                               "rdata": "198.18.1.%d" % (i % 250 + 1)})
                except OSError:
                    break
                if not r:
                    break
                if r["result"] == 0:
                    f.write(name + "\n")
                    f.flush()
    elif cmd == "check":
        server, name, secs = sys.argv[2], sys.argv[3], float(sys.argv[4])
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(1.0)
        answers = mixed = lost = 0
        gens = set()
        end = time.time() + secs
        qid = 0
        while time.time() < end:
            qid = (qid + 1) & 0xFFFF
            query(u, server, name, 16, qid)
            try:
                while True:
                    msg = u.recv(4096)
                    rid, rcode, ans = parse_answers(msg)
                    if rid == qid:
                        break
            except socket.timeout:
                lost += 1
                continue
            txts = sorted(txt_strings(rd) for t, rd in ans if t == 16)
            g = set(x.split()[1] for x in txts)
            if rcode != 0 or len(txts) != 2 or len(g) != 1 or \
                    [x.split()[2] for x in txts] != ["a", "b"]:
                mixed += 1
                if mixed <= 3:
                    print("inconsistent answer: rcode=%d %s" % (rcode, txts))
            else:
                gens.add(g.pop())
            answers += 1
        print("answers=%d mixed=%d lost=%d generations=%d" % (answers, mixed, lost, len(gens)))
    elif cmd == "paced":
        s = connect(sys.argv[2])
        zone, rate, batch, secs = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
        period = batch / rate
        t0 = time.time()
        nxt = t0
        done = 0
        i = 0
        while time.time() - t0 < secs:
            now = time.time()
            if now < nxt:
                time.sleep(nxt - now)
            nxt += period
            ch = []
            for _ in range(batch):
                i += 1
                ch.append({"op": "replace", "name": "h-%d.%s" % (i % 10000, zone), "ttl": 60,
                           "type": "A", "rdata": "198.19.%d.%d" % ((i >> 8) & 255, i & 255)})
            r = call(s, "changes", {"changes": ch})
            if not r or r["result"] != 0:
                print("FAIL", r)
                sys.exit(1)
            done += batch
        dt = time.time() - t0
        print("changes=%d seconds=%.2f rate=%.0f" % (done, dt, done / dt))
    elif cmd == "latency":
        s = connect(sys.argv[2])
        server, n = sys.argv[3], int(sys.argv[4])
        name = sys.argv[5] if len(sys.argv) > 5 else "v.ddi.test."
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(0.2)
        lat = []
        full = []
        pace = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
        qid = 0
        nxt = time.perf_counter()
        for i in range(n):
            if pace:   # one change per period at most (the rate of the latency target)
                now = time.perf_counter()
                if now < nxt:
                    time.sleep(nxt - now)
                nxt = max(nxt + pace, time.perf_counter())
            addr = "198.18.2.%d" % (i % 250 + 1)
            want = socket.inet_aton(addr)
            ts = time.perf_counter()
            r = call(s, "record-replace", {"name": name, "ttl": 60, "type": "A", "rdata": addr})
            t0 = time.perf_counter()
            if not r or r["result"] != 0:
                print("FAIL", r)
                sys.exit(1)
            while True:
                qid = (qid + 1) & 0xFFFF
                query(u, server, name, 1, qid)
                try:
                    msg = u.recv(4096)
                except socket.timeout:
                    continue
                rid, rcode, ans = parse_answers(msg)
                if rid == qid and any(t == 1 and rd == want for t, rd in ans):
                    break
                if time.perf_counter() - t0 > 2:
                    print("FAIL: %s not visible after 2 s" % addr)
                    sys.exit(1)
            t1 = time.perf_counter()
            lat.append((t1 - t0) * 1000)
            full.append((t1 - ts) * 1000)
        for what, v in (("ack->answer", lat), ("request->answer", full)):
            v.sort()
            print("%s n=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f" % (
                what, n, v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
