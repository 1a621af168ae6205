"""Every metric of ``metrics.measure`` on inputs where its value is known in closed form.

Three small settings, each compiled once (``measure`` is jitted; the values change, the
shapes do not): a hand-computed 2-neuron network (losses, residual, reaction, diffusion),
orthogonal inputs with chosen activation patterns (drifts, kernel, flips, critic), and
weight fields with known statistics (KS distance, spatial autocorrelation).
"""

import inspect
import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from prd_jax import metrics
from prd_jax.metrics import METRIC_NAMES, ks_from_normal, measure, reference
from prd_jax.model import Critic, Generator, width_mask

pytestmark = pytest.mark.strict_dtypes

_measure = jax.jit(measure, static_argnames="image_shape")
SQRT2 = math.sqrt(2.0)


def _f32(*arrays):
    return [jnp.asarray(a, jnp.float32) for a in arrays]


def _run(U, V, W, a, X, Y, lam, U0=None, V0=None, W0=None, mask=None, image_shape=None):
    """``measure`` at (U, V, W, a) against the reference drawn at (U0, V0, W0)."""
    U, V, W, a, X, Y = _f32(U, V, W, a, X, Y)
    U0, V0, W0 = _f32(*(x if x0 is None else x0 for x, x0 in ((U, U0), (V, V0), (W, W0))))
    ref = reference(Generator(U0, V0), Critic(W0, a), X, mask)
    out = _measure(Generator(U, V), Critic(W, a), ref, X, Y, jnp.float32(lam), mask, image_shape)
    assert set(out) == set(METRIC_NAMES)
    return {k: float(v) for k, v in out.items()}


# ----------------------------------------------------- a 2-neuron network computed by hand
#
# X = I_2, U = [[1, -1], [-1, 1]]: relu(X U^T) = I_2 (no pre-activation at the ReLU kink).
# V = [[1, -1]], d_out = 1, m = 2: f(x_1) = 1/sqrt2, f(x_2) = -1/sqrt2.
# Critic W = [[1], [-1]], a = [1, 1]: g(z) = (relu(z) + relu(-z))/sqrt2 = |z|/sqrt2.
# Targets chosen so that the residual r = f - y = (0.6, -0.8).

HAND_U = np.array([[1.0, -1.0], [-1.0, 1.0]])
HAND_V = np.array([[1.0, -1.0]])
HAND_W = np.array([[1.0], [-1.0]])
HAND_A = np.array([1.0, 1.0])
HAND_X = np.eye(2)
HAND_R = np.array([0.6, -0.8])
HAND_Y = (np.array([1.0, -1.0]) / SQRT2 - HAND_R)[:, None]


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_losses_and_residual_by_hand(lam):
    out = _run(HAND_U, HAND_V, HAND_W, HAND_A, HAND_X, HAND_Y, lam)
    assert out["loss_sup"] == pytest.approx(0.5 * (0.6**2 + 0.8**2), rel=1e-6)  # Eq. 2: 0.5
    # Eq. 3: sum_p |f(x_p)|/sqrt2 = 2 (1/sqrt2)/sqrt2 = 1.
    assert out["loss_adv"] == pytest.approx(1.0, rel=1e-6)
    assert out["loss_aug"] == pytest.approx(0.5 - lam * 1.0, rel=1e-6, abs=1e-7)
    assert out["residual"] == pytest.approx(1.0, rel=1e-6)  # ||(0.6, -0.8)||


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_reaction_and_diffusion_norms_by_hand(lam):
    # Reaction = -dL_sup: dL_sup/dV_j = sum_p r_p relu(u_j.x_p)/sqrt2 = r_j/sqrt2, and
    # dL_sup/du_j = sum_p r_p V_j 1{u_j.x_p > 0} x_p/sqrt2 = r_j V_j e_j/sqrt2.
    reaction_v = np.linalg.norm(HAND_R / SQRT2)
    reaction_u = np.linalg.norm(HAND_R * HAND_V[0] / SQRT2)
    # Diffusion = lam dL_adv: dL_adv/df_p = sign(f_p)/sqrt2 = (1, -1)/sqrt2 plays the role of r.
    s = np.array([1.0, -1.0]) / SQRT2
    diffusion_v = lam * np.linalg.norm(s / SQRT2)
    diffusion_u = lam * np.linalg.norm(s * HAND_V[0] / SQRT2)
    out = _run(HAND_U, HAND_V, HAND_W, HAND_A, HAND_X, HAND_Y, lam)
    assert out["reaction_u"] == pytest.approx(reaction_u, rel=1e-6)
    assert out["reaction_v"] == pytest.approx(reaction_v, rel=1e-6)
    assert out["diffusion_u"] == pytest.approx(diffusion_u, rel=1e-6, abs=0.0)
    assert out["diffusion_v"] == pytest.approx(diffusion_v, rel=1e-6, abs=0.0)
    if lam == 0.0:  # supervised learning: no diffusion at all, exactly
        assert out["diffusion_u"] == 0.0 and out["diffusion_v"] == 0.0


# --------------------------------- orthogonal inputs, chosen activation patterns and drifts
#
# X = diag(1, 2, 0.5): orthogonal rows, so H_ij = 0 for i != j and
# H_ii = |x_i|^2 * (fraction of neurons r with u_r.x_i >= 0) = s_i^2 * frac_i (Remark 1).

SCALES = np.array([1.0, 2.0, 0.5])
ORTHO_X = np.diag(SCALES)
ORTHO_Y = np.zeros((3, 1))
SIGNS0 = np.array([[1, 1, 1], [1, -1, 1], [-1, -1, 1], [-1, -1, -1]], dtype=np.float64)
MAGNITUDES = np.array([[0.5, 1.5, 1.0], [2.0, 0.7, 1.2], [1.1, 0.9, 0.6], [1.3, 1.0, 0.8]])
V_INIT = np.array([[1.0, -1.0, 1.0, -1.0]])
W_INIT = np.array([[0.3], [-1.2], [0.8], [0.5]])
A_INIT = np.array([1.0, -1.0, 1.0, 1.0])


def test_kernel_dev_lambda_min_and_flip_frac():
    U0 = SIGNS0 * MAGNITUDES
    # Flip neuron 3 entirely (3 patterns) and entry (0, 2) (1 pattern): 4 of n m = 12 flip.
    U = U0.copy()
    U[3] *= -1.0
    U[0, 2] *= -1.0
    frac0 = (SIGNS0 >= 0).mean(axis=0)  # (2/4, 1/4, 3/4)
    frac = (np.sign(U) >= 0).mean(axis=0)  # (3/4, 2/4, 3/4)
    np.testing.assert_allclose(frac0, [0.5, 0.25, 0.75])
    np.testing.assert_allclose(frac, [0.75, 0.5, 0.75])
    H0, H = SCALES**2 * frac0, SCALES**2 * frac  # diagonals of H(0) and H(t)
    out = _run(U, V_INIT, W_INIT, A_INIT, ORTHO_X, ORTHO_Y, 1.0, U0=U0)
    assert out["kernel_dev"] == pytest.approx(np.max(np.abs(H - H0)), rel=1e-6)  # 1.0
    assert out["lambda_min"] == pytest.approx(np.min(H), rel=1e-6)  # 0.1875
    assert out["flip_frac"] == pytest.approx(4 / 12, rel=1e-6)
    # Scaling a neuron by a positive factor changes nothing of the three.
    same = _run(3.0 * U0, V_INIT, W_INIT, A_INIT, ORTHO_X, ORTHO_Y, 1.0, U0=U0)
    assert same["kernel_dev"] == 0.0 and same["flip_frac"] == 0.0
    assert same["lambda_min"] == pytest.approx(np.min(H0), rel=1e-6)  # 0.1875 too


# Rows of U0 with norm 3 each (||U0||_F = 6); the drifts move neuron j by j along e_1.
U0_NORM3 = np.array([[1.0, 2.0, 2.0], [2.0, 1.0, -2.0], [-2.0, 2.0, 1.0], [2.0, -2.0, 1.0]])
OFFSETS = np.array([0.0, 1.0, 2.0, 3.0])[:, None] * np.array([[1.0, 0.0, 0.0]])
V_OFFSET = np.array([[0.0, 0.6, 0.0, 0.8]])  # ||.|| = 1
W_NOW = np.array([[3.0], [0.0], [0.0], [4.0]])  # ||.|| = 5
W_OFFSET = np.array([[0.0], [1.0], [2.0], [2.0]])  # ||.|| = 3


def _drift_case(M=4, garbage=0.0):
    """The drift setting stored at width M (first 4 neurons real; the rest padded)."""

    def pad(x, axis):
        width = [(0, 0)] * x.ndim
        width[axis] = (0, M - 4)
        return np.pad(x, width, constant_values=garbage)

    U0, U = pad(U0_NORM3, 0), pad(U0_NORM3 + OFFSETS, 0)
    V0, V = pad(V_INIT, 1), pad(V_INIT + V_OFFSET, 1)
    W0, W = pad(W_NOW - W_OFFSET, 0), pad(W_NOW, 0)
    a = pad(A_INIT, 0)
    if M > 4:  # masked-out neurons also move, by a lot: they must not count anywhere
        U[4:] += 100.0
        V[:, 4:] -= 50.0
        W[4:] += 70.0
    mask = None if M == 4 else width_mask(4, M)
    return _run(U, V, W, a, ORTHO_X, ORTHO_Y, 1.0, U0=U0, V0=V0, W0=W0, mask=mask)


@pytest.mark.parametrize("M, garbage", [(4, 0.0), (6, 0.0), (6, 7.0)])
def test_drift_metrics(M, garbage):
    out = _drift_case(M, garbage)
    assert out["drift_max"] == pytest.approx(3.0, rel=1e-6)  # max_j ||u_j(t) - u_j(0)||
    assert out["drift_mean"] == pytest.approx(1.5, rel=1e-6)  # (0 + 1 + 2 + 3)/4
    assert out["drift_fro"] == pytest.approx(math.sqrt(14.0), rel=1e-6)  # sqrt(0+1+4+9)
    assert out["drift_rel"] == pytest.approx(math.sqrt(14.0) / 6.0, rel=1e-6)
    assert out["drift_v_fro"] == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("M, garbage", [(4, 0.0), (6, 7.0)])
def test_critic_norm_and_drift(M, garbage):
    out = _drift_case(M, garbage)
    assert out["critic_norm"] == pytest.approx(5.0, rel=1e-6)  # ||W||_F = ||(3, 0, 0, 4)||
    assert out["critic_drift"] == pytest.approx(3.0, rel=1e-6)  # ||(0, 1, 2, 2)||


# --------------------------------------------------- weight fields with known statistics
#
# U (8, 16): eight neurons, each a 4x4 image. X and Y only need the right shapes here.

FIELD_X = np.eye(3, 16)
FIELD_Y = np.zeros((3, 1))
FIELD_V = np.ones((1, 8))
FIELD_W = np.ones((8, 1))
FIELD_A = np.ones(8)


def _field_metrics(U, mask=None, image_shape=None):
    return _run(
        U, FIELD_V, FIELD_W, FIELD_A, FIELD_X, FIELD_Y, 0.0, mask=mask, image_shape=image_shape
    )


def _normal_quantiles(n):
    return stats.norm.ppf((np.arange(n) + 0.5) / n)


def test_homog_ks_quantile_field_zero_field_and_shift():
    N = 8 * 16
    q = _normal_quantiles(N)
    U = np.random.default_rng(0).permutation(q).reshape(8, 16)
    # The ECDF of the exact quantiles is within 1/(2N) of Phi everywhere.
    assert _field_metrics(U)["homog_ks"] <= 0.5 / N + 1e-6
    # All entries 0: the ECDF jumps from 0 to 1 at 0, where Phi = 1/2.
    assert _field_metrics(np.zeros((8, 16)))["homog_ks"] == pytest.approx(0.5, abs=1e-6)
    # Shifted by 1: sup_e |Phi(e - 1) - Phi(e)| = 2 Phi(1/2) - 1, at e = 1/2 (a grid point).
    shifted = _field_metrics(U + 1.0)["homog_ks"]
    assert shifted == pytest.approx(2 * stats.norm.cdf(0.5) - 1, abs=0.5 / N + 1e-6)


def test_ks_from_normal_masks_rows_and_matches_scipy():
    N = 8 * 16
    U = _normal_quantiles(N).reshape(8, 16)
    padded = np.concatenate([U, np.full((3, 16), 9.0)])
    mask = width_mask(8, 11)
    assert float(ks_from_normal(padded, mask)) == pytest.approx(float(ks_from_normal(U)), abs=1e-7)
    # On plain arrays of any shape. The grid value is the sup over 161 points of [-4, 4], so
    # exact - 0.05 phi(0) - Phi(-4) <= grid value <= exact.
    sample = np.random.default_rng(1).standard_normal((50, 40))
    exact = stats.kstest(sample.ravel(), "norm").statistic
    grid = float(ks_from_normal(sample))
    assert exact - 0.05 * stats.norm.pdf(0.0) - stats.norm.cdf(-4.0) <= grid <= exact + 1e-6
    assert float(ks_from_normal(np.zeros(7))) == pytest.approx(0.5, abs=1e-6)


def test_ks_histogram_equals_comparing_every_entry_with_every_grid_point():
    """The cumulative histogram gives exactly the counts of the direct comparison
    ``#{u <= e_k}``, including entries on grid points, outside [-4, 4], inf and NaN."""
    rng = np.random.default_rng(2)
    grid = np.linspace(-4.0, 4.0, 161, dtype=np.float32)
    U = rng.standard_normal((12, 9)).astype(np.float32) * 1.5
    U.flat[:20] = rng.choice(grid, 20)  # exactly on grid points (ties count as <=)
    U.flat[20:24] = [np.inf, -np.inf, np.nan, 7.0]
    mask = (np.arange(12) < 9).astype(np.float32)
    below = (U[:, :, None] <= grid[None, None, :]) * mask[:, None, None]
    ecdf = below.sum(axis=(0, 1)) / (mask.sum() * U.shape[1])
    direct = np.max(np.abs(ecdf - stats.norm.cdf(grid.astype(np.float64))))
    assert float(ks_from_normal(U, mask)) == pytest.approx(direct, abs=1e-6)


def _ramp_rows(R, C):
    return np.repeat(np.arange(R, dtype=np.float64)[:, None], C, axis=1)


def test_spatial_ac_of_ramps_and_checkerboards():
    # A ramp along rows of an R x C image: lag-1 autocorrelation (R - 2)/(R - 1) along the
    # ramp (sum_k t_k t_{k+1} / sum_k t_k^2 = 1 - 3/R, times the pair normalisation R/(R-1)),
    # exactly 1 across it (constant rows); the metric averages the two axes.
    ramp = _ramp_rows(4, 4).ravel()
    # Any positive or negative affine map of the ramp has the same autocorrelation.
    U = np.stack(
        [s * ramp + c for s, c in zip([1, 2, -1, 0.5, 3, -2, 1, 1], range(8), strict=True)]
    )
    want = 0.5 * ((4 - 3) / (4 - 1) + 1.0)  # = (R - 2)/(R - 1) = 2/3
    assert _field_metrics(U)["spatial_ac"] == pytest.approx(want, rel=1e-5)
    assert want == pytest.approx(2 / 3)
    # Seen as a 1-D signal of length L = 16 (image_shape (16,)): (L - 3)/(L - 1).
    ramp16 = np.arange(16.0)
    assert _field_metrics(np.tile(ramp16, (8, 1)), image_shape=(16,))["spatial_ac"] == (
        pytest.approx((16 - 3) / (16 - 1), rel=1e-5)
    )
    # A checkerboard: every neighbour pair has product -1: autocorrelation -1.
    board = (-1.0) ** np.add.outer(np.arange(4), np.arange(4)).ravel()
    assert _field_metrics(np.tile(board, (8, 1)))["spatial_ac"] == pytest.approx(-1.0, rel=1e-5)
    # Masked-out neurons (here: checkerboards) do not enter the mean over neurons.
    U_mixed = np.concatenate([np.tile(ramp, (5, 1)), np.tile(board, (3, 1))])
    out = _field_metrics(U_mixed, mask=width_mask(5, 8))
    assert out["spatial_ac"] == pytest.approx(want, rel=1e-5)


def test_every_metric_has_a_test_here():
    source = inspect.getsource(sys.modules[__name__])
    missing = [name for name in METRIC_NAMES if f'["{name}"] == pytest.approx' not in source]
    assert not missing, missing
    assert metrics.METRIC_NAMES == METRIC_NAMES


# ------------------------------------------------ the function-space criterion (lin_gap)


def _lin_gap_numpy(U, V, U0, V0, X):
    """||f - f_lin|| / ||f - f0|| in closed form: f_lin = f0 + V0 (1{U0 x > 0} * dU x) / s +
    dV relu(U0 x) / s, with s = sqrt(d_out m) (ReLU away from its kink)."""
    s = math.sqrt(V.shape[0] * U.shape[0])
    pre0 = X @ U0.T
    f0 = np.maximum(pre0, 0) @ V0.T / s
    f = np.maximum(X @ U.T, 0) @ V.T / s
    lin = f0 + ((pre0 > 0) * (X @ (U - U0).T)) @ V0.T / s + np.maximum(pre0, 0) @ (V - V0).T / s
    return np.linalg.norm(f - lin) / np.linalg.norm(f - f0)


@pytest.mark.parametrize("M", [2, 4])
def test_lin_gap_closed_form_linear_in_v_and_padding_invariant(M):
    rng = np.random.default_rng(0)
    X = HAND_X
    Y = HAND_Y
    pad = M - 2  # garbage neurons beyond the mask change nothing
    U0 = np.concatenate([HAND_U, 7.0 * np.ones((pad, 2))])
    V0 = np.concatenate([HAND_V, 5.0 * np.ones((1, pad))], axis=1)
    W, a = np.ones((M, 1)), np.ones(M)
    mask = width_mask(2, M) if pad else None
    # Only V moved: the network is linear in V, so it equals its linearisation exactly.
    V = V0 + np.concatenate([[[0.3, -0.2]], np.ones((1, pad))], axis=1)
    out = _run(U0, V, W, a, X, Y, 0.0, U0=U0, V0=V0, W0=W, mask=mask)
    assert out["lin_gap"] == pytest.approx(0.0, abs=1e-6)
    # U moved across the ReLU kink of neuron 0 on x_1 (pre-activation 1 -> -0.5).
    dU = np.array([[-1.5, 0.2], [0.1, 0.3]])
    U = U0 + np.concatenate([dU, rng.normal(size=(pad, 2))])
    want = _lin_gap_numpy(HAND_U + dU, HAND_V, HAND_U, HAND_V, X)
    out = _run(U, V0, W, a, X, Y, 0.0, U0=U0, V0=V0, W0=W, mask=mask)
    assert want > 0.1 and out["lin_gap"] == pytest.approx(want, rel=1e-5)
    # Nothing moved: 0, not 0/0.
    assert _run(U0, V0, W, a, X, Y, 0.0, mask=mask)["lin_gap"] == 0.0


def test_lin_gap_in_a_training_run_starts_at_zero_and_grows_with_the_step():
    """Inside the training scan (padded, vmapped): exactly 0 at step 0, then it grows as the
    activation patterns flip; a wider network stays closer to its linearisation."""
    from prd_jax import grid
    from prd_jax.data import sphere
    from prd_jax.train import TrainConfig

    X, Y = sphere(jax.random.key(0), 8, 4, 1)
    cfg = TrainConfig(steps=40, log_schedule="linear", log_every=10, lr=0.5, critic="frozen")
    res = grid.run_grid(cfg, X, Y, seeds=range(2), widths=(8, 16, 256), lambda_adv=0.0)
    gap = res.metrics["lin_gap"]  # (seeds, widths, L)
    assert np.all(gap[..., 0] == 0.0) and np.all(gap[..., 1:] > 0)
    assert np.all(gap[:, 2, -1] < gap[:, 0, -1])  # m = 256 is lazier than m = 8


def test_host_eigenvalues_have_the_device_jvp_and_nan_for_non_finite_input():
    A = jax.random.normal(jax.random.key(3), (2, 5, 5))
    A = A + jnp.swapaxes(A, -1, -2)
    dA = jax.random.normal(jax.random.key(4), (2, 5, 5))
    dA = dA + jnp.swapaxes(dA, -1, -2)
    w, dw = jax.jvp(metrics.eigvalsh_host, (A,), (dA,))
    w_ref, dw_ref = jax.jvp(jnp.linalg.eigvalsh, (A,), (dA,))
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=1e-4)
    bad = A.at[1, 0, 0].set(jnp.nan)
    w = jax.jit(metrics.eigvalsh_host)(bad)  # not a CpuCallback error
    assert np.isfinite(np.asarray(w[0])).all() and np.isnan(np.asarray(w[1])).all()
