"""Turing-like patterns by the PRD model on MNIST: each initialisation is trained supervised and
adversarially, and its neurons u_j are drawn as weight images next to U and V as heat maps.

    python -m experiments.patterns_mnist --preset quick    # ~1 min on 2 CPU cores, 5 seeds
    python -m experiments.patterns_mnist --preset medium   # ~5 min on 2 CPU cores (docs/medium)
    python -m experiments.patterns_mnist --preset paper    # accelerator: n=1000, 28x28, 23000 it.
    python -m experiments.patterns_mnist --preset tiny     # seconds (smoke test)

For each of ``seeds`` initialisations, lambda_adv = 0 and ``lambda_adv`` from the same key, in
one ``run_grid`` call (WGAN-GP critic with Adam, U and V trained: the Theorem 3 / pattern
setting), so every supervised-vs-adversarial comparison is paired by seed. The figure (first
seed) renders u_j as images (jet, as the paper's FashionMNIST kernel figure), the drift Δu_j,
and U, V as heat maps at init / supervised / adversarial, with pattern statistics
(prd_jax.turing.patterns) under every panel.

What can and cannot be read from it. Under any loss, gradient descent moves u_j by
Σ_p c_pj x_p, so the drift images Δu_j are combinations of the inputs (digit- or
garment-shaped) whether training is supervised or adversarial: they are not by themselves
evidence of reaction-diffusion (checked: the part of Δu_j outside span{x_p} is a rounding
error). A pattern shows in u_j = u_j(0) + Δu_j only once ‖Δu_j‖ is comparable to
‖u_j(0)‖ = sqrt(d_in); below that scale "not seen" is inconclusive, not negative. The claims
compare Moran's I of u_j, and the KS distance and excess kurtosis of U's entries, between the
two modes, paired by seed, with a 95% t-interval over seeds.

The adversarial runs fit the data less (their final L_sup is higher), and fitting less moves the
weights differently by itself. So beside every drift and tail comparison at the horizon the
gap in final L_sup (adversarial − supervised) is a finding, and the drift and the KS distance
(both logged at every log point) are compared again at matched L_sup: for each seed, the mode
that ends with the lower L_sup is read where its L_sup first falls to the other's final L_sup
(interpolated in log L_sup between log points), the other at its horizon. Kurtosis and Moran's
I need U itself, and only the final weights are kept: they are compared at the horizon only.
Runs that diverged feed no number: each comparison pairs the seeds where neither run diverged.
Also the shared implementation of patterns_synthetic and patterns_fashion_mnist.
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import patterns as figure
from prd_jax import claims, features
from prd_jax.grid import run_grid

DATASETS = ("mnist", "fashion_mnist", "digits", "synthetic")  # common.load_data's names
# The Theorem 3 / pattern setting: U and V trained, a WGAN-GP critic trained with Adam.
# 9 log points per decade: the matched-L_sup comparisons interpolate between them.
TRAIN = dict(train_v=True, critic="wgan_gp", critic_optimizer="adam", logs_per_decade=9)
# Metrics logged at every log point and compared between the modes at matched L_sup.
TRAJECTORY = ("drift_rel", "homog_ks")


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "mnist"  # "mnist", "fashion_mnist", "digits" or "synthetic" (sphere, teacher)
    n: int = 100  # images, class balanced (10 per class)
    factor: int = 2  # average-pooling factor: 2 gives 14x14 images (CPU), 1 keeps 28x28
    target: str = "onehot"  # "onehot" (d_out = 10) or "image" (Y = X)
    width: int = 128  # m, neurons of generator and critic
    steps: int = 2000  # generator iterations (paper: 23000)
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max(kernel)  (prd_jax.suggest_lr)
    critic_lr: float = 0.02  # Adam(b1=0, b2=0.9) critic, rate per unit of t = eta * steps
    n_critic: int = 1  # critic steps per generator step
    lambda_adv: float = 1.0  # the adversarial mode's weight (the paper: 1)
    seed: int = 0  # first initialisation seed (and the data-subset seed); the figure's run
    seeds: int = 5  # initialisations seed, seed+1, ...: each trained both ways (paired)
    n_show: int = 3  # neurons rendered as images (<= width)
    show: str = "first"  # which: "first" (u_0, u_1, ...) or "largest_drift" (adversarial)
    n_matrix: int = 64  # neurons shown in the U and V heat maps
    n_stats: int = 128  # neurons averaged in the per-neuron pattern statistics

    def __post_init__(self):
        common.check(self, positive=("n", "factor", "width", "steps", "lr_safety", "critic_lr"))
        common.check(self, positive=("n_critic", "lambda_adv", "seeds"))
        common.check(self, positive=("n_show", "n_matrix", "n_stats"), nonnegative=("seed",))
        if self.dataset not in DATASETS:
            raise ValueError(f"Config.dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.target not in ("onehot", "image"):
            raise ValueError(f"Config.target must be 'onehot' or 'image', got {self.target!r}")
        if self.show not in ("first", "largest_drift"):
            raise ValueError(f"Config.show must be 'first' or 'largest_drift', got {self.show!r}")
        if self.n_show > self.width:
            raise ValueError(f"Config.n_show must be <= width={self.width}, got {self.n_show}")


def presets(dataset: str) -> dict:
    quick = Config(dataset=dataset)
    return {
        "quick": quick,
        # Chosen from the probes (docs/medium/README.md): 28x28 -> 14x14 doubles the relative
        # drift (||u_j(0)|| = sqrt(d_in)); m = 64 and n = 500 (more than the network fits, so
        # the critic keeps moving) push it further, and so does a longer t (eta at 0.9 of its
        # stability limit); critic speed, n_critic and eta per unit of t barely matter;
        # lambda_adv >= 3 stops fitting the data, >= 10 collapses the outputs to 0.
        "medium": dataclasses.replace(
            quick, n=500, width=64, steps=6000, lr_safety=0.9, show="largest_drift"
        ),
        "paper": dataclasses.replace(quick, n=1000, factor=1, width=1024, steps=23000),
        "tiny": dataclasses.replace(
            quick, n=20, factor=4, width=16, steps=20, seeds=2, n_matrix=16, n_stats=16
        ),
    }


PRESETS = presets("mnist")


def setting(cfg: Config, X, Y, lr: float) -> dict:
    """The hypotheses in force, as a claim's ``setting``."""
    return {
        "dataset": cfg.dataset,
        "n": int(X.shape[0]),
        "d_in": int(X.shape[1]),
        "d_out": int(Y.shape[1]),
        "m": cfg.width,
        "train": "U,V",
        "critic": "wgan_gp",
        "critic_optimizer": "adam",
        "critic_lr_per_t": cfg.critic_lr,
        "n_critic": cfg.n_critic,
        "lambda_adv": cfg.lambda_adv,
        "lr": float(lr),
        "t": float(lr * cfg.steps),
        "seeds": cfg.seeds,
    }


def train_pairs(cfg, X, Y, lr, shape):
    """Every seed trained at lambda_adv = 0 and ``cfg.lambda_adv`` (same init): the grid,
    selected at the one width, with axes ``(seed, lambda_adv)``."""
    tcfg = prd_jax.TrainConfig(
        width=cfg.width,
        steps=cfg.steps,
        critic_lr=cfg.critic_lr,
        n_critic=cfg.n_critic,
        image_shape=shape,
        **TRAIN,
    )
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    grid = run_grid(
        tcfg,
        X,
        Y,
        seeds=seeds,
        widths=[cfg.width],
        lr=lr,
        lambda_adv=(0.0, cfg.lambda_adv),
        weights=True,
    )
    return grid, grid.sel(width=cfg.width)


def run(cfg: Config):
    X, Y, info = common.load_data(cfg.dataset, cfg.n, cfg.target, cfg.factor, cfg.seed)
    shape = tuple(info["image_shape"])
    lr = prd_jax.suggest_lr(X, Y.shape[1], train_v=True, safety=cfg.lr_safety)
    grid, both = train_pairs(cfg, X, Y, lr, shape)
    modes = {"supervised": 0.0, "adversarial": cfg.lambda_adv}
    k = min(cfg.n_stats, cfg.width)

    # ok[mode] (seeds,): the runs that did not diverge, the only ones that feed a number.
    ok = {mode: common.usable(both.sel(lambda_adv=lam).diverged) for mode, lam in modes.items()}
    curves = {mode: both.sel(lambda_adv=lam).metrics for mode, lam in modes.items()}
    t_log = np.asarray(grid.log_steps, np.float64) * lr
    matched = at_matched_loss(
        curves["supervised"]["loss_sup"],
        curves["adversarial"]["loss_sup"],
        {key: curves["supervised"][key] for key in TRAJECTORY},
        {key: curves["adversarial"][key] for key in TRAJECTORY},
        t_log,
    )
    final_loss = {mode: curves[mode]["loss_sup"][:, -1].astype(np.float64) for mode in modes}

    # Per seed and mode: statistics of the trained U against its own init.
    per_seed = {mode: [] for mode in modes}
    span = {mode: [] for mode in modes}
    for i in range(cfg.seeds):
        for mode, lam in modes.items():
            w = both.sel(lambda_adv=lam).weights
            U, U0 = w["U"][i], w["U0"][i]
            per_seed[mode].append(features.weight_field_stats(U, U0, shape, k))
            span[mode].append(float(np.nanmax(features.span_residual((U - U0)[:k], X))))

    # The figure: the first seed's weights.
    first = both.sel(seed=cfg.seed)
    w = {mode: first.sel(lambda_adv=lam) for mode, lam in modes.items()}
    U0 = w["supervised"].weights["U0"]
    mats = {"init": (U0, w["supervised"].weights["V0"])}
    mats.update({mode: (r.weights["U"], r.weights["V"]) for mode, r in w.items()})
    # Heat-map rows in one order for every column: neurons sorted by the PC1 score of their
    # adversarial drift, so that shared drift directions show up as bands.
    km = min(cfg.n_matrix, cfg.width)
    order = np.argsort(features.pca(mats["adversarial"][0][:km] - U0[:km], k=1).coords[:, 0])
    shown = _shown_neurons(cfg, U0, mats["adversarial"][0])
    runs, arrays = {}, {"mean_input": np.asarray(X).mean(axis=0), "order": order}
    arrays["shown"] = shown
    for col, (U, V) in mats.items():
        dU = U - U0
        runs[col] = features.weight_field_stats(U, U0, shape, k) | {
            "u_pattern": features.neuron_pattern_stats(U, shape, k),
            "du_pattern": features.neuron_pattern_stats(dU, shape, k) if col in w else None,
            "top_pc_excess_U": features.top_pc_excess(U),
            "top_pc_excess_V": features.top_pc_excess(V.T),
        }
        if col in w:
            m = w[col].metrics
            runs[col].update(loss_sup=float(m["loss_sup"][-1]), diverged=bool(w[col].diverged))
            runs[col]["kernel_dev"] = float(m["kernel_dev"][-1])
        arrays[f"U_{col}"] = U[shown]
        arrays[f"Umat_{col}"] = U[:km][order]
        arrays[f"dUmat_{col}"] = dU[:km][order]  # read by experiments.pattern_comparison
        arrays[f"Vmat_{col}"] = V[:, :km][:, order]
    # Drift curves of every seed (for the figure's drift panel): (mode, seed, log point).
    for mode, lam in modes.items():
        arrays[f"drift_rel_{mode}"] = both.sel(lambda_adv=lam).metrics["drift_rel"]
        arrays[f"loss_sup_{mode}"] = both.sel(lambda_adv=lam).metrics["loss_sup"]
    arrays["log_t"] = t_log

    summary = {"dataset": info["dataset"], "data": info, "n": cfg.n, "image_shape": list(shape)}
    summary |= {"target": info["target"], "width": cfg.width, "steps": cfg.steps, "lr": lr}
    summary |= {"t": lr * cfg.steps, "seeds": cfg.seeds, "lambda_adv": cfg.lambda_adv}
    summary |= {"n_show": cfg.n_show, **common.spectrum_info(X), "runs": runs}
    summary["per_seed"] = per_seed
    summary["usable"] = {mode: v.tolist() for mode, v in ok.items()}
    summary["diverged"] = {mode: int((~v).sum()) for mode, v in ok.items()}
    summary["final_loss_sup"] = final_loss
    summary["matched_loss"] = matched
    summary["span_residual_max"] = {
        mode: max([v for v, u in zip(vals, ok[mode], strict=True) if u], default=float("nan"))
        for mode, vals in span.items()
    }
    summary["span_dim"] = int(features.span_basis(X).shape[1])
    found = _claims(
        cfg, setting(cfg, X, Y, lr), per_seed, span, summary["span_dim"], ok, matched, final_loss
    )
    return {"summary": summary, "claims": claims.check_unique_ids(found)}, arrays


def crossing(loss, target):
    """The first point at which a logged L_sup curve falls to ``target``: ``(i, f)``, the curve
    read at log point ``i + f`` (``0 <= f < 1``, linear in log L_sup between log points ``i`` and
    ``i + 1``; linear in L_sup where it is not positive), or None if it never gets there."""
    loss = np.asarray(loss, np.float64)
    below = np.flatnonzero(loss <= target)
    if below.size == 0:
        return None
    k = int(below[0])
    if k == 0:
        return 0, 0.0
    a, b, c = loss[k - 1], loss[k], target
    if min(a, b, c) > 0:
        a, b, c = np.log(a), np.log(b), np.log(c)
    f = (a - c) / (a - b)  # a > c >= b
    return (k, 0.0) if f >= 1.0 else (k - 1, float(f))


def read_at(y, i: int, f: float) -> float:
    """``y`` at log point ``i + f`` (linear between log points)."""
    y = np.asarray(y, np.float64)
    return float(y[i]) if f == 0.0 else float(y[i] + f * (y[i + 1] - y[i]))


def at_matched_loss(loss_sup, loss_adv, metrics_sup: dict, metrics_adv: dict, t) -> dict:
    """Per seed, both modes read at the same L_sup: the target is the larger of the two final
    L_sup; the mode that ends lower is read where its L_sup first falls to the target
    (``crossing``), the other at its horizon.

    Args:
      loss_sup, loss_adv: ``(S, L)`` L_sup at the log points; metrics_*: ``{key: (S, L)}``;
      t: ``(L,)`` times of the log points.

    Returns:
      ``{"target": (S,), "t_supervised": (S,), "t_adversarial": (S,), "early": [mode, ...],
      key: {"supervised": (S,), "adversarial": (S,)}}``: the time each mode is read at, and
      which mode is read before its horizon in each seed.
    """
    loss = {"supervised": np.asarray(loss_sup, np.float64)}
    loss["adversarial"] = np.asarray(loss_adv, np.float64)
    metrics = {"supervised": metrics_sup, "adversarial": metrics_adv}
    n_seeds, last = loss["supervised"].shape[0], loss["supervised"].shape[1] - 1
    out = {"target": np.zeros(n_seeds), "early": []}
    out |= {f"t_{mode}": np.zeros(n_seeds) for mode in loss}
    out |= {key: {mode: np.zeros(n_seeds) for mode in loss} for key in metrics_sup}
    for s in range(n_seeds):
        final = {mode: loss[mode][s, -1] for mode in loss}
        target = max(final.values())
        early = min(final, key=final.get)  # the mode that ends with the lower L_sup
        out["target"][s], out["early"] = target, [*out["early"], early]
        for mode in loss:
            at = crossing(loss[mode][s], target) if mode == early else (last, 0.0)
            # None only with a non-finite L_sup (a diverged run, which no claim uses)
            out[f"t_{mode}"][s] = read_at(t, *at) if at else np.nan
            for key in metrics[mode]:
                out[key][mode][s] = read_at(metrics[mode][key][s], *at) if at else np.nan
    return out


def _shown_neurons(cfg, U0, U_adv) -> np.ndarray:
    """Indices of the neurons drawn as images: the first ``n_show``, or the ``n_show`` with the
    largest adversarial ``‖Δu_j‖/‖u_j(0)‖`` (where a pattern in Δu_j can show in u_j)."""
    if cfg.show == "first":
        return np.arange(cfg.n_show)
    ratio = np.linalg.norm(U_adv - U0, axis=1) / np.linalg.norm(U0, axis=1)
    return np.argsort(-ratio)[: cfg.n_show]


# (key, id, statement, direction) of the paired supervised-vs-adversarial comparisons.
COMPARISONS = (
    (
        "drift_rel",
        "drift_adv_gt_sup",
        "adversarial training moves U further from its init than supervised training "
        "(relative drift ‖ΔU‖_F/‖U(0)‖_F)",
        "greater",
    ),
    (
        "morans_i_u",
        "morans_i_u_adv_gt_sup",
        "adversarial u_j show more spatial pattern than supervised u_j (Moran's I of u_j as "
        "an image)",
        "greater",
    ),
    (
        "ks",
        "ks_u_adv_gt_sup",
        "adversarial U is less homogeneous: its entries are further from N(0,1) (KS distance)",
        "greater",
    ),
    (
        "kurtosis",
        "kurtosis_u_adv_gt_sup",
        "adversarial U's entries are more heavy-tailed than supervised U's (excess kurtosis)",
        "greater",
    ),
)


def _means(per_seed, key) -> str:
    return ", ".join(
        f"{mode} {np.mean([s[key] for s in rows]):.4g}" for mode, rows in per_seed.items()
    )


def loss_gap(setting, final_loss, pair, note=""):
    """The finding ``loss_sup_gap`` (final L_sup, adversarial − supervised, over the seeds where
    neither run diverged) and a sentence for the notes of the comparisons it confounds."""
    sup, adv = final_loss["supervised"][pair], final_loss["adversarial"][pair]
    gap = adv - sup
    mean, (lo, hi) = claims.t_interval(gap)
    rec = claims.seed_finding(
        "loss_sup_gap",
        "final L_sup, adversarial − supervised (how much less the adversarial run fits the data)",
        gap,
        source="beyond the paper",
        setting=setting,
        hypotheses=(),
        runs_diverged=int((~pair).sum()),
        note="paired by seed, 95% t-interval over the seeds where neither run diverged; means: "
        f"adversarial {np.mean(adv):.4g}, supervised {np.mean(sup):.4g} (ratio "
        f"{np.mean(adv) / np.mean(sup):.3g}). Fitting less moves the weights differently by "
        "itself, so every comparison at the horizon mixes the critic's effect with this gap"
        + (f". {note}" if note else ""),
    )
    text = (
        f" Confounded by fitting: final L_sup adversarial {np.mean(adv):.4g} vs supervised "
        f"{np.mean(sup):.4g}, gap {mean:.4g} [{lo:.4g}, {hi:.4g}] (finding loss_sup_gap)."
    )
    return rec, text


def _claims(cfg, setting, per_seed, span, span_dim, ok, matched, final_loss):
    pair = ok["supervised"] & ok["adversarial"]  # seeds where neither run diverged
    left_out = int((~pair).sum())
    used = {
        mode: [r for r, u in zip(rows, pair, strict=True) if u] for mode, rows in per_seed.items()
    }
    sup, adv = used["supervised"], used["adversarial"]
    adv_ok = [r for r, u in zip(per_seed["adversarial"], ok["adversarial"], strict=True) if u]
    scale = float(np.mean([s["drift_over_init"] for s in adv_ok])) if adv_ok else float("nan")
    visible = scale >= 0.5
    gap_rec, gap_text = loss_gap(setting, final_loss, pair)
    paper = dict(source="the paper's pattern figures (Turing-like patterns)", setting=setting)
    paper["hypotheses"] = common.PATTERN_SETTING
    out = []
    for key, cid, statement, direction in COMPARISONS:
        note = (
            f"Paired by seed (same init trained both ways), adversarial − supervised, at the "
            f"horizon; means: {_means(used, key)}." + gap_text
        )
        if key in ("drift_rel", "ks"):
            note += f" At matched L_sup: {cid.removesuffix('_gt_sup')}_gt_sup_at_matched_loss."
        else:
            note += (
                " Needs U itself, and only the final weights are kept: not compared at matched "
                "L_sup."
            )
        if key in ("morans_i_u", "kurtosis") and not visible:
            note += (
                f" At this scale ‖Δu_j‖/‖u_j(0)‖ = {scale:.2f} (adversarial, mean over seeds): "
                "a pattern in Δu_j barely shows in u_j, so a null result here is inconclusive "
                "at this scale, not negative."
            )
        out.append(
            claims.comparison(
                cid,
                statement,
                features.paired_differences(adv, sup, key),
                direction=direction,
                runs_diverged=left_out,
                note=note,
                **paper,
            )
        )
    out.append(gap_rec)
    early = [e for e, u in zip(matched["early"], pair, strict=True) if u]
    n_sup_early = sum(e == "supervised" for e in early)
    t_end = float(matched["t_supervised"].max()) if len(early) else float("nan")
    t_read = [matched[f"t_{e}"][s] / t_end for s, e in enumerate(matched["early"]) if pair[s]]
    when = (
        f"In {n_sup_early} of {len(early)} seeds the supervised run ends with the lower L_sup and "
        "is read where its L_sup first falls to the adversarial final L_sup (interpolated in log "
        f"L_sup between log points), the adversarial run at its horizon; in the others the "
        f"reverse. The early mode is read at {np.mean(t_read) if t_read else float('nan'):.3g} "
        "of the horizon on average."
    )
    for key, cid, statement in (
        (
            "drift_rel",
            "drift_adv_gt_sup_at_matched_loss",
            "at equal L_sup, adversarial training has moved U further from its init than "
            "supervised training (relative drift ‖ΔU‖_F/‖U(0)‖_F)",
        ),
        (
            "homog_ks",
            "ks_u_adv_gt_sup_at_matched_loss",
            "at equal L_sup, adversarial U's entries are further from N(0,1) than supervised U's "
            "(KS distance)",
        ),
    ):
        diff = (matched[key]["adversarial"] - matched[key]["supervised"])[pair]
        means = {m: float(np.mean(matched[key][m][pair])) for m in ("supervised", "adversarial")}
        out.append(
            claims.comparison(
                cid,
                statement,
                diff,
                runs_diverged=left_out,
                note="Paired by seed, adversarial − supervised, both read at the same L_sup "
                f"(the larger of the two final L_sup): the critic's effect apart from fitting "
                f"less. Means: supervised {means['supervised']:.4g}, adversarial "
                f"{means['adversarial']:.4g}. {when}",
                **paper,
            )
        )
    usable_span = [v for mode in span for v, u in zip(span[mode], ok[mode], strict=True) if u]
    out.append(
        claims.check(
            "drift_in_data_span",
            "the drift Δu_j = u_j(T) − u_j(0) is a combination Σ_p c_pj x_p of the inputs under "
            "either loss (gradient descent through u_jᵀx_p), so drift images look like the data "
            "whether or not training is adversarial",
            max(usable_span) if usable_span else None,
            0.0,
            rtol=0.0,
            atol=1e-3,
            source="chain rule (∂L/∂u_j = Σ_p c_pj x_p for any loss of the outputs)",
            setting=setting,
            seeds=cfg.seeds,
            runs_used=len(usable_span),
            runs_diverged=2 * cfg.seeds - len(usable_span),
            note="an identity that holds by construction (a check of the code, not support for "
            "the paper). Measured: the largest relative part of Δu_j outside span{x_p} over the "
            f"first {min(cfg.n_stats, cfg.width)} neurons, both modes, every usable run (float32 "
            f"training). span{{x_p}} has dimension {span_dim} of d_in = {setting['d_in']}"
            + (" (all of it: the check is trivial here). " if span_dim == setting["d_in"] else ". ")
            + "Digit- or garment-shaped drift images are therefore not by themselves evidence of "
            "reaction-diffusion.",
        )
    )
    for mode, rows in per_seed.items():
        values = [s["morans_i_du"] for s, u in zip(rows, ok[mode], strict=True) if u]
        out.append(
            claims.seed_finding(
                f"morans_i_drift_{mode}",
                f"Moran's I of the drift images Δu_j, {mode} training (mean over neurons)",
                values,
                source="beyond the paper",
                setting=setting,
                hypotheses=(),
                runs_diverged=int((~ok[mode]).sum()),
                note="95% t-interval over the usable seeds. Structured in both modes: Δu_j lies "
                "in span{x_p} under any loss (see drift_in_data_span).",
            )
        )
    for mode, rows in per_seed.items():
        values = [s["frac_drift_dominated"] for s, u in zip(rows, ok[mode], strict=True) if u]
        out.append(
            claims.seed_finding(
                f"frac_drift_dominated_{mode}",
                f"fraction of neurons whose drift exceeds their init (‖Δu_j‖ > ‖u_j(0)‖), {mode} "
                "training: where u_j can look like its drift image",
                values,
                source="beyond the paper",
                setting=setting,
                hypotheses=(),
                runs_diverged=int((~ok[mode]).sum()),
                note="95% t-interval over the usable seeds; all m neurons. Exploratory (chosen "
                "after seeing that the drift concentrates on few neurons), so a finding.",
            )
        )
    sup_ok = [r for r, u in zip(per_seed["supervised"], ok["supervised"], strict=True) if u]
    sup_scale = np.mean([s["drift_over_init"] for s in sup_ok]) if sup_ok else float("nan")
    out.append(
        claims.seed_finding(
            "pattern_scale",
            "scale at which a pattern could show in u_j itself: mean ‖Δu_j‖/‖u_j(0)‖, "
            "adversarial training",
            [s["drift_over_init"] for s in adv_ok],
            source="beyond the paper",
            setting=setting,
            hypotheses=(),
            runs_diverged=int((~ok["adversarial"]).sum()),
            note=(
                "order 1 or more: u_j can look like its drift image (the paper's silhouette-like "
                "u_j); "
                if visible
                else "below ~0.5: u_j is still mostly its N(0,1) init, so a silhouette-like u_j "
                "cannot appear at this scale (inconclusive, not negative); "
            )
            + f"supervised: {sup_scale:.3g}; 95% t-interval over the usable seeds",
        )
    )
    return out


def make(dataset: str, name: str, doc: str):
    return common.make_main(name, doc, presets(dataset), run, figure.plot)


main = make("mnist", "patterns_mnist", __doc__)

if __name__ == "__main__":
    main()
