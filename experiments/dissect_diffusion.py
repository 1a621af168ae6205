"""Theorem 2 / "Dissecting diffusion": the reaction and diffusion norms of U and V vs iteration,
and how the drift from initialisation grows under the adversary, measured by increments.

    python -m experiments.dissect_diffusion --preset quick   # ~1.5 min on 2 CPU cores
    python -m experiments.dissect_diffusion --preset paper   # accelerator, 23000 iterations
    python -m experiments.dissect_diffusion --preset tiny    # seconds (smoke test)

Setting (the paper's pattern experiments, NOT Theorem 2's): synthetic unit-norm inputs with
d_out = 10 teacher targets, U and V trained (Definition 2's four terms are all live), full-batch
gradient descent on the SUM loss. Three modes from the same initialisations, over several seeds:
supervised (lambda_adv = 0); adversarial against a trained WGAN-GP critic (Adam, alternating,
moving); adversarial against the critic frozen at its unprojected init. Theorem 2 in its own
setting (d_out = 1, v frozen, a frozen critic with ||w|| <= L) is `experiments.theorem2`.

Reaction = -dL_sup/d(U, V), diffusion = +dL_adv/d(U, V). Growth is measured by increments, not
by a log-log fit of the cumulative drift (which the fitting phase's offset pulls down): the
increment drift(t) - drift(t1) after t1 = window * t_max, its exponent in (t - t1), and the
windowed slope d(drift)/dt over each decade of iterations, each with a 95% t-interval across
seeds. A run that diverged (frozen where it diverged by prd_jax.train) feeds no number: each
statistic uses that mode's usable seeds, each comparison the seeds where neither run diverged,
and each claim says how many runs it used and left out (``runs_used``, ``runs_diverged``).
"""

import dataclasses
import math

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import dissect_diffusion as figure
from prd_jax import claims
from prd_jax.grid import run_grid
from prd_jax.growth import growth_summary, mean_interval, worst_over_seeds


@dataclasses.dataclass(frozen=True)
class Config:
    n: int = 32  # synthetic: x uniform on the unit sphere, y from a random teacher network
    d_in: int = 32
    d_out: int = 10  # outputs (Theorem 2 has d_out = 1: see experiments.theorem2)
    width: int = 512  # m
    steps: int = 10000  # generator iterations (log spaced metrics, 9 per decade)
    seeds: int = 5  # initialisations (intervals across seeds)
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max (suggest_lr, U and V trained)
    # Adam(b1=0, b2=0.9) WGAN-GP critic, 1 step per generator step. A rate per unit of generator
    # time t = eta * steps (the critic's step is critic_lr * eta): 6e-4 per unit of t is the
    # former 1e-3 per generator step at the quick preset's eta = 1.65.
    critic_lr: float = 6e-4
    delta: float = 0.1  # failure probability in mu
    window: float = 0.1  # increments after t1 = window * t_max
    seed: int = 0

    def __post_init__(self):
        positive = ("n", "d_in", "d_out", "width", "steps", "seeds", "lr_safety", "critic_lr")
        common.check(self, positive=positive, nonnegative=("seed",), unit=("delta", "window"))


PRESETS = {
    "quick": Config(),
    "paper": Config(n=128, d_in=128, width=4096, steps=23000, seeds=8),
    "tiny": Config(n=6, d_in=4, width=16, steps=30, seeds=2),
}

MODES = ("supervised", "adversarial", "adv_frozen")
KEYS = ("reaction_u", "diffusion_u", "reaction_v", "diffusion_v", "drift_fro", "drift_max")
KEYS += ("kernel_dev", "critic_norm", "critic_drift", "loss_sup", "residual", "lambda_min")


def run(cfg: Config):
    import jax

    X, Y = prd_jax.sphere(jax.random.key(cfg.seed + 300), cfg.n, cfg.d_in, cfg.d_out, "teacher")
    spec = common.spectrum_info(X)
    lr = prd_jax.suggest_lr(X, cfg.d_out, train_v=True, safety=cfg.lr_safety)
    base = dict(width=cfg.width, steps=cfg.steps, train_v=True, critic_lr=cfg.critic_lr)
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    grid = dict(seeds=seeds, widths=[cfg.width], lr=lr)
    trained = run_grid(
        prd_jax.TrainConfig(critic="wgan_gp", **base), X, Y, **grid, lambda_adv=(0.0, 1.0)
    ).sel(width=cfg.width)
    frozen = run_grid(
        prd_jax.TrainConfig(critic="frozen", **base), X, Y, **grid, lambda_adv=1.0
    ).sel(width=cfg.width)
    runs = {
        "supervised": trained.sel(lambda_adv=0.0),
        "adversarial": trained.sel(lambda_adv=1.0),
        "adv_frozen": frozen,
    }
    # series[key][mode]: (seeds, L); ok[mode]: (seeds,) runs that did not diverge
    series = {k: {mode: r.metrics[k] for mode, r in runs.items()} for k in KEYS}
    ok = {mode: common.usable(r.diverged) for mode, r in runs.items()}
    n_div = {mode: int((~ok[mode]).sum()) for mode in MODES}
    steps = trained.log_steps
    t = lr * steps

    th = prd_jax.theory
    r0 = series["residual"]["supervised"][:, 0].astype(np.float64)  # (seeds,), same init each mode
    wgan_norm = series["critic_norm"]["adversarial"][ok["adversarial"]]
    L = float(np.max(wgan_norm)) if wgan_norm.size else math.nan
    mu = float(th.mu(L, cfg.n, cfg.width, cfg.delta))
    thm2 = np.asarray(
        th.frobenius_drift_bound_adv(
            t[None, :], cfg.n, cfg.width, r0[:, None], spec["lambda0"], spec["kappa"], mu
        )
    )  # (seeds, L)
    thm1 = np.asarray(
        th.frobenius_drift_bound_sup(t[None, :], cfg.n, cfg.width, r0[:, None], spec["lambda0"])
    )
    eps = float(np.median(r0)) / 2
    L_bound = float(th.critic_norm_bound(eps, cfg.n, cfg.width, spec["kappa"], cfg.delta))

    growth, end, broken = {}, {}, {}
    for mode in MODES:
        usable = {k: series[k][mode][ok[mode]] for k in KEYS}  # (usable seeds, L)
        growth[mode] = growth_summary(steps, t, usable["drift_fro"], cfg.window)
        broken[mode] = int(np.sum(np.any(usable["kernel_dev"] > spec["lambda0"] / 4, axis=1)))
        end[mode] = {
            k: float(np.median(usable[k][:, -1])) if ok[mode].any() else math.nan for k in KEYS
        }
        ratio = usable["diffusion_u"][:, -1] / np.maximum(usable["reaction_u"][:, -1], 1e-30)
        end[mode]["diffusion_over_reaction_u"], end[mode]["diffusion_over_reaction_u_ci"] = (
            mean_interval(ratio)
        )
        end[mode]["diffusion_over_reaction_u_per_seed"] = ratio

    setting = {
        "d_out": cfg.d_out,
        "train": "U and V",
        "n": cfg.n,
        "d_in": cfg.d_in,
        "m": cfg.width,
        "lr": lr,
        "steps": cfg.steps,
        "t_final": float(t[-1]),
        "loss": "sum",
    }
    wgan = setting | {
        "critic": "wgan_gp",
        "critic_optimizer": "adam",
        "critic_lr_per_t": cfg.critic_lr,
    }
    frz = setting | {"critic": "frozen", "critic_projection": "none"}
    sup_set = setting | {"critic": "none (lambda_adv = 0)"}

    def runs_of(*modes):  # a claim's runs: used (no run of the seed diverged) and left out
        both = np.logical_and.reduce([ok[mode] for mode in modes])
        return both, {"runs_diverged": int((~both).sum())}

    def thm2_claim(mode, cset):
        use, runs = runs_of(mode)
        norms = series["critic_norm"][mode][use]
        norm = float(np.max(norms)) if norms.size else math.nan
        lam_min = series["lambda_min"][mode][use]
        cset = cset | {
            "critic_norm": norm,
            "L_bound": L_bound,
            "critic_norm_over_L_bound": norm / L_bound,
            "eps": eps,
            "min_lambda_min_over_lambda0": float(np.min(lam_min) / spec["lambda0"])
            if lam_min.size
            else math.nan,
        }
        measured, bound = worst_over_seeds(series["drift_fro"][mode][use, 1:], thm2[use, 1:])
        return claims.upper_bound(
            f"theorem2_bound_{mode}",
            f"‖U(t) − U(0)‖_F ≤ Theorem 2's explicit bound [W (43)] × √m ({mode} run)",
            measured,
            bound,
            source="Theorem 2 ([W (43)])",
            setting=cset,
            hypotheses=common.THEOREM2,
            seeds=cfg.seeds,
            runs_used=int(use.sum()),
            note="the usable seed with the largest ratio at each logged t > 0; μ from L = max "
            f"‖W‖ = {L:.3g} of the WGAN-GP run (μ = {mu:.3g}). Theorem 2 needs d_out = 1, v "
            f"frozen and a critic with ‖w‖ ≤ L_bound = {L_bound:.3g} (ε = r0/2): not this "
            "setting, so not judged; the ratios say how far above the data the bound lies",
            **runs,
        )

    def slope_finding(mode, cset):
        g = growth[mode]
        last = len(g["decades"]) - 1
        lo, hi = g["decades"][last] if g["decades"] else (0, 0)
        slopes = ", ".join(
            f"[{a}, {b}]: {m:.3g}" for (a, b), m in zip(g["decades"], g["slope_mean"], strict=True)
        )
        per_seed = g["slopes_per_seed"][:, last] if g["decades"] else np.full(0, math.nan)
        return claims.seed_finding(
            f"slope_last_decade_{mode}",
            f"d‖U(t) − U(0)‖_F/dt over the last decade of iterations [{lo}, {hi}] ({mode})",
            per_seed,
            source="beyond the paper",
            setting=cset,
            hypotheses=(),
            runs_diverged=n_div[mode],
            note="mean over the usable seeds with a 95% t-interval; slope per decade of "
            f"iterations: {slopes}",
        )

    def exponent_finding(mode, cset):
        return claims.seed_finding(
            f"increment_exponent_{mode}",
            f"the increment ‖ΔU‖_F(t) − ‖ΔU‖_F(t1), t1 = {cfg.window:g} t_max, grows like "
            f"(t − t1)^p ({mode})",
            growth[mode]["increment_exponent_per_seed"],
            source="beyond the paper",
            setting=cset,
            hypotheses=(),
            runs_diverged=n_div[mode],
            note="p per usable seed by least squares in log-log over t > t1, then the mean and "
            "its 95% t-interval across seeds (p = 1: linear growth as Theorem 2's bound allows)",
        )

    def late_difference(mode, other):  # paired over the seeds where neither run diverged
        use, runs = runs_of(mode, other)
        g = {k: growth[k] for k in (mode, other)}
        if not (g[mode]["decades"] and g[other]["decades"]):
            return np.full(int(use.sum()), math.nan), runs
        late = {}
        for k in (mode, other):  # per-seed slopes are over that mode's usable seeds: realign
            full = np.full(cfg.seeds, math.nan)
            full[ok[k]] = g[k]["slopes_per_seed"][:, -1]
            late[k] = full[use]
        return late[mode] - late[other], runs

    d_sup, runs_sup = late_difference("adversarial", "supervised")
    d_frz, runs_frz = late_difference("adversarial", "adv_frozen")
    use_frz, runs_frz_only = runs_of("adv_frozen")
    dr_frozen = end["adv_frozen"]["diffusion_over_reaction_u_per_seed"]
    found = [
        thm2_claim("adversarial", wgan),
        thm2_claim("adv_frozen", frz),
        slope_finding("supervised", sup_set),
        slope_finding("adversarial", wgan),
        slope_finding("adv_frozen", frz),
        exponent_finding("adversarial", wgan),
        exponent_finding("adv_frozen", frz),
        claims.comparison(
            "adversarial_drifts_more_late",
            "late in training the drift grows faster against the trained critic than under "
            "supervision",
            d_sup,
            source="beyond the paper (an empirical comparison motivated by the direction of "
            "Theorem 2's term linear in t; Theorem 2 itself needs d_out = 1, v frozen and a "
            "frozen critic with ‖w‖ ≤ L_bound, none of which holds here)",
            setting=wgan | {"compared_with": "supervised"},
            hypotheses=(),
            note="paired over the seeds where neither run diverged: slope of ‖U(t) − U(0)‖_F per "
            "unit t over the last decade, WGAN-GP minus supervised",
            **runs_sup,
        ),
        claims.comparison(
            "moving_critic_drifts_more_than_frozen",
            "late in training the drift grows faster against the trained (moving) critic than "
            "against the frozen one",
            d_frz,
            source="beyond the paper",
            setting=wgan | {"compared_with": "frozen critic"},
            hypotheses=(),
            note="paired over the seeds where neither run diverged: last-decade slope, WGAN-GP "
            "minus frozen critic",
            **runs_frz,
        ),
        claims.check(
            "stationary_point_frozen",
            "with a frozen critic the run ends at a stationary point of L_aug, where reaction = "
            "−diffusion exactly: ‖D_U‖/‖R_U‖ = 1",
            dr_frozen,
            1.0,
            rtol=0.02,
            source="Definition 2 (reaction + diffusion = −∇_U L_aug)",
            setting=frz,
            seeds=cfg.seeds,
            runs_used=int(use_frz.sum()),
            note="an identity at any stationary point (a check of convergence and of the R/D "
            "split, not support for the paper): per usable seed at the last logged step; "
            "tolerance 2% (samples whose shifted target y + ∇g(z) sits across a kink of the "
            "critic's ReLUs have no fixed point and keep the gradient from vanishing exactly). "
            "Not evidence that diffusion dominates: at any stationary point the two balance",
            **runs_frz_only,
        ),
        claims.seed_finding(
            "diffusion_over_reaction_wgan",
            "‖D_U‖/‖R_U‖ at the end against the trained critic",
            end["adversarial"]["diffusion_over_reaction_u_per_seed"],
            source="beyond the paper",
            setting=wgan,
            hypotheses=(),
            runs_diverged=n_div["adversarial"],
            note="mean over the usable seeds, 95% t-interval; it departs from 1 only because "
            "the critic keeps moving (a frozen critic gives 1 at stationarity)",
        ),
    ]
    summary = {
        "n": cfg.n,
        "d_in": cfg.d_in,
        "d_out": cfg.d_out,
        "width": cfg.width,
        "steps": cfg.steps,
        "n_seeds": cfg.seeds,
        "lr": lr,
        "critic_lr_per_t": cfg.critic_lr,
        "critic_lr_per_step": cfg.critic_lr * lr,
        "t_final": float(t[-1]),
        **spec,
        "r0": r0,
        "L": L,
        "mu": mu,
        "L_bound": L_bound,
        "growth": growth,
        "broken_runs": broken,
        "end": end,
        "diverged": n_div,
    }
    median = {  # over each mode's usable seeds (NaN where every seed diverged)
        k: {
            mode: np.median(v[ok[mode]], axis=0) if ok[mode].any() else np.full(t.size, np.nan)
            for mode, v in series[k].items()
        }
        for k in KEYS
    }
    median.update(
        steps=steps,
        time=t,
        theorem2_bound=np.median(thm2, axis=0),
        theorem1_bound=np.median(thm1, axis=0),
        modes=MODES,
        drift_fro_per_seed={mode: v[ok[mode]] for mode, v in series["drift_fro"].items()},
    )
    return {"summary": summary, "claims": claims.check_unique_ids(found), "series": median}, {}


main = common.make_main("dissect_diffusion", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
