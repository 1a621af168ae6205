"""Precision and backends: the core numbers in float32 and in float64 (``jax.enable_x64``),
the eigenvalue step on each path, and what the sweep says about where and how it runs.

Each numerical check runs twice: float32 (JAX's default) and float64 inside
``jax.enable_x64(True)``. In float64 every array is float64 and the results agree with a
float64 NumPy reference to ~1e-12; in float32 to ~1e-5 (and not to 1e-12: the test tells the
two modes apart, so an x64 run that silently computed in float32 fails).
"""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from experiments import sweep
from prd_jax import metrics
from prd_jax.kernels import h_empirical, h_infinity
from prd_jax.losses import adv_loss, sup_loss
from prd_jax.model import default_float, generator, init, width_mask
from prd_jax.train import TrainConfig, make_train

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
N, D_IN, D_OUT, M = 6, 4, 2, 7


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """The test body runs with x64 off (float32) or inside ``jax.enable_x64(True)``."""
    with jax.enable_x64(request.param == "float64"):
        yield request.param


def _f64(*arrays):
    return [np.asarray(a, np.float64) for a in arrays]


def _close(actual, expected, dtype, what):
    """Agreement at the dtype's tolerance; float32 must also visibly miss float64's."""
    actual = np.asarray(actual)
    assert actual.dtype == np.dtype(dtype), f"{what}: {actual.dtype}, expected {dtype}"
    np.testing.assert_allclose(actual, expected, **TOL[dtype], err_msg=what)
    return float(np.max(np.abs(actual.astype(np.float64) - expected)))


@pytest.fixture
def problem(dtype):
    X, Y = prd_jax.sphere(jax.random.key(0), N, D_IN, D_OUT)
    gen, crit = init(jax.random.key(1), M, D_IN, D_OUT)
    return X, Y, gen, crit


def test_every_parameter_follows_the_default_float_dtype(dtype, problem):
    X, Y, gen, crit = problem
    assert default_float() == np.dtype(dtype)
    arrays = {"X": X, "Y": Y, "U": gen.U, "V": gen.V, "W": crit.W, "a": crit.a}
    arrays["mask"] = width_mask(3, M)
    masked = init(jax.random.key(1), M, D_IN, D_OUT, mask=width_mask(3, M))
    arrays.update(
        zip(("U_masked", "V_masked", "W_masked", "a_masked"), (*masked[0], *masked[1]), strict=True)
    )
    assert {k: str(v.dtype) for k, v in arrays.items()} == dict.fromkeys(arrays, dtype)


def test_generator_losses_and_kernels_match_float64_numpy(dtype, problem):
    X, Y, (U, V), (W, a) = problem
    Xn, Yn, Un, Vn, Wn, an = _f64(X, Y, U, V, W, a)
    h = np.maximum(Xn @ Un.T, 0.0)  # (n, m)
    Z = h @ Vn.T / np.sqrt(D_OUT * M)
    G = Xn @ Xn.T
    r = np.linalg.norm(Xn, axis=1)
    theta = np.arccos(np.clip(G / np.outer(r, r), -1.0, 1.0))
    np.fill_diagonal(theta, 0.0)
    A = (Xn @ Un.T >= 0).astype(np.float64)
    errors = {
        "generator": _close(generator(U, V, X), Z, dtype, "generator"),
        "sup_loss": _close(sup_loss(U, V, X, Y), 0.5 * np.sum((Z - Yn) ** 2), dtype, "sup_loss"),
        "adv_loss": _close(
            adv_loss(U, V, W, a, X),
            sum(an @ np.maximum(Wn @ (Vn @ h[p]), 0.0) for p in range(N)) / (M * np.sqrt(D_OUT)),
            dtype,
            "adv_loss",
        ),
        "h_infinity": _close(h_infinity(X), G * (np.pi - theta) / (2 * np.pi), dtype, "H_inf"),
        "h_empirical": _close(h_empirical(U, X), G * (A @ A.T) / M, dtype, "H(U)"),
    }
    if dtype == "float32":  # rounding is visible: this is not float64 in disguise
        assert max(errors.values()) > 1e-9, errors


def _closed_form_step(X, Y, U, V, W, a, eta, lam):
    """One SGD step on L_aug with a frozen critic, in NumPy float64 (tests/test_train.py):
    dL/du_j = sum_p [(f_p - y_p) - lambda grad g(f_p)] . v_j 1{u_j.x_p > 0} x_p / sqrt(d_out m).
    """
    m, d_out = U.shape[0], V.shape[0]
    pre = X @ U.T
    Z = np.maximum(pre, 0) @ V.T / np.sqrt(d_out * m)
    grad_g = ((Z @ W.T > 0) * a) @ W / np.sqrt(m)
    err = (Z - Y) - lam * grad_g
    return U - eta * ((err @ V) * (pre > 0)).T @ X / np.sqrt(d_out * m)


def test_training_step_and_padding_in_each_precision(dtype):
    """One generator step equals the closed-form step, and a width-5 run padded to 8 neurons
    equals the exact width-5 run, with every output in the run's dtype."""
    X, Y = prd_jax.sphere(jax.random.key(0), N, D_IN, 1)
    exact = TrainConfig(width=5, steps=1, log_schedule="linear", log_every=1, critic="frozen")
    padded = dataclasses.replace(exact, width=8)
    # lr and lambda_adv exact in float32: HParams stores them as float32 (prd_jax/train.py).
    hp = dict(lr=0.25, lambda_adv=0.5, width=5)
    res = jax.jit(make_train(exact))(jax.random.key(9), exact.hparams(**hp), X, Y)
    res_pad = jax.jit(make_train(padded))(jax.random.key(9), padded.hparams(**hp), X, Y)

    leaves = {
        "init": res.init,
        "final": res.final,
        "metrics": res.metrics,
        "padded final": res_pad.final,
        "padded metrics": res_pad.metrics,
    }
    dtypes = {k: {str(leaf.dtype) for leaf in jax.tree.leaves(v)} for k, v in leaves.items()}
    assert dtypes == dict.fromkeys(leaves, {dtype})

    (U, V), (W, a) = res.init
    expected = _closed_form_step(*_f64(X, Y, U, V, W[:, :1], a), eta=0.25, lam=0.5)
    error = _close(res.final[0].U, expected, dtype, "U after one step")
    if dtype == "float32":
        assert error > 1e-10
    _close(res_pad.final[0].U[:5], np.asarray(res.final[0].U, np.float64), dtype, "padded U")
    np.testing.assert_array_equal(res_pad.final[0].U[5:], 0.0)
    for name in ("loss_sup", "loss_adv", "drift_fro", "kernel_dev", "lambda_min", "homog_ks"):
        expected = np.asarray(res.metrics[name], np.float64)
        _close(res_pad.metrics[name], expected, dtype, f"padded {name}")


# ------------------------------------------------------------------ eigenvalues, per backend


def _symmetric(batch=()):
    B = np.random.default_rng(0).normal(size=(*batch, 5, 5))
    return B + np.swapaxes(B, -1, -2)


def test_eigenvalue_paths_agree_on_cpu(dtype):
    A = _symmetric()
    expected = np.linalg.eigvalsh(A.astype(dtype).astype(np.float64))
    host = jax.jit(metrics.eigvalsh_host)(jnp.asarray(A))
    device = metrics.eigvalsh_device(jnp.asarray(A))  # unbatched, not under vmap
    _close(host, expected, dtype, "host eigenvalues")
    _close(device, expected, dtype, "device eigenvalues")
    # Batched under vmap, where the float64 result crosses to the host as uint32 pairs.
    batch = _symmetric((3,))
    _close(
        jax.jit(jax.vmap(metrics.eigvalsh_host))(jnp.asarray(batch)),
        np.linalg.eigvalsh(batch.astype(dtype).astype(np.float64)),
        dtype,
        "vmapped host eigenvalues",
    )


def _program(A) -> str:
    """The traced program of ``metrics.eigvalsh`` (a new function each time: jit's trace
    cache would otherwise keep the path chosen at the first trace)."""
    return str(jax.make_jaxpr(lambda A: metrics.eigvalsh(A))(A))


def test_cpu_default_is_the_host_callback_and_the_override_switches(monkeypatch):
    A = jnp.asarray(_symmetric(), jnp.float32)
    monkeypatch.delenv(metrics.EIGH_ENV, raising=False)
    assert jax.default_backend() == "cpu"
    assert metrics.eigh_mode() == "host"
    assert "pure_callback" in _program(A) and "eigh" not in _program(A)
    monkeypatch.setenv(metrics.EIGH_ENV, "device")
    assert metrics.eigh_mode() == "device"
    assert "pure_callback" not in _program(A) and "eigh" in _program(A)
    monkeypatch.setenv(metrics.EIGH_ENV, " Host ")
    assert metrics.eigh_mode() == "host"
    monkeypatch.setenv(metrics.EIGH_ENV, "gpu")
    with pytest.raises(ValueError, match=r"\$PRD_EIGH must be one of auto, host, device"):
        metrics.eigh_mode()


def test_backend_decides_when_unset(monkeypatch):
    monkeypatch.setenv(metrics.EIGH_ENV, "auto")
    for backend, mode in (("cpu", "host"), ("gpu", "device"), ("tpu", "device")):
        monkeypatch.setattr(jax, "default_backend", lambda b=backend: b)
        assert metrics.eigh_mode() == mode, backend


# ------------------------------------------------------------------ the sweep's start


def test_large_sweeps_warn_on_cpu_only(capsys):
    assert sweep.warn_if_large_on_cpu(sweep.PRESETS["paper"], "cpu")
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and line.startswith("warning: this sweep is ~")
    assert "pip install -e '.[cuda]'" in line and "'.[tpu]'" in line
    assert not sweep.warn_if_large_on_cpu(sweep.PRESETS["paper"], "gpu")
    for preset in ("quick", "tiny"):
        assert not sweep.warn_if_large_on_cpu(sweep.PRESETS[preset], "cpu"), preset
    assert capsys.readouterr().err == ""
    ratio = sweep.work_estimate(sweep.PRESETS["paper"]) / sweep.work_estimate(
        sweep.PRESETS["quick"]
    )
    assert 300 < ratio < 3000  # the paper preset: ~1000x the quick preset


def test_paper_preset_on_cpu_warns_before_any_work(tmp_path, capsys):
    """The warning comes before the grid is checked: here the memory check then refuses."""
    cfg = dataclasses.replace(sweep.PRESETS["paper"], max_memory_gb=1e-6)
    with pytest.raises(prd_jax.results.ResultsError, match="max_memory_gb"):
        sweep.run(cfg, tmp_path / "out", log=print)
    captured = capsys.readouterr()
    assert captured.err.startswith("warning: this sweep is ~")
    assert "sweep:" not in captured.out  # refused before the start line and any training
    assert not (tmp_path / "out").exists()


def test_x64_sweep_is_float64_throughout(tmp_path):
    cfg = dataclasses.replace(
        sweep.PRESETS["tiny"],
        widths=(2, 4),
        seeds=1,
        lambda_adv=(1.0,),
        train=TrainConfig(steps=2, log_schedule="linear", log_every=1, critic="frozen"),
        bootstrap=5,
        x64=True,
        search=False,  # the fixed grid: one bucket to inspect
    )
    lines = []
    sweep.run(cfg, tmp_path, log=lines.append)
    assert lines[0].endswith("1 cpu device(s) (cpu), float64"), lines[0]
    assert default_float() == np.float32  # the x64 context ended with the run
    (bucket,) = tmp_path.glob("bucket_*.npz")
    with np.load(bucket) as saved:
        floats = {k: str(saved[k].dtype) for k in saved.files if saved[k].dtype.kind == "f"}
    assert floats and set(floats.values()) == {"float64"}, floats
    assert json.loads((tmp_path / "config.json").read_text())["config"]["x64"] is True


def test_x64_must_be_a_bool():
    with pytest.raises(ValueError, match="SweepConfig.x64 must be true or false"):
        dataclasses.replace(sweep.PRESETS["tiny"], x64="yes")


def test_hparams_follow_the_precision(dtype):
    from prd_jax.train import TrainConfig

    hp = TrainConfig().hparams(lr=0.1, lambda_adv=[0.0, 1.0])
    want = np.float64 if dtype == "float64" else np.float32
    assert hp.lr.dtype == hp.critic_lr.dtype == hp.lambda_adv.dtype == want
    assert hp.width.dtype == np.int32
