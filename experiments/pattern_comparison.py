"""PRD weight patterns next to Gray-Scott patterns, measured by the same pattern metrics.

    python -m experiments.pattern_comparison --preset quick   # seconds, after the experiments
        gray_scott and patterns_* have written into the same --out (make figures runs them)

Reads ``gray_scott.npz`` (final v at the paper's F, k) and ``patterns_*.npz`` (the drift
images Delta u_j = u_j(T) - u_j(0) of supervised and adversarial training) from ``--out`` and
measures every field with ``prd_jax.turing.patterns``: dominant wavelength as a fraction of the
field's side (scale-free, so a 14x14 weight image and a 256x256 Gray-Scott field compare),
spectral entropy, anisotropy, Moran's I, and the automatic label. Needs ``gray_scott.npz`` and
at least one ``patterns_*.npz`` (the sources not found are listed in the JSON's ``inputs``).
Writes ``pattern_comparison.json`` (summary, one finding per field) and ``.png``.
"""

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from experiments import common
from experiments.plots import gray_scott as figure
from prd_jax import claims, features
from prd_jax.turing import patterns as pt

NAME = "pattern_comparison"
GRAY_SCOTT = "gray_scott"
PRD_SOURCES = ("patterns_synthetic", "patterns_mnist", "patterns_fashion_mnist")
KEYS = ("waves_across", "spectral_entropy", "anisotropy", "morans_i")


@dataclasses.dataclass(frozen=True)
class Config:
    neurons: int = 32  # drift images du_j averaged per PRD row: the first `neurons` neurons

    def __post_init__(self):
        common.check(self, positive=("neurons",))


PRESETS = {"quick": Config(), "paper": Config(), "tiny": Config()}


class MissingInputs(FileNotFoundError):
    """The experiments whose files this one reads have not written them into --out."""


def _summarise(stats: list[dict]) -> dict:
    out = {k: float(np.nanmean([s[k] for s in stats])) for k in KEYS}
    labels = [s["class"] for s in stats]
    out["classes"] = {c: labels.count(c) for c in sorted(set(labels))}
    return out


def _slug(name: str) -> str:
    """A claim id from a row name: lowercase letters, digits and underscores."""
    return "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def inputs(folder: Path, preset: str) -> tuple[list[str], list[str]]:
    """``(found, missing)`` PRD sources in ``folder``; raises MissingInputs, naming the files
    and the command that makes them, without gray_scott.npz or any patterns_*.npz."""
    found = [s for s in PRD_SOURCES if (folder / f"{s}.npz").exists()]
    missing = [s for s in PRD_SOURCES if s not in found]
    need = [] if (folder / f"{GRAY_SCOTT}.npz").exists() else [GRAY_SCOTT]
    need += [] if found else missing
    if need:
        files = ", ".join(f"{n}.npz" for n in need)
        raise MissingInputs(
            f"{folder} lacks {files} (needs gray_scott.npz and a patterns_*.npz); make them with "
            f"`python -m experiments.figures --only {' '.join(need)} --preset {preset} "
            f"--out {folder}`"
        )
    return found, missing


def compare(cfg: Config, folder: Path, found: list[str]):
    """Pattern metrics of every field: ``({row name: metrics}, [(row name, image)])``."""
    panels, rows = [], {}
    with np.load(folder / f"{GRAY_SCOTT}.npz") as z:
        for k, v in zip(z["k"], z["v_final"], strict=True):
            name = f"Gray-Scott v, k={k:.3f}"
            rows[name] = _summarise([pt.pattern_stats(v, side=float(z["side"]))])
            panels.append((name, v))
    for source in found:
        with np.load(folder / f"{source}.npz") as z:
            for mode in ("supervised", "adversarial"):
                drift = z[f"dUmat_{mode}"][: cfg.neurons]
                side = int(round(np.sqrt(drift.shape[1])))
                imgs = drift.reshape(-1, side, side)
                name = f"{source.removeprefix('patterns_')} {mode}: du_j"
                rows[name] = _summarise(features.image_stats_batch(imgs))
                panels.append((name, imgs[0]))
    return rows, panels


def run(cfg: Config, folder: Path, preset: str):
    found, missing = inputs(folder, preset)
    if missing:
        files = ", ".join(f"{m}.npz" for m in missing)
        print(f"{NAME}: {folder} lacks {files}; compared without", file=sys.stderr)
    rows, panels = compare(cfg, folder, found)
    findings = [
        claims.finding(
            _slug(name),
            f"{name}: waves across, spectral entropy, anisotropy, Moran's I",
            [row[k] for k in KEYS],
            source="the paper's comparison of weight patterns with Gray-Scott patterns",
            setting={"field": name, "fields": sum(row["classes"].values())},
            hypotheses=(),
            note=f"mean over {sum(row['classes'].values())} field(s); labels {row['classes']}. "
            + (
                "Drift images Δu_j lie in span{x_p} under any loss (patterns_*: "
                "drift_in_data_span, a check), so their shape is the data's, not evidence of "
                "reaction-diffusion by itself."
                if "du_j" in name
                else ""
            ),
        )
        for name, row in rows.items()
    ]
    results = {
        "summary": {"metrics": rows, "neurons_per_prd_row": cfg.neurons},
        "claims": findings,
        "panels": [name for name, _ in panels],
        "inputs": {
            "read": [f"{n}.npz" for n in (GRAY_SCOTT, *found)],
            "missing": [f"{n}.npz" for n in missing],
        },
        "note": "waves_across = side / dominant wavelength; PRD rows average the first "
        "neurons' drift images (non-periodic), Gray-Scott rows are one periodic field",
    }
    return results, {f"panel_{i}": img for i, (_, img) in enumerate(panels)}


def main(argv=None):
    """The shared CLI (``common.make_main``); the inputs are read from the ``--out`` folder."""
    peek = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    peek.add_argument("--out", type=Path, default=common.DEFAULT_OUT)
    peek.add_argument("--preset", default="quick")
    args, _ = peek.parse_known_args(argv)

    def run_here(cfg):
        return run(cfg, args.out, args.preset)

    cli = common.make_main(NAME, __doc__, PRESETS, run_here, figure.plot_pattern_comparison)
    try:
        return cli(argv)
    except MissingInputs as err:
        sys.exit(f"python -m experiments.{NAME}: error: {err}")


if __name__ == "__main__":
    main()
