"""Figures of a width sweep, drawn from its ``summary.json`` and bucket arrays."""

import pathlib
import warnings

import matplotlib.pyplot as plt
import numpy as np

from experiments.sweep_report import per_octave
from prd_jax.results import WriteError, savefig_atomic

MODES = ("supervised", "adversarial")
MODE_COLOR = {"supervised": "tab:blue", "adversarial": "tab:red"}


def _mode_mask(runs, mode):
    is_sup = np.asarray(runs["run_lambda_adv"]) == 0
    return (is_sup if mode == "supervised" else ~is_sup) & ~runs["diverged"].astype(bool)


def _per_width_curves(ax, runs, steps, metric, mode, cmap):
    sel = _mode_mask(runs, mode)
    widths = np.unique(runs["run_width"][sel])
    colors = cmap(np.linspace(0.05, 0.95, len(widths)))
    later = steps > 0  # metrics are 0 at step 0 by definition; log axes start at step 1
    x = steps[later]
    for w, c in zip(widths, colors, strict=True):
        vals = runs[metric][sel & (runs["run_width"] == w)][:, later]
        mean = np.exp(np.mean(np.log(np.maximum(vals, 1e-12)), axis=0))  # geometric mean
        ax.plot(x, mean, color=c, label=f"m={w}", lw=1.6)
        if len(vals) > 1:
            ax.fill_between(x, vals.min(0), vals.max(0), color=c, alpha=0.12, lw=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.grid(alpha=0.3, which="both", lw=0.4)


def _two_panels(summary, runs, metric, ylabel, title, hline=None, hlabel=None):
    steps = np.asarray(summary["log_steps"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, mode in zip(axes, MODES, strict=True):
        _per_width_curves(ax, runs, steps, metric, mode, plt.cm.viridis)
        ax.set_title(f"{mode}")
        if hline is not None:
            ax.axhline(hline, color="k", ls="--", lw=1, label=hlabel)
    axes[0].set_ylabel(ylabel)
    axes[1].legend(fontsize=7, ncol=2, loc="lower right")
    fig.suptitle(title + " (geometric mean over seeds, band: min-max)")
    fig.tight_layout()
    return fig


def _finite(x):
    return np.array([np.nan if v is None else v for v in x], dtype=np.float64)


class Skip(Exception):
    """A figure that has nothing to show; the message says why (one line)."""


def _need_runs(summary, runs, metric=None):
    """Skip unless some run finished without diverging and has positive values to plot."""
    ok = np.zeros(len(runs["diverged"]), bool)
    for mode in MODES:
        ok |= _mode_mask(runs, mode)
    if not ok.any():
        raise Skip(f"all {len(ok)} runs diverged")
    if len(summary["log_steps"]) < 2:
        raise Skip("no step after initialisation was logged")
    if metric is not None:
        vals = np.asarray(runs[metric])[ok][:, 1:]
        if not np.any(np.isfinite(vals) & (vals > 0)):
            raise Skip(f"{metric} is 0 for every run (nothing on a log scale)")


def drift_figure(summary, runs):
    _need_runs(summary, runs, "drift_max")
    return _two_panels(
        summary,
        runs,
        "drift_max",
        r"$\max_j \|u_j(t) - u_j(0)\|_2$",
        "Per-neuron drift from initialisation",
    )


def kernel_figure(summary, runs):
    _need_runs(summary, runs, "kernel_dev")
    lam0 = summary["lambda0"]
    return _two_panels(
        summary,
        runs,
        "kernel_dev",
        r"$\|H(t) - H(0)\|_2$",
        "Kernel deviation",
        hline=lam0 / 4 if lam0 is not None and lam0 > 0 else None,
        hlabel=r"$\lambda_0/4$ (Remark 1)",
    )


def fraction_figure(summary, runs):
    """Fraction broken at the horizon vs width (dots, area ~ runs), the isotonic fit of
    P(broken | log m) with its pointwise bootstrap band, and m* with its interval."""
    if not any(summary["threshold"].get(mode, {}).get("widths") for mode in MODES):
        raise Skip(f"all {len(runs['diverged'])} runs diverged")
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    for mode in MODES:
        th = summary["threshold"].get(mode, {})
        if not th.get("widths"):
            continue
        color = MODE_COLOR[mode]
        w = np.asarray(th["widths"], np.float64)
        frac = _finite(th["fraction_broken"])
        size = 6 + 3 * np.asarray(th.get("runs_per_width") or np.ones_like(w))
        ax.scatter(w, frac, s=size, color=color, alpha=0.55, lw=0, label=f"{mode}: per width")
        fitted = _finite(th.get("fitted") or [])
        if fitted.size == w.size:
            ax.plot(w, fitted, "-", color=color, lw=1.6, label=f"{mode}: isotonic fit")
            band = th.get("fitted_ci")
            if band and len(band) == 2:
                ax.fill_between(w, _finite(band[0]), _finite(band[1]), color=color, alpha=0.12,
                                lw=0)  # fmt: skip
        lo, hi = _finite(th["ci"])
        lo = lo if np.isfinite(lo) else min(th["widths"])  # an end beyond the grid: its edge
        hi = hi if np.isfinite(hi) else max(th["widths"])
        ax.axvspan(lo, hi, color=color, alpha=0.08, lw=0)
        if th.get("m_star") is not None:
            ax.axvline(th["m_star"], color=color, ls=":", lw=1.2)
        elif th.get("bound") is not None:  # beyond the grid: an arrow at the edge, one-sided
            up = th.get("position") == "above_grid"
            ax.annotate(
                f"m* {th.get('text', '')}", xy=(th["bound"], 0.5),
                xytext=(th["bound"] * (1.6 if up else 1 / 1.6), 0.62),
                color=color, fontsize=8, ha="center",
                arrowprops=dict(arrowstyle="<-" if up else "->", color=color, lw=1),
            )  # fmt: skip
    ax.axhline(0.5, color="gray", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("width m")
    ax.set_ylabel(f"fraction broken by step {summary['horizon_steps']}")
    ax.set_title(
        f"Breakdown ({summary['criterion_metric']} > {summary['criterion_threshold']:.3g})\n"
        "dotted: m*, shaded: its 95% interval (calibrated seed bootstrap)",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def survival_figure(summary, runs):
    """Kaplan-Meier curves of the breakdown time, one per width (one width per octave)."""
    if "survival" not in summary:
        raise Skip("no survival curves in this summary (written by an older version)")
    surv = summary["survival"]
    if not any(surv.get(mode) for mode in MODES):
        raise Skip(f"all {len(runs['diverged'])} runs diverged")
    horizon = summary["horizon_steps"]
    steps = np.asarray(summary["log_steps"], np.float64)
    first = float(steps[steps > 0][0]) / 1.5 if np.any(steps > 0) else 1.0
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharey=True)
    for ax, mode in zip(axes, MODES, strict=True):
        rows = {r["width"]: r for r in surv.get(mode, [])}
        if not rows:
            ax.set_title(f"{mode}: no runs with an outcome")
            continue
        shown = per_octave(rows)
        colors = plt.cm.viridis(np.linspace(0.05, 0.95, len(shown)))
        for w, c in zip(shown, colors, strict=True):
            km = rows[w]["km"]
            t = np.concatenate([[first], _finite(km["t"]), [horizon]])
            S = np.concatenate([[1.0], _finite(km["S"]), [_finite(km["S"])[-1] if km["S"] else 1]])
            ax.step(t, S, where="post", color=c, lw=1.5, label=f"m={w} ({rows[w]['runs']} runs)")
        ax.axhline(0.5, color="gray", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(first, horizon * 1.05)
        ax.set_xlabel("step")
        div = sum(r["diverged"] for r in rows.values())
        ax.set_title(f"{mode}" + (f" ({div} diverged runs left out)" if div else ""), fontsize=10)
        ax.grid(alpha=0.3, which="both", lw=0.4)
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    axes[0].set_ylabel("fraction still unbroken (Kaplan-Meier)")
    fig.suptitle(f"Survival of the kernel regime; runs unbroken at step {horizon} are censored")
    fig.tight_layout()
    return fig


def horizon_figure(summary, runs):
    """m*(T) vs T: the measurement (left), and the same next to the paper's formula (right)."""
    curves = summary["threshold_vs_horizon"]
    if not any(curves.get(mode) for mode in MODES):
        raise Skip("no threshold curve (every run diverged, or no horizon after step 0)")
    listed = [summary["threshold"].get(mode, {}).get("widths") or [] for mode in MODES]
    widths = np.asarray(sum(listed, []) or [1], np.float64)
    top, bottom = float(np.max(widths)), float(np.min(widths))
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    for ax in axes:
        for mode in MODES:
            curve = summary["threshold_vs_horizon"].get(mode, [])
            if not curve:
                continue
            T = np.array([c["step"] for c in curve], dtype=np.float64)
            m = _finite([c["m_star"] for c in curve])
            lo = _finite([c["ci"][0] for c in curve])
            hi = _finite([c["ci"][1] for c in curve])
            bound = _finite([c.get("bound") for c in curve])
            pos = np.array([c.get("position") for c in curve])
            held = np.isfinite(m)
            color = MODE_COLOR[mode]
            ax.plot(T[held], m[held], "-", color=color, label=f"{mode} m*(T)")
            ax.fill_between(T, np.where(np.isfinite(lo), lo, bottom),
                            np.where(np.isfinite(hi), hi, top), color=color, alpha=0.12,
                            lw=0)  # fmt: skip
            for where, marker, word in (("above_grid", "^", ">"), ("below_grid", "v", "<")):
                at = pos == where
                if at.any():
                    ax.plot(T[at], bound[at], marker, color=color, ms=5, mfc="none",
                            label=f"{mode}: m* {word} the grid's edge (one-sided)")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_xlabel("horizon T (iterations)")
        ax.set_ylabel("threshold width m*")
        ax.grid(alpha=0.3, which="both", lw=0.4)
    axes[0].axhspan(min(widths), top, color="gray", alpha=0.06, lw=0)
    axes[0].set_title("Empirical threshold (95% interval; grey: widths run)", fontsize=10)
    theory = summary["theory"].get("threshold_vs_horizon") or []
    if theory:
        T = np.array([c["step"] for c in theory], dtype=np.float64)
        m = _finite([c["m_theory"] for c in theory])
        axes[1].plot(
            T,
            m,
            "k--",
            lw=1,
            label=r"paper's $\Omega(\cdot)$ width, constant 1"
            "\n"
            r"(measured $\lambda_0, \kappa$; $L(m)$ fitted)",
        )
    axes[1].set_title(
        "Against the paper's breakdown width (unknown constant set to 1)", fontsize=10
    )
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _fit_label(fit):
    ci = fit.get("ci") or [None, None]
    band = f" [{ci[0]:+.2f}, {ci[1]:+.2f}]" if None not in ci else ""
    return f"fit: m^{fit['exponent']:+.2f}{band}"


def scaling_figure(summary, runs):
    """Breakdown time vs width (broken runs, censored runs, Kaplan-Meier medians and the
    censored fit) and final drift vs width."""
    rec = summary["runs"]
    if not any(not r["diverged"] for r in rec):
        raise Skip(f"all {len(rec)} runs diverged")
    horizon = summary["horizon_steps"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    rng = np.random.default_rng(0)
    for mode in MODES:
        is_mode = [
            (r["lambda_adv"] == 0) == (mode == "supervised") and not r["diverged"] for r in rec
        ]
        mine = [r for r, k in zip(rec, is_mode, strict=True) if k]
        if not mine:
            continue
        color = MODE_COLOR[mode]
        w = np.array([r["width"] for r in mine], np.float64)
        tb = _finite([r["breakdown_time"] for r in mine])
        dr = np.array([r["final_drift_max"] for r in mine])
        jitter = np.exp(rng.uniform(-0.05, 0.05, len(w)))
        broke = np.isfinite(tb)
        axes[0].plot(w[broke] * jitter[broke], tb[broke], "o", color=color, alpha=0.35, ms=3,
                     label=f"{mode}: broken runs")  # fmt: skip
        if (~broke).any():
            axes[0].plot(w[~broke] * jitter[~broke], np.full((~broke).sum(), horizon), "^",
                         mfc="none", color=color, alpha=0.5, ms=4,
                         label=f"{mode}: unbroken (censored)")  # fmt: skip
        med = [r for r in summary.get("survival", {}).get(mode, []) if r["median"] is not None]
        if med:
            mw = np.array([r["width"] for r in med], np.float64)
            mm = np.array([r["median"] for r in med], np.float64)
            lo = _finite([r["median_ci"][0] for r in med])
            hi = _finite([r["median_ci"][1] for r in med])
            hi = np.where(np.isfinite(hi), hi, horizon)
            lo = np.where(np.isfinite(lo), lo, mm)
            axes[0].errorbar(mw, mm, yerr=[mm - lo, hi - mm], fmt="s", color=color, ms=5,
                             capsize=2, lw=1, label=f"{mode}: KM median")  # fmt: skip
        fit = summary["breakdown_time_exponent_fit"].get(mode, {})
        drawable = fit.get("exponent") is not None and fit.get("intercept") is not None
        if drawable and not fit.get("at_bound"):  # a fit at its bound only says "steep"
            low = fit.get("min_width") or w.min()
            xs = np.geomspace(max(low, w.min()), w.max(), 20)
            axes[0].plot(xs, np.exp(fit["intercept"]) * xs ** fit["exponent"], "-", color=color,
                         lw=1.2, label=f"{mode}: censored " + _fit_label(fit))  # fmt: skip
        axes[1].plot(w * jitter, dr, "o", color=color, alpha=0.5, ms=3, label=mode)
        fit = summary["drift_exponent_fit"].get(mode, {})
        if fit.get("exponent") is not None and fit.get("prefactor") is not None:
            xs = np.geomspace(w.min(), w.max(), 20)
            axes[1].plot(xs, fit["prefactor"] * xs ** fit["exponent"], "-", color=color, lw=1,
                         label=_fit_label(fit))  # fmt: skip
    sup_fit = summary["drift_exponent_fit"].get("supervised", {})
    if sup_fit.get("exponent") is not None and sup_fit.get("prefactor") is not None:
        ws = np.array([r["width"] for r in rec], np.float64)
        xs = np.geomspace(ws.min(), ws.max(), 20)
        anchor = sup_fit["prefactor"] * np.sqrt(xs[0]) * xs[0] ** sup_fit["exponent"]
        axes[1].plot(xs, anchor / np.sqrt(xs), "k:", lw=1, label="theory slope -1/2 (Theorem 1)")
    axes[0].axhline(horizon, color="gray", lw=0.8, ls="--")
    m_sup = summary["threshold"].get("supervised", {}).get("m_star")
    if m_sup is not None:
        axes[0].axvline(m_sup, color=MODE_COLOR["supervised"], ls=":", lw=1)
    pred = summary["theory"].get("breakdown_time_exponent_adversarial")
    axes[0].set_title(
        "Breakdown time vs width; fits over widths above the supervised m* (dotted)"
        + (f"\nTheorem 2 for adversarial: m^{pred:+.2f}" if pred is not None else ""),
        fontsize=10,
    )
    axes[1].set_title(f"Per-neuron drift at step {horizon} vs width", fontsize=10)
    axes[0].set_ylabel("T_b (iterations)")
    axes[1].set_ylabel(r"$\max_j \|u_j(T) - u_j(0)\|_2$")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width m")
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3, which="both", lw=0.4)
    axes[0].set_ylim(0.5, 3 * horizon)  # breakdowns are seen at log steps >= 1
    fig.tight_layout()
    return fig


def _fraction_surface(runs, mode, metric, threshold, steps):
    """``(widths, T, P)``: the fraction of a mode's non-diverged runs at each width broken by
    each logged T > 0 (``P (K, L')``)."""
    sel = _mode_mask(runs, mode)
    later = steps > 0
    D = np.maximum.accumulate(np.asarray(runs[metric], np.float64)[sel], axis=1)[:, later]
    w = runs["run_width"][sel]
    widths = np.unique(w)
    P = np.array([(D[w == v] > threshold).mean(0) for v in widths])
    return widths, steps[later], P


def surface_figure(summary, runs):
    """P(broken by T) over (log m, log T) per mode, with the m*(T) curve and its band."""
    _need_runs(summary, runs)
    steps = np.asarray(summary["log_steps"], np.float64)
    metric, thr = summary["criterion_metric"], summary["criterion_threshold"]
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.8), sharey=True)
    image = None
    for ax, mode in zip(axes, MODES, strict=True):
        if not _mode_mask(runs, mode).any():
            ax.set_title(f"{mode}: no runs with an outcome")
            continue
        widths, T, P = _fraction_surface(runs, mode, metric, thr, steps)
        edges_t = np.sqrt(T[1:] * T[:-1])
        edges_t = np.concatenate([[T[0] / 1.5], edges_t, [T[-1] * 1.2]])
        edges_w = np.sqrt(widths[1:] * widths[:-1]) if len(widths) > 1 else np.zeros(0)
        edges_w = np.concatenate([[widths[0] / 1.2], edges_w, [widths[-1] * 1.2]])
        image = ax.pcolormesh(edges_t, edges_w, P, cmap="RdYlBu_r", vmin=0, vmax=1,
                              shading="flat")  # fmt: skip
        curve = summary["threshold_vs_horizon"].get(mode, [])
        if curve:
            Tc = np.array([c["step"] for c in curve], np.float64)
            m = _finite([c["m_star"] for c in curve])
            lo = _finite([c["ci"][0] for c in curve])
            hi = _finite([c["ci"][1] for c in curve])
            ax.plot(Tc, m, "k-", lw=1.4, label="m*(T)")
            ax.fill_between(Tc, np.where(np.isfinite(lo), lo, widths[0]),
                            np.where(np.isfinite(hi), hi, widths[-1]), color="k", alpha=0.15,
                            lw=0, label="95% interval")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_xlabel("horizon T (iterations)")
        ax.set_title(f"{mode}: {len(widths)} widths", fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("width m")
    if image is not None:
        fig.colorbar(image, ax=axes, label=f"P(broken by T): {metric} > {thr:.3g}")
    fig.suptitle("Where the kernel regime breaks: fraction of runs broken by T", fontsize=11)
    return fig


def collapse_figure(summary, runs):
    """The law D(T) ~ C(T) m^-alpha(T): alpha(T) and C(T) against T (left), and the collapse
    D(T) m^alpha(T) against T, one curve per width (right), per mode."""
    from prd_jax import law

    _need_runs(summary, runs, summary["criterion_metric"])
    steps = np.asarray(summary["log_steps"], np.float64)
    metric = summary["criterion_metric"]
    fig, axes = plt.subplots(1, 3, figsize=(15.5, 4.6))
    for mode in MODES:
        sel = _mode_mask(runs, mode)
        if not sel.any():
            continue
        D = np.maximum.accumulate(np.asarray(runs[metric], np.float64)[sel], axis=1)
        w, s = runs["run_width"][sel], runs["run_seed"][sel]
        later = np.flatnonzero(steps > 0)
        fits = [law.fit_law(w, s, D[:, j], int(steps[j])) for j in later]
        alpha = np.array([f.alpha for f in fits])
        C = np.exp([f.log_c for f in fits])
        color = MODE_COLOR[mode]
        axes[0].plot(steps[later], alpha, "-", color=color, label=f"{mode}: alpha(T)")
        axes[0].plot(steps[later], np.array([f.curvature for f in fits]), ":", color=color,
                     label=f"{mode}: curvature (0 for a power law)")  # fmt: skip
        rows = summary["law"].get(mode) or []
        if rows:
            T = [r["step"] for r in rows]
            a = _finite([r["alpha"] for r in rows])
            ci = np.array([_finite(r["alpha_ci"]) for r in rows])
            # Bars only where the interval exists (one seed: none), never negative (rounding).
            err = np.nan_to_num(np.clip([a - ci[:, 0], ci[:, 1] - a], 0, None))
            axes[0].errorbar(T, a, yerr=err, fmt="o", color=color, ms=4, capsize=2)
        axes[1].plot(steps[later], C, "-", color=color, label=f"{mode}: C(T)")
        ax = axes[2]
        shown = per_octave(np.unique(w))
        for width in shown:
            at = w == width
            med = np.median(D[at][:, later], axis=0) * width**alpha
            ax.plot(steps[later], med, "-", color=color, alpha=0.35 + 0.6 * (width == shown[-1]),
                    lw=1)  # fmt: skip
        ax.plot([], [], "-", color=color, label=f"{mode}: median over seeds, one line per width")
    axes[0].axhline(0, color="gray", lw=0.6)
    axes[0].set_ylabel("alpha(T); dots: reported horizons, 95% seed bootstrap")
    axes[1].set_ylabel("C(T)")
    axes[2].set_ylabel(r"$D(T)\, m^{\alpha(T)}$")
    axes[2].set_yscale("log")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("T (iterations)")
        ax.grid(alpha=0.3, which="both", lw=0.4)
        ax.legend(fontsize=7)
    fig.suptitle(
        r"The law $D(T) = \max_{t \leq T} \|H(t) - H(0)\|_2 \approx C(T)\, m^{-\alpha(T)}$: "
        "the lines collapse where it holds", fontsize=11,
    )  # fmt: skip
    fig.tight_layout()
    return fig


FIGURES = {
    "drift.png": drift_figure,
    "kernel_deviation.png": kernel_figure,
    "fraction_broken.png": fraction_figure,
    "survival.png": survival_figure,
    "threshold_vs_horizon.png": horizon_figure,
    "scaling.png": scaling_figure,
    "breakdown_surface.png": surface_figure,
    "law_collapse.png": collapse_figure,
}


def plot_all(summary: dict, runs: dict, out, log=print) -> list[pathlib.Path]:
    """Write every sweep figure that can be drawn into ``out``; returns their paths.

    Each figure is drawn on its own: one that has nothing to show (every run diverged, no
    breakdown, a single width or seed...) or fails to draw is skipped with a one-line note
    through ``log``, and the others are still written. ``KeyboardInterrupt`` propagates.
    """
    out = pathlib.Path(out)
    paths = []
    for name, draw in FIGURES.items():
        fig = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # empty log axes and the like: judged here
                fig = draw(summary, runs)
                path = out / name
                savefig_atomic(fig, path, dpi=110)  # never a partial PNG under its name
            paths.append(path)
        except Skip as why:
            log(f"figure {name} skipped: {why}")
        except WriteError:  # a full or read-only disk is the folder's problem: one line, up
            raise
        except Exception as err:  # noqa: BLE001 - a figure must never lose the results
            first = (str(err).strip().splitlines() or [""])[0][:200]
            log(f"figure {name} skipped: could not be drawn ({type(err).__name__}: {first})")
        finally:
            if fig is not None:
                plt.close(fig)
            plt.close("all")
    return paths
