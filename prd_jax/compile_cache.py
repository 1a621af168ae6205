"""A persistent compilation cache: a program compiled once on a machine is loaded, not
compiled, by every later process (issue 18, item 1).

    from prd_jax import compile_cache
    compile_cache.enable()      # ~/.cache/prd_jax/jax-0.10.2_jaxlib-0.10.2_x86_64/
    ...                         # jit, run_grid, ...: XLA programs are written to / read from it
    compile_cache.describe()    # 'compile cache ~/.cache/prd_jax/... (31 programs, 4.2 MB);
                                #  this process: 12 hits, 3 misses'

This is JAX's own persistent cache (``jax_compilation_cache_dir``), with every program cached
(``jax_persistent_cache_min_compile_time_secs = 0``, no minimum entry size), in one folder per
user and per JAX installation:

* **Where**: ``$PRD_JAX_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/prd_jax`` (default
  ``~/.cache/prd_jax``), or the ``path`` given to ``enable``; inside it a sub-folder named after
  the JAX and jaxlib versions, any accelerator plugin's version and the machine architecture
  (``version_tag``), so an upgrade never reads a stale entry (JAX's own key also hashes the
  jaxlib version, the backend's platform version, the devices and the XLA flags). Off with
  ``PRD_JAX_CACHE=0`` (or ``--no-compile-cache`` on every entry point).
* **Two processes at once**: entries are written to a temporary file in the folder and renamed
  into place (``os.replace``, atomic on POSIX), so a reader never sees half an entry, and two
  writers of one program each leave a complete file (JAX's default file cache writes in place
  unless ``filelock`` is installed and a size limit set). JAX writes entries from process 0
  only under ``jax.distributed``.
* **Programs with host callbacks** (on the CPU every bucket program has one: the metrics'
  float64 ``eigvalsh`` is a ``jax.pure_callback``): JAX 0.10 refuses to cache them, because a
  Python function cannot be serialised. On the CPU a callback is an FFI call naming the
  callback by its index in the list the executable is loaded with, so an entry is reusable as
  long as the loading process supplies its own callbacks, which it has (it traced and lowered
  the program before looking the key up). ``enable`` extends JAX's cache to do that on the
  CPU backend only (``_extend_jax_cache``: three private functions of ``jax._src.compiler`` and
  ``jax._src.compilation_cache`` are wrapped, after checking their signatures; on another JAX
  whose internals differ nothing is wrapped and those programs are compiled as before).

What a hit saves: XLA's compilation. Tracing and lowering still happen (JAX needs the lowered
program to compute its key), so ``chex.assert_max_traces``, ``GridResult.compiles`` (traces)
and ``jax.log_compiles`` mean what they meant; only the seconds change.

The cache is trusted: anyone who can write to the folder can make this process run code.
Keep it private to the user (the default folder is in the user's home).
"""

from __future__ import annotations

import contextvars
import importlib.metadata
import inspect
import os
import platform
import tempfile
import threading
from pathlib import Path

ENV_DIR = "PRD_JAX_CACHE_DIR"  # the cache's root folder (the versioned sub-folder goes inside)
ENV_SWITCH = "PRD_JAX_CACHE"  # "0", "false", "off" or "no": no persistent cache
_OFF = ("0", "false", "off", "no")
# Accelerator plugins whose version changes the compiled code (each is named in the folder).
_PLUGINS = ("jax-cuda12-plugin", "jax-cuda13-plugin", "jax-rocm60-plugin", "libtpu")

_LOCK = threading.Lock()
_STATE: dict = {"folder": None, "listening": False, "extended": None}
_COUNTS = {"requests": 0, "hits": 0, "saved_seconds": 0.0}


# ----------------------------------------------------------------------------- where


def switched_off() -> bool:
    """Whether ``$PRD_JAX_CACHE`` turns the cache off (``0``, ``false``, ``off``, ``no``)."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() in _OFF


def default_root() -> Path:
    """``$PRD_JAX_CACHE_DIR``, else ``$XDG_CACHE_HOME/prd_jax`` (``~/.cache/prd_jax``)."""
    if os.environ.get(ENV_DIR, "").strip():
        return Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "prd_jax"


def version_tag() -> str:
    """The sub-folder of one JAX installation: JAX, jaxlib and accelerator plugin versions and
    the machine, e.g. ``jax-0.10.2_jaxlib-0.10.2_x86_64``. Needs no backend (callable before
    ``jax.distributed.initialize``)."""
    import jax
    import jaxlib

    parts = [f"jax-{jax.__version__}", f"jaxlib-{jaxlib.__version__}"]
    for dist in _PLUGINS:
        try:
            parts.append(f"{dist}-{importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    parts.append(platform.machine() or "unknown")
    return "_".join(p.replace(os.sep, "-") for p in parts)


def folder_for(root: str | os.PathLike | None = None) -> Path:
    """The versioned folder inside ``root`` (default ``default_root()``)."""
    return Path(root if root is not None else default_root()).expanduser() / version_tag()


# ----------------------------------------------------------------------------- on and off


def enable(root: str | os.PathLike | None = None, *, export: bool = False) -> Path | None:
    """Use the persistent cache in ``folder_for(root)``; returns that folder, or None when
    ``$PRD_JAX_CACHE`` switches it off. Call it before the programs it should serve are
    compiled (any time: it touches no backend). Idempotent; another ``root`` moves the cache.

    ``export=True`` also sets ``$PRD_JAX_CACHE_DIR`` to ``root``, so that child processes
    (which enable the cache on ``import prd_jax`` when the variable is set) share it.
    """
    if switched_off():
        disable()
        return None
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    folder = folder_for(root)
    folder.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        if _STATE["folder"] != folder:
            cc.reset_cache()  # JAX opens its cache once, at its first compile: reopen it
            _STATE["folder"] = folder
        if _STATE["extended"] is None:
            _STATE["extended"] = _extend_jax_cache()
        if not _STATE["listening"]:
            jax.monitoring.register_event_listener(_on_event)
            jax.monitoring.register_event_duration_secs_listener(_on_duration)
            _STATE["listening"] = True
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)  # every size
    if export:
        os.environ[ENV_DIR] = str(Path(root if root is not None else default_root()))
    return folder


def enable_from_environment() -> Path | None:
    """``enable()`` when ``$PRD_JAX_CACHE_DIR`` is set (and the cache not switched off); what
    ``import prd_jax`` calls, so that child processes of an entry point or of the test suite
    share its cache. Nothing when the variable is unset: the library alone changes no setting."""
    if not os.environ.get(ENV_DIR, "").strip() or switched_off():
        return None
    return enable()


def disable() -> None:
    """No persistent cache from now on (programs already loaded stay loaded)."""
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    with _LOCK:
        _STATE["folder"] = None
        cc.reset_cache()
    jax.config.update("jax_compilation_cache_dir", None)


def folder() -> Path | None:
    """The folder in use, or None."""
    return _STATE["folder"]


# ----------------------------------------------------------------------------- what it did


def stats() -> dict:
    """This process's persistent-cache lookups: ``requests`` (programs compiled or loaded
    through the cache), ``hits``, ``misses`` and ``saved_seconds`` (JAX's estimate: the hits'
    original compile times minus the time to load them)."""
    c = dict(_COUNTS)
    c["misses"] = c["requests"] - c["hits"]
    return c


def entries(path: str | os.PathLike | None = None) -> tuple[int, int]:
    """``(programs, bytes)`` stored in ``path`` (default: the folder in use; (0, 0) if none)."""
    path = Path(path) if path is not None else _STATE["folder"]
    if path is None or not path.is_dir():
        return 0, 0
    files = [p for p in path.iterdir() if p.name.endswith(_CACHE_SUFFIX)]
    return len(files), sum(p.stat().st_size for p in files)


def describe() -> str:
    """One line for a start or end line: the folder, what it holds, this process's hits and
    misses; or that the cache is off."""
    path = _STATE["folder"]
    if path is None:
        return f"compile cache off (${ENV_SWITCH}=0 or --no-compile-cache)"
    count, size = entries(path)
    s = stats()
    note = "" if _STATE["extended"] else "; programs with host callbacks are not cached"
    return (
        f"compile cache {_home_relative(path)} ({count} programs, {size / 1e6:.1f} MB); "
        f"this process: {s['hits']} hits, {s['misses']} misses{note}"
    )


def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _on_event(event: str, **_) -> None:
    if event == "/jax/compilation_cache/compile_requests_use_cache":
        _COUNTS["requests"] += 1
    elif event == "/jax/compilation_cache/cache_hits":
        _COUNTS["hits"] += 1


def _on_duration(event: str, duration: float, **_) -> None:
    if event == "/jax/compilation_cache/compile_time_saved_sec":
        _COUNTS["saved_seconds"] += float(duration)


# ------------------------------------------------------------------ JAX's cache, extended

_CACHE_SUFFIX = "-cache"  # JAX's file names: <module>-<sha256>-cache


def _atomic_file_cache_class():
    from jax._src.compilation_cache_interface import CacheInterface

    class AtomicFileCache(CacheInterface):
        """JAX's file cache (``<key>-cache`` files in one folder) with atomic writes: a
        temporary file in the same folder, then ``os.replace``. No eviction (like JAX's
        default): delete the folder to reclaim the space."""

        def __init__(self, path):
            self._path = self.path = Path(path)
            self.path.mkdir(parents=True, exist_ok=True)

        def get(self, key: str):
            if not key:
                raise ValueError("key cannot be empty")
            try:
                return (self.path / f"{key}{_CACHE_SUFFIX}").read_bytes()
            except FileNotFoundError:
                return None

        def put(self, key: str, value: bytes) -> None:
            if not key:
                raise ValueError("key cannot be empty")
            target = self.path / f"{key}{_CACHE_SUFFIX}"
            if target.exists():
                return
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{key[:40]}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(value)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    return AtomicFileCache


# The host callbacks of the program being compiled (CPU only), for the cache's read and write.
_CALLBACKS: contextvars.ContextVar[tuple] = contextvars.ContextVar("prd_jax_callbacks", default=())
_ORIGINAL: dict = {}  # JAX's functions that _extend_jax_cache wraps
# The private functions wrapped, with the leading parameters each must have.
_WRAPPED = {
    ("compiler", "compile_or_get_cached"): ("backend", "computation", "devices",
                                            "compile_options", "host_callbacks",
                                            "executable_devices"),
    ("compiler", "_cache_write"): ("cache_key", "compile_time_secs", "module_name", "backend",
                                   "executable", "host_callbacks"),
    ("compilation_cache", "get_executable_and_time"): ("cache_key", "compile_options",
                                                       "backend", "executable_devices"),
    ("compilation_cache", "get_file_cache"): ("path",),
}  # fmt: skip


def _extend_jax_cache() -> bool:
    """Atomic writes, and entries for CPU programs with (FFI) host callbacks; returns whether
    JAX's internals were as expected (JAX 0.10: then all wrappers are installed, else none)."""
    try:
        from jax._src import compilation_cache, compiler
    except ImportError:
        return False
    modules = {"compiler": compiler, "compilation_cache": compilation_cache}
    for (module, name), leading in _WRAPPED.items():
        fn = getattr(modules[module], name, None)
        try:
            params = tuple(inspect.signature(fn).parameters)[: len(leading)]
        except (TypeError, ValueError):
            return False
        if params != leading:
            return False
    needed = ("decompress_executable", "extract_executable_and_time", "_get_cache")
    if not all(hasattr(compilation_cache, f) for f in needed):
        return False
    if _ORIGINAL:
        return True
    wrappers = {
        "compile_or_get_cached": _compile_or_get_cached,
        "_cache_write": _cache_write,
        "get_executable_and_time": _get_executable_and_time,
        "get_file_cache": _get_file_cache,
    }
    for module, name in _WRAPPED:
        _ORIGINAL[name] = getattr(modules[module], name)
        setattr(modules[module], name, wrappers[name])
    return True


def _get_file_cache(path):
    """JAX's file cache, with atomic writes (unless a size limit asks for its locked LRU)."""
    cache_and_path = _ORIGINAL["get_file_cache"](path)
    if cache_and_path is None or type(cache_and_path[0]).__name__ != "LRUCache":
        return cache_and_path  # a verification cache or another store: JAX's own
    if getattr(cache_and_path[0], "eviction_enabled", False):
        return cache_and_path
    return _atomic_file_cache_class()(path), path


def _compile_or_get_cached(backend, computation, devices, compile_options, host_callbacks,
                           *args, **kwargs):  # fmt: skip
    """JAX's, with the CPU program's FFI host callbacks (Python callables) made known to the
    cache's read and write for its duration."""
    reusable = (
        getattr(backend, "platform", None) == "cpu"
        and bool(host_callbacks)
        and all(callable(cb) for cb in host_callbacks)
    )
    token = _CALLBACKS.set(tuple(host_callbacks) if reusable else ())
    try:
        return _ORIGINAL["compile_or_get_cached"](
            backend, computation, devices, compile_options, host_callbacks, *args, **kwargs
        )
    finally:
        _CALLBACKS.reset(token)


def _cache_write(cache_key, compile_time_secs, module_name, backend, executable, host_callbacks,
                 *args, **kwargs):  # fmt: skip
    """JAX's, which skips programs with host callbacks: CPU FFI callbacks are not part of the
    executable (they are supplied when it is loaded), so those are written too."""
    if host_callbacks and _CALLBACKS.get():
        host_callbacks = ()
    return _ORIGINAL["_cache_write"](cache_key, compile_time_secs, module_name, backend,
                                     executable, host_callbacks, *args, **kwargs)  # fmt: skip


def _get_executable_and_time(cache_key, compile_options, backend, executable_devices):
    """JAX's, loading a CPU program with the host callbacks of this process's lowering."""
    from jax._src import compilation_cache as jcc

    callbacks = _CALLBACKS.get()
    if not callbacks:
        return _ORIGINAL["get_executable_and_time"](
            cache_key, compile_options, backend, executable_devices
        )
    cache = jcc._get_cache(backend)
    entry = cache.get(cache_key) if cache is not None else None
    if entry is None:
        return None, None
    serialized, compile_time = jcc.extract_executable_and_time(jcc.decompress_executable(entry))
    executable = backend.deserialize_executable(
        serialized, executable_devices, compile_options, host_callbacks=list(callbacks)
    )
    return executable, compile_time
