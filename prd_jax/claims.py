"""Claim records and the verdict rule of each kind of statement (docs/mathematics.md, section 5).

A claim is a plain-JSON dict: what the paper (or we) state, in which setting, what was measured,
what it is compared against, and a verdict computed by the rule of the claim's kind from the
numbers in the record itself, so that ``judge(record)`` recomputes it (the tests do). Every
record has the keys

    id, kind, claim, source, setting, hypotheses_hold, measured, reference, seeds, interval,
    verdict, note

``source`` names the equation or theorem ("Theorem 2", "Eq. 17", or "beyond the paper");
``setting`` is a dict of the hypotheses in force (d_out, which layers train, the critic and its
norm against the theorem's bound, m, n, ...); ``hypotheses_hold`` says whether they are the
theorem's; ``seeds`` how many seeds the numbers rest on; ``interval`` a 95% interval or None.

Kinds and their rules:

- ``upper_bound``: holds iff ``measured <= reference`` at every logged point; judged only when
  ``hypotheses_hold`` (else ``outside_hypotheses``, never "fails"). The record also reports the
  tightest ratio ``max(measured / bound)`` and the ratio at the horizon (the last point).
- ``exponent_at_most``: an O(.) order with absorbed constants, tested one-sided on a fitted
  exponent: holds iff the exponent is <= the order's, fails iff its whole interval lies above,
  inconclusive in between.
- ``prediction``: a sharp statement; holds iff ``|measured - predicted| <= atol + rtol |predicted|``
  at every point.
- ``comparison``: an effect (paired differences, one per seed) with a 95% t-interval; holds iff
  the interval excludes 0 on the predicted side, fails iff it excludes 0 on the other side,
  inconclusive otherwise or with fewer than ``min_samples`` samples.
- ``finding``: a number with its interval; no verdict (``"finding"``).

A claim whose numbers include a diverged run is ``inconclusive`` (``mark_diverged``).
"""

import math

import numpy as np

VERDICTS = ("holds", "fails", "outside_hypotheses", "inconclusive", "finding")
KINDS = ("upper_bound", "exponent_at_most", "prediction", "comparison", "finding")
# The keys every record carries, whatever its kind.
FIELDS = (
    "id",
    "kind",
    "claim",
    "source",
    "setting",
    "hypotheses_hold",
    "measured",
    "reference",
    "seeds",
    "interval",
    "verdict",
    "note",
)


def _floats(x) -> list | float | None:
    if x is None:
        return None
    arr = np.asarray(x, np.float64)
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _interval(interval) -> list[float] | None:
    if interval is None:
        return None
    lo, hi = interval
    return [float(lo), float(hi)]


def _scalar(value):
    """A setting value as JSON: NumPy scalars to Python, sequences to lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | np.ndarray):
        return [_scalar(v) for v in value]
    return value


def _record(kind, id, statement, *, source, setting, hypotheses_hold, measured, reference,
            seeds, interval, note, **extra) -> dict:  # fmt: skip
    if not isinstance(id, str) or not id:
        raise ValueError(f"a claim needs a non-empty string id, got {id!r}")
    if not isinstance(setting, dict):
        raise ValueError(f"claim {id!r}: setting must be a dict of the hypotheses in force")
    rec = {
        "id": id,
        "kind": kind,
        "claim": statement,
        "source": str(source),
        "setting": {str(k): _scalar(v) for k, v in setting.items()},
        "hypotheses_hold": bool(hypotheses_hold),
        "measured": measured,
        "reference": reference,
        "seeds": int(seeds),
        "interval": interval,
        "note": note,
        **extra,
    }
    rec["verdict"] = judge(rec)
    return rec


def upper_bound(
    id: str, statement: str, measured, bound, *, source: str, setting: dict,
    hypotheses_hold: bool, seeds: int = 1, note: str = "",
) -> dict:  # fmt: skip
    """``measured <= bound`` at every logged point (arrays broadcast), judged inside its
    hypotheses; records the tightest ratio and the ratio at the horizon (last point)."""
    m, b = np.broadcast_arrays(np.asarray(measured, np.float64), np.asarray(bound, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.atleast_1d(m / b)
    finite = ratio[np.isfinite(ratio)]
    return _record(
        "upper_bound", id, statement, source=source, setting=setting,
        hypotheses_hold=hypotheses_hold, measured=_floats(measured), reference=_floats(bound),
        seeds=seeds, interval=None, note=note,
        ratio_tightest=float(finite.max()) if finite.size else None,
        ratio_horizon=float(ratio[-1]) if np.isfinite(ratio[-1]) else None,
    )  # fmt: skip


def exponent_at_most(
    id: str, statement: str, exponent: float, interval, bound_exponent: float, *, source: str,
    setting: dict, hypotheses_hold: bool = True, seeds: int = 1, note: str = "",
) -> dict:  # fmt: skip
    """A fitted exponent against an order's exponent, one-sided (``interval``: its 95% CI)."""
    return _record(
        "exponent_at_most", id, statement, source=source, setting=setting,
        hypotheses_hold=hypotheses_hold, measured=float(exponent),
        reference=float(bound_exponent), seeds=seeds, interval=_interval(interval), note=note,
    )  # fmt: skip


def prediction(
    id: str, statement: str, measured, predicted, *, rtol: float, atol: float = 0.0,
    source: str, setting: dict, hypotheses_hold: bool = True, seeds: int = 1, interval=None,
    note: str = "",
) -> dict:  # fmt: skip
    """A sharp prediction, within ``atol + rtol |predicted|`` at every point."""
    return _record(
        "prediction", id, statement, source=source, setting=setting,
        hypotheses_hold=hypotheses_hold, measured=_floats(measured),
        reference=_floats(predicted), seeds=seeds, interval=_interval(interval), note=note,
        rtol=float(rtol), atol=float(atol),
    )  # fmt: skip


def comparison(
    id: str, statement: str, differences, *, source: str, setting: dict,
    direction: str = "greater", min_samples: int = 5, note: str = "",
) -> dict:  # fmt: skip
    """Paired differences (e.g. adversarial minus supervised, one per seed); ``direction``
    says which sign the statement predicts: ``"greater"`` (> 0) or ``"less"`` (< 0). The
    reference is 0, the interval a 95% t-interval of the mean difference."""
    if direction not in ("greater", "less"):
        raise ValueError(f"comparison: direction must be 'greater' or 'less', got {direction!r}")
    d = np.asarray(differences, np.float64).ravel()
    mean, interval = t_interval(d)
    return _record(
        "comparison", id, statement, source=source, setting=setting, hypotheses_hold=True,
        measured=d.tolist(), reference=0.0, seeds=d.size, interval=list(interval), note=note,
        effect=mean, direction=direction, min_samples=int(min_samples),
    )  # fmt: skip


def finding(
    id: str, statement: str, value, *, source: str, setting: dict, interval=None,
    seeds: int = 1, note: str = "",
) -> dict:  # fmt: skip
    """What we observe, with its interval when there is one; never a verdict."""
    return _record(
        "finding", id, statement, source=source, setting=setting, hypotheses_hold=True,
        measured=_floats(value), reference=None, seeds=seeds, interval=_interval(interval),
        note=note,
    )  # fmt: skip


def seed_finding(
    id: str, statement: str, per_seed, *, source: str, setting: dict, note: str = ""
) -> dict:
    """A finding from one value per seed: their mean, with its 95% t-interval across seeds."""
    values = np.asarray(per_seed, np.float64).ravel()
    mean, interval = t_interval(values)
    return finding(
        id, statement, mean, source=source, setting=setting, interval=interval,
        seeds=values.size, note=note,
    )  # fmt: skip


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


def check_unique_ids(records: list[dict]) -> list[dict]:
    """``records`` unchanged, after checking that no two share an ``id``."""
    ids = [r["id"] for r in records]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"claim ids must be unique within an experiment; repeated: {dup}")
    return records


def t_interval(values, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """The mean of ``values`` (e.g. one per seed) and its ``level`` t-interval; the interval is
    ``(nan, nan)`` with fewer than 2 values or any non-finite one (and the mean nan with a
    non-finite one). The project's one t-interval: comparisons, findings and growth use it."""
    from scipy import stats

    d = np.asarray(values, np.float64).ravel()
    if d.size < 2 or not np.all(np.isfinite(d)):
        mean = float(np.mean(d)) if d.size and np.all(np.isfinite(d)) else math.nan
        return mean, (math.nan, math.nan)
    mean, se = float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(d.size))
    half = float(stats.t.ppf(0.5 + level / 2, d.size - 1)) * se
    return mean, (mean - half, mean + half)


def _is_finite(x) -> bool:
    return x is not None and bool(np.all(np.isfinite(np.asarray(x, np.float64))))


def judge(rec: dict) -> str:
    """The verdict of a claim record, from its own numbers (see the module docstring)."""
    kind = rec["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown claim kind {kind!r}; one of {KINDS}")
    if kind == "finding":
        return "finding"
    if rec.get("diverged_runs", 0) > 0:
        return "inconclusive"
    if not rec["hypotheses_hold"]:
        return "outside_hypotheses"
    measured, reference = rec["measured"], rec["reference"]
    if kind == "upper_bound":
        m, b = np.asarray(measured, np.float64), np.asarray(reference, np.float64)
        if not (np.all(np.isfinite(m)) and np.all(~np.isnan(b))):
            return "inconclusive"
        return "holds" if bool(np.all(m <= b)) else "fails"
    if kind == "exponent_at_most":
        lo = (rec["interval"] or [math.nan])[0]
        if not _is_finite(measured):
            return "inconclusive"
        if measured <= reference:
            return "holds"
        return "fails" if _is_finite(lo) and lo > reference else "inconclusive"
    if kind == "prediction":
        if not (_is_finite(measured) and _is_finite(reference)):
            return "inconclusive"
        m, p = np.asarray(measured, np.float64), np.asarray(reference, np.float64)
        ok = np.abs(m - p) <= rec["atol"] + rec["rtol"] * np.abs(p)
        return "holds" if bool(np.all(ok)) else "fails"
    # comparison
    lo, hi = rec["interval"]
    if len(measured) < rec["min_samples"] or not (_is_finite(lo) and _is_finite(hi)):
        return "inconclusive"
    sign = 1.0 if rec["direction"] == "greater" else -1.0
    lo, hi = sorted((sign * lo, sign * hi))
    return "holds" if lo > 0 else "fails" if hi < 0 else "inconclusive"
