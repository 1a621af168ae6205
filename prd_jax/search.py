"""The adaptive threshold search: find m*(T) instead of reporting it for a grid chosen by hand.

    result = search.run_search(cfg, X, Y, modes=(0.0, 1.0), widths=(16, 2048), seeds=7,
                               metric="kernel_dev", threshold=lambda0 / 4, search=SearchConfig())

A search trains *blocks* of runs (one mode, a few widths, a few seeds) through
``grid.run_grid`` and decides the next blocks from the outcome tables of the runs so far. The
rules (``propose``) are pure functions of those tables, so they are tested on synthetic outcomes
with a known threshold, without training anything:

1. **Start**: one width per octave over the given span, ``seeds`` seeds, every mode.
2. **Bracket**: while the fitted ``P(broken by T | log m)`` of a mode does not cross 1/2 inside
   its grid at every reported horizon T (``breakdown.crossing``: ``"above_grid"`` or
   ``"below_grid"``), extend that mode's grid by one octave, up or down, with the start's seeds.
3. **Refine**: once bracketed, while the interval of m* at the last horizon spans more than
   ``target_octaves`` (or reaches beyond the grid), add widths inside it (the points of a
   ladder of ``max_per_octave`` widths per octave that halve the widest gaps), and once the
   ladder is full there, ``seed_step`` more seeds at the widths inside it.
4. **Stop** a mode when its interval is narrow enough (``converged``) or at a limit: the
   run-step or wall-time budget, the widest width that fits in memory, the narrowest width,
   or the most seeds. The reason is kept per mode.

Every block is a separate ``run_grid`` call with a results cache: a resumed or extended search
proposes the same blocks in the same order (the rules are deterministic), finds each finished
one in the cache and never computes a run twice; new widths and seeds go into new blocks, so
no finished block's cache key changes.
"""

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from prd_jax import breakdown

# Bootstrap replicates behind each decision (the report recomputes with its own count).
_DECISION_SEED = 20240101


@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """The rules' constants and the search's budget (validated on construction)."""

    target_octaves: float = 1.0  # refine until the m* interval at the horizon spans at most this
    max_per_octave: int = 2  # width ladder density inside an interval before seeds are added
    seed_step: int = 4  # seeds added at the widths inside the interval per refinement round
    max_seeds: int = 31  # no more seeds than this per width
    min_width: int = 2  # the grid is never extended below this width
    max_width: int = 1 << 20  # nor above this one (run_search lowers it to what fits in memory)
    budget_run_steps: float | None = None  # stop before exceeding this many run-steps in all
    budget_seconds: float | None = None  # stop before an estimated wall time above this
    n_boot: int = 500  # bootstrap replicates behind each decision

    def __post_init__(self):
        for name in ("max_per_octave", "seed_step", "max_seeds", "min_width", "max_width"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"SearchConfig.{name} must be an integer >= 1, got {v!r}")
        if self.min_width > self.max_width:
            raise ValueError(
                f"SearchConfig.min_width ({self.min_width}) exceeds max_width ({self.max_width})"
            )
        if not (isinstance(self.n_boot, int) and self.n_boot >= 10):
            raise ValueError(f"SearchConfig.n_boot must be an integer >= 10, got {self.n_boot!r}")
        t = self.target_octaves
        if isinstance(t, bool) or not isinstance(t, int | float) or not (0 < t < math.inf):
            raise ValueError(f"SearchConfig.target_octaves must be a number > 0, got {t!r}")
        for name in ("budget_run_steps", "budget_seconds"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not (0 < float(v) < math.inf)):
                raise ValueError(f"SearchConfig.{name} must be a number > 0 or None, got {v!r}")


class Block(NamedTuple):
    """Runs to train next: every width x seed of one or more modes (lambda_adv values)."""

    modes: tuple[float, ...]
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    reason: str

    def run_steps(self, steps: int) -> int:
        return len(self.modes) * len(self.widths) * len(self.seeds) * int(steps)

    def neuron_steps(self, steps: int) -> float:
        return float(len(self.modes) * len(self.seeds) * sum(self.widths)) * steps


class Runs(NamedTuple):
    """The finished runs of one mode: ``(B,)`` arrays."""

    width: np.ndarray
    seed: np.ndarray
    t_b: np.ndarray  # first log step at which the criterion held (inf: never)
    diverged: np.ndarray

    @staticmethod
    def empty() -> "Runs":
        return Runs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))

    def add(self, other: "Runs") -> "Runs":
        return Runs(*(np.concatenate([a, b]) for a, b in zip(self, other, strict=True)))

    def pairs(self) -> set[tuple[int, int]]:
        return set(zip(self.width.tolist(), self.seed.tolist(), strict=True))


class Decision(NamedTuple):
    """What the rules say about one mode after a round."""

    block: Block | None  # the mode's next runs (None: it is finished)
    stop: str  # "" while searching; "converged" or the limit that stopped it
    detail: str  # one line: where the thresholds and the interval stand


def coarse_widths(lo: int, hi: int) -> tuple[int, ...]:
    """One width per octave: ``lo, 2 lo, 4 lo, ...`` up to the first at or above ``hi``."""
    if not (
        isinstance(lo, int | np.integer) and isinstance(hi, int | np.integer) and 1 <= lo <= hi
    ):
        raise ValueError(f"coarse_widths: need integers 1 <= lo <= hi, got lo={lo!r}, hi={hi!r}")
    out = [int(lo)]
    while out[-1] < hi:
        out.append(out[-1] * 2)
    return tuple(out)


def ladder(anchor: int, lo: float, hi: float, per_octave: int) -> list[int]:
    """The widths ``round(anchor 2^(j / per_octave))`` strictly between ``lo`` and ``hi``."""
    j_lo = math.floor(per_octave * math.log2(max(lo, 1e-9) / anchor)) - 1
    j_hi = math.ceil(per_octave * math.log2(hi / anchor)) + 1
    points = {int(round(anchor * 2 ** (j / per_octave))) for j in range(j_lo, j_hi + 1)}
    return sorted(w for w in points if lo < w < hi and w >= 1)


def reported_horizons(log_steps, steps: int) -> tuple[int, ...]:
    """The horizons the search brackets and the report tabulates: every power of 10 below the
    last step that is a log step, and the last step."""
    logged = set(int(s) for s in log_steps)
    out = [10**k for k in range(1, 12) if 10**k < steps and 10**k in logged]
    return tuple(out + [int(steps)])


def thresholds(runs: Runs, horizons, n_boot: int, seed: int = _DECISION_SEED):
    """``{T: breakdown.Threshold}`` of one mode's runs at each horizon, paired bootstrap."""
    seeds = np.unique(runs.seed)
    picks = breakdown.bootstrap_picks(len(seeds), n_boot, np.random.default_rng(seed))
    return {
        int(T): breakdown.estimate_threshold(
            runs.width, runs.seed, runs.t_b <= T, ~runs.diverged, picks=picks
        )
        for T in horizons
    }


def propose(
    mode: float, runs: Runs, horizons: Sequence[int], cfg: SearchConfig, *, base_seeds,
    anchor: int,
) -> Decision:  # fmt: skip
    """The next block of one mode from its finished runs (a pure function of the outcomes).

    Args:
      mode: the mode's lambda_adv.
      runs: its finished runs (every width x seed trained so far).
      horizons: the reported horizons, ascending; the last is where the interval is refined.
      cfg: the rules' constants.
      base_seeds: the start's seeds (used for widths added by extension).
      anchor: the ladder's anchor width (the start's narrowest).

    Returns:
      ``Decision``; its block never repeats a finished (width, seed).
    """
    done = runs.pairs()
    widths = sorted(set(runs.width.tolist()))
    if runs.diverged.all():
        return Decision(None, "every run diverged", f"all {runs.diverged.size} runs diverged")
    th = thresholds(runs, horizons, cfg.n_boot)
    final = th[int(horizons[-1])]
    where = (
        ", ".join(f"T={T}: {breakdown.describe_threshold(t)[0]}" for T, t in th.items())
        + f"; interval at T={horizons[-1]}: {breakdown.describe_threshold(final)[1]}"
    )

    above = [T for T, t in th.items() if t.position == breakdown.ABOVE]
    below = [T for T, t in th.items() if t.position == breakdown.BELOW]
    lo, hi = final.ci
    if final.position == breakdown.INSIDE and not above and hi == math.inf:
        above = [int(horizons[-1])]  # bracketed, but the interval runs off the grid's top
    if final.position == breakdown.INSIDE and not below and lo == 0.0:
        below = [int(horizons[-1])]
    new, why = [], []
    if above:
        up = widths[-1] * 2
        if up > cfg.max_width:
            return Decision(None, f"max_width {cfg.max_width}", where)
        new.append(up)
        why.append(f"m* beyond the widest width {widths[-1]} at T={above}")
    if below:
        down = widths[0] // 2
        if down < cfg.min_width:
            return Decision(None, f"min_width {cfg.min_width}", where)
        new.append(down)
        why.append(f"m* below the narrowest width {widths[0]} at T={below}")
    if new:
        b = _block(mode, done, new, base_seeds, "extend: " + "; ".join(why))
        return Decision(b, "", where) if b else Decision(None, "no new runs to extend", where)
    if final.position == breakdown.FLAT:
        seeds_now = sorted(set(runs.seed.tolist()))
        return _more_seeds(mode, widths, seeds_now, cfg, done, "flat fit at 1/2", where)
    return _refine(mode, runs, widths, final, anchor, cfg, where)


def _block(mode, done, ws, ss, reason) -> Block | None:
    """A block of the widths ``ws`` x seeds ``ss`` that have a pair not yet trained, or None."""
    todo_w = [w for w in sorted(set(ws)) if any((w, s) not in done for s in ss)]
    ss = sorted(set(ss))
    return Block((float(mode),), tuple(todo_w), tuple(ss), reason) if todo_w else None


def _refine(mode, runs: Runs, widths, final, anchor, cfg: SearchConfig, where) -> Decision:
    """A bracketed m*: stop when its interval is narrow enough, else add the ladder's widths
    in the widest gap of the interval (and its neighbours), then more seeds there."""
    done = runs.pairs()
    lo, hi = final.ci
    span = breakdown.interval_octaves(final.ci)
    if span <= cfg.target_octaves:
        return Decision(None, "converged", where)
    # Refine inside the interval: first the widths of the ladder, then more seeds.
    inside = [w for w in widths if lo <= w <= hi]
    # The interval's ends fall between widths: its neighbours on either side count too.
    left = [w for w in widths if w < lo][-1:]
    right = [w for w in widths if w > hi][:1]
    region = left + inside + right
    gaps = []
    for a, b in zip(region[:-1], region[1:], strict=True):
        points = ladder(anchor, a, b, cfg.max_per_octave)
        if points:
            mid = math.sqrt(a * b)
            gaps.append((math.log2(b / a), min(points, key=lambda w: abs(math.log2(w / mid)))))
    seeds_in = sorted({int(s) for w, s in zip(runs.width, runs.seed, strict=True) if w in region})
    if gaps:
        widest = max(g for g, _ in gaps)
        added = sorted(w for g, w in gaps if g >= widest - 1e-9)
        b = _block(mode, done, added, seeds_in, f"refine widths: interval {span:.2f} octaves")
        if b:
            return Decision(b, "", where)
    return _more_seeds(mode, region, seeds_in, cfg, done, f"interval {span:.2f} octaves", where)


def _more_seeds(mode, widths, seeds_now, cfg, done, why, where) -> Decision:
    if len(seeds_now) + 1 > cfg.max_seeds:
        return Decision(None, f"max_seeds {cfg.max_seeds}", where)
    start = max(seeds_now) + 1 if seeds_now else 0
    count = min(cfg.seed_step, cfg.max_seeds - len(seeds_now))
    block = _block(mode, done, widths, range(start, start + count), f"refine seeds: {why}")
    return Decision(block, "", where) if block else Decision(None, "no new runs to add", where)


def within_budget(block: Block, cfg: SearchConfig, *, steps: int, spent_run_steps: int,
                  elapsed: float, seconds_per_neuron_step: float | None) -> str:  # fmt: skip
    """ "" when ``block`` fits the budget, else the name of the limit it would exceed."""
    if cfg.budget_run_steps is not None and (
        spent_run_steps + block.run_steps(steps) > cfg.budget_run_steps
    ):
        return f"run-step budget {cfg.budget_run_steps:.3g}"
    if cfg.budget_seconds is not None and seconds_per_neuron_step is not None:
        estimate = elapsed + seconds_per_neuron_step * block.neuron_steps(steps)
        if estimate > cfg.budget_seconds:
            return f"time budget {cfg.budget_seconds:g}s"
    return ""


class Round(NamedTuple):
    """One round of the search, as the report shows it."""

    index: int
    mode: float
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    reason: str
    run_steps: int
    seconds: float
    cached: bool


class SearchResult(NamedTuple):
    """A finished search: every run, the rounds that trained them, and why each mode stopped."""

    runs: dict  # flat arrays as GridResult.flat() (run_width, run_seed, run_lambda_adv, ...)
    log_steps: np.ndarray
    rounds: list  # Round records, in order
    stops: dict  # mode -> "converged" or the limit that stopped it
    details: dict  # mode -> the last decision's one-line status
    run_steps: int
    compiles: int
    seconds: float
    timings: tuple = ()  # every block's GridResult.timings, in order (one dict per bucket)


def search_loop(
    evaluate: Callable[[Block], tuple[Runs | dict, float, bool]],
    *,
    modes: Sequence[float],
    start_widths: Sequence[int],
    seeds: int,
    horizons: Sequence[int],
    steps: int,
    cfg: SearchConfig,
    on_round: Callable[[Round, dict], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[dict, list, dict, dict]:
    """Drive the rules: evaluate the start block, then each mode's proposals, until every mode
    has stopped. ``evaluate(block) -> ({mode: Runs}, seconds, cached)`` trains (or looks up) a
    block. Returns ``(runs by mode, rounds, stops, details)``; no (mode, width, seed) is ever
    evaluated twice. Pure but for ``evaluate`` and ``clock``: the tests drive it with an
    oracle."""
    t0 = clock()
    base = tuple(range(seeds))
    anchor = int(min(start_widths))
    runs = {float(m): Runs.empty() for m in modes}
    rounds, stops, details = [], {}, {}
    spent, neuron_seconds, neuron_work = 0, 0.0, 0.0
    pending = [Block(tuple(float(m) for m in modes), tuple(start_widths), base, "start")]
    while pending:
        for block in pending:
            got, seconds, cached = evaluate(block)
            for m, r in got.items():
                overlap = runs[m].pairs() & r.pairs()
                if overlap:
                    raise RuntimeError(f"search: mode {m} would train {sorted(overlap)} twice")
                runs[m] = runs[m].add(r)
            spent += block.run_steps(steps)
            if not cached:
                neuron_seconds += seconds
                neuron_work += block.neuron_steps(steps)
            rec = Round(len(rounds) + 1, block.modes[0] if len(block.modes) == 1 else math.nan,
                        block.widths, block.seeds, block.reason, block.run_steps(steps), seconds,
                        cached)  # fmt: skip
            rounds.append(rec)
            if on_round is not None:
                on_round(rec, details)
        pending = []
        rate = neuron_seconds / neuron_work if neuron_work else None
        for m in runs:
            if m in stops:
                continue
            decision = propose(m, runs[m], horizons, cfg, base_seeds=base, anchor=anchor)
            details[m] = decision.detail
            if decision.block is None:
                stops[m] = decision.stop
                continue
            # The blocks already planned this round count against the budget too.
            planned = sum(b.run_steps(steps) for b in pending)
            ahead = (rate or 0.0) * sum(b.neuron_steps(steps) for b in pending)
            over = within_budget(
                decision.block, cfg, steps=steps, spent_run_steps=spent + planned,
                elapsed=clock() - t0 + ahead, seconds_per_neuron_step=rate,
            )  # fmt: skip
            if over:
                stops[m] = over
            else:
                pending.append(decision.block)
    return runs, rounds, stops, details


def run_search(
    cfg,
    X,
    Y,
    *,
    modes: Sequence[float],
    widths: tuple[int, int],
    seeds: int,
    metric: str,
    threshold: float,
    search: SearchConfig,
    horizons: Sequence[int] | None = None,
    cache=None,
    on_round: Callable[[Round, dict], None] | None = None,
    **grid_kwargs,
) -> SearchResult:
    """Search for m*(T) of every mode (a lambda_adv value) with ``grid.run_grid``.

    Args:
      cfg: the ``TrainConfig`` of every run.
      X, Y: the data.
      modes: lambda_adv values (0: supervised).
      widths: ``(lo, hi)``: the start's span, one width per octave.
      seeds: the start's number of seeds (0 .. seeds - 1).
      metric, threshold: the breakdown criterion (a ``metrics.METRIC_NAMES`` entry and the
        value above which a run is broken).
      search: the rules' constants and budget; its ``max_width`` is lowered to the widest
        width whose block of ``max_seeds`` runs fits in memory.
      horizons: the horizons to bracket (default ``reported_horizons``).
      cache: a ``grid.Cache`` (e.g. ``results.BucketCache`` of a folder) for resuming.
      on_round: called after each block with the ``Round`` and the current per-mode details.
      **grid_kwargs: passed to every ``run_grid`` call (``lr``, ``critic_lr``, ``bucket_ratio``,
        ``max_memory_gb``, ``progress``, ...).

    Returns:
      ``SearchResult``.
    """
    from prd_jax import grid

    log_steps = np.asarray(cfg.log_steps())
    horizons = tuple(horizons or reported_horizons(log_steps, cfg.steps))
    search = dataclasses.replace(
        search,
        max_width=min(search.max_width, _widest_that_fits(cfg, X, Y, search, grid_kwargs)),
    )
    parts, compiles, timings = [], [0], []

    def evaluate(block: Block):
        start = time.perf_counter()
        result = grid.run_grid(
            cfg, X, Y, seeds=block.seeds, widths=block.widths,
            lambda_adv=block.modes, cache=cache, **grid_kwargs,
        )  # fmt: skip
        compiles[0] += result.compiles
        timings.extend(result.timings)
        flat = result.flat()
        parts.append(flat)
        t_b = breakdown.breakdown_steps(flat[metric], log_steps, threshold)
        got = {}
        for m in block.modes:
            sel = np.isclose(flat["run_lambda_adv"], m)
            got[m] = Runs(
                flat["run_width"][sel].astype(np.int64), flat["run_seed"][sel].astype(np.int64),
                t_b[sel], flat["diverged"][sel].astype(bool),
            )  # fmt: skip
        cached = result.cached == len(result.buckets)
        return got, time.perf_counter() - start, cached

    start = time.perf_counter()
    lo, hi = widths
    runs, rounds, stops, details = search_loop(
        evaluate, modes=modes, start_widths=coarse_widths(lo, hi), seeds=seeds,
        horizons=horizons, steps=cfg.steps, cfg=search, on_round=on_round,
    )  # fmt: skip
    flat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return SearchResult(
        flat, log_steps, rounds, stops, details, sum(r.run_steps for r in rounds), compiles[0],
        time.perf_counter() - start, tuple(timings),
    )  # fmt: skip


def _widest_that_fits(cfg, X, Y, search: SearchConfig, grid_kwargs) -> int:
    """The widest width (a power of 2 up to ``search.max_width``) whose block of
    ``search.max_seeds`` runs fits in the memory ``run_grid`` would allow."""
    from prd_jax import grid

    limit_gb = grid_kwargs.get("max_memory_gb")
    limit = limit_gb * 2**30 if limit_gb else grid.available_memory_bytes()
    if limit is None:
        return search.max_width
    n, d_in, d_out = np.shape(X)[0], np.shape(X)[1], np.shape(Y)[1]
    width = 1
    while (
        width * 2 <= search.max_width
        and grid.bucket_memory_bytes(cfg, n, d_in, d_out, search.max_seeds, width * 2) <= limit
    ):
        width *= 2
    return width
