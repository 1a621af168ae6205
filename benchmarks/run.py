"""`make bench`: run every benchmark module and write results/bench/bench.{json,md}.

    python -m benchmarks.run                 # make bench: issue 11's settings (< 10 min here)
    python -m benchmarks.run --size quick    # smaller sizes
    python -m benchmarks.run --size tiny     # seconds: a smoke test, numbers meaningless
    python -m benchmarks.run --only gray_scott --out /tmp/bench
    python -m benchmarks.run --make-test-seconds   # also time `make test` 3x (many minutes)

Discovery: every module ``benchmarks/bench_*.py`` that defines ``run(size: str) ->
list[dict]`` (``size`` in ``common.SIZES``). Each row must hold ``name`` (str), ``value``
(float) and ``unit`` (str), and may add ``key`` (its name among bench.json's ``headline``
numbers), ``baseline`` (what it is compared with), ``baseline_value``, ``speedup`` (measured
in the same run), ``target``, ``met`` (bool), ``repeats``, ``params`` (dict), ``table`` (a
list of dicts: a scaling table) and ``note``. A module that raises is recorded as an error
row and the others still run; the exit status is then 1. ``bench.md`` is the table drawn
from the rows, ``scaling.png`` the scaling tables (``benchmarks.plot``).

``headline`` in bench.json holds every key of ``HEADLINE_KEYS`` (None where no row measured
it), then any other row key. The persistent compilation cache (``prd_jax.compile_cache``)
starts empty in ``<out>/jax-cache`` (``--compile-cache DIR`` to keep one, ``--no-compile-cache``
for none), so every cold figure is cold on any machine; the warm figures run the same grids
again after forgetting every program held in memory. ``make_test_seconds`` comes from
``<out>/make_test.json`` (``python -m benchmarks.make_test``, or ``--make-test-seconds`` here).
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
import shutil
import sys
import time
import traceback
from pathlib import Path

import benchmarks
from benchmarks.common import SIZES
from prd_jax.results import json_ready, write_text_atomic

REQUIRED = ("name", "value", "unit")
# The headline of bench.json, in order (issue 11's and issue 18's targets).
HEADLINE_KEYS = (
    "sweep_speedup_vs_baseline",  # >= 5, cold compilation cache (bench_sweep)
    "sweep_speedup_warm_cache",  # >= 8, the same grid, second run (bench_sweep)
    "compile_seconds_quick",  # <= 3 s, largest bucket of the quick preset, cold (bench_sweep)
    "compile_seconds_quick_warm",  # <= 0.5 s, the same, from the cache (bench_sweep)
    "compile_seconds_mnist",  # <= 3 s (bench_flops)
    "flop_fraction_of_peak",  # >= 0.45 (bench_flops)
    "peak_rss_mb",  # (bench_memory)
    "rss_growth_10x_steps",  # <= 1.1 (bench_memory)
    "gray_scott_seconds_to_pattern",  # <= 1 s (bench_gray_scott)
    "cpu_devices_speedup",  # --set cpu_devices=2 against 1 (bench_devices)
    "run_steps_per_s_m32",  # overhead-bound buckets against the baseline (bench_overhead)
    "run_steps_per_s_m128",
    "run_steps_per_s_m512",
    "make_test_seconds",  # <= 0.6 x the suite without the cache (benchmarks.make_test)
    # >= 2: the threshold search's run-steps against a fixed grid reaching the same interval
    # (bench_search, beside search_wall_ratio).
    "search_runsteps_ratio",
)


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
    parser.add_argument(
        "--compile-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="persistent compilation cache to use and keep (default: a new empty "
        "<out>/jax-cache, so cold numbers are cold)",
    )
    parser.add_argument("--no-compile-cache", action="store_true", help="no persistent cache")
    parser.add_argument(
        "--make-test-seconds",
        action="store_true",
        help="also time `make test` (cold, warm and without the cache: three runs of the "
        "suite, many minutes) into <out>/make_test.json; without it, a make_test.json "
        "already there is reported",
    )
    args = parser.parse_args(argv)

    size = "quick" if args.quick else args.size
    wanted = [w for w in args.only.split(",") if w] or [""]
    names = [n for n in discover() if any(w in n for w in wanted)]
    if not names:
        parser.exit(2, f"{parser.prog}: error: no benchmark module matches {args.only!r}\n")
    cache_folder = _setup_compile_cache(args)
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
    results += _make_test_rows(args)
    headline = dict.fromkeys(HEADLINE_KEYS)
    headline.update({row["key"]: row["value"] for row in results if "key" in row})
    env = environment(size)
    env["compile_cache"] = str(cache_folder) if cache_folder is not None else None
    report = {
        "environment": env,
        "wall_time_s": time.perf_counter() - t0,
        "headline": headline,
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


def _setup_compile_cache(args):
    """The bench's persistent compilation cache: ``--compile-cache DIR`` kept as it is, by
    default ``<out>/jax-cache`` emptied first; exported to the benchmarks' child processes."""
    from prd_jax import compile_cache

    if args.no_compile_cache:
        compile_cache.disable()
        os.environ["PRD_JAX_CACHE"] = "0"
        return None
    root = args.compile_cache
    if root is None:
        root = args.out / "jax-cache"
        shutil.rmtree(root, ignore_errors=True)
    return compile_cache.enable(root, export=True)


def _make_test_rows(args) -> list[dict]:
    """``make_test_seconds`` rows: measured now with ``--make-test-seconds``, else read from
    ``<out>/make_test.json`` when a measurement is there."""
    from benchmarks import make_test

    path = args.out / "make_test.json"
    if args.make_test_seconds:
        record = make_test.measure()
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
    elif path.exists():
        record = json.loads(path.read_text())
    else:
        return []
    return [row | {"module": "make_test"} for row in make_test.rows(record)]


if __name__ == "__main__":
    sys.exit(main())
