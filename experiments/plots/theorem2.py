"""The theorem2 figure, drawn from the files ``experiments.theorem2`` writes."""

import matplotlib.pyplot as plt
import numpy as np

from experiments.plots.style import fmt, footer, save


def _positive(t):
    t = np.asarray(t, np.float64)
    return np.where(t > 0, t, np.nan)


def plot(results, arrays, path):
    """Residual and drift vs t at each critic norm with Eq. 17 and Theorem 2's bounds; the floor
    against its prediction and kappa*mu; the kernel deviation of the settings beyond the theory."""
    s, sm = results["series"], results["summary"]
    t = _positive(s["time"])
    labels = s["labels"]
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(labels)))
    fig, axes = plt.subplots(2, 2, figsize=(14, 10), layout="constrained")

    ax = axes[0, 0]
    ax.plot(t, s["residual"]["supervised"], color="tab:blue", lw=1.6, label="supervised")
    ax.plot(t, s["remark3_bound"], color="tab:blue", ls=":", lw=1.2, label="Remark 3 bound")
    for c, label, L, bound in zip(colors, labels, s["L"], s["eq17_bound"], strict=True):
        ax.plot(t, s["residual"][label], color=c, lw=1.6, label=f"frozen critic, ‖w‖ = {fmt(L)}")
        ax.plot(t, bound, color=c, ls="--", lw=1.0)
    ax.set(xscale="log", yscale="log", xlabel="t = η × iteration", ylabel="‖z(t) − y‖")
    ax.set_ylim(bottom=max(1e-7, np.nanmin(np.asarray(s["remark3_bound"])) + 1e-12))
    ax.set_title("residual (median over seeds); dashed: Eq. 17 at the same ‖w‖", fontsize=9.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    ax.plot(t, s["drift_max"]["supervised"], color="tab:blue", lw=1.6, label="supervised")
    ax.plot(t, s["theorem1_bound"], color="tab:blue", ls=":", lw=1.2, label="Theorem 1 bound")
    for c, label, L, bound in zip(colors, labels, s["L"], s["theorem2_bound"], strict=True):
        ax.plot(t, s["drift_max"][label], color=c, lw=1.6, label=f"‖w‖ = {fmt(L)}")
        ax.plot(t, bound, color=c, ls="--", lw=1.0)
    ax.set(xscale="log", yscale="log", xlabel="t", ylabel="max_j ‖u_j(t) − u_j(0)‖")
    ax.set_title("per-neuron drift; dashed: Theorem 2 [W (43)] at the same ‖w‖", fontsize=9.5)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    rows = sm["sweep"]
    L = np.array([r["L"] for r in rows])
    floor = np.array([np.mean(r["floor"]) for r in rows])
    grad = np.array([np.mean(r["grad_g"]) for r in rows])
    ax.plot(L, floor, "o-", color="k", label="measured floor ‖z(T) − y‖ (mean over seeds)")
    ax.plot(L, grad, "x--", color="tab:orange", ms=9, label="prediction ‖∇_z g(z(T))‖")
    ax.plot(L, [r["kappa_mu"] for r in rows], "s:", color="tab:red", label="Eq. 17's floor κμ")
    ax.axvline(sm["L_bound"], color="0.4", ls="--", lw=1, label="L_bound (Theorem 2)")
    ax.axhline(np.median(sm["r0"]), color="0.6", ls="-.", lw=1, label="r0 (median)")
    ax.set(xscale="log", yscale="log", xlabel="critic norm ‖w‖", ylabel="residual floor")
    ax.set_title("the floor vs the critic norm (right of L_bound: outside the hypotheses)",
                 fontsize=9.5)  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)

    ax = axes[1, 1]
    styles = ["-", "--", "-", "-.", ":"]
    cols = ["tab:green", "tab:olive", "tab:red", "tab:purple", "tab:blue"]
    for (name, vals), ls, c in zip(s["kernel_dev_over_quarter"].items(), styles, cols, strict=True):
        ax.plot(_positive(s["steps"]), vals, ls=ls, color=c, lw=1.5, label=name)
    ax.axhline(1.0, color="k", lw=1, ls="--", label="λ0/4: the kernel regime breaks above")
    ax.set(xscale="log", yscale="log", xlabel="iteration", ylabel="‖H(t) − H(0)‖₂ / (λ0/4)")
    ax.set_title("kernel deviation (median over seeds): in and beyond the theorem's setting",
                 fontsize=9.5)  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    footer(
        fig,
        results,
        extra=(
            f"d_out = 1, v frozen, U trained, n = {sm['n']}, d_in = {sm['d_in']}, m = "
            f"{sm['width']}, η = {fmt(sm['lr'])}, λ0 = {fmt(sm['lambda0'])}, κ = "
            f"{fmt(sm['kappa'])}, ε = {fmt(sm['eps'])}, L_bound = {fmt(sm['L_bound'])}, "
            f"{sm['n_seeds']} seeds"
        ),
    )
    save(fig, path, "Theorems 1-2, Remark 3, Eq. 17 in their own setting, and past L_bound")
