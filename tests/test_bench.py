"""Smoke tests of the benchmarks (no timed assertions: targets live in ``make bench``)."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import prd_jax
from benchmarks import baseline, common
from benchmarks.run import to_markdown
from prd_jax import grid
from prd_jax.train import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sizes_are_checked():
    assert common.pick("tiny", 1, 2, 3) == 1 and common.pick("full", 1, 2, 3) == 3
    with pytest.raises(ValueError, match="size must be one of"):
        common.pick("huge", 1, 2, 3)


def test_table_puts_each_figure_next_to_its_target_and_baseline():
    report = {
        "environment": dict(
            date="d",
            jax="j",
            backend="cpu",
            device="cpu",
            cpu_count=2,
            size="tiny",
            load_average_1min=1.0,
        ),  # fmt: skip
        "wall_time_s": 1.0,
        "results": [
            {
                "name": "a",
                "key": "sweep_speedup_vs_baseline",
                "value": 3.0,
                "unit": "s",
                "target": ">= 4x",
                "met": False,
                "speedup": 1.5,
                "baseline": "loop",
                "baseline_value": 4.5,
            },  # fmt: skip
            {
                "name": "b",
                "value": 1.0,
                "unit": "r/s",
                "params": {"width": 8},
                "table": [{"runs": 1, "run_steps_per_s": 2.0}],
            },  # fmt: skip
        ],
    }
    md = to_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith("| a"))
    for text in ("sweep_speedup_vs_baseline", ">= 4x", "**no**", "1.50x", "loop", "4.5"):
        assert text in row
    assert "| runs | run_steps_per_s |" in md


def test_baseline_computes_what_the_project_computes():
    """The careful researcher's code and the project train the same supervised runs: their
    residual and drift agree to float32 rounding (the comparison of their times is fair)."""
    X, Y = prd_jax.sphere(jax.random.key(1), 6, 4, 1)
    lr = prd_jax.suggest_lr(X, 1, False, 0.5)
    cfg = TrainConfig(steps=6, critic="wgan_gp", critic_optimizer="sgd", critic_lr=0.05 / lr,
                      log_schedule="linear", log_every=3)  # fmt: skip
    base = baseline.sweep(X, Y, [8], range(2), (0.0, 1.0), lr, 6, 3)
    proj = grid.run_grid(cfg, X, Y, seeds=range(2), widths=[8], lambda_adv=(0.0, 1.0), lr=lr)
    agree = baseline.agreement(base, proj)
    assert agree["residual"] < 1e-5 and agree["drift_max"] < 1e-5, agree
    # ... and the adversarial runs differ from the supervised ones (the check can fail).
    assert not np.allclose(base[(8, 1.0)]["residual"], base[(8, 0.0)]["residual"])


def test_gpu_script_runs_tiny_and_writes_its_json(tmp_path):
    # PYTHON: this interpreter (a checkout without .venv would otherwise fall back to python3).
    env = dict(os.environ, GPU_BENCH_ONLY="gray_scott", JAX_PLATFORMS="cpu", PYTHON=sys.executable)
    out = subprocess.run(
        [os.path.join(ROOT, "benchmarks", "gpu.sh"), str(tmp_path / "gpu"), "--tiny"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    record = json.loads((tmp_path / "gpu" / "gpu.json").read_text())
    assert record["backend"] == "cpu" and record["sweep_preset"] == "tiny"
    assert (
        record["sweep_seconds"] > 0 and "gray_scott_seconds_to_pattern" in record["bench_headline"]
    )
    assert (tmp_path / "gpu" / "sweep_paper" / "summary.json").exists()
    bad = subprocess.run([os.path.join(ROOT, "benchmarks", "gpu.sh"), str(tmp_path), "--big"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_make_test_seconds_are_read_from_pytests_summary_line():
    from benchmarks import make_test

    assert make_test.pytest_seconds("312 passed, 3 skipped in 187.40s (0:03:07)") == 187.4
    assert make_test.pytest_seconds("1 failed, 2 passed in 9s") == 9.0
    assert make_test.pytest_seconds("no summary") is None
    record = {"date": "d", "runs": [
        {"run": "cold", "pytest_seconds": 120.0, "summary": "s", "load_average_before": 1.0},
        {"run": "warm", "pytest_seconds": 60.0, "summary": "s", "load_average_before": 1.0},
        {"run": "off", "pytest_seconds": 300.0, "summary": "s", "load_average_before": 1.0},
    ]}  # fmt: skip
    rows = {row["key"]: row for row in make_test.rows(record)}
    assert rows["make_test_seconds"]["value"] == 120.0 and rows["make_test_seconds"]["met"]
    assert rows["make_test_seconds"]["baseline_value"] == 300.0
    assert rows["make_test_seconds_warm"]["speedup"] == pytest.approx(5.0)
