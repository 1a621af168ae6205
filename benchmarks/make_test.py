"""``make test``'s own wall time (pytest's "N passed in X s"), with the suite's persistent
compilation cache cold, warm and off (issue 18, item 1).

    python -m benchmarks.make_test                       # cold, warm, off: 3 runs of the suite
    python -m benchmarks.make_test --runs off --tree DIR # e.g. the code before issue 18:
                                                         # git archive main | tar -x -C DIR

Each run is the Makefile's ``make test`` command, ``python -m pytest -q -n 2 --dist loadfile
tests``, in the repository (or ``--tree``), with this interpreter:

* ``cold``: an empty ``.cache/jax-tests`` (a fresh clone, CI): programs compiled by one test,
  one xdist worker or one subprocess are loaded by the others;
* ``warm``: again, with the folder the cold run filled (a second ``make test``);
* ``off``: ``PRD_JAX_CACHE=0``, no persistent cache: the suite as it ran before the cache.

Writes ``--out`` (default ``results/bench/make_test.json``), which ``benchmarks.run`` reads into
bench.json (``make_test_seconds``: the cold run, against the off run as its same-day
baseline). Minutes per run: run it on a quiet machine. Takes no timing as a test.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["-m", "pytest", "-q", "-n", "2", "--dist", "loadfile", "tests"]
RUNS = ("cold", "warm", "off")


def pytest_seconds(output: str) -> float | None:
    """The seconds of pytest's final summary line ("... passed ... in 123.45s (0:02:03)")."""
    found = re.findall(r"\bin ([0-9]+(?:\.[0-9]+)?)s\b", output)
    return float(found[-1]) if found else None


def run_suite(tree: Path, label: str, python: str = sys.executable) -> dict:
    """One ``make test`` in ``tree``: ``label`` in ``RUNS`` sets up its cache."""
    env = dict(os.environ)
    env.pop("PRD_JAX_CACHE_DIR", None)  # the suite sets its own folder
    if label == "off":
        env["PRD_JAX_CACHE"] = "0"
    else:
        env.pop("PRD_JAX_CACHE", None)
        if label == "cold":
            shutil.rmtree(tree / ".cache" / "jax-tests", ignore_errors=True)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run([python, *COMMAND], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    lines = proc.stdout.strip().splitlines() or [""]
    last = lines[-1]
    return {
        "run": label,
        "pytest_seconds": pytest_seconds(last),
        "wall_seconds": wall,
        "returncode": proc.returncode,
        "summary": last,
        "failed": [line for line in lines if line.startswith(("FAILED", "ERROR"))],
        "load_average_before": load,
        "load_average_after": os.getloadavg()[0],
        "tree": str(tree),
    }


def measure(tree: Path = ROOT, runs=RUNS, log=print) -> dict:
    """Run the suite once per label of ``runs``, in order; returns the record to write."""
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python " + " ".join(COMMAND),
        "cpu_count": os.cpu_count(),
        "runs": [],
    }
    for label in runs:
        log(f"[make_test] {label} ...")
        result = run_suite(tree, label)
        log(f"  {label}: {result['summary']} (load {result['load_average_before']:.1f})")
        record["runs"].append(result)
    return record


def rows(record: dict) -> list[dict]:
    """bench.json rows of a ``measure`` record: ``make_test_seconds`` (cold cache, against the
    cache-off run) and ``make_test_seconds_warm``."""
    by = {r["run"]: r for r in record["runs"] if r.get("pytest_seconds") is not None}
    off = by.get("off", {}).get("pytest_seconds")
    out = []
    for label, key in (("cold", "make_test_seconds"), ("warm", "make_test_seconds_warm")):
        if label not in by:
            continue
        value = by[label]["pytest_seconds"]
        row = {
            "name": f"make_test/{label}_cache",
            "key": key,
            "value": value,
            "unit": "s (pytest's own wall time of make test)",
            "target": "<= 0.6 x the suite without the cache",
            "repeats": 1,
            "measured": record["date"],
            "summary": by[label]["summary"],
            "load_average": by[label]["load_average_before"],
        }
        if off:
            row.update(baseline="the same suite, PRD_JAX_CACHE=0, same day", baseline_value=off,
                       speedup=off / value, met=value <= 0.6 * off)  # fmt: skip
        out.append(row)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_test", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "make_test.json")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to test")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, of {RUNS}")
    args = parser.parse_args(argv)
    runs = [r for r in args.runs.split(",") if r]
    if not runs or any(r not in RUNS for r in runs):
        parser.error(f"--runs must be a comma-separated subset of {','.join(RUNS)}")
    record = measure(args.tree.resolve(), runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"[make_test] wrote {args.out}")
    return 0 if all(r["returncode"] == 0 for r in record["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
