"""Breakdown statistics: breakdown steps, the monotone threshold estimator with its paired seed
bootstrap (ties, non-monotone fractions, known thresholds), Kaplan-Meier survival with
censoring, the censored power-law fit, and the plain power-law fit."""

import math

import numpy as np
import pytest

from prd_jax import breakdown

WIDTHS = np.round(16 * 2 ** (np.arange(22) / 3)).astype(int)  # three per octave, 16 .. 2048


def _simulate(m_true, seeds, rng, slope=4.0, widths=WIDTHS):
    """Per-run outcomes with P(broken | m) = 1 / (1 + (m / m_true)^slope): 1/2 at m_true."""
    w, s = np.meshgrid(widths, np.arange(seeds), indexing="ij")
    w, s = w.ravel(), s.ravel()
    p = 1 / (1 + np.exp(slope * (np.log(w) - np.log(m_true))))
    return w, s, rng.uniform(size=w.shape) < p


# ----------------------------------------------------------------------------- m*(T)


def test_isotonic_fit_equals_scikit_learns_weighted_isotonic_regression():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(0)
    for _ in range(100):
        k = int(rng.integers(1, 15))
        y, w = rng.uniform(size=k), rng.integers(1, 6, size=k).astype(float)
        ours = breakdown.isotonic_nonincreasing(y, w)
        ref = IsotonicRegression(increasing=False).fit_transform(np.arange(k), y, sample_weight=w)
        np.testing.assert_allclose(ours, ref, atol=1e-12)
    # Vectorised over bootstrap rows: each row is its own fit.
    ys, ws = rng.uniform(size=(5, 8)), rng.integers(1, 4, size=(5, 8))
    rows = [breakdown.isotonic_nonincreasing(y, w) for y, w in zip(ys, ws, strict=True)]
    np.testing.assert_allclose(breakdown.isotonic_nonincreasing(ys, ws), rows)
    # A width without runs (weight 0, nan fraction) takes no part: nan, not its neighbour's.
    fit = breakdown.isotonic_nonincreasing([1.0, np.nan, 0.2, 0.6], [2, 0, 1, 1])
    assert np.isnan(fit[1]) and fit[0] == 1.0 and fit[2] == fit[3] == pytest.approx(0.4)


def test_ties_and_non_monotone_fractions_give_a_finite_threshold():
    # The case: a 2/4 tie at the widest width used to erase every narrower width (inf).
    m = breakdown.threshold_width([16, 32, 64, 128], [1.0, 0.75, 0.25, 0.5])
    # Pooled to 1, .75, .375, .375: the fit crosses 1/2 two thirds of the way from 32 to 64.
    assert m == pytest.approx(32 * 2 ** (2 / 3))
    # Weighted by runs: the same fractions with 8 runs at 64 and 2 at 128 pool to 1/3.
    m = breakdown.threshold_width([16, 32, 64, 128], [1.0, 0.75, 0.25, 0.5], runs=[4, 4, 8, 2])
    assert m == pytest.approx(32 * 2 ** ((0.75 - 0.5) / (0.75 - 0.3)))
    # Order of the inputs does not matter.
    assert breakdown.threshold_width([64, 16], [0.0, 1.0]) == pytest.approx(32.0)
    assert breakdown.threshold_width([16, 32], [1.0, 0.75]) == np.inf  # above the grid
    assert breakdown.threshold_width([16, 32], [0.0, 0.0]) == 0.0  # below it: m* < 16
    for bad in ([1.0, 2.0], [-0.1, 0.5]):
        with pytest.raises(ValueError, match="fraction_broken"):
            breakdown.threshold_width([16, 32], bad)
    with pytest.raises(ValueError, match="widths"):
        breakdown.threshold_width([-4, 32], [1.0, 0.0])
    with pytest.raises(ValueError, match="one entry per width"):
        breakdown.threshold_width([16, 32, 64], [1.0, 0.0])


def test_a_plateau_at_one_half_crosses_at_its_midpoint_or_is_one_sided_at_an_edge():
    # [1, .5, .5, 0]: the fit equals 1/2 from 32 to 64; the crossing is their midpoint in log m
    # (45), not the plateau's left end (32).
    assert breakdown.threshold_width([16, 32, 64, 128], [1, 0.5, 0.5, 0]) == pytest.approx(
        math.sqrt(32 * 64)
    )
    # A plateau that reaches the widest width: only ">= 32" is known.
    c = breakdown.crossing([16, 32, 64], [1.0, 0.5, 0.5])
    assert (c.position, c.bound, c.strict, c.m) == ("above_grid", 32.0, False, math.inf)
    assert breakdown.describe_width(c.m, c.bound, c.strict) == ">= 32"
    c = breakdown.crossing([16, 32, 64], [0.5, 0.5, 0.2])
    assert (c.position, c.bound, c.m) == ("below_grid", 32.0, 0.0)
    assert breakdown.crossing([16, 32], [0.5, 0.5]).position == "flat"


def test_a_width_whose_runs_all_diverged_is_dropped_not_filled_in():
    # The audit's case: fractions 1, .6, .2, 0 at widths 16 .. 128 (5 seeds each).
    widths = np.array([16, 32, 64, 128])
    frac = np.array([1.0, 0.6, 0.2, 0.0])
    w, s = np.meshgrid(widths, np.arange(5), indexing="ij")
    broken = np.arange(5)[None, :] < (5 * frac)[:, None]
    full = breakdown.estimate_threshold(w.ravel(), s.ravel(), broken.ravel(), n_boot=50)
    assert full.m_star == pytest.approx(2**5.25)  # 38.1
    valid = (w != 32).ravel()  # every run at width 32 diverged
    est = breakdown.estimate_threshold(w.ravel(), s.ravel(), broken.ravel(), valid, n_boot=50)
    assert est.dropped_widths == (32,) and 32 not in est.widths
    # As if width 32 had never been run (38.1), not 24.7 from a neighbour's pooled value.
    assert est.m_star == pytest.approx(2**5.25)


def test_threshold_estimator_recovers_a_known_threshold():
    rng = np.random.default_rng(1)
    errors = []
    for _ in range(20):
        w, s, broken = _simulate(300.0, seeds=7, rng=rng)
        est = breakdown.estimate_threshold(w, s, broken, n_boot=300, rng=rng)
        errors.append(abs(np.log2(est.m_star / 300.0)))
        assert est.position == "inside" and np.all(np.diff(est.fitted) <= 0)
        assert est.level == breakdown.calibrated_level(7) == 0.99 and est.seeds == 7
    assert np.median(errors) < 0.25  # within a quarter octave, typically


def test_the_calibrated_interval_covers_a_known_threshold_the_plain_one_does_not():
    """Coverage by simulation at the quick sweep's design (15 widths, two per octave, 7 seeds):
    the calibrated interval reaches its nominal 95% (within simulation error), the plain 95%
    percentile interval of the same bootstrap falls short (the audit measured 83-89%)."""
    from prd_jax import coverage

    widths = np.round(16 * 2 ** (np.arange(15) / 2))
    model = dict(spread=0.5, noise=0.2, reps=120, n_boot=400, seed=3)
    calibrated = coverage.threshold_coverage(widths, 7, **model)
    plain = coverage.threshold_coverage(widths, 7, level=0.95, **model)
    assert calibrated.coverage >= 0.91, calibrated  # 95% nominal; 120 reps: sd 2 points
    assert plain.coverage <= 0.92, plain
    assert calibrated.median_width > plain.median_width


def test_bootstrap_resamples_whole_seeds_and_diverged_runs_have_no_outcome():
    rng = np.random.default_rng(2)
    w, s, broken = _simulate(100.0, seeds=5, rng=rng)
    # Every replicate drawing only seed 3 gives seed 3's own threshold.
    only3 = breakdown.estimate_threshold(w, s, broken, picks=np.full((4, 5), 3))
    alone = breakdown.estimate_threshold(w[s == 3], s[s == 3], broken[s == 3], n_boot=1)
    assert np.all(only3.boots == alone.m_star)
    # A diverged run is neither broken nor unbroken: flipping its outcome changes nothing.
    valid = np.ones_like(broken)
    valid[(w == WIDTHS[10]) & (s == 0)] = False
    flipped = broken.copy()
    flipped[~valid] = ~flipped[~valid]
    a = breakdown.estimate_threshold(w, s, broken, valid, n_boot=200)
    b = breakdown.estimate_threshold(w, s, flipped, valid, n_boot=200)
    assert a.m_star == b.m_star and a.ci == b.ci
    assert a.runs[10] == 4 and a.runs.sum() == len(w) - 1
    # A threshold above or below the grid says so.
    assert breakdown.estimate_threshold(w, s, np.ones_like(broken)).position == "above_grid"
    low = breakdown.estimate_threshold(w, s, np.zeros_like(broken))
    assert low.position == "below_grid" and low.m_star == 0.0 and low.bound == WIDTHS[0]
    assert breakdown.describe_threshold(low)[0] == f"< {WIDTHS[0]}"
    high = breakdown.estimate_threshold(w, s, np.ones_like(broken))
    assert breakdown.describe_threshold(high) == (
        f"> {WIDTHS[-1]}",
        f"[> {WIDTHS[-1]}, > {WIDTHS[-1]}]",
    )


def _two_horizons(broken_ref, broken_later, seeds=7):
    w = np.repeat(WIDTHS[:8], seeds)
    s = np.tile(np.arange(seeds), 8)
    picks = breakdown.bootstrap_picks(seeds, 300)
    ref = breakdown.estimate_threshold(w, s, broken_ref(w), picks=picks)
    later = breakdown.estimate_threshold(w, s, broken_later(w), picks=picks)
    unbroken = ~broken_ref(w)
    changed = int((unbroken & broken_later(w)).sum())
    return breakdown.threshold_change(ref, later, changed, int(unbroken.sum()))


def test_unchanged_horizons_give_a_count_not_a_degenerate_interval():
    same = _two_horizons(lambda w: w < 60, lambda w: w < 60)
    at_risk = int((WIDTHS[:8] >= 60).sum()) * 7
    assert same.kind == "no_change" and same.changed == 0 and same.at_risk == at_risk
    # One-sided 95% Clopper-Pearson bound on the per-run rate with 0 of N: 1 - 0.05^(1/N).
    assert same.upper_rate == pytest.approx(1 - 0.05 ** (1 / at_risk))
    assert breakdown.clopper_pearson_upper(0, 27) == pytest.approx(0.1050, abs=1e-4)
    assert math.isnan(same.ci[0])  # no bootstrap interval is reported


def test_a_change_to_beyond_the_grid_is_one_sided_with_its_finite_end():
    grow = _two_horizons(lambda w: w < 60, lambda w: w < 1e9)  # later: every width broken
    widest = WIDTHS[7]
    assert grow.kind == "at_least"
    # Not "twice the widest width": the data show only m* > widest.
    ref_m = breakdown.threshold_width(WIDTHS[:8], (WIDTHS[:8] < 60).astype(float))
    assert grow.octaves == pytest.approx(np.log2(widest / ref_m))
    assert grow.ci[1] == np.inf and grow.ci[0] <= grow.octaves


# ----------------------------------------------------------------------------- survival


def test_kaplan_meier_on_the_textbook_example():
    # Freireich et al. (1963), 6-MP arm: + marks a censored time.
    data = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
    times = np.array([float(d.rstrip("+")) for d in data])
    observed = np.array([not d.endswith("+") for d in data])
    km = breakdown.kaplan_meier(times, observed)
    np.testing.assert_array_equal(km.times, [6, 7, 10, 13, 16, 22, 23])
    np.testing.assert_allclose(
        km.survival, [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482], atol=5e-5
    )
    np.testing.assert_array_equal(km.at_risk, [21, 17, 15, 12, 11, 7, 6])
    assert km.runs == 21 and km.censored == 12
    assert np.all(km.lower <= km.survival) and np.all(km.survival <= km.upper)
    median, lo, hi = breakdown.km_median(km)
    assert median == 23 and lo <= median and hi == np.inf  # the upper band stays above 1/2


def test_kaplan_meier_interval_covers_the_true_survival_under_censoring():
    rng = np.random.default_rng(3)
    t0, hits, sims = 1.0, 0, 300
    for _ in range(sims):
        event = rng.exponential(1.5, 40)
        censor = rng.uniform(0.5, 3.0, 40)  # about a third of the runs censored
        km = breakdown.kaplan_meier(np.minimum(event, censor), event <= censor)
        k = np.searchsorted(km.times, t0, side="right") - 1
        hits += km.lower[k] <= np.exp(-t0 / 1.5) <= km.upper[k]
    assert hits >= 0.9 * sims, hits


def test_median_is_undefined_when_most_runs_survive_and_nothing_broke_is_flat():
    km = breakdown.kaplan_meier([5.0, 100, 100, 100], [True, False, False, False])
    assert breakdown.km_median(km)[0] == np.inf
    none = breakdown.kaplan_meier([100.0, 100.0], [False, False])
    assert none.times.size == 0 and none.censored == 2 and breakdown.km_median(none)[0] == np.inf
    with pytest.raises(ValueError, match="differ"):
        breakdown.kaplan_meier([1.0, 2.0], [True])


def _censored_sample(rng, exponent=1.2, sigma=0.3, horizon=1e4, seeds=7):
    widths = np.repeat(2.0 ** np.arange(4, 12), seeds)
    groups = np.tile(np.arange(seeds), 8)
    t = 3 * widths**exponent * np.exp(sigma * rng.standard_normal(widths.size))
    log_steps = np.unique(np.round(np.geomspace(1, horizon, 37)))  # 9 per decade, as logged
    observed = t <= horizon
    k = np.searchsorted(log_steps, np.minimum(t, horizon))
    t_high = np.where(observed, log_steps[np.minimum(k, len(log_steps) - 1)], horizon)
    t_low = np.where(observed & (k > 0), log_steps[np.maximum(k - 1, 0)], 0.0)
    return widths, t_high, observed, t_low, groups


def test_censored_fit_recovers_the_exponent_that_dropping_unbroken_runs_biases():
    rng = np.random.default_rng(4)
    w, t_high, observed, t_low, groups = _censored_sample(rng)
    assert 0.2 < 1 - observed.mean() < 0.5  # the widest widths are mostly censored
    fit = breakdown.fit_censored_power_law(w, t_high, observed, t_low)
    assert fit.identified and fit.ci_low <= 1.2 <= fit.ci_high and abs(fit.exponent - 1.2) < 0.1
    assert fit.runs == w.size and fit.events == observed.sum() and not fit.at_bound
    # The old way (broken runs only, exact times) is pulled down by the missing late breakdowns.
    naive = breakdown.fit_power_law(w[observed], t_high[observed], bootstrap=0)
    assert naive.exponent < fit.exponent - 0.02


def test_censored_fit_is_not_identified_when_no_slope_is():
    w = np.repeat([16.0, 32.0, 64.0], 3)
    # Every run broke before the first log point: any slope fits.
    fit = breakdown.fit_censored_power_law(w, np.full(9, 5.0), np.ones(9, bool))
    assert np.isnan(fit.exponent) and fit.events == 9 and not fit.identified
    # Breakdowns at one width only, the rest censored: a lower bound at most.
    observed = w == 16
    fit = breakdown.fit_censored_power_law(w, np.where(observed, 50.0, 1000.0), observed)
    assert np.isnan(fit.exponent) and not fit.identified
    as_json = breakdown.censored_fit_json(fit)
    assert as_json["exponent"] is None and as_json["text"].startswith("not identified")


def _readme_like_case(one_seed=False):
    """The audit's case: 28 runs at widths 724 .. 2048 (7 seeds), 3 breakdowns at <= 50 steps,
    the rest unbroken at 10 000 steps."""
    log_steps = np.unique(np.round(np.geomspace(1, 1e4, 37)))
    widths = np.repeat([724.0, 1024.0, 1448.0, 2048.0], 7)
    observed = np.zeros(28, bool)
    observed[[0, 7, 14] if one_seed else [0, 1, 8]] = True  # widths 724, 724, 1024 / 724-1448
    t_high = np.full(28, 1e4)
    t_high[observed] = [20.0, 30.0, 50.0]
    k = np.searchsorted(log_steps, t_high)
    t_low = np.where(observed, log_steps[np.maximum(k - 1, 0)], 0.0)
    return widths, t_high, observed, t_low


def test_an_exponent_at_the_fits_bound_is_not_identified_and_keeps_its_finite_end():
    fit = breakdown.fit_censored_power_law(*_readme_like_case())
    assert not fit.identified and np.isnan(fit.exponent)
    # The profile-likelihood set is [about 2, >= the search range]: only ">= 2" is supported.
    assert 1.0 < fit.ci_low < 4.0 and fit.ci_high == np.inf
    text = breakdown.describe_exponent(fit)
    assert text.startswith("not identified (>= +") and "10.00" not in text


def test_breakdowns_all_in_one_seed_do_not_give_a_narrow_interval():
    # The audit's bootstrap interval was [2.43, 2.60] while the likelihood is flat over [-10, 10].
    fit = breakdown.fit_censored_power_law(*_readme_like_case(one_seed=True))
    assert not fit.identified or fit.ci_high - fit.ci_low > 5


def test_the_profile_interval_covers_a_known_exponent():
    from prd_jax import coverage

    log_steps = np.unique(np.round(np.geomspace(1, 1e4, 37)))
    cov = coverage.exponent_coverage(
        [724, 1024, 1448, 2048], 7, log_steps, exponent=3.0, intercept=-14.0, sigma=1.0,
        seed_sd=0.0, reps=40, seed=5,
    )  # fmt: skip
    assert cov.coverage >= 0.85, cov  # nominal 95%; 40 reps, measured 93% at 150 (docs)


# ----------------------------------------------------------------------------- the rest


def test_breakdown_steps_and_criteria():
    vals = np.array([[0.0, 0.1, 0.3, 0.2], [0.0, 0.0, 0.1, 0.1]])
    np.testing.assert_array_equal(
        breakdown.breakdown_steps(vals, [0, 10, 20, 30], 0.15), [20, np.inf]
    )
    assert breakdown.criterion_threshold("kernel", 0.4, 10) == pytest.approx(0.1)
    assert breakdown.criterion_threshold("relative", 0.4, 10, rel_threshold=0.2) == 0.2
    # R = c delta lambda0 / n^2 (Remark 1).
    assert breakdown.criterion_threshold("drift", 0.4, 10, 0.1, 2.0) == pytest.approx(
        2.0 * 0.1 * 0.4 / 100
    )
    with pytest.raises(ValueError, match="unknown criterion"):
        breakdown.criterion_threshold("vibes", 0.4, 10)
    np.testing.assert_array_equal(
        breakdown.mode_of([0.0, 1.0, 0.5]), ["supervised", "adversarial", "adversarial"]
    )


def test_power_law_fit_exact_noisy_and_degenerate():
    x = np.array([16.0, 64, 256, 1024])
    fit = breakdown.fit_power_law(x, 3 * x**-0.5, bootstrap=100)
    assert fit.exponent == pytest.approx(-0.5, abs=1e-9)
    assert fit.prefactor == pytest.approx(3.0)
    rng = np.random.default_rng(1)
    xs = np.repeat(x, 20)
    noisy = 2 * xs**0.7 * np.exp(0.1 * rng.standard_normal(xs.size))
    fit = breakdown.fit_power_law(xs, noisy, bootstrap=200)
    assert fit.ci_low < 0.7 < fit.ci_high and fit.ci_high - fit.ci_low < 0.1
    bad = breakdown.fit_power_law([1.0, -1.0], [1.0, 2.0])
    assert np.isnan(bad.exponent) and bad.n_points == 1
    as_json = breakdown.fit_json(bad)
    assert as_json["exponent"] is None and as_json["ci"] == [None, None]


def test_growth_exponent_over_the_late_window():
    t = np.geomspace(1, 1000, 40)  # window: the last 90% of t, p = 1 once 2t dominates 5
    assert abs(breakdown.growth_exponent(t, 5 + 2 * t).exponent - 1.0) < 0.05
    assert abs(breakdown.growth_exponent(t, 7 - np.exp(-t)).exponent) < 1e-3


def test_vectorised_crossings_equal_the_scalar_rule_row_by_row():
    rng = np.random.default_rng(9)
    widths = np.round(16 * 2 ** (np.arange(10) / 2))
    values = rng.uniform(size=(500, 10))
    values[::5] = np.round(values[::5] * 4) / 4  # ties and plateaus at exactly 1/2
    weights = rng.integers(0, 4, size=(500, 10))  # some widths without runs (nan)
    fitted = breakdown.isotonic_nonincreasing(values, weights)
    rows = [breakdown.crossing(widths, row).m for row in fitted]
    np.testing.assert_array_equal(breakdown.crossing_width(widths, fitted), rows)


def test_an_interval_is_never_narrower_than_the_widths_that_bracket_the_threshold():
    # Every seed broken at 4096 and none at 8192: every replicate interpolates to 5793, but the
    # data place m* only between the two widths.
    widths = np.array([1024, 2048, 4096, 8192])
    w, s = np.meshgrid(widths, np.arange(7), indexing="ij")
    est = breakdown.estimate_threshold(w.ravel(), s.ravel(), (w < 6000).ravel(), n_boot=200)
    assert est.m_star == pytest.approx(math.sqrt(4096 * 8192))
    assert est.ci == (4096.0, 8192.0)
    assert breakdown.describe_threshold(est) == ("5793", "[4096, 8192]")
