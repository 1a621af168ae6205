"""Kernels: H∞ closed form vs Monte-Carlo, finite-width convergence, masks, float64 spectra;
the jnp kernels with and without jit."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from beartype import beartype
from jaxtyping import TypeCheckError, jaxtyped

from prd_jax.kernels import (
    Spectrum,
    gram_spectrum,
    h_empirical,
    h_infinity,
    h_infinity_mc,
    h_infinity_numpy,
    spectrum,
)

pytestmark = pytest.mark.strict_dtypes

N, D = 8, 5


def _sphere(key, n=N, d=D):
    X = jax.random.normal(key, (n, d))
    return X / jnp.linalg.norm(X, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def X():
    return _sphere(jax.random.key(0))


def test_closed_form_matches_monte_carlo(X):
    # 200k samples in chunks of 30k: 7 chunks, the last one partial (masked).
    num = 200_000
    H_mc = jax.jit(h_infinity_mc, static_argnames=("num_samples", "chunk_size"))(
        jax.random.key(1), X, num_samples=num, chunk_size=30_000
    )
    # Per-entry standard error is |x_iᵀx_j| sqrt(p(1-p)/N) <= 0.5/sqrt(N) for unit inputs;
    # allow 5 standard errors (~5.6e-3).
    tol = 5 * 0.5 / np.sqrt(num)
    err = np.max(np.abs(np.asarray(H_mc - h_infinity(X))))
    assert err < tol, (err, tol)


class JnpKernelsTest(chex.TestCase):
    """The jnp kernels, eagerly and under jit."""

    def setUp(self):
        super().setUp()
        self.X = _sphere(jax.random.key(0))

    @chex.variants(with_jit=True, without_jit=True)
    def test_h_infinity_closed_form_at_known_angles(self):
        # Unit vectors in the plane at angles phi_i: H∞_ij = cos θ (π - θ)/(2π), θ = |φ_i - φ_j|.
        phi = np.array([0.0, 0.4, 1.3, 2.0, 3.0])
        X2 = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        theta = np.abs(phi[:, None] - phi[None, :])
        want = np.cos(theta) * (np.pi - theta) / (2 * np.pi)
        got = self.variant(h_infinity)(jnp.asarray(X2, jnp.float32))
        np.testing.assert_allclose(got, want, atol=2e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_h_infinity_structure_and_diagonal(self):
        X = self.X
        h = self.variant(h_infinity)
        H = np.asarray(h(X))
        assert np.allclose(H, H.T, atol=0)
        assert np.linalg.eigvalsh(H.astype(np.float64)).min() >= -1e-6
        assert np.allclose(np.diag(H), 0.5, atol=1e-7)
        # Non-unit norms: H∞_ij = x_iᵀx_j (π - θ)/(2π) scales as ‖x_i‖‖x_j‖, diagonal ‖x‖²/2.
        s = jnp.linspace(0.5, 3.0, N)
        Hs = np.asarray(h(X * s[:, None]))
        S = np.asarray(s)
        assert np.allclose(np.diag(Hs), S**2 / 2, rtol=1e-6)
        assert np.allclose(Hs, H * np.outer(S, S), rtol=1e-5, atol=1e-7)
        # The float64 host version agrees to float32 rounding.
        np.testing.assert_allclose(H, h_infinity_numpy(np.asarray(X)), atol=2e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_degenerate_inputs_finite_values_and_grads(self):
        X = self.X
        x0 = X[0]
        Xd = jnp.concatenate([X[:4], (-x0)[None], x0[None], jnp.zeros((1, D))], axis=0)
        Hn = np.asarray(self.variant(h_infinity)(Xd))
        assert np.all(np.isfinite(Hn))
        assert Hn[0, 4] == pytest.approx(0.0, abs=1e-6)  # antiparallel: θ = π
        assert Hn[0, 5] == pytest.approx(0.5, abs=1e-3)  # duplicate (float32 arccos limit)
        assert np.all(Hn[6] == 0) and np.all(Hn[:, 6] == 0)  # zero row
        grads = self.variant(
            lambda Z: (
                jax.grad(lambda W: jnp.sum(h_infinity(W)))(Z),
                jax.grad(lambda W: jnp.trace(h_infinity(W)))(Z),
            )
        )
        g, gd = grads(Xd)
        assert np.all(np.isfinite(np.asarray(g)))
        # Diagonal entries are ‖x‖²/2 exactly, so their gradient is x (no arccos blow-up).
        assert np.allclose(np.asarray(gd), np.asarray(Xd), atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_empirical_mask_padding_is_exact(self):
        X = self.X
        m, M = 37, 64
        U = jax.random.normal(jax.random.key(4), (m, D))
        garbage = jnp.concatenate(
            [jnp.full((3, D), jnp.nan), jnp.full((3, D), jnp.inf), 1e6 * jnp.ones((M - m - 6, D))]
        )
        Up = jnp.concatenate([U, garbage], axis=0)
        mask = jnp.arange(M) < m
        f = self.variant(h_empirical)
        H = np.asarray(f(U, X))
        # Exact zeros added to integer counts: padded == unpadded bit for bit (same mode).
        assert np.array_equal(np.asarray(f(Up, X, mask)), H)
        assert np.array_equal(np.asarray(f(Up, X, mask.astype(jnp.float32))), H)
        # Remark 1 by brute force, in float64: x_iᵀx_j (1/m) Σ_r 1{u_rᵀx_i ≥ 0, u_rᵀx_j ≥ 0}.
        Un, Xn = np.asarray(U, np.float64), np.asarray(X, np.float64)
        act = Xn @ Un.T >= 0  # (n, m)
        want = (Xn @ Xn.T) * (act[:, None, :] & act[None, :, :]).mean(axis=-1)
        np.testing.assert_allclose(H, want, rtol=1e-5, atol=1e-6)


def test_jit_matches_eager_and_numpy_float64(X):
    H = h_infinity(X)
    # XLA fuses the elementwise tail differently under jit: equal to float32 rounding.
    assert np.allclose(np.asarray(jax.jit(h_infinity)(X)), np.asarray(H), rtol=0, atol=1e-6)
    H64 = h_infinity_numpy(np.asarray(X))
    assert H64.dtype == np.float64
    if hasattr(jax, "enable_x64"):  # the JAX formula itself, in float64
        with jax.enable_x64(True):
            Hj64 = np.asarray(h_infinity(jnp.asarray(np.asarray(X), dtype=jnp.float64)))
        assert Hj64.dtype == np.float64
        assert np.allclose(Hj64, H64, atol=1e-12)


@pytest.mark.parametrize("theta0", [1e-7, np.pi - 1e-7, 0.3])
def test_numpy_float64_accurate_near_parallel(theta0):
    X2 = np.array([[1.0, 0.0, 0.0], [np.cos(theta0), np.sin(theta0), 0.0]])
    want = np.cos(theta0) * (np.pi - theta0) / (2 * np.pi)
    assert h_infinity_numpy(X2)[0, 1] == pytest.approx(want, rel=1e-13, abs=1e-16)


def test_empirical_converges_at_rate_one_over_sqrt_m(X):
    # Nested widths of one padded network (masks), 8 seeds: a single compile.
    widths = np.array([100, 1000, 10000])
    U = jax.random.normal(jax.random.key(3), (8, int(widths[-1]), D))
    masks = jnp.arange(widths[-1])[None, :] < jnp.asarray(widths)[:, None]  # (3, M)
    per_width = jax.vmap(h_empirical, in_axes=(None, None, 0))
    H = jax.jit(jax.vmap(per_width, in_axes=(0, None, None)))(U, X, masks)  # (8, 3, n, n)
    E = np.asarray(H, dtype=np.float64) - h_infinity_numpy(np.asarray(X))[None, None]
    errs = np.abs(np.linalg.eigvalsh(E)).max(axis=-1).mean(axis=0)  # ‖·‖₂, seed mean
    assert errs[0] > errs[1] > errs[2], errs
    slope = np.polyfit(np.log(widths), np.log(errs), 1)[0]
    assert -0.7 <= slope <= -0.3, (slope, errs)


def test_spectrum_known_matrix_in_float64():
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    ev = np.array([1e-9, 0.3, 0.7, 1.0])  # λ0/λ_max = 1e-9: unresolvable in float32
    H = (Q * ev) @ Q.T
    s = spectrum(H)
    assert isinstance(s, Spectrum) and all(isinstance(v, float) for v in s)
    assert s.lambda0 == pytest.approx(1e-9, rel=1e-5)
    assert s.lambda_max == pytest.approx(1.0, rel=1e-12)
    assert s.kappa == pytest.approx(1e9, rel=1e-5)
    ref = np.linalg.eigvalsh(H)
    assert (s.lambda0, s.lambda_max) == pytest.approx((ref[0], ref[-1]), rel=1e-9)


def test_gram_spectrum_random_sphere_data(X):
    s = gram_spectrum(X)
    assert s.lambda0 > 1e-3
    ref = np.linalg.eigvalsh(h_infinity_numpy(np.asarray(X)))
    assert s == pytest.approx((ref[0], ref[-1], ref[-1] / ref[0]), rel=1e-12)
    # A single antipodal pair keeps H∞ definite (H∞ restricted to {x, -x} is I/2).
    s2 = gram_spectrum(np.concatenate([np.asarray(X), -np.asarray(X[:1])]))
    assert s2.lambda0 > 1e-3


def test_gram_spectrum_names_duplicate_pair(X):
    Xd = np.asarray(X).copy()
    Xd[6] = 2.0 * Xd[2]  # parallel (positive multiple)
    with pytest.raises(ValueError, match=r"Inputs 2 and 6 are parallel") as info:
        gram_spectrum(Xd)
    assert "duplicate" in str(info.value) and "Fix" in str(info.value)
    with pytest.warns(UserWarning, match="singular"):
        s = gram_spectrum(Xd, strict=False)
    assert s.lambda0 <= 1e-10 * s.lambda_max
    # spectrum(H) without X names the pair from H's rows.
    with pytest.raises(ValueError, match=r"rows are 2 and 6"):
        spectrum(h_infinity_numpy(Xd))


def test_gram_spectrum_names_zero_input(X):
    Xz = np.asarray(X).copy()
    Xz[3] = 0.0
    with pytest.raises(ValueError, match=r"Inputs \[3\] are zero vectors"):
        gram_spectrum(Xz)


def test_gram_spectrum_antipodal_pairs_singular():
    # ±e1, ±e2, ±(e1+e2)/√2 in R²: φ(x) - φ(-x) = x is linear, so these 6 features are
    # linearly dependent although no two inputs are parallel.
    e = np.eye(2)
    base = np.stack([e[0], e[1], (e[0] + e[1]) / np.sqrt(2)])
    Xa = np.concatenate([base, -base])
    with pytest.raises(ValueError, match=r"antiparallel") as info:
        gram_spectrum(Xa)
    assert "inputs 0 and 3" in str(info.value)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (lambda U, X: h_infinity(X[0]), AssertionError, r"X must be a float matrix"),
        (lambda U, X: h_infinity(X.astype(jnp.int32)), AssertionError, r"X must be a float"),
        (lambda U, X: h_empirical(U[0], X), AssertionError, r"U must be a float matrix"),
        (lambda U, X: h_empirical(U, X[:, :3]), ValueError, r"X has shape \(8, 3\); expected"),
        (lambda U, X: h_empirical(U, X, jnp.ones(3)), ValueError, r"mask has shape \(3,\)"),
    ],
)
def test_shape_errors_name_the_argument(X, bad, error, match):
    U = jax.random.normal(jax.random.key(0), (6, D))
    with pytest.raises(error, match=match):
        jax.jit(bad)(U, X)  # trace-time checks: they fire under jit


def test_jaxtyping_annotations_hold_and_catch_wrong_shapes(X):
    def checked(fn):
        return jaxtyped(typechecker=beartype)(fn)

    U = jax.random.normal(jax.random.key(0), (6, D))
    checked(h_infinity)(X)
    checked(h_empirical)(U, X, jnp.arange(6) < 4)
    jax.jit(checked(h_empirical))(U, X)
    checked(h_infinity_mc)(jax.random.key(1), X, 64, chunk_size=32)
    checked(h_infinity_numpy)(np.asarray(X))
    with pytest.raises(TypeCheckError):
        checked(h_empirical)(U, X[:, :3])  # d_in differs between U and X
    with pytest.raises(TypeCheckError):
        checked(h_empirical)(U, X, jnp.ones(3))  # mask is not (m,)
    with pytest.raises(TypeCheckError):
        checked(h_infinity)(X[0])
