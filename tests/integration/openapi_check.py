#!/usr/bin/env python3
"""openapi_check -- the OpenAPI document of the HTTP API against the router and the running server.

usage: openapi_check.py DOC.json http.c [BASE_URL TOKEN CACERT]

1. The document is an OpenAPI 3 document of the shape the API promises:
   openapi 3.x, info.title/version, every operation with responses, every
   {param} of a path declared as a required path parameter and every path
   parameter in the path, every $ref resolving, operationIds unique.
2. Its (method, path) pairs are exactly the routes of control/mgmt/http.c.
3. With BASE_URL: the served /api/v1/openapi.json is the document, and every
   documented operation is served (with a reader TOKEN: a write is 403, a
   read 2xx or a resource-level 404, never the router's 404 or 405), and
   a path not in the document is the router's 404.
Exit 0 when all hold; else 1 with one line per problem.
"""
import json
import re
import ssl
import sys
import urllib.error
import urllib.request

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
problems = []


def bad(msg):
    problems.append(msg)


def resolve(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def walk_refs(doc, node, where):
    if isinstance(node, dict):
        if "$ref" in node and resolve(doc, node["$ref"]) is None:
            bad(f"{where}: $ref {node['$ref']} does not resolve")
        for k, v in node.items():
            walk_refs(doc, v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(doc, v, f"{where}/{i}")


def check_doc(doc):
    if not re.match(r"^3\.\d+\.\d+$", str(doc.get("openapi", ""))):
        bad("openapi: not a 3.x.y version")
    info = doc.get("info", {})
    if not isinstance(info.get("title"), str) or not isinstance(info.get("version"), str):
        bad("info: title and version are required strings")
    if not isinstance(doc.get("paths"), dict) or not doc["paths"]:
        bad("paths: missing or empty")
        return set()
    walk_refs(doc, doc, "#")
    ops, ids = set(), set()
    for path, item in doc["paths"].items():
        if not path.startswith("/"):
            bad(f"{path}: a path starts with /")
        names = re.findall(r"{([^}]+)}", path)
        for method, op in item.items():
            if method not in METHODS:
                bad(f"{path}: {method} is not an HTTP method")
                continue
            ops.add((method.upper(), path))
            where = f"{method.upper()} {path}"
            if not op.get("responses"):
                bad(f"{where}: no responses")
            for code in op.get("responses", {}):
                if not re.match(r"^([1-5]\d\d|[1-5]XX|default)$", code):
                    bad(f"{where}: response key {code}")
            oid = op.get("operationId")
            if oid in ids:
                bad(f"{where}: operationId {oid} twice")
            ids.add(oid)
            params = [resolve(doc, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            declared = {p["name"] for p in params if p and p.get("in") == "path"}
            for p in params:
                if p and p.get("in") == "path" and not p.get("required"):
                    bad(f"{where}: path parameter {p['name']} must be required")
            if set(names) != declared:
                bad(f"{where}: path parameters {sorted(declared)} differ from the template {names}")
            rb = op.get("requestBody")
            if rb and "application/json" not in rb.get("content", {}):
                bad(f"{where}: a request body is application/json")
    return ops


def routes_of(source):
    text = open(source).read()
    table = text[text.index("} routes[] = {"):]
    table = table[:table.index("};")]
    return {(m, "/api/v1" + p) for m, p in re.findall(r'\{\s*"([A-Z]+)",\s*API\s*"([^"]*)"', table)}


def call(base, method, path, token, ctx):
    body = b"{}"
    if path.endswith("/commands"):   # a whole request: a write the reader may not make
        body = b'{"command": "zone-add", "arguments": {"zone": "nosuch.test."}}'
    req = urllib.request.Request(base + path, method=method,
                                 data=body if method in ("POST", "PUT") else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"raw": body.decode(errors="replace")}


def sample(path):
    return (path.replace("{zone}", "nosuch.test.").replace("{name}", "nosuch.test.")
            .replace("{type}", "A").replace("{prefix_address}", "198.18.250.0")
            .replace("{prefix_length}", "24").replace("{address}", "198.18.250.1")
            .replace("{key}", "nosuch.key.").replace("{index}", "0").replace("{user}", "nosuch"))


def check_live(doc, ops, base, token, cacert):
    ctx = ssl.create_default_context(cafile=cacert) if base.startswith("https") else None
    st, served = call(base, "GET", "/api/v1/openapi.json", None, ctx)
    if st != 200 or served != doc:
        bad(f"GET /api/v1/openapi.json: {st}, or not the document in the tree")
    for method, path in sorted(ops):
        st, body = call(base, method, sample(path), token, ctx)
        reason = body.get("error", {}).get("reason", "") if isinstance(body, dict) else ""
        router_miss = st == 405 or (st == 404 and reason.startswith("no such resource"))
        if router_miss:
            bad(f"{method} {path}: documented but not served ({st} {reason})")
        elif method != "GET" and st != 403:
            bad(f"{method} {path}: a reader's write answered {st}, not 403 ({reason})")
        elif method == "GET" and st not in (200, 404, 501) and path != "/api/v1/openapi.json":
            bad(f"{method} {path}: answered {st} ({reason})")
    st, body = call(base, "GET", "/api/v1/nosuch", token, ctx)
    if st != 404:
        bad(f"GET /api/v1/nosuch: {st}, not 404")


def main():
    if len(sys.argv) not in (3, 6):
        print(__doc__, file=sys.stderr)
        return 2
    doc = json.load(open(sys.argv[1]))
    ops = check_doc(doc)
    routes = routes_of(sys.argv[2])
    for m, p in sorted(routes - ops):
        bad(f"{m} {p}: served but not documented")
    for m, p in sorted(ops - routes):
        bad(f"{m} {p}: documented but not a route of http.c")
    if len(sys.argv) == 6:
        check_live(doc, ops, *sys.argv[3:6])
    for p in problems:
        print("openapi:", p)
    print(f"openapi: {len(ops)} operations, {len(routes)} routes, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
