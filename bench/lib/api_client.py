#!/usr/bin/env python3
"""bench/lib/api_client.py: load for ddiplane's HTTP API, and the time from an API reply to the workers' first answer.

usage: api_client.py rate BASE TOKEN CACERT KIND SECONDS CONCURRENCY RUN
       api_client.py latency BASE TOKEN CACERT SAMPLES DNS_ADDR CLIENT_NETNS

rate: CONCURRENCY threads, each with one keep-alive HTTPS connection, send
  KIND requests for SECONDS: "record" (PUT /records/rNNN-RUN.ddi.test/A, a
  name of its own each) or "alloc" (POST /prefixes/198.19.0.0/16/allocations,
  next free address, a name of its own each); "socket-record" and
  "socket-alloc" send the same commands over the control socket (BASE is
  then its path, TOKEN unused; one connection per thread, one request at a
  time), for a ratio measured side by side. Prints one JSON line:
  {"kind", "concurrency", "seconds", "ok" (2xx), "errors" (other statuses),
  "unpublished" (2xx answered before publication), "rps" (ok / seconds),
  "p50_ms", "p99_ms" (of the 2xx), "error_kinds" (status and reason, or
  exception, of the others), "names": [the names acknowledged]}.
latency: SAMPLES times: PUT a new A record, and from the moment its 2xx
  reply is read, query the name over UDP from the client namespace (a
  socket made in CLIENT_NETNS with setns) every 0.2 ms until the workers
  answer it with NOERROR and data. Prints {"samples", "p50_us", "p90_us",
  "max_us", "first_query_answered"} (how many answered at the first query),
  "negative_answers_before" (answers without the record, from a version
  older than the change, received after its API reply: 0 expected).
Only the addresses given are ever sent to.
"""
import ctypes
import http.client
import json
import os
import select
import socket
import ssl
import struct
import sys
import threading
import time

CLONE_NEWNET = 0x40000000


def conn(base, cacert):
    host, port = base.split("//")[1].split("/")[0].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=cacert)
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)


def request(c, method, path, token, body):
    c.request(method, "/api/v1" + path, body=json.dumps(body),
              headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    return r.status, data


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else None


class Sock:
    """The control socket with the same interface as request(): one JSON request, one line back."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def call(self, command, args):
        self.s.sendall(json.dumps({"command": command, "arguments": args}).encode())
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        reply = json.loads(line)
        if reply.get("result") == 0:
            return 200, json.dumps(reply.get("arguments", {})).encode()
        return 400, json.dumps({"error": {"reason": reply.get("text", "")}}).encode()


def rate(base, token, cacert, kind, seconds, concurrency, run):
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    res = {"ok": 0, "errors": 0, "unpublished": 0, "lat": [], "names": [], "why": {}}

    def worker(w):
        c = Sock(base) if kind.startswith("socket") else conn(base, cacert)
        i = 0
        ok = err = unpub = 0
        lat, names, why = [], [], {}
        while time.monotonic() < stop:
            name = "r%d-%d-%s.ddi.test." % (w, i, run)
            i += 1
            t0 = time.monotonic()
            try:
                if kind == "socket-record":
                    st, data = c.call("record-replace", {"name": name, "type": "A", "ttl": 300,
                                      "rdata": "198.18.%d.%d" % (1 + i // 250 % 200, 1 + i % 250)})
                elif kind == "socket-alloc":
                    st, data = c.call("alloc-next", {"prefix": "2001:2:0:100::/64", "name": name})
                elif kind == "record":
                    st, data = request(c, "PUT", "/records/%s/A" % name, token,
                                       {"ttl": 300, "rdata": "198.18.%d.%d" % (1 + i // 250 % 200, 1 + i % 250)})
                else:
                    st, data = request(c, "POST", "/prefixes/2001:2:0:100::/64/allocations", token, {"name": name})
            except (OSError, http.client.HTTPException) as e:
                err += 1
                why[type(e).__name__] = why.get(type(e).__name__, 0) + 1
                c = Sock(base) if kind.startswith("socket") else conn(base, cacert)
                continue
            if 200 <= st < 300:
                ok += 1
                lat.append(time.monotonic() - t0)
                names.append(name)
                if json.loads(data).get("published") is False:
                    unpub += 1
            else:
                err += 1
                k = "%d %s" % (st, json.loads(data or b"{}").get("error", {}).get("reason", "")[:80])
                why[k] = why.get(k, 0) + 1
        with lock:
            for k, v in why.items():
                res["why"][k] = res["why"].get(k, 0) + v
            res["ok"] += ok
            res["errors"] += err
            res["unpublished"] += unpub
            res["lat"] += lat
            res["names"] += names

    ts = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.monotonic() - t0
    print(json.dumps({"kind": kind, "concurrency": concurrency, "seconds": round(el, 2),
                      "ok": res["ok"], "errors": res["errors"], "unpublished": res["unpublished"],
                      "rps": round(res["ok"] / el, 1),
                      "p50_ms": round(pct(res["lat"], 0.5) * 1e3, 2) if res["lat"] else None,
                      "p99_ms": round(pct(res["lat"], 0.99) * 1e3, 2) if res["lat"] else None,
                      "error_kinds": res["why"], "names": res["names"]}))


def dns_query(qid, name):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + b"\0" + struct.pack("!HH", 1, 1)


def latency(base, token, cacert, samples, dns_addr, netns):
    c = conn(base, cacert)
    c.connect()
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/var/run/netns/" + netns, os.O_RDONLY)
    here = os.open("/proc/self/ns/net", os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        sys.exit("setns: errno %d" % ctypes.get_errno())
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # in the client namespace
    libc.setns(here, CLONE_NEWNET)
    u.setblocking(False)
    out, first, negative = [], 0, 0
    run = "%x" % (time.time_ns() & 0xffffff)
    for i in range(samples):
        name = "lat%d-%s.ddi.test." % (i, run)
        st, data = request(c, "PUT", "/records/%s/A" % name, token, {"ttl": 300, "rdata": "198.18.0.%d" % (1 + i % 250)})
        t0 = time.monotonic_ns()
        if st != 200:
            continue
        n = 0
        got = None
        while got is None and time.monotonic_ns() - t0 < 2e9:
            qid = ((i & 0x3ff) << 6) | (n & 0x3f)
            u.sendto(dns_query(qid, name), (dns_addr, 53))
            n += 1
            deadline = time.monotonic() + 0.0002
            while got is None and time.monotonic() < deadline:
                r, _, _ = select.select([u], [], [], 0.0002)
                if not r:
                    continue
                pkt = u.recv(4096)
                rid, flags, _, an = struct.unpack("!HHHH", pkt[:8])
                if rid >> 6 != (i & 0x3ff):
                    continue   # a late reply of an earlier sample
                if (flags & 0xf) == 0 and an > 0:
                    got = time.monotonic_ns() - t0
                    first += n == 1
                else:
                    negative += 1   # answered from a version without the change
        if got is not None:
            out.append(got / 1e3)
    print(json.dumps({"samples": len(out), "p50_us": round(pct(out, 0.5), 1), "p90_us": round(pct(out, 0.9), 1),
                      "max_us": round(max(out), 1), "first_query_answered": first,
                      "negative_answers_before": negative}))


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 9 and a[1] == "rate":
        rate(a[2], a[3], a[4], a[5], float(a[6]), int(a[7]), a[8])
    elif len(a) == 8 and a[1] == "latency":
        latency(a[2], a[3], a[4], int(a[5]), a[6], a[7])
    else:
        sys.exit(__doc__)
