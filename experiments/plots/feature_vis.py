"""The feature_vis figure, drawn from the files ``experiments.feature_vis`` writes."""

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots.style import fmt, footer, imshow, save
from prd_jax.features import image_stats


def plot(results, arrays, path):
    """δ_j = argmax_{δ∈Δ} u_jᵀ(x + δ) for a few neurons, supervised vs adversarial."""
    s = results["summary"]
    shape = tuple(s["image_shape"])
    n_show = arrays["delta_l2_supervised"].shape[0]
    kinds = [
        ("delta_l2", "δ (ℓ2 ball, closed form)", "RdBu_r"),
        ("delta_drift", "δ of the drift Δu_j\n(ℓ2 ball, closed form)", "RdBu_r"),
        ("delta_linf", "δ (ℓ∞ ball, closed form)", "RdBu_r"),
        ("x_plus_box", "x + δ (ℓ2 ball ∩ [0,1], PGA)", "gray"),
    ]
    rows = len(kinds) * 2
    moran = {  # Moran's I of each shown δ_j, under its panel
        key: [image_stats(d.reshape(shape))["morans_i"] for d in arrays[key]]
        for key in arrays
        if key.startswith(("delta_l2_", "delta_drift_"))
    }
    fig, axes = plt.subplots(rows, n_show + 1, figsize=(1.9 * (n_show + 1), 1.9 * rows + 0.8))
    for k, (key, label, cmap) in enumerate(kinds):
        for q, mode in enumerate(("supervised", "adversarial")):
            r = 2 * k + q
            ax = axes[r, 0]
            if r == 0:
                imshow(ax, arrays["x"].reshape(shape), 0, 1, cmap="gray")
                ax.set_title("input x", fontsize=9)
            else:
                ax.axis("off")
            ax.text(
                -0.15,
                0.5,
                f"{label}\n{mode}",
                transform=ax.transAxes,
                fontsize=7.5,
                ha="right",
                va="center",
            )
            imgs = arrays[f"{key}_{mode}"]
            for j in range(n_show):
                ax = axes[r, j + 1]
                if cmap == "gray":
                    imshow(ax, imgs[j].reshape(shape), 0, 1, cmap="gray")
                else:
                    lim = np.abs(imgs[j]).max() or 1.0
                    imshow(ax, imgs[j].reshape(shape), -lim, lim, cmap=cmap)
                if r == 0:
                    ax.set_title(f"neuron {j}", fontsize=9)
                if key in ("delta_l2", "delta_drift"):
                    ax.set_xlabel(f"I={fmt(moran[f'{key}_{mode}'][j], 2)}", fontsize=7)
    st = results["summary"]
    footer(
        fig,
        results,
        extra=(
            f"{st['dataset']}, m = {st['width']}, {st['steps']} iterations; "
            f"ε = {st['eps_l2']} (ℓ2), "
            f"{st['eps_linf']} (ℓ∞). I = Moran's I of δ_j. Mean |cos(u_j, x̄)|: init "
            f"{fmt(st['align_init'])}, sup {fmt(st['align_supervised'])}, adv "
            f"{fmt(st['align_adversarial'])}. PGA vs exact KKT: max |Δδ| = "
            f"{fmt(st['pga_vs_kkt_max_abs'])}"
        ),
    )
    save(fig, path, "Feature visualisation δ_j = argmax_{δ∈Δ} u_jᵀ(x + δ)")
