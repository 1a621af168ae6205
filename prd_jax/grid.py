"""The grid engine: seeds x widths x traced hyper-parameters, one compiled program per bucket.

    result = run_grid(cfg, X, Y, seeds=range(4), widths=(64, 128, 256), lambda_adv=(0.0, 1.0))
    result.sel(width=128, lambda_adv=1.0).metrics["kernel_dev"]   # (seeds, log points)

Every run is ``make_train(cfg)(jax.random.key(seed), hparams, X, Y)``. Widths are grouped into
buckets whose largest / smallest width is at most ``bucket_ratio``; inside a bucket every run is
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
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from prd_jax.critics import CriticTransform
from prd_jax.metrics import METRIC_NAMES
from prd_jax.train import TrainConfig, make_train

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


# ----------------------------------------------------------------------------- one bucket

_TRACES = {"count": 0}  # incremented each time a bucket's program is traced


@functools.lru_cache(maxsize=64)
def _batched_train(cfg: TrainConfig, critic: CriticTransform | None, weights: bool):
    """``jit(vmap(train))`` over (seed, hparams), one per static config: equal configs in one
    process share a compilation. Returns only what is kept (XLA drops the rest)."""
    train = make_train(cfg, critic)

    def one_run(seed, hparams, X, Y):
        _TRACES["count"] += 1  # Python side effect: runs once per trace, never per call
        r = train(jax.random.key(seed), hparams, X, Y)
        out = {"metrics": r.metrics, "diverged": r.diverged, "steps_taken": r.steps_taken}
        if weights:
            (g0, c0), (g, c) = r.init, r.final
            out["weights"] = dict(U0=g0.U, V0=g0.V, W0=c0.W, a0=c0.a, U=g.U, V=g.V, W=c.W, a=c.a)
        return out

    return jax.jit(jax.vmap(one_run, in_axes=(0, 0, None, None)))


def _run_bucket(cfg, critic, weights, seeds, hparams, X, Y) -> dict:
    """Run ``(B,)`` seeds and hparams in one program sharded over every device; numpy out."""
    num_runs = len(seeds)
    devices = jax.devices()
    seeds = jnp.asarray(seeds, jnp.int32)
    pad = (-num_runs) % len(devices)
    if pad:  # repeat the last run so the run axis divides evenly over the devices
        seeds, hparams = jax.tree.map(
            lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]), (seeds, hparams)
        )
    mesh = jax.sharding.Mesh(np.asarray(devices), ("runs",))
    seeds, hparams = jax.device_put((seeds, hparams), NamedSharding(mesh, PartitionSpec("runs")))
    X, Y = jax.device_put((jnp.asarray(X), jnp.asarray(Y)), NamedSharding(mesh, PartitionSpec()))
    out = _batched_train(cfg, critic, weights)(seeds, hparams, X, Y)
    if jax.process_count() > 1:  # each process holds only its devices' shard of runs
        from jax.experimental import multihost_utils

        out = multihost_utils.process_allgather(out, tiled=True)
    out = jax.device_get(out)
    flat = {f"metric/{k}": v for k, v in out["metrics"].items()}
    flat.update({f"weight/{k}": v for k, v in out.get("weights", {}).items()})
    flat.update(diverged=out["diverged"], steps_taken=out["steps_taken"])
    return {k: np.asarray(v)[:num_runs] for k, v in flat.items()}


# ----------------------------------------------------------------------------- the grid


def _axis_values(name, values) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"run_grid: {name} must be a non-empty sequence, got {values!r}")
    if len(np.unique(arr)) != arr.size:
        raise ValueError(f"run_grid: {name} has duplicate values: {arr.tolist()}")
    if name in ("seed", "width"):
        if not np.issubdtype(arr.dtype, np.integer) or (name == "width" and np.any(arr <= 0)):
            kind = "positive integers" if name == "width" else "integers"
            raise ValueError(f"run_grid: {name}s must be {kind}, got {arr.tolist()}")
        if np.any(np.abs(arr) > np.iinfo(np.int32).max):
            raise ValueError(f"run_grid: {name}s must fit in int32, got {arr.tolist()}")
        return arr.astype(np.int64)
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"run_grid: {name} values must be finite, got {arr.tolist()}")
    return arr


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
    bucket_ratio: float = 2.0,
    weights: bool = False,
    progress: Callable[[dict], None] | None = None,
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
      bucket_ratio: widths of one bucket span at most this factor (>= 1).
      weights: also return initial and final weights (memory: runs x widths x d_in).
      progress: called after each bucket with a dict (``bucket``, ``buckets``, ``widths``,
        ``runs``, ``seconds``, ``cached``, ``diverged``).
      **axes: traced axes among ``lambda_adv``, ``lr``, ``critic_lr``: a sequence is an axis
        of the grid, a scalar a constant of every run; missing ones take ``cfg``'s value.

    Returns:
      ``GridResult`` with axes ``seed, width`` then the given sequence axes in ``AXES`` order.
    """
    unknown = set(axes) - set(TRACED_AXES)
    if unknown:
        raise ValueError(f"run_grid: unknown axis {sorted(unknown)}; traced axes: {TRACED_AXES}")
    if not bucket_ratio >= 1:
        raise ValueError(f"run_grid: bucket_ratio must be >= 1, got {bucket_ratio!r}")
    coords = {"seed": _axis_values("seed", list(seeds)), "width": _axis_values("width", widths)}
    constants = {k: float(v) for k, v in axes.items() if np.ndim(v) == 0}
    coords.update(
        {k: _axis_values(k, axes[k]) for k in TRACED_AXES if k in axes and k not in constants}
    )
    X, Y = np.asarray(X), np.asarray(Y)
    shape = tuple(len(v) for v in coords.values())
    parts, compiles0, cached = {}, _TRACES["count"], 0
    buckets = make_buckets(coords["width"].tolist(), bucket_ratio)
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
        part = cache.get(key) if cache is not None else None
        was_cached = part is not None
        if part is None:
            part = _compute_bucket(cfg, critic, weights, bucket_coords, constants, X, Y)
            if cache is not None:
                cache.put(key, part)
        cached += was_cached
        parts[bucket] = part
        if progress is not None:
            progress(
                dict(
                    bucket=i + 1,
                    buckets=len(buckets),
                    widths=list(bucket),
                    runs=int(part["diverged"].size),
                    seconds=time.perf_counter() - start,
                    cached=was_cached,
                    diverged=int(part["diverged"].sum()),
                )
            )
    compiles = _TRACES["count"] - compiles0
    return _assemble(cfg, coords, shape, buckets, parts, weights, compiles, cached)


def _compute_bucket(cfg, critic, weights, bucket_coords, constants, X, Y) -> dict:
    mesh = np.meshgrid(*bucket_coords.values(), indexing="ij")
    runs = {k: m.ravel() for k, m in zip(bucket_coords, mesh, strict=True)}
    bucket_cfg = dataclasses.replace(cfg, width=int(bucket_coords["width"].max()))
    traced = {k: runs[k] for k in TRACED_AXES if k in runs} | constants
    hparams = bucket_cfg.hparams(width=runs["width"], **traced)
    return _run_bucket(bucket_cfg, critic, weights, runs["seed"], hparams, X, Y)


def _assemble(cfg, coords, shape, buckets, parts, weights, compiles, cached) -> GridResult:
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
    )


def _pad_neurons(name, arr, lead, M):
    axis = lead + _NEURON_AXIS[name.rstrip("0")]
    pad = [(0, 0)] * arr.ndim
    pad[axis] = (0, M - arr.shape[axis])
    return np.pad(arr, pad)
