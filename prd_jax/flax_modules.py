"""Flax (linen) modules for the generator and the critic, for use inside flax models.

They hold the same parameters as ``prd_jax.model`` and call the same pure functions, so a
module and ``prd_jax.generator`` / ``prd_jax.critic`` give identical outputs for identical
parameters. Parameters are initialised as in Theorems 1-2, neuron by neuron (nested in the
width, like ``prd_jax.init``).

    module = PRDGenerator(width=256, d_out=1)
    variables = module.init(jax.random.key(0), X)  # {"params": {"U": (m, d_in), "V": (d_out, m)}}
    Z = module.apply(variables, X)
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from prd_jax.losses import critic
from prd_jax.model import generator


def _rows_normal(key, shape, dtype=jnp.float32):
    """``(m, d)`` with row j drawn from ``fold_in(key, j)``: nested in m."""
    return jax.vmap(lambda j: jax.random.normal(jax.random.fold_in(key, j), shape[1:], dtype))(
        jnp.arange(shape[0])
    )


def _columns_sign(key, shape, dtype=jnp.float32):
    """``(d, m)`` Rademacher with column j drawn from ``fold_in(key, j)``: nested in m."""
    cols = jax.vmap(
        lambda j: jax.random.rademacher(jax.random.fold_in(key, j), shape[:1], dtype=dtype)
    )(jnp.arange(shape[1]))
    return cols.T


def _vector_sign(key, shape, dtype=jnp.float32):
    return _columns_sign(key, (1,) + tuple(shape), dtype)[0]


class PRDGenerator(nn.Module):
    """Eq. 1 as a module: ``X (n, d_in) -> V sigma(U x) / sqrt(d_out m)``, shape ``(n, d_out)``."""

    width: int
    d_out: int

    @nn.compact
    def __call__(self, X, mask=None):
        U = self.param("U", _rows_normal, (self.width, X.shape[-1]))
        V = self.param("V", _columns_sign, (self.d_out, self.width))
        return generator(U, V, X, mask)


class PRDCritic(nn.Module):
    """The critic ``g(W, a, z) = a^T sigma(W z) / sqrt(m)`` on each row: ``(n, d_out) -> (n,)``."""

    width: int

    @nn.compact
    def __call__(self, Z, mask=None):
        W = self.param("W", _rows_normal, (self.width, Z.shape[-1]))
        a = self.param("a", _vector_sign, (self.width,))
        return critic(W, a, Z, mask)
