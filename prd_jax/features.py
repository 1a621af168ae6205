"""Library math for the paper's figures: feature visualisation, neuron embeddings, power-law
fits and a few statistics of weight fields.

Feature visualisation (the slide "Importance of diffusion in the PRD model"):
``δ_j = argmax_{δ ∈ Δ} u_jᵀ(x + δ)``. The paper leaves Δ undefined; offered here:

* ``Δ = {‖δ‖₂ ≤ ε}``: closed form ``δ_j = ε u_j / ‖u_j‖₂`` (``feature_l2``);
* ``Δ = {‖δ‖_∞ ≤ ε}``: closed form ``δ_j = ε sign(u_j)`` (``feature_linf``);
* either ball intersected with the image box ``x + δ ∈ [0, 1]^d``: ``feature_box`` solves it by
  projected gradient ascent (``method="pga"``) or exactly from the KKT conditions
  (``method="kkt"``), and the two are tested against each other.

Shapes: ``U (m, d)`` (row ``u_j`` is neuron j), ``x (d,)``. All jnp functions are pure and
jittable; the fitting and embedding helpers are host-side (numpy / scikit-learn).
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

NORMS = ("l2", "linf")


# ------------------------------------------------------------------ feature visualisation


def feature_l2(U, eps):
    """Closed form of ``argmax_{‖δ‖₂ ≤ ε} u_jᵀ(x + δ) = ε u_j/‖u_j‖₂`` for every row of U.

    Independent of x (the objective is linear in δ). A zero row gives δ = 0.

    Args:
      U: ``(m, d)``. eps: radius ε.

    Returns:
      ``(m, d)``; the maximum is ``u_jᵀx + ε ‖u_j‖₂``.
    """
    norms = jnp.linalg.norm(U, axis=-1, keepdims=True)
    return eps * U / jnp.where(norms > 0, norms, 1.0)


def feature_linf(U, eps):
    """Closed form of ``argmax_{‖δ‖_∞ ≤ ε} u_jᵀ(x + δ) = ε sign(u_j)``.

    The maximum is ``u_jᵀx + ε ‖u_j‖₁``.

    Args:
      U: ``(m, d)``. eps: radius ε.

    Returns:
      ``(m, d)``.
    """
    return eps * jnp.sign(U)


def _box(x, eps, norm):
    """Per-coordinate bounds of δ from ``x + δ ∈ [0, 1]`` (and ``|δ_k| ≤ ε`` for l∞)."""
    lo, hi = -x, 1.0 - x
    if norm == "linf":
        lo, hi = jnp.maximum(lo, -eps), jnp.minimum(hi, eps)
    return lo, hi


def _bisect(fn, lo, hi, iters):
    """Root of a decreasing scalar ``fn`` in [lo, hi] by bisection (fixed iteration count)."""

    def body(_, bounds):
        a, b = bounds
        mid = 0.5 * (a + b)
        pos = fn(mid) > 0
        return jnp.where(pos, mid, a), jnp.where(pos, b, mid)

    a, b = jax.lax.fori_loop(0, iters, body, (lo, hi))
    return 0.5 * (a + b)


def project_l2_box(z, eps, lo, hi, iters=60):
    """Euclidean projection of z onto ``{‖δ‖₂ ≤ ε} ∩ [lo, hi]`` (needs ``lo ≤ 0 ≤ hi``).

    KKT: the projection is ``clip(z/(1 + ν), lo, hi)`` with the smallest ν ≥ 0 that makes its
    norm ≤ ε; ``‖clip(z/(1+ν))‖`` decreases in ν, so ν is found by bisection (on ``s = 1/(1+ν)
    ∈ (0, 1]``).

    Args:
      z: ``(d,)``. eps: ε. lo, hi: ``(d,)`` box bounds. iters: bisection steps.

    Returns:
      ``(d,)``.
    """
    inside = jnp.clip(z, lo, hi)
    ok = jnp.linalg.norm(inside) <= eps
    s = _bisect(lambda s: eps - jnp.linalg.norm(jnp.clip(s * z, lo, hi)), 0.0, 1.0, iters)
    return jnp.where(ok, inside, jnp.clip(s * z, lo, hi))


def _kkt_l2_box(u, lo, hi, eps):
    """``argmax_{δ ∈ [lo, hi], ‖δ‖₂ ≤ ε} uᵀδ`` exactly (needs ``lo ≤ 0 ≤ hi``).

    KKT: ``δ = clip(τ u, lo, hi)`` with τ ≥ 0 the smallest value giving ``‖δ‖₂ = ε`` (or the
    box corner if that is inside the ball). ``‖clip(τ u)‖²`` is piecewise quadratic in τ with
    breakpoints ``τ_k = b_k/|u_k|`` (b_k the bound in u_k's direction); sorting them gives τ
    in closed form, no iteration.
    """
    au = jnp.abs(u)
    b = jnp.where(u > 0, hi, -lo)  # distance to the bound u_k points at (>= 0)
    corner = jnp.where(u > 0, hi, jnp.where(u < 0, lo, 0.0))
    tau_k = jnp.where(au > 0, b / jnp.where(au > 0, au, 1.0), jnp.inf)
    order = jnp.argsort(tau_k)
    tau_s, b_s, u_s = tau_k[order], b[order] * (au[order] > 0).astype(b.dtype), au[order]
    clipped_sq = jnp.cumsum(b_s**2) - b_s**2  # sum of b^2 over coordinates clipped before k
    free_sq = jnp.cumsum((u_s**2)[::-1])[::-1]  # sum of u^2 over coordinates k, k+1, ...
    at_break = clipped_sq + jnp.where(jnp.isfinite(tau_s), tau_s, 0.0) ** 2 * free_sq
    # First breakpoint at which the norm reaches ε: the root lies in the piece before it.
    reach = jnp.isfinite(tau_s) & (at_break >= eps**2)
    i = jnp.argmax(reach)
    tau = jnp.sqrt(jnp.maximum(eps**2 - clipped_sq[i], 0.0) / jnp.maximum(free_sq[i], 1e-300))
    return jnp.where(jnp.any(reach), jnp.clip(tau * u, lo, hi), corner)


def feature_box(U, x, eps, norm="l2", method="pga", steps=200, step_size=None, iters=60):
    """``δ_j = argmax_{δ ∈ Δ, x + δ ∈ [0, 1]^d} u_jᵀ(x + δ)`` for every row of U.

    For ``norm="linf"`` the feasible set is a box and the answer is exact in both methods
    (each coordinate at its upper bound where ``u_jk > 0``, lower where ``< 0``). For
    ``norm="l2"``:

    * ``method="pga"``: projected gradient ascent ``δ ← P(δ + α u_j)``, with P the exact
      projection onto ball ∩ box (``project_l2_box``) and ``α = step_size`` (default
      ``ε/‖u_j‖``), from δ = 0, for ``steps`` steps;
    * ``method="kkt"``: the exact maximiser ``clip(τ u_j, lo, hi)``, τ by bisection.

    Args:
      U: ``(m, d)`` neurons. x: ``(d,)`` image in ``[0, 1]^d``. eps: radius ε.
      norm: ``"l2"`` or ``"linf"``. method: ``"pga"`` or ``"kkt"``.
      steps, step_size: PGA settings. iters: bisection steps.

    Returns:
      ``(m, d)`` perturbations δ_j (``x + δ_j`` is the visualised feature).
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if method not in ("pga", "kkt"):
        raise ValueError(f"method must be 'pga' or 'kkt', got {method!r}")
    x = jnp.asarray(x, U.dtype)
    if x.shape != U.shape[1:]:
        raise ValueError(f"x has shape {x.shape}; expected ({U.shape[1]},)")
    lo, hi = _box(x, eps, norm)

    def one(u):
        if norm == "linf":
            return jnp.where(u > 0, hi, jnp.where(u < 0, lo, 0.0))
        if method == "kkt":
            return _kkt_l2_box(u, lo, hi, eps)
        unorm = jnp.linalg.norm(u)
        alpha = eps / jnp.where(unorm > 0, unorm, 1.0) if step_size is None else step_size

        def body(_, delta):
            return project_l2_box(delta + alpha * u, eps, lo, hi, iters)

        return jax.lax.fori_loop(0, steps, body, jnp.zeros_like(u))

    return jax.vmap(one)(U)


# ------------------------------------------------------------------------ embeddings


class Embedding(NamedTuple):
    """2-D coordinates of points and the variance captured by each of the two axes."""

    coords: np.ndarray  # (N, 2)
    explained: np.ndarray  # (2,) fraction of total variance (PCA); NaN for t-SNE


def pca(A, k=2) -> Embedding:
    """PCA of the rows of A by SVD of the centred matrix.

    Args:
      A: ``(N, D)``. k: number of components.

    Returns:
      ``Embedding(coords (N, k), explained (k,))``, signs fixed so that each axis's largest
      loading is positive (deterministic).
    """
    A = np.asarray(A, np.float64)
    C = A - A.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(C, full_matrices=False)
    vt = vt[:k]
    signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
    vt = vt * signs[:, None]
    total = np.sum(s**2)
    return Embedding(C @ vt.T, (s[:k] ** 2) / (total if total > 0 else 1.0))


def tsne(A, seed=0, perplexity=30.0, pca_dims=50) -> Embedding:
    """2-D t-SNE (scikit-learn) of the rows of A, after PCA to ``pca_dims`` dimensions."""
    from sklearn.manifold import TSNE

    A = np.asarray(A, np.float64)
    if A.shape[1] > pca_dims:
        C = A - A.mean(axis=0, keepdims=True)
        _, _, vt = np.linalg.svd(C, full_matrices=False)
        A = C @ vt[:pca_dims].T
    perplexity = min(perplexity, (A.shape[0] - 1) / 3.0)
    coords = TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(A)
    return Embedding(coords, np.full(2, np.nan))


def top_pc_excess(A) -> float:
    """Variance share of the first principal component of the rows of A, divided by its
    value for i.i.d. noise of the same shape (Marchenko-Pastur edge).

    For ``N`` i.i.d. isotropic rows in D dimensions the top eigenvalue of the sample covariance
    is about ``σ²(1 + sqrt(D/N))²`` out of a trace ``D σ²``. A ratio near 1 means no preferred
    direction (a homogeneous cloud of neurons); a ratio ≫ 1 means a dominant direction, the
    "band" or "tail" of the paper's Fig. 1.
    """
    A = np.asarray(A, np.float64)
    N, D = A.shape
    s = np.linalg.svd(A - A.mean(axis=0, keepdims=True), compute_uv=False)
    share = s[0] ** 2 / max(np.sum(s**2), 1e-300)
    return float(share / ((1.0 + np.sqrt(D / N)) ** 2 / D))


def excess_kurtosis(a) -> float:
    """Excess kurtosis of the entries of ``a`` (0 for a Gaussian)."""
    a = np.asarray(a, np.float64).ravel()
    c = a - a.mean()
    var = np.mean(c**2)
    return float(np.mean(c**4) / var**2 - 3.0) if var > 0 else float("nan")


def abs_cosines(U, direction) -> np.ndarray:
    """``|cos(u_j, direction)|`` for every neuron: alignment of a weight field with an image."""
    U = np.asarray(U, np.float64)
    d = np.asarray(direction, np.float64).ravel()
    return np.abs(U @ d / (np.linalg.norm(U, axis=1) * np.linalg.norm(d) + 1e-300))


def mean_abs_cosine(U, direction) -> float:
    """Mean over neurons of ``|cos(u_j, direction)|`` (see ``abs_cosines``)."""
    return float(np.mean(abs_cosines(U, direction)))


# ------------------------------------------------------------- weight-field statistics

# The KS distance of a weight field from N(0, 1) is ``prd_jax.metrics.ks_from_normal``.

PANEL_KEYS = ("morans_i", "spectral_entropy", "dominant_wavelength", "anisotropy")


@functools.cache
def _batched_image_metrics():
    """``prd_jax.turing.patterns.pattern_metrics`` (non-periodic) jitted and vmapped over images.

    Built once: jit then compiles once per image shape, instead of once per eager op.
    """
    from prd_jax.turing.patterns import pattern_metrics

    return jax.jit(jax.vmap(functools.partial(pattern_metrics, periodic=False)))


def image_stats_batch(fields) -> list[dict]:
    """Pattern statistics of each image of ``fields (B, H, W)`` (non-periodic: images have
    edges), as ``prd_jax.turing.patterns.pattern_stats`` gives them: plain floats plus
    ``"class"``."""
    from prd_jax.turing.patterns import _to_python, classify_pattern

    fields = np.asarray(fields, np.float32)
    metrics = {k: np.asarray(v) for k, v in _batched_image_metrics()(jnp.asarray(fields)).items()}
    out = []
    for b in range(fields.shape[0]):
        stats = {k: _to_python(v[b]) for k, v in metrics.items()}
        stats["class"] = classify_pattern(stats)
        out.append(stats)
    return out


def image_stats(field) -> dict:
    """Pattern statistics of one weight image (see ``image_stats_batch``)."""
    return image_stats_batch(np.asarray(field)[None])[0]


def neuron_pattern_stats(U, image_shape, k=32) -> dict:
    """Mean (over the first k neurons) of the pattern metrics of ``u_j`` seen as an image.

    Args:
      U: ``(m, d_in)``. image_shape: ``(rows, cols)`` with ``rows * cols = d_in``.
      k: number of neurons averaged.

    Returns:
      ``{key: mean}`` for the keys of ``PANEL_KEYS`` (nan-aware mean), and ``{key}_se``: the
      standard error of that mean over neurons (for ``mean_difference_z``).
    """
    imgs = np.asarray(U, np.float32)[:k].reshape((-1,) + tuple(image_shape))
    metrics = _batched_image_metrics()(jnp.asarray(imgs))
    out = {}
    for key in PANEL_KEYS:
        v = np.asarray(metrics[key], np.float64)
        v = v[np.isfinite(v)]
        out[key] = float(np.mean(v)) if v.size else float("nan")
        out[f"{key}_se"] = (
            float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
        )
    return out


def mean_difference_z(mean_a, se_a, mean_b, se_b) -> float:
    """z-score of ``mean_a - mean_b`` from two means and their standard errors (Welch form).

    The experiments count a difference of two noisy means only if ``z > 2``."""
    se = float(np.hypot(se_a, se_b))
    return float((mean_a - mean_b) / se) if se > 0 else float("nan")


# ------------------------------------------------- per-network statistics of a weight field


def row_morans_i(U, image_shape) -> np.ndarray:
    """Moran's I of each row of ``U (k, d_in)`` seen as an image of ``image_shape``
    (non-periodic; 0 for noise, near 1 for a smooth field): ``(k,)`` float64, NaN for a flat
    row."""
    imgs = np.asarray(U, np.float32).reshape((-1,) + tuple(image_shape))
    return np.asarray(_batched_image_metrics()(jnp.asarray(imgs))["morans_i"], np.float64)


def span_basis(X, rtol: float = 1e-6) -> np.ndarray:
    """An orthonormal basis ``(d_in, r)`` of ``span{x_p}`` for ``X (n, d_in)``, from the SVD
    (rank-revealing, unlike QR without pivoting: images have always-zero pixels, so the span can
    be smaller than ``min(n, d_in)``); singular values below ``rtol`` times the largest count as
    0 (float32 data)."""
    basis, sv, _ = np.linalg.svd(np.asarray(X, np.float64).T, full_matrices=False)
    return basis[:, sv > rtol * max(float(sv[0]) if sv.size else 0.0, 1e-300)]


def span_residual(D, X, rtol: float = 1e-6) -> np.ndarray:
    """Relative part of each row of ``D (k, d_in)`` outside the span of the inputs ``X (n, d_in)``:
    ``‖(I − P_X) d_j‖ / ‖d_j‖`` (float64; NaN for a zero row).

    Gradient descent on any loss of ``f(U, V, x_p)`` moves ``u_j`` by ``Σ_p c_pj x_p`` (the
    chain rule through ``u_jᵀx_p``), so the drift ``Δu_j = u_j(T) − u_j(0)`` lies in
    ``span{x_p}`` under supervised and adversarial training alike: this is 0 up to rounding.
    ``rtol``: as in ``span_basis``.
    """
    D = np.asarray(D, np.float64)
    Q = span_basis(X, rtol)
    outside = D - (D @ Q) @ Q.T
    norms = np.linalg.norm(D, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, np.linalg.norm(outside, axis=1) / norms, np.nan)


def weight_field_stats(U, U0, image_shape, k=128) -> dict:
    """Scalar statistics of one trained first layer ``U (m, d_in)`` against its init ``U0``.

    Returns float64 scalars:
      ``drift_rel``: ``‖U − U0‖_F / ‖U0‖_F``;
      ``drift_over_init``: mean over neurons of ``‖u_j − u_j(0)‖ / ‖u_j(0)‖`` (a pattern in
      ``Δu_j`` can show in ``u_j`` itself only once this is of order 1);
      ``ks``: Kolmogorov-Smirnov distance of U's entries from N(0, 1)
      (``metrics.ks_from_normal``);
      ``kurtosis``: excess kurtosis of U's entries (0 for N(0, 1));
      ``morans_i_u``, ``morans_i_du``: mean Moran's I of the first ``k`` rows of ``U`` and of
      ``U − U0`` seen as images (NaN-aware);
      ``frac_drift_dominated``: fraction of neurons with ``‖u_j − u_j(0)‖ > ‖u_j(0)‖``.
    """
    from prd_jax.metrics import ks_from_normal

    U, U0 = np.asarray(U, np.float64), np.asarray(U0, np.float64)
    dU = U - U0
    per_neuron = np.linalg.norm(dU, axis=1) / np.linalg.norm(U0, axis=1)
    return {
        "drift_rel": float(np.linalg.norm(dU) / np.linalg.norm(U0)),
        "drift_over_init": float(np.mean(per_neuron)),
        "frac_drift_dominated": float(np.mean(per_neuron > 1.0)),
        "ks": float(ks_from_normal(np.asarray(U, np.float32))),
        "kurtosis": excess_kurtosis(U),
        "morans_i_u": finite_mean(row_morans_i(U[:k], image_shape)),
        "morans_i_du": finite_mean(row_morans_i(dU[:k], image_shape)),
    }


def finite_mean(v) -> float:
    """Mean of the finite entries (NaN, without a warning, when there are none)."""
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return float(np.mean(v)) if v.size else float("nan")


def paired_differences(stats_a: list[dict], stats_b: list[dict], key: str) -> list[float]:
    """``[a[key] − b[key]]`` over paired records (e.g. one per seed: adversarial − supervised
    from the same initialisation)."""
    return [float(a[key]) - float(b[key]) for a, b in zip(stats_a, stats_b, strict=True)]


def t_interval(values) -> list[float]:
    """95% t-interval of the mean of ``values`` (e.g. one per seed) as a list; NaNs with fewer
    than 2 (``claims.t_interval``)."""
    from prd_jax.claims import t_interval as _t

    return list(_t(values)[1])
