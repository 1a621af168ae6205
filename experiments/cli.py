"""The one command-line mechanism of every entry point: a preset plus ``--set field=value``.

    python -m experiments.<name> --preset quick --set train.steps=500 --set widths=16,32
    python -m experiments.<name> --print-config     # the resolved config, as JSON, then exit
    python -m experiments.<name> --help             # every field, its default and each preset's

Any field of the experiment's frozen config dataclass can be set, nested fields with dots
(``train.steps``), each field at most once. Each value is parsed by the field's type (tuples
comma-separated without empty items, ``none`` for an optional field, ``true``/``false`` for
booleans; integers below 2^31, finite floats within float32's range) and validated by the
dataclass itself; an error names the field, the value and what is allowed. Abbreviated flags
are refused. A bare command runs the ``quick`` preset.

Every entry point also has ``--out``, ``--resume`` and ``--overwrite`` (``add_folder_flags``;
the policy is ``prd_jax.results.prepare_folder``), and ends the same way on Ctrl-C (exit 130
and one line, ``exit_on_interrupt``) and on a closed stdout (``guarded``).

This module imports no JAX at import time: ``experiments/__init__.py`` installs the Ctrl-C
handler from it before anything heavy is imported.
"""

import argparse
import contextlib
import dataclasses
import inspect
import json
import math
import os
import re
import signal
import sys
import threading
import types
import typing

INT32_MAX = 2**31 - 1  # JAX's default integers (widths, steps, seeds) are int32
FLOAT32_MAX = 3.4028234663852886e38  # float fields become float32 arrays inside JAX
DEFAULT_PRESET = "quick"  # what a bare command runs


class CliError(ValueError):
    """A bad ``--set``: names the field, the value and what is allowed."""


class Parser(argparse.ArgumentParser):
    """argparse without abbreviations and with one-line errors (no usage dump)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(**kwargs)

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def _field_comments(cls) -> dict[str, str]:
    """``name: type = default  # comment`` lines of a dataclass's source, as {name: comment}."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    pattern = re.compile(r"^\s+(\w+):[^#\n]*#\s*(.+)$")
    return {m.group(1): m.group(2).strip() for m in map(pattern.match, source.splitlines()) if m}


def iter_fields(cfg, prefix=""):
    """``(dotted name, value, type, comment)`` of every leaf field, nested dataclasses expanded."""
    hints = typing.get_type_hints(type(cfg))
    comments = _field_comments(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            yield from iter_fields(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value, hints[f.name], comments.get(f.name, "")


def _type_name(kind) -> str:
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).replace("typing.", "")


def parse_value(kind, text: str):
    """Parse ``text`` as a value of type ``kind`` (raises ValueError with what is allowed)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if text.lower() == "none" and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return parse_value(inner[0], text)
    if origin is tuple or kind is tuple:
        item = args[0] if args else float
        items = [v.strip() for v in text.split(",")]
        if not any(items):
            raise ValueError("an empty list")
        if not all(items):
            raise ValueError("an empty item between commas; give each value once, e.g. 4,8")
        return tuple(parse_value(item, v) for v in items)
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError("not one of true, false")
        return text.lower() in ("true", "1")
    if kind is int:
        value = int(text)  # "1.5" and "1e3" are refused: widths and counts are exact
        if not -INT32_MAX - 1 <= value <= INT32_MAX:
            raise ValueError(f"out of range: integers must be below 2^31 = {INT32_MAX + 1}")
        return value
    if kind is float:
        value = float(text)
        if math.isfinite(value) and abs(value) > FLOAT32_MAX:
            raise ValueError(
                f"out of range: beyond float32's largest value {FLOAT32_MAX:.4g}, where JAX "
                "would make it inf"
            )
        return value
    if kind is str:
        return text
    raise ValueError(f"fields of type {_type_name(kind)} cannot be set from the command line")


def apply_overrides(cfg, overrides: list[str]):
    """``cfg`` with each ``field=value`` applied, validated by the config's own checks."""
    leaves = {name: kind for name, _, kind, _ in iter_fields(cfg)}
    seen = {}
    for item in overrides:
        if "=" not in item:
            raise CliError(f"--set takes field=value, got {item!r}")
        name, text = item.split("=", 1)
        name = name.strip()
        if name in seen:
            raise CliError(
                f"--set {item}: {name} is already set by --set {seen[name]}; give each field once"
            )
        seen[name] = item
        if name not in leaves:
            close = [n for n in leaves if n.split(".")[-1] == name.split(".")[-1]]
            hint = f"; did you mean {close[0]}?" if close else ""
            raise CliError(f"--set {item}: unknown field {name!r}{hint} (--help lists them)")
        kind = leaves[name]
        try:
            value = parse_value(kind, text)
        except ValueError as err:
            raise CliError(
                f"--set {item}: {text!r} is not a valid {_type_name(kind)} ({err})"
            ) from None
        try:
            cfg = _replace_path(cfg, name.split("."), value)
        except (ValueError, TypeError) as err:
            raise CliError(f"--set {item}: {err}") from None
    return cfg


def _replace_path(cfg, path, value):
    if len(path) == 1:
        return dataclasses.replace(cfg, **{path[0]: value})
    inner = _replace_path(getattr(cfg, path[0]), path[1:], value)
    return dataclasses.replace(cfg, **{path[0]: inner})


def default_preset(presets: dict) -> str:
    """The preset a bare command runs: ``quick`` (or the first, for a command without one)."""
    return DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets))


def fields_help(presets: dict, default: str | None = None) -> str:
    """Every field with its type, its value in the default preset (what a bare command runs),
    each other preset's value where it differs, and its comment."""
    from prd_jax.results import json_ready

    default = default or default_preset(presets)
    per_preset = {p: dict((n, v) for n, v, _, _ in iter_fields(c)) for p, c in presets.items()}
    lines = [
        f"config fields (--set FIELD=VALUE; tuples comma-separated, none for no value), with "
        f"the values of the {default} preset that a bare command runs:"
    ]
    for name, value, kind, comment in iter_fields(presets[default]):
        fmt = json.dumps(json_ready(value))
        differs = [
            f"{p}: {json.dumps(json_ready(v[name]))}"
            for p, v in per_preset.items()
            if p != default and v[name] != value
        ]
        line = f"  {name} ({_type_name(kind)}) = {fmt}"
        if differs:
            line += f"  [{', '.join(differs)}]"
        lines.append(line)
        if comment:
            lines.append(f"      {comment}")
    return "\n".join(lines)


def description(doc: str) -> str:
    """The first paragraph of a module docstring, joined into one line."""
    first = (doc or "").strip().split("\n\n")[0]
    return " ".join(line.strip() for line in first.splitlines())


def make_parser(prog: str, doc: str, presets: dict, preset: str | None = None) -> Parser:
    """The shared parser: ``--preset``, ``--set``, ``--print-config`` (add your own flags;
    ``add_folder_flags`` for an entry point that writes results)."""
    preset = preset or default_preset(presets)
    parser = Parser(
        prog=prog,
        description=f"{description(doc)} A bare command runs the {preset} preset.",
        epilog=fields_help(presets, preset),
    )
    parser.add_argument(
        "--preset",
        choices=sorted(presets),
        default=preset,
        help=f"the config to start from (default: {preset}; --help lists its values)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a config field (nested with dots, e.g. train.steps=500); repeatable",
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved config as JSON and exit"
    )
    add_compile_cache_flags(parser)
    return parser


def add_compile_cache_flags(parser) -> None:
    """``--compile-cache DIR`` and ``--no-compile-cache`` (``prd_jax.compile_cache``)."""
    group = parser.add_argument_group("persistent compilation cache")
    group.add_argument(
        "--compile-cache",
        metavar="DIR",
        default=None,
        help="folder of compiled programs reused by later runs (default: $PRD_JAX_CACHE_DIR, "
        "else ~/.cache/prd_jax; a sub-folder per JAX version)",
    )
    group.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="compile every program afresh (also: PRD_JAX_CACHE=0)",
    )


def setup_compile_cache(args):
    """Turn the persistent compilation cache on (default) or off as the flags say, before
    anything is compiled; exported to child processes. Returns its folder, or None when off."""
    from prd_jax import compile_cache

    if getattr(args, "no_compile_cache", False):
        compile_cache.disable()
        return None
    return compile_cache.enable(getattr(args, "compile_cache", None), export=True)


def resolve(parser: Parser, args, presets: dict):
    """The preset with ``--set`` applied; ``--print-config`` prints it and exits (quietly when
    its reader stops early, as ``| head`` does)."""
    from prd_jax.results import json_ready

    try:
        cfg = apply_overrides(presets[args.preset], args.overrides)
    except CliError as err:
        parser.error(str(err))
    if args.print_config:
        try:
            print(json.dumps(json_ready(dataclasses.asdict(cfg)), indent=2), flush=True)
        except BrokenPipeError:
            _drop_stdout()
        sys.exit(0)
    return cfg


def add_folder_flags(parser: Parser, default_out: str, what: str = "results") -> None:
    """``--out``, ``--resume`` and ``--overwrite``: the same on every entry point (the policy
    is ``prd_jax.results.prepare_folder``). ``--out`` stays a string, so that an empty one is
    refused rather than read as the current folder."""
    parser.add_argument(
        "--out", default=str(default_out), metavar="DIR", help=f"output folder (default: "
        f"{default_out}); a folder with other results is refused unless --overwrite",
    )  # fmt: skip
    parser.add_argument(
        "--resume", action="store_true", help=f"reuse the finished {what} of this config in --out"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute into --out even if it holds results (of this or another config)",
    )


# ----------------------------------------------------------------------------- exits

# What Ctrl-C prints (a string, or a function returning one), and the thread that waits for it.
_INTERRUPT = {"message": None, "thread": None}  # None: the default line


def exit_on_interrupt() -> bool:
    """Make Ctrl-C (SIGINT) end this process at once: one line on stderr, exit 130.

    Installed once per process, from the main thread, before anything else is imported (by
    ``experiments/__init__.py`` for ``python -m experiments.<name>``): SIGINT is blocked in
    the main thread, and so in every thread started after it (XLA's among them), and a
    watcher thread waits for it with ``sigwait``. It then prints the line set by
    ``on_interrupt``, releases this process's folder locks and leaves with ``os._exit``:
    no ``KeyboardInterrupt`` surfaces at a random point, Ctrl-C is not delayed until a
    compilation or a bucket returns, and the interpreter does not shut down while XLA's
    threads compile or run (the segfault of a plain exit). Whatever was written is complete:
    every file goes through the atomic writer. Returns whether it was installed.
    """
    if _INTERRUPT["thread"] is not None:
        return True
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    thread = threading.Thread(target=_wait_for_interrupt, name="sigint-watcher", daemon=True)
    thread.start()
    _INTERRUPT["thread"] = thread
    return True


def on_interrupt(message) -> None:
    """What Ctrl-C prints from now on: a line, or a function returning one."""
    _INTERRUPT["message"] = message


def _default_interrupt_line() -> str:
    """Before an entry point says more: its name (the module ``-m`` ran) and nothing written."""
    module = os.path.splitext(os.path.basename(sys.argv[0] if sys.argv else ""))[0]
    prog = f"python -m experiments.{module}" if module and module != "-m" else "experiments"
    return f"{prog}: interrupted before it wrote anything"


def _wait_for_interrupt():
    signal.sigwait({signal.SIGINT})
    message = _INTERRUPT["message"]
    try:
        line = message() if callable(message) else message or _default_interrupt_line()
    except Exception:  # noqa: BLE001 - never fail to leave
        line = "interrupted"
    leave(130, line)


# Prefix of the last line ``leave`` writes: a multi-process sweep routes stderr through a filter
# (experiments.sweep) that prints that line and nothing after it.
FINAL_LINE = [""]


def leave(code: int, line: str | None = None) -> None:
    """End the process now with ``code``, after flushing stdout, writing ``line`` to stderr
    and releasing the folder locks this process holds. ``os._exit``: no interpreter
    shutdown, which can crash while XLA's threads are busy or hang on a lost peer."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    if line:
        with contextlib.suppress(OSError):
            os.write(2, f"\n{FINAL_LINE[0]}{line.strip()}\n".encode())
    results = sys.modules.get("prd_jax.results")
    if results is not None:
        with contextlib.suppress(Exception):
            results.release_all()
    os._exit(code)


def _drop_stdout():
    """Point stdout at /dev/null, so that the interpreter's final flush does not fail again
    on a pipe whose reader has gone."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def guarded(prog: str, interrupted):
    """Around an entry point's work: Ctrl-C prints ``interrupted`` (a line, or a function
    returning one) and exits 130 (at once when ``exit_on_interrupt`` is installed; otherwise,
    in-process, when the ``KeyboardInterrupt`` arrives), and a closed stdout (``| head``)
    stops the command quietly with exit 141 (128 + SIGPIPE, as a shell reports it) instead of
    a BrokenPipeError traceback."""
    on_interrupt(interrupted)
    try:
        yield
    except KeyboardInterrupt:
        line = interrupted() if callable(interrupted) else interrupted
        sys.stderr.write(f"\n{line}\n")
        sys.exit(130)
    except BrokenPipeError:
        _drop_stdout()
        sys.stderr.write(f"{prog}: stdout was closed (broken pipe); stopped\n")
        sys.exit(141)
    finally:
        on_interrupt(None)
