"""The linear_rate figure, drawn from the files ``experiments.linear_rate`` writes."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from experiments.plots.style import MODE_STYLE, fmt, footer, save


def plot(results, arrays, path):
    """L_sup vs iteration per width, supervised vs adversarial, with Remark 3 and Eq. 17."""
    panels = results["series"]["panels"]
    delta = results["config"]["delta"]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.6 * len(panels), 5), squeeze=False, layout="constrained"
    )
    for ax, panel in zip(axes[0], panels, strict=True):
        steps = np.asarray(panel["steps"], np.float64)
        widths = panel["widths"]
        cmap = plt.get_cmap("viridis")
        ymax = 0.0
        for i in range(len(widths)):
            color = cmap(i / max(len(widths) - 1, 1))
            for mode in ("supervised", "adversarial"):
                y = np.asarray(panel["loss_sup"][mode][i], np.float64)
                ymax = max(ymax, np.nanmax(y))
                ax.plot(steps, y, color=color, ls=MODE_STYLE[mode]["ls"], lw=1.4)
        stats = results["summary"][panel["name"]]
        # Remark 3 on the loss: ½ ‖z(t) − y‖² ≤ ½ r0² exp(−λ0 t), t = η × iteration.
        bound = 0.5 * stats["r0"] ** 2 * np.exp(-stats["lambda0_per_output"] * stats["lr"] * steps)
        ax.plot(steps, bound, "k:", lw=1.6)
        ax.set_yscale("log")
        ymin = max(np.nanmin([np.nanmin(v) for v in panel["loss_sup"]["supervised"]]), 1e-12)
        ax.set_ylim(ymin / 3, ymax * 30)
        floor = 0.5 * stats["kappa_mu"] ** 2  # Eq. 17's floor on the loss
        if floor is not None and floor < ymax * 30:
            ax.axhline(floor, color="tab:red", ls=":", lw=1.2)
        note = (
            f"Eq. 17 floor ½(κμ)² = {fmt(floor)}"
            + (
                " (off scale: above L_sup(0), vacuous)"
                if floor is None or floor >= ymax * 30
                else ""
            )
            + f"\nκ = {fmt(stats['kappa'])}, μ = {fmt(stats['mu'])} (L = measured ‖W‖, "
            f"δ = {delta}), λ0 = {fmt(stats['lambda0'])}"
        )
        ax.text(0.02, 0.02, note, transform=ax.transAxes, fontsize=7.5, va="bottom")
        ax.set_xlabel("iteration")
        ax.set_ylabel("L_sup (log scale)")
        ax.set_title(panel["title"], fontsize=10)
        handles = [
            Line2D([], [], color=cmap(i / max(len(widths) - 1, 1)), label=f"m = {m}")
            for i, m in enumerate(widths)
        ]
        handles += [
            Line2D([], [], color="0.3", ls="-", label="supervised"),
            Line2D([], [], color="0.3", ls="--", label="adversarial (WGAN-GP)"),
            Line2D([], [], color="k", ls=":", label="Remark 3: ½ r0² exp(−λ0 t)"),
        ]
        ax.legend(
            handles=handles, fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3
        )
        ax.grid(alpha=0.3, which="both")
    footer(fig, results)
    save(fig, path, "Linear rate: supervised loss vs iteration (Remark 3, Eq. 17)")
