"""Generator (Eq. 1), nested initialisation and padded evaluation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from prd_jax.model import hidden, width_mask


def _data(n=7, d_in=5, d_out=3, seed=0):
    return prd_jax.sphere(jax.random.key(seed), n, d_in, d_out)


@pytest.mark.parametrize("jit", [False, True])
def test_generator_matches_formula(jit):
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(1), 11, 5, 3)
    f = jax.jit(prd_jax.generator) if jit else prd_jax.generator
    Z = f(gen.U, gen.V, X)
    U, V, Xn = map(np.asarray, (gen.U, gen.V, X))
    expected = np.stack([V @ np.maximum(U @ x, 0) for x in Xn]) / np.sqrt(3 * 11)
    np.testing.assert_allclose(Z, expected, rtol=1e-5, atol=1e-6)
    assert Z.shape == (7, 3)


def test_scalar_form_eq6():
    X, _ = _data(d_out=1)
    gen, _ = prd_jax.init(jax.random.key(2), 13, 5, 1)
    v = gen.V[0]
    expected = jax.nn.relu(X @ gen.U.T) @ v / jnp.sqrt(13.0)
    np.testing.assert_allclose(prd_jax.generator(gen.U, gen.V, X)[:, 0], expected, rtol=1e-6)


def test_init_distributions():
    gen, crit = prd_jax.init(jax.random.key(3), 4000, 6, 2)
    assert gen.U.shape == (4000, 6) and gen.V.shape == (2, 4000)
    assert crit.W.shape == (4000, 2) and crit.a.shape == (4000,)
    assert set(np.unique(gen.V).tolist()) == {-1.0, 1.0}
    assert set(np.unique(crit.a).tolist()) == {-1.0, 1.0}
    for w in (gen.U, crit.W):
        assert abs(float(jnp.mean(w))) < 0.05 and abs(float(jnp.std(w)) - 1.0) < 0.05
    assert abs(float(jnp.mean(gen.V))) < 0.05


def test_init_is_nested():
    key = jax.random.key(4)
    small, small_c = prd_jax.init(key, 16, 5, 3)
    big, big_c = prd_jax.init(key, 64, 5, 3)
    np.testing.assert_array_equal(small.U, big.U[:16])
    np.testing.assert_array_equal(small.V, big.V[:, :16])
    np.testing.assert_array_equal(small_c.W, big_c.W[:16])
    np.testing.assert_array_equal(small_c.a, big_c.a[:16])


def test_permuting_neurons_leaves_f_unchanged():
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(5), 12, 5, 3)
    perm = jax.random.permutation(jax.random.key(6), 12)
    np.testing.assert_allclose(
        prd_jax.generator(gen.U, gen.V, X),
        prd_jax.generator(gen.U[perm], gen.V[:, perm], X),
        rtol=1e-5,
        atol=1e-6,
    )


def test_padded_generator_equals_exact_width():
    X, _ = _data()
    key = jax.random.key(7)
    m, M = 9, 32
    exact, _ = prd_jax.init(key, m, 5, 3)
    mask = width_mask(m, M)
    padded, _ = prd_jax.init(key, M, 5, 3, mask)
    assert float(jnp.sum(jnp.abs(padded.U[m:]))) == 0.0
    np.testing.assert_allclose(
        prd_jax.generator(*padded, X, mask), prd_jax.generator(*exact, X), rtol=1e-6, atol=1e-7
    )
    # Garbage in the padded rows changes nothing either.
    junk = padded._replace(U=padded.U.at[m:].set(3.0), V=padded.V.at[:, m:].set(-2.0))
    np.testing.assert_allclose(
        prd_jax.generator(*junk, X, mask), prd_jax.generator(*exact, X), rtol=1e-6, atol=1e-7
    )
    assert hidden(junk.U, X, mask)[:, m:].sum() == 0


def test_width_mask_traced_under_vmap():
    masks = jax.vmap(lambda w: width_mask(w, 8))(jnp.array([1, 4, 8]))
    np.testing.assert_array_equal(masks.sum(axis=1), [1, 4, 8])


@pytest.mark.parametrize(
    "bad",
    [
        lambda g, X: prd_jax.generator(g.U, g.V.T, X),
        lambda g, X: prd_jax.generator(g.U, g.V, X[:, :3]),
        lambda g, X: prd_jax.generator(g.U, g.V, X, mask=jnp.ones(3)),
    ],
)
def test_shape_errors_are_clear(bad):
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(0), 6, 5, 3)
    with pytest.raises(ValueError, match="expected"):
        bad(gen, X)


@pytest.mark.parametrize("m", [0, -3, 2.5])
def test_init_rejects_bad_width(m):
    with pytest.raises(ValueError, match="m must be a positive int"):
        prd_jax.init(jax.random.key(0), m, 5, 1)
