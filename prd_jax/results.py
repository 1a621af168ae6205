"""Results folders: atomic writes, validated reads, and refusal to mix configs.

A folder holds ``config.json`` (the experiment's config plus provenance), one ``.npz`` per
finished unit of work (written to a temporary file, then renamed, so a crash never leaves a
half-written file under the final name), and whatever summaries and figures the experiment
writes. Finished units are never deleted: a unit that cannot be read is moved aside to
``<name>.corrupt`` and recomputed.
"""

import dataclasses
import json
import math
import os
import pathlib
import subprocess
import tempfile
import warnings
import zipfile

import jax
import numpy as np


class ResultsError(RuntimeError):
    """A results folder cannot be used as asked; the message says why and what to do."""


def provenance() -> dict:
    """JAX version, devices and git commit, for ``config.json``."""
    try:
        root = pathlib.Path(__file__).resolve().parents[1]
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return {
        "jax_version": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "git_commit": (commit + ("-dirty" if dirty else "")) or None,
    }


def write_json_atomic(path, obj) -> None:
    """Write JSON to ``path`` via a temporary file and a rename."""
    path = pathlib.Path(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as f:
        json.dump(obj, f, indent=2, allow_nan=False)
        tmp = f.name
    os.replace(tmp, path)


def save_npz_atomic(path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` (.npz) via a temporary file and a rename."""
    path = pathlib.Path(path)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz.tmp", delete=False) as f:
        np.savez(f, **arrays)
        tmp = f.name
    os.replace(tmp, path)


def load_npz(path, required=()) -> dict | None:
    """Load a finished unit, or None after moving an unreadable one aside to ``.corrupt``."""
    path = pathlib.Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        missing = [k for k in required if k not in arrays]
        if missing:
            raise ValueError(f"missing arrays {missing}")
        return arrays
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        aside = path.with_suffix(path.suffix + ".corrupt")
        os.replace(path, aside)
        warnings.warn(
            f"{path} is unreadable ({err}); moved to {aside.name}, recomputing it", stacklevel=2
        )
        return None


class BucketCache:
    """A ``grid.Cache`` over a results folder: one atomically written ``<key>.npz`` per bucket.

    Keys hash everything that determines a bucket's numbers, so a file is only ever reused by
    the same computation. ``write=False`` (processes other than 0 under ``jax.distributed``)
    reads but never writes.
    """

    def __init__(self, folder, write: bool = True):
        self.folder = pathlib.Path(folder)
        self.write = write

    def get(self, key: str) -> dict | None:
        path = self.folder / f"{key}.npz"
        return load_npz(path, required=("diverged", "steps_taken")) if path.exists() else None

    def put(self, key: str, arrays: dict) -> None:
        if self.write:
            save_npz_atomic(self.folder / f"{key}.npz", arrays)


def prepare_folder(out, config: dict, resume: bool, overwrite: bool = False) -> pathlib.Path:
    """Create or reopen a results folder for ``config``.

    * A new or empty folder gets ``config.json``.
    * With ``resume``, a folder written by the same config is reopened (finished units are
      kept); one written by another config is refused, naming the fields that differ.
    * Without ``resume``, a folder that already holds results is refused unless
      ``overwrite``, so finished results are never silently replaced.
    """
    out = pathlib.Path(out)
    cfg_path = out / "config.json"
    if out.exists() and not out.is_dir():
        raise ResultsError(f"{out} exists and is not a folder; choose another --out")
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text())["config"]
        except (ValueError, KeyError, TypeError) as err:
            raise ResultsError(
                f"{cfg_path} is corrupt ({err}); move the folder away or pass --out NEW_DIR"
            ) from err
        if old != config:
            diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
            raise ResultsError(
                f"{out} holds results of a different config (differs in: {', '.join(diff)}); "
                "pass --out NEW_DIR for a new sweep, or delete the folder"
            )
        if not resume and not overwrite:
            raise ResultsError(
                f"{out} already holds results of this config; pass --resume to reuse the "
                "finished parts, or --overwrite to recompute them"
            )
        if overwrite:
            for f in out.glob("*.npz"):
                f.unlink()
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(cfg_path, {"config": config, "provenance": provenance()})
    return out


def json_ready(obj):
    """Plain, strict JSON: arrays (numpy or JAX) and scalars as lists and numbers, NamedTuples
    and dataclasses as dicts, non-finite floats as None, keys as strings."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if hasattr(obj, "_asdict"):  # NamedTuple, before the tuple test
        return json_ready(obj._asdict())
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return json_ready(dataclasses.asdict(obj))
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        arr = np.asarray(obj)
        if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
            return arr.tolist()
        return json_ready(arr.astype(np.float64).tolist())
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return str(obj)
