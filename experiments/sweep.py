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

import contextlib
import dataclasses
import math
import os
import sys
import time

from experiments import cli
from experiments.common import check
from prd_jax import breakdown
from prd_jax.search import SearchConfig
from prd_jax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """A sweep: data, grid, the training config shared by every run, and the breakdown test."""

    widths: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # fixed grid; search: its span
    seeds: int = 7  # seeds 0 .. seeds-1 (>= 7 for a 95% interval); key = jax.random.key(seed)
    search: bool = True  # find m* (bracket, then refine); false: train the fixed grid `widths`
    search_rules: SearchConfig = SearchConfig()  # the search's constants and budget
    lambda_adv: tuple[float, ...] = (0.0, 1.0)  # adversarial weights; 0 is supervised
    lrs: tuple[float, ...] | None = None  # generator step sizes; none: lr_safety * 2/lambda_max
    lr_safety: float = 0.1  # with lrs none: lr = lr_safety * 2 / lambda_max (gradient-flow-like)
    n: int = 16  # samples, uniform on the unit sphere
    d_in: int = 16  # input dimension
    d_out: int = 1  # output dimension
    data_seed: int = 1234  # key of the synthetic data set
    targets: str = "gaussian"  # sphere() targets: "gaussian" or "teacher"
    train: TrainConfig = TrainConfig()  # shared by every run (train.width: each bucket's)
    criterion: str = "kernel"  # breakdown criterion: kernel, drift, relative or linearization
    compare_criterion: str | None = "linearization"  # reported beside it (m*, ratio); none: off
    rel_threshold: float = 0.1  # relative-drift criterion threshold
    lin_threshold: float = 0.1  # linearization criterion: ||f - f_lin|| / ||f - f(0)|| above it
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
        for name in ("criterion", "compare_criterion"):
            value = getattr(self, name)
            if (value is not None or name == "criterion") and value not in breakdown.CRITERIA:
                raise ValueError(
                    f"SweepConfig.{name} must be one of {sorted(breakdown.CRITERIA)}, got {value!r}"
                )
        check(self, positive=("lin_threshold",))
        if self.search and (len(self.lrs or ()) > 1):
            raise ValueError(
                f"SweepConfig.lrs: the search runs one step size, got {self.lrs!r}; pass one "
                "value, or --set search=false for a fixed grid over several"
            )
        if self.search and len(self.widths) < 2:
            raise ValueError(
                f"SweepConfig.widths: the search needs a span (two widths or more), got "
                f"{self.widths!r}"
            )
        if self.targets not in ("gaussian", "teacher"):
            raise ValueError(
                f"SweepConfig.targets must be gaussian or teacher, got {self.targets!r}"
            )
        if self.bucket_ratio is not None and not self.bucket_ratio >= 1:
            raise ValueError(f"SweepConfig.bucket_ratio must be >= 1, got {self.bucket_ratio!r}")
        from prd_jax import grid  # sizes only, before anything is built: seeds=2**31 is refused

        runs = self.seeds * len(self.lambda_adv) * len(self.lrs or (None,))
        grid.check_runs(runs, self.widths, self.bucket_ratio, f"SweepConfig.seeds = {self.seeds}")
        if self.bootstrap > MAX_BOOTSTRAP:
            raise ValueError(
                f"SweepConfig.bootstrap must be at most {MAX_BOOTSTRAP}, got {self.bootstrap}"
            )
        self.train.check_image_shape(self.d_in, "SweepConfig.train.image_shape")
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


MAX_BOOTSTRAP = 100_000  # bootstrap resamples: far beyond what an interval needs


def widths_per_octave(lo: int, hi: int, per_octave: int) -> tuple[int, ...]:
    """``lo * 2^(k / per_octave)`` rounded, up to ``hi``: several widths per octave. Buckets
    span a factor 2, so the extra widths cost no compile (but their runs, padded to the
    bucket's widest, cost as much as that one)."""
    count = int(round(per_octave * math.log2(hi / lo)))
    return tuple(sorted({int(round(lo * 2 ** (k / per_octave))) for k in range(count + 1)}))


PRESETS = {
    # make sweep: 2-core CPU, a few minutes. The paper's experimental setting: U and V trained
    # jointly against a trained WGAN-GP critic (--set train.train_v=false --set d_out=1 is
    # the setting of Theorems 1-2). The search starts from one width per octave over
    # 16 ... 2048 with 7 seeds. Two host devices: 1.5x faster here (224 s against 341 s for
    # make sweep, 2026-12-05), and a fixed count, so the numbers are the same on any machine.
    "quick": SweepConfig(
        widths=widths_per_octave(16, 2048, 2),
        seeds=7,
        d_out=4,
        train=TrainConfig(steps=10000, critic="wgan_gp", train_v=True),
        cpu_devices=2,
        # make sweep stays under 4 minutes: a round whose estimated end passes 230 s of search
        # is not started, and the table says which mode that stopped (here both converge in
        # about 215 s; --set search_rules.budget_seconds=none lifts it).
        search_rules=SearchConfig(budget_seconds=230.0),
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
        search_rules=SearchConfig(max_seeds=3, seed_step=1, n_boot=50, max_width=64),
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

    from prd_jax import results

    try:
        use_cpu_devices(cfg.cpu_devices)  # before JAX starts its backend
    except results.ResultsError as err:  # in a process (a notebook) where JAX already runs
        log(
            f"note: {err}; this sweep runs on the CPU devices JAX has (float32 rounding may "
            "differ from a fresh process; outcomes and thresholds should not)"
        )
    import jax

    try:
        with jax.enable_x64(True) if cfg.x64 else contextlib.nullcontext():
            return _run(cfg, out, resume, overwrite, log)
    finally:
        results.release_folder(out)  # the lock prepare_folder took (a no-op if none)


def check_size(cfg: SweepConfig, buckets: bool = True) -> None:
    """Sizes and memory of a sweep from its config alone, before any list or array is made:
    the float64 (n, n) matrices of H-infinity (``kernels.check_h_infinity_memory``) and, with
    ``buckets``, each bucket's runs (``grid.check_memory``; run counts are checked by
    ``SweepConfig`` itself). Raises ``results.ResultsError`` (one line)."""
    from prd_jax import grid, kernels, results

    runs = cfg.seeds * len(cfg.lambda_adv) * len(cfg.lrs or (None,))
    try:
        kernels.check_h_infinity_memory(cfg.n, cfg.d_in, "sweep")
        if buckets:
            grid.check_memory(
                cfg.train, cfg.n, cfg.d_in, cfg.d_out, others=runs, widths=cfg.widths,
                bucket_ratio=cfg.bucket_ratio, max_memory_gb=cfg.max_memory_gb,
                where=f"sweep with seeds = {cfg.seeds}",
            )  # fmt: skip
    except ValueError as err:
        raise results.ResultsError(str(err)) from None


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
    from prd_jax import search as search_lib
    from prd_jax.data import sphere
    from prd_jax.kernels import gram_spectrum
    from prd_jax.model import default_float as float_dtype
    from prd_jax.train import suggest_lr

    start, writer, out = time.perf_counter(), jax.process_index() == 0, results.check_out(out)
    if resume and overwrite:
        results.prepare_folder(out, {}, resume, overwrite)  # raises: one line, nothing touched
    check_size(cfg, buckets=False)  # the data's own memory: a bad n is refused in one line
    if writer:
        warn_if_large_on_cpu(cfg, jax.default_backend())
    check_size(cfg)  # and every bucket's, before the data, H-infinity or any bucket is made
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
        results.prepare_folder(out, folder_record(cfg), resume, overwrite)
    buckets = None if cfg.search else cfg.buckets()
    lam0 = float(spectrum.lambda0)
    metric = breakdown.CRITERIA[cfg.criterion]
    threshold = criterion_threshold(cfg, cfg.criterion, lam0)
    what = (
        f"search from widths {list(search_lib.coarse_widths(min(cfg.widths), max(cfg.widths)))}"
        if cfg.search
        else f"{len(cfg.widths)} widths in {len(buckets)} buckets "
        f"(padded/exact FLOPs {grid.padding_overhead(buckets):.2f})"
    )
    log(
        f"sweep: {what}, {cfg.seeds} seeds, "
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
    cache = results.BucketCache(out, write=writer)
    extra = {"lrs": [float(lr) for lr in lrs], "devices": len(jax.devices()),
             "backend": jax.default_backend()}  # fmt: skip
    if cfg.search:
        found = search_lib.run_search(
            cfg.train, X, Y, modes=cfg.lambda_adv, widths=(min(cfg.widths), max(cfg.widths)),
            seeds=cfg.seeds, metric=metric, threshold=threshold, search=cfg.search_rules,
            cache=cache, on_round=round_logger(log, cfg.lambda_adv), lr=(lrs[0],),
            bucket_ratio=cfg.bucket_ratio, max_memory_gb=cfg.max_memory_gb,
        )  # fmt: skip
        runs, log_steps, timings = found.runs, found.log_steps, found.timings
        extra |= {"compiles": found.compiles, "search": search_json(found, cfg)}
    else:
        result = grid.run_grid(
            cfg.train, X, Y, cache=cache, progress=progress_logger(buckets, log), **grid_args
        )
        runs, log_steps, timings = result.flat(), result.log_steps, result.timings
        extra |= {
            "compiles": result.compiles,
            "buckets": [list(b) for b in buckets],
            "padding_overhead": grid.padding_overhead(buckets),
        }
    # Width-major, seed fastest: the order of the per-run records.
    order = np.lexsort(
        (runs["run_seed"], runs["run_lr"], runs["run_lambda_adv"], runs["run_width"])
    )
    runs = {k: v[order] for k, v in runs.items()}
    extra |= {"log_steps": log_steps.tolist(), "diverged_runs": int(runs["diverged"].sum())}
    summary = sweep_report.summarize(cfg, runs, log_steps, spectrum, extra)
    try:
        summary["theory"]["threshold_vs_horizon"] = sweep_report.theory_threshold_curve(
            cfg, spectrum, log_steps[1:], lrs[0], summary["critic_norm_exponent"]
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
        write_runs_jsonl(out / "runs.jsonl", runs, log_steps, lrs)
    log("")
    log(sweep_report.format_table(summary))
    # Machine facts, not results: logged, never in summary.json (equal sweeps, equal files).
    compiled = [t["compile_seconds"] for t in timings if not t["cached"]]
    compiles = f"{len(compiled)} bucket compiles, {sum(compiled):.1f} s" + (
        f" (largest {max(compiled):.1f} s)" if compiled else ""
    )
    log(f"{compile_cache.describe()}; {compiles}")
    if writer:
        from experiments.plots.sweep import plot_all

        summary["figures"] = [p.name for p in plot_all(summary, runs, out, log=log)]
        results.write_json_atomic(out / "summary.json", summary)
    return summary


def folder_record(cfg: SweepConfig) -> dict:
    """The config a sweep's folder records (and a ``--resume`` must match): every field but
    those that change no number. max_memory_gb and cpu_devices say how the runs are spread, so
    a sweep may resume under another limit or device count; x64 is recorded only when on, so
    folders written before the field existed still resume."""
    config = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "max_memory_gb"}
    config = {k: v for k, v in config.items() if k != "x64" or v}
    config.pop("cpu_devices", None)
    from prd_jax.results import json_ready

    return json_ready(config)


def criterion_threshold(cfg: SweepConfig, criterion: str, lambda0: float) -> float:
    """The threshold of ``criterion`` for this sweep's data (``breakdown.criterion_threshold``)."""
    return breakdown.criterion_threshold(
        criterion, lambda0, cfg.n, cfg.delta, cfg.radius_c, cfg.rel_threshold, cfg.lin_threshold
    )


def round_logger(log, lambdas):
    """A ``search.run_search`` callback: one line per block (which mode, widths and seeds, why,
    how long), then each mode's standing."""
    from prd_jax.analysis import mode_names

    names = mode_names(lambdas)

    def report(rec, details):
        who = "all modes" if rec.mode != rec.mode else names.get(rec.mode, f"lambda {rec.mode}")
        seeds = rec.seeds
        seed_txt = f"seeds {seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"
        took = "finished earlier" if rec.cached else f"{rec.seconds:.1f}s"
        log(
            f"  round {rec.index} ({who}): widths {list(rec.widths)} x {seed_txt}: "
            f"{rec.reason} [{took}]"
        )

    return report


def search_json(found, cfg: SweepConfig) -> dict:
    """The search's rounds, stops and budget, for ``summary.json``."""
    from prd_jax.analysis import mode_names

    names = mode_names(cfg.lambda_adv)
    return {
        "rules": dataclasses.asdict(cfg.search_rules),
        "rounds": [
            {**r._asdict(), "mode": None if r.mode != r.mode else names.get(r.mode, r.mode)}
            for r in found.rounds
        ],
        "stops": {names[m]: why for m, why in found.stops.items()},
        "standing": {names[m]: d for m, d in found.details.items()},
        "run_steps": found.run_steps,
        "seconds": found.seconds,
    }


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


# Seconds of silence after which a process of a multi-process run is taken for dead.
HEARTBEAT_TIMEOUT = 60.0
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
    group.add_argument(
        "--heartbeat-timeout",
        type=float,
        default=HEARTBEAT_TIMEOUT,
        metavar="SECONDS",
        help="a process silent this long is taken for dead, and every other process stops "
        f"with one line (default: {HEARTBEAT_TIMEOUT:g})",
    )


def _distributed_options(parser, args) -> dict | None:
    """``jax.distributed.initialize`` arguments from the flags and the environment (None: a
    one-process run); a bad or incomplete set is a one-line error (exit 2)."""
    if not 1 <= args.heartbeat_timeout <= 86400:  # checked in every run: one rule per flag
        parser.error(f"--heartbeat-timeout must be in [1, 86400] s, got {args.heartbeat_timeout}")
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
            # JAX's own heartbeat aborts the process (rc 134, a C++ stack dump): give
            # watch_peers, which stops with one line, time to act first.
            heartbeat_timeout_seconds=int(math.ceil(2 * args.heartbeat_timeout)) + 10,
        )
    except (RuntimeError, ValueError, TypeError) as err:  # e.g. no cluster detected
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        sys.stderr.write(f"{parser.prog}: error: jax.distributed.initialize: {first}\n")
        sys.exit(1)
    finally:
        watchdog.cancel()
    # The filter first: a peer that dies once this line is out finds it in place.
    _filter_fatal_stderr(f"{parser.prog}: error: {_peer_lost_line(None, args.out)}")
    print(
        f"jax.distributed: process {jax.process_index()} of {jax.process_count()}, "
        f"{jax.local_device_count()} of {jax.device_count()} {jax.default_backend()} "
        "device(s) here",
        flush=True,
    )
    return True


def _collective_failed(err: BaseException) -> bool:
    """Whether ``err`` is a cross-process collective that failed because a peer went away
    (gloo's connection reset, a gRPC peer unavailable), not a bug of this process."""
    text = str(err)
    return type(err).__name__ in ("JaxRuntimeError", "XlaRuntimeError") and any(
        word in text for word in ("Gloo", "onnection", "peer", "UNAVAILABLE", "DEADLINE")
    )


def _peer_lost_line(peer, out, why="died or became unreachable") -> str:
    """What a process says when ``peer`` (None: another process) of the run is lost."""
    import jax

    me, count = jax.process_index(), jax.process_count()
    who = "another process" if peer is None else f"process {peer}"
    kept = (
        f"finished buckets are kept in {out}" if me == 0 else "process 0 keeps the finished buckets"
    )
    rerun = "rerun every process with --resume"
    return f"process {me} of {count} stopped: {who} of the run {why}; {kept}: {rerun}"


# Run by a helper process that stands between a multi-process run and its stderr: when JAX's
# client aborts the process because the distributed service reports a failure (a C++ fatal
# error, a stack dump and exit 134; jaxlib offers no Python hook), or logs that it lost a peer,
# the helper shows one line instead and nothing after it. A line the process itself ends with
# (``cli.leave``, marked by FINAL_MARK) is shown as it is, and nothing after it either. Every
# other line passes through unchanged.
FINAL_MARK = "\x1e"
_STDERR_FILTER = r"""
import os, re, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
line, final = sys.argv[1].encode() + b"\n", sys.argv[2].encode()
# glog lines (E/W/F level) of JAX's distributed runtime: the run has lost a process.
lost = re.compile(rb"^[EWF]\d{4} [\d:.]+ +\d+ (coordinat|preempt|client|distribut)\S*:\d+\]")
dst, done = os.fdopen(2, "wb", buffering=0), False
for chunk in iter(sys.stdin.buffer.readline, b""):
    if done:
        continue
    if chunk.startswith(final):
        dst.write(chunk[len(final):])
        done = True
    elif lost.match(chunk):
        dst.write(line)
        done = True
    else:
        dst.write(chunk)
"""


def _filter_fatal_stderr(line: str) -> None:
    """Route this process's stderr (fd 2) through ``_STDERR_FILTER`` in a helper process."""
    import subprocess

    read, write = os.pipe()
    err = os.dup(2)
    try:
        subprocess.Popen(
            [sys.executable, "-S", "-c", _STDERR_FILTER, line, FINAL_MARK],
            stdin=read, stdout=subprocess.DEVNULL, stderr=err, close_fds=True,
        )  # fmt: skip
    except OSError:  # no helper: JAX's own messages stay as they are
        os.close(write)
        return
    finally:
        os.close(read)
        os.close(err)
    sys.stderr.flush()
    os.dup2(write, 2)
    os.close(write)
    cli.FINAL_LINE[0] = FINAL_MARK


def beat_interval(timeout: float) -> float:
    """Seconds between two beats of ``watch_peers``: several per timeout, at most 5."""
    return max(0.2, min(5.0, timeout / 5))


def watch_peers(prog: str, timeout: float, out):
    """Stop this process with one line (``cli.leave``, exit 1) when another process of the
    run dies, stops answering, or stops with an error; returns ``finish(status)``, which marks
    this process ``"done"`` (or ``"error"``: the others stop at once) and ends the watch.

    Each process beats in the run's key-value store (JAX's distributed client) every
    ``timeout / 5`` seconds and reads the others' beats: a process silent for ``timeout``
    seconds is taken for dead. Without this, the survivors wait in a collective until JAX's
    heartbeat aborts them, minutes later, with a C++ stack dump.
    """
    import threading

    import jax
    from jax._src import distributed  # the client's key-value store has no public API

    client = getattr(distributed.global_state, "client", None)
    if client is None or jax.process_count() < 2:
        return lambda status="done": None
    me, count, prefix = jax.process_index(), jax.process_count(), "prd_sweep/alive/"
    stop = threading.Event()

    def beat():
        seen, n = {}, 0  # peer -> (last value, when it changed)
        while True:
            n += 1
            try:
                client.key_value_set(f"{prefix}{me}", str(n), allow_overwrite=True)
                values = dict(client.key_value_dir_get(prefix))
            except Exception as err:  # noqa: BLE001 - process 0, which holds the store, is gone
                if stop.is_set():
                    return
                first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
                cli.leave(1, f"{prog}: error: {_peer_lost_line(0, out)} ({first})")
            now = time.monotonic()
            for peer in range(count):
                value = values.get(f"{prefix}{peer}")
                if peer == me or value == "done" or stop.is_set():
                    continue
                if value == "error":
                    cli.leave(
                        1, f"{prog}: error: {_peer_lost_line(peer, out, 'stopped with an error')}"
                        f" (its output says why)",
                    )  # fmt: skip
                last, since = seen.get(peer, (None, now))
                if value != last:
                    seen[peer] = (value, now)
                elif now - since > timeout:
                    why = (
                        f"stopped answering for {timeout:g}s (it died, or its host is unreachable)"
                    )
                    cli.leave(1, f"{prog}: error: {_peer_lost_line(peer, out, why)}")
            if stop.wait(beat_interval(timeout)):
                return

    threading.Thread(target=beat, name="peer-watchdog", daemon=True).start()

    def finish(status="done"):
        stop.set()
        with contextlib.suppress(Exception):
            client.key_value_set(f"{prefix}{me}", status, allow_overwrite=True)

    return finish


def main(argv=None):
    parser = cli.make_parser("python -m experiments.sweep", __doc__, PRESETS)
    cli.add_folder_flags(parser, "results/sweep", what="buckets")
    add_distributed_flags(parser)
    message = ["interrupted; finished buckets are kept; rerun with --resume"]
    with cli.guarded(parser.prog, lambda: message[0]):  # Ctrl-C: one line, exit 130
        args = parser.parse_args(argv)
        message[0] = (
            f"interrupted: finished buckets are kept in {args.out}; rerun with --resume to continue"
        )
        return _main(parser, args)


def _main(parser, args):
    from prd_jax.results import ResultsError, WriteError

    cfg = cli.resolve(parser, args, PRESETS)
    cli.setup_compile_cache(args)
    # Before any JAX computation (run() makes the data): nothing above touches a backend.
    distributed = init_distributed(parser, args)
    import jax

    lead = jax.process_index() == 0 if distributed else True  # only process 0 logs and writes
    log = print if lead else (lambda *_: None)
    finish = watch_peers(parser.prog, args.heartbeat_timeout, args.out) if distributed else None
    try:
        summary = run(cfg, args.out, resume=args.resume, overwrite=args.overwrite, log=log)
    except (ResultsError, ValueError) as err:  # bad input (2), or a full disk (1): one line
        code = 1 if isinstance(err, WriteError) else 2
        line = f"{parser.prog}: error: {' '.join(str(err).split())}"
        if not distributed:
            parser.exit(code, line + "\n")
        finish("error")
        time.sleep(beat_interval(args.heartbeat_timeout) + 0.5)  # the others read it first
        cli.leave(code, line)  # no interpreter shutdown: jax.distributed's would wait for peers
    except Exception as err:  # noqa: BLE001 - other processes: one line, process 0 says why
        if not distributed:
            raise
        finish("error")
        first = (str(err).strip().splitlines() or [""])[0][:300]
        if _collective_failed(err):  # a peer died in the middle of a collective
            cli.leave(1, f"{parser.prog}: error: {_peer_lost_line(None, args.out)} ({first})")
        if lead:  # a bug, not a bad input: its traceback, then no interpreter shutdown
            import traceback

            traceback.print_exc()
            cli.leave(1)
        cli.leave(
            1, f"{parser.prog}: error: process {jax.process_index()} stopped "
            f"({type(err).__name__}: {first}); process 0's output says why",
        )  # fmt: skip
    if distributed:
        finish("done")
    if not lead:
        print(f"process {jax.process_index()}: done; process 0 wrote the results to {args.out}")
        return summary
    if "figures" in summary:  # run() logged the table before drawing
        print(f"results and figures: {args.out}/ ({', '.join(summary['figures'])})")
    return summary


if __name__ == "__main__":
    main()
