# ruff: noqa: F722  (jaxtyping shape strings such as "n d_in" are not Python expressions)
"""Gram matrices of the PRD generator: H∞ (Definition 1), its Monte-Carlo estimate, the
finite-width H(t) (Remark 1), and float64 spectra (λ0, λ_max, κ∞) for Assumption 1.

Shapes (rows are samples): ``X (n, d_in)``, ``U (m, d_in)`` (row ``u_r`` is neuron r). All
JAX functions here are pure, jittable and vmappable. ``spectrum``, ``gram_spectrum`` and
``h_infinity_numpy`` run on the host in float64 (numpy): λ0 of a real data set can be many
orders of magnitude below λ_max, which float32 cannot resolve.

Accuracy note. ``h_infinity`` computes the angle θ_ij from the Gram matrix ``X Xᵀ``. Near
θ = 0 this loses half the digits (θ ≈ sqrt(2(1 − cos θ)), and cos θ carries a rounding
error of about one ulp), so two distinct but nearly parallel inputs get H∞_ij with an
absolute error of about sqrt(eps)/(2π) (~5e-5 in float32). The diagonal is exact. This is
fine for training-time metrics; for λ0 use ``gram_spectrum``, whose float64 host version
(``h_infinity_numpy``) switches to Kahan's angle formula θ = 2 atan2(‖x̂_i − x̂_j‖,
‖x̂_i + x̂_j‖) for nearly (anti)parallel pairs, accurate at every angle, so that exact
duplicates give exactly singular H∞.
"""

import math
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from prd_jax.model import Mask, check_matrix

_HIGHEST = jax.lax.Precision.HIGHEST


def _safe_norm(sq):
    """sqrt of non-negative ``sq`` with value 0 and zero gradient where ``sq == 0``."""
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)


def h_infinity(X: Float[ArrayLike, "n d_in"]) -> Float[Array, "n n"]:
    """Infinite-width Gram matrix H∞ in closed form (Definition 1).

    ``H∞_ij = E_{u~N(0,I)}[x_iᵀx_j 1{uᵀx_i ≥ 0, uᵀx_j ≥ 0}] = x_iᵀx_j (π − θ_ij)/(2π)``,
    with θ_ij the angle between x_i and x_j. The indicator depends only on directions, so
    the formula holds for any norms; the diagonal is ``‖x_i‖²/2``. A zero row gives a zero
    row and column.

    Safe at cos θ = ±1 (duplicated, parallel, antiparallel inputs): the value is finite and
    ``jax.grad`` is finite. At θ = 0 or π the entry is not differentiable in X (θ has a
    kink there); the gradient returned uses the subgradient dθ = 0. The cosine is clipped to
    [−1, 1] and θ = atan2(sin θ, cos θ) with a square root guarded by a double ``where``.

    Args:
      X: inputs, shape ``(n, d_in)``, rows are samples.

    Returns:
      H∞, shape ``(n, n)``, symmetric positive semi-definite, dtype of X.
    """
    check_matrix("X", X, "(n, d_in)")
    n = X.shape[0]
    G = jnp.matmul(X, X.T, precision=_HIGHEST)  # (n, n)
    r = _safe_norm(jnp.sum(X * X, axis=-1))  # (n,)
    denom = r[:, None] * r[None, :]  # (n, n)
    pos = denom > 0
    cos = jnp.where(pos, G / jnp.where(pos, denom, 1.0), 0.0)
    # cos_ii is 1 by definition; forcing it makes the diagonal exact and its gradient clean.
    cos = jnp.where(jnp.eye(n, dtype=bool) & pos, 1.0, jnp.clip(cos, -1.0, 1.0))
    sin = _safe_norm(1.0 - cos * cos)
    theta = jnp.arctan2(sin, cos)
    return G * (jnp.pi - theta) / (2.0 * jnp.pi)


def _kahan_angle(a, b):
    """Angle between unit rows ``a`` and ``b`` (k, d): 2 atan2(‖a − b‖, ‖a + b‖)."""
    return 2.0 * np.arctan2(np.linalg.norm(a - b, axis=-1), np.linalg.norm(a + b, axis=-1))


def h_infinity_numpy(X: Float[ArrayLike, "n d_in"]) -> Float[np.ndarray, "n n"]:
    """Float64 host (numpy) version of ``h_infinity`` (Definition 1), accurate at all angles.

    Same formula, ``H∞_ij = ‖x_i‖‖x_j‖ cos θ_ij (π − θ_ij)/(2π)``. θ_ij is ``arccos`` of
    the float64 Gram cosine where that is well conditioned (|cos| ≤ 1 − 1e-4: absolute
    error ≲ 1e-13/sqrt(1 − cos²) ≤ 1e-11), and Kahan's formula
    ``θ = 2 atan2(‖x̂_i − x̂_j‖, ‖x̂_i + x̂_j‖)`` on the normalised rows x̂ for the nearly
    (anti)parallel pairs, where ``arccos`` loses half the digits. So duplicated rows give
    an exactly singular H∞.

    Args:
      X: inputs, array-like of shape ``(n, d_in)``.

    Returns:
      H∞ as a float64 ``numpy.ndarray`` of shape ``(n, n)``.
    """
    if np.ndim(X) != 2:
        raise ValueError(f"X must have shape (n, d_in), got {np.shape(X)}")
    check_h_infinity_memory(*np.shape(X), "h_infinity_numpy")  # before any (n, n) array
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    r = np.linalg.norm(X, axis=1)
    Xh = np.divide(X, r[:, None], out=np.zeros_like(X), where=r[:, None] > 0)
    cos = np.clip(Xh @ Xh.T, -1.0, 1.0)
    theta = np.arccos(cos)
    i, j = np.nonzero(np.triu(np.abs(cos) > 1.0 - 1e-4, 1))
    step = max(1, (1 << 22) // max(d, 1))  # bound the (pairs, d) temporaries
    for s in range(0, i.size, step):
        ii, jj = i[s : s + step], j[s : s + step]
        theta[ii, jj] = _kahan_angle(Xh[ii], Xh[jj])
    theta = np.triu(theta, 1)
    theta = theta + theta.T  # symmetric, θ_ii = 0 exactly
    return np.outer(r, r) * np.cos(theta) * (np.pi - theta) / (2.0 * np.pi)


def h_infinity_bytes(n: int, d_in: int) -> int:
    """Peak memory of ``h_infinity_numpy`` (and so of ``gram_spectrum``, ``suggest_lr``): about
    five float64 ``(n, n)`` matrices (cosines, angles, the result and temporaries) and two
    float64 copies of X."""
    return 8 * (5 * int(n) * int(n) + 2 * int(n) * int(d_in))


def host_memory_bytes() -> int | None:
    """The host's available memory: ``MemAvailable`` of ``/proc/meminfo``, else
    ``os.sysconf``; None when neither says."""
    import os

    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_h_infinity_memory(n: int, d_in: int, where: str = "h_infinity_numpy") -> None:
    """Refuse (ValueError, one line) an ``n`` whose float64 H∞ would not fit in the host's
    available memory, before any ``(n, n)`` array is allocated."""
    need = h_infinity_bytes(n, d_in)
    if need < 2**28:  # 256 MiB: no need to ask the machine
        return
    limit = host_memory_bytes()
    if limit is not None and need > limit:
        raise ValueError(
            f"{where}: n = {n} samples need about {need / 2**30:.3g} GiB for the float64 (n, n) "
            f"matrices of H-infinity, more than the {limit / 2**30:.3g} GiB available; use a "
            "smaller n"
        )


def host_call(fn, out_shape: tuple, X):
    """``fn(X as float64 numpy) -> array of out_shape``, for a traced ``X``: a
    ``jax.pure_callback`` returning X's float dtype. float64 crosses as uint32 pairs, as in
    ``metrics.eigvalsh_host`` (XLA's callback thread may not see ``jax.enable_x64``)."""
    dtype = jnp.result_type(X)

    def numpy_fn(x):
        return np.asarray(fn(np.asarray(x, np.float64)), np.float64).reshape(out_shape)

    if dtype != jnp.float64:
        out = jax.ShapeDtypeStruct(out_shape, dtype)
        return jax.pure_callback(
            lambda x: numpy_fn(x).astype(dtype), out, X, vmap_method="sequential"
        )

    def bits_fn(bits):
        x = np.ascontiguousarray(bits, np.uint32).view(np.float64).reshape(bits.shape[:-1])
        return np.ascontiguousarray(numpy_fn(x)).view(np.uint32).reshape(*out_shape, 2)

    bits = jax.lax.bitcast_convert_type(X, jnp.uint32)
    out = jax.ShapeDtypeStruct((*out_shape, 2), jnp.uint32)
    bits = jax.pure_callback(bits_fn, out, bits, vmap_method="sequential")
    return jax.lax.bitcast_convert_type(bits, jnp.float64)


def h_infinity_mc(
    key: PRNGKeyArray, X: Float[ArrayLike, "n d_in"], num_samples: int, *, chunk_size: int = 4096
) -> Float[Array, "n n"]:
    """Monte-Carlo estimate of H∞ (Definition 1) with ``num_samples`` neurons u ~ N(0, I).

    ``Ĥ_ij = x_iᵀx_j (1/N) Σ_s 1{u_sᵀx_i ≥ 0, u_sᵀx_j ≥ 0}``. Unbiased; each entry has
    standard error ``|x_iᵀx_j| sqrt(p(1 − p)/N) ≤ ‖x_i‖‖x_j‖/(2 sqrt(N))``. The samples are
    drawn in chunks of ``chunk_size`` inside a ``lax.scan``, so memory is
    ``O(n · chunk_size)`` whatever N is. Counts accumulate in X's float dtype (exact up to
    2^24 in float32; beyond that the rounding is far below the Monte-Carlo error).

    Args:
      key: a ``jax.random.key``.
      X: inputs, shape ``(n, d_in)``.
      num_samples: N, a static Python int.
      chunk_size: static Python int, samples per scan step.

    Returns:
      Ĥ, shape ``(n, n)``, dtype of X.
    """
    check_matrix("X", X, "(n, d_in)")
    n, d = X.shape
    num_samples = int(num_samples)
    chunk = int(min(chunk_size, num_samples))
    num_chunks = -(-num_samples // chunk)
    dtype = X.dtype
    keys = jax.random.split(key, num_chunks)
    starts = jnp.arange(num_chunks) * chunk

    def body(counts, inp):
        k, start = inp
        U = jax.random.normal(k, (chunk, d), dtype)
        valid = (start + jnp.arange(chunk)) < num_samples  # the last chunk may be partial
        A = (jnp.matmul(X, U.T, precision=_HIGHEST) >= 0).astype(dtype)
        A = A * valid.astype(dtype)[None, :]
        return counts + jnp.matmul(A, A.T), None

    counts, _ = jax.lax.scan(body, jnp.zeros((n, n), dtype), (keys, starts))
    G = jnp.matmul(X, X.T, precision=_HIGHEST)
    return G * counts / num_samples


def h_empirical(
    U: Float[Array, "m d_in"], X: Float[ArrayLike, "n d_in"], mask: Mask = None
) -> Float[Array, "n n"]:
    """Finite-width Gram matrix H (Remark 1) of a width-m ReLU layer.

    ``H_ij = x_iᵀx_j (1/m) Σ_r 1{u_rᵀx_i ≥ 0, u_rᵀx_j ≥ 0}``, computed as
    ``(X Xᵀ) ⊙ (A Aᵀ)/m`` with ``A = 1{X Uᵀ ≥ 0}`` of shape ``(n, m)``.

    Padded networks: with ``mask`` of shape ``(M,)`` (0/1 floats or bools) only masked-in
    neurons count and ``m = sum(mask)`` (traced), so a network padded to width M with any
    values in its masked-out rows (even inf or nan) gives exactly the width-m result. An
    all-zero mask divides by zero.

    Args:
      U: first-layer weights, shape ``(M, d_in)``; row r is neuron u_r.
      X: inputs, shape ``(n, d_in)``.
      mask: optional neuron mask, shape ``(M,)``.

    Returns:
      H, shape ``(n, n)``, symmetric PSD, in the float dtype of X and U.
    """
    check_matrix("U", U, "(m, d_in)")
    check_matrix("X", X, "(n, d_in)")
    if X.shape[1] != U.shape[1]:
        raise ValueError(f"X has shape {X.shape}; expected (n, d_in) with d_in = {U.shape[1]}")
    if mask is not None and jnp.shape(mask) != (U.shape[0],):
        raise ValueError(f"mask has shape {jnp.shape(mask)}; expected ({U.shape[0]},)")
    A, m = activation_pattern(U, X, mask)
    # A is 0/1, so A Aᵀ is an exact integer count even at reduced (bf16/tf32) precision.
    # Padding adds exact zeros to the integer counts, so padded == unpadded bit for bit
    # (for the same execution mode: jit and eager may use different matmul kernels).
    return input_gram(X, A.dtype) * (jnp.matmul(A, A.T) * (1.0 / m))


def activation_pattern(U, X, mask: Mask = None) -> tuple[jax.Array, jax.Array | int]:
    """``(A, m)``: the 0/1 pattern ``A = 1{X Uᵀ ≥ 0}`` ``(n, M)`` in the float dtype of X and U
    (masked-out neurons 0) and the width ``m`` (``sum(mask)``, traced, or M). ``h_empirical``
    is ``input_gram(X) ⊙ (A Aᵀ)/m``; ``metrics.measure`` reuses A for the kernel's change and
    the flipped activations."""
    dtype = jnp.result_type(X, U)
    A = (jnp.matmul(X, U.T, precision=_HIGHEST) >= 0).astype(dtype)  # (n, M)
    if mask is None:
        return A, U.shape[0]
    mask = jnp.asarray(mask).astype(dtype)
    return A * mask[None, :], jnp.sum(mask)


def input_gram(X, dtype=None) -> jax.Array:
    """``X Xᵀ`` at full precision, ``(n, n)``, in ``dtype`` (default X's)."""
    return jnp.matmul(X, X.T, precision=_HIGHEST).astype(dtype or jnp.result_type(X))


class Spectrum(NamedTuple):
    """Extreme eigenvalues of a Gram matrix, as Python floats computed in float64.

    ``lambda0`` is λ_min (Assumption 1's λ0 when the matrix is H∞), ``lambda_max`` is
    λ_max (λ1∞ for H∞) and ``kappa = lambda_max / lambda0`` is the condition number κ∞.
    This is *not* the κ = λ1/λ0 = 2κ∞ + 1 of Lemma 4 (see ``theory.kappa``).
    """

    lambda0: float
    lambda_max: float
    kappa: float


def _pair_report(H, X):
    """Name the pair of inputs most nearly parallel/antiparallel (the usual cause)."""
    n = H.shape[0]
    if n < 2:
        return ""
    iu, ju = np.triu_indices(n, 1)
    if X is not None:
        Xf = np.asarray(X, dtype=np.float64)
        r = np.linalg.norm(Xf, axis=1)
        Xh = np.divide(Xf, r[:, None], out=np.zeros_like(Xf), where=r[:, None] > 0)
        theta = _kahan_angle(Xh[iu], Xh[ju])  # accurate near 0 and π
        k = int(np.argmin(np.minimum(theta, np.pi - theta)))
        i, j, th = int(iu[k]), int(ju[k]), float(theta[k])
        cos = math.cos(th)
        if th < 1e-6:
            return (
                f" Inputs {i} and {j} are parallel (cos = {cos:.12f}, angle {th:.2e} rad):"
                " they are duplicates or positive multiples of each other, so rows"
                f" {i} and {j} of H∞ coincide (up to scale)."
            )
        if np.pi - th < 1e-6:
            return (
                f" The pair with |cos| closest to 1 is inputs {i} and {j}, which are"
                f" antiparallel (cos = {cos:.12f}). One antipodal pair alone keeps H∞"
                " definite, but several antipodal pairs ±x_k whose directions x_k are"
                " linearly dependent (e.g. more pairs than dimensions) make it singular,"
                " because x 1{uᵀx ≥ 0} − (−x) 1{−uᵀx ≥ 0} = x is linear in x."
            )
        return (
            f" No two inputs are parallel: the pair with |cos| closest to 1 is inputs {i}"
            f" and {j} (cos = {cos:.9f}); the singularity involves more than two inputs"
            " (see the null eigenvector below)."
        )
    d = np.clip(np.diag(H), 0.0, None)
    denom = np.sqrt(d[iu] * d[ju])
    corr = np.divide(np.abs(H[iu, ju]), denom, out=np.zeros_like(denom), where=denom > 0)
    k = int(np.argmax(corr))
    i, j = int(iu[k]), int(ju[k])
    return (
        f" The most nearly proportional rows are {i} and {j} (normalised correlation"
        f" {corr[k]:.12f}); a value of 1 means inputs {i} and {j} are parallel or"
        " duplicated. Pass X=... (or use gram_spectrum) to get the input angles."
    )


def _singular_message(H, ev, vecs, tol, X):
    lam0, lmax = float(ev[0]), float(ev[-1])
    zero = np.flatnonzero(np.diag(H) <= 0.0)
    zero_note = (
        f" Inputs {zero.tolist()[:10]} are zero vectors (zero rows of H∞); drop them."
        if zero.size
        else ""
    )
    v0 = np.abs(vecs[:, 0])
    involved = np.flatnonzero(v0 > 0.1 * v0.max())
    involved = involved[np.argsort(-v0[involved])][:10]
    return (
        f"H∞ is singular: λ0 = {lam0:.3e} <= tol * λ_max = {tol * lmax:.3e} (λ_max ="
        f" {lmax:.3e}), so Assumption 1 (λ0 > 0) fails and the linear-rate and drift bounds"
        " are void." + zero_note + _pair_report(H, X) + f" The eigenvector of λ0 is concentrated on"
        f" inputs {involved.tolist()}. Fix: remove duplicated or parallel inputs (e.g."
        " deduplicate the normalised rows) and antipodal pairs, i.e. use data in which no"
        " two inputs are parallel or antiparallel (then H∞ is positive definite; Du et al."
        " 2018, Thm 3.1)."
    )


def spectrum(
    H: Float[ArrayLike, "n n"],
    *,
    tol: float = 1e-10,
    strict: bool = True,
    X: Float[ArrayLike, "n d_in"] | None = None,
) -> Spectrum:
    """λ0 = λ_min, λ_max and κ∞ of a symmetric Gram matrix, in float64 on the host.

    Assumption 1 requires λ0 = λ_min(H∞) > 0. The eigenvalues are those of
    ``numpy.linalg.eigvalsh`` applied to the symmetrised float64 copy ``(H + Hᵀ)/2``.
    If ``λ0 ≤ tol · λ_max`` the matrix is treated as singular: a ``ValueError`` (or, with
    ``strict=False``, a ``UserWarning``) names the pair of inputs responsible and the fix.
    A matrix computed in float32 has eigenvalue errors around 1e-7 · λ_max, so below that
    level its λ0 is rounding noise; use ``gram_spectrum`` (float64 throughout) for H∞.

    Args:
      H: Gram matrix, array-like of shape ``(n, n)``.
      tol: relative singularity threshold on λ0/λ_max.
      strict: raise (True) or warn (False) when singular.
      X: optional inputs ``(n, d_in)`` that H was built from, used only to name the most
        nearly parallel pair in the error message.

    Returns:
      ``Spectrum(lambda0, lambda_max, kappa)`` of Python floats; ``kappa`` is ``inf`` when
      λ0 ≤ 0 (only reachable with ``strict=False``).
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("H contains inf or nan")
    Hs = 0.5 * (H + H.T)
    ev = np.linalg.eigvalsh(Hs)
    lam0, lmax = float(ev[0]), float(ev[-1])
    if lmax <= 0.0:
        raise ValueError(f"H has no positive eigenvalue (λ_max = {lmax:.3e}); all inputs zero?")
    if lam0 <= tol * lmax:
        ev, vecs = np.linalg.eigh(Hs)  # eigenvectors only for the diagnosis
        msg = _singular_message(Hs, ev, vecs, tol, X)
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, UserWarning, stacklevel=2)
    kappa = lmax / lam0 if lam0 > 0.0 else math.inf
    return Spectrum(lambda0=lam0, lambda_max=lmax, kappa=kappa)


def gram_spectrum(
    X: Float[ArrayLike, "n d_in"], *, tol: float = 1e-10, strict: bool = True
) -> Spectrum:
    """``spectrum`` of H∞(X) (Definition 1, Assumption 1), computed in float64 throughout.

    Uses ``h_infinity_numpy`` (Kahan's angle formula), so exact duplicates give an exactly
    singular matrix and the error names the offending pair of inputs by row index.

    Args:
      X: inputs, array-like of shape ``(n, d_in)``.
      tol: relative singularity threshold on λ0/λ_max.
      strict: raise (True) or warn (False) when λ0 ≤ tol · λ_max.

    Under ``jit``/``vmap`` (a traced X) the same float64 computation runs on the host through
    ``host_call`` and the fields are traced scalars of X's dtype; a singular H∞ is then not an
    error (``strict`` needs a concrete X: λ0 is returned as computed), and a non-finite X gives
    NaN.

    Returns:
      ``Spectrum(lambda0, lambda_max, kappa)``: λ0, λ1∞ and κ∞ of H∞.
    """
    if isinstance(X, jax.core.Tracer):
        check_matrix("X", X, "(n, d_in)")

        def values(x):
            if not np.all(np.isfinite(x)):
                return np.full(3, np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return np.asarray(gram_spectrum(x, tol=tol, strict=False))

        return Spectrum(*host_call(values, (3,), X))
    X = np.asarray(X, dtype=np.float64)
    return spectrum(h_infinity_numpy(X), tol=tol, strict=strict, X=X)
