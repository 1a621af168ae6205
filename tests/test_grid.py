"""The grid engine: padded buckets equal exact runs, one compile per bucket, labelled arrays,
resume through a cache, sharding over devices."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import prd_jax
from prd_jax import grid
from prd_jax.metrics import METRIC_NAMES
from prd_jax.train import TrainConfig, make_train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = TrainConfig(steps=20, log_schedule="linear", log_every=5, train_v=True)


def _data():
    return prd_jax.sphere(jax.random.key(1234), 6, 4, 2)


@pytest.fixture(scope="module")
def result():
    X, Y = _data()
    return grid.run_grid(
        CFG, X, Y, seeds=[0, 3], widths=(8, 4, 16), lambda_adv=(0.0, 1.0), lr=0.3, weights=True
    )


def test_buckets_and_padding_overhead():
    assert grid.make_buckets((16, 32, 64, 128, 256), 2.0) == [(16, 32), (64, 128), (256,)]
    assert grid.make_buckets((256, 16), 1.0) == [(16,), (256,)]
    b = grid.make_buckets((16, 32, 64, 128, 256), 2.0)
    assert grid.padding_overhead(b) == pytest.approx((64 + 256 + 256) / (16 + 32 + 64 + 128 + 256))
    assert grid.padding_overhead([(8,), (16,)]) == 1.0


def test_labelled_axes_in_fixed_order(result):
    assert result.dims == ("seed", "width", "lambda_adv")
    np.testing.assert_array_equal(result.coords["width"], [8, 4, 16])  # the caller's order
    assert result.shape == (2, 3, 2)
    L = len(CFG.log_steps())
    for name in METRIC_NAMES:
        assert result.metrics[name].shape == (2, 3, 2, L), name
    assert result.diverged.shape == result.steps_taken.shape == (2, 3, 2)
    assert result.weights["U"].shape == (2, 3, 2, 16, 4)
    assert result.buckets == ((4, 8), (16,)) and result.compiles == 2


def test_each_run_equals_the_run_alone_at_exact_width(result):
    X, Y = _data()
    for seed, width, lam in ((3, 4, 1.0), (0, 8, 0.0), (3, 16, 1.0)):
        cfg = TrainConfig(**{**CFG.__dict__, "width": width})
        alone = jax.jit(make_train(cfg))(
            jax.random.key(seed), cfg.hparams(lr=0.3, lambda_adv=lam), X, Y
        )
        run = result.sel(seed=seed, width=width, lambda_adv=lam)
        assert run.dims == ()
        for name in METRIC_NAMES:
            np.testing.assert_allclose(
                run.metrics[name], alone.metrics[name], rtol=2e-4, atol=1e-5, err_msg=name
            )
        np.testing.assert_allclose(run.weights["U"][:width], alone.final[0].U, rtol=1e-4, atol=1e-5)
        assert np.all(run.weights["U"][width:] == 0) and np.all(run.weights["V"][:, width:] == 0)
        assert int(run.steps_taken) == CFG.steps and not bool(run.diverged)


def test_sel_keeps_list_axes_and_names_missing_values(result):
    sub = result.sel(width=[16, 4], lambda_adv=1.0)
    assert sub.dims == ("seed", "width")
    np.testing.assert_array_equal(sub.coords["width"], [16, 4])
    np.testing.assert_array_equal(
        sub.metrics["loss_sup"][:, 1], result.metrics["loss_sup"][:, 1, 1]
    )
    with pytest.raises(KeyError, match="width=5"):
        result.sel(width=5)
    with pytest.raises(KeyError, match="no axis"):
        result.sel(critic_lr=1e-3)
    flat = result.flat()
    assert flat["run_width"].shape == (12,) and flat["loss_sup"].shape == (
        12,
        result.log_steps.size,
    )
    np.testing.assert_array_equal(flat["run_seed"][:6], 0)


def test_bad_axes_are_refused_with_the_reason():
    X, Y = _data()
    with pytest.raises(ValueError, match="unknown axis"):
        grid.run_grid(CFG, X, Y, seeds=[0], widths=[4], temperature=(1.0,))
    with pytest.raises(ValueError, match="widths must be positive"):
        grid.run_grid(CFG, X, Y, seeds=[0], widths=[0, 4])
    with pytest.raises(ValueError, match="duplicate"):
        grid.run_grid(CFG, X, Y, seeds=[0, 0], widths=[4])
    with pytest.raises(ValueError, match="HParams.lr"):
        grid.run_grid(CFG, X, Y, seeds=[0], widths=[4], lr=(0.1, -1.0))


def test_cache_resumes_without_recomputing_and_never_mixes_configs():
    X, Y = _data()
    cache = grid.MemoryCache()
    kw = dict(seeds=[0], widths=(4, 16), lambda_adv=(0.0, 1.0), lr=0.3, cache=cache)
    first = grid.run_grid(CFG, X, Y, **kw)
    assert len(cache) == 2 and first.cached == 0
    again = grid.run_grid(CFG, X, Y, **kw)
    assert again.cached == 2 and again.compiles == 0
    for name in METRIC_NAMES:
        np.testing.assert_array_equal(again.metrics[name], first.metrics[name])
    # Another config, other data or another grid are other keys, never a stale reuse.
    other = grid.run_grid(TrainConfig(**{**CFG.__dict__, "steps": 10}), X, Y, **kw)
    assert other.cached == 0 and len(cache) == 4
    assert grid.run_grid(CFG, X + 0.0, Y * 2.0, **kw).cached == 0
    assert grid.run_grid(CFG, X, Y, **{**kw, "lr": 0.2}).cached == 0


def test_progress_reports_every_bucket():
    X, Y = _data()
    seen = []
    grid.run_grid(CFG, X, Y, seeds=[0], widths=(4, 16), progress=seen.append)
    assert [s["bucket"] for s in seen] == [1, 2] and seen[1]["widths"] == [16]
    assert all(s["runs"] == 1 and s["diverged"] == 0 for s in seen)


FOUR_DEVICES = """
import sys, numpy as np, jax
sys.path.insert(0, {root!r})
from prd_jax import grid
from tests.test_grid import CFG, _data
assert len(jax.devices()) == {n}, jax.devices()
X, Y = _data()
r = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8), lambda_adv=(0.0, 1.0), lr=0.3)
np.savez({path!r}, **r.metrics, diverged=r.diverged)
"""


def test_four_devices_give_the_same_results_as_one(tmp_path):
    results = {}
    for n in (1, 4):
        path = str(tmp_path / f"dev{n}.npz")
        env = dict(
            os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n}", JAX_PLATFORMS="cpu"
        )
        code = FOUR_DEVICES.format(root=ROOT, n=n, path=path)
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
        with np.load(path) as z:
            results[n] = {k: z[k] for k in z.files}
    assert results[4]["loss_sup"].shape[:3] == (2, 2, 2)  # 8 runs over 4 devices
    for k in results[1]:
        np.testing.assert_allclose(results[4][k], results[1][k], rtol=1e-5, atol=1e-6, err_msg=k)
