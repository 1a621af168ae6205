"""Issue 18's benchmark keys, smoke-tested at ``--size tiny`` (numbers meaningless; no timed
assertions: targets live in ``make bench``). Its own file, so that the suite's workers run it
beside ``test_bench.py``'s GPU-script smoke test, not after it."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tiny_bench_writes_issue_18s_keys_next_to_their_baselines(tmp_path):
    """``benchmarks.run --size tiny`` of issue 18's modules: every headline key present (None
    where not measured, e.g. the search's ratio until its module exists), each of these
    measured, with its same-run baseline; the bench's compilation cache starts empty."""
    from benchmarks.run import HEADLINE_KEYS
    from prd_jax import compile_cache

    if compile_cache.switched_off():
        pytest.skip("the warm figures need the compilation cache (PRD_JAX_CACHE=0)")
    out = tmp_path / "bench"
    (out / "jax-cache").mkdir(parents=True)
    (out / "jax-cache" / "stale").write_text("x")  # emptied before anything runs
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "tiny", "--only",
         "devices,overhead,sweep", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "bench.json").read_text())
    headline = report["headline"]
    assert list(headline)[: len(HEADLINE_KEYS)] == list(HEADLINE_KEYS)
    assert headline["search_runsteps_ratio"] is None and headline["make_test_seconds"] is None
    mine = ("sweep_speedup_vs_baseline", "sweep_speedup_warm_cache", "compile_seconds_quick",
            "compile_seconds_quick_warm", "cpu_devices_speedup", "run_steps_per_s_m8")  # fmt: skip
    for key in mine:
        assert np.isfinite(headline[key]) and headline[key] > 0, key
    rows = {row.get("key"): row for row in report["results"]}
    for key in ("sweep_speedup_vs_baseline", "sweep_speedup_warm_cache", "cpu_devices_speedup",
                "run_steps_per_s_m8"):  # fmt: skip
        assert rows[key]["baseline_value"] > 0 and "baseline" in rows[key], key
    warm = rows["compile_seconds_quick_warm"]["per_bucket"]
    assert all(b["cache_hits"] >= 1 and b["cache_misses"] == 0 for b in warm), warm
    assert report["environment"]["compile_cache"].startswith(str(out / "jax-cache"))
    assert not (out / "jax-cache" / "stale").exists()
