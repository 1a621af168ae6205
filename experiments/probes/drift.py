"""The probe behind the medium presets: what drives the adversarial relative drift
||U(T) - U(0)||_F / ||U(0)||_F on MNIST (U and V trained, WGAN-GP critic with Adam).

    python -m experiments.probes.drift --critic_lr 0.005 0.02 0.08 0.3 1.0
    python -m experiments.probes.drift --critic_lr 0.02 --lam 0 1 3 10 30
    python -m experiments.probes.drift --critic_lr 0.02 --factor 2 --lam 0 1 2

(from the repository root). One run_grid call per command: lambda_adv (0 = supervised),
critic_lr (per unit of t = lr * steps) and lr (--safety: eta = safety * 2 / lambda_max) are traced
axes. Prints, per grid point, drift_rel at T/3 and T, L_sup at T, the critic's drift, the KS
distance of U from N(0,1), the diffusion norm ||D^U|| at T/3 and T, and whether the run
diverged. A scratch tool (one seed per point), not part of the library.
"""

import argparse
import itertools
import json
import time

import numpy as np

import prd_jax
from experiments import common
from prd_jax.grid import run_grid

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=200)
p.add_argument("--factor", type=int, default=1)
p.add_argument("--width", type=int, default=64)
p.add_argument("--steps", type=int, default=3000)
p.add_argument("--target", default="onehot")
p.add_argument("--dataset", default="mnist")
p.add_argument("--critic_opt", default="adam")
p.add_argument("--n_critic", type=int, default=1)
p.add_argument("--safety", type=float, nargs="+", default=[0.5])
p.add_argument("--critic_lr", type=float, nargs="+", default=[5e-3])
p.add_argument("--lam", type=float, nargs="+", default=[0.0, 1.0])
p.add_argument("--seeds", type=int, default=1)
p.add_argument("--gp", type=float, default=10.0)
p.add_argument("--tag", default="")
a = p.parse_args()
X, Y, info = common.load_data(a.dataset, a.n, a.target, a.factor, 0)
lr0 = prd_jax.suggest_lr(X, Y.shape[1], train_v=True, safety=1.0)
lrs = [lr0 * s for s in a.safety]
tcfg = prd_jax.TrainConfig(
    width=a.width,
    steps=a.steps,
    train_v=True,
    critic="wgan_gp",
    critic_optimizer=a.critic_opt,
    n_critic=a.n_critic,
    gp_weight=a.gp,
    logs_per_decade=3,
    image_shape=tuple(info["image_shape"]),
)
t0 = time.time()
axes = dict(lambda_adv=tuple(a.lam))
if len(lrs) > 1:
    axes["lr"] = tuple(lrs)
else:
    axes["lr"] = lrs[0]
if len(a.critic_lr) > 1:
    axes["critic_lr"] = tuple(a.critic_lr)
else:
    axes["critic_lr"] = a.critic_lr[0]
g = run_grid(tcfg, X, Y, seeds=list(range(a.seeds)), widths=[a.width], **axes)
wall = time.time() - t0
steps = np.asarray(g.log_steps)
dr = g.metrics["drift_rel"]  # (seed, width, lam, [lr], [clr], L)
print(json.dumps(dict(vars(a), d_out=int(Y.shape[1]), lr_units=lrs, wall=round(wall, 1))))
coords = g.coords
names = [k for k in coords if k not in ("seed", "width")]
mid = np.searchsorted(steps, steps[-1] // 3)
for idx in itertools.product(*[range(len(coords[k])) for k in names]):
    sel = (slice(None), 0) + idx

    def at(name, i, sel=sel):
        return float(np.mean(g.metrics[name][sel][:, i]))

    lab = " ".join(f"{k}={coords[k][i]:.4g}" for k, i in zip(names, idx, strict=True))
    lr = float(coords["lr"][idx[names.index("lr")]]) if "lr" in names else lrs[0]
    print(
        f"{lab}: drift_rel@T/3={at('drift_rel', mid):.3f} @T={at('drift_rel', -1):.3f} "
        f"loss_sup={at('loss_sup', -1):.3g} critic_drift={at('critic_drift', -1):.3g} "
        f"ks={at('homog_ks', -1):.3f} "
        f"diff_u@T/3,T={at('diffusion_u', mid):.3g},{at('diffusion_u', -1):.3g} "
        f"div={int(g.diverged[sel].sum())} t={steps[-1] * lr:.3g}"
    )
print("log steps", steps.tolist())
