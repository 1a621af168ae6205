"""Every bad input gets one line naming the field, the value and what is allowed: the public
functions a user calls (in-process) and the command lines (a handful, via subprocess).
NumPy integer and float scalars are accepted wherever Python numbers are."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import prd_jax
from experiments import cli, sweep
from prd_jax import data, grid, results
from prd_jax.model import init
from prd_jax.train import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAN, INF = float("nan"), float("inf")
KEY = jax.random.key(0)
CFG = TrainConfig(width=8, steps=3, critic="frozen", log_schedule="linear", log_every=1)
X = np.asarray(prd_jax.sphere(KEY, 5, 3).X)
Y = np.ones((5, 1), np.float32)


def _with(a, index, value):
    a = np.array(a)
    a[index] = value
    return a


def _grid(**kw):
    args = dict(cfg=CFG, X=X, Y=Y, seeds=range(2), widths=(4, 8))
    args.update(kw)
    cfg, Xa, Ya = args.pop("cfg"), args.pop("X"), args.pop("Y")
    return lambda: grid.run_grid(cfg, Xa, Ya, **args)


def _sweep_set(*overrides):
    return lambda: cli.apply_overrides(sweep.PRESETS["tiny"], list(overrides))


def _file(tmp):
    path = tmp / "a_file"
    path.write_text("x")
    return path


# (id, call, substrings of the one-line message): call may take tmp_path.
CASES = [
    # prd_jax.init: sizes and the key
    ("init-m-zero", lambda: init(KEY, 0, 3, 1), ["m", "0", "positive int"]),
    ("init-m-bool", lambda: init(KEY, True, 3, 1), ["m", "True", "bool"]),
    ("init-m-2^31", lambda: init(KEY, 2**31, 3, 1), ["m", "2147483648", "2^31"]),
    ("init-m-float", lambda: init(KEY, 8.0, 3, 1), ["m", "8.0", "float"]),
    ("init-d_in-str", lambda: init(KEY, 8, "3", 1), ["d_in", "'3'"]),
    ("init-d_out-neg", lambda: init(KEY, 8, 3, -1), ["d_out", "-1"]),
    ("init-key-int", lambda: init(5, 8, 3, 1), ["key", "jax.random.key", "int"]),
    # prd_jax.sphere
    ("sphere-n-zero", lambda: prd_jax.sphere(KEY, 0, 3), ["sphere", "n", "0"]),
    ("sphere-d_in-neg", lambda: prd_jax.sphere(KEY, 4, -3), ["sphere", "d_in", "-3"]),
    ("sphere-d_out-float", lambda: prd_jax.sphere(KEY, 4, 3, 2.5), ["d_out", "2.5"]),
    ("sphere-targets", lambda: prd_jax.sphere(KEY, 4, 3, 1, "labels"), ["targets", "labels"]),
    ("sphere-teacher-2^31", lambda: prd_jax.sphere(KEY, 4, 3, 1, "teacher", 2**31),
     ["teacher_width", "2147483648"]),
    ("sphere-key-int", lambda: prd_jax.sphere(0, 4, 3), ["sphere", "key"]),
    # TrainConfig
    ("cfg-width-zero", lambda: TrainConfig(width=0), ["TrainConfig.width", "0"]),
    ("cfg-width-bool", lambda: TrainConfig(width=True), ["TrainConfig.width", "True"]),
    ("cfg-steps-2^31", lambda: TrainConfig(steps=2**31), ["TrainConfig.steps", "2147483648"]),
    ("cfg-n_critic-float", lambda: TrainConfig(n_critic=1.5), ["TrainConfig.n_critic", "1.5"]),
    ("cfg-lr-nan", lambda: TrainConfig(lr=NAN), ["TrainConfig.lr", "nan"]),
    ("cfg-lr-inf", lambda: TrainConfig(lr=INF), ["TrainConfig.lr", "inf"]),
    ("cfg-lr-str", lambda: TrainConfig(lr="0.1"), ["TrainConfig.lr", "'0.1'"]),
    ("cfg-critic_lr-zero", lambda: TrainConfig(critic_lr=0.0), ["TrainConfig.critic_lr", "0"]),
    ("cfg-lambda_adv-nan", lambda: TrainConfig(lambda_adv=NAN), ["TrainConfig.lambda_adv", "nan"]),
    ("cfg-gp_weight-neg", lambda: TrainConfig(gp_weight=-1), ["TrainConfig.gp_weight", "-1"]),
    ("cfg-divergence-inf", lambda: TrainConfig(divergence_ratio=INF),
     ["TrainConfig.divergence_ratio", "inf"]),
    ("cfg-radius-nan", lambda: TrainConfig(critic_radius=NAN),
     ["TrainConfig.critic_radius", "nan"]),
    ("cfg-optimizer", lambda: TrainConfig(optimizer="sgdd"), ["TrainConfig.optimizer", "sgdd"]),
    ("cfg-train_v-str", lambda: TrainConfig(train_v="yes"), ["TrainConfig.train_v", "yes"]),
    ("cfg-image_shape", lambda: TrainConfig(image_shape=(0,)), ["TrainConfig.image_shape", "0"]),
    # TrainConfig.hparams
    ("hp-lr-nan", lambda: CFG.hparams(lr=NAN), ["HParams.lr", "nan"]),
    ("hp-lambda_adv-nan", lambda: CFG.hparams(lambda_adv=NAN), ["HParams.lambda_adv", "nan"]),
    ("hp-critic_lr-inf", lambda: CFG.hparams(critic_lr=[0.1, INF]), ["HParams.critic_lr", "inf"]),
    ("hp-lr-neg", lambda: CFG.hparams(lr=-1.0), ["HParams.lr", "-1"]),
    ("hp-lr-str", lambda: CFG.hparams(lr="fast"), ["HParams.lr", "fast"]),
    ("hp-width-too-wide", lambda: CFG.hparams(width=9), ["HParams.width", "9", "8"]),
    ("hp-unknown", lambda: CFG.hparams(learning_rate=0.1), ["learning_rate", "valid"]),
    # run_grid: data, grid and memory
    ("grid-X-nan", _grid(X=_with(X, (0, 0), NAN)), ["X", "NaN/inf"]),
    ("grid-Y-inf", _grid(Y=_with(Y, (1, 0), INF)), ["Y", "NaN/inf"]),
    ("grid-X-int", _grid(X=np.ones((5, 3), np.int32)), ["X", "int32", "float"]),
    ("grid-X-1d", _grid(X=np.ones(5, np.float32)), ["X", "(5,)", "(n, d_in)"]),
    ("grid-rows", _grid(Y=np.ones((4, 1), np.float32)), ["X has 5", "Y has 4"]),
    ("grid-seeds-int", _grid(seeds=4), ["seeds", "4", "range"]),
    ("grid-widths-zero", _grid(widths=(0, 8)), ["widths", "0", "positive"]),
    ("grid-widths-2^31", _grid(widths=(4, 2**31)), ["widths", "2147483648", "2^31"]),
    ("grid-widths-dup", _grid(widths=(4, 4)), ["widths", "duplicate", "4"]),
    ("grid-widths-float", _grid(widths=(4.5,)), ["widths", "4.5", "integers"]),
    ("grid-lr-nan", _grid(lr=[0.1, NAN]), ["lr", "nan", "finite"]),
    ("grid-lambda-neg", _grid(lambda_adv=-1.0), ["lambda_adv", "-1", ">= 0"]),
    ("grid-ratio", _grid(bucket_ratio=0.5), ["bucket_ratio", "0.5", ">= 1"]),
    ("grid-axis", _grid(momentum=[0.9]), ["unknown axis", "momentum"]),
    ("grid-cfg", _grid(cfg={"width": 8}), ["cfg", "TrainConfig", "dict"]),
    ("grid-memory", _grid(max_memory_gb=1e-9), ["GiB", "max_memory_gb", "widths [4, 8]"]),
    ("grid-memory-arg", _grid(max_memory_gb=-1), ["max_memory_gb", "-1"]),
    # image_dataset
    ("images-factor-zero", lambda: data.image_dataset("digits", 20, factor=0), ["factor", "0"]),
    ("images-factor-3", lambda: data.image_dataset("digits", 20, factor=3),
     ["factor=3", "8x8", "[1, 2, 4, 8]"]),
    ("images-n-zero", lambda: data.image_dataset("digits", 0), ["image_dataset", "n", "0"]),
    ("images-name", lambda: data.image_dataset("cifar", 20), ["name", "cifar", "mnist"]),
    ("images-target", lambda: data.image_dataset("digits", 20, target="x"), ["target", "'x'"]),
    ("images-split", lambda: data.image_dataset("digits", 20, split="val"), ["split", "val"]),
    ("images-seed", lambda: data.image_dataset("digits", 20, seed=-1), ["seed", "-1"]),
    ("images-dtype", lambda: data.image_dataset("digits", 20, dtype=np.int32), ["dtype", "int32"]),
    ("images-n-large", lambda: data.image_dataset("digits", 10**6), ["n", "1000000", "1797"]),
    # The sweep's config from the command line, in-process
    ("set-widths-3e9", _sweep_set("widths=3000000000"), ["widths", "3000000000", "2^31"]),
    ("set-lrs-nan", _sweep_set("lrs=nan"), ["SweepConfig.lrs", "nan"]),
    ("set-delta-nan", _sweep_set("delta=nan"), ["SweepConfig.delta", "nan"]),
    ("set-lr-inf", _sweep_set("train.lr=inf"), ["TrainConfig.lr", "inf"]),
    ("set-radius-inf", _sweep_set("radius_c=inf"), ["SweepConfig.radius_c", "inf"]),
    ("set-steps-big", _sweep_set("train.steps=99999999999"), ["train.steps", "99999999999"]),
    # Results folders
    ("folder-file", lambda tmp: results.prepare_folder(_file(tmp), {}, False),
     ["--out", "a_file", "file"]),
    ("folder-under-file", lambda tmp: results.prepare_folder(_file(tmp) / "sub", {}, False),
     ["--out", "a_file/sub", "another --out"]),
    ("folder-resume-overwrite", lambda tmp: results.prepare_folder(tmp, {}, True, True),
     ["--resume", "--overwrite"]),
]  # fmt: skip


@pytest.mark.parametrize("call, names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_field_and_value(call, names, tmp_path):
    with pytest.raises((ValueError, results.ResultsError)) as info:
        call(tmp_path) if call.__code__.co_argcount else call()
    message = str(info.value)
    assert "\n" not in message.strip(), message
    for name in names:
        assert name in message, (name, message)


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40


def test_numpy_scalars_are_accepted_like_python_numbers():
    U = init(KEY, np.int64(8), np.int32(3), np.int16(2))[0].U
    assert U.shape == (8, 3)
    d = prd_jax.sphere(KEY, np.int64(5), np.int64(3), np.int64(1))
    assert d.X.shape == (5, 3)
    cfg = TrainConfig(
        width=np.int64(8), steps=np.int32(3), lr=np.float32(0.5), lambda_adv=np.int64(1)
    )
    assert cfg == TrainConfig(width=8, steps=3, lr=0.5, lambda_adv=1.0)
    assert type(cfg.width) is int and type(cfg.lr) is float  # hashable, JSON-able as before
    hp = cfg.hparams(lr=np.float64(0.25), width=np.int64(4))
    assert float(hp.lr) == 0.25 and int(hp.width) == 4
    res = grid.run_grid(cfg, X, Y, seeds=np.arange(2), widths=np.array([4, 8]), lr=np.float32(0.1))
    assert res.shape == (2, 2)
    assert data.image_dataset("digits", np.int64(20), factor=np.int64(1)).X.shape == (20, 64)


def test_memory_estimate_grows_with_the_grid_and_the_override_allows_it():
    small = grid.bucket_memory_bytes(CFG, 5, 3, 1, runs=4, width=8)
    assert grid.bucket_memory_bytes(CFG, 5, 3, 1, runs=8, width=8) == 2 * small
    assert grid.bucket_memory_bytes(CFG, 500, 3, 1, runs=4, width=8) > 100 * small  # (n, n)
    assert grid.bucket_memory_bytes(CFG, 5, 3, 1, runs=4, width=8, weights=True) > small
    assert grid.available_memory_bytes() > 0
    coords, *_ = grid.check_grid(CFG, X, Y, seeds=range(2), widths=(4, 8), max_memory_gb=1.0)
    assert coords["width"].tolist() == [4, 8]
    with pytest.raises(grid.GridError, match="max_memory_gb"):  # a paper-scale grid, refused
        grid.check_grid(
            TrainConfig(), np.ones((4096, 784), np.float32), np.ones((4096, 10), np.float32),
            seeds=range(8), widths=(16384, 32768), lambda_adv=(0.0, 1.0), max_memory_gb=64,
        )  # fmt: skip


def _run(module, *args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize(
    "module, args, names",
    [
        ("experiments.sweep", ["--out", "{file}"], ["--out", "a_file", "not a folder"]),
        ("experiments.sweep", ["--out", "{file}/sub"], ["--out", "a_file/sub", "another --out"]),
        ("experiments.sweep", ["--out", "{tmp}/s", "--resume", "--overwrite"], ["--resume"]),
        ("experiments.sweep", ["--set", "max_memory_gb=1e-9"], ["GiB", "max_memory_gb"]),
        ("experiments.sweep", ["--set", "widths=3000000000"], ["widths", "3000000000"]),
        ("experiments.theorem1", ["--out", "{file}"], ["--out", "a_file", "not a folder"]),
    ],
    ids=["sweep-out-file", "sweep-out-under-file", "resume-overwrite", "memory", "int32", "exp"],
)
def test_cli_bad_inputs_are_one_line(module, args, names, tmp_path):
    file = _file(tmp_path)
    args = [a.format(file=file, tmp=tmp_path) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    proc = _run(module, "--preset", "tiny", *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert file.read_text() == "x"  # nothing overwritten
    assert not (tmp_path / "out").exists()  # refused before anything was written
