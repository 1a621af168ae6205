"""The grid engine: seeds x widths x traced hyper-parameters, one compiled program per bucket.

    result = run_grid(cfg, X, Y, seeds=range(4), widths=(64, 128, 256), lambda_adv=(0.0, 1.0))
    result.sel(width=128, lambda_adv=1.0).metrics["kernel_dev"]   # (seeds, log points)

Every run is ``make_train(cfg)(jax.random.key(seed), hparams, X, Y)``. Widths are grouped into
buckets whose largest / smallest width is at most ``bucket_ratio`` (or, with ``bucket_ratio=None``,
by predicted cost: ``cost_buckets``); inside a bucket every run is
padded to the bucket's largest width with a neuron mask and its own ``1/sqrt(m)`` (exact:
padded neurons change nothing), so the product of seeds, the bucket's widths and every traced
axis (``lambda_adv``, ``lr``, ``critic_lr``) is one ``jit(vmap(train))``. The run axis is sharded
over every device (``jax.sharding``) and, under ``jax.distributed``, gathered from every process.

The engine does no file I/O: per-bucket results go through a ``cache`` with ``get(key)`` and
``put(key, arrays)`` (``MemoryCache`` here, ``results.BucketCache`` for a folder), so resuming an
interrupted grid works for every caller. A bucket's key is a hash of everything that determines
its numbers (config, data, critic, the bucket's grid), so a stale bucket is never reused.
"""

import dataclasses
import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from prd_jax import compile_cache
from prd_jax.critics import CriticTransform
from prd_jax.metrics import METRIC_NAMES
from prd_jax.model import Critic, Generator
from prd_jax.train import TrainConfig, init_params, make_train, unrolled_threefry_on_cpu

# Axes of a grid, in the order of every result array (only the traced axes given appear).
TRACED_AXES = ("lambda_adv", "lr", "critic_lr")
AXES = ("seed", "width") + TRACED_AXES
WEIGHT_NAMES = ("U0", "V0", "W0", "a0", "U", "V", "W", "a")
# Which axis of each weight array runs over neurons (to pad buckets to one width).
_NEURON_AXIS = {"U": 0, "V": 1, "W": 0, "a": 0}


class Cache(Protocol):
    """Storage of finished buckets, by key (e.g. a folder of ``.npz`` files)."""

    def get(self, key: str) -> dict[str, np.ndarray] | None: ...

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None: ...


class MemoryCache(dict):
    """A ``Cache`` in memory: ``get(key)`` and ``put(key, arrays)`` of a dict."""

    def put(self, key, arrays):
        self[key] = arrays


@dataclasses.dataclass(frozen=True, eq=False)
class GridResult:
    """Labelled arrays of a grid: every array's leading axes are ``dims`` (in ``AXES`` order).

    Attributes:
      coords: ``{axis name: (size,) values}``, the grid's axes in order.
      log_steps: ``(L,)`` steps at which the metrics were recorded.
      metrics: ``{name: (*shape, L)}`` for every name of ``metrics.METRIC_NAMES``.
      diverged, steps_taken: ``(*shape,)`` per run.
      weights: ``{name: (*shape, ...)}`` initial (``U0 V0 W0 a0``) and final (``U V W a``)
        weights, zero-padded to the largest width, when ``run_grid(..., weights=True)``.
      buckets: the widths of each compiled bucket; compiles: traces made by this call;
      cached: buckets taken from the cache.
      timings: one dict per bucket, in order: ``widths``, ``cached``, ``compile_seconds``
        (trace, lower and XLA compile; ~0 when this process compiled the program before)
        and ``run_seconds`` (execution and transfer to the host); 0.0 for a cached bucket;
        ``cache_hits`` and ``cache_misses``: the persistent compilation cache's lookups of
        that compile (``prd_jax.compile_cache``; 0 when off or compiled before in-process).
        The first computed bucket also has ``init_seconds``: drawing every seed's initial
        weights once for the grid (a small program of its own, compiled once per grid).
    """

    coords: dict
    log_steps: np.ndarray
    metrics: dict
    diverged: np.ndarray
    steps_taken: np.ndarray
    weights: dict = dataclasses.field(default_factory=dict)
    buckets: tuple = ()
    compiles: int = 0
    cached: int = 0
    timings: tuple = ()

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(self.coords)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.coords.values())

    def sel(self, **selection) -> "GridResult":
        """Select by coordinate value: a scalar drops the axis, a list keeps it.

        ``result.sel(width=256, lambda_adv=0.0)`` keeps ``(seed, L)`` metrics.
        """
        index, coords = [], {}
        for name, values in self.coords.items():
            if name not in selection:
                index.append(slice(None))
                coords[name] = values
                continue
            wanted = selection[name]
            positions = [self._position(name, v) for v in np.atleast_1d(wanted)]
            if np.ndim(wanted) == 0:
                index.append(positions[0])
            else:
                index.append(np.asarray(positions))
                coords[name] = values[positions]
        unknown = set(selection) - set(self.coords)
        if unknown:
            raise KeyError(f"no axis {sorted(unknown)} in this grid; axes: {list(self.coords)}")
        take = _indexer(index)
        return dataclasses.replace(
            self,
            coords=coords,
            metrics={k: take(v) for k, v in self.metrics.items()},
            diverged=take(self.diverged),
            steps_taken=take(self.steps_taken),
            weights={k: take(v) for k, v in self.weights.items()},
        )

    def _position(self, name, value) -> int:
        hits = np.flatnonzero(np.isclose(self.coords[name], value, rtol=1e-6, atol=0))
        if hits.size == 0:
            raise KeyError(
                f"{name}={np.asarray(value).item()!r} is not in the grid; "
                f"values: {self.coords[name].tolist()}"
            )
        return int(hits[0])

    def flat(self) -> dict[str, np.ndarray]:
        """One row per run (row-major over ``dims``): ``run_<axis> (B,)``, metrics ``(B, L)``,
        ``diverged`` and ``steps_taken (B,)``."""
        mesh = np.meshgrid(*self.coords.values(), indexing="ij")
        out = {f"run_{k}": m.ravel() for k, m in zip(self.coords, mesh, strict=True)}
        n = int(np.prod(self.shape))
        out.update({k: v.reshape(n, -1) for k, v in self.metrics.items()})
        out["diverged"] = self.diverged.reshape(n)
        out["steps_taken"] = self.steps_taken.reshape(n)
        return out


def _indexer(index):
    """Apply one index per leading axis, each an int (dropped) or an array (kept)."""

    def take(a):
        for axis in reversed(range(len(index))):
            i = index[axis]
            if isinstance(i, slice):
                continue
            a = np.take(a, i, axis=axis)
        return a

    return take


def make_buckets(widths, ratio: float = 2.0) -> list[tuple[int, ...]]:
    """Group sorted widths greedily so that each bucket's max / min <= ratio."""
    buckets: list[list[int]] = []
    for w in sorted(widths):
        if buckets and w <= ratio * buckets[-1][0]:
            buckets[-1].append(w)
        else:
            buckets.append([w])
    return [tuple(b) for b in buckets]


def padding_overhead(buckets) -> float:
    """Padded FLOPs / exact FLOPs: every run costs in proportion to its stored width."""
    return sum(max(b) * len(b) for b in buckets) / sum(sum(b) for b in buckets)


@dataclasses.dataclass(frozen=True)
class BucketCost:
    """What a bucket costs, in seconds: one compilation, then ``steps`` steps of a program
    whose step costs a fixed overhead plus work in proportion to its padded size,

        compile_seconds + steps * (step_seconds + unit_seconds * runs * M * n * (d_in + d_out))

    with ``runs`` the bucket's runs (its widths times the other axes) and ``M`` its largest
    width. The defaults are this project's 2-core CPU (measured 2026-12-05, JAX 0.10.2, with the
    WGAN-GP critic): a bucket program compiles in 2-4 s (2 s is its floor, when the machine
    is quiet); a step of 8 runs costs about 30 us at m = 32 (overhead: ~50 fused ops) and
    0.2 ns per unit above that (8 runs, n = 32, d_in = 16, d_out = 1: 0.5 ms at m = 512).
    They are constants on purpose: the plan must not depend on the moment it is made (a
    resumed sweep must bucket as the interrupted one did, or its buckets' keys change); it
    depends on the backend only (``for_backend``: a sweep resumed on another kind of device
    may bucket, and so compute, anew).
    """

    compile_seconds: float = 2.0
    step_seconds: float = 3e-5
    unit_seconds: float = 2e-10

    @classmethod
    def for_backend(cls, backend: str | None = None) -> "BucketCost":
        """The constants of ``backend`` (default ``jax.default_backend()``): the CPU's measured
        ones, or for an accelerator an estimate, unmeasured (no GPU has run this code yet):
        5 s per compile, 0.2 ms per step (about 50 kernel launches and the loop's condition
        read back by the host), 2 ps per unit (an H100's float32 rate at a third of its peak).
        An accelerator's compute being far cheaper, the plan merges more there."""
        backend = backend or jax.default_backend()
        if backend == "cpu":
            return cls()
        return cls(compile_seconds=5.0, step_seconds=2e-4, unit_seconds=2e-12)

    def seconds(self, bucket, others: int, steps: int, n: int, d_in: int, d_out: int) -> float:
        """Predicted compile + run seconds of ``bucket`` (its widths) with ``others`` runs per
        width (seeds x traced values)."""
        units = others * len(bucket) * max(bucket) * n * (d_in + d_out)
        return self.compile_seconds + steps * (self.step_seconds + self.unit_seconds * units)


def cost_buckets(
    widths,
    *,
    others: int,
    steps: int,
    n: int,
    d_in: int,
    d_out: int,
    cost: BucketCost | None = None,
) -> list[tuple[int, ...]]:
    """Buckets of sorted widths that minimise the total predicted seconds of ``cost``
    (default ``BucketCost.for_backend()``): small widths share one padded program whenever
    the padded work costs less than the compilations it saves; large widths, whose work
    dwarfs a compilation, stay apart. Exact dynamic programming over contiguous runs of the sorted
    widths (a padded bucket is never worth holding a gap), deterministic given its inputs."""
    cost = cost if cost is not None else BucketCost.for_backend()
    ws = sorted(int(w) for w in widths)
    best = [0.0] + [np.inf] * len(ws)
    start = [0] * (len(ws) + 1)
    for j in range(1, len(ws) + 1):
        for i in range(j):  # the last bucket is ws[i:j]
            total = best[i] + cost.seconds(ws[i:j], others, steps, n, d_in, d_out)
            if total < best[j]:  # strict: ties keep the earlier (larger) bucket
                best[j], start[j] = total, i
    buckets, j = [], len(ws)
    while j > 0:
        buckets.append(tuple(ws[start[j] : j]))
        j = start[j]
    return buckets[::-1]


def plan_buckets(
    widths,
    bucket_ratio: float | None = 2.0,
    *,
    others: int = 1,
    steps: int = 1,
    n: int = 1,
    d_in: int = 1,
    d_out: int = 1,
    cost: BucketCost | None = None,
) -> list[tuple[int, ...]]:
    """The buckets ``run_grid`` compiles: ``make_buckets(widths, bucket_ratio)`` for a number,
    ``cost_buckets`` (by predicted cost, from the grid's shape) for None."""
    if bucket_ratio is not None:
        return make_buckets(widths, bucket_ratio)
    return cost_buckets(widths, others=others, steps=steps, n=n, d_in=d_in, d_out=d_out,
                        cost=cost)  # fmt: skip


def _grid_buckets(cfg, X, Y, coords, bucket_ratio, bucket_cost) -> list[tuple[int, ...]]:
    """``plan_buckets`` for a checked grid (``coords``) and data."""
    others = int(np.prod([len(v) for k, v in coords.items() if k != "width"]))
    return plan_buckets(
        coords["width"].tolist(), bucket_ratio, others=others, steps=cfg.steps,
        n=X.shape[0], d_in=X.shape[1], d_out=Y.shape[1], cost=bucket_cost,
    )  # fmt: skip


# ----------------------------------------------------------------------------- one bucket

_TRACES = {"count": 0}  # incremented each time a bucket's program is traced
# run_grid(log_progress=True): the hook ``fn(step, seconds)`` of the bucket now running.
_LOG_HOOK = {"fn": None, "start": 0.0, "shards": 1, "seen": {}, "lock": threading.Lock()}


def _on_log_point(step: int) -> None:
    """Host side of a log point (``make_train(on_log=...)``): each of this process's device
    shards calls it once per log point; the hook hears of a step once all of them reached it."""
    hook = _LOG_HOOK
    with hook["lock"]:
        seen = hook["seen"][step] = hook["seen"].get(step, 0) + 1
    if seen == hook["shards"] and hook["fn"] is not None:
        hook["fn"](step, time.perf_counter() - hook["start"])


@functools.lru_cache(maxsize=64)
def _batched_train(
    cfg: TrainConfig, critic: CriticTransform | None, weights: bool, mesh, log_points=False
):
    """``jit(shard_map(vmap(train)))`` over (seed, hparams), one per static config and mesh:
    equal configs in one process share a compilation. Each device trains its own block of runs
    (``shard_map``: no cross-device traffic, and the metrics' host callbacks run on each
    device's own host instead of gathering every run to device 0). Returns only what is kept
    (XLA drops the rest)."""
    train = make_train(cfg, critic, on_log=_on_log_point if log_points else None)

    def one_run(seed, hparams, params0, X, Y):
        _TRACES["count"] += 1  # Python side effect: runs once per trace, never per call
        r = train(jax.random.key(seed), hparams, X, Y, params0)
        out = {"metrics": r.metrics, "diverged": r.diverged, "steps_taken": r.steps_taken}
        if weights:
            (g0, c0), (g, c) = r.init, r.final
            out["weights"] = dict(U0=g0.U, V0=g0.V, W0=c0.W, a0=c0.a, U=g.U, V=g.V, W=c.W, a=c.a)
        return out

    runs, same = PartitionSpec("runs"), PartitionSpec()
    batched = jax.shard_map(
        jax.vmap(one_run, in_axes=(0, 0, 0, None, None)),
        mesh=mesh,
        in_specs=(runs, runs, runs, same, same),
        out_specs=runs,
        check_vma=False,  # host callbacks inside carry no varying-axis annotation
    )
    return jax.jit(batched)


def _global_arrays(tree, sharding):
    """Host data, the same on every process, as global arrays laid out by ``sharding``.

    Each process builds only its addressable shards from its own copy
    (``jax.make_array_from_callback``): no cross-process transfer and no equality check,
    which ``jax.device_put`` onto devices of other processes would add.
    """

    def put(x):
        x = np.asarray(x)
        x = x.astype(jax.dtypes.canonicalize_dtype(x.dtype), copy=False)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(put, tree)


@functools.lru_cache(maxsize=16)
def _init_program(width: int, d_in: int, d_out: int):
    """``jit(vmap(train.init_params))`` over seeds at one stored width (one compile each)."""
    return jax.jit(jax.vmap(lambda seed: init_params(jax.random.key(seed), width, d_in, d_out)))


def initial_weights(seeds, width: int, d_in: int, d_out: int) -> tuple:
    """Every seed's unmasked initial weights at ``width`` (numpy, leading axis: seeds), as
    ``make_train``'s ``train(key(seed), ...)`` draws them. Drawn once per grid at its largest
    width; a bucket takes its first neurons (initialisation is nested)."""
    seeds = np.asarray(seeds, np.int32)
    return jax.device_get(_init_program(int(width), int(d_in), int(d_out))(seeds))


def _bucket_params0(init0, seed_index, width: int):
    """The runs' initial weights for a bucket of stored ``width``: rows ``seed_index`` of the
    grid's ``init0``, the first ``width`` neurons."""
    (U, V), (W, a) = init0
    take = np.asarray(seed_index)
    return (
        Generator(U[take, :width], V[take, :, :width]),
        Critic(W[take, :width], a[take, :width]),
    )


def _run_bucket(cfg, critic, weights, seeds, hparams, params0, X, Y) -> tuple[dict, dict]:
    """Run ``(B,)`` seeds, hparams and initial weights in one program sharded over every
    device of every process (``jax.devices()`` is global under ``jax.distributed``); numpy
    out, the same on every process, with ``{"compile_seconds", "run_seconds"}``."""
    num_runs = len(seeds)
    devices = jax.devices()
    runs = (np.asarray(seeds, np.int32), jax.tree.map(np.asarray, hparams), params0)
    pad = (-num_runs) % len(devices)
    if pad:  # repeat the last run so the run axis divides evenly over the devices
        runs = jax.tree.map(lambda x: np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]), runs)
    mesh = jax.sharding.Mesh(np.asarray(devices), ("runs",))
    seeds, hparams, params0 = _global_arrays(runs, NamedSharding(mesh, PartitionSpec("runs")))
    X, Y = _global_arrays((X, Y), NamedSharding(mesh, PartitionSpec()))
    jitted = _batched_train(cfg, critic, weights, mesh, _LOG_HOOK["fn"] is not None)
    start, lookups = time.perf_counter(), compile_cache.stats()
    # Ahead of time, to time compilation apart from the run (jax caches both in-process; the
    # persistent cache of ``prd_jax.compile_cache``, when on, serves this compile too).
    with unrolled_threefry_on_cpu():  # the steps' random draws without while loops
        lowered = jitted.lower(seeds, hparams, params0, X, Y)
    compiled = lowered.compile()
    compiled_at, after = time.perf_counter(), compile_cache.stats()
    with _LOG_HOOK["lock"]:
        _LOG_HOOK.update(start=compiled_at, shards=len(mesh.local_devices), seen={})
    out = compiled(seeds, hparams, params0, X, Y)
    if jax.process_count() > 1:  # each process holds only its devices' shard of runs
        from jax.experimental import multihost_utils

        out = multihost_utils.process_allgather(out, tiled=True)
    out = jax.device_get(out)
    timing = dict(
        compile_seconds=compiled_at - start,
        run_seconds=time.perf_counter() - compiled_at,
        # Persistent-cache lookups of this compile (0 and 0: compiled before in this process,
        # or no persistent cache).
        cache_hits=after["hits"] - lookups["hits"],
        cache_misses=after["misses"] - lookups["misses"],
    )
    flat = {f"metric/{k}": v for k, v in out["metrics"].items()}
    flat.update({f"weight/{k}": v for k, v in out.get("weights", {}).items()})
    flat.update(diverged=out["diverged"], steps_taken=out["steps_taken"])
    return {k: np.asarray(v)[:num_runs] for k, v in flat.items()}, timing


# ----------------------------------------------------------------------------- the grid


class GridError(ValueError):
    """``run_grid`` cannot run as asked (bad input, or more memory than the machine has); the
    message is one line naming the argument, the value and the fix."""


def _axis_values(name, values) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(values))
    except (TypeError, ValueError):
        arr = np.asarray([], object)
    plural = "seeds" if name == "seed" else "widths" if name == "width" else name
    if arr.ndim != 1 or arr.size == 0:
        raise GridError(f"run_grid: {plural} must be a non-empty sequence, got {values!r}")
    if name in ("seed", "width"):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise GridError(f"run_grid: {plural} must be integers, got {values!r}")
        if name == "width" and np.any(arr <= 0):
            raise GridError(f"run_grid: widths must be positive integers, got {arr.tolist()}")
        if np.any(np.abs(arr) > np.iinfo(np.int32).max):
            raise GridError(f"run_grid: {plural} must be below 2^31 (int32), got {arr.tolist()}")
        arr = arr.astype(np.int64)
    else:
        if arr.dtype == bool or not (
            np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
        ):
            raise GridError(f"run_grid: {name} must be numbers, got {values!r}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise GridError(f"run_grid: {name} values must be finite, got {arr.tolist()}")
        if np.any(np.abs(arr) > FLOAT32_MAX) and _casts_to_float32(arr.dtype):
            raise GridError(
                f"run_grid: {name} values must be within float32's range (|x| <= "
                f"{FLOAT32_MAX:.4g}; they are traced as float32), got {arr.tolist()}"
            )
    if len(np.unique(arr)) != arr.size:
        raise GridError(f"run_grid: {plural} has duplicate values: {arr.tolist()}")
    return arr


FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_RUNS = 2**24  # runs of one bucket: a sanity bound, checked before any array is built


def _casts_to_float32(dtype) -> bool:
    """Whether JAX will hold an array of ``dtype`` as float32 (float64 without x64)."""
    return np.dtype(jax.dtypes.canonicalize_dtype(np.dtype(dtype))) == np.float32


def _check_data(X, Y):
    """``X (n, d_in)`` and ``Y (n, d_out)`` as finite float numpy arrays, or a GridError."""
    out = []
    for name, a, shape in (("X", X, "(n, d_in)"), ("Y", Y, "(n, d_out)")):
        try:
            arr = np.asarray(a)
        except (TypeError, ValueError) as err:
            raise GridError(f"run_grid: {name} must be a float array {shape}: {err}") from None
        if arr.ndim != 2 or 0 in arr.shape:
            raise GridError(
                f"run_grid: {name} must be a non-empty float matrix {shape}, got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.floating):
            raise GridError(
                f"run_grid: {name} must have a float dtype, got {arr.dtype}; "
                f"pass {name}.astype(np.float32)"
            )
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise GridError(
                f"run_grid: {name} holds {bad} NaN/inf value(s); clean or drop those samples"
            )
        if _casts_to_float32(arr.dtype):
            big = int(np.count_nonzero(np.abs(arr) > FLOAT32_MAX))
            if big:
                raise GridError(
                    f"run_grid: {name} holds {big} value(s) beyond float32's range (max |x| = "
                    f"{float(np.max(np.abs(arr))):.4g} > {FLOAT32_MAX:.4g}), which become inf "
                    f"when cast to float32; rescale {name}, or run under jax.enable_x64(True)"
                )
        out.append(arr)
    if out[0].shape[0] != out[1].shape[0]:
        raise GridError(
            f"run_grid: X has {out[0].shape[0]} samples (rows) but Y has {out[1].shape[0]}"
        )
    return out


def bucket_memory_bytes(
    cfg: TrainConfig, n: int, d_in: int, d_out: int, runs: int, width: int, weights=False
) -> int:
    """Estimated memory of one bucket: ``runs`` runs padded to ``width``, all at once.

    Per run (float32): about eight copies of the weights (initial, reference, current,
    candidate, gradients, critic state), two more per Adam optimizer, the ``(n, n)`` kernels of
    the metrics (reference, current, their difference and eigen-decomposition workspace), the
    ``(n, width)`` activations and their gradients, the metrics, and the returned weights.
    """
    params = width * (d_in + 2 * d_out + 1)
    copies = 8 + 2 * (cfg.optimizer == "adam") + 2 * (cfg.critic_optimizer == "adam")
    per_run = (
        copies * params
        + 6 * n * n
        + 6 * n * width
        + len(METRIC_NAMES) * len(cfg.log_steps())
        + (2 * params if weights else 0)
    )
    return 4 * int(runs) * int(per_run)


def available_memory_bytes() -> int | None:
    """Memory one bucket may use: the accelerators' free memory (per device, times the number
    of devices), or the host's ``MemAvailable`` (``/proc/meminfo``, else ``os.sysconf``)."""
    devices = jax.devices()
    if jax.default_backend() != "cpu":
        try:
            stats = [d.memory_stats() or {} for d in devices]
            free = [s["bytes_limit"] - s.get("bytes_in_use", 0) for s in stats]
            return int(min(free)) * len(devices)
        except (KeyError, TypeError, AttributeError, RuntimeError, NotImplementedError):
            pass
    from prd_jax.kernels import host_memory_bytes

    return host_memory_bytes()


def check_grid(cfg, X, Y, *, seeds, widths, bucket_ratio=2.0, weights=False,
               max_memory_gb=None, bucket_cost=None, **axes):  # fmt: skip
    """Validate ``run_grid``'s arguments and its largest bucket's memory before anything runs.

    Returns ``(coords, constants, X, Y)``; raises ``GridError`` (a ValueError) with one line
    naming the argument, the value and the fix.
    """
    if not isinstance(cfg, TrainConfig):
        raise GridError(f"run_grid: cfg must be a TrainConfig, got {type(cfg).__name__}")
    unknown = set(axes) - set(TRACED_AXES)
    if unknown:
        raise GridError(f"run_grid: unknown axis {sorted(unknown)}; traced axes: {TRACED_AXES}")
    if bucket_ratio is not None and (  # None: buckets by cost (cost_buckets)
        not isinstance(bucket_ratio, int | float | np.integer | np.floating)
        or not bucket_ratio >= 1  # inf: every width in one bucket
    ):
        raise GridError(
            f"run_grid: bucket_ratio must be a number >= 1 or None, got {bucket_ratio!r}"
        )
    # Not np.ndim(seeds): it would turn range(2**31) into an array before any check.
    if not hasattr(seeds, "__iter__") or getattr(seeds, "ndim", 1) == 0:
        raise GridError(f"run_grid: seeds must be a sequence such as range(4), got {seeds!r}")
    if not hasattr(seeds, "__len__"):
        seeds = list(seeds)  # an iterator: the caller's own
    X, Y = _check_data(X, Y)
    widths = _axis_values("width", widths)
    try:
        cfg.check_image_shape(X.shape[1], "run_grid: cfg.image_shape")
    except ValueError as err:
        raise GridError(str(err)) from None
    if max_memory_gb is not None and not (
        isinstance(max_memory_gb, int | float | np.integer | np.floating)
        and 0 < max_memory_gb < np.inf
    ):
        raise GridError(f"run_grid: max_memory_gb must be a number > 0, got {max_memory_gb!r}")
    # Sizes first, from the lengths alone: range(2**31) seeds are refused, never listed.
    others = len(seeds) * int(np.prod([_length(v) for v in axes.values()]))
    check_memory(
        cfg, X.shape[0], X.shape[1], Y.shape[1], others=others, widths=widths.tolist(),
        bucket_ratio=bucket_ratio, weights=weights, max_memory_gb=max_memory_gb,
        bucket_cost=bucket_cost,
    )  # fmt: skip
    seeds = seeds if isinstance(seeds, np.ndarray) else list(seeds)
    coords = {"seed": _axis_values("seed", seeds), "width": widths}
    constants = {}
    for k, v in axes.items():
        if np.ndim(v) == 0:
            constants[k] = float(_axis_values(k, [v])[0])
    coords.update(
        {k: _axis_values(k, axes[k]) for k in TRACED_AXES if k in axes and k not in constants}
    )
    for k in TRACED_AXES:  # the ranges of TrainConfig.hparams (HParams.lr must be > 0, ...)
        if k in axes:
            try:
                cfg.hparams(**{k: coords[k] if k in coords else constants[k]})
            except ValueError as err:
                raise GridError(f"run_grid: {err}") from None
    return coords, constants, X, Y


def _length(values) -> int:
    """How many values a traced axis holds: 1 for a scalar (a constant of every run)."""
    if isinstance(values, str) or not hasattr(values, "__len__"):
        return 1
    return 1 if getattr(values, "shape", None) == () else len(values)


def check_runs(
    others, widths, bucket_ratio=2.0, where="run_grid", buckets=None
) -> list[tuple[int, ...]]:
    """Refuse a bucket of more than ``MAX_RUNS`` runs (``others`` runs per width: seeds x
    traced values); returns the buckets (``buckets`` if given, else the ratio rule's; for
    ``bucket_ratio=None`` without ``buckets``, each width alone: the least any plan by cost
    holds, since the plan itself needs the grid's shape and backend). Sizes only: nothing is
    allocated."""
    if buckets is None:
        buckets = make_buckets(widths, 1.0 if bucket_ratio is None else bucket_ratio)
    for bucket in buckets:
        runs = others * len(bucket)
        if runs > MAX_RUNS:
            raise GridError(
                f"{where}: the bucket of widths {list(bucket)[:8]} holds {runs} runs (seeds x "
                f"widths x traced values), more than {MAX_RUNS}; use fewer seeds or values"
            )
    return buckets


def check_memory(
    cfg, n, d_in, d_out, *, others, widths, bucket_ratio=2.0, weights=False,
    max_memory_gb=None, where="run_grid", bucket_cost=None,
) -> None:  # fmt: skip
    """Refuse a grid whose buckets cannot be built: more than ``MAX_RUNS`` runs in one, or
    more memory (``bucket_memory_bytes``) than ``max_memory_gb`` (GiB) or, without it, than
    the machine has available. ``others``: runs per width (seeds x traced axes). Needs only
    sizes, so it runs before any array is made. Raises ``GridError`` with one line."""
    plan = plan_buckets(
        widths, bucket_ratio, others=others, steps=cfg.steps, n=n, d_in=d_in, d_out=d_out,
        cost=bucket_cost,
    )  # fmt: skip
    buckets = check_runs(others, widths, bucket_ratio, where, buckets=plan)
    limit = max_memory_gb * 2**30 if max_memory_gb is not None else available_memory_bytes()
    if limit is None:
        return
    for bucket in buckets:
        runs = others * len(bucket)
        width = max(bucket)
        need = bucket_memory_bytes(cfg, n, d_in, d_out, runs, width, weights)
        if need > limit:
            source = "allowed by max_memory_gb" if max_memory_gb is not None else "available"
            raise GridError(
                f"{where}: the bucket of widths {list(bucket)} ({runs} runs, n = {n}, "
                f"width {width}) needs about {need / 2**30:.3g} GiB, more than the "
                f"{limit / 2**30:.3g} GiB {source}; use fewer seeds or widths, a smaller "
                "bucket_ratio, or raise max_memory_gb"
            )


def _fingerprint(cfg, critic, X, Y, coords, constants, bucket) -> str:
    spec = {
        "config": dataclasses.asdict(cfg),
        # A custom critic's repr names its functions' addresses: never reused across processes.
        "critic": "config" if critic is None else repr(critic),
        "data": hashlib.sha256(np.ascontiguousarray(X, np.float32).tobytes()).hexdigest(),
        "targets": hashlib.sha256(np.ascontiguousarray(Y, np.float32).tobytes()).hexdigest(),
        "grid": {k: np.asarray(v).tolist() for k, v in coords.items()},
        "constants": constants,
        "bucket": list(bucket),
        "metrics": list(METRIC_NAMES),  # a file written before a metric existed is not reused
    }
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    return f"bucket_{min(bucket):06d}-{max(bucket):06d}_{digest[:12]}"


def run_grid(
    cfg: TrainConfig,
    X,
    Y,
    *,
    seeds: Sequence[int],
    widths: Sequence[int],
    critic: CriticTransform | None = None,
    cache: Cache | None = None,
    bucket_ratio: float | None = 2.0,
    weights: bool = False,
    progress: Callable[[dict], None] | None = None,
    max_memory_gb: float | None = None,
    log_progress: bool = False,
    bucket_cost: BucketCost | None = None,
    **axes,
) -> GridResult:
    """Train the product ``seeds x widths x axes`` with one compiled program per bucket.

    Args:
      cfg: static config shared by every run (``cfg.width`` is replaced by each bucket's
        largest width).
      X, Y: data ``(n, d_in)``, ``(n, d_out)``.
      seeds: run keys are ``jax.random.key(seed)``; one seed gives the same (nested)
        initialisation at every width and every traced value: comparisons are paired.
      widths: the runs' widths m.
      critic: a ``critics.CriticTransform`` (default: the one ``cfg.critic`` names).
      cache: where finished buckets are stored and found (``get``/``put`` by key).
      bucket_ratio: widths of one bucket span at most this factor (>= 1); None: buckets
        chosen by predicted cost (``cost_buckets``: small widths share a padded program when
        that costs less than compiling them apart; numbers are the same either way).
      weights: also return initial and final weights (memory: runs x widths x d_in).
      progress: called after each bucket with a dict (``bucket``, ``buckets``, ``widths``,
        ``runs``, ``seconds``, ``cached``, ``diverged``, ``compile_seconds``, ``run_seconds``,
        ``cache_hits``, ``cache_misses``, ``kind="bucket"``).
      max_memory_gb: the memory one bucket may use (default: what the machine has
        available, ``available_memory_bytes``); a larger estimate (``bucket_memory_bytes``)
        is refused before anything is allocated.
      log_progress: also call ``progress`` inside each computed bucket at every log point
        after the first, once every local device reached it, with ``kind="log_point"``,
        ``bucket``, ``buckets``, ``widths``, ``step``, ``steps``, ``seconds`` (since the
        program started) and ``eta_seconds``. Off by default: on, each bucket compiles a
        second program (a host callback at each log point); its numbers are identical.
      bucket_cost: the cost model of ``bucket_ratio=None`` (default
        ``BucketCost.for_backend()``).
      **axes: traced axes among ``lambda_adv``, ``lr``, ``critic_lr``: a sequence is an axis
        of the grid, a scalar a constant of every run; missing ones take ``cfg``'s value.

    Returns:
      ``GridResult`` with axes ``seed, width`` then the given sequence axes in ``AXES`` order.
    """
    coords, constants, X, Y = check_grid(
        cfg, X, Y, seeds=seeds, widths=widths, bucket_ratio=bucket_ratio, weights=weights,
        max_memory_gb=max_memory_gb, bucket_cost=bucket_cost, **axes,
    )  # fmt: skip
    shape = tuple(len(v) for v in coords.values())
    parts, compiles0, cached, timings = {}, _TRACES["count"], 0, []
    buckets = _grid_buckets(cfg, X, Y, coords, bucket_ratio, bucket_cost)
    init0 = None  # every seed's initial weights at the largest width, drawn when first needed
    for i, bucket in enumerate(buckets):
        start = time.perf_counter()
        bucket_coords = dict(coords, width=np.asarray(bucket))
        key = _fingerprint(
            dataclasses.replace(cfg, width=max(bucket)),
            critic,
            X,
            Y,
            bucket_coords,
            constants,
            bucket,
        )
        part = _cache_get(cache, key)
        was_cached = part is not None
        timing = dict(widths=list(bucket), cached=was_cached, compile_seconds=0.0,
                      run_seconds=0.0, cache_hits=0, cache_misses=0)  # fmt: skip
        if part is None:
            if log_progress and progress is not None:
                _LOG_HOOK["fn"] = _log_point_reporter(progress, i, buckets, cfg.steps)
            if init0 is None:  # once per grid, at its largest width (nested init)
                t0 = time.perf_counter()
                init0 = initial_weights(
                    coords["seed"], int(coords["width"].max()), X.shape[1], Y.shape[1]
                )
                timing["init_seconds"] = time.perf_counter() - t0
            try:
                part, seconds = _compute_bucket(
                    cfg, critic, weights, bucket_coords, constants, X, Y, init0
                )
            finally:
                _LOG_HOOK["fn"] = None
            timing.update(seconds)
            if cache is not None:
                cache.put(key, part)
        cached += was_cached
        parts[bucket] = part
        timings.append(timing)
        if progress is not None:
            progress(_bucket_record(i, buckets, part, time.perf_counter() - start, timing))
    compiles = _TRACES["count"] - compiles0
    return _assemble(cfg, coords, shape, buckets, parts, weights, compiles, cached, timings)


def _bucket_record(i, buckets, part, seconds, timing) -> dict:
    """The ``kind="bucket"`` progress record of bucket ``i``, finished (or read from the cache)
    in ``seconds``."""
    return dict(
        bucket=i + 1,
        buckets=len(buckets),
        widths=list(buckets[i]),
        runs=int(part["diverged"].size),
        seconds=seconds,
        cached=timing["cached"],
        diverged=int(part["diverged"].sum()),
        compile_seconds=timing["compile_seconds"],
        run_seconds=timing["run_seconds"],
        cache_hits=timing.get("cache_hits", 0),
        cache_misses=timing.get("cache_misses", 0),
        kind="bucket",
    )


def _log_point_reporter(progress, i, buckets, steps):
    """``_LOG_HOOK``'s ``fn(step, seconds)`` for bucket ``i``: a ``kind="log_point"`` progress
    record with the time left at the rate so far."""

    def report(step, seconds):
        eta = seconds * (steps - step) / step if step > 0 else float("nan")
        progress(
            dict(
                kind="log_point",
                bucket=i + 1,
                buckets=len(buckets),
                widths=list(buckets[i]),
                step=int(step),
                steps=int(steps),
                seconds=seconds,
                eta_seconds=eta,
            )
        )

    return report


def _cache_get(cache, key) -> dict | None:
    """``cache.get(key)``, decided by process 0 alone under ``jax.distributed``.

    Only process 0 reads the cache, and every process receives its arrays: all processes then
    skip or compute the same buckets (their collectives stay matched) even when the folder is
    not shared, and no other process ever touches the folder.
    """
    if cache is None:
        return None
    if jax.process_count() == 1:
        return cache.get(key)
    return _from_process_0(cache.get(key) if jax.process_index() == 0 else None)


def _from_process_0(part: dict | None) -> dict | None:
    """Process 0's ``{name: numpy array}`` or None, on every process (sent as bytes)."""
    from jax.experimental import multihost_utils

    spec, data = b"", np.zeros(0, np.uint8)
    if part is not None:  # only ever on process 0
        arrays = {k: np.ascontiguousarray(v) for k, v in part.items()}
        layout = {k: [list(v.shape), v.dtype.str] for k, v in arrays.items()}
        spec = json.dumps(layout).encode()
        data = np.frombuffer(b"".join(v.tobytes() for v in arrays.values()), np.uint8)
    sizes = np.asarray([len(spec) if part is not None else -1, data.size], np.int32)
    n_spec, n_data = (int(v) for v in multihost_utils.broadcast_one_to_all(sizes))
    if n_spec < 0:
        return None
    buf = np.concatenate([np.frombuffer(spec, np.uint8), data])
    if buf.size != n_spec + n_data:  # processes other than 0: a placeholder of the same size
        buf = np.zeros(n_spec + n_data, np.uint8)
    buf = np.asarray(multihost_utils.broadcast_one_to_all(buf)).astype(np.uint8)
    if part is not None:
        return part
    out, offset = {}, n_spec
    for name, (shape, dtype) in json.loads(buf[:n_spec].tobytes()).items():
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        out[name] = buf[offset : offset + size].view(dtype).reshape(shape).copy()
        offset += size
    return out


def _compute_bucket(
    cfg, critic, weights, bucket_coords, constants, X, Y, init0
) -> tuple[dict, dict]:
    mesh = np.meshgrid(*bucket_coords.values(), indexing="ij")
    runs = {k: m.ravel() for k, m in zip(bucket_coords, mesh, strict=True)}
    bucket_cfg = dataclasses.replace(cfg, width=int(bucket_coords["width"].max()))
    traced = {k: runs[k] for k in TRACED_AXES if k in runs} | constants
    hparams = bucket_cfg.hparams(width=runs["width"], **traced)
    order = np.argsort(bucket_coords["seed"])  # seeds may come in any order
    seed_index = order[np.searchsorted(bucket_coords["seed"][order], runs["seed"])]
    params0 = _bucket_params0(init0, seed_index, bucket_cfg.width)
    return _run_bucket(bucket_cfg, critic, weights, runs["seed"], hparams, params0, X, Y)


def _assemble(cfg, coords, shape, buckets, parts, weights, compiles, cached, timings):
    """Scatter each bucket's flat runs back into arrays shaped ``(*shape, ...)``."""
    widths = coords["width"]
    M = int(widths.max())
    w_axis = list(coords).index("width")
    out: dict[str, np.ndarray] = {}
    for bucket, part in parts.items():
        bshape = list(shape)
        bshape[w_axis] = len(bucket)
        cols = [int(np.flatnonzero(widths == w)[0]) for w in bucket]
        for name, arr in part.items():
            arr = arr.reshape(tuple(bshape) + arr.shape[1:])
            if name.startswith("weight/"):
                arr = _pad_neurons(name.split("/")[1], arr, len(shape), M)
            if name not in out:
                out[name] = np.zeros(shape + arr.shape[len(shape) :], arr.dtype)
            index = [slice(None)] * len(shape)
            index[w_axis] = cols
            out[name][tuple(index)] = arr
    return GridResult(
        coords=coords,
        log_steps=np.asarray(cfg.log_steps()),
        metrics={k: out[f"metric/{k}"] for k in METRIC_NAMES},
        diverged=out["diverged"].astype(bool),
        steps_taken=out["steps_taken"],
        weights={k: out[f"weight/{k}"] for k in WEIGHT_NAMES} if weights else {},
        buckets=tuple(buckets),
        compiles=compiles,
        cached=cached,
        timings=tuple(timings),
    )


def _pad_neurons(name, arr, lead, M):
    axis = lead + _NEURON_AXIS[name.rstrip("0")]
    pad = [(0, 0)] * arr.ndim
    pad[axis] = (0, M - arr.shape[axis])
    return np.pad(arr, pad)
