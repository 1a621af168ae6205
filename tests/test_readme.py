"""The README's Python example runs as written and computes what its comments say."""

import pathlib
import re

import numpy as np


def test_readme_example_runs_and_its_numbers_are_right(capsys):
    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
    assert len(blocks) == 1, "README.md has one python example"
    ns = {}
    exec(compile(blocks[0], "README.md", "exec"), ns)
    assert ns["Z"].shape == (16, 1) and float(ns["l_sup"]) > 0
    np.testing.assert_allclose(float(ns["l_sup"]), 0.5 * float(np.sum((ns["Z"] - ns["Y"]) ** 2)))
    assert ns["H_inf"].shape == (16, 16) and 0 < ns["spec"].lambda0 <= ns["spec"].lambda_max
    result, grid = ns["result"], ns["grid"]
    assert result.metrics["drift_max"].shape == (2, len(ns["cfg"].log_steps()))
    assert not np.any(result.diverged)
    assert grid.dims == ("seed", "width", "lambda_adv") and grid.compiles <= 3
    np.testing.assert_array_equal(grid.coords["width"], [64, 128, 256])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("500 ") and "('seed', 'width', 'lambda_adv')" in out[-1]
