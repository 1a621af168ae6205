"""The width sweep: padded buckets equal exact runs, one compile per bucket, sharding,
threshold estimation, resume, and the CLI end to end."""

import dataclasses
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import prd_jax
from prd_jax import sweep
from prd_jax.metrics import METRIC_NAMES
from prd_jax.results import ResultsError
from prd_jax.train import TrainConfig, make_train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = sweep.SweepConfig(
    widths=(4, 8, 16),
    seeds=2,
    lambda_adv=(0.0, 1.0),
    n=6,
    d_in=4,
    d_out=1,
    train=TrainConfig(steps=20, log_schedule="linear", log_every=5, critic="wgan_gp"),
    bootstrap=50,
)


def _data(cfg):
    return prd_jax.sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out)


def test_buckets_and_padding_overhead():
    assert sweep.make_buckets((16, 32, 64, 128, 256), 2.0) == [(16, 32), (64, 128), (256,)]
    assert sweep.make_buckets((256, 16), 1.0) == [(16,), (256,)]
    b = sweep.make_buckets((16, 32, 64, 128, 256), 2.0)
    assert sweep.padding_overhead(b) == pytest.approx((64 + 256 + 256) / (16 + 32 + 64 + 128 + 256))
    assert sweep.padding_overhead([(8,), (16,)]) == 1.0


def test_bucketed_run_equals_run_alone_at_exact_width():
    X, Y = _data(TINY)
    lr = 0.3
    arrays = sweep.run_bucket(TINY, (4, 8), X, Y, (lr,))
    for i in np.nonzero((arrays["run_width"] == 4) & (arrays["run_lambda_adv"] == 1.0))[0]:
        cfg = dataclasses.replace(TINY.train, width=4)
        seed = int(arrays["run_seed"][i])
        alone = jax.jit(make_train(cfg))(
            jax.random.key(seed), cfg.hparams(lr=lr, lambda_adv=1.0), X, Y
        )
        for name in METRIC_NAMES:
            np.testing.assert_allclose(
                arrays[name][i], alone.metrics[name], rtol=2e-4, atol=1e-5, err_msg=name
            )


def test_threshold_estimator_recovers_a_known_threshold():
    rng = np.random.default_rng(0)
    widths = 2 ** np.arange(4, 13)
    m_true = 300.0
    seeds = np.arange(40)
    w, s = np.meshgrid(widths, seeds, indexing="ij")
    w, s = w.ravel(), s.ravel()
    p_broken = 1 / (1 + np.exp(4 * (np.log(w) - np.log(m_true))))  # 1/2 at m_true
    broken = rng.uniform(size=w.shape) < p_broken
    m_star, (lo, hi) = sweep.estimate_threshold(w, s, broken, n_boot=400, rng=rng)
    assert lo <= m_true <= hi
    assert abs(np.log(m_star / m_true)) < np.log(1.5)
    # Edge cases: nothing holds, everything holds.
    assert sweep.threshold_width([16, 32], [1.0, 0.75]) == np.inf
    assert sweep.threshold_width([16, 32], [0.0, 0.0]) == 16


def test_breakdown_steps_and_power_law_fit():
    vals = np.array([[0.0, 0.1, 0.3, 0.2], [0.0, 0.0, 0.1, 0.1]])
    np.testing.assert_array_equal(sweep.breakdown_steps(vals, [0, 10, 20, 30], 0.15), [20, np.inf])
    x = np.array([16.0, 64, 256, 1024])
    fit = sweep.fit_power_law(x, 3 * x**-0.5, n_boot=100)
    assert fit["exponent"] == pytest.approx(-0.5, abs=1e-9)
    assert fit["prefactor"] == pytest.approx(3.0)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    summary = sweep.run_sweep(TINY, out, log=lambda *_: None)
    return out, summary


def test_compile_count_equals_bucket_count(finished):
    _, summary = finished
    assert summary["compiles"] == len(sweep.make_buckets(TINY.widths, TINY.bucket_ratio)) == 2


def test_summary_has_the_promised_fields(finished):
    out, summary = finished
    on_disk = json.loads((out / "summary.json").read_text())
    for mode in ("supervised", "adversarial"):
        assert "m_star" in on_disk["threshold"][mode] and "ci" in on_disk["threshold"][mode]
        assert mode in on_disk["drift_exponent"]
    for key in ("lambda0", "criterion", "compiles", "wall_seconds", "runs"):
        assert key in on_disk
    assert len(on_disk["runs"]) == 3 * 2 * 2
    rec = on_disk["runs"][0]
    for key in (
        "width",
        "seed",
        "lambda_adv",
        "breakdown_time",
        "diverged",
        "final_loss_sup",
        "final_drift_max",
    ):
        assert key in rec
    for fig in on_disk["figures"]:
        assert (out / fig).stat().st_size > 1000
    cfg = json.loads((out / "config.json").read_text())
    assert sweep.SweepConfig.from_json(cfg["config"]) == TINY
    assert cfg["provenance"]["jax_version"] == jax.__version__


def test_resume_recomputes_only_the_missing_bucket(finished, tmp_path, monkeypatch):
    _, full = finished
    calls = []
    real = sweep.run_bucket

    def interrupted(cfg, bucket, *args, **kw):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C during the second bucket
        calls.append(bucket)
        return real(cfg, bucket, *args, **kw)

    monkeypatch.setattr(sweep, "run_bucket", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(TINY, tmp_path, log=lambda *_: None)
    assert len(list(tmp_path.glob("bucket_*.npz"))) == 1  # the finished bucket is kept
    monkeypatch.setattr(sweep, "run_bucket", real)
    with pytest.raises(ResultsError, match="--resume"):
        sweep.run_sweep(TINY, tmp_path, log=lambda *_: None)
    resumed = sweep.run_sweep(TINY, tmp_path, resume=True, log=lambda *_: None)
    assert resumed["compiles"] == 1
    for key in ("threshold", "drift_exponent", "runs", "threshold_vs_horizon"):
        assert resumed[key] == full[key], key


def test_different_config_is_refused_and_corrupt_bucket_recomputed(finished, tmp_path):
    out, _ = finished
    other = dataclasses.replace(TINY, seeds=3)
    with pytest.raises(ResultsError, match="differs in: seeds"):
        sweep.run_sweep(other, out, resume=True, log=lambda *_: None)
    # A corrupt bucket file is moved aside (not deleted) and recomputed on resume.
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in out.iterdir():
        if f.suffix in (".json", ".npz"):
            (copy / f.name).write_bytes(f.read_bytes())
    victim = sorted(copy.glob("bucket_*.npz"))[0]
    victim.write_bytes(b"not a zip file")
    resumed = sweep.run_sweep(TINY, copy, resume=True, log=lambda *_: None)
    assert resumed["compiles"] == 1
    assert victim.with_suffix(".npz.corrupt").exists() and victim.exists()


FOUR_DEVICES = """
import os, sys, numpy as np, jax
sys.path.insert(0, {root!r})
from prd_jax import sweep
from tests.test_sweep import TINY, _data
assert len(jax.devices()) == {n}, jax.devices()
X, Y = _data(TINY)
arrays = sweep.run_bucket(TINY, (4, 8), X, Y, (0.3,))
np.savez({path!r}, **arrays)
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
    assert len(results[4]["run_seed"]) == 2 * 2 * 2  # 8 runs over 4 devices
    for k in results[1]:
        np.testing.assert_allclose(results[4][k], results[1][k], rtol=1e-5, atol=1e-6, err_msg=k)


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "experiments.sweep", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        **kw,
    )


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "cli"
    proc = _cli(
        "--widths",
        "4,8",
        "--seeds",
        "2",
        "--steps",
        "10",
        "--n",
        "6",
        "--d-in",
        "4",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["compiles"] == 1 and summary["criterion"] == "kernel"
    assert "m*" in proc.stdout and str(out) in proc.stdout


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--widths", "16,abc"], "--widths"),
        (["--widths", "0,16"], "--widths"),
        (["--seeds", "-2"], "--seeds"),
        (["--lambda-adv", "-1"], "--lambda-adv"),
        (["--lr", "0"], "--lr"),
        (["--steps", "0"], "--steps"),
        (["--criterion", "vibes"], "--criterion"),
    ],
)
def test_cli_bad_values_give_one_line_errors(args, flag):
    proc = _cli(*args, "--out", "/nonexistent/never-written")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in proc.stderr
