"""One sweep in a fresh process, then its peak resident memory as one JSON line on stdout.

    python -m benchmarks.memory_child --steps 1000 --log-points 20 [--widths 16,32]

The quick sweep preset's grid (``experiments.sweep.PRESETS["quick"]``) with ``steps`` steps
and a linear schedule of ``log-points`` log points (so steps can grow at a fixed number of
log points); ``bench_memory`` runs it twice and compares.
"""

import argparse
import dataclasses
import json
import resource
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_child")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--log-points", type=int, default=20)
    parser.add_argument("--widths", default="", help="comma-separated; default the preset's")
    args = parser.parse_args(argv)

    import jax

    import prd_jax
    from experiments.sweep import PRESETS
    from prd_jax import grid

    quick = PRESETS["quick"]
    widths = tuple(int(w) for w in args.widths.split(",")) if args.widths else quick.widths
    cfg = dataclasses.replace(
        quick.train,
        steps=args.steps,
        log_schedule="linear",
        log_every=max(args.steps // args.log_points, 1),
    )
    X, Y = prd_jax.sphere(jax.random.key(quick.data_seed), quick.n, quick.d_in, quick.d_out)
    res = grid.run_grid(
        cfg, X, Y, seeds=range(quick.seeds), widths=widths, lambda_adv=quick.lambda_adv,
        lr=prd_jax.suggest_lr(X, quick.d_out, True, quick.lr_safety),
    )  # fmt: skip
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    out = {
        "peak_rss_mb": peak_kb / 1024.0,
        "steps": args.steps,
        "log_points": len(res.log_steps),
        "widths": list(widths),
        "run_seconds": sum(t["run_seconds"] for t in res.timings),
        "compile_seconds": sum(t["compile_seconds"] for t in res.timings),
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
