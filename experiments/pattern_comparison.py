"""PRD weight patterns next to Gray-Scott patterns, under the same pattern metrics.

    python -m experiments.pattern_comparison    # seconds; after make figures (or the
                                                # gray_scott and patterns_* experiments)

Reads ``gray_scott.npz`` (final v at the paper's F, k) and ``patterns_*.npz`` (the drift
images Delta u_j = u_j(T) - u_j(0) of supervised and adversarial training) from ``--out`` and
measures every field with ``prd_jax.turing.patterns``: dominant wavelength as a fraction of the
field's side (scale-free, so a 14x14 weight image and a 256x256 Gray-Scott field compare),
spectral entropy, anisotropy, Moran's I, and the automatic label. Writes
``pattern_comparison.png`` and ``pattern_comparison.json``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from experiments.common import DEFAULT_OUT, write_json
from experiments.plots.gray_scott import plot_pattern_comparison
from prd_jax import features
from prd_jax.turing import patterns as pt

PRD_SOURCES = ("patterns_synthetic", "patterns_mnist", "patterns_fashion_mnist")
KEYS = ("waves_across", "spectral_entropy", "anisotropy", "morans_i")


def _summarise(stats: list[dict]) -> dict:
    out = {k: float(np.nanmean([s[k] for s in stats])) for k in KEYS}
    labels = [s["class"] for s in stats]
    out["classes"] = {c: labels.count(c) for c in sorted(set(labels))}
    return out


def compare(out: Path, neurons: int = 32) -> dict:
    gs_path = out / "gray_scott.npz"
    found = [name for name in PRD_SOURCES if (out / f"{name}.npz").exists()]
    if not gs_path.exists() or not found:
        raise FileNotFoundError(
            f"{out} lacks gray_scott.npz or patterns_*.npz; run `make figures` (or "
            "python -m experiments.gray_scott and python -m experiments.patterns_mnist) first"
        )
    panels, rows = [], {}
    with np.load(gs_path) as z:
        for k, v in zip(z["k"], z["v_final"], strict=True):
            stats = pt.pattern_stats(v, side=float(z["side"]))
            name = f"Gray-Scott v, k={k:.3f}"
            rows[name] = _summarise([stats])
            panels.append((name, v))
    for source in found:
        with np.load(out / f"{source}.npz") as z:
            for mode in ("supervised", "adversarial"):
                drift = z[f"dUmat_{mode}"][:neurons]
                side = int(round(np.sqrt(drift.shape[1])))
                imgs = drift.reshape(-1, side, side)
                name = f"{source.removeprefix('patterns_')} {mode}: du_j"
                rows[name] = _summarise(features.image_stats_batch(imgs))
                panels.append((name, imgs[0]))
    return {"metrics": rows, "panels": panels, "neurons": neurons}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="quick", help="accepted for make figures; unused")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    try:
        result = compare(args.out)
    except FileNotFoundError as err:
        sys.exit(f"error: {err}")
    plot_pattern_comparison(
        result["panels"], result["metrics"], args.out / "pattern_comparison.png"
    )
    write_json(
        args.out / "pattern_comparison.json",
        {
            "command": "python -m experiments.pattern_comparison",
            "metrics": result["metrics"],
            "neurons_per_prd_row": result["neurons"],
            "note": "waves_across = side / dominant wavelength; PRD rows average the first "
            "neurons' drift images (non-periodic), Gray-Scott rows are one periodic field",
        },
    )
    for name, row in result["metrics"].items():
        print(f"{name:<36}" + "  ".join(f"{k} {row[k]:.3f}" for k in KEYS) + f"  {row['classes']}")


if __name__ == "__main__":
    main()
