"""Claim records and the verdict rule of each kind of statement (docs/mathematics.md, section 5).

A claim is a plain-JSON dict: what the paper (or we) state, what was measured, and a verdict
computed by the rule of the claim's kind from the numbers in the record itself, so that
``judge(record)`` recomputes it (the tests do). Kinds:

- ``upper_bound``: holds iff ``measured <= bound`` at every point; ``outside_hypotheses``
  when the bound's hypotheses fail in the run (then nothing is judged).
- ``exponent_at_most``: an O(.) order with absorbed constants, tested one-sided on a fitted
  exponent: holds iff the exponent is <= the bound's, fails iff its whole interval lies above,
  inconclusive in between.
- ``prediction``: a sharp statement; holds iff ``|measured - predicted| <= atol + rtol |predicted|``
  everywhere.
- ``comparison``: an effect (paired differences over seeds) with a 95% t-interval; holds iff
  the interval excludes 0 on the predicted side, fails iff it excludes 0 on the other side,
  inconclusive otherwise or with fewer than ``min_samples`` samples.
- ``finding``: a number with its interval; no verdict.

A claim whose numbers include a diverged run is ``inconclusive`` (``mark_diverged``).
"""

import math

import numpy as np

VERDICTS = ("holds", "fails", "outside_hypotheses", "inconclusive", "finding")
KINDS = ("upper_bound", "exponent_at_most", "prediction", "comparison", "finding")


def _floats(x) -> list | float:
    arr = np.asarray(x, np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _record(kind, statement, note, hypotheses, **fields) -> dict:
    rec = {"kind": kind, "claim": statement, "note": note, "hypotheses": bool(hypotheses)}
    rec.update(fields)
    rec["verdict"] = judge(rec)
    return rec


def upper_bound(statement: str, measured, bound, *, hypotheses=True, note="") -> dict:
    """``measured <= bound`` at every point (arrays broadcast), judged inside its hypotheses."""
    return _record(
        "upper_bound", statement, note, hypotheses, measured=_floats(measured), bound=_floats(bound)
    )


def exponent_at_most(
    statement: str, exponent: float, ci, bound_exponent: float, *, hypotheses=True, note=""
) -> dict:
    """A fitted exponent against an order's exponent, one-sided (``ci``: its 95% interval)."""
    return _record(
        "exponent_at_most",
        statement,
        note,
        hypotheses,
        measured=float(exponent),
        ci=[float(ci[0]), float(ci[1])],
        bound=float(bound_exponent),
    )


def prediction(
    statement: str, measured, predicted, *, rtol: float, atol: float = 0.0, hypotheses=True, note=""
) -> dict:
    """A sharp prediction, within ``atol + rtol |predicted|`` at every point."""
    return _record(
        "prediction",
        statement,
        note,
        hypotheses,
        measured=_floats(measured),
        predicted=_floats(predicted),
        rtol=float(rtol),
        atol=float(atol),
    )


def comparison(
    statement: str, differences, *, direction: str = "greater", min_samples: int = 5, note=""
) -> dict:
    """Paired differences (e.g. adversarial minus supervised, one per seed); ``direction``
    says which sign the statement predicts: ``"greater"`` (> 0) or ``"less"`` (< 0)."""
    if direction not in ("greater", "less"):
        raise ValueError(f"comparison: direction must be 'greater' or 'less', got {direction!r}")
    d = np.asarray(differences, np.float64).ravel()
    mean, (lo, hi) = _t_interval(d)
    return _record(
        "comparison",
        statement,
        note,
        True,
        measured=d.tolist(),
        effect=mean,
        ci=[lo, hi],
        direction=direction,
        min_samples=int(min_samples),
    )


def finding(statement: str, value, interval=None, note="") -> dict:
    """What we observe, with its interval when there is one; never a verdict."""
    ci = None if interval is None else [float(interval[0]), float(interval[1])]
    return _record("finding", statement, note, True, measured=_floats(value), ci=ci)


def mark_diverged(records: list[dict], diverged_runs: int) -> list[dict]:
    """The records with the number of diverged runs they rest on, verdicts recomputed: a claim
    judged on numbers that include a diverged run is ``inconclusive`` (findings stay findings),
    and its note says why."""
    out = []
    for rec in records:
        rec = dict(rec, diverged_runs=int(diverged_runs))
        if diverged_runs and rec["kind"] != "finding":
            rec["note"] = (
                f"{diverged_runs} run(s) diverged: not judged. " + rec.get("note", "")
            ).strip()
        rec["verdict"] = judge(rec)
        out.append(rec)
    return out


def _t_interval(d) -> tuple[float, tuple[float, float]]:
    from scipy import stats

    if d.size < 2 or not np.all(np.isfinite(d)):
        mean = float(np.mean(d)) if d.size and np.all(np.isfinite(d)) else math.nan
        return mean, (math.nan, math.nan)
    mean, se = float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(d.size))
    half = float(stats.t.ppf(0.975, d.size - 1)) * se
    return mean, (mean - half, mean + half)


def judge(rec: dict) -> str:
    """The verdict of a claim record, from its own numbers (see the module docstring)."""
    kind = rec["kind"]
    if kind == "finding":
        return "finding"
    if rec.get("diverged_runs", 0) > 0:
        return "inconclusive"
    if not rec["hypotheses"]:
        return "outside_hypotheses"
    if kind == "upper_bound":
        m, b = np.asarray(rec["measured"], np.float64), np.asarray(rec["bound"], np.float64)
        if not (np.all(np.isfinite(m)) and np.all(~np.isnan(b))):
            return "inconclusive"
        return "holds" if bool(np.all(m <= b)) else "fails"
    if kind == "exponent_at_most":
        p, (lo, _), b = rec["measured"], rec["ci"], rec["bound"]
        if not math.isfinite(p):
            return "inconclusive"
        if p <= b:
            return "holds"
        return "fails" if math.isfinite(lo) and lo > b else "inconclusive"
    if kind == "prediction":
        m, p = np.asarray(rec["measured"], np.float64), np.asarray(rec["predicted"], np.float64)
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(p))):
            return "inconclusive"
        ok = np.abs(m - p) <= rec["atol"] + rec["rtol"] * np.abs(p)
        return "holds" if bool(np.all(ok)) else "fails"
    if kind == "comparison":
        lo, hi = rec["ci"]
        if len(rec["measured"]) < rec["min_samples"] or not (
            math.isfinite(lo) and math.isfinite(hi)
        ):
            return "inconclusive"
        sign = 1.0 if rec["direction"] == "greater" else -1.0
        lo, hi = sorted((sign * lo, sign * hi))
        return "holds" if lo > 0 else "fails" if hi < 0 else "inconclusive"
    raise ValueError(f"unknown claim kind {kind!r}; one of {KINDS}")
