"""The flax modules call the same pure functions and give identical outputs."""

import jax
import numpy as np

import prd_jax
from prd_jax.flax_modules import PRDCritic, PRDGenerator


def test_generator_module_matches_pure_function():
    X, _ = prd_jax.sphere(jax.random.key(0), 5, 4, 2)
    module = PRDGenerator(width=32, d_out=2)
    variables = module.init(jax.random.key(1), X)
    U, V = variables["params"]["U"], variables["params"]["V"]
    assert U.shape == (32, 4) and V.shape == (2, 32)
    assert set(np.unique(V).tolist()) == {-1.0, 1.0}
    np.testing.assert_array_equal(module.apply(variables, X), prd_jax.generator(U, V, X))
    # Under jit too (XLA's jitted and eager matmuls may differ in the last bit).
    np.testing.assert_array_equal(
        jax.jit(module.apply)(variables, X), jax.jit(prd_jax.generator)(U, V, X)
    )


def test_critic_module_matches_pure_function():
    Z = jax.random.normal(jax.random.key(2), (6, 3))
    module = PRDCritic(width=16)
    variables = module.init(jax.random.key(3), Z)
    W, a = variables["params"]["W"], variables["params"]["a"]
    assert W.shape == (16, 3) and a.shape == (16,)
    np.testing.assert_array_equal(module.apply(variables, Z), prd_jax.critic(W, a, Z))


def test_module_init_is_nested_in_width():
    X, _ = prd_jax.sphere(jax.random.key(4), 5, 4, 1)
    small = PRDGenerator(width=8, d_out=1).init(jax.random.key(5), X)["params"]
    big = PRDGenerator(width=20, d_out=1).init(jax.random.key(5), X)["params"]
    np.testing.assert_array_equal(small["U"], big["U"][:8])
    np.testing.assert_array_equal(small["V"], big["V"][:, :8])
