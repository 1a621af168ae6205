"""Theorem 2 / "Dissecting diffusion": the reaction and diffusion norms of U and V vs iteration,
and whether the drift grows linearly in t under the adversary, as Theorem 2's bound allows.

    python -m experiments.dissect_diffusion --preset quick   # ~35 s on 2 CPU cores
    python -m experiments.dissect_diffusion --preset paper   # accelerator, 23000 iterations
    python -m experiments.dissect_diffusion --preset tiny    # seconds (smoke test)

Synthetic data with d_out = 10 teacher targets (the multi-output setting of the pattern
experiments; `--set d_out=1` gives Theorem 2's scalar output, where the adversarial runs settle
at a shifted equilibrium within a few hundred iterations). Three runs from one
initialisation: supervised (lambda_adv = 0), adversarial with a trained WGAN-GP critic (Adam,
alternating), and adversarial with the critic frozen at its init (the setting the theorems
analyse). U and V are trained (Definition 2's four terms are all live).
Reaction = -dL_sup/d(U, V), diffusion = +dL_adv/d(U, V). Drawn next to Theorem 2's explicit
Frobenius bound [W (43)] x sqrt(m) with L = the measured critic norm, whose second term grows
linearly in t. The growth exponent p of ||U(t) - U(0)||_F ~ t^p is fitted over the last
decade of the run (p = 1: linear growth; p = 0: saturation).
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import dissect_diffusion as figure
from prd_jax import claims
from prd_jax.breakdown import growth_exponent
from prd_jax.grid import run_grid


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 32  # synthetic: x uniform on the unit sphere, y from a random teacher network
    d_in: int = 32
    d_out: int = 10  # outputs (Theorem 2 has d_out = 1; with 1 both adversarial runs settle)
    width: int = 1024  # m
    steps: int = 10000  # generator iterations (log spaced metrics, 9 per decade)
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max (suggest_lr, U and V trained)
    critic_lr: float = 1e-3  # Adam(b1=0, b2=0.9) WGAN-GP critic, 1 step per generator step
    delta: float = 0.1  # failure probability in mu
    window: float = 0.1  # growth exponent fitted for t in (window * t_max, t_max]
    seed: int = 0

    def __post_init__(self):
        positive = ("n", "d_in", "d_out", "width", "steps", "lr_safety", "critic_lr")
        common.check(self, positive=positive, nonnegative=("seed",), unit=("delta", "window"))


PRESETS = {
    "quick": Config(),
    "paper": Config(n=128, d_in=128, width=4096, steps=23000),
    "tiny": Config(n=6, d_in=4, width=16, steps=30),
}

MODES = ("supervised", "adversarial", "adv_frozen")
KEYS = ("reaction_u", "diffusion_u", "reaction_v", "diffusion_v", "drift_fro", "drift_max")
KEYS += ("kernel_dev", "critic_norm", "critic_drift", "loss_sup", "residual")


def run(cfg: Config):
    import jax

    X, Y = prd_jax.sphere(jax.random.key(cfg.seed + 300), cfg.n, cfg.d_in, cfg.d_out, "teacher")
    spec = common.spectrum_info(X)
    lr = prd_jax.suggest_lr(X, cfg.d_out, train_v=True, safety=cfg.lr_safety)
    base = dict(width=cfg.width, steps=cfg.steps, train_v=True, critic_lr=cfg.critic_lr)
    grid = dict(seeds=[cfg.seed], widths=[cfg.width], lr=lr)
    trained = run_grid(
        prd_jax.TrainConfig(critic="wgan_gp", **base), X, Y, **grid, lambda_adv=(0.0, 1.0)
    ).sel(seed=cfg.seed, width=cfg.width)
    frozen = run_grid(
        prd_jax.TrainConfig(critic="frozen", **base), X, Y, **grid, lambda_adv=1.0
    ).sel(seed=cfg.seed, width=cfg.width)
    runs = {
        "supervised": trained.sel(lambda_adv=0.0),
        "adversarial": trained.sel(lambda_adv=1.0),
        "adv_frozen": frozen,
    }
    series = {k: {mode: r.metrics[k] for mode, r in runs.items()} for k in KEYS}
    steps = trained.log_steps
    t = lr * steps

    th = prd_jax.theory
    r0 = float(series["residual"]["supervised"][0])
    L = float(np.max(series["critic_norm"]["adversarial"]))
    mu = float(th.mu(L, cfg.n, cfg.width, cfg.delta))
    thm2 = np.asarray(
        th.frobenius_drift_bound_adv(t, cfg.n, cfg.width, r0, spec["lambda0"], spec["kappa"], mu)
    )
    thm1 = np.asarray(th.frobenius_drift_bound_sup(t, cfg.n, cfg.width, r0, spec["lambda0"]))

    growth, breakdown, end = {}, {}, {}
    for mode in MODES:
        growth[mode] = growth_exponent(t, series["drift_fro"][mode], (cfg.window, 1.0))._asdict()
        broken = np.flatnonzero(series["kernel_dev"][mode] > spec["lambda0"] / 4)
        breakdown[mode] = int(steps[broken[0]]) if broken.size else None
        end[mode] = {k: float(series[k][mode][-1]) for k in KEYS}
        end[mode]["diffusion_over_reaction_u"] = end[mode]["diffusion_u"] / max(
            end[mode]["reaction_u"], 1e-30
        )
    g_sup, g_adv, g_frz = (growth[m] for m in MODES)
    ratio_u = end["adversarial"]["diffusion_over_reaction_u"]
    found = [
        claims.exponent_at_most(
            "supervised drift saturates (Theorem 1: bounded for all t)",
            g_sup["exponent"],
            (g_sup["ci_low"], g_sup["ci_high"]),
            0.2,
            note="rule: the growth exponent of ‖U(t) − U(0)‖_F over the last decade is <= 0.2 "
            "(fails only when its whole bootstrap interval lies above 0.2)",
        ),
        claims.finding(
            "with a trained (WGAN-GP) critic the drift keeps growing ~ linearly in t (Theorem 2)",
            g_adv["exponent"],
            (g_adv["ci_low"], g_adv["ci_high"]),
            note="growth exponent over the last decade, with its bootstrap interval (p = 1: "
            "linear, p = 0: saturation; 0.2 < p < 0.8: sub-linear growth). Theorem 2 only "
            "bounds the drift by a term linear in t, so growth is observed, not predicted: no "
            "verdict (the old rule called p > 0.8 agreement)",
        ),
        claims.finding(
            "with a frozen critic the drift also grows linearly (the bound is the same)",
            g_frz["exponent"],
            (g_frz["ci_low"], g_frz["ci_high"]),
            note="growth exponent over the last decade (the old rule called p > 0.8 agreement). "
            "A frozen critic makes L_aug a supervised loss with shifted targets, so the weights "
            "should settle: Theorem 2's linear term is an upper bound, not a prediction",
        ),
        claims.upper_bound(
            "Theorem 2's bound holds (measured Frobenius drift below it)",
            series["drift_fro"]["adversarial"][1:],
            thm2[1:],
            hypotheses=False,
            note="rule: ‖U(t) − U(0)‖_F <= the bound at every logged t > 0. Not judged: Theorem 2 "
            f"needs d_out = 1, v frozen and ‖w‖ <= L; here U and V are trained (d_out = "
            f"{cfg.d_out}) against an unconstrained WGAN-GP critic (L = max ‖W‖ = {L:.3g}, "
            f"μ = {mu:.3g}); with ‖w‖ ≈ sqrt(m) the bound is far above the measurement",
        ),
        claims.upper_bound(
            "diffusion dominates reaction late in adversarial training",
            end["adversarial"]["reaction_u"],
            end["adversarial"]["diffusion_u"],
            note="rule: ‖reaction_U‖ <= ‖diffusion_U‖ at the last logged step of the WGAN-GP "
            f"run (diffusion / reaction = {ratio_u:.3g})",
        ),
    ]
    summary = {
        "n": cfg.n,
        "d_in": cfg.d_in,
        "d_out": cfg.d_out,
        "width": cfg.width,
        "steps": cfg.steps,
        "lr": lr,
        "t_final": float(t[-1]),
        **spec,
        "r0": r0,
        "L": L,
        "mu": mu,
        "growth": growth,
        "breakdown_step": breakdown,
        "end": end,
        "diverged": {mode: bool(r.diverged) for mode, r in runs.items()},
    }
    series.update(steps=steps, time=t, theorem2_bound=thm2, theorem1_bound=thm1, modes=MODES)
    found = claims.mark_diverged(found, sum(int(r.diverged) for r in runs.values()))
    return {"summary": summary, "claims": found, "series": series}, {}


main = common.make_main("dissect_diffusion", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
