"""Joint training, Theorem 3: measured reaction and diffusion magnitudes of U and V across m,
d_in, d_out and n, with fitted exponents next to the theorem's orders.

    python -m experiments.joint_rd --preset quick   # ~20 s on 2 CPU cores
    python -m experiments.joint_rd --preset paper   # accelerator: wider grids, more seeds

Definition 2: reaction R = -dL_sup/d(u_j, v_j), diffusion D = +dL_adv/d(u_j, v_j)
(computed in float64 closed form, prd_jax.features.reaction_diffusion_numpy, checked against
the autodiff prd_jax.reaction_diffusion in every run). For each grid point the per-neuron
norms ||R^u_j||, ||D^u_j||,
||R^v_j||, ||D^v_j|| are averaged over neurons j, at initialisation (u, w ~ N(0, I), v, a ~
Unif{+-1}), on unit-norm synthetic inputs with y ~ N(0, I). One variable moves at a time from
the base point. Theorem 3's orders: R^u, R^v = O(n d_in sqrt(d_out/m)),
D^u = O(n m^2 d_in d_out^{3/2}), D^v = O(n m^2 d_in d_out^{1/2}); they come from bounding every
summand by O(1), so they are upper bounds on the growth, not predictions of it.
"""

import dataclasses

import numpy as np

import prd_jax
from experiments import common
from experiments.plots import joint_rd as figure
from prd_jax import features

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


def _norms(rng, m, d_in, d_out, n):
    """Mean per-neuron norms (R_u, D_u, R_v, D_v) at one grid point, one initialisation."""
    X = rng.standard_normal((n, d_in))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = rng.standard_normal((n, d_out))
    U = rng.standard_normal((m, d_in))
    V = rng.choice([-1.0, 1.0], (d_out, m))
    W = rng.standard_normal((m, d_out))
    a = rng.choice([-1.0, 1.0], m)
    R_U, D_U, R_V, D_V = features.reaction_diffusion_numpy(U, V, W, a, X, Y)
    return [
        np.mean(np.linalg.norm(R_U, axis=1)),
        np.mean(np.linalg.norm(D_U, axis=1)),
        np.mean(np.linalg.norm(R_V, axis=0)),
        np.mean(np.linalg.norm(D_V, axis=0)),
    ]


def _check_against_library(seed):
    """The float64 closed form equals prd_jax.reaction_diffusion (autodiff) at one point."""
    import jax

    k_data, k_init = jax.random.split(jax.random.key(seed))
    X, Y = prd_jax.sphere(k_data, 16, 8, 3)
    gen, crit = prd_jax.init(k_init, 32, 8, 3)
    R, D = prd_jax.reaction_diffusion(*gen, *crit, X, Y)
    ours = features.reaction_diffusion_numpy(*gen, *crit, X, Y)
    ref = (R.U, D.U, R.V, D.V)
    return max(float(np.max(np.abs(o - np.asarray(r)))) for o, r in zip(ours, ref, strict=True))


def run(cfg: Config):
    check = _check_against_library(cfg.seed)
    base = {"m": cfg.base_m, "d_in": cfg.base_d_in, "d_out": cfg.base_d_out, "n": cfg.base_n}
    series = {"variables": list(base), "base": base, "n_seeds": cfg.seeds}
    fits = {}
    for var in base:
        values = getattr(cfg, var)
        out = np.zeros((cfg.seeds, len(values), len(TERMS)))
        for i, v in enumerate(values):
            point = base | {var: v}
            for s in range(cfg.seeds):
                rng = np.random.default_rng([cfg.seed, s, i, len(var)])
                out[s, i] = _norms(rng, point["m"], point["d_in"], point["d_out"], point["n"])
        series[var] = {"values": values} | {t: out[:, :, k] for k, t in enumerate(TERMS)}
        xs = np.tile(np.asarray(values, np.float64), cfg.seeds)
        fits[var] = {
            t: features.fit_power_law(xs, out[:, :, k].ravel(), bootstrap=200)._asdict()
            for k, t in enumerate(TERMS)
        }

    claims, table = [], {}
    for t in TERMS:
        for var in base:
            fitted, order = fits[var][t]["exponent"], THEOREM3_ORDERS[t][var]
            table[f"{t} vs {var}"] = {
                "fitted": fitted,
                "theorem": order,
                "agrees": bool(abs(fitted - order) < cfg.tolerance),
            }
    for t in TERMS:
        rows = {var: table[f"{t} vs {var}"] for var in base}
        claims.append(
            common.claim(
                f"{t}: Theorem 3's exponents in (m, d_in, d_out, n) = "
                + str(tuple(THEOREM3_ORDERS[t][v] for v in base)),
                {var: round(r["fitted"], 3) for var, r in rows.items()},
                bool(all(r["agrees"] for r in rows.values())),
                f"per-variable agreement within ±{cfg.tolerance}: "
                + ", ".join(f"{v} {'yes' if r['agrees'] else 'no'}" for v, r in rows.items()),
            )
        )
    ratio = np.asarray(series["m"]["D_u"]).mean(0) / np.asarray(series["m"]["R_u"]).mean(0)
    summary = {
        "closed_form_vs_autodiff_max_abs": check,
        "fits": fits,
        "theorem3_orders": THEOREM3_ORDERS,
        "table": table,
        "diffusion_over_reaction_u_vs_m": dict(zip(map(str, cfg.m), ratio.tolist(), strict=True)),
        "agreeing_exponents": int(sum(r["agrees"] for r in table.values())),
        "total_exponents": len(table),
    }
    return {"summary": summary, "claims": claims, "series": series}, {}


main = common.make_main("joint_rd", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
