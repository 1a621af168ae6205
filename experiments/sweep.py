"""Width sweep: where does training leave the kernel regime, with and without an adversary?

    python -m experiments.sweep                        # quick preset, CPU, a few minutes
    python -m experiments.sweep --preset paper         # paper scale, for a GPU
    python -m experiments.sweep --set train.critic=frozen --out results/sweep_frozen
    python -m experiments.sweep --set widths=16,64,256 --set seeds=2 --set train.steps=500
    python -m experiments.sweep --preset paper --distributed   # on each host of a cluster

Trains seeds x widths x lambda_adv (0 = supervised) with ``prd_jax.grid.run_grid`` (one
compiled program per bucket of widths) and measures when each run leaves the kernel regime
(``prd_jax.breakdown``). Writes ``config.json``, one ``bucket_*.npz`` per finished bucket,
``summary.json`` and PNG figures to ``--out`` (default ``results/sweep``), and prints the
thresholds and exponents. ``--resume`` reuses the finished buckets of an interrupted run.
"""

import dataclasses
import math
import pathlib
import sys
import time

from experiments import cli
from experiments.common import check
from prd_jax import breakdown
from prd_jax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A sweep: data, grid, the training config shared by every run, and the breakdown test."""

    widths: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # widths m of the grid
    seeds: int = 4  # seeds 0 .. seeds-1; run key = jax.random.key(seed)
    lambda_adv: tuple[float, ...] = (0.0, 1.0)  # adversarial weights; 0 is supervised
    lrs: tuple[float, ...] | None = None  # generator step sizes; none: lr_safety * 2/lambda_max
    lr_safety: float = 0.1  # with lrs none: lr = lr_safety * 2 / lambda_max (gradient-flow-like)
    n: int = 16  # samples, uniform on the unit sphere
    d_in: int = 16  # input dimension
    d_out: int = 1  # output dimension
    data_seed: int = 1234  # key of the synthetic data set
    targets: str = "gaussian"  # sphere() targets: "gaussian" or "teacher"
    train: TrainConfig = TrainConfig()  # shared by every run (train.width: each bucket's)
    criterion: str = "kernel"  # breakdown criterion: "kernel", "drift" or "relative"
    rel_threshold: float = 0.1  # relative-drift criterion threshold
    radius_c: float = 1.0  # the constant c of R = c delta lambda0 / n^2 (drift criterion)
    delta: float = 0.1  # failure probability in R, mu and the theory threshold, in (0, 1)
    bucket_ratio: float = 2.0  # widths within a bucket span at most this factor (>= 1)
    bootstrap: int = 1000  # bootstrap resamples of seeds for threshold intervals

    def __post_init__(self):
        check(self, positive=("widths", "seeds", "n", "d_in", "d_out", "bootstrap"))
        check(self, positive=("rel_threshold", "radius_c", "lr_safety"), unit=("delta",))
        check(self, nonnegative=("lambda_adv",))
        for name in ("widths", "seeds", "n", "d_in", "d_out", "bootstrap"):
            values = getattr(self, name)
            if not all(isinstance(v, int) for v in (values if name == "widths" else (values,))):
                raise ValueError(f"SweepConfig.{name} must be integers, got {values!r}")
        if len(set(self.widths)) != len(self.widths):
            raise ValueError(f"SweepConfig.widths has duplicates: {self.widths!r}")
        if self.lrs is not None:
            check(self, positive=("lrs",))
        if not all(math.isfinite(v) for v in self.lambda_adv + (self.lrs or ())):
            raise ValueError("SweepConfig.lambda_adv and lrs must be finite")
        if self.criterion not in breakdown.CRITERIA:
            raise ValueError(
                f"SweepConfig.criterion must be one of {sorted(breakdown.CRITERIA)}, "
                f"got {self.criterion!r}"
            )
        if self.targets not in ("gaussian", "teacher"):
            raise ValueError(
                f"SweepConfig.targets must be gaussian or teacher, got {self.targets!r}"
            )
        if not self.bucket_ratio >= 1:
            raise ValueError(f"SweepConfig.bucket_ratio must be >= 1, got {self.bucket_ratio!r}")


PRESETS = {
    # make sweep: 2-core CPU, a few minutes. The paper's experimental setting: U and V trained
    # jointly against a trained WGAN-GP critic (--set train.train_v=false --set d_out=1 is
    # the setting of Theorems 1-2).
    "quick": SweepConfig(
        widths=(16, 32, 64, 128, 256, 512, 1024, 2048),
        d_out=4,
        train=TrainConfig(steps=10000, critic="wgan_gp", train_v=True),
    ),
    # Paper scale (23000 iterations as in the paper's Fig. 1), for a GPU.
    "paper": SweepConfig(
        widths=tuple(2**k for k in range(5, 16)),
        seeds=8,
        n=64,
        d_in=64,
        d_out=4,
        train=TrainConfig(steps=23000, critic="wgan_gp", train_v=True),
    ),
    # Seconds, for the tests.
    "tiny": SweepConfig(
        widths=(4, 8, 16),
        seeds=2,
        n=6,
        d_in=4,
        train=TrainConfig(steps=20, log_schedule="linear", log_every=5),
        bootstrap=50,
    ),
}


def run(cfg: SweepConfig, out, resume=False, overwrite=False, log=print) -> dict:
    """Run (or resume) a sweep into the folder ``out``; returns the summary it writes."""
    import jax
    import numpy as np

    from experiments import sweep_report
    from prd_jax import grid, results
    from prd_jax.data import sphere
    from prd_jax.kernels import gram_spectrum
    from prd_jax.train import suggest_lr

    start, writer, out = time.perf_counter(), jax.process_index() == 0, pathlib.Path(out)
    if writer:
        results.prepare_folder(out, results.json_ready(dataclasses.asdict(cfg)), resume, overwrite)
    X, Y = sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out, cfg.targets)
    spectrum = gram_spectrum(X)
    lrs = cfg.lrs or (suggest_lr(X, cfg.d_out, cfg.train.train_v, cfg.lr_safety),)
    buckets = grid.make_buckets(cfg.widths, cfg.bucket_ratio)
    log(
        f"sweep: {len(cfg.widths)} widths in {len(buckets)} buckets "
        f"(padded/exact FLOPs {grid.padding_overhead(buckets):.2f}), {cfg.seeds} seeds, "
        f"lambda_adv {list(cfg.lambda_adv)}, lr {[round(float(lr), 4) for lr in lrs]}, "
        f"{cfg.train.steps} steps, critic {cfg.train.critic}, "
        f"{len(jax.devices())} {jax.default_backend()} device(s)"
    )
    result = grid.run_grid(
        cfg.train, X, Y,
        seeds=range(cfg.seeds), widths=cfg.widths, lambda_adv=cfg.lambda_adv, lr=lrs,
        cache=results.BucketCache(out, write=writer), bucket_ratio=cfg.bucket_ratio,
        progress=progress_logger(buckets, log),
    )  # fmt: skip
    runs = result.flat()
    # Width-major, seed fastest: the order of the per-run records (and bootstrap draws).
    order = np.lexsort(
        (runs["run_seed"], runs["run_lr"], runs["run_lambda_adv"], runs["run_width"])
    )
    runs = {k: v[order] for k, v in runs.items()}
    extra = {
        "compiles": result.compiles,
        "buckets": [list(b) for b in buckets],
        "padding_overhead": grid.padding_overhead(buckets),
        "lrs": [float(lr) for lr in lrs],
        "log_steps": result.log_steps.tolist(),
        "devices": len(jax.devices()),
        "backend": jax.default_backend(),
        "diverged_runs": int(runs["diverged"].sum()),
    }
    summary = sweep_report.summarize(cfg, runs, result.log_steps, spectrum, extra)
    summary["theory"]["threshold_vs_horizon"] = sweep_report.theory_threshold_curve(
        cfg, spectrum, result.log_steps[1:], lrs[0], summary["critic_norm_exponent"]
    )
    summary["theory"]["threshold_constant"] = (
        "the Omega(.) constant of the paper's breakdown width is unknown: set to 1, with "
        f"R's constant c = {cfg.radius_c} and delta = {cfg.delta}; L(m) from the fitted "
        "critic-norm scaling"
    )
    summary["wall_seconds"] = time.perf_counter() - start
    if writer:
        from experiments.plots.sweep import plot_all

        summary["figures"] = [p.name for p in plot_all(summary, runs, out)]
        results.write_json_atomic(out / "summary.json", summary)
    return summary


def progress_logger(buckets, log):
    """A ``run_grid`` progress callback: one line per bucket with an estimate of time left."""
    cost = [max(b) * len(b) for b in buckets]  # padded neurons per (seed, lambda, lr)
    times = []

    def report(info):
        i = info["bucket"] - 1
        if info["cached"]:
            log(f"  bucket {info['bucket']}/{info['buckets']} {info['widths']}: finished earlier")
            return
        times.append((info["seconds"], cost[i]))
        fixed = min(t for t, _ in times)  # about one compile
        rate = max(sum(t for t, _ in times) - fixed * len(times), 0.0) / sum(c for _, c in times)
        eta = sum(fixed + rate * c for c in cost[i + 1 :])
        div = f", {info['diverged']} diverged" if info["diverged"] else ""
        log(
            f"  bucket {info['bucket']}/{info['buckets']} widths {info['widths']}: "
            f"{info['runs']} runs in {info['seconds']:.1f}s{div}; about {eta:.0f}s left"
        )

    return report


def main(argv=None):
    parser = cli.make_parser("python -m experiments.sweep", __doc__, PRESETS)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("results/sweep"))
    parser.add_argument("--resume", action="store_true", help="reuse finished buckets")
    parser.add_argument("--overwrite", action="store_true", help="recompute an existing sweep")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (one process per host; the run axis "
        "is sharded over every device of every host)",
    )
    args = parser.parse_args(argv)
    cfg = cli.resolve(parser, args, PRESETS)
    if args.distributed:
        import jax

        jax.distributed.initialize()  # coordinator, process count and id from the cluster env
    from experiments import sweep_report
    from prd_jax.results import ResultsError

    try:
        summary = run(cfg, args.out, resume=args.resume, overwrite=args.overwrite)
    except ResultsError as err:
        parser.error(str(err))
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\ninterrupted: finished buckets are kept in {args.out}; "
            "rerun with --resume to continue\n"
        )
        sys.exit(130)
    print()
    print(sweep_report.format_table(summary))
    if "figures" in summary:
        print(f"results and figures: {args.out}/ ({', '.join(summary['figures'])})")
    return summary


if __name__ == "__main__":
    main()
