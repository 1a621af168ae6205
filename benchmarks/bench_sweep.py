"""The sweep engine: one vmapped, padded program per bucket against a Python loop of runs.

Both sides train the same runs (4 seeds x 2 widths x lambda_adv in {0, 1}, n = 16, d_in = 16,
d_out = 4, WGAN-GP critic) with the same per-step work; the loop runs each at its exact width
with one compiled function per width. Times are medians of repeated calls, compilation
excluded (compile times are reported on their own rows).
"""

import dataclasses
import itertools
import statistics
import time

import jax

import prd_jax
from prd_jax import grid
from prd_jax.train import TrainConfig, make_train


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(quick: bool) -> list[dict]:
    steps, repeats = (200, 3) if quick else (1000, 5)
    n, d_in, d_out, seeds, lambdas = 16, 16, 4, range(4), (0.0, 1.0)
    train_cfg = TrainConfig(
        steps=steps, critic="wgan_gp", train_v=True, log_schedule="linear", log_every=steps // 4
    )
    X, Y = prd_jax.sphere(jax.random.key(1234), n, d_in, d_out)
    lr = prd_jax.suggest_lr(X, d_out, True, 0.1)
    bucket = (128, 256)
    runs = len(seeds) * len(bucket) * len(lambdas)

    # One program for the bucket through the grid engine: padded to 256, vmapped over runs.
    def vmapped():
        return grid.run_grid(
            train_cfg, X, Y, seeds=seeds, widths=bucket, lambda_adv=lambdas, lr=lr
        ).metrics["loss_sup"]

    t0 = time.perf_counter()
    vmapped()
    compile_vmapped = time.perf_counter() - t0
    t_vmapped = _median_time(vmapped, repeats)

    # The loop: one compiled function per exact width, called run by run.
    singles, compile_loop = {}, 0.0
    for w in bucket:
        wcfg = dataclasses.replace(train_cfg, width=w)
        singles[w] = jax.jit(make_train(wcfg)), wcfg
        t0 = time.perf_counter()
        jax.block_until_ready(singles[w][0](jax.random.key(0), wcfg.hparams(lr=lr), X, Y))
        compile_loop += time.perf_counter() - t0

    def loop():
        out = []
        for seed, w, lam in itertools.product(seeds, bucket, lambdas):
            fn, wcfg = singles[w]
            hp = wcfg.hparams(lr=lr, lambda_adv=lam)
            out.append(fn(jax.random.key(seed), hp, X, Y).metrics["loss_sup"])
        return out

    t_loop = _median_time(loop, repeats)
    params = {"runs": runs, "steps": steps, "bucket": list(bucket), "n": n, "d_in": d_in}
    return [
        {
            "name": "sweep/bucket_vmapped",
            "value": runs * steps / t_vmapped,
            "unit": "run-steps/s",
            "baseline": "Python loop of jitted exact-width runs",
            "baseline_value": runs * steps / t_loop,
            "speedup": t_loop / t_vmapped,
            "repeats": repeats,
            "params": params,
            "note": f"grid.run_grid; padded/exact FLOPs {grid.padding_overhead([bucket]):.2f}",
        },
        {
            "name": "sweep/bucket_compile",
            "value": compile_vmapped,
            "unit": "s (first call, one program)",
            "baseline": "one compile per width (first calls)",
            "baseline_value": compile_loop,
            "repeats": 1,
            "params": params,
        },
    ]
