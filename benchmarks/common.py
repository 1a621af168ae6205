"""Shared helpers of the benchmarks: sizes, timing, the matmul reference rate.

Every benchmark module defines ``run(size) -> list[dict]`` with ``size`` one of ``SIZES``:
``full`` (``make bench``, the issue's settings), ``quick`` (smaller, about a minute) and
``tiny`` (seconds: the smoke test of ``tests/test_bench.py``, numbers meaningless).
"""

import statistics
import time

import jax
import jax.numpy as jnp

SIZES = ("tiny", "quick", "full")


def pick(size: str, tiny, quick, full):
    """The value for ``size``."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return {"tiny": tiny, "quick": quick, "full": full}[size]


def seconds(fn) -> float:
    """Wall seconds of ``fn()``, waiting for its JAX results."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - t0


def median_seconds(fn, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``."""
    return statistics.median(seconds(fn) for _ in range(repeats))


def interleaved(fns: dict, repeats: int) -> dict:
    """Median wall seconds of each callable, calling them in turn ``repeats`` times (so the
    machine's load hits each alike)."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(seconds(fn))
    return {name: statistics.median(ts) for name, ts in times.items()}


def matmul_fn(size: int = 1024, chain: int = 1):
    """A compiled float32 ``(size, size)`` matmul and its FLOP count, warmed up.

    ``chain > 1``: ``chain`` dependent matmuls in one program (``x <- x @ b``, ``b`` scaled to
    keep ``x`` bounded), a sustained rate over ~0.1-1 s instead of one ~5 ms burst, which on a
    shared machine swings 2x with the moment it is taken.
    """
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32) / size**0.5
    if chain == 1:
        f = jax.jit(jnp.matmul)
    else:
        f = jax.jit(lambda a, b: jax.lax.fori_loop(0, chain, lambda _, x: x @ b, a))
    jax.block_until_ready(f(a, b))
    return (lambda: f(a, b)), 2.0 * size**3 * chain


def device_name() -> str:
    dev = jax.devices()[0]
    return f"{jax.default_backend()} ({getattr(dev, 'device_kind', str(dev))})"
