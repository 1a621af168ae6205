"""Coverage of the breakdown statistics' intervals, measured by simulation.

A "95%" interval means something only if it covers the truth 95% of the time. These functions
draw outcome tables and breakdown times with a known threshold and a known exponent, at the
design of a sweep (its widths, seeds and log steps), run the project's estimators on them, and
count how often the interval covers the truth. ``python -m experiments.coverage`` writes the
table of ``docs/coverage.md``, from which ``breakdown.CALIBRATED_LEVELS`` is read off.

Generating models (each seed is one initialisation, shared by every width, as in a sweep):

- thresholds: seed ``s`` has its own threshold ``log m_s = log m* + spread z_s``, and the run
  at width m is broken iff ``log m < log m_s + noise e_{s,m}`` (``z, e ~ N(0, 1)``); so
  ``P(broken | m) = Phi((log m* - log m) / sqrt(spread^2 + noise^2))`` crosses 1/2 at m*,
  outcomes are monotone in m within a seed when ``noise = 0``, and less so as it grows.
- breakdown times: ``log T_b = intercept + exponent log m + seed_sd z_s + sigma e``, observed on
  the log steps (a breakdown between two log steps is seen at the later one) and censored at
  the horizon.

Host-side NumPy; nothing here is jitted.
"""

import math
from typing import NamedTuple

import numpy as np

from prd_jax import breakdown


def simulate_outcomes(rng, widths, seeds: int, m_star: float, spread: float, noise: float):
    """``(run_width, run_seed, broken)``, ``(seeds * K,)`` each, from the threshold model."""
    widths = np.asarray(widths, np.float64)
    if seeds < 1 or m_star <= 0 or spread < 0 or noise < 0 or spread + noise <= 0:
        raise ValueError(
            f"simulate_outcomes: need seeds >= 1, m_star > 0, spread and noise >= 0 (not both "
            f"0), got seeds={seeds}, m_star={m_star}, spread={spread}, noise={noise}"
        )
    log_ms = math.log(m_star) + spread * rng.standard_normal(seeds)
    run_noise = noise * rng.standard_normal((seeds, widths.size))
    broken = np.log(widths)[None, :] < log_ms[:, None] + run_noise
    run_seed, run_width = np.meshgrid(np.arange(seeds), widths, indexing="ij")
    return run_width.ravel(), run_seed.ravel(), broken.ravel()


class Coverage(NamedTuple):
    """How often intervals covered the truth over ``reps`` simulated sweeps."""

    coverage: float  # fraction of intervals containing the true value
    reps: int
    median_width: float  # median interval width (octaves for m*, exponent units for p)
    unbounded: float  # fraction of intervals with an end beyond the grid or search range


def threshold_coverage(
    widths, seeds: int, *, spread: float, noise: float, reps: int = 200, level=None,
    n_boot: int = 1000, seed: int = 0,
) -> Coverage:  # fmt: skip
    """Coverage of ``breakdown.estimate_threshold``'s interval for a known m*, drawn log-uniform
    between the third narrowest and the third widest width of the design (so it lies inside).

    ``level``: the bootstrap percentile level (default: ``breakdown.calibrated_level``)."""
    widths = np.sort(np.asarray(widths, np.float64))
    if widths.size < 6:
        raise ValueError(f"threshold_coverage: need at least 6 widths, got {widths.size}")
    rng = np.random.default_rng(seed)
    hits, spans, open_ = 0, [], 0
    for r in range(reps):
        m_star = math.exp(rng.uniform(math.log(widths[2]), math.log(widths[-3])))
        w, s, broken = simulate_outcomes(rng, widths, seeds, m_star, spread, noise)
        est = breakdown.estimate_threshold(
            w, s, broken, n_boot=n_boot, rng=np.random.default_rng([seed, r]), level=level
        )
        lo, hi = est.ci
        hits += bool(lo <= m_star <= hi)
        span = breakdown.interval_octaves(est.ci)
        if math.isfinite(span):
            spans.append(span)
        else:
            open_ += 1
    width = float(np.median(spans)) if spans else math.inf
    return Coverage(hits / reps, reps, width, open_ / reps)


def simulate_breakdown_times(
    rng, widths, seeds: int, *, exponent: float, intercept: float, sigma: float,
    seed_sd: float, log_steps,
):  # fmt: skip
    """``(x, t_high, observed, t_low, groups)`` for ``breakdown.fit_censored_power_law``: each
    width x seed once, breakdowns seen at the first log step at or after them, censored at the
    last log step."""
    widths = np.asarray(widths, np.float64)
    log_steps = np.asarray(log_steps, np.float64)
    x = np.repeat(widths, seeds)
    groups = np.tile(np.arange(seeds), widths.size)
    log_t = (
        intercept
        + exponent * np.log(x)
        + seed_sd * rng.standard_normal(seeds)[groups]
        + sigma * rng.standard_normal(x.size)
    )
    t = np.exp(log_t)
    horizon = log_steps[-1]
    observed = t <= horizon
    k = np.searchsorted(log_steps, np.minimum(t, horizon))
    t_high = np.where(observed, log_steps[np.minimum(k, log_steps.size - 1)], horizon)
    t_low = np.where(observed & (k > 0), log_steps[np.maximum(k - 1, 0)], 0.0)
    return x, t_high, observed, t_low, groups


def exponent_coverage(
    widths, seeds: int, log_steps, *, exponent: float, intercept: float, sigma: float,
    seed_sd: float, reps: int = 200, seed: int = 0,
) -> Coverage:  # fmt: skip
    """Coverage of ``breakdown.fit_censored_power_law``'s profile-likelihood interval for a
    known exponent. Replicates where the fit is not identified count as covering when the
    truth lies in their (one-sided) profile set, which is what they report."""
    rng = np.random.default_rng(seed)
    hits, spans, open_ = 0, [], 0
    for _ in range(reps):
        x, t_high, observed, t_low, _ = simulate_breakdown_times(
            rng, widths, seeds, exponent=exponent, intercept=intercept, sigma=sigma,
            seed_sd=seed_sd, log_steps=log_steps,
        )  # fmt: skip
        fit = breakdown.fit_censored_power_law(x, t_high, observed, t_low)
        lo = -math.inf if math.isnan(fit.ci_low) else fit.ci_low
        hi = math.inf if math.isnan(fit.ci_high) else fit.ci_high
        hits += bool(lo <= exponent <= hi)
        if fit.identified:
            spans.append(hi - lo)
        else:
            open_ += 1
    width = float(np.median(spans)) if spans else math.inf
    return Coverage(hits / reps, reps, width, open_ / reps)
