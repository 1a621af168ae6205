"""Theory: closed-form identities of every bound, ODE checks, the breakdown fixed point."""

import inspect
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prd_jax import theory as th

pytestmark = pytest.mark.strict_dtypes

# A setting where Theorem 2 is not vacuous (κμ ≈ 0.78 < r0): n samples, width m, λ0, λ1∞,
# δ, r0 = ‖z(0) - y‖, critic norm L. (With L ~ sqrt(m), κμ >> r0 and T0 is undefined.)
n, m, lam0, lam1_inf, delta, r0, L = 16.0, 1024.0, 0.08, 2.5, 0.1, 4.0, 0.01
kap = float(th.kappa(lam1_inf, lam0))
mu_ = float(th.mu(L, n, m, delta))


def test_constants_closed_forms():
    assert float(th.zeta(100, 7, 0.1)) == pytest.approx(
        2 * math.sqrt(700) / (math.sqrt(2 * math.pi) * 0.1)
    )
    assert float(th.radius_R(0.1, 0.2, 10, c=0.5)) == pytest.approx(0.5 * 0.1 * 0.2 / 100)
    assert mu_ == pytest.approx(L * n * math.sqrt(2 * math.log(2 / delta)) / math.sqrt(m), rel=1e-6)
    assert float(th.lambda1(lam1_inf, lam0)) == pytest.approx(2 * lam1_inf + lam0)
    assert kap == pytest.approx(2 * lam1_inf / lam0 + 1, rel=1e-6)  # κ = 2κ∞ + 1
    # Theorem 2's condition on L is exactly κμ <= ε.
    eps = 0.3
    L_max = th.critic_norm_bound(eps, n, m, kap, delta)
    assert float(kap * th.mu(L_max, n, m, delta)) == pytest.approx(eps, rel=1e-6)
    assert float(th.diffusion_bound(n, m, L, delta)) == pytest.approx(mu_ / math.sqrt(m), rel=1e-6)
    # Huge Python ints are floats, not int32 overflows.
    assert float(th.zeta(10**12, 1, 1.0)) == pytest.approx(2e6 / math.sqrt(2 * math.pi), rel=1e-6)


def test_vmappable_over_width():
    ms = jnp.array([10, 100, 1000, 10000])
    z = jax.vmap(th.zeta, in_axes=(0, None, None))(ms, 5, 0.1)
    u = jax.jit(jax.vmap(th.mu, in_axes=(None, None, 0, None)))(L, n, ms, delta)
    msf = np.asarray(ms, dtype=np.float64)
    assert np.allclose(z, 2 * np.sqrt(5 * msf) / (np.sqrt(2 * np.pi) * 0.1), rtol=1e-6)
    assert np.allclose(u, mu_ * np.sqrt(m / msf), rtol=1e-6)


def test_bde_bound_limits_and_ode():
    t = jnp.array([0.0, 1.0, 10.0, 100.0, 1e4])
    b = th.bde_bound(t, r0, kap, mu_, lam0)
    assert float(b[0]) == pytest.approx(r0)
    assert float(b[-1]) == pytest.approx(kap * mu_, rel=1e-6)  # floor κμ, not 0
    assert np.allclose(th.bde_bound(t, r0, kap, 0.0, lam0), th.linear_rate_bound(t, r0, lam0))
    # Eq. (17) solves the comparison ODE dφ/dt = -(λ0/2)(φ - κμ) of Eq. (16).
    dphi = jax.vmap(jax.grad(th.bde_bound), in_axes=(0, None, None, None, None))(
        t, r0, kap, mu_, lam0
    )
    assert np.allclose(dphi, -0.5 * lam0 * (b - kap * mu_), rtol=1e-5, atol=1e-9)
    h = 1e-2  # central finite difference, O(h²) error
    fd = (th.bde_bound(5.0 + h, r0, kap, mu_, lam0) - th.bde_bound(5.0 - h, r0, kap, mu_, lam0)) / (
        2 * h
    )
    ode = -0.5 * lam0 * (th.bde_bound(5.0, r0, kap, mu_, lam0) - kap * mu_)
    assert float(fd) == pytest.approx(float(ode), rel=1e-3)
    # Remark 3 is on the norm: it halves every 2 log 2/λ0.
    assert float(th.linear_rate_bound(2 * math.log(2) / lam0, r0, lam0)) == pytest.approx(r0 / 2)


def test_discrete_rate_and_step_size():
    lmax = 3.0
    eta = 0.5 * float(th.max_stable_lr(lmax))
    k = jnp.arange(0.0, 50.0)
    b = th.discrete_rate_bound(k, eta, r0, lam0, lmax)
    assert float(b[0]) == pytest.approx(r0)
    assert np.all(np.diff(np.asarray(b)) < 0)
    # Beyond 2/λ_max the linearised dynamics diverge.
    assert float(th.discrete_rate_bound(10.0, 1.01 * 2 / lmax, r0, lam0, lmax)) > r0
    # Small steps recover Remark 3 at t = ηk.
    small = 1e-3
    assert float(th.discrete_rate_bound(1e4, small, r0, lam0, lmax)) == pytest.approx(
        float(th.linear_rate_bound(small * 1e4, r0, lam0)), rel=1e-3
    )


def test_t0_stationarity():
    eps = 1.0
    assert kap * mu_ < eps < r0
    T0 = th.t0_stationarity(r0, eps, kap, mu_, lam0)
    assert float(th.bde_bound(T0, r0, kap, mu_, lam0)) == pytest.approx(eps, rel=1e-5)
    out = th.t0_stationarity(r0, jnp.array([0.5 * kap * mu_, kap * mu_, 2 * r0]), kap, mu_, lam0)
    assert np.all(np.isnan(np.asarray(out)))  # outside κμ < ε < r0
    g = jax.grad(th.t0_stationarity, argnums=1)(r0, 0.5 * kap * mu_, kap, mu_, lam0)
    assert float(g) == 0.0  # the guarded log leaks no nan into gradients
    assert float(jax.grad(th.t0_stationarity, argnums=1)(r0, eps, kap, mu_, lam0)) < 0


def test_drift_bounds():
    t = jnp.array([0.0, 1.0, 10.0, 1e3, 1e4])
    sup = th.drift_bound_sup(t, n, m, r0, lam0)
    assert float(sup[0]) == 0.0
    assert float(sup[-1]) == pytest.approx(2 * math.sqrt(n) * r0 / (math.sqrt(m) * lam0), rel=1e-5)
    assert np.allclose(
        th.frobenius_drift_bound_sup(t, n, m, r0, lam0), math.sqrt(m) * sup, rtol=1e-6
    )
    assert np.allclose(th.drift_bound_adv(t, n, m, r0, lam0, kap, 0.0), sup, rtol=1e-6)
    adv = th.drift_bound_adv(t, n, m, r0, lam0, kap, mu_)
    assert np.allclose(
        th.frobenius_drift_bound_adv(t, n, m, r0, lam0, kap, mu_), math.sqrt(m) * adv, rtol=1e-6
    )
    # Eq. (26): the drift bound is the time integral of reaction + diffusion bounds.
    d_adv = jax.vmap(jax.grad(th.drift_bound_adv), in_axes=(0,) + (None,) * 6)(
        t, n, m, r0, lam0, kap, mu_
    )
    rate = th.reaction_bound(t, n, m, r0, kap, mu_, lam0) + th.diffusion_bound(n, m, L, delta)
    assert np.allclose(d_adv, rate, rtol=1e-5)
    # At large t the slope is the linear term μ(1 + κ sqrt(n))/sqrt(m) of Theorem 2.
    slope = mu_ * (1 + kap * math.sqrt(n)) / math.sqrt(m)
    assert float(d_adv[-1]) == pytest.approx(slope, rel=1e-5)


def test_o_form_bounds():
    assert float(th.theorem1_bound(n, m, lam0, delta)) == pytest.approx(
        n**1.5 / (math.sqrt(m) * lam0 * delta), rel=1e-6
    )
    assert float(th.theorem1_frobenius_bound(n, lam0, delta, C=2.0)) == pytest.approx(
        2 * n**1.5 / (lam0 * delta), rel=1e-6
    )
    t = 7.0
    lin = mu_ * (1 + kap * math.sqrt(n)) * t
    assert float(th.theorem2_bound(t, n, m, lam0, delta, kap, mu_)) == pytest.approx(
        float(th.theorem1_bound(n, m, lam0, delta)) + lin / math.sqrt(m), rel=1e-6
    )
    assert float(th.theorem2_frobenius_bound(t, n, lam0, delta, kap, mu_)) == pytest.approx(
        math.sqrt(m) * float(th.theorem2_bound(t, n, m, lam0, delta, kap, mu_)), rel=1e-6
    )
    assert float(th.width_init_concentration(n, lam0, delta)) == pytest.approx(
        n**2 / lam0**2 * math.log(n / delta), rel=1e-6
    )


@pytest.mark.parametrize("kind", ["const", "sqrt"])
def test_breakdown_width_fixed_point(kind):
    T0 = 50.0
    L_of_m = th.L_scaling(kind, scale=0.5)
    mstar = th.breakdown_width(n, lam0, delta, kap, T0, L_of_m)
    assert math.isfinite(mstar)
    rhs = float(th.breakdown_rhs(mstar, n, lam0, delta, kap, T0, L_of_m))
    assert mstar == pytest.approx(rhs, rel=1e-6)
    # Smallest solution: just below it the inequality m >= RHS(m) fails.
    below = 0.999 * mstar
    assert below < float(th.breakdown_rhs(below, n, lam0, delta, kap, T0, L_of_m))
    # Above the supervised threshold, and equal to the explicit formula when μ is constant.
    assert mstar > float(th.breakdown_width_sup(n, lam0, delta))
    if kind == "sqrt":
        mu_c = 0.5 * n * math.sqrt(2 * math.log(2 / delta))
        a = n**3.5 / (lam0**2 * delta**2) + n**2 * mu_c * (1 + kap * math.sqrt(n)) * T0 / (
            lam0 * delta
        )
        assert mstar == pytest.approx(a**2, rel=1e-9)


def test_breakdown_width_supervised_and_edge_cases():
    sup = th.breakdown_width(n, lam0, delta, kap, 50.0, th.L_scaling("const", 0.0))
    assert sup == pytest.approx(n**7 / (lam0**4 * delta**4), rel=1e-9)
    assert float(th.breakdown_width_sup(n, lam0, delta)) == pytest.approx(sup, rel=1e-5)
    assert float(th.breakdown_width_sup(n, lam0, delta, c=0.5)) == pytest.approx(4 * sup, rel=1e-5)
    # L ∝ m makes RHS ≈ B² m with B >> 1: no width suffices.
    assert th.breakdown_width(n, lam0, delta, kap, 50.0, lambda m: m) == math.inf
    # Undefined horizon (nan T0) gives inf; a scalar-only callable still works.
    assert th.breakdown_width(n, lam0, delta, kap, float("nan"), th.L_scaling("sqrt")) == math.inf
    w = th.breakdown_width(n, lam0, delta, kap, lambda mm: 50.0, lambda mm: 0.5 * math.sqrt(mm))
    assert w == pytest.approx(
        th.breakdown_width(n, lam0, delta, kap, 50.0, th.L_scaling("sqrt", 0.5))
    )
    # Tiny problems: m_min already satisfies the inequality.
    assert th.breakdown_width(1, 10.0, 0.9, 1.0, 0.0, th.L_scaling("const"), m_min=1e6) == 1e6
    with pytest.raises(ValueError, match="kind"):
        th.L_scaling("linear")


def test_every_bound_cites_its_source():
    cite = re.compile(r"\b(Eq|Eqs|Lemma|Remark|Theorem|Definition|Assumption)\b|\[W \(")
    for name in th.__all__:
        doc = inspect.getdoc(getattr(th, name)) or ""
        assert cite.search(doc), name
        assert "Returns" in doc or name == "L_scaling", name
