"""Feature visualisation ("importance of diffusion"): the perturbation δ_j = argmax_{δ∈Δ}
u_jᵀ(x + δ) is drawn for neurons of a supervised and of an adversarially trained network.

    python -m experiments.feature_vis --preset quick   # ~15 s on 2 CPU cores
    python -m experiments.feature_vis --preset paper   # accelerator
    python -m experiments.feature_vis --preset tiny    # seconds (smoke test)

Both networks start from one key and are trained in one ``run_grid`` call (lambda_adv = 0 and
1, WGAN-GP critic, U and V trained). The paper does not define Δ. Three choices: the l2 ball
(closed form ε u_j/‖u_j‖), the l∞ ball (closed form ε sign(u_j)), and the l2 ball intersected
with the image box x + δ ∈ [0, 1]^d, solved by projected gradient ascent and checked against
the exact KKT solution. x is an input image in pixel units [0, 1]. Numbers: Moran's I of δ_j
(spatial smoothness of the feature), and the mean |cos(u_j, x̄)| (alignment of the neurons
with the mean input image: "interpretable kernel weights").
"""

import dataclasses

import jax.numpy as jnp
import numpy as np

import prd_jax
from experiments import common
from experiments.plots import feature_vis as figure
from prd_jax import claims, data, features
from prd_jax.grid import run_grid

DATASETS = ("mnist", "fashion_mnist", "digits", "synthetic")  # common.load_data's names
MODES = {"supervised": 0.0, "adversarial": 1.0}  # lambda_adv of each mode
TRAIN = dict(train_v=True, critic="wgan_gp", logs_per_decade=3)  # U and V, WGAN-GP critic (Adam)


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "mnist"  # "mnist", "fashion_mnist", "digits" or "synthetic" (sphere, teacher)
    n: int = 100  # class-balanced subset, one-hot targets
    factor: int = 2  # 14x14 images
    width: int = 256  # m, neurons of generator and critic
    steps: int = 3000  # generator iterations (paper: 23000)
    lr_safety: float = 0.5  # eta = lr_safety * 2 / lambda_max(kernel)  (prd_jax.suggest_lr)
    critic_lr: float = 1e-3  # Adam critic, 1 critic step per generator step
    n_show: int = 6  # neurons shown (<= width)
    n_stats: int = 128  # neurons averaged in the statistics
    eps_l2: float = 3.0  # radius of the l2 ball, pixel units
    eps_linf: float = 0.3  # radius of the l∞ ball
    pga_steps: int = 300  # projected gradient ascent steps
    image_index: int = 0  # which image of the subset is x (0..9)
    seed: int = 0  # initialisation seed (same init for both runs) and data-subset seed

    def __post_init__(self):
        common.check(self, positive=("n", "factor", "width", "steps", "lr_safety", "critic_lr"))
        common.check(self, positive=("n_show", "n_stats", "eps_l2", "eps_linf", "pga_steps"))
        common.check(self, nonnegative=("image_index", "seed"))
        if self.dataset not in DATASETS:
            raise ValueError(f"Config.dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.n_show > self.width:
            raise ValueError(f"Config.n_show must be <= width={self.width}, got {self.n_show}")
        if self.image_index >= min(self.n, 10):
            raise ValueError(f"Config.image_index must be < min(n, 10), got {self.image_index}")


PRESETS = {
    "quick": Config(),
    "paper": Config(n=1000, factor=1, width=1024, steps=23000, eps_l2=6.0),
    "tiny": Config(n=20, factor=4, width=16, steps=20, n_show=2, n_stats=8, pga_steps=20),
}


def run(cfg: Config):
    X, Y, info = common.load_data(cfg.dataset, cfg.n, "onehot", cfg.factor, cfg.seed)
    shape = tuple(info["image_shape"])
    lr = prd_jax.suggest_lr(X, Y.shape[1], train_v=True, safety=cfg.lr_safety)
    tcfg = prd_jax.TrainConfig(
        width=cfg.width, steps=cfg.steps, critic_lr=cfg.critic_lr, image_shape=shape, **TRAIN
    )
    grid = run_grid(
        tcfg, X, Y, seeds=[cfg.seed], widths=[cfg.width], lr=lr, lambda_adv=(0.0, 1.0), weights=True
    )
    one = grid.sel(seed=cfg.seed, width=cfg.width)  # axis: lambda_adv
    k, s = cfg.n_stats, cfg.n_show
    U0 = one.weights["U0"][0][:k]
    x, x_mean = _pixel_image(info, X, cfg), np.asarray(X).mean(axis=0)

    arrays, checks, stats = {"x": x}, {}, {}
    per_neuron = {"gap": [], "moran": {}, "cos": {}}  # the claims' samples
    align = {"init": features.mean_abs_cosine(U0, x_mean)}
    for mode, lam in MODES.items():
        Un = one.sel(lambda_adv=lam).weights["U"][:k]
        U, drift = jnp.asarray(Un, jnp.float32), Un - U0
        d_l2 = np.asarray(features.feature_l2(U, cfg.eps_l2))
        d_pga = np.asarray(features.feature_box(U[:s], x, cfg.eps_l2, "l2", "pga", cfg.pga_steps))
        d_kkt = np.asarray(features.feature_box(U[:s], x, cfg.eps_l2, "l2", "kkt"))
        obj_pga, obj_kkt = (np.sum(np.asarray(U[:s], np.float64) * d, 1) for d in (d_pga, d_kkt))
        checks[mode] = {
            "pga_vs_kkt_max_abs": float(np.max(np.abs(d_pga - d_kkt))),
            "objective_gap_rel": float(np.max((obj_kkt - obj_pga) / np.abs(obj_kkt))),
            "box_violation": float(max(0.0, -np.min(x + d_pga), np.max(x + d_pga) - 1.0)),
            "l2_norm_max": float(np.max(np.linalg.norm(d_pga, axis=1))),
        }
        per_neuron["gap"].extend(np.abs(obj_kkt - obj_pga) / np.abs(obj_kkt))
        stats[mode] = features.neuron_pattern_stats(d_l2, shape, k)
        stats[f"drift_{mode}"] = features.neuron_pattern_stats(drift, shape, k)
        per_neuron["cos"][mode] = features.abs_cosines(Un, x_mean)
        align[mode] = float(np.mean(per_neuron["cos"][mode]))
        align[f"drift_{mode}"] = features.mean_abs_cosine(drift, x_mean)
        arrays[f"delta_l2_{mode}"] = d_l2[:s]
        arrays[f"delta_drift_{mode}"] = np.asarray(features.feature_l2(drift[:s], cfg.eps_l2))
        arrays[f"delta_linf_{mode}"] = np.asarray(features.feature_linf(U[:s], cfg.eps_linf))
        arrays[f"x_plus_box_{mode}"] = np.clip(x[None, :] + d_pga, 0.0, 1.0)
        per_neuron["moran"][mode] = _morans_i(d_l2, shape)

    summary = {"dataset": info["dataset"], "data": info, "image_shape": list(shape)}
    summary |= {"width": cfg.width, "steps": cfg.steps, "lr": lr}
    summary |= {"eps_l2": cfg.eps_l2, "eps_linf": cfg.eps_linf}
    summary |= {f"align_{m}": align[m] for m in ("init", *MODES)} | {"alignment": align}
    summary["pga_vs_kkt_max_abs"] = max(c["pga_vs_kkt_max_abs"] for c in checks.values())
    summary |= {"checks": checks, "feature_pattern_stats": stats}
    found = _claims(cfg, per_neuron, stats, align)
    found = claims.mark_diverged(found, int(np.sum(grid.diverged)))
    return {"summary": summary, "claims": found}, arrays


def _claims(cfg, per_neuron, stats, align):
    d_moran = per_neuron["moran"]["adversarial"] - per_neuron["moran"]["supervised"]
    d_cos = per_neuron["cos"]["adversarial"] - per_neuron["cos"]["supervised"]
    paired = f"the first {min(cfg.n_stats, cfg.width)} neurons, paired by neuron (same u_j(0); "
    paired += "neurons of one network are not independent samples; the rule before: Welch z > 2)"
    return [
        claims.prediction(
            "projected gradient ascent finds the box-constrained maximiser (vs exact KKT)",
            per_neuron["gap"],
            0.0,
            rtol=0,
            atol=1e-3,
            note="relative objective gap |u_jᵀδ_kkt − u_jᵀδ_pga|/|u_jᵀδ_kkt| of each shown "
            "neuron, supervised then adversarial: holds when every gap <= 1e-3",
        ),
        claims.comparison(
            "adversarially trained features are more structured (Moran's I of δ_j above "
            "supervised's): 'interpretable kernel weights'",
            d_moran[np.isfinite(d_moran)],
            note=f"Moran's I of δ_j (l2 ball), adversarial − supervised, over {paired}. Means: "
            + ", ".join(f"{m} {s['morans_i']:.3f}" for m, s in stats.items())
            + " (drift_*: the features of Δu_j = u_j(T) − u_j(0) alone)",
        ),
        claims.comparison(
            "adversarial neurons align more with the data (mean |cos(u_j, x̄)|)",
            d_cos,
            note=f"|cos(u_j, x̄)|, adversarial − supervised, over {paired}. Means: "
            + ", ".join(f"{m} {v:.3f}" for m, v in align.items()),
        ),
    ]


def _morans_i(U, shape):
    """Moran's I of each row of U seen as an image."""
    return np.array([s["morans_i"] for s in features.image_stats_batch(U.reshape((-1,) + shape))])


def _pixel_image(info, X, cfg):
    """Input ``image_index`` of the subset in pixel units [0, 1], pooled like the inputs."""
    if info["dataset"] == "synthetic":  # no pixels: rescale the unit vector into [0, 1]
        x = np.asarray(X[cfg.image_index], np.float64)
        return (x - x.min()) / (x.max() - x.min())
    raw, _ = data.load_images(info["dataset"])
    img = raw[info["indices_head"][cfg.image_index]][None].astype(np.float64)
    img = data.downsample(img, cfg.factor if info["dataset"] != "digits" else 1)[0]
    return (img / img.max()).ravel()


main = common.make_main("feature_vis", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
