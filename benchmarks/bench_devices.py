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


def first_breakdown(kernel_dev, threshold: float) -> np.ndarray:
    """Index of the first log point with ``kernel_dev > threshold`` per run (-1: never)."""
    over = np.asarray(kernel_dev) > threshold
    return np.where(over.any(axis=-1), over.argmax(axis=-1), -1)


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
                if k not in ("diverged", "lambda0")
            )
            close = np.mean(
                [np.isclose(a[k], b[k], rtol=1e-5, atol=1e-6).mean() for k in a.files
                 if k not in ("diverged", "lambda0")]
            )  # fmt: skip
            same_outcomes = bool(np.array_equal(a["diverged"], b["diverged"]))
            # The sweep's default criterion: broken at the first log point where
            # ||H(t) - H(0)||_2 > lambda0 / 4; the log point of each run (-1: never).
            broken = [first_breakdown(z["kernel_dev"], float(z["lambda0"]) / 4) for z in (a, b)]
            same_breakdown = int(np.sum(broken[0] == broken[1]))
            runs_total = int(broken[0].size)
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
            "fraction_of_metric_values_within_1e-5": float(close),
            "same_divergence_outcomes": same_outcomes,
            "runs_with_the_same_breakdown_log_point": f"{same_breakdown} of {runs_total}",
            "params": {
                "grid": f"bench_sweep.theorem_grid({child_size!r})",
                "buckets": one["buckets"],
            },  # fmt: skip
            "note": (
                f"1 device {one['wall_seconds']:.1f} s (run {one['run_seconds']:.1f} s), "
                f"2 devices {two['wall_seconds']:.1f} s (run {two['run_seconds']:.1f} s); "
                f"{close:.1%} of metric values agree to 1e-5; the largest relative difference "
                f"is {diff:.1e} (float32 rounding grown along a trajectory: a ReLU pattern "
                f"flipped one step apart moves the kernel deviation by a step of 1/m); "
                f"{same_breakdown} of {runs_total} runs break down (kernel criterion) at the "
                f"same log point; divergence outcomes {'the same' if same_outcomes else 'differ'}"
            ),
        }
    ]
