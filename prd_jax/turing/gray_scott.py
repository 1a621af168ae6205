"""Gray-Scott reaction-diffusion: fast, pure simulators and their numerical health checks.

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
every snapshot and returned; :func:`check_health` summarises them as numbers and flags,
:func:`assert_healthy` turns a failure into an error or a warning.

Time-step limits: :func:`fd_dt_limit` (diffusion only) and :func:`euler_dt_limit`
(reaction-aware, linearised about the uniform states of ``prd_jax.turing.stability``).

The linear stability analysis itself (uniform states, dispersion relation, Turing
conditions, bifurcation curves) lives in :mod:`prd_jax.turing.stability`.

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

from prd_jax.turing.stability import PAPER_F as PAPER_F  # re-exported
from prd_jax.turing.stability import PAPER_KS as PAPER_KS
from prd_jax.turing.stability import PEARSON_DU, PEARSON_DV, jacobian, uniform_states

Array = jax.Array

# Pearson (1993) protocol; his Du, Dv and the paper's F, k come from the stability module.
PEARSON_N = 256
PEARSON_SIDE = 2.5
PEARSON_DT = 1.0
PEARSON_SQUARE = 20


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
# Health: non-negativity, blow-up, grid-scale oscillation
# --------------------------------------------------------------------------------------


def check_health(
    run: GSRun, negative_tol: float = 1e-3, bound: float = 10.0, checkerboard_tol: float = 1e-4
) -> dict:
    """Summarise a run's health as numbers and flags (host-side).

    A run has *blown up* if any snapshot holds NaN/inf or max(|u|, |v|) > ``bound`` (the
    true solution stays in about [0, 1]); it is *negative* if min(u, v) < −negative_tol;
    it is *grid-unstable* if the checkerboard amplitude exceeds ``checkerboard_tol``
    (forward Euler beyond its reaction-aware limit, see :func:`euler_dt_limit`: it can
    saturate instead of blowing up, so finiteness alone misses it).

    Returns a dict with ``ok``, ``blown_up``, ``negative``, ``grid_unstable`` (bools),
    ``min_value``, ``max_abs``, ``max_checkerboard``, ``first_bad_time`` (None if healthy),
    the thresholds ``negative_tol``, ``bound``, ``checkerboard_tol``, and for a batched run
    ``bad_cells`` (flat indices).
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
        "negative_tol": negative_tol,
        "bound": bound,
        "checkerboard_tol": checkerboard_tol,
    }
    if bad.ndim > 1:
        report["bad_cells"] = np.flatnonzero(flat.any(-1)).tolist()
    return report


def _health_error(report: dict) -> str:
    """The text of the error or warning :func:`assert_healthy` raises for a failed report."""
    where = f"from t = {report['first_bad_time']:g}"
    if report["blown_up"]:
        return (
            f"blow-up: non-finite or |field| > {report['bound']:g} {where}; reduce dt "
            "(or use method='etdrk4')"
        )
    if report["negative"]:
        return (
            f"negative concentration: min(u, v) = {report['min_value']:.3g} < "
            f"-{report['negative_tol']:g} {where}; reduce dt"
        )
    return (
        f"grid-scale (checkerboard) instability: amplitude {report['max_checkerboard']:.3g} > "
        f"{report['checkerboard_tol']:g} {where}; dt exceeds the reaction-aware forward-Euler "
        "limit (euler_dt_limit): reduce dt"
    )


def assert_healthy(run: GSRun, negative_tol: float = 1e-3, bound: float = 10.0) -> dict:
    """:func:`check_health`, raising ``FloatingPointError`` on blow-up and warning
    (``RuntimeWarning``) on negative values or grid-scale oscillation. Returns the report."""
    report = check_health(run, negative_tol, bound)
    if report["blown_up"]:
        raise FloatingPointError(_health_error(report))
    if not report["ok"]:
        warnings.warn(_health_error(report), RuntimeWarning, stacklevel=2)
    return report
