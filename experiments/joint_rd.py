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
summand by O(1), so they are upper bounds on the growth, not predictions of it: each is tested
one-sided (``claims.exponent_at_most``: holds iff the whole 95% interval of the fitted exponent
lies at or below the order, fails iff it lies above, inconclusive otherwise or with fewer than 3
values of the variable or 3 seeds). The theorem's hypothesis, every summand O(1), is a condition
on each claim's setting: with unit-norm inputs x_pk = O(d_in^-1/2) shrinks with d_in, so the
d_in exponents are outside it and reported as findings, not tests.
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
# Theorem 3 sets every summand (y_p - z_p)_i v_ij 1{u_j^T x_p >= 0} x_pk to O(1): an exponent in
# a variable tests the order only if no factor of the summands scales with that variable. With
# unit-norm inputs x_pk scales like d_in^-1/2, and like 1 in m, d_out and n.
X_PK_EXPONENT = {"m": 0.0, "d_in": -0.5, "d_out": 0.0, "n": 0.0}
HYPOTHESES = (claims.need("x_pk_exponent_in_variable", "==", 0.0),)


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
    seed: int = 0

    def __post_init__(self):
        positive = ("m", "d_in", "d_out", "n", "base_m", "base_d_in", "base_d_out", "base_n")
        positive += ("seeds",)
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
    setting = {
        "at": "initialisation",
        "x_norm": "unit (x_pk = O(d_in^-1/2))",
        "u_w_init": "N(0, 1)",
        "v_a_init": "Unif{+-1}",
        "base_m": cfg.base_m,
        "base_d_in": cfg.base_d_in,
        "base_d_out": cfg.base_d_out,
        "base_n": cfg.base_n,
        "lambda_adv": 1.0,
    }
    for t in TERMS:
        for var in base:
            fit, order = fits[var][t], THEOREM3_ORDERS[t][var]
            table[f"{t} vs {var}"] = {"fitted": fit["exponent"], "theorem": order}
            statement = f"{t}: the per-neuron norm grows at most like {var}^{order:g}"
            values = getattr(cfg, var)
            var_set = setting | {"variable": var, "min": min(values), "max": max(values)}
            var_set["points"] = len(values)
            var_set["x_pk_exponent_in_variable"] = X_PK_EXPONENT[var]
            interval = (fit["ci_low"], fit["ci_high"])
            if var == "d_in":
                # With unit-norm inputs every x_pk = O(d_in^-1/2), not O(1): the d_in orders
                # bound terms that shrink with d_in, so no fitted exponent can test them.
                found.append(
                    claims.finding(
                        f"{t}_vs_d_in",
                        f"{t}: fitted exponent in d_in (Theorem 3's order: d_in^{order:g})",
                        fit["exponent"],
                        source="Theorem 3",
                        setting=var_set,
                        hypotheses=HYPOTHESES,
                        interval=interval,
                        seeds=cfg.seeds,
                        runs_used=cfg.seeds * len(values),
                        note="no test: the order assumes x_pk = O(1), and with unit-norm x "
                        "x_pk = O(d_in^-1/2), so the measured exponent sits below the order "
                        "whatever the theorem's truth; bootstrap 95% interval",
                    )
                )
                table[f"{t} vs {var}"]["verdict"] = found[-1]["verdict"]
                continue
            found.append(
                claims.exponent_at_most(
                    f"{t}_vs_{var}",
                    statement,
                    fit["exponent"],
                    interval,
                    order,
                    source="Theorem 3",
                    setting=var_set,
                    hypotheses=HYPOTHESES,
                    points=len(set(values)),
                    seeds=cfg.seeds,
                    runs_used=cfg.seeds * len(values),
                    note="one-sided: the orders bound every summand by O(1) and absorb "
                    "constants; holds iff the whole bootstrap 95% interval lies at or below the "
                    "order, fails iff it lies above, inconclusive otherwise (an interval that "
                    "straddles the order cannot tell an exponent equal to it from one below)"
                    + (
                        ". Counting terms with the paper's own 1/(m sqrt(d_out)) prefactor "
                        "gives ‖D^u_j‖ = O(n d_in sqrt(d_out)), with no m at all"
                        if t == "D_u" and var == "m"
                        else ""
                    ),
                )
            )
            table[f"{t} vs {var}"]["verdict"] = found[-1]["verdict"]
    ratio = np.asarray(series["m"]["D_u"]).mean(0) / np.asarray(series["m"]["R_u"]).mean(0)
    summary = {
        "fits": fits,
        "theorem3_orders": THEOREM3_ORDERS,
        "table": table,
        "diffusion_over_reaction_u_vs_m": dict(zip(map(str, cfg.m), ratio.tolist(), strict=True)),
        "exponents_hold": sum(r["verdict"] == "holds" for r in table.values()),
        "exponents_inconclusive": sum(r["verdict"] == "inconclusive" for r in table.values()),
        "exponents_fail": sum(r["verdict"] == "fails" for r in table.values()),
        "exponents_untested": sum(r["verdict"] == "finding" for r in table.values()),
        "total_exponents": len(table),
    }
    found = claims.check_unique_ids(found)
    return {"summary": summary, "claims": found, "series": series}, {}


main = common.make_main("joint_rd", __doc__, PRESETS, run, figure.plot)

if __name__ == "__main__":
    main()
