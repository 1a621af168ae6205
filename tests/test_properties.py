"""Property-based tests (hypothesis) over random sizes: shapes and invariances of the model and
losses, H-infinity's structure, padded networks equal to exact ones, and grid results that do
not depend on which bucket a run was trained in.

Few examples each and no deadline: the file runs in well under a minute on 2 cores. The grid
properties draw only traced values (seed, lambda_adv, lr), so their programs compile once."""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import prd_jax
from prd_jax import grid
from prd_jax.kernels import h_infinity
from prd_jax.losses import adv_loss, aug_loss, sup_loss
from prd_jax.metrics import METRIC_NAMES
from prd_jax.model import generator, init, width_mask
from prd_jax.train import TrainConfig

FEW = settings(max_examples=5, deadline=None, derandomize=True)
TOL = dict(rtol=2e-5, atol=2e-5)

sizes = st.fixed_dictionaries(
    {
        "m": st.integers(1, 12),
        "d_in": st.integers(1, 6),
        "d_out": st.integers(1, 4),
        "n": st.integers(1, 7),
        "seed": st.integers(0, 2**16),
        "lam": st.floats(0.0, 2.0),
    }
)


def _problem(p, m=None):
    m = p["m"] if m is None else m
    kx, ky, kw = jax.random.split(jax.random.key(p["seed"]), 3)
    X = jax.random.normal(kx, (p["n"], p["d_in"]))
    Y = jax.random.normal(ky, (p["n"], p["d_out"]))
    (U, V), (W, a) = init(kw, m, p["d_in"], p["d_out"])
    return X, Y, U, V, W, a


@jax.jit
def _everything(U, V, W, a, X, Y, lam, mask=None):
    return {
        "f": generator(U, V, X, mask),
        "sup": sup_loss(U, V, X, Y, mask),
        "adv": adv_loss(U, V, W, a, X, mask),
        "aug": aug_loss(U, V, W, a, X, Y, lam, mask),
    }


@FEW
@given(sizes, st.randoms(use_true_random=False))
def test_shapes_and_neuron_permutation_invariance(p, rnd):
    X, Y, U, V, W, a = _problem(p)
    out = _everything(U, V, W, a, X, Y, p["lam"])
    assert out["f"].shape == (p["n"], p["d_out"])
    assert all(out[k].shape == () for k in ("sup", "adv", "aug"))
    perm = np.asarray(rnd.sample(range(p["m"]), p["m"]))
    permuted = _everything(U[perm], V[:, perm], W[perm], a[perm], X, Y, p["lam"])
    for k in out:  # neurons are exchangeable: f and every loss are sums over them
        np.testing.assert_allclose(permuted[k], out[k], **TOL, err_msg=k)


@FEW
@given(sizes, st.integers(0, 9), st.floats(-3.0, 3.0))
def test_padded_neurons_change_nothing(p, extra, garbage):
    """A width-m network stored at width M = m + extra with a mask equals the exact network,
    whatever the padded neurons hold; so do the gradients of the real neurons, and the padded
    neurons get none. The nested initialisation gives the same first m neurons."""
    M = p["m"] + extra
    X, Y, U, V, W, a = _problem(p)
    mask = width_mask(p["m"], M)
    (Up, Vp), (Wp, ap) = init(jax.random.split(jax.random.key(p["seed"]), 3)[2], M, p["d_in"],
                              p["d_out"])  # fmt: skip
    np.testing.assert_array_equal(Up[: p["m"]], U)  # nested: the first m neurons are the same
    fill = jnp.float32(garbage)
    Up, Vp = Up.at[p["m"] :].set(fill), Vp.at[:, p["m"] :].set(-fill)
    Wp, ap = Wp.at[p["m"] :].set(fill), ap.at[p["m"] :].set(fill)
    exact = _everything(U, V, W, a, X, Y, p["lam"])
    padded = _everything(Up, Vp, Wp, ap, X, Y, p["lam"], mask)
    for k in exact:
        np.testing.assert_allclose(padded[k], exact[k], **TOL, err_msg=k)
    grad = jax.jit(jax.grad(aug_loss, argnums=(0, 1)))
    gU, gV = grad(U, V, W, a, X, Y, p["lam"])
    gUp, gVp = grad(Up, Vp, Wp, ap, X, Y, p["lam"], mask)
    np.testing.assert_allclose(gUp[: p["m"]], gU, **TOL)
    np.testing.assert_allclose(gVp[:, : p["m"]], gV, **TOL)
    assert not np.any(gUp[p["m"] :]) and not np.any(gVp[:, p["m"] :])


@FEW
@given(
    st.integers(1, 8),
    st.integers(1, 6),
    st.integers(0, 2**16),
    st.lists(st.floats(0.1, 10.0), min_size=8, max_size=8),
)
def test_h_infinity_is_symmetric_psd_with_half_squared_norms_on_its_diagonal(n, d, seed, scale):
    X = jax.random.normal(jax.random.key(seed), (n, d)) * jnp.asarray(scale[:n])[:, None]
    H = np.asarray(jax.jit(h_infinity)(X), np.float64)
    assert H.shape == (n, n)
    np.testing.assert_array_equal(H, H.T)
    norms2 = np.sum(np.asarray(X, np.float64) ** 2, axis=1)
    np.testing.assert_allclose(np.diag(H), norms2 / 2, rtol=1e-5)
    assert np.linalg.eigvalsh(H)[0] >= -1e-5 * max(1.0, norms2.max())


# ----------------------------------------------------------------------------- the grid

CFG = TrainConfig(steps=6, log_schedule="linear", log_every=3, critic="wgan_gp", train_v=True)
DATA = prd_jax.sphere(jax.random.key(3), 5, 3, 2)


@settings(max_examples=4, deadline=None, derandomize=True)
@given(st.integers(0, 2**20), st.floats(0.0, 2.0), st.floats(0.01, 0.3))
def test_a_run_does_not_depend_on_its_bucket(seed, lam, lr):
    """Width 3 trained alone (exact), padded to 6 next to width 6 (bucket (3, 6)), and with
    seed and lambda axes around it: the same numbers, to float32 reassociation."""
    X, Y = DATA
    alone = grid.run_grid(CFG, X, Y, seeds=[seed], widths=[3], lambda_adv=lam, lr=lr)
    shared = grid.run_grid(CFG, X, Y, seeds=[seed], widths=[3, 6], lambda_adv=lam, lr=lr)
    crowded = grid.run_grid(CFG, X, Y, seeds=[seed + 1, seed], widths=[3, 6],
                            lambda_adv=[lam, lam + 0.5], lr=lr)  # fmt: skip
    assert shared.buckets == ((3, 6),) and alone.buckets == ((3,),)
    a = alone.sel(seed=seed, width=3)
    for other in (shared.sel(seed=seed, width=3), crowded.sel(seed=seed, width=3, lambda_adv=lam)):
        for k in METRIC_NAMES:
            np.testing.assert_allclose(other.metrics[k], a.metrics[k], rtol=2e-4, atol=2e-5,
                                       err_msg=k)  # fmt: skip
        assert other.diverged == a.diverged and other.steps_taken == a.steps_taken
