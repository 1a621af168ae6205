"""Smoke tests of the paper's experiment scripts at their ``tiny`` preset: each runs, writes
its PNG and JSON, and its numbers are finite. Plus the CLI overrides, the paper presets and
the `make figures` driver and index page.

The experiments run in this one process, in an order that lets equal training configs share
a compilation (``experiments.common.compiled_train``)."""

import dataclasses
import importlib
import json
import math

import pytest

from experiments import common, figures

NAMES = (
    "patterns_mnist",
    "patterns_fashion_mnist",
    "patterns_synthetic",
    "embedding",
    "feature_vis",
    "theorem1",
    "linear_rate",
    "dissect_diffusion",
    "joint_rd",
)


def _numbers(obj):
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, int | float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("figures")


@pytest.mark.parametrize("name", NAMES)
def test_experiment_smoke(name, out_dir):
    module = importlib.import_module(f"experiments.{name}")
    saved = module.main(["--preset", "tiny", "--out", str(out_dir)])
    png, js = out_dir / f"{name}.png", out_dir / f"{name}.json"
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = json.loads(js.read_text())  # strict JSON: no NaN or inf tokens
    assert res == saved
    assert res["experiment"] == name and res["preset"] == "tiny"
    assert res["command"].startswith(f"python -m experiments.{name} --preset tiny")
    values = list(_numbers(res["summary"]))
    assert values and all(math.isfinite(v) for v in values)
    assert res["claims"], "every experiment checks at least one claim of the paper"
    for c in res["claims"]:
        assert set(c) == {"claim", "measured", "agrees", "note"}
        assert c["agrees"] in (True, False, None)


def test_pattern_comparison_smoke(out_dir):
    """Gray-Scott-like stripes and spots next to the tiny runs' drift images."""
    import numpy as np

    from experiments import pattern_comparison

    y, x = np.mgrid[0:64, 0:64] / 64.0
    stripes = 0.2 + 0.2 * np.sin(2 * np.pi * 8 * x)
    spots = 0.2 * np.cos(2 * np.pi * 8 * x) * np.cos(2 * np.pi * 8 * y)
    np.savez(
        out_dir / "gray_scott.npz",
        v_final=np.stack([stripes, spots]),
        k=np.array([0.055, 0.060]),
        side=2.5,
    )
    pattern_comparison.main(["--out", str(out_dir)])
    res = json.loads((out_dir / "pattern_comparison.json").read_text())
    gs_row = res["metrics"]["Gray-Scott v, k=0.055"]
    assert abs(gs_row["waves_across"] - 8.0) < 0.5  # 8 stripes across the field
    assert any(name.endswith("adversarial: du_j") for name in res["metrics"])
    assert (out_dir / "pattern_comparison.png").stat().st_size > 10_000


def test_pattern_comparison_without_inputs_says_what_to_run(tmp_path):
    from experiments import pattern_comparison

    with pytest.raises(SystemExit, match="make figures"):
        pattern_comparison.main(["--out", str(tmp_path)])


def test_figures_index(out_dir):
    """The index page lists every experiment with its figure, claims and command."""
    runs = [
        {"name": n, "status": "ok", "wall_s": 1.0, "log": "", "command": f"python -m x {n}"}
        for n in NAMES
    ]
    runs.append(
        {
            "name": "missing",
            "status": "failed (exit 1)",
            "wall_s": 0.0,
            "log": "boom",
            "command": "python -m experiments.missing",
        }
    )
    text = figures.write_index(out_dir, runs, 12.0).read_text()
    for n in NAMES:
        assert f"![{n}]({n}.png)" in text and f"## {n}" in text
    assert "| paper's claim | measured | agrees? | note |" in text
    assert "boom" in text


def test_figures_driver_runs_a_subprocess(tmp_path):
    code = figures.main(["--only", "joint_rd", "--preset", "tiny", "--out", str(tmp_path)])
    assert code == 0
    assert (tmp_path / "joint_rd.png").exists() and (tmp_path / "README.md").exists()
    assert "joint_rd" in (tmp_path / "README.md").read_text()


def test_overrides_and_presets():
    from experiments import linear_rate, patterns_mnist, theorem1

    cfg = common.apply_overrides(
        theorem1.PRESETS["quick"], ["widths=8,16", "steps=5", "adversarial=false", "delta=0.2"]
    )
    assert cfg.widths == (8, 16) and cfg.steps == 5 and cfg.adversarial is False
    assert cfg.delta == 0.2
    with pytest.raises(ValueError, match="unknown config field"):
        common.apply_overrides(cfg, ["nope=1"])
    with pytest.raises(ValueError, match="field=value"):
        common.apply_overrides(cfg, ["steps"])
    with pytest.raises(ValueError, match="true or false"):
        common.apply_overrides(cfg, ["adversarial=maybe"])
    assert patterns_mnist.PRESETS["paper"].steps == 23000
    assert linear_rate.PRESETS["paper"].steps_mnist == 23000
    for name in NAMES:
        presets = importlib.import_module(f"experiments.{name}").PRESETS
        assert set(presets) == {"quick", "paper", "tiny"}
        for preset in presets.values():
            assert dataclasses.is_dataclass(preset)


def test_json_ready_replaces_non_finite():
    import numpy as np

    from prd_jax.results import json_ready

    out = json_ready({"a": np.array([1.0, np.nan]), "b": float("inf"), 3: (1, True)})
    assert out == {"a": [1.0, None], "b": None, "3": [1, True]}
