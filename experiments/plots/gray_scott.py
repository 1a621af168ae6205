"""Figures of ``experiments.gray_scott`` (snapshots over time, the (F, k) map, linear
stability) and of ``experiments.pattern_comparison``, drawn from the files they write."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from experiments.plots.style import footer, save
from prd_jax.results import savefig_atomic
from prd_jax.turing import stability as st

CLASS_COLOURS = {
    "uniform": "#9e9e9e",
    "spots": "#1f77b4",
    "stripes/labyrinth": "#2ca02c",
    "mixed/chaotic": "#d62728",
}


def plot(results, arrays, path) -> None:
    """``gray_scott.png`` (snapshots), ``gray_scott_map.png``, ``gray_scott_stability.png``."""
    path = Path(path)
    plot_snapshots(results, arrays, path)
    plot_map(results, arrays, path.with_name(f"{path.stem}_map.png"))
    plot_stability(path.with_name(f"{path.stem}_stability.png"))


def plot_snapshots(results, arrays, path) -> None:
    cfg, ks, show_times = results["snapshot_config"], arrays["k"], results["snapshot_times"]
    all_times = np.asarray(arrays["snap_times"], np.float64)
    rows, cols = 2 * len(ks), len(show_times)
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols, 1.95 * rows), squeeze=False)
    for b, k in enumerate(ks):
        for j, t in enumerate(show_times):
            s = int(np.argmin(np.abs(all_times - t)))
            for r, (name, cmap) in enumerate([("u", "gray"), ("v", "inferno")]):
                ax = axes[2 * b + r, j]
                field = arrays[f"snap_{name}"][b, s]
                ax.imshow(field, cmap=cmap, vmin=0.0, vmax=1.0 - 0.6 * r)
                ax.set_xticks([])
                ax.set_yticks([])
                if 2 * b + r == 0:
                    ax.set_title(f"t = {t:g}", fontsize=10)
                if j == 0:
                    ax.set_ylabel(f"k={k:.3f}\n{name}", fontsize=10)
    fig.suptitle(
        f"Gray-Scott, F = {st.PAPER_F}, Du = {cfg['Du']:g}, Dv = {cfg['Dv']:g}: Pearson's "
        f"protocol ({cfg['n']}², side {cfg['side']:g}, dt = {cfg['dt']:g}); u gray (0-1), "
        "v inferno (0-0.4)",
        fontsize=10,
    )
    fig.tight_layout()
    footer(fig, results)
    save(fig, path)


def _draw_curves(ax, F_max: float, Du: float, Dv: float, k_range=None) -> None:
    F = np.linspace(1e-4, F_max, 400)
    ax.plot(st.saddle_node_k(F), F, "k-", lw=1.6, label="saddle-node: k = √F/2 − F")
    ax.plot(st.hopf_k(F, Du, Dv), F, "k--", lw=1.2, label="Hopf (tr J = 0 at v₊)")
    ax.plot(st.turing_k(F, Du, Dv), F, color="m", ls=":", lw=1.8, label="Turing (v₊)")
    ax.plot(
        st.PAPER_KS,
        [st.PAPER_F] * 2,
        "*",
        color="gold",
        mec="k",
        ms=13,
        label="paper: F=0.025, k=0.055/0.060",
    )


def plot_map(results, arrays, path) -> None:
    m = results["map"]
    cfg, labels, healthy = m["config"], sum(m["labels"], []), m["healthy"]
    F_values, k_values = np.asarray(m["F"]), np.asarray(m["k"])
    nF, nk = len(F_values), len(k_values)
    dF, dk = F_values[1] - F_values[0], k_values[1] - k_values[0]
    fig, ax = plt.subplots(figsize=(1.05 * nk + 2.5, 1.05 * nF + 1.5))
    v_final = arrays["map_v"]
    for i in range(nF):
        for j in range(nk):
            c = i * nk + j
            x0, y0 = k_values[j] - 0.47 * dk, F_values[i] - 0.47 * dF
            extent = (x0, x0 + 0.94 * dk, y0, y0 + 0.94 * dF)
            ax.imshow(v_final[c], cmap="inferno", vmin=0, vmax=0.5, extent=extent, origin="lower")
            ax.add_patch(
                plt.Rectangle(
                    (extent[0], extent[2]),
                    0.94 * dk,
                    0.94 * dF,
                    fill=False,
                    ec=CLASS_COLOURS[labels[c]],
                    lw=2.5,
                    hatch=None if healthy[c] else "xx",
                )
            )
    _draw_curves(ax, F_values[-1] + dF, cfg["Du"], cfg["Dv"])
    ax.set_xlim(k_values[0] - 0.6 * dk, k_values[-1] + 0.6 * dk)
    ax.set_ylim(F_values[0] - 0.6 * dF, F_values[-1] + 0.6 * dF)
    ax.set_aspect(dk / dF)
    ax.set_xlabel("k (kill rate)")
    ax.set_ylabel("F (feed rate)")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(fc="none", ec=col, lw=2.5, label=name) for name, col in CLASS_COLOURS.items()]
    if not all(healthy):
        handles.append(Patch(fc="none", ec="k", hatch="xx", label="numerically unhealthy"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(
        f"Final v at t = {m['t_end']:g} ({cfg['n']}² cells of side {cfg['side']:g}, "
        f"dt = {cfg['dt']:g}), one vmapped run; frame = automatic label",
        fontsize=9,
    )
    fig.tight_layout()
    footer(fig, results)
    try:
        savefig_atomic(fig, path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)


def plot_stability(path) -> None:
    """Theory only (prd_jax.turing.stability): the paper's dispersion relations, a Turing band
    for contrast, and the bifurcation curves of the uniform states."""
    Du, Dv = st.PEARSON_DU, st.PEARSON_DV
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    q = np.linspace(0.0, 150.0, 600)

    ax = axes[0, 0]
    for k, ls in zip(st.PAPER_KS, ["-", "--"], strict=True):
        rep = st.stability_report(st.PAPER_F, k, Du, Dv)
        for s in rep.states:
            lam = st.dispersion_relation(q, s.u, s.v, st.PAPER_F, k, Du, Dv)
            ax.plot(q, lam, ls, label=f"k={k:.3f}: state ({s.u:g}, {s.v:g})")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_title(
        "Paper's parameters (F = 0.025): only (1, 0) exists;\n"
        "λ(q) = max(−F − Du q², −(F+k) − Dv q²) < 0 for every q",
        fontsize=9,
    )
    ax.set_xlabel("wavenumber q (rad per length unit)")
    ax.set_ylabel("growth rate λ(q)")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    F = 0.07
    k_in = 0.5 * (float(st.turing_k(F, Du, Dv)) + float(st.saddle_node_k(F)))
    qq = np.linspace(0.0, 120.0, 600)
    for name, (u, v) in zip(["trivial", "v₊", "v₋"], st.uniform_states(F, k_in), strict=True):
        ax.plot(
            qq,
            st.dispersion_relation(qq, u, v, F, k_in, Du, Dv),
            label=f"{name} ({u:.3f}, {v:.3f})",
        )
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_ylim(-0.03, 0.02)
    ax.set_title(
        f"For contrast, F = {F}, k = {k_in:.5f} (inside the thin Turing band):\n"
        "v₊ is stable at q = 0 and unstable on a band of q > 0",
        fontsize=9,
    )
    ax.set_xlabel("wavenumber q (rad per length unit)")
    ax.legend(fontsize=8)

    ax = axes[1, 0]
    _draw_curves(ax, 0.1, Du, Dv)
    ax.set_xlim(0.0, 0.075)
    ax.set_ylim(0.0, 0.1)
    F_fill = np.linspace(1e-4, 0.1, 400)
    ax.fill_betweenx(
        F_fill, 0, st.saddle_node_k(F_fill), color="0.9", label="two non-trivial states exist"
    )
    ax.set_xlabel("k")
    ax.set_ylabel("F")
    ax.set_title("Bifurcation curves of the uniform states", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")

    ax = axes[1, 1]
    F = np.linspace(0.002, 0.24, 400)
    k_sn = st.saddle_node_k(F)
    ax.semilogy(F, k_sn - st.turing_k(F, Du, Dv), "m:", lw=1.8, label="k_sn − k_Turing")
    ax.semilogy(F, k_sn - st.hopf_k(F, Du, Dv), "k--", label="k_sn − k_Hopf")
    ax.axvline(st.PAPER_F, color="gold", lw=2, label="F = 0.025")
    ax.axvline(1 / 16, color="0.5", lw=0.8, ls="-.", label="F = 1/16")
    ax.set_xlabel("F")
    ax.set_ylabel("distance below the saddle-node in k")
    cross = F[np.nanargmin(np.abs(st.turing_k(F, Du, Dv) - st.hopf_k(F, Du, Dv)))]
    ax.set_title(
        f"The Turing band is a sliver next to the saddle-node curve; for F < {cross:.3f} it "
        "lies\nbeyond the Hopf curve (v₊ already unstable at q = 0). Paper: k > k_sn.",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        savefig_atomic(fig, path, dpi=100)
    finally:
        plt.close(fig)


def plot_pattern_comparison(results, arrays, path) -> None:
    """One image per field (title = its name), with its pattern metrics underneath."""
    names, metrics = results["panels"], results["summary"]["metrics"]
    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    for i, (ax, name) in enumerate(zip(axes.ravel(), names, strict=False)):
        field = arrays[f"panel_{i}"]
        if name.startswith("Gray"):
            ax.imshow(field, cmap="inferno")
        else:  # drift images: a diverging map centred on 0
            vmax = float(np.max(np.abs(field))) or 1.0
            ax.imshow(field, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        row = metrics[name]
        label = max(row["classes"], key=row["classes"].get)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel(
            f"waves across {row['waves_across']:.1f}\nentropy {row['spectral_entropy']:.2f}\n"
            f"anisotropy {row['anisotropy']:.2f}\nMoran's I {row['morans_i']:.2f}\n{label}",
            fontsize=7,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        "Gray-Scott fields and PRD drift images under the same pattern metrics "
        "(PRD: mean over neurons)",
        fontsize=9,
    )
    fig.tight_layout()
    footer(fig, results)
    save(fig, path)
