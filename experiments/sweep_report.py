"""The width sweep's report: from the runs' arrays (``prd_jax.breakdown``) to the summary, its
claims and the terminal table.

Per mode (supervised: lambda_adv = 0; adversarial) and horizon T, every run has one of three
outcomes: broken by T, unbroken at T (censored there), or diverged (no outcome: counted, never
folded into the other two). From these:

- ``m*(T)``: the isotonic fit of P(broken by T | log m) over all runs, crossing 1/2, with a
  bootstrap over seeds paired across widths (the same resamples at every horizon and in both
  modes, so differences between horizons are paired too);
- breakdown time: a Kaplan-Meier curve per width and its median with an interval, and a
  censored log-normal fit of T_b against m (all widths, and for the adversarial mode the widths
  above the supervised m*, where the fitting phase alone does not break runs);
- claims (``prd_jax.claims``): findings with intervals, and one comparison over seeds.
"""

import math

import numpy as np

from prd_jax import breakdown, claims, theory
from prd_jax.breakdown import censored_fit_json, fit_json, fit_power_law, mode_of
from prd_jax.results import json_ready

MODES = ("supervised", "adversarial")
# m*(T) at the horizon is compared with m*(T) at REFERENCE_FRACTION x the horizon.
REFERENCE_FRACTION = 0.01
# Bootstrap resamples of the censored breakdown-time fit (an optimisation each).
CENSORED_BOOT = 200


def _fit(x, y, n_boot):
    return fit_json(fit_power_law(x, y, bootstrap=n_boot))


def _num_or_none(x):
    return float(x) if x is not None and math.isfinite(x) else None


def threshold_json(th: breakdown.Threshold) -> dict:
    """A ``breakdown.Threshold`` as JSON (``m_star`` None: no width of the grid holds)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = th.broken / th.runs
    return json_ready(
        {
            "m_star": th.m_star,
            "ci": list(th.ci),
            "position": th.position,
            "estimator": "isotonic fit of P(broken by T | log m), crossing 1/2; "
            "percentile interval of a bootstrap over seeds paired across widths",
            "runs": int(th.runs.sum()),
            "widths": th.widths.tolist(),
            "runs_per_width": th.runs.astype(int).tolist(),
            "broken_per_width": th.broken.astype(int).tolist(),
            "fraction_broken": fraction,
            "fitted": th.fitted,
            "fitted_ci": th.fitted_ci,
        }
    )


def breakdown_intervals(t_b, log_steps, horizon):
    """Per run: ``(observed, t_high, t_low)`` for the censored fit. A breakdown first seen at
    log step t_k happened in (t_(k-1), t_k]; an unbroken run is censored at the horizon."""
    log_steps = np.asarray(log_steps, np.float64)
    observed = np.isfinite(t_b) & (t_b <= horizon)
    t_high = np.where(observed, t_b, horizon)
    k = np.searchsorted(log_steps, np.where(observed, t_b, horizon))
    t_low = np.where(observed & (k > 0), log_steps[np.maximum(k - 1, 0)], 0.0)
    return observed, t_high, t_low


def survival_by_width(width, t_b, diverged, horizon) -> list[dict]:
    """Kaplan-Meier curve and median breakdown time per width (diverged runs counted apart)."""
    out = []
    for w in np.unique(width):
        at = width == w
        ok = at & ~diverged
        observed = np.isfinite(t_b[ok]) & (t_b[ok] <= horizon)
        times = np.where(observed, t_b[ok], horizon)
        km = breakdown.kaplan_meier(times, observed)
        median, lo, hi = breakdown.km_median(km)
        out.append(
            {
                "width": int(w),
                "runs": int(at.sum()),
                "broken": int(observed.sum()),
                "censored": int((~observed).sum()),
                "diverged": int((at & diverged).sum()),
                "median": median,  # None (JSON): more than half unbroken at the horizon
                "median_ci": [lo, hi],
                "km": {"t": km.times, "S": km.survival, "lo": km.lower, "hi": km.upper},
            }
        )
    return json_ready(out)


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


def reference_step(log_steps) -> int:
    """The logged step nearest REFERENCE_FRACTION x the horizon (> 0)."""
    steps = np.asarray(log_steps)
    later = steps[steps > 0]
    target = REFERENCE_FRACTION * steps[-1]
    return int(later[np.argmin(np.abs(np.log(later) - np.log(target)))])


def summarize(cfg, runs: dict, log_steps, spectrum, extra=None) -> dict:
    """Thresholds, survival, exponents, claims and per-run records from the flat runs
    (``GridResult.flat()``), for ``summary.json``."""
    lambda0 = float(spectrum.lambda0)
    thr = breakdown.criterion_threshold(
        cfg.criterion, lambda0, cfg.n, cfg.delta, cfg.radius_c, cfg.rel_threshold
    )
    metric = breakdown.CRITERIA[cfg.criterion]
    t_b = breakdown.breakdown_steps(runs[metric], log_steps, thr)
    diverged = runs["diverged"].astype(bool)
    modes, width, seed = mode_of(runs["run_lambda_adv"]), runs["run_width"], runs["run_seed"]
    log_steps = np.asarray(log_steps)
    horizon = int(log_steps[-1])
    picks = breakdown.bootstrap_picks(len(np.unique(seed)), cfg.bootstrap)
    ref_step = reference_step(log_steps)
    threshold, by_horizon, survival, outcomes, estimates = {}, {}, {}, {}, {}
    drift_exp, mean_exp, tb_exp, tb_exp_all, median_exp = {}, {}, {}, {}, {}
    for mode in MODES:
        is_mode = modes == mode
        sel = is_mode & ~diverged
        broken_by_h = sel & (t_b <= horizon)
        outcomes[mode] = {
            "runs": int(is_mode.sum()),
            "broken": int(broken_by_h.sum()),
            "censored": int((sel & ~(t_b <= horizon)).sum()),
            "diverged": int((is_mode & diverged).sum()),
        }
        if not sel.any():  # every run of this mode diverged (or there are none)
            threshold[mode] = {"m_star": None, "ci": [None, None], "runs": 0, "widths": []}
            continue
        w, s, t, d = width[is_mode], seed[is_mode], t_b[is_mode], diverged[is_mode]
        curve, per_t = [], {}
        for T in log_steps[log_steps > 0]:
            est = breakdown.estimate_threshold(w, s, t <= T, ~d, picks=picks)
            per_t[int(T)] = est
            curve.append(
                {"step": int(T), "m_star": est.m_star, "ci": list(est.ci), "position": est.position}
            )
        estimates[mode] = per_t
        threshold[mode] = threshold_json(per_t[horizon])
        by_horizon[mode] = json_ready(curve)
        survival[mode] = survival_by_width(w, t, d, horizon)
        drift_exp[mode] = _fit(width[sel], runs["drift_max"][sel, -1], cfg.bootstrap)
        mean_exp[mode] = _fit(width[sel], runs["drift_mean"][sel, -1], cfg.bootstrap)
        observed, t_hi, t_lo = breakdown_intervals(t_b[sel], log_steps, horizon)
        tb_exp_all[mode] = censored_fit_json(
            breakdown.fit_censored_power_law(
                width[sel], t_hi, observed, t_lo, groups=seed[sel], n_boot=CENSORED_BOOT
            )
        )
    # The breakdown-time exponent is fitted where the fitting phase alone does not break runs:
    # widths above the supervised m* at the horizon; unbroken runs there are censored, not
    # dropped. (The all-widths fit mixes breakdowns in the first steps with late ones.)
    m_sup = threshold.get("supervised", {}).get("m_star")
    above = width > (m_sup if m_sup is not None else np.inf)
    for mode in survival:
        late = (modes == mode) & ~diverged & above
        observed, t_hi, t_lo = breakdown_intervals(t_b[late], log_steps, horizon)
        fit = breakdown.fit_censored_power_law(
            width[late], t_hi, observed, t_lo, groups=seed[late], n_boot=CENSORED_BOOT
        )
        tb_exp[mode] = censored_fit_json(fit) | {"min_width": _num_or_none(m_sup)}
        medians = [
            (r["width"], r["median"])
            for r in survival[mode]
            if r["median"] is not None and r["width"] > (m_sup if m_sup is not None else np.inf)
        ]
        median_exp[mode] = _fit(*zip(*medians, strict=True), 0) if len(medians) >= 2 else None
    adv = (modes == "adversarial") & ~diverged
    critic_scaling = _fit(width[adv], runs["critic_norm"][adv, -1], cfg.bootstrap)
    summary = {
        "criterion": cfg.criterion,
        "criterion_metric": metric,
        "criterion_threshold": thr,
        "lambda0": lambda0,
        "lambda_max": float(spectrum.lambda_max),
        "kappa_inf": float(spectrum.kappa),
        "horizon_steps": horizon,
        "reference_step": ref_step,
        "seeds": int(len(np.unique(seed))),
        "outcomes": outcomes,
        "diverged": {
            m: {"diverged": o["diverged"], "runs": o["runs"]} for m, o in outcomes.items()
        },
        "threshold": threshold,
        "threshold_vs_horizon": by_horizon,
        "survival": survival,
        "drift_exponent": {k: v["exponent"] for k, v in drift_exp.items()},
        "drift_exponent_fit": drift_exp,
        "drift_mean_exponent_fit": mean_exp,
        "breakdown_time_exponent": {k: v["exponent"] for k, v in tb_exp.items()},
        "breakdown_time_exponent_fit": tb_exp,
        "breakdown_time_exponent_restriction": "widths above the supervised m* at the horizon",
        "breakdown_time_exponent_fit_all_widths": tb_exp_all,
        "breakdown_time_median_exponent_fit": median_exp,
        "critic_norm_exponent": critic_scaling,
        "theory": theory_note(critic_scaling["exponent"]),
        "runs": run_records(runs, t_b, diverged),
    }
    summary.update(extra or {})
    summary["claims"] = sweep_claims(cfg, summary, estimates, width, seed, modes, t_b, diverged)
    return json_ready(summary)


# ----------------------------------------------------------------------------- claims


def claim_setting(cfg, summary) -> dict:
    """The hypotheses in force in every run of the sweep, as JSON scalars."""
    train = cfg.train
    lrs = summary.get("lrs") or [None]
    return {
        "d_out": cfg.d_out,
        "train": "U,V" if train.train_v else "U",
        "critic": train.critic,
        "critic_optimizer": train.critic_optimizer,
        "critic_radius": train.critic_radius,
        "lr": lrs[0] if len(lrs) == 1 else ",".join(f"{v:.4g}" for v in lrs),
        "critic_lr_per_unit_t": train.critic_lr,
        "n_critic": train.n_critic,
        "lambda_adv": ",".join(f"{v:g}" for v in cfg.lambda_adv if v > 0) or "none",
        "steps": train.steps,
        "n": cfg.n,
        "d_in": cfg.d_in,
        "targets": cfg.targets,
        "criterion": f"{summary['criterion_metric']} > {summary['criterion_threshold']:.4g}",
        "m_min": min(cfg.widths),
        "m_max": max(cfg.widths),
        "widths": len(cfg.widths),
        "seeds": summary["seeds"],
    }


def _fmt_width(m, widest) -> str:
    if m is None or not math.isfinite(m):
        return f"> {widest}"
    return f"{m:.0f}"


def _octaves(est_h, est_r, widest) -> tuple[float, tuple[float, float]]:
    """log2(m*(horizon) / m*(reference)) and its paired-bootstrap interval; a threshold above
    the grid counts as twice the widest width (so the change is a lower bound there)."""

    def cap(m):
        return np.log2(np.minimum(np.asarray(m, np.float64), 2.0 * widest))

    value = float(cap(est_h.m_star) - cap(est_r.m_star))
    diffs = cap(est_h.boots) - cap(est_r.boots)
    if diffs.size == 0:
        return value, (math.nan, math.nan)
    return value, (float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975)))


def widths_broken_difference(width, seed, modes, t_b, diverged, horizon):
    """Per seed: widths broken by the horizon under the adversary minus under supervision,
    over the widths where neither run diverged (the same seed gives both modes the same
    initialisation, so the pair is matched). Returns ``(differences, runs used)``."""
    diffs, used = [], 0
    for s in np.unique(seed):
        count = {}
        ok_w = set(np.unique(width))
        for mode in MODES:
            sel = (seed == s) & (modes == mode)
            ok_w &= set(width[sel & ~diverged])
        for mode in MODES:
            sel = (seed == s) & (modes == mode) & np.isin(width, list(ok_w))
            count[mode] = int(np.sum(t_b[sel] <= horizon))
            used += int(sel.sum())
        diffs.append(count["adversarial"] - count["supervised"])
    return np.asarray(diffs, np.float64), used


def sweep_claims(cfg, summary, estimates, width, seed, modes, t_b, diverged) -> list[dict]:
    """The sweep's claim records: m*(T) per mode at the horizon, how m*(T) moves from the
    reference horizon to the last, the censored breakdown-time exponents (findings), and
    adversarial vs supervised breakdowns per seed (a comparison)."""
    setting = claim_setting(cfg, summary)
    horizon, ref = summary["horizon_steps"], summary["reference_step"]
    widest = max(cfg.widths)
    seeds = summary["seeds"]
    boot = "paired seed bootstrap"
    records = []
    for mode in MODES:
        n_div = summary["outcomes"][mode]["diverged"]
        if mode not in estimates:
            records.append(
                claims.finding(
                    f"all_runs_diverged_{mode}",
                    f"every {mode} run diverged ({n_div}/{summary['outcomes'][mode]['runs']}): "
                    "no threshold or breakdown time",
                    n_div,
                    source="beyond the paper",
                    setting=setting,
                    seeds=seeds,
                )
            )
            continue
        est_h, est_r = estimates[mode][horizon], estimates[mode][ref]
        lo, hi = est_h.ci
        records.append(
            claims.finding(
                f"m_star_{mode}",
                f"{mode} m*(T = {horizon} steps) = {_fmt_width(est_h.m_star, widest)}, 95% "
                f"interval [{_fmt_width(lo, widest)}, {_fmt_width(hi, widest)}] (isotonic "
                f"fit of P(broken by T | log m), {boot}; {n_div} diverged runs excluded)",
                est_h.m_star,
                source="beyond the paper (the paper's threshold is an Omega(.) bound)",
                setting=setting,
                interval=est_h.ci,
                seeds=seeds,
                note="m_star null: no width of the grid holds (above the widest width); "
                "equal to the narrowest width: every width holds",
            )
        )
        octaves, (o_lo, o_hi) = _octaves(est_h, est_r, widest)
        same_edge = est_h.position == est_r.position != "inside"
        if ref == horizon:
            text = f"{mode} m*(T): one logged horizon only ({horizon} steps): no change measured"
            octaves, (o_lo, o_hi) = None, (math.nan, math.nan)
        elif same_edge:  # both above the grid, or both at its narrowest width: no change seen
            edge = (
                "above the widest width"
                if est_h.position == "above_grid"
                else ("at or below the narrowest width")
            )
            text = (
                f"{mode} m*(T) is {edge} at both T = {ref} and T = {horizon} steps: the grid "
                "cannot show a change"
            )
            octaves, (o_lo, o_hi) = None, (math.nan, math.nan)
        else:
            text = (
                f"{mode} m*(T) moves by {'at least ' if est_h.m_star == math.inf else ''}"
                f"{octaves:+.2f} octaves from T = {ref} to T = {horizon} "
                f"steps ({_fmt_width(est_r.m_star, widest)} -> "
                f"{_fmt_width(est_h.m_star, widest)}; 95% {boot} [{o_lo:+.2f}, {o_hi:+.2f}]): "
                "an interval containing 0 is consistent with a flat m*(T)"
            )
        records.append(
            claims.finding(
                f"m_star_{mode}_change_in_T",
                text,
                octaves,
                source="Theorems 1-2 suggest m*_sup flat in T and m*_adv rising; beyond the paper",
                setting=setting,
                interval=None if octaves is None else (o_lo, o_hi),
                seeds=seeds,
                note=f"log2 m*(T={horizon}) - log2 m*(T={ref}); a threshold above the grid counts "
                f"as 2 x {widest} (a lower bound on the change)",
            )
        )
    m_sup = summary["threshold"].get("supervised", {}).get("m_star")
    for mode in MODES:
        fit = summary["breakdown_time_exponent_fit"].get(mode)
        if fit is not None:
            what = f"{mode}, widths above the supervised m* ({_fmt_width(m_sup, widest)})"
            records.append(_exponent_finding(f"breakdown_time_exponent_{mode}", what, fit, setting))
    diffs, used = widths_broken_difference(width, seed, modes, t_b, diverged, horizon)
    records.append(
        claims.comparison(
            "adversarial_breaks_at_more_widths",
            f"per seed, more widths are broken by T = {horizon} steps against the critic than "
            "under supervision (adversarial minus supervised count, same initialisation)",
            diffs,
            source="the paper's thesis (Theorem 2: the adversarial term keeps the weights moving)",
            setting=setting,
            direction="greater",
            min_samples=5,
            note=f"{len(cfg.widths)} widths per seed; widths where a run diverged are left out",
        )
    )
    total_div = sum(o["diverged"] for o in summary["outcomes"].values())
    # Findings stay findings and record the count; the comparison is not judged if any diverged.
    marked = claims.mark_diverged(records, total_div)
    return claims.check_unique_ids(marked)


def _exponent_finding(id, what, fit, setting) -> dict:
    exp, ci = fit.get("exponent"), fit.get("ci") or [None, None]
    if exp is None:
        text = (
            f"{what}: breakdown-time exponent not identified (breakdowns at fewer than two "
            f"widths; {fit.get('events', 0)} of {fit.get('runs', 0)} runs broke)"
        )
    else:
        band = "" if None in ci else f", 95% seed bootstrap [{ci[0]:+.2f}, {ci[1]:+.2f}]"
        bound = " (at the fit's bound: only 'steep' is measured)" if fit.get("at_bound") else ""
        text = (
            f"{what}: T_b grows like m^{exp:+.2f}{band}{bound}, censored log-normal fit over "
            f"{fit['runs']} runs ({fit['events']} broke, {fit['runs'] - fit['events']} "
            "censored at the horizon)"
        )
    return claims.finding(
        id,
        text,
        exp,
        source="Theorem 2 (T_b ~ m^(1 - beta) for a critic norm ~ m^beta); beyond the paper",
        setting=setting,
        interval=None if None in ci else ci,
        seeds=setting["seeds"],
        note="log T_b = c + p log m + sigma eps by maximum likelihood; a breakdown is "
        "interval-censored between two log points, an unbroken run right-censored at the horizon",
    )


# ----------------------------------------------------------------------------- theory


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


# ----------------------------------------------------------------------------- the table


def _num(x, fmt="{:.0f}", none="n/a"):
    return none if x is None else fmt.format(x)


def _threshold_cell(m, position, widest, narrowest) -> str:
    if m is None:
        return f"> {widest}"
    if position == "at_or_below_grid":
        return f"<= {narrowest}"
    return f"{m:.0f}"


def _outcome_cell(summary, mode) -> str:
    o = summary.get("outcomes", {}).get(mode)
    if not o or not o["runs"]:
        return "no runs"
    return f"{o['broken']} broken, {o['censored']} unbroken, {o['diverged']}/{o['runs']} diverged"


def _exp_cell(fit) -> str:
    if not fit or fit.get("exponent") is None:
        return "n/a"
    ci = fit.get("ci") or [None, None]
    band = "" if None in ci else f" [{ci[0]:+.2f}, {ci[1]:+.2f}]"
    if fit.get("at_bound"):  # the likelihood runs to the fit's limit: only "steep" is measured
        return f">= {fit['exponent']:+.0f} (too few broke)"
    return f"{fit['exponent']:+.2f}{band}"


def per_octave(widths) -> list[int]:
    """One width per octave (the one nearest each power of 2), for compact lines."""
    widths = sorted(widths)
    picked = []
    for k in range(int(math.log2(widths[0])), int(math.log2(widths[-1])) + 1):
        w = min(widths, key=lambda v: abs(math.log2(v) - k))
        if w not in picked:
            picked.append(w)
    return picked


def _mode_rows(summary) -> list[str]:
    lines = []
    for mode in MODES:
        th = summary["threshold"].get(mode, {})
        o = summary.get("outcomes", {}).get(mode, {})
        if not th.get("widths"):  # every run of this mode diverged (or there are none)
            runs = o.get("runs", 0)
            what = f"all {runs} runs diverged" if runs else "no runs"
            lines.append(f"{mode:<13}{what}: no threshold or breakdown time")
            continue
        widest, narrowest = max(th["widths"]), min(th["widths"])
        ci = th.get("ci", [None, None])
        lo = _threshold_cell(ci[0], None, widest, narrowest)
        hi = "inf" if ci[1] is None else f"{ci[1]:.0f}"
        cell = _threshold_cell(th.get("m_star"), th.get("position"), widest, narrowest)
        lines.append(
            f"{mode:<13}{cell:>9}{'[' + lo + ', ' + hi + ']':>17}"
            f"{_num(summary['drift_exponent'].get(mode), '{:+.2f}'):>8}  "
            f"{_exp_cell(summary['breakdown_time_exponent_fit'].get(mode)):<24}"
            f"{_outcome_cell(summary, mode)}"
        )
    horizons = [10**k for k in range(1, 8) if 10**k < summary["horizon_steps"]]
    horizons.append(summary["horizon_steps"])
    for mode in MODES:
        curve = {c["step"]: c for c in summary["threshold_vs_horizon"].get(mode, [])}
        if not curve:
            continue
        widths = summary["threshold"][mode]["widths"]
        cells = [
            f"T={T}: "
            + _threshold_cell(curve[T]["m_star"], curve[T]["position"], max(widths), min(widths))
            for T in horizons
            if T in curve
        ]
        lines.append(f"  m*(T) {mode:<12} " + ", ".join(cells))
    for mode in MODES:
        rows = {r["width"]: r for r in summary.get("survival", {}).get(mode, [])}
        if not rows:
            continue
        h = summary["horizon_steps"]
        cells = [f"m={w}: {_num(rows[w]['median'], none=f'>{h}')}" for w in per_octave(rows)]
        lines.append(f"  median T_b {mode:<7} " + ", ".join(cells))
    return lines


def format_table(summary: dict) -> str:
    """A short text table: thresholds, exponents, outcomes, medians, claims."""
    n_w = len(summary["threshold"].get("supervised", {}).get("widths") or []) or "n/a"
    lines = [
        f"criterion: {summary['criterion_metric']} > "
        f"{_num(summary['criterion_threshold'], '{:.4g}')} "
        f"(lambda0 = {_num(summary['lambda0'], '{:.4g}')}), "
        f"horizon {summary['horizon_steps']} steps, {summary.get('seeds', 'n/a')} seeds x "
        f"{n_w} widths",
        f"{'mode':<13}{'m*(T)':>9}{'95% CI':>17}{'drift':>8}  {'T_b exp. (censored)':<24}"
        "outcomes at the horizon",
        *_mode_rows(summary),
    ]
    th, beta = summary["theory"], (summary.get("critic_norm_exponent") or {}).get("exponent")
    lines.append(
        f"theory: drift exponent -0.50 (supervised); T_b exponent "
        f"{_num(th['breakdown_time_exponent_adversarial'], '{:+.2f}')} (adversarial, from the "
        f"measured critic-norm scaling m^{_num(beta, '{:.2f}')})"
    )
    fits = summary["breakdown_time_exponent_fit"]
    lines.append(
        "T_b exponent: censored log-normal fit over widths above the supervised m*; "
        + "; ".join(
            f"{mode}: {fits[mode].get('events', 0)} of {fits[mode].get('runs', 0)} runs broke"
            for mode in MODES
            if mode in fits
        )
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
    for rec in summary.get("claims", []):
        lines.append(f"[{rec['verdict']}] {rec['claim']}")
    return "\n".join(lines)
