"""Theorem 1 (symmetry and homogeneity): drift from initialisation at the end of supervised
training vs width, with the fitted exponents and the theorem's bound.

    python -m experiments.theorem1 --preset quick   # ~40 s on 2 CPU cores
    python -m experiments.theorem1 --preset paper   # accelerator

Setting of the theorem: d_out = 1, v_j in {+-1} frozen, only U trained by full-batch gradient
descent on synthetic unit-norm data, to convergence. Theorem 1: per-neuron drift
max_j ||u_j(T) - u_j(0)|| = O(n^{3/2}/(sqrt(m) lambda0 delta)) (exponent -1/2 in m), and
||U(T) - U(0)||_F = O(n^{3/2}/(lambda0 delta)) (exponent 0). The explicit pre-Markov bound
2 sqrt(n) r0 / (sqrt(m) lambda0) uses the measured r0 = ||z(0) - y||. The adversarial run
(WGAN-GP critic, same init) is drawn for contrast. Widths are padded into buckets of
powers of 4 (one compile per bucket), seeds and modes are vmapped.
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import theorem1 as figure
from prd_jax import features


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


PRESETS = {
    "quick": Config(),
    "paper": Config(widths=tuple(2**k for k in range(6, 16)), n=64, d_in=64, steps=23000, seeds=8),
    "tiny": Config(widths=(8, 16, 32), n=6, d_in=4, steps=20, seeds=2),
}


def _buckets(widths, ratio):
    buckets, current = [], []
    for m in sorted(widths):
        if current and m > ratio * current[0]:
            buckets.append(current)
            current = []
        current.append(m)
    return buckets + [current]


def run(cfg: Config):
    import jax

    X, Y = prd_jax.sphere(jax.random.key(cfg.seed + 200), cfg.n, cfg.d_in, 1)
    spec = common.spectrum_info(X)
    lr = prd_jax.suggest_lr(X, 1, train_v=False, safety=cfg.lr_safety)
    modes = ["supervised"] + (["adversarial"] if cfg.adversarial else [])
    keys = ("drift_max", "drift_mean", "drift_fro", "drift_rel", "residual")
    # values[mode][key] -> (seeds, widths)
    values = {mode: {k: np.zeros((cfg.seeds, len(cfg.widths))) for k in keys} for mode in modes}
    r0 = np.zeros((cfg.seeds, len(cfg.widths)))
    col = {m: i for i, m in enumerate(cfg.widths)}
    for bucket in _buckets(cfg.widths, cfg.bucket_ratio):
        tcfg = prd_jax.TrainConfig(
            width=max(bucket), steps=cfg.steps, train_v=False, critic="wgan_gp", logs_per_decade=1
        )
        grid = [(s, m, lam) for lam in range(len(modes)) for s in range(cfg.seeds) for m in bucket]
        out = common.train_batch(
            tcfg,
            X,
            Y,
            [cfg.seed + s for s, _, _ in grid],
            lr=lr,
            lambda_adv=[float(lam) for _, _, lam in grid],
            width=[m for _, m, _ in grid],
        )
        for b, (s, m, lam) in enumerate(grid):
            for k in keys:
                values[modes[lam]][k][s, col[m]] = out["metrics"][k][b, -1]
            r0[s, col[m]] = out["metrics"]["residual"][b, 0]

    widths = np.asarray(cfg.widths, np.float64)
    t_final = lr * cfg.steps
    r0_mean = r0.mean(axis=0)
    th = prd_jax.theory
    bound = np.asarray(th.drift_bound_sup(t_final, cfg.n, widths, r0_mean, spec["lambda0"]))
    oform = np.asarray(th.theorem1_bound(cfg.n, widths, spec["lambda0"], cfg.delta))
    fits = {
        mode: {
            k: features.fit_power_law(np.tile(widths, cfg.seeds), values[mode][k].ravel())._asdict()
            for k in ("drift_max", "drift_mean", "drift_fro", "drift_rel")
        }
        for mode in modes
    }
    sup = values["supervised"]
    ratio = sup["drift_max"] / bound[None, :]
    f_max, f_mean = fits["supervised"]["drift_max"], fits["supervised"]["drift_mean"]
    f_fro = fits["supervised"]["drift_fro"]
    claims = [
        common.claim(
            "per-neuron drift shrinks like m^-1/2 under supervision",
            {
                "exponent_mean_drift": f_mean["exponent"],
                "stderr": f_mean["stderr"],
                "ci95": [f_mean["ci_low"], f_mean["ci_high"]],
                "exponent_max_drift": f_max["exponent"],
            },
            bool(abs(f_mean["exponent"] + 0.5) < 0.1),
            "agrees when the mean-drift exponent is within 0.1 of -0.5 (the max over m neurons "
            "carries an extra slowly growing factor)",
        ),
        common.claim(
            "Frobenius drift is bounded independently of m",
            {"exponent": f_fro["exponent"], "stderr": f_fro["stderr"]},
            bool(abs(f_fro["exponent"]) < 0.1),
            "agrees when |exponent| < 0.1",
        ),
        common.claim(
            "measured per-neuron drift is below Theorem 1's explicit bound 2√n r0/(√m λ0)",
            {"max_ratio_measured_over_bound": float(np.max(ratio))},
            bool(np.max(ratio) <= 1.0),
        ),
        common.claim(
            "training has converged (the theorem bounds the drift for all t)",
            {"max_final_residual": float(np.max(sup["residual"])), "max_r0": float(np.max(r0))},
            bool(np.max(sup["residual"]) < 1e-2 * np.min(r0)),
            "final residual below 1% of the initial one",
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
        "modes": modes,
        **{k: {mode: values[mode][k] for mode in modes} for k in keys},
        "bound_per_neuron": bound,
        "bound_frobenius": bound * np.sqrt(widths),
        "theorem1_oform": oform,
        "theorem1_oform_frobenius": oform * np.sqrt(widths),
    }
    return {"summary": summary, "claims": claims, "series": series}, {}


main = common.make_main("theorem1", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
