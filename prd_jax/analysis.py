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
    log_steps = np.asarray(log_steps)
    horizon = int(log_steps[-1])
    horizons = [int(T) for T in horizons]
    ref = reference_step(log_steps)
    lam = np.asarray(runs["run_lambda_adv"], np.float64)
    width = np.asarray(runs["run_width"])
    seed = np.asarray(runs["run_seed"])
    diverged = np.asarray(runs["diverged"], bool)
    names = mode_names(lam)
    metric, thr = criteria[primary]
    thetas = thetas or {"criterion": thr}
    t_b = {c: breakdown.breakdown_steps(runs[m], log_steps, t) for c, (m, t) in criteria.items()}
    universe = np.unique(seed)
    picks_u = breakdown.bootstrap_picks(len(universe), n_boot, np.random.default_rng(seed + 1))
    idx = {int(T): int(np.searchsorted(log_steps, T)) for T in horizons}
    D = law.running_max(runs[metric])
    out = {"modes": {}, "names": {names[v]: v for v in names}, "reference_step": ref}
    est, est_u, fits = {}, {}, {}
    for v, name in names.items():
        sel = lam == v
        w, s, d = width[sel], seed[sel], diverged[sel]
        tb = t_b[primary][sel]
        picks = breakdown.bootstrap_picks(len(np.unique(s)), n_boot, np.random.default_rng(seed))
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
            out["modes"][name] = rec | {"all_diverged": True}
            continue
        curve, per_t = [], {}
        for T in log_steps[log_steps > 0]:
            th = breakdown.estimate_threshold(w, s, tb <= T, ~d, picks=picks)
            per_t[int(T)] = th
            curve.append(
                {k: v2 for k, v2 in threshold_json(th, int(T)).items() if k in _CURVE_KEYS}
            )
        est[name] = per_t
        est_u[name] = breakdown.estimate_threshold(
            w, s, tb <= horizon, ~d, picks=picks_u, seed_ids=universe
        )
        at_ref = per_t[ref]
        unbroken_ref = ~(tb <= ref) & ~d
        changed = int((unbroken_ref & (tb <= horizon)).sum())
        change = breakdown.threshold_change(
            at_ref, per_t[horizon], changed, int(unbroken_ref.sum())
        )
        fits[name] = {
            T: law.fit_law(w, s, D[sel][:, idx[T]], T, picks=picks_u, seed_ids=universe)
            for T in horizons
        }
        law_check = []
        for T in horizons:
            m_law = float(law.law_threshold(fits[name][T].log_c, fits[name][T].alpha, thr))
            th = per_t[T]
            ok = th.position == breakdown.INSIDE and math.isfinite(m_law) and m_law > 0
            law_check.append(
                {
                    "step": T,
                    "m_law": m_law if math.isfinite(m_law) else None,
                    "m_isotonic": th.m_star if th.position == breakdown.INSIDE else None,
                    "octaves_apart": abs(math.log2(m_law / th.m_star)) if ok else None,
                }
            )
        boots_h = np.stack([per_t[T].boots for T in horizons], axis=1)
        beta = law.horizon_law(
            horizons, [per_t[T].m_star if per_t[T].position == "inside" else math.nan
                       for T in horizons], boots_h, level=per_t[horizon].level,
        )  # fmt: skip
        rec |= {
            "threshold": threshold_json(per_t[horizon], horizon),
            "threshold_vs_horizon": curve,
            "change": change_json(change, ref, horizon, name),
            "survival": survival_by_width(w, tb, d, horizon),
            "law": [law_json(fits[name][T]) for T in horizons],
            "law_check": law_check,
            "beta": json_ready(beta._asdict()),
            "criteria": {
                c: threshold_json(
                    breakdown.estimate_threshold(w, s, t_b[c][sel] <= horizon, ~d, picks=picks),
                    horizon,
                )
                for c in criteria
            },
        }
        out["modes"][name] = rec
    # Against supervision: ratios from the laws (several theta) and from the isotonic fits.
    sup = "supervised" if "supervised" in est else None
    m_sup = est[sup][horizon] if sup else None
    for name, rec in out["modes"].items():
        if name == sup or name not in est or sup is None:
            continue
        sel_a, sel_s = lam == names_inv(names, name), lam == 0.0
        level = est[name][horizon].level

        def paired(tb_all, sel):
            return breakdown.estimate_threshold(
                width[sel], seed[sel], tb_all[sel] <= horizon, ~diverged[sel], picks=picks_u,
                seed_ids=universe,
            )  # fmt: skip

        rec["ratio_by_theta"] = []
        for k, t in thetas.items():
            tb_t = breakdown.breakdown_steps(runs[metric], log_steps, t)
            ta, ts = paired(tb_t, sel_a), paired(tb_t, sel_s)
            rec["ratio_by_theta"].append(
                {
                    "label": k,
                    "theta": t,
                    "m_star": {
                        name: breakdown.describe_threshold(ta),
                        sup: breakdown.describe_threshold(ts),
                    },  # fmt: skip
                    "isotonic": _isotonic_ratio(ta, ts, level),
                    "law": _ratio_json(
                        *law.threshold_ratio(fits[name][horizon], fits[sup][horizon], t), t, k
                    ),
                }
            )
        rec["ratio_isotonic"] = _isotonic_ratio(est_u[name], est_u[sup], level)
        rec["ratio_by_criterion"] = {
            c: _isotonic_ratio(paired(t_b[c], sel_a), paired(t_b[c], sel_s), level)
            for c in criteria
        }
    # The censored T_b exponent where the fitting phase alone breaks nothing: above m*_sup.
    floor = m_sup.m_star if m_sup is not None and m_sup.position == breakdown.INSIDE else None
    if m_sup is not None and m_sup.position == breakdown.BELOW:
        floor = 0.0
    for name, rec in out["modes"].items():
        if name not in est:
            continue
        v = names_inv(names, name)
        late = (lam == v) & ~diverged & (width > (floor if floor is not None else math.inf))
        observed, t_hi, t_lo = breakdown_intervals(t_b[primary][late], log_steps, horizon)
        fit = breakdown.fit_censored_power_law(width[late], t_hi, observed, t_lo)
        rec["breakdown_time_exponent"] = breakdown.censored_fit_json(fit) | {
            "min_width": floor,
            "restriction": "widths above the supervised m* at the horizon",
        }
    return json_ready(out)


_CURVE_KEYS = ("step", "m_star", "position", "bound", "ci", "ci_beyond_grid", "text", "ci_text")


def names_inv(names: dict, name: str) -> float:
    """The lambda_adv of a mode name."""
    return next(v for v, n in names.items() if n == name)
