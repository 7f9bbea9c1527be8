#!/usr/bin/env bash
# run-inprocess.sh -- every in-process benchmark, the instruction counts and the no-kernel packet rate, in one command
#
# Usage: bench/run-inprocess.sh [BUILD_DIR]        (default: build)
# Environment: DDI_BENCH_10M=0 leaves out the 10M-name corpus (3 GB, ~1 min
#   to build); DDI_BENCH_REPS (default 5) repetitions per benchmark;
#   DDI_BENCH_CPU (default 1) the core the single-threaded benchmarks run on;
#   DDI_DPRING_EAL EAL arguments for bench-dp-ring (default: its own, worker
#   on lcore 1, e.g. "-l 0,1 --main-lcore 1 --no-huge -m 1024 --no-pci
#   --no-shconf" puts the worker on lcore 0 when core 1 is busy).
#
# Writes BUILD_DIR/bench/results/: core.json, store.json (Google Benchmark),
# callgrind.md, dp_ring.txt, machine.txt and summary.md, the Markdown that
# bench/RESULTS.md quotes. Medians of DDI_BENCH_REPS repetitions throughout.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
reps=${DDI_BENCH_REPS:-5}
cpu=${DDI_BENCH_CPU:-1}
out=$build/bench/results
mkdir -p "$out"

ninja -C "$build" bench/bench-core bench/bench-store bench/bench-icount bench/bench-dp-ring >/dev/null

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit: $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "nproc: $(nproc)"
	echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "kernel: $(uname -r)"
	echo "buildtype: $(meson introspect --buildoptions "$build" 2>/dev/null |
		python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null || echo '?')"
	echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"
cat "$out/machine.txt"

gb=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
	--benchmark_out_format=json)

echo "== bench-core (pinned to cpu $cpu)"
DDI_BENCH_10M=${DDI_BENCH_10M:-1}
if [ "$DDI_BENCH_10M" = 0 ]; then unset DDI_BENCH_10M; else export DDI_BENCH_10M; fi
taskset -c "$cpu" "$build/bench/bench-core" "${gb[@]}" --benchmark_out="$out/core.json" \
	| tee "$out/core.txt"
unset DDI_BENCH_10M

echo "== bench-store (pinned to cpu $cpu)"
taskset -c "$cpu" "$build/bench/bench-store" "${gb[@]}" --benchmark_out="$out/store.json" \
	| tee "$out/store.txt"

echo "== callgrind"
"$src/bench/callgrind.sh" "$build" | tee "$out/callgrind.md"

echo "== bench-dp-ring"
# shellcheck disable=SC2086
"$build/bench/bench-dp-ring" ${DDI_DPRING_EAL:+$DDI_DPRING_EAL --} --runs "$reps" | tee "$out/dp_ring.txt"

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

python3 - "$out" <<'PY' >"$out/summary.md"
import json, sys, os
out = sys.argv[1]
def medians(path):
    rows = []
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        rows.append(b)
    return rows
def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
print("| benchmark | time per op (median) | CPU per op | items/s | counters |")
print("|---|---:|---:|---:|---|")
skip = {"name", "run_name", "run_type", "repetitions", "threads", "aggregate_name",
        "aggregate_unit", "iterations", "real_time", "cpu_time", "time_unit", "family_index",
        "per_family_instance_index", "repetition_index", "items_per_second"}
for f in ("core.json", "store.json"):
    p = os.path.join(out, f)
    if not os.path.exists(p):
        continue
    for b in medians(p):
        name = b["run_name"]
        unit = b["time_unit"]
        ips = b.get("items_per_second")
        cnt = ", ".join(f"{k}={fmt(v)}" for k, v in b.items() if k not in skip)
        print(f"| {name} | {fmt(b['real_time'])} {unit} | {fmt(b['cpu_time'])} {unit} | "
              f"{fmt(ips) if ips else ''} | {cnt} |")
PY
echo "== summary: $out/summary.md"
cat "$out/summary.md"
