"""Shared plumbing of the paper's experiment scripts: presets, CLI, JSON/NPZ output.

Every experiment module defines a frozen ``Config`` dataclass and ``PRESETS`` (``quick``: CPU,
about a minute; ``paper``: accelerator, 23000 iterations as in the paper's Fig. 1; ``tiny``:
seconds, for the smoke tests), a ``run(cfg) -> (results dict, arrays dict)`` and a ``main``
made by ``make_main``. ``--set field=value`` overrides any config field.

Output of ``python -m experiments.<name> --out DIR``: ``DIR/<name>.json`` (config, command,
summary numbers, claims checked against the paper, plotted series), ``DIR/<name>.npz`` (weight
images and other arrays, when any) and ``DIR/<name>.png`` drawn from those files.
"""

import argparse
import dataclasses
import functools
import json
import sys
import time
import typing
from pathlib import Path

import numpy as np

from prd_jax.results import json_ready, write_json_atomic

DEFAULT_OUT = Path("results/figures")


def claim(text: str, measured, agrees: bool | None, note: str = "") -> dict:
    """One checked statement of the paper: what it says, what we measured, whether they agree."""
    return {"claim": text, "measured": measured, "agrees": agrees, "note": note}


def _parse_value(name: str, kind, text: str):
    origin = typing.get_origin(kind)
    if origin is tuple or kind is tuple:
        args = typing.get_args(kind)
        item = args[0] if args else float
        return tuple(item(v) for v in text.split(",") if v)
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{name} must be true or false, got {text!r}")
        return text.lower() in ("true", "1")
    return kind(text)


def apply_overrides(cfg, overrides: list[str]):
    """``cfg`` with ``field=value`` strings applied (tuples as comma-separated lists)."""
    fields = typing.get_type_hints(type(cfg))
    changes = {}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set takes field=value, got {item!r}")
        name, text = item.split("=", 1)
        if name not in fields:
            raise ValueError(f"unknown config field {name!r}; valid: {sorted(fields)}")
        changes[name] = _parse_value(name, fields[name], text)
    return dataclasses.replace(cfg, **changes)


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as strict JSON atomically (temporary file, then rename)."""
    write_json_atomic(path, json_ready(obj))


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def make_main(name: str, doc: str, presets: dict, run, plot):
    """Build ``main(argv)`` for an experiment.

    ``run(cfg) -> (results, arrays)``: ``results`` a JSON-able dict with at least ``summary``
    and ``claims``; ``arrays`` a dict of numpy arrays for the ``.npz`` (may be empty).
    ``plot(results, arrays, png_path)`` draws the figure from what was written.
    """

    def main(argv=None):
        parser = argparse.ArgumentParser(
            prog=f"python -m experiments.{name}", description=doc.strip().splitlines()[0]
        )
        parser.add_argument("--preset", choices=sorted(presets), default="quick")
        parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
        parser.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="override a config field (tuples comma-separated); repeatable",
        )
        args = parser.parse_args(argv)
        try:
            cfg = apply_overrides(presets[args.preset], args.overrides)
        except (ValueError, TypeError) as err:
            parser.error(str(err))
        args.out.mkdir(parents=True, exist_ok=True)
        command = f"python -m experiments.{name} --preset {args.preset}"
        command += "".join(f" --set {o}" for o in args.overrides)
        if args.out != DEFAULT_OUT:
            command += f" --out {args.out}"

        import jax

        start = time.perf_counter()
        results, arrays = run(cfg)
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
            mark = {True: "agrees", False: "DISAGREES", None: "n/a"}[c["agrees"]]
            print(f"  [{mark}] {c['claim']}: {c['measured']}")
        sys.stdout.flush()
        return saved

    return main


@functools.cache
def compiled_train(train_cfg):
    """``jit(vmap(make_train(cfg)))``, one per (hashable, frozen) config: experiments run in
    one process with equal configs and shapes share a compilation (the smoke tests do)."""
    import jax

    import prd_jax

    return jax.jit(jax.vmap(prd_jax.make_train(train_cfg), in_axes=(0, 0, None, None)))


def train_batch(train_cfg, X, Y, seeds, **hparams) -> dict:
    """Run ``prd_jax.make_train(train_cfg)`` on a batch in one compiled, vmapped call.

    Args:
      train_cfg: ``prd_jax.TrainConfig``.
      X, Y: data.
      seeds: ``(B,)`` ints, one PRNG seed per run (equal seeds: the same initialisation,
        e.g. supervised and adversarial runs from one init).
      **hparams: traced hyper-parameters (``lr``, ``lambda_adv``, ``width``, ...), broadcast
        against the batch.

    Returns:
      Numpy dict: ``metrics`` {name: (B, num_logs)}, ``steps`` (num_logs,), ``U0``, ``V0``,
      ``U``, ``V``, ``W0``, ``W`` (leading axis B), ``diverged`` (B,), ``steps_taken`` (B,).
    """
    import jax
    import jax.numpy as jnp

    seeds = np.asarray(seeds)
    batch = {k: np.broadcast_to(np.asarray(v), seeds.shape) for k, v in hparams.items()}
    hp = train_cfg.hparams(**batch)
    keys = jnp.stack([jax.random.key(int(s)) for s in seeds])
    res = jax.block_until_ready(compiled_train(train_cfg)(keys, hp, jnp.asarray(X), jnp.asarray(Y)))
    (gen0, crit0), (gen, crit) = res.init, res.final
    return {
        "metrics": {k: np.asarray(v, np.float64) for k, v in res.metrics.items()},
        "steps": np.asarray(train_cfg.log_steps()),
        "U0": np.asarray(gen0.U),
        "V0": np.asarray(gen0.V),
        "W0": np.asarray(crit0.W),
        "U": np.asarray(gen.U),
        "V": np.asarray(gen.V),
        "W": np.asarray(crit.W),
        "a": np.asarray(crit.a),
        "diverged": np.asarray(res.diverged),
        "steps_taken": np.asarray(res.steps_taken),
    }


def load_data(name: str, n: int, target: str = "onehot", factor: int = 1, seed: int = 0):
    """``(X, Y, info)``: an image subset (``prd_jax.data.image_dataset``, falling back to the
    8x8 digits if the data set is missing) or ``"synthetic"`` sphere data with teacher targets
    (``d_in = (28 // factor)**2``, ``d_out = 10``). ``info`` records what was used."""
    import jax

    import prd_jax
    from prd_jax import data

    if name == "synthetic":
        side = 28 // factor
        X, Y = prd_jax.sphere(jax.random.key(10_000 + seed), n, side * side, 10, "teacher")
        info = {"dataset": "synthetic", "image_shape": [side, side], "target": "teacher"}
        return X, Y, info
    d = data.image_dataset(name, n, target=target, seed=seed, factor=factor, fallback=True)
    info = {
        "dataset": d.name,
        "requested": name,
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
