"""Breakdown of the kernel regime: per-run breakdown steps, the threshold width m*(T) with a
bootstrap interval over seeds, and power-law exponents. Small functions of NumPy arrays.

A run *breaks down* at the first log step where its criterion holds (docs/mathematics.md,
section 4):
``kernel`` (default) ``||H(t) - H(0)||_2 > lambda0 / 4`` (Remark 1), ``drift``
``max_j ||u_j(t) - u_j(0)|| > R = c delta lambda0 / n^2``, or ``relative``
``||U(t) - U(0)||_F / ||U(0)||_F > rel_threshold``. The empirical threshold ``m*(T)`` is the width
at which the fraction of runs broken by horizon T crosses 1/2, from above.
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


def threshold_width(widths, fraction_broken) -> float:
    """Width where the fraction of broken runs crosses 1/2, from the widest width down.

    The fraction is made monotone (non-increasing in width) by a running maximum from the
    right, then interpolated linearly in log width. Returns ``inf`` when even the widest
    width has fraction >= 1/2 (no width in the grid holds), and the smallest width when every
    width holds.
    """
    order = np.argsort(widths)
    w = np.asarray(widths, np.float64)[order]
    f = np.maximum.accumulate(np.asarray(fraction_broken, np.float64)[order][::-1])[::-1]
    if f[-1] >= 0.5:
        return math.inf
    if f[0] < 0.5:
        return float(w[0])
    i = int(np.nonzero(f >= 0.5)[0][-1])  # last width that breaks; i + 1 holds
    lo, hi = math.log(w[i]), math.log(w[i + 1])
    frac = (f[i] - 0.5) / (f[i] - f[i + 1])
    return float(math.exp(lo + frac * (hi - lo)))


def estimate_threshold(run_width, run_seed, broken, n_boot=1000, rng=None, level=0.95):
    """``m*`` and a bootstrap interval over seeds from per-run breakdown indicators.

    Args:
      run_width, run_seed, broken: ``(B,)`` arrays (one mode, one horizon).
      n_boot: bootstrap resamples (seeds drawn with replacement, kept paired across widths).

    Returns:
      ``(m_star, (lo, hi))``; values are ``inf`` where no width holds.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    widths = np.unique(run_width)
    seeds = np.unique(run_seed)
    table = np.zeros((len(seeds), len(widths)))  # broken fraction per (seed, width)
    for i, s in enumerate(seeds):
        for j, w in enumerate(widths):
            sel = (run_seed == s) & (run_width == w)
            table[i, j] = np.mean(broken[sel]) if sel.any() else np.nan
    m_star = threshold_width(widths, np.nanmean(table, axis=0))
    picks = rng.integers(0, len(seeds), size=(n_boot, len(seeds)))
    boots = np.array([threshold_width(widths, np.nanmean(table[p], axis=0)) for p in picks])
    tail = (1 - level) / 2
    # "lower"/"higher" pick actual resampled values, so infinite ones stay infinite.
    lo = np.quantile(boots, tail, method="lower")
    hi = np.quantile(boots, 1 - tail, method="higher")
    return m_star, (float(lo), float(hi))


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


def fit_json(fit: PowerFit) -> dict:
    """A fit as plain JSON: ``{"exponent", "ci", "prefactor", "points"}``, None where undefined."""

    def finite(v):
        return float(v) if math.isfinite(v) else None

    return {
        "exponent": finite(fit.exponent),
        "ci": [finite(fit.ci_low), finite(fit.ci_high)],
        "prefactor": finite(fit.prefactor),
        "points": fit.n_points,
    }
