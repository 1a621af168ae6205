"""Width sweep: where does training leave the kernel regime, with and without an adversary?

    python -m experiments.sweep                      # quick preset, CPU, a few minutes (make sweep)
    python -m experiments.sweep --preset paper       # paper scale, for a GPU
    python -m experiments.sweep --critic frozen      # the theorems' frozen critic
    python -m experiments.sweep --widths 16,64,256 --seeds 2 --steps 500 --out results/try
    python -m experiments.sweep --preset paper --distributed  # on each host of a cluster

Writes ``config.json``, ``bucket_*.npz``, ``summary.json`` and PNG figures to ``--out``
(default ``results/sweep``) and prints the thresholds and exponents. ``--resume`` reuses the
finished buckets of an interrupted run of the same config.
"""

import argparse
import dataclasses
import sys

from prd_jax.results import ResultsError
from prd_jax.sweep import CRITERIA, SweepConfig, format_table, run_sweep
from prd_jax.train import TrainConfig

PRESETS = {
    # make sweep: 2-core CPU, a few minutes. The paper's experimental setting: U and V trained
    # jointly against its trained WGAN-GP critic; --no-train-v --d-out 1 is Theorems 1-2's.
    "quick": SweepConfig(
        widths=(16, 32, 64, 128, 256, 512, 1024, 2048),
        seeds=4,
        lambda_adv=(0.0, 1.0),
        n=16,
        d_in=16,
        d_out=4,
        train=TrainConfig(steps=10000, critic="wgan_gp", train_v=True),
    ),
    # Paper scale (23000 iterations as in the paper's Fig. 1), for a GPU.
    "paper": SweepConfig(
        widths=tuple(2**k for k in range(5, 16)),
        seeds=8,
        lambda_adv=(0.0, 1.0),
        n=64,
        d_in=64,
        d_out=4,
        train=TrainConfig(steps=23000, critic="wgan_gp", train_v=True),
    ),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump, no traceback
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)


def _ints(flag):
    def parse(text):
        try:
            values = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes integers like 16,32,64") from None
        if not values or any(v <= 0 for v in values):
            raise argparse.ArgumentTypeError(f"{flag} values must be positive, got {text!r}")
        return values

    return parse


def _floats(flag, positive):
    def parse(text):
        try:
            values = tuple(float(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes numbers like 0,1") from None
        bad = [v for v in values if not (v > 0 if positive else v >= 0) or v != v]
        if not values or bad:
            need = "> 0" if positive else ">= 0"
            raise argparse.ArgumentTypeError(f"{flag} values must be {need}, got {text!r}")
        return values

    return parse


def _positive_int(flag):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a positive integer") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{flag} must be positive, got {value}")
        return value

    return parse


def parse_args(argv=None):
    p = _Parser(description="Width sweep of the PRD model (seeds x widths x lambda_adv).")
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    p.add_argument("--widths", type=_ints("--widths"), help="e.g. 16,32,64")
    p.add_argument("--seeds", type=_positive_int("--seeds"), help="number of seeds")
    p.add_argument("--lambda-adv", type=_floats("--lambda-adv", False), help="e.g. 0,1")
    p.add_argument(
        "--lr",
        type=_floats("--lr", True),
        help="generator step size(s); default: 0.5 * 2 / lambda_max of the data's kernel",
    )
    p.add_argument("--critic-lr", type=_floats("--critic-lr", True))
    p.add_argument("--steps", type=_positive_int("--steps"))
    p.add_argument("--n", type=_positive_int("--n"), help="number of samples")
    p.add_argument("--d-in", type=_positive_int("--d-in"))
    p.add_argument("--d-out", type=_positive_int("--d-out"))
    p.add_argument("--critic", choices=("wgan_gp", "frozen"))
    p.add_argument("--critic-optimizer", choices=("adam", "sgd"))
    p.add_argument(
        "--train-v",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also train the output layer V (default: U only, the theorems' setting)",
    )
    p.add_argument("--criterion", choices=CRITERIA)
    p.add_argument("--bucket-ratio", type=_floats("--bucket-ratio", True))
    p.add_argument("--out", default="results/sweep")
    p.add_argument("--resume", action="store_true", help="reuse finished buckets")
    p.add_argument("--overwrite", action="store_true", help="recompute an existing sweep")
    p.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (one process per host; the "
        "run axis is sharded over every device of every host)",
    )
    return p.parse_args(argv), p


def build_config(args, parser) -> SweepConfig:
    cfg = PRESETS[args.preset]

    def given(**fields):  # the flags the user set
        return {k: v for k, v in fields.items() if v is not None}

    train_over = given(
        steps=args.steps,
        critic=args.critic,
        critic_optimizer=args.critic_optimizer,
        train_v=args.train_v,
        critic_lr=args.critic_lr[0] if args.critic_lr else None,
    )
    over = given(
        widths=args.widths,
        seeds=args.seeds,
        lambda_adv=args.lambda_adv,
        lrs=args.lr,
        n=args.n,
        d_in=args.d_in,
        d_out=args.d_out,
        criterion=args.criterion,
        bucket_ratio=args.bucket_ratio[0] if args.bucket_ratio else None,
    )
    try:
        train = dataclasses.replace(cfg.train, **train_over)
        return dataclasses.replace(cfg, train=train, **over)
    except ValueError as err:
        flag = str(err).split(" ")[0].split(".")[-1].replace("_", "-")
        parser.error(f"--{flag}: {err}")


def main(argv=None):
    args, parser = parse_args(argv)
    cfg = build_config(args, parser)
    if args.distributed:
        import jax

        jax.distributed.initialize()  # coordinator, process count and id from the cluster env
    try:
        summary = run_sweep(cfg, args.out, resume=args.resume, overwrite=args.overwrite)
    except ResultsError as err:
        parser.error(str(err))
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\ninterrupted: finished buckets are kept in {args.out}; "
            "rerun with --resume to continue\n"
        )
        sys.exit(130)
    print()
    print(format_table(summary))
    print(f"results and figures: {args.out}/ ({', '.join(summary['figures'])})")


if __name__ == "__main__":
    main()
