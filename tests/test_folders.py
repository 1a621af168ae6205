"""One folder policy for every entry point (``prd_jax.results.prepare_folder``), the lock that
keeps two processes out of one folder, and the atomic writer: a full disk never leaves a
partial file under its final name. The experiment here is a toy made by ``common.make_main``
(the mechanism every experiment uses), so that no test trains a network."""

import contextlib
import dataclasses
import errno
import json
import os
import socket
import subprocess
import types

import numpy as np
import pytest

from experiments import common, sweep
from prd_jax import results


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    size: int = 8  # numbers in the toy's array
    seed: int = 0  # its random seed


RUNS = []  # configs the toy computed, in order


def _toy_run(cfg):
    RUNS.append(cfg)
    values = np.random.default_rng(cfg.seed).standard_normal(cfg.size)
    claim = {"claim": "toy", "verdict": "finding", "measured": float(values.mean())}
    return {"summary": {"mean": float(values.mean())}, "claims": [claim]}, {"values": values}


def _toy_plot(saved, arrays, png):
    import matplotlib.pyplot as plt

    from experiments.plots.style import save

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(arrays["values"])
    save(fig, png)


PRESETS = {"quick": ToyConfig(), "tiny": ToyConfig(size=4)}
toy = common.make_main("toy", "A toy experiment.", PRESETS, _toy_run, _toy_plot)


def _main(main, argv, capsys):
    """``(exit code, stderr lines)`` of an entry point run in-process."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code, capsys.readouterr().err.strip().splitlines()


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


# ----------------------------------------------------------------------------- the policy


def test_an_experiment_refuses_to_replace_its_results_and_resume_reuses_them(tmp_path, capsys):
    out = str(tmp_path)
    RUNS.clear()
    first = toy(["--out", out])
    assert len(RUNS) == 1 and (tmp_path / "toy.png").exists() and not (tmp_path / ".lock").exists()
    before = _snapshot(tmp_path)
    code, err = _main(toy, ["--out", out], capsys)  # again, no flag: refused, nothing touched
    assert code == 2 and len(err) == 1 and "already holds toy results" in err[0], err
    assert "--resume" in err[0] and "--overwrite" in err[0] and _snapshot(tmp_path) == before
    again = toy(["--out", out, "--resume"])  # reused: nothing recomputed, figure drawn again
    assert len(RUNS) == 1 and again == first and "nothing recomputed" in capsys.readouterr().out
    code, err = _main(toy, ["--out", out, "--set", "seed=3"], capsys)  # another config
    assert code == 2 and "different config (differs in: seed)" in err[0], err
    code, err = _main(toy, ["--out", out, "--set", "seed=3", "--resume"], capsys)
    assert code == 2 and "differs in: seed" in err[0], err
    assert _snapshot(tmp_path) == {**before, "toy.png": _snapshot(tmp_path)["toy.png"]}
    toy(["--out", out, "--set", "seed=3", "--overwrite"])  # asked for by name: recomputed
    assert RUNS[-1].seed == 3 and json.loads((tmp_path / "toy.json").read_text())["config"] == {
        "size": 8,
        "seed": 3,
    }


def test_experiments_share_a_folder_but_not_with_a_sweep(tmp_path, capsys):
    toy(["--out", str(tmp_path)])
    other = common.make_main("other", "Another toy.", PRESETS, _toy_run, _toy_plot)
    other(["--out", str(tmp_path)])  # as make figures does: one folder, one record each
    assert {"toy.json", "other.json"} <= {p.name for p in tmp_path.iterdir()}
    # A sweep's folder is its own: an experiment is refused there, and the reverse.
    swept = tmp_path / "sweep"
    results.prepare_folder(swept, {"seeds": 2}, resume=False)
    results.release_folder(swept)
    code, err = _main(toy, ["--out", str(swept)], capsys)
    assert code == 2 and "another entry point (sweep (config.json))" in err[0], err
    code, err = _main(sweep.main, ["--preset", "tiny", "--out", str(tmp_path)], capsys)
    assert code == 2 and len(err) == 1, err
    assert "another entry point" in err[0] and "toy (toy.json)" in err[0], err
    assert not (tmp_path / "config.json").exists()


@pytest.mark.parametrize("main", [toy, sweep.main], ids=["experiment", "sweep"])
def test_an_empty_out_is_refused(main, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where --out '' would have written
    code, err = _main(main, ["--preset", "tiny", "--out", ""], capsys)
    assert code == 2 and len(err) == 1 and "--out ''" in err[0] and "empty" in err[0], err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- the lock


def _lock(folder, pid, **fields):
    lock = {"pid": pid, "host": socket.gethostname(), "entry": "sweep", "since": "earlier"}
    lock["start"] = results._process_start(pid)
    (folder / ".lock").write_text(json.dumps({**lock, **fields}))


def test_a_second_process_is_refused_and_a_dead_ones_lock_is_taken_over(tmp_path, capsys):
    other = subprocess.Popen(["sleep", "60"])  # a live process that holds the folder
    try:
        _lock(tmp_path, other.pid)
        code, err = _main(toy, ["--out", str(tmp_path)], capsys)
        assert code == 2 and len(err) == 1, err
        assert "being written by another process: sweep" in err[0], err
        assert f"pid {other.pid} on {socket.gethostname()}" in err[0], err
        assert not (tmp_path / "toy.json").exists()
        # The same pid with another start time: a later process that reuses the pid.
        _lock(tmp_path, other.pid, start="1")
        toy(["--out", str(tmp_path)])
        assert not (tmp_path / ".lock").exists()
    finally:
        other.kill()
        other.wait()
    _lock(tmp_path, other.pid)  # left behind by a process that was killed since
    toy(["--out", str(tmp_path), "--overwrite"])  # a dead process's lock is taken over
    assert not (tmp_path / ".lock").exists()
    _lock(tmp_path, 1, host="another-host")  # another host's process: cannot be checked
    code, err = _main(toy, ["--out", str(tmp_path), "--resume"], capsys)
    assert code == 2 and "on another-host" in err[0] and "delete" in err[0], err


def test_the_lock_is_released_when_a_refusal_or_an_error_ends_the_call(tmp_path):
    results.prepare_folder(tmp_path, {"a": 1}, resume=False)
    assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    results.release_folder(tmp_path)
    assert not (tmp_path / ".lock").exists()
    with pytest.raises(results.ResultsError, match="already holds sweep results"):
        results.prepare_folder(tmp_path, {"a": 1}, resume=False)
    assert not (tmp_path / ".lock").exists()


# ----------------------------------------------------------------------------- a full disk


@contextlib.contextmanager
def small_disk(folder, size_kb=200):
    """``folder`` as a ``size_kb`` tmpfs where this test may mount one (root); otherwise a
    disk of that size is imitated: ``results``' writes fail with ENOSPC past the budget."""
    folder.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)]
    mounted = os.geteuid() == 0 and subprocess.run(cmd, capture_output=True).returncode == 0
    if mounted:
        try:
            yield "tmpfs"
        finally:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        return
    budget = {"left": size_kb * 1024}

    def fdopen(fd, *args, **kwargs):
        f = os.fdopen(fd, *args, **kwargs)
        write = f.write

        def limited(data):
            if len(data) > budget["left"]:
                write(data[: budget["left"]])  # a partial write, then the disk is full
                budget["left"] = 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            budget["left"] -= len(data)
            return write(data)

        f.write = limited
        return f

    fake_os = types.SimpleNamespace(
        **{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}
    )
    fake_os.fdopen = fdopen
    old, results.os = results.os, fake_os
    try:
        yield "imitated"
    finally:
        results.os = old


def _fill(folder, leave_bytes):
    """Write a filler file until about ``leave_bytes`` are free (on a real tmpfs)."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    if free > leave_bytes:
        with contextlib.suppress(OSError), open(folder / "filler", "ab") as f:
            f.write(b"\0" * (free - leave_bytes))


def test_a_full_disk_leaves_no_partial_file_and_is_one_line(tmp_path, capsys):
    disk = tmp_path / "disk"
    with small_disk(disk) as kind:
        big = ["--set", "size=12000"]  # ~96 KB of random float64: no compression helps
        toy(["--out", str(disk), *big])
        first = _snapshot(disk)
        assert {"toy.json", "toy.npz", "toy.png"} <= set(first), kind
        # Again with --overwrite: the new .npz needs another ~96 KB next to the old one.
        if kind == "tmpfs":
            _fill(disk, 60_000)
        code, err = _main(toy, ["--out", str(disk), "--overwrite", *big, "--set", "seed=1"], capsys)
        assert code == 1 and len(err) == 1, (kind, err)
        line = err[0]
        assert "cannot write toy.npz: no space left on the device" in line, line
        assert str(disk) in line and "KiB needed" in line and "choose another --out" in line, line
        after = _snapshot(disk)
        assert not [n for n in after if n.endswith(".tmp")], after  # no temporary left
        for name in ("toy.json", "toy.npz", "toy.png"):  # the finished results, intact
            assert after[name] == first[name], name
        assert not (disk / ".lock").exists()
        # The sweep: its config.json cannot be written; one line, exit 1, nothing computed.
        if kind == "tmpfs":
            _fill(disk, 0)
        out = disk / "sweep"
        code, err = _main(sweep.main, ["--preset", "tiny", "--out", str(out)], capsys)
        assert code == 1 and len(err) == 1 and "no space left on the device" in err[0], err
        assert not list(out.glob("bucket_*")) and not list(out.glob("*.tmp"))


@pytest.mark.parametrize(
    "write",
    [
        lambda p: results.write_json_atomic(p / "a.json", {"x": list(range(50_000))}),
        lambda p: results.save_npz_atomic(p / "a.npz", {"x": np.arange(50_000.0)}),
        lambda p: results.write_jsonl_atomic(p / "a.jsonl", [{"i": i} for i in range(30_000)]),
        lambda p: results.write_text_atomic(p / "a.md", "x" * 400_000),
    ],
    ids=["json", "npz", "jsonl", "text"],
)
def test_every_writer_is_atomic_on_a_full_disk(tmp_path, write):
    disk = tmp_path / "disk"
    with small_disk(disk):
        with pytest.raises(results.WriteError) as err:
            write(disk)
        assert list(disk.iterdir()) == []  # neither the file nor its temporary
    assert "\n" not in str(err.value) and "no space left" in str(err.value)


def test_a_read_only_folder_and_a_long_name_are_one_line(tmp_path):
    err = results.write_error(OSError(errno.EROFS, "x"), tmp_path / "summary.json", 1234)
    assert str(err) == (
        f"cannot write summary.json: read-only file system (1.21 KiB needed in {tmp_path}); "
        "choose another --out; finished files are kept"
    )
    with pytest.raises(results.ResultsError, match="file name too long; use a shorter --out"):
        results.check_writable_folder(tmp_path / ("x" * 300))
