"""Draw the scaling tables of ``bench.json`` (rows with a ``table``): throughput against the
number of runs in a bucket and against the width, next to one run per program.

    python -m benchmarks.plot results/bench/bench.json results/bench/scaling.png
"""

import json
import sys
from pathlib import Path

from prd_jax.results import savefig_atomic


def plot_scaling(bench_json, out_png) -> Path | None:
    """Draw ``out_png`` from the JSON file; None when it holds no scaling table."""
    report = json.loads(Path(bench_json).read_text())
    rows = {row["name"]: row for row in report["results"] if row.get("table")}
    panels = [name for name in ("sweep/scaling_runs", "sweep/scaling_width") if name in rows]
    if not panels:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    env = report["environment"]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        table = rows[name]["table"]
        if name.endswith("runs"):
            x = [r["runs"] for r in table]
            batched = [r["run_steps_per_s"] for r in table]
            single = [table[0]["run_steps_per_s"]] * len(table)
            ax.set_xlabel("runs in the bucket (one program)")
            ax.set_title(f"width {rows[name]['params']['width']}")
        else:
            x = [r["width"] for r in table]
            batched = [r["run_steps_per_s"] for r in table]
            single = [r["single_run_steps_per_s"] for r in table]
            ax.set_xlabel("width m")
            ax.set_title(f"{rows[name]['params']['runs']} runs per bucket")
        ax.loglog(x, batched, "o-", label="bucket (vmapped runs)")
        ax.loglog(x, single, "s--", label="one run per program")
        ax.set_ylabel("run-steps / s (compile excluded)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"throughput on {env['backend']} ({env['device']})", fontsize=10)
    fig.tight_layout()
    out_png = Path(out_png)
    try:
        savefig_atomic(fig, out_png, dpi=110)
    finally:
        plt.close(fig)
    return out_png


if __name__ == "__main__":
    print(plot_scaling(sys.argv[1], sys.argv[2]))
