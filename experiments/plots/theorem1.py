"""The theorem1 figure, drawn from the files ``experiments.theorem1`` writes."""

import warnings

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots.style import MODE_LABEL, MODE_STYLE, fmt, footer, save


def plot(results, arrays, path):
    """Per-neuron, Frobenius and relative drift at the end vs width, with fits and bounds."""
    s = results["series"]
    widths = np.asarray(s["widths"], np.float64)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), layout="constrained")
    panels = [
        ("drift_max", "max_j ‖u_j(T) − u_j(0)‖₂", "bound_per_neuron", "theorem1_oform"),
        ("drift_fro", "‖U(T) − U(0)‖_F", "bound_per_neuron", "theorem1_oform"),
        ("drift_rel", "‖U(T) − U(0)‖_F / ‖U(0)‖_F", None, None),
    ]
    fits = results["summary"]["fits"]
    for ax, (key, label, bound, oform) in zip(axes, panels, strict=True):
        for mode in s["modes"]:
            vals = np.asarray(s[key][mode], np.float64)  # (seeds, widths), NaN: diverged
            with warnings.catch_warnings():  # a width whose runs all diverged: NaN, no point
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(vals, axis=0)
                err = np.nanstd(vals, axis=0)
            st = MODE_STYLE[mode]
            fit = fits[mode][key]
            lbl = f"{MODE_LABEL[mode]}: exponent {fmt(fit['exponent'])} ± {fmt(fit['stderr'], 2)}"
            ax.errorbar(widths, mean, yerr=err, marker="o", ms=4, capsize=2, label=lbl, **st)
            if fit["exponent"] is not None and fit["prefactor"] is not None:  # no fit: no line
                ax.plot(
                    widths,
                    fit["prefactor"] * widths ** fit["exponent"],
                    color=st["color"],
                    lw=0.8,
                    alpha=0.6,
                )
            if key == "drift_max" and mode == "supervised":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
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
                        f"{fmt(fits[mode]['drift_mean']['exponent'])}"
                    ),
                )
        # Frobenius panel: the per-neuron bounds times sqrt(m).
        scale = np.sqrt(widths) if key == "drift_fro" else 1.0
        if bound:
            ax.plot(
                widths,
                np.asarray(s[bound], np.float64) * scale,
                "k:",
                lw=1.5,
                label="Thm 1 explicit: 2√n r0/(√m λ0)" + (" × √m" if key == "drift_fro" else ""),
            )
        if oform:
            ax.plot(
                widths,
                np.asarray(s[oform], np.float64) * scale,
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
    footer(
        fig,
        results,
        extra=(
            f"n = {sm['n']}, d_in = {sm['d_in']}, λ0 = {fmt(sm['lambda0'])}, T = {sm['steps']} "
            f"iterations (t = {fmt(sm['t_final'])}), {sm['n_seeds']} seeds (mean ± sd)"
        ),
    )
    save(fig, path, "Theorem 1: drift from initialisation vs width after training")
