"""Claim records and the verdict rule of each kind of statement (docs/mathematics.md, section 5).

A claim is a plain-JSON dict: what the paper (or we) state, in which setting, what was measured,
what it is compared against, and a verdict computed by the rule of the claim's kind from the
numbers in the record itself, so that ``judge(record)`` recomputes it (the tests do). Every
record has the keys

    id, kind, claim, source, setting, hypotheses, hypotheses_hold, measured, reference, seeds,
    interval, runs_used, runs_diverged, verdict, note

``source`` names the equation or theorem ("Theorem 2", "Eq. 17", or "beyond the paper");
``setting`` is a dict of what holds in the runs (d_out, which layers train, the critic and its
norm against the theorem's bound, m, n, ...); ``hypotheses`` lists the conditions the statement
needs, each a test of one setting entry (``need("d_out", "==", 1)``, ``need("critic_norm",
"<=", ref="L_bound")``), and ``hypotheses_hold`` is computed from them, never given: a statement
beyond the paper with no conditions lists none (and its hypotheses hold vacuously). ``seeds`` is
how many seeds the numbers rest on, ``runs_used``/``runs_diverged`` how many runs fed the numbers
and how many were left out because they diverged; ``interval`` a 95% interval or None.

Kinds and their rules:

- ``upper_bound``: holds iff ``measured <= reference`` at every logged point; judged only when
  its hypotheses hold (else ``outside_hypotheses``, never "fails"). The record also reports the
  tightest ratio ``max(measured / bound)`` and the ratio at the horizon (the last point).
- ``exponent_at_most``: an O(.) order with absorbed constants, tested one-sided on the interval
  of a fitted exponent: holds iff the interval's upper end is <= the order's exponent, fails iff
  its lower end is above it, inconclusive otherwise, without an interval, or with fewer than
  ``min_points`` values of the variable or ``min_seeds`` seeds.
- ``prediction``: a sharp statement; holds iff ``|measured - predicted| <= atol + rtol |predicted|``
  at every point.
- ``comparison``: an effect (paired differences, one per seed) with a 95% t-interval; holds iff
  the interval excludes 0 on the predicted side, fails iff it excludes 0 on the other side,
  inconclusive otherwise or with fewer than ``min_samples`` usable seeds. An inconclusive
  comparison records the smallest effect it could have detected (``detectable_effect``: 80%
  power at the two-sided 5% level, from the seeds' spread).
- ``check``: an identity that holds by construction (up to rounding or non-convergence), e.g.
  that a drift lies in the span of the inputs: ``passes`` within its tolerance, else ``fails``;
  ``inconclusive`` when nothing was measured (``measured`` None or empty: no usable run, or the
  identity's precondition, e.g. convergence, not met). It guards the code; it is not support
  for a statement of the paper.
- ``finding``: a number with its interval; no verdict (``"finding"``), or ``inconclusive`` when
  it rests on fewer usable runs than its ``min_runs``.

A claim whose numbers include a diverged run is ``inconclusive`` (``mark_diverged``); a finding
computed from the non-diverged runs only records how many it used and left out.
"""

import math
import operator
import re

import numpy as np

VERDICTS = ("holds", "fails", "outside_hypotheses", "inconclusive", "finding", "passes")
KINDS = ("upper_bound", "exponent_at_most", "prediction", "comparison", "check", "finding")
# The keys every record carries, whatever its kind.
FIELDS = (
    "id",
    "kind",
    "claim",
    "source",
    "setting",
    "hypotheses",
    "hypotheses_hold",
    "measured",
    "reference",
    "seeds",
    "interval",
    "runs_used",
    "runs_diverged",
    "verdict",
    "note",
)
_OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "in": lambda a, b: a in b,
}
# A source that says its statement is tested outside its hypotheses (such a record cannot hold).
_OUTSIDE = re.compile(r"outside (its|the|their) hypothes", re.IGNORECASE)


def need(key: str, op: str, value=None, *, ref: str | None = None) -> dict:
    """A hypothesis: ``setting[key] <op> value`` (or ``<op> setting[ref]``), as plain JSON.

    ``op`` is one of ``== != <= < >= > in``. ``need("d_out", "==", 1)``,
    ``need("critic_norm", "<=", ref="L_bound")``, ``need("critic", "in", ["frozen"])``.
    """
    if op not in _OPS:
        raise ValueError(f"need: op must be one of {sorted(_OPS)}, got {op!r}")
    if not isinstance(key, str) or not key:
        raise ValueError(f"need: key must be a setting name, got {key!r}")
    if (ref is None) == (value is None):
        raise ValueError(f"need({key!r}): give exactly one of value and ref")
    cond = {"key": key, "op": op}
    if ref is not None:
        cond["ref"] = str(ref)
    else:
        cond["value"] = _scalar(value)
    return cond


def hypotheses_hold(setting: dict, hypotheses) -> bool:
    """Whether every condition of ``hypotheses`` (``need`` dicts) holds in ``setting``; a
    condition naming a key the setting lacks is an error (the setting must say it)."""
    for cond in hypotheses:
        key = cond["key"]
        if key not in setting:
            raise ValueError(f"hypothesis on {key!r}: the setting has no {key!r} entry")
        if "ref" in cond:
            if cond["ref"] not in setting:
                raise ValueError(f"hypothesis {key} {cond['op']} {cond['ref']}: no such entry")
            rhs = setting[cond["ref"]]
        else:
            rhs = cond["value"]
        lhs = setting[key]
        try:
            ok = bool(_OPS[cond["op"]](lhs, rhs))
        except TypeError:
            ok = False
        if not ok:
            return False
    return True


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


def _count(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"a claim's {name} must be an integer >= 0, got {value!r}")
    return int(value)


def _record(kind, id, statement, *, source, setting, hypotheses, measured, reference,
            seeds, interval, note, runs_used=None, runs_diverged=0, **extra) -> dict:  # fmt: skip
    if not isinstance(id, str) or not id:
        raise ValueError(f"a claim needs a non-empty string id, got {id!r}")
    if not isinstance(setting, dict):
        raise ValueError(f"claim {id!r}: setting must be a dict of the hypotheses in force")
    setting = {str(k): _scalar(v) for k, v in setting.items()}
    hypotheses = [dict(h) for h in hypotheses]
    hold = hypotheses_hold(setting, hypotheses)
    if hold and _OUTSIDE.search(str(source)):
        raise ValueError(
            f"claim {id!r}: its source says it is outside its hypotheses ({source!r}), but its "
            "hypotheses hold in its setting: list the conditions it is outside of"
        )
    seeds = _count("seeds", seeds)
    rec = {
        "id": id,
        "kind": kind,
        "claim": statement,
        "source": str(source),
        "setting": setting,
        "hypotheses": hypotheses,
        "hypotheses_hold": hold,
        "measured": measured,
        "reference": reference,
        "seeds": seeds,
        "interval": interval,
        "runs_used": _count("runs_used", seeds if runs_used is None else runs_used),
        "runs_diverged": _count("runs_diverged", runs_diverged),
        "note": note,
        **extra,
    }
    rec["verdict"] = judge(rec)
    return rec


def upper_bound(
    id: str, statement: str, measured, bound, *, source: str, setting: dict, hypotheses,
    seeds: int = 1, runs_used: int | None = None, runs_diverged: int = 0, note: str = "",
) -> dict:  # fmt: skip
    """``measured <= bound`` at every logged point (arrays broadcast), judged inside its
    hypotheses; records the tightest ratio and the ratio at the horizon (last point). An
    empty ``measured`` (no logged point to check) is inconclusive."""
    m, b = np.broadcast_arrays(np.asarray(measured, np.float64), np.asarray(bound, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.atleast_1d(m / b)
    finite = ratio[np.isfinite(ratio)]
    horizon = ratio[-1] if ratio.size else math.nan
    return _record(
        "upper_bound", id, statement, source=source, setting=setting, hypotheses=hypotheses,
        measured=_floats(measured), reference=_floats(bound), seeds=seeds, interval=None,
        note=note, runs_used=runs_used, runs_diverged=runs_diverged,
        ratio_tightest=float(finite.max()) if finite.size else None,
        ratio_horizon=float(horizon) if np.isfinite(horizon) else None,
    )  # fmt: skip


def exponent_at_most(
    id: str, statement: str, exponent: float, interval, bound_exponent: float, *, source: str,
    setting: dict, hypotheses, points: int, seeds: int, min_points: int = 3,
    min_seeds: int = 3, runs_used: int | None = None, runs_diverged: int = 0, note: str = "",
) -> dict:  # fmt: skip
    """A fitted exponent against an order's exponent, judged one-sided by ``interval`` (its 95%
    interval): holds iff ``interval[1] <= bound``, fails iff ``interval[0] > bound``.
    ``points``: distinct values of the variable in the fit."""
    return _record(
        "exponent_at_most", id, statement, source=source, setting=setting,
        hypotheses=hypotheses, measured=float(exponent), reference=float(bound_exponent),
        seeds=seeds, interval=_interval(interval), note=note, runs_used=runs_used,
        runs_diverged=runs_diverged, points=_count("points", points),
        min_points=_count("min_points", min_points), min_seeds=_count("min_seeds", min_seeds),
    )  # fmt: skip


def _tolerance(name, value) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"a prediction's {name} must be a finite number >= 0, got {value!r}")
    return value


def prediction(
    id: str, statement: str, measured, predicted, *, rtol: float, atol: float = 0.0,
    source: str, setting: dict, hypotheses, seeds: int = 1, runs_used: int | None = None,
    runs_diverged: int = 0, interval=None, note: str = "",
) -> dict:  # fmt: skip
    """A sharp prediction, within ``atol + rtol |predicted|`` at every point."""
    return _record(
        "prediction", id, statement, source=source, setting=setting, hypotheses=hypotheses,
        measured=_floats(measured), reference=_floats(predicted), seeds=seeds,
        interval=_interval(interval), note=note, runs_used=runs_used,
        runs_diverged=runs_diverged, rtol=_tolerance("rtol", rtol), atol=_tolerance("atol", atol),
    )  # fmt: skip


def check(
    id: str, statement: str, measured, expected, *, rtol: float, atol: float = 0.0,
    source: str, setting: dict, seeds: int = 1, runs_used: int | None = None,
    runs_diverged: int = 0, note: str = "",
) -> dict:  # fmt: skip
    """An identity that holds by construction, within ``atol + rtol |expected|``: a guard of
    the code, reported apart from the paper's statements (verdict ``passes`` or ``fails``)."""
    return _record(
        "check", id, statement, source=source, setting=setting, hypotheses=(),
        measured=_floats(measured), reference=_floats(expected), seeds=seeds, interval=None,
        note=note, runs_used=runs_used, runs_diverged=runs_diverged,
        rtol=_tolerance("rtol", rtol), atol=_tolerance("atol", atol),
    )  # fmt: skip


def detectable_effect(differences, power: float = 0.8, level: float = 0.95) -> float:
    """The smallest mean difference a paired t-test at two-sided ``level`` detects with
    ``power``, given the seeds' spread: ``(t_{1-a/2} + t_power) sd / sqrt(n)``; nan with fewer
    than 2 finite values or no spread at all."""
    from scipy import stats

    d = np.asarray(differences, np.float64).ravel()
    if d.size < 2 or not np.all(np.isfinite(d)) or np.ptp(d) == 0:
        return math.nan  # identical differences: no spread to size an effect against
    df = d.size - 1
    t = stats.t.ppf(0.5 + level / 2, df) + stats.t.ppf(power, df)
    return float(t * np.std(d, ddof=1) / math.sqrt(d.size))


def comparison(
    id: str, statement: str, differences, *, source: str, setting: dict, hypotheses,
    direction: str = "greater", min_samples: int = 5, runs_diverged: int = 0, note: str = "",
) -> dict:  # fmt: skip
    """Paired differences (e.g. adversarial minus supervised, one per usable seed);
    ``direction`` says which sign the statement predicts: ``"greater"`` (> 0) or ``"less"``
    (< 0). The reference is 0, the interval a 95% t-interval of the mean difference; a
    non-finite difference is not dropped (the comparison is then inconclusive)."""
    if direction not in ("greater", "less"):
        raise ValueError(f"comparison: direction must be 'greater' or 'less', got {direction!r}")
    d = np.asarray(differences, np.float64).ravel()
    mean, interval = t_interval(d)
    return _record(
        "comparison", id, statement, source=source, setting=setting, hypotheses=hypotheses,
        measured=d.tolist(), reference=0.0, seeds=d.size, interval=list(interval), note=note,
        runs_used=int(np.isfinite(d).sum()), runs_diverged=runs_diverged, effect=mean,
        direction=direction, min_samples=_count("min_samples", min_samples),
        detectable_effect=detectable_effect(d),
    )  # fmt: skip


def finding(
    id: str, statement: str, value, *, source: str, setting: dict, hypotheses=(),
    interval=None, seeds: int = 1, runs_used: int | None = None, runs_diverged: int = 0,
    min_runs: int = 1, note: str = "", **extra,
) -> dict:  # fmt: skip
    """What we observe, with its interval when there is one; never a verdict, but
    ``inconclusive`` when fewer than ``min_runs`` usable runs (or seeds) fed it. ``extra``
    keyword arguments are stored in the record as they are (plain JSON values)."""
    reserved = set(extra) & (set(FIELDS) | {"min_runs", "kind"})
    if reserved:
        raise ValueError(f"finding {id!r}: {sorted(reserved)} are record fields, not extras")
    return _record(
        "finding", id, statement, source=source, setting=setting, hypotheses=hypotheses,
        measured=_floats(value), reference=None, seeds=seeds, interval=_interval(interval),
        note=note, runs_used=runs_used, runs_diverged=runs_diverged,
        min_runs=_count("min_runs", min_runs), **extra,
    )  # fmt: skip


def seed_finding(
    id: str, statement: str, per_seed, *, source: str, setting: dict, hypotheses=(),
    runs_diverged: int = 0, min_runs: int = 2, note: str = "",
) -> dict:  # fmt: skip
    """A finding from one value per usable seed: their mean, with its 95% t-interval across
    seeds. Pass only the seeds whose runs did not diverge (and their count as
    ``runs_diverged``); a non-finite value is not dropped (the mean is then nan)."""
    values = np.asarray(per_seed, np.float64).ravel()
    mean, interval = t_interval(values)
    return finding(
        id, statement, mean, source=source, setting=setting, hypotheses=hypotheses,
        interval=None if values.size < 2 else interval, seeds=values.size,
        runs_used=int(np.isfinite(values).sum()), runs_diverged=runs_diverged,
        min_runs=min_runs, note=note,
    )  # fmt: skip


def mark_diverged(records: list[dict], diverged_runs: int) -> list[dict]:
    """The records with the number of diverged runs they rest on, verdicts recomputed: a claim
    judged on numbers that include a diverged run is ``inconclusive`` (findings stay findings),
    and its note says why."""
    out = []
    for rec in records:
        rec = dict(rec, diverged_runs=int(diverged_runs))
        rec["runs_diverged"] = max(int(rec.get("runs_diverged", 0)), int(diverged_runs))
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


def _measured(x) -> bool:
    """Finite and not empty: something was measured (no usable run leaves nothing to judge)."""
    return _is_finite(x) and np.size(np.asarray(x, np.float64)) > 0


def _within(rec) -> bool:
    m, p = np.asarray(rec["measured"], np.float64), np.asarray(rec["reference"], np.float64)
    return bool(np.all(np.abs(m - p) <= rec["atol"] + rec["rtol"] * np.abs(p)))


def judge(rec: dict) -> str:
    """The verdict of a claim record, from its own numbers (see the module docstring)."""
    kind = rec["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown claim kind {kind!r}; one of {KINDS}")
    if kind == "finding":
        used = rec.get("runs_used", rec.get("seeds", 1))
        return "inconclusive" if used < rec.get("min_runs", 1) else "finding"
    if kind == "check":
        if rec.get("diverged_runs", 0) or not (
            _measured(rec["measured"]) and _is_finite(rec["reference"])
        ):
            return "inconclusive"
        return "passes" if _within(rec) else "fails"
    if rec.get("diverged_runs", 0) > 0:
        return "inconclusive"
    if not hypotheses_hold(rec["setting"], rec.get("hypotheses", ())):
        return "outside_hypotheses"
    measured, reference = rec["measured"], rec["reference"]
    if kind == "upper_bound":
        m, b = np.asarray(measured, np.float64), np.asarray(reference, np.float64)
        if m.size == 0 or not (np.all(np.isfinite(m)) and np.all(~np.isnan(b))):
            return "inconclusive"
        return "holds" if bool(np.all(m <= b)) else "fails"
    if kind == "exponent_at_most":
        lo, hi = rec["interval"] or [math.nan, math.nan]
        enough = rec["points"] >= rec["min_points"] and rec["seeds"] >= rec["min_seeds"]
        if not (enough and _is_finite(measured) and _is_finite(lo) and _is_finite(hi)):
            return "inconclusive"
        if hi <= reference:
            return "holds"
        return "fails" if lo > reference else "inconclusive"
    if kind == "prediction":
        if not (_measured(measured) and _is_finite(reference)):
            return "inconclusive"
        return "holds" if _within(rec) else "fails"
    # comparison
    lo, hi = rec["interval"]
    if rec.get("runs_used", len(measured)) < rec["min_samples"] or not (
        _is_finite(lo) and _is_finite(hi)
    ):
        return "inconclusive"
    sign = 1.0 if rec["direction"] == "greater" else -1.0
    lo, hi = sorted((sign * lo, sign * hi))
    return "holds" if lo > 0 else "fails" if hi < 0 else "inconclusive"
