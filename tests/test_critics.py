"""Critics as (init, update) pairs: a critic defined here, outside the library, trains with
the unchanged engine, in one run and in the grid engine."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import prd_jax
from prd_jax import critics, grid, losses
from prd_jax.losses import critic as critic_value
from prd_jax.model import Critic
from prd_jax.train import TrainConfig, make_train

CFG = TrainConfig(width=16, steps=30, log_schedule="linear", log_every=10, train_v=True)


def weight_clipped_wgan(lr_scale: float = 1.0, clip: float = 0.5) -> critics.CriticTransform:
    """The original WGAN critic (Arjovsky et al. 2017): plain gradient ascent on the
    Wasserstein estimate, no gradient penalty, every weight clipped to [-clip, clip]."""

    def init(params, hparams):
        del hparams
        return params._replace(W=jnp.clip(params.W, -clip, clip)), optax.EmptyState()

    def update(params, state, Z, Y, key, hparams, mask=None):
        del key

        def wasserstein(W, a):
            return jnp.mean(critic_value(W, a, Y, mask)) - jnp.mean(critic_value(W, a, Z, mask))

        gW, ga = jax.grad(wasserstein, argnums=(0, 1))(*params)
        step = lr_scale * hparams.critic_lr
        W = jnp.clip(params.W + step * gW, -clip, clip)
        return Critic(W, params.a + step * ga), state

    return critics.CriticTransform(init, update)


@pytest.fixture(scope="module")
def data():
    return prd_jax.sphere(jax.random.key(0), 6, 4, 2)


def test_a_critic_defined_outside_the_library_trains(data):
    X, Y = data
    custom = weight_clipped_wgan()
    hp = CFG.hparams(lr=0.2, critic_lr=0.5, lambda_adv=1.0)
    res = jax.jit(make_train(CFG, critic=custom))(jax.random.key(1), hp, X, Y)
    W0, W = res.init[1].W, res.final[1].W
    assert float(jnp.max(jnp.abs(W))) <= 0.5 + 1e-7  # its own constraint holds throughout
    assert res.metrics["critic_drift"][-1] > 0  # it moved
    built_in = jax.jit(make_train(CFG))(jax.random.key(1), hp, X, Y)
    assert not np.allclose(res.metrics["critic_norm"], built_in.metrics["critic_norm"])
    np.testing.assert_array_equal(res.metrics["critic_norm"][0], jnp.linalg.norm(W0))
    # The same critic through the grid engine: one compiled program for the whole grid.
    out = grid.run_grid(
        CFG, X, Y, seeds=[1], widths=(8, 16), lambda_adv=(0.0, 1.0), lr=0.2, critic_lr=0.5,
        critic=custom,
    )  # fmt: skip
    assert out.compiles == 1
    np.testing.assert_allclose(
        out.sel(seed=1, width=16, lambda_adv=1.0).metrics["critic_norm"],
        res.metrics["critic_norm"],
        rtol=1e-5,
    )


def test_frozen_critic_projects_and_never_moves(data):
    X, Y = data
    cfg = dataclasses.replace(CFG, critic="frozen", critic_radius=0.3)
    res = jax.jit(make_train(cfg))(jax.random.key(2), cfg.hparams(), X, Y)
    np.testing.assert_allclose(res.metrics["critic_norm"], 0.3, rtol=1e-6)
    assert np.all(res.metrics["critic_drift"] == 0)


def test_wgan_gp_with_a_traced_learning_rate_and_sgd(data):
    X, Y = data
    tx = critics.wgan_gp(n_critic=2, optimizer=optax.sgd)
    params = prd_jax.init(jax.random.key(3), 16, 4, 2)[1]
    hp = CFG.hparams(critic_lr=0.1)
    params, state = tx.init(params, hp)
    Z = jnp.zeros((6, 2))
    new, _ = jax.jit(tx.update)(params, state, Z, Y, jax.random.key(4), hp)
    assert float(jnp.linalg.norm(new.W - params.W)) > 0
    # A zero learning rate leaves the critic where it is: the rate is read from hparams.
    same, _ = jax.jit(tx.update)(
        params, state, Z, Y, jax.random.key(4), CFG.hparams(critic_lr=1e-30)
    )
    np.testing.assert_allclose(same.W, params.W, atol=1e-12)
    with pytest.raises(ValueError, match="n_critic"):
        critics.wgan_gp(n_critic=0)


def test_critic_rate_is_per_unit_of_generator_time(data):
    """The critic's step is critic_lr * lr: halving the generator's lr and doubling critic_lr
    gives the same critic update, and one SGD step is exactly W + critic_lr * lr * grad."""
    X, Y = data
    tx = critics.wgan_gp(optimizer=optax.sgd)
    params = prd_jax.init(jax.random.key(5), 16, 4, 2)[1]
    Z = jnp.zeros((6, 2))
    key = jax.random.key(6)
    hp_a, hp_b = CFG.hparams(lr=0.2, critic_lr=0.5), CFG.hparams(lr=0.1, critic_lr=1.0)
    new_a, _ = tx.update(params, tx.init(params, hp_a)[1], Z, Y, key, hp_a)
    new_b, _ = tx.update(params, tx.init(params, hp_b)[1], Z, Y, key, hp_b)
    chex.assert_trees_all_close(new_a, new_b, rtol=1e-6)
    k = jax.random.split(key, 1)[0]
    gW = jax.grad(losses.wgan_gp_loss)(*params, Z, Y, k, 10.0, None)
    np.testing.assert_allclose(new_a.W, params.W - 0.5 * 0.2 * gW, rtol=1e-5, atol=1e-7)
    assert float(critics.critic_step_size(hp_a)) == pytest.approx(0.1)


def test_registry_names_every_config_critic():
    assert set(critics.REGISTRY) == {"frozen", "wgan_gp"}
    with pytest.raises(ValueError, match="TrainConfig.critic"):
        TrainConfig(critic="gan")
