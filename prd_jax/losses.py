# ruff: noqa: F722  (jaxtyping shape strings such as "n d_out" are not Python expressions)
"""Losses of the PRD model: supervised (Eq. 2), critic g, adversarial (Eq. 3), augmented,
the WGAN-GP critic objective, and the reaction / diffusion split of the generator's update.

All losses are SUMS over samples, as in the paper. ``mask`` is the optional neuron mask of a
padded network (see ``prd_jax.model``); generator and critic share the width m, as in the
paper's analysis, so one mask serves both. Shapes are jaxtyping annotations (checked in the
tests); wrong ranks or dtypes fail chex assertions and inconsistent dimensions raise a
``ValueError`` naming the argument, as in ``prd_jax.model``.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from prd_jax.model import Generator, Mask, _mask_and_width, check_matrix, generator

# lambda_adv and gp_weight: Python floats or traced scalars (swept under vmap).
Scalar = float | Float[ArrayLike, ""]


def sup_loss(
    U: Float[Array, "m d_in"],
    V: Float[Array, "d_out m"],
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    mask: Mask = None,
) -> Float[Array, ""]:
    """Eq. 2: ``L_sup = 1/2 sum_p ||f(U, V, x_p) - y_p||^2`` (a sum over samples).

    Args:
      U ``(m, d_in)``, V ``(d_out, m)``, X ``(n, d_in)``, Y ``(n, d_out)``; mask ``(m,)``.

    Returns:
      Scalar loss.
    """
    Z = generator(U, V, X, mask)
    check_matrix("Y", Y, "(n, d_out)")
    if Y.shape != Z.shape:
        raise ValueError(f"Y has shape {Y.shape}; expected (n, d_out) = {Z.shape}")
    return 0.5 * jnp.sum(jnp.square(Z - Y))


def critic(
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    Z: Float[ArrayLike, "n d_out"],
    mask: Mask = None,
) -> Float[Array, " n"]:
    """The critic ``g(W, a, z) = a^T sigma(W z) / sqrt(m)`` on each row of Z.

    Args:
      W ``(m, d_out)``, a ``(m,)``, Z ``(n, d_out)``; mask ``(m,)``.

    Returns:
      Critic values ``(n,)``.
    """
    check_matrix("W", W, "(m, d_out)")
    check_matrix("Z", Z, "(n, d_out)")
    m_stored, d_out = W.shape
    if a.shape != (m_stored,):
        raise ValueError(f"a has shape {a.shape}; expected (m,) = ({m_stored},)")
    if Z.shape[1] != d_out:
        raise ValueError(f"Z has shape {Z.shape}; expected (n, d_out) with d_out = {d_out}")
    mask, m = _mask_and_width(mask, m_stored, W.dtype)
    if d_out == 1:  # O(n + m) instead of O(n m): see _scalar_critic_sums
        a_pos, a_neg = _scalar_critic_sums(W, a * mask)
        z = Z[:, 0]
        return (jax.nn.relu(z) * a_pos + jax.nn.relu(-z) * a_neg) / jnp.sqrt(m)
    return jax.nn.relu(Z @ W.T) @ (a * mask) / jnp.sqrt(m)


def _scalar_critic_sums(W, a_masked):
    """``(sum_r a_r relu(w_r), sum_r a_r relu(-w_r))`` of a critic with ``d_out = 1``.

    For scalars ``relu(w z) = relu(w) relu(z) + relu(-w) relu(-z)``, so the critic factorises:
    ``g(z) = (relu(z) A+ + relu(-z) A-) / sqrt(m)`` and ``g'(z) = (1{z > 0} A+ - 1{z < 0} A-)
    / sqrt(m)``, with these two sums. The values, and the gradients autodiff takes in W, a and
    z (ReLU' = 1{. > 0}, as in JAX), are those of the ``(n, m)`` form up to float
    reassociation, at O(n + m) cost instead of O(n m): the Theorem 1-2 setting's critic is
    nearly free.
    """
    w = W[:, 0]
    return jnp.sum(a_masked * jax.nn.relu(w)), jnp.sum(a_masked * jax.nn.relu(-w))


def adv_loss(
    U: Float[Array, "m d_in"],
    V: Float[Array, "d_out m"],
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    X: Float[ArrayLike, "n d_in"],
    mask: Mask = None,
) -> Float[Array, ""]:
    """Eq. 3: ``L_adv = sum_p g(W, a, f(x_p))``.

    Equivalently ``(1/(m sqrt(d_out))) sum_p a^T sigma(W V sigma(U x_p))``.

    Returns:
      Scalar.
    """
    return jnp.sum(critic(W, a, generator(U, V, X, mask), mask))


def aug_loss(
    U: Float[Array, "m d_in"],
    V: Float[Array, "d_out m"],
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    lambda_adv: Scalar = 1.0,
    mask: Mask = None,
) -> Float[Array, ""]:
    """Augmented generator loss ``L_aug = L_sup - lambda_adv * L_adv`` (paper: lambda_adv = 1).

    ``lambda_adv = 0`` is supervised learning exactly.
    """
    return sup_loss(U, V, X, Y, mask) - lambda_adv * adv_loss(U, V, W, a, X, mask)


def aug_loss_of_outputs(
    Z: Float[ArrayLike, "n d_out"],
    crit,
    Y: Float[ArrayLike, "n d_out"],
    lambda_adv: Scalar = 1.0,
    mask: Mask = None,
) -> Float[Array, ""]:
    """``L_aug`` as a function of the generator's outputs ``Z = f(U, V, X)`` (n, d_out):
    ``1/2 ||Z - Y||^2 - lambda_adv sum_p g(W, a, z_p)``, with ``crit = Critic(W, a)``.

    ``aug_loss(U, V, W, a, X, Y, lam, mask) == aug_loss_of_outputs(f(U, V, X), (W, a), Y, lam,
    mask)``; the training step takes its gradient in Z and pulls it back through the one
    forward pass it shares with the critic (``jax.vjp``).
    """
    sup = 0.5 * jnp.sum(jnp.square(Z - Y))
    return sup - lambda_adv * jnp.sum(critic(crit[0], crit[1], Z, mask))


def critic_input_grad(
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    Z: Float[ArrayLike, "n d_out"],
    mask: Mask = None,
) -> Float[Array, "n d_out"]:
    """``grad_z g(W, a, z)`` for each row of Z, in closed form: ``(n, d_out)``.

    ``grad_z g = W^T (a * 1{W z > 0}) / sqrt(m)`` (ReLU' = 1{. > 0}, as in JAX). One matmul
    instead of a per-sample autodiff, so the WGAN-GP penalty stays cheap under ``vmap``; for
    ``d_out = 1``, two sums over neurons (``_scalar_critic_sums``).
    """
    m_stored = W.shape[0]
    mask, m = _mask_and_width(mask, m_stored, W.dtype)
    if W.shape[1] == 1:  # the factorised scalar critic: O(n + m)
        a_pos, a_neg = _scalar_critic_sums(W, a * mask)
        z = Z[:, :1]
        zero = jnp.zeros((), W.dtype)
        return (jnp.where(z > 0, a_pos, zero) - jnp.where(z < 0, a_neg, zero)) / jnp.sqrt(m)
    active = (Z @ W.T > 0).astype(W.dtype)  # (n, m)
    return (active * (a * mask)[None, :]) @ W / jnp.sqrt(m)


def wgan_gp_loss(
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    Z_fake: Float[ArrayLike, "n d_out"],
    Y_real: Float[ArrayLike, "n d_out"],
    key: PRNGKeyArray,
    gp_weight: Scalar = 10.0,
    mask: Mask = None,
) -> Float[Array, ""]:
    """WGAN-GP critic loss (Gulrajani et al. 2017), minimised by the critic.

    ``L_D = mean_p g(z_p) - mean_p g(y_p) + gp_weight * mean_p (||grad g(y_hat_p)|| - 1)^2``
    with real = ``y_p``, fake = ``z_p = f(x_p)`` and interpolates
    ``y_hat_p = e_p y_p + (1 - e_p) z_p``, ``e_p ~ U[0, 1]`` drawn from ``key``.
    Minimising ``L_D`` is gradient ascent on the critic's Wasserstein estimate.

    Args:
      W ``(m, d_out)``, a ``(m,)``; Z_fake, Y_real ``(n, d_out)``; key: PRNG key;
      gp_weight: penalty weight (default 10); mask ``(m,)``.

    Returns:
      Scalar loss.
    """
    if Z_fake.shape != Y_real.shape:
        raise ValueError(f"Z_fake {Z_fake.shape} and Y_real {Y_real.shape} must have one shape")
    eps = jax.random.uniform(key, (Z_fake.shape[0], 1), dtype=Z_fake.dtype)
    Y_hat = eps * Y_real + (1.0 - eps) * Z_fake
    grads = critic_input_grad(W, a, Y_hat, mask)
    # The norm is not differentiable at 0 (all critic units off); the epsilon keeps the
    # penalty's own gradient finite there.
    norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=1) + 1e-12)
    penalty = jnp.mean(jnp.square(norms - 1.0))
    wasserstein = jnp.mean(critic(W, a, Y_real, mask)) - jnp.mean(critic(W, a, Z_fake, mask))
    return -wasserstein + gp_weight * penalty


def reaction_diffusion(
    U: Float[Array, "m d_in"],
    V: Float[Array, "d_out m"],
    W: Float[Array, "m d_out"],
    a: Float[Array, " m"],
    X: Float[ArrayLike, "n d_in"],
    Y: Float[ArrayLike, "n d_out"],
    lambda_adv: Scalar = 1.0,
    mask: Mask = None,
) -> tuple[Generator, Generator]:
    """Reaction and diffusion terms of Theorem 3 / Definition 2 (Eqs. 52-55 of the workshop paper).

    Reaction is ``-dL_sup/d(U, V)``; diffusion is ``+lambda_adv dL_adv/d(U, V)``; their sum is
    ``-grad L_aug``, the generator's gradient-flow direction.

    Returns:
      ``(reaction, diffusion)``, each a ``Generator`` of arrays shaped like ``(U, V)``.
    """
    g_sup = jax.grad(sup_loss, argnums=(0, 1))(U, V, X, Y, mask)
    g_adv = jax.grad(adv_loss, argnums=(0, 1))(U, V, W, a, X, mask)
    reaction = Generator(-g_sup[0], -g_sup[1])
    diffusion = Generator(lambda_adv * g_adv[0], lambda_adv * g_adv[1])
    return reaction, diffusion
