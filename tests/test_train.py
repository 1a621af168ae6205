"""Training engine: config validation, compile-once batches, padding, divergence, determinism."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from prd_jax.metrics import METRIC_NAMES
from prd_jax.train import TrainConfig, make_train

CFG = TrainConfig(width=32, steps=40, log_schedule="linear", log_every=10, lr=0.2)


@pytest.fixture(scope="module")
def data():
    return prd_jax.sphere(jax.random.key(0), 6, 4, 1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("width", 0),
        ("width", 2.5),
        ("steps", -1),
        ("log_every", 0),
        ("logs_per_decade", 0),
        ("n_critic", 0),
        ("optimizer", "rmsprop"),
        ("critic_optimizer", "lbfgs"),
        ("critic", "gan"),
        ("log_schedule", "cubic"),
        ("lr", 0.0),
        ("lr", -1.0),
        ("lr", float("nan")),
        ("critic_lr", 0.0),
        ("divergence_ratio", 0.0),
        ("lambda_adv", -1.0),
        ("gp_weight", -0.1),
        ("critic_radius", 0.0),
        ("train_v", 1),
        ("freeze_a", "no"),
        ("image_shape", (0, 4)),
    ],
)
def test_config_validation_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        TrainConfig(**{field: value})


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"lr": 0.0}, "lr"),
        ({"critic_lr": -1.0}, "critic_lr"),
        ({"lambda_adv": -0.5}, "lambda_adv"),
        ({"width": 0}, "width"),
        ({"width": 33}, "width"),
        ({"width": 3.5}, "width"),
    ],
)
def test_hparams_validation_names_the_field(overrides, field):
    with pytest.raises(ValueError, match=f"HParams.{field}"):
        CFG.hparams(**overrides)
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        CFG.hparams(learning_rate=0.1)


def test_log_steps():
    assert CFG.log_steps() == (0, 10, 20, 30, 40)
    # Geometric, 9 points per decade: 1..9, 10..90, then 100, 200 and the horizon.
    geo = TrainConfig(steps=250).log_steps()
    assert geo == (0, *range(1, 10), *range(10, 100, 10), 100, 200, 250)
    # Spacing scale * 10 // (logs_per_decade + 1): two points per decade for 1.
    assert TrainConfig(steps=1000, logs_per_decade=1).log_steps() == (
        0,
        1,
        6,
        10,
        60,
        100,
        600,
        1000,
    )


def test_result_shapes_and_metrics(data):
    X, Y = data
    res = jax.jit(make_train(CFG))(jax.random.key(1), CFG.hparams(), X, Y)
    assert set(res.metrics) == set(METRIC_NAMES)
    for name, values in res.metrics.items():
        assert values.shape == (5,), name
        assert np.all(np.isfinite(values)), name
    assert not bool(res.diverged) and int(res.steps_taken) == 40
    m = res.metrics
    assert m["drift_max"][0] == 0 and m["kernel_dev"][0] == 0 and m["flip_frac"][0] == 0
    assert m["loss_sup"][-1] < m["loss_sup"][0]
    # U-only setting: V never moves.
    np.testing.assert_array_equal(res.final[0].V, res.init[0].V)


def _batched(cfg, n):
    train = make_train(cfg)
    return jax.jit(jax.vmap(train, in_axes=(0, 0, None, None))), train


def test_compiles_once_for_a_batch_of_seeds_and_lambdas(data):
    X, Y = data
    train = chex.assert_max_traces(make_train(CFG), n=1)  # a second trace raises
    batched = jax.jit(jax.vmap(train, in_axes=(0, 0, None, None)))
    keys = jax.random.split(jax.random.key(2), 4)
    for lambdas in ([0.0, 1.0, 0.0, 1.0], [0.5, 0.1, 2.0, 0.0]):
        hp = CFG.hparams(
            lambda_adv=np.array(lambdas),
            lr=np.full(4, 0.2),
            critic_lr=np.full(4, 1e-3),
            width=np.array([32, 16, 8, 32]),
        )
        batched(keys, hp, X, Y)
    with pytest.raises(AssertionError, match="traced > 1"):  # the check itself can fail
        batched(keys, hp, X, Y[:, :0])  # another shape must retrace


@pytest.mark.parametrize("critic", ["wgan_gp", "frozen"])
def test_run_in_vmapped_batch_equals_run_alone(data, critic):
    X, Y = data
    cfg = dataclasses.replace(CFG, critic=critic, train_v=True)
    keys = jax.random.split(jax.random.key(3), 3)
    hp = cfg.hparams(
        lambda_adv=np.array([0.0, 1.0, 0.5]),
        lr=np.full(3, 0.2),
        critic_lr=np.full(3, 1e-2),
        width=np.full(3, 32),
    )
    batched, train = _batched(cfg, 3)
    batch = batched(keys, hp, X, Y)
    alone = jax.jit(train)(keys[1], cfg.hparams(lambda_adv=1.0, critic_lr=1e-2), X, Y)
    for name in METRIC_NAMES:
        np.testing.assert_allclose(
            batch.metrics[name][1], alone.metrics[name], rtol=2e-4, atol=1e-5, err_msg=name
        )


@pytest.mark.parametrize("critic", ["wgan_gp", "frozen"])
def test_padded_run_equals_exact_width_run(data, critic):
    X, Y = data
    m = 12
    exact_cfg = dataclasses.replace(CFG, width=m, critic=critic, train_v=True)
    padded_cfg = dataclasses.replace(exact_cfg, width=32)
    key = jax.random.key(4)
    exact = jax.jit(make_train(exact_cfg))(key, exact_cfg.hparams(), X, Y)
    padded = jax.jit(make_train(padded_cfg))(key, padded_cfg.hparams(width=m), X, Y)
    for name in METRIC_NAMES:
        np.testing.assert_allclose(
            padded.metrics[name], exact.metrics[name], rtol=2e-4, atol=1e-5, err_msg=name
        )
    (U, V), (W, a) = padded.final
    assert float(jnp.abs(U[m:]).sum() + jnp.abs(V[:, m:]).sum()) == 0.0
    assert float(jnp.abs(W[m:]).sum() + jnp.abs(a[m:]).sum()) == 0.0
    np.testing.assert_allclose(U[:m], exact.final[0].U, rtol=1e-4, atol=1e-5)


def test_same_seed_same_numbers(data):
    X, Y = data
    train = jax.jit(make_train(CFG))
    a = train(jax.random.key(5), CFG.hparams(), X, Y)
    b = train(jax.random.key(5), CFG.hparams(), X, Y)
    for name in METRIC_NAMES:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])


def test_divergence_is_flagged_per_run_without_leaking(data):
    X, Y = data
    cfg = dataclasses.replace(CFG, critic="frozen", lambda_adv=0.0)
    safe = prd_jax.suggest_lr(X, d_out=1)
    lrs = np.array([safe, 200.0 * safe, safe], np.float32)
    keys = jnp.stack([jax.random.key(6)] * 3)
    hp = cfg.hparams(
        lr=lrs, critic_lr=np.full(3, 1e-3), lambda_adv=np.zeros(3), width=np.full(3, 32)
    )
    batched, train = _batched(cfg, 3)
    res = batched(keys, hp, X, Y)
    np.testing.assert_array_equal(res.diverged, [False, True, False])
    assert int(res.steps_taken[1]) < cfg.steps
    for name in METRIC_NAMES:
        assert np.all(np.isfinite(np.asarray(res.metrics[name])[[0, 2]])), name
    np.testing.assert_array_equal(res.metrics["loss_sup"][0], res.metrics["loss_sup"][2])
    # The diverged run is frozen: its weights stop changing once flagged.
    last = res.metrics["drift_fro"][1]
    assert np.all(last[-2:] == last[-1])


def test_adam_and_critic_projection(data):
    X, Y = data
    cfg = dataclasses.replace(CFG, optimizer="adam", lr=1e-2, critic_radius=0.5)
    res = jax.jit(make_train(cfg))(jax.random.key(7), cfg.hparams(), X, Y)
    assert np.all(res.metrics["critic_norm"] <= 0.5 + 1e-5)
    assert res.metrics["loss_sup"][-1] < res.metrics["loss_sup"][0]


def test_frozen_critic_stays_fixed_and_wgan_critic_moves(data):
    X, Y = data
    frozen = dataclasses.replace(CFG, critic="frozen")
    res = jax.jit(make_train(frozen))(jax.random.key(8), frozen.hparams(), X, Y)
    assert np.all(res.metrics["critic_drift"] == 0)
    trained = dataclasses.replace(CFG, critic="wgan_gp", critic_lr=1e-2)
    res = jax.jit(make_train(trained))(jax.random.key(8), trained.hparams(), X, Y)
    assert res.metrics["critic_drift"][-1] > 0
    frozen_a = dataclasses.replace(trained, freeze_a=True)
    res = jax.jit(make_train(frozen_a))(jax.random.key(8), frozen_a.hparams(), X, Y)
    np.testing.assert_array_equal(res.final[1].a, res.init[1].a)


def test_one_step_regression_pin():
    """One generator step (plus one WGAN-GP critic step) of a fixed tiny config, float32.

    Pinned from this implementation (the numbers were identical before and after the critics
    became (init, update) pairs); rtol 1e-5 allows float32 reassociation, nothing more.
    """
    X, Y = prd_jax.sphere(jax.random.key(0), 4, 3, 2)
    cfg = TrainConfig(
        width=6, steps=1, log_schedule="linear", log_every=1, train_v=True, critic_lr=0.2, lr=0.5
    )
    m = jax.jit(make_train(cfg))(jax.random.key(7), cfg.hparams(), X, Y).metrics
    pinned = {
        "loss_sup": [4.2190657, 1.9372734],
        "loss_adv": [0.88653964, 2.6883693],
        "drift_fro": [0.0, 1.110118],
        "critic_norm": [3.185098, 3.2797377],
        "kernel_dev": [0.0, 0.2661174],
    }
    for name, values in pinned.items():
        np.testing.assert_allclose(m[name], values, rtol=1e-5, atol=1e-7, err_msg=name)


def test_one_step_equals_the_closed_form_gradient_step(data):
    """With a frozen critic and SGD, one step is U - eta dL_aug/dU, written out in NumPy:
    dL/du_j = sum_p [(f_p - y_p) - lambda grad g(f_p)] . v_j 1{u_j.x_p > 0} x_p / sqrt(d_out m).
    """
    X, Y = (np.asarray(a, np.float64) for a in data)
    cfg = dataclasses.replace(CFG, width=5, steps=1, log_every=1, critic="frozen")
    eta, lam = 0.3, 0.7
    res = jax.jit(make_train(cfg))(jax.random.key(9), cfg.hparams(lr=eta, lambda_adv=lam), X, Y)
    (U, V), (W, a) = (np.asarray(t, np.float64) for t in res.init[0]), res.init[1]
    W, a = np.asarray(W, np.float64), np.asarray(a, np.float64)
    m, d_out = U.shape[0], V.shape[0]
    pre = X @ U.T  # (n, m)
    Z = np.maximum(pre, 0) @ V.T / np.sqrt(d_out * m)
    grad_g = ((Z @ W.T > 0) * a) @ W / np.sqrt(m)  # (n, d_out)
    err = (Z - Y) - lam * grad_g
    dU = ((err @ V) * (pre > 0)).T @ X / np.sqrt(d_out * m)
    np.testing.assert_allclose(res.final[0].U, U - eta * dU, rtol=1e-5, atol=1e-6)


def test_given_initial_weights_give_the_same_run(data):
    """``train(key, hp, X, Y, params0=init_params(key, ...))`` is the run ``train`` draws
    itself (the grid engine draws every seed's weights once per grid)."""
    from prd_jax.train import init_params

    X, Y = data
    cfg = dataclasses.replace(CFG, train_v=True)
    train = jax.jit(make_train(cfg))
    key, hp = jax.random.key(11), cfg.hparams(width=20)
    drawn = train(key, hp, X, Y)
    given = train(key, hp, X, Y, init_params(key, cfg.width, X.shape[1], Y.shape[1]))
    for name in METRIC_NAMES:
        np.testing.assert_array_equal(given.metrics[name], drawn.metrics[name], err_msg=name)
    # Nested: a wider draw's first neurons are the same weights.
    wide = init_params(key, 64, X.shape[1], Y.shape[1])
    np.testing.assert_array_equal(wide[0].U[:20], drawn.init[0].U[:20])  # run width 20
    with pytest.raises(ValueError, match="params0 U has shape"):
        make_train(cfg)(key, hp, X, Y, init_params(key, 16, X.shape[1], Y.shape[1]))


def test_scalar_critic_factorisation_matches_the_dense_form():
    """For d_out = 1 the critic and its input gradient are computed from two sums over
    neurons; the values and every gradient equal the (n, m) form written out here."""
    from prd_jax.losses import critic, critic_input_grad, wgan_gp_loss

    k = jax.random.split(jax.random.key(12), 4)
    W = jax.random.normal(k[0], (9, 1)).at[3, 0].set(0.0)  # a unit exactly at the kink
    a = jax.random.rademacher(k[1], (9,), dtype=jnp.float32)
    Z = jax.random.normal(k[2], (7, 1)).at[0, 0].set(0.0)
    mask = width_mask_of(9, 7)

    def dense(W, a, Z):
        return jax.nn.relu(Z @ W.T) @ (a * mask) / jnp.sqrt(jnp.sum(mask))

    def dense_grad(W, a, Z):
        active = (Z @ W.T > 0).astype(W.dtype)
        return (active * (a * mask)[None, :]) @ W / jnp.sqrt(jnp.sum(mask))

    np.testing.assert_allclose(critic(W, a, Z, mask), dense(W, a, Z), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        critic_input_grad(W, a, Z, mask), dense_grad(W, a, Z), rtol=1e-6, atol=1e-7
    )
    for argnum in range(3):  # gradients in W, a and z, as autodiff takes them
        got = jax.grad(lambda *p: jnp.sum(critic(*p, mask)), argnum)(W, a, Z)
        want = jax.grad(lambda *p: jnp.sum(dense(*p)), argnum)(W, a, Z)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

    def dense_wgan_gp(W, a, Z, Yr, key):  # losses.wgan_gp_loss with the (n, m) forms
        eps = jax.random.uniform(key, (Z.shape[0], 1), dtype=Z.dtype)
        g = dense_grad(W, a, eps * Yr + (1.0 - eps) * Z)
        penalty = jnp.mean(jnp.square(jnp.sqrt(jnp.sum(jnp.square(g), axis=1) + 1e-12) - 1.0))
        return -(jnp.mean(dense(W, a, Yr)) - jnp.mean(dense(W, a, Z))) + 10.0 * penalty

    Yr = jax.random.normal(k[3], (7, 1))
    got = jax.grad(wgan_gp_loss, (0, 1))(W, a, Z, Yr, k[3], 10.0, mask)
    want = jax.grad(dense_wgan_gp, (0, 1))(W, a, Z, Yr, k[3])
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def width_mask_of(M, m):
    return (jnp.arange(M) < m).astype(jnp.float32)


# ----------------------------------------------------------------------------- transformations


def test_validation_lets_traced_values_through_jit_vmap_and_grad(data):
    """hparams, gram_spectrum and suggest_lr on traced values: checks apply to concrete
    values only, so a jitted run may build its own hyper-parameters and step size."""
    X, Y = data
    cfg = dataclasses.replace(CFG, width=8, steps=3, log_every=1)
    lr = jax.jit(lambda x: cfg.hparams(lr=x, width=jnp.int32(4)).lr)(0.25)
    assert float(lr) == 0.25
    assert jax.vmap(lambda x: cfg.hparams(lr=x).lr)(jnp.array([0.1, 0.2])).shape == (2,)
    assert float(jax.grad(lambda x: 2.0 * cfg.hparams(lambda_adv=x).lambda_adv)(1.0)) == 2.0
    # Host float64 functions run through a callback under jit (and vmap), same numbers.
    spec, traced = prd_jax.gram_spectrum(X), jax.jit(prd_jax.gram_spectrum)(X)
    np.testing.assert_allclose([float(v) for v in traced], list(spec), rtol=1e-6)
    eta = prd_jax.suggest_lr(X, 1)
    np.testing.assert_allclose(float(jax.jit(prd_jax.suggest_lr)(X)), eta, rtol=1e-6)
    batch = jax.vmap(prd_jax.suggest_lr)(jnp.stack([X, 2.0 * X]))  # H-inf scales as |x|^2
    np.testing.assert_allclose(np.asarray(batch), [eta, eta / 4], rtol=1e-6)

    def run(x, lr=None):  # a jitted run that picks its own step size from its data
        hp = cfg.hparams(lr=prd_jax.suggest_lr(x, 1) if lr is None else lr)
        return make_train(cfg)(jax.random.key(0), hp, x, Y).metrics["loss_sup"]

    np.testing.assert_allclose(jax.jit(run)(X), jax.jit(run)(X, eta), rtol=1e-5, atol=1e-6)


def test_forward_mode_differentiates_a_run_and_grad_says_why_it_cannot(data):
    """jax.jvp through a whole run works on CPU (the host eigenvalue callback has a JVP);
    reverse mode stops at the log blocks' fori_loop, whose trip count is traced: JAX's own
    one-line error, documented (docs/when_things_go_wrong.md)."""
    X, Y = data
    cfg = dataclasses.replace(CFG, width=8, steps=3, log_every=1)
    train = make_train(cfg)

    def final(x):
        metrics = train(jax.random.key(1), cfg.hparams(lr=0.1), x, Y).metrics
        return jnp.stack([metrics["loss_sup"][-1], metrics["kernel_dev"][-1]])

    dX = 1e-3 * jnp.cos(jnp.arange(X.size, dtype=X.dtype)).reshape(X.shape)
    jvp = jax.jit(lambda x: jax.jvp(final, (x,), (dX,)))  # one compiled program, three calls
    _, tangent = jvp(X)
    fd = (jvp(X + dX)[0] - jvp(X - dX)[0]) / 2
    np.testing.assert_allclose(np.asarray(tangent), np.asarray(fd), rtol=2e-2, atol=1e-6)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.grad(lambda x: final(x)[0])(X)
