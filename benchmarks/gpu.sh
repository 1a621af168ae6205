#!/usr/bin/env bash
# One prepared command for an accelerator (issue 11, item 6):
#
#     benchmarks/gpu.sh OUT_DIR            # on one GPU: throughput, FLOP fraction, paper sweep
#     benchmarks/gpu.sh OUT_DIR --tiny     # seconds, on any machine: the smoke test
#
# Writes, under OUT_DIR:
#   bench/bench.json, bench.md, scaling.png   benchmarks.run --only flops,sweep (the FLOP
#                                             fraction, compile times, scaling tables and the
#                                             baseline comparison, on this device)
#   sweep_paper/                              experiments.sweep --preset paper (its own files),
#                                             with an empty compilation cache (jax-cache/)
#   gpu.json                                  the device, each part's wall seconds, the paper
#                                             sweep's time against its target (8 min), its
#                                             compile seconds, and the FLOP fraction
# GPU_BENCH_ONLY overrides the benchmark modules run (default flops,sweep).
# PYTHON picks the interpreter (default: .venv/bin/python if present, else python3); it must
# have a JAX for the device (pip install -e '.[cuda]'). Nothing is downloaded.
set -euo pipefail

usage="usage: benchmarks/gpu.sh OUT_DIR [--tiny]"
OUT="${1:?$usage}"
MODE="${2:-}"
case "$MODE" in
  "") SIZE=full; PRESET=paper ;;
  --tiny) SIZE=tiny; PRESET=tiny ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

now() { "$PYTHON" -c 'import time; print(time.time())'; }

t0=$(now)
"$PYTHON" -m benchmarks.run --size "$SIZE" --only "${GPU_BENCH_ONLY:-flops,sweep}" --out "$OUT/bench"
t1=$(now)
rm -rf "$OUT/jax-cache"  # a cold compilation cache: the time a first run takes
"$PYTHON" -m experiments.sweep --preset "$PRESET" --out "$OUT/sweep_paper" --overwrite \
  --compile-cache "$OUT/jax-cache" \
  > "$OUT/sweep_paper.log" 2>&1 || { tail -n 20 "$OUT/sweep_paper.log" >&2; exit 1; }
t2=$(now)

"$PYTHON" - "$OUT" "$PRESET" "$t0" "$t1" "$t2" <<'PY'
import json, re, sys
import jax

out, preset, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
dev = jax.devices()[0]
sweep_s = t2 - t1
summary = json.load(open(f"{out}/sweep_paper/summary.json"))
headline = json.load(open(f"{out}/bench/bench.json"))["headline"]
# The sweep's last line: "compile cache ...; 5 bucket compiles, 12.3 s (largest 4.1 s)".
lines = [l for l in open(f"{out}/sweep_paper.log") if "bucket compiles" in l]
found = re.search(r"bucket compiles, ([0-9.]+) s", lines[-1]) if lines else None
record = {
    "device": getattr(dev, "device_kind", str(dev)),
    "backend": jax.default_backend(),
    "device_count": jax.device_count(),
    "jax": jax.__version__,
    "bench_seconds": t1 - t0,
    "sweep_preset": preset,
    "sweep_seconds": sweep_s,
    "sweep_target_seconds": 480.0,
    "sweep_target_met": sweep_s <= 480.0,
    "sweep_compile_seconds": float(found.group(1)) if found else None,
    "sweep_buckets": summary.get("buckets"),  # a fixed grid's; a search's are per round
    "sweep_run_steps": summary.get("search", {}).get("run_steps"),
    "flop_fraction_of_peak": headline.get("flop_fraction_of_peak"),
    "bench_headline": headline,
}
from prd_jax.results import write_json_atomic

write_json_atomic(f"{out}/gpu.json", record)
print(json.dumps(record, indent=1))
PY
