"""Losses (Eqs. 2-3), the WGAN-GP critic objective and the reaction / diffusion split, each
against a formula written out in NumPy, with and without jit."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from beartype import beartype
from jax.test_util import check_grads
from jaxtyping import TypeCheckError, jaxtyped

import prd_jax
from prd_jax.losses import critic_input_grad
from prd_jax.model import width_mask

pytestmark = pytest.mark.strict_dtypes

N, D_IN, D_OUT, M = 6, 4, 2, 10


def _problem():
    X, Y = prd_jax.sphere(jax.random.key(0), N, D_IN, D_OUT)
    gen, crit = prd_jax.init(jax.random.key(1), M, D_IN, D_OUT)
    return X, Y, gen, crit


def _np(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _z_numpy(U, V, X):
    return np.maximum(X @ U.T, 0.0) @ V.T / np.sqrt(V.shape[0] * U.shape[0])


def _critic_numpy(W, a, Z):
    return np.maximum(Z @ W.T, 0.0) @ a / np.sqrt(W.shape[0])


class LossesTest(chex.TestCase):
    """Each loss against its equation, eagerly and under jit."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_sup_loss_is_half_sum_of_squares(self):
        X, Y, gen, _ = _problem()
        U, V, Xn, Yn = _np(*gen, X, Y)
        expected = 0.5 * np.sum((_z_numpy(U, V, Xn) - Yn) ** 2)
        got = self.variant(prd_jax.sup_loss)(*gen, X, Y)
        chex.assert_shape(got, ())
        np.testing.assert_allclose(got, expected, rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_adv_loss_closed_form(self):
        X, _, gen, crit = _problem()
        U, V, W, a, Xn = _np(*gen, *crit, X)
        h = np.maximum(Xn @ U.T, 0)  # (n, m)
        # (1/(m sqrt(d_out))) sum_p a^T relu(W V relu(U x_p)), Eq. 3 expanded.
        expected = sum(a @ np.maximum(W @ (V @ h[p]), 0) for p in range(N)) / (M * np.sqrt(D_OUT))
        got = self.variant(prd_jax.adv_loss)(*gen, *crit, X)
        np.testing.assert_allclose(got, expected, rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_critic_per_row(self):
        _, Y, _, crit = _problem()
        W, a, Yn = _np(*crit, Y)
        expected = [a @ np.maximum(W @ y, 0) / np.sqrt(M) for y in Yn]
        got = self.variant(prd_jax.critic)(*crit, Y)
        chex.assert_shape(got, (N,))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_aug_loss_is_sup_minus_lambda_adv(self):
        X, Y, gen, crit = _problem()
        U, V, W, a, Xn, Yn = _np(*gen, *crit, X, Y)
        Z = _z_numpy(U, V, Xn)
        sup, adv = 0.5 * np.sum((Z - Yn) ** 2), np.sum(_critic_numpy(W, a, Z))
        aug = self.variant(prd_jax.aug_loss)
        for lam in (0.0, 0.7):
            got = aug(*gen, *crit, X, Y, jnp.float32(lam))
            np.testing.assert_allclose(got, sup - lam * adv, rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_check_grads_every_loss(self):
        X, Y, gen, crit = _problem()
        # Move weights off ReLU kinks so finite differences are valid.
        keys = jax.random.split(jax.random.key(2), 4)
        U, V, W, a = [
            p + 1e-3 * jax.random.normal(k, p.shape)
            for p, k in zip([*gen, *crit], keys, strict=True)
        ]
        opts = dict(order=1, modes=["rev"], eps=1e-3, atol=2e-2, rtol=2e-2)
        v = self.variant
        check_grads(v(lambda U, V: prd_jax.sup_loss(U, V, X, Y)), (U, V), **opts)
        check_grads(v(lambda U, V, W, a: prd_jax.adv_loss(U, V, W, a, X)), (U, V, W, a), **opts)
        check_grads(
            v(lambda U, V, W, a: prd_jax.aug_loss(U, V, W, a, X, Y, 0.7)), (U, V, W, a), **opts
        )
        Z = prd_jax.generator(U, V, X)
        key = jax.random.key(3)
        check_grads(v(lambda W, a: prd_jax.wgan_gp_loss(W, a, Z, Y, key)), (W, a), **opts)

    @chex.variants(with_jit=True, without_jit=True)
    def test_reaction_and_diffusion_closed_forms(self):
        X, Y, gen, crit = _problem()
        lam = 0.8
        reaction, diffusion = self.variant(prd_jax.reaction_diffusion)(*gen, *crit, X, Y, lam)
        # Their sum is -grad L_aug: the generator's update direction.
        gU, gV = jax.grad(prd_jax.aug_loss, argnums=(0, 1))(*gen, *crit, X, Y, lam)
        chex.assert_trees_all_close(
            jax.tree.map(jnp.add, reaction, diffusion),
            prd_jax.Generator(-gU, -gV),
            rtol=1e-5,
            atol=1e-6,
        )
        # Reaction, Eq. 52 written out: R^U = (((Y - Z) V) * 1{X U^T >= 0})^T X / sqrt(d_out m),
        # R^V = (Y - Z)^T relu(X U^T) / sqrt(d_out m).
        U, V, W, a, Xn, Yn = _np(*gen, *crit, X, Y)
        Z, s = _z_numpy(U, V, Xn), 1.0 / np.sqrt(D_OUT * M)
        R_U = (((Yn - Z) @ V) * (Xn @ U.T >= 0)).T @ Xn * s
        R_V = (Yn - Z).T @ np.maximum(Xn @ U.T, 0.0) * s
        chex.assert_trees_all_close(reaction, prd_jax.Generator(R_U, R_V), rtol=1e-4, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_wgan_gp_penalty_and_sign(self):
        X, Y, gen, crit = _problem()
        Z = prd_jax.generator(*gen, X)
        key = jax.random.key(4)
        loss = self.variant(prd_jax.wgan_gp_loss)
        no_gp = loss(*crit, Z, Y, key, 0.0)
        W, a, Zn, Yn = _np(*crit, Z, Y)
        expected = np.mean(_critic_numpy(W, a, Zn)) - np.mean(_critic_numpy(W, a, Yn))
        np.testing.assert_allclose(no_gp, expected, rtol=1e-5, atol=1e-7)
        # The penalty: mean_p (||grad g(y_hat_p)|| - 1)^2 >= 0 at the same interpolates.
        penalty = (loss(*crit, Z, Y, key, 10.0) - no_gp) / 10.0
        assert float(penalty) >= 0.0

    @chex.variants(with_jit=True, without_jit=True)
    def test_critic_input_grad_closed_form_matches_autodiff(self):
        _, Y, _, crit = _problem()
        Z = Y + 0.1
        auto = jax.vmap(jax.grad(lambda z: prd_jax.critic(*crit, z[None])[0]))(Z)
        got = self.variant(critic_input_grad)(*crit, Z)
        np.testing.assert_allclose(got, auto, rtol=1e-5, atol=1e-6)


def test_padded_losses_and_grads_match_exact():
    X, Y = prd_jax.sphere(jax.random.key(5), 6, 4, 2)
    key, m, M_pad = jax.random.key(6), 7, 20
    exact_g, exact_c = prd_jax.init(key, m, 4, 2)
    mask = width_mask(m, M_pad)
    pad_g, pad_c = prd_jax.init(key, M_pad, 4, 2, mask)
    args_exact = (*exact_g, *exact_c, X, Y, 0.9)
    args_pad = (*pad_g, *pad_c, X, Y, 0.9)
    value_and_grads = jax.jit(jax.value_and_grad(prd_jax.aug_loss, argnums=(0, 1, 2, 3)))
    l_exact, g_exact = value_and_grads(*args_exact)
    l_pad, g_pad = value_and_grads(*args_pad, mask)
    np.testing.assert_allclose(l_pad, l_exact, rtol=1e-6)
    first_m = (lambda x: x[:m], lambda x: x[:, :m], lambda x: x[:m], lambda x: x[:m])
    chex.assert_trees_all_close(
        [f(g) for f, g in zip(first_m, g_pad, strict=True)], list(g_exact), rtol=1e-5, atol=1e-7
    )
    for g in g_pad:
        tail = g[m:] if g.ndim == 1 or g.shape[0] == M_pad else g[:, m:]
        assert float(jnp.sum(jnp.abs(tail))) == 0.0
    gp = jax.jit(jax.grad(prd_jax.wgan_gp_loss, argnums=(0, 1)))
    Z = prd_jax.generator(*exact_g, X)
    gp_exact = gp(*exact_c, Z, Y, key)
    gp_pad = gp(*pad_c, Z, Y, key, 10.0, mask)
    np.testing.assert_allclose(gp_pad[0][:m], gp_exact[0], rtol=1e-5, atol=1e-7)
    assert float(jnp.sum(jnp.abs(gp_pad[0][m:]))) == 0.0


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (lambda g, c, X, Y: prd_jax.sup_loss(*g, X, Y[:, :1]), ValueError, r"Y has shape"),
        (lambda g, c, X, Y: prd_jax.sup_loss(*g, X, Y[0]), AssertionError, r"Y must be a float"),
        (lambda g, c, X, Y: prd_jax.critic(c.W, c.a[:3], Y), ValueError, r"a has shape"),
        (lambda g, c, X, Y: prd_jax.critic(*c, Y[:, :1]), ValueError, r"Z has shape"),
        (lambda g, c, X, Y: prd_jax.critic(c.W[0], c.a, Y), AssertionError, r"W must be a float"),
    ],
)
def test_shape_errors_name_the_argument(bad, error, match):
    X, Y, gen, crit = _problem()
    with pytest.raises(error, match=match):
        bad(gen, crit, X, Y)


def test_jaxtyping_annotations_hold_and_catch_wrong_shapes():
    X, Y, gen, crit = _problem()
    mask = width_mask(5, M)

    def checked(fn):
        return jaxtyped(typechecker=beartype)(fn)

    # Correct calls pass the checks (including a traced lambda_adv and a key).
    checked(prd_jax.sup_loss)(*gen, X, Y, mask)
    checked(prd_jax.critic)(*crit, Y, mask)
    checked(prd_jax.adv_loss)(*gen, *crit, X, mask)
    jax.jit(checked(prd_jax.aug_loss))(*gen, *crit, X, Y, jnp.float32(0.5), mask)
    checked(prd_jax.reaction_diffusion)(*gen, *crit, X, Y, 0.5, mask)
    checked(critic_input_grad)(*crit, Y, mask)
    checked(prd_jax.wgan_gp_loss)(*crit, Y + 0.1, Y, jax.random.key(0), 10.0, mask)
    # Wrong shapes do not.
    with pytest.raises(TypeCheckError):
        checked(prd_jax.sup_loss)(*gen, X, Y[:-1])  # n differs between X and Y
    with pytest.raises(TypeCheckError):
        checked(prd_jax.critic)(crit.W, crit.a[:-1], Y)  # m differs between W and a
    with pytest.raises(TypeCheckError):
        checked(prd_jax.adv_loss)(*gen, crit.W[:, :1], crit.a, X)  # critic d_out != d_out
    with pytest.raises(TypeCheckError):
        checked(prd_jax.wgan_gp_loss)(*crit, Y[:-1], Y, jax.random.key(0))
