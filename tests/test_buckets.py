"""Issue 18's speed without new numbers: buckets chosen by cost, the steps' random draws
lowered without while loops, and the run axis split over host devices."""

import dataclasses
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import prd_jax
from experiments import sweep
from prd_jax import grid
from prd_jax.metrics import METRIC_NAMES
from prd_jax.results import ResultsError
from prd_jax.train import TrainConfig, unrolled_threefry_on_cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CFG = TrainConfig(steps=12, log_schedule="linear", log_every=4, train_v=True)

# ----------------------------------------------------------------------------- the cost model


def test_small_widths_share_a_program_and_large_ones_stay_apart():
    # issue 11's Theorem 1-2 grid (8 runs per width, 3000 steps): compiling 32, 128 and 512
    # apart costs more than padding them to 512; 2048 and 8192 padded would cost far more.
    plan = grid.cost_buckets((8192, 32, 2048, 128, 512), others=8, steps=3000, n=32, d_in=16,
                             d_out=1)  # fmt: skip
    assert plan == [(32, 128, 512), (2048,), (8192,)]
    # Few steps: everything in one program; many: every width alone.
    assert grid.cost_buckets((16, 32, 4096), others=8, steps=10, n=16, d_in=16, d_out=1) == [
        (16, 32, 4096)
    ]
    lots = dict(others=64, steps=10**6, n=64, d_in=64, d_out=4)
    assert grid.cost_buckets((16, 32, 64), **lots) == [(16,), (32,), (64,)]
    # On an accelerator (constants estimated) compute is cheap: the paper preset merges more.
    paper = sweep.PRESETS["paper"]
    kw = dict(others=2 * paper.seeds, steps=paper.train.steps, n=paper.n, d_in=paper.d_in,
              d_out=paper.d_out)  # fmt: skip
    on = {b: grid.BucketCost.for_backend(b) for b in ("cpu", "gpu")}
    assert on["cpu"] == grid.BucketCost() and on["gpu"].unit_seconds < on["cpu"].unit_seconds
    gpu_plan = grid.cost_buckets(paper.widths, cost=on["gpu"], **kw)
    assert len(gpu_plan) < len(grid.cost_buckets(paper.widths, cost=on["cpu"], **kw))


def test_the_plan_is_the_cheapest_partition_and_deterministic():
    """Exact: no partition into contiguous buckets is predicted cheaper (checked against all
    2^(k-1) of them); the same inputs give the same plan."""
    import itertools

    widths, kw = (16, 23, 32, 45, 64, 91, 128), dict(others=14, steps=10000, n=16, d_in=16,
                                                      d_out=4)  # fmt: skip
    cost = grid.BucketCost()

    def total(buckets):
        return sum(cost.seconds(b, kw["others"], kw["steps"], 16, 16, 4) for b in buckets)

    plan = grid.cost_buckets(widths, **kw)
    assert plan == grid.cost_buckets(list(reversed(widths)), **kw)
    best = min(
        total([widths[i:j] for i, j in itertools.pairwise((0, *cuts, len(widths)))])
        for k in range(len(widths))
        for cuts in itertools.combinations(range(1, len(widths)), k)
    )
    assert total(plan) == pytest.approx(best)
    assert grid.plan_buckets(widths, 2.0) == grid.make_buckets(widths, 2.0)
    assert grid.plan_buckets(widths, None, **kw) == plan


def test_buckets_by_cost_give_the_numbers_of_buckets_by_ratio():
    """One padded program for widths 3, 5 and 9 against three exact ones: the same runs, the
    same numbers to float32 reassociation."""
    X, Y = prd_jax.sphere(jax.random.key(4), 6, 4, 2)
    kw = dict(seeds=[0, 2], widths=(9, 3, 5), lambda_adv=(0.0, 1.0), lr=0.3)
    merged = grid.run_grid(CFG, X, Y, bucket_ratio=None, **kw)
    apart = grid.run_grid(CFG, X, Y, bucket_ratio=1.0, **kw)
    assert merged.buckets == ((3, 5, 9),) and apart.buckets == ((3,), (5,), (9,))
    for name in METRIC_NAMES:
        np.testing.assert_allclose(merged.metrics[name], apart.metrics[name], rtol=2e-4,
                                   atol=2e-5, err_msg=name)  # fmt: skip
    np.testing.assert_array_equal(merged.diverged, apart.diverged)
    with pytest.raises(ValueError, match="bucket_ratio must be a number >= 1 or None"):
        grid.run_grid(CFG, X, Y, bucket_ratio="cost", **kw)


def test_the_sweep_buckets_by_cost_by_default_and_says_so(tmp_path):
    assert sweep.SweepConfig().bucket_ratio is None
    cfg = dataclasses.replace(sweep.PRESETS["tiny"], bucket_ratio=None, widths=(4, 8), search=False)
    assert cfg.buckets() == [(4, 8)]
    lines = []
    summary = sweep.run(cfg, tmp_path, log=lines.append)
    assert summary["buckets"] == [[4, 8]] and summary["compiles"] <= 1
    assert "compile cache" in lines[0] and lines[0].endswith("(cpu), float32")
    assert any("bucket compiles" in line and "compile cache" in line for line in lines)
    assert "compile_cache" not in summary  # machine facts stay out of the results
    config = json.loads((tmp_path / "config.json").read_text())["config"]
    assert config["bucket_ratio"] is None and "cpu_devices" not in config


# ----------------------------------------------------------------------------- random draws


def test_the_unrolled_threefry_draws_the_same_bits():
    def draws(key):
        k1, k2 = jax.random.split(key)
        return (
            jax.random.key_data(jax.random.split(k1, 3)),
            jax.random.bits(k2, (5, 7)),
            jax.random.uniform(k1, (4, 1)),
            jax.random.normal(k2, (6, 3)),
        )

    keys = jax.vmap(jax.random.key)(jnp.arange(4))
    f = jax.jit(jax.vmap(draws))
    rolled = f.lower(keys).compile()
    with unrolled_threefry_on_cpu():
        unrolled = jax.jit(jax.vmap(lambda k: draws(k))).lower(keys)
    text = unrolled.as_text()
    assert "while" not in text  # no loop per draw
    unrolled = unrolled.compile()
    for a, b in zip(rolled(keys), unrolled(keys), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    if jax.default_backend() == "cpu":  # the default is back once the context ends
        assert "while" in jax.jit(jax.vmap(lambda k: draws(k))).lower(keys).as_text()


# ----------------------------------------------------------------------------- host devices


def test_cpu_devices_is_checked_and_refused_once_jax_has_started():
    with pytest.raises(ValueError, match="cpu_devices must be an integer in 1..1024"):
        sweep.SweepConfig(cpu_devices=0)
    jax.devices()  # the backend is running in this process
    have = len(jax.devices("cpu"))
    assert sweep.use_cpu_devices(1) == have  # 1: nothing to change
    with pytest.raises(ResultsError, match="cpu_devices=3: JAX already runs"):
        sweep.use_cpu_devices(3 if have != 3 else 5)


TWO_DEVICES = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from experiments.sweep import use_cpu_devices
assert use_cpu_devices(2) == 2
import jax
from prd_jax import grid
from tests.test_buckets import CFG
import prd_jax
X, Y = prd_jax.sphere(jax.random.key(4), 6, 4, 2)
assert jax.device_count() == 2, jax.devices()
r = grid.run_grid(CFG, X, Y, seeds=[0, 2], widths=(3, 5, 9), lambda_adv=(0.0, 1.0), lr=0.3,
                  bucket_ratio=None)
np.savez({path!r}, **r.metrics, diverged=r.diverged)
"""


def test_two_cpu_devices_split_the_runs_with_the_same_results(tmp_path):
    path = str(tmp_path / "two.npz")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    subprocess.run([sys.executable, "-c", TWO_DEVICES.format(root=ROOT, path=path)], check=True,
                   env=env, cwd=ROOT)  # fmt: skip
    X, Y = prd_jax.sphere(jax.random.key(4), 6, 4, 2)
    one = grid.run_grid(CFG, X, Y, seeds=[0, 2], widths=(3, 5, 9), lambda_adv=(0.0, 1.0),
                        lr=0.3, bucket_ratio=None)  # fmt: skip
    with np.load(path) as two:
        np.testing.assert_array_equal(two["diverged"], one.diverged)
        for name in METRIC_NAMES:
            np.testing.assert_allclose(two[name], one.metrics[name], rtol=1e-5, atol=1e-6,
                                       err_msg=name)  # fmt: skip
