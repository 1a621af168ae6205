"""The generator of the PRD model (Eq. 1) and nested initialisation (Theorems 1-2).

Shapes (rows are samples): ``X (n, d_in)``, ``U (m, d_in)`` (row ``u_j`` is hidden neuron j),
``V (d_out, m)`` (column ``v_j``), critic ``W (m, d_out)``, ``a (m,)``.

Padded evaluation. A network stored at width ``M`` can represent any width ``m <= M``: pass
``mask`` (shape ``(M,)``, 1 for the first m neurons, 0 after). Masked-out neurons contribute
nothing, the ``1/sqrt(m)`` normalisation uses the run's own ``m = sum(mask)``, and masked-out
parameters receive exactly zero gradient. This is how a sweep puts several widths into one
compiled program.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Generator(NamedTuple):
    """Generator parameters: ``U (m, d_in)``, ``V (d_out, m)``."""

    U: jax.Array
    V: jax.Array


class Critic(NamedTuple):
    """Critic (discriminator) parameters: ``W (m, d_out)``, ``a (m,)``."""

    W: jax.Array
    a: jax.Array


def width_mask(width, max_width: int) -> jax.Array:
    """Float mask ``(max_width,)`` of the first ``width`` neurons (``width`` may be traced)."""
    return (jnp.arange(max_width) < width).astype(jnp.float32)


def _mask_and_width(mask, m_stored: int, dtype):
    if mask is None:
        return jnp.ones((m_stored,), dtype), jnp.asarray(m_stored, dtype)
    mask = jnp.asarray(mask, dtype)
    if mask.shape != (m_stored,):
        raise ValueError(
            f"mask has shape {mask.shape}; expected ({m_stored},), one entry per neuron"
        )
    return mask, jnp.sum(mask)


def hidden(U, X, mask=None):
    """Hidden activations ``sigma(U x_p)`` for every sample, masked: ``(n, m)``."""
    mask, _ = _mask_and_width(mask, U.shape[0], U.dtype)
    return jax.nn.relu(X @ U.T) * mask[None, :]


def generator(U, V, X, mask=None):
    """Eq. 1: ``f(U, V, x) = V sigma(U x) / sqrt(d_out m)`` for every row of X.

    With ``d_out = 1`` and ``V = v[None, :]`` this is the scalar network of Eq. 6,
    ``f = v^T sigma(U x) / sqrt(m)``.

    Args:
      U: hidden weights ``(m, d_in)``.
      V: output weights ``(d_out, m)``.
      X: inputs ``(n, d_in)``.
      mask: optional ``(m,)`` neuron mask for padded evaluation; the width is ``sum(mask)``.

    Returns:
      Outputs ``Z (n, d_out)``.
    """
    m_stored, d_in = U.shape
    d_out = V.shape[0]
    if V.shape != (d_out, m_stored):
        raise ValueError(f"V has shape {V.shape}; expected (d_out, m) = (d_out, {m_stored})")
    if X.ndim != 2 or X.shape[1] != d_in:
        raise ValueError(f"X has shape {X.shape}; expected (n, d_in) with d_in = {d_in}")
    _, m = _mask_and_width(mask, m_stored, U.dtype)
    return hidden(U, X, mask) @ V.T / jnp.sqrt(d_out * m)


def _neuron_normal(key, j, shape):
    return jax.random.normal(jax.random.fold_in(key, j), shape)


def _neuron_sign(key, j, shape):
    return jax.random.rademacher(jax.random.fold_in(key, j), shape, dtype=jnp.float32)


def init(key, m: int, d_in: int, d_out: int, mask=None) -> tuple[Generator, Critic]:
    """Initialise generator and critic as in Theorems 1-2, neuron by neuron.

    ``u_j ~ N(0, I_{d_in})``, ``v_j ~ Unif{+-1}^{d_out}``, ``w_r ~ N(0, I_{d_out})``,
    ``a_r ~ Unif{+-1}``. Each neuron j is drawn from ``fold_in(key_part, j)``, so the
    initialisation is *nested*: the width-m network is exactly the first m neurons of any
    wider network drawn from the same key. With ``mask``, neurons outside it are zeroed
    (they then stay zero under training, since they receive zero gradient).

    Returns:
      ``(Generator(U (m, d_in), V (d_out, m)), Critic(W (m, d_out), a (m,)))``.
    """
    for name, value in (("m", m), ("d_in", d_in), ("d_out", d_out)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    ku, kv, kw, ka = jax.random.split(key, 4)
    j = jnp.arange(m)
    U = jax.vmap(lambda i: _neuron_normal(ku, i, (d_in,)))(j)
    V = jax.vmap(lambda i: _neuron_sign(kv, i, (d_out,)))(j).T
    W = jax.vmap(lambda i: _neuron_normal(kw, i, (d_out,)))(j)
    a = jax.vmap(lambda i: _neuron_sign(ka, i, ()))(j)
    if mask is not None:
        mask, _ = _mask_and_width(mask, m, jnp.float32)
        U, W = U * mask[:, None], W * mask[:, None]
        V, a = V * mask[None, :], a * mask
    return Generator(U, V), Critic(W, a)
