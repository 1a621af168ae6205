"""Every bound of the PRD paper (Rout, AAAI 2021) as a pure, elementwise function.

Equation numbers "(k)" are those of the AAAI paper/slides; "[W (k)]" those of the NeurIPS
2020 ML4PS workshop version (see ``docs/mathematics.md``).

Two kinds of bound live here, and the names say which:

* **Explicit (pre-O) bounds**, with every constant as derived in the proofs:
  ``zeta`` (Lemma 1), ``radius_R`` (Remark 1, with its constant ``c``), ``mu``,
  ``lambda1`` / ``kappa`` (Lemma 4), ``bde_bound`` (Eq. 17), ``linear_rate_bound``
  (Remark 3), ``reaction_bound`` (Eqs. 18/20), ``diffusion_bound`` (Eq. 25),
  ``t0_stationarity``, ``drift_bound_sup`` (Theorem 1 before Markov), ``drift_bound_adv``
  ([W (43)]) and their Frobenius versions. They take the measured initial residual
  ``r0 = ‖z(0) − y‖₂`` instead of its Markov bound O(n/δ).
* **O-form bounds**, "up to an unknown constant": the paper states Theorems 1-2 and the
  breakdown threshold with O(·)/Ω(·). Here the unknown constant is an argument ``C``
  (or, for the threshold, the Remark 1 constant ``c``), **set to 1 by default**. Their
  absolute values are therefore only indicative; their scaling in n, m, λ0, δ, t is exact.

All functions except ``breakdown_width``/``breakdown_rhs`` (host-side, numpy/scipy, they
solve a fixed point) use ``jax.numpy`` elementwise: they accept Python numbers or arrays,
are jittable and vmappable, and follow JAX's float dtype (float32 unless x64 is on, so
very large values such as ``breakdown_width_sup`` at large n may overflow to inf).

Symbols: n samples, m width, d_in input dimension, δ failure probability, λ0 = λ_min(H∞),
λ1∞ = λ_max(H∞), κ = λ1/λ0 with λ1 = 2λ1∞ + λ0 (Lemma 4), L ≥ ‖w‖₂ the critic norm,
μ = L n sqrt(2 log(2/δ))/sqrt(m), t continuous gradient-flow time (t = η × steps).
"""

import functools
import inspect
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

__all__ = [
    "L_scaling",
    "bde_bound",
    "breakdown_rhs",
    "breakdown_width",
    "breakdown_width_sup",
    "critic_norm_bound",
    "diffusion_bound",
    "discrete_rate_bound",
    "drift_bound_adv",
    "drift_bound_sup",
    "frobenius_drift_bound_adv",
    "frobenius_drift_bound_sup",
    "hoeffding_bound",
    "kappa",
    "lambda1",
    "linear_rate_bound",
    "max_stable_lr",
    "mu",
    "radius_R",
    "reaction_bound",
    "t0_stationarity",
    "theorem1_bound",
    "theorem1_frobenius_bound",
    "theorem2_bound",
    "theorem2_frobenius_bound",
    "width_init_concentration",
    "zeta",
]


# What each argument may be, by name: (test on a float64 array, what is allowed). Checked on
# concrete values only (traced ones pass: the functions stay jittable); NaN propagates.
_ARGUMENT_RULES = {
    "t": (lambda v: v >= 0, ">= 0"),
    "k": (lambda v: v >= 0, ">= 0"),
    "T0": (lambda v: ~(v < 0), ">= 0"),
    "delta": (lambda v: (v > 0) & (v <= 1), "in (0, 1]"),
    "n": (lambda v: v > 0, "> 0"),
    "m": (lambda v: v > 0, "> 0"),
    "d_in": (lambda v: v > 0, "> 0"),
    "lambda0": (lambda v: v > 0, "> 0"),
    "lambda_max": (lambda v: v > 0, "> 0"),
    "lambda1_inf": (lambda v: v >= 0, ">= 0"),
    "kappa": (lambda v: v > 0, "> 0"),
    "r0": (lambda v: v >= 0, ">= 0"),
    "eps": (lambda v: v > 0, "> 0"),
    "w_norm": (lambda v: v >= 0, ">= 0"),
    "L": (lambda v: v >= 0, ">= 0"),
    "mu": (lambda v: v >= 0, ">= 0"),
    "eta": (lambda v: v > 0, "> 0"),
    "C": (lambda v: v > 0, "> 0"),
    "c": (lambda v: v > 0, "> 0"),
    "scale": (lambda v: v >= 0, ">= 0"),
}


def _checked(fn):
    """Validate ``fn``'s concrete numeric arguments by name (``_ARGUMENT_RULES``): a
    ValueError naming the function, the argument and the value, instead of a silent NaN,
    inf or negative bound."""
    signature = inspect.signature(fn)
    names = [p for p in signature.parameters if p in _ARGUMENT_RULES]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        for name in names:
            if name not in bound.arguments:
                continue
            value = bound.arguments[name]
            if value is None or callable(value) or isinstance(value, jax.core.Tracer):
                continue
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"theory.{fn.__name__}: {name} must be a number or an array of numbers, "
                    f"got {value!r}"
                ) from None
            ok, allowed = _ARGUMENT_RULES[name]
            if not np.all(ok(arr) | np.isnan(arr)):
                shown = value if arr.size <= 6 else f"an array with {arr[~ok(arr)][:3]} ..."
                raise ValueError(f"theory.{fn.__name__}: {name} must be {allowed}, got {shown!r}")
        return fn(*args, **kwargs)

    return wrapper


def _f(x):
    """``x`` as a JAX float array (ints, including huge Python ints, become floats)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and jnp.issubdtype(dtype, jnp.inexact):
        return jnp.asarray(x)
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _decay(lambda0, t):
    """``1 − exp(−λ0 t/2)``, accurate for small λ0 t (expm1)."""
    return -jnp.expm1(-0.5 * _f(lambda0) * _f(t))


# --------------------------------------------------------------------------- constants


@_checked
def zeta(m, d_in, delta):
    """Lemma 1 radius of the initial weight ball: ``ζ = 2 sqrt(m d_in)/(sqrt(2π) δ)``.

    With probability ≥ 1 − δ, ``‖U(0)‖_F ≤ ζ`` for ``u_jk ~ N(0, 1)`` (Markov on
    E|u_jk| = 2/sqrt(2π), as in the proof of Lemma 1).

    Args:
      m: width. d_in: input dimension. delta: failure probability δ ∈ (0, 1).

    Returns:
      ζ, elementwise in the (broadcast scalar) arguments.
    """
    return 2.0 * jnp.sqrt(_f(m)) * jnp.sqrt(_f(d_in)) / (math.sqrt(2.0 * math.pi) * _f(delta))


@_checked
def radius_R(delta, lambda0, n, c=1.0):
    """Remark 1 kernel-regime radius: ``R = c δ λ0 / n²``.

    If every neuron stays within R of its initialisation, ``‖H − H(0)‖₂ ≤ λ0/4`` and
    ``λ_min(H) ≥ λ0/2``. The paper leaves the "small positive constant" c unspecified.

    Args:
      delta: δ. lambda0: λ0 = λ_min(H∞). n: number of samples. c: Remark 1's constant.

    Returns:
      R.
    """
    return _f(c) * _f(delta) * _f(lambda0) / _f(n) ** 2


@_checked
def hoeffding_bound(w_norm, delta):
    """Lemma 3 (Eq. 12, [W (25)]): w.p. ≥ 1 − δ, ``|Σ_r a_r w_r| ≤ ‖w‖₂ sqrt(2 log(2/δ))``.

    Args:
      w_norm: ‖w‖₂ (or its bound L). delta: δ.

    Returns:
      The Hoeffding radius.
    """
    return _f(w_norm) * jnp.sqrt(2.0 * jnp.log(2.0 / _f(delta)))


@_checked
def mu(L, n, m, delta):
    """Adversarial gradient scale (Eq. 15, [W (30)]): ``μ = L n sqrt(2 log(2/δ)) / sqrt(m)``.

    Bounds ‖∇_z Σ_p g(w, a, z_p)‖₂ w.p. ≥ 1 − δ when ‖w‖₂ ≤ L. Note that μ depends on m:
    it is constant in m when L ∝ sqrt(m) (‖w‖₂ of an N(0, I) init) and ∝ 1/sqrt(m) when
    L is a constant.

    Args:
      L: critic norm bound. n: samples. m: width. delta: δ.

    Returns:
      μ.
    """
    return hoeffding_bound(L, delta) * _f(n) / jnp.sqrt(_f(m))


@_checked
def lambda1(lambda1_inf, lambda0):
    """Lemma 4: ``λ1 = 2 λ1∞ + λ0``, so that ``λ_max(H(t)) ≤ λ1/2`` in the kernel regime.

    Args:
      lambda1_inf: λ1∞ = λ_max(H∞). lambda0: λ0 = λ_min(H∞).

    Returns:
      λ1.
    """
    return 2.0 * _f(lambda1_inf) + _f(lambda0)


@_checked
def kappa(lambda1_inf, lambda0):
    """Lemma 4 / [W (34)]: ``κ = λ1/λ0 = (2 λ1∞ + λ0)/λ0 = 2 κ∞ + 1``.

    Not the condition number κ∞ = λ1∞/λ0 of H∞ (``kernels.Spectrum.kappa``).

    Args:
      lambda1_inf: λ1∞ = λ_max(H∞). lambda0: λ0 = λ_min(H∞).

    Returns:
      κ.
    """
    return lambda1(lambda1_inf, lambda0) / _f(lambda0)


@_checked
def critic_norm_bound(eps, n, m, kappa, delta):
    """Theorem 2's condition on the critic: ``L ≤ ε sqrt(m) / (κ n sqrt(2 log(2/δ)))``.

    Equivalent to κμ ≤ ε, the requirement for the residual to reach the ε-ball
    (``t0_stationarity``). The paper writes it as O(·); this is the constant-1 form.

    Args:
      eps: ε. n: samples. m: width. kappa: κ of Lemma 4. delta: δ.

    Returns:
      The largest admissible L.
    """
    return _f(eps) * jnp.sqrt(_f(m)) / (_f(kappa) * hoeffding_bound(_f(n), delta))


@_checked
def width_init_concentration(n, lambda0, delta, C=1.0):
    """Du et al. (2018) Lemma 3.1, used in Lemma 4: ``m = Ω(n²/λ0² log(n/δ))``.

    Above this width ``‖H(0) − H∞‖₂ ≤ λ0/4`` w.p. ≥ 1 − δ. O-form: up to an unknown
    constant C (default 1).

    Args:
      n: samples. lambda0: λ0. delta: δ. C: the unknown constant.

    Returns:
      The width C n² log(n/δ)/λ0².
    """
    n = _f(n)
    return _f(C) * n**2 * jnp.log(n / _f(delta)) / _f(lambda0) ** 2


# ----------------------------------------------------------------- residual dynamics


@_checked
def linear_rate_bound(t, r0, lambda0):
    """Remark 3 (supervised linear rate): ``‖z(t) − y‖₂ ≤ exp(−λ0 t/2) ‖z(0) − y‖₂``.

    A bound on the residual norm (its square decays like exp(−λ0 t)), valid while
    λ_min(H(t)) ≥ λ0/2.

    Args:
      t: gradient-flow time. r0: ‖z(0) − y‖₂. lambda0: λ0.

    Returns:
      The bound on ‖z(t) − y‖₂.
    """
    return jnp.exp(-0.5 * _f(lambda0) * _f(t)) * _f(r0)


@_checked
def bde_bound(t, r0, kappa, mu, lambda0):
    """Eq. (17) ([W (35)]), Bernoulli-ODE solution with an adversary:

    ``‖z(t) − y‖₂ ≤ (‖z(0) − y‖₂ − κμ) exp(−λ0 t/2) + κμ``.

    φ(t) = right-hand side solves dφ/dt = −(λ0/2)(φ − κμ), the comparison ODE of
    Eq. (16) with ψ = φ². Linear convergence to a floor κμ, not to zero; equals
    ``linear_rate_bound`` when μ = 0.

    Args:
      t: time. r0: ‖z(0) − y‖₂. kappa: κ (Lemma 4). mu: μ. lambda0: λ0.

    Returns:
      The bound on ‖z(t) − y‖₂.
    """
    floor = _f(kappa) * _f(mu)
    return (_f(r0) - floor) * jnp.exp(-0.5 * _f(lambda0) * _f(t)) + floor


@_checked
def discrete_rate_bound(k, eta, r0, lambda0, lambda_max):
    """Discrete-time analogue of Remark 3 for gradient descent with step η on the sum loss.

    For the linearised dynamics ``z_{k+1} − y = (I − η H)(z_k − y)`` with the spectrum of
    H in [λ0/2, λ_max]: ``‖z_k − y‖₂ ≤ ρ^k ‖z_0 − y‖₂`` with
    ``ρ = max(|1 − η λ0/2|, |1 − η λ_max|)``. ρ < 1 iff η < 2/λ_max
    (``max_stable_lr``); for small η, ρ^k ≈ exp(−λ0 (η k)/2), Remark 3 at t = η k.

    Args:
      k: number of GD steps. eta: step size η. r0: ‖z_0 − y‖₂. lambda0: λ0.
      lambda_max: λ_max(H).

    Returns:
      The bound on ‖z_k − y‖₂ (grows when η ≥ 2/λ_max: divergence).
    """
    eta = _f(eta)
    rho = jnp.maximum(jnp.abs(1.0 - 0.5 * eta * _f(lambda0)), jnp.abs(1.0 - eta * _f(lambda_max)))
    return rho ** _f(k) * _f(r0)


@_checked
def max_stable_lr(lambda_max):
    """Largest stable GD step: ``η < 2/λ_max(H)`` (docs/mathematics.md, section 3).

    Gradient descent (Eq. 4 discretised) on the prediction dynamics of Remark 2,
    ``z_{k+1} − y = (I − η H)(z_k − y)``, contracts iff every |1 − η λ_i(H)| < 1.

    Args:
      lambda_max: λ_max of the (empirical) Gram matrix.

    Returns:
      2/λ_max.
    """
    return 2.0 / _f(lambda_max)


@_checked
def t0_stationarity(r0, eps, kappa, mu, lambda0):
    """ε-stationarity time ([W end of B.2]): ``T0 = (2/λ0) log((r0 − κμ)/(ε − κμ))``.

    For t ≥ T0 the bound of Eq. (17) is ≤ ε, i.e. ``bde_bound(T0) = ε``. Defined only for
    ``κμ < ε < r0``; returns **nan** otherwise (ε ≤ κμ: the floor is never crossed, the
    time is infinite; ε ≥ r0: the residual starts inside the ε-ball). Gradient-safe.

    Args:
      r0: ‖z(0) − y‖₂. eps: ε. kappa: κ. mu: μ. lambda0: λ0.

    Returns:
      T0, or nan outside ``κμ < ε < r0``.
    """
    r0, eps = _f(r0), _f(eps)
    floor = _f(kappa) * _f(mu)
    valid = (floor < eps) & (eps < r0)
    ratio = (r0 - floor) / jnp.where(valid, eps - floor, 1.0)
    T0 = 2.0 / _f(lambda0) * jnp.log(jnp.where(valid, ratio, 1.0))
    return jnp.where(valid, T0, jnp.nan)


# ------------------------------------------------------------------ gradient bounds


@_checked
def reaction_bound(t, n, m, r0, kappa, mu, lambda0):
    """Eqs. (18)/(20): ``‖∂L_sup/∂u_j(t)‖₂ ≤ (sqrt(n)/sqrt(m)) · bde_bound(t)``.

    The reaction term's norm for one neuron, ``sqrt(n/m) ((r0 − κμ) e^{−λ0 t/2} + κμ)``;
    with μ = 0 it is the supervised bound of Theorem 1's proof.

    Args:
      t: time. n: samples. m: width. r0: ‖z(0) − y‖₂. kappa: κ. mu: μ. lambda0: λ0.

    Returns:
      Bound on the per-neuron reaction norm.
    """
    return jnp.sqrt(_f(n) / _f(m)) * bde_bound(t, r0, kappa, mu, lambda0)


@_checked
def diffusion_bound(n, m, L, delta):
    """Eq. (25): per-neuron diffusion ``‖∂L_adv/∂u_j‖₂ ≤ L n sqrt(2 log(2/δ))/m = μ/sqrt(m)``.

    Args:
      n: samples. m: width. L: critic norm bound. delta: δ.

    Returns:
      Bound on the per-neuron diffusion norm.
    """
    return mu(L, n, m, delta) / jnp.sqrt(_f(m))


# -------------------------------------------------------------- drift (Theorems 1, 2)


@_checked
def drift_bound_sup(t, n, m, r0, lambda0):
    """Theorem 1 before Markov ([W (10)-(16)]), per neuron, supervised:

    ``‖u_j(t) − u_j(0)‖₂ ≤ 2 sqrt(n) r0 (1 − exp(−λ0 t/2)) / (sqrt(m) λ0)``.

    Explicit bound with the measured r0 = ‖z(0) − y‖₂; the theorem's
    O(n^{3/2}/(sqrt(m) λ0 δ)) follows from r0 = O(n/δ) (``theorem1_bound``).

    Args:
      t: time. n: samples. m: width. r0: ‖z(0) − y‖₂. lambda0: λ0.

    Returns:
      Bound on the drift of one neuron.
    """
    return 2.0 * jnp.sqrt(_f(n)) * _f(r0) * _decay(lambda0, t) / (jnp.sqrt(_f(m)) * _f(lambda0))


@_checked
def frobenius_drift_bound_sup(t, n, m, r0, lambda0):
    """Theorem 1, Frobenius form: ``‖U(t) − U(0)‖_F ≤ sqrt(m) · drift_bound_sup``.

    ``= 2 sqrt(n) r0 (1 − exp(−λ0 t/2)) / λ0``, independent of m.

    Args:
      t: time. n: samples. m: width. r0: ‖z(0) − y‖₂. lambda0: λ0.

    Returns:
      Bound on ‖U(t) − U(0)‖_F.
    """
    return jnp.sqrt(_f(m)) * drift_bound_sup(t, n, m, r0, lambda0)


@_checked
def drift_bound_adv(t, n, m, r0, lambda0, kappa, mu):
    """[W (43)] (Theorem 2 before Markov), per neuron, with the adversary:

    ``‖u_j(t) − u_j(0)‖₂ ≤ 2 sqrt(n)(r0 − κμ)(1 − e^{−λ0 t/2})/(sqrt(m) λ0)
    + μ(1 + κ sqrt(n)) t / sqrt(m)``,

    the time integral of ``reaction_bound + diffusion_bound`` (Eq. 26). The second term
    grows linearly in t: the breakdown mechanism. Equals ``drift_bound_sup`` when μ = 0.

    Args:
      t: time. n: samples. m: width. r0: ‖z(0) − y‖₂. lambda0: λ0. kappa: κ. mu: μ.

    Returns:
      Bound on the drift of one neuron.
    """
    n, m, t, kmu = _f(n), _f(m), _f(t), _f(kappa) * _f(mu)
    transient = 2.0 * jnp.sqrt(n) * (_f(r0) - kmu) * _decay(lambda0, t) / _f(lambda0)
    linear = _f(mu) * (1.0 + _f(kappa) * jnp.sqrt(n)) * t
    return (transient + linear) / jnp.sqrt(m)


@_checked
def frobenius_drift_bound_adv(t, n, m, r0, lambda0, kappa, mu):
    """[W (43)] × sqrt(m), Theorem 2's Frobenius ("spatial grid of neurons") form:

    ``‖U(t) − U(0)‖_F ≤ 2 sqrt(n)(r0 − κμ)(1 − e^{−λ0 t/2})/λ0 + μ(1 + κ sqrt(n)) t``.

    Args:
      t: time. n: samples. m: width. r0: ‖z(0) − y‖₂. lambda0: λ0. kappa: κ. mu: μ.

    Returns:
      Bound on ‖U(t) − U(0)‖_F.
    """
    return jnp.sqrt(_f(m)) * drift_bound_adv(t, n, m, r0, lambda0, kappa, mu)


@_checked
def theorem1_bound(n, m, lambda0, delta, C=1.0):
    """Theorem 1, per neuron, up to an unknown constant C (default 1):

    ``‖u_j(t) − u_j(0)‖₂ ≤ O(n^{3/2}/(sqrt(m) λ0 δ))`` → ``C n^{3/2}/(sqrt(m) λ0 δ)``.

    Args:
      n: samples. m: width. lambda0: λ0. delta: δ. C: the unknown constant.

    Returns:
      The O-form bound with constant C.
    """
    return _f(C) * _f(n) ** 1.5 / (jnp.sqrt(_f(m)) * _f(lambda0) * _f(delta))


@_checked
def theorem1_frobenius_bound(n, lambda0, delta, C=1.0):
    """Theorem 1, Frobenius, up to an unknown constant C (default 1):

    ``‖U(t) − U(0)‖_F ≤ O(n^{3/2}/(λ0 δ))`` → ``C n^{3/2}/(λ0 δ)``.

    Args:
      n: samples. lambda0: λ0. delta: δ. C: the unknown constant.

    Returns:
      The O-form bound with constant C.
    """
    return _f(C) * _f(n) ** 1.5 / (_f(lambda0) * _f(delta))


@_checked
def theorem2_bound(t, n, m, lambda0, delta, kappa, mu, C=1.0):
    """Theorem 2, per neuron, up to an unknown constant C (default 1):

    ``‖u_j(t) − u_j(0)‖₂ ≤ O(n^{3/2}/(sqrt(m) λ0 δ) + μ(1 + κ sqrt(n)) t/sqrt(m))``
    → C times the sum. (In [W (43)] the constant of the linear term is exactly 1.)

    Args:
      t: time. n: samples. m: width. lambda0: λ0. delta: δ. kappa: κ. mu: μ.
      C: the unknown constant.

    Returns:
      The O-form bound with constant C.
    """
    linear = _f(mu) * (1.0 + _f(kappa) * jnp.sqrt(_f(n))) * _f(t) / jnp.sqrt(_f(m))
    return theorem1_bound(n, m, lambda0, delta, C) + _f(C) * linear


@_checked
def theorem2_frobenius_bound(t, n, lambda0, delta, kappa, mu, C=1.0):
    """Theorem 2, Frobenius, up to an unknown constant C (default 1):

    ``‖U(t) − U(0)‖_F ≤ O(n^{3/2}/(λ0 δ) + μ(1 + κ sqrt(n)) t)`` → C times the sum.

    Args:
      t: time. n: samples. lambda0: λ0. delta: δ. kappa: κ. mu: μ. C: the constant.

    Returns:
      The O-form bound with constant C.
    """
    linear = _f(mu) * (1.0 + _f(kappa) * jnp.sqrt(_f(n))) * _f(t)
    return _f(C) * (_f(n) ** 1.5 / (_f(lambda0) * _f(delta)) + linear)


# ------------------------------------------------------------------ breakdown width


@_checked
def breakdown_width_sup(n, lambda0, delta, c=1.0):
    """Supervised width threshold ([W (47)] with μ = 0): ``m = Ω(n^7/(λ0^4 δ^4))``.

    Constant-1 form ``n^7/(c² λ0^4 δ^4)`` with c the Remark 1 constant (default 1): the
    width above which the O-form Theorem 1 drift stays within R = c δ λ0/n². Equals
    ``breakdown_width`` with L = 0. Overflows to inf in float32 beyond ~3e38.

    Args:
      n: samples. lambda0: λ0. delta: δ. c: Remark 1's constant.

    Returns:
      The threshold width (a real number; round up for an integer width).
    """
    return _f(n) ** 7 / (_f(c) ** 2 * _f(lambda0) ** 4 * _f(delta) ** 4)


@_checked
def L_scaling(kind, scale=1.0):
    """The two standard critic-norm scalings ``L(m)`` (Theorem 2: ‖w‖₂ ≤ L) for ``breakdown_width``.

    * ``"sqrt"``: ``L = scale · sqrt(m)``. ‖w‖₂ of w ~ N(0, I_m) at initialisation is
      ≈ sqrt(m), so scale = 1 models an unconstrained critic near its init. Then μ is
      constant in m, T0 does not depend on m, and the threshold is explicit.
    * ``"const"``: ``L = scale``, a critic norm held fixed by a gradient penalty or a
      projection ‖w‖₂ ≤ L; then μ ∝ 1/sqrt(m).

    Args:
      kind: ``"sqrt"`` or ``"const"``.
      scale: the multiplier.

    Returns:
      A numpy-elementwise callable ``m -> L``.
    """
    if kind == "sqrt":
        return lambda m: scale * np.sqrt(np.asarray(m, dtype=np.float64))
    if kind == "const":
        return lambda m: scale * np.ones_like(np.asarray(m, dtype=np.float64))
    raise ValueError(f"kind must be 'sqrt' or 'const', got {kind!r}")


def _eval_vectorised(fn, m):
    """``fn`` applied elementwise to the float64 array ``m``; falls back to a loop."""
    try:
        out = np.broadcast_to(np.asarray(fn(m), dtype=np.float64), m.shape)
    except Exception:  # user callables may only accept scalars
        out = np.array([float(np.asarray(fn(float(x)))) for x in m.ravel()]).reshape(m.shape)
    return out


def _log_rhs(log_m, n, lambda0, delta, kappa, T0, L_of_m, c):
    """log of the breakdown right-hand side at widths exp(log_m), float64, overflow-safe."""
    m = np.exp(np.asarray(log_m, dtype=np.float64))
    L = _eval_vectorised(L_of_m, m)
    T = _eval_vectorised(T0, m) if callable(T0) else np.full(m.shape, float(T0))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_hoeff = 0.5 * math.log(2.0 * math.log(2.0 / delta))
        log_a = 3.5 * math.log(n) - 2.0 * math.log(lambda0) - 2.0 * math.log(delta)
        # b = n² μ (1 + κ sqrt(n)) T0 / (λ0 δ), μ = L n sqrt(2 log(2/δ)) / sqrt(m)
        log_b = (
            3.0 * math.log(n)
            + np.log(L)
            + log_hoeff
            - 0.5 * np.log(m)
            + math.log1p(kappa * math.sqrt(n))
            + np.log(T)
            - math.log(lambda0)
            - math.log(delta)
        )
        return 2.0 * (np.logaddexp(log_a, log_b) - math.log(c))


@_checked
def breakdown_rhs(m, n, lambda0, delta, kappa, T0, L_of_m, c=1.0):
    """Right-hand side of the breakdown threshold ([W (47)]) at width m, constant 1.

    ``RHS(m) = ((n^{7/2}/(λ0² δ²) + n² μ(m) (1 + κ sqrt(n)) T0/(λ0 δ)) / c)²`` with
    ``μ(m) = L(m) n sqrt(2 log(2/δ))/sqrt(m)``; it is [W (46)], "O-form Theorem 2 drift
    up to T0 ≤ R = c δ λ0/n²", solved for sqrt(m). Host-side float64 numpy.

    Args:
      m: width(s), array-like. n, lambda0, delta, kappa: as in ``breakdown_width``.
      T0: time horizon, a number or a callable ``m -> T0``.
      L_of_m: callable ``m -> L`` (see ``L_scaling``). c: Remark 1's constant.

    Returns:
      RHS(m) as a float64 numpy array (inf where it overflows, nan where T0 is nan).
    """
    log_m = np.log(np.asarray(m, dtype=np.float64))
    with np.errstate(over="ignore"):
        return np.exp(_log_rhs(log_m, n, lambda0, delta, kappa, T0, L_of_m, c))


@_checked
def breakdown_width(
    n,
    lambda0,
    delta,
    kappa,
    T0,
    L_of_m: Callable,
    c=1.0,
    *,
    m_min=1.0,
    m_max=1e300,
    num_grid=4096,
):
    """Breakdown threshold width ([W (47)], slides), solved for m, constant set to 1.

    The paper states ``m = Ω((n^{7/2}/(λ0² δ²) + n² μ (1 + κ sqrt(n)) T0/(λ0 δ))²)``, in
    which μ = L n sqrt(2 log(2/δ))/sqrt(m) itself depends on m (and on L(m)), so the
    threshold is implicit. This returns the smallest ``m ∈ [m_min, m_max]`` with
    ``m ≥ breakdown_rhs(m)`` (Ω-constant 1, R-constant c), found on the host: a scan of
    ``g(s) = s − log RHS(e^s)`` on a log-spaced grid of ``num_grid`` points, then
    ``scipy.optimize.brentq`` on the first bracket, so ``m = RHS(m)`` to ~1e-12 relative
    (m_min itself is returned if it already satisfies the inequality).

    Cases, by the assumed scaling of the critic norm L with m:

    * L ∝ sqrt(m) (``L_scaling("sqrt")``, unconstrained N(0, I) critic): μ is constant,
      RHS is constant and m* = RHS. With T0 the horizon, m* grows like T0².
    * L constant (``L_scaling("const")``): RHS decreases in m towards
      (n^{7/2}/(c λ0² δ²))², so a unique crossing exists.
    * L growing faster than sqrt(m): RHS may outgrow m (e.g. L ∝ m gives RHS ≈ B² m with
      B possibly ≥ 1); if no m ≤ m_max satisfies the inequality, returns ``inf``.

    A crossing narrower than one grid step could be missed; the RHS of the standard
    scalings is monotone, so this cannot happen for them.

    Args:
      n: samples. lambda0: λ0 > 0. delta: δ ∈ (0, 1). kappa: κ of Lemma 4.
      T0: time horizon (e.g. ``t0_stationarity``), a number or a callable ``m -> T0``
        (when μ, hence T0, depends on m). nan or inf gives ``inf``.
      L_of_m: callable ``m -> L`` applied to float64 numpy arrays (or scalars).
      c: Remark 1's constant in R = c δ λ0/n².
      m_min, m_max: search interval. num_grid: grid points on log m.

    Returns:
      The threshold width as a Python float (``inf`` if none in range).
    """
    n, lambda0, delta, kappa, c = (float(v) for v in (n, lambda0, delta, kappa, c))
    args = (n, lambda0, delta, kappa, T0, L_of_m, c)
    s = np.linspace(math.log(m_min), math.log(m_max), int(num_grid))
    g = s - _log_rhs(s, *args)
    ok = np.flatnonzero(g >= 0)  # nan compares False: treated as "not satisfied"
    if ok.size == 0:
        return math.inf
    k = int(ok[0])
    if k == 0:
        return float(m_min)

    def g_scalar(x):
        val = float(x - _log_rhs(np.array([x]), *args)[0])
        return val if math.isfinite(val) else -1e300  # RHS = inf or nan: not satisfied

    root = optimize.brentq(g_scalar, s[k - 1], s[k], xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return float(math.exp(root))
