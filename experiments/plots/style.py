"""Shared style of the experiments' figures: colours, number formatting, saving, footers."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# The paper's Fig. 1 colours its neurons cyclically with the classic 7-colour set.
PAPER_CYCLE = ("b", "g", "r", "c", "m", "y", "k")
MODE_STYLE = {
    "supervised": dict(color="tab:blue", ls="-"),
    "adversarial": dict(color="tab:red", ls="--"),
    "adv_frozen": dict(color="tab:green", ls="-."),
}
MODE_LABEL = {
    "supervised": "supervised (λ_adv = 0)",
    "adversarial": "adversarial, WGAN-GP critic",
    "adv_frozen": "adversarial, frozen critic",
}


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-2):
            return f"{x:.{digits - 1}e}"
        return f"{x:.{digits}g}"
    return str(x)


def save(fig, path, title=None):
    """Write ``fig`` to ``path`` atomically (``prd_jax.results.savefig_atomic``) and close it."""
    from prd_jax.results import savefig_atomic

    if title:
        fig.suptitle(title, fontsize=11)
    try:
        savefig_atomic(fig, Path(path), dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)


def log_steps_axis(results):
    """Iterations of the metric rows (x axis), with 0 moved to 0.5 for log axes."""
    steps = np.asarray(results["series"]["steps"], np.float64)
    return np.where(steps == 0, 0.5, steps)


def footer(fig, results, extra=""):
    cfg = results.get("config", {})
    text = f"{results.get('command', '')}   [{results.get('device', '')}, "
    text += f"{fmt(results.get('wall_s', 0.0))} s]"
    if extra:
        text = extra + "\n" + text
    fig.text(0.01, -0.01, text, fontsize=7, color="0.35", va="top", ha="left", wrap=True)
    return cfg


def imshow(ax, img, vmin=None, vmax=None, cmap="jet", aspect="equal"):
    im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", aspect=aspect)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def robust_lim(a, q=99.5):
    """Symmetric colour limit at the q-th percentile of |a|, so a few outliers do not wash
    out the rest of a heat map (values beyond it saturate)."""
    lim = float(np.percentile(np.abs(a), q))
    return lim if lim > 0 else 1.0


def stat_line(stats):
    if not stats:
        return ""
    return (
        f"I={fmt(stats.get('morans_i'), 2)} H={fmt(stats.get('spectral_entropy'), 2)} "
        f"λ={fmt(stats.get('dominant_wavelength'), 2)}px"
    )


def pc1x(A):
    from prd_jax.features import top_pc_excess

    return top_pc_excess(A)
