"""The width sweep's entry point: summary and files, resume, refusal to mix configs, corrupt
buckets, the command line end to end, and the search it runs by default (its runs equal the same
runs of a fixed grid; resuming it trains nothing twice)."""

import dataclasses
import json
import os
import subprocess
import sys

import jax
import pytest

from experiments import sweep, sweep_report
from experiments.plots.sweep import FIGURES
from prd_jax import grid, results
from prd_jax.results import ResultsError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEARCH = sweep.PRESETS["tiny"]  # the tiny preset runs the search
TINY = dataclasses.replace(SEARCH, search=False)  # the fixed grid of its widths


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    grid._batched_train.cache_clear()  # count compiles from scratch, whatever ran before
    return out, sweep.run(TINY, out, log=quiet)


def test_compile_count_equals_bucket_count(finished):
    _, summary = finished
    assert summary["compiles"] == len(grid.make_buckets(TINY.widths, TINY.bucket_ratio)) == 2


def test_summary_has_the_promised_fields(finished):
    out, summary = finished
    on_disk = json.loads((out / "summary.json").read_text())
    for mode in ("supervised", "adversarial"):
        assert "m_star" in on_disk["threshold"][mode] and "ci" in on_disk["threshold"][mode]
        assert mode in on_disk["drift_exponent"]
    for key in ("lambda0", "criterion", "compiles", "wall_seconds", "runs", "diverged_runs"):
        assert key in on_disk
    assert len(on_disk["runs"]) == 3 * 2 * 2
    keys = ("width", "seed", "lambda_adv", "breakdown_time", "diverged", "final_loss_sup")
    assert all(k in on_disk["runs"][0] for k in keys)
    for fig in on_disk["figures"]:
        assert (out / fig).stat().st_size > 1000
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["widths"] == list(TINY.widths)
    assert cfg["provenance"]["jax_version"] == jax.__version__


def test_resume_recomputes_only_the_missing_bucket(finished, tmp_path, monkeypatch):
    _, full = finished
    calls = []
    real = grid._compute_bucket

    def interrupted(*args, **kw):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C during the second bucket
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(grid, "_compute_bucket", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep.run(TINY, tmp_path, log=quiet)
    assert len(list(tmp_path.glob("bucket_*.npz"))) == 1  # the finished bucket is kept
    monkeypatch.setattr(grid, "_compute_bucket", real)
    with pytest.raises(ResultsError, match="--resume"):
        sweep.run(TINY, tmp_path, log=quiet)
    resumed = sweep.run(TINY, tmp_path, resume=True, log=quiet)
    assert resumed["compiles"] <= 1  # 0 when this process compiled that bucket before
    for key in ("threshold", "drift_exponent", "runs", "threshold_vs_horizon"):
        assert resumed[key] == full[key], key


def test_different_config_is_refused_and_corrupt_bucket_recomputed(finished, tmp_path):
    out, full = finished
    other = dataclasses.replace(TINY, seeds=3)
    with pytest.raises(ResultsError, match="differs in: seeds"):
        sweep.run(other, out, resume=True, log=quiet)
    # A corrupt bucket file is moved aside (not deleted) and recomputed on resume.
    for f in out.iterdir():
        if f.suffix in (".json", ".npz"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    victim = sorted(tmp_path.glob("bucket_*.npz"))[0]
    victim.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="unreadable"):
        resumed = sweep.run(TINY, tmp_path, resume=True, log=quiet)
    assert victim.with_suffix(".npz.corrupt").exists() and victim.exists()
    assert resumed["runs"] == full["runs"]


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-m", "experiments.sweep", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "cli"
    proc = _cli(
        "--preset", "tiny", "--set", "widths=4,8", "--set", "train.steps=10",
        "--set", "search_rules.max_width=16", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["horizon_steps"] == 10 and summary["search"]["rounds"][0]["reason"] == "start"
    assert set(summary["search"]["stops"]) == {"supervised", "adversarial"}
    assert "m*" in proc.stdout and "round 1 (all modes)" in proc.stdout and str(out) in proc.stdout


@pytest.mark.parametrize(
    "args, names",
    [
        (["--set", "widths=16,abc"], ["widths", "'16,abc'"]),
        (["--set", "widths=0,16"], ["SweepConfig.widths", "> 0"]),
        (["--set", "seeds=-2"], ["SweepConfig.seeds", "-2"]),
        (["--set", "lambda_adv=-1"], ["SweepConfig.lambda_adv", ">= 0"]),
        (["--set", "train.steps=0"], ["TrainConfig.steps", "positive int"]),
        (["--set", "criterion=vibes"], ["criterion", "vibes"]),
        (["--set", "train.critic=gan"], ["TrainConfig.critic", "wgan_gp"]),
        (["--set", "delta=2"], ["SweepConfig.delta", "(0, 1)"]),
        (["--set", "stepz=3"], ["unknown field"]),
        (["--wid", "16"], ["unrecognized"]),  # no abbreviations
    ],
)
def test_cli_bad_values_give_one_line_errors(args, names):
    proc = _cli("--preset", "tiny", *args, "--out", "/nonexistent/never-written")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in lines[0], lines[0]


def test_cli_help_lists_every_field_and_print_config_resolves():
    proc = _cli("--help")
    assert proc.returncode == 0
    for field in ("widths", "train.steps", "train.critic", "bucket_ratio"):
        assert f"  {field} (" in proc.stdout, field
    # The values shown are the quick preset's, what a bare command runs; the others' beside.
    assert "A bare command runs the quick preset." in " ".join(proc.stdout.split())
    assert "  train.steps (int) = 10000  [paper: 23000, tiny: 20]" in proc.stdout
    assert "  widths (tuple[int, ...]) = [16, 23, 32," in proc.stdout  # not the class defaults
    proc = _cli("--preset", "tiny", "--set", "train.steps=7", "--print-config")
    assert proc.returncode == 0, proc.stderr
    cfg = json.loads(proc.stdout)
    assert cfg["train"]["steps"] == 7 and cfg["widths"] == list(TINY.widths)


# ----------------------------------------------------------------------------- degenerate sweeps


def _lines():
    lines = []
    return lines, lambda *args: lines.append(" ".join(str(a) for a in args))


def test_every_run_diverged_counts_warns_and_skips_each_figure(finished, tmp_path):
    from prd_jax.data import sphere
    from prd_jax.train import suggest_lr

    lines, log = _lines()
    cfg = dataclasses.replace(TINY, lrs=(1e9,))  # lr is traced: the compiled buckets are reused
    summary = sweep.run(cfg, tmp_path, log=log)
    X, _ = sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out, cfg.targets)
    limit = suggest_lr(X, cfg.d_out, cfg.train.train_v, safety=1.0)
    warning = [line for line in lines if line.startswith("warning: lr 1e+09")]
    assert len(warning) == 1 and f"2/lambda_max = {limit:.4g}" in warning[0], lines
    per_mode = len(TINY.widths) * TINY.seeds
    for mode in ("supervised", "adversarial"):
        assert summary["diverged"][mode] == {"diverged": per_mode, "runs": per_mode}
    table = sweep_report.format_table(summary)
    assert table.count(f"all {per_mode} runs diverged") == 2 and "[> 0," not in table
    skipped = [line for line in lines if line.startswith("figure ") and "skipped" in line]
    assert len(skipped) == len(FIGURES) and all("diverged" in line for line in skipped)
    assert summary["figures"] == []
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["diverged"] == summary["diverged"] and on_disk["diverged_runs"] == 2 * per_mode
    # The table comes before the figure notes: the numbers never wait for a figure.
    assert lines.index(table) < lines.index(skipped[0])


def test_no_divergence_is_counted_and_warned_about_in_a_normal_sweep(finished):
    _, summary = finished
    per_mode = len(TINY.widths) * TINY.seeds
    assert summary["diverged"]["supervised"] == {"diverged": 0, "runs": per_mode}
    assert f"0/{per_mode} diverged" in sweep_report.format_table(summary)


@pytest.mark.parametrize(
    "changes",
    [
        dict(widths=(512, 1024), train=dataclasses.replace(TINY.train, steps=3, log_every=1)),
        dict(seeds=1, widths=(4, 8)),  # one seed, two widths: no interval, no exponent CI
        dict(n=1),  # one sample
    ],
    ids=["nothing-broke-down", "one-seed-two-widths", "n=1"],
)
def test_degenerate_sweeps_finish_with_a_summary_and_a_table(changes, tmp_path):
    lines, log = _lines()
    summary = sweep.run(dataclasses.replace(TINY, **changes), tmp_path, log=log)
    assert json.loads((tmp_path / "summary.json").read_text())["figures"] == summary["figures"]
    notes = [line for line in lines if line.startswith("figure ")]
    assert len(summary["figures"]) + len(notes) == len(FIGURES)  # drawn, or one line each
    assert all("could not be drawn" not in line for line in notes), notes
    for name in summary["figures"]:
        assert (tmp_path / name).stat().st_size > 1000
    assert "criterion:" in sweep_report.format_table(summary)


def test_cli_every_run_diverged_exits_0(tmp_path):
    proc = _cli("--preset", "tiny", "--set", "lrs=1e9", "--out", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "all 6 runs diverged" in proc.stdout
    assert "stability limit 2/lambda_max" in proc.stdout
    summary = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert summary["diverged_runs"] == 12  # the search stops: nothing to bracket
    assert summary["search"]["stops"] == {m: "every run diverged" for m in summary["outcomes"]}


def test_resume_with_overwrite_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ResultsError, match="--resume and --overwrite"):
        sweep.run(TINY, tmp_path / "x", resume=True, overwrite=True, log=quiet)
    assert not (tmp_path / "x").exists()


def test_a_figure_that_fails_is_skipped_and_the_others_are_drawn(tmp_path, monkeypatch):
    import experiments.plots.sweep as plots

    def broken(summary, runs):
        raise RuntimeError("a matplotlib bug\nwith a second line")

    monkeypatch.setitem(plots.FIGURES, "drift.png", broken)
    lines, log = _lines()
    summary = sweep.run(TINY, tmp_path, log=log)
    assert "drift.png" not in summary["figures"] and len(summary["figures"]) == len(FIGURES) - 1
    note = [line for line in lines if line.startswith("figure drift.png")]
    assert note == ["figure drift.png skipped: could not be drawn (RuntimeError: a matplotlib bug)"]


# ----------------------------------------------------------------------------- claims, outcomes


def test_claims_are_records_whose_verdicts_recompute_from_the_json(finished):
    from prd_jax import claims

    out, summary = finished
    on_disk = json.loads((out / "summary.json").read_text())
    records = on_disk["claims"]
    assert len({r["id"] for r in records}) == len(records) >= 6
    for rec in records:
        assert set(claims.FIELDS) <= set(rec), rec["id"]
        assert rec["verdict"] == claims.judge(rec), rec["id"]
        for key in ("d_out", "train", "critic", "lr", "critic_lr_per_unit_t", "steps", "n"):
            assert key in rec["setting"], (rec["id"], key)
        assert all(not isinstance(v, dict | list) for v in rec["setting"].values())
    kinds = {r["id"]: r["kind"] for r in records}
    assert kinds["adversarial_breaks_at_more_widths"] == "comparison"
    assert kinds["m_star_supervised"] == kinds["m_star_adversarial_change_in_T"] == "finding"
    # Two seeds: the comparison is not judged (it needs at least 5).
    comparison = next(r for r in records if r["kind"] == "comparison")
    assert len(comparison["measured"]) == TINY.seeds and comparison["verdict"] == "inconclusive"


def test_outcomes_survival_and_threshold_fit_are_consistent(finished):
    _, summary = finished
    for mode in ("supervised", "adversarial"):
        o = summary["outcomes"][mode]
        assert o["broken"] + o["censored"] + o["diverged"] == o["runs"]
        rows = summary["survival"][mode]
        assert [r["width"] for r in rows] == list(TINY.widths)
        assert sum(r["broken"] for r in rows) == o["broken"]
        assert sum(r["censored"] for r in rows) == o["censored"]
        th = summary["threshold"][mode]
        assert (
            sum(th["broken_per_width"]) == o["broken"] and th["runs"] == o["broken"] + o["censored"]
        )
        fitted = th["fitted"]
        assert all(a >= b for a, b in zip(fitted, fitted[1:], strict=False))  # non-increasing


def _synthetic_runs(diverged_adv, broken_sup_widths=2, seeds=5, widths=(16, 32, 64, 128)):
    """Flat runs (``GridResult.flat()`` keys) without training: kernel_dev crosses the
    criterion at a width-dependent step; ``diverged_adv``: which adversarial runs diverged."""
    import numpy as np

    steps = np.array([0, 1, 10, 100, 1000])
    rows = []
    for lam in (0.0, 1.0):
        for w in widths:
            for s in range(seeds):
                rows.append((w, s, lam))
    w, s, lam = (np.array(c) for c in zip(*rows, strict=True))
    rank = np.searchsorted(np.array(widths), w)
    # Supervised: the narrowest widths break at step 10; adversarial: every width, later when wider.
    first = np.where(lam == 0, np.where(rank < broken_sup_widths, 2, 99), 1 + rank)
    kd = (np.arange(len(steps))[None, :] >= first[:, None]).astype(float)
    div = np.zeros(len(w), bool)
    div[np.nonzero(lam > 0)[0][diverged_adv]] = True
    ones = np.ones((len(w), len(steps)))
    runs = dict(
        run_width=w, run_seed=s, run_lambda_adv=lam, run_lr=np.full(len(w), 0.1), diverged=div,
        kernel_dev=kd, drift_max=ones / np.sqrt(w)[:, None], drift_mean=ones / np.sqrt(w)[:, None],
        loss_sup=ones, critic_norm=ones * w[:, None],
    )  # fmt: skip
    return runs, steps


def _summarize(runs, steps, **changes):
    from prd_jax.kernels import Spectrum

    changes.setdefault("compare_criterion", None)  # the synthetic runs hold no lin_gap
    cfg = dataclasses.replace(TINY, widths=tuple(sorted(set(runs["run_width"].tolist()))),
                              seeds=len(set(runs["run_seed"].tolist())), **changes)  # fmt: skip
    spectrum = Spectrum(lambda0=2.0, lambda_max=4.0, kappa=2.0)
    return sweep_report.summarize(cfg, runs, steps, spectrum, {"lrs": [0.1]})


def test_a_mode_whose_runs_all_diverged_says_so_and_the_other_is_unaffected():
    import numpy as np

    runs, steps = _synthetic_runs(diverged_adv=slice(None))
    summary = _summarize(runs, steps)
    assert summary["outcomes"]["adversarial"] == {"runs": 20, "broken": 0, "censored": 0,
                                                  "diverged": 20}  # fmt: skip
    assert "adversarial" not in summary["threshold"]  # no runs with an outcome: no threshold
    table = sweep_report.format_table(summary)
    assert "adversarial  all 20 runs diverged: no threshold or breakdown time" in table
    assert "0/20 diverged" in table  # supervised
    ids = {r["id"]: r for r in summary["claims"]}
    assert "all_runs_diverged_adversarial" in ids and "m_star_adversarial" not in ids
    assert ids["adversarial_breaks_at_more_widths"]["verdict"] == "inconclusive"
    # Supervised: the two narrowest widths break, the threshold sits between 32 and 64.
    assert 32 < summary["threshold"]["supervised"]["m_star"] < 64
    assert np.isfinite(summary["threshold"]["supervised"]["m_star"])


def test_some_diverged_runs_are_counted_and_have_no_outcome():
    runs, steps = _synthetic_runs(diverged_adv=[0, 7, 13])
    summary = _summarize(runs, steps)
    o = summary["outcomes"]["adversarial"]
    assert o == {"runs": 20, "broken": 17, "censored": 0, "diverged": 3}
    assert "17 broken, 0 unbroken, 3/20 diverged" in sweep_report.format_table(summary)
    assert sum(r["diverged"] for r in summary["survival"]["adversarial"]) == 3
    assert summary["threshold"]["adversarial"]["runs"] == 17
    ids = {r["id"]: r for r in summary["claims"]}
    # Diverged runs are left out of every number, and counted.
    assert ids["m_star_adversarial"]["verdict"] == "finding"
    assert ids["m_star_adversarial"]["runs_used"] == 17
    assert ids["m_star_adversarial"]["runs_diverged"] == 3
    assert ids["adversarial_breaks_at_more_widths"]["runs_diverged"] == 3
    assert all("diverged_runs" not in r for r in summary["claims"])


def test_the_comparison_is_judged_with_five_seeds_and_can_fail():
    runs, steps = _synthetic_runs(diverged_adv=[])
    summary = _summarize(runs, steps)
    rec = next(r for r in summary["claims"] if r["id"] == "adversarial_breaks_at_more_widths")
    assert rec["measured"] == [2.0] * 5 and rec["verdict"] == "holds"
    # Swap the modes' outcomes: now supervision breaks more widths, and the claim fails.
    swapped = dict(runs, run_lambda_adv=1.0 - runs["run_lambda_adv"])
    summary = _summarize(swapped, steps)
    rec = next(r for r in summary["claims"] if r["id"] == "adversarial_breaks_at_more_widths")
    assert rec["verdict"] == "fails"


def test_overwrite_replaces_a_folder_of_another_config(tmp_path):
    """Refused without a flag (the message names --overwrite); replaced with --overwrite."""
    results.prepare_folder(tmp_path, {"seeds": 2}, resume=False)
    (tmp_path / "bucket_old.npz").write_bytes(b"old")
    with pytest.raises(ResultsError, match="--overwrite"):
        results.prepare_folder(tmp_path, {"seeds": 3}, resume=False)
    assert (tmp_path / "bucket_old.npz").exists()  # nothing lost by the refusal
    results.prepare_folder(tmp_path, {"seeds": 3}, resume=False, overwrite=True)
    assert not (tmp_path / "bucket_old.npz").exists()
    assert json.loads((tmp_path / "config.json").read_text())["config"] == {"seeds": 3}


# ----------------------------------------------------------------------------- the search


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("search")
    return out, sweep.run(SEARCH, out, log=quiet)


def test_a_finished_search_equals_run_grid_on_its_widths(searched):
    """Same config and seeds: every run the search trained equals the same run of a fixed grid
    over the search's final widths (to float32 reassociation: buckets pad differently)."""
    import numpy as np

    from prd_jax.data import sphere
    from prd_jax.train import suggest_lr

    _, summary = searched
    cfg = SEARCH
    X, Y = sphere(jax.random.key(cfg.data_seed), cfg.n, cfg.d_in, cfg.d_out, cfg.targets)
    lr = suggest_lr(X, cfg.d_out, cfg.train.train_v, cfg.lr_safety)
    rows = summary["runs"]
    widths = sorted({r["width"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    assert len(widths) > 3  # the search extended the start's grid
    fixed = grid.run_grid(cfg.train, X, Y, seeds=seeds, widths=widths, lambda_adv=(0.0, 1.0),
                          lr=(lr,))  # fmt: skip
    for r in rows:
        at = fixed.sel(seed=r["seed"], width=r["width"], lambda_adv=r["lambda_adv"], lr=lr)
        np.testing.assert_allclose(at.metrics["kernel_dev"][-1], r["final_kernel_dev"], rtol=1e-4,
                                   atol=1e-6)  # fmt: skip
        np.testing.assert_allclose(at.metrics["drift_max"][-1], r["final_drift_max"], rtol=1e-4)


def test_the_search_resumes_without_training_a_run_twice(searched, tmp_path, monkeypatch):
    out, full = searched
    for f in out.iterdir():  # a copy of the finished folder
        if f.suffix in (".json", ".npz"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    calls = []
    real = grid._compute_bucket
    monkeypatch.setattr(grid, "_compute_bucket", lambda *a, **k: calls.append(1) or real(*a, **k))
    resumed = sweep.run(SEARCH, tmp_path, resume=True, log=quiet)
    assert calls == []  # every block found in the folder
    assert all(r["cached"] for r in resumed["search"]["rounds"])
    for key in ("threshold", "runs", "threshold_vs_horizon", "claims"):
        assert resumed[key] == full[key], key
    assert resumed["search"]["stops"] == full["search"]["stops"]


def test_the_search_summary_says_why_each_mode_stopped(searched):
    _, summary = searched
    s = summary["search"]
    assert s["rounds"][0]["reason"] == "start" and len(s["rounds"]) >= 2
    assert set(s["stops"]) == {"supervised", "adversarial"}
    assert all(why for why in s["stops"].values())
    assert "search:" in sweep_report.format_table(
        summary
    ) and "stopped:" in sweep_report.format_table(summary)
    for th in summary["threshold"].values():
        if th["m_star"] is None:  # beyond the grid: one-sided, with its bound, never a number
            assert th["position"] in ("above_grid", "below_grid") and th["bound"] is not None
            assert th["text"].startswith((">", "<"))
