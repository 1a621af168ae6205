"""The persistent compilation cache (prd_jax.compile_cache): one folder per JAX version, safe
under two processes at once, programs with host callbacks cached with the same numbers, and
traces still counted."""

import json
import os
import subprocess
import sys

import jax
import jaxlib
import numpy as np
import pytest

import prd_jax
from prd_jax import compile_cache, grid
from prd_jax.train import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_folder_names_the_versions_and_follows_the_environment(monkeypatch, tmp_path):
    tag = compile_cache.version_tag()
    assert f"jax-{jax.__version__}" in tag and f"jaxlib-{jaxlib.__version__}" in tag
    assert compile_cache.folder_for(tmp_path) == tmp_path / tag
    monkeypatch.setenv(compile_cache.ENV_DIR, str(tmp_path / "mine"))
    assert compile_cache.default_root() == tmp_path / "mine"
    monkeypatch.delenv(compile_cache.ENV_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.default_root() == tmp_path / "xdg" / "prd_jax"
    for off in ("0", "false", "OFF", "no"):
        monkeypatch.setenv(compile_cache.ENV_SWITCH, off)
        assert compile_cache.switched_off()
    monkeypatch.setenv(compile_cache.ENV_SWITCH, "1")
    assert not compile_cache.switched_off()


def test_the_suite_runs_with_its_own_cache_and_reports_it():
    folder = compile_cache.folder()
    if folder is None:
        pytest.skip("the suite runs without a compilation cache (PRD_JAX_CACHE=0)")
    assert folder.parent.name == "jax-tests" and folder.name == compile_cache.version_tag()
    assert os.environ[compile_cache.ENV_DIR] == str(folder.parent)  # for subprocesses
    assert jax.config.jax_compilation_cache_dir == str(folder)
    jax.block_until_ready(jax.jit(lambda x: 3.0 * x + 1.0)(np.arange(7.0)))  # one entry at least
    line = compile_cache.describe()
    assert str(folder.name) in line and "hits" in line and "misses" in line
    assert compile_cache.entries(folder)[0] >= 1


def test_a_program_from_the_cache_is_still_traced_once():
    """A persistent-cache hit skips XLA only: ``compiles`` counts traces as before, and the
    bucket's timing says where its program came from."""
    if compile_cache.folder() is None:
        pytest.skip("the suite runs without a compilation cache (PRD_JAX_CACHE=0)")
    X, Y = prd_jax.sphere(jax.random.key(5), 5, 3, 1)
    cfg = TrainConfig(steps=4, log_schedule="linear", log_every=2, critic="frozen")
    first = grid.run_grid(cfg, X, Y, seeds=[0], widths=[3])
    jax.clear_caches()
    grid._batched_train.cache_clear()
    again = grid.run_grid(cfg, X, Y, seeds=[0], widths=[3])
    assert first.compiles == again.compiles == 1
    assert again.timings[0]["cache_hits"] == 1 and again.timings[0]["cache_misses"] == 0
    for name, value in first.metrics.items():
        np.testing.assert_array_equal(again.metrics[name], value, err_msg=name)


CHILD = """
import json, sys
import jax, numpy as np
import prd_jax
from prd_jax import compile_cache, grid
from prd_jax.train import TrainConfig
X, Y = prd_jax.sphere(jax.random.key(1), 6, 4, 1)
cfg = TrainConfig(steps=8, log_schedule="linear", log_every=4)  # WGAN-GP: eigvalsh on the host
r = grid.run_grid(cfg, X, Y, seeds=[0, 1], widths=(4, 8), lambda_adv=(0.0, 1.0), lr=0.3)
np.savez(sys.argv[1], **r.metrics)
print(json.dumps({"folder": str(compile_cache.folder()), **compile_cache.stats(),
                  "bucket": [r.timings[0]["cache_hits"], r.timings[0]["cache_misses"]]}))
"""


def _child(tmp_path, name, env):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / f"{name}.npz")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_processes_share_one_folder_and_a_third_loads_every_program(tmp_path):
    """Two processes fill an empty folder at the same time (atomic writes: no partial entry,
    no stray temporary file); a third compiles nothing, and its program, with the metrics'
    host callback, gives the same numbers bit for bit."""
    env = dict(os.environ, PRD_JAX_CACHE_DIR=str(tmp_path / "cache"), JAX_PLATFORMS="cpu")
    env.pop("PRD_JAX_CACHE", None)
    procs = [_child(tmp_path, name, env) for name in ("a", "b")]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
        assert "Error reading persistent compilation cache" not in err, err[-2000:]
    first = json.loads(outs[0][0].strip().splitlines()[-1])
    folder = tmp_path / "cache" / compile_cache.version_tag()
    assert first["folder"] == str(folder)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    third = _child(tmp_path, "c", env)
    out, err = third.communicate(timeout=600)
    assert third.returncode == 0, err[-2000:]
    record = json.loads(out.strip().splitlines()[-1])
    assert record["misses"] == 0 and record["hits"] >= 2, record
    assert record["bucket"] == [1, 0]  # the bucket program, host callback and all
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "c.npz") as c:
        for name in a.files:
            np.testing.assert_array_equal(c[name], a[name], err_msg=name)
        assert np.all(a["kernel_dev"][..., 1:] > 0)  # the callback's eigenvalues, not zeros


def test_switched_off_by_the_environment(tmp_path):
    code = (
        "import jax, prd_jax\nfrom prd_jax import compile_cache\n"
        "assert compile_cache.enable() is None and compile_cache.folder() is None\n"
        "assert jax.config.jax_compilation_cache_dir is None\n"
        "print(compile_cache.describe())\n"
    )
    env = dict(os.environ, PRD_JAX_CACHE="0", PRD_JAX_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "compile cache off" in proc.stdout and not any(tmp_path.iterdir())
