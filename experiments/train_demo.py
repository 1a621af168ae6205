"""Supervised vs adversarial training of one wide network, the smallest PRD experiment: it
prints per-neuron drift, kernel deviation and losses at a few log points.

    python -m experiments.train_demo                  # make demo: ~10 s on a 2-core CPU
    python -m experiments.train_demo --preset tiny    # seconds

Trains the same network (same key) with lambda_adv = 0 (supervised) and lambda_adv = 1
(WGAN-GP critic), U and V trained, on synthetic sphere data (n = 16, d_in = 16, d_out = 4):
one ``run_grid`` call, one compiled program. Writes nothing.
"""

import dataclasses
import time

import jax
import numpy as np

import prd_jax
from experiments import cli, common
from prd_jax.grid import run_grid

MODES = {"supervised": 0.0, "adversarial": 1.0}  # lambda_adv of each mode


@dataclasses.dataclass(frozen=True)
class Config:
    width: int = 512  # m, neurons of generator and critic
    steps: int = 2000  # generator iterations
    seed: int = 0  # data seed; the networks' key is seed + 1

    def __post_init__(self):
        common.check(self, positive=("width", "steps"), nonnegative=("seed",))


PRESETS = {"quick": Config(), "tiny": Config(width=16, steps=20)}


def main(argv=None):
    parser = cli.make_parser("python -m experiments.train_demo", __doc__, PRESETS)
    args = parser.parse_args(argv)
    cfg = cli.resolve(parser, args, PRESETS)
    cli.setup_compile_cache(args)
    X, Y = prd_jax.sphere(jax.random.key(cfg.seed), n=16, d_in=16, d_out=4)
    spec = prd_jax.gram_spectrum(X)
    lr = prd_jax.suggest_lr(X, d_out=4, train_v=True)
    tcfg = prd_jax.TrainConfig(width=cfg.width, steps=cfg.steps, train_v=True)
    start = time.perf_counter()
    grid = run_grid(
        tcfg, X, Y, seeds=[cfg.seed + 1], widths=[cfg.width], lr=lr, lambda_adv=(0.0, 1.0)
    )
    wall = time.perf_counter() - start
    print(f"lambda0 = {spec.lambda0:.4f}, lr = {lr:.4f}, wall {wall:.1f}s (with compilation)")
    steps = grid.log_steps
    show = np.searchsorted(steps, [0, 10, 100, 1000, cfg.steps]).clip(0, len(steps) - 1)
    print(f"{'mode':<12}{'step':>7}{'L_sup':>11}{'drift_max':>11}{'kernel_dev':>12}{'flips':>8}")
    for mode, lam in MODES.items():
        metrics = grid.sel(seed=cfg.seed + 1, width=cfg.width, lambda_adv=lam).metrics
        for i in np.unique(show):
            m = {k: float(v[i]) for k, v in metrics.items()}
            print(
                f"{mode:<12}{steps[i]:>7}{m['loss_sup']:>11.4g}{m['drift_max']:>11.4f}"
                f"{m['kernel_dev']:>12.4f}{m['flip_frac']:>8.3f}"
            )
    print(f"kernel regime holds while kernel_dev <= lambda0/4 = {spec.lambda0 / 4:.4f}")


if __name__ == "__main__":
    main()
