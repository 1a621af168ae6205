"""The breakdown surface as a law: kernel deviation against width, per horizon.

A threshold is a point on a curve. The kernel deviation a run has reached by T,
``D(T) = max_{t <= T} ||H(t) - H(0)||_2`` (the running maximum: what "broken by T" thresholds),
falls like a power of the width, ``D(T) ~ C(T) m^(-alpha(T))``, so the threshold at any
criterion level theta follows: ``m*(T; theta) = (C(T) / theta)^(1 / alpha(T))``, the width at
which the fitted (geometric-mean, i.e. median under log-normal scatter) deviation equals theta.

``fit_law`` fits ``log D = log C - alpha log m`` by least squares over every non-diverged run
with ``D > 0`` at the widths in the fit, with 95% percentile intervals from the seed bootstrap
(each resampled seed brings all its widths, as for m*), and checks that a power law describes
the data: the residual spread and the curvature (the coefficient of ``(log2 m)^2`` in a
quadratic fit, with its interval; 0 for a power law). ``horizon_law`` fits ``m*(T) ~ T^beta``
over the horizons where the threshold is inside the grid. Host-side NumPy.
"""

import math
from typing import NamedTuple

import numpy as np

from prd_jax import breakdown


class LawFit(NamedTuple):
    """``D(T) ~ C m^(-alpha)`` at one horizon (``log_c`` natural log of C)."""

    step: int
    alpha: float
    alpha_ci: tuple[float, float]
    log_c: float
    log_c_ci: tuple[float, float]
    curvature: float  # d^2 log2 D / d (log2 m)^2 / 2 of a quadratic fit (0 for a power law)
    curvature_ci: tuple[float, float]
    resid_sd: float  # residual standard deviation of log2 D (octaves)
    r2: float
    runs: int
    widths: int
    seeds: int
    boots: np.ndarray  # (R, 2) bootstrap replicates of (alpha, log_c), paired by ``picks``
    level: float  # percentile level of the intervals (calibrated for the seeds)


def running_max(values) -> np.ndarray:
    """``max_{t' <= t}`` along the last axis (log points) of ``values (..., L)``."""
    return np.maximum.accumulate(np.asarray(values, np.float64), axis=-1)


def _design(lm, quadratic=False):
    cols = [np.ones_like(lm), lm] + ([lm**2] if quadratic else [])
    return np.stack(cols, axis=-1)


def _weighted_lstsq(A, y, w):
    """Least squares with per-point weights ``w`` (bootstrap multiplicities), vectorised over a
    leading axis of ``w (R, N)``: returns ``(R, P)`` coefficients."""
    Aw = A[None] * w[..., None]
    gram = np.einsum("rnp,nq->rpq", Aw, A)
    rhs = np.einsum("rnp,n->rp", Aw, y)
    return np.linalg.solve(gram + 1e-12 * np.eye(A.shape[1]), rhs[..., None])[..., 0]


def fit_law(
    width, seed, deviation, step: int, picks=None, level: float | None = None, seed_ids=None
) -> LawFit:
    """Fit ``deviation ~ C width^(-alpha)`` over runs (``(B,)`` each; non-positive or non-finite
    deviations, e.g. of diverged runs, are left out and counted) with a seed bootstrap.

    Args:
      width, seed, deviation: ``(B,)`` per run at one horizon.
      step: the horizon, for the record.
      picks: ``(R, S)`` seed indices into ``seed_ids`` (``breakdown.bootstrap_picks``),
        shared with other fits to pair them; none: no intervals.
      level: percentile level of the intervals (default ``breakdown.calibrated_level`` of the
        seeds: the plain 95% percentile interval of a 7-seed bootstrap covers alpha 86-90% of
        the time in simulation, the calibrated one 93-95%; ``tests/test_law.py``).
      seed_ids: ``(S,)`` the seeds ``picks`` index (default ``np.unique(seed)``); pass the
        union over the fits to be paired (a seed without runs here adds nothing).
    """
    width = np.asarray(width, np.float64)
    seed = np.asarray(seed)
    y = np.asarray(deviation, np.float64)
    ok = np.isfinite(y) & (y > 0) & (width > 0)
    nan2 = (math.nan, math.nan)
    n_seeds = len(np.unique(seed[ok]))
    level = breakdown.calibrated_level(max(n_seeds, 1)) if level is None else float(level)
    seeds_all = np.unique(seed) if seed_ids is None else np.asarray(seed_ids)
    si = np.searchsorted(seeds_all, seed)
    n_w = len(np.unique(width[ok]))
    if n_w < 2:
        nan = math.nan
        used = (int(ok.sum()), n_w, n_seeds)
        return LawFit(
            int(step), nan, nan2, nan, nan2, nan, nan2, nan, nan, *used, np.zeros((0, 2)), level
        )
    lm, ly, si = np.log2(width[ok]), np.log2(y[ok]), si[ok]
    A = _design(lm)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    dof = max(ly.size - 2, 1)
    curv = math.nan
    if n_w >= 3:
        curv = float(np.linalg.lstsq(_design(lm, True), ly, rcond=None)[0][2])
    alpha, log_c = -float(coef[1]), float(coef[0]) * math.log(2)
    ci_a = ci_c = ci_k = nan2
    boots = np.zeros((0, 2))
    if picks is not None and len(picks):
        counts = (picks[..., None] == np.arange(len(seeds_all))).sum(-2).astype(np.float64)
        w = counts[:, si]  # (R, N) multiplicity of each run's seed
        good = (w > 0).sum(1) > 0
        wb = w[good]
        # A replicate fits only if it has two distinct widths with weight.
        distinct = np.array([len(np.unique(lm[row > 0])) for row in wb])
        wb = wb[distinct >= 2]
        if len(wb):
            cb = _weighted_lstsq(A, ly, wb)
            boots = np.stack([-cb[:, 1], cb[:, 0] * math.log(2)], axis=1)
            tail = (1 - level) / 2
            ci_a = tuple(float(q) for q in np.quantile(boots[:, 0], [tail, 1 - tail]))
            ci_c = tuple(float(q) for q in np.quantile(boots[:, 1], [tail, 1 - tail]))
            if n_w >= 3:
                w3 = wb[np.array([len(np.unique(lm[row > 0])) >= 3 for row in wb])]
                if len(w3):
                    kb = _weighted_lstsq(_design(lm, True), ly, w3)[:, 2]
                    ci_k = tuple(float(q) for q in np.quantile(kb, [tail, 1 - tail]))
    return LawFit(
        int(step), alpha, ci_a, log_c, ci_c, curv, ci_k,
        float(math.sqrt(np.sum(resid**2) / dof)), float(r2), int(ok.sum()), n_w, n_seeds, boots,
        level,
    )  # fmt: skip


def law_threshold(log_c, alpha, theta) -> np.ndarray:
    """``m*(theta) = (C / theta)^(1 / alpha)``: where the fitted deviation equals ``theta``
    (arrays broadcast; nan where ``alpha <= 0``)."""
    log_c, alpha = np.asarray(log_c, np.float64), np.asarray(alpha, np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m = np.exp((log_c - np.log(theta)) / alpha)
    return np.where(alpha > 0, m, np.nan)


def law_threshold_interval(fit: LawFit, theta: float, level: float | None = None):
    """``(m*, (lo, hi))`` from a law fit and its bootstrap replicates (at the fit's level)."""
    level = fit.level if level is None else level
    m = float(law_threshold(fit.log_c, fit.alpha, theta))
    if not len(fit.boots):
        return m, (math.nan, math.nan)
    return m, _percentile_interval(law_threshold(fit.boots[:, 1], fit.boots[:, 0], theta), level)


def _percentile_interval(replicates, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of the finite replicates (NaNs if none)."""
    finite = np.asarray(replicates)[np.isfinite(replicates)]
    if not finite.size:
        return math.nan, math.nan
    tail = (1 - level) / 2
    lo, hi = np.quantile(finite, [tail, 1 - tail])
    return float(lo), float(hi)


def threshold_ratio(fit_a: LawFit, fit_b: LawFit, theta: float, level: float | None = None):
    """``m*_a(theta) / m*_b(theta)`` from two law fits whose bootstraps were paired (the same
    ``picks`` over the same seeds), with the percentile interval of the paired replicates (at
    the higher of the two fits' calibrated levels)."""
    level = max(fit_a.level, fit_b.level) if level is None else level
    ratio = float(
        law_threshold(fit_a.log_c, fit_a.alpha, theta)
        / law_threshold(fit_b.log_c, fit_b.alpha, theta)
    )
    r = min(len(fit_a.boots), len(fit_b.boots))
    if not r:
        return ratio, (math.nan, math.nan)
    ma = law_threshold(fit_a.boots[:r, 1], fit_a.boots[:r, 0], theta)
    mb = law_threshold(fit_b.boots[:r, 1], fit_b.boots[:r, 0], theta)
    with np.errstate(invalid="ignore", divide="ignore"):
        rb = ma / mb
    return ratio, _percentile_interval(rb, level)


class HorizonLaw(NamedTuple):
    """``m*(T) ~ T^beta`` over the horizons where m* is inside the grid."""

    beta: float
    ci: tuple[float, float]
    horizons: tuple[int, ...]


def horizon_law(steps, m_star, boots=None, level: float = 0.95) -> HorizonLaw:
    """Least-squares slope of ``log m*`` against ``log T``, over the finite positive thresholds;
    ``boots (R, H)``: paired bootstrap replicates of m* at the same horizons (``inf``/0 beyond
    the grid: such a replicate is left out), for a percentile interval."""
    steps = np.asarray(steps, np.float64)
    m = np.asarray(m_star, np.float64)
    ok = np.isfinite(m) & (m > 0) & (steps > 0)
    nan2 = (math.nan, math.nan)
    if ok.sum() < 2:
        return HorizonLaw(math.nan, nan2, tuple(int(s) for s in steps[ok]))
    lt = np.log(steps[ok])
    beta = float(np.polyfit(lt, np.log(m[ok]), 1)[0])
    ci = nan2
    if boots is not None:
        b = np.asarray(boots, np.float64)[:, ok]
        good = np.all(np.isfinite(b) & (b > 0), axis=1)
        if good.sum() >= 10:
            lb = np.log(b[good])
            x = lt - lt.mean()
            slopes = (lb - lb.mean(1, keepdims=True)) @ x / float(x @ x)
            tail = (1 - level) / 2
            ci = tuple(float(q) for q in np.quantile(slopes, [tail, 1 - tail]))
    return HorizonLaw(beta, ci, tuple(int(s) for s in steps[ok]))
