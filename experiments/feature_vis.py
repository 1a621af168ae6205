"""Feature visualisation ("importance of diffusion"): δ_j = argmax_{δ∈Δ} u_jᵀ(x + δ) for
neurons of a supervised and an adversarially trained network.

    python -m experiments.feature_vis --preset quick   # ~35 s on 2 CPU cores
    python -m experiments.feature_vis --preset paper   # accelerator

The paper does not define Δ. Three choices: the l2 ball (closed form ε u_j/‖u_j‖), the l∞ ball
(closed form ε sign(u_j)), and the l2 ball intersected with the image box x + δ ∈ [0, 1]^d,
solved by projected gradient ascent and checked against the exact KKT solution. x is an input
image in pixel units [0, 1]. Numbers: Moran's I of δ_j (spatial smoothness of the feature),
and the mean |cos(u_j, x̄)| (alignment of the neurons with the mean input image: "interpretable
kernel weights").
"""

import dataclasses

import jax.numpy as jnp
import numpy as np

import prd_jax
from experiments import common
from experiments.plots import feature_vis as figure
from prd_jax import data, features


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    n: int = 100  # class-balanced subset, one-hot targets
    factor: int = 2  # 14x14 images
    width: int = 256
    steps: int = 3000  # paper: 23000
    lr_safety: float = 0.5
    critic_lr: float = 1e-3
    n_show: int = 6  # neurons shown
    n_stats: int = 128  # neurons averaged in the statistics
    eps_l2: float = 3.0  # radius of the l2 ball, pixel units
    eps_linf: float = 0.3  # radius of the l∞ ball
    pga_steps: int = 300
    image_index: int = 0  # which image of the subset is x (0..9)
    seed: int = 0


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
        width=cfg.width,
        steps=cfg.steps,
        train_v=True,
        critic="wgan_gp",
        critic_lr=cfg.critic_lr,
        logs_per_decade=3,
        image_shape=shape,
    )
    out = common.train_batch(tcfg, X, Y, [cfg.seed] * 2, lr=lr, lambda_adv=[0.0, 1.0])

    x = _pixel_image(info, X, cfg)
    x_mean = np.asarray(X).mean(axis=0)

    arrays, moran, checks, align, stats = {"x": x}, {}, {}, {}, {}
    align["init"] = features.mean_abs_cosine(out["U0"][0][: cfg.n_stats], x_mean)
    for i, mode in enumerate(("supervised", "adversarial")):
        U = jnp.asarray(out["U"][i][: cfg.n_stats], jnp.float32)
        xj = jnp.asarray(x, jnp.float32)
        d_l2 = np.asarray(features.feature_l2(U, cfg.eps_l2))
        d_linf = np.asarray(features.feature_linf(U, cfg.eps_linf))
        d_pga = np.asarray(
            features.feature_box(U[: cfg.n_show], xj, cfg.eps_l2, "l2", "pga", steps=cfg.pga_steps)
        )
        d_kkt = np.asarray(features.feature_box(U[: cfg.n_show], xj, cfg.eps_l2, "l2", "kkt"))
        Un = np.asarray(U[: cfg.n_show], np.float64)
        obj_pga = np.sum(Un * d_pga, axis=1)
        obj_kkt = np.sum(Un * d_kkt, axis=1)
        checks[mode] = {
            "pga_vs_kkt_max_abs": float(np.max(np.abs(d_pga - d_kkt))),
            "objective_gap_rel": float(np.max((obj_kkt - obj_pga) / np.abs(obj_kkt))),
            "box_violation": float(max(0.0, -np.min(x + d_pga), np.max(x + d_pga) - 1.0)),
            "l2_norm_max": float(np.max(np.linalg.norm(d_pga, axis=1))),
        }
        drift = out["U"][i][: cfg.n_stats] - out["U0"][i][: cfg.n_stats]
        moran[mode] = [
            features.image_stats(d.reshape(shape))["morans_i"] for d in d_l2[: cfg.n_show]
        ]
        stats[mode] = features.neuron_pattern_stats(d_l2, shape, cfg.n_stats)
        stats[f"drift_{mode}"] = features.neuron_pattern_stats(drift, shape, cfg.n_stats)
        align[mode] = features.mean_abs_cosine(out["U"][i][: cfg.n_stats], x_mean)
        align[f"drift_{mode}"] = features.mean_abs_cosine(drift, x_mean)
        arrays[f"delta_l2_{mode}"] = d_l2[: cfg.n_show]
        arrays[f"delta_drift_{mode}"] = np.asarray(
            features.feature_l2(jnp.asarray(drift[: cfg.n_show], jnp.float32), cfg.eps_l2)
        )
        moran[f"drift_{mode}"] = [
            features.image_stats(d.reshape(shape))["morans_i"]
            for d in arrays[f"delta_drift_{mode}"]
        ]
        arrays[f"delta_linf_{mode}"] = d_linf[: cfg.n_show]
        arrays[f"x_plus_box_{mode}"] = np.clip(x[None, :] + d_pga, 0.0, 1.0)

    sa, ss = stats["adversarial"], stats["supervised"]
    z_moran = features.mean_difference_z(
        sa["morans_i"], sa["morans_i_se"], ss["morans_i"], ss["morans_i_se"]
    )
    cos = {
        mode: features.abs_cosines(out["U"][i][: cfg.n_stats], x_mean)
        for i, mode in enumerate(("supervised", "adversarial"))
    }
    se = {mode: np.std(c, ddof=1) / np.sqrt(c.size) for mode, c in cos.items()}
    z_align = features.mean_difference_z(
        cos["adversarial"].mean(), se["adversarial"], cos["supervised"].mean(), se["supervised"]
    )
    claims = [
        common.claim(
            "projected gradient ascent finds the box-constrained maximiser (vs exact KKT)",
            {mode: checks[mode]["objective_gap_rel"] for mode in checks},
            bool(max(c["objective_gap_rel"] for c in checks.values()) < 1e-3),
            "relative objective gap < 1e-3",
        ),
        common.claim(
            "adversarially trained features are more structured (Moran's I of δ_j above "
            "supervised's): 'interpretable kernel weights'",
            {**{mode: stats[mode]["morans_i"] for mode in stats}, "z": z_moran},
            bool(z_moran > 2),
            f"mean over {cfg.n_stats} neurons, agrees when adversarial - supervised > 2 standard "
            "errors; the drift_* entries are the features of Δu_j = u_j(T) - u_j(0) alone",
        ),
        common.claim(
            "adversarial neurons align more with the data (mean |cos(u_j, x̄)|)",
            {**align, "z": z_align},
            bool(z_align > 2),
            "agrees when adversarial - supervised > 2 standard errors",
        ),
    ]
    summary = {
        "dataset": info["dataset"],
        "data": info,
        "image_shape": list(shape),
        "width": cfg.width,
        "steps": cfg.steps,
        "lr": lr,
        "eps_l2": cfg.eps_l2,
        "eps_linf": cfg.eps_linf,
        "align_init": align["init"],
        "align_supervised": align["supervised"],
        "align_adversarial": align["adversarial"],
        "alignment": align,
        "pga_vs_kkt_max_abs": max(c["pga_vs_kkt_max_abs"] for c in checks.values()),
        "checks": checks,
        "feature_pattern_stats": stats,
    }
    return {"summary": summary, "claims": claims, "moran": moran}, arrays


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
