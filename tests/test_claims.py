"""Claim records: each kind's verdict rule, and judge() recomputing a record's verdict."""

import math

import pytest

from prd_jax import claims


def test_upper_bound_is_one_sided_and_respects_hypotheses():
    assert claims.upper_bound("b", [1.0, 2.0], [1.0, 3.0])["verdict"] == "holds"
    assert claims.upper_bound("b", [1.0, 3.5], 3.0)["verdict"] == "fails"
    assert claims.upper_bound("b", 10.0, 1.0, hypotheses=False)["verdict"] == "outside_hypotheses"
    assert claims.upper_bound("b", math.nan, 1.0)["verdict"] == "inconclusive"


def test_exponent_at_most_is_one_sided():
    assert claims.exponent_at_most("o", -0.6, (-0.7, -0.5), -0.5)["verdict"] == "holds"
    assert claims.exponent_at_most("o", -0.4, (-0.45, -0.35), -0.5)["verdict"] == "fails"
    assert claims.exponent_at_most("o", -0.4, (-0.6, -0.2), -0.5)["verdict"] == "inconclusive"


def test_prediction_within_tolerance():
    assert claims.prediction("p", 6.3705, 6.3705001, rtol=1e-6)["verdict"] == "holds"
    assert claims.prediction("p", [1.0, 1.2], 1.0, rtol=0.1)["verdict"] == "fails"
    assert claims.prediction("p", -0.45, -0.5, rtol=0, atol=0.1)["verdict"] == "holds"


def test_comparison_uses_an_interval_and_enough_samples():
    up = [1.0, 1.2, 0.9, 1.1, 1.05]
    assert claims.comparison("c", up)["verdict"] == "holds"
    assert claims.comparison("c", up, direction="less")["verdict"] == "fails"
    assert claims.comparison("c", [1.0, -1.0, 0.5, -0.4, 0.1])["verdict"] == "inconclusive"
    assert claims.comparison("c", up[:3])["verdict"] == "inconclusive"  # < 5 samples
    with pytest.raises(ValueError, match="direction"):
        claims.comparison("c", up, direction="up")


def test_judge_recomputes_and_detects_a_tampered_verdict():
    records = [
        claims.upper_bound("b", 1.0, 2.0),
        claims.prediction("p", 1.0, 2.0, rtol=0.1),
        claims.comparison("c", [1.0, 2.0, 3.0, 4.0, 5.0]),
        claims.finding("f", 3.0, (2.0, 4.0)),
    ]
    for rec in records:
        assert claims.judge(rec) == rec["verdict"] in claims.VERDICTS
    tampered = dict(records[1], measured=2.05)
    assert claims.judge(tampered) == "holds" != records[1]["verdict"]


def test_claims_on_diverged_runs_are_not_judged():
    records = [claims.upper_bound("b", 1.0, 2.0), claims.finding("f", 3.0)]
    marked = claims.mark_diverged(records, 2)
    assert [r["verdict"] for r in marked] == ["inconclusive", "finding"]
    assert "2 run(s) diverged" in marked[0]["note"]
    assert all(claims.judge(r) == r["verdict"] for r in marked)
    assert claims.mark_diverged(records, 0)[0]["verdict"] == "holds"
