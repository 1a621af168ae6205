"""Figures of the paper's experiments, drawn from the files the experiment scripts write.

Each ``plot_<name>(results, arrays, path)`` takes the experiment's JSON (as a dict), its NPZ
arrays (a dict, possibly empty) and the PNG path. Nothing here trains or measures.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

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


def _fmt(x, digits=3):
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


def _save(fig, path, title=None):
    if title:
        fig.suptitle(title, fontsize=11)
    fig.savefig(Path(path), dpi=110, bbox_inches="tight")
    plt.close(fig)


def _t(results):
    """Iterations of the metric rows (x axis), with 0 moved to 0.5 for log axes."""
    steps = np.asarray(results["series"]["steps"], np.float64)
    return np.where(steps == 0, 0.5, steps)


def _footer(fig, results, extra=""):
    cfg = results.get("config", {})
    text = f"{results.get('command', '')}   [{results.get('device', '')}, "
    text += f"{_fmt(results.get('wall_s', 0.0))} s]"
    if extra:
        text = extra + "\n" + text
    fig.text(0.01, -0.01, text, fontsize=7, color="0.35", va="top", ha="left", wrap=True)
    return cfg


# ------------------------------------------------------------------------ linear rate


def plot_linear_rate(results, arrays, path):
    """L_sup vs iteration per width, supervised vs adversarial, with Remark 3 and Eq. 17."""
    panels = results["series"]["panels"]
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
        bound = np.asarray(panel["remark3_bound"], np.float64)
        ax.plot(steps, bound, "k:", lw=1.6)
        ax.set_yscale("log")
        ymin = max(np.nanmin([np.nanmin(v) for v in panel["loss_sup"]["supervised"]]), 1e-12)
        ax.set_ylim(ymin / 3, ymax * 30)
        floor = panel["eq17_floor_loss"]
        if floor is not None and floor < ymax * 30:
            ax.axhline(floor, color="tab:red", ls=":", lw=1.2)
        note = (
            f"Eq. 17 floor ½(κμ)² = {_fmt(floor)}"
            + (
                " (off scale: above L_sup(0), vacuous)"
                if floor is None or floor >= ymax * 30
                else ""
            )
            + f"\nκ = {_fmt(panel['kappa'])}, μ = {_fmt(panel['mu'])} (L = measured ‖W‖, "
            f"δ = {panel['delta']}), λ0 = {_fmt(panel['lambda0'])}"
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
    _footer(fig, results)
    _save(fig, path, "Linear rate: supervised loss vs iteration (Remark 3, Eq. 17)")


# -------------------------------------------------------------------------- theorem 1


def plot_theorem1(results, arrays, path):
    """Per-neuron, Frobenius and relative drift at the end vs width, with fits and bounds."""
    s = results["series"]
    widths = np.asarray(s["widths"], np.float64)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), layout="constrained")
    panels = [
        ("drift_max", "max_j ‖u_j(T) − u_j(0)‖₂", "bound_per_neuron", "theorem1_oform"),
        ("drift_fro", "‖U(T) − U(0)‖_F", "bound_frobenius", "theorem1_oform_frobenius"),
        ("drift_rel", "‖U(T) − U(0)‖_F / ‖U(0)‖_F", None, None),
    ]
    fits = results["summary"]["fits"]
    for ax, (key, label, bound, oform) in zip(axes, panels, strict=True):
        for mode in s["modes"]:
            vals = np.asarray(s[key][mode], np.float64)  # (seeds, widths)
            mean = np.nanmean(vals, axis=0)
            err = np.nanstd(vals, axis=0)
            st = MODE_STYLE[mode]
            fit = fits[mode][key]
            lbl = f"{MODE_LABEL[mode]}: exponent {_fmt(fit['exponent'])} ± {_fmt(fit['stderr'], 2)}"
            ax.errorbar(widths, mean, yerr=err, marker="o", ms=4, capsize=2, label=lbl, **st)
            ax.plot(
                widths,
                fit["prefactor"] * widths ** fit["exponent"],
                color=st["color"],
                lw=0.8,
                alpha=0.6,
            )
            if key == "drift_max" and mode == "supervised":
                mean_d = np.nanmean(np.asarray(s["drift_mean"][mode], np.float64), axis=0)
                ax.plot(
                    widths,
                    mean_d,
                    marker="s",
                    ms=3,
                    color="tab:cyan",
                    lw=1,
                    label=(
                        "supervised, mean_j ‖u_j(T) − u_j(0)‖: exponent "
                        f"{_fmt(fits[mode]['drift_mean']['exponent'])}"
                    ),
                )
        if bound:
            ax.plot(
                widths,
                s[bound],
                "k:",
                lw=1.5,
                label="Thm 1 explicit: 2√n r0/(√m λ0)" + (" × √m" if key == "drift_fro" else ""),
            )
        if oform:
            ax.plot(
                widths,
                s[oform],
                color="0.5",
                ls="-.",
                lw=1.2,
                label="Thm 1 O-form n^{3/2}/(√m λ0 δ)"
                + (" × √m" if key == "drift_fro" else "")
                + ", C = 1",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width m")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    sm = results["summary"]
    axes[0].set_title("per neuron (theory: m^-1/2)", fontsize=10)
    axes[1].set_title("Frobenius (theory: m^0, bounded)", fontsize=10)
    axes[2].set_title("relative (theory: m^-1/2)", fontsize=10)
    _footer(
        fig,
        results,
        extra=(
            f"n = {sm['n']}, d_in = {sm['d_in']}, λ0 = {_fmt(sm['lambda0'])}, T = {sm['steps']} "
            f"iterations (t = {_fmt(sm['t_final'])}), {sm['n_seeds']} seeds (mean ± sd)"
        ),
    )
    _save(fig, path, "Theorem 1: drift from initialisation vs width after training")


# -------------------------------------------------------------- dissecting diffusion


def plot_dissect_diffusion(results, arrays, path):
    """Reaction and diffusion norms of U and V vs iteration; drift vs t with Theorem 2's bound."""
    s = results["series"]
    t_it = _t(results)
    modes = s["modes"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 10), layout="constrained")
    for ax, layer in zip(axes[0], ("u", "v"), strict=True):
        for mode in modes:
            st = MODE_STYLE[mode]
            ax.plot(t_it, s[f"reaction_{layer}"][mode], color=st["color"], ls="-", lw=1.3)
            if mode != "supervised":
                ax.plot(t_it, s[f"diffusion_{layer}"][mode], color=st["color"], ls="--", lw=1.3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel(f"‖·‖_F over all neurons ({layer.upper()})")
        ax.set_title(
            f"{layer.upper()}: reaction ‖−∂L_sup/∂{layer.upper()}‖ (solid), "
            f"diffusion ‖∂L_adv/∂{layer.upper()}‖ (dashed)",
            fontsize=9.5,
        )
        ax.grid(alpha=0.3, which="both")
        ax.legend(
            handles=[
                Line2D([], [], color=MODE_STYLE[m]["color"], label=MODE_LABEL[m]) for m in modes
            ],
            fontsize=7.5,
        )
    ax = axes[1, 0]
    t = np.asarray(s["time"], np.float64)
    t_plot = np.where(t == 0, np.nan, t)
    sm = results["summary"]
    for mode in modes:
        st = MODE_STYLE[mode]
        g = sm["growth"][mode]
        ax.plot(
            t_plot,
            s["drift_fro"][mode],
            lw=1.6,
            label=(f"{MODE_LABEL[mode]}: late exponent {_fmt(g['exponent'])}"),
            **st,
        )
    ax.plot(
        t_plot,
        s["theorem2_bound"],
        "k:",
        lw=1.4,
        label="Thm 2 / [W (43)] × √m with measured L = max ‖W‖ (WGAN-GP run)",
    )
    ax.plot(
        t_plot,
        s["theorem1_bound"],
        color="0.5",
        ls="-.",
        lw=1.2,
        label="Thm 1 explicit bound (supervised)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time t = η × iteration")
    ax.set_ylabel("‖U(t) − U(0)‖_F")
    ax.set_title("drift from initialisation: linear growth in t allowed by Theorem 2", fontsize=9.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[1, 1]
    for mode in modes:
        st = MODE_STYLE[mode]
        ax.plot(t_it, s["kernel_dev"][mode], lw=1.5, label=MODE_LABEL[mode], **st)
        if mode == "adversarial":
            ax.plot(
                t_it,
                s["critic_drift"][mode],
                color=st["color"],
                ls=":",
                lw=1.2,
                label="critic drift ‖W(t) − W(0)‖_F (WGAN-GP)",
            )
    ax.axhline(sm["lambda0"] / 4, color="k", lw=1, ls="--", label="λ0/4 (Remark 1 regime)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("‖H(t) − H(0)‖₂ and critic drift")
    ax.set_title("kernel deviation (breakdown when above λ0/4) and critic motion", fontsize=9.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    _footer(
        fig,
        results,
        extra=(
            f"n = {sm['n']}, d_in = {sm['d_in']}, d_out = {sm['d_out']}, m = {sm['width']}, "
            f"η = {_fmt(sm['lr'])}, λ0 = {_fmt(sm['lambda0'])}, κ = {_fmt(sm['kappa'])}, "
            f"μ = {_fmt(sm['mu'])}; U and V trained"
        ),
    )
    _save(fig, path, "Theorem 2 / dissecting diffusion: reaction vs diffusion and drift")


# --------------------------------------------------------------------------- patterns


def _imshow(ax, img, vmin=None, vmax=None, cmap="jet", aspect="equal"):
    im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest", aspect=aspect)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _robust_lim(a, q=99.5):
    """Symmetric colour limit at the q-th percentile of |a|, so a few outliers do not wash
    out the rest of a heat map (values beyond it saturate)."""
    lim = float(np.percentile(np.abs(a), q))
    return lim if lim > 0 else 1.0


def _stat_line(stats):
    if not stats:
        return ""
    return (
        f"I={_fmt(stats.get('morans_i'), 2)} H={_fmt(stats.get('spectral_entropy'), 2)} "
        f"λ={_fmt(stats.get('dominant_wavelength'), 2)}px"
    )


def plot_patterns(results, arrays, path):
    """Weight images: u_j, drift Δu_j, whole U and V at init / supervised / adversarial."""
    s = results["summary"]
    shape = tuple(s["image_shape"])
    cols = ("init", "supervised", "adversarial")
    n_show = int(arrays["U_init"].shape[0]) if "U_init" in arrays else 0
    n_show = min(n_show, s.get("n_show", 3))
    rows = n_show + 4
    fig, axes = plt.subplots(rows, 3, figsize=(9.6, 2.5 * rows + 0.6), layout="constrained")
    panel_stats = results["panel_stats"]
    for j in range(n_show):
        imgs = [arrays[f"U_{c}"][j].reshape(shape) for c in cols]
        lim = max(np.abs(im).max() for im in imgs)
        for c, (col, img) in enumerate(zip(cols, imgs, strict=True)):
            ax = axes[j, c]
            _imshow(ax, img, -lim, lim)
            ax.set_xlabel(_stat_line(panel_stats[col]["u"][j]), fontsize=7)
            if j == 0:
                ax.set_title(col, fontsize=11)
        axes[j, 0].set_ylabel(f"u_{j} as image", fontsize=9)
    # Drift row: the mean input in the init column, then Δu_0 on a shared colour scale.
    r = n_show
    _imshow(axes[r, 0], arrays["mean_input"].reshape(shape), cmap="gray")
    axes[r, 0].set_ylabel("Δu_0 = u_0(T) − u_0(0)", fontsize=9)
    axes[r, 0].set_xlabel("mean input x̄ (reference)", fontsize=7)
    drifts = [arrays[f"U_{c}"][0] - arrays["U_init"][0] for c in cols[1:]]
    lim = max(_robust_lim(d) for d in drifts)
    for c, (col, d) in enumerate(zip(cols[1:], drifts, strict=True), start=1):
        im = _imshow(axes[r, c], d.reshape(shape), -lim, lim)
        axes[r, c].set_xlabel(
            _stat_line(panel_stats[col]["du"]) + f" ‖Δu_0‖={_fmt(float(np.linalg.norm(d)), 2)}",
            fontsize=7,
        )
    fig.colorbar(im, ax=axes[r, :], fraction=0.02, pad=0.01, label="shared scale")
    # Whole matrices as heat maps (neurons in the same order in every column).
    for c, col in enumerate(cols):
        U = arrays[f"Umat_{col}"]
        lim = _robust_lim(U)
        _imshow(axes[r + 1, c], U, -lim, lim, aspect="auto")
        ms = panel_stats[col]["U"]
        axes[r + 1, c].set_xlabel(
            f"KS={_fmt(ms['ks'], 2)} PC1×={_fmt(ms['top_pc_excess'], 2)} "
            f"I={_fmt(ms['morans_i'], 2)}",
            fontsize=7,
        )
        V = arrays[f"Vmat_{col}"]
        lim = np.abs(V).max()
        _imshow(axes[r + 3, c], V, -lim, lim, aspect="auto")
        vs = panel_stats[col]["V"]
        axes[r + 3, c].set_xlabel(
            f"PC1×={_fmt(vs['top_pc_excess'], 2)} ‖V−V0‖/‖V0‖={_fmt(vs['rel_change'], 2)}",
            fontsize=7,
        )
    lim = max(_robust_lim(arrays[f"dUmat_{col}"]) for col in cols[1:])
    axes[r + 2, 0].axis("off")
    axes[r + 2, 0].text(
        0.5,
        0.5,
        "ΔU = U(T) − U(0)\n(shared colour scale →)",
        ha="center",
        va="center",
        fontsize=9,
        transform=axes[r + 2, 0].transAxes,
    )
    for c, col in enumerate(cols[1:], start=1):
        dU = arrays[f"dUmat_{col}"]
        im = _imshow(axes[r + 2, c], dU, -lim, lim, aspect="auto")
        axes[r + 2, c].set_xlabel(
            f"‖ΔU‖_F={_fmt(float(np.linalg.norm(dU)), 3)} PC1×={_fmt(_pc1x(dU), 2)}", fontsize=7
        )
    fig.colorbar(im, ax=axes[r + 2, :], fraction=0.02, pad=0.01)
    axes[r + 1, 0].set_ylabel(f"U: {arrays['Umat_init'].shape[0]} neurons × d_in", fontsize=9)
    axes[r + 3, 0].set_ylabel(f"V: d_out × {arrays['Vmat_init'].shape[1]} neurons", fontsize=9)
    run = s["runs"]
    extra = (
        "Heat maps: first neurons, sorted by the PC1 score of their adversarial drift (same order "
        "in every column); colour limits at the 99.5th percentile of |values|.\n"
        f"{s['dataset']} (n = {s['n']}, {shape[0]}×{shape[1]}, target {s['target']}), "
        f"m = {s['width']}, {s['steps']} iterations, η = {_fmt(s['lr'])}.  "
        f"drift_rel: sup {_fmt(run['supervised']['drift_rel'])}, adv "
        f"{_fmt(run['adversarial']['drift_rel'])};  KS(U, N(0,1)): sup "
        f"{_fmt(run['supervised']['ks'])}, adv {_fmt(run['adversarial']['ks'])}\n"
        "I = Moran's I (0: noise, 1: smooth), H = spectral entropy (1: white), λ = dominant "
        "wavelength; KS = distance of U's entries from N(0,1); PC1× = top principal component's "
        "variance share over i.i.d. noise's"
    )
    _footer(fig, results, extra=extra)
    _save(fig, path, f"Turing-like patterns by the PRD model: {s['dataset']}")


def _pc1x(A):
    from prd_jax.features import top_pc_excess

    return top_pc_excess(A)


# -------------------------------------------------------------------------- embedding


def plot_embedding(results, arrays, path):
    """The paper's Fig. 1: 2-D embeddings of rows u_j and columns v_j after training."""
    methods = [m for m in ("pca", "tsne") if f"{m}_u_supervised" in arrays]
    fig, axes = plt.subplots(
        2,
        2 * len(methods),
        figsize=(4.6 * len(methods) * 2, 9.4),
        squeeze=False,
        layout="constrained",
    )
    stats = results["embedding_stats"]
    for k, method in enumerate(methods):
        for r, layer in enumerate(("u", "v")):
            for c, mode in enumerate(("supervised", "adversarial")):
                ax = axes[r, 2 * k + c]
                xy = arrays[f"{method}_{layer}_{mode}"]
                colors = [PAPER_CYCLE[i % len(PAPER_CYCLE)] for i in range(xy.shape[0])]
                ax.scatter(xy[:, 0], xy[:, 1], c=colors, s=6, alpha=0.7, linewidths=0)
                st = stats[layer][mode]
                title = f"{method.upper()} of {layer}_j, {mode}"
                if method == "pca":
                    title += (
                        f"\nPC1/PC2 var = {_fmt(st['pc_ratio'], 3)}, "
                        f"PC1× = {_fmt(st['top_pc_excess'], 3)}, "
                        f"kurtosis(PC1) = {_fmt(st['kurtosis_pc1'], 2)}"
                    )
                ax.set_title(title, fontsize=9)
                ax.set_xticks([])
                ax.set_yticks([])
                if method == "pca":
                    ax.set_aspect("equal", adjustable="datalim")
    s = results["summary"]
    _footer(
        fig,
        results,
        extra=(
            f"{s['dataset']} (n = {s['n']}, {'×'.join(map(str, s.get('image_shape', [])))} "
            f"images), m = {s['width']} neurons (one point each, coloured "
            f"cyclically b/g/r/c/m/y/k as in the paper), {s['steps']} iterations. PC1× = variance "
            "share of the top principal component of the full vectors over its i.i.d.-noise value"
        ),
    )
    _save(fig, path, "Neuron embedding (paper's Fig. 1): supervised vs adversarial")


# ----------------------------------------------------------------------- feature vis


def plot_feature_vis(results, arrays, path):
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
    fig, axes = plt.subplots(rows, n_show + 1, figsize=(1.9 * (n_show + 1), 1.9 * rows + 0.8))
    for k, (key, label, cmap) in enumerate(kinds):
        for q, mode in enumerate(("supervised", "adversarial")):
            r = 2 * k + q
            ax = axes[r, 0]
            if r == 0:
                _imshow(ax, arrays["x"].reshape(shape), 0, 1, cmap="gray")
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
                    _imshow(ax, imgs[j].reshape(shape), 0, 1, cmap="gray")
                else:
                    lim = np.abs(imgs[j]).max() or 1.0
                    _imshow(ax, imgs[j].reshape(shape), -lim, lim, cmap=cmap)
                if r == 0:
                    ax.set_title(f"neuron {j}", fontsize=9)
                if key in ("delta_l2", "delta_drift"):
                    mk = mode if key == "delta_l2" else f"drift_{mode}"
                    ax.set_xlabel(f"I={_fmt(results['moran'][mk][j], 2)}", fontsize=7)
    st = results["summary"]
    _footer(
        fig,
        results,
        extra=(
            f"{st['dataset']}, m = {st['width']}, {st['steps']} iterations; "
            f"ε = {st['eps_l2']} (ℓ2), "
            f"{st['eps_linf']} (ℓ∞). I = Moran's I of δ_j. Mean |cos(u_j, x̄)|: init "
            f"{_fmt(st['align_init'])}, sup {_fmt(st['align_supervised'])}, adv "
            f"{_fmt(st['align_adversarial'])}. PGA vs exact KKT: max |Δδ| = "
            f"{_fmt(st['pga_vs_kkt_max_abs'])}"
        ),
    )
    _save(fig, path, "Feature visualisation δ_j = argmax_{δ∈Δ} u_jᵀ(x + δ)")


# --------------------------------------------------------------------------- joint RD


def plot_joint_rd(results, arrays, path):
    """Per-neuron reaction and diffusion magnitudes vs m, d_in, d_out, n with fitted exponents."""
    s = results["series"]
    variables = s["variables"]
    terms = ("R_u", "D_u", "R_v", "D_v")
    colors = dict(R_u="tab:blue", D_u="tab:red", R_v="tab:cyan", D_v="tab:orange")
    fig, axes = plt.subplots(
        1, len(variables), figsize=(5.2 * len(variables), 4.6), layout="constrained"
    )
    fits = results["summary"]["fits"]
    orders = results["summary"]["theorem3_orders"]
    for ax, var in zip(np.atleast_1d(axes), variables, strict=True):
        xs = np.asarray(s[var]["values"], np.float64)
        for term in terms:
            vals = np.asarray(s[var][term], np.float64)  # (seeds, values)
            f = fits[var][term]
            ax.errorbar(
                xs,
                vals.mean(0),
                yerr=vals.std(0),
                color=colors[term],
                marker="o",
                ms=3.5,
                capsize=2,
                lw=1.2,
                label=f"{term}: fit {_fmt(f['exponent'], 2)} (Thm 3: {_fmt(orders[term][var], 2)})",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(var)
        ax.set_ylabel("mean_j per-neuron norm")
        fixed = ", ".join(f"{k}={v}" for k, v in s["base"].items() if k != var)
        ax.set_title(f"vs {var} ({fixed})", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    _footer(
        fig,
        results,
        extra=(
            "R = reaction −∂L_sup/∂(u_j, v_j), D = diffusion ∂L_adv/∂(u_j, v_j) (Definition 2), "
            f"at initialisation, {s['n_seeds']} seeds (mean ± sd); fitted exponents vs "
            "Theorem 3's orders in brackets"
        ),
    )
    _save(
        fig, path, "Theorem 3: reaction and diffusion magnitudes, measured vs the theorem's orders"
    )
