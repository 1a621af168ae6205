"""The width sweep's entry point: summary and files, resume, refusal to mix configs, corrupt
buckets, and the command line end to end."""

import dataclasses
import json
import os
import subprocess
import sys

import jax
import pytest

from experiments import sweep, sweep_report
from experiments.plots.sweep import FIGURES
from prd_jax import grid
from prd_jax.results import ResultsError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = sweep.PRESETS["tiny"]


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
        "--preset", "tiny", "--set", "widths=4,8", "--set", "train.steps=10", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["compiles"] == 1 and summary["horizon_steps"] == 10
    assert "m*" in proc.stdout and str(out) in proc.stdout


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
    assert "quick: 10000" in proc.stdout and "tiny: 20" in proc.stdout  # preset values shown
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
    assert json.loads((tmp_path / "d" / "summary.json").read_text())["diverged_runs"] == 12


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
