"""Gray-Scott figures: the paper's patterns, a Pearson-style (F, k) map, linear stability.

    python -m experiments.gray_scott --preset tiny    # seconds: the smoke test
    python -m experiments.gray_scott --preset quick   # ~1-2 min on the 2-core CPU
    python -m experiments.gray_scott --preset paper   # Pearson's resolution: an accelerator

Writes to --out (default results/figures):
  gray_scott.png            u and v over time at F = 0.025, k = 0.055 and 0.060 (Pearson's
                            256² grid of side 2.5, dt = 1, central square + 1% noise)
  gray_scott_map.png        one vmapped run over an (F, k) grid; each cell's final v,
                            labelled from its pattern metrics, with the saddle-node, Hopf
                            and Turing curves drawn over it
  gray_scott_stability.png  dispersion relations and the (F, k) bifurcation curves
  gray_scott.json           dominant wavelengths of v at the final time (domain length
                            units), the stability reports (numbers from
                            prd_jax.turing.stability, sentences in "note"), pattern
                            metrics, map labels
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import jax
import numpy as np

from experiments.plots.gray_scott import plot_map, plot_snapshots, plot_stability
from prd_jax.results import json_ready
from prd_jax.turing import gray_scott as gs
from prd_jax.turing import patterns as pt
from prd_jax.turing import stability as st


@dataclasses.dataclass(frozen=True)
class Preset:
    """What one invocation computes. Every time is in Pearson's time units."""

    snapshot_times: tuple[float, ...]  # columns of gray_scott.png (dt = 1, 256² grid)
    map_n: int  # grid points per side of each map cell, at Pearson's spacing 2.5/256
    map_F: tuple[float, float, int]  # (first, last, count) of the map's F values
    map_k: tuple[float, float, int]  # (first, last, count) of the map's k values
    map_t_end: float  # time at which the map's cells are labelled
    map_dt: float  # map step: below the reaction-aware Euler limit on the whole grid
    change_window: float = 500.0  # labels compare v at t_end - change_window and t_end
    seed: int = 0  # PRNG seed of the initial noise

    def __post_init__(self):
        for name in ("map_F", "map_k"):
            lo, hi, count = getattr(self, name)
            if not (0 < lo < hi and count >= 2):
                raise ValueError(f"Preset.{name} must be (first > 0, last > first, count >= 2)")
        if self.map_n < 16 or self.map_t_end <= self.change_window:
            raise ValueError("Preset.map_n must be >= 16 and map_t_end > change_window")


PRESETS = {
    # seconds: the smoke tests' preset. Pearson's grid to t = 600; a 2 x 2 map of 32² cells.
    "tiny": Preset(
        snapshot_times=(0, 600),
        map_n=32,
        map_F=(0.03, 0.04, 2),
        map_k=(0.055, 0.06, 2),
        map_t_end=600.0,
        map_dt=0.8,
    ),
    # ~1 min on 2 CPU cores: snapshots to t = 20 000 on Pearson's grid; an 8 x 15 map of
    # 128² cells (a quarter of Pearson's domain, same spacing) to t = 10 000. The grid
    # steps (0.01 in F, 0.0025 in k) put the paper's two points on cells.
    "quick": Preset(
        snapshot_times=(0, 1000, 2000, 5000, 10000, 20000),
        map_n=128,
        map_F=(0.005, 0.075, 8),
        map_k=(0.035, 0.07, 15),
        map_t_end=10000.0,
        map_dt=0.8,
    ),
    # Pearson's map: 256² cells to t = 200 000 on a 16 x 21 grid (steps 0.005 in F, 0.002
    # in k). About 6e12 cell updates: hours on this CPU, minutes on one H100-class GPU.
    "paper": Preset(
        snapshot_times=(0, 1000, 2000, 5000, 10000, 20000, 50000, 100000),
        map_n=256,
        map_F=(0.005, 0.08, 16),
        map_k=(0.03, 0.07, 21),
        map_t_end=200000.0,
        map_dt=0.8,
    ),
}

# ---------------------------------------------------------------- computations


def run_paper_snapshots(preset: Preset):
    """Pearson's protocol at F = 0.025, k = 0.055 and 0.060: one vmapped run of 2 cells."""
    cfg = gs.GSConfig()  # 256², side 2.5, Du = 2e-5, Dv = 1e-5, dt = 1, forward Euler
    ks = st.PAPER_KS
    params = gs.GSParams(np.full(len(ks), st.PAPER_F, np.float32), np.asarray(ks, np.float32))
    states = gs.initial_states(jax.random.key(preset.seed), len(ks), cfg.n)
    # one extra snapshot, change_window before the end, for the labels' change test
    times = sorted({*preset.snapshot_times, preset.snapshot_times[-1] - preset.change_window})
    run = gs.simulate(cfg, states, params, gs.steps_for_times(times, cfg.dt))
    return cfg, run


def run_map(preset: Preset):
    """One vmapped run over the (F, k) grid; returns the config, grid, run and metrics."""
    F_values = np.linspace(*preset.map_F)
    k_values = np.linspace(*preset.map_k)
    n = preset.map_n
    cfg = gs.GSConfig(n=n, side=gs.PEARSON_SIDE * n / gs.PEARSON_N, dt=preset.map_dt)
    limit = min(gs.euler_dt_limit(cfg.dx, cfg.Du, cfg.Dv, F, k) for F in F_values for k in k_values)
    if cfg.dt > 0.9 * limit:
        raise ValueError(
            f"map_dt={cfg.dt:g} exceeds 0.9 x the reaction-aware Euler limit {limit:.3g} "
            "on this (F, k) grid"
        )
    params = gs.param_grid(F_values, k_values)
    states = gs.initial_states(jax.random.key(preset.seed + 1), params.F.shape[0], n)
    times = [preset.map_t_end - preset.change_window, preset.map_t_end]
    run = gs.simulate(cfg, states, params, gs.steps_for_times(times, cfg.dt))
    metrics = jax.jit(
        jax.vmap(lambda cur, prev: pt.pattern_metrics(cur, side=cfg.side, previous=prev))
    )(run.v[:, 1], run.v[:, 0])
    return cfg, F_values, k_values, run, metrics


# ---------------------------------------------------------------- words


def describe_stability(rep: st.StabilityReport) -> str:
    """What a :func:`prd_jax.turing.stability.stability_report` says, in sentences."""
    F, k = rep.F, rep.k
    words = [f"At F={F:g}, k={k:g} (Du={rep.Du:g}, Dv={rep.Dv:g}):"]
    if rep.nontrivial_state_exists:
        words.append(
            f"k <= k_sn = sqrt(F)/2 - F = {rep.saddle_node_k:.5g}, so besides (1, 0) there are "
            f"two non-trivial uniform states (discriminant F^2 - 4F(F+k)^2 = "
            f"{rep.discriminant:.3g} >= 0)."
        )
    else:
        words.append(
            f"k > k_sn = sqrt(F)/2 - F = {rep.saddle_node_k:.5g} (discriminant F^2 - 4F(F+k)^2 = "
            f"{rep.discriminant:.3g} < 0): no non-trivial uniform steady state exists; the only "
            "one is the trivial state (u, v) = (1, 0)."
        )
    words.append(
        f"The trivial state has J = diag(-F, -(F+k)) = diag({-F:g}, {-(F + k):g}), so "
        f"lambda(q) = max(-F - Du q^2, -(F+k) - Dv q^2) <= {rep.states[0].max_growth_rate:.3g} "
        "< 0: it is linearly stable at every wavenumber."
    )
    for s in rep.states[1:]:
        words.append(
            f"State {s.name} (u={s.u:.4g}, v={s.v:.4g}): max growth rate "
            f"{s.max_growth_rate:.3g} at q={s.argmax_q:.4g}; tr J={s.turing.trace:.3g}, "
            f"det J={s.turing.det:.3g}; Turing unstable: {s.turing.turing_unstable}."
        )
    if rep.linear_turing_instability:
        words.append("A linear Turing instability of a uniform state exists here.")
    else:
        words.append(
            "No uniform state has a linear Turing instability here, so patterns at these "
            "parameters cannot grow from infinitesimal noise about a uniform state: they grow "
            "from a finite-amplitude perturbation (Pearson's central square) and are "
            "sustained nonlinearly."
        )
    return " ".join(words)


def stability_with_note(F: float, k: float) -> dict:
    """The stability report at (F, k) as a JSON-ready dict, with its sentences as ``note``."""
    rep = st.stability_report(F, k)
    return {**json_ready(rep), "note": describe_stability(rep)}


# ---------------------------------------------------------------- entry point


def main(preset_name: str, out: Path) -> dict:
    preset = PRESETS[preset_name]
    out.mkdir(parents=True, exist_ok=True)
    timings = {}

    t0 = time.perf_counter()
    cfg, snaps = run_paper_snapshots(preset)
    jax.block_until_ready(snaps)
    timings["snapshots_s"] = time.perf_counter() - t0
    snap_health = gs.check_health(snaps)
    stats = {
        f"{k:.3f}": pt.pattern_stats(snaps.v[b, -1], side=cfg.side, previous=snaps.v[b, -2])
        for b, k in enumerate(st.PAPER_KS)
    }
    plot_snapshots(cfg, snaps, preset.snapshot_times, out / "gray_scott.png")
    # Final v fields, for the comparison with the PRD weight patterns.
    np.savez_compressed(
        out / "gray_scott.npz",
        v_final=np.asarray(snaps.v[:, -1]),
        k=np.asarray(st.PAPER_KS),
        side=cfg.side,
    )

    t0 = time.perf_counter()
    mcfg, F_values, k_values, mrun, metrics = run_map(preset)
    jax.block_until_ready(metrics)
    timings["map_s"] = time.perf_counter() - t0
    labels = pt.classify_batch(metrics)
    map_health = gs.check_health(mrun)
    bad = set(map_health.get("bad_cells", []))
    healthy = [c not in bad for c in range(len(labels))]
    plot_map(mcfg, F_values, k_values, mrun, labels, healthy, out / "gray_scott_map.png")

    plot_stability(out / "gray_scott_stability.png")
    stability = {f"{k:.3f}": stability_with_note(st.PAPER_F, k) for k in st.PAPER_KS}

    nk = len(k_values)
    result = {
        "preset": preset_name,
        "dominant_wavelength": {key: s["dominant_wavelength"] for key, s in stats.items()},
        "dominant_wavelength_note": (
            f"dominant wavelength of v at t = {float(snaps.times[-1]):g}, in the domain's "
            f"length units (periodic square of side {cfg.side:g}; grid spacing {cfg.dx:.5g})"
        ),
        "stability": stability,
        "pattern_stats": stats,
        "health": {"snapshots": snap_health, "map": map_health},
        "snapshot_config": dataclasses.asdict(cfg),
        "snapshot_times": [float(t) for t in preset.snapshot_times],
        "map": {
            "config": dataclasses.asdict(mcfg),
            "t_end": preset.map_t_end,
            "F": F_values.tolist(),
            "k": k_values.tolist(),
            "labels": [labels[i * nk : (i + 1) * nk] for i in range(len(F_values))],
            "counts": {name: labels.count(name) for name in pt.PATTERN_CLASSES},
            "rule": (
                "prd_jax.turing.patterns.classify_pattern on v at t_end vs t_end - change_window"
            ),
        },
        "preset_config": dataclasses.asdict(preset),
        "timings": timings,
    }
    (out / "gray_scott.json").write_text(json.dumps(json_ready(result), indent=1) + "\n")
    return result


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def cli(argv=None) -> int:
    parser = _OneLineParser(prog="python -m experiments.gray_scott", description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--out", type=Path, default=Path("results/figures"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    try:
        result = main(args.preset, args.out)
    except (ValueError, OSError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    lam = ", ".join(f"k={k}: {v:.4f}" for k, v in result["dominant_wavelength"].items())
    print(f"dominant wavelength of v ({lam}); map {result['map']['counts']}")
    print(
        f"wrote {args.out}/gray_scott{{.png,_map.png,_stability.png,.json}} in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli())
