# ruff: noqa: F722  (jaxtyping shape strings such as "m d_in" are not Python expressions)
"""The generator of the PRD model (Eq. 1) and nested initialisation (Theorems 1-2).

Shapes (rows are samples): ``X (n, d_in)``, ``U (m, d_in)`` (row ``u_j`` is hidden neuron j),
``V (d_out, m)`` (column ``v_j``), critic ``W (m, d_out)``, ``a (m,)``. The signatures say so
with jaxtyping annotations, checked at run time in the tests only. At the API boundary a wrong
rank or a non-float dtype fails a chex assertion (at trace time, free under jit) and
inconsistent dimensions raise a ``ValueError``; both name the argument and its expected shape.

Padded evaluation. A network stored at width ``M`` can represent any width ``m <= M``: pass
``mask`` (shape ``(M,)``, 1 for the first m neurons, 0 after). Masked-out neurons contribute
nothing, the ``1/sqrt(m)`` normalisation uses the run's own ``m = sum(mask)``, and masked-out
parameters receive exactly zero gradient. This is how a sweep puts several widths into one
compiled program.
"""

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray, Shaped

# A neuron mask: 0/1 floats or bools, one entry per stored neuron.
Mask = Shaped[ArrayLike, " m"] | None


class Generator(NamedTuple):
    """Generator parameters: ``U (m, d_in)``, ``V (d_out, m)``."""

    U: jax.Array
    V: jax.Array


class Critic(NamedTuple):
    """Critic (discriminator) parameters: ``W (m, d_out)``, ``a (m,)``."""

    W: jax.Array
    a: jax.Array


def default_float():
    """JAX's default float dtype: float32, or float64 under ``jax_enable_x64`` (e.g. inside
    ``with jax.enable_x64(True):``). Parameters, masks and metrics all follow it."""
    return jnp.result_type(float)


def width_mask(width: int | Int[ArrayLike, ""], max_width: int) -> Float[Array, " max_width"]:
    """Float mask ``(max_width,)`` of the first ``width`` neurons (``width`` may be traced),
    in the default float dtype.

    A concrete ``width`` must be an integer in ``[1, max_width]`` (ValueError otherwise); a
    traced one is not checked (it is clipped by the comparison)."""
    max_width = check_size("max_width", max_width, "width_mask")
    if not isinstance(width, jax.core.Tracer):
        w = np.asarray(width)
        integral = w.dtype != bool and (
            np.issubdtype(w.dtype, np.integer)
            or (np.issubdtype(w.dtype, np.floating) and np.all(w == np.round(w)))
        )
        if w.size == 0 or not integral or np.any(w < 1) or np.any(w > max_width):
            raise ValueError(
                f"width_mask: width must be an integer in [1, max_width={max_width}], got {width!r}"
            )
    return (jnp.arange(max_width) < width).astype(default_float())


def check_matrix(name: str, x, shape: str) -> None:
    """Trace-time check that ``x`` is a float matrix; the error names ``name`` and ``shape``."""
    message = f"{name} must be a float matrix of shape {shape}"
    chex.assert_rank(x, 2, custom_message=message)
    chex.assert_type(x, float, custom_message=message)


def _mask_and_width(mask, m_stored: int, dtype):
    if mask is None:
        return jnp.ones((m_stored,), dtype), jnp.asarray(m_stored, dtype)
    mask = jnp.asarray(mask, dtype)
    if mask.shape != (m_stored,):
        raise ValueError(
            f"mask has shape {mask.shape}; expected ({m_stored},), one entry per neuron"
        )
    return mask, jnp.sum(mask)


def hidden(
    U: Float[Array, "m d_in"], X: Float[ArrayLike, "n d_in"], mask: Mask = None
) -> Float[Array, "n m"]:
    """Hidden activations ``sigma(U x_p)`` for every sample, masked: ``(n, m)``."""
    mask, _ = _mask_and_width(mask, U.shape[0], U.dtype)
    return jax.nn.relu(X @ U.T) * mask[None, :]


def generator(
    U: Float[Array, "m d_in"],
    V: Float[Array, "d_out m"],
    X: Float[ArrayLike, "n d_in"],
    mask: Mask = None,
) -> Float[Array, "n d_out"]:
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
    check_matrix("U", U, "(m, d_in)")
    check_matrix("V", V, "(d_out, m)")
    check_matrix("X", X, "(n, d_in)")
    m_stored, d_in = U.shape
    d_out = V.shape[0]
    if V.shape != (d_out, m_stored):
        raise ValueError(f"V has shape {V.shape}; expected (d_out, m) = (d_out, {m_stored})")
    if X.shape[1] != d_in:
        raise ValueError(f"X has shape {X.shape}; expected (n, d_in) with d_in = {d_in}")
    _, m = _mask_and_width(mask, m_stored, U.dtype)
    return hidden(U, X, mask) @ V.T / jnp.sqrt(d_out * m)


def _neuron_normal(key, j, shape):
    return jax.random.normal(jax.random.fold_in(key, j), shape)


def _neuron_sign(key, j, shape):
    return jax.random.rademacher(jax.random.fold_in(key, j), shape, dtype=default_float())


def _per_neuron(draw, key, m: int, shape):
    """Neuron j drawn from ``fold_in(key, j)``: stacked ``(m, *shape)``, nested in m."""
    return jax.vmap(lambda j: draw(key, j, shape))(jnp.arange(m))


INT32_MAX = 2**31 - 1


def check_size(name: str, value, where: str = "") -> int:
    """``value`` as a Python int in [1, 2^31 - 1] (Python or NumPy integers, not bools);
    otherwise a ValueError naming ``where``/``name``, the value and what is allowed."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not ok or not 0 < value <= INT32_MAX:
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}{name} must be a positive int below 2^31, got {value!r}"
            + (f" of type {type(value).__name__}" if not ok else "")
        )
    return int(value)


def check_key(key, where: str = "init") -> None:
    """A PRNG key: ``jax.random.key(seed)`` or a legacy ``jax.random.PRNGKey(seed)``."""
    if isinstance(key, jax.Array | np.ndarray):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape == ():
            return
        if key.dtype == jnp.uint32 and key.shape == (2,):
            return
    raise ValueError(
        f"{where}: key must be one PRNG key such as jax.random.key(0), got "
        f"{type(key).__name__} {getattr(key, 'dtype', '')} {getattr(key, 'shape', '')}".rstrip()
    )


def _check_sizes(where, **sizes):
    return [check_size(name, value, where) for name, value in sizes.items()]


def init_generator(
    key: PRNGKeyArray, m: int, d_in: int, d_out: int, mask: Mask = None
) -> Generator:
    """The generator half of ``init(key, ...)``: ``u_j ~ N(0, I)``, ``v_j ~ Unif{+-1}^{d_out}``.

    ``init_generator(key, ...) == init(key, ...)[0]`` exactly (same key, same draws).
    """
    m, d_in, d_out = _check_sizes("init", m=m, d_in=d_in, d_out=d_out)
    ku, kv, _, _ = jax.random.split(key, 4)
    U = _per_neuron(_neuron_normal, ku, m, (d_in,))
    V = _per_neuron(_neuron_sign, kv, m, (d_out,)).T
    if mask is not None:
        mask, _ = _mask_and_width(mask, m, U.dtype)
        U, V = U * mask[:, None], V * mask[None, :]
    return Generator(U, V)


def init_critic(key: PRNGKeyArray, m: int, d_out: int, mask: Mask = None) -> Critic:
    """The critic half of ``init(key, ...)``: ``w_r ~ N(0, I)``, ``a_r ~ Unif{+-1}``.

    ``init_critic(key, ...) == init(key, ...)[1]`` exactly (same key, same draws).
    """
    m, d_out = _check_sizes("init_critic", m=m, d_out=d_out)
    _, _, kw, ka = jax.random.split(key, 4)
    W = _per_neuron(_neuron_normal, kw, m, (d_out,))
    a = _per_neuron(_neuron_sign, ka, m, ())
    if mask is not None:
        mask, _ = _mask_and_width(mask, m, W.dtype)
        W, a = W * mask[:, None], a * mask
    return Critic(W, a)


def init(
    key: PRNGKeyArray, m: int, d_in: int, d_out: int, mask: Mask = None
) -> tuple[Generator, Critic]:
    """Initialise generator and critic as in Theorems 1-2, neuron by neuron.

    ``u_j ~ N(0, I_{d_in})``, ``v_j ~ Unif{+-1}^{d_out}``, ``w_r ~ N(0, I_{d_out})``,
    ``a_r ~ Unif{+-1}``. Each neuron j is drawn from ``fold_in(key_part, j)``, so the
    initialisation is *nested*: the width-m network is exactly the first m neurons of any
    wider network drawn from the same key. With ``mask``, neurons outside it are zeroed
    (they then stay zero under training, since they receive zero gradient).

    Returns:
      ``(Generator(U (m, d_in), V (d_out, m)), Critic(W (m, d_out), a (m,)))``, all four in
      the default float dtype (``default_float()``: float64 under ``jax_enable_x64``).
    """
    check_key(key, "init")
    return init_generator(key, m, d_in, d_out, mask), init_critic(key, m, d_out, mask)
