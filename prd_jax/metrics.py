"""Measurements of symmetry, homogeneity and the kernel regime (docs/mathematics.md, section 4).

``reference`` freezes what a run is compared against (its initial weights, kernel and ReLU
activation pattern); ``measure`` returns a flat dict of scalars at one point of training. Both
are pure and mask-aware, so they run inside the training scan and under ``vmap`` over a padded
sweep: masked-out neurons never enter a statistic.
"""

import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import norm

from prd_jax.kernels import activation_pattern, input_gram
from prd_jax.losses import critic
from prd_jax.model import Critic, Generator, _mask_and_width, generator

# Names of the scalars returned by ``measure``, in a fixed order (also the keys of saved files).
METRIC_NAMES = (
    "loss_sup",  # L_sup (Eq. 2)
    "loss_adv",  # L_adv (Eq. 3)
    "loss_aug",  # L_sup - lambda_adv L_adv
    "residual",  # ||z - y||_F
    "drift_max",  # max_j ||u_j(t) - u_j(0)||_2  (per-neuron drift, Theorems 1-2)
    "drift_mean",  # mean_j ||u_j(t) - u_j(0)||_2
    "drift_fro",  # ||U(t) - U(0)||_F
    "drift_rel",  # ||U(t) - U(0)||_F / ||U(0)||_F
    "drift_v_fro",  # ||V(t) - V(0)||_F
    "kernel_dev",  # ||H(t) - H(0)||_2  (Remark 1: the kernel regime holds while <= lambda0/4)
    "lambda_min",  # lambda_min(H(t))
    "flip_frac",  # fraction of ReLU activation patterns 1{u_j^T x_p >= 0} changed since t = 0
    "reaction_u",  # ||-dL_sup/dU||_F
    "diffusion_u",  # ||lambda_adv dL_adv/dU||_F
    "reaction_v",  # ||-dL_sup/dV||_F
    "diffusion_v",  # ||lambda_adv dL_adv/dV||_F
    "critic_norm",  # ||W||_F (= ||w||_2 for d_out = 1), the L of Theorem 2
    "critic_drift",  # ||W(t) - W(0)||_F
    "homog_ks",  # Kolmogorov-Smirnov distance of the entries of U(t) from N(0, 1)
    "spatial_ac",  # mean lag-1 spatial autocorrelation of u_j(t) seen as an image
    "lin_gap",  # ||f(theta_t) - f_lin(theta_t)||_F / ||f(theta_t) - f(theta_0)||_F (0 at t = 0)
)


class Reference(NamedTuple):
    """What a run is compared against: initial weights and activation pattern, and the
    constants of its kernel (computed once per run, not at every log point)."""

    U0: jax.Array  # (m, d_in)
    V0: jax.Array  # (d_out, m)
    W0: jax.Array  # (m, d_out)
    G: jax.Array  # (n, n) X X^T
    A0: jax.Array  # (n, m) 0/1: 1{u_j(0)^T x_p >= 0}, masked-out neurons 0
    counts0: jax.Array  # (n, n) A0 A0^T: H(0) = G * counts0 / m


def reference(gen: Generator, crit: Critic, X, mask=None) -> Reference:
    """Snapshot of the initial state that ``measure`` compares against."""
    A0, _ = activation_pattern(gen.U, X, mask)
    return Reference(gen.U, gen.V, crit.W, input_gram(X, A0.dtype), A0, A0 @ A0.T)


def image_shape_for(d_in: int) -> tuple[int, ...]:
    """Default image shape of a neuron ``u_j``: square if ``d_in`` is a perfect square, else 1-D."""
    side = int(round(d_in**0.5))
    return (side, side) if side * side == d_in else (d_in,)


def ks_from_normal(U, mask=None) -> jax.Array:
    """Kolmogorov-Smirnov distance between the law of the entries of U and N(0, 1).

    ``max_k |F_U(e_k) - Phi(e_k)|`` over the 161 points ``e_k`` of [-4, 4] (spacing 0.05):
    the exact KS statistic up to the grid resolution (0 for an i.i.d. N(0, 1) init at large
    size, 0.5 for an all-zero U). The empirical CDF at the grid is a cumulative histogram
    (each entry binned once by a binary search of the grid, then a scatter-add), not a
    comparison of every entry with every grid point. Sort-free on purpose: a batched sort
    next to eigvalsh inside the training loop deadlocked XLA's CPU thread pool on 2 cores.
    Pure and jittable; also takes plain (NumPy) arrays.

    Args:
      U: any float array; with ``mask``, rows are neurons, ``(m, ...)``.
      mask: optional ``(m,)`` neuron mask: only the entries of masked-in rows count.

    Returns:
      Scalar in [0, 1].
    """
    U = jnp.asarray(U)
    if not jnp.issubdtype(U.dtype, jnp.floating):
        U = U.astype(jnp.float32)
    U = U.reshape(-1, 1) if mask is None else U.reshape(U.shape[0], -1)
    mask, _ = _mask_and_width(mask, U.shape[0], U.dtype)
    return _ks_on_grid(U, mask)


@jax.jit
def _ks_on_grid(U, mask):
    # Built per call, not at import: a module-level JAX array would start the backend before
    # jax.distributed.initialize(). Under jit it is a constant.
    grid = jnp.linspace(-4.0, 4.0, 161, dtype=U.dtype)
    count = jnp.sum(mask) * U.shape[1]
    # A histogram instead of comparing every entry with every grid point: entry u falls in
    # bin k = the first grid point with u <= grid[k] (161: none; NaN sorts last, never
    # counted), so #{u <= grid[k]} = #{bins <= k}, the same counts as the full comparison
    # in O(rows * cols * log 161) work instead of O(rows * cols * 161). Sort-free (a scatter-
    # add): a batched sort next to eigvalsh deadlocked XLA's CPU thread pool on 2 cores.
    bins = jnp.searchsorted(grid, U, side="left")  # (rows, cols) in [0, 161]
    weights = jnp.broadcast_to(mask[:, None], U.shape)
    counts = jnp.zeros(grid.shape[0] + 1, U.dtype).at[bins.ravel()].add(weights.ravel())
    ecdf = jnp.cumsum(counts[:-1]) / count
    return jnp.max(jnp.abs(ecdf - norm.cdf(grid)))


def _lag1_autocorrelation(U, mask, image_shape):
    """Mean over neurons of the lag-1 autocorrelation of ``u_j`` reshaped to ``image_shape``."""
    imgs = U.reshape((U.shape[0],) + tuple(image_shape))
    centred = imgs - jnp.mean(imgs, axis=tuple(range(1, imgs.ndim)), keepdims=True)
    var = jnp.sum(jnp.square(centred), axis=tuple(range(1, imgs.ndim)))
    cov = jnp.zeros_like(var)
    for axis in range(1, imgs.ndim):
        n_ax = imgs.shape[axis]
        a = jax.lax.slice_in_dim(centred, 0, n_ax - 1, axis=axis)
        b = jax.lax.slice_in_dim(centred, 1, n_ax, axis=axis)
        # Normalise per axis by the number of pairs so both directions weigh the same.
        cov = cov + jnp.sum(a * b, axis=tuple(range(1, imgs.ndim))) * n_ax / (n_ax - 1)
    ac = cov / (imgs.ndim - 1) / jnp.maximum(var, 1e-30)
    return jnp.sum(ac * mask) / jnp.maximum(jnp.sum(mask), 1.0)


# Where ``eigvalsh`` runs: "host" (a NumPy callback), "device" (jnp.linalg.eigvalsh on the
# accelerator) or "auto" / unset (host on CPU, device on GPU and TPU). Read at trace time.
EIGH_ENV = "PRD_EIGH"
EIGH_MODES = ("auto", "host", "device")


def eigh_mode() -> str:
    """``"host"`` or ``"device"``: where ``eigvalsh`` computes, decided when a program is traced.

    ``$PRD_EIGH`` = ``host`` or ``device`` forces a path; unset, empty or ``auto`` picks
    ``host`` when ``jax.default_backend()`` is ``cpu`` and ``device`` otherwise (GPU, TPU).
    Any other value is a ValueError naming the variable. Read when a program is traced: a
    function that jit has already compiled keeps the path it was traced with.
    """
    choice = os.environ.get(EIGH_ENV, "").strip().lower() or "auto"
    if choice not in EIGH_MODES:
        raise ValueError(f"${EIGH_ENV} must be one of {', '.join(EIGH_MODES)}, got {choice!r}")
    if choice == "auto":
        return "host" if jax.default_backend() == "cpu" else "device"
    return choice


def _eigh64(A, vectors: bool = False):
    """float64 ``eigvalsh`` (or ``eigh``) of ``A (..., n, n)`` on the host; a matrix holding a
    NaN or inf gets NaN eigenvalues (and vectors) instead of LAPACK's error, so that a run fed
    a non-finite input ends with NaN metrics and its ``diverged`` flag, not a runtime error."""
    A = np.asarray(A, np.float64)
    bad = ~np.all(np.isfinite(A), axis=(-2, -1))
    if np.any(bad):
        A = np.where(bad[..., None, None], 0.0, A)
    if not vectors:
        w = np.linalg.eigvalsh(A)
        w[bad] = np.nan
        return w
    w, V = np.linalg.eigh(A)
    w[bad], V[bad] = np.nan, np.nan
    return w, V


def _to_bits(x):  # float64 numpy -> uint32 pairs (..., 2)
    return np.ascontiguousarray(x, np.float64).view(np.uint32).reshape(*np.shape(x), 2)


def _from_bits(bits):  # uint32 pairs (..., 2) -> float64 numpy
    bits = np.ascontiguousarray(bits, np.uint32)
    return bits.view(np.float64).reshape(bits.shape[:-1])


def _host_eigvalsh(A):
    A = np.asarray(A)
    return _eigh64(A).astype(A.dtype)


def _host_eigvalsh_bits(bits):
    """float64 eigenvalues of a matrix given and returned as uint32 pairs (eigvalsh_host)."""
    return _to_bits(_eigh64(_from_bits(bits)))


def _host_eigh(A):
    A = np.asarray(A)
    w, V = _eigh64(A, vectors=True)
    return w.astype(A.dtype), V.astype(A.dtype)


def _host_eigh_bits(bits):
    w, V = _eigh64(_from_bits(bits), vectors=True)
    return _to_bits(w), _to_bits(V)


@jax.custom_jvp
def eigvalsh_host(A):
    """Eigenvalues of symmetric ``A (..., n, n)``, ascending, computed on the host in float64
    and returned in A's dtype (a ``jax.pure_callback``: a device-to-host copy per call).

    Why on CPU: XLA's batched LAPACK eigh fans its batch out into the intra-op thread pool it
    already runs on and blocks; two such calls at once (or one per device) park every worker
    of a 2-core pool and the program deadlocks. The host callback avoids that, and is exact
    in float64. It runs once per log point, never per training step.

    float64 travels both ways bit-cast to pairs of uint32: the callback may run on a thread
    of XLA's that does not see a ``with jax.enable_x64(True):`` context, where jax would
    round a float64 argument to float32 and refuse a float64 return value.

    A matrix holding a NaN or inf gives NaN eigenvalues (not an error inside the callback).
    Differentiable: the JVP is the eigenvalues' first-order perturbation ``v_i^T dA v_i``
    (eigenvectors from a second host call, only when differentiating), as for
    ``jnp.linalg.eigvalsh``; exact for distinct eigenvalues.
    """
    if A.dtype != jnp.float64:
        out = jax.ShapeDtypeStruct(A.shape[:-1], A.dtype)
        return jax.pure_callback(_host_eigvalsh, out, A, vmap_method="expand_dims")
    bits = jax.lax.bitcast_convert_type(A, jnp.uint32)  # (..., n, n, 2)
    out = jax.ShapeDtypeStruct((*A.shape[:-1], 2), jnp.uint32)
    bits = jax.pure_callback(_host_eigvalsh_bits, out, bits, vmap_method="expand_dims")
    return jax.lax.bitcast_convert_type(bits, jnp.float64)


def eigh_host(A):
    """``(eigenvalues (..., n), eigenvectors (..., n, n))`` of symmetric ``A`` on the host in
    float64, returned in A's dtype (NaN for a non-finite matrix): ``eigvalsh_host``'s JVP."""
    w_shape, v_shape = A.shape[:-1], A.shape
    if A.dtype != jnp.float64:
        out = (jax.ShapeDtypeStruct(w_shape, A.dtype), jax.ShapeDtypeStruct(v_shape, A.dtype))
        return jax.pure_callback(_host_eigh, out, A, vmap_method="expand_dims")
    bits = jax.lax.bitcast_convert_type(A, jnp.uint32)
    out = tuple(jax.ShapeDtypeStruct((*shape, 2), jnp.uint32) for shape in (w_shape, v_shape))
    w, V = jax.pure_callback(_host_eigh_bits, out, bits, vmap_method="expand_dims")
    return tuple(jax.lax.bitcast_convert_type(b, jnp.float64) for b in (w, V))


@eigvalsh_host.defjvp
def _eigvalsh_host_jvp(primals, tangents):
    (A,), (dA,) = primals, tangents
    w, V = eigh_host(A)
    dw = jnp.einsum("...ji,...jk,...ki->...i", V, dA, V, precision=jax.lax.Precision.HIGHEST)
    return w, dw


def eigvalsh_device(A):
    """Eigenvalues of symmetric ``A (..., n, n)``, ascending, on A's device in A's dtype
    (``jnp.linalg.eigvalsh``): no host round trip, which on a GPU or TPU would stall every
    log point of a vmapped sweep on a copy to the host and back."""
    return jnp.linalg.eigvalsh(A)


def eigvalsh(A):
    """Eigenvalues of symmetric ``A (..., n, n)``, ascending: ``eigvalsh_host`` or
    ``eigvalsh_device`` as ``eigh_mode()`` says (host on CPU, on device on GPU and TPU)."""
    return eigvalsh_host(A) if eigh_mode() == "host" else eigvalsh_device(A)


def measure(
    gen: Generator,
    crit: Critic,
    ref: Reference,
    X,
    Y,
    lambda_adv,
    mask=None,
    image_shape: tuple[int, ...] | None = None,
) -> dict[str, jax.Array]:
    """Every metric of docs/mathematics.md (section 4) at one point of training.

    Args:
      gen, crit: current generator and critic parameters (possibly padded).
      ref: ``reference(...)`` of the same run at t = 0.
      X ``(n, d_in)``, Y ``(n, d_out)``; lambda_adv: the run's adversarial weight.
      mask: ``(m,)`` neuron mask of a padded network, or None.
      image_shape: shape of a neuron seen as an image (static); default ``image_shape_for``.

    Returns:
      Dict mapping each name of ``METRIC_NAMES`` to a scalar.
    """
    U, V = gen
    mask, m = _mask_and_width(mask, U.shape[0], U.dtype)
    image_shape = image_shape or image_shape_for(U.shape[1])

    # One forward pass serves the losses and, through its vjp, the reaction and diffusion
    # terms (the gradients of L_sup and L_adv in (U, V)).
    Z, pullback = jax.vjp(lambda U_, V_: generator(U_, V_, X, mask), U, V)
    l_sup = 0.5 * jnp.sum(jnp.square(Z - Y))

    def l_adv_of(Z_):
        return jnp.sum(critic(crit.W, crit.a, Z_, mask))

    l_adv, dadv_dZ = jax.value_and_grad(l_adv_of)(Z)
    g_sup, g_adv = pullback(Z - Y), pullback(dadv_dZ)
    reaction = Generator(-g_sup[0], -g_sup[1])
    diffusion = Generator(lambda_adv * g_adv[0], lambda_adv * g_adv[1])

    neuron_drift = jnp.linalg.norm(U - ref.U0, axis=1) * mask
    drift_fro = jnp.sqrt(jnp.sum(jnp.square(neuron_drift)))
    # H(t) = (X X^T) * (A A^T) / m (``kernels.h_empirical``) and H(t) - H(0) = (X X^T) *
    # (A A^T - A0 A0^T) / m with the 0/1 activation patterns A, A0: the integer counts cancel
    # exactly where no activation flipped, so kernel_dev is exactly 0 at t = 0 even though
    # the training scan measures inside its loop, where XLA may round differently from
    # ``reference`` outside it.
    A, _ = activation_pattern(U, X, mask)
    counts = A @ A.T
    H = ref.G * (counts * (1.0 / m))
    H_change = ref.G * ((counts - ref.counts0) * (1.0 / m))
    eig = eigvalsh(jnp.stack([H_change, H]))  # one call for both spectra
    flips = (A != ref.A0).astype(U.dtype)  # masked-out neurons are 0 in both

    return {
        "loss_sup": l_sup,
        "loss_adv": l_adv,
        "loss_aug": l_sup - lambda_adv * l_adv,
        "residual": jnp.linalg.norm(Z - Y),
        "drift_max": jnp.max(neuron_drift),
        "drift_mean": jnp.sum(neuron_drift) / m,
        "drift_fro": drift_fro,
        "drift_rel": drift_fro / jnp.linalg.norm(ref.U0 * mask[:, None]),
        "drift_v_fro": jnp.linalg.norm((V - ref.V0) * mask[None, :]),
        "kernel_dev": jnp.max(jnp.abs(eig[0])),
        "lambda_min": eig[1, 0],
        "flip_frac": jnp.sum(flips) / (m * X.shape[0]),
        "reaction_u": jnp.linalg.norm(reaction.U),
        "diffusion_u": jnp.linalg.norm(diffusion.U),
        "reaction_v": jnp.linalg.norm(reaction.V),
        "diffusion_v": jnp.linalg.norm(diffusion.V),
        "critic_norm": jnp.linalg.norm(crit.W * mask[:, None]),
        "critic_drift": jnp.linalg.norm((crit.W - ref.W0) * mask[:, None]),
        "homog_ks": ks_from_normal(U, mask),
        "spatial_ac": _lag1_autocorrelation(U, mask, image_shape),
        "lin_gap": linearization_gap(gen, ref, X, Z, mask),
    }


def linearization_gap(gen: Generator, ref: Reference, X, Z=None, mask=None) -> jax.Array:
    """The function-space test of laziness (Chizat, Oyallon & Bach 2019; Lee et al. 2019): how
    far the network is from its linearisation at initialisation, relative to how far it moved,

        ||f(theta_t) - f_lin(theta_t)||_F / ||f(theta_t) - f(theta_0)||_F,
        f_lin(theta) = f(theta_0) + J(theta_0) (theta - theta_0),

    over every weight of the generator (U and V: an untrained layer has theta = theta_0 and adds
    nothing). One ``jax.jvp`` at ``theta_0``; exactly 0 while the weights equal their
    initialisation (t = 0). Padded neurons are zero in both ``theta_t`` and ``theta_0`` and
    change nothing.

    Args:
      gen: current ``Generator``; ref: the run's ``reference`` (its ``U0``, ``V0``).
      X: ``(n, d_in)``; Z: ``f(theta_t)`` if already computed; mask: ``(m,)`` or None.
    """
    U, V = gen
    Z = generator(U, V, X, mask) if Z is None else Z
    Z0, dZ = jax.jvp(
        lambda U_, V_: generator(U_, V_, X, mask), (ref.U0, ref.V0), (U - ref.U0, V - ref.V0)
    )
    moved = jnp.linalg.norm(Z - Z0)
    gap = jnp.linalg.norm(Z - Z0 - dZ)
    # While the weights equal their initialisation (t = 0) the two outputs, computed along
    # different paths, differ by rounding alone: their ratio would be noise, not a gap.
    ok = (moved > 0) & ~(jnp.all(U == ref.U0) & jnp.all(V == ref.V0))
    return jnp.where(ok, gap / jnp.where(ok, moved, 1.0), jnp.zeros_like(moved))
