"""One grid on ``--cpu-devices`` host devices in a fresh process; prints one JSON line.

    python -m benchmarks.devices_child --cpu-devices 2 --size quick --npz /tmp/out.npz

The Theorem 1-2 grid of ``bench_sweep`` (its buckets by cost), split over N CPU devices the
way ``experiments.sweep`` does it (``use_cpu_devices`` before JAX starts); ``bench_devices``
runs it for N = 1 and 2 and compares. The persistent compilation cache is whatever the
environment says (``bench_devices`` gives each child an empty folder).
"""

import argparse
import json
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.devices_child")
    parser.add_argument("--cpu-devices", type=int, required=True)
    parser.add_argument("--size", default="quick")
    parser.add_argument("--npz", default="", help="also save the metrics here")
    args = parser.parse_args(argv)

    from experiments.sweep import use_cpu_devices

    devices = use_cpu_devices(args.cpu_devices)  # before anything starts JAX's backend
    import jax
    import numpy as np

    import prd_jax
    from benchmarks.bench_sweep import CRITIC_LR_PER_STEP, theorem_grid
    from prd_jax import grid
    from prd_jax.train import TrainConfig

    g = theorem_grid(args.size)
    X, Y = prd_jax.sphere(jax.random.key(1234), g["n"], g["d_in"], 1)
    lr = prd_jax.suggest_lr(X, 1, False, 0.5)
    cfg = TrainConfig(steps=g["steps"], critic="wgan_gp", critic_optimizer="sgd",
                      critic_lr=CRITIC_LR_PER_STEP / lr, train_v=False, log_schedule="linear",
                      log_every=g["log_every"])  # fmt: skip
    t0 = time.perf_counter()
    res = grid.run_grid(cfg, X, Y, seeds=range(g["seeds"]), widths=g["widths"],
                        bucket_ratio=None, lambda_adv=g["lambdas"], lr=lr)  # fmt: skip
    wall = time.perf_counter() - t0
    if args.npz:
        lambda0 = prd_jax.gram_spectrum(X).lambda0
        np.savez(args.npz, **res.metrics, diverged=res.diverged, lambda0=lambda0)
    out = {
        "cpu_devices": devices,
        "device_count": jax.device_count(),
        "wall_seconds": wall,
        "compile_seconds": sum(t["compile_seconds"] for t in res.timings),
        "run_seconds": sum(t["run_seconds"] for t in res.timings),
        "buckets": [list(b) for b in res.buckets],
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
