"""Library math of the figures: feature visualisation against brute force and exact KKT,
projection properties, embeddings, power-law fits, the batched pattern statistics against
prd_jax.turing.patterns, and the reaction-diffusion terms (autodiff) against a float64
closed form written out here."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from prd_jax import features
from prd_jax.turing.patterns import pattern_stats


def _random_problem(seed, m=5, d=12):
    rng = np.random.default_rng(seed)
    U = jnp.asarray(rng.standard_normal((m, d)), jnp.float32)
    x = jnp.asarray(rng.uniform(0, 1, d), jnp.float32)
    return U, x, rng


def test_l2_and_linf_closed_forms_beat_random_feasible_points():
    U, x, rng = _random_problem(0)
    eps = 0.7
    d2 = features.feature_l2(U, eps)
    dinf = features.feature_linf(U, eps)
    np.testing.assert_allclose(np.linalg.norm(d2, axis=1), eps, rtol=1e-6)
    np.testing.assert_allclose(np.abs(dinf), eps)
    best2 = np.sum(np.asarray(U * d2), axis=1)
    np.testing.assert_allclose(best2, eps * np.linalg.norm(U, axis=1), rtol=1e-5)
    for _ in range(200):
        z = rng.standard_normal(U.shape[1])
        assert np.all(np.asarray(U) @ (eps * z / np.linalg.norm(z)) <= best2 + 1e-5)
        w = rng.uniform(-eps, eps, U.shape[1])
        assert np.all(np.asarray(U) @ w <= np.sum(np.asarray(U * dinf), axis=1) + 1e-5)
    assert np.all(np.asarray(features.feature_l2(jnp.zeros((2, 3)), 1.0)) == 0)


@pytest.mark.parametrize("eps", [0.3, 1.5, 100.0])
def test_box_constrained_pga_matches_exact_kkt(eps):
    U, x, rng = _random_problem(1)
    pga = np.asarray(features.feature_box(U, x, eps, "l2", "pga", steps=400))
    kkt = np.asarray(features.feature_box(U, x, eps, "l2", "kkt"))
    Un = np.asarray(U, np.float64)
    for delta in (pga, kkt):
        assert np.all(np.linalg.norm(delta, axis=1) <= eps * (1 + 1e-5))
        xd = np.asarray(x)[None, :] + delta
        assert xd.min() >= -1e-6 and xd.max() <= 1 + 1e-6
    obj_pga, obj_kkt = np.sum(Un * pga, 1), np.sum(Un * kkt, 1)
    np.testing.assert_allclose(obj_pga, obj_kkt, rtol=1e-4, atol=1e-5)
    # No random feasible point does better than the exact solution.
    lo, hi = -np.asarray(x), 1 - np.asarray(x)
    for _ in range(300):
        z = rng.standard_normal(U.shape[1])
        cand = np.clip(z, lo, hi)
        cand *= min(1.0, eps / max(np.linalg.norm(cand), 1e-12))
        assert np.all(Un @ cand <= obj_kkt + 1e-5)
    if eps == 100.0:  # ball inactive: the box corner
        corner = np.where(Un > 0, hi, lo)
        np.testing.assert_allclose(kkt, corner, atol=1e-6)


def test_box_linf_is_the_box_corner_and_jits():
    U, x, _ = _random_problem(2)
    f = jax.jit(lambda U, x: features.feature_box(U, x, 0.2, "linf"))
    delta = np.asarray(f(U, x))
    lo = np.maximum(-np.asarray(x), -0.2)
    hi = np.minimum(1 - np.asarray(x), 0.2)
    np.testing.assert_allclose(delta, np.where(np.asarray(U) > 0, hi, lo), atol=1e-7)
    with pytest.raises(ValueError, match="norm"):
        features.feature_box(U, x, 0.2, "l1")
    with pytest.raises(ValueError, match="x has shape"):
        features.feature_box(U, x[:-1], 0.2)


def test_project_l2_box_is_a_projection():
    _, x, rng = _random_problem(3, d=9)
    lo, hi = -x, 1 - x
    eps = 0.5
    for _ in range(20):
        z = jnp.asarray(rng.standard_normal(9) * 2, jnp.float32)
        p = features.project_l2_box(z, eps, lo, hi)
        assert float(jnp.linalg.norm(p)) <= eps * (1 + 1e-5)
        assert bool(jnp.all(p >= lo - 1e-6)) and bool(jnp.all(p <= hi + 1e-6))
        np.testing.assert_allclose(features.project_l2_box(p, eps, lo, hi), p, atol=1e-5)
        # Variational inequality: <z - P(z), y - P(z)> <= 0 for every feasible y.
        for _ in range(10):
            y = np.clip(rng.standard_normal(9), np.asarray(lo), np.asarray(hi))
            y *= min(1.0, eps / max(np.linalg.norm(y), 1e-12))
            assert float(jnp.dot(z - p, jnp.asarray(y) - p)) <= 1e-4


def test_pca_and_top_pc_excess():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2000, 50))
    assert abs(features.top_pc_excess(noise) - 1.0) < 0.1
    spiked = noise + 4.0 * rng.standard_normal((2000, 1)) * np.ones((1, 50)) / np.sqrt(50)
    assert features.top_pc_excess(spiked) > 5.0
    emb = features.pca(spiked)
    assert emb.coords.shape == (2000, 2)
    cov = np.cov(spiked.T)
    ev = np.linalg.eigvalsh(cov)[::-1]
    np.testing.assert_allclose(emb.explained, ev[:2] / ev.sum(), rtol=1e-8)
    np.testing.assert_allclose(np.var(emb.coords, axis=0, ddof=1), ev[:2], rtol=1e-8)
    assert abs(features.excess_kurtosis(rng.standard_normal(100_000))) < 0.1


def test_tsne_runs_small():
    rng = np.random.default_rng(0)
    emb = features.tsne(rng.standard_normal((40, 60)), seed=0)
    assert emb.coords.shape == (40, 2) and np.all(np.isfinite(emb.coords))


def _reaction_diffusion_reference(U, V, W, a, X, Y):
    """Definition 2 in float64 closed form, no autodiff: the test's independent reference.

    With ``A = 1{X Uᵀ ≥ 0}`` (n, m), ``H = σ(X Uᵀ)``, ``Z = H Vᵀ/sqrt(d_out m)`` and the critic's
    input gradient ``G = (1{Z Wᵀ ≥ 0} ⊙ a) W / sqrt(m)`` (n, d_out):
    ``R^U = (((Y − Z) V) ⊙ A)ᵀ X / sqrt(d_out m)``, ``R^V = (Y − Z)ᵀ H / sqrt(d_out m)``,
    ``D^U = ((G V) ⊙ A)ᵀ X / sqrt(d_out m)``, ``D^V = Gᵀ H / sqrt(d_out m)``.
    """
    U, V, W, a, X, Y = (np.asarray(t, np.float64) for t in (U, V, W, a, X, Y))
    m, d_out = U.shape[0], V.shape[0]
    pre = X @ U.T
    A = (pre >= 0).astype(np.float64)
    H = np.maximum(pre, 0.0)
    scale = 1.0 / np.sqrt(d_out * m)
    Z = H @ V.T * scale
    G = ((Z @ W.T >= 0) * a[None, :]) @ W / np.sqrt(m)
    R_U = (((Y - Z) @ V) * A).T @ X * scale
    D_U = ((G @ V) * A).T @ X * scale
    return R_U, D_U, (Y - Z).T @ H * scale, G.T @ H * scale


def test_reaction_diffusion_closed_form_matches_autodiff():
    X, Y = prd_jax.sphere(jax.random.key(0), 12, 6, 3)
    gen, crit = prd_jax.init(jax.random.key(1), 20, 6, 3)
    R, D = jax.jit(prd_jax.reaction_diffusion)(*gen, *crit, X, Y)
    ours = _reaction_diffusion_reference(*gen, *crit, X, Y)
    for a, b in zip(ours, (R.U, D.U, R.V, D.V), strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)


def test_image_stats_match_pattern_stats():
    rng = np.random.default_rng(0)
    fields = rng.standard_normal((3, 9, 11)).cumsum(axis=1)
    batch = features.image_stats_batch(fields)
    for field, got in zip(fields, batch, strict=True):
        ref = pattern_stats(field, periodic=False)
        for key in features.PANEL_KEYS + ("class",):
            if isinstance(ref[key], float):
                assert got[key] == pytest.approx(ref[key], rel=1e-4, abs=1e-5)
            else:
                assert got[key] == ref[key]
    means = features.neuron_pattern_stats(fields.reshape(3, -1), (9, 11), k=3)
    assert means["morans_i"] == pytest.approx(np.mean([b["morans_i"] for b in batch]), rel=1e-5)
    assert features.mean_abs_cosine(np.eye(3), [1.0, 0, 0]) == pytest.approx(1 / 3)
