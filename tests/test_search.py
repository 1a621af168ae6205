"""The adaptive threshold search's rules, on synthetic outcome tables with known thresholds
(no training): it brackets the threshold, refines to the target, never proposes a finished run,
stops at the budget and says so; and a finished search equals ``run_grid`` on its widths."""

import math

import numpy as np
import pytest

from prd_jax import breakdown, search
from prd_jax.search import Block, Runs, SearchConfig

HORIZONS = (10, 100, 1000, 10000)


def _z(*key):
    return float(np.random.default_rng(list(key)).standard_normal())


def oracle(m_sup=600.0, p=3.0, c=-14.0, spread=0.4, noise=0.3, calls=None):
    """``evaluate(block)`` without training: supervised runs break at step 5 below a per-seed
    threshold around ``m_sup``; adversarial runs break at ``T_b = exp(c) m^p`` (per-seed and
    per-run log-normal scatter), so ``m*_adv(T) = (T e^-c)^(1/p)`` rises with T."""

    def evaluate(block: Block):
        if calls is not None:
            calls.append(block)
        got = {}
        for mode in block.modes:
            w, s, t = [], [], []
            for width in block.widths:
                for seed in block.seeds:
                    if mode == 0.0:
                        thr = m_sup * math.exp(spread * _z(seed, 1) + noise * _z(seed, width, 2))
                        tb = 5.0 if width < thr else math.inf
                    else:
                        log_t = c + p * math.log(width) + spread * _z(seed, 3)
                        tb = math.exp(log_t + noise * _z(seed, width, 4))
                    w.append(width)
                    s.append(seed)
                    t.append(tb)
            got[mode] = Runs(np.array(w), np.array(s), np.array(t), np.zeros(len(w), bool))
        return got, 0.0, False

    return evaluate


def _loop(evaluate, cfg=None, widths=(16, 2048), seeds=7, **kw):
    cfg = cfg or SearchConfig()
    return search.search_loop(
        evaluate, modes=(0.0, 1.0), start_widths=search.coarse_widths(*widths), seeds=seeds,
        horizons=HORIZONS, steps=10000, cfg=cfg, **kw,
    )  # fmt: skip


def test_the_search_brackets_a_threshold_above_the_start_and_refines_to_the_target():
    calls = []
    # m*_adv(10 000) = (1e4 e^14)^(1/3) = 2291 > 2048: the start's grid cannot bracket it.
    runs, rounds, stops, details = _loop(oracle(spread=0.5, noise=0.4, calls=calls))
    assert stops == {0.0: "converged", 1.0: "converged"}, (stops, details)
    assert rounds[0].reason == "start" and any("extend" in r.reason for r in rounds)
    assert any(r.reason.startswith("refine") for r in rounds)  # the interval needed work
    for mode, truth in ((0.0, None), (1.0, (1e4 * math.exp(14)) ** (1 / 3))):
        th = search.thresholds(runs[mode], HORIZONS, 500)[10000]
        lo, hi = th.ci
        assert th.position == "inside" and math.log2(hi / lo) <= 1.0
        if truth is not None:
            assert abs(math.log2(th.m_star / truth)) < 0.5
    # No (mode, width, seed) was ever proposed twice.
    seen = set()
    for b in calls:
        for m in b.modes:
            new = {(m, w, s) for w in b.widths for s in b.seeds}
            assert not (new & seen)
            seen |= new


def test_the_search_extends_down_when_the_threshold_lies_below_the_start():
    runs, rounds, stops, _ = _loop(oracle(m_sup=12.0, c=-4.0), widths=(64, 1024))
    assert any("below the narrowest" in r.reason and r.mode == 0.0 for r in rounds)
    assert min(runs[0.0].width) < 64 and stops[0.0] in ("converged", "min_width 2")


def test_the_search_stops_at_its_budget_and_says_which():
    cfg = SearchConfig(budget_run_steps=2 * 8 * 7 * 10000 + 7 * 10000)  # start + one block
    runs, rounds, stops, _ = _loop(oracle(spread=0.5, noise=0.4), cfg=cfg)
    assert sum(r.run_steps for r in rounds) <= cfg.budget_run_steps
    assert any(why.startswith("run-step budget") for why in stops.values()), stops
    cfg = SearchConfig(max_width=2048)
    _, _, stops, details = _loop(oracle(), cfg=cfg)
    assert stops[1.0] == "max_width 2048" and "> 2048" in details[1.0]
    cfg = SearchConfig(budget_seconds=1.0)
    clock = iter(np.arange(0.0, 100.0, 0.7))
    _, _, stops, _ = _loop(
        lambda b: (oracle()(b)[0], 0.6, False), cfg=cfg, clock=lambda: float(next(clock))
    )
    assert any(why.startswith("time budget") for why in stops.values()), stops


def test_rules_are_pure_and_resuming_proposes_the_same_blocks():
    a, b = [], []
    _loop(oracle(calls=a))
    _loop(oracle(calls=b))
    assert a == b


def test_propose_never_repeats_a_finished_run_and_fills_the_ladder_first():
    start = Block((1.0,), (512, 1024, 2048, 4096), tuple(range(7)), "start")
    runs = oracle(spread=0.6, noise=0.5)(start)[0][1.0]
    d = search.propose(1.0, runs, HORIZONS, SearchConfig(), base_seeds=tuple(range(7)), anchor=16)
    assert d.block is not None and d.stop == ""
    assert not ({(w, s) for w in d.block.widths for s in d.block.seeds} & runs.pairs())
    assert all(w in search.ladder(16, 1, 1e6, 4) for w in d.block.widths)


def test_config_and_helpers_refuse_bad_values():
    with pytest.raises(ValueError, match="target_octaves"):
        SearchConfig(target_octaves=0)
    with pytest.raises(ValueError, match="min_width"):
        SearchConfig(min_width=64, max_width=32)
    with pytest.raises(ValueError, match="coarse_widths"):
        search.coarse_widths(64, 16)
    assert search.coarse_widths(16, 2048) == (16, 32, 64, 128, 256, 512, 1024, 2048)
    assert search.coarse_widths(16, 3000)[-1] == 4096
    assert search.ladder(16, 16, 32, 2) == [23]
    assert search.reported_horizons([0, 1, 5, 10, 50, 100, 500, 1000], 1000) == (10, 100, 1000)
    assert breakdown.calibrated_level(7) == 0.99
