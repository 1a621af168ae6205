"""Linear rate (Remark 3, Eq. 17): the supervised loss L_sup vs iteration for several widths,
supervised vs adversarial, on synthetic sphere data and on MNIST.

    python -m experiments.linear_rate --preset quick   # ~40 s on 2 CPU cores
    python -m experiments.linear_rate --preset paper   # accelerator
    python -m experiments.linear_rate --preset tiny    # seconds (smoke test)

Theorem 1/2 setting: only U trained (v_j in {+-1} frozen), full-batch gradient descent on the
SUM loss with eta = suggest_lr (half the stable step), a WGAN-GP critic for lambda_adv = 1 (Adam,
the default critic rate 5e-3 per unit of t = eta * steps: a moving critic, which is outside
Eq. 17's hypotheses; `experiments.theorem2` judges Eq. 17 in its own setting). All
widths and both modes are one padded, vmapped compile per data set, from one initialisation
(nested: the width-m network is the first m neurons). Drawn with Remark 3's bound
||z(t) - y|| <= exp(-lambda0 t/2) ||z(0) - y|| (on the loss: 1/2 r0^2 exp(-lambda0 t)), and
Eq. 17's floor kappa*mu with L = the measured critic norm. With d_out > 1 and V frozen at +-1
the kernel of each output is H_inf/d_out, so the rate uses lambda0/d_out (drawn; Remark 3 is
judged only for d_out = 1 and at widths where the kernel regime lambda_min(H(t)) >= lambda0/2
holds at every logged step).
"""

import dataclasses
import math

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import linear_rate as figure
from prd_jax import claims
from prd_jax.grid import run_grid


@dataclasses.dataclass(frozen=True)
class Config:
    widths: tuple[int, ...] = (64, 256, 1024)  # m values (one padded compile per data set)
    n_synthetic: int = 48  # synthetic: x uniform on S^{d-1}, y ~ N(0, 1)
    d_synthetic: int = 16
    steps_synthetic: int = 400  # generator iterations
    mnist: str = "mnist"  # image data set of the second panel ("" to skip it)
    n_mnist: int = 64  # class-balanced MNIST subset, one-hot targets (d_out = 10)
    factor: int = 2  # pooling: 14x14 images
    steps_mnist: int = 1500
    n_logs: int = 100  # linear log schedule: points per run
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max (suggest_lr)
    delta: float = 0.1  # failure probability in mu (Eq. 15)
    seed: int = 0

    def __post_init__(self):
        positive = ("widths", "n_synthetic", "d_synthetic", "steps_synthetic", "n_mnist")
        positive += ("factor", "steps_mnist", "n_logs", "lr_safety")
        common.check(self, positive=positive, nonnegative=("seed",), unit=("delta",))


PRESETS = {
    "quick": Config(),
    "paper": Config(
        widths=(256, 1024, 4096, 16384),
        n_synthetic=256,
        d_synthetic=64,
        steps_synthetic=23000,
        n_mnist=512,
        factor=1,
        steps_mnist=23000,
        n_logs=230,
    ),
    "tiny": Config(
        widths=(8, 16),
        n_synthetic=8,
        d_synthetic=4,
        steps_synthetic=20,
        n_mnist=10,
        factor=4,
        steps_mnist=20,
        n_logs=5,
    ),
}


def _panel(name, title, X, Y, steps, cfg):
    d_out, widths = Y.shape[1], list(cfg.widths)
    spec = common.spectrum_info(X)
    lr = prd_jax.suggest_lr(X, d_out, train_v=False, safety=cfg.lr_safety)
    tcfg = prd_jax.TrainConfig(
        steps=steps,
        train_v=False,
        critic="wgan_gp",
        log_schedule="linear",
        log_every=max(steps // cfg.n_logs, 1),
    )
    # One padded compile per data set (bucket_ratio=inf): every width and both modes.
    axes = dict(lr=lr, lambda_adv=(0.0, 1.0))
    grid = run_grid(tcfg, X, Y, seeds=[cfg.seed], widths=widths, bucket_ratio=math.inf, **axes)
    grid = grid.sel(seed=cfg.seed)
    sup, adv = grid.sel(lambda_adv=0.0).metrics, grid.sel(lambda_adv=1.0).metrics  # (widths, L)
    ok_sup = common.usable(grid.sel(lambda_adv=0.0).diverged)  # (widths,): one seed per width
    ok_adv = common.usable(grid.sel(lambda_adv=1.0).diverged)
    t = lr * grid.log_steps
    lam_eff = spec["lambda0"] / d_out  # per-output kernel H_inf / d_out (V frozen at +-1)
    r0 = float(np.median(grid.metrics["residual"][..., 0].astype(np.float64)))
    norms = adv["critic_norm"][ok_adv]  # over the adversarial runs that did not diverge
    L = float(np.max(norms)) if norms.size else math.nan
    mu = float(prd_jax.theory.mu(L, X.shape[0], max(widths), cfg.delta))
    floor = spec["kappa"] * mu

    rates, under, remark3 = {}, {}, {}
    for i, m in enumerate(widths):
        res = sup["residual"][i].astype(np.float64)
        sel = (res < 0.5 * res[0]) & (res > 1e-3 * res[0])
        fit = np.polyfit(t[sel], np.log(res[sel]), 1) if sel.sum() >= 2 else [np.nan]
        remark3[m] = np.asarray(prd_jax.theory.linear_rate_bound(t, res[0], lam_eff), np.float64)
        # a diverged run (frozen where it diverged) feeds no number
        rates[m] = float(-fit[0] / (lam_eff / 2)) if ok_sup[i] else math.nan
        under[m] = float(np.mean(res <= remark3[m] * (1 + 1e-4) + 1e-6)) if ok_sup[i] else math.nan
    final = {
        mode: {
            m: float(met["loss_sup"][j, -1]) if ok[j] else math.nan for j, m in enumerate(widths)
        }
        for mode, met, ok in (("supervised", sup, ok_sup), ("adversarial", adv, ok_adv))
    }
    panel = {
        "name": name,  # its numbers (r0, κμ, ...) are summary[name]
        "title": f"{title}: n = {X.shape[0]}, d_in = {X.shape[1]}, d_out = {d_out}, η = {lr:.3g}",
        "steps": grid.log_steps,
        "widths": widths,
        # a diverged run is drawn as NaN: frozen where it diverged, it is no measurement
        "loss_sup": {
            "supervised": np.where(ok_sup[:, None], sup["loss_sup"], np.nan),
            "adversarial": np.where(ok_adv[:, None], adv["loss_sup"], np.nan),
        },
    }
    stats = {
        "lr": lr,
        **spec,
        "lambda0_per_output": lam_eff,
        "r0": r0,
        "L_measured": L,
        "mu": mu,
        "kappa_mu": floor,
        "floor_over_r0": floor / r0,
        "rate_over_remark3": rates,
        "fraction_under_remark3": under,
        "final_loss_sup": final,
        "diverged": {"supervised": grid.diverged[:, 0], "adversarial": grid.diverged[:, 1]},
    }
    m_top = max(widths)
    L_bound = float(
        prd_jax.theory.critic_norm_bound(r0 / 2, X.shape[0], m_top, spec["kappa"], cfg.delta)
    )
    stats["L_bound"] = L_bound
    base = {
        "d_out": d_out,
        "train": "U",
        "n": X.shape[0],
        "d_in": X.shape[1],
        "lr": lr,
        "steps": steps,
        "loss": "sum",
        "lambda0": spec["lambda0"],
    }
    found = []
    for i, m in enumerate(widths):
        regime = float(np.min(sup["lambda_min"][i]) / spec["lambda0"])
        # t = 0 is an identity (the bound's r0 is the measured one); below 1e-4 r0 the bound
        # is under float32 resolution of the residual.
        judged = (t > 0) & (remark3[m] >= 1e-4 * remark3[m][0]) & ok_sup[i]
        setting = base | {"m": m, "lambda_adv": 0.0, "critic": "none (lambda_adv = 0)"}
        setting["min_lambda_min_over_lambda0"] = regime if ok_sup[i] else math.nan
        found.append(
            claims.upper_bound(
                f"{name}_remark3_m{m}",
                f"{name}, m = {m}: the supervised residual decays at least at the linear rate, "
                "‖z(t) − y‖ ≤ exp(−λ0 t/2) ‖z(0) − y‖",
                sup["residual"][i][judged],
                remark3[m][judged],
                source="Remark 3",
                setting=setting,
                hypotheses=common.THEOREM1,
                runs_used=int(ok_sup[i]),
                runs_diverged=int(not ok_sup[i]),
                note=f"at every logged t > 0 where the bound is above 1e-4 r0 (float32 "
                f"resolution: {int(judged.sum())} of {t.size} log points); λ0/{d_out} per "
                "output. Hypotheses: d_out = 1, v frozen, and the kernel regime "
                f"λ_min(H(t)) ≥ λ0/2 at every logged step (measured: min λ_min/λ0 = "
                f"{regime:.3g}); fitted rate / (λ0/2) between 0.5 r0 and 1e-3 r0: "
                f"{rates[m]:.3g}",
            )
        )
    i_top = widths.index(m_top)
    t_pos = t > 0
    bde = np.asarray(prd_jax.theory.bde_bound(t, r0, spec["kappa"], mu, lam_eff))
    lam_min_top = adv["lambda_min"][i_top] if ok_adv[i_top] else np.full(1, np.nan)
    wgan_set = base | {
        "m": m_top,
        "lambda_adv": 1.0,
        "critic": "wgan_gp",
        "critic_optimizer": "adam",
        "critic_lr_per_t": tcfg.critic_lr,
        "critic_norm": L,
        "L_bound": L_bound,
        "critic_norm_over_L_bound": L / L_bound,
        "eps": r0 / 2,
        "min_lambda_min_over_lambda0": float(np.min(lam_min_top) / spec["lambda0"]),
    }
    adv_runs = {"runs_used": int(ok_adv.sum()), "runs_diverged": int((~ok_adv).sum())}
    found += [
        claims.upper_bound(
            f"{name}_eq17_wgan",
            f"{name}, m = {m_top}: Eq. 17 against the trained WGAN-GP critic, ‖z(t) − y‖ ≤ "
            "(r0 − κμ) e^{−λ0 t/2} + κμ with L = max ‖W‖",
            adv["residual"][i_top][t_pos & ok_adv[i_top]],
            bde[t_pos & ok_adv[i_top]],
            source="Eq. 17",
            setting=wgan_set,
            hypotheses=common.THEOREM2,
            runs_used=int(ok_adv[i_top]),
            runs_diverged=int(not ok_adv[i_top]),
            note="not judged: Eq. 17 needs a frozen critic with ‖w‖ ≤ L_bound = "
            f"{L_bound:.3g} (ε = r0/2) and d_out = 1; this critic moves and ‖W‖ reaches {L:.3g}. "
            "Judged in its own setting in experiments.theorem2",
        ),
        claims.finding(
            f"{name}_kappa_mu_over_r0",
            f"{name}: Eq. 17's floor κμ with the WGAN-GP critic's measured norm, in units of r0",
            floor / r0,
            source="Eq. 17",
            setting=wgan_set,
            hypotheses=(),
            **adv_runs,
            note=f"κμ = {floor:.3g} against r0 = {r0:.3g}: vacuous, because the unconstrained "
            f"critic's norm is {L / L_bound:.3g}x Theorem 2's L_bound",
        ),
    ]
    return panel, stats, found


def run(cfg: Config):
    import jax

    X, Y = prd_jax.sphere(jax.random.key(cfg.seed + 100), cfg.n_synthetic, cfg.d_synthetic, 1)
    panel, stats, found = _panel(
        "synthetic", "synthetic sphere data", X, Y, cfg.steps_synthetic, cfg
    )
    panels, summary = [panel], {"synthetic": stats}
    if cfg.mnist:
        X, Y, info = common.load_data(cfg.mnist, cfg.n_mnist, "onehot", cfg.factor, cfg.seed)
        name = info["dataset"]
        panel, stats, more = _panel(name, name, X, Y, cfg.steps_mnist, cfg)
        panels.append(panel)
        summary[name] = stats | {"data": info}
        found += more
    found = claims.check_unique_ids(found)
    return {"summary": summary, "claims": found, "series": {"panels": panels}}, {}


main = common.make_main("linear_rate", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
