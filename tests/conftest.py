"""Strict JAX settings for the suite.

* No silent rank promotion, everywhere.
* No implicit dtype promotion (``float32 * int32`` or ``float32 * bool`` is an error; Python
  scalars stay weakly typed) in every test module marked ``pytestmark =
  pytest.mark.strict_dtypes``. Not global: optax's Adam computes ``decay ** count`` with an
  int32 count, which strict mode rejects, so training code cannot run under it.
"""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


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
