"""Multi-process runs: two CPU processes on localhost (``jax.distributed``, gloo collectives)
give the one-process sweep's summary, also when one of them died and the run was resumed; a
process that dies stops the other with one line; process 1 writes nothing; the CLI's
distributed flags, their environment variables and their errors."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from experiments import cli, sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = [sys.executable, "-m", "experiments.sweep"]
# tiny with 3 seeds: buckets of 12 and 6 runs over 4 global devices (the second one padded).
TINY = ["--preset", "tiny", "--set", "seeds=3"]
FLAGS = ("--coordinator", "--num-processes", "--process-id")
ENV_NAMES = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
MACHINE_FIELDS = {"wall_seconds", "devices"}  # differ between the runs by design


def _env(devices=2, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        PYTHONPATH=ROOT,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
    )
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, devices=2, **env):
    return subprocess.Popen(
        SWEEP + args,
        cwd=ROOT,
        env=_env(devices, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:  # e.g. processes waiting on each other: fail, not hang
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"timed out after {timeout}s: {err[-2000:]}")
    return proc.returncode, out, err


def _launch(out0, out1, extra=()):
    address = f"127.0.0.1:{_free_port()}"
    return [
        _start([*TINY, *extra, "--out", str(out), "--coordinator", address,
                "--num-processes", "2", "--process-id", str(i), "--coordinator-timeout", "60"])
        for i, out in enumerate((out0, out1))
    ]  # fmt: skip


def _two_processes(out0, out1, extra=()):
    procs = _launch(out0, out1, extra)
    try:
        return [_finish(p) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def _comparable(summary):
    return {k: v for k, v in summary.items() if k not in MACHINE_FIELDS}


def _read_until(proc, marker, timeout=120):
    """Read ``proc``'s stdout until a line holding ``marker``; fail if it ends first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"ended before {marker!r}: {proc.stderr.read()[-2000:]}")
        if marker in line:
            return
    pytest.fail(f"no {marker!r} within {timeout}s")


def _stop(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


HEARTBEAT = 5  # seconds: --heartbeat-timeout of the runs that lose a process


def test_two_processes_give_the_one_process_summary_also_after_a_process_dies(tmp_path):
    """A 2-process sweep whose process 1 is killed after the first bucket: process 0 stops
    within the heartbeat timeout with one line, keeping the bucket; the --resume that follows
    (process 0 sends the finished bucket to process 1) gives the summary of one process with
    the same 4 devices. Process 1 never writes. And when process 0 dies, process 1 stops at
    once with one line (JAX's client aborts it; the line replaces the C++ stack dump)."""
    one, two, elsewhere = tmp_path / "one", tmp_path / "two", tmp_path / "process1"
    # The reference: one process with the same 4 devices (the same blocks of runs per device).
    grid = ["--set", "search=false"]  # the fixed grid: its two buckets are the moments to kill
    reference = _start([*TINY, *grid, "--out", str(one)], devices=4)
    watch = [*grid, "--heartbeat-timeout", str(HEARTBEAT)]
    procs = _launch(two, elsewhere, watch)
    try:
        _read_until(procs[0], "bucket 1/2")
        procs[1].kill()
        killed = time.monotonic()
        rc0, _, err0 = _finish(procs[0], timeout=60)
        waited = time.monotonic() - killed
    finally:
        _stop(procs)
    assert rc0 == 1, err0[-3000:]
    lines = err0.strip().splitlines()
    assert len(lines) == 1 and "process 0 of 2 stopped" in lines[0], err0[-3000:]
    assert f"finished buckets are kept in {two}" in lines[0] and "--resume" in lines[0]
    assert waited < HEARTBEAT + 20, waited
    assert len(list(two.glob("bucket_*.npz"))) == 1 and not (two / ".lock").exists()
    assert not elsewhere.exists()

    (rc0, out0, err0), (rc1, out1, err1) = _two_processes(two, elsewhere, ["--resume", *watch])
    assert _finish(reference)[0] == 0
    assert rc0 == 0, err0[-3000:]
    assert rc1 == 0, err1[-3000:]
    assert "process 0 of 2, 2 of 4 cpu device(s)" in out0 and "m*" in out0  # the table
    assert "bucket 1/2 widths [4, 8]: finished earlier" in out0
    assert "process 1 of 2" in out1 and "m*" not in out1 and "bucket" not in out1
    # Process 1 was given its own --out: it never created it (it neither writes nor reads).
    assert not elsewhere.exists()
    expected = json.loads((one / "summary.json").read_text())
    summary = json.loads((two / "summary.json").read_text())
    assert summary["devices"] == 4 and summary["compiles"] == 1  # the second bucket only
    del summary["compiles"], expected["compiles"]
    assert _comparable(summary) == _comparable(expected)
    assert sorted(p.name for p in two.iterdir()) == sorted(p.name for p in one.iterdir())

    # Process 0 dies: JAX's client stops process 1 at once (exit 134), with one line.
    procs = _launch(tmp_path / "three", elsewhere, watch)
    try:
        _read_until(procs[1], "jax.distributed: process 1 of 2")
        procs[0].kill()
        rc1, _, err1 = _finish(procs[1], timeout=60)
    finally:
        _stop(procs)
    assert rc1 != 0
    lines = err1.strip().splitlines()
    assert len(lines) == 1 and "process 1 of 2 stopped" in lines[0], err1[-3000:]
    assert "process 0 keeps the finished buckets" in lines[0] and "Check failure" not in err1


INSPECT = """
import sys
import jax, jax._src.xla_bridge as xb
from experiments import sweep
def fake(**kwargs):
    assert not xb._backends, "a JAX backend was initialised before jax.distributed.initialize"
    print(sorted(kwargs.items()))
    sys.exit(42)
jax.distributed.initialize = fake
sweep.main(sys.argv[1:])
"""


def _inspect(*args, **env):
    return subprocess.run(
        [sys.executable, "-c", INSPECT, "--preset", "tiny", "--out", "/nonexistent/x", *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
    )


def test_initialize_comes_first_with_flags_over_environment_variables():
    proc = _inspect(
        "--process-id", "1", JAX_COORDINATOR_ADDRESS="10.0.0.1:1234", JAX_NUM_PROCESSES="3",
        JAX_PROCESS_ID="2",
    )  # fmt: skip
    assert proc.returncode == 42, proc.stderr
    assert "('coordinator_address', '10.0.0.1:1234')" in proc.stdout
    assert "('num_processes', 3)" in proc.stdout and "('process_id', 1)" in proc.stdout
    # --distributed alone leaves every value to jax's cluster detection.
    proc = _inspect("--distributed", "--coordinator-timeout", "5")
    assert proc.returncode == 42, proc.stderr
    assert "coordinator_address" not in proc.stdout and "initialization_timeout" in proc.stdout


def test_no_flag_and_no_variable_is_a_one_process_run(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    parser = cli.make_parser("sweep", "", sweep.PRESETS)
    sweep.add_distributed_flags(parser)
    assert sweep._distributed_options(parser, parser.parse_args([])) is None
    monkeypatch.setenv("JAX_PROCESS_ID", "0")  # one variable alone is refused (exit 2)
    with pytest.raises(SystemExit) as stop:
        sweep._distributed_options(parser, parser.parse_args([]))
    assert stop.value.code == 2


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--coordinator", "127.0.0.1:1234"], {}, "missing --num-processes"),
        (["--num-processes", "2", "--process-id", "0"], {}, "missing --coordinator"),
        ([], {"JAX_NUM_PROCESSES": "two"}, "$JAX_NUM_PROCESSES must be an integer"),
        (["--coordinator", "nohost", "--num-processes", "2", "--process-id", "0"], {},
         "HOST:PORT"),
        (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"], {},
         "--process-id must be in 0 .. 1"),
        (["--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"], {},
         "--num-processes must be >= 1"),
    ],
)  # fmt: skip
def test_bad_distributed_flags_give_one_line_errors(args, env, message):
    proc = _inspect(*args, **env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_unreachable_coordinator_is_a_one_line_error_after_the_timeout(tmp_path):
    port = _free_port()  # nobody listens there
    args = ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", "1"]
    proc = _start([*TINY, "--out", str(tmp_path / "x"), *args, "--coordinator-timeout", "2"])
    rc, out, err = _finish(proc, timeout=60)
    assert rc == 1, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "could not join the run" in lines[0] and "within 2s" in lines[0]
    assert not (tmp_path / "x").exists()


def test_coordinator_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        args = ["--coordinator", f"127.0.0.1:{busy.getsockname()[1]}"]
        proc = _start([*TINY, "--out", str(tmp_path / "x"), *args, "--num-processes", "2",
                       "--process-id", "0", "--coordinator-timeout", "5"])  # fmt: skip
        rc, _, err = _finish(proc, timeout=60)
    assert rc == 1 and len(err.strip().splitlines()) == 1 and "in use" in err, err[-2000:]
