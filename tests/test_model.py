"""Generator (Eq. 1), nested initialisation and padded evaluation, with and without jit."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from beartype import beartype
from jaxtyping import TypeCheckError, jaxtyped

import prd_jax
from prd_jax.model import hidden, init_critic, init_generator, width_mask

pytestmark = pytest.mark.strict_dtypes


def _data(n=7, d_in=5, d_out=3, seed=0):
    return prd_jax.sphere(jax.random.key(seed), n, d_in, d_out)


def _generator_numpy(U, V, X):
    """Eq. 1 written out in float64, sample by sample: ``V relu(U x) / sqrt(d_out m)``."""
    U, V, X = (np.asarray(t, np.float64) for t in (U, V, X))
    d_out, m = V.shape
    return np.stack([V @ np.maximum(U @ x, 0.0) for x in X]) / np.sqrt(d_out * m)


class GeneratorTest(chex.TestCase):
    """The core math, run both eagerly and under jit."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_generator_matches_formula(self):
        X, _ = _data()
        gen, _ = prd_jax.init(jax.random.key(1), 11, 5, 3)
        Z = self.variant(prd_jax.generator)(gen.U, gen.V, X)
        chex.assert_shape(Z, (7, 3))
        chex.assert_type(Z, jnp.float32)
        np.testing.assert_allclose(Z, _generator_numpy(gen.U, gen.V, X), rtol=1e-5, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_scalar_form_eq6(self):
        X, _ = _data(d_out=1)
        gen, _ = prd_jax.init(jax.random.key(2), 13, 5, 1)
        U, v = np.asarray(gen.U, np.float64), np.asarray(gen.V[0], np.float64)
        expected = np.maximum(np.asarray(X, np.float64) @ U.T, 0.0) @ v / np.sqrt(13.0)
        Z = self.variant(prd_jax.generator)(gen.U, gen.V, X)
        np.testing.assert_allclose(Z[:, 0], expected, rtol=1e-5, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_permuting_neurons_leaves_f_unchanged(self):
        X, _ = _data()
        gen, _ = prd_jax.init(jax.random.key(5), 12, 5, 3)
        perm = jax.random.permutation(jax.random.key(6), 12)
        f = self.variant(prd_jax.generator)
        chex.assert_trees_all_close(
            f(gen.U, gen.V, X), f(gen.U[perm], gen.V[:, perm], X), rtol=1e-5, atol=1e-6
        )

    @chex.variants(with_jit=True, without_jit=True)
    def test_padded_generator_equals_exact_width(self):
        X, _ = _data()
        key = jax.random.key(7)
        m, M = 9, 32
        exact, _ = prd_jax.init(key, m, 5, 3)
        mask = width_mask(m, M)
        padded, _ = prd_jax.init(key, M, 5, 3, mask)
        assert float(jnp.sum(jnp.abs(padded.U[m:]))) == 0.0
        f = self.variant(prd_jax.generator)
        want = _generator_numpy(exact.U, exact.V, X)
        np.testing.assert_allclose(f(*padded, X, mask), want, rtol=1e-5, atol=1e-6)
        # Garbage in the padded rows changes nothing either.
        junk = padded._replace(U=padded.U.at[m:].set(3.0), V=padded.V.at[:, m:].set(-2.0))
        np.testing.assert_allclose(f(*junk, X, mask), want, rtol=1e-5, atol=1e-6)
        assert float(jnp.sum(self.variant(hidden)(junk.U, X, mask)[:, m:])) == 0.0

    @chex.variants(with_jit=True, without_jit=True)
    def test_init_is_nested_and_split_into_halves(self):
        key = jax.random.key(4)
        init = self.variant(prd_jax.init, static_argnums=(1, 2, 3))
        small = init(key, 16, 5, 3)
        big = init(key, 64, 5, 3)
        chex.assert_trees_all_equal(
            small, jax.tree.map(lambda x: x[:16] if x.shape[0] == 64 else x[:, :16], big)
        )
        # init = (init_generator, init_critic) from the same key, draw for draw.
        chex.assert_trees_all_equal(small[0], init_generator(key, 16, 5, 3))
        chex.assert_trees_all_equal(small[1], init_critic(key, 16, 3))

    def test_strict_dtype_promotion_is_on(self):
        # conftest runs modules marked strict_dtypes, unittest-style classes included, strictly.
        with pytest.raises(jax.dtypes.TypePromotionError):
            jnp.ones(2, jnp.float32) * jnp.ones(2, jnp.int32)


def test_init_distributions():
    gen, crit = prd_jax.init(jax.random.key(3), 4000, 6, 2)
    chex.assert_shape((gen.U, gen.V, crit.W, crit.a), ((4000, 6), (2, 4000), (4000, 2), (4000,)))
    assert set(np.unique(gen.V).tolist()) == {-1.0, 1.0}
    assert set(np.unique(crit.a).tolist()) == {-1.0, 1.0}
    for w in (gen.U, crit.W):
        assert abs(float(jnp.mean(w))) < 0.05 and abs(float(jnp.std(w)) - 1.0) < 0.05
    assert abs(float(jnp.mean(gen.V))) < 0.05


def test_width_mask_traced_under_vmap():
    masks = jax.vmap(lambda w: width_mask(w, 8))(jnp.array([1, 4, 8]))
    np.testing.assert_array_equal(masks.sum(axis=1), [1, 4, 8])


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda g, X: prd_jax.generator(g.U, g.V.T, X), r"V has shape \(6, 3\); expected"),
        (lambda g, X: prd_jax.generator(g.U, g.V, X[:, :3]), r"X has shape \(7, 3\); expected"),
        (lambda g, X: prd_jax.generator(g.U, g.V, X, mask=jnp.ones(3)), r"mask .* expected"),
    ],
)
def test_shape_errors_are_clear(bad, match):
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(0), 6, 5, 3)
    with pytest.raises(ValueError, match=match):
        bad(gen, X)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda g, X: prd_jax.generator(g.U, g.V, X[0]), r"X must be a float matrix .*\(n, d_in\)"),
        (lambda g, X: prd_jax.generator(g.U[None], g.V, X), r"U must be a float matrix"),
        (
            lambda g, X: prd_jax.generator(g.U, g.V, X.astype(jnp.int32)),
            r"int32.*X must be a float matrix",
        ),
    ],
)
def test_rank_and_dtype_errors_name_the_argument(bad, match):
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(0), 6, 5, 3)
    with pytest.raises(AssertionError, match=match):
        jax.jit(lambda g, X: bad(g, X))(gen, X)  # trace-time checks: they fire under jit


@pytest.mark.parametrize("m", [0, -3, 2.5])
def test_init_rejects_bad_width(m):
    with pytest.raises(ValueError, match="m must be a positive int"):
        prd_jax.init(jax.random.key(0), m, 5, 1)


def test_jaxtyping_annotations_hold_and_catch_wrong_shapes():
    checked = jaxtyped(typechecker=beartype)(prd_jax.generator)
    X, _ = _data()
    gen, _ = prd_jax.init(jax.random.key(0), 6, 5, 3)
    mask = width_mask(4, 6)
    np.testing.assert_array_equal(checked(*gen, X, mask), prd_jax.generator(*gen, X, mask))
    chex.assert_shape(jax.jit(checked)(*gen, X), (7, 3))  # annotations hold for tracers too
    checked_init = jaxtyped(typechecker=beartype)(prd_jax.init)
    checked_init(jax.random.key(0), 6, 5, 3, mask)
    for args in [(gen.U, gen.V.T, X), (gen.U, gen.V, X[:, :3]), (gen.U, gen.V, X, jnp.ones(3))]:
        with pytest.raises(TypeCheckError):
            checked(*args)
