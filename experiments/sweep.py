"""Width sweep: where does training leave the kernel regime, with and without an adversary?

    python -m experiments.sweep                        # quick preset, CPU, a few minutes
    python -m experiments.sweep --preset paper         # paper scale, for a GPU
    python -m experiments.sweep --set train.critic=frozen --out results/sweep_frozen
    python -m experiments.sweep --set widths=16,64,256 --set seeds=2 --set train.steps=500
    python -m experiments.sweep --preset paper --distributed   # on each host of a TPU slice
    python -m experiments.sweep --coordinator HOST0:1234 --num-processes 2 --process-id I

Trains seeds x widths x lambda_adv (0 = supervised) with ``prd_jax.grid.run_grid`` (one
compiled program per bucket of widths) and measures when each run leaves the kernel regime
(``prd_jax.breakdown``). Writes ``config.json``, one ``bucket_*.npz`` per finished bucket,
``summary.json`` and PNG figures to ``--out`` (default ``results/sweep``), and prints the
thresholds and exponents. ``--resume`` reuses the finished buckets of an interrupted run.
"""

import dataclasses
import math
import os
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
    seeds: int = 7  # seeds 0 .. seeds-1 (odd, >= 5 for the intervals); key = jax.random.key(seed)
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
    bucket_ratio: float | None = None  # none: buckets by cost (grid.cost_buckets); a number:
    # widths within a bucket span at most this factor (>= 1). Numbers are the same either way.
    bootstrap: int = 1000  # bootstrap resamples of seeds for threshold intervals
    max_memory_gb: float | None = None  # GiB one bucket may use; none: what is available
    x64: bool = False  # float64 throughout (the run inside jax.enable_x64); false: JAX's default
    cpu_devices: int = 1  # on the CPU, split each bucket's runs over this many host devices
    # (set before JAX starts; results may change at float32 rounding, outcomes do not)

    def __post_init__(self):
        if not isinstance(self.x64, bool):
            raise ValueError(f"SweepConfig.x64 must be true or false, got {self.x64!r}")
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
        if self.bucket_ratio is not None and not self.bucket_ratio >= 1:
            raise ValueError(f"SweepConfig.bucket_ratio must be >= 1, got {self.bucket_ratio!r}")
        self._check_cpu_devices()

    def _check_cpu_devices(self):
        n = self.cpu_devices
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 1024:
            raise ValueError(f"SweepConfig.cpu_devices must be an integer in 1..1024, got {n!r}")

    def buckets(self) -> list[tuple[int, ...]]:
        """The buckets ``run_grid`` compiles for this sweep (``grid.plan_buckets``)."""
        from prd_jax import grid

        others = self.seeds * len(self.lambda_adv) * len(self.lrs or (None,))
        return grid.plan_buckets(
            self.widths, self.bucket_ratio, others=others, steps=self.train.steps, n=self.n,
            d_in=self.d_in, d_out=self.d_out,
        )  # fmt: skip


def widths_per_octave(lo: int, hi: int, per_octave: int) -> tuple[int, ...]:
    """``lo * 2^(k / per_octave)`` rounded, up to ``hi``: several widths per octave. Buckets
    span a factor 2, so the extra widths cost no compile (but their runs, padded to the
    bucket's widest, cost as much as that one)."""
    count = int(round(per_octave * math.log2(hi / lo)))
    return tuple(sorted({int(round(lo * 2 ** (k / per_octave))) for k in range(count + 1)}))


PRESETS = {
    # make sweep: 2-core CPU, a few minutes. The paper's experimental setting: U and V trained
    # jointly against a trained WGAN-GP critic (--set train.train_v=false --set d_out=1 is
    # the setting of Theorems 1-2). Two widths per octave (16, 23, 32, ..., 2048), 7 seeds.
    "quick": SweepConfig(
        widths=widths_per_octave(16, 2048, 2),
        seeds=7,
        d_out=4,
        train=TrainConfig(steps=10000, critic="wgan_gp", train_v=True),
    ),
    # Paper scale (23000 iterations as in the paper's Fig. 1), for a GPU.
    "paper": SweepConfig(
        widths=widths_per_octave(32, 32768, 2),
        seeds=9,
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
        bucket_ratio=2.0,  # the ratio rule: the tests count one compile per bucket of (4, 8), (16,)
    ),
}


# Work of the quick preset (minutes on a 2-core CPU) times this: warn before running on a CPU.
CPU_WORK_WARN_RATIO = 20.0
ACCELERATOR_INSTALL = "pip install -e '.[cuda]' (NVIDIA GPU) or pip install -e '.[tpu]' (TPU)"


def work_estimate(cfg: SweepConfig) -> float:
    """Multiply-adds of a sweep, roughly: runs x steps x padded neurons x n x (d_in + d_out)."""
    padded = sum(max(b) * len(b) for b in cfg.buckets())
    runs = cfg.seeds * len(cfg.lambda_adv) * len(cfg.lrs or (None,))
    return float(runs) * cfg.train.steps * padded * cfg.n * (cfg.d_in + cfg.d_out)


def warn_if_large_on_cpu(cfg: SweepConfig, backend: str) -> bool:
    """One line on stderr when a sweep of CPU_WORK_WARN_RATIO x the quick preset's work or
    more (the paper preset is ~1000x) is about to run on the CPU; returns whether it warned."""
    ratio = work_estimate(cfg) / work_estimate(PRESETS["quick"])
    if backend != "cpu" or ratio < CPU_WORK_WARN_RATIO:
        return False
    sys.stderr.write(
        f"warning: this sweep is ~{ratio:.0f}x the quick preset's work (minutes on a 2-core CPU) "
        f"and JAX runs it on the CPU: expect hours to days; for an accelerator, "
        f"{ACCELERATOR_INSTALL} (docs/running_at_scale.md)\n"
    )
    sys.stderr.flush()
    return True


def run(cfg: SweepConfig, out, resume=False, overwrite=False, log=print) -> dict:
    """Run (or resume) a sweep into the folder ``out``; returns the summary it writes.

    Bad inputs (a grid that does not fit in memory, an unusable ``out``, ``resume`` with
    ``overwrite``) raise ``results.ResultsError`` with one line before anything is computed.
    ``summary.json`` is written and the table logged before any figure is drawn; a figure
    that cannot be drawn is skipped with a one-line note. With ``cfg.x64`` the whole sweep
    (data, weights, metrics) runs in float64 inside ``jax.enable_x64(True)``.
    """
    import contextlib

    use_cpu_devices(cfg.cpu_devices)  # before JAX starts its backend
    import jax

    with jax.enable_x64(True) if cfg.x64 else contextlib.nullcontext():
        return _run(cfg, out, resume, overwrite, log)


def use_cpu_devices(count: int) -> int:
    """Split the CPU into ``count`` host devices (``jax_num_cpu_devices``), so that each
    bucket's runs are sharded over them; returns the CPU device count in use. 1 (the default)
    changes nothing. Must run before JAX starts its backend: afterwards a count other than the
    one in use is a ``results.ResultsError`` naming the fix. Numbers may change at float32
    rounding with the count (each device runs its block of runs as a smaller program); the
    outcomes, thresholds and claims do not."""
    import jax
    from jax._src import xla_bridge

    from prd_jax.results import ResultsError

    if count == 1:
        return len(jax.devices("cpu")) if xla_bridge.backends_are_initialized() else 1
    if not xla_bridge.backends_are_initialized():
        jax.config.update("jax_num_cpu_devices", count)
    have = len(jax.devices("cpu"))
    if have != count:
        raise ResultsError(
            f"cpu_devices={count}: JAX already runs {have} CPU device(s) in this process "
            "(set before any JAX computation: from the command line, or in a fresh process; "
            "XLA_FLAGS=--xla_force_host_platform_device_count also sets it)"
        )
    return have


def _run(cfg: SweepConfig, out, resume, overwrite, log) -> dict:
    import jax
    import numpy as np

    from experiments import sweep_report
    from prd_jax import compile_cache, grid, results
    from prd_jax.data import sphere
    from prd_jax.kernels import gram_spectrum
    from prd_jax.model import default_float as float_dtype
    from prd_jax.train import suggest_lr

    start, writer, out = time.perf_counter(), jax.process_index() == 0, pathlib.Path(out)
    if resume and overwrite:
        results.prepare_folder(out, {}, resume, overwrite)  # raises: one line, nothing touched
    if writer:
        warn_if_large_on_cpu(cfg, jax.default_backend())
    X, Y = sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out, cfg.targets)
    spectrum = gram_spectrum(X)
    lrs = cfg.lrs or (suggest_lr(X, cfg.d_out, cfg.train.train_v, cfg.lr_safety),)
    grid_args = dict(
        seeds=range(cfg.seeds), widths=cfg.widths, lambda_adv=cfg.lambda_adv, lr=lrs,
        bucket_ratio=cfg.bucket_ratio, max_memory_gb=cfg.max_memory_gb,
    )  # fmt: skip
    try:
        grid.check_grid(cfg.train, X, Y, **grid_args)
    except grid.GridError as err:
        raise results.ResultsError(str(err)) from None
    if writer:
        # max_memory_gb changes no number: a sweep may resume under another limit. x64 is
        # recorded only when on, so folders written before the field existed still resume.
        config = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "max_memory_gb"}
        config = {k: v for k, v in config.items() if k != "x64" or v}
        config.pop("cpu_devices", None)  # how the runs are spread, like max_memory_gb
        results.prepare_folder(out, results.json_ready(config), resume, overwrite)
    buckets = cfg.buckets()
    log(
        f"sweep: {len(cfg.widths)} widths in {len(buckets)} buckets "
        f"(padded/exact FLOPs {grid.padding_overhead(buckets):.2f}), {cfg.seeds} seeds, "
        f"lambda_adv {list(cfg.lambda_adv)}, lr {[round(float(lr), 4) for lr in lrs]}, "
        f"{cfg.train.steps} steps, critic {cfg.train.critic}, {compile_cache.describe()}, "
        f"{len(jax.devices())} {jax.default_backend()} device(s) "
        f"({jax.devices()[0].device_kind}), {np.dtype(float_dtype()).name}"
    )
    if cfg.train.optimizer == "sgd":  # the limit is gradient descent's (Adam has none)
        limit = suggest_lr(X, cfg.d_out, cfg.train.train_v, safety=1.0)
        for lr in (lr for lr in lrs if lr > limit):
            log(
                f"warning: lr {lr:.4g} is above the stability limit 2/lambda_max = {limit:.4g} "
                "of this data (gradient descent on the kernel regime diverges above it): expect "
                "diverged runs; use lrs <= the limit, or lrs=none for lr_safety x the limit"
            )
    result = grid.run_grid(
        cfg.train, X, Y, cache=results.BucketCache(out, write=writer),
        progress=progress_logger(buckets, log), **grid_args,
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
    try:
        summary["theory"]["threshold_vs_horizon"] = sweep_report.theory_threshold_curve(
            cfg, spectrum, result.log_steps[1:], lrs[0], summary["critic_norm_exponent"]
        )
    except (ArithmeticError, ValueError) as err:
        summary["theory"]["threshold_vs_horizon"] = []
        log(f"note: the paper's threshold curve could not be evaluated ({err})")
    summary["theory"]["threshold_constant"] = (
        "the Omega(.) constant of the paper's breakdown width is unknown: set to 1, with "
        f"R's constant c = {cfg.radius_c} and delta = {cfg.delta}; L(m) from the fitted "
        "critic-norm scaling"
    )
    summary["wall_seconds"] = time.perf_counter() - start
    # The numbers first: nothing finished is lost if a figure fails or Ctrl-C comes now.
    summary["figures"] = []
    if writer:
        results.write_json_atomic(out / "summary.json", summary)
        write_runs_jsonl(out / "runs.jsonl", runs, result.log_steps, lrs)
    log("")
    log(sweep_report.format_table(summary))
    # Machine facts, not results: logged, never in summary.json (equal sweeps, equal files).
    compiles = ", ".join(f"{t['compile_seconds']:.1f}" for t in result.timings)
    log(f"{compile_cache.describe()}; bucket compiles {compiles} s")
    if writer:
        from experiments.plots.sweep import plot_all

        summary["figures"] = [p.name for p in plot_all(summary, runs, out, log=log)]
        results.write_json_atomic(out / "summary.json", summary)
    return summary


def progress_logger(buckets, log):
    """A ``run_grid`` progress callback: one line per bucket with its compile and run times and
    an estimate of the time left; with ``run_grid(log_progress=True)`` also one line per log
    point inside a bucket (step reached, time left in the bucket)."""
    cost = [max(b) * len(b) for b in buckets]  # padded neurons per (seed, lambda, lr)
    done = []  # (compile seconds, run seconds, cost) of each computed bucket

    def report(info):
        where = f"  bucket {info['bucket']}/{info['buckets']} widths {info['widths']}"
        if info.get("kind") == "log_point":
            log(
                f"{where}: step {info['step']}/{info['steps']} after {info['seconds']:.1f}s; "
                f"about {info['eta_seconds']:.0f}s left in this bucket"
            )
            return
        i = info["bucket"] - 1
        if info["cached"]:
            log(f"{where}: finished earlier")
            return
        compile_s = info.get("compile_seconds", 0.0)
        run_s = info.get("run_seconds", info["seconds"] - compile_s)
        done.append((compile_s, run_s, cost[i]))
        # A new program per bucket: its compile time is about the first's (later ones in this
        # process may be 0, reused); its run time grows with the bucket's padded neurons.
        compile_est = max(c for c, _, _ in done)
        rate = sum(r for _, r, _ in done) / sum(c for _, _, c in done)
        eta = sum(compile_est + rate * c for c in cost[i + 1 :])
        div = f", {info['diverged']} diverged" if info["diverged"] else ""
        hit = " from the cache" if info.get("cache_hits") and not info.get("cache_misses") else ""
        log(
            f"{where}: {info['runs']} runs in {info['seconds']:.1f}s (compile {compile_s:.1f}s"
            f"{hit}, run {run_s:.1f}s){div}; about {eta:.0f}s left"
        )

    return report


def write_runs_jsonl(path, runs, log_steps, lrs=None) -> int:
    """One JSON record per run and log point, for ``pandas.read_json(path, lines=True)``:
    ``width, seed, lambda_adv, lr, step, t`` (continuous time ``lr * step``), ``diverged``,
    ``steps_taken`` and every metric; non-finite numbers are written as null. ``runs`` is
    ``GridResult.flat()``'s dict. Written atomically; returns the number of records."""
    import json

    import numpy as np

    from prd_jax import results
    from prd_jax.metrics import METRIC_NAMES

    steps = np.asarray(log_steps, np.int64)
    n = len(runs["diverged"])
    lr = runs.get("run_lr", np.full(n, lrs[0] if lrs else np.nan))
    lam = runs.get("run_lambda_adv", np.full(n, np.nan))
    names = [k for k in METRIC_NAMES if k in runs]

    def number(x):
        x = float(x)
        return x if math.isfinite(x) else None

    lines = []
    for r in range(n):
        head = {
            "width": int(runs["run_width"][r]),
            "seed": int(runs["run_seed"][r]),
            "lambda_adv": number(lam[r]),
            "lr": number(lr[r]),
        }
        tail = {"diverged": bool(runs["diverged"][r]), "steps_taken": int(runs["steps_taken"][r])}
        for j, step in enumerate(steps):
            record = head | {"step": int(step), "t": number(lr[r] * step)} | tail
            record |= {k: number(runs[k][r, j]) for k in names}
            lines.append(json.dumps(record, allow_nan=False) + "\n")
    results.write_text_atomic(path, "".join(lines))
    return n * len(steps)


# Flags of a multi-process run and the environment variables they default to.
DISTRIBUTED_FLAGS = {
    "--coordinator": "JAX_COORDINATOR_ADDRESS",
    "--num-processes": "JAX_NUM_PROCESSES",
    "--process-id": "JAX_PROCESS_ID",
}


def add_distributed_flags(parser):
    """Flags of a multi-process run (docs/distributed.md); each defaults to its env variable."""
    group = parser.add_argument_group("multi-process runs (one process per host)")
    group.add_argument(
        "--distributed",
        action="store_true",
        help="join a multi-process run, detecting what the flags below leave unset from the "
        "cluster (Cloud TPU, Slurm, Open MPI, Kubernetes)",
    )
    helps = {
        "--coordinator": "process 0's host and a free port, the same for every process",
        "--num-processes": "number of processes, the same for every process",
        "--process-id": "this process's id, 0 .. N-1 (process 0 writes the results)",
    }
    for flag, env in DISTRIBUTED_FLAGS.items():
        meta = {"--coordinator": "HOST:PORT", "--num-processes": "N", "--process-id": "I"}[flag]
        group.add_argument(flag, metavar=meta, help=f"{helps[flag]} (default: ${env})")
    group.add_argument(
        "--coordinator-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up joining the run after this long (default: 300)",
    )


def _distributed_options(parser, args) -> dict | None:
    """``jax.distributed.initialize`` arguments from the flags and the environment (None: a
    one-process run); a bad or incomplete set is a one-line error (exit 2)."""
    values = {}
    for flag, env in DISTRIBUTED_FLAGS.items():
        value = getattr(args, flag[2:].replace("-", "_"))
        source = flag
        if value is None and os.environ.get(env, "").strip():
            value, source = os.environ[env].strip(), f"${env}"
        if value is not None and flag != "--coordinator":
            try:
                value = int(value)
            except ValueError:
                parser.error(f"{source} must be an integer, got {value!r}")
        values[flag] = value
    if not args.distributed and all(v is None for v in values.values()):
        return None
    missing = [f"{f} (or ${e})" for f, e in DISTRIBUTED_FLAGS.items() if values[f] is None]
    if missing and not args.distributed:
        parser.error(
            f"missing {', '.join(missing)}: give all three, or --distributed to detect the "
            "rest from the cluster"
        )
    address, count, index = values.values()
    if address is not None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            parser.error(f"--coordinator must be HOST:PORT, got {address!r}")
    if count is not None and count < 1:
        parser.error(f"--num-processes must be >= 1, got {count}")
    if index is not None and not 0 <= index < (count if count is not None else index + 1):
        parser.error(f"--process-id must be in 0 .. {count - 1}, got {index}")
    if not args.coordinator_timeout > 0:
        parser.error(f"--coordinator-timeout must be > 0, got {args.coordinator_timeout}")
    return dict(coordinator_address=address, num_processes=count, process_id=index)


def _port_is_free(address) -> bool:
    """Whether process 0 can start the coordinator on ``address``'s port (on every interface,
    as jax does): jax crashes without a message when it cannot."""
    import socket

    port = int(address.rpartition(":")[2])
    with socket.socket(socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def init_distributed(parser, args) -> bool:
    """Join a multi-process run (``jax.distributed.initialize``) if the flags, the environment
    or ``--distributed`` ask for one; returns whether it did. Must run before any JAX call.

    Failing to join is one line on stderr and exit 1: jax itself aborts the process with a
    stack dump when the coordinator cannot be reached in time, so a watchdog thread ends the
    process first, after ``--coordinator-timeout`` seconds.
    """
    options = _distributed_options(parser, args)
    if options is None:
        return False
    address, count, index = options.values()
    if index == 0 and address is not None and not _port_is_free(address):
        sys.stderr.write(
            f"{parser.prog}: error: cannot start the coordinator on {address}: the port is in "
            "use; choose another --coordinator port\n"
        )
        sys.exit(1)
    timeout = args.coordinator_timeout
    who = f"process {'?' if index is None else index} of {'?' if count is None else count}"

    def give_up():
        sys.stdout.flush()
        sys.stderr.write(
            f"{parser.prog}: error: {who} could not join the run at {address or '(auto)'} "
            f"within {timeout:g}s: is process 0 running there and reachable, with the same "
            "--num-processes, and has every process started?\n"
        )
        sys.stderr.flush()
        os._exit(1)  # the main thread is blocked inside jax's C++ client

    import threading

    import jax

    watchdog = threading.Timer(timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            **{k: v for k, v in options.items() if v is not None},
            initialization_timeout=int(math.ceil(timeout)) + 60,  # after the watchdog's
        )
    except (RuntimeError, ValueError, TypeError) as err:  # e.g. no cluster detected
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        sys.stderr.write(f"{parser.prog}: error: jax.distributed.initialize: {first}\n")
        sys.exit(1)
    finally:
        watchdog.cancel()
    print(
        f"jax.distributed: process {jax.process_index()} of {jax.process_count()}, "
        f"{jax.local_device_count()} of {jax.device_count()} {jax.default_backend()} "
        "device(s) here",
        flush=True,
    )
    return True


def main(argv=None):
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before or after run(): one line, never a traceback
        sys.stderr.write("\ninterrupted; finished buckets are kept; rerun with --resume\n")
        sys.exit(130)


def _main(argv=None):
    parser = cli.make_parser("python -m experiments.sweep", __doc__, PRESETS)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("results/sweep"))
    parser.add_argument("--resume", action="store_true", help="reuse finished buckets")
    parser.add_argument("--overwrite", action="store_true", help="recompute an existing sweep")
    add_distributed_flags(parser)
    args = parser.parse_args(argv)
    cfg = cli.resolve(parser, args, PRESETS)
    cli.setup_compile_cache(args)
    # Before any JAX computation (run() makes the data): nothing above touches a backend.
    distributed = init_distributed(parser, args)
    import jax

    from prd_jax.results import ResultsError

    lead = jax.process_index() == 0 if distributed else True  # only process 0 logs and writes
    log = print if lead else (lambda *_: None)
    try:
        summary = run(cfg, args.out, resume=args.resume, overwrite=args.overwrite, log=log)
    except ResultsError as err:
        parser.error(str(err))
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\ninterrupted: finished buckets are kept in {args.out}; "
            "rerun with --resume to continue\n"
        )
        sys.exit(130)
    except Exception as err:  # noqa: BLE001 - other processes: one line, process 0 says why
        if lead:
            raise
        first = (str(err).strip().splitlines() or [""])[0][:300]
        sys.stderr.write(
            f"{parser.prog}: error: process {jax.process_index()} stopped "
            f"({type(err).__name__}: {first}); process 0's output says why\n"
        )
        sys.exit(1)
    if not lead:
        print(f"process {jax.process_index()}: done; process 0 wrote the results to {args.out}")
        return summary
    if "figures" in summary:  # run() logged the table before drawing
        print(f"results and figures: {args.out}/ ({', '.join(summary['figures'])})")
    return summary


if __name__ == "__main__":
    main()
