"""Peak resident memory of the quick sweep, and its growth when steps grow 10x at a fixed
number of log points (issue 11, item 4).

    python -m benchmarks.run --only memory

Each sweep runs in a fresh process (``benchmarks.memory_child``) so its peak RSS is its own;
the peak includes the Python interpreter, JAX and XLA's compiled programs.
"""

import json
import os
import subprocess
import sys

from benchmarks.common import pick

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(steps: int, log_points: int, widths: str = "") -> dict:
    """Run ``benchmarks.memory_child`` in a fresh Python and return its JSON line."""
    cmd = [sys.executable, "-m", "benchmarks.memory_child", "--steps", str(steps),
           "--log-points", str(log_points)] + (["--widths", widths] if widths else [])  # fmt: skip
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory_child failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(size: str) -> list[dict]:
    steps = pick(size, 10, 50, 100)
    log_points = pick(size, 5, 10, 20)
    widths = pick(size, "16,32", "", "")
    small = child(steps, log_points, widths)
    large = child(10 * steps, log_points, widths)
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    params = {"steps": [steps, 10 * steps], "log_points": small["log_points"],
              "widths": small["widths"], "grid": "quick preset"}  # fmt: skip
    return [
        {
            "name": "memory/peak_rss_quick",
            "key": "peak_rss_mb",
            "value": large["peak_rss_mb"],
            "unit": "MB (peak RSS, whole process)",
            "params": params,
            "runs": [small, large],
        },
        {
            "name": "memory/rss_growth_10x_steps",
            "key": "rss_growth_10x_steps",
            "value": growth,
            "unit": "ratio",
            "baseline": f"{steps} steps",
            "baseline_value": small["peak_rss_mb"],
            "target": "<= 1.1x",
            "met": growth <= 1.1,
            "params": params,
        },
    ]
