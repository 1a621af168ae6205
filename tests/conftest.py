"""Strict JAX settings for the suite, and its compilation cache.

* No silent rank promotion, everywhere.
* No implicit dtype promotion (``float32 * int32`` or ``float32 * bool`` is an error; Python
  scalars stay weakly typed) in every test module marked ``pytestmark =
  pytest.mark.strict_dtypes``. Not global: optax's Adam computes ``decay ** count`` with an
  int32 count, which strict mode rejects, so training code cannot run under it.
"""

import pathlib

import jax
import pytest

from prd_jax import compile_cache

jax.config.update("jax_numpy_rank_promotion", "raise")


def _use_the_suites_compile_cache():
    """The suite's own persistent compilation cache (``.cache/jax-tests/``, gitignored),
    set before anything compiles and exported to every subprocess the tests start: the xdist
    workers, the entry points run as commands and a later run all load what one compiled.
    ``PRD_JAX_CACHE=0`` runs the suite without it."""
    compile_cache.enable(pathlib.Path(__file__).resolve().parents[1] / ".cache" / "jax-tests",
                         export=True)  # fmt: skip


_use_the_suites_compile_cache()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "strict_dtypes: run under jax_numpy_dtype_promotion='strict'"
    )


@pytest.fixture(autouse=True)
def _strict_dtype_promotion(request):
    if request.node.get_closest_marker("strict_dtypes") is None:
        yield
        return
    with jax.numpy_dtype_promotion("strict"):
        yield


# ----------------------------------------------------------------------------- data sets

# Every skip for a missing data set starts with this, so that the summary can count them.
MISSING_DATA = "data set not installed: "


def skip_without_data(*names: str) -> None:
    """Skip the calling test when an image data set it reads is missing (a fresh machine has
    no Fashion-MNIST): the reason names the exact install command, and the end of the run
    counts these skips (``pytest_terminal_summary``). ``.ci/run`` installs the data."""
    from prd_jax import data

    for name in names:
        if name in data.IDX_SOURCES and not data.available(name):
            env, install = data.IDX_SOURCES[name]
            pytest.skip(f"{MISSING_DATA}{name}; install it with `{install}` (or set ${env})")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line at the end of the run when tests were skipped for a missing data set (the
    short summary under it repeats each skip with its reason)."""
    reasons = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        if MISSING_DATA in reason:
            what = reason.split(MISSING_DATA, 1)[1]
            reasons[what] = reasons.get(what, 0) + 1
    for what, count in sorted(reasons.items()):
        terminalreporter.write_line(
            f"{count} test(s) skipped, {MISSING_DATA}{what}; then rerun the tests to run them"
        )
