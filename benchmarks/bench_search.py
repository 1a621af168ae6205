"""The search's efficiency (issue 18, item 3): run-steps and wall time the adaptive search of
``prd_jax.search`` spends to reach a one-octave interval of m* for both modes, against a fixed
grid that reaches the same interval: two widths per octave over the span the search ended on,
with every seed the search used at every width.

    python -m benchmarks.run --only bench_search

Rows: ``search_runsteps_ratio`` (fixed grid's run-steps / the search's; target >= 2) and
``search_wall_ratio`` (fixed grid's wall seconds / the search's, both from a cold in-process
compilation cache; target > 1), with the intervals both reach in ``params``. The setting is the
quick sweep's (n = 16, d_in = 16, d_out = 4, U and V trained, WGAN-GP critic with Adam) at a
shorter horizon, so that the fixed grid fits in a benchmark's time.
"""

import math
import time

import numpy as np

from benchmarks.common import pick


def _setting(size):
    import jax

    from prd_jax.data import sphere
    from prd_jax.kernels import gram_spectrum
    from prd_jax.search import SearchConfig
    from prd_jax.train import TrainConfig, suggest_lr

    n, d_in, d_out = pick(size, (6, 4, 1), (16, 16, 4), (16, 16, 4))
    X, Y = sphere(jax.random.key(1234), n, d_in, d_out)
    lr = suggest_lr(X, d_out, True, 0.1)
    steps = pick(size, 20, 300, 2000)
    train = TrainConfig(steps=steps, critic="wgan_gp", train_v=True, lr=lr)
    rules = SearchConfig(
        max_seeds=pick(size, 3, 15, 23), seed_step=pick(size, 1, 4, 4),
        max_width=pick(size, 16, 4096, 8192), n_boot=pick(size, 50, 300, 500),
    )  # fmt: skip
    widths = pick(size, (4, 8), (16, 512), (16, 1024))
    seeds = pick(size, 2, 7, 7)
    return X, Y, lr, train, rules, widths, seeds, float(gram_spectrum(X).lambda0) / 4


def _interval_octaves(runs, lam, horizon, threshold, log_steps):
    from prd_jax import breakdown

    sel = runs["run_lambda_adv"] == lam
    tb = breakdown.breakdown_steps(runs["kernel_dev"][sel], log_steps, threshold)
    th = breakdown.estimate_threshold(
        runs["run_width"][sel], runs["run_seed"][sel], tb <= horizon, ~runs["diverged"][sel]
    )
    return breakdown.interval_octaves(th.ci), breakdown.describe_threshold(th)


def run(size: str) -> list[dict]:
    from prd_jax import grid, search

    X, Y, lr, train, rules, widths, seeds, thr = _setting(size)
    t0 = time.perf_counter()
    found = search.run_search(
        train, X, Y, modes=(0.0, 1.0), widths=widths, seeds=seeds, metric="kernel_dev",
        threshold=thr, search=rules, lr=(lr,),
    )  # fmt: skip
    search_wall = time.perf_counter() - t0
    runs = found.runs
    w_lo, w_hi = int(runs["run_width"].min()), int(runs["run_width"].max())
    count = int(round(2 * math.log2(w_hi / w_lo)))
    fixed_widths = sorted({int(round(w_lo * 2 ** (k / 2))) for k in range(count + 1)})
    used_seeds = sorted(set(runs["run_seed"].tolist()))
    t0 = time.perf_counter()
    fixed = grid.run_grid(
        train, X, Y, seeds=used_seeds, widths=fixed_widths, lambda_adv=(0.0, 1.0), lr=(lr,)
    )
    fixed_wall = time.perf_counter() - t0
    fixed_steps = len(fixed_widths) * len(used_seeds) * 2 * train.steps
    horizon = train.steps
    spans = {}
    for name, flat in (("search", runs), ("fixed", fixed.flat())):
        for lam, mode in ((0.0, "supervised"), (1.0, "adversarial")):
            span, text = _interval_octaves(flat, lam, horizon, thr, found.log_steps)
            spans[f"{name}_{mode}"] = {"octaves": span, "m_star": text[0], "interval": text[1]}
    params = {
        "steps": train.steps,
        "search_widths": sorted(set(runs["run_width"].tolist())),
        "search_seeds": len(used_seeds),
        "search_stops": {
            ("supervised" if m == 0 else "adversarial"): why for m, why in found.stops.items()
        },  # fmt: skip
        "search_rounds": len(found.rounds),
        "fixed_widths": fixed_widths,
        "intervals": spans,
    }
    ratio = fixed_steps / found.run_steps
    wall_ratio = fixed_wall / search_wall
    reached = all(
        spans[f"search_{m}"]["octaves"] <= rules.target_octaves
        for m in ("supervised", "adversarial")
    )
    note = (
        f"search: {found.run_steps:.3g} run-steps in {search_wall:.1f}s ({len(found.rounds)} "
        f"rounds, {len(params['search_widths'])} widths, up to {len(used_seeds)} seeds); fixed "
        f"grid: {fixed_steps:.3g} run-steps in {fixed_wall:.1f}s ({len(fixed_widths)} widths x "
        f"{len(used_seeds)} seeds x 2 modes); both reach an interval of "
        + ", ".join(f"{k}: {v['octaves']:.2f}" for k, v in spans.items())
        + " octaves"
        + ("" if reached else " (the search did not reach its target here)")
    )
    return [
        dict(
            name="threshold search: run-steps of a fixed grid / the search's (same interval)",
            key="search_runsteps_ratio",
            value=ratio,
            unit="x",
            target=">= 2",
            met=ratio >= 2,
            baseline="fixed grid, two widths per octave, every seed at every width",
            baseline_value=float(fixed_steps),
            params=params,
            note=note,
        ),  # fmt: skip
        dict(
            name="threshold search: wall time of the fixed grid / the search's",
            key="search_wall_ratio",
            value=wall_ratio,
            unit="x",
            target="> 1",
            met=wall_ratio > 1,
            baseline="the same fixed grid",
            baseline_value=fixed_wall,
            params={"search_seconds": search_wall, "fixed_seconds": fixed_wall},
        ),  # fmt: skip
    ]


if __name__ == "__main__":
    for row in run("tiny"):
        print(row["key"], np.round(row["value"], 3), row.get("note", ""))
