"""Breakdown of the kernel regime as data: per-run breakdown steps, the threshold width m*(T)
from a monotone fit with a paired bootstrap over seeds, Kaplan-Meier survival of the breakdown
time, a censored power-law fit of it, and the one power-law fit of the package. Small functions
of NumPy arrays (host side, float64).

A run *breaks down* at the first log step where its criterion holds (docs/mathematics.md,
section 4): ``kernel`` (default) ``||H(t) - H(0)||_2 > lambda0 / 4`` (Remark 1), ``drift``
``max_j ||u_j(t) - u_j(0)|| > R = c delta lambda0 / n^2``, or ``relative``
``||U(t) - U(0)||_F / ||U(0)||_F > rel_threshold``. Three outcomes per run and horizon T:
broken by T, not broken by T (censored at T), diverged (neither: counted, never folded into
the other two).

- ``m*(T)``: the width where ``P(broken by T | log m)``, fitted non-increasing in m by
  isotonic regression over all runs, falls to 1/2 (``estimate_threshold``); its interval
  resamples seeds with all their widths (``bootstrap_thresholds``).
- Breakdown time: ``kaplan_meier`` per width (runs unbroken at the horizon are censored there),
  ``km_median`` with a Brookmeyer-Crowley interval, and ``fit_censored_power_law``, a
  log-normal regression ``log T_b = c + p log m + sigma eps`` by maximum likelihood in which a
  breakdown seen at log step t_k is interval-censored in (t_(k-1), t_k] and an unbroken run is
  right-censored at the horizon.
"""

import math
from typing import NamedTuple

import numpy as np

from prd_jax import theory

# Criterion name -> the metric it thresholds.
CRITERIA = {"kernel": "kernel_dev", "drift": "drift_max", "relative": "drift_rel"}


def criterion_threshold(
    criterion: str,
    lambda0: float,
    n: int,
    delta: float = 0.1,
    radius_c: float = 1.0,
    rel_threshold: float = 0.1,
) -> float:
    """The threshold of a criterion on its metric: ``lambda0 / 4``, ``R`` or ``rel_threshold``."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; one of {sorted(CRITERIA)}")
    if criterion == "kernel":
        return lambda0 / 4.0
    if criterion == "drift":
        return float(theory.radius_R(delta, lambda0, n, radius_c))
    return float(rel_threshold)


def mode_of(lambda_adv) -> np.ndarray:
    """``"supervised"`` where lambda_adv == 0, else ``"adversarial"``."""
    return np.where(np.asarray(lambda_adv) == 0, "supervised", "adversarial")


def breakdown_steps(values, log_steps, threshold) -> np.ndarray:
    """First log step at which ``values (B, L)`` exceed ``threshold``; ``inf`` if never."""
    values = np.asarray(values)
    broken = values > threshold
    first = np.argmax(broken, axis=1)
    steps = np.asarray(log_steps, np.float64)[first]
    return np.where(broken.any(axis=1), steps, np.inf)


# ----------------------------------------------------------------------------- m*(T)
#
# Why isotonic regression (and not a logistic or probit fit): P(broken by T | log m) has no
# known shape. Under supervision it drops from 1 to 0 within about an octave, so a logistic fit
# meets complete separation (no maximum-likelihood estimate) whenever the seeds agree, and a
# parametric tail would extrapolate a threshold beyond the widths that were run. The weighted
# least-squares non-increasing fit (the maximum-likelihood monotone fit of a Bernoulli
# probability) needs no shape, pools ties and non-monotone fractions (1, .75, .25, .5 pools
# to 1, .75, .375, .375), and never reports a crossing outside the grid: the threshold is
# interpolated linearly in log m between the two widths where the fit crosses 1/2, and is
# ``inf`` ("no width of the grid holds") or the smallest width ("every width holds") otherwise.


def isotonic_nonincreasing(values, weights) -> np.ndarray:
    """Weighted least-squares non-increasing fit to ``values (..., K)`` along the last axis.

    Uses the min-max formula ``f_i = min_{s <= i} max_{t >= i} A(s, t)`` (``A`` the weighted
    mean of entries ``s..t``; Barlow et al. 1972), vectorised over leading axes (bootstrap
    replicates); O(K^2) per row, meant for the tens of widths of a sweep. Entries of weight 0
    (``values`` may be nan there) take a value between their neighbours' pools; a row whose
    weights are all 0 is nan.

    Args:
      values: ``(..., K)`` observed fractions.
      weights: ``(..., K)`` non-negative weights (run counts), broadcast against ``values``.

    Returns:
      ``(..., K)`` the fitted non-increasing sequence.
    """
    v, w = np.broadcast_arrays(np.asarray(values, np.float64), np.asarray(weights, np.float64))
    v = np.where(w > 0, v, 0.0)
    k = v.shape[-1]
    zero = np.zeros(v.shape[:-1] + (1,))
    cw = np.concatenate([zero, np.cumsum(w, -1)], -1)
    cv = np.concatenate([zero, np.cumsum(w * v, -1)], -1)
    s, t = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")  # pool s..t
    den = cw[..., t + 1] - cw[..., s]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (cv[..., t + 1] - cv[..., s]) / den
    mean = np.where((t >= s) & (den > 0), mean, -np.inf)
    # best[..., s, i] = max over t >= i of mean(s..t); only s <= i counts.
    best = np.flip(np.maximum.accumulate(np.flip(mean, -1), -1), -1)
    best = np.where((s <= t) & (best > -np.inf), best, np.inf)
    fitted = best.min(axis=-2)
    return np.where(np.isfinite(fitted), fitted, np.nan)


def crossing_width(widths, fitted, level: float = 0.5) -> np.ndarray:
    """Where a non-increasing ``fitted (..., K)`` falls to ``level``, interpolated linearly
    in log width: the first width with ``fitted <= level``, moved back toward the previous
    width by how far above ``level`` that one was. ``widths[0]`` if the fit is already
    ``<= level`` there (every width holds), ``inf`` if it never is (none holds), nan for an
    all-nan row. ``widths (K,)`` ascending."""
    w = np.log(np.asarray(widths, np.float64))
    f = np.asarray(fitted, np.float64)
    below = f <= level
    i = np.argmax(below, axis=-1)
    prev = np.maximum(i - 1, 0)
    f_i = np.take_along_axis(f, i[..., None], -1)[..., 0]
    f_p = np.take_along_axis(f, prev[..., None], -1)[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(f_p > f_i, (f_p - level) / (f_p - f_i), 1.0)
    exact = np.asarray(widths, np.float64)
    m = np.where((i == 0) | (frac >= 1.0), exact[i], np.exp(w[prev] + frac * (w[i] - w[prev])))
    m = np.where(below.any(axis=-1), m, np.inf)
    return np.where(np.isnan(f).all(axis=-1), np.nan, m)


def threshold_width(widths, fraction_broken, runs=None) -> float:
    """``m*`` from per-width broken fractions: the isotonic fit weighted by ``runs`` per width
    (equal weights if none), then ``crossing_width`` at 1/2. Ties and non-monotone fractions
    are pooled, never propagated: ``[1, .75, .25, .5]`` over ``[16, 32, 64, 128]`` gives
    about 51, not ``inf``."""
    order = np.argsort(widths)
    w = np.asarray(widths, np.float64)[order]
    f = np.asarray(fraction_broken, np.float64)[order]
    n = np.ones_like(f) if runs is None else np.asarray(runs, np.float64)[order]
    return float(crossing_width(w, isotonic_nonincreasing(f, n)))


class Threshold(NamedTuple):
    """The threshold width at one horizon, with the fit it comes from (per width, ascending)."""

    m_star: float  # inf: no width of the grid holds; widths[0]: every width holds
    ci: tuple[float, float]  # percentile interval of the paired seed bootstrap
    position: str  # "inside", "above_grid" (m_star inf) or "at_or_below_grid"
    widths: np.ndarray  # (K,)
    runs: np.ndarray  # (K,) runs with an outcome (diverged runs excluded) per width
    broken: np.ndarray  # (K,) runs broken by the horizon per width
    fitted: np.ndarray  # (K,) isotonic P(broken by T | width)
    fitted_ci: np.ndarray  # (2, K) pointwise percentile band of the fit over the bootstrap
    boots: np.ndarray  # (n_boot,) bootstrap replicates of m_star (for paired comparisons)


def outcome_table(run_width, run_seed, broken, valid=None):
    """Per (seed, width) counts: ``(seeds (S,), widths (K,), broken (S, K), runs (S, K))``;
    runs with ``valid`` false (diverged) count in neither."""
    run_width, run_seed = np.asarray(run_width), np.asarray(run_seed)
    valid = np.ones(run_width.shape, bool) if valid is None else np.asarray(valid, bool)
    seeds, si = np.unique(run_seed, return_inverse=True)
    widths, wi = np.unique(run_width, return_inverse=True)
    b = np.zeros((len(seeds), len(widths)))
    n = np.zeros((len(seeds), len(widths)))
    np.add.at(b, (si, wi), (np.asarray(broken, bool) & valid).astype(np.float64))
    np.add.at(n, (si, wi), valid.astype(np.float64))
    return seeds, widths, b, n


def bootstrap_picks(n_seeds: int, n_boot: int, rng=None) -> np.ndarray:
    """``(n_boot, n_seeds)`` seed indices drawn with replacement; pass the same picks to
    every horizon (and mode) whose thresholds are compared, to keep the bootstrap paired."""
    rng = rng if rng is not None else np.random.default_rng(0)
    return rng.integers(0, n_seeds, size=(n_boot, n_seeds))


def estimate_threshold(
    run_width, run_seed, broken, valid=None, *, n_boot=1000, rng=None, picks=None, level=0.95
) -> Threshold:
    """``m*(T)`` from per-run outcomes, with a bootstrap over seeds paired across widths.

    The isotonic fit of ``P(broken | width)`` uses every run with an outcome (a width's weight
    is its number of runs); each bootstrap replicate draws seeds with replacement, each seed
    bringing all its widths, and refits.

    Args:
      run_width, run_seed, broken: ``(B,)`` one mode at one horizon.
      valid: ``(B,)`` false for runs without an outcome (diverged); default all true.
      n_boot: resamples (ignored when ``picks`` is given).
      picks: ``(n_boot, S)`` seed indices into ``np.unique(run_seed)`` (``bootstrap_picks``).
      level: coverage of the percentile interval.

    Returns:
      ``Threshold``; ``m_star`` nan when no run has an outcome.
    """
    _, widths, b, n = outcome_table(run_width, run_seed, broken, valid)
    runs, hits = n.sum(0), b.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted = isotonic_nonincreasing(hits / runs, runs)
    m_star = float(crossing_width(widths, fitted))
    if picks is None:
        picks = bootstrap_picks(len(n), n_boot, rng)
    counts = (picks[..., None] == np.arange(len(n))).sum(-2).astype(np.float64)  # (R, S)
    runs_b, hits_b = counts @ n, counts @ b
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted_b = isotonic_nonincreasing(hits_b / runs_b, runs_b)
    boots = crossing_width(widths, fitted_b)
    boots = boots[~np.isnan(boots)]
    tail = (1 - level) / 2
    if boots.size:
        # "lower"/"higher" pick resampled values, so infinite ones stay infinite.
        ci = (
            float(np.quantile(boots, tail, method="lower")),
            float(np.quantile(boots, 1 - tail, method="higher")),
        )
    else:
        ci = (math.nan, math.nan)
    with np.errstate(invalid="ignore"):
        band = np.nanquantile(fitted_b, [tail, 1 - tail], axis=0) if boots.size else None
    if band is None:
        band = np.full((2, len(widths)), np.nan)
    position = (
        "above_grid"
        if m_star == math.inf
        else "at_or_below_grid"
        if len(widths) and m_star == widths[0]
        else "inside"
    )
    return Threshold(m_star, ci, position, widths, runs, hits, fitted, band, boots)


# ----------------------------------------------------------------------------- survival of T_b


class Survival(NamedTuple):
    """A Kaplan-Meier curve: ``S(t)`` just after each distinct breakdown time."""

    times: np.ndarray  # (K,) distinct breakdown times, ascending
    survival: np.ndarray  # (K,) S(t), the estimated fraction still unbroken after t
    lower: np.ndarray  # (K,) pointwise interval (log-log transform of Greenwood's variance)
    upper: np.ndarray  # (K,)
    at_risk: np.ndarray  # (K,) runs unbroken and uncensored just before t
    events: np.ndarray  # (K,) breakdowns at t
    runs: int  # runs in the curve
    censored: int  # runs unbroken at their censoring time (the horizon)


def kaplan_meier(times, observed, level: float = 0.95) -> Survival:
    """Kaplan-Meier estimate of ``P(T_b > t)`` from right-censored breakdown times.

    Args:
      times: ``(N,)`` the breakdown time of a broken run, the censoring time (horizon) of an
        unbroken one. Diverged runs are a third outcome: leave them out (and count them).
      observed: ``(N,)`` true where the run broke down at ``times``.
      level: coverage of the pointwise interval.

    Returns:
      ``Survival``; empty arrays when nothing broke down (``S = 1`` throughout).
    """
    from scipy.special import ndtri

    t = np.asarray(times, np.float64).ravel()
    obs = np.asarray(observed, bool).ravel()
    if t.shape != obs.shape:
        raise ValueError(f"kaplan_meier: times {t.shape} and observed {obs.shape} differ")
    ut = np.unique(t[obs])
    at_risk = (t[None, :] >= ut[:, None]).sum(1).astype(np.float64)
    events = (obs[None, :] & (t[None, :] == ut[:, None])).sum(1).astype(np.float64)
    surv = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        se = np.sqrt(greenwood) / np.abs(np.log(surv))
        z = float(ndtri(0.5 + level / 2))
        lower = np.where(surv > 0, surv ** np.exp(z * se), 0.0)
        upper = np.where(surv > 0, surv ** np.exp(-z * se), 0.0)
    lower = np.where(np.isfinite(lower), lower, 0.0)
    upper = np.where(np.isfinite(upper), upper, np.where(surv > 0, 1.0, 0.0))
    return Survival(ut, surv, lower, upper, at_risk, events, int(t.size), int((~obs).sum()))


def km_median(surv: Survival) -> tuple[float, float, float]:
    """Median breakdown time and its interval (Brookmeyer-Crowley: where the interval's bands
    cross 1/2): ``(median, lo, hi)``, each ``inf`` when not reached within the horizon."""

    def first(curve):
        hit = np.nonzero(curve <= 0.5 + 1e-12)[0]  # S is a product of ratios: allow rounding
        return float(surv.times[hit[0]]) if hit.size else math.inf

    return first(surv.survival), first(surv.lower), first(surv.upper)


class CensoredFit(NamedTuple):
    """Log-normal regression ``log T_b = intercept + exponent log m + sigma eps``."""

    exponent: float
    ci_low: float  # percentile interval of the seed bootstrap (nan if not computed)
    ci_high: float
    intercept: float
    sigma: float
    runs: int  # runs in the fit (broken and censored)
    events: int  # broken runs
    widths: int  # distinct widths
    at_bound: bool  # the exponent hit +-max_exponent: the data only say it is steep


def _log_interval_prob(a, b):
    """``log(Phi(b) - Phi(a))`` for ``a < b``, accurate in both tails."""
    from scipy.special import log_ndtr

    flip = a > 0  # Phi(b) - Phi(a) = Phi(-a) - Phi(-b): keep the larger term away from 1
    hi = np.where(flip, -a, b)
    lo = np.where(flip, -b, a)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lhi + np.log1p(-np.exp(np.minimum(llo - lhi, 0.0)))


def _censored_mle(lx, lhi, llo, obs, max_exponent, start=None):
    """Maximum-likelihood ``(intercept, exponent, log sigma)`` with the analytic gradient."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    half_log_2pi = 0.5 * math.log(2 * math.pi)
    has_lo = np.isfinite(llo)

    def nll(theta):
        c, p, log_s = theta
        s = math.exp(log_s)
        zh = (lhi - c - p * lx) / s
        zl = np.where(has_lo, (np.where(has_lo, llo, 0.0) - c - p * lx) / s, -np.inf)
        log_obs = _log_interval_prob(zl, zh)  # P(t_low < T <= t_high)
        log_cens = log_ndtr(-zh)  # P(T > horizon)
        ll = np.maximum(np.where(obs, log_obs, log_cens), -745.0)
        log_phi_h = -0.5 * zh**2 - half_log_2pi
        with np.errstate(over="ignore", invalid="ignore"):
            r_h = np.exp(log_phi_h - ll)  # phi(zh) / P
            r_l = np.where(
                has_lo, np.exp(-0.5 * np.where(has_lo, zl, 0.0) ** 2 - half_log_2pi - ll), 0.0
            )
        zl0 = np.where(has_lo, zl, 0.0)
        # d ll / d mu and d ll / d log sigma, per run
        d_mu = np.where(obs, -(r_h - r_l) / s, r_h / s)
        d_ls = np.where(obs, -(r_h * zh - r_l * zl0), r_h * zh)
        grad = -np.array([d_mu.sum(), (d_mu * lx).sum(), d_ls.sum()])
        return -float(ll.sum()), grad

    if start is None:
        start = (float(np.mean(lhi)), 0.0, math.log(max(float(np.std(lhi)), 0.1)))
    bounds = [(None, None), (-max_exponent, max_exponent), (math.log(1e-3), math.log(1e3))]
    # SLSQP, not L-BFGS-B: scipy's L-BFGS-B calls BLAS on 3-vectors, and OpenBLAS's threads
    # made it 50x slower on a busy 2-core machine.
    res = minimize(nll, np.asarray(start, np.float64), jac=True, method="SLSQP", bounds=bounds)
    return res.x


def fit_censored_power_law(
    x, t_high, observed, t_low=None, *, groups=None, n_boot=200, seed=0, level=0.95,
    max_exponent=10.0,
) -> CensoredFit:  # fmt: skip
    """Fit ``T_b ∝ x^p`` to censored breakdown times by maximum likelihood (log-normal errors).

    A broken run contributes ``P(t_low < T_b <= t_high)`` (its breakdown was first seen at
    log step ``t_high``, and had not happened at the previous one ``t_low``; ``t_low`` 0 or
    None: ``P(T_b <= t_high)``); an unbroken run contributes ``P(T_b > t_high)`` (censored at
    the horizon). So unbroken runs pull the exponent up instead of being dropped, and
    breakdowns tied on one log step are not treated as exact.

    Args:
      x: ``(N,)`` widths; t_high, t_low: ``(N,)`` times; observed: ``(N,)`` broken or not.
      groups: ``(N,)`` seeds: the interval resamples whole seeds (paired across widths);
        none: no interval.
      n_boot: bootstrap resamples; level: their percentile interval's coverage.
      max_exponent: bound on |p|; an estimate at the bound is flagged ``at_bound``.

    Returns:
      ``CensoredFit``; nan when fewer than two widths have a breakdown, or every run has the
      same observation time (e.g. all broke before the first log point): then no slope is
      identified and the likelihood has no maximum in p.
    """
    x = np.asarray(x, np.float64).ravel()
    hi = np.asarray(t_high, np.float64).ravel()
    obs = np.asarray(observed, bool).ravel()
    lo = np.zeros_like(hi) if t_low is None else np.asarray(t_low, np.float64).ravel()
    keep = np.isfinite(x) & (x > 0) & np.isfinite(hi) & (hi > 0)
    x, hi, lo, obs = x[keep], hi[keep], lo[keep], obs[keep]
    g = None if groups is None else np.asarray(groups).ravel()[keep]
    nan = math.nan
    n_wid = len(np.unique(x))

    def identified(o, xx, hh):
        # Breakdowns at two widths, and two distinct observation times: when every run sits in
        # the same interval (all broke before the first log point) no slope is identified.
        return len(np.unique(xx[o])) >= 2 and len(np.unique(hh)) >= 2

    if not identified(obs, x, hi):
        return CensoredFit(nan, nan, nan, nan, nan, int(x.size), int(obs.sum()), n_wid, False)
    lx, lhi = np.log(x), np.log(hi)
    with np.errstate(divide="ignore"):
        llo = np.where(lo > 0, np.log(np.maximum(lo, 1e-300)), -np.inf)
    c, p, log_s = _censored_mle(lx, lhi, llo, obs, max_exponent)
    at_bound = abs(p) >= max_exponent - 1e-6
    ci_lo = ci_hi = nan
    if g is not None and n_boot and not at_bound:
        rng = np.random.default_rng(seed)
        labels, gi = np.unique(g, return_inverse=True)
        members = [np.nonzero(gi == k)[0] for k in range(len(labels))]
        slopes = []
        for _ in range(n_boot):
            idx = np.concatenate([members[k] for k in rng.integers(0, len(labels), len(labels))])
            if not identified(obs[idx], x[idx], hi[idx]):
                continue
            slopes.append(
                _censored_mle(lx[idx], lhi[idx], llo[idx], obs[idx], max_exponent, (c, p, log_s))[1]
            )
        if len(slopes) >= n_boot / 2:
            tail = (1 - level) / 2
            ci_lo, ci_hi = (float(q) for q in np.quantile(slopes, [tail, 1 - tail]))
    return CensoredFit(
        float(p), ci_lo, ci_hi, float(c), float(math.exp(log_s)), int(x.size), int(obs.sum()),
        n_wid, bool(at_bound),
    )  # fmt: skip


def censored_fit_json(fit: CensoredFit) -> dict:
    """A censored fit as plain JSON (None where undefined)."""

    return {
        "exponent": _finite(fit.exponent),
        "ci": [_finite(fit.ci_low), _finite(fit.ci_high)],
        "intercept": _finite(fit.intercept),
        "sigma": _finite(fit.sigma),
        "runs": fit.runs,
        "events": fit.events,
        "widths": fit.widths,
        "at_bound": fit.at_bound,
    }


class PowerFit(NamedTuple):
    """Least-squares fit ``log y = exponent · log x + log prefactor``."""

    exponent: float
    prefactor: float
    stderr: float  # standard error of the exponent (nan with fewer than 3 points)
    ci_low: float  # bootstrap 95% interval of the exponent (nan if not computed)
    ci_high: float
    r2: float  # coefficient of determination in log-log space
    n_points: int


def fit_power_law(x, y, bootstrap=1000, seed=0) -> PowerFit:
    """Fit ``y ≈ C x^p`` by least squares in log-log space, with an error bar on p.

    Non-positive or non-finite pairs are dropped. ``y`` may have several values per x (pass
    repeated x); the bootstrap resamples points with replacement.

    Args:
      x, y: ``(N,)`` positive values.
      bootstrap: number of bootstrap resamples (0: no interval).
      seed: bootstrap seed.

    Returns:
      ``PowerFit``.
    """
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"fit_power_law: x {x.shape} and y {y.shape} differ")
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    lx, ly = np.log(x[keep]), np.log(y[keep])
    n = lx.size
    if n < 2 or np.ptp(lx) == 0:
        nan = float("nan")
        return PowerFit(nan, nan, nan, nan, nan, nan, int(n))
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    (p, c), *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ np.array([p, c])
    ss_tot = np.sum((ly - ly.mean()) ** 2)
    r2 = 1.0 - np.sum(resid**2) / ss_tot if ss_tot > 0 else 1.0
    stderr = (
        float(np.sqrt(np.sum(resid**2) / (n - 2) / np.sum((lx - lx.mean()) ** 2)))
        if n > 2
        else float("nan")
    )
    lo = hi = float("nan")
    if bootstrap and n > 2:
        rng = np.random.default_rng(seed)
        slopes = []
        for _ in range(bootstrap):
            i = rng.integers(0, n, n)
            if np.ptp(lx[i]) > 0:
                slopes.append(np.polyfit(lx[i], ly[i], 1)[0])
        lo, hi = (float(q) for q in np.percentile(slopes, [2.5, 97.5]))
    return PowerFit(float(p), float(np.exp(c)), stderr, lo, hi, float(r2), int(n))


def growth_exponent(t, y, window=(0.1, 1.0)) -> PowerFit:
    """Local exponent of ``y(t) ∝ t^p`` over the late part of a run.

    Fits ``fit_power_law`` to the points with ``window[0] · t_max < t <= window[1] · t_max``.
    p ≈ 1: linear growth in t (Theorem 2's adversarial term); p ≈ 0: saturation (Theorem 1).
    """
    t = np.asarray(t, np.float64)
    y = np.asarray(y, np.float64)
    tmax = np.max(t)
    sel = (t > window[0] * tmax) & (t <= window[1] * tmax)
    return fit_power_law(t[sel], y[sel], bootstrap=200)


def _finite(v) -> float | None:
    """``v`` as a float, None where it is not finite (JSON has no inf or nan)."""
    return float(v) if math.isfinite(v) else None


def fit_json(fit: PowerFit) -> dict:
    """A fit as plain JSON: ``{"exponent", "ci", "prefactor", "points"}``, None where undefined."""

    return {
        "exponent": _finite(fit.exponent),
        "ci": [_finite(fit.ci_low), _finite(fit.ci_high)],
        "prefactor": _finite(fit.prefactor),
        "points": fit.n_points,
    }
