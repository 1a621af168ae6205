"""The flax modules against Eq. 1 and the critic written out in NumPy, and their initial
weights against ``prd_jax.init`` from the same key."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from prd_jax.flax_modules import PRDCritic, PRDGenerator

pytestmark = pytest.mark.strict_dtypes


class _KeyOf(nn.Module):
    """The key flax hands a top-level module's first ``make_rng("params")``."""

    @nn.compact
    def __call__(self):
        return self.make_rng("params")


def _module_key(key):
    return _KeyOf().init_with_output(key)[0]


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


@pytest.mark.parametrize("jit", [False, True])
def test_generator_module_is_eq1(jit):
    X, _ = prd_jax.sphere(jax.random.key(0), 5, 4, 2)
    module = PRDGenerator(width=32, d_out=2)
    variables = module.init(jax.random.key(1), X)
    chex.assert_shape((variables["params"]["U"], variables["params"]["V"]), ((32, 4), (2, 32)))
    apply = jax.jit(module.apply) if jit else module.apply
    U, V, Xn = _f64(variables["params"]["U"], variables["params"]["V"], X)
    # Eq. 1: f(x) = V relu(U x) / sqrt(d_out m), m = 32, d_out = 2.
    want = np.maximum(Xn @ U.T, 0.0) @ V.T / np.sqrt(2 * 32)
    np.testing.assert_allclose(apply(variables, X), want, rtol=1e-5, atol=1e-6)
    # A mask of the first 20 neurons: the width-20 network, normalised by sqrt(d_out * 20).
    mask = prd_jax.width_mask(20, 32)
    want20 = np.maximum(Xn @ U[:20].T, 0.0) @ V[:, :20].T / np.sqrt(2 * 20)
    np.testing.assert_allclose(apply(variables, X, mask), want20, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("jit", [False, True])
def test_critic_module_is_the_critic(jit):
    Z = jax.random.normal(jax.random.key(2), (6, 3))
    module = PRDCritic(width=16)
    variables = module.init(jax.random.key(3), Z)
    W, a, Zn = _f64(variables["params"]["W"], variables["params"]["a"], Z)
    chex.assert_shape((W, a), ((16, 3), (16,)))
    apply = jax.jit(module.apply) if jit else module.apply
    # g(W, a, z) = a^T relu(W z) / sqrt(m), m = 16.
    np.testing.assert_allclose(
        apply(variables, Z), np.maximum(Zn @ W.T, 0.0) @ a / 4.0, rtol=1e-5, atol=1e-6
    )


def test_module_weights_are_prd_jax_init_from_the_same_key():
    X, _ = prd_jax.sphere(jax.random.key(4), 5, 4, 2)
    key = jax.random.key(5)
    k = _module_key(key)
    gen, crit = prd_jax.init(k, 24, 4, 2)
    g_params = PRDGenerator(width=24, d_out=2).init(key, X)["params"]
    c_params = PRDCritic(width=24).init(key, X @ jnp.ones((4, 2)))["params"]
    chex.assert_trees_all_equal(dict(g_params), gen._asdict())
    chex.assert_trees_all_equal(dict(c_params), crit._asdict())
    # Hence nested in the width, like prd_jax.init.
    small = PRDGenerator(width=8, d_out=2).init(key, X)["params"]
    chex.assert_trees_all_equal(dict(small), {"U": gen.U[:8], "V": gen.V[:, :8]})
