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
TRAIN = dict(train_v=True, critic="wgan_gp", critic_optimizer="adam", logs_per_decade=3)


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
    arrays["log_t"] = np.asarray(grid.log_steps, np.float64) * lr

    summary = {"dataset": info["dataset"], "data": info, "n": cfg.n, "image_shape": list(shape)}
    summary |= {"target": info["target"], "width": cfg.width, "steps": cfg.steps, "lr": lr}
    summary |= {"t": lr * cfg.steps, "seeds": cfg.seeds, "lambda_adv": cfg.lambda_adv}
    summary |= {"n_show": cfg.n_show, **common.spectrum_info(X), "runs": runs}
    summary["per_seed"] = per_seed
    summary["span_residual_max"] = {mode: max(v) for mode, v in span.items()}
    summary["span_dim"] = int(features.span_basis(X).shape[1])
    found = _claims(cfg, setting(cfg, X, Y, lr), per_seed, span, summary["span_dim"])
    return {
        "summary": summary,
        "claims": claims.mark_diverged(found, int(np.sum(grid.diverged))),
    }, arrays


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


def _claims(cfg, setting, per_seed, span, span_dim):
    sup, adv = per_seed["supervised"], per_seed["adversarial"]
    scale = float(np.mean([s["drift_over_init"] for s in adv]))
    visible = scale >= 0.5
    out = []
    for key, cid, statement, direction in COMPARISONS:
        note = (
            f"Paired by seed (same init trained both ways), adversarial − supervised; means: "
            f"{_means(per_seed, key)}."
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
                source="the paper's pattern figures (Turing-like patterns)",
                setting=setting,
                direction=direction,
                note=note,
            )
        )
    worst = max(max(v) for v in span.values())
    out.append(
        claims.prediction(
            "drift_in_data_span",
            "the drift Δu_j = u_j(T) − u_j(0) is a combination Σ_p c_pj x_p of the inputs under "
            "either loss (gradient descent through u_jᵀx_p), so drift images look like the data "
            "whether or not training is adversarial",
            worst,
            0.0,
            rtol=0.0,
            atol=1e-3,
            source="chain rule (∂L/∂u_j = Σ_p c_pj x_p for any loss of the outputs)",
            setting=setting,
            seeds=cfg.seeds,
            note="measured: the largest relative part of Δu_j outside span{x_p} over the first "
            f"{min(cfg.n_stats, cfg.width)} neurons, both modes, every seed (float32 training). "
            f"span{{x_p}} has dimension {span_dim} of d_in = {setting['d_in']}"
            + (" (all of it: the check is trivial here). " if span_dim == setting["d_in"] else ". ")
            + "Digit- or "
            "garment-shaped drift images are therefore not by themselves evidence of "
            "reaction-diffusion.",
        )
    )
    for mode, rows in per_seed.items():
        values = [s["morans_i_du"] for s in rows]
        out.append(
            claims.seed_finding(
                f"morans_i_drift_{mode}",
                f"Moran's I of the drift images Δu_j, {mode} training (mean over neurons)",
                values,
                source="beyond the paper",
                setting=setting,
                note="95% t-interval over seeds. Structured in both modes: Δu_j lies in "
                "span{x_p} under any loss (see drift_in_data_span).",
            )
        )
    for mode, rows in per_seed.items():
        values = [s["frac_drift_dominated"] for s in rows]
        out.append(
            claims.seed_finding(
                f"frac_drift_dominated_{mode}",
                f"fraction of neurons whose drift exceeds their init (‖Δu_j‖ > ‖u_j(0)‖), {mode} "
                "training: where u_j can look like its drift image",
                values,
                source="beyond the paper",
                setting=setting,
                note="95% t-interval over seeds; all m neurons. Exploratory (chosen after seeing "
                "that the drift concentrates on few neurons), so a finding.",
            )
        )
    values = [s["drift_over_init"] for s in adv]
    out.append(
        claims.finding(
            "pattern_scale",
            "scale at which a pattern could show in u_j itself: mean ‖Δu_j‖/‖u_j(0)‖, "
            "adversarial training",
            scale,
            source="beyond the paper",
            setting=setting,
            interval=features.t_interval(values),
            seeds=cfg.seeds,
            note=(
                "order 1 or more: u_j can look like its drift image (the paper's silhouette-like "
                "u_j); "
                if visible
                else "below ~0.5: u_j is still mostly its N(0,1) init, so a silhouette-like u_j "
                "cannot appear at this scale (inconclusive, not negative); "
            )
            + f"supervised: {np.mean([s['drift_over_init'] for s in sup]):.3g}",
        )
    )
    return out


def make(dataset: str, name: str, doc: str):
    return common.make_main(name, doc, presets(dataset), run, figure.plot)


main = make("mnist", "patterns_mnist", __doc__)

if __name__ == "__main__":
    main()
