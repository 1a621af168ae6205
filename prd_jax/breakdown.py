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
import warnings
from typing import NamedTuple

import numpy as np

from prd_jax import theory

# Criterion name -> the metric it thresholds.
CRITERIA = {
    "kernel": "kernel_dev",
    "drift": "drift_max",
    "relative": "drift_rel",
    "linearization": "lin_gap",
}


def criterion_threshold(
    criterion: str,
    lambda0: float,
    n: int,
    delta: float = 0.1,
    radius_c: float = 1.0,
    rel_threshold: float = 0.1,
    lin_threshold: float = 0.1,
) -> float:
    """The threshold of a criterion on its metric: ``lambda0 / 4``, ``R``, ``rel_threshold`` or
    ``lin_threshold`` (the linearisation gap, a fraction of how far the outputs moved)."""
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; one of {sorted(CRITERIA)}")
    if criterion == "kernel":
        return lambda0 / 4.0
    if criterion == "drift":
        return float(theory.radius_R(delta, lambda0, n, radius_c))
    if criterion == "linearization":
        return float(lin_threshold)
    return float(rel_threshold)


def mode_of(lambda_adv) -> np.ndarray:
    """``"supervised"`` where lambda_adv == 0, else ``"adversarial"``."""
    return np.where(np.asarray(lambda_adv) == 0, "supervised", "adversarial")


def breakdown_steps(values, log_steps, threshold) -> np.ndarray:
    """First log step at which ``values (B, L)`` exceed ``threshold``; ``inf`` if never."""
    values = np.asarray(values, np.float64)
    log_steps = np.asarray(log_steps, np.float64)
    if values.ndim != 2 or log_steps.ndim != 1 or values.shape[1] != log_steps.shape[0]:
        raise ValueError(
            f"breakdown_steps: values {values.shape} must be (runs, L) with one column per log "
            f"step; log_steps has shape {log_steps.shape}"
        )
    if not math.isfinite(float(threshold)):
        raise ValueError(f"breakdown_steps: threshold must be a finite number, got {threshold!r}")
    broken = values > threshold
    first = np.argmax(broken, axis=1)
    steps = log_steps[first]
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
# interpolated linearly in log m between the two widths where the fit crosses 1/2; outside the
# grid it is one-sided ("> widest", "< narrowest"), never a number.
#
# Why a calibrated percentile level: with S seeds the seed bootstrap has at most C(2S-1, S)
# distinct replicates, and its percentile interval of a median-like statistic under-covers (89-
# 93% for a nominal 95% at 7 seeds, docs/coverage.md). The interval is the percentile interval
# at the level ``calibrated_level(S)`` whose simulated coverage of a known threshold is at least
# 95% (at least 93% in every generating model tried); below 7 seeds no level reaches 93%, and the
# interval is labelled with its measured coverage instead (``interval_coverage_note``).

# Seeds -> percentile level of the m* bootstrap whose simulated coverage is >= 93% in every
# generating model of docs/coverage.md (and >= 95% on average); the first entry <= S applies.
CALIBRATED_LEVELS = ((15, 0.97), (11, 0.98), (7, 0.99), (1, 0.995))
# Fewer seeds than this: no percentile level reaches 93% coverage (docs/coverage.md).
MIN_CALIBRATED_SEEDS = 7


def calibrated_level(seeds: int) -> float:
    """The bootstrap percentile level that gives a nominal-95% interval of m* at ``seeds``
    seeds (``CALIBRATED_LEVELS``, measured by ``prd_jax.coverage``)."""
    if not (isinstance(seeds, int | np.integer) and seeds >= 1):
        raise ValueError(f"calibrated_level: seeds must be an integer >= 1, got {seeds!r}")
    return next(level for s, level in CALIBRATED_LEVELS if seeds >= s)


def interval_coverage_note(seeds: int) -> str:
    """How the m* interval was made and what its coverage is, for the record's note."""
    level = calibrated_level(seeds)
    if seeds < MIN_CALIBRATED_SEEDS:
        return (
            f"paired seed bootstrap at the {100 * level:g}% percentile level; with {seeds} seeds "
            "its measured coverage is below 93% (91-95% at 5 seeds, docs/coverage.md): "
            "use >= 7 seeds for a 95% interval"
        )
    return (
        f"paired seed bootstrap, percentile level {100 * level:g}%, calibrated so that the "
        f"interval covers a known threshold >= 93% of the time at {seeds} seeds "
        "(docs/coverage.md)"
    )


def isotonic_nonincreasing(values, weights) -> np.ndarray:
    """Weighted least-squares non-increasing fit to ``values (..., K)`` along the last axis.

    Uses the min-max formula ``f_i = min_{s <= i} max_{t >= i} A(s, t)`` (``A`` the weighted
    mean of entries ``s..t``; Barlow et al. 1972), vectorised over leading axes (bootstrap
    replicates); O(K^2) per row, meant for the tens of widths of a sweep. Entries of weight 0
    (no run with an outcome there; ``values`` may be nan) take no part in the fit and are nan
    in the result: a width whose runs all diverged is absent, not filled in from a neighbour.

    Args:
      values: ``(..., K)`` observed fractions.
      weights: ``(..., K)`` non-negative weights (run counts), broadcast against ``values``.

    Returns:
      ``(..., K)`` the fitted non-increasing sequence over the entries of positive weight.
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
    return np.where(np.isfinite(fitted) & (w > 0), fitted, np.nan)


# Positions of a threshold relative to the grid (``Crossing.position``).
INSIDE, ABOVE, BELOW, FLAT = "inside", "above_grid", "below_grid", "flat"
# A fitted probability within this of the level counts as equal to it (pooled means of counts).
_LEVEL_TOL = 1e-9


class Crossing(NamedTuple):
    """Where a non-increasing fit falls to a level, with what the grid allows to say.

    ``m`` is the crossing width when ``position`` is ``"inside"``; ``inf`` above the grid (the
    fit never falls to the level: ``m > bound``), ``0.0`` below it (already at or below the
    level at the narrowest width: ``m < bound``), nan for ``"flat"`` (the fit equals the level
    at every width) or no data. ``strict``: the one-sided statement is ``>``/``<`` (false:
    ``>=``/``<=``, for a plateau at exactly the level that reaches the grid's edge).
    """

    m: float
    position: str
    bound: float
    strict: bool = True
    # The widths between which the fit crosses the level (0 / inf beyond the grid): the data
    # place the crossing no more finely than this; linear interpolation picks a point in it.
    bracket: tuple[float, float] = (0.0, math.inf)


def crossing(widths, fitted, level: float = 0.5) -> Crossing:
    """Where a non-increasing ``fitted (K,)`` over ascending ``widths (K,)`` falls to ``level``.

    Interpolated linearly in log width between the last width above the level and the first
    below it. Entries that are nan (widths without runs) are skipped. A fit equal to the level
    over a run of widths (a plateau) crosses at the plateau's midpoint in log m; a plateau that
    reaches an edge of the grid gives a one-sided answer (``>= `` its left end, ``<=`` its right
    end). Above the grid: ``m = inf``, ``bound`` the widest width; below: ``m = 0``, ``bound`` the
    narrowest.
    """
    w = np.asarray(widths, np.float64)
    f = np.asarray(fitted, np.float64)
    ok = ~np.isnan(f)
    w, f = w[ok], f[ok]
    if w.size == 0:
        return Crossing(math.nan, FLAT, math.nan)
    lw = np.log(w)
    equal = np.abs(f - level) <= _LEVEL_TOL
    if equal.any():
        i0, i1 = np.flatnonzero(equal)[[0, -1]]
        if i0 == 0 and i1 == w.size - 1:
            return Crossing(math.nan, FLAT, math.nan)
        if i0 == 0:
            return Crossing(0.0, BELOW, float(w[i1]), False, (0.0, float(w[i1 + 1])))
        if i1 == w.size - 1:
            return Crossing(math.inf, ABOVE, float(w[i0]), False, (float(w[i0 - 1]), math.inf))
        m = float(np.exp(0.5 * (lw[i0] + lw[i1])))
        return Crossing(m, INSIDE, math.nan, True, (float(w[i0 - 1]), float(w[i1 + 1])))
    below = f < level
    if not below.any():
        return Crossing(math.inf, ABOVE, float(w[-1]), True, (float(w[-1]), math.inf))
    i = int(np.argmax(below))
    if i == 0:
        return Crossing(0.0, BELOW, float(w[0]), True, (0.0, float(w[0])))
    frac = (f[i - 1] - level) / (f[i - 1] - f[i])
    m = float(np.exp(lw[i - 1] + frac * (lw[i] - lw[i - 1])))
    return Crossing(m, INSIDE, math.nan, True, (float(w[i - 1]), float(w[i])))


def crossing_width(widths, fitted, level: float = 0.5) -> np.ndarray:
    """``crossing(...).m`` of each row of ``fitted (..., K)`` (inf above the grid, 0 below it,
    nan flat or empty), vectorised over the rows: the bootstrap replicates of a threshold."""
    lw = np.log(np.asarray(widths, np.float64))
    f = np.asarray(fitted, np.float64)
    shape = f.shape[:-1]
    f = f.reshape(-1, f.shape[-1])
    k = np.arange(f.shape[-1])
    valid = ~np.isnan(f)
    first_valid = np.where(valid.any(1), np.argmax(valid, 1), -1)
    last_valid = np.where(valid.any(1), f.shape[1] - 1 - np.argmax(valid[:, ::-1], 1), -1)
    # Index of the last valid entry at or before each position (-1: none).
    upto = np.maximum.accumulate(np.where(valid, k, -1), axis=1)
    equal = valid & (np.abs(f - level) <= _LEVEL_TOL)
    below = valid & (f < level) & ~equal
    rows = np.arange(f.shape[0])
    i0 = np.argmax(equal, 1)
    i1 = f.shape[1] - 1 - np.argmax(equal[:, ::-1], 1)
    plateau = np.exp(0.5 * (lw[i0] + lw[i1]))
    plateau = np.where(i0 == first_valid, 0.0, np.where(i1 == last_valid, np.inf, plateau))
    plateau = np.where((i0 == first_valid) & (i1 == last_valid), np.nan, plateau)
    i = np.argmax(below, 1)
    prev = upto[rows, np.maximum(i - 1, 0)]
    f_i, f_p = f[rows, i], f[rows, np.maximum(prev, 0)]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (f_p - level) / (f_p - f_i)
        inner = np.exp(lw[np.maximum(prev, 0)] + frac * (lw[i] - lw[np.maximum(prev, 0)]))
    cross = np.where(i == first_valid, 0.0, inner)
    cross = np.where(below.any(1), cross, np.inf)
    out = np.where(equal.any(1), plateau, cross)
    out = np.where(valid.any(1), out, np.nan)
    return out.reshape(shape)


def threshold_width(widths, fraction_broken, runs=None) -> float:
    """``m*`` from per-width broken fractions: the isotonic fit weighted by ``runs`` per width
    (equal weights if none), then ``crossing`` at 1/2 (inf above the grid, 0 below it). Ties and
    non-monotone fractions are pooled, never propagated: ``[1, .75, .25, .5]`` over
    ``[16, 32, 64, 128]`` gives about 51, not ``inf``."""
    w = np.asarray(widths, np.float64).ravel()
    f = np.asarray(fraction_broken, np.float64).ravel()
    n = np.ones_like(f) if runs is None else np.asarray(runs, np.float64).ravel()
    if not (w.shape == f.shape == n.shape):
        raise ValueError(
            f"threshold_width: widths {w.shape}, fraction_broken {f.shape} and runs {n.shape} "
            "must have one entry per width"
        )
    if np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"threshold_width: widths must be positive, got {w.tolist()}")
    if np.any((f < 0) | (f > 1)):
        raise ValueError(f"threshold_width: fraction_broken must lie in [0, 1], got {f.tolist()}")
    if np.any(~np.isfinite(n)) or np.any(n < 0):
        raise ValueError(f"threshold_width: runs must be counts >= 0, got {n.tolist()}")
    order = np.argsort(w)
    return crossing(w[order], isotonic_nonincreasing(f[order], n[order])).m


class Threshold(NamedTuple):
    """The threshold width at one horizon, with the fit it comes from (per width, ascending).

    ``m_star`` is a number only when ``position == "inside"``: above the grid it is ``inf``
    (read: ``m* > bound``), below it ``0.0`` (``m* < bound``); ``describe_threshold`` writes
    them. ``ci`` ends follow the same encoding (``inf``/``0.0`` for ends beyond the grid).
    """

    m_star: float
    ci: tuple[float, float]  # calibrated percentile interval of the paired seed bootstrap
    position: str  # "inside", "above_grid", "below_grid" or "flat"
    bound: float  # the grid edge of a one-sided threshold (nan inside)
    strict: bool  # ">"/"<" (False: ">="/"<=", a plateau at 1/2 reaching the edge)
    widths: np.ndarray  # (K,) widths with at least one run with an outcome
    runs: np.ndarray  # (K,) runs with an outcome (diverged runs excluded) per width
    broken: np.ndarray  # (K,) runs broken by the horizon per width
    fitted: np.ndarray  # (K,) isotonic P(broken by T | width)
    fitted_ci: np.ndarray  # (2, K) pointwise band of the fit over the bootstrap
    boots: np.ndarray  # (n_boot,) bootstrap replicates of m_star (inf above, 0 below the grid)
    level: float  # the percentile level used (calibrated for the number of seeds)
    seeds: int  # seeds with at least one outcome
    dropped_widths: tuple  # widths where every run diverged (no outcome: left out of the fit)


def outcome_table(run_width, run_seed, broken, valid=None, seed_ids=None):
    """Per (seed, width) counts: ``(seeds (S,), widths (K,), broken (S, K), runs (S, K))``;
    runs with ``valid`` false (diverged) count in neither. ``seed_ids``: the rows (default the
    seeds present), e.g. the union of two modes' seeds so that one set of bootstrap picks pairs
    them (a seed without runs here is a row of zeros)."""
    run_width, run_seed = np.asarray(run_width), np.asarray(run_seed)
    broken = np.asarray(broken, bool)
    valid = np.ones(run_width.shape, bool) if valid is None else np.asarray(valid, bool)
    if not (run_width.shape == run_seed.shape == broken.shape == valid.shape):
        raise ValueError(
            f"outcome_table: run_width {run_width.shape}, run_seed {run_seed.shape}, broken "
            f"{broken.shape} and valid {valid.shape} must have one entry per run"
        )
    if seed_ids is None:
        seeds, si = np.unique(run_seed, return_inverse=True)
    else:
        seeds = np.asarray(seed_ids)
        si = np.searchsorted(seeds, run_seed)
        if np.any(si >= len(seeds)) or np.any(seeds[np.minimum(si, len(seeds) - 1)] != run_seed):
            raise ValueError("outcome_table: a run's seed is missing from seed_ids")
    widths, wi = np.unique(run_width, return_inverse=True)
    b = np.zeros((len(seeds), len(widths)))
    n = np.zeros((len(seeds), len(widths)))
    np.add.at(b, (si, wi), (broken & valid).astype(np.float64))
    np.add.at(n, (si, wi), valid.astype(np.float64))
    return seeds, widths, b, n


def bootstrap_picks(n_seeds: int, n_boot: int, rng=None) -> np.ndarray:
    """``(n_boot, n_seeds)`` seed indices drawn with replacement; pass the same picks to
    every horizon (and mode) whose thresholds are compared, to keep the bootstrap paired."""
    rng = rng if rng is not None else np.random.default_rng(0)
    return rng.integers(0, n_seeds, size=(n_boot, n_seeds))


def _percentile_interval(boots, level) -> tuple[float, float]:
    """The ``level`` percentile interval of replicates that may be inf (above the grid) or 0
    (below it); "lower"/"higher" pick resampled values, so those stay what they are."""
    boots = np.asarray(boots, np.float64)
    boots = boots[~np.isnan(boots)]
    if not boots.size:
        return (math.nan, math.nan)
    tail = (1 - level) / 2
    return (
        float(np.quantile(boots, tail, method="lower")),
        float(np.quantile(boots, 1 - tail, method="higher")),
    )


def estimate_threshold(
    run_width, run_seed, broken, valid=None, *, n_boot=1000, rng=None, picks=None, level=None,
    seed_ids=None,
) -> Threshold:  # fmt: skip
    """``m*(T)`` from per-run outcomes, with a bootstrap over seeds paired across widths.

    The isotonic fit of ``P(broken | width)`` uses every run with an outcome (a width's weight
    is its number of runs; widths whose runs all diverged are dropped and listed); each
    bootstrap replicate draws seeds with replacement, each seed bringing all its widths, and
    refits. The interval is the replicates' percentile interval at ``level`` (default
    ``calibrated_level(seeds)``: a nominal 95% interval whose coverage was measured).

    Args:
      run_width, run_seed, broken: ``(B,)`` one mode at one horizon.
      valid: ``(B,)`` false for runs without an outcome (diverged); default all true.
      n_boot: resamples (ignored when ``picks`` is given).
      picks: ``(n_boot, S)`` seed indices into ``np.unique(run_seed)`` (``bootstrap_picks``).
      level: percentile level of the interval (default: calibrated for the seeds).
      seed_ids: the seeds ``picks`` index (default those present; see ``outcome_table``).

    Returns:
      ``Threshold``; ``m_star`` nan when no run has an outcome.
    """
    seeds, widths, b, n = outcome_table(run_width, run_seed, broken, valid, seed_ids)
    runs, hits = n.sum(0), b.sum(0)
    dropped = tuple(int(w) for w in widths[runs == 0])
    keep = runs > 0
    widths, b, n, runs, hits = widths[keep], b[:, keep], n[:, keep], runs[keep], hits[keep]
    has_outcome = n.sum(1) > 0
    n_seeds = int(has_outcome.sum())
    if level is None:
        level = calibrated_level(max(n_seeds, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted = isotonic_nonincreasing(hits / runs, runs)
    point = crossing(widths, fitted)
    if picks is None:
        picks = bootstrap_picks(len(n), n_boot, rng)
    counts = (picks[..., None] == np.arange(len(n))).sum(-2).astype(np.float64)  # (R, S)
    runs_b, hits_b = counts @ n, counts @ b
    with np.errstate(invalid="ignore", divide="ignore"):
        fitted_b = isotonic_nonincreasing(hits_b / runs_b, runs_b)
    boots = crossing_width(widths, fitted_b) if widths.size else np.zeros(0)
    ci = _percentile_interval(boots, level)
    if point.position == INSIDE and not math.isnan(ci[0]):
        # Never narrower than the widths that bracket the estimate: when every replicate crosses
        # between the same two widths (all broken at one, none at the next), the replicates all
        # interpolate to one point, and that zero-width interval would measure nothing.
        ci = (min(ci[0], point.bracket[0]), max(ci[1], point.bracket[1]))
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan columns: widths absent
        band = (
            np.nanquantile(fitted_b, [tail, 1 - tail], axis=0)
            if boots.size and widths.size
            else np.full((2, len(widths)), np.nan)
        )
    return Threshold(
        point.m, ci, point.position, point.bound, point.strict, widths, runs, hits, fitted,
        band, boots, float(level), n_seeds, dropped,
    )  # fmt: skip


def _fmt_width(m: float) -> str:
    return f"{m:.0f}" if m >= 10 else f"{m:.3g}"


def describe_width(m: float, bound: float = math.nan, strict: bool = True) -> str:
    """A threshold or interval end as text: a number inside the grid, ``"> 2048"`` above it
    (``m`` inf), ``"< 16"`` below it (``m`` 0), ``"n/a"`` when undefined."""
    if m is None or (isinstance(m, float) and math.isnan(m)):
        return "n/a"
    if math.isinf(m):
        return f"{'>' if strict else '>='} {_fmt_width(bound)}" if math.isfinite(bound) else "inf"
    if m == 0.0:
        return f"{'<' if strict else '<='} {_fmt_width(bound)}" if math.isfinite(bound) else "0"
    return _fmt_width(m)


def interval_octaves(ci) -> float:
    """The width of an m* interval ``(lo, hi)`` in octaves, ``log2(hi / lo)``; inf when an end
    is open (``lo`` 0 or ``hi`` inf: the interval runs off the grid)."""
    lo, hi = ci
    if not (lo > 0 and math.isfinite(hi)):
        return math.inf
    return math.log2(hi / lo)


def describe_threshold(th: Threshold) -> tuple[str, str]:
    """``(m*, interval)`` as text: ``("> 2048", "[1500, > 2048]")``, ``("609", "[461, 861]")``;
    the interval's ends beyond the grid are one-sided at the grid's edges."""
    lo_edge = float(th.widths[0]) if len(th.widths) else math.nan
    hi_edge = float(th.widths[-1]) if len(th.widths) else math.nan
    if th.position == FLAT:
        point = "not identified (the fit equals 1/2 at every width)"
    else:
        point = describe_width(th.m_star, th.bound, th.strict)

    def end(m):
        return describe_width(m, hi_edge if math.isinf(m) else lo_edge)

    lo, hi = th.ci
    interval = "n/a" if math.isnan(lo) or math.isnan(hi) else f"[{end(lo)}, {end(hi)}]"
    return point, interval


class Change(NamedTuple):
    """How ``m*`` moves from a reference horizon to a later one, in octaves (log2).

    ``kind``: ``"value"`` (both thresholds inside the grid: ``octaves`` with a paired
    interval), ``"at_least"``/``"at_most"`` (one of them beyond the grid: ``octaves`` is the
    bound the grid allows, and only the finite end of the interval is reported),
    ``"no_change"`` (no run changed status between the horizons: the statement is the count,
    with a one-sided Clopper-Pearson bound on the per-run probability of breaking later; an
    interval that every bootstrap replicate collapses to one value is not reported either),
    ``"not_measurable"`` (both beyond the same edge, or a single horizon).
    """

    kind: str
    octaves: float  # nan when not measurable
    ci: tuple[float, float]  # paired-bootstrap interval (nan ends where undefined)
    changed: int  # runs unbroken at the reference horizon that broke by the later one
    at_risk: int  # runs unbroken (with an outcome) at the reference horizon
    upper_rate: float  # one-sided 95% Clopper-Pearson upper bound on changed / at_risk


def clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    """One-sided ``level`` upper confidence bound on a binomial probability from ``k`` of ``n``
    (Clopper-Pearson; ``1 - (1 - level)^(1/n)`` when ``k = 0``); nan for ``n = 0``."""
    from scipy import stats

    if n <= 0:
        return math.nan
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(level, k + 1, n - k))


def threshold_change(ref: Threshold, later: Threshold, changed: int, at_risk: int) -> Change:
    """``log2 m*(later) - log2 m*(ref)`` for two thresholds of the same runs and bootstrap
    picks (``estimate_threshold(..., picks=...)`` at both horizons), one-sided where either
    lies beyond the grid, and a count when no run changed status (then every bootstrap
    replicate gives exactly the same difference, and that degenerate interval is no measure).

    ``changed`` / ``at_risk``: runs unbroken at the reference horizon (with an outcome) that
    broke by the later one / all of them.
    """
    rate = clopper_pearson_upper(changed, at_risk)
    nan2 = (math.nan, math.nan)
    if changed == 0:
        return Change("no_change", 0.0, nan2, changed, at_risk, rate)
    positions = {ref.position, later.position}
    if FLAT in positions or (ref.position == later.position != INSIDE):
        return Change("not_measurable", math.nan, nan2, changed, at_risk, rate)
    lo_edge, hi_edge = float(later.widths[0]), float(later.widths[-1])

    def clip(m):
        return np.log2(np.clip(np.asarray(m, np.float64), lo_edge, hi_edge))

    value = float(clip(later.m_star) - clip(ref.m_star))
    with np.errstate(invalid="ignore"):
        diffs = clip(later.boots) - clip(ref.boots)
    level = min(later.level, ref.level)
    tail = (1 - level) / 2
    diffs = diffs[np.isfinite(diffs)]
    q = np.quantile(diffs, [tail, 1 - tail]) if diffs.size else np.array([math.nan] * 2)
    if later.position == ABOVE or ref.position == BELOW:  # the true change is larger
        return Change("at_least", value, (float(q[0]), math.inf), changed, at_risk, rate)
    if later.position == BELOW or ref.position == ABOVE:  # the true change is smaller
        return Change("at_most", value, (-math.inf, float(q[1])), changed, at_risk, rate)
    if q[0] == q[1]:  # every replicate agrees: a degenerate interval measures nothing
        q = np.array([math.nan, math.nan])
    return Change("value", value, (float(q[0]), float(q[1])), changed, at_risk, rate)


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
    if np.any(np.isnan(t)) or np.any(t < 0):
        bad = t[np.isnan(t) | (t < 0)][:3].tolist()
        raise ValueError(f"kaplan_meier: times must be >= 0 (steps or t), got {bad}")
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
    """Log-normal regression ``log T_b = intercept + exponent log m + sigma eps``.

    ``exponent`` is the maximum-likelihood slope when it is identified, nan otherwise; the
    interval is the profile-likelihood 95% set of the slope (``ci_low``/``ci_high``; ``-inf``
    or ``inf`` where the set runs to ``max_exponent`` without closing). Identified means: the
    maximum is interior and the set is bounded on both sides. Otherwise ``mle`` keeps the
    optimiser's value for the record, and only the finite end of the set is supported
    ("not identified (>= 2)").
    """

    exponent: float  # nan unless identified
    ci_low: float  # profile-likelihood 95% set (-inf: unbounded below within max_exponent)
    ci_high: float  # (+inf: unbounded above)
    intercept: float
    sigma: float
    runs: int  # runs in the fit (broken and censored)
    events: int  # broken runs
    widths: int  # distinct widths
    at_bound: bool  # the likelihood's maximum lies at +-max_exponent
    identified: bool  # an interior maximum and a bounded profile set
    mle: float  # the optimiser's slope (at the bound when at_bound); nan without a fit
    reason: str  # why it is not identified ("" when it is)


def _log_interval_prob(a, b):
    """``log(Phi(b) - Phi(a))`` for ``a < b``, accurate in both tails."""
    from scipy.special import log_ndtr

    flip = a > 0  # Phi(b) - Phi(a) = Phi(-a) - Phi(-b): keep the larger term away from 1
    hi = np.where(flip, -a, b)
    lo = np.where(flip, -b, a)
    lhi, llo = log_ndtr(hi), log_ndtr(lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        return lhi + np.log1p(-np.exp(np.minimum(llo - lhi, 0.0)))


def _censored_nll(theta, lx, lhi, llo, obs):
    """Negative log-likelihood of ``(intercept, exponent, log sigma)`` and its gradient."""
    from scipy.special import log_ndtr

    half_log_2pi = 0.5 * math.log(2 * math.pi)
    has_lo = np.isfinite(llo)
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


# log sigma is kept in [log 1e-3, log 1e3]: the likelihood of interval-censored data is
# unbounded as sigma -> 0 when every run fits exactly, so the bound keeps it finite.
_LOG_SIGMA_BOUNDS = (math.log(1e-3), math.log(1e3))


def _censored_mle(lx, lhi, llo, obs, max_exponent, start=None):
    """Maximum-likelihood ``(intercept, exponent, log sigma)`` and the maximal log-likelihood."""
    from scipy.optimize import minimize

    if start is None:
        start = (float(np.mean(lhi)), 0.0, math.log(max(float(np.std(lhi)), 0.1)))
    bounds = [(None, None), (-max_exponent, max_exponent), _LOG_SIGMA_BOUNDS]
    # SLSQP, not L-BFGS-B: scipy's L-BFGS-B calls BLAS on 3-vectors, and OpenBLAS's threads
    # made it 50x slower on a busy 2-core machine.
    res = minimize(
        _censored_nll, np.asarray(start, np.float64), args=(lx, lhi, llo, obs), jac=True,
        method="SLSQP", bounds=bounds,
    )  # fmt: skip
    return res.x, -float(res.fun)


def _profile_loglik(p, lx, lhi, llo, obs, ref):
    """``max over (intercept, log sigma)`` of the log-likelihood at slope ``p``, and the
    maximiser. Two starts: ``ref = (p0, c0, log_s0)`` carried to ``p`` (the intercept shifted to
    keep the mean prediction), and a fresh one; the better is kept (near-separated data make a
    single start unreliable)."""
    from scipy.optimize import minimize

    def nll2(theta):
        value, grad = _censored_nll((theta[0], p, theta[1]), lx, lhi, llo, obs)
        return value, grad[[0, 2]]

    p0, c0, log_s0 = ref
    mean_lx = float(np.mean(lx))
    starts = [
        (c0 - (p - p0) * mean_lx, log_s0),
        (float(np.mean(lhi)) - p * mean_lx, math.log(max(float(np.std(lhi)), 0.1))),
    ]
    best = None
    for start in starts:
        res = minimize(
            nll2, np.asarray(start, np.float64), jac=True, method="SLSQP",
            bounds=[(None, None), _LOG_SIGMA_BOUNDS],
        )  # fmt: skip
        if best is None or res.fun < best.fun:
            best = res
    return -float(best.fun), (p, float(best.x[0]), float(best.x[1]))


def profile_interval(lx, lhi, llo, obs, p_hat, ll_max, c_hat, log_s_hat, max_exponent,
                     level=0.95) -> tuple[float, float]:  # fmt: skip
    """The profile-likelihood ``level`` set of the slope: ``{p : 2 (ll_max - pl(p)) <= chi2_1}``
    walked outwards from ``p_hat`` in growing steps, then bisected; an end that does not close
    within ``+-max_exponent`` is ``-inf``/``inf``."""
    from scipy import stats

    cut = 0.5 * float(stats.chi2.ppf(level, 1))
    best = [ll_max]

    def inside(p, ref):
        ll, theta = _profile_loglik(p, lx, lhi, llo, obs, ref)
        best[0] = max(best[0], ll)  # an optimiser that missed the maximum: keep the best seen
        return best[0] - ll <= cut, theta

    ends = []
    for direction in (-1.0, 1.0):
        ref = (p_hat, c_hat, log_s_hat)
        p_in, step, end = p_hat, 0.25, None
        while end is None:
            p_try = float(np.clip(p_in + direction * step, -max_exponent, max_exponent))
            ok, theta = inside(p_try, ref)
            if ok and abs(p_try) >= max_exponent:
                end = direction * math.inf
            elif ok:
                p_in, ref, step = p_try, theta, min(2.0 * step, 4.0)
            else:
                lo_p, hi_p = sorted((p_in, p_try))
                while hi_p - lo_p > 1e-3:
                    mid = 0.5 * (lo_p + hi_p)
                    ok_mid, _ = inside(mid, ref)
                    if ok_mid == (direction < 0):
                        hi_p = mid
                    else:
                        lo_p = mid
                end = 0.5 * (lo_p + hi_p)
        ends.append(end)
    return float(ends[0]), float(ends[1])


def fit_censored_power_law(
    x, t_high, observed, t_low=None, *, level=0.95, max_exponent=30.0, groups=None
) -> CensoredFit:  # fmt: skip
    """Fit ``T_b ∝ x^p`` to censored breakdown times by maximum likelihood (log-normal errors),
    with the profile-likelihood interval of ``p``.

    A broken run contributes ``P(t_low < T_b <= t_high)`` (its breakdown was first seen at
    log step ``t_high``, and had not happened at the previous one ``t_low``; ``t_low`` 0 or
    None: ``P(T_b <= t_high)``); an unbroken run contributes ``P(T_b > t_high)`` (censored at
    the horizon). So unbroken runs pull the exponent up instead of being dropped, and
    breakdowns tied on one log step are not treated as exact.

    The interval is the set of slopes whose profile log-likelihood lies within
    ``chi2_1(level) / 2`` of the maximum; ``exponent`` is reported only when that set is
    bounded on both sides inside ``+-max_exponent`` and the maximum is interior. With few
    breakdowns, all in one log interval, or at one width, the set is unbounded on a side and
    the fit says "not identified", keeping the finite end (e.g. ``>= 2``).

    Args:
      x: ``(N,)`` widths; t_high, t_low: ``(N,)`` times; observed: ``(N,)`` broken or not.
      level: coverage of the profile-likelihood set.
      max_exponent: the search range of ``p``.
      groups: accepted for compatibility and ignored (the profile interval needs no resampling).

    Returns:
      ``CensoredFit``.
    """
    del groups
    x = np.asarray(x, np.float64).ravel()
    hi = np.asarray(t_high, np.float64).ravel()
    obs = np.asarray(observed, bool).ravel()
    lo = np.zeros_like(hi) if t_low is None else np.asarray(t_low, np.float64).ravel()
    if not (x.shape == hi.shape == obs.shape == lo.shape):
        raise ValueError(
            f"fit_censored_power_law: x {x.shape}, t_high {hi.shape}, observed {obs.shape} "
            f"and t_low {lo.shape} must have one entry per run"
        )
    keep = np.isfinite(x) & (x > 0) & np.isfinite(hi) & (hi > 0)
    x, hi, lo, obs = x[keep], hi[keep], lo[keep], obs[keep]
    nan = math.nan
    n_wid = len(np.unique(x))
    runs, events = int(x.size), int(obs.sum())

    def unfit(reason):
        return CensoredFit(nan, nan, nan, nan, nan, runs, events, n_wid, False, False, nan, reason)

    if events == 0:
        return unfit("no run broke down")
    if n_wid < 2:
        return unfit("a single width")
    if len(np.unique(hi)) < 2:
        return unfit("every run has the same observation time")
    lx, lhi = np.log(x), np.log(hi)
    with np.errstate(divide="ignore"):
        llo = np.where(lo > 0, np.log(np.maximum(lo, 1e-300)), -np.inf)
    (c, p, log_s), ll_max = _censored_mle(lx, lhi, llo, obs, max_exponent)
    at_bound = abs(p) >= max_exponent - 1e-6
    ci_lo, ci_hi = profile_interval(lx, lhi, llo, obs, p, ll_max, c, log_s, max_exponent, level)
    bounded = math.isfinite(ci_lo) and math.isfinite(ci_hi)
    identified = bounded and not at_bound
    reason = ""
    if not identified:
        reason = (
            "the likelihood's maximum lies at the search bound"
            if at_bound
            else "the profile-likelihood set does not close on one side"
        ) + f" ({events} of {runs} runs broke, at {len(np.unique(x[obs]))} width(s))"
    return CensoredFit(
        float(p) if identified else nan, ci_lo, ci_hi, float(c), float(math.exp(log_s)), runs,
        events, n_wid, bool(at_bound), bool(identified), float(p), reason,
    )  # fmt: skip


def describe_exponent(fit: "CensoredFit | dict", fmt: str = "{:+.2f}") -> str:
    """A censored exponent as text: ``"+3.23 [+2.33, +3.84]"`` when identified, otherwise
    ``"not identified (>= +2.0)"`` with the finite end of its profile set, if any."""
    get = fit.get if isinstance(fit, dict) else lambda k, d=None: getattr(fit, k, d)
    lo, hi = get("ci_low"), get("ci_high")
    if isinstance(fit, dict):
        lo, hi = (fit.get("ci") or [None, None])[:2]
        lo = -math.inf if lo is None and fit.get("ci_low_unbounded") else lo
        hi = math.inf if hi is None and fit.get("ci_high_unbounded") else hi
    exp = get("exponent")
    if (
        exp is not None
        and isinstance(exp, float | int)
        and math.isfinite(exp)
        and get("identified", True)
    ):
        return f"{fmt.format(exp)} [{fmt.format(lo)}, {fmt.format(hi)}]"
    if get("runs", 0) and get("reason", "") and lo is None and hi is None:
        return "not identified"
    finite_lo = lo is not None and math.isfinite(lo)
    finite_hi = hi is not None and math.isfinite(hi)
    if finite_lo and not finite_hi:
        return f"not identified (>= {fmt.format(lo)})"
    if finite_hi and not finite_lo:
        return f"not identified (<= {fmt.format(hi)})"
    return "not identified"


def censored_fit_json(fit: CensoredFit) -> dict:
    """A censored fit as plain JSON (None where undefined; an interval end that does not close
    is None with ``ci_low_unbounded``/``ci_high_unbounded`` true)."""

    return {
        "exponent": _finite(fit.exponent),
        "ci": [_finite(fit.ci_low), _finite(fit.ci_high)],
        "ci_low_unbounded": fit.ci_low == -math.inf,
        "ci_high_unbounded": fit.ci_high == math.inf,
        "interval": "profile likelihood",
        "identified": fit.identified,
        "mle": _finite(fit.mle),
        "reason": fit.reason,
        "intercept": _finite(fit.intercept),
        "sigma": _finite(fit.sigma),
        "runs": fit.runs,
        "events": fit.events,
        "widths": fit.widths,
        "at_bound": fit.at_bound,
        "text": describe_exponent(fit),
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
