"""Breakdown statistics: breakdown steps, the threshold estimator, the power-law fit."""

import numpy as np
import pytest

from prd_jax import breakdown


def test_threshold_estimator_recovers_a_known_threshold():
    rng = np.random.default_rng(0)
    widths = 2 ** np.arange(4, 13)
    m_true = 300.0
    seeds = np.arange(40)
    w, s = np.meshgrid(widths, seeds, indexing="ij")
    w, s = w.ravel(), s.ravel()
    p_broken = 1 / (1 + np.exp(4 * (np.log(w) - np.log(m_true))))  # 1/2 at m_true
    broken = rng.uniform(size=w.shape) < p_broken
    m_star, (lo, hi) = breakdown.estimate_threshold(w, s, broken, n_boot=400, rng=rng)
    assert lo <= m_true <= hi
    assert abs(np.log(m_star / m_true)) < np.log(1.5)


def test_threshold_width_edge_cases_and_interpolation():
    assert breakdown.threshold_width([16, 32], [1.0, 0.75]) == np.inf  # nothing holds
    assert breakdown.threshold_width([16, 32], [0.0, 0.0]) == 16  # everything holds
    # Halfway in log width between 16 (fraction 1) and 64 (fraction 0): 32.
    assert breakdown.threshold_width([64, 16], [0.0, 1.0]) == pytest.approx(32.0)


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
