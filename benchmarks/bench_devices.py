"""``--set cpu_devices=N``: the run axis split over N host devices (issue 18, item 4).

    python -m benchmarks.run --only devices

The Theorem 1-2 grid of ``bench_sweep`` (buckets by cost) in two fresh processes
(``benchmarks.devices_child``), on 1 and on 2 CPU devices, each with an empty persistent
compilation cache; the speed-up is end-to-end (compiles included), with the run-only speed-up
next to it, and the largest relative difference of any metric between the two (float32
rounding: each device runs its half of the runs as a smaller program). The default stays 1,
so numbers do not depend on the machine.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks.common import pick

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(devices: int, size: str, npz: str, cache: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.devices_child", "--cpu-devices", str(devices),
           "--size", size, "--npz", npz]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PRD_JAX_CACHE_DIR=cache)  # fmt: skip
    env.pop("XLA_FLAGS", None)  # the device count is the child's --cpu-devices alone
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"devices_child failed: {out.stderr.strip().splitlines()[-3:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(size: str) -> list[dict]:
    child_size = pick(size, "tiny", "quick", "full")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for n in (1, 2):
            runs[n] = child(n, child_size, f"{tmp}/dev{n}.npz", f"{tmp}/cache{n}")
        with np.load(f"{tmp}/dev1.npz") as a, np.load(f"{tmp}/dev2.npz") as b:
            diff = max(
                float(np.max(np.abs(a[k] - b[k])) / max(float(np.max(np.abs(a[k]))), 1e-30))
                for k in a.files
                if k != "diverged"
            )
            same_outcomes = bool(np.array_equal(a["diverged"], b["diverged"]))
    one, two = runs[1], runs[2]
    speedup = one["wall_seconds"] / two["wall_seconds"]
    return [
        {
            "name": "devices/cpu_devices_2_vs_1",
            "key": "cpu_devices_speedup",
            "value": speedup,
            "unit": "x (1 device s / 2 devices s, compiles included)",
            "baseline": "cpu_devices=1 (the default), s",
            "baseline_value": one["wall_seconds"],
            "speedup": speedup,
            "run_only_speedup": one["run_seconds"] / two["run_seconds"],
            "children": runs,
            "max_relative_metric_difference": diff,
            "same_divergence_outcomes": same_outcomes,
            "params": {
                "grid": f"bench_sweep.theorem_grid({child_size!r})",
                "buckets": one["buckets"],
            },  # fmt: skip
            "note": (
                f"1 device {one['wall_seconds']:.1f} s (run {one['run_seconds']:.1f} s), "
                f"2 devices {two['wall_seconds']:.1f} s (run {two['run_seconds']:.1f} s); "
                f"metrics differ by at most {diff:.1e} (relative: float32 rounding)"
            ),
        }
    ]
