"""Theorem 1 (symmetry and homogeneity): the drift from initialisation at the end of supervised
training vs width, with its fitted exponents next to the theorem's bound.

    python -m experiments.theorem1 --preset quick   # ~20 s on 2 CPU cores
    python -m experiments.theorem1 --preset paper   # accelerator
    python -m experiments.theorem1 --preset tiny    # seconds (smoke test)

Setting of the theorem: d_out = 1, v_j in {+-1} frozen, only U trained by full-batch gradient
descent on synthetic unit-norm data, to convergence. Theorem 1: per-neuron drift
max_j ||u_j(T) - u_j(0)|| = O(n^{3/2}/(sqrt(m) lambda0 delta)) (exponent -1/2 in m), and
||U(T) - U(0)||_F = O(n^{3/2}/(lambda0 delta)) (exponent 0). The explicit pre-Markov bound
2 sqrt(n) r0 / (sqrt(m) lambda0) uses the measured r0 = ||z(0) - y||. The adversarial run
(WGAN-GP critic, same init) is drawn for contrast. One grid (prd_jax.grid.run_grid): widths
within a factor bucket_ratio share one padded compile, seeds and modes are vmapped.
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import theorem1 as figure
from prd_jax import claims
from prd_jax.breakdown import fit_power_law
from prd_jax.grid import run_grid


@dataclasses.dataclass(frozen=True)
class Config:
    widths: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)  # m values
    n: int = 32  # samples, x uniform on the unit sphere, y ~ N(0, 1)
    d_in: int = 32
    steps: int = 600  # generator iterations (long enough to converge: see summary)
    seeds: int = 3  # initialisations per width
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max(H_inf)
    delta: float = 0.1  # failure probability in the O-form bound
    adversarial: bool = True  # also run lambda_adv = 1 (WGAN-GP) for contrast
    bucket_ratio: int = 8  # widths within a factor of this share one padded compile
    seed: int = 0

    def __post_init__(self):
        positive = ("widths", "n", "d_in", "steps", "seeds", "lr_safety", "bucket_ratio")
        common.check(self, positive=positive, nonnegative=("seed",), unit=("delta",))


PRESETS = {
    "quick": Config(),
    "paper": Config(widths=tuple(2**k for k in range(6, 16)), n=64, d_in=64, steps=23000, seeds=8),
    "tiny": Config(widths=(8, 16, 32), n=6, d_in=4, steps=20, seeds=2),
}


def run(cfg: Config):
    import jax

    X, Y = prd_jax.sphere(jax.random.key(cfg.seed + 200), cfg.n, cfg.d_in, 1)
    spec = common.spectrum_info(X)
    lr = prd_jax.suggest_lr(X, 1, train_v=False, safety=cfg.lr_safety)
    modes = {"supervised": 0.0} | ({"adversarial": 1.0} if cfg.adversarial else {})
    tcfg = prd_jax.TrainConfig(steps=cfg.steps, train_v=False, critic="wgan_gp", logs_per_decade=1)
    seeds = range(cfg.seed, cfg.seed + cfg.seeds)
    axes = dict(lr=lr, lambda_adv=tuple(modes.values()))
    grid = run_grid(
        tcfg, X, Y, seeds=seeds, widths=cfg.widths, bucket_ratio=cfg.bucket_ratio, **axes
    )
    keys = ("drift_max", "drift_mean", "drift_fro", "drift_rel", "residual")
    # values[mode][key] -> (seeds, widths) at the last log point
    values = {
        mode: {k: grid.sel(lambda_adv=lam).metrics[k][..., -1] for k in keys}
        for mode, lam in modes.items()
    }
    r0 = grid.sel(lambda_adv=0.0).metrics["residual"][..., 0].astype(np.float64)  # (seeds, widths)

    widths = np.asarray(cfg.widths, np.float64)
    t_final = lr * cfg.steps
    r0_mean = r0.mean(axis=0)
    th = prd_jax.theory
    bound = np.asarray(th.drift_bound_sup(t_final, cfg.n, widths, r0_mean, spec["lambda0"]))
    oform = np.asarray(th.theorem1_bound(cfg.n, widths, spec["lambda0"], cfg.delta))
    fits = {
        mode: {
            k: fit_power_law(np.tile(widths, cfg.seeds), values[mode][k].ravel())._asdict()
            for k in ("drift_max", "drift_mean", "drift_fro", "drift_rel")
        }
        for mode in modes
    }
    sup, f_sup = values["supervised"], fits["supervised"]
    ratio = float(np.max(sup["drift_max"] / bound))
    f_mean, f_fro = f_sup["drift_mean"], f_sup["drift_fro"]
    found = [
        claims.prediction(
            "per-neuron drift shrinks like m^-1/2 under supervision",
            measured=f_mean["exponent"],
            predicted=-0.5,
            rtol=0,
            atol=0.1,
            note="rule: the fitted exponent of the mean per-neuron drift is within 0.1 of -0.5 "
            f"(stderr {f_mean['stderr']:.3g}, bootstrap 95% interval [{f_mean['ci_low']:.3g}, "
            f"{f_mean['ci_high']:.3g}]); the max over m neurons (exponent "
            f"{f_sup['drift_max']['exponent']:.3g}) carries an extra slowly growing factor",
        ),
        claims.prediction(
            "Frobenius drift is bounded independently of m",
            measured=f_fro["exponent"],
            predicted=0.0,
            rtol=0,
            atol=0.1,
            note=f"rule: |fitted exponent| <= 0.1 (stderr {f_fro['stderr']:.3g})",
        ),
        claims.upper_bound(
            "measured per-neuron drift is below Theorem 1's explicit bound 2√n r0/(√m λ0)",
            measured=sup["drift_max"],
            bound=bound,
            note="rule: max_j ‖u_j(T) − u_j(0)‖ <= the bound for every seed (rows) and width "
            f"(columns), r0 the mean over seeds; largest ratio {ratio:.3g}",
        ),
        claims.upper_bound(
            "training has converged (the theorem bounds the drift for all t)",
            measured=sup["residual"],
            bound=1e-2 * float(np.min(r0)),
            note="rule: every run's final residual ‖z(T) − y‖ is below 1% of the smallest "
            "initial one",
        ),
    ]
    summary = {
        "n": cfg.n,
        "d_in": cfg.d_in,
        "steps": cfg.steps,
        "lr": lr,
        "t_final": t_final,
        "n_seeds": cfg.seeds,
        **spec,
        "r0_mean": r0_mean,
        "fits": fits,
        "final_residual_max": {mode: float(np.max(values[mode]["residual"])) for mode in modes},
    }
    series = {
        "widths": cfg.widths,
        "modes": list(modes),
        **{k: {mode: values[mode][k] for mode in modes} for k in keys},
        "bound_per_neuron": bound,
        "theorem1_oform": oform,
    }
    found = claims.mark_diverged(found, int(np.sum(grid.diverged)))
    return {"summary": summary, "claims": found, "series": series}, {}


main = common.make_main("theorem1", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
