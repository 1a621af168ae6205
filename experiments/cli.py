"""The one command-line mechanism of every entry point: a preset plus ``--set field=value``.

    python -m experiments.<name> --preset quick --set train.steps=500 --set widths=16,32
    python -m experiments.<name> --print-config     # the resolved config, as JSON, then exit
    python -m experiments.<name> --help             # every field, its default and each preset's

Any field of the experiment's frozen config dataclass can be set, nested fields with dots
(``train.steps``). Each value is parsed by the field's type (tuples comma-separated, ``none``
for an optional field, ``true``/``false`` for booleans) and validated by the dataclass itself;
an error names the field, the value and what is allowed. Abbreviated flags are refused.
"""

import argparse
import dataclasses
import inspect
import json
import re
import sys
import types
import typing

from prd_jax.results import json_ready

INT32_MAX = 2**31 - 1  # JAX's default integers (widths, steps, seeds) are int32


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
        values = tuple(parse_value(item, v.strip()) for v in text.split(",") if v.strip())
        if not values:
            raise ValueError("an empty list")
        return values
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
        return value
    if kind is str:
        return text
    raise ValueError(f"fields of type {_type_name(kind)} cannot be set from the command line")


def apply_overrides(cfg, overrides: list[str]):
    """``cfg`` with each ``field=value`` applied, validated by the config's own checks."""
    leaves = {name: kind for name, _, kind, _ in iter_fields(cfg)}
    for item in overrides:
        if "=" not in item:
            raise CliError(f"--set takes field=value, got {item!r}")
        name, text = item.split("=", 1)
        name = name.strip()
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


def fields_help(presets: dict) -> str:
    """Every field with its type, default, each preset's value where it differs, and comment."""
    default_cfg = type(next(iter(presets.values())))()
    per_preset = {p: dict((n, v) for n, v, _, _ in iter_fields(c)) for p, c in presets.items()}
    lines = ["config fields (--set FIELD=VALUE; tuples comma-separated, none for no value):"]
    for name, default, kind, comment in iter_fields(default_cfg):
        fmt = json.dumps(json_ready(default))
        differs = [f"{p}: {json.dumps(json_ready(v[name]))}" for p, v in per_preset.items()]
        differs = [
            d for d, v in zip(differs, per_preset.values(), strict=True) if v[name] != default
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


def make_parser(prog: str, doc: str, presets: dict, default_preset: str = "quick") -> Parser:
    """The shared parser: ``--preset``, ``--set``, ``--print-config`` (add your own flags)."""
    parser = Parser(prog=prog, description=description(doc), epilog=fields_help(presets))
    parser.add_argument("--preset", choices=sorted(presets), default=default_preset)
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
    """The preset with ``--set`` applied; ``--print-config`` prints it and exits."""
    try:
        cfg = apply_overrides(presets[args.preset], args.overrides)
    except CliError as err:
        parser.error(str(err))
    if args.print_config:
        print(json.dumps(json_ready(dataclasses.asdict(cfg)), indent=2))
        sys.exit(0)
    return cfg
