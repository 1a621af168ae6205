"""Data sets for the PRD model. Inputs are rows ``X (n, d_in)``, targets ``Y (n, d_out)``.

The theory needs unit-norm inputs (``||x_p||_2 = 1``); every loader here returns them.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from prd_jax.model import generator, init


class Dataset(NamedTuple):
    """Inputs ``X (n, d_in)`` on the unit sphere and targets ``Y (n, d_out)``."""

    X: jax.Array
    Y: jax.Array


def sphere(key, n: int, d_in: int, d_out: int = 1, targets: str = "gaussian", teacher_width=64):
    """Synthetic data: ``x_p`` uniform on the unit sphere of R^{d_in}.

    Args:
      key: PRNG key.
      n, d_in, d_out: sizes.
      targets: ``"gaussian"`` for ``y_p ~ N(0, I_{d_out})`` (Du et al.-style random labels), or
        ``"teacher"`` for the outputs of a random two-layer ReLU network of width
        ``teacher_width`` (Eq. 1, initialised as in the theorems), a learnable target.

    Returns:
      ``Dataset(X (n, d_in), Y (n, d_out))``.
    """
    for name, value in (
        ("n", n),
        ("d_in", d_in),
        ("d_out", d_out),
        ("teacher_width", teacher_width),
    ):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"sphere: {name} must be a positive int, got {value!r}")
    if targets not in ("gaussian", "teacher"):
        raise ValueError(f"sphere: targets must be 'gaussian' or 'teacher', got {targets!r}")
    kx, ky = jax.random.split(key)
    X = jax.random.normal(kx, (n, d_in))
    X = X / jnp.linalg.norm(X, axis=1, keepdims=True)
    if targets == "gaussian":
        Y = jax.random.normal(ky, (n, d_out))
    else:
        teacher, _ = init(ky, teacher_width, d_in, d_out)
        Y = generator(*teacher, X)
    return Dataset(X, Y)
