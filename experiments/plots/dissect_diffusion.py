"""The dissect_diffusion figure, drawn from the files ``experiments.dissect_diffusion`` writes."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from experiments.plots.style import MODE_LABEL, MODE_STYLE, fmt, footer, log_steps_axis, save


def plot(results, arrays, path):
    """Reaction and diffusion norms of U and V vs iteration; drift vs t with Theorem 2's bound."""
    s = results["series"]
    t_it = log_steps_axis(results)
    modes = s["modes"]
    fig, axes = plt.subplots(2, 3, figsize=(19, 10), layout="constrained")
    for ax, layer in zip(axes[0][:2], ("u", "v"), strict=True):
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
        ci = g["increment_exponent_ci"] or [None, None]
        ax.plot(
            t_plot,
            s["drift_fro"][mode],
            lw=1.6,
            label=(
                f"{MODE_LABEL[mode]} (median): increment exponent {fmt(g['increment_exponent'])} "
                f"[{fmt(ci[0])}, {fmt(ci[1])}]"
            ),
            **st,
        )
        for row in s["drift_fro_per_seed"][mode]:
            ax.plot(t_plot, row, color=st["color"], lw=0.5, alpha=0.35)
    ax.plot(
        t_plot,
        s["theorem2_bound"],
        "k:",
        lw=1.4,
        label="Thm 2 / [W (43)] × √m, L = max ‖W‖ (outside its hypotheses)",
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
    ax.set_title(
        "drift from initialisation (thin: seeds); Theorem 2 allows linear growth", fontsize=9.5
    )
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
    ax = axes[0, 2]
    for k, mode in enumerate(modes):
        g, st = sm["growth"][mode], MODE_STYLE[mode]
        if not g["decades"]:
            continue
        centres = np.array([np.sqrt(max(a, 1) * b) for a, b in g["decades"]]) * (1 + 0.08 * k)
        mean = np.asarray(g["slope_mean"], np.float64)
        cis = [c if c else [np.nan, np.nan] for c in g["slope_ci"]]
        lo, hi = (np.array([c[i] for c in cis], np.float64) for i in (0, 1))
        ax.errorbar(centres, mean, yerr=[mean - lo, hi - mean], marker="o", ms=4, capsize=3,
                    color=st["color"], ls=st["ls"], label=MODE_LABEL[mode])  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1e-5)
    ax.set_xlabel("decade of iterations (geometric centre)")
    ax.set_ylabel("d‖U(t) − U(0)‖_F / dt over the decade")
    ax.set_title("windowed slope per decade, mean and 95% interval across seeds", fontsize=9.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7.5)
    axes[1, 2].axis("off")
    lines = [f"[{c['verdict']}] {c['id']}" for c in results["claims"]]
    axes[1, 2].text(0, 1, "claims:\n" + "\n".join(lines), va="top", fontsize=8, family="monospace")
    footer(
        fig,
        results,
        extra=(
            f"n = {sm['n']}, d_in = {sm['d_in']}, d_out = {sm['d_out']}, m = {sm['width']}, "
            f"η = {fmt(sm['lr'])}, λ0 = {fmt(sm['lambda0'])}, κ = {fmt(sm['kappa'])}, "
            f"μ = {fmt(sm['mu'])}; U and V trained; {sm['n_seeds']} seeds; critic lr "
            f"{fmt(sm['critic_lr_per_t'])} per unit t"
        ),
    )
    save(fig, path, "Theorem 2 / dissecting diffusion: reaction vs diffusion and drift")
