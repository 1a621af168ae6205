"""Claim records: each kind's verdict rule, the record's fields, and judge() recomputing a
record's verdict (also after a JSON round trip)."""

import json
import math

import numpy as np
import pytest

from prd_jax import claims
from prd_jax.results import json_ready

S = dict(source="test", setting={"d_out": 1, "train": "U"}, hypotheses=())
IN = [claims.need("d_out", "==", 1)]  # holds in S's setting
OUT = [claims.need("d_out", "==", 4)]  # does not


def test_upper_bound_is_one_sided_and_respects_hypotheses():
    ok = claims.upper_bound("b", "b", [1.0, 2.0], [1.0, 3.0], **S)
    assert ok["verdict"] == "holds"
    assert ok["ratio_tightest"] == 1.0 and ok["ratio_horizon"] == pytest.approx(2 / 3)
    bad = claims.upper_bound("b", "b", [1.0, 3.5], 3.0, **S)
    assert bad["verdict"] == "fails" and bad["ratio_tightest"] == pytest.approx(3.5 / 3)
    out = claims.upper_bound("b", "b", 10.0, 1.0, **(S | {"hypotheses": OUT}))
    assert out["verdict"] == "outside_hypotheses"  # never "fails" outside its hypotheses
    assert claims.upper_bound("b", "b", math.nan, 1.0, **S)["verdict"] == ("inconclusive")


def test_exponent_at_most_is_judged_by_its_interval_one_sided():
    def verdict(p, ci, b, points=4, seeds=3):
        rec = claims.exponent_at_most("o", "o", p, ci, b, points=points, seeds=seeds, **S)
        return rec["verdict"]

    assert verdict(-0.6, (-0.7, -0.55), -0.5) == "holds"
    assert verdict(-2.0, (-2.1, -1.9), 0.0) == "holds"  # far below an O(1) order still holds
    assert verdict(-0.4, (-0.45, -0.35), -0.5) == "fails"
    assert verdict(-0.4, (-0.6, -0.2), -0.5) == "inconclusive"
    # The audit's cases: a point estimate at or below the order with an interval reaching above
    # it (the true exponent may equal the order: a coin flip) is inconclusive, not "holds".
    assert verdict(-0.503, (-0.512, -0.493), -0.5) == "inconclusive"
    assert verdict(-0.5, (-0.6, -0.4), -0.5) == "inconclusive"
    # No interval: it cannot fail, so it cannot hold either.
    assert verdict(-0.9, None, -0.5) == "inconclusive"
    assert verdict(-0.9, (np.nan, np.nan), -0.5) == "inconclusive"
    # Too few points: joint_rd's tiny preset (2 widths x 2 seeds) is never judged.
    assert verdict(-0.9, (-4.2, -0.6), -0.5, points=2, seeds=2) == "inconclusive"
    assert verdict(-0.9, (-1.0, -0.8), -0.5, points=3, seeds=2) == "inconclusive"


def test_hypotheses_are_computed_from_the_setting_never_given():
    setting = {"d_out": 1, "train": "U", "critic_norm": 0.03, "L_bound": 0.04}
    hyp = [
        claims.need("d_out", "==", 1),
        claims.need("train", "in", ["U"]),
        claims.need("critic_norm", "<=", ref="L_bound"),
    ]
    ok = claims.upper_bound("b", "b", 1.0, 2.0, source="T2", setting=setting, hypotheses=hyp)
    assert ok["hypotheses_hold"] is True and ok["verdict"] == "holds"
    far = setting | {"critic_norm": 0.4}
    out = claims.upper_bound("b", "b", 1.0, 2.0, source="T2", setting=far, hypotheses=hyp)
    assert out["hypotheses_hold"] is False and out["verdict"] == "outside_hypotheses"
    # judge() recomputes from the setting: editing the setting changes the verdict.
    assert claims.judge(dict(ok, setting=far)) == "outside_hypotheses"
    # A hypothesis on a key the setting does not carry is an error, not a silent pass.
    with pytest.raises(ValueError, match="no 'm' entry"):
        claims.upper_bound("b", "b", 1.0, 2.0, source="T2", setting=setting,
                           hypotheses=[claims.need("m", ">=", 8)])  # fmt: skip
    # hypotheses_hold cannot be passed as a literal.
    with pytest.raises(TypeError):
        claims.upper_bound("b", "b", 1.0, 2.0, hypotheses_hold=True, **S)
    # A source that says "outside its hypotheses" cannot come with hypotheses that hold.
    with pytest.raises(ValueError, match="outside its hypotheses"):
        claims.comparison(
            "c", "c", [1.0] * 5, source="Theorem 2 (outside its hypotheses)",
            setting=setting, hypotheses=(),
        )  # fmt: skip
    with pytest.raises(ValueError, match="op"):
        claims.need("d_out", "~", 1)


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
    # A non-finite difference (a diverged seed) is not dropped: the comparison is inconclusive.
    assert verdict(up + [math.nan]) == "inconclusive"
    # An inconclusive comparison says the smallest effect it could have detected.
    weak = claims.comparison("c", "c", [1.0, -1.0, 0.5, -0.4, 0.1], **S)
    sd = np.std([1.0, -1.0, 0.5, -0.4, 0.1], ddof=1)
    assert weak["detectable_effect"] == pytest.approx((2.7764451 + 0.9409646) * sd / np.sqrt(5))
    rec = claims.comparison("c", "c", up, **S)
    assert rec["seeds"] == 5 and rec["reference"] == 0.0
    lo, hi = rec["interval"]
    assert lo < np.mean(up) < hi
    with pytest.raises(ValueError, match="direction"):
        claims.comparison("c", "c", up, direction="up", **S)


def test_every_record_has_the_same_fields_and_judge_recomputes():
    records = [
        claims.upper_bound("b", "b", 1.0, 2.0, **S),
        claims.exponent_at_most("e", "e", -0.5, (-0.6, -0.4), 0.0, points=3, seeds=3, **S),
        claims.check(
            "k", "k", 1.0 + 1e-9, 1.0, rtol=1e-6, **{k: S[k] for k in ("source", "setting")}
        ),
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
    pred = next(r for r in records if r["kind"] == "prediction")
    tampered = dict(pred, measured=2.05)
    assert claims.judge(tampered) == "holds" != pred["verdict"]


def test_records_need_an_id_and_a_setting_and_unique_ids():
    with pytest.raises(ValueError, match="id"):
        claims.finding("", "f", 1.0, **S)
    with pytest.raises(ValueError, match="setting"):
        claims.finding("f", "f", 1.0, source="x", setting="d_out=1")
    with pytest.raises(ValueError, match="rtol"):
        claims.prediction("p", "p", 1.0, 1.0, rtol=-1, **S)
    rec = claims.finding("f", "f", 1.0, source="x", setting={"m": np.int64(8)})
    assert rec["setting"] == {"m": 8} and type(rec["setting"]["m"]) is int
    with pytest.raises(ValueError, match="repeated"):
        claims.check_unique_ids([rec, rec])


def test_claims_on_diverged_runs_are_not_judged():
    records = [
        claims.upper_bound("b", "b", 1.0, 2.0, **S),
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
    one = claims.seed_finding("g", "g", [1.0], **S)
    assert one["interval"] is None and one["verdict"] == "inconclusive"  # one seed: no interval
    assert math.isnan(claims.t_interval([1.0])[1][0])


def test_findings_on_too_few_usable_runs_are_inconclusive_and_checks_are_not_support():
    rec = claims.seed_finding("f", "f", [0.1, 0.2], runs_diverged=4, min_runs=3, **S)
    assert rec["verdict"] == "inconclusive" and rec["runs_used"] == 2 and rec["runs_diverged"] == 4
    assert claims.seed_finding("f", "f", [0.1, 0.2, 0.3], min_runs=3, **S)["verdict"] == "finding"
    # A non-finite value is not dropped silently: the mean is nan and only finite values count.
    rec = claims.seed_finding("f", "f", [0.1, math.nan, 0.3], **S)
    assert math.isnan(rec["measured"]) and rec["runs_used"] == 2
    ok = claims.check("k", "k", [1.0, 1.0 + 1e-7], 1.0, rtol=1e-6, source="x", setting={})
    bad = claims.check("k", "k", 1.1, 1.0, rtol=1e-6, source="x", setting={})
    assert (ok["verdict"], bad["verdict"]) == ("passes", "fails") and ok["kind"] == "check"
