"""The overhead-bound regime (issue 18, item 5): run-steps per second of small buckets.

    python -m benchmarks.run --only overhead

The Theorem 1-2 setting of ``bench_sweep`` (n = 32, d_in = 16, d_out = 1, only U trained, a
WGAN-GP critic by plain gradient ascent), one bucket of 8 runs (4 seeds x lambda_adv {0, 1})
at m = 32, 128 and 512, where a step is tens of microseconds of fixed cost (loop, critic
update, divergence guard, random draws) rather than arithmetic. Programs timed interleaved,
compile excluded, a step's time as ``(t(S) - t(S0)) / (S - S0)`` of two programs with one log
point each (log points and set-up cancel):

* ``project``: the grid engine's bucket program, ``jit(vmap(make_train(cfg)))`` lowered as
  ``grid._run_bucket`` lowers it (``train.unrolled_threefry_on_cpu``: no while loop per
  random draw);
* ``before``: the same program with JAX's default CPU lowering of ``threefry2x32`` (a
  5-iteration while loop per draw, three draws per step): the program before issue 18;
* ``frozen critic``: the project's program with the critic frozen (no critic update, one
  draw per step): what the critic update costs;
* ``baseline``: the careful researcher's ``jit(vmap(scan))`` of ``benchmarks.baseline`` (4 seeds
  per call, one call per lambda_adv), the baseline of ``sweep_speedup_vs_baseline``.

The profile next to it: the step loop's XLA operations in each program (fusions in the step
loop's body, while loops in the program), from the compiled HLO.
"""

import re
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import prd_jax
from benchmarks import baseline
from benchmarks.common import pick
from prd_jax.train import TrainConfig, make_train, unrolled_threefry_on_cpu

CRITIC_LR_PER_STEP = 0.05  # bench_sweep's plain gradient ascent step


def _program(cfg, X, Y, seeds, unrolled: bool):
    """``(call, compiled)`` of the 8-run bucket ``jit(vmap(make_train(cfg)))``."""
    runs = 2 * len(seeds)
    keys = jnp.stack([jax.random.key(s) for s in list(seeds) * 2])
    lam = np.repeat([0.0, 1.0], len(seeds))
    lr = cfg.lr
    hp = cfg.hparams(lr=np.full(runs, lr), lambda_adv=lam)
    f = jax.jit(jax.vmap(make_train(cfg), in_axes=(0, 0, None, None)))
    if unrolled:
        with unrolled_threefry_on_cpu():
            lowered = f.lower(keys, hp, X, Y)
    else:
        lowered = f.lower(keys, hp, X, Y)
    compiled = lowered.compile()
    jax.block_until_ready(compiled(keys, hp, X, Y))
    return (lambda: jax.block_until_ready(compiled(keys, hp, X, Y))), compiled


def step_ops(compiled) -> dict:
    """XLA operations of a compiled training program: ``while_loops`` in the whole program and
    ``step_fusions``, the fused kernels of the busiest while body (the step loop)."""
    text = compiled.as_text()
    bodies = {}
    for block in re.split(r"\n(?=\S[^\n]*\{\n)", text):
        name = block.split(" ", 1)[0].lstrip("%")
        bodies[name] = block
    body_names = set(re.findall(r"body=%?([\w.\-]+)", text))
    fusions = [bodies[b].count(" fusion(") for b in body_names if b in bodies]
    return {"step_fusions": max(fusions, default=0), "while_loops": text.count(" while(")}


def run(size: str) -> list[dict]:
    widths = pick(size, (8,), (32, 128, 512), (32, 128, 512))
    s0, s1 = pick(size, (20, 420), (50, 550), (100, 2100))
    repeats = pick(size, 2, 3, 5)
    seeds = range(4)
    X, Y = prd_jax.sphere(jax.random.key(1234), 32, 16, 1)
    lr = prd_jax.suggest_lr(X, 1, False, 0.5)

    def cfg(m, steps, critic="wgan_gp"):
        return TrainConfig(
            width=m, steps=steps, lr=lr, critic=critic, critic_optimizer="sgd",
            critic_lr=CRITIC_LR_PER_STEP / lr, train_v=False, log_schedule="linear",
            log_every=steps,
        )  # fmt: skip

    table, fns, ops = [], {}, {}
    for m in widths:
        for steps in (s0, s1):
            fns[("project", m, steps)], compiled = _program(cfg(m, steps), X, Y, seeds, True)
            ops[("project", m)] = step_ops(compiled)
            fns[("before", m, steps)], compiled = _program(cfg(m, steps), X, Y, seeds, False)
            ops[("before", m)] = step_ops(compiled)
            fns[("frozen critic", m, steps)], _ = _program(
                cfg(m, steps, "frozen"), X, Y, seeds, True
            )
            base = baseline.make_sweep_fn(m, steps, steps, CRITIC_LR_PER_STEP)
            args = (jnp.asarray(list(seeds), jnp.int32), X, jnp.asarray(Y)[:, 0], jnp.float32(lr))
            jax.block_until_ready(base(*args, jnp.float32(0.0)))
            fns[("baseline", m, steps)] = lambda base=base, args=args: jax.block_until_ready(
                [base(*args, jnp.float32(lam)) for lam in (0.0, 1.0)]
            )
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    runs = 2 * len(seeds)
    for m in widths:
        row = {"width": m}
        for prog in ("project", "before", "frozen critic", "baseline"):
            t1, t0 = (statistics.median(times[(prog, m, s)]) for s in (s1, s0))
            step = (t1 - t0) / (s1 - s0)
            row[f"{prog} run_steps_per_s"] = runs / max(step, 1e-12)
            row[f"{prog} us_per_step"] = step * 1e6
        row.update({f"project {k}": v for k, v in ops[("project", m)].items()})
        row.update({f"before {k}": v for k, v in ops[("before", m)].items()})
        table.append(row)
    params = {"n": 32, "d_in": 16, "d_out": 1, "runs": runs, "critic": "wgan_gp (sgd)",
              "steps": [s0, s1], "repeats": repeats}  # fmt: skip
    rows = []
    for row in table:
        m, value = row["width"], row["project run_steps_per_s"]
        base_value = row["baseline run_steps_per_s"]
        rows.append(
            {
                "name": f"overhead/run_steps_per_s_m{m}",
                "key": f"run_steps_per_s_m{m}",
                "value": value,
                "unit": f"run-steps/s (8 runs at m = {m}, compile excluded)",
                "baseline": "careful researcher's jit(vmap(scan)), same runs",
                "baseline_value": base_value,
                "speedup": value / base_value,
                "before_issue_18": row["before run_steps_per_s"],
                "speedup_vs_before": value / row["before run_steps_per_s"],
                "params": params | {"width": m},
            }
        )
    rows.append(
        {
            "name": "overhead/profile",
            "value": table[0]["project us_per_step"],
            "unit": f"us per step at m = {widths[0]} (8 runs)",
            "baseline": "the same program with JAX's default (rolled) CPU threefry",
            "baseline_value": table[0]["before us_per_step"],
            "speedup": table[0]["before us_per_step"] / table[0]["project us_per_step"],
            "table": table,
            "params": params,
            "note": "; ".join(
                f"m {r['width']}: {r['project us_per_step']:.0f} us per step "
                f"({r['project step_fusions']} fusions, {r['project while_loops']} while loops), "
                f"before {r['before us_per_step']:.0f} us ({r['before step_fusions']} fusions, "
                f"{r['before while_loops']} while loops), frozen critic "
                f"{r['frozen critic us_per_step']:.0f} us, "
                f"baseline {r['baseline us_per_step']:.0f} us"
                for r in table
            ),
        }
    )
    return rows
