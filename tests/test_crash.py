"""Crashes lose nothing finished: SIGKILL at a random moment then --resume gives the summary of
an uninterrupted run; Ctrl-C at any moment exits 130 with one line and a resumable folder;
bucket files carry their key; results files get the user's umask."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from experiments import sweep
from prd_jax import results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tiny preset's fixed grid: two buckets ([4, 8] and [16]), compiled once per process; and
# the tiny preset itself, a search (a few rounds of one bucket each).
CFG = dataclasses.replace(sweep.PRESETS["tiny"], search=False)
SEARCH = sweep.PRESETS["tiny"]
TIMING = ("wall_seconds", "compiles")  # how long, and how much this process had to compile


def _start(out, *extra, search=False):
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "experiments.sweep", "--preset", "tiny", "--out", out]
    cmd += [] if search else ["--set", "search=false"]
    return subprocess.Popen(
        [*cmd, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for_line(proc, marker, deadline=120):
    """Read stdout until a line containing ``marker`` (False if the process ended first)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            return False
        if marker in line:
            return True
    return False


def _comparable(summary):
    return {k: v for k, v in summary.items() if k not in TIMING}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    return out, sweep.run(CFG, out, log=lambda *_: None)


@pytest.mark.parametrize("seed", [3])
def test_sigkill_at_a_random_moment_then_resume_matches(uninterrupted, tmp_path, seed):
    rng = np.random.default_rng(seed)
    out = tmp_path / "killed"
    proc = _start(str(out))
    # A random moment: after a random number of finished buckets (0 = during the first
    # compile), plus a random fraction of a second into the next one.
    finished = int(rng.integers(0, 2))
    marker = "sweep:" if finished == 0 else f"bucket {finished}/2"
    assert _wait_for_line(proc, marker), proc.stderr.read()
    time.sleep(float(rng.uniform(0.0, 0.6)))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    kept = sorted(out.glob("bucket_*.npz"))
    assert len(kept) >= finished  # finished buckets survive a SIGKILL
    resumed = _start(str(out), "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert stdout.count("finished earlier") == len(kept)  # reused, not recomputed
    summary = json.loads((out / "summary.json").read_text())
    expected = json.loads(json.dumps(_comparable(uninterrupted[1])))  # as written to disk
    assert _comparable(summary) == expected
    assert not list(out.glob("*.tmp")) and not list(out.glob("*.corrupt"))


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("searched")
    return out, sweep.run(SEARCH, out, log=lambda *_: None)


def test_sigkill_during_a_search_then_resume_matches_and_trains_nothing_twice(searched, tmp_path):
    out = tmp_path / "killed"
    proc = _start(str(out), search=True)
    assert _wait_for_line(proc, "round 2"), proc.stderr.read()  # the start block is finished
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    kept = {p: p.stat().st_mtime_ns for p in out.glob("bucket_*.npz")}
    assert kept  # at least the start block's bucket survived
    resumed = _start(str(out), "--resume", search=True)
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert "round 1 (all modes)" in stdout and "finished earlier" in stdout
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # none rewritten
    summary = json.loads((out / "summary.json").read_text())
    expected = json.loads(json.dumps(_comparable(searched[1])))
    for key in ("threshold", "runs", "claims", "threshold_vs_horizon"):
        assert summary[key] == expected[key], key
    assert summary["search"]["stops"] == expected["search"]["stops"]


# Ctrl-C at several moments of the tiny sweep: (line of stdout to wait for, or None for the
# start of the process; seconds after it). Importing, compiling the first bucket, between the
# buckets (compiling the second), computing the summary, drawing the figures. Six by default
# (about 40 s on an idle 2-core machine); PRD_SIGINT_TRIALS=20 cycles through them 20 times.
SIGINT_MOMENTS = [
    (None, 0.5), ("sweep:", 0.0), ("sweep:", 1.0), ("bucket 1/2", 0.2), ("bucket 2/2", 0.0),
    ("criterion:", 0.3),
]  # fmt: skip
SIGINT_TRIALS = int(os.environ.get("PRD_SIGINT_TRIALS", len(SIGINT_MOMENTS)))


def _interrupt(out, marker, delay):
    """Start the tiny sweep into ``out``, send SIGINT ``delay`` seconds after ``marker``
    (None: after the start); ``(exit code, stdout, stderr)``."""
    proc = _start(str(out))
    if marker is not None:
        assert _wait_for_line(proc, marker), proc.stderr.read()
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    return proc.returncode, stdout, stderr


def _finished_files_are_whole(out):
    """Every file under its final name is complete: JSON parses, each bucket loads and
    carries the key of its name; no lock is left behind."""
    for path in out.glob("*.json"):
        json.loads(path.read_text())
    for path in out.glob("bucket_*.npz"):
        with np.load(path) as z:
            assert str(z[results.KEY_ARRAY]) == path.stem, path
    assert not (out / ".lock").exists()


def test_ctrl_c_at_any_moment_exits_130_with_one_line_and_the_folder_resumes(
    uninterrupted, tmp_path
):
    """SIGINT while importing, compiling, between buckets, summarising and drawing: exit 130
    and one line every time (never a traceback or a segfault), the finished buckets kept and
    whole; then --resume completes with the summary of an uninterrupted run."""
    import concurrent.futures

    moments = [SIGINT_MOMENTS[i % len(SIGINT_MOMENTS)] for i in range(SIGINT_TRIALS)]
    folders = [tmp_path / f"run{i}" for i in range(len(moments))]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # two at a time
        outcomes = list(pool.map(_interrupt, folders, *zip(*moments, strict=True)))
    for (marker, delay), out, (code, _, stderr) in zip(moments, folders, outcomes, strict=True):
        lines = stderr.strip().splitlines()
        where = f"SIGINT {delay}s after {marker or 'the start'}: {stderr[-2000:]}"
        assert code == 130, where
        assert len(lines) == 1 and "interrupted" in lines[0], where
        for crash in ("Traceback", "Segmentation", "Fatal Python error", "core dumped"):
            assert crash not in stderr, where
        if out.exists():
            _finished_files_are_whole(out)
        if marker == "bucket 2/2" or marker == "criterion:":
            assert len(list(out.glob("bucket_*.npz"))) == 2, where  # every bucket kept
    # A folder interrupted between the buckets: --resume reuses the first, computes the second.
    out = folders[moments.index(("bucket 1/2", 0.2))] if len(moments) > 3 else folders[-1]
    kept = len(list(out.glob("bucket_*.npz")))
    resumed = _start(str(out), "--resume")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert stdout.count("finished earlier") == kept
    summary = json.loads((out / "summary.json").read_text())
    assert _comparable(summary) == json.loads(json.dumps(_comparable(uninterrupted[1])))


def test_summary_is_written_before_any_figure(tmp_path, monkeypatch):
    import experiments.plots.sweep as plots

    def interrupted(*_, **__):
        raise KeyboardInterrupt  # Ctrl-C while the figures are drawn

    monkeypatch.setattr(plots, "plot_all", interrupted)
    lines = []
    with pytest.raises(KeyboardInterrupt):
        sweep.run(CFG, tmp_path, log=lines.append)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["figures"] == [] and len(summary["runs"]) == 3 * 2 * 2
    assert any(line.startswith("criterion:") for line in lines)  # the table was logged


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_results_files_get_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        results.write_json_atomic(tmp_path / "a.json", {"x": 1})
        results.save_npz_atomic(tmp_path / "b.npz", {"x": np.zeros(2)})
    finally:
        os.umask(old)
    for name in ("a.json", "b.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.npz"]  # no temp left


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    with pytest.raises(ValueError):
        results.write_json_atomic(tmp_path / "a.json", {"x": float("nan")})  # strict JSON
    with pytest.raises(TypeError):
        results.save_npz_atomic(tmp_path / "b.npz", {"x": np.zeros(2), "y": object()})
    assert list(tmp_path.iterdir()) == []


def test_bucket_file_with_another_key_is_moved_aside_and_recomputed(tmp_path):
    cache = results.BucketCache(tmp_path)
    arrays = {"diverged": np.zeros(2, bool), "steps_taken": np.ones(2, np.int32)}
    cache.put("bucket_a", arrays)
    got = cache.get("bucket_a")
    assert set(got) == {"diverged", "steps_taken"}  # the stored key is not handed back
    np.testing.assert_array_equal(got["steps_taken"], arrays["steps_taken"])
    # Renamed (or copied from another sweep) onto another key: refused, kept aside.
    os.replace(tmp_path / "bucket_a.npz", tmp_path / "bucket_b.npz")
    with pytest.warns(UserWarning, match="another computation.*bucket_a"):
        assert cache.get("bucket_b") is None
    assert (tmp_path / "bucket_b.npz.stale").exists() and not (tmp_path / "bucket_b.npz").exists()
    # A file without a stored key (written by hand or by an older version): refused too.
    results.save_npz_atomic(tmp_path / "bucket_c.npz", arrays)
    with pytest.warns(UserWarning, match="another computation"):
        assert cache.get("bucket_c") is None
    assert (tmp_path / "bucket_c.npz.stale").exists()
    # Again under the same name: the first file moved aside is kept as well.
    results.save_npz_atomic(tmp_path / "bucket_c.npz", arrays)
    with pytest.warns(UserWarning, match="bucket_c.npz.stale.1"):
        assert cache.get("bucket_c") is None
    assert (tmp_path / "bucket_c.npz.stale").exists()


def test_sweep_refuses_a_bucket_of_another_sweep_without_config_json(uninterrupted, tmp_path):
    """A bucket file renamed onto another key is recomputed even without config.json."""
    other = dataclasses.replace(CFG, data_seed=CFG.data_seed + 1)
    lines = []
    sweep.run(other, tmp_path, log=lines.append)
    first = sorted(tmp_path.glob("bucket_*.npz"))[0]
    (tmp_path / "config.json").unlink()
    (tmp_path / "summary.json").unlink()
    # Put this sweep's first bucket under the other sweep's name: same widths, other data.
    whole = sorted(uninterrupted[0].glob("bucket_*.npz"))[0]
    first.write_bytes(whole.read_bytes())
    with pytest.warns(UserWarning, match="another computation"):
        again = sweep.run(other, tmp_path, resume=True, log=lines.append)
    assert first.with_suffix(".npz.stale").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["runs"] == again["runs"]
