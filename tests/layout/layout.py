#!/usr/bin/env python3
"""layout -- the architecture rules of shared/DESIGN.md checked on the source tree.

Fails (exit 1, one line per finding) when:
  - a production .c file (not under tests/ or bench/) is over 1,500 lines;
  - a production function is over 150 lines;
  - an include points upwards: dns/ uses only dns/; index/ dns/ and index/;
    control/ never dataplane/ nor DPDK; control/store/ no other room of
    control/ except the IPAM record codec (ipam/ipam.h, ipam/lmdb.h);
  - modules (a .c with its .h) include each other in a cycle.
Usage: layout.py SRCDIR
"""
import os
import re
import sys

MAX_FILE_LINES = 1500
MAX_FUNC_LINES = 150
PROD_DIRS = ("dns", "index", "dataplane", "control")
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]')

# folder -> the project folders its files may include
ALLOWED = {
    "dns": ("dns/",),
    "index": ("dns/", "index/"),
    "control": ("dns/", "index/", "control/"),
    "dataplane": ("dns/", "index/", "control/", "dataplane/"),
}
# rooms of control/ the store may include (records it stores as values)
STORE_MAY_USE = ("control/store/", "control/ipam/ipam.h", "control/ipam/lmdb.h")


def sources(top):
    for d in PROD_DIRS:
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(root, f), top)


def includes(path):
    with open(path, errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            m = INCLUDE.match(line)
            if m:
                yield no, m.group(1), m.group(2)


def strip_code(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])*'", "''", line)
    return re.sub(r"//.*", "", line)


def long_functions(path):
    """Top-level brace blocks that open a function (a '(' before the '{')."""
    with open(path, errors="replace") as fh:
        lines = fh.read().split("\n")
    depth, start, name, in_comment = 0, None, None, False
    for i, raw in enumerate(lines):
        line = raw
        if in_comment:
            if "*/" not in line:
                continue
            line, in_comment = line.split("*/", 1)[1], False
        line = re.sub(r"/\*.*?\*/", "", strip_code(line))
        if "/*" in line:
            line, in_comment = line.split("/*", 1)[0], True
        if depth == 0 and line.startswith("{") and i > 0:
            j = i - 1
            while j >= 0 and "(" not in lines[j] and j > i - 6:
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j]) if j >= 0 else None
            if m:
                start, name = i, m.group(1)
        depth += line.count("{") - line.count("}")
        if depth == 0 and start is not None:
            if i - start + 1 > MAX_FUNC_LINES:
                yield start + 1, name, i - start + 1
            start = None


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = []
    graph = {}
    for rel in sources(top):
        path = os.path.join(top, rel)
        folder = rel.split("/")[0]
        graph[rel] = []
        for no, kind, inc in includes(path):
            if kind == "<":
                if folder != "dataplane" and inc.startswith("rte_"):
                    bad.append(f"{rel}:{no}: {folder}/ includes DPDK's {inc}")
                continue
            if not inc.startswith(PROD_DIRS):
                continue
            graph[rel].append(inc)
            if not inc.startswith(ALLOWED[folder]):
                bad.append(f"{rel}:{no}: {folder}/ includes {inc} (arrows point down)")
            if rel.startswith("control/store/") and inc.startswith("control/") \
                    and not inc.startswith(STORE_MAY_USE):
                bad.append(f"{rel}:{no}: the store includes {inc} (it keeps other rooms' "
                           "records as values it does not interpret)")
        if rel.endswith(".c"):
            with open(path, errors="replace") as fh:
                n = sum(1 for _ in fh)
            if n > MAX_FILE_LINES:
                bad.append(f"{rel}: {n} lines (at most {MAX_FILE_LINES}: split it along its steps)")
            for line, name, n in long_functions(path):
                bad.append(f"{rel}:{line}: {name}() is {n} lines (at most {MAX_FUNC_LINES})")

    # include cycles among modules: x.c and x.h are one node (depth-first search)
    modules = {}
    for rel, incs in graph.items():
        node = modules.setdefault(os.path.splitext(rel)[0], set())
        node.update(os.path.splitext(i)[0] for i in incs)
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for nxt in sorted(modules.get(m, ())):
            if nxt == m or nxt not in modules:
                continue
            if state.get(nxt) == 1:
                bad.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m)

    for b in bad:
        print(b)
    checked = len(graph)
    print(f"layout: {checked} files checked, {len(bad)} finding(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
