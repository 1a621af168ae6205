"""Joint training, Theorem 3: the measured reaction and diffusion magnitudes of U and V across
m, d_in, d_out and n, with their fitted exponents next to the theorem's orders.

    python -m experiments.joint_rd --preset quick   # ~5 s on 2 CPU cores
    python -m experiments.joint_rd --preset paper   # accelerator: wider grids, more seeds
    python -m experiments.joint_rd --preset tiny    # seconds (smoke test)

Definition 2: reaction R = -dL_sup/d(u_j, v_j), diffusion D = +dL_adv/d(u_j, v_j), computed by
prd_jax.losses.reaction_diffusion (autodiff, in float64, jitted and vmapped over seeds, one
compile per shape). For each grid point the per-neuron norms ||R^u_j||, ||D^u_j||, ||R^v_j||,
||D^v_j|| are averaged over neurons j, at initialisation (u, w ~ N(0, I), v, a ~ Unif{+-1}),
on unit-norm synthetic inputs with y ~ N(0, I). One variable moves at a time from the base
point. Theorem 3's orders: R^u, R^v = O(n d_in sqrt(d_out/m)),
D^u = O(n m^2 d_in d_out^{3/2}), D^v = O(n m^2 d_in d_out^{1/2}); they come from bounding every
summand by O(1), so they are upper bounds on the growth, not predictions of it.
"""

import dataclasses
import functools

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import joint_rd as figure
from prd_jax import claims
from prd_jax.breakdown import fit_power_law

TERMS = ("R_u", "D_u", "R_v", "D_v")
# Exponents of Theorem 3's orders in each variable.
THEOREM3_ORDERS = {
    "R_u": {"m": -0.5, "d_in": 1.0, "d_out": 0.5, "n": 1.0},
    "D_u": {"m": 2.0, "d_in": 1.0, "d_out": 1.5, "n": 1.0},
    "R_v": {"m": -0.5, "d_in": 1.0, "d_out": 0.5, "n": 1.0},
    "D_v": {"m": 2.0, "d_in": 1.0, "d_out": 0.5, "n": 1.0},
}


@dataclasses.dataclass(frozen=True)
class Config:
    m: tuple[int, ...] = (64, 128, 256, 512, 1024, 2048, 4096)
    d_in: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512)
    d_out: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    n: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    base_m: int = 256
    base_d_in: int = 64
    base_d_out: int = 4
    base_n: int = 32
    seeds: int = 12  # initialisations (and data draws) per grid point
    tolerance: float = 0.25  # |fitted - theorem exponent| counted as agreement
    seed: int = 0

    def __post_init__(self):
        positive = ("m", "d_in", "d_out", "n", "base_m", "base_d_in", "base_d_out", "base_n")
        positive += ("seeds", "tolerance")
        common.check(self, positive=positive, nonnegative=("seed",))


PRESETS = {
    "quick": Config(),
    "paper": Config(
        m=tuple(2**k for k in range(6, 15)), d_in=tuple(2**k for k in range(3, 12)), seeds=16
    ),
    "tiny": Config(
        m=(8, 16),
        d_in=(4, 8),
        d_out=(1, 2),
        n=(4, 8),
        base_m=8,
        base_d_in=4,
        base_d_out=1,
        base_n=4,
        seeds=2,
    ),
}


@functools.cache
def _mean_norms():
    """``jit(vmap(...))`` over seeds: mean per-neuron norms ``(R_u, D_u, R_v, D_v)``."""
    import jax
    import jax.numpy as jnp

    def one(U, V, W, a, X, Y):
        R, D = prd_jax.losses.reaction_diffusion(U, V, W, a, X, Y)
        norms = [(R.U, 1), (D.U, 1), (R.V, 0), (D.V, 0)]  # u_j rows of U, v_j columns of V
        return jnp.stack([jnp.mean(jnp.linalg.norm(g, axis=axis)) for g, axis in norms])

    return jax.jit(jax.vmap(one))


def _draw(rng, m, d_in, d_out, n):
    """One initialisation and data draw ``(U, V, W, a, X, Y)`` at one grid point."""
    X = rng.standard_normal((n, d_in))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = rng.standard_normal((n, d_out))
    U = rng.standard_normal((m, d_in))
    V = rng.choice([-1.0, 1.0], (d_out, m))
    W = rng.standard_normal((m, d_out))
    a = rng.choice([-1.0, 1.0], m)
    return U, V, W, a, X, Y


def run(cfg: Config):
    import jax

    base = {"m": cfg.base_m, "d_in": cfg.base_d_in, "d_out": cfg.base_d_out, "n": cfg.base_n}
    series = {"variables": list(base), "base": base, "n_seeds": cfg.seeds}
    fits = {}
    for var in base:
        values = getattr(cfg, var)
        out = np.zeros((cfg.seeds, len(values), len(TERMS)))
        for i, v in enumerate(values):
            point = base | {var: v}
            draws = [
                _draw(np.random.default_rng([cfg.seed, s, i, len(var)]), **point)
                for s in range(cfg.seeds)
            ]
            with jax.enable_x64(True):  # float64 norms: the fits do not depend on rounding
                out[:, i] = _mean_norms()(*(np.stack(x) for x in zip(*draws, strict=True)))
        series[var] = {"values": values} | {t: out[:, :, k] for k, t in enumerate(TERMS)}
        xs = np.tile(np.asarray(values, np.float64), cfg.seeds)
        fits[var] = {
            t: fit_power_law(xs, out[:, :, k].ravel(), bootstrap=200)._asdict()
            for k, t in enumerate(TERMS)
        }

    table, found = {}, []
    for t in TERMS:
        fitted = [fits[var][t]["exponent"] for var in base]
        orders = [THEOREM3_ORDERS[t][var] for var in base]
        agrees = [abs(f - o) <= cfg.tolerance for f, o in zip(fitted, orders, strict=True)]
        for var, f, o, ok in zip(base, fitted, orders, agrees, strict=True):
            table[f"{t} vs {var}"] = {"fitted": f, "theorem": o, "agrees": ok}
        marks = ", ".join(
            f"{v} {'yes' if ok else 'no'}" for v, ok in zip(base, agrees, strict=True)
        )
        found.append(
            claims.prediction(
                f"{t}: Theorem 3's exponents in (m, d_in, d_out, n) = {tuple(orders)}",
                measured=fitted,
                predicted=orders,
                rtol=0,
                atol=cfg.tolerance,
                note=f"rule: every fitted exponent within ±{cfg.tolerance} of the order's: "
                f"{marks} (the orders are upper bounds: a one-sided test would fit them better)",
            )
        )
    ratio = np.asarray(series["m"]["D_u"]).mean(0) / np.asarray(series["m"]["R_u"]).mean(0)
    summary = {
        "fits": fits,
        "theorem3_orders": THEOREM3_ORDERS,
        "table": table,
        "diffusion_over_reaction_u_vs_m": dict(zip(map(str, cfg.m), ratio.tolist(), strict=True)),
        "agreeing_exponents": int(sum(r["agrees"] for r in table.values())),
        "total_exponents": len(table),
    }
    return {"summary": summary, "claims": found, "series": series}, {}


main = common.make_main("joint_rd", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
