"""The joint_rd figure, drawn from the files ``experiments.joint_rd`` writes."""

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots.style import fmt, footer, save


def plot(results, arrays, path):
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
                label=f"{term}: fit {fmt(f['exponent'], 2)} (Thm 3: {fmt(orders[term][var], 2)})",
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(var)
        ax.set_ylabel("mean_j per-neuron norm")
        fixed = ", ".join(f"{k}={v}" for k, v in s["base"].items() if k != var)
        ax.set_title(f"vs {var} ({fixed})", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    footer(
        fig,
        results,
        extra=(
            "R = reaction −∂L_sup/∂(u_j, v_j), D = diffusion ∂L_adv/∂(u_j, v_j) (Definition 2), "
            f"at initialisation, {s['n_seeds']} seeds (mean ± sd); fitted exponents vs "
            "Theorem 3's orders in brackets"
        ),
    )
    save(
        fig, path, "Theorem 3: reaction and diffusion magnitudes, measured vs the theorem's orders"
    )
