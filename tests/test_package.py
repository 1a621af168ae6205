"""The package as other code sees it: imports, exports, and the library's boundaries."""

import ast
import pathlib
import subprocess
import sys
import tomllib

import prd_jax

ROOT = pathlib.Path(__file__).resolve().parents[1]
LONG_FUNCTION_LINES = 60
# The training closure and its factory: one run, one scan.
ALLOWED_LONG = {("train.py", "make_train"), ("train.py", "train")}


def _code_lines(node) -> int:
    """Lines of a function without its docstring."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:] or body
    return node.end_lineno - body[0].lineno + 2  # + the def line


def test_import_loads_no_plotting_no_turing_and_no_backend():
    code = (
        "import sys, prd_jax\n"
        "import jax._src.xla_bridge as xb\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "assert not [m for m in sys.modules if m.startswith('prd_jax.turing')], 'turing'\n"
        "assert not xb._backends, 'a JAX backend was initialised at import'\n"
        "from prd_jax import *\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_all_is_what_is_exported_and_the_version_matches():
    for name in prd_jax.__all__:
        assert hasattr(prd_jax, name), name
    assert len(set(prd_jax.__all__)) == len(prd_jax.__all__)
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert prd_jax.__version__ == meta["project"]["version"]


def test_library_functions_are_short_and_docstrings_point_inside_the_repository():
    too_long = []
    for path in sorted((ROOT / "prd_jax").rglob("*.py")):
        text = path.read_text()
        assert "DESIGN" not in text and "paper-notes" not in text, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef) and (path.name, node.name) not in ALLOWED_LONG:
                lines = _code_lines(node)
                if lines > LONG_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not too_long, too_long
