"""Results folders: atomic writes, validated reads, and refusal to mix configs.

A folder holds ``config.json`` (the experiment's config plus provenance), one ``.npz`` per
finished unit of work (written to a temporary file, then renamed, so a crash never leaves a
half-written file under the final name), and whatever summaries and figures the experiment
writes. Finished units are never deleted: a unit that cannot be read is moved aside to
``<name>.corrupt`` and recomputed.
"""

import contextlib
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


def _umask() -> int:
    """The process's umask (read from /proc where possible: ``os.umask`` has to set it)."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace_atomic(write, path, suffix: str, mode: str = "wb") -> None:
    """``write(file)`` into a temporary file next to ``path``, then rename it onto ``path``.

    The file gets the permissions of a plain ``open`` (0666 minus the umask), not the 0600 of
    ``tempfile``; a failed write removes the temporary file.
    """
    path = pathlib.Path(path)
    f = tempfile.NamedTemporaryFile(mode, dir=path.parent, suffix=suffix, delete=False)
    try:
        with f:
            write(f)
        os.chmod(f.name, 0o666 & ~_umask())
        os.replace(f.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(f.name)
        raise


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename."""
    _replace_atomic(lambda f: f.write(text), path, ".tmp", "w")


def write_json_atomic(path, obj) -> None:
    """Write JSON to ``path`` via a temporary file and a rename."""
    write_text_atomic(path, json.dumps(obj, indent=2, allow_nan=False))  # fails before writing


def save_npz_atomic(path, arrays: dict) -> None:
    """Write ``arrays`` to ``path`` (.npz) via a temporary file and a rename (no pickles:
    ``load_npz`` would refuse them)."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    objects = [k for k, v in arrays.items() if v.dtype.hasobject]
    if objects:
        raise TypeError(f"save_npz_atomic: arrays {objects} hold Python objects, not numbers")
    _replace_atomic(lambda f: np.savez(f, **arrays), path, ".npz.tmp")


def move_aside(path, suffix: str, why: str, stacklevel: int = 3) -> pathlib.Path:
    """Rename ``path`` to ``<path><suffix>`` (never deleting it) and warn, naming why."""
    path = pathlib.Path(path)
    aside, k = path.with_suffix(path.suffix + suffix), 0
    while aside.exists():  # an earlier one: keep it too
        k += 1
        aside = path.with_suffix(f"{path.suffix}{suffix}.{k}")
    os.replace(path, aside)
    warnings.warn(f"{path} {why}; moved to {aside.name}, recomputing it", stacklevel=stacklevel)
    return aside


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
        move_aside(path, ".corrupt", f"is unreadable ({err})")
        return None


KEY_ARRAY = "cache_key"  # the key a bucket file was written under, stored inside it


class BucketCache:
    """A ``grid.Cache`` over a results folder: one atomically written ``<key>.npz`` per bucket.

    Keys hash everything that determines a bucket's numbers, so a file is only ever reused by
    the same computation. Each file also stores its key (array ``cache_key``): a file whose
    stored key differs from its name's (renamed, copied from another sweep, or written before
    keys were stored) is moved aside to ``.stale`` and recomputed, whatever ``config.json``
    says. ``write=False`` (processes other than 0 under ``jax.distributed``) reads but never
    writes.
    """

    def __init__(self, folder, write: bool = True):
        self.folder = pathlib.Path(folder)
        self.write = write

    def get(self, key: str) -> dict | None:
        path = self.folder / f"{key}.npz"
        if not path.exists():
            return None
        arrays = load_npz(path, required=("diverged", "steps_taken"))
        if arrays is None:
            return None
        stored = arrays.pop(KEY_ARRAY, None)
        stored = None if stored is None or stored.shape != () else str(stored)
        if stored != key:
            move_aside(
                path, ".stale", f"was written for another computation (stored key {stored!r})"
            )
            return None
        return arrays

    def put(self, key: str, arrays: dict) -> None:
        if self.write:
            save_npz_atomic(self.folder / f"{key}.npz", {**arrays, KEY_ARRAY: np.asarray(key)})


def prepare_folder(out, config: dict, resume: bool, overwrite: bool = False) -> pathlib.Path:
    """Create or reopen a results folder for ``config``.

    * A new or empty folder gets ``config.json``.
    * With ``resume``, a folder written by the same config is reopened (finished units are
      kept); one written by another config is refused, naming the fields that differ.
    * Without ``resume``, a folder that already holds results is refused unless
      ``overwrite``, so finished results are never silently replaced; ``overwrite`` replaces
      them whichever config wrote them (the user asked for it by name).
    """
    out = pathlib.Path(out)
    if resume and overwrite:
        raise ResultsError(
            "--resume and --overwrite contradict each other (reuse the finished parts, or "
            "recompute them): pass only one"
        )
    cfg_path = out / "config.json"
    check_writable_folder(out)
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text())["config"]
        except (ValueError, KeyError, TypeError) as err:
            raise ResultsError(
                f"{cfg_path} is corrupt ({err}); move the folder away or pass --out NEW_DIR"
            ) from err
        if old != config and not overwrite:
            diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
            raise ResultsError(
                f"{out} holds results of a different config (differs in: {', '.join(diff)}); "
                "pass --out NEW_DIR for a new sweep, or --overwrite to replace them"
            )
        if not resume and not overwrite:
            raise ResultsError(
                f"{out} already holds results of this config; pass --resume to reuse the "
                "finished parts, or --overwrite to recompute them"
            )
        if overwrite:
            for f in out.glob("*.npz"):
                f.unlink()
    for f in out.glob("*.tmp") if out.is_dir() else ():  # left by a killed process
        with contextlib.suppress(OSError):
            f.unlink()
    write_json_atomic(cfg_path, {"config": config, "provenance": provenance()})
    return out


def check_writable_folder(out) -> pathlib.Path:
    """Create the folder ``out`` if needed and check that files can be written in it.

    Raises ``ResultsError`` (one line naming the path, the reason and the fix) for a path that
    is a file, lies under a file, or cannot be created or written.
    """
    out = pathlib.Path(out)
    fix = "choose another --out"
    if out.exists() and not out.is_dir():
        raise ResultsError(f"--out {out}: exists and is a file, not a folder; {fix}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        where = f" ({err.filename})" if err.filename and str(err.filename) != str(out) else ""
        raise ResultsError(f"--out {out}: cannot write there: {reason}{where}; {fix}") from None
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
