"""Claim records: each kind's verdict rule, the record's fields, and judge() recomputing a
record's verdict (also after a JSON round trip)."""

import json
import math

import numpy as np
import pytest

from prd_jax import claims
from prd_jax.results import json_ready

S = dict(source="test", setting={"d_out": 1, "train": "U"})


def test_upper_bound_is_one_sided_and_respects_hypotheses():
    ok = claims.upper_bound("b", "b", [1.0, 2.0], [1.0, 3.0], hypotheses_hold=True, **S)
    assert ok["verdict"] == "holds"
    assert ok["ratio_tightest"] == 1.0 and ok["ratio_horizon"] == pytest.approx(2 / 3)
    bad = claims.upper_bound("b", "b", [1.0, 3.5], 3.0, hypotheses_hold=True, **S)
    assert bad["verdict"] == "fails" and bad["ratio_tightest"] == pytest.approx(3.5 / 3)
    out = claims.upper_bound("b", "b", 10.0, 1.0, hypotheses_hold=False, **S)
    assert out["verdict"] == "outside_hypotheses"  # never "fails" outside its hypotheses
    assert claims.upper_bound("b", "b", math.nan, 1.0, hypotheses_hold=True, **S)["verdict"] == (
        "inconclusive"
    )


def test_exponent_at_most_is_one_sided():
    def verdict(p, ci, b):
        return claims.exponent_at_most("o", "o", p, ci, b, **S)["verdict"]

    assert verdict(-0.6, (-0.7, -0.5), -0.5) == "holds"
    assert verdict(-2.0, (-2.1, -1.9), 0.0) == "holds"  # far below an O(1) order still holds
    assert verdict(-0.4, (-0.45, -0.35), -0.5) == "fails"
    assert verdict(-0.4, (-0.6, -0.2), -0.5) == "inconclusive"


def test_prediction_within_tolerance():
    def verdict(m, p, **tol):
        return claims.prediction("p", "p", m, p, **tol, **S)["verdict"]

    assert verdict(6.3705, 6.3705001, rtol=1e-6) == "holds"
    assert verdict([1.0, 1.2], 1.0, rtol=0.1) == "fails"
    assert verdict(-0.45, -0.5, rtol=0, atol=0.1) == "holds"
    assert verdict(math.nan, 1.0, rtol=0.1) == "inconclusive"


def test_comparison_uses_an_interval_over_enough_seeds():
    up = [1.0, 1.2, 0.9, 1.1, 1.05]

    def verdict(d, **kw):
        return claims.comparison("c", "c", d, **kw, **S)["verdict"]

    assert verdict(up) == "holds"
    assert verdict(up, direction="less") == "fails"
    assert verdict([1.0, -1.0, 0.5, -0.4, 0.1]) == "inconclusive"
    assert verdict(up[:3]) == "inconclusive"  # fewer than 5 seeds
    rec = claims.comparison("c", "c", up, **S)
    assert rec["seeds"] == 5 and rec["reference"] == 0.0
    lo, hi = rec["interval"]
    assert lo < np.mean(up) < hi
    with pytest.raises(ValueError, match="direction"):
        claims.comparison("c", "c", up, direction="up", **S)


def test_every_record_has_the_same_fields_and_judge_recomputes():
    records = [
        claims.upper_bound("b", "b", 1.0, 2.0, hypotheses_hold=True, **S),
        claims.exponent_at_most("e", "e", -0.5, (-0.6, -0.4), 0.0, **S),
        claims.prediction("p", "p", 1.0, 2.0, rtol=0.1, **S),
        claims.comparison("c", "c", [1.0, 2.0, 3.0, 4.0, 5.0], **S),
        claims.finding("f", "f", 3.0, interval=(2.0, 4.0), seeds=5, **S),
    ]
    for rec in records:
        assert set(claims.FIELDS) <= set(rec), set(claims.FIELDS) - set(rec)
        assert claims.judge(rec) == rec["verdict"] in claims.VERDICTS
        loaded = json.loads(json.dumps(json_ready(rec)))  # as an experiment's JSON holds it
        assert claims.judge(loaded) == rec["verdict"]
    assert records[-1]["verdict"] == "finding" and records[-1]["interval"] == [2.0, 4.0]
    tampered = dict(records[2], measured=2.05)
    assert claims.judge(tampered) == "holds" != records[2]["verdict"]


def test_records_need_an_id_and_a_setting_and_unique_ids():
    with pytest.raises(ValueError, match="id"):
        claims.finding("", "f", 1.0, **S)
    with pytest.raises(ValueError, match="setting"):
        claims.finding("f", "f", 1.0, source="x", setting="d_out=1")
    rec = claims.finding("f", "f", 1.0, source="x", setting={"m": np.int64(8)})
    assert rec["setting"] == {"m": 8} and type(rec["setting"]["m"]) is int
    with pytest.raises(ValueError, match="repeated"):
        claims.check_unique_ids([rec, rec])


def test_claims_on_diverged_runs_are_not_judged():
    records = [
        claims.upper_bound("b", "b", 1.0, 2.0, hypotheses_hold=True, **S),
        claims.finding("f", "f", 3.0, **S),
    ]
    marked = claims.mark_diverged(records, 2)
    assert [r["verdict"] for r in marked] == ["inconclusive", "finding"]
    assert "2 run(s) diverged" in marked[0]["note"]
    assert all(claims.judge(r) == r["verdict"] for r in marked)
    assert claims.mark_diverged(records, 0)[0]["verdict"] == "holds"


def test_seed_finding_is_the_mean_with_its_t_interval():
    values = [0.9, 1.1, 1.0, 1.2, 0.8]
    rec = claims.seed_finding("f", "f", values, **S)
    mean, (lo, hi) = claims.t_interval(values)
    assert rec["verdict"] == "finding" and rec["seeds"] == 5
    assert rec["measured"] == pytest.approx(1.0) == mean
    assert rec["interval"] == [lo, hi] and lo < 1.0 < hi
    # 95% t-interval by hand: t_{0.975, 4} = 2.7764
    half = 2.7764451 * np.std(values, ddof=1) / np.sqrt(5)
    assert hi - 1.0 == pytest.approx(half, rel=1e-6)
    assert claims.seed_finding("g", "g", [1.0], **S)["interval"] is not None
    assert math.isnan(claims.t_interval([1.0])[1][0])
