"""The width sweep's report: thresholds m*(T), exponents and per-run records from the runs'
arrays (``prd_jax.breakdown``), the paper's threshold formula, and the terminal table."""

import numpy as np

from prd_jax import breakdown, theory
from prd_jax.breakdown import fit_json, fit_power_law, mode_of
from prd_jax.results import json_ready

MODES = ("supervised", "adversarial")


def _fit(x, y, n_boot):
    return fit_json(fit_power_law(x, y, bootstrap=n_boot))


def mode_threshold(width, seed, t_b, horizon, n_boot, rng) -> dict:
    """m* at the horizon with its bootstrap interval, and the fraction broken per width."""
    m_star, ci = breakdown.estimate_threshold(width, seed, t_b <= horizon, n_boot, rng)
    widths = np.unique(width)
    frac = [float(np.mean(t_b[width == w] <= horizon)) for w in widths]
    return {
        "m_star": m_star,
        "ci": list(ci),
        "runs": int(len(width)),
        "widths": widths.tolist(),
        "fraction_broken": frac,
    }


def threshold_curve(width, seed, t_b, log_steps, rng) -> list:
    """m*(T) at every logged horizon T > 0 (200 bootstrap resamples each)."""
    out = []
    for T in log_steps[log_steps > 0]:
        m_t, ci_t = breakdown.estimate_threshold(width, seed, t_b <= T, 200, rng)
        out.append({"step": int(T), "m_star": m_t, "ci": list(ci_t)})
    return out


def run_records(runs, t_b, diverged) -> list:
    return [
        {
            "width": int(runs["run_width"][i]),
            "seed": int(runs["run_seed"][i]),
            "lambda_adv": float(runs["run_lambda_adv"][i]),
            "lr": float(runs["run_lr"][i]),
            "breakdown_time": None if not np.isfinite(t_b[i]) else float(t_b[i]),
            "diverged": bool(diverged[i]),
            "final_loss_sup": float(runs["loss_sup"][i, -1]),
            "final_drift_max": float(runs["drift_max"][i, -1]),
            "final_kernel_dev": float(runs["kernel_dev"][i, -1]),
        }
        for i in range(len(t_b))
    ]


def summarize(cfg, runs: dict, log_steps, spectrum, extra=None) -> dict:
    """Thresholds, exponents and per-run records from the flat runs (``GridResult.flat()``)."""
    rng = np.random.default_rng(0)
    lambda0 = float(spectrum.lambda0)
    thr = breakdown.criterion_threshold(
        cfg.criterion, lambda0, cfg.n, cfg.delta, cfg.radius_c, cfg.rel_threshold
    )
    metric = breakdown.CRITERIA[cfg.criterion]
    t_b = breakdown.breakdown_steps(runs[metric], log_steps, thr)
    diverged = runs["diverged"].astype(bool)
    t_b = np.where(diverged, np.nan, t_b)  # a diverged run says nothing about the kernel regime
    modes, width, seed = mode_of(runs["run_lambda_adv"]), runs["run_width"], runs["run_seed"]
    log_steps = np.asarray(log_steps)
    threshold, by_horizon, drift_exp, tb_exp, mean_exp = {}, {}, {}, {}, {}
    diverged_count = {
        mode: {"diverged": int(np.sum(diverged[modes == mode])), "runs": int(np.sum(modes == mode))}
        for mode in MODES
    }
    for mode in MODES:
        sel = (modes == mode) & ~diverged
        if not sel.any():
            threshold[mode] = {"m_star": None, "ci": [None, None], "runs": 0, "widths": []}
            continue
        w, s, t = width[sel], seed[sel], t_b[sel]
        threshold[mode] = mode_threshold(w, s, t, log_steps[-1], cfg.bootstrap, rng)
        by_horizon[mode] = threshold_curve(w, s, t, log_steps, rng)
        drift_exp[mode] = _fit(w, runs["drift_max"][sel, -1], cfg.bootstrap)
        mean_exp[mode] = _fit(w, runs["drift_mean"][sel, -1], cfg.bootstrap)
        finite = sel & np.isfinite(t_b) & (t_b > 0)
        tb_exp[mode] = _fit(width[finite], t_b[finite], cfg.bootstrap)
    adv = (modes == "adversarial") & ~diverged
    # Late, diffusion-driven breakdowns: adversarial runs at widths where supervised training
    # holds, so that the initial fitting phase alone does not break them.
    m_sup = threshold.get("supervised", {}).get("m_star")
    late = adv & np.isfinite(t_b) & (t_b > 0) & (width > (m_sup if m_sup is not None else np.inf))
    tb_exp["adversarial_above_supervised_threshold"] = _fit(width[late], t_b[late], cfg.bootstrap)
    critic_scaling = _fit(width[adv], runs["critic_norm"][adv, -1], cfg.bootstrap)
    summary = {
        "criterion": cfg.criterion,
        "criterion_metric": metric,
        "criterion_threshold": thr,
        "lambda0": lambda0,
        "lambda_max": float(spectrum.lambda_max),
        "kappa_inf": float(spectrum.kappa),
        "horizon_steps": int(log_steps[-1]),
        "threshold": threshold,
        "diverged": diverged_count,
        "threshold_vs_horizon": by_horizon,
        "drift_exponent": {k: v["exponent"] for k, v in drift_exp.items()},
        "drift_exponent_fit": drift_exp,
        "drift_mean_exponent_fit": mean_exp,
        "breakdown_time_exponent": {k: v["exponent"] for k, v in tb_exp.items()},
        "breakdown_time_exponent_fit": tb_exp,
        "critic_norm_exponent": critic_scaling,
        "theory": theory_note(critic_scaling["exponent"]),
        "runs": run_records(runs, t_b, diverged),
    }
    summary.update(extra or {})
    return json_ready(summary)


def theory_note(beta) -> dict:
    return {
        "drift_exponent_supervised": -0.5,
        # T_b ~ sqrt(m) / mu and mu ~ ||w|| / sqrt(m); with ||w|| ~ m^beta: T_b ~ m^(1-beta).
        "breakdown_time_exponent_adversarial": None if beta is None else 1.0 - beta,
        "note": "Theorem 2: drift <= A/sqrt(m) + mu (1 + kappa sqrt(n)) t / sqrt(m) with "
        "mu = L n sqrt(2 log(2/delta)) / sqrt(m); breakdown when the drift reaches R, "
        "so T_b ~ m / L(m) ~ m^(1 - beta) for a critic norm L ~ m^beta.",
    }


def theory_threshold_curve(cfg, spectrum, horizons, lr, critic_norm_fit) -> list:
    """The paper's breakdown width (Omega-constant 1) at each horizon, with measured inputs:
    lambda0 and kappa of the data, T0 := t = lr * T, and the fitted critic norm
    ``L(m) = prefactor * m^beta``."""
    if critic_norm_fit.get("exponent") is None:
        return []
    beta, pref = critic_norm_fit["exponent"], critic_norm_fit["prefactor"]
    kappa = float(theory.kappa(spectrum.lambda_max, spectrum.lambda0))

    def critic_norm(m):
        return pref * np.asarray(m, np.float64) ** beta

    out = []
    for T in horizons:
        t = float(lr) * float(T)
        m = theory.breakdown_width(
            cfg.n, spectrum.lambda0, cfg.delta, kappa, t, critic_norm, cfg.radius_c
        )
        out.append({"step": int(T), "m_theory": float(m)})
    return json_ready(out)


def _num(x, fmt="{:.0f}", none="n/a"):
    return none if x is None else fmt.format(x)


def _diverged_cell(summary, mode) -> str:
    count = summary.get("diverged", {}).get(mode)
    if not count or not count["runs"]:
        return "no runs"
    return f"{count['diverged']}/{count['runs']} diverged"


def _mode_rows(summary) -> list[str]:
    lines = []
    for mode in MODES:
        th = summary["threshold"].get(mode, {})
        count = summary.get("diverged", {}).get(mode, {})
        if not th.get("widths"):  # every run of this mode diverged (or there are none)
            runs = count.get("runs", 0)
            what = f"all {runs} runs diverged" if runs else "no runs"
            lines.append(f"{mode:<13}{what}: no threshold or exponent")
            continue
        ci = th.get("ci", [None, None])
        beyond = f"> {max(th['widths'])}"  # no width in the grid holds
        interval = "[" + _num(ci[0], none=beyond) + ", " + _num(ci[1], none="inf") + "]"
        lines.append(
            f"{mode:<13}{_num(th.get('m_star'), none=beyond):>10}{interval:>18}"
            f"{_num(summary['drift_exponent'].get(mode), '{:+.2f}'):>12}"
            f"{_num(summary['breakdown_time_exponent'].get(mode), '{:+.2f}'):>10}"
            f"  {_diverged_cell(summary, mode)}"
        )
    horizons = [10**k for k in range(1, 8) if 10**k < summary["horizon_steps"]]
    horizons.append(summary["horizon_steps"])
    for mode in MODES:
        curve = {c["step"]: c["m_star"] for c in summary["threshold_vs_horizon"].get(mode, [])}
        if not curve:
            continue
        widest = max(summary["threshold"].get(mode, {}).get("widths") or [0])
        cells = [f"T={T}: {_num(curve.get(T), none=f'> {widest}')}" for T in horizons if T in curve]
        lines.append(f"  m*(T) {mode:<12} " + ", ".join(cells))
    return lines


def format_table(summary: dict) -> str:
    """A short text table of thresholds and exponents for the terminal."""
    lines = [
        f"criterion: {summary['criterion_metric']} > "
        f"{_num(summary['criterion_threshold'], '{:.4g}')} "
        f"(lambda0 = {_num(summary['lambda0'], '{:.4g}')}), "
        f"horizon {summary['horizon_steps']} steps",
        f"{'mode':<13}{'m*(T)':>10}{'95% CI':>18}{'drift exp.':>12}{'T_b exp.':>10}  diverged",
        *_mode_rows(summary),
    ]
    th, beta = summary["theory"], (summary.get("critic_norm_exponent") or {}).get("exponent")
    lines.append(
        f"theory: drift exponent -0.50 (supervised); T_b exponent "
        f"{_num(th['breakdown_time_exponent_adversarial'], '{:+.2f}')} (adversarial, from the "
        f"measured critic-norm scaling m^{_num(beta, '{:.2f}')})"
    )
    late = summary["breakdown_time_exponent_fit"].get("adversarial_above_supervised_threshold")
    if late and late.get("exponent") is not None and None not in (late.get("ci") or [None]):
        lines.append(
            f"adversarial T_b exponent over widths above the supervised m*: "
            f"{late['exponent']:+.2f} [{late['ci'][0]:+.2f}, {late['ci'][1]:+.2f}] "
            f"({late['points']} runs)"
        )
    mean = summary.get("drift_mean_exponent_fit", {})
    lines.append(
        "mean (not max) per-neuron drift exponent: "
        + (", ".join(f"{k} {_num(v.get('exponent'), '{:+.2f}')}" for k, v in mean.items()) or "n/a")
    )
    total = sum(c["runs"] for c in summary.get("diverged", {}).values()) or len(summary["runs"])
    wall = summary.get("wall_seconds")
    lines.append(
        f"compiles: {summary.get('compiles', 'n/a')}, padded/exact FLOPs "
        f"{_num(summary.get('padding_overhead'), '{:.2f}')}, diverged runs: "
        f"{summary.get('diverged_runs', 0)}/{total}, wall {_num(wall, '{:.0f}s')}"
    )
    return "\n".join(lines)
