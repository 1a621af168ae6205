"""The patterns figure, drawn from the files ``experiments.patterns_*`` writes."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from experiments.plots.style import fmt, footer, imshow, pc1x, robust_lim, save, stat_line

COLS = ("init", "supervised", "adversarial")


def panel_stats(arrays, shape) -> dict:
    """Statistics printed under each panel, from the arrays drawn there: the u_j images, the
    drift image Δu_0, and the U and V heat maps (neurons in index order, not the figure's)."""
    from prd_jax.features import image_stats
    from prd_jax.metrics import ks_from_normal

    index_order = np.argsort(arrays["order"])  # heat-map rows back to neurons 0, 1, ...
    out = {}
    for col in COLS:
        U, Vmat, V0 = arrays[f"U_{col}"], arrays[f"Vmat_{col}"], arrays["Vmat_init"]
        Umat = arrays[f"Umat_{col}"][index_order]
        out[col] = {
            "u": [image_stats(u.reshape(shape)) for u in U],
            "du": {} if col == "init" else image_stats((U[0] - arrays["U_init"][0]).reshape(shape)),
            "U": {
                "ks": float(ks_from_normal(Umat)),
                "top_pc_excess": pc1x(Umat),
                "morans_i": image_stats(Umat)["morans_i"],
            },
            "V": {
                "top_pc_excess": pc1x(Vmat.T),
                "rel_change": float(np.linalg.norm(Vmat - V0) / np.linalg.norm(V0)),
            },
        }
    return out


MODE_COLORS = {"supervised": "tab:blue", "adversarial": "tab:red"}


def _drift_curves(ax, arrays):
    """Relative drift ‖U(t) − U(0)‖_F/‖U(0)‖_F, one line per seed and mode: against L_sup when
    it was saved (the matched-L_sup comparison: at equal L_sup, which mode has drifted more; a
    dot marks the horizon), else against t."""
    if "log_t" not in arrays:
        ax.axis("off")
        return
    by_loss = all(f"loss_sup_{mode}" in arrays for mode in MODE_COLORS)
    for mode, color in MODE_COLORS.items():
        curves = np.atleast_2d(arrays[f"drift_rel_{mode}"])
        xs = np.atleast_2d(arrays[f"loss_sup_{mode}"]) if by_loss else arrays["log_t"][None]
        for i, curve in enumerate(curves):
            x = xs[i] if by_loss else xs[0]
            ax.plot(x[1:], curve[1:], color=color, lw=1, alpha=0.8, label=mode if i == 0 else None)
            if by_loss:
                ax.plot(x[-1], curve[-1], "o", color=color, ms=3)
    ax.set_xscale("log")
    if by_loss:
        ax.invert_xaxis()  # training runs left to right
        ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: no overlaps
        ax.set_xlabel("L_sup (decreasing →; dot: horizon)", fontsize=7)
    else:
        ax.set_xlabel("t = η · steps", fontsize=7)
    ax.set_title(f"‖ΔU‖_F/‖U(0)‖_F, {curves.shape[0]} seed(s)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, frameon=False)


def plot(results, arrays, path):
    """Weight images: u_j, drift Δu_j, whole U and V at init / supervised / adversarial."""
    s = results["summary"]
    shape = tuple(s["image_shape"])
    cols = COLS
    n_show = int(arrays["U_init"].shape[0]) if "U_init" in arrays else 0
    n_show = min(n_show, s.get("n_show", 3))
    rows = n_show + 4
    fig, axes = plt.subplots(rows, 3, figsize=(9.6, 2.5 * rows + 0.6), layout="constrained")
    stats = panel_stats(arrays, shape)
    for j in range(n_show):
        imgs = [arrays[f"U_{c}"][j].reshape(shape) for c in cols]
        lim = max(np.abs(im).max() for im in imgs)
        for c, (col, img) in enumerate(zip(cols, imgs, strict=True)):
            ax = axes[j, c]
            imshow(ax, img, -lim, lim)
            ax.set_xlabel(stat_line(stats[col]["u"][j]), fontsize=7)
            if j == 0:
                ax.set_title(col, fontsize=11)
        index = int(arrays["shown"][j]) if "shown" in arrays else j
        axes[j, 0].set_ylabel(f"u_{index} as image", fontsize=9)
    # Drift row: the mean input in the init column, then Δu_0 on a shared colour scale.
    r = n_show
    imshow(axes[r, 0], arrays["mean_input"].reshape(shape), cmap="gray")
    first = int(arrays["shown"][0]) if "shown" in arrays else 0
    axes[r, 0].set_ylabel(f"Δu_{first} = u_{first}(T) − u_{first}(0)", fontsize=9)
    axes[r, 0].set_xlabel("mean input x̄ (reference)", fontsize=7)
    drifts = [arrays[f"U_{c}"][0] - arrays["U_init"][0] for c in cols[1:]]
    lim = max(robust_lim(d) for d in drifts)
    for c, (col, d) in enumerate(zip(cols[1:], drifts, strict=True), start=1):
        im = imshow(axes[r, c], d.reshape(shape), -lim, lim)
        axes[r, c].set_xlabel(
            stat_line(stats[col]["du"]) + f" ‖Δu_{first}‖={fmt(float(np.linalg.norm(d)), 2)}",
            fontsize=7,
        )
    fig.colorbar(im, ax=axes[r, :], fraction=0.02, pad=0.01, label="shared scale")
    # Whole matrices as heat maps (neurons in the same order in every column).
    for c, col in enumerate(cols):
        U = arrays[f"Umat_{col}"]
        lim = robust_lim(U)
        imshow(axes[r + 1, c], U, -lim, lim, aspect="auto")
        ms = stats[col]["U"]
        axes[r + 1, c].set_xlabel(
            f"KS={fmt(ms['ks'], 2)} PC1×={fmt(ms['top_pc_excess'], 2)} I={fmt(ms['morans_i'], 2)}",
            fontsize=7,
        )
        V = arrays[f"Vmat_{col}"]
        lim = np.abs(V).max()
        imshow(axes[r + 3, c], V, -lim, lim, aspect="auto")
        vs = stats[col]["V"]
        axes[r + 3, c].set_xlabel(
            f"PC1×={fmt(vs['top_pc_excess'], 2)} ‖V−V0‖/‖V0‖={fmt(vs['rel_change'], 2)}",
            fontsize=7,
        )
    lim = max(robust_lim(arrays[f"dUmat_{col}"]) for col in cols[1:])
    _drift_curves(axes[r + 2, 0], arrays)
    for c, col in enumerate(cols[1:], start=1):
        dU = arrays[f"dUmat_{col}"]
        im = imshow(axes[r + 2, c], dU, -lim, lim, aspect="auto")
        axes[r + 2, c].set_xlabel(
            f"‖ΔU‖_F={fmt(float(np.linalg.norm(dU)), 3)} PC1×={fmt(pc1x(dU), 2)}", fontsize=7
        )
    fig.colorbar(im, ax=axes[r + 2, :], fraction=0.02, pad=0.01)
    axes[r + 2, 0].set_ylabel("ΔU = U(T) − U(0)\n(shared colour scale →)", fontsize=9)
    axes[r + 1, 0].set_ylabel(f"U: {arrays['Umat_init'].shape[0]} neurons × d_in", fontsize=9)
    axes[r + 3, 0].set_ylabel(f"V: d_out × {arrays['Vmat_init'].shape[1]} neurons", fontsize=9)
    run = s["runs"]
    shown = (
        "Neurons drawn as images: the largest adversarial ‖Δu_j‖/‖u_j(0)‖ (not typical ones).\n"
        if results["config"].get("show") == "largest_drift"
        else ""
    )
    extra = shown + (
        "Heat maps: first neurons, sorted by the PC1 score of their adversarial drift (same order "
        "in every column); colour limits at the 99.5th percentile of |values|.\n"
        f"{s['dataset']} (n = {s['n']}, {shape[0]}×{shape[1]}, target {s['target']}), "
        f"m = {s['width']}, {s['steps']} iterations, η = {fmt(s['lr'])}.  "
        f"drift_rel: sup {fmt(run['supervised']['drift_rel'])}, adv "
        f"{fmt(run['adversarial']['drift_rel'])} (first seed);  KS(U, N(0,1)): sup "
        f"{fmt(run['supervised']['ks'])}, adv {fmt(run['adversarial']['ks'])}\n"
        "I = Moran's I (0: noise, 1: smooth), H = spectral entropy (1: white), λ = dominant "
        "wavelength; KS = distance of U's entries from N(0,1); PC1× = top principal component's "
        "variance share over i.i.d. noise's"
    )
    footer(fig, results, extra=extra)
    save(fig, path, f"Turing-like patterns by the PRD model: {s['dataset']}")
