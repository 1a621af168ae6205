"""Shared plumbing of the experiment scripts: presets, the CLI, JSON/NPZ output, data.

Every experiment module defines a frozen ``Config`` dataclass and ``PRESETS`` (``quick``: CPU,
about a minute; ``paper``: accelerator, 23000 iterations as in the paper's Fig. 1; ``tiny``:
seconds, for the smoke tests), a ``run(cfg) -> (results dict, arrays dict)`` that trains through
``prd_jax.grid.run_grid`` and judges its claims with ``prd_jax.claims``, a ``plot`` drawn from
the saved files, and a ``main`` made by ``make_main``. The CLI is ``experiments.cli``'s:
``--preset``, ``--set field=value``, ``--print-config``.

Output of ``python -m experiments.<name> --out DIR``: ``DIR/<name>.json`` (config, command,
summary numbers, claims with their verdicts, plotted series), ``DIR/<name>.npz`` (weight
images and other arrays, when any) and ``DIR/<name>.png`` drawn from those files, each written
atomically. Several experiments share one folder (``make figures``); the folder policy is the
sweep's (``prd_jax.results.prepare_folder``, with ``<name>.json`` as the record of the config):
a folder that already holds this experiment's results needs ``--resume`` (reuse them when the
config is the same: nothing is recomputed, the figure is drawn again from the files) or
``--overwrite`` (recompute); another config's results, or a sweep's folder, are refused unless
``--overwrite``; a second process writing the folder is refused while the first runs.
"""

import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from experiments import cli
from prd_jax import claims
from prd_jax.results import (
    ResultsError,
    WriteError,
    json_ready,
    load_npz,
    prepare_folder,
    release_folder,
    save_npz_atomic,
    write_json_atomic,
)

DEFAULT_OUT = Path("results/figures")
VERDICT_MARKS = {
    "holds": "holds",
    "fails": "FAILS",
    "outside_hypotheses": "outside hypotheses",
    "inconclusive": "inconclusive",
    "finding": "finding",
    "passes": "check passes",
}

# The hypotheses of the paper's statements, as conditions on a claim's setting (claims.need):
# a claim's setting carries the measured quantities they test, and ``hypotheses_hold`` is
# computed from them (docs/mathematics.md, section 5).
#   Theorems 1-2's architecture: a scalar output, v frozen, only U trained.
ONE_OUTPUT_U_ONLY = (claims.need("d_out", "==", 1), claims.need("train", "==", "U"))
#   Remark 1 / Lemma 4, used by every proof: lambda_min(H(t)) >= lambda0/2 at every logged step.
KERNEL_REGIME = (claims.need("min_lambda_min_over_lambda0", ">=", 0.5),)
SUPERVISED = (claims.need("lambda_adv", "==", 0.0),)
#   Theorem 2 / Eq. 17: a frozen critic with ||w|| <= L_bound = eps sqrt(m)/(kappa n
#   sqrt(2 log(2/delta))) (kappa mu <= eps); 1e-5 of slack for the float32 projection onto L.
FROZEN_CRITIC_WITHIN_L_BOUND = (
    claims.need("critic", "==", "frozen"),
    claims.need("critic_norm_over_L_bound", "<=", 1.0 + 1e-5),
)
THEOREM1 = ONE_OUTPUT_U_ONLY + SUPERVISED + KERNEL_REGIME  # Theorem 1 and Remark 3
THEOREM2 = ONE_OUTPUT_U_ONLY + FROZEN_CRITIC_WITHIN_L_BOUND + KERNEL_REGIME  # Theorem 2, Eq. 17
#   The paper's pattern setting (Theorem 3, its figures): U and V trained against a trained
#   critic with lambda_adv > 0.
PATTERN_SETTING = (
    claims.need("train", "==", "U,V"),
    claims.need("critic", "==", "wgan_gp"),
    claims.need("lambda_adv", ">", 0.0),
)


def usable(diverged) -> np.ndarray:
    """Boolean mask of the runs that did not diverge: the only ones that feed a number."""
    return ~np.asarray(diverged, bool)


def claim_line(c: dict) -> str:
    """One line per claim for the terminal: verdict, statement, measured value, its interval,
    the runs it rests on, and for an inconclusive comparison the smallest effect it could have
    detected."""
    mark = VERDICT_MARKS.get(c["verdict"], c["verdict"])
    if c.get("kind") == "check" and c["verdict"] != "passes":
        mark = f"check {c['verdict']}".replace("fails", "FAILS")
    value = c.get("effect", c["measured"])
    value = "not measured" if value is None or value == [] else short(value)
    text = f"  [{mark}] {c['claim']}: {value}"
    if c.get("interval") is not None:
        lo, hi = c["interval"]
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            text += f" [{lo:.4g}, {hi:.4g}]"
    extra = []
    if c.get("runs_diverged"):
        extra.append(f"{c['runs_used']} used, {c['runs_diverged']} diverged (left out)")
    underpowered = underpowered_by(c)
    if underpowered is not None:
        extra.append(f"underpowered: smallest detectable effect {underpowered:.3g}")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def underpowered_by(c: dict) -> float | None:
    """The smallest effect an inconclusive comparison could have detected (80% power, 5%
    two-sided), or None (not a comparison, not inconclusive, or not computable)."""
    d = c.get("detectable_effect")
    if c.get("kind") != "comparison" or c["verdict"] != "inconclusive" or d is None:
        return None
    return float(d) if math.isfinite(d) else None


def check(cfg, positive=(), nonnegative=(), unit=()) -> None:
    """Validate config fields (numbers or tuples of numbers) for ``__post_init__``: raises
    ValueError naming the field, its value and what is allowed (finite, within float32's
    range, and the rule)."""
    rules = [(positive, "> 0", lambda v: v > 0), (nonnegative, ">= 0", lambda v: v >= 0)]
    rules.append((unit, "in (0, 1)", lambda v: 0 < v < 1))
    for names, allowed, ok in rules:
        for name in names:
            value = getattr(cfg, name)
            values = value if isinstance(value, tuple) else (value,)
            if not values or not all(_number(v) and ok(v) for v in values):
                raise ValueError(
                    f"{type(cfg).__name__}.{name} must be finite and {allowed} (and within "
                    f"float32's range, |x| <= {cli.FLOAT32_MAX:.4g}), got {value!r}"
                )


def _number(v) -> bool:
    """A finite real number (Python or NumPy), not a bool, within float32's range (float
    fields become float32 arrays inside JAX, where a larger value is inf)."""
    return (
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        and math.isfinite(v)
        and abs(v) <= cli.FLOAT32_MAX
    )


def short(value, limit: int = 6) -> str:
    """A claim's measured value for the terminal: long lists as their range and length."""
    if isinstance(value, list) and len(value) > limit:
        flat = [v for v in np.ravel(np.asarray(value, dtype=object)) if isinstance(v, int | float)]
        if flat:
            return f"{len(value)} values in [{min(flat):.4g}, {max(flat):.4g}]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as strict JSON atomically (temporary file, then rename)."""
    write_json_atomic(path, json_ready(obj))


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def make_main(name: str, doc: str, presets: dict, run, plot):
    """Build ``main(argv)`` for an experiment.

    ``run(cfg) -> (results, arrays)``: ``results`` a JSON-able dict with at least ``summary``
    and ``claims`` (records of ``prd_jax.claims``); ``arrays`` a dict of numpy arrays for the
    ``.npz`` (may be empty). ``plot(results, arrays, png_path)`` draws the figure from what was
    written. The folder flags and their policy are every entry point's
    (``cli.add_folder_flags``, ``prd_jax.results.prepare_folder``); the ``.npz`` is written
    before the ``.json``, which records the config and so marks the results finished.
    """
    prog = f"python -m experiments.{name}"

    def main(argv=None):
        parser = cli.make_parser(prog, doc, presets)
        cli.add_folder_flags(parser, DEFAULT_OUT)
        args = parser.parse_args(argv)
        cfg = cli.resolve(parser, args, presets)
        cli.setup_compile_cache(args)
        written = []  # the finished results file, once written

        def interrupted():
            if written:
                return (
                    f"{prog}: interrupted while drawing; {written[0]} is written: rerun with "
                    "--resume to draw the figure"
                )
            return f"{prog}: interrupted; nothing of this run was written"

        with cli.guarded(prog, interrupted):
            config = json_ready(dataclasses.asdict(cfg))
            try:
                out = prepare_folder(
                    args.out, config, args.resume, args.overwrite,
                    entry=name, record=f"{name}.json", shared=True,
                )  # fmt: skip
            except ResultsError as err:
                parser.error(str(err))
            try:
                return _run_and_plot(parser, args, cfg, out, written)
            except WriteError as err:  # a full or read-only disk: one line, nothing partial
                parser.exit(1, f"{prog}: error: {err}\n")
            finally:
                release_folder(out)

    def _run_and_plot(parser, args, cfg, out, written):
        json_path, npz_path, png_path = (out / f"{name}.{ext}" for ext in ("json", "npz", "png"))
        reused = _finished(json_path, npz_path) if args.resume else None
        if reused is None:
            command = f"{prog} --preset {args.preset}"
            command += "".join(f" --set {o}" for o in args.overrides)
            if args.out != str(DEFAULT_OUT):
                command += f" --out {args.out}"

            import jax

            from prd_jax.data import DataError

            start = time.perf_counter()
            try:
                results, arrays = run(cfg)
            except (DataError, ValueError) as err:  # missing data or a bad value: one line
                parser.exit(2, f"{parser.prog}: error: {' '.join(str(err).split())}\n")
            wall = time.perf_counter() - start
            results = {
                "experiment": name,
                "preset": args.preset,
                "command": command,
                "config": dataclasses.asdict(cfg),
                "device": f"{jax.default_backend()} ({jax.devices()[0].device_kind})",
                "wall_s": wall,
                **results,
                "arrays": sorted(arrays),
            }
            if arrays:
                save_npz_atomic(npz_path, arrays, compressed=True)
            elif npz_path.exists():  # an earlier config's arrays: not these results'
                npz_path.unlink()
            write_json(json_path, results)
            written.append(json_path)
            # Plot from the files just written: files are the log, plotting reads them.
            reused = _finished(json_path, npz_path)
            note = f"in {wall:.1f}s"
        else:
            written.append(json_path)
            note = "(--resume: the finished results of this config, nothing recomputed)"
        saved, loaded = reused
        drawn = draw_figure(plot, saved, loaded, png_path)
        print(f"{name}: wrote {json_path}" + (f", {png_path}" if drawn else "") + f" {note}")
        for c in saved.get("claims", []):
            print(claim_line(c))
        sys.stdout.flush()
        return saved

    return main


def draw_figure(plot, saved, loaded, png_path) -> bool:
    """``plot(saved, loaded, png_path)``; a figure that cannot be drawn (nothing to show: every
    run diverged, say) is one line on stderr and no PNG, never a lost result: the JSON is
    already written. A full or read-only disk (``WriteError``) and Ctrl-C propagate."""
    import matplotlib.pyplot as plt

    try:
        plot(saved, loaded, png_path)
        return True
    except WriteError:
        raise
    except Exception as err:  # noqa: BLE001 - the numbers are written; only the picture is lost
        first = (str(err).strip().splitlines() or [""])[0][:200]
        sys.stderr.write(
            f"figure {Path(png_path).name} skipped: could not be drawn "
            f"({type(err).__name__}: {first})\n"
        )
        return False
    finally:
        plt.close("all")


def _finished(json_path: Path, npz_path: Path):
    """``(results, arrays)`` of an experiment's finished files, or None when they are missing
    or unreadable (an unreadable ``.npz`` is moved aside to ``.corrupt``)."""
    try:
        saved = read_json(json_path)
    except (OSError, ValueError):
        return None
    names = saved.get("arrays")
    if names is None:  # written before results listed their arrays
        names = [] if not npz_path.exists() else None
    if names == []:
        return saved, {}
    if not npz_path.exists():
        return None
    loaded = load_npz(npz_path, required=names or ())
    return None if loaded is None else (saved, loaded)


def load_data(name: str, n: int, target: str = "onehot", factor: int = 1, seed: int = 0):
    """``(X, Y, info)``: an image subset (``prd_jax.data.image_dataset``) or ``"synthetic"``
    sphere data with teacher targets (``d_in = (28 // factor)**2``, ``d_out = 10``).

    No silent fallback: a missing or corrupt MNIST / Fashion-MNIST raises ``DataError`` naming
    its install command; scikit-learn's 8x8 ``"digits"`` are used only when asked for (e.g.
    ``--set dataset=digits``), and never pooled (8x8 is already small: ``factor`` is ignored).
    ``info`` records what was used: ``dataset``, ``source``, ``factor``, ``image_shape``, ...
    """
    import jax

    import prd_jax
    from prd_jax import data

    if name == "synthetic":
        side = 28 // factor
        X, Y = prd_jax.sphere(jax.random.key(10_000 + seed), n, side * side, 10, "teacher")
        info = {"dataset": "synthetic", "image_shape": [side, side], "target": "teacher"}
        return X, Y, info
    factor = 1 if name == "digits" else factor
    try:
        d = data.image_dataset(name, n, target=target, seed=seed, factor=factor)
    except data.DataError as err:
        raise data.DataError(
            f"{err} Or run on scikit-learn's 8x8 digits instead, explicitly: set the "
            "experiment's data-set field to digits (e.g. --set dataset=digits)."
        ) from err
    source = "scikit-learn load_digits" if d.name == "digits" else str(data.data_dir(d.name))
    info = {
        "dataset": d.name,
        "requested": name,
        "source": source,
        "factor": factor,
        "image_shape": list(d.image_shape),
        "target": target,
        "class_counts": np.bincount(d.labels, minlength=10).tolist(),
        "indices_head": d.indices[:10].tolist(),
    }
    return d.X, d.Y, info


def spectrum_info(X) -> dict:
    """lambda0, lambda_max, kappa_inf of H-infinity (float64), and kappa = 2 kappa_inf + 1."""
    import prd_jax

    spec = prd_jax.gram_spectrum(X)
    return {
        "lambda0": spec.lambda0,
        "lambda_max": spec.lambda_max,
        "kappa_inf": spec.kappa,
        "kappa": float(prd_jax.theory.kappa(spec.lambda_max, spec.lambda0)),
    }
