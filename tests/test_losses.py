"""Losses (Eqs. 2-3), the WGAN-GP critic objective and the reaction / diffusion split."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import prd_jax
from prd_jax.losses import critic_input_grad
from prd_jax.model import width_mask


@pytest.fixture(scope="module")
def problem():
    X, Y = prd_jax.sphere(jax.random.key(0), 6, 4, 2)
    gen, crit = prd_jax.init(jax.random.key(1), 10, 4, 2)
    return X, Y, gen, crit


def test_sup_loss_is_half_sum_of_squares(problem):
    X, Y, gen, _ = problem
    Z = prd_jax.generator(*gen, X)
    expected = 0.5 * sum(float(jnp.sum((Z[p] - Y[p]) ** 2)) for p in range(X.shape[0]))
    np.testing.assert_allclose(prd_jax.sup_loss(*gen, X, Y), expected, rtol=1e-6)


def test_adv_loss_closed_form(problem):
    X, _, gen, crit = problem
    U, V, W, a = map(np.asarray, (*gen, *crit))
    m, d_out = 10, 2
    h = np.maximum(X @ U.T, 0)  # (n, m)
    expected = sum(a @ np.maximum(W @ (V @ h[p]), 0) for p in range(6)) / (m * np.sqrt(d_out))
    np.testing.assert_allclose(prd_jax.adv_loss(*gen, *crit, X), expected, rtol=1e-5)


def test_critic_per_row(problem):
    _, Y, _, crit = problem
    g = prd_jax.critic(*crit, Y)
    expected = [float(crit.a @ jax.nn.relu(crit.W @ y)) / np.sqrt(10) for y in Y]
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-6)


def test_aug_loss_lambda_zero_is_supervised(problem):
    X, Y, gen, crit = problem
    np.testing.assert_allclose(
        prd_jax.aug_loss(*gen, *crit, X, Y, lambda_adv=0.0), prd_jax.sup_loss(*gen, X, Y)
    )


def _perturbed(params, key):
    # Move weights off ReLU kinks so finite differences are valid.
    return [
        p + 1e-3 * jax.random.normal(k, p.shape)
        for p, k in zip(params, jax.random.split(key, 4), strict=True)
    ]


@pytest.mark.parametrize("jit", [False, True])
def test_check_grads_every_loss(problem, jit):
    X, Y, gen, crit = problem
    maybe = jax.jit if jit else (lambda f: f)
    U, V, W, a = _perturbed([*gen, *crit], jax.random.key(2))
    opts = dict(order=1, modes=["rev"], eps=1e-3, atol=2e-2, rtol=2e-2)
    check_grads(maybe(lambda U, V: prd_jax.sup_loss(U, V, X, Y)), (U, V), **opts)
    check_grads(maybe(lambda U, V, W, a: prd_jax.adv_loss(U, V, W, a, X)), (U, V, W, a), **opts)
    check_grads(
        maybe(lambda U, V, W, a: prd_jax.aug_loss(U, V, W, a, X, Y, 0.7)), (U, V, W, a), **opts
    )
    check_grads(
        maybe(
            lambda W, a: prd_jax.wgan_gp_loss(
                W, a, prd_jax.generator(U, V, X), Y, jax.random.key(3)
            )
        ),
        (W, a),
        **opts,
    )


def test_reaction_plus_diffusion_is_minus_grad_aug(problem):
    X, Y, gen, crit = problem
    lam = 0.8
    reaction, diffusion = prd_jax.reaction_diffusion(*gen, *crit, X, Y, lam)
    gU, gV = jax.grad(prd_jax.aug_loss, argnums=(0, 1))(*gen, *crit, X, Y, lam)
    np.testing.assert_allclose(reaction.U + diffusion.U, -gU, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(reaction.V + diffusion.V, -gV, rtol=1e-5, atol=1e-6)
    # Reaction is exactly the supervised gradient, with the paper's Eq. 52 written out.
    U, V = gen
    Z = prd_jax.generator(U, V, X)
    act = (X @ U.T >= 0).astype(jnp.float32)  # (n, m)
    R_u = ((Y - Z) @ V * act).T @ X / jnp.sqrt(2 * 10.0)
    np.testing.assert_allclose(reaction.U, R_u, rtol=1e-5, atol=1e-6)


def test_wgan_gp_penalty_and_sign(problem):
    X, Y, gen, crit = problem
    Z = prd_jax.generator(*gen, X)
    key = jax.random.key(4)
    no_gp = prd_jax.wgan_gp_loss(*crit, Z, Y, key, gp_weight=0.0)
    expected = jnp.mean(prd_jax.critic(*crit, Z)) - jnp.mean(prd_jax.critic(*crit, Y))
    np.testing.assert_allclose(no_gp, expected, rtol=1e-6)
    # With a positive weight the penalty only adds.
    assert float(prd_jax.wgan_gp_loss(*crit, Z, Y, key, gp_weight=10.0)) >= float(no_gp)


def test_padded_losses_and_grads_match_exact():
    X, Y = prd_jax.sphere(jax.random.key(5), 6, 4, 2)
    key, m, M = jax.random.key(6), 7, 20
    exact_g, exact_c = prd_jax.init(key, m, 4, 2)
    mask = width_mask(m, M)
    pad_g, pad_c = prd_jax.init(key, M, 4, 2, mask)
    args_exact = (*exact_g, *exact_c, X, Y, 0.9)
    args_pad = (*pad_g, *pad_c, X, Y, 0.9)
    np.testing.assert_allclose(
        prd_jax.aug_loss(*args_pad, mask), prd_jax.aug_loss(*args_exact), rtol=1e-6
    )
    g_exact = jax.grad(prd_jax.aug_loss, argnums=(0, 1, 2, 3))(*args_exact)
    g_pad = jax.grad(prd_jax.aug_loss, argnums=(0, 1, 2, 3))(*args_pad, mask)
    np.testing.assert_allclose(g_pad[0][:m], g_exact[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_pad[1][:, :m], g_exact[1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_pad[2][:m], g_exact[2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g_pad[3][:m], g_exact[3], rtol=1e-5, atol=1e-7)
    for g in g_pad:
        tail = g[m:] if g.ndim == 1 or g.shape[0] == M else g[:, m:]
        assert float(jnp.sum(jnp.abs(tail))) == 0.0
    gp = jax.grad(prd_jax.wgan_gp_loss, argnums=(0, 1))
    Z = prd_jax.generator(*exact_g, X)
    gp_exact = gp(*exact_c, Z, Y, key)
    gp_pad = gp(*pad_c, Z, Y, key, 10.0, mask)
    np.testing.assert_allclose(gp_pad[0][:m], gp_exact[0], rtol=1e-5, atol=1e-7)
    assert float(jnp.sum(jnp.abs(gp_pad[0][m:]))) == 0.0


def test_critic_input_grad_closed_form_matches_autodiff(problem):
    _, Y, _, crit = problem
    Z = Y + 0.1
    auto = jax.vmap(jax.grad(lambda z: prd_jax.critic(*crit, z[None])[0]))(Z)
    np.testing.assert_allclose(critic_input_grad(*crit, Z), auto, rtol=1e-5, atol=1e-6)
