"""The phase-diagram figure, drawn from the JSON ``experiments.phase_diagram`` writes."""

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots.style import footer, save


def _weight(name: str) -> float:
    if name == "supervised":
        return 0.0
    if name == "adversarial":
        return 1.0
    return float(name.split("=")[1])


def plot(results, arrays, path):
    """m*(T) against lambda_adv at each reported horizon, with its 95% interval; thresholds
    beyond the grid are drawn as open triangles at the grid's edge (one-sided)."""
    s = results["summary"]
    horizons = s["horizons"]
    modes = sorted(s["m_star"], key=_weight)
    weights = np.array([_weight(m) for m in modes])
    colors = plt.cm.viridis(np.linspace(0.1, 0.9, len(horizons)))
    fig, ax = plt.subplots(figsize=(7.5, 5), layout="constrained")
    for T, color in zip(horizons, colors, strict=True):
        cells = [s["m_star"][m].get(str(T)) or {} for m in modes]
        m = np.array([np.nan if c.get("m_star") is None else c["m_star"] for c in cells])
        lo = np.array([np.nan if not c.get("ci") or c["ci"][0] is None else c["ci"][0]
                       for c in cells])  # fmt: skip
        hi = np.array([np.nan if not c.get("ci") or c["ci"][1] is None else c["ci"][1]
                       for c in cells])  # fmt: skip
        ax.plot(weights, m, "o-", color=color, label=f"T = {T}", ms=5)
        ok = np.isfinite(m)
        ax.fill_between(weights, np.where(np.isfinite(lo), lo, m), np.where(np.isfinite(hi), hi, m),
                        color=color, alpha=0.15, lw=0, where=ok)  # fmt: skip
        for c, w in zip(cells, weights, strict=True):
            if c.get("m_star") is None and c.get("bound") is not None:
                up = c.get("position") == "above_grid"
                ax.plot(w, c["bound"], "^" if up else "v", color=color, mfc="none", ms=8)
    ax.set_xscale("symlog", linthresh=0.05)
    ax.set_yscale("log", base=2)
    ax.set_xlabel("lambda_adv (0: supervised)")
    ax.set_ylabel("threshold width m*(T)")
    ax.grid(alpha=0.3, which="both", lw=0.4)
    ax.legend(fontsize=8, title="horizon (open triangles: beyond the grid)", title_fontsize=7)
    stops = ", ".join(f"{k}: {v}" for k, v in s["search"]["stops"].items())
    footer(fig, results, extra=f"search stopped: {stops}")
    save(fig, path, "How strong must the adversary be? m*(T) against lambda_adv")
