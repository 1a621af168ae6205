"""Gray-Scott reaction-diffusion: fast simulation and an honest linear stability analysis.

The model (talk slides [S], Pearson, Science 261:189, 1993) on the periodic square [0, L)²:

    ∂u/∂t = Du ∇²u − u v² + F (1 − u)
    ∂v/∂t = Dv ∇²v + u v² − (F + k) v

The paper uses F = 0.025, k ∈ {0.055, 0.060}, Du = 2e-5, Dv = 1e-5 (Pearson's values).

Simulation (pure, jittable, vmappable over (F, k) and initial conditions):

* ``method="fd"``: Pearson's scheme, forward Euler in time with the 5-point Laplacian,
  stable only for ``dt <= dx² / (4 max(Du, Dv))`` (≈ 1.19 on Pearson's grid); a larger dt is
  refused when the config is built.
* ``method="etdrk4"``: pseudo-spectral exponential time differencing (Cox & Matthews 2002,
  4th order, coefficients by the contour integrals of Kassam & Trefethen 2005, evaluated in
  float64 on the host). Diffusion is integrated exactly, so dt is limited by the reaction
  only: at the paper's parameters a dt = 4 run stays within 1.3e-3 (max |Δv|) of a
  dt = 0.5 run at t = 1000, where forward Euler at dt = 1 differs from either by ~0.3
  (its O(dt) and O(dx²) errors shift the fronts by a grid point or so).

A run is ``make_simulator(cfg)(state0, params, snapshot_steps) -> GSRun``: an outer
``lax.scan`` over the snapshot intervals whose body is an inner loop of many steps, so
only the snapshots leave the compiled loop. Non-negativity and finiteness are checked at
every snapshot and returned; :func:`check_health` turns them into words, a warning or an
error.

Linear stability (host-side, float64): :func:`uniform_states`, :func:`jacobian`,
:func:`dispersion_relation`, :func:`turing_conditions`, :func:`stability_report`, and the
saddle-node / Hopf / Turing curves in the (F, k) plane. At the paper's parameters there is
no non-trivial uniform state (saddle-node at k = √F/2 − F ≈ 0.0541 for F = 0.025), the
trivial state (1, 0) is stable at every wavenumber, so the patterns grow from a finite
perturbation, not from a linear Turing instability.

Shapes: fields are ``(n, n)`` (rows = y, columns = x); a batch adds leading axes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from scipy import optimize

Array = jax.Array

# Pearson (1993) protocol and the paper's parameters.
PEARSON_N = 256
PEARSON_SIDE = 2.5
PEARSON_DU = 2e-5
PEARSON_DV = 1e-5
PEARSON_DT = 1.0
PEARSON_SQUARE = 20
PAPER_F = 0.025
PAPER_KS = (0.055, 0.060)


def _fd_unroll(n: int) -> int:
    """Finite-difference steps per inner-loop iteration.

    Measured with XLA:CPU (jax 0.10, 2 cores): two steps per iteration run 1.2-1.5x faster
    for n >= 128, but for n <= 96 XLA fuses the two steps' stencils into one fusion that
    recomputes the first step (4x slower), so small grids take one step per iteration.
    """
    return 2 if n >= 128 else 1


# --------------------------------------------------------------------------------------
# Pytrees and configuration
# --------------------------------------------------------------------------------------


class GSParams(NamedTuple):
    """Reaction rates; arrays so that they can be vmapped (shape ``()`` per run)."""

    F: Array  # feed rate
    k: Array  # kill rate (removal of v is F + k)


class GSState(NamedTuple):
    """Concentrations on the grid, each ``(n, n)`` (a batch adds leading axes)."""

    u: Array
    v: Array


class GSRun(NamedTuple):
    """Snapshots of a run and its health at each snapshot (S = number of snapshots).

    ``times (S,)``, ``u, v (S, n, n)``; ``min_u, min_v, max_abs (S,)`` are the field
    minima and max |u|, |v| at each snapshot; ``finite (S,)`` is True while no value is
    NaN or ±inf; ``checkerboard (S,)`` is the amplitude of the grid-scale mode
    max(|⟨u·(−1)^(i+j)⟩|, |⟨v·(−1)^(i+j)⟩|), ~1e-7 for a resolved field and large when
    the time step is unstable at the grid scale. A batched run has a leading batch axis
    on every field except ``times``.
    """

    times: Array
    u: Array
    v: Array
    min_u: Array
    min_v: Array
    max_abs: Array
    finite: Array
    checkerboard: Array


@dataclasses.dataclass(frozen=True)
class GSConfig:
    """Static structure of a Gray-Scott simulation (one compile per distinct config).

    Reaction rates (F, k) are not here: they are traced arrays in :class:`GSParams`.
    Construction validates every field and, for ``method="fd"``, refuses an unstable dt.
    """

    n: int = PEARSON_N  # grid points per side
    side: float = PEARSON_SIDE  # side length L of the periodic square [0, L)²
    Du: float = PEARSON_DU  # diffusion coefficient of u
    Dv: float = PEARSON_DV  # diffusion coefficient of v
    dt: float = PEARSON_DT  # time step
    method: str = "fd"  # "fd" (forward Euler, 5-point Laplacian) or "etdrk4" (spectral)

    def __post_init__(self):
        if not isinstance(self.n, int) or self.n < 4:
            raise ValueError(f"GSConfig.n must be an int >= 4, got {self.n!r}")
        for name in ("side", "Du", "Dv", "dt"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
                raise ValueError(f"GSConfig.{name} must be a finite number > 0, got {value!r}")
        if self.method not in ("fd", "etdrk4"):
            raise ValueError(f"GSConfig.method must be 'fd' or 'etdrk4', got {self.method!r}")
        if self.method == "fd":
            check_fd_dt(self.dt, self.dx, self.Du, self.Dv)

    @property
    def dx(self) -> float:
        """Grid spacing h = L / n."""
        return self.side / self.n


def fd_dt_limit(dx: float, Du: float, Dv: float) -> float:
    """Largest stable forward-Euler step for the 2-D 5-point diffusion: dx² / (4 max D)."""
    return dx * dx / (4.0 * max(Du, Dv))


def check_fd_dt(dt: float, dx: float, Du: float, Dv: float) -> None:
    """Raise ``ValueError`` if forward Euler with step dt is unstable for this diffusion.

    The 5-point Laplacian's most negative eigenvalue is −8/dx²; Euler's amplification
    1 − 8 D dt / dx² stays in [−1, 1] iff dt ≤ dx² / (4 D).
    """
    limit = fd_dt_limit(dx, Du, Dv)
    if dt > limit:
        raise ValueError(
            f"dt={dt:g} is unstable for the explicit finite-difference solver: forward Euler "
            f"needs dt <= dx^2/(4 max(Du, Dv)) = {limit:.4g} (dx={dx:.4g}, Du={Du:g}, "
            f"Dv={Dv:g}). Fix: use dt <= {limit:.4g}, a coarser grid, or method='etdrk4'."
        )


# --------------------------------------------------------------------------------------
# Model pieces
# --------------------------------------------------------------------------------------


def reaction(u, v, F, k):
    """Reaction terms (R_u, R_v) = (F(1 − u) − u v², u v² − (F + k) v); any array type."""
    uvv = u * v * v
    return F * (1.0 - u) - uvv, uvv - (F + k) * v


def laplacian_5pt(a: Array, dx: float) -> Array:
    """Periodic 5-point Laplacian over the last two axes.

    (∇²a)_ij ≈ (a_{i+1,j} + a_{i−1,j} + a_{i,j+1} + a_{i,j−1} − 4 a_ij) / dx².
    On e^{i(q_x x + q_y y)} its eigenvalue is −(4 − 2cos(q_x dx) − 2cos(q_y dx)) / dx².
    """
    return _stencil(a) / (dx * dx)


def _stencil(a: Array) -> Array:
    # Columns wrap through a materialised one-column halo, rows through roll: the fastest
    # of the layouts tried with XLA:CPU (roll/roll, pad/slice, flat index, ghost cells).
    p = jnp.concatenate([a[..., :, -1:], a, a[..., :, :1]], axis=-1)
    return (
        jnp.roll(a, 1, axis=-2)
        + jnp.roll(a, -1, axis=-2)
        + p[..., :, :-2]
        + p[..., :, 2:]
        - 4.0 * a
    )


def pearson_initial_state(
    key: Array,
    n: int = PEARSON_N,
    square: int = PEARSON_SQUARE,
    noise: float = 0.01,
    dtype=jnp.float32,
) -> GSState:
    """Pearson's initial condition: u = 1, v = 0, a central square at (1/2, 1/4), ±noise.

    The ``square``×``square`` block centred in the grid is set to (u, v) = (1/2, 1/4);
    then both fields are multiplied by (1 + noise·U(−1, 1)) independently per point
    ("±1% random noise"). Multiplicative noise keeps v ≥ 0 (v = 0 outside the square) and
    perturbs u = 1 everywhere, which breaks the square's symmetry.

    Args:
      key: a ``jax.random.key``; vmap over keys for a batch of initial conditions.
    Returns:
      ``GSState`` with ``u, v (n, n)``.
    """
    if square > n:
        raise ValueError(f"square={square} does not fit in an n={n} grid")
    lo = (n - square) // 2
    inside = jnp.zeros((n, n), bool).at[lo : lo + square, lo : lo + square].set(True)
    u = jnp.where(inside, 0.5, 1.0).astype(dtype)
    v = jnp.where(inside, 0.25, 0.0).astype(dtype)
    ku, kv = jax.random.split(key)
    u = u * (1.0 + noise * jax.random.uniform(ku, (n, n), dtype, -1.0, 1.0))
    v = v * (1.0 + noise * jax.random.uniform(kv, (n, n), dtype, -1.0, 1.0))
    return GSState(u, v)


def initial_states(key: Array, batch: int, n: int = PEARSON_N, **kwargs) -> GSState:
    """A batch of independent Pearson initial conditions, ``u, v (batch, n, n)``."""
    keys = jax.random.split(key, batch)
    return jax.vmap(lambda kk: pearson_initial_state(kk, n, **kwargs))(keys)


def param_grid(F_values: Sequence[float], k_values: Sequence[float]) -> GSParams:
    """Row-major (F, k) grid flattened to a batch: ``F, k (len(F)·len(k),)``, k fastest."""
    F, k = np.meshgrid(np.asarray(F_values, float), np.asarray(k_values, float), indexing="ij")
    return GSParams(jnp.asarray(F.ravel(), jnp.float32), jnp.asarray(k.ravel(), jnp.float32))


# --------------------------------------------------------------------------------------
# Time steppers
# --------------------------------------------------------------------------------------


def _fd_advancer(cfg: GSConfig):
    """(state, params, n_steps) -> state after n_steps forward-Euler steps (n_steps traced)."""
    dt = cfg.dt
    cu = cfg.Du * dt / cfg.dx**2
    cv = cfg.Dv * dt / cfg.dx**2

    def step(s: GSState, p: GSParams) -> GSState:
        ru, rv = reaction(s.u, s.v, p.F, p.k)
        return GSState(s.u + cu * _stencil(s.u) + dt * ru, s.v + cv * _stencil(s.v) + dt * rv)

    unroll = _fd_unroll(cfg.n)

    def advance(s: GSState, p: GSParams, n_steps: Array) -> GSState:
        def unrolled(_, s):
            for _ in range(unroll):
                s = step(s, p)
            return s

        s = lax.fori_loop(0, n_steps // unroll, unrolled, s)
        if unroll == 1:
            return s
        return lax.fori_loop(0, n_steps % unroll, lambda _, s: step(s, p), s)

    return advance


def etdrk4_coefficients(
    n: int, side: float, Du: float, Dv: float, dt: float, contour_points: int = 32
) -> dict[str, np.ndarray]:
    """ETDRK4 coefficients for the linear operator L = −D|q|² (Kassam & Trefethen 2005).

    With z = dt·L and φ-functions evaluated by the mean over ``contour_points`` points
    z + e^{iθ} on the upper unit half-circle (real part; exact for real L, and free of the
    cancellation error of the direct formulas near z = 0):

      E = e^z, E2 = e^{z/2}, Q = dt·⟨(e^{z/2} − 1)/z⟩,
      f1 = dt·⟨(−4 − z + e^z(4 − 3z + z²))/z³⟩, f2 = dt·⟨(2 + z + e^z(z − 2))/z³⟩,
      f3 = dt·⟨(−4 − 3z − z² + e^z(4 − z))/z³⟩.

    Computed in float64 on the host. Returns arrays ``(2, n, n//2 + 1)`` (u then v) on the
    ``rfft2`` frequency grid, keyed "E", "E2", "Q", "f1", "f2", "f3".
    """
    qy = 2.0 * np.pi * np.fft.fftfreq(n, d=side / n)
    qx = 2.0 * np.pi * np.fft.rfftfreq(n, d=side / n)
    q2 = qy[:, None] ** 2 + qx[None, :] ** 2
    L = -np.stack([Du * q2, Dv * q2])  # (2, n, n//2+1)
    z = dt * L
    r = np.exp(1j * np.pi * (np.arange(contour_points) + 0.5) / contour_points)
    zr = z[..., None] + r  # (2, n, n//2+1, M)
    ez = np.exp(zr)

    def contour_mean(values):
        return np.real(values.mean(axis=-1))

    return {
        "E": np.exp(z),
        "E2": np.exp(z / 2.0),
        "Q": dt * contour_mean((np.exp(zr / 2.0) - 1.0) / zr),
        "f1": dt * contour_mean((-4.0 - zr + ez * (4.0 - 3.0 * zr + zr**2)) / zr**3),
        "f2": dt * contour_mean((2.0 + zr + ez * (zr - 2.0)) / zr**3),
        "f3": dt * contour_mean((-4.0 - 3.0 * zr - zr**2 + ez * (4.0 - zr)) / zr**3),
    }


def _etdrk4_advancer(cfg: GSConfig):
    """(state, params, n_steps) -> state after n_steps ETDRK4 steps (n_steps traced)."""
    n = cfg.n
    coef = {
        name: jnp.asarray(value, jnp.float32)
        for name, value in etdrk4_coefficients(n, cfg.side, cfg.Du, cfg.Dv, cfg.dt).items()
    }
    E, E2, Q, f1, f2, f3 = (coef[name] for name in ("E", "E2", "Q", "f1", "f2", "f3"))

    def to_fourier(s: GSState) -> Array:
        return jnp.fft.rfft2(jnp.stack([s.u, s.v]))  # (2, n, n//2+1) complex

    def to_real(s_hat: Array) -> GSState:
        uv = jnp.fft.irfft2(s_hat, s=(n, n))
        return GSState(uv[0], uv[1])

    def nonlinear(s_hat: Array, p: GSParams) -> Array:
        s = to_real(s_hat)
        ru, rv = reaction(s.u, s.v, p.F, p.k)
        return jnp.fft.rfft2(jnp.stack([ru, rv]))

    def step(s_hat: Array, p: GSParams) -> Array:
        n_s = nonlinear(s_hat, p)
        a = E2 * s_hat + Q * n_s
        n_a = nonlinear(a, p)
        b = E2 * s_hat + Q * n_a
        n_b = nonlinear(b, p)
        c = E2 * a + Q * (2.0 * n_b - n_s)
        n_c = nonlinear(c, p)
        return E * s_hat + f1 * n_s + 2.0 * f2 * (n_a + n_b) + f3 * n_c

    def advance(s: GSState, p: GSParams, n_steps: Array) -> GSState:
        s_hat = lax.fori_loop(0, n_steps, lambda _, sh: step(sh, p), to_fourier(s))
        return to_real(s_hat)

    return advance


def make_simulator(cfg: GSConfig) -> Callable[[GSState, GSParams, Array], GSRun]:
    """Pure simulator ``run(state0, params, snapshot_steps) -> GSRun`` for one field.

    ``snapshot_steps (S,)`` are non-decreasing cumulative step counts (int; 0 records the
    initial state); the snapshot times are ``snapshot_steps · dt``. The step counts are a
    traced argument, so changing them does not recompile; S is static. An outer
    ``lax.scan`` runs over the S intervals, each advanced by an inner loop, so only the
    snapshots leave the compiled loop.

    Not jitted: ``jax.jit(jax.vmap(run, in_axes=(0, 0, None)))`` runs a batch of (F, k)
    cells and initial conditions in one program (see :func:`simulate`).
    """
    advance = _fd_advancer(cfg) if cfg.method == "fd" else _etdrk4_advancer(cfg)
    ii = np.arange(cfg.n)
    odd_even = jnp.asarray(1.0 - 2.0 * ((ii[:, None] + ii[None, :]) % 2), jnp.float32)

    def run(state0: GSState, params: GSParams, snapshot_steps: Array) -> GSRun:
        steps = jnp.asarray(snapshot_steps, jnp.int32)
        intervals = jnp.diff(steps, prepend=jnp.zeros((1,), jnp.int32))

        def chunk(s: GSState, n_steps: Array):
            s = advance(s, params, n_steps)
            record = (
                s.u,
                s.v,
                jnp.min(s.u),
                jnp.min(s.v),
                jnp.maximum(jnp.max(jnp.abs(s.u)), jnp.max(jnp.abs(s.v))),
                jnp.all(jnp.isfinite(s.u)) & jnp.all(jnp.isfinite(s.v)),
                jnp.maximum(jnp.abs(jnp.mean(s.u * odd_even)), jnp.abs(jnp.mean(s.v * odd_even))),
            )
            return s, record

        _, record = lax.scan(chunk, state0, intervals)
        times = steps.astype(jnp.float32) * jnp.float32(cfg.dt)
        return GSRun(times, *record)

    return run


@functools.lru_cache(maxsize=32)
def _compiled(cfg: GSConfig, batched: bool):
    run = make_simulator(cfg)
    if batched:
        # the snapshot times are shared by the batch, so they stay unbatched
        out_axes = GSRun(None, 0, 0, 0, 0, 0, 0, 0)
        run = jax.vmap(run, in_axes=(0, 0, None), out_axes=out_axes)
    return jax.jit(run)


def validate_snapshot_steps(snapshot_steps) -> np.ndarray:
    """Check a host schedule: 1-D, integers, ≥ 0, non-decreasing. Returns it as int32."""
    steps = np.asarray(snapshot_steps)
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"snapshot_steps must be a non-empty 1-D sequence, got {steps.shape}")
    if not np.all(np.equal(np.mod(steps, 1), 0)):
        raise ValueError(f"snapshot_steps must be whole step counts, got {steps.tolist()}")
    if np.any(steps < 0) or np.any(np.diff(steps) < 0):
        raise ValueError(f"snapshot_steps must be >= 0 and non-decreasing: {steps.tolist()}")
    if steps.max() >= 2**31:
        raise ValueError("snapshot_steps must be < 2**31")
    return steps.astype(np.int32)


def steps_for_times(times: Sequence[float], dt: float) -> np.ndarray:
    """Convert snapshot times to step counts; raise if a time is not a multiple of dt."""
    t = np.asarray(times, float)
    steps = np.rint(t / dt)
    if not np.allclose(steps * dt, t, rtol=0.0, atol=1e-9 * max(1.0, float(np.max(t)))):
        raise ValueError(f"snapshot times {t.tolist()} are not multiples of dt={dt:g}")
    return validate_snapshot_steps(steps)


def simulate(cfg: GSConfig, state0: GSState, params: GSParams, snapshot_steps) -> GSRun:
    """Run the solver of ``cfg`` (jitted, cached per config) and return its snapshots.

    Batched when ``params.F`` is 1-D: then ``state0.u, v (B, n, n)`` and ``params (B,)``
    are vmapped together (one program for the whole batch) and every ``GSRun`` field gains
    a leading ``B`` axis except ``times (S,)``.
    """
    steps = validate_snapshot_steps(snapshot_steps)
    F = jnp.asarray(params.F, jnp.float32)
    k = jnp.asarray(params.k, jnp.float32)
    if F.shape != k.shape or F.ndim > 1:
        raise ValueError(f"params.F and params.k must both be () or (B,), got {F.shape}, {k.shape}")
    batched = F.ndim == 1
    expected = ((F.shape[0],) if batched else ()) + (cfg.n, cfg.n)
    for name, field in zip(("u", "v"), state0, strict=True):
        if field.shape != expected:
            raise ValueError(f"state0.{name} has shape {field.shape}, expected {expected}")
    return _compiled(cfg, batched)(state0, GSParams(F, k), jnp.asarray(steps))


# --------------------------------------------------------------------------------------
# Health: non-negativity and blow-up
# --------------------------------------------------------------------------------------


def check_health(
    run: GSRun, negative_tol: float = 1e-3, bound: float = 10.0, checkerboard_tol: float = 1e-4
) -> dict:
    """Summarise a run's health in words and numbers (host-side).

    A run has *blown up* if any snapshot holds NaN/inf or max(|u|, |v|) > ``bound`` (the
    true solution stays in about [0, 1]); it is *negative* if min(u, v) < −negative_tol;
    it is *grid-unstable* if the checkerboard amplitude exceeds ``checkerboard_tol``
    (forward Euler beyond its reaction-aware limit, see :func:`euler_dt_limit`: it can
    saturate instead of blowing up, so finiteness alone misses it).

    Returns a dict with ``ok``, ``blown_up``, ``negative``, ``grid_unstable`` (bools),
    ``min_value``, ``max_abs``, ``max_checkerboard``, ``first_bad_time`` (None if healthy)
    and ``message``; for a batched run also ``bad_cells`` (flat indices).
    """
    times = np.asarray(run.times)
    finite = np.asarray(run.finite)
    max_abs = np.asarray(run.max_abs)
    min_val = np.minimum(np.asarray(run.min_u), np.asarray(run.min_v))
    checker = np.asarray(run.checkerboard)
    blown = ~finite | ~(max_abs <= bound)  # NaN compares False
    negative = min_val < -negative_tol
    grid = ~blown & (checker > checkerboard_tol)
    bad = blown | negative | grid  # (..., S)
    flat = bad.reshape(-1, bad.shape[-1])

    def _finite_stat(fn, values):
        vals = values[finite & np.isfinite(values)]
        return float(fn(vals)) if vals.size else None

    report = {
        "ok": bool(not bad.any()),
        "blown_up": bool(blown.any()),
        "negative": bool(negative.any()),
        "grid_unstable": bool(grid.any()),
        "min_value": _finite_stat(np.min, min_val),
        "max_abs": _finite_stat(np.max, max_abs),
        "max_checkerboard": _finite_stat(np.max, checker),
        "first_bad_time": float(times[int(np.argmax(flat.any(axis=0)))]) if bad.any() else None,
    }
    if bad.ndim > 1:
        report["bad_cells"] = np.flatnonzero(flat.any(-1)).tolist()
    where = f"from t = {report['first_bad_time']:g}" if bad.any() else ""
    if report["blown_up"]:
        report["message"] = (
            f"blow-up: non-finite or |field| > {bound:g} {where}; reduce dt "
            "(or use method='etdrk4')"
        )
    elif report["negative"]:
        report["message"] = (
            f"negative concentration: min(u, v) = {report['min_value']:.3g} < "
            f"-{negative_tol:g} {where}; reduce dt"
        )
    elif report["grid_unstable"]:
        report["message"] = (
            f"grid-scale (checkerboard) instability: amplitude "
            f"{report['max_checkerboard']:.3g} > {checkerboard_tol:g} {where}; dt exceeds "
            "the reaction-aware forward-Euler limit (euler_dt_limit): reduce dt"
        )
    else:
        report["message"] = (
            "healthy: finite, bounded, non-negative and free of grid-scale oscillation "
            "at every snapshot"
        )
    return report


def assert_healthy(run: GSRun, negative_tol: float = 1e-3, bound: float = 10.0) -> dict:
    """:func:`check_health`, raising ``FloatingPointError`` on blow-up and warning
    (``RuntimeWarning``) on negative values or grid-scale oscillation. Returns the report."""
    report = check_health(run, negative_tol, bound)
    if report["blown_up"]:
        raise FloatingPointError(report["message"])
    if not report["ok"]:
        warnings.warn(report["message"], RuntimeWarning, stacklevel=2)
    return report


def euler_dt_limit(dx: float, Du: float, Dv: float, F: float, k: float) -> float:
    """Forward-Euler step limit linearised about the uniform states of (F, k).

    The diffusive limit dx²/(4 max D) ignores the reaction. About a uniform state with
    reaction Jacobian J, a grid mode with 5-point Laplacian eigenvalue −s evolves by
    I + dt(J − s D); a decaying eigenvalue μ of J − sD needs |1 + dt μ| ≤ 1, i.e.
    dt ≤ −2 Re μ / |μ|². Checked on the grid-scale half of the spectrum,
    4/dx² ≤ s ≤ 8/dx², where the explicit scheme fails first (near a Hopf point, slow
    long-wave foci also gain a tiny spurious growth, which this limit ignores). On
    Pearson's grid at F = 0.08, k = 0.035 (v ≈ 0.55) it is ≈ 0.997: Pearson's dt = 1
    grows a checkerboard there although dt < dx²/(4 Du) ≈ 1.19. Minimum over the states.
    """
    s = np.linspace(4.0 / dx**2, 8.0 / dx**2, 2049)
    limit = math.inf
    for u, v in uniform_states(F, k):
        J = jacobian(u, v, F, k)
        M = J[None] - s[:, None, None] * np.diag([Du, Dv])[None]
        mu = np.linalg.eigvals(M).ravel()
        decaying = mu[mu.real < 0]
        if decaying.size:
            limit = min(limit, float(np.min(-2.0 * decaying.real / np.abs(decaying) ** 2)))
    return limit


# --------------------------------------------------------------------------------------
# Linear stability of uniform states (host, float64)
# --------------------------------------------------------------------------------------


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


def turing_conditions(u: float, v: float, F: float, k: float, Du: float, Dv: float) -> dict:
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
    conds = {
        "trace": tr,
        "det": det,
        "h": h,
        "h2_minus_4DuDv_det": h * h - 4.0 * Du * Dv * det,
        "stable_to_uniform_perturbations": tr < 0 and det > 0,
        "h_positive": h > 0,
        "h2_exceeds_4DuDv_det": h * h > 4.0 * Du * Dv * det,
    }
    conds["turing_unstable"] = bool(
        conds["stable_to_uniform_perturbations"]
        and conds["h_positive"]
        and conds["h2_exceeds_4DuDv_det"]
    )
    conds["q_critical"] = math.sqrt(h / (2.0 * Du * Dv)) if h > 0 else None
    return conds


def _max_growth(u, v, F, k, Du, Dv) -> tuple[float, float]:
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


def stability_report(
    F: float = PAPER_F, k: float = PAPER_KS[0], Du: float = PEARSON_DU, Dv: float = PEARSON_DV
) -> dict:
    """What linear stability says at (F, k, Du, Dv), in numbers and in words.

    Lists every uniform steady state with its Jacobian, eigenvalues, the maximum of its
    dispersion relation over all wavenumbers q ≥ 0 and the Turing conditions, then states
    whether a linear Turing instability of a uniform state exists. JSON-serialisable.
    """
    F, k, Du, Dv = float(F), float(k), float(Du), float(Dv)
    k_sn = float(saddle_node_k(F))
    disc = F * F - 4.0 * F * (F + k) ** 2
    names = ["trivial", "nontrivial_v_plus", "nontrivial_v_minus"]
    states = []
    for name, (u, v) in zip(names, uniform_states(F, k), strict=False):
        J = jacobian(u, v, F, k)
        eig = np.linalg.eigvals(J)
        growth, q_star = _max_growth(u, v, F, k, Du, Dv)
        conds = turing_conditions(u, v, F, k, Du, Dv)
        states.append(
            {
                "name": name,
                "u": u,
                "v": v,
                "jacobian": J.tolist(),
                "eigenvalues_real": np.real(eig).tolist(),
                "eigenvalues_imag": np.imag(eig).tolist(),
                "max_growth_rate": growth,
                "argmax_q": q_star,
                "stable_at_every_wavenumber": growth < 0,
                "turing": conds,
            }
        )
    nontrivial = len(states) > 1
    turing_any = any(s["turing"]["turing_unstable"] for s in states)
    stable_everywhere = [s["name"] for s in states if s["stable_at_every_wavenumber"]]

    trivial = states[0]
    words = [f"At F={F:g}, k={k:g} (Du={Du:g}, Dv={Dv:g}):"]
    if nontrivial:
        words.append(
            f"k <= k_sn = sqrt(F)/2 - F = {k_sn:.5g}, so besides (1, 0) there are two "
            f"non-trivial uniform states (discriminant F^2 - 4F(F+k)^2 = {disc:.3g} >= 0)."
        )
    else:
        words.append(
            f"k > k_sn = sqrt(F)/2 - F = {k_sn:.5g} (discriminant F^2 - 4F(F+k)^2 = "
            f"{disc:.3g} < 0): no non-trivial uniform steady state exists; the only one is "
            "the trivial state (u, v) = (1, 0)."
        )
    words.append(
        f"The trivial state has J = diag(-F, -(F+k)) = diag({-F:g}, {-(F + k):g}), so "
        f"lambda(q) = max(-F - Du q^2, -(F+k) - Dv q^2) <= {trivial['max_growth_rate']:.3g} "
        "< 0: it is linearly stable at every wavenumber."
    )
    for s in states[1:]:
        t = s["turing"]
        words.append(
            f"State {s['name']} (u={s['u']:.4g}, v={s['v']:.4g}): max growth rate "
            f"{s['max_growth_rate']:.3g} at q={s['argmax_q']:.4g}; tr J={t['trace']:.3g}, "
            f"det J={t['det']:.3g}; Turing unstable: {t['turing_unstable']}."
        )
    if turing_any:
        words.append("A linear Turing instability of a uniform state exists here.")
    else:
        words.append(
            "No uniform state has a linear Turing instability here, so patterns at these "
            "parameters cannot grow from infinitesimal noise about a uniform state: they grow "
            "from a finite-amplitude perturbation (Pearson's central square) and are "
            "sustained nonlinearly."
        )
    return {
        "F": F,
        "k": k,
        "Du": Du,
        "Dv": Dv,
        "saddle_node_k": k_sn,
        "discriminant": disc,
        "n_uniform_states": len(states),
        "nontrivial_state_exists": nontrivial,
        "states": states,
        "stable_at_every_wavenumber": stable_everywhere,
        "linear_turing_instability": turing_any,
        "summary": " ".join(words),
    }


def _upper_branch_functions(F: float, k: float, Du: float, Dv: float):
    """(tr J, h, h² − 4DuDv det J) at the v+ state; NaN where it does not exist."""
    states = uniform_states(F, k)
    if len(states) < 3:
        return math.nan, math.nan, math.nan
    c = turing_conditions(*states[1], F, k, Du, Dv)
    return c["trace"], c["h"], c["h2_minus_4DuDv_det"]


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
    out = np.full(F_arr.shape, np.nan)
    for i, f in enumerate(F_arr):
        k_hi = float(saddle_node_k(f))
        if not f > 0 or k_hi <= 0:
            continue
        k_hi -= 1e-12 * max(k_hi, 1e-9)
        h = lambda kk, f=f: _upper_branch_functions(f, kk, Du, Dv)[1]
        g = lambda kk, f=f: _upper_branch_functions(f, kk, Du, Dv)[2]
        k_lo = 0.0
        if h(k_lo) <= 0:
            if h(k_hi) <= 0:
                continue
            k_lo = optimize.brentq(h, 0.0, k_hi, xtol=1e-15)
        if g(k_lo) < 0 < g(k_hi):
            out[i] = optimize.brentq(g, k_lo, k_hi, xtol=1e-15)
    return out.reshape(np.shape(F))
