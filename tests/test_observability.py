"""Observability of the grid engine and the sweep: compile time reported apart from run time,
per-run metrics as JSON lines, and the opt-in progress at every log point inside a bucket
(a host callback: numbers unchanged, no deadlock on a multi-device CPU)."""

import json
import math
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import prd_jax
from experiments import sweep
from prd_jax import grid
from prd_jax.metrics import METRIC_NAMES
from prd_jax.train import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Steps and log points of their own: these programs are compiled here, not borrowed from
# another test module's compilations in the same worker.
CFG = TrainConfig(steps=12, log_schedule="linear", log_every=4)
SWEEP = sweep.dataclasses.replace(
    sweep.PRESETS["tiny"],
    widths=(4, 8, 16),
    seeds=2,
    train=CFG,
    bootstrap=20,
    search=False,  # the fixed grid: every width, every seed, two buckets
)


def _data():
    return prd_jax.sphere(jax.random.key(7), 6, 4, 1)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep_obs")
    lines = []
    summary = sweep.run(SWEEP, out, log=lines.append)
    return out, summary, lines


# ----------------------------------------------------------------------------- timings


def test_compile_and_run_times_reported_apart():
    X, Y = _data()
    seen, cache = [], grid.MemoryCache()
    first = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8, 16), cache=cache,
                          progress=seen.append)  # fmt: skip
    assert len(first.timings) == len(first.buckets) == 2 == len(seen)
    for info, timing in zip(seen, first.timings, strict=True):
        assert info["kind"] == "bucket" and not info["cached"]
        assert timing["widths"] == info["widths"] and timing["cached"] is False
        assert info["compile_seconds"] == timing["compile_seconds"] >= 0
        assert info["run_seconds"] == timing["run_seconds"] > 0
        assert info["compile_seconds"] + info["run_seconds"] <= info["seconds"] + 1e-6
    # A compiled program is reused: no trace and (almost) no compile time the second time.
    again = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8, 16))
    assert again.compiles == 0
    assert all(t["compile_seconds"] < 0.5 for t in again.timings)
    # Cached buckets: nothing compiled or run.
    cached = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8, 16), cache=cache)
    assert cached.cached == 2 and cached.compiles == 0
    assert [t["cached"] for t in cached.timings] == [True, True]
    assert all(t["compile_seconds"] == t["run_seconds"] == 0.0 for t in cached.timings)


def test_progress_line_shows_compile_and_run_time():
    lines = []
    report = sweep.progress_logger([(4, 8), (16,)], lines.append)
    common = dict(buckets=2, runs=4, cached=False, diverged=0, kind="bucket")
    report(dict(common, bucket=1, widths=[4, 8], seconds=3.0, compile_seconds=2.5,
                run_seconds=0.5))  # fmt: skip
    assert "compile 2.5s, run 0.5s" in lines[-1] and "4 runs in 3.0s" in lines[-1]
    # Left: one more compile (2.5 s) and 16/16 of the run rate (0.5 s per 16 neurons).
    assert "about 3s left" in lines[-1]
    report(dict(kind="log_point", bucket=2, buckets=2, widths=[16], step=3, steps=12,
                seconds=1.5, eta_seconds=4.5))  # fmt: skip
    assert "step 3/12 after 1.5s" in lines[-1] and "about 4s left in this bucket" in lines[-1]


def test_sweep_logs_compile_and_run_time(swept):
    _, _, lines = swept
    buckets = [line for line in lines if line.strip().startswith("bucket ")]
    assert len(buckets) == 2 and all("(compile " in b and ", run " in b for b in buckets)


# ----------------------------------------------------------------------------- runs.jsonl


def test_runs_jsonl_has_one_record_per_run_and_log_point(swept):
    out, summary, _ = swept
    path = out / "runs.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]  # strict JSON lines
    n_runs = len(SWEEP.widths) * SWEEP.seeds * len(SWEEP.lambda_adv) * len(summary["lrs"])
    log_steps = summary["log_steps"]
    assert len(records) == n_runs * len(log_steps)
    keys = {"width", "seed", "lambda_adv", "lr", "step", "t", "diverged", "steps_taken"}
    assert all(set(r) == keys | set(METRIC_NAMES) for r in records)
    assert {r["width"] for r in records} == set(SWEEP.widths)
    assert {r["seed"] for r in records} == set(range(SWEEP.seeds))
    assert {r["lambda_adv"] for r in records} == set(SWEEP.lambda_adv)
    assert sorted({r["step"] for r in records}) == log_steps
    for r in records:
        assert math.isclose(r["t"], r["lr"] * r["step"], rel_tol=1e-12)
        assert all(v is None or math.isfinite(v) for k, v in r.items() if k in METRIC_NAMES)
    # One run, one metric: the record's numbers are the grid's numbers.
    X, Y = prd_jax.sphere(jax.random.key(SWEEP.data_seed), SWEEP.n, SWEEP.d_in, SWEEP.d_out)
    one = grid.run_grid(CFG, X, Y, seeds=[1], widths=[8], lambda_adv=1.0, lr=summary["lrs"][0])
    want = one.metrics["loss_sup"][0, 0]
    got = [r["loss_sup"] for r in records if (r["width"], r["seed"], r["lambda_adv"]) == (8, 1, 1)]
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_runs_jsonl_writes_non_finite_as_null(tmp_path):
    runs = {
        "run_width": np.array([4]),
        "run_seed": np.array([0]),
        "run_lambda_adv": np.array([0.0]),
        "run_lr": np.array([0.5]),
        "diverged": np.array([True]),
        "steps_taken": np.array([3]),
        "loss_sup": np.array([[1.0, np.nan]]),
        "kernel_dev": np.array([[0.0, np.inf]]),
    }
    assert sweep.write_runs_jsonl(tmp_path / "r.jsonl", runs, [0, 4]) == 2
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    last = json.loads(lines[1])
    assert last["loss_sup"] is None and last["kernel_dev"] is None and last["t"] == 2.0
    assert last["diverged"] is True and last["steps_taken"] == 3
    assert "NaN" not in lines[1] and "Infinity" not in lines[1]
    assert not list(tmp_path.glob("*.tmp"))


# ----------------------------------------------------------------------------- log points


def test_log_progress_reports_every_log_point_and_changes_no_number():
    X, Y = _data()
    plain = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8), lambda_adv=(0.0, 1.0))
    seen = []
    hooked = grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8), lambda_adv=(0.0, 1.0),
                           progress=seen.append, log_progress=True)  # fmt: skip
    points = [s for s in seen if s["kind"] == "log_point"]
    assert [p["step"] for p in points] == list(CFG.log_steps()[1:])  # once each, in order
    assert all(p["steps"] == CFG.steps and p["bucket"] == 1 and p["widths"] == [4, 8]
               for p in points)  # fmt: skip
    assert all(p["eta_seconds"] >= 0 and p["seconds"] >= 0 for p in points)
    assert points[-1]["eta_seconds"] == 0.0
    assert seen[-1]["kind"] == "bucket"  # the bucket's record comes after its log points
    for k in METRIC_NAMES:
        np.testing.assert_array_equal(hooked.metrics[k], plain.metrics[k], err_msg=k)
    np.testing.assert_array_equal(hooked.diverged, plain.diverged)
    # Off by default: no log-point records, and progress=None ignores the flag.
    seen.clear()
    grid.run_grid(CFG, X, Y, seeds=[0, 1], widths=(4, 8), lambda_adv=(0.0, 1.0),
                  progress=seen.append)  # fmt: skip
    assert [s["kind"] for s in seen] == ["bucket"]
    assert grid._LOG_HOOK["fn"] is None


TWO_DEVICES = """
import sys, numpy as np, jax
sys.path.insert(0, {root!r})
from prd_jax import grid
from tests.test_observability import CFG, _data
assert len(jax.devices()) == 2, jax.devices()
X, Y = _data()
seen = []
r = grid.run_grid(CFG, X, Y, seeds=[0, 1, 2], widths=(4, 8), lambda_adv=(0.0, 1.0),
                  progress=seen.append, log_progress=True)
steps = [s["step"] for s in seen if s["kind"] == "log_point"]
assert steps == list(CFG.log_steps()[1:]), steps
assert np.all(np.isfinite(r.metrics["loss_sup"]))
print("ok", len(steps))
"""


def test_log_progress_on_two_cpu_devices_does_not_deadlock():
    """Each device's shard calls back at every log point, concurrently; each step is reported
    once, when both reached it. A hang here would be the CPU pool deadlock: the timeout fails
    the test instead of hanging the suite."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")  # fmt: skip
    code = TWO_DEVICES.format(root=ROOT)
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=240)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"ok {len(CFG.log_steps()) - 1}"
