"""The project's width sweep against a careful researcher's JAX code, compile times, scaling.

    python -m benchmarks.run --only sweep

Rows:
  * ``sweep/end_to_end_vs_baseline``: the Theorem 1-2 grid of issue 11 (n = 32, d_in = 16,
    d_out = 1, U only, eta = 1/lambda_max(H_inf), widths 32 .. 8192, 4 seeds, lambda_adv in
    {0, 1}, WGAN-GP critic by plain gradient ascent at 0.05, metrics every 100 steps), wall
    seconds with compiles, ``prd_jax.grid.run_grid`` against ``benchmarks.baseline``. Width by
    width, interleaved (baseline, then the project's bucket of that width: each width is its
    own bucket at bucket_ratio 2, so the programs are those of one ``run_grid`` call), so the
    machine's load hits both alike. The supervised runs of both must agree first.
  * ``sweep/compile_quick``: compile seconds of each bucket of the quick sweep preset.
  * ``sweep/scaling_runs`` and ``sweep/scaling_width``: throughput (run-steps/s, compile
    excluded) against the number of runs in a bucket and against the width, with the
    single-run throughput of the same width as baseline: where batching starts to pay.
"""

import dataclasses
import time

import jax

import prd_jax
from benchmarks import baseline
from benchmarks.common import pick
from prd_jax import grid
from prd_jax.train import TrainConfig

CRITIC_LR_PER_STEP = 0.05  # the plain gradient ascent step


def theorem_grid(size: str) -> dict:
    """The issue's Theorem 1-2 grid at ``size``."""
    return dict(
        n=32,
        d_in=16,
        steps=pick(size, 20, 600, 3000),
        log_every=pick(size, 10, 100, 100),
        widths=pick(size, (8, 32), (32, 128, 512, 2048), (32, 128, 512, 2048, 8192)),
        seeds=pick(size, 2, 4, 4),
        lambdas=(0.0, 1.0),
    )


def end_to_end(size: str) -> list[dict]:
    g = theorem_grid(size)
    X, Y = prd_jax.sphere(jax.random.key(1234), g["n"], g["d_in"], 1)
    lr = prd_jax.suggest_lr(X, 1, False, 0.5)  # 1 / lambda_max(H_inf)
    cfg = TrainConfig(
        steps=g["steps"],
        critic="wgan_gp",
        critic_optimizer="sgd",
        critic_lr=CRITIC_LR_PER_STEP / lr,  # per unit of t: the step is critic_lr * lr = 0.05
        train_v=False,
        log_schedule="linear",
        log_every=g["log_every"],
    )
    t_base, t_proj, compile_proj, per_width, base = 0.0, 0.0, [], [], {}
    seeds = range(g["seeds"])
    projects = []
    for m in g["widths"]:
        t0 = time.perf_counter()
        base.update(baseline.sweep(X, Y, [m], seeds, g["lambdas"], lr, g["steps"], g["log_every"]))
        t1 = time.perf_counter()
        res = grid.run_grid(cfg, X, Y, seeds=seeds, widths=[m], lambda_adv=g["lambdas"], lr=lr)
        t2 = time.perf_counter()
        projects.append(res)
        t_base += t1 - t0
        t_proj += t2 - t1
        compile_proj.append(res.timings[0]["compile_seconds"])
        per_width.append({"width": m, "baseline_s": t1 - t0, "project_s": t2 - t1})
    agree = {
        name: max(
            baseline.agreement({k: v for k, v in base.items() if k[0] == m}, r)[name]
            for m, r in zip(g["widths"], projects, strict=True)
        )
        for name in ("residual", "drift_max", "kernel_dev")
    }
    params = {k: list(v) if isinstance(v, tuple) else v for k, v in g.items()}
    return [
        {
            "name": "sweep/end_to_end_vs_baseline",
            "key": "sweep_speedup_vs_baseline",
            "value": t_base / t_proj,
            "unit": "x (baseline s / project s, compiles included)",
            "baseline": "careful researcher's jit(vmap(scan)) per width and lambda, s",
            "baseline_value": t_base,
            "project_seconds": t_proj,
            "speedup": t_base / t_proj,
            "target": ">= 4x",
            "met": t_base / t_proj >= 4.0,
            "repeats": 1,
            "params": params,
            "per_width": per_width,
            "project_compile_s": compile_proj,
            "agreement_lambda0": agree,
            "note": (
                f"project {t_proj:.1f} s, baseline {t_base:.1f} s; "
                "largest relative difference of the supervised runs' metrics, baseline vs "
                f"project: {', '.join(f'{k} {v:.1e}' for k, v in agree.items())}; the project "
                "also records 16 more metrics at every log point (KS, spectra, reaction and "
                "diffusion, ...)"
            ),
        }
    ]


def compile_quick(size: str) -> list[dict]:
    """Compile seconds per bucket of the quick sweep preset (steps cut: compile time does not
    depend on the step count, only on the shapes and the log schedule's length)."""
    from experiments.sweep import PRESETS

    quick = PRESETS["quick"]
    widths = pick(size, (16, 32), quick.widths, quick.widths)
    cfg = dataclasses.replace(quick.train, steps=pick(size, 10, 50, 50))
    X, Y = prd_jax.sphere(jax.random.key(quick.data_seed), quick.n, quick.d_in, quick.d_out)
    res = grid.run_grid(
        cfg, X, Y, seeds=range(quick.seeds), widths=widths, lambda_adv=quick.lambda_adv,
        lr=prd_jax.suggest_lr(X, quick.d_out, True, quick.lr_safety),
    )  # fmt: skip
    secs = [t["compile_seconds"] for t in res.timings]
    return [
        {
            "name": "sweep/compile_quick",
            "key": "compile_seconds_quick",
            "value": max(secs),
            "unit": "s per bucket (largest)",
            "target": "<= 3 s per bucket",
            "met": max(secs) <= 3.0,
            "repeats": 1,
            "per_bucket": [
                {"widths": t["widths"], "compile_s": t["compile_seconds"]} for t in res.timings
            ],
            "params": {"widths": list(widths), "runs_per_bucket": 2 * quick.seeds * 2},
            "init_seconds": res.timings[0].get("init_seconds", 0.0),
            "note": "per bucket: "
            + ", ".join(f"{s:.1f}" for s in secs)
            + f" s; once per grid, the initial weights' program: "
            f"{res.timings[0].get('init_seconds', 0.0):.2f} s (compile and run)",
        }
    ]


def _throughput(cfg, X, Y, runs: int, width: int, lr: float) -> float:
    """Run-steps per second of one bucket of ``runs`` runs at ``width``, compile excluded
    (``run_grid`` times its ahead-of-time compile apart from the run)."""
    res = grid.run_grid(cfg, X, Y, seeds=range(runs), widths=[width], lr=lr)
    return runs * cfg.steps / res.timings[0]["run_seconds"]


def scaling(size: str) -> list[dict]:
    X, Y = prd_jax.sphere(jax.random.key(1234), 32, 16, 1)
    lr = prd_jax.suggest_lr(X, 1, False, 0.5)
    cfg = TrainConfig(
        steps=pick(size, 10, 200, 300), critic="wgan_gp", train_v=True, log_schedule="linear",
        log_every=pick(size, 5, 100, 100),
    )  # fmt: skip
    runs_axis = pick(size, (1, 2), (1, 4, 16), (1, 4, 16, 64))
    width_axis = pick(size, (16, 64), (64, 512, 4096), (128, 1024, 8192))
    fixed_width, fixed_runs = pick(size, 32, 512, 1024), pick(size, 2, 8, 8)
    by_runs = [
        {"runs": r, "run_steps_per_s": _throughput(cfg, X, Y, r, fixed_width, lr)}
        for r in runs_axis
    ]
    single = {}
    by_width = []
    for w in width_axis:
        single[w] = _throughput(cfg, X, Y, 1, w, lr)
        by_width.append(
            {
                "width": w,
                "run_steps_per_s": _throughput(cfg, X, Y, fixed_runs, w, lr),
                "single_run_steps_per_s": single[w],
            }
        )
    one = by_runs[0]["run_steps_per_s"]
    best = max(by_runs, key=lambda r: r["run_steps_per_s"])
    params = {"n": 32, "d_in": 16, "d_out": 1, "steps": cfg.steps, "critic": "wgan_gp"}
    return [
        {
            "name": "sweep/scaling_runs",
            "value": best["run_steps_per_s"],
            "unit": f"run-steps/s (best, at {best['runs']} runs, width {fixed_width})",
            "baseline": "one run per program",
            "baseline_value": one,
            "speedup": best["run_steps_per_s"] / one,
            "table": by_runs,
            "params": params | {"width": fixed_width},
        },
        {
            "name": "sweep/scaling_width",
            "value": by_width[-1]["run_steps_per_s"],
            "unit": f"run-steps/s ({fixed_runs} runs at width {width_axis[-1]})",
            "baseline": "one run per program, same width",
            "baseline_value": by_width[-1]["single_run_steps_per_s"],
            "speedup": by_width[-1]["run_steps_per_s"] / by_width[-1]["single_run_steps_per_s"],
            "table": by_width,
            "params": params | {"runs": fixed_runs},
        },
    ]


def run(size: str) -> list[dict]:
    return end_to_end(size) + compile_quick(size) + scaling(size)
