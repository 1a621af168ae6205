"""Shared plumbing of the experiment scripts: presets, the CLI, JSON/NPZ output, data.

Every experiment module defines a frozen ``Config`` dataclass and ``PRESETS`` (``quick``: CPU,
about a minute; ``paper``: accelerator, 23000 iterations as in the paper's Fig. 1; ``tiny``:
seconds, for the smoke tests), a ``run(cfg) -> (results dict, arrays dict)`` that trains through
``prd_jax.grid.run_grid`` and judges its claims with ``prd_jax.claims``, a ``plot`` drawn from
the saved files, and a ``main`` made by ``make_main``. The CLI is ``experiments.cli``'s:
``--preset``, ``--set field=value``, ``--print-config``.

Output of ``python -m experiments.<name> --out DIR``: ``DIR/<name>.json`` (config, command,
summary numbers, claims with their verdicts, plotted series), ``DIR/<name>.npz`` (weight
images and other arrays, when any) and ``DIR/<name>.png`` drawn from those files.
"""

import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from experiments import cli
from prd_jax.results import ResultsError, check_writable_folder, json_ready, write_json_atomic

DEFAULT_OUT = Path("results/figures")
VERDICT_MARKS = {
    "holds": "holds",
    "fails": "FAILS",
    "outside_hypotheses": "outside hypotheses",
    "inconclusive": "inconclusive",
    "finding": "finding",
}


def check(cfg, positive=(), nonnegative=(), unit=()) -> None:
    """Validate config fields (numbers or tuples of numbers) for ``__post_init__``: raises
    ValueError naming the field, its value and what is allowed."""
    rules = [(positive, "> 0", lambda v: v > 0), (nonnegative, ">= 0", lambda v: v >= 0)]
    rules.append((unit, "in (0, 1)", lambda v: 0 < v < 1))
    for names, allowed, ok in rules:
        for name in names:
            value = getattr(cfg, name)
            values = value if isinstance(value, tuple) else (value,)
            if not values or not all(_number(v) and ok(v) for v in values):
                raise ValueError(
                    f"{type(cfg).__name__}.{name} must be finite and {allowed}, got {value!r}"
                )


def _number(v) -> bool:
    """A finite real number (Python or NumPy), not a bool."""
    return (
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        and math.isfinite(v)
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
    written.
    """

    def main(argv=None):
        parser = cli.make_parser(f"python -m experiments.{name}", doc, presets)
        parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
        args = parser.parse_args(argv)
        cfg = cli.resolve(parser, args, presets)
        cli.setup_compile_cache(args)
        try:
            check_writable_folder(args.out)
        except ResultsError as err:
            parser.error(str(err))
        command = f"python -m experiments.{name} --preset {args.preset}"
        command += "".join(f" --set {o}" for o in args.overrides)
        if args.out != DEFAULT_OUT:
            command += f" --out {args.out}"

        import jax

        from prd_jax.data import DataError

        start = time.perf_counter()
        try:
            results, arrays = run(cfg)
        except (DataError, ValueError) as err:  # missing data or a bad value: one line, the fix
            parser.exit(2, f"{parser.prog}: error: {' '.join(str(err).split())}\n")
        except KeyboardInterrupt:
            parser.exit(130, f"\n{parser.prog}: interrupted; nothing of this run was written\n")
        wall = time.perf_counter() - start
        results = {
            "experiment": name,
            "preset": args.preset,
            "command": command,
            "config": dataclasses.asdict(cfg),
            "device": f"{jax.default_backend()} ({jax.devices()[0].device_kind})",
            "wall_s": wall,
            **results,
        }
        json_path, npz_path = args.out / f"{name}.json", args.out / f"{name}.npz"
        write_json(json_path, results)
        if arrays:
            np.savez_compressed(npz_path, **{k: np.asarray(v) for k, v in arrays.items()})
        # Plot from the files just written: files are the log, plotting reads them.
        saved = read_json(json_path)
        loaded = dict(np.load(npz_path)) if arrays else {}
        plot(saved, loaded, args.out / f"{name}.png")
        print(f"{name}: wrote {json_path}, {args.out / f'{name}.png'} in {wall:.1f}s")
        for c in saved.get("claims", []):
            print(f"  [{VERDICT_MARKS[c['verdict']]}] {c['claim']}: {short(c['measured'])}")
        sys.stdout.flush()
        return saved

    return main


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
