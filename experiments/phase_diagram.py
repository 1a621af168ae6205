"""How strong must the adversary be to break the kernel regime at width m? The threshold
m*(T) against lambda_adv: a phase diagram over (m, lambda_adv, T).

    python -m experiments.phase_diagram --preset quick   # ~3-5 min on 2 CPU cores
    python -m experiments.phase_diagram --preset paper   # accelerator
    python -m experiments.phase_diagram --preset tiny    # seconds (smoke test)

The sweep's setting (n points on the sphere, Gaussian targets in R^d_out, U and V trained,
WGAN-GP critic with Adam) at several adversarial weights lambda_adv (0 is supervised). For each
weight the adaptive search of ``prd_jax.search`` brackets and refines m*(T) (one mode per
weight: a traced axis, so every weight runs through the same compiled programs); the analysis is
``prd_jax.analysis``'s. Findings: m*(T) per weight at each reported horizon with its interval;
per horizon, the smallest weight whose runs break at more widths than the supervised ones,
seed by seed (a comparison over seeds, paired by initialisation); and how m*(T) moves between
consecutive weights (smoothly, or in one jump).
"""

import dataclasses
import math

import numpy as np

from experiments import common
from experiments.plots import phase_diagram as figure
from prd_jax import claims
from prd_jax.search import SearchConfig
from prd_jax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Config:
    lambda_adv: tuple[float, ...] = (0.0, 0.1, 0.3, 1.0, 3.0)  # adversarial weights (0 first)
    widths: tuple[int, int] = (16, 1024)  # the search's start: one width per octave between
    seeds: int = 7  # the start's seeds (>= 7 for a 95% interval of m*)
    n: int = 16  # samples, uniform on the unit sphere
    d_in: int = 16
    d_out: int = 4
    lr_safety: float = 0.1  # lr = lr_safety * 2 / lambda_max (gradient-flow-like)
    steps: int = 2000  # generator steps (geometric log points, 9 per decade)
    critic_lr: float = 5e-3  # Adam critic, rate per unit of t = lr * steps
    data_seed: int = 1234
    bootstrap: int = 500  # seed-bootstrap replicates of the thresholds
    search_rules: SearchConfig = SearchConfig(max_seeds=15, budget_run_steps=2.5e6)

    def __post_init__(self):
        common.check(self, positive=("widths", "seeds", "n", "d_in", "d_out", "lr_safety"))
        common.check(self, positive=("steps", "critic_lr", "bootstrap"))
        common.check(self, nonnegative=("lambda_adv",))
        lam = self.lambda_adv
        if 0.0 not in lam or len(set(lam)) != len(lam) or len(lam) < 2:
            raise ValueError(
                f"Config.lambda_adv must hold 0 (supervised) and at least one other weight, "
                f"without repeats, got {lam!r}"
            )
        if len(self.widths) != 2 or self.widths[0] > self.widths[1]:
            raise ValueError(f"Config.widths must be (narrowest, widest), got {self.widths!r}")


PRESETS = {
    "quick": Config(),
    "paper": Config(
        lambda_adv=(0.0, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
        widths=(32, 4096),
        seeds=9,
        n=64,
        d_in=64,
        steps=23000,
        bootstrap=1000,
        search_rules=SearchConfig(max_seeds=31, budget_run_steps=None),
    ),  # fmt: skip
    "tiny": Config(
        lambda_adv=(0.0, 1.0),
        widths=(4, 8),
        seeds=2,
        n=6,
        d_in=4,
        d_out=1,
        steps=20,
        bootstrap=50,
        search_rules=SearchConfig(max_seeds=3, seed_step=1, n_boot=50, max_width=16),
    ),  # fmt: skip
}


def widths_broken_per_seed(runs, names, horizon_tb, mode, seeds_all):
    """Per seed: widths broken by T under ``mode`` minus under supervision, over the widths both
    trained for that seed where neither diverged (seeds without one are left out)."""
    lam = runs["run_lambda_adv"]
    diffs = []
    for s in seeds_all:
        counts, common_w = {}, None
        for v in (0.0, mode):
            ok = (lam == v) & (runs["run_seed"] == s) & ~runs["diverged"]
            ws = set(runs["run_width"][ok].tolist())
            common_w = ws if common_w is None else common_w & ws
        if not common_w:
            continue
        for v in (0.0, mode):
            sel = (lam == v) & (runs["run_seed"] == s) & np.isin(runs["run_width"], list(common_w))
            counts[v] = int(horizon_tb[sel].sum())
        diffs.append(counts[mode] - counts[0.0])
    return np.asarray(diffs, np.float64)


def run(cfg: Config):
    import jax

    from prd_jax import analysis, breakdown, search
    from prd_jax.data import sphere
    from prd_jax.grid import MemoryCache
    from prd_jax.kernels import gram_spectrum
    from prd_jax.train import suggest_lr

    X, Y = sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out, "gaussian")
    spec = gram_spectrum(X)
    lam0 = float(spec.lambda0)
    lr = suggest_lr(X, cfg.d_out, True, cfg.lr_safety)
    train = TrainConfig(
        steps=cfg.steps, critic="wgan_gp", train_v=True, critic_lr=cfg.critic_lr, lr=lr
    )
    thr = lam0 / 4
    found = search.run_search(
        train, X, Y, modes=cfg.lambda_adv, widths=cfg.widths, seeds=cfg.seeds,
        metric="kernel_dev", threshold=thr, search=cfg.search_rules, cache=MemoryCache(),
        lr=(lr,),
    )  # fmt: skip
    runs, log_steps = found.runs, found.log_steps
    horizons = search.reported_horizons(log_steps, cfg.steps)
    stats = analysis.analyze(
        runs, log_steps, criteria={"kernel": ("kernel_dev", thr)}, primary="kernel",
        horizons=horizons, n_boot=cfg.bootstrap,
    )  # fmt: skip
    names = analysis.mode_names(cfg.lambda_adv)
    table = {}  # mode -> {T: threshold curve entry}
    for name in names.values():
        curve = {c["step"]: c for c in stats["modes"][name].get("threshold_vs_horizon", [])}
        table[name] = {T: curve.get(T) for T in horizons}
    setting = {
        "n": cfg.n, "d_in": cfg.d_in, "d_out": cfg.d_out, "train": "U,V", "critic": "wgan_gp",
        "critic_optimizer": "adam", "critic_lr_per_unit_t": cfg.critic_lr, "lr": lr,
        "steps": cfg.steps, "criterion": f"kernel_dev > lambda0/4 = {thr:.4g}",
        "lambda_adv": list(cfg.lambda_adv),
    }  # fmt: skip
    tb = breakdown.breakdown_steps(runs["kernel_dev"], log_steps, thr)
    seeds_all = np.unique(runs["run_seed"])
    found_claims, smallest = [], {}
    diverged = int(runs["diverged"].sum())
    for T in horizons:
        for v in sorted(x for x in cfg.lambda_adv if x > 0):
            d = widths_broken_per_seed(runs, names, tb <= T, v, seeds_all)
            rec = claims.comparison(
                f"breaks_more_than_supervised_T{T}_lambda{v:g}",
                f"at lambda_adv = {v:g}, more widths are broken by T = {T} than under "
                "supervision, seed by seed",
                d, source="beyond the paper", setting=setting | {"horizon": T, "weight": v},
                hypotheses=(), direction="greater", min_samples=5, runs_diverged=diverged,
                note="per seed: widths broken under the weight minus under supervision, over "
                "the widths both trained for the seed",
            )  # fmt: skip
            found_claims.append(rec)
            if rec["verdict"] == "holds" and T not in smallest:
                smallest[T] = v
        found_claims.append(claims.finding(
            f"smallest_weight_that_breaks_T{T}",
            f"the smallest lambda_adv whose runs break at more widths than supervised ones by "
            f"T = {T}: {smallest.get(T, 'none of ' + str(list(cfg.lambda_adv[1:])))}",
            smallest.get(T, math.nan), source="beyond the paper",
            setting=setting | {"horizon": T}, seeds=len(seeds_all),
            note="the first weight, in increasing order, whose paired comparison holds",
        ))  # fmt: skip
    steps_txt, jump = _increments(table, names, cfg.lambda_adv, horizons[-1])
    found_claims.append(claims.finding(
        "m_star_against_weight",
        f"m*(T = {horizons[-1]}) against lambda_adv: {steps_txt}",
        jump, source="beyond the paper", setting=setting | {"horizon": horizons[-1]},
        seeds=len(seeds_all),
        note="increments of log2 m* between consecutive weights (octaves); the measured value "
        "is the largest increment's share of the total rise (1: one jump carries it all)",
    ))  # fmt: skip
    found_claims = claims.check_unique_ids(found_claims)  # diverged runs: left out, counted
    summary = {
        "lambda0": lam0,
        "criterion_threshold": thr,
        "lr": lr,
        "horizons": list(horizons),
        "m_star": {
            name: {str(T): (c or {}) for T, c in per.items()} for name, per in table.items()
        },
        "search": {
            "stops": {names[m]: why for m, why in found.stops.items()},
            "rounds": len(found.rounds),
            "run_steps": found.run_steps,
        },
        "smallest_weight": {str(T): smallest.get(T) for T in horizons},
        "analysis": {
            name: {k: r[k] for k in ("outcomes", "threshold", "change") if k in r}
            for name, r in stats["modes"].items()
        },  # fmt: skip
    }
    return {"summary": summary, "claims": found_claims}, {}


def _increments(table, names, weights, T):
    """Text of log2 m*(T) increments between consecutive weights, and the largest increment's
    share of the total rise (nan when a threshold lies beyond its grid)."""
    m = []
    for v in sorted(weights):
        c = table[names[v]].get(T) or {}
        m.append(c.get("m_star"))
    if any(x is None for x in m):
        texts = [f"{v:g}: {(table[names[v]].get(T) or {}).get('text', 'n/a')}"
                 for v in sorted(weights)]  # fmt: skip
        return "; ".join(texts) + " (a threshold beyond its grid: no increments)", math.nan
    inc = np.diff(np.log2(m))
    total = float(np.sum(np.maximum(inc, 0.0)))
    share = float(np.max(inc) / total) if total > 0 else math.nan
    pairs = [f"{a:g}->{b:g}: {d:+.2f}" for a, b, d in
             zip(sorted(weights)[:-1], sorted(weights)[1:], inc, strict=True)]  # fmt: skip
    return ", ".join(pairs) + f" octaves (largest share {share:.2f})", share


main = common.make_main("phase_diagram", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
