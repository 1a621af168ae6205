"""The sweep engine: one vmapped, padded program per bucket against a Python loop of runs.

Both sides train the same runs (4 seeds x 2 widths x lambda_adv in {0, 1}, n = 16, d_in = 16,
d_out = 4, WGAN-GP critic) with the same per-step work; the loop runs each at its exact width
with one compiled function per width. Times are medians of repeated calls, compilation
excluded (compile times are reported on their own rows).
"""

import dataclasses
import statistics
import time

import jax
import jax.numpy as jnp

import prd_jax
from prd_jax import sweep
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
    cfg = sweep.SweepConfig(
        widths=(128, 256), seeds=4, lambda_adv=(0.0, 1.0), n=16, d_in=16, d_out=4,
        train=TrainConfig(steps=steps, critic="wgan_gp", train_v=True,
                          log_schedule="linear", log_every=steps // 4),
    )  # fmt: skip
    X, Y = prd_jax.sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out)
    lr = prd_jax.suggest_lr(X, cfg.d_out, True, 0.1)
    bucket = (128, 256)
    grid = sweep.bucket_grid(cfg, bucket, (lr,))
    runs = len(grid.seed)

    # One program for the bucket: padded to 256, vmapped over every run.
    padded_cfg = dataclasses.replace(cfg.train, width=max(bucket))
    batched = jax.jit(jax.vmap(make_train(padded_cfg), in_axes=(0, 0, None, None)))
    keys = jnp.stack([jax.random.key(int(s)) for s in grid.seed])
    hp = padded_cfg.hparams(lr=grid.lr, lambda_adv=grid.lambda_adv, width=grid.width)
    t0 = time.perf_counter()
    jax.block_until_ready(batched(keys, hp, X, Y))
    compile_vmapped = time.perf_counter() - t0
    t_vmapped = _median_time(lambda: batched(keys, hp, X, Y), repeats)

    # The loop: one compiled function per exact width, called run by run.
    singles, compile_loop = {}, 0.0
    for w in bucket:
        wcfg = dataclasses.replace(cfg.train, width=w)
        singles[w] = jax.jit(make_train(wcfg)), wcfg
        t0 = time.perf_counter()
        jax.block_until_ready(singles[w][0](keys[0], wcfg.hparams(lr=lr), X, Y))
        compile_loop += time.perf_counter() - t0

    def loop():
        out = []
        for i in range(runs):
            fn, wcfg = singles[int(grid.width[i])]
            hpi = wcfg.hparams(lr=lr, lambda_adv=float(grid.lambda_adv[i]))
            out.append(fn(keys[i], hpi, X, Y).metrics["loss_sup"])
        return out

    t_loop = _median_time(loop, repeats)
    params = {"runs": runs, "steps": steps, "bucket": list(bucket), "n": cfg.n, "d_in": cfg.d_in}
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
            "note": f"padded/exact FLOPs {sweep.padding_overhead([bucket]):.2f}",
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
