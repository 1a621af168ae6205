"""The theorems in their own setting, and growth measured by increments.

- Growth helpers (prd_jax.growth): windowed slopes per decade, increment
  exponents, intervals across seeds, the worst seed of an upper bound; each checked on curves
  whose answer is known, including the offset that hides growth from a cumulative log-log fit.
- Hypotheses computed from a claim's setting (experiments.theorem2): Theorem 2 and Eq. 17 apply
  only with d_out = 1, U only, the kernel regime, and a frozen critic with ||w|| <= L_bound.
- Theorem 2's setting end to end: a frozen critic projected onto ||w|| = L_bound; Eq. 17 and
  [W (43)] hold at every logged t, and the residual floor equals ||grad_z g(z*)|| (the fixed
  point of the shifted-target loss), to float32 precision.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from experiments import common
from experiments.theorem2 import theorem2_hypotheses
from prd_jax import claims, theory
from prd_jax.breakdown import fit_power_law
from prd_jax.growth import (
    decade_slopes,
    increment_exponents,
    increments,
    mean_interval,
    worst_over_seeds,
)
from prd_jax.train import TrainConfig, make_train


def _geometric_steps(last=10000):
    return np.asarray(TrainConfig(steps=last).log_steps(), np.float64)


def test_decade_slopes_of_linear_growth():
    steps = _geometric_steps()
    t = 0.5 * steps
    y = np.stack([3.0 * t + 1.0, -2.0 * t])  # two seeds
    edges, slopes = decade_slopes(steps, t, y)
    assert edges == [(1, 10), (10, 100), (100, 1000), (1000, 10000)]
    np.testing.assert_allclose(slopes[0], 3.0, rtol=1e-12)
    np.testing.assert_allclose(slopes[1], -2.0, rtol=1e-12)


def test_decade_slopes_see_saturation():
    """A saturating curve has slopes that fall decade after decade (to ~0)."""
    steps = _geometric_steps()
    t = steps * 1.0
    _, slopes = decade_slopes(steps, t, (1 - np.exp(-t / 30.0))[None])
    assert np.all(np.diff(slopes[0]) < 0) and slopes[0, -1] < 1e-12


def test_increment_exponent_recovers_growth_a_cumulative_fit_hides():
    """drift = offset + (t - t1)^p after a fast fitting phase: the increment exponent is p; the
    cumulative log-log fit over the same window is pulled far below it by the offset."""
    steps = _geometric_steps()
    t = steps * 1.0
    t1 = 0.1 * t[-1]
    p = np.array([0.5, 0.8])
    offset = 80.0
    y = offset * (1 - np.exp(-t / 5.0)) + np.clip(t - t1, 0, None)[None, :] ** p[:, None]
    np.testing.assert_allclose(increment_exponents(t, y, t1), p, atol=1e-9)
    late = t > t1
    cumulative = fit_power_law(t[late], y[0, late], bootstrap=0).exponent
    assert cumulative < 0.6 * p[0]  # the bias the issue measured (t^0.20 vs (t - t1)^0.54)
    dt, inc = increments(t, y, t1)
    assert np.all(dt > 0) and inc.shape == (2, dt.size)


def test_mean_interval_across_seeds():
    mean, ci = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0 and ci[0] < 3.0 < ci[1]
    # 95% t-interval with 4 degrees of freedom: half-width 2.776 * sd / sqrt(5)
    np.testing.assert_allclose(ci[1] - 3.0, 2.7764451 * np.std([1, 2, 3, 4, 5], ddof=1) / 5**0.5)
    assert mean_interval([2.0])[1] is None
    # A non-finite seed is not dropped silently: the mean is nan (leave diverged seeds out first).
    mean, ci = mean_interval([np.nan, 1.0, 3.0])
    assert np.isnan(mean) and np.all(np.isnan(ci))


def test_worst_over_seeds_keeps_units_and_the_largest_ratio():
    measured = np.array([[1.0, 5.0, 2.0], [2.0, 1.0, 3.0]])
    bound = np.array([[4.0, 10.0, 4.0], [4.0, 10.0, 4.0]])
    m, b = worst_over_seeds(measured, bound)
    np.testing.assert_array_equal(m, [2.0, 5.0, 3.0])
    np.testing.assert_array_equal(b, [4.0, 10.0, 4.0])
    rec = claims.upper_bound(
        "x", "x", m, b, source="test", setting={"a": 1}, hypotheses=(), seeds=2
    )
    assert rec["ratio_tightest"] == 0.75 and rec["ratio_horizon"] == 0.75


BASE = {
    "d_out": 1,
    "train": "U",
    "critic": "frozen",
    "critic_norm_over_L_bound": 1.0,
    "min_lambda_min_over_lambda0": 0.9,
}


@pytest.mark.parametrize(
    "change, holds",
    [
        ({}, True),
        ({"critic_norm_over_L_bound": 1 + 1e-6}, True),  # float32 rounding of the projection
        ({"critic_norm_over_L_bound": 1.1}, False),  # L above Theorem 2's bound
        ({"critic_norm_over_L_bound": float("nan")}, False),  # every run diverged: no norm
        ({"d_out": 4}, False),
        ({"train": "U and V"}, False),
        ({"critic": "wgan_gp"}, False),
        ({"min_lambda_min_over_lambda0": 0.4}, False),  # the kernel regime failed
    ],
)
def test_theorem2_hypotheses_from_the_setting(change, holds):
    assert theorem2_hypotheses(BASE | change) is holds
    # The same conditions, as a claim record's hypotheses: computed, never given.
    rec = claims.upper_bound(
        "b", "b", 1.0, 2.0, source="Theorem 2", setting=BASE | change,
        hypotheses=common.THEOREM2,
    )  # fmt: skip
    assert rec["hypotheses_hold"] is holds
    assert rec["verdict"] == ("holds" if holds else "outside_hypotheses")


def test_theorem2_setting_end_to_end():
    """d_out = 1, U only, frozen critic projected onto ||w|| = L_bound: Eq. 17 and [W (43)] hold
    at every logged t, and the floor is the fixed point: ||z* - y|| = ||grad_z g(z*)||."""
    n, d_in, m, delta = 8, 8, 512, 0.1
    X, Y = prd_jax.sphere(jax.random.key(21), n, d_in, 1)
    spec = prd_jax.gram_spectrum(X)
    kappa = float(theory.kappa(spec.lambda_max, spec.lambda0))
    eps = 0.1 * float(np.linalg.norm(Y))
    L = float(theory.critic_norm_bound(eps, n, m, kappa, delta))
    lr = prd_jax.suggest_lr(X, 1, train_v=False)
    cfg = TrainConfig(width=m, steps=600, lr=lr, critic="frozen", critic_radius=L, lambda_adv=1.0)
    res = jax.jit(make_train(cfg))(jax.random.key(22), cfg.hparams(), X, Y)
    met = {k: np.asarray(v, np.float64) for k, v in res.metrics.items()}
    np.testing.assert_allclose(met["critic_norm"], L, rtol=1e-5)
    assert np.min(met["lambda_min"]) >= spec.lambda0 / 2  # the kernel regime: inside
    t = np.asarray(cfg.log_steps()) * lr
    mu = float(theory.mu(L, n, m, delta))
    assert kappa * mu <= eps * (1 + 1e-5)  # L_bound is exactly kappa mu <= eps
    r0 = met["residual"][0]
    bde = np.asarray(theory.bde_bound(t, r0, kappa, mu, spec.lambda0), np.float64)
    assert np.all(met["residual"][1:] <= bde[1:])
    thm2 = np.asarray(theory.drift_bound_adv(t, n, m, r0, spec.lambda0, kappa, mu))
    assert np.all(met["drift_max"][1:] <= thm2[1:])
    gen, crit = res.final
    z = prd_jax.generator(*gen, X)
    grad = prd_jax.losses.critic_input_grad(crit.W, crit.a, z)
    floor, predicted = float(jnp.linalg.norm(z - Y)), float(jnp.linalg.norm(grad))
    assert floor > 0 and abs(floor - predicted) <= 1e-3 * predicted
    # and the floor sits far below Eq. 17's kappa mu (the bound is loose, not wrong)
    assert floor < kappa * mu
