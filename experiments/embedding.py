"""Neuron embedding, the paper's Fig. 1: 2-D embeddings of the rows u_j and the columns v_j
after supervised vs adversarial training.

    python -m experiments.embedding --preset quick   # ~40 s on 2 CPU cores (PCA only)
    python -m experiments.embedding --preset paper   # accelerator: m = 2048, 23000 iterations

One initialisation, trained with lambda_adv = 0 and 1 (WGAN-GP critic, U and V trained) on a
class-balanced MNIST subset with one-hot targets. Each neuron is one point, coloured
cyclically b/g/r/c/m/y/k as in the paper. The embedding method is not stated in the paper:
PCA (by SVD) and t-SNE (scikit-learn, after PCA to 50 dimensions) are both drawn. Numbers:
PC1/PC2 variance ratio of the 2-D PCA and the top principal component's variance share over
its value for i.i.d. noise (1: an isotropic, homogeneous cloud of neurons).
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import embedding as figure
from prd_jax import features


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = "mnist"
    n: int = 100  # class-balanced subset, one-hot targets
    factor: int = 4  # 7x7 images on CPU: ||u_j(0)|| ~ 7, so the drift shows within 6000 steps
    width: int = 512  # m: one point per neuron (the paper shows ~1000)
    steps: int = 6000  # paper: 23000
    lr_safety: float = 0.5
    critic_lr: float = 1e-3
    tsne: bool = False  # also t-SNE (scikit-learn, ~10 s per panel on CPU); PCA always
    seed: int = 0


PRESETS = {
    "quick": Config(),
    "paper": Config(n=1000, factor=1, width=2048, steps=23000, tsne=True),
    "tiny": Config(n=20, factor=4, width=16, steps=20),
}


def run(cfg: Config):
    X, Y, info = common.load_data(cfg.dataset, cfg.n, "onehot", cfg.factor, cfg.seed)
    lr = prd_jax.suggest_lr(X, Y.shape[1], train_v=True, safety=cfg.lr_safety)
    tcfg = prd_jax.TrainConfig(
        width=cfg.width,
        steps=cfg.steps,
        train_v=True,
        critic="wgan_gp",
        critic_lr=cfg.critic_lr,
        logs_per_decade=3,
        image_shape=tuple(info["image_shape"]),
    )
    out = common.train_batch(tcfg, X, Y, [cfg.seed] * 2, lr=lr, lambda_adv=[0.0, 1.0])
    vectors = {"u": {"init": out["U0"][0]}, "v": {"init": out["V0"][0].T}}
    for i, mode in enumerate(("supervised", "adversarial")):
        vectors["u"][mode] = out["U"][i]
        vectors["v"][mode] = out["V"][i].T  # columns v_j as rows

    arrays, stats = {}, {"u": {}, "v": {}}
    for layer, by_mode in vectors.items():
        for mode, A in by_mode.items():
            emb = features.pca(A)
            var = np.var(emb.coords, axis=0)
            stats[layer][mode] = {
                "pc_ratio": float(var[0] / var[1]),
                "explained": emb.explained,
                "top_pc_excess": features.top_pc_excess(A),
                "kurtosis_pc1": features.excess_kurtosis(emb.coords[:, 0]),
            }
            if mode == "init":
                continue
            arrays[f"pca_{layer}_{mode}"] = emb.coords
            if cfg.tsne:
                arrays[f"tsne_{layer}_{mode}"] = features.tsne(A, seed=cfg.seed).coords

    claims = []
    for layer in ("u", "v"):
        s, a = stats[layer]["supervised"], stats[layer]["adversarial"]
        claims.append(
            common.claim(
                f"supervised {layer}_j stay an isotropic blob, adversarial {layer}_j are "
                "non-homogeneous (a dominant direction: band / tail)",
                {
                    "top_pc_excess": {m: stats[layer][m]["top_pc_excess"] for m in stats[layer]},
                    "pc1_over_pc2": {m: stats[layer][m]["pc_ratio"] for m in stats[layer]},
                },
                bool(a["top_pc_excess"] > 1.5 * s["top_pc_excess"]),
                "agrees when the adversarial top-PC excess is > 1.5x the supervised one",
            )
        )
        # A Gaussian sample's excess kurtosis has standard error sqrt(24 / N).
        se = float(np.sqrt(24.0 / cfg.width))
        claims.append(
            common.claim(
                f"adversarial {layer}_j form a non-Gaussian cloud (dense core plus outlying "
                "neurons), supervised ones a Gaussian blob: excess kurtosis along PC1",
                {m: stats[layer][m]["kurtosis_pc1"] for m in stats[layer]} | {"se": se},
                bool(a["kurtosis_pc1"] - s["kurtosis_pc1"] > 2 * np.sqrt(2) * se),
                "agrees when adversarial - supervised > 2 standard errors (Gaussian SE "
                "sqrt(24/m) each); exploratory: this statistic was chosen after looking at "
                "the quick-preset figure",
            )
        )
    summary = {
        "dataset": info["dataset"],
        "image_shape": info["image_shape"],
        "data": info,
        "n": cfg.n,
        "width": cfg.width,
        "steps": cfg.steps,
        "lr": lr,
        "final_loss_sup": out["metrics"]["loss_sup"][:, -1].tolist(),
        "drift_rel": out["metrics"]["drift_rel"][:, -1].tolist(),
    }
    return {"summary": summary, "claims": claims, "embedding_stats": stats}, arrays


main = common.make_main("embedding", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
