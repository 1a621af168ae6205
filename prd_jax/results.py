"""Results folders: atomic writes, validated reads, one folder policy, and a lock.

A folder holds ``config.json`` (the sweep's config plus provenance) or the experiments'
``<name>.json`` records, one ``.npz`` per finished unit of work, and whatever summaries and
figures the entry point writes. **Every file goes through one atomic writer**
(``write_atomic``): the bytes are made in memory, written to a temporary file next to the
target, flushed to disk and renamed onto the final name, so a crash, a Ctrl-C or a full disk
never leaves a partial file under a final name; a full, read-only or otherwise unwritable disk
is one ``WriteError`` line naming the file, its folder and the bytes needed. Finished units are
never deleted: a unit that cannot be read is moved aside to ``<name>.corrupt`` and recomputed.

``prepare_folder`` is the one folder policy of every entry point (the sweep and each
experiment): an empty or unusable ``--out`` is refused; a folder holding another entry point's
or another config's results is refused unless ``overwrite``; a folder holding this config's
results needs ``resume`` (reuse) or ``overwrite`` (recompute); and a lock file ``.lock``
(pid, host, entry point) makes a second process writing the same folder stop with a message
naming the first. A lock left by a dead process is taken over.
"""

import contextlib
import dataclasses
import errno
import io
import json
import math
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import warnings
import zipfile

import jax
import numpy as np


class ResultsError(RuntimeError):
    """A results folder cannot be used as asked; the message says why and what to do."""


class WriteError(ResultsError):
    """A result file could not be written (disk full, read-only, name too long, no
    permission): one line naming the file, its folder and the bytes needed."""


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


# errno -> what to say when a write fails with it.
_WRITE_FAILURES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "file too large",
}


def _free_bytes(folder) -> int | None:
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


def write_error(err: OSError, path, needed: int | None = None) -> WriteError:
    """``err`` raised while writing ``path`` as one ``WriteError`` line: the file, the reason,
    the bytes needed and free in its folder, and the fix."""
    path = pathlib.Path(path)
    reason = _WRITE_FAILURES.get(err.errno, err.strerror or type(err).__name__)
    folder = path.parent
    sizes = []
    if needed is not None:
        sizes.append(f"{_size(needed)} needed")
    free = _free_bytes(folder) if err.errno in (errno.ENOSPC, errno.EDQUOT) else None
    if free is not None:
        sizes.append(f"{_size(free)} free")
    where = f" ({', '.join(sizes)} in {folder})" if sizes else f" (in {folder})"
    fix = "free some space there" if err.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    fix = fix or ("use a shorter --out" if err.errno == errno.ENAMETOOLONG else "")
    fix = (fix + " or " if fix else "") + "choose another --out; finished files are kept"
    return WriteError(f"cannot write {path.name}: {reason}{where}; {fix}")


def write_atomic(path, data) -> int:
    """Write ``data`` to ``path`` atomically; returns the bytes written.

    ``data`` is ``bytes``, ``str`` (UTF-8) or a function ``write(binary_file)`` that writes
    the content (``np.savez``, ``fig.savefig``, ``image.save``...). The content is made in
    memory first (so its size is known and a failing ``write`` touches no file), written to a
    temporary file next to ``path``, flushed to disk and renamed onto ``path``: a crash, a
    Ctrl-C or a full disk never leaves a partial file under the final name (the temporary
    ``tmp*.tmp`` is removed, or, after a kill, when the folder is next opened). The file gets
    the permissions of a plain ``open`` (0666 minus the umask). An ``OSError`` of the disk
    (full, read-only, name too long, no permission) is raised as one ``WriteError`` line.
    """
    path = pathlib.Path(path)
    if callable(data):
        buffer = io.BytesIO()
        data(buffer)
        data = buffer.getvalue()
    elif isinstance(data, str):
        data = data.encode()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="tmp", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        if tmp is not None:  # first, so that the message counts the space it held as free
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            tmp = None
        raise write_error(err, path, len(data)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return len(data)


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (``write_atomic``)."""
    write_atomic(path, text)


def write_json_atomic(path, obj) -> None:
    """Write strict JSON to ``path`` atomically (``write_atomic``); a NaN or inf raises
    ValueError before anything is written."""
    write_atomic(path, json.dumps(obj, indent=2, allow_nan=False))


def write_jsonl_atomic(path, records) -> int:
    """Write one strict JSON object per line to ``path`` atomically; returns the count."""
    lines = [json.dumps(r, allow_nan=False) + "\n" for r in records]
    write_atomic(path, "".join(lines))
    return len(lines)


def save_npz_atomic(path, arrays: dict, compressed: bool = False) -> None:
    """Write ``arrays`` to ``path`` (.npz, zip-compressed with ``compressed``) atomically (no
    pickles: ``load_npz`` would refuse them)."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    objects = [k for k, v in arrays.items() if v.dtype.hasobject]
    if objects:
        raise TypeError(f"save_npz_atomic: arrays {objects} hold Python objects, not numbers")
    save = np.savez_compressed if compressed else np.savez
    write_atomic(path, lambda f: save(f, **arrays))


def savefig_atomic(fig, path, **kwargs) -> None:
    """``fig.savefig(path, **kwargs)`` through ``write_atomic`` (the format from the file's
    suffix). Takes any object with matplotlib's ``savefig``: the library never imports
    matplotlib."""
    path = pathlib.Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    write_atomic(path, lambda f: fig.savefig(f, **kwargs))


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


CONFIG_NAME = "config.json"  # the record of an entry point that owns its whole folder
LOCK_NAME = ".lock"
UNITS = "bucket_*.npz"  # the finished units an --overwrite of the folder's owner recomputes


def _record_entry(record: dict, name: str) -> str:
    """The entry point that wrote a record: ``entry`` (``config.json``), ``experiment``
    (an experiment's ``<name>.json``), or the sweep for a ``config.json`` written before
    records named their entry point."""
    entry = record.get("entry") or record.get("experiment")
    return str(entry) if entry else ("sweep" if name == CONFIG_NAME else name.split(".")[0])


def _read_record(path) -> dict:
    try:
        record = json.loads(pathlib.Path(path).read_text())
        record["config"]  # noqa: B018 - a record without a config is corrupt
        return record
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ResultsError(
            f"{path} is corrupt ({type(err).__name__}: {' '.join(str(err).split())[:120]}); "
            "move it away, pass --out NEW_DIR, or --overwrite to replace it"
        ) from None


def _foreign_results(out: pathlib.Path, entry: str, shared: bool) -> list[str]:
    """Records of other entry points in ``out`` that ``entry`` may not write beside.

    An entry point that owns its folder (``shared=False``, the sweep: ``config.json``) may
    not share it with anything else's results; entry points that share a folder (the
    experiments: ``<name>.json`` each, as ``make figures`` writes them) may share it with each
    other but not with an owner's ``config.json``."""
    found = []
    cfg = out / CONFIG_NAME
    if cfg.is_file():
        try:
            owner = _record_entry(json.loads(cfg.read_text()), CONFIG_NAME)
        except (OSError, ValueError, TypeError, AttributeError):
            owner = "sweep"
        if owner != entry:
            found.append(f"{owner} ({CONFIG_NAME})")
    if not shared:
        for path in sorted(out.glob("*.json")):
            if path.name in (CONFIG_NAME, "summary.json"):
                continue
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and "experiment" in record and "config" in record:
                found.append(f"{record['experiment']} ({path.name})")
    return found


def check_out(out) -> pathlib.Path:
    """``out`` as a Path, refusing an empty one (``--out ''`` would write into the current
    folder)."""
    if out is None or not str(out).strip():
        raise ResultsError(
            f"--out {str(out)!r}: an empty path is not a results folder (it would write into "
            "the current folder); give one, e.g. --out results/NAME"
        )
    return pathlib.Path(out)


def prepare_folder(
    out,
    config: dict,
    resume: bool,
    overwrite: bool = False,
    *,
    entry: str = "sweep",
    record: str = CONFIG_NAME,
    shared: bool = False,
) -> pathlib.Path:
    """The folder policy of every entry point: create or reopen ``out`` for ``config``.

    * ``out`` must be a usable folder: not empty, not a file, writable (``check_writable_folder``).
    * The folder is locked (``lock_folder``) until ``release_folder(out)`` or the end of the
      process: a second process writing it is refused with a message naming the first.
    * ``record`` names the file holding the config of ``entry``'s results: ``config.json``
      (written here, for an entry point that owns its folder: the sweep) or the experiment's
      ``<name>.json`` (written by the experiment when it finishes; ``shared=True``: several
      experiments share one folder, as ``make figures`` does).
    * A folder holding another entry point's results (``_foreign_results``), or ``entry``'s
      results of another config (the fields that differ are named), is refused unless
      ``overwrite``; one holding ``entry``'s results of this config needs ``resume`` (reuse
      the finished parts) or ``overwrite`` (recompute them: an owner's finished units,
      ``bucket_*.npz``, are deleted). ``resume`` with ``overwrite`` is refused.

    Every refusal is a ``ResultsError`` with one line, before anything in ``out`` changed.
    """
    if resume and overwrite:
        raise ResultsError(
            "--resume and --overwrite contradict each other (reuse the finished parts, or "
            "recompute them): pass only one"
        )
    out = check_writable_folder(check_out(out))
    lock_folder(out, entry)
    try:
        foreign = _foreign_results(out, entry, shared)
        if foreign and not overwrite:
            raise ResultsError(
                f"{out} holds results of another entry point ({', '.join(foreign)}); pass "
                f"--out NEW_DIR, or --overwrite to write {entry}'s results there anyway"
            )
        cfg_path = out / record
        if cfg_path.exists():
            old = None if overwrite and not _readable(cfg_path) else _read_record(cfg_path)
            old = None if old is None else old["config"]
            if old is not None and old != config and not overwrite:
                diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
                raise ResultsError(
                    f"{out} holds {entry} results of a different config (differs in: "
                    f"{', '.join(diff)}); pass --out NEW_DIR, or --overwrite to replace them"
                )
            if not resume and not overwrite:
                raise ResultsError(
                    f"{out} already holds {entry} results of this config; pass --resume to "
                    "reuse the finished parts, or --overwrite to recompute them"
                )
            if overwrite and not shared:
                for f in out.glob(UNITS):
                    f.unlink()
        for f in out.glob("*.tmp"):  # left by a killed process (the lock says none is alive)
            with contextlib.suppress(OSError):
                f.unlink()
        if not shared:
            write_json_atomic(
                cfg_path, {"entry": entry, "config": config, "provenance": provenance()}
            )
    except BaseException:
        release_folder(out)
        raise
    return out


def _readable(path) -> bool:
    try:
        _read_record(path)
        return True
    except ResultsError:
        return False


def check_writable_folder(out) -> pathlib.Path:
    """Create the folder ``out`` if needed and check that files can be written in it.

    Raises ``ResultsError`` (one line naming the path, the reason and the fix) for an empty
    path, a path that is a file, lies under a file, is too long, or cannot be created or
    written.
    """
    out = check_out(out)
    fix = "choose another --out"
    try:
        if out.exists() and not out.is_dir():
            raise ResultsError(f"--out {out}: exists and is a file, not a folder; {fix}")
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        reason = _WRITE_FAILURES.get(err.errno, err.strerror or type(err).__name__)
        where = f" ({err.filename})" if err.filename and str(err.filename) != str(out) else ""
        shown = str(out) if len(str(out)) <= 120 else f"{str(out)[:60]}...{str(out)[-40:]}"
        if err.errno == errno.ENAMETOOLONG:
            where, fix = "", "use a shorter --out"
        raise ResultsError(f"--out {shown}: cannot write there: {reason}{where}; {fix}") from None
    return out


# ----------------------------------------------------------------------------- the lock

_HELD: dict[str, pathlib.Path] = {}  # folders this process holds the lock of (resolved path)


def _process_start(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (/proc), to tell a live process from
    a later one that reuses its pid."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(holder: dict) -> bool:
    """Whether the lock's holder may still be running (always True on another host)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():  # left by this process (an earlier call that was interrupted)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) holds nothing
        if "\nState:\tZ" in pathlib.Path(f"/proc/{pid}/status").read_text():
            return False
    except OSError:
        pass
    start = holder.get("start")
    return start is None or _process_start(pid) in (None, start)


def _create_lock(path: pathlib.Path, text: str) -> bool:
    """Create ``path`` holding ``text`` unless it exists (then False): a complete file linked
    in one step, or an exclusive create where the file system has no hard links."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="tmp", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        try:
            os.link(tmp, path)  # atomic, and fails if a lock exists: never half-written
        except FileExistsError:
            return False
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask())
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as f:
                f.write(text)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _lock_holder(path: pathlib.Path) -> dict | None:
    """What the lock ``path`` says (``{}`` if unreadable), or None if it has gone."""
    try:
        holder = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def lock_folder(out, entry: str) -> None:
    """Take the lock file ``out/.lock`` (pid, host, entry point, start time) for this process.

    A lock held by a live process is refused with a ``ResultsError`` naming it; one left by a
    dead process (or by this one) is taken over. Released by ``release_folder(out)`` or at the
    end of the process (a process that is killed leaves a stale lock, taken over next time).
    """
    out = pathlib.Path(out)
    key = str(out.resolve())
    if key in _HELD:
        return
    path = out / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "entry": entry}
    me |= {"since": time.strftime("%Y-%m-%d %H:%M:%S"), "start": _process_start(os.getpid())}
    for _ in range(10):
        try:
            if _create_lock(path, json.dumps(me)):
                break
        except OSError as err:
            raise write_error(err, path) from None
        holder = _lock_holder(path)
        if holder is None:
            continue  # released meanwhile: try again
        if _alive(holder):
            raise ResultsError(
                f"{out} is being written by another process: {holder.get('entry', '?')} "
                f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since "
                f"{holder.get('since', '?')}); wait for it to finish or choose another --out "
                f"(if that process is gone, delete {path})"
            )
        aside = path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):  # one taker wins; the others try again
            os.rename(path, aside)
            os.unlink(aside)
    else:
        raise ResultsError(f"{out}: could not take the lock {path}; choose another --out")
    _HELD[key] = out
    if len(_HELD) == 1:
        import atexit

        atexit.register(release_all)


def release_folder(out) -> None:
    """Remove ``out/.lock`` if this process holds it (a no-op otherwise)."""
    out = pathlib.Path(out)
    try:
        key = str(out.resolve())
    except OSError:
        return
    if _HELD.pop(key, None) is None:
        return
    path = out / LOCK_NAME
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def release_all() -> None:
    """Release every lock this process holds (at exit, or before ``os._exit``)."""
    for out in list(_HELD.values()):
        release_folder(out)


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
