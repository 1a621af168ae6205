"""The package as another project installs it: ``pip install .`` into a fresh virtual
environment, then ``import prd_jax`` from a folder outside the repository.

Offline and fast (about a second): the new environment has no pip of its own and sees the
test interpreter's installed packages (jax, numpy, setuptools, ...) through a ``.pth`` line,
and this interpreter's pip installs the package into it with ``--python``, ``--no-deps``,
``--no-build-isolation`` and ``--no-index``, so nothing is downloaded.
"""

import json
import os
import pathlib
import shutil
import site
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# What a `pip install .` reads: the metadata, the README it names and every top-level package
# (experiments/, tests/ and benchmarks/ are copied so that leaving them out is tested).
SOURCES = ("pyproject.toml", "README.md", "prd_jax", "experiments", "tests", "benchmarks")

# Run in the new environment from a folder outside the repository.
PROBE = """
import importlib.metadata as md, importlib.util, json, os, sys, sysconfig
import prd_jax
from prd_jax import turing
dist = md.distribution("prd_jax")
print(json.dumps({
    "file": prd_jax.__file__,
    "turing": turing.__file__,
    "version": prd_jax.__version__,
    "dist_version": dist.version,
    "purelib": sysconfig.get_paths()["purelib"],
    "top_level": sorted({str(f).split("/")[0] for f in dist.files}),
    "files": sorted(str(f) for f in dist.files),
    "requires": dist.requires or [],
    "found": {m: importlib.util.find_spec(m) is not None
              for m in ("experiments", "tests", "benchmarks")},
    "sys_path": [os.path.realpath(p) for p in sys.path],
}))
"""


def _pip_can_target_another_python() -> bool:
    try:
        import pip
    except ImportError:
        return False
    return tuple(int(p) for p in pip.__version__.split(".")[:2]) >= (22, 3)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    if not _pip_can_target_another_python():
        pytest.skip("needs pip >= 22.3 (pip install --python) in the test interpreter")
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The test interpreter's packages, after the new environment's own (so its prd_jax wins).
    outer = [p for p in site.getsitepackages() if pathlib.Path(p).is_dir()]
    pathlib.Path(purelib, "_test_interpreter_packages.pth").write_text("\n".join(outer) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    pip += ["--no-deps", "--no-build-isolation", "--no-index", str(src)]
    proc = subprocess.run(pip, env=env, capture_output=True, text=True, cwd=tmp, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    elsewhere = tmp / "elsewhere"  # neither the repository nor the copied sources
    elsewhere.mkdir()
    proc = subprocess.run(
        [python, "-c", PROBE], env=env, capture_output=True, text=True, cwd=elsewhere, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout), venv=str(venv), src=str(src))


def test_prd_jax_imports_from_the_new_environment(installed):
    site_packages = pathlib.Path(installed["purelib"]).resolve()
    assert pathlib.Path(installed["venv"]).resolve() in site_packages.parents
    for key in ("file", "turing"):
        module = pathlib.Path(installed[key]).resolve()
        assert site_packages in module.parents, (key, module)
        assert ROOT not in module.parents and pathlib.Path(installed["src"]) not in module.parents
    assert str(ROOT) not in installed["sys_path"]


def test_only_the_library_is_installed(installed):
    assert installed["top_level"] == ["prd_jax", f"prd_jax-{installed['version']}.dist-info"]
    assert "prd_jax/turing/gray_scott.py" in installed["files"]
    assert installed["found"] == {"experiments": False, "tests": False, "benchmarks": False}


def test_metadata_version_and_dependencies(installed):
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert installed["version"] == installed["dist_version"] == meta["version"]
    required = [r for r in installed["requires"] if "extra ==" not in r]
    names = {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].strip() for r in required}
    assert {"jax", "numpy", "scipy", "optax", "flax", "chex", "jaxtyping"} <= names
    assert not names & {"matplotlib", "pillow", "scikit-learn", "pytest"}, names
    extras = {r.split("extra ==")[1].strip().strip("\"'") for r in installed["requires"]
              if "extra ==" in r}  # fmt: skip
    assert {"cuda", "tpu", "dev", "experiments"} <= extras, extras
    assert any(r.startswith("jax[cuda12]") and "cuda" in r for r in installed["requires"])
    assert any(r.startswith("matplotlib") and "experiments" in r for r in installed["requires"])


def test_dependency_ranges_admit_the_pinned_versions():
    """Every library dependency's range holds the version requirements.txt pins and tests."""
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(meta["dependencies"])
    deps += [d for group in meta["optional-dependencies"].values() for d in group]
    for dep in map(Requirement, deps):
        name = dep.name.lower()
        if name in pins:
            assert dep.specifier.contains(pins[name]), f"{dep} excludes the pinned {pins[name]}"
        else:
            raise AssertionError(f"{dep} has no pin in requirements.txt")
