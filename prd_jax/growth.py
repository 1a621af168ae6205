"""Growth of a quantity over a run, measured so that an early offset cannot hide it, and
intervals across seeds. Small functions of NumPy arrays (no JAX).

A cumulative log-log fit of ``drift(t) ~ t^p`` is pulled towards 0 by the drift already
reached in the fitting phase; the increment ``drift(t) - drift(t_1)`` against ``t - t_1``
(``increment_exponents``) and windowed slopes ``d drift / dt`` per decade of iterations
(``decade_slopes``) are not. ``growth_summary`` gives both with 95% t-intervals across seeds
(``mean_interval``). ``worst_over_seeds`` reduces an upper bound checked on several seeds to the
worst seed at each logged time, for ``claims.upper_bound``.
"""

import math

import numpy as np

from prd_jax.breakdown import fit_power_law


def mean_interval(x, level=0.95) -> tuple[float, list[float] | None]:
    """Mean of ``x (S,)`` (one value per usable seed) and its t-interval across seeds (None with
    fewer than 2 values): ``claims.t_interval``. Non-finite values are not dropped: the mean
    and interval are then nan. Leave diverged seeds out before calling, and count them."""
    from prd_jax.claims import t_interval

    x = np.asarray(x, np.float64).ravel()
    if x.size == 0:
        return math.nan, None
    mean, (lo, hi) = t_interval(x, level)
    return mean, None if x.size < 2 else [lo, hi]


def increments(t, y, t1):
    """Increments after ``t1``: ``(t[k] - t_1, y[..., k] - y[..., i1])`` for logged ``t > t_1``,
    where ``t_1`` is the last logged time ``<= t1`` (index i1). ``y (..., L)``."""
    t = np.asarray(t, np.float64)
    y = np.asarray(y, np.float64)
    i1 = int(np.flatnonzero(t <= t1)[-1])
    return t[i1 + 1 :] - t[i1], y[..., i1 + 1 :] - y[..., i1 : i1 + 1]


def increment_exponents(t, y, t1) -> np.ndarray:
    """Per seed, the exponent p of ``y(t) - y(t_1) ~ (t - t_1)^p`` (``fit_power_law``, no
    bootstrap: the interval is across seeds). ``y (S, L)`` -> ``(S,)``, nan where undefined."""
    dt, inc = increments(t, y, t1)
    return np.array([fit_power_law(dt, row, bootstrap=0).exponent for row in np.atleast_2d(inc)])


def decade_slopes(steps, t, y):
    """Windowed slopes ``(y(t_hi) - y(t_lo)) / (t_hi - t_lo)`` over each decade of iterations
    ``[10^k, 10^(k+1)]`` (clipped to the run) that holds two logged points.

    Args:
      steps: ``(L,)`` logged iterations; t: ``(L,)`` times eta * steps; y: ``(S, L)``.

    Returns:
      ``(edges, slopes)``: ``[(lo, hi), ...]`` in iterations and ``(S, K)`` slopes per unit t.
    """
    steps = np.asarray(steps, np.float64)
    t, y = np.asarray(t, np.float64), np.atleast_2d(np.asarray(y, np.float64))
    edges, slopes = [], []
    k = 0
    while 10.0**k < steps[-1]:
        lo, hi = 10.0**k, min(10.0 ** (k + 1), steps[-1])
        i, j = np.flatnonzero(steps >= lo)[0], np.flatnonzero(steps <= hi)[-1]
        if j > i:
            edges.append((int(steps[i]), int(steps[j])))
            slopes.append((y[:, j] - y[:, i]) / (t[j] - t[i]))
        k += 1
    return edges, np.stack(slopes, axis=1) if slopes else np.zeros((y.shape[0], 0))


def growth_summary(steps, t, y, window) -> dict:
    """Increment exponent after ``window * t_max`` and decade slopes, each as mean and 95%
    t-interval across seeds, plus the per-seed values. ``y (S, L)``."""
    p = increment_exponents(t, y, window * float(np.max(t)))
    edges, slopes = decade_slopes(steps, t, y)
    per_decade = [mean_interval(slopes[:, k]) for k in range(slopes.shape[1])]
    p_mean, p_ci = mean_interval(p)
    return {
        "increment_exponent": p_mean,
        "increment_exponent_ci": p_ci,
        "increment_exponent_per_seed": p,
        "decades": edges,
        "slope_mean": [m for m, _ in per_decade],
        "slope_ci": [ci for _, ci in per_decade],
        "slopes_per_seed": slopes,
    }


def worst_over_seeds(measured, bound):
    """``(measured, bound)`` at each logged time from the seed with the largest ratio there:
    ``(S, L)`` arrays -> ``(L,)`` arrays, so that an upper-bound claim over several seeds keeps
    its numbers in their own units and its ratios are those of the worst seed. With no seed
    (every run diverged) there is nothing to check: two empty arrays."""
    measured, bound = np.asarray(measured, np.float64), np.asarray(bound, np.float64)
    if measured.shape[0] == 0:
        return np.zeros(0), np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, measured / bound, -np.inf)
    worst = np.argmax(ratio, axis=0)
    cols = np.arange(measured.shape[1])
    return measured[worst, cols], bound[worst, cols]
