"""Critics as pairs of pure functions, in the style of optax's ``GradientTransformation``.

A critic is ``CriticTransform(init, update)``:

    params, state = critic.init(params, hparams)
    params, state = critic.update(params, state, Z, Y, key, hparams, mask)

``params`` is a ``model.Critic`` (``W (m, d_out)``, ``a (m,)``) drawn by ``model.init``;
``hparams`` is the run's traced ``train.HParams`` (a trained critic reads ``critic_lr`` and
``lr``: see ``critic_step_size``), so a sweep over critic learning rates is still one
``vmap``; ``Z`` are the generator's current outputs, ``Y`` the targets (the "real" samples),
``mask`` the neuron mask of a padded network.
The training engine calls ``update`` before each generator step without knowing which critic
it has: a new critic (another width, an unrolled one, ...) is a new pair of functions, with no
edit to the engine (``make_train(cfg, critic=my_critic)``).

Built-in critics:
- ``frozen(radius)``: ``(w, a)`` fixed at init, optionally projected onto ``||W||_F <= L``:
  the setting of Theorem 2 and Eq. 17.
- ``wgan_gp(gp_weight, n_critic, optimizer, ...)``: ``n_critic`` steps of an optax optimizer on
  the WGAN-GP objective per generator step (alternating descent-ascent, as in the paper's
  experiments).
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from prd_jax.losses import wgan_gp_loss
from prd_jax.model import Critic


class CriticTransform(NamedTuple):
    """A critic: ``init(params, hparams) -> (params, state)`` and
    ``update(params, state, Z, Y, key, hparams, mask) -> (params, state)``, both pure."""

    init: Callable[..., tuple[Critic, Any]]
    update: Callable[..., tuple[Critic, Any]]


# An optimizer factory maps the run's traced critic learning rate to an optax transformation.
OptimizerFactory = Callable[[jax.Array], optax.GradientTransformation]


def critic_step_size(hparams) -> jax.Array:
    """The critic optimizer's step size: ``critic_lr * lr``.

    ``HParams.critic_lr`` is a rate per unit of the generator's time ``t = lr * steps``, not per
    generator step: the critic takes one update (of ``n_critic`` steps) per generator step, so
    scaling its step by the generator's ``lr`` keeps the critic's speed in units of ``t`` fixed
    when ``lr`` changes. Two experiments with different ``lr`` and the same ``critic_lr`` play
    the same game on the same clock (for Adam, the critic's parameters move about
    ``critic_lr`` per unit of t; for SGD, ``d(params)/dt = critic_lr * gradient``).
    """
    return hparams.critic_lr * hparams.lr


def adam_wgan(lr) -> optax.GradientTransformation:
    """Adam with WGAN-GP practice's moments (beta1 = 0, beta2 = 0.9; Gulrajani et al. 2017)."""
    return optax.adam(lr, b1=0.0, b2=0.9)


def project(W, radius: float | None):
    """``W`` scaled onto the ball ``||W||_F <= radius`` (unchanged when ``radius`` is None)."""
    if radius is None:
        return W
    scale = jnp.minimum(1.0, radius / jnp.maximum(jnp.linalg.norm(W), 1e-30))
    return W * scale


def frozen(radius: float | None = None) -> CriticTransform:
    """The critic of Theorem 2 and Eq. 17: ``(w, a)`` fixed at their initial values, ``W``
    projected once onto ``||W||_F <= radius`` (the theorem's ``L``) when a radius is given."""

    def init(params: Critic, hparams):
        del hparams
        return params._replace(W=project(params.W, radius)), optax.EmptyState()

    def update(params, state, Z, Y, key, hparams, mask=None):
        del Z, Y, key, hparams, mask
        return params, state

    return CriticTransform(init, update)


def wgan_gp(
    gp_weight: float = 10.0,
    n_critic: int = 1,
    optimizer: OptimizerFactory = adam_wgan,
    freeze_a: bool = False,
    radius: float | None = None,
) -> CriticTransform:
    """A WGAN-GP critic trained alternately with the generator.

    Each ``update`` takes ``n_critic`` steps of ``optimizer(critic_step_size(hparams))`` on
    ``losses.wgan_gp_loss`` (real = ``Y``, fake = ``Z``), each with its own interpolation key.

    Args:
      gp_weight: gradient-penalty weight (10 in WGAN-GP practice).
      n_critic: critic steps per generator step.
      optimizer: maps the traced learning rate to an optax transformation; the default
        ``adam_wgan`` keeps the per-unit step from shrinking with width, which plain gradient
        ascent under the 1/sqrt(m) scaling does (``optax.sgd`` gives plain descent-ascent).
      freeze_a: keep ``a_r in {+-1}`` fixed, train ``W`` only.
      radius: project ``||W||_F <= radius`` at init and after every step.
    """
    if not isinstance(n_critic, int) or n_critic <= 0:
        raise ValueError(f"wgan_gp: n_critic must be a positive int, got {n_critic!r}")
    if not gp_weight >= 0:
        raise ValueError(f"wgan_gp: gp_weight must be >= 0, got {gp_weight!r}")

    def init(params: Critic, hparams):
        params = params._replace(W=project(params.W, radius))
        return params, optimizer(critic_step_size(hparams)).init(params)

    def update(params, state, Z, Y, key, hparams, mask=None):
        tx = optimizer(critic_step_size(hparams))

        def one_step(carry, k):
            params, state = carry
            grads = Critic(
                *jax.grad(wgan_gp_loss, argnums=(0, 1))(*params, Z, Y, k, gp_weight, mask)
            )
            if freeze_a:
                grads = grads._replace(a=jnp.zeros_like(grads.a))
            updates, state = tx.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            return (params._replace(W=project(params.W, radius)), state), None

        (params, state), _ = jax.lax.scan(
            one_step, (params, state), jax.random.split(key, n_critic)
        )
        return params, state

    return CriticTransform(init, update)


# Optimizers and critics that a config (and so the command line) can name.
OPTIMIZERS: dict[str, OptimizerFactory] = {"sgd": optax.sgd, "adam": adam_wgan}


def _from_config_wgan_gp(cfg) -> CriticTransform:
    return wgan_gp(
        cfg.gp_weight,
        cfg.n_critic,
        OPTIMIZERS[cfg.critic_optimizer],
        cfg.freeze_a,
        cfg.critic_radius,
    )


REGISTRY: dict[str, Callable[[Any], CriticTransform]] = {
    "frozen": lambda cfg: frozen(cfg.critic_radius),
    "wgan_gp": _from_config_wgan_gp,
}


def from_config(cfg) -> CriticTransform:
    """The critic a ``TrainConfig`` names (``cfg.critic``, one of ``REGISTRY``)."""
    if cfg.critic not in REGISTRY:
        raise ValueError(f"unknown critic {cfg.critic!r}; registered: {sorted(REGISTRY)}")
    return REGISTRY[cfg.critic](cfg)
