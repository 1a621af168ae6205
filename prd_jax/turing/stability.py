"""Linear stability of Gray-Scott's uniform states (host-side, NumPy float64).

The model (Pearson, Science 261:189, 1993) ∂u/∂t = Du ∇²u − u v² + F (1 − u),
∂v/∂t = Dv ∇²v + u v² − (F + k) v has the trivial uniform state (1, 0) for every (F, k) and
two non-trivial ones iff k ≤ √F/2 − F (the saddle-node curve).

* :func:`uniform_states`, :func:`jacobian`, :func:`dispersion_relation`,
  :func:`turing_conditions`: the pieces, as functions of (u, v, F, k, Du, Dv).
* :func:`stability_report`: every uniform state at one (F, k) with its eigenvalues, the
  maximum of its dispersion relation over q ≥ 0 and the Turing conditions, as data (a
  :class:`StabilityReport`); the words are the caller's.
* :func:`saddle_node_k`, :func:`hopf_k`, :func:`turing_k`: the bifurcation curves k(F).

At the paper's parameters (F = 0.025, k = 0.055 or 0.060) there is no non-trivial uniform
state (saddle-node at k ≈ 0.0541) and (1, 0) is stable at every wavenumber: the patterns
grow from a finite perturbation, not from a linear Turing instability.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import optimize

# Pearson's diffusion coefficients and the paper's reaction rates.
PEARSON_DU = 2e-5
PEARSON_DV = 1e-5
PAPER_F = 0.025
PAPER_KS = (0.055, 0.060)

STATE_NAMES = ("trivial", "nontrivial_v_plus", "nontrivial_v_minus")


class TuringConditions(NamedTuple):
    """The Turing conditions at a uniform state and the numbers behind them."""

    trace: float  # tr J
    det: float  # det J
    h: float  # Dv a11 + Du a22
    h2_minus_4DuDv_det: float  # h² − 4 Du Dv det J
    stable_to_uniform_perturbations: bool  # tr J < 0 and det J > 0
    h_positive: bool  # h > 0
    h2_exceeds_4DuDv_det: bool  # h² > 4 Du Dv det J
    turing_unstable: bool  # all of the above
    q_critical: float | None  # √(h / (2 Du Dv)) if h > 0: where det(J − q²D) is smallest


class StateStability(NamedTuple):
    """One uniform state (u, v) and its linear stability."""

    name: str  # one of STATE_NAMES
    u: float
    v: float
    jacobian: list[list[float]]  # reaction Jacobian J (2×2)
    eigenvalues_real: list[float]  # eigenvalues of J (q = 0)
    eigenvalues_imag: list[float]
    max_growth_rate: float  # max over q ≥ 0 of λ(q)
    argmax_q: float  # the q of that maximum
    stable_at_every_wavenumber: bool  # max_growth_rate < 0
    turing: TuringConditions


class StabilityReport(NamedTuple):
    """Linear stability at one (F, k, Du, Dv): numbers and booleans only (JSON-ready through
    ``prd_jax.results.json_ready``). Per-state lists follow ``states``' order."""

    F: float
    k: float
    Du: float
    Dv: float
    saddle_node_k: float  # k_sn = √F/2 − F
    discriminant: float  # F² − 4F(F + k)²: non-trivial states exist iff ≥ 0
    n_uniform_states: int  # 1 or 3
    nontrivial_state_exists: bool
    uniform_states: list[tuple[float, float]]  # (u, v) of each state
    turing_unstable: list[bool]  # per state
    max_growth_rate: list[float]  # per state, max_q λ(q)
    stable_at_every_wavenumber: list[str]  # names of the states with max_q λ(q) < 0
    linear_turing_instability: bool  # some state is Turing-unstable
    states: list[StateStability]


def saddle_node_k(F):
    """Saddle-node curve k_sn(F) = √F/2 − F: non-trivial states exist iff k ≤ k_sn(F).

    From F² − 4F(F + k)² ≥ 0 ⇔ F + k ≤ √F/2.
    """
    F = np.asarray(F, float)
    return np.sqrt(F) / 2.0 - F


def uniform_states(F: float, k: float) -> list[tuple[float, float]]:
    """Uniform steady states (u, v) of Gray-Scott, as Python floats.

    The trivial state (1, 0) always. With v ≠ 0, u v = F + k and F(1 − u) = (F + k) v give
    u = 1 − (F + k) v / F and (F + k) v² − F v + F (F + k) = 0, so

        v± = [F ± √(F² − 4F(F + k)²)] / (2(F + k)),

    a pair that exists iff the discriminant F² − 4F(F + k)² ≥ 0 (k ≤ √F/2 − F; the two
    coincide on the saddle-node curve). Order: trivial, then v+ (the larger v, which can
    be stable), then v− (always a saddle).
    """
    F, k = float(F), float(k)
    if not F > 0 or not k >= 0:
        raise ValueError(f"uniform_states needs F > 0 and k >= 0, got F={F}, k={k}")
    states = [(1.0, 0.0)]
    disc = F * F - 4.0 * F * (F + k) ** 2
    if disc >= 0.0:
        root = math.sqrt(disc)
        for v in ((F + root) / (2.0 * (F + k)), (F - root) / (2.0 * (F + k))):
            states.append((1.0 - (F + k) * v / F, v))
    return states


def jacobian(u: float, v: float, F: float, k: float) -> np.ndarray:
    """Jacobian of the reaction terms at (u, v): [[−v² − F, −2uv], [v², 2uv − (F + k)]]."""
    return np.array([[-v * v - F, -2.0 * u * v], [v * v, 2.0 * u * v - (F + k)]], float)


def dispersion_relation(q, u: float, v: float, F: float, k: float, Du: float, Dv: float):
    """Growth rate λ(q): the largest real part of the eigenvalues of J − q² diag(Du, Dv).

    For a 2×2 matrix with trace τ(q) and determinant δ(q),
    Re λ_max = τ/2 + Re √(τ²/4 − δ). ``q`` is a wavenumber (radians per length unit);
    returns an array of q's shape.
    """
    q2 = np.asarray(q, float) ** 2
    J = jacobian(u, v, F, k)
    a11 = J[0, 0] - Du * q2
    a22 = J[1, 1] - Dv * q2
    tr = a11 + a22
    det = a11 * a22 - J[0, 1] * J[1, 0]
    return tr / 2.0 + np.real(np.sqrt((tr * tr / 4.0 - det).astype(complex)))


def turing_conditions(
    u: float, v: float, F: float, k: float, Du: float, Dv: float
) -> TuringConditions:
    """The Turing conditions at a uniform state, with the numbers behind them.

    With J = [[a11, a12], [a21, a22]] and h = Dv a11 + Du a22:
    (i) tr J < 0 and (ii) det J > 0 (stable to uniform perturbations), (iii) h > 0 and
    (iv) h² > 4 Du Dv det J (then det(J − q²D) < 0 on a band of q around
    q_c² = h / (2 Du Dv)). A Turing instability needs all four.
    """
    J = jacobian(u, v, F, k)
    tr = float(np.trace(J))
    det = float(J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0])
    h = float(Dv * J[0, 0] + Du * J[1, 1])
    stable = tr < 0 and det > 0
    exceeds = h * h > 4.0 * Du * Dv * det
    return TuringConditions(
        trace=tr,
        det=det,
        h=h,
        h2_minus_4DuDv_det=h * h - 4.0 * Du * Dv * det,
        stable_to_uniform_perturbations=stable,
        h_positive=h > 0,
        h2_exceeds_4DuDv_det=exceeds,
        turing_unstable=bool(stable and h > 0 and exceeds),
        q_critical=math.sqrt(h / (2.0 * Du * Dv)) if h > 0 else None,
    )


def max_growth(u, v, F, k, Du, Dv) -> tuple[float, float]:
    """(max_q λ(q), argmax q) over q ≥ 0 on a fine geometric grid refined around the max."""
    J = jacobian(u, v, F, k)
    q_hi = math.sqrt(100.0 * (np.abs(J).max() + 1e-12) / min(Du, Dv))
    q = np.concatenate([[0.0], np.geomspace(q_hi * 1e-6, q_hi, 20001)])
    lam = dispersion_relation(q, u, v, F, k, Du, Dv)
    i = int(np.argmax(lam))
    lo, hi = q[max(i - 1, 0)], q[min(i + 1, q.size - 1)]
    if hi > lo:
        res = optimize.minimize_scalar(
            lambda x: -float(dispersion_relation(x, u, v, F, k, Du, Dv)),
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10 * max(hi, 1.0)},
        )
        if -res.fun >= lam[i]:
            return float(-res.fun), float(res.x)
    return float(lam[i]), float(q[i])


def state_stability(name: str, u: float, v: float, F, k, Du, Dv) -> StateStability:
    """Eigenvalues, maximum growth rate over q ≥ 0 and Turing conditions of one state."""
    J = jacobian(u, v, F, k)
    eig = np.linalg.eigvals(J)
    growth, q_star = max_growth(u, v, F, k, Du, Dv)
    return StateStability(
        name=name,
        u=u,
        v=v,
        jacobian=J.tolist(),
        eigenvalues_real=np.real(eig).tolist(),
        eigenvalues_imag=np.imag(eig).tolist(),
        max_growth_rate=growth,
        argmax_q=q_star,
        stable_at_every_wavenumber=growth < 0,
        turing=turing_conditions(u, v, F, k, Du, Dv),
    )


def stability_report(
    F: float = PAPER_F, k: float = PAPER_KS[0], Du: float = PEARSON_DU, Dv: float = PEARSON_DV
) -> StabilityReport:
    """What linear stability says at (F, k, Du, Dv), as data.

    Lists every uniform steady state with its Jacobian, eigenvalues, the maximum of its
    dispersion relation over all wavenumbers q ≥ 0 and the Turing conditions, and whether
    a linear Turing instability of a uniform state exists (see :class:`StabilityReport`).
    """
    F, k, Du, Dv = float(F), float(k), float(Du), float(Dv)
    states = [
        state_stability(name, u, v, F, k, Du, Dv)
        for name, (u, v) in zip(STATE_NAMES, uniform_states(F, k), strict=False)
    ]
    return StabilityReport(
        F=F,
        k=k,
        Du=Du,
        Dv=Dv,
        saddle_node_k=float(saddle_node_k(F)),
        discriminant=F * F - 4.0 * F * (F + k) ** 2,
        n_uniform_states=len(states),
        nontrivial_state_exists=len(states) > 1,
        uniform_states=[(s.u, s.v) for s in states],
        turing_unstable=[s.turing.turing_unstable for s in states],
        max_growth_rate=[s.max_growth_rate for s in states],
        stable_at_every_wavenumber=[s.name for s in states if s.stable_at_every_wavenumber],
        linear_turing_instability=any(s.turing.turing_unstable for s in states),
        states=states,
    )


# --------------------------------------------------------------------------------------
# Bifurcation curves in the (F, k) plane
# --------------------------------------------------------------------------------------


def _upper_branch_functions(F: float, k: float, Du: float, Dv: float):
    """(tr J, h, h² − 4DuDv det J) at the v+ state; NaN where it does not exist."""
    states = uniform_states(F, k)
    if len(states) < 3:
        return math.nan, math.nan, math.nan
    c = turing_conditions(*states[1], F, k, Du, Dv)
    return c.trace, c.h, c.h2_minus_4DuDv_det


def hopf_k(F, Du: float = PEARSON_DU, Dv: float = PEARSON_DV):
    """Hopf curve: k at which tr J = 0 at the v+ state (exists for 0 < F < 1/16), else NaN.

    Left of it (smaller k) the v+ state is stable to uniform perturbations.
    """
    F_arr = np.atleast_1d(np.asarray(F, float))
    out = np.full(F_arr.shape, np.nan)
    for i, f in enumerate(F_arr):
        k_hi = float(saddle_node_k(f))
        if not (0 < f < 1.0 / 16.0) or k_hi <= 0:
            continue
        g = lambda kk, f=f: _upper_branch_functions(f, kk, Du, Dv)[0]
        k_hi -= 1e-12 * max(k_hi, 1e-9)
        if g(0.0) < 0 < g(k_hi):
            out[i] = optimize.brentq(g, 0.0, k_hi, xtol=1e-14)
    return out.reshape(np.shape(F))


def _turing_root(f: float, Du: float, Dv: float) -> float:
    """The Turing-curve k of one F (see :func:`turing_k`); NaN if there is none."""
    k_hi = float(saddle_node_k(f))
    if not f > 0 or k_hi <= 0:
        return math.nan
    k_hi -= 1e-12 * max(k_hi, 1e-9)
    h = lambda kk: _upper_branch_functions(f, kk, Du, Dv)[1]
    g = lambda kk: _upper_branch_functions(f, kk, Du, Dv)[2]
    k_lo = 0.0
    if h(k_lo) <= 0:
        if h(k_hi) <= 0:
            return math.nan
        k_lo = optimize.brentq(h, 0.0, k_hi, xtol=1e-15)
    if g(k_lo) < 0 < g(k_hi):
        return optimize.brentq(g, k_lo, k_hi, xtol=1e-15)
    return math.nan


def turing_k(F, Du: float = PEARSON_DU, Dv: float = PEARSON_DV):
    """Turing curve: k at which the v+ state first turns unstable at a finite wavenumber.

    Root of h² − 4 Du Dv det J = 0 with h > 0 (min_q det(J − q²D) = 0 at q_c > 0) between
    the k where h = 0 and the saddle-node k_sn (where det J = 0, so the left side is h² > 0).
    For k between this curve and k_sn, λ(q) > 0 on a band of q > 0; it is a Turing
    instability proper only where also tr J < 0 (left of the Hopf curve: for Du/Dv = 2
    only for F ≳ 0.047, since the band lies beyond the Hopf curve at smaller F).
    NaN where no such root exists.
    """
    F_arr = np.atleast_1d(np.asarray(F, float))
    out = np.array([_turing_root(f, Du, Dv) for f in F_arr.ravel()], float)
    return out.reshape(np.shape(F))
