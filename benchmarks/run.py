"""`make bench`: run every benchmark module and write results/bench/bench.{json,md}.

    python -m benchmarks.run                 # make bench: issue 11's settings (< 10 min here)
    python -m benchmarks.run --size quick    # smaller sizes
    python -m benchmarks.run --size tiny     # seconds: a smoke test, numbers meaningless
    python -m benchmarks.run --only gray_scott --out /tmp/bench

Discovery: every module ``benchmarks/bench_*.py`` that defines ``run(size: str) ->
list[dict]`` (``size`` in ``common.SIZES``). Each row must hold ``name`` (str), ``value``
(float) and ``unit`` (str), and may add ``key`` (its name among bench.json's ``headline``
numbers), ``baseline`` (what it is compared with), ``baseline_value``, ``speedup`` (measured
in the same run), ``target``, ``met`` (bool), ``repeats``, ``params`` (dict), ``table`` (a
list of dicts: a scaling table) and ``note``. A module that raises is recorded as an error
row and the others still run; the exit status is then 1. ``bench.md`` is the table drawn
from the rows, ``scaling.png`` the scaling tables (``benchmarks.plot``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import math
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

import benchmarks
from benchmarks.common import SIZES
from prd_jax.results import json_ready, write_text_atomic

REQUIRED = ("name", "value", "unit")


def discover() -> list[str]:
    """Names of the benchmark modules, sorted: ``bench_*`` in this package."""
    return sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )


def environment(size: str) -> dict:
    import jax

    dev = jax.devices()[0]
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "size": size,
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def run_module(name: str, size: str) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        rows = list(module.run(size))
        for row in rows:
            missing = [key for key in REQUIRED if key not in row]
            if missing:
                raise ValueError(f"row {row.get('name', row)!r} lacks {missing}")
            row.setdefault("module", name)
    except Exception as err:  # a broken benchmark must not hide the others
        rows = [
            {
                "module": name,
                "name": f"{name} (failed)",
                "value": math.nan,
                "unit": "",
                "error": f"{type(err).__name__}: {err}",
                "traceback": traceback.format_exc(limit=5),
            }
        ]
    return rows, time.perf_counter() - t0


def _fmt(x) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        if not math.isfinite(x):
            return "—"
        return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3e}"
    return str(x)


def to_markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        "# Benchmarks",
        "",
        f"{env['date']} · jax {env['jax']} on {env['backend']} ({env['device']}, "
        f"{env['cpu_count']} CPUs) · size={env['size']} · load {_fmt(env['load_average_1min'])}"
        f" · {report['wall_time_s']:.0f} s",
        "",
        "| benchmark | value | unit | target | met | speedup | same-run baseline "
        "| baseline value |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        speedup = f"{row['speedup']:.2f}x" if "speedup" in row else ""
        met = {True: "yes", False: "**no**"}.get(row.get("met"), "")
        name = f"{row['name']} (`{row['key']}`)" if "key" in row else row["name"]
        lines.append(
            f"| {name} | {_fmt(row['value'])} | {row['unit']} | {row.get('target', '')} | "
            f"{met} | {speedup} | {row.get('baseline', '')} | {_fmt(row.get('baseline_value'))} |"
        )
    tables = [row for row in report["results"] if row.get("table")]
    for row in tables:
        cols = list(row["table"][0])
        lines += ["", f"{row['name']} ({', '.join(f'{k}={v}' for k, v in row['params'].items())}):"]
        lines += ["", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in row["table"]]
    notes = [row for row in report["results"] if row.get("note") or row.get("error")]
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {row['name']}: {row.get('error') or row['note']}" for row in notes]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full", help="problem sizes")
    parser.add_argument("--quick", action="store_true", help="same as --size quick")
    parser.add_argument(
        "--only", default="", help="run modules whose name contains this (comma-separated: any)"
    )
    parser.add_argument("--out", type=Path, default=Path("results/bench"))
    args = parser.parse_args(argv)

    size = "quick" if args.quick else args.size
    wanted = [w for w in args.only.split(",") if w] or [""]
    names = [n for n in discover() if any(w in n for w in wanted)]
    if not names:
        parser.exit(2, f"{parser.prog}: error: no benchmark module matches {args.only!r}\n")
    t0 = time.perf_counter()
    results, module_times = [], {}
    for name in names:
        print(f"[bench] {name} ...", flush=True)
        rows, seconds = run_module(name, size)
        module_times[name] = seconds
        results += rows
        for row in rows:
            extra = (
                f" ({row['speedup']:.2f}x {row.get('baseline', '')})" if "speedup" in row else ""
            )
            print(f"  {row['name']}: {_fmt(row['value'])} {row['unit']}{extra}", flush=True)
            if "error" in row:
                print(f"  {row['error']}", file=sys.stderr)
    report = {
        "environment": environment(size),
        "wall_time_s": time.perf_counter() - t0,
        "headline": {row["key"]: row["value"] for row in results if "key" in row},
        "module_times_s": module_times,
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / "bench.json", json.dumps(json_ready(report), indent=1) + "\n")
    write_text_atomic(args.out / "bench.md", to_markdown(report))
    print(f"[bench] wrote {args.out / 'bench.json'} and {args.out / 'bench.md'}")
    try:
        from benchmarks.plot import plot_scaling

        figure = plot_scaling(args.out / "bench.json", args.out / "scaling.png")
        if figure is not None:
            print(f"[bench] drew {figure}")
    except ImportError as err:  # matplotlib missing: the numbers are written all the same
        print(f"[bench] no figure ({err})", file=sys.stderr)
    return 1 if any("error" in row for row in results) else 0


if __name__ == "__main__":
    sys.exit(main())
