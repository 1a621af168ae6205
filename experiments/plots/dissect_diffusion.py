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
            label=(f"{MODE_LABEL[mode]}: late exponent {fmt(g['exponent'])}"),
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
    footer(
        fig,
        results,
        extra=(
            f"n = {sm['n']}, d_in = {sm['d_in']}, d_out = {sm['d_out']}, m = {sm['width']}, "
            f"η = {fmt(sm['lr'])}, λ0 = {fmt(sm['lambda0'])}, κ = {fmt(sm['kappa'])}, "
            f"μ = {fmt(sm['mu'])}; U and V trained"
        ),
    )
    save(fig, path, "Theorem 2 / dissecting diffusion: reaction vs diffusion and drift")
