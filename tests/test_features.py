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


def test_span_residual_is_zero_in_the_span_and_one_orthogonal_to_it():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 30))
    inside = rng.standard_normal((4, 5)) @ X  # combinations of the x_p
    np.testing.assert_allclose(features.span_residual(inside, X), 0.0, atol=1e-12)
    Q, _ = np.linalg.qr(np.concatenate([X.T, rng.standard_normal((30, 3))], axis=1))
    orthogonal = Q[:, 5:].T  # unit vectors orthogonal to every x_p
    np.testing.assert_allclose(features.span_residual(orthogonal, X), 1.0, rtol=1e-12)
    mixed = features.span_residual(inside[:1] + 3.0 * orthogonal[:1], X)[0]
    expected = 3.0 / np.linalg.norm(inside[0] + 3.0 * orthogonal[0])
    assert mixed == pytest.approx(expected, rel=1e-10)
    assert np.isnan(features.span_residual(np.zeros((1, 30)), X)[0])
    # More samples than dimensions, with always-zero "border pixels": the span is a coordinate
    # subspace of dimension 20 < min(n, d) (a QR without pivoting gets this wrong).
    wide = np.zeros((60, 30))
    wide[:, 5:25] = rng.standard_normal((60, 20))
    inside = rng.standard_normal((4, 60)) @ wide
    np.testing.assert_allclose(features.span_residual(inside, wide), 0.0, atol=1e-12)
    border = np.zeros((1, 30))
    border[0, 0] = 1.0
    np.testing.assert_allclose(features.span_residual(border, wide), 1.0)
    assert features.span_basis(wide).shape == (30, 20)


def test_gradient_descent_drift_lies_in_the_data_span():
    """Under any loss of the outputs, Δu_j = Σ_p c_pj x_p (the claim drift_in_data_span)."""
    X, Y = prd_jax.sphere(jax.random.key(0), 6, 16, 2)
    cfg = prd_jax.TrainConfig(width=8, steps=30, train_v=True, critic="wgan_gp")
    res = jax.jit(prd_jax.make_train(cfg))(jax.random.key(1), cfg.hparams(lr=0.2), X, Y)
    dU = np.asarray(res.final[0].U) - np.asarray(res.init[0].U)
    assert np.linalg.norm(dU) > 1e-3  # it moved
    assert np.max(features.span_residual(dU, X)) < 1e-4
    noise = np.random.default_rng(1).standard_normal(dU.shape)
    assert np.min(features.span_residual(noise, X)) > 0.5  # 6 of 16 dimensions: ~0.8


def test_weight_field_stats_of_noise_and_of_a_smooth_drift():
    rng = np.random.default_rng(0)
    shape = (12, 12)
    U0 = rng.standard_normal((64, 144))
    same = features.weight_field_stats(U0, U0, shape, k=64)
    assert same["drift_rel"] == 0.0 and same["drift_over_init"] == 0.0
    assert abs(same["morans_i_u"]) < 0.05 and np.isnan(same["morans_i_du"])
    assert same["ks"] < 0.03 and abs(same["kurtosis"]) < 0.2
    yy, xx = np.mgrid[0:12, 0:12]
    blob = np.exp(-((yy - 6) ** 2 + (xx - 6) ** 2) / 8.0).ravel()  # a smooth "silhouette"
    U = U0 + 3.0 * rng.standard_normal((64, 1)) * blob[None, :] * 12 / np.linalg.norm(blob)
    moved = features.weight_field_stats(U, U0, shape, k=64)
    assert moved["drift_rel"] == pytest.approx(
        np.linalg.norm(U - U0) / np.linalg.norm(U0), rel=1e-12
    )
    assert moved["morans_i_du"] > 0.8  # the drift is the smooth blob
    assert moved["morans_i_u"] > same["morans_i_u"] + 0.2  # and shows in u_j at this scale
    assert moved["kurtosis"] > 0.5  # heavy tails: a few pixels carry the drift
    assert moved["ks"] > same["ks"]


def test_paired_differences_and_t_interval():
    a = [{"x": 3.0}, {"x": 5.0}, {"x": 4.0}]
    b = [{"x": 1.0}, {"x": 2.0}, {"x": 2.0}]
    d = features.paired_differences(a, b, "x")
    assert d == [2.0, 3.0, 2.0]
    lo, hi = features.t_interval(d)
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * np.std(d, ddof=1) / np.sqrt(3)
    assert (lo, hi) == pytest.approx((np.mean(d) - half, np.mean(d) + half), rel=1e-12)
    assert all(np.isnan(features.t_interval([1.0])))
    with pytest.raises(ValueError):
        features.paired_differences(a, b[:2], "x")
    assert features.finite_mean([1.0, np.nan, 3.0]) == 2.0
    assert np.isnan(features.finite_mean([np.nan]))
