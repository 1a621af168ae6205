"""The breakdown analysis of a set of runs: every statistic a width sweep (or a search) reports,
as plain JSON, from the runs' flat arrays (``GridResult.flat()`` or ``SearchResult.runs``).

Per mode (a lambda_adv value; 0 is supervised) and criterion:

- ``m*(T)`` at every logged T with its calibrated paired-seed interval, one-sided beyond the
  grid (``breakdown.estimate_threshold``), and how it moves from the reference horizon (1% of
  the last) to the last (``breakdown.threshold_change``: a count when no run changed status);
- the outcomes at the horizon (broken, unbroken, diverged), Kaplan-Meier survival of T_b per
  width, the censored T_b exponent above the supervised m* (profile likelihood);
- the law ``D(T) ~ C(T) m^(-alpha(T))`` of the criterion's metric at each reported horizon
  (``law.fit_law``), its threshold at the criterion's level checked against the isotonic one,
  and ``m*(T) ~ T^beta`` (``law.horizon_law``);
- against the supervised mode: the ratio ``m*_mode / m*_sup`` at several levels theta from the
  laws (paired seed bootstrap), and from the isotonic fits at the criterion's level.

Host-side NumPy; nothing here trains. ``experiments/sweep_report.py`` formats the result.
"""

import math
from typing import NamedTuple

import numpy as np

from prd_jax import breakdown, law
from prd_jax.results import json_ready

# m*(T) at the horizon is compared with m*(T) at this fraction of the horizon.
REFERENCE_FRACTION = 0.01
# A law threshold agrees with the isotonic one when within this many octaves.
LAW_TOLERANCE_OCTAVES = 0.5


def mode_names(lambdas) -> dict[float, str]:
    """``{lambda_adv: name}``: ``supervised`` for 0, ``adversarial`` when one other value, else
    ``lambda_adv=<value>``."""
    values = sorted({float(v) for v in np.asarray(lambdas).ravel()})
    others = [v for v in values if v != 0.0]
    names = {}
    for v in values:
        if v == 0.0:
            names[v] = "supervised"
        elif len(others) == 1:
            names[v] = "adversarial"
        else:
            names[v] = f"lambda_adv={v:g}"
    return names


def reference_step(log_steps) -> int:
    """The logged step nearest REFERENCE_FRACTION x the horizon (> 0)."""
    steps = np.asarray(log_steps)
    later = steps[steps > 0]
    target = REFERENCE_FRACTION * steps[-1]
    return int(later[np.argmin(np.abs(np.log(later) - np.log(target)))])


def threshold_json(th: breakdown.Threshold, step: int | None = None) -> dict:
    """A threshold as JSON: the number (None beyond the grid), its one-sided bound, the texts
    and, per width, the counts and the fit."""
    point, interval = breakdown.describe_threshold(th)
    lo, hi = th.ci
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = th.broken / th.runs
    out = {
        "step": step,
        "m_star": th.m_star if th.position == breakdown.INSIDE else None,
        "position": th.position,
        "bound": th.bound if th.position in (breakdown.ABOVE, breakdown.BELOW) else None,
        "one_sided": {breakdown.ABOVE: ">", breakdown.BELOW: "<"}.get(th.position),
        "ci": [lo if 0 < lo < math.inf else None, hi if 0 < hi < math.inf else None],
        "ci_beyond_grid": [lo == 0.0, hi == math.inf],
        "text": point,
        "ci_text": interval,
        "level": th.level,
        "seeds": th.seeds,
        "coverage_note": breakdown.interval_coverage_note(max(th.seeds, 1)),
        "estimator": "isotonic fit of P(broken by T | log m), crossing 1/2; calibrated "
        "percentile interval of a bootstrap over seeds paired across widths",
        "runs": int(th.runs.sum()),
        "widths": th.widths.tolist(),
        "runs_per_width": th.runs.astype(int).tolist(),
        "broken_per_width": th.broken.astype(int).tolist(),
        "fraction_broken": fraction,
        "fitted": th.fitted,
        "fitted_ci": th.fitted_ci,
        "dropped_widths": list(th.dropped_widths),
    }
    return json_ready(out)


def change_json(change: breakdown.Change, ref: int, step: int, mode: str) -> dict:
    """How m* moves between two horizons, as JSON with its sentence."""
    lo, hi = change.ci
    rate = f"{100 * change.upper_rate:.1f}%" if math.isfinite(change.upper_rate) else "n/a"
    count = (
        f"{change.changed} of {change.at_risk} runs unbroken at T = {ref} broke by T = {step} "
        f"(one-sided 95% upper bound {rate} per run)"
    )
    if change.kind == "no_change":
        text = f"{mode} m*(T) is the same at T = {ref} and T = {step}: {count}"
    elif change.kind == "not_measurable":
        text = f"{mode} m*(T) lies beyond the same edge of the grid at T = {ref} and T = {step}"
        text += f": the grid cannot show a change ({count})"
    else:
        sign = {"value": "", "at_least": "> ", "at_most": "< "}[change.kind]
        band = (
            f"95% interval [{lo:+.2f}, {hi:+.2f}]"
            if change.kind == "value" and math.isfinite(lo) and math.isfinite(hi)
            else f"95% lower end {lo:+.2f}"
            if change.kind == "at_least" and math.isfinite(lo)
            else f"95% upper end {hi:+.2f}"
            if change.kind == "at_most" and math.isfinite(hi)
            else "every bootstrap replicate agrees: no interval"
        )
        text = (
            f"{mode} m*(T) moves by {sign}{change.octaves:+.2f} octaves from T = {ref} to "
            f"T = {step} ({band}; {count})"
        )
    return json_ready(
        {"ref_step": ref, "step": step, **change._asdict(), "text": text, "ci": [lo, hi]}
    )


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


def breakdown_intervals(t_b, log_steps, horizon):
    """Per run: ``(observed, t_high, t_low)`` for the censored fit. A breakdown first seen at
    log step t_k happened in (t_(k-1), t_k]; an unbroken run is censored at the horizon."""
    log_steps = np.asarray(log_steps, np.float64)
    observed = np.isfinite(t_b) & (t_b <= horizon)
    t_high = np.where(observed, t_b, horizon)
    k = np.searchsorted(log_steps, np.where(observed, t_b, horizon))
    t_low = np.where(observed & (k > 0), log_steps[np.maximum(k - 1, 0)], 0.0)
    return observed, t_high, t_low


def law_json(fit: law.LawFit) -> dict:
    return json_ready({k: v for k, v in fit._asdict().items() if k != "boots"})


def _ratio_json(value, ci, theta, label) -> dict:
    return json_ready({"theta": theta, "label": label, "ratio": value, "ci": list(ci)})


def _isotonic_ratio(a: breakdown.Threshold, b: breakdown.Threshold, level) -> dict:
    """``m*_a / m*_b`` from two thresholds bootstrapped with the same picks over the same seed
    ids; one-sided when either lies beyond its grid."""

    def clipped(th, m):
        lo, hi = float(th.widths[0]), float(th.widths[-1])
        return np.clip(np.asarray(m, np.float64), lo, hi)

    kind = "value"
    if a.position == breakdown.ABOVE or b.position == breakdown.BELOW:
        kind = "at_least"
    if a.position == breakdown.BELOW or b.position == breakdown.ABOVE:
        kind = "at_most" if kind == "value" else "not_measurable"
    if breakdown.FLAT in (a.position, b.position):
        kind = "not_measurable"
    value = float(clipped(a, a.m_star) / clipped(b, b.m_star))
    r = min(len(a.boots), len(b.boots))
    with np.errstate(invalid="ignore", divide="ignore"):
        rb = clipped(a, a.boots[:r]) / clipped(b, b.boots[:r])
    rb = rb[np.isfinite(rb)]
    tail = (1 - level) / 2
    lo, hi = np.quantile(rb, [tail, 1 - tail]) if rb.size else (math.nan, math.nan)
    if kind == "at_least":
        hi = math.inf
    elif kind == "at_most":
        lo = 0.0
    elif kind == "value" and lo == hi:  # every replicate agrees: a degenerate interval
        kind = "degenerate"
    sign = {"at_least": "> ", "at_most": "< "}.get(kind, "")
    text = (
        "not measurable (both beyond the same edge of the grid)"
        if kind == "not_measurable"
        else f"{value:.2f} (every bootstrap replicate gives it: no interval)"
        if kind == "degenerate"
        else f"{sign}{value:.2f} [{lo:.2f}, {hi:.2f}]"
        if kind == "value"
        else f"{sign}{value:.2f} (95% {'lower' if kind == 'at_least' else 'upper'} end "
        f"{lo if kind == 'at_least' else hi:.2f})"
    )
    return json_ready({"kind": kind, "ratio": value, "ci": [lo, hi], "text": text})


def analyze(
    runs: dict,
    log_steps,
    *,
    criteria: dict,
    primary: str,
    horizons,
    thetas: dict | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Every statistic of a sweep's runs, as JSON.

    Args:
      runs: flat arrays (``run_width``, ``run_seed``, ``run_lambda_adv``, ``diverged`` and the
        metrics ``(B, L)``).
      log_steps: ``(L,)`` logged steps.
      criteria: ``{name: (metric, threshold)}``; ``primary`` names the one everything is
        reported under (the others get m* and the ratio, side by side).
      horizons: the reported horizons (the last is the horizon).
      thetas: ``{label: level}`` of the primary metric at which the laws give m* and the ratio
        to the supervised mode (default: the criterion's threshold only).
      n_boot: bootstrap replicates (the same picks for every horizon of a mode, and one set
        over the union of the seeds for the cross-mode ratios).
    """
    sw = _sweep(runs, log_steps, criteria, primary, horizons, n_boot, seed)
    thetas = thetas or {"criterion": criteria[primary][1]}
    out = {"modes": {}, "names": {sw.names[v]: v for v in sw.names}, "reference_step": sw.ref}
    est, est_u, fits = {}, {}, {}
    for v, name in sw.names.items():
        sel = sw.lam == v
        picks = breakdown.bootstrap_picks(
            len(np.unique(sw.seed[sel])), n_boot, np.random.default_rng(seed)
        )
        rec = _mode_record(sw, sel, picks, est, est_u, fits, name, v)
        out["modes"][name] = rec
    sup = "supervised" if "supervised" in est else None
    for name, rec in out["modes"].items():
        if name != sup and name in est and sup is not None:
            rec |= _ratios(sw, est, est_u, fits, name, sup, thetas)
    m_sup = est[sup][sw.horizon] if sup else None
    for name, rec in out["modes"].items():
        if name in est:
            rec["breakdown_time_exponent"] = _late_exponent(sw, names_inv(sw.names, name), m_sup)
    return json_ready(out)


class _Sweep(NamedTuple):
    """The arrays and constants every part of ``analyze`` reads."""

    runs: dict
    log_steps: np.ndarray
    horizon: int
    horizons: list
    ref: int
    lam: np.ndarray
    width: np.ndarray
    seed: np.ndarray
    diverged: np.ndarray
    names: dict
    criteria: dict
    primary: str
    t_b: dict  # {criterion: (B,) breakdown steps}
    universe: np.ndarray  # every seed id, for the paired cross-mode bootstrap
    picks_u: np.ndarray
    idx: dict  # {horizon: index into log_steps}
    running_max: np.ndarray  # (B, L) of the primary metric


def _sweep(runs, log_steps, criteria, primary, horizons, n_boot, seed) -> _Sweep:
    log_steps = np.asarray(log_steps)
    seeds = np.asarray(runs["run_seed"])
    universe = np.unique(seeds)
    lam = np.asarray(runs["run_lambda_adv"], np.float64)
    return _Sweep(
        runs=runs,
        log_steps=log_steps,
        horizon=int(log_steps[-1]),
        horizons=[int(T) for T in horizons],
        ref=reference_step(log_steps),
        lam=lam,
        width=np.asarray(runs["run_width"]),
        seed=seeds,
        diverged=np.asarray(runs["diverged"], bool),
        names=mode_names(lam),
        criteria=criteria,
        primary=primary,
        t_b={c: breakdown.breakdown_steps(runs[m], log_steps, t) for c, (m, t) in criteria.items()},
        universe=universe,
        picks_u=breakdown.bootstrap_picks(len(universe), n_boot, np.random.default_rng(seed + 1)),
        idx={int(T): int(np.searchsorted(log_steps, T)) for T in horizons},
        running_max=law.running_max(runs[criteria[primary][0]]),
    )


def _mode_record(sw: _Sweep, sel, picks, est, est_u, fits, name, v) -> dict:
    """One mode's record: outcomes, m* at every log step and its change, survival, the law at
    every horizon and its check against the isotonic m*, beta, and m* under every criterion.
    Fills ``est``, ``est_u`` and ``fits`` for the cross-mode part."""
    w, s, d = sw.width[sel], sw.seed[sel], sw.diverged[sel]
    tb, horizon = sw.t_b[sw.primary][sel], sw.horizon
    rec = {
        "lambda_adv": v,
        "outcomes": {
            "runs": int(sel.sum()),
            "broken": int(((tb <= horizon) & ~d).sum()),
            "censored": int((~(tb <= horizon) & ~d).sum()),
            "diverged": int(d.sum()),
        },
    }
    if d.all():
        return rec | {"all_diverged": True}
    curve, per_t = [], {}
    for T in sw.log_steps[sw.log_steps > 0]:
        th = breakdown.estimate_threshold(w, s, tb <= T, ~d, picks=picks)
        per_t[int(T)] = th
        curve.append({k: v2 for k, v2 in threshold_json(th, int(T)).items() if k in _CURVE_KEYS})
    est[name] = per_t
    est_u[name] = breakdown.estimate_threshold(
        w, s, tb <= horizon, ~d, picks=sw.picks_u, seed_ids=sw.universe
    )
    unbroken_ref = ~(tb <= sw.ref) & ~d
    changed = int((unbroken_ref & (tb <= horizon)).sum())
    change = breakdown.threshold_change(
        per_t[sw.ref], per_t[horizon], changed, int(unbroken_ref.sum())
    )
    fits[name] = {
        T: law.fit_law(
            w, s, sw.running_max[sel][:, sw.idx[T]], T, picks=sw.picks_u, seed_ids=sw.universe
        )
        for T in sw.horizons
    }
    boots_h = np.stack([per_t[T].boots for T in sw.horizons], axis=1)
    beta = law.horizon_law(
        sw.horizons, [per_t[T].m_star if per_t[T].position == "inside" else math.nan
                      for T in sw.horizons], boots_h, level=per_t[horizon].level,
    )  # fmt: skip
    crit = {
        c: threshold_json(
            breakdown.estimate_threshold(w, s, sw.t_b[c][sel] <= horizon, ~d, picks=picks),
            horizon,
        )
        for c in sw.criteria
    }
    return rec | {
        "threshold": threshold_json(per_t[horizon], horizon),
        "threshold_vs_horizon": curve,
        "change": change_json(change, sw.ref, horizon, name),
        "survival": survival_by_width(w, tb, d, horizon),
        "law": [law_json(fits[name][T]) for T in sw.horizons],
        "law_check": _law_check(fits[name], per_t, sw.horizons, sw.criteria[sw.primary][1]),
        "beta": json_ready(beta._asdict()),
        "criteria": crit,
    }


def _law_check(fits: dict, per_t: dict, horizons, thr) -> list[dict]:
    """The law's m* against the isotonic m* at every horizon (octaves apart where both exist)."""
    checks = []
    for T in horizons:
        m_law = float(law.law_threshold(fits[T].log_c, fits[T].alpha, thr))
        th = per_t[T]
        ok = th.position == breakdown.INSIDE and math.isfinite(m_law) and m_law > 0
        checks.append(
            {
                "step": T,
                "m_law": m_law if math.isfinite(m_law) else None,
                "m_isotonic": th.m_star if th.position == breakdown.INSIDE else None,
                "octaves_apart": abs(math.log2(m_law / th.m_star)) if ok else None,
            }
        )
    return checks


def _ratios(sw: _Sweep, est, est_u, fits, name, sup, thetas) -> dict:
    """A mode against supervision: the ratio of thresholds from the laws (several theta) and
    from the isotonic fits (paired bootstrap over the union of the seeds), per criterion."""
    sel_a, sel_s = sw.lam == names_inv(sw.names, name), sw.lam == 0.0
    level = est[name][sw.horizon].level
    metric = sw.criteria[sw.primary][0]

    def paired(tb_all, sel):
        return breakdown.estimate_threshold(
            sw.width[sel], sw.seed[sel], tb_all[sel] <= sw.horizon, ~sw.diverged[sel],
            picks=sw.picks_u, seed_ids=sw.universe,
        )  # fmt: skip

    by_theta = []
    for k, t in thetas.items():
        tb_t = breakdown.breakdown_steps(sw.runs[metric], sw.log_steps, t)
        ta, ts = paired(tb_t, sel_a), paired(tb_t, sel_s)
        law_ratio = law.threshold_ratio(fits[name][sw.horizon], fits[sup][sw.horizon], t)
        by_theta.append(
            {
                "label": k,
                "theta": t,
                "m_star": {
                    name: breakdown.describe_threshold(ta),
                    sup: breakdown.describe_threshold(ts),
                },
                "isotonic": _isotonic_ratio(ta, ts, level),
                "law": _ratio_json(*law_ratio, t, k),
            }
        )
    return {
        "ratio_by_theta": by_theta,
        "ratio_isotonic": _isotonic_ratio(est_u[name], est_u[sup], level),
        "ratio_by_criterion": {
            c: _isotonic_ratio(paired(sw.t_b[c], sel_a), paired(sw.t_b[c], sel_s), level)
            for c in sw.criteria
        },
    }


def _late_exponent(sw: _Sweep, v: float, m_sup) -> dict:
    """The censored T_b exponent where the fitting phase alone breaks nothing: above m*_sup."""
    floor = m_sup.m_star if m_sup is not None and m_sup.position == breakdown.INSIDE else None
    if m_sup is not None and m_sup.position == breakdown.BELOW:
        floor = 0.0
    late = (sw.lam == v) & ~sw.diverged & (sw.width > (floor if floor is not None else math.inf))
    observed, t_hi, t_lo = breakdown_intervals(sw.t_b[sw.primary][late], sw.log_steps, sw.horizon)
    fit = breakdown.fit_censored_power_law(sw.width[late], t_hi, observed, t_lo)
    return breakdown.censored_fit_json(fit) | {
        "min_width": floor,
        "restriction": "widths above the supervised m* at the horizon",
    }


_CURVE_KEYS = ("step", "m_star", "position", "bound", "ci", "ci_beyond_grid", "text", "ci_text")


def names_inv(names: dict, name: str) -> float:
    """The lambda_adv of a mode name."""
    return next(v for v, n in names.items() if n == name)
