"""Gray-Scott patterns at the paper's (F, k) by Pearson's protocol, a Pearson-style (F, k) map
labelled by pattern metrics, and the linear stability of the uniform states.

    python -m experiments.gray_scott --preset tiny    # ~15 s: the smoke test
    python -m experiments.gray_scott --preset quick   # ~1-2 min on the 2-core CPU
    python -m experiments.gray_scott --preset paper   # Pearson's resolution: an accelerator

Writes to --out (default results/figures), the figures drawn from the saved JSON and NPZ:
  gray_scott.png            u and v over time at F = 0.025, k = 0.055 and 0.060 (Pearson's
                            256² grid of side 2.5, dt = 1, central square + 1% noise)
  gray_scott_map.png        one vmapped run over an (F, k) grid; each cell's final v, labelled
                            from its pattern metrics, under the saddle-node, Hopf, Turing curves
  gray_scott_stability.png  dispersion relations and the (F, k) bifurcation curves
  gray_scott.json           summary, claims, dominant wavelengths of v (domain length units),
                            stability reports (sentences in "note"), pattern metrics, map labels
  gray_scott.npz            fields: v_final, k, side (read by experiments.pattern_comparison),
                            snapshots snap_u, snap_v at snap_times, and the map's final v map_v
"""

import dataclasses
import time

import numpy as np

from experiments import common
from experiments.plots import gray_scott as figure
from prd_jax import claims
from prd_jax.results import json_ready
from prd_jax.turing import gray_scott as gs
from prd_jax.turing import stability as st


def _whole(times, dt) -> bool:  # every time a whole number of steps dt
    steps = np.rint(np.asarray(times) / dt)
    return bool(np.allclose(steps * dt, times, rtol=0.0, atol=1e-9 * max(1.0, max(times))))


QUICK_TIMES = (0.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0)


@dataclasses.dataclass(frozen=True)
class Config:
    """What one invocation computes. Every time is in Pearson's time units."""

    snapshot_times: tuple[float, ...] = QUICK_TIMES  # columns of gray_scott.png (dt = 1)
    map_n: int = 128  # grid points per side of each map cell, at Pearson's spacing 2.5/256
    map_F: tuple[float, float] = (0.005, 0.075)  # first and last F of the map
    map_nF: int = 8  # number of F values of the map
    map_k: tuple[float, float] = (0.035, 0.07)  # first and last k of the map
    map_nk: int = 15  # number of k values of the map
    map_t_end: float = 10000.0  # time at which the map's cells are labelled
    map_dt: float = 0.8  # map step: below the reaction-aware Euler limit on the whole grid
    change_window: float = 500.0  # labels compare v at t_end - change_window and t_end
    seed: int = 0  # PRNG seed of the initial noise

    def __post_init__(self):
        common.check(self, positive=("map_F", "map_k", "map_t_end", "map_dt", "change_window"))
        common.check(self, nonnegative=("snapshot_times", "seed"))
        F, k, times, w = self.map_F, self.map_k, self.snapshot_times, self.change_window
        for ok, names, rule in [
            (len(F) == len(k) == 2 and F[0] < F[1] and k[0] < k[1], "map_F map_k", "first < last"),
            (min(self.map_nF, self.map_nk) >= 2, "map_nF map_nk", ">= 2"),
            (self.map_n >= 16, "map_n", ">= 16"),
            (list(times) == sorted(set(times)), "snapshot_times", "increasing"),
            (min(times[-1], self.map_t_end) > w, "snapshot_times map_t_end", "> change_window"),
            (_whole(self.snap_times, 1.0), "snapshot_times change_window", "whole numbers"),
            (_whole(self.map_times, self.map_dt), "map_t_end change_window map_dt", "dt multiples"),
        ]:
            if not ok:
                got = ", ".join(f"{n}={getattr(self, n)!r}" for n in names.split())
                raise ValueError(f"Config: {got}: must be {rule}")
        limit = min(
            gs.euler_dt_limit(self.map_config.dx, st.PEARSON_DU, st.PEARSON_DV, F_i, k_j)
            for F_i in self.F_values
            for k_j in self.k_values
        )
        if self.map_dt > 0.9 * limit:
            raise ValueError(
                f"Config.map_dt={self.map_dt:g} exceeds 0.9 x the reaction-aware Euler limit "
                f"{limit:.4g} on this (F, k) grid"
            )

    @property
    def snap_times(self):  # one extra snapshot, change_window before the end, for the labels
        return sorted({*self.snapshot_times, self.snapshot_times[-1] - self.change_window})

    @property
    def map_times(self):
        return [self.map_t_end - self.change_window, self.map_t_end]

    @property
    def map_config(self) -> gs.GSConfig:
        side = gs.PEARSON_SIDE * self.map_n / gs.PEARSON_N
        return gs.GSConfig(n=self.map_n, side=side, dt=self.map_dt)

    @property
    def F_values(self):
        return np.linspace(*self.map_F, self.map_nF)

    @property
    def k_values(self):
        return np.linspace(*self.map_k, self.map_nk)


PRESETS = {
    # seconds: the smoke tests' preset. Pearson's grid to t = 600; a 2 x 2 map of 32² cells.
    "tiny": Config(
        snapshot_times=(0.0, 600.0),
        map_n=32,
        map_F=(0.03, 0.04),
        map_nF=2,
        map_k=(0.055, 0.06),
        map_nk=2,
        map_t_end=600.0,
    ),
    # ~1 min on 2 CPU cores: snapshots to t = 20 000 on Pearson's grid; an 8 x 15 map of 128²
    # cells (a quarter of Pearson's domain, same spacing) to t = 10 000. The grid steps (0.01
    # in F, 0.0025 in k) put the paper's two points on cells.
    "quick": Config(),
    # Pearson's map: 256² cells to t = 200 000 on a 16 x 21 grid (steps 0.005 in F, 0.002 in
    # k). About 6e12 cell updates: hours on this CPU, minutes on one H100-class GPU.
    "paper": Config(
        snapshot_times=(*QUICK_TIMES, 50000.0, 100000.0),
        map_n=256,
        map_F=(0.005, 0.08),
        map_nF=16,
        map_k=(0.03, 0.07),
        map_nk=21,
        map_t_end=200000.0,
    ),
}


def describe_stability(rep: st.StabilityReport) -> str:
    """What a :func:`prd_jax.turing.stability.stability_report` says, in sentences."""
    F, k, sn, disc = rep.F, rep.k, rep.saddle_node_k, rep.discriminant
    words = [f"At F={F:g}, k={k:g} (Du={rep.Du:g}, Dv={rep.Dv:g}):"]
    if rep.nontrivial_state_exists:
        words.append(
            f"k <= k_sn = sqrt(F)/2 - F = {sn:.5g}, so besides (1, 0) there are two "
            f"non-trivial uniform states (discriminant F^2 - 4F(F+k)^2 = {disc:.3g} >= 0)."
        )
    else:
        words.append(
            f"k > k_sn = sqrt(F)/2 - F = {sn:.5g} (discriminant F^2 - 4F(F+k)^2 = "
            f"{disc:.3g} < 0): no non-trivial uniform steady state exists; the only "
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


def simulate_paper(cfg: Config):
    """Pearson's protocol at F = 0.025, k = 0.055 and 0.060: one vmapped run of 2 cells."""
    import jax

    scfg, ks = gs.GSConfig(), st.PAPER_KS  # 256², side 2.5, Du = 2e-5, Dv = 1e-5, dt = 1
    params = gs.GSParams(np.full(len(ks), st.PAPER_F, np.float32), np.asarray(ks, np.float32))
    states = gs.initial_states(jax.random.key(cfg.seed), len(ks), scfg.n)
    run = gs.simulate(scfg, states, params, gs.steps_for_times(cfg.snap_times, scfg.dt))
    return scfg, jax.block_until_ready(run)


def simulate_map(cfg: Config):
    """One vmapped run over the (F, k) grid; returns its config, the run and its metrics."""
    import jax

    from prd_jax.turing import patterns as pt

    mcfg, params = cfg.map_config, gs.param_grid(cfg.F_values, cfg.k_values)
    states = gs.initial_states(jax.random.key(cfg.seed + 1), params.F.shape[0], mcfg.n)
    run = gs.simulate(mcfg, states, params, gs.steps_for_times(cfg.map_times, mcfg.dt))
    measure = jax.vmap(lambda cur, prev: pt.pattern_metrics(cur, side=mcfg.side, previous=prev))
    return mcfg, run, jax.block_until_ready(jax.jit(measure)(run.v[:, 1], run.v[:, 0]))


def run(cfg: Config):
    from prd_jax.turing import patterns as pt

    t0 = time.perf_counter()
    scfg, snaps = simulate_paper(cfg)
    t1 = time.perf_counter()
    mcfg, mrun, metrics = simulate_map(cfg)
    timings = {"snapshots_s": t1 - t0, "map_s": time.perf_counter() - t1}
    reps = {f"{k:.3f}": st.stability_report(st.PAPER_F, k) for k in st.PAPER_KS}
    stats = {
        key: pt.pattern_stats(snaps.v[b, -1], side=scfg.side, previous=snaps.v[b, -2])
        for b, key in enumerate(reps)
    }
    wavelength = {key: s["dominant_wavelength"] for key, s in stats.items()}
    labels, map_health = pt.classify_batch(metrics), gs.check_health(mrun)
    healthy = [c not in set(map_health.get("bad_cells", [])) for c in range(len(labels))]
    counts = {name: labels.count(name) for name in pt.PATTERN_CLASSES}
    k_sn = float(st.saddle_node_k(st.PAPER_F))
    nontrivial = [r.n_uniform_states - 1 for r in reps.values()]
    setting = {"F": st.PAPER_F, "k": list(st.PAPER_KS), "Du": scfg.Du, "Dv": scfg.Dv}
    found = [
        claims.prediction(
            "no_nontrivial_uniform_state",
            "At the paper's F = 0.025, k = 0.055 and 0.060 no non-trivial uniform steady state "
            "exists (k > k_sn = sqrt(F)/2 - F): the only uniform state is (u, v) = (1, 0)",
            measured=nontrivial,
            predicted=[0] * len(reps),
            rtol=0.0,
            source="Gray-Scott linear stability (saddle-node of the uniform states)",
            setting=setting,
            hypotheses=(),
            note=f"k_sn = {k_sn:.5g}; measured: the number of non-trivial uniform states "
            "(prd_jax.turing.stability.uniform_states) at each k; holds iff 0 at both",
        ),
        claims.upper_bound(
            "trivial_state_linearly_stable",
            "At the paper's (F, k) the uniform state (1, 0) is linearly stable at every "
            "wavenumber: the patterns grow from a finite perturbation, not a Turing instability",
            measured=[r.states[0].max_growth_rate for r in reps.values()],
            bound=0.0,
            source="Gray-Scott linear stability (dispersion relation of (1, 0))",
            setting=setting,
            hypotheses=(),
            note="measured: the largest growth rate over q of (1, 0) at each k "
            "(prd_jax.turing.stability); holds iff <= 0 at both",
        ),
    ]
    found += [
        claims.finding(
            f"dominant_wavelength_k{key}",
            f"dominant wavelength of v at t = {float(snaps.times[-1]):g}, F = 0.025, k = {key}",
            value,
            source="beyond the paper (Pearson 1993 protocol)",
            setting={**setting, "k": float(key), "t": float(snaps.times[-1])},
            hypotheses=(),
            note=f"in the domain's length units (periodic square of side {scfg.side:g}, grid "
            f"spacing {scfg.dx:.5g}); prd_jax.turing.patterns.dominant_wavelength",
        )
        for key, value in wavelength.items()
    ]
    summary = {
        "dominant_wavelength": wavelength,
        "saddle_node_k": k_sn,
        "nontrivial_uniform_states": dict(zip(reps, nontrivial, strict=True)),
        "map_counts": counts,
        "map_unhealthy_cells": len(labels) - sum(healthy),
    }
    nk = cfg.map_nk
    results = {
        "summary": summary,
        "claims": found,
        "dominant_wavelength": wavelength,  # (read by experiments.figures)
        "stability": {k: {**json_ready(r), "note": describe_stability(r)} for k, r in reps.items()},
        "pattern_stats": stats,
        "health": {"snapshots": gs.check_health(snaps), "map": map_health},
        "snapshot_config": dataclasses.asdict(scfg),
        "snapshot_times": list(cfg.snapshot_times),
        "map": {
            "config": dataclasses.asdict(mcfg),
            "t_end": cfg.map_t_end,
            "F": cfg.F_values.tolist(),
            "k": cfg.k_values.tolist(),
            "labels": [labels[i * nk : (i + 1) * nk] for i in range(cfg.map_nF)],
            "healthy": healthy,
            "counts": counts,
            "rule": (
                "prd_jax.turing.patterns.classify_pattern on v at t_end vs t_end - change_window"
            ),
        },
        "timings": timings,
    }
    arrays = {
        "v_final": np.asarray(snaps.v[:, -1]),  # read by experiments.pattern_comparison
        "k": np.asarray(st.PAPER_KS),
        "side": scfg.side,
        "snap_times": np.asarray(snaps.times),
        "snap_u": np.asarray(snaps.u),
        "snap_v": np.asarray(snaps.v),
        "map_v": np.asarray(mrun.v[:, 1]),
    }
    return results, arrays


main = common.make_main("gray_scott", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
