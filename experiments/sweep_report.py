"""The width sweep's report: the summary (``prd_jax.analysis`` computes every statistic), its
claims, and the terminal table. Nothing here estimates anything: it arranges and words.

Per mode (supervised: lambda_adv = 0; adversarial), every run has one of three outcomes by a
horizon T: broken, unbroken (censored at T) or diverged (counted, never folded into the other
two). The summary holds m*(T) at every logged T (one-sided beyond the grid), how it moves from
1% of the horizon to the horizon (a count when no run changed status), survival of T_b per
width, the censored T_b exponent above the supervised m* ("not identified" where the data do
not carry one), the law D(T) ~ C(T) m^-alpha(T) with its prediction of m*, m*(T) ~ T^beta, the
ratio m*_adv / m*_sup at four thresholds, and the criteria side by side.
"""

import math

import numpy as np

from prd_jax import analysis, claims, theory
from prd_jax.breakdown import fit_json, fit_power_law, mode_of
from prd_jax.results import json_ready

MODES = ("supervised", "adversarial")
# Levels of the kernel deviation at which the laws give m* and the ratio (lambda0 multiples).
THETA_FRACTIONS = {"lambda0/8": 0.125, "lambda0/4": 0.25, "lambda0/2": 0.5, "lambda0": 1.0}


def _fit(x, y, n_boot):
    return fit_json(fit_power_law(x, y, bootstrap=n_boot))


def run_records(runs, t_b, diverged) -> list:
    return [
        {
            "width": int(runs["run_width"][i]),
            "seed": int(runs["run_seed"][i]),
            "lambda_adv": float(runs["run_lambda_adv"][i]),
            "lr": float(runs["run_lr"][i]),
            "breakdown_time": None if not np.isfinite(t_b[i]) else float(t_b[i]),
            "diverged": bool(diverged[i]),
            "final_loss_sup": float(runs["loss_sup"][i, -1]),
            "final_drift_max": float(runs["drift_max"][i, -1]),
            "final_kernel_dev": float(runs["kernel_dev"][i, -1]),
        }
        for i in range(len(t_b))
    ]


def summarize(cfg, runs: dict, log_steps, spectrum, extra=None) -> dict:
    """The summary of a sweep's flat runs (``GridResult.flat()`` or a search's), for
    ``summary.json``: ``prd_jax.analysis.analyze`` plus drift and critic-norm exponents, the
    theory's exponents, per-run records and the claims."""
    from prd_jax import breakdown
    from prd_jax.search import reported_horizons

    lambda0 = float(spectrum.lambda0)
    log_steps = np.asarray(log_steps)
    horizon = int(log_steps[-1])
    crit = {cfg.criterion} | ({cfg.compare_criterion} if cfg.compare_criterion else set())

    def level(c):
        return breakdown.criterion_threshold(
            c, lambda0, cfg.n, cfg.delta, cfg.radius_c, cfg.rel_threshold, cfg.lin_threshold
        )

    criteria = {c: (breakdown.CRITERIA[c], level(c)) for c in sorted(crit)}
    metric, thr = criteria[cfg.criterion]
    thetas = (
        {k: f * lambda0 for k, f in THETA_FRACTIONS.items()}
        if cfg.criterion == "kernel"
        else {"criterion": thr}
    )
    horizons = reported_horizons(log_steps, horizon)
    stats = analysis.analyze(
        runs, log_steps, criteria=criteria, primary=cfg.criterion, horizons=horizons,
        thetas=thetas, n_boot=cfg.bootstrap,
    )  # fmt: skip
    diverged = runs["diverged"].astype(bool)
    modes, width = mode_of(runs["run_lambda_adv"]), runs["run_width"]
    drift_exp, mean_exp = {}, {}
    for mode in MODES:
        sel = (modes == mode) & ~diverged
        if sel.any():
            drift_exp[mode] = _fit(width[sel], runs["drift_max"][sel, -1], cfg.bootstrap)
            mean_exp[mode] = _fit(width[sel], runs["drift_mean"][sel, -1], cfg.bootstrap)
    adv = (modes == "adversarial") & ~diverged
    critic_scaling = (
        _fit(width[adv], runs["critic_norm"][adv, -1], cfg.bootstrap)
        if adv.any()
        else {"exponent": None, "prefactor": None}
    )
    t_b = breakdown.breakdown_steps(runs[metric], log_steps, thr)
    per_mode = stats["modes"]

    def pick(key):
        return {m: per_mode[m][key] for m in MODES if m in per_mode and key in per_mode[m]}

    summary = {
        "criterion": cfg.criterion,
        "criterion_metric": metric,
        "criterion_threshold": thr,
        "criteria": {c: {"metric": m, "threshold": t} for c, (m, t) in criteria.items()},
        "lambda0": lambda0,
        "lambda_max": float(spectrum.lambda_max),
        "kappa_inf": float(spectrum.kappa),
        "horizon_steps": horizon,
        "horizons": list(horizons),
        "reference_step": stats["reference_step"],
        "seeds": int(len(np.unique(runs["run_seed"]))),
        "outcomes": {m: r["outcomes"] for m, r in per_mode.items()},
        "diverged": {
            m: {"diverged": r["outcomes"]["diverged"], "runs": r["outcomes"]["runs"]}
            for m, r in per_mode.items()
        },
        "threshold": pick("threshold"),
        "threshold_vs_horizon": pick("threshold_vs_horizon"),
        "threshold_change": pick("change"),
        "survival": pick("survival"),
        "breakdown_time_exponent_fit": pick("breakdown_time_exponent"),
        "law": pick("law"),
        "law_check": pick("law_check"),
        "horizon_law": pick("beta"),
        "threshold_ratio": {
            "by_theta": per_mode.get("adversarial", {}).get("ratio_by_theta", []),
            "isotonic": per_mode.get("adversarial", {}).get("ratio_isotonic"),
            "by_criterion": per_mode.get("adversarial", {}).get("ratio_by_criterion", {}),
        },
        "criteria_thresholds": pick("criteria"),
        "drift_exponent": {k: v["exponent"] for k, v in drift_exp.items()},
        "drift_exponent_fit": drift_exp,
        "drift_mean_exponent_fit": mean_exp,
        "critic_norm_exponent": critic_scaling,
        "theory": theory_note(critic_scaling["exponent"]),
        "runs": run_records(runs, t_b, diverged),
    }
    summary.update(extra or {})
    summary["claims"] = sweep_claims(cfg, summary, runs, t_b, modes, diverged)
    return json_ready(summary)


# ----------------------------------------------------------------------------- claims


def claim_setting(cfg, summary) -> dict:
    """What holds in every run of the sweep, as JSON scalars."""
    train = cfg.train
    lrs = summary.get("lrs") or [None]
    return {
        "d_out": cfg.d_out,
        "train": "U,V" if train.train_v else "U",
        "critic": train.critic,
        "critic_optimizer": train.critic_optimizer,
        "critic_radius": train.critic_radius,
        "lr": lrs[0] if len(lrs) == 1 else ",".join(f"{v:.4g}" for v in lrs),
        "critic_lr_per_unit_t": train.critic_lr,
        "n_critic": train.n_critic,
        "lambda_adv": ",".join(f"{v:g}" for v in cfg.lambda_adv if v > 0) or "none",
        "steps": train.steps,
        "n": cfg.n,
        "d_in": cfg.d_in,
        "targets": cfg.targets,
        "criterion": f"{summary['criterion_metric']} > {summary['criterion_threshold']:.4g}",
        "search": bool(cfg.search),
        "seeds": summary["seeds"],
    }


def _mode_runs(summary, mode) -> tuple[int, int]:
    o = summary["outcomes"].get(mode, {})
    return o.get("runs", 0) - o.get("diverged", 0), o.get("diverged", 0)


def widths_broken_difference(width, seed, modes, t_b, diverged, horizon):
    """Per seed: widths broken by the horizon under the adversary minus under supervision, over
    the widths both modes trained for that seed where neither run diverged (the same seed gives
    both modes the same initialisation, so the pair is matched). Seeds without such a width are
    left out. Returns ``(differences, runs used, widths per seed)``."""
    diffs, used, n_widths = [], 0, []
    for s in np.unique(seed):
        common = None
        for mode in MODES:
            ok = (seed == s) & (modes == mode) & ~diverged
            common = set(width[ok]) if common is None else common & set(width[ok])
        if not common:
            continue
        count = {}
        for mode in MODES:
            sel = (seed == s) & (modes == mode) & np.isin(width, sorted(common))
            count[mode] = int(np.sum(t_b[sel] <= horizon))
            used += int(sel.sum())
        diffs.append(count["adversarial"] - count["supervised"])
        n_widths.append(len(common))
    return np.asarray(diffs, np.float64), used, n_widths


def sweep_claims(cfg, summary, runs, t_b, modes, diverged) -> list[dict]:
    """The sweep's claim records: m* per mode at the horizon, its change in T, the censored
    T_b exponents, the law's prediction of m*, beta, the threshold ratios (findings), and
    adversarial vs supervised breakdowns per seed (a comparison)."""
    setting = claim_setting(cfg, summary)
    horizon, ref = summary["horizon_steps"], summary["reference_step"]
    seeds = summary["seeds"]
    source = "beyond the paper (the paper's threshold is an Omega(.) bound)"
    records = []
    for mode in MODES:
        used, n_div = _mode_runs(summary, mode)
        if mode not in summary["threshold"]:
            if summary["outcomes"].get(mode, {}).get("runs"):
                records.append(claims.finding(
                    f"all_runs_diverged_{mode}", f"every {mode} run diverged ({n_div}): no "
                    "threshold or breakdown time", n_div, source="beyond the paper",
                    setting=setting, seeds=seeds, runs_used=0, runs_diverged=n_div,
                ))  # fmt: skip
            continue
        th = summary["threshold"][mode]
        lo, hi = th["ci"]
        records.append(claims.finding(
            f"m_star_{mode}",
            f"{mode} m*(T = {horizon} steps) = {th['text']}, 95% interval {th['ci_text']} "
            f"(isotonic fit of P(broken by T | log m); {th['coverage_note']})",
            th["m_star"], source=source, setting=setting,
            interval=None if lo is None or hi is None else (lo, hi), seeds=th["seeds"],
            runs_used=used, runs_diverged=n_div,
            note="m_star null: beyond the grid, one-sided (see position and bound); "
            "diverged runs have no outcome and are left out",
            position=th["position"], bound=th["bound"],
        ))  # fmt: skip
        ch = summary["threshold_change"][mode]
        value = ch["octaves"] if ch["kind"] == "value" else None
        ci = ch["ci"] if ch["kind"] == "value" and None not in ch["ci"] else None
        records.append(claims.finding(
            f"m_star_{mode}_change_in_T", ch["text"],
            value if value is not None or ch["kind"] != "no_change" else 0.0,
            source="Theorems 1-2 suggest m*_sup flat in T and m*_adv rising; beyond the paper",
            setting=setting, interval=ci, seeds=seeds, runs_used=used, runs_diverged=n_div,
            note=f"log2 m*(T={horizon}) - log2 m*(T={ref}); kind {ch['kind']}: one-sided "
            "beyond the grid, a count when no run changed status",
            kind_of_change=ch["kind"], changed=ch["changed"], at_risk=ch["at_risk"],
            upper_rate=ch["upper_rate"],
        ))  # fmt: skip
        fit = summary["breakdown_time_exponent_fit"].get(mode)
        if fit is not None:
            records.append(_exponent_finding(mode, fit, setting, seeds, used, n_div))
        records += _law_findings(mode, summary, setting, seeds, used, n_div)
    records += _ratio_findings(summary, setting, seeds)
    diffs, used, n_widths = widths_broken_difference(
        runs["run_width"], runs["run_seed"], modes, t_b, diverged, horizon
    )
    records.append(claims.comparison(
        "adversarial_breaks_at_more_widths",
        f"per seed, more widths are broken by T = {horizon} steps against the critic than "
        "under supervision (adversarial minus supervised count, same initialisation)",
        diffs, source="the paper's thesis (Theorem 2: the adversarial term keeps the weights "
        "moving); an empirical comparison beyond the theorem's setting", setting=setting,
        hypotheses=(), direction="greater", min_samples=5,
        runs_diverged=int(diverged.sum()),
        note=f"widths per seed: {sorted(set(n_widths))} (those both modes trained for the "
        "seed, where neither run diverged)",
    ))  # fmt: skip
    # Diverged runs have no outcome: every number above leaves them out and says how many.
    return claims.check_unique_ids(records)


def _exponent_finding(mode, fit, setting, seeds, used, n_div) -> dict:
    exp = fit.get("exponent")
    lo, hi = fit.get("ci") or [None, None]
    what = (
        f"T_b grows like m^p, p = {fit['text']}"
        if fit.get("identified")
        else f"the exponent of T_b ~ m^p is {fit['text']}"
    )
    text = (
        f"{mode}, widths above the supervised m*: {what} (censored log-normal fit, profile-"
        f"likelihood 95% set; {fit['events']} of {fit['runs']} runs broke)"
    )
    return claims.finding(
        f"breakdown_time_exponent_{mode}", text, exp,
        source="Theorem 2 (T_b ~ m^(1 - beta) for a critic norm ~ m^beta); beyond the paper",
        setting=setting | {"min_width": fit.get("min_width")},
        interval=None if exp is None else (lo, hi), seeds=seeds, runs_used=used,
        runs_diverged=n_div, min_runs=1,
        note="log T_b = c + p log m + sigma eps by maximum likelihood, a breakdown interval-"
        "censored between two log points, an unbroken run right-censored at the horizon; "
        f"{fit.get('reason') or 'identified'}",
        identified=bool(fit.get("identified")), profile_set=[lo, hi],
    )  # fmt: skip


def _law_findings(mode, summary, setting, seeds, used, n_div) -> list[dict]:
    """The law's prediction of m* at the criterion's level against the isotonic estimate, and
    m*(T) ~ T^beta."""
    out = []
    fits = summary["law"].get(mode) or []
    checks = summary["law_check"].get(mode) or []
    last = fits[-1] if fits else None
    check = checks[-1] if checks else None
    if last and last["alpha"] is not None and check and check["m_isotonic"] is not None:
        m_law, m_iso = check["m_law"], check["m_isotonic"]
        curv = last.get("curvature")
        shape = f"alpha = {last['alpha']:.2f}" + (
            "" if curv is None else f", curvature {curv:+.3f}"
        )
        out.append(claims.prediction(
            f"law_predicts_m_star_{mode}",
            f"{mode}: the law ||H(T) - H(0)|| ~ C m^-alpha ({shape}) puts m*(T = {last['step']}) "
            f"at {_num(m_law)}, within {analysis.LAW_TOLERANCE_OCTAVES} octave of the isotonic "
            f"{m_iso:.0f}",
            math.log2(m_law) if m_law else math.nan, math.log2(m_iso),
            rtol=0.0, atol=analysis.LAW_TOLERANCE_OCTAVES,
            source="beyond the paper (D(T) ~ C(T) m^-alpha(T), m* = (C/theta)^(1/alpha))",
            setting=setting, hypotheses=(), seeds=seeds, runs_used=used,
            note="in log2 m (octaves); the law fits the running maximum of the kernel "
            "deviation over every width and seed; the isotonic estimate uses outcomes only",
        ))  # fmt: skip
    beta = summary["horizon_law"].get(mode) or {}
    if beta.get("beta") is not None:
        hs = beta["horizons"]
        out.append(claims.finding(
            f"m_star_horizon_exponent_{mode}",
            f"{mode}: m*(T) grows like T^{beta['beta']:.2f} over T = {hs} (the horizons where "
            "it lies inside the grid)",
            beta["beta"], source="Theorem 2 suggests m*_adv ~ T (bounded ||w||) or T^2; "
            "beyond the paper", setting=setting,
            interval=None if None in (beta["ci"] or [None]) else beta["ci"], seeds=seeds,
            runs_used=used, runs_diverged=n_div, min_runs=1,
            note="least squares of log m*(T) on log T; interval: the paired seed bootstrap of "
            "the thresholds (replicates beyond the grid at any horizon left out)",
        ))  # fmt: skip
    return out


def _ratio_findings(summary, setting, seeds) -> list[dict]:
    ratio = summary["threshold_ratio"]
    out = []
    for r in ratio["by_theta"]:
        iso, fit = r["isotonic"], r["law"]
        law_txt = (
            "n/a"
            if fit["ratio"] is None
            else f"{fit['ratio']:.2f}"
            + ("" if None in fit["ci"] else f" [{fit['ci'][0]:.2f}, {fit['ci'][1]:.2f}]")
        )
        out.append(claims.finding(
            f"ratio_{r['label'].replace('/', '_')}",
            f"m*_adv / m*_sup at ||H(T) - H(0)|| > {r['label']}: {iso['text']} (isotonic fits; "
            f"from the two laws: {law_txt})",
            iso["ratio"] if iso["kind"] == "value" else None, source="beyond the paper",
            setting=setting | {"theta": r["theta"]},
            interval=iso["ci"] if iso["kind"] == "value" else None, seeds=seeds,
            note="paired bootstrap over the union of the modes' seeds; one-sided where either "
            "threshold lies beyond its grid; the laws' ratio extrapolates beyond the widths run "
            "where the threshold does",
            kind_of_ratio=iso["kind"], law_ratio=fit["ratio"], law_ci=fit["ci"],
        ))  # fmt: skip
    for crit, r in (ratio.get("by_criterion") or {}).items():
        out.append(claims.finding(
            f"ratio_criterion_{crit}",
            f"m*_adv / m*_sup under the {crit} criterion (isotonic fits): {r['text']}",
            r["ratio"] if r["kind"] == "value" else None, source="beyond the paper",
            setting=setting | {"ratio_criterion": crit},
            interval=r["ci"] if r["kind"] == "value" else None, seeds=seeds,
            note="paired bootstrap over the union of the modes' seeds; one-sided where either "
            "threshold lies beyond its grid", kind_of_ratio=r["kind"],
        ))  # fmt: skip
    return out


# ----------------------------------------------------------------------------- theory


def theory_note(beta) -> dict:
    return {
        "drift_exponent_supervised": -0.5,
        # T_b ~ sqrt(m) / mu and mu ~ ||w|| / sqrt(m); with ||w|| ~ m^beta: T_b ~ m^(1-beta).
        "breakdown_time_exponent_adversarial": None if beta is None else 1.0 - beta,
        "note": "Theorem 2: drift <= A/sqrt(m) + mu (1 + kappa sqrt(n)) t / sqrt(m) with "
        "mu = L n sqrt(2 log(2/delta)) / sqrt(m); breakdown when the drift reaches R, "
        "so T_b ~ m / L(m) ~ m^(1 - beta) for a critic norm L ~ m^beta.",
    }


def theory_threshold_curve(cfg, spectrum, horizons, lr, critic_norm_fit) -> list:
    """The paper's breakdown width (Omega-constant 1) at each horizon, with measured inputs:
    lambda0 and kappa of the data, T0 := t = lr * T, and the fitted critic norm
    ``L(m) = prefactor * m^beta``."""
    if critic_norm_fit.get("exponent") is None:
        return []
    beta, pref = critic_norm_fit["exponent"], critic_norm_fit["prefactor"]
    kappa = float(theory.kappa(spectrum.lambda_max, spectrum.lambda0))

    def critic_norm(m):
        return pref * np.asarray(m, np.float64) ** beta

    out = []
    for T in horizons:
        t = float(lr) * float(T)
        m = theory.breakdown_width(
            cfg.n, spectrum.lambda0, cfg.delta, kappa, t, critic_norm, cfg.radius_c
        )
        out.append({"step": int(T), "m_theory": float(m)})
    return json_ready(out)


# ----------------------------------------------------------------------------- the table


def _num(x, fmt="{:.0f}", none="n/a"):
    return none if x is None else fmt.format(x)


def _outcome_cell(summary, mode) -> str:
    o = summary.get("outcomes", {}).get(mode)
    if not o or not o["runs"]:
        return "no runs"
    return f"{o['broken']} broken, {o['censored']} unbroken, {o['diverged']}/{o['runs']} diverged"


def per_octave(widths) -> list[int]:
    """One width per octave (the one nearest each power of 2), for compact lines."""
    widths = sorted(widths)
    picked = []
    for k in range(int(math.log2(widths[0])), int(math.log2(widths[-1])) + 1):
        w = min(widths, key=lambda v: abs(math.log2(v) - k))
        if w not in picked:
            picked.append(w)
    return picked


def _mode_rows(summary) -> list[str]:
    lines = []
    for mode in MODES:
        th = summary["threshold"].get(mode)
        o = summary.get("outcomes", {}).get(mode, {})
        if not th:
            runs = o.get("runs", 0)
            what = f"all {runs} runs diverged" if runs else "no runs"
            lines.append(f"{mode:<13}{what}: no threshold or breakdown time")
            continue
        fit = summary["breakdown_time_exponent_fit"].get(mode) or {}
        law = (summary["law"].get(mode) or [{}])[-1]
        beta = summary["horizon_law"].get(mode) or {}
        alpha = "n/a" if law.get("alpha") is None else f"{law['alpha']:.2f}"
        b = "n/a" if beta.get("beta") is None else f"{beta['beta']:+.2f}"
        lines.append(
            f"{mode:<13}{th['text']:>9}{th['ci_text']:>19}{alpha:>7}{b:>7}  "
            f"{fit.get('text', 'n/a'):<30}{_outcome_cell(summary, mode)}"
        )
    horizons = summary.get("horizons") or [summary["horizon_steps"]]
    for mode in MODES:
        curve = {c["step"]: c for c in summary["threshold_vs_horizon"].get(mode, [])}
        if curve:
            cells = [f"T={T}: {curve[T]['text']} {curve[T]['ci_text']}" for T in horizons
                     if T in curve]  # fmt: skip
            lines.append(f"  m*(T) {mode:<12} " + ", ".join(cells))
    for mode in MODES:
        rows = {r["width"]: r for r in summary.get("survival", {}).get(mode, [])}
        if rows:
            h = summary["horizon_steps"]
            cells = [f"m={w}: {_num(rows[w]['median'], none=f'>{h}')}" for w in per_octave(rows)]
            lines.append(f"  median T_b {mode:<7} " + ", ".join(cells))
    return lines


def format_table(summary: dict) -> str:
    """A short text table: thresholds, law, exponents, outcomes, ratios, search, claims."""
    lines = [
        f"criterion: {summary['criterion_metric']} > "
        f"{_num(summary['criterion_threshold'], '{:.4g}')} "
        f"(lambda0 = {_num(summary['lambda0'], '{:.4g}')}), "
        f"horizon {summary['horizon_steps']} steps, {summary.get('seeds', 'n/a')} seeds",
        f"{'mode':<13}{'m*(T)':>9}{'95% CI':>19}{'alpha':>7}{'beta':>7}  "
        f"{'T_b exponent (censored)':<30}outcomes at the horizon",
        *_mode_rows(summary),
    ]
    ratio = summary.get("threshold_ratio") or {}
    if ratio.get("by_theta"):
        cells = [f"{r['label']}: {r['isotonic']['text']}" for r in ratio["by_theta"]]
        lines.append("m*_adv / m*_sup at ||H(T) - H(0)|| > " + ", ".join(cells))
    for crit, r in (ratio.get("by_criterion") or {}).items():
        ths = summary.get("criteria_thresholds", {})
        per = ", ".join(
            f"{m} {ths[m][crit]['text']} {ths[m][crit]['ci_text']}" for m in MODES
            if m in ths and crit in ths[m]
        )  # fmt: skip
        lines.append(f"criterion {crit}: m* {per}; ratio adv/sup {r['text']}")
    search = summary.get("search")
    if search:
        stops = ", ".join(f"{m}: {why}" for m, why in search["stops"].items())
        lines.append(
            f"search: {len(search['rounds'])} rounds, {search['run_steps']:.3g} run-steps, "
            f"{search['seconds']:.0f}s; stopped: {stops}"
        )
    total = sum(c["runs"] for c in summary.get("diverged", {}).values()) or len(summary["runs"])
    wall = summary.get("wall_seconds")
    lines.append(
        f"compiles: {summary.get('compiles', 'n/a')}, diverged runs: "
        f"{summary.get('diverged_runs', 0)}/{total}, wall {_num(wall, '{:.0f}s')}"
    )
    for rec in summary.get("claims", []):
        lines.append(f"[{rec['verdict']}] {rec['claim']}")
    return "\n".join(lines)
