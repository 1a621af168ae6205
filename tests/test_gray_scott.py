"""Gray-Scott: discretisation, both solvers, batching, dt guard, health, linear stability."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prd_jax.turing import gray_scott as gs
from prd_jax.turing import patterns as pt
from prd_jax.turing import stability as st

H_PEARSON = gs.PEARSON_SIDE / gs.PEARSON_N  # Pearson's grid spacing, kept on small grids


def small_config(n: int, **kwargs) -> gs.GSConfig:
    """A grid of n points at Pearson's spacing (a 256-grid's n×n corner)."""
    return gs.GSConfig(n=n, side=H_PEARSON * n, **kwargs)


def mode_field(n: int, mx: int, my: int) -> np.ndarray:
    i = np.arange(n)
    return np.cos(2 * np.pi * (mx * i[None, :] + my * i[:, None]) / n)


def mode_amplitude(field, mode) -> float:
    f = np.asarray(field, float)
    return float(2.0 * np.mean((f - f.mean()) * mode))


# ---------------------------------------------------------------- discretisation


@pytest.mark.parametrize("mx,my", [(1, 0), (3, 2), (7, 5), (16, 16)])
def test_laplacian_matches_discrete_eigenvalue(mx, my):
    n, side = 32, 1.7
    dx = side / n
    f = mode_field(n, mx, my)
    lam = -(4 - 2 * np.cos(2 * np.pi * mx / n) - 2 * np.cos(2 * np.pi * my / n)) / dx**2
    lap = np.asarray(gs.laplacian_5pt(jnp.asarray(f, jnp.float32), dx))
    np.testing.assert_allclose(lap, lam * f, atol=2e-5 * abs(lam))


@pytest.mark.parametrize("method,dt", [("fd", 1.0), ("etdrk4", 5.0)])
def test_pure_diffusion_conserves_mass_and_decays_each_mode(method, dt):
    # F = k = 0 with v = 0 leaves du/dt = Du ∇²u; with u = 0 it leaves dv/dt = Dv ∇²v.
    n, t_end = 32, 40.0
    cfg = small_config(n, method=method, dt=dt)
    m1, m2 = mode_field(n, 1, 0), mode_field(n, 2, 1)
    field = 0.5 + 0.1 * m1 + 0.05 * m2
    zero = np.zeros_like(field)
    state = gs.GSState(
        jnp.asarray(np.stack([field, zero]), jnp.float32),
        jnp.asarray(np.stack([zero, field]), jnp.float32),
    )
    params = gs.GSParams(jnp.zeros(2), jnp.zeros(2))
    run = gs.simulate(cfg, state, params, gs.steps_for_times([0.0, t_end], dt))
    out = [np.asarray(run.u[0, -1]), np.asarray(run.v[1, -1])]
    for final, D, other in [(out[0], cfg.Du, run.v[0, -1]), (out[1], cfg.Dv, run.u[1, -1])]:
        assert np.all(np.asarray(other) == 0.0)  # the other species stays exactly zero
        np.testing.assert_allclose(final.mean(), field.mean(), rtol=1e-6)  # mass
        for mode, amp0, (mx, my) in [(m1, 0.1, (1, 0)), (m2, 0.05, (2, 1))]:
            qx, qy = 2 * np.pi * mx / cfg.side, 2 * np.pi * my / cfg.side
            if method == "fd":
                h = cfg.dx
                lam = (4 - 2 * np.cos(qx * h) - 2 * np.cos(qy * h)) / h**2
                expected = amp0 * (1 - dt * D * lam) ** (t_end / dt)
            else:
                expected = amp0 * np.exp(-D * (qx**2 + qy**2) * t_end)
            assert abs(expected / amp0) < 0.9  # the mode did decay noticeably
            np.testing.assert_allclose(mode_amplitude(final, mode), expected, rtol=2e-4)


def smooth_bump(n: int, side: float, width: float) -> gs.GSState:
    x = (np.arange(n) + 0.5) * side / n
    r2 = ((x[None, :] - side / 2) ** 2 + (x[:, None] - side / 2) ** 2) / width**2
    v = 0.25 * np.exp(-r2)
    return gs.GSState(jnp.asarray(1.0 - 2.0 * v, jnp.float32), jnp.asarray(v, jnp.float32))


def test_solvers_agree_on_a_short_run_and_fd_converges_at_second_order():
    # A spot of width 0.08 splitting for 100 time units (v changes by 0.3). Euler's time
    # error is made negligible (dt = 0.05); the 5-point stencil's O(dx²) error remains.
    side, width, t_end = 0.5, 0.08, 100.0
    params = gs.GSParams(jnp.float32(0.025), jnp.float32(0.055))
    errors = []
    for n in (32, 64):
        fd = gs.GSConfig(n=n, side=side, dt=0.05)
        spec = gs.GSConfig(n=n, side=side, dt=0.5, method="etdrk4")
        state = smooth_bump(n, side, width)
        a = gs.simulate(fd, state, params, gs.steps_for_times([0.0, t_end], fd.dt))
        b = gs.simulate(spec, state, params, gs.steps_for_times([0.0, t_end], spec.dt))
        assert np.abs(np.asarray(b.v[-1] - b.v[0])).max() > 0.25  # the fields did evolve
        errors.append(
            max(float(jnp.abs(a.u[-1] - b.u[-1]).max()), float(jnp.abs(a.v[-1] - b.v[-1]).max()))
        )
    assert errors[1] < 0.03  # close at n = 64 (≈ 0.022 measured)
    assert errors[0] / errors[1] > 3.0  # ≈ 4 when dx halves: second order


def test_solvers_agree_on_pattern_wavelength():
    n, t_end = 96, 4000.0
    fd, spec = small_config(n), small_config(n, method="etdrk4", dt=2.5)
    state = gs.pearson_initial_state(jax.random.key(3), n, square=16)
    params = gs.GSParams(jnp.float32(0.025), jnp.float32(0.055))
    a = gs.simulate(fd, state, params, gs.steps_for_times([t_end], fd.dt))
    b = gs.simulate(spec, state, params, gs.steps_for_times([t_end], spec.dt))
    assert gs.check_health(a)["ok"] and gs.check_health(b)["ok"]
    lam_a = float(pt.dominant_wavelength(a.v[-1], side=fd.side))
    lam_b = float(pt.dominant_wavelength(b.v[-1], side=spec.side))
    assert 0.1 < lam_a < 0.2  # about 14 grid points, as in Pearson's labyrinths
    assert abs(lam_a - lam_b) / lam_b < 0.10  # ≈ 2% measured


# ---------------------------------------------------------------- batching and API


def test_vmapped_grid_equals_individual_runs():
    n = 32
    cfg = small_config(n)
    params = gs.param_grid([0.03, 0.04], [0.055, 0.06])
    states = gs.initial_states(jax.random.key(0), 4, n, square=8)
    batch = gs.simulate(cfg, states, params, [0, 150, 300])
    assert batch.u.shape == (4, 3, n, n) and batch.times.shape == (3,)
    np.testing.assert_array_equal(np.asarray(batch.times), [0.0, 150.0, 300.0])
    for i in range(4):
        single = gs.simulate(
            cfg,
            gs.GSState(states.u[i], states.v[i]),
            gs.GSParams(params.F[i], params.k[i]),
            [0, 150, 300],
        )
        np.testing.assert_allclose(np.asarray(single.v), np.asarray(batch.v[i]), atol=1e-6)
        np.testing.assert_allclose(np.asarray(single.u), np.asarray(batch.u[i]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(batch.u[:, 0]), np.asarray(states.u))


def test_batch_of_parameters_compiles_once(monkeypatch, request):
    """One trace for a whole batch of (F, k) cells; new rates, initial states or snapshot
    steps (same count) reuse it. A Python counter inside the traced function counts traces
    (it runs while JAX traces, never when the compiled program runs); the simulator's own
    compile cache is emptied first, so the count does not depend on what other tests ran."""
    traces = []
    make_simulator = gs.make_simulator

    def counting_simulator(cfg):
        run = make_simulator(cfg)

        def traced(state0, params, snapshot_steps):
            traces.append(params.F.shape)  # per-cell shape () under vmap
            return run(state0, params, snapshot_steps)

        return traced

    monkeypatch.setattr(gs, "make_simulator", counting_simulator)
    gs._compiled.cache_clear()
    request.addfinalizer(gs._compiled.cache_clear)  # drop the counting programs afterwards
    n, cfg = 16, small_config(16)
    states = gs.initial_states(jax.random.key(0), 6, n, square=4)
    grid = gs.param_grid([0.03, 0.04], [0.05, 0.055, 0.06])
    first = gs.simulate(cfg, states, grid, [0, 5, 10])
    assert first.v.shape == (6, 3, n, n)
    assert traces == [()]  # one trace of the per-cell function, vmapped over 6 cells
    other = gs.param_grid([0.02, 0.025, 0.05], [0.045, 0.065])
    new_states = gs.initial_states(jax.random.key(1), 6, n, square=4)
    gs.simulate(cfg, new_states, other, [3, 7, 12])
    assert traces == [()]  # other (F, k), initial states and steps: no retrace
    gs.simulate(cfg, states, grid, [0, 5])
    assert len(traces) == 2  # a different snapshot count is a new static shape: the counter
    # does see retraces


def test_pearson_initial_state():
    state = gs.pearson_initial_state(jax.random.key(1), n=64, square=20)
    u, v = np.asarray(state.u), np.asarray(state.v)
    assert u.shape == v.shape == (64, 64) and u.dtype == np.float32
    inside = np.zeros((64, 64), bool)
    inside[22:42, 22:42] = True
    assert np.all(np.abs(u[inside] - 0.5) <= 0.005 + 1e-7)
    assert np.all(np.abs(v[inside] - 0.25) <= 0.0025 + 1e-7)
    assert np.all(np.abs(u[~inside] - 1.0) <= 0.01 + 1e-7) and np.all(v[~inside] == 0.0)
    assert u[~inside].std() > 1e-3  # the noise is there


def test_snapshot_schedule_validation():
    with pytest.raises(ValueError, match="non-decreasing"):
        gs.validate_snapshot_steps([0, 10, 5])
    with pytest.raises(ValueError, match="whole step counts"):
        gs.validate_snapshot_steps([0.5])
    with pytest.raises(ValueError, match="multiples of dt"):
        gs.steps_for_times([0.0, 1.0], 0.3)
    np.testing.assert_array_equal(gs.steps_for_times([0, 3, 6], 1.5), [0, 2, 4])


# ---------------------------------------------------------------- dt guard and health


def test_dt_guard_refuses_unstable_explicit_step():
    limit = gs.fd_dt_limit(H_PEARSON, gs.PEARSON_DU, gs.PEARSON_DV)
    assert limit == pytest.approx(H_PEARSON**2 / (4 * 2e-5)) and 1.19 < limit < 1.2
    gs.GSConfig(dt=1.0)  # Pearson's step is accepted
    with pytest.raises(ValueError) as err:
        gs.GSConfig(dt=1.25)
    msg = str(err.value)
    assert "dt=1.25" in msg and "1.192" in msg and "etdrk4" in msg
    gs.GSConfig(dt=5.0, method="etdrk4")  # the exponential integrator has no such limit
    with pytest.raises(ValueError, match="method"):
        gs.GSConfig(method="rk4")
    with pytest.raises(ValueError, match="GSConfig.side"):
        gs.GSConfig(side=-1.0)


def test_health_flags_grid_instability_that_the_diffusive_guard_allows():
    # At F=0.08, k=0.035 the reaction adds to the grid-scale decay rate: dt=1.15 passes the
    # diffusive guard (limit 1.19) but exceeds the reaction-aware limit (~1.0).
    F, k = 0.08, 0.035
    assert gs.euler_dt_limit(H_PEARSON, 2e-5, 1e-5, F, k) < 1.0 < 1.15
    assert gs.euler_dt_limit(H_PEARSON, 2e-5, 1e-5, 0.025, 0.055) > 1.0
    n = 32
    u_star, v_star = st.uniform_states(F, k)[1]
    noise = 1e-3 * jax.random.uniform(jax.random.key(0), (n, n), minval=-1.0, maxval=1.0)
    state = gs.GSState(u_star + noise, v_star + jnp.zeros((n, n)))
    params = gs.GSParams(jnp.float32(F), jnp.float32(k))
    bad = gs.simulate(small_config(n, dt=1.15), state, params, [0, 60])
    report = gs.check_health(bad)
    assert not report["ok"] and (report["grid_unstable"] or report["blown_up"])
    assert report["first_bad_time"] == pytest.approx(69.0)
    good = gs.simulate(small_config(n, dt=0.5), state, params, [0, 138])
    assert gs.check_health(good)["ok"], gs.check_health(good)


def test_health_reports_blow_up_and_negativity():
    S = 3
    base = dict(
        times=jnp.arange(S, dtype=jnp.float32),
        u=jnp.zeros((S, 2, 2)),
        v=jnp.zeros((S, 2, 2)),
        min_u=jnp.zeros(S),
        min_v=jnp.zeros(S),
        max_abs=jnp.ones(S),
        finite=jnp.ones(S, bool),
        checkerboard=jnp.zeros(S),
    )
    assert gs.check_health(gs.GSRun(**base))["ok"]
    nan = gs.GSRun(**{**base, "finite": jnp.array([True, False, False])})
    with pytest.raises(FloatingPointError, match="t = 1"):
        gs.assert_healthy(nan)
    neg = gs.GSRun(**{**base, "min_v": jnp.array([0.0, 0.0, -0.1])})
    with pytest.warns(RuntimeWarning, match="negative"):
        report = gs.assert_healthy(neg)
    assert report["negative"] and report["first_bad_time"] == 2.0


# ---------------------------------------------------------------- linear stability


def test_uniform_states_are_fixed_points_and_saddle_node():
    F = 0.025
    k_sn = float(st.saddle_node_k(F))
    assert k_sn == pytest.approx(math.sqrt(F) / 2 - F) and k_sn == pytest.approx(0.0540569, 1e-5)
    assert st.uniform_states(F, 0.055) == [(1.0, 0.0)]
    assert st.uniform_states(F, 0.060) == [(1.0, 0.0)]
    assert len(st.uniform_states(F, k_sn - 1e-4)) == 3
    for F, k in [(0.025, 0.05), (0.04, 0.058), (0.01, 0.03), (0.07, 0.055)]:
        states = st.uniform_states(F, k)
        assert len(states) == 3 and states[1][1] > states[2][1]
        for u, v in states:
            ru, rv = gs.reaction(u, v, F, k)
            assert abs(ru) < 1e-13 and abs(rv) < 1e-13


@pytest.mark.parametrize("F,k", [(0.025, 0.055), (0.025, 0.05), (0.04, 0.06), (0.07, 0.0605)])
def test_jacobian_and_dispersion_match_autodiff(F, k):
    def R(x):
        return jnp.stack(gs.reaction(x[0], x[1], F, k))

    Du, Dv = 2e-5, 1e-5
    for u, v in st.uniform_states(F, k):
        J_ad = np.asarray(jax.jacfwd(R)(jnp.array([u, v], jnp.float32)), float)
        np.testing.assert_allclose(st.jacobian(u, v, F, k), J_ad, atol=2e-6)
        q = np.array([0.0, 10.0, 60.0, 150.0, 400.0])
        lam = st.dispersion_relation(q, u, v, F, k, Du, Dv)
        for qi, li in zip(q, lam, strict=True):
            eig = np.linalg.eigvals(J_ad - qi**2 * np.diag([Du, Dv]))
            assert li == pytest.approx(eig.real.max(), abs=1e-5)


@pytest.mark.parametrize("k", st.PAPER_KS)
def test_stability_report_at_paper_parameters(k):
    rep = st.stability_report(st.PAPER_F, k, st.PEARSON_DU, st.PEARSON_DV)
    assert rep.n_uniform_states == 1 and not rep.nontrivial_state_exists
    assert rep.discriminant < 0 and rep.saddle_node_k == pytest.approx(0.0540569, 1e-5)
    assert rep.uniform_states == [(1.0, 0.0)] and rep.turing_unstable == [False]
    (trivial,) = rep.states
    assert (trivial.u, trivial.v) == (1.0, 0.0)
    assert trivial.max_growth_rate == pytest.approx(-st.PAPER_F)  # at q = 0
    assert rep.max_growth_rate == [trivial.max_growth_rate]
    assert trivial.argmax_q == pytest.approx(0.0, abs=1e-3)
    assert trivial.stable_at_every_wavenumber and rep.stable_at_every_wavenumber == ["trivial"]
    assert not rep.linear_turing_instability


def test_stability_report_is_data_only():
    """Numbers, booleans, strings naming states, and lists of them: no sentences."""
    from prd_jax.results import json_ready

    data = json_ready(st.stability_report(0.07, 0.0605))
    assert data["n_uniform_states"] == 3 and len(data["states"]) == 3
    assert [s["name"] for s in data["states"]] == list(st.STATE_NAMES)

    def leaves(obj):
        if isinstance(obj, dict):
            return [x for v in obj.values() for x in leaves(v)]
        if isinstance(obj, list):
            return [x for v in obj for x in leaves(v)]
        return [obj]

    strings = [x for x in leaves(data) if isinstance(x, str)]
    assert set(strings) <= set(st.STATE_NAMES)


def test_turing_and_hopf_curves():
    # Above F = 1/16 the v+ state is stable to uniform perturbations up to the saddle-node,
    # and a thin Turing band lies just left of it.
    F = 0.07
    k_t, k_sn = float(st.turing_k(F)), float(st.saddle_node_k(F))
    assert np.isnan(st.hopf_k(F)) and k_t < k_sn
    below = st.turing_conditions(*st.uniform_states(F, k_t - 1e-4)[1], F, k_t - 1e-4, 2e-5, 1e-5)
    k_in = 0.5 * (k_t + k_sn)
    inside = st.turing_conditions(*st.uniform_states(F, k_in)[1], F, k_in, 2e-5, 1e-5)
    assert not below.turing_unstable and inside.turing_unstable
    rep = st.stability_report(F, k_in)
    assert rep.linear_turing_instability and rep.turing_unstable == [False, True, False]
    v_plus = rep.states[1]
    assert v_plus.max_growth_rate > 0 and v_plus.argmax_q > 0
    q_c = inside.q_critical  # where det(J − q²D) is smallest: negative, so λ(q_c) > 0
    assert st.dispersion_relation(q_c, *st.uniform_states(F, k_in)[1], F, k_in, 2e-5, 1e-5) > 0
    assert st.dispersion_relation(0.0, *st.uniform_states(F, k_in)[1], F, k_in, 2e-5, 1e-5) < 0
    # Hopf: tr J = 0 on the curve, for F < 1/16
    F = 0.025
    k_h = float(st.hopf_k(F))
    assert 0 < k_h < float(st.saddle_node_k(F))
    tr = st.turing_conditions(*st.uniform_states(F, k_h)[1], F, k_h, 2e-5, 1e-5).trace
    assert abs(tr) < 1e-9


# ---------------------------------------------------------------- experiment


@pytest.mark.parametrize("k", st.PAPER_KS)
def test_experiment_describes_the_paper_parameters(k):
    from experiments.gray_scott import describe_stability

    text = describe_stability(st.stability_report(st.PAPER_F, k))
    assert "no non-trivial uniform steady state" in text
    assert "stable at every wavenumber" in text
    assert "finite-amplitude perturbation" in text


def test_experiment_describes_a_turing_band():
    from experiments.gray_scott import describe_stability

    F = 0.07
    k_in = 0.5 * (float(st.turing_k(F)) + float(st.saddle_node_k(F)))
    text = describe_stability(st.stability_report(F, k_in))
    assert "two non-trivial uniform states" in text and "exists here" in text


def test_experiment_smoke(tmp_path, capsys):
    import json

    from experiments import gray_scott as exp
    from prd_jax import claims

    saved = exp.main(["--preset", "tiny", "--out", str(tmp_path)])
    for name in ("gray_scott.png", "gray_scott_map.png", "gray_scott_stability.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    result = json.loads((tmp_path / "gray_scott.json").read_text())
    assert result == saved and result["command"].startswith("python -m experiments.gray_scott")
    assert set(result["dominant_wavelength"]) == {"0.055", "0.060"}
    assert result["summary"]["nontrivial_uniform_states"] == {"0.055": 0, "0.060": 0}
    verdicts = [(c["kind"], c["verdict"]) for c in result["claims"]]
    assert verdicts[:2] == [("prediction", "holds"), ("upper_bound", "holds")]
    assert all(claims.judge(c) == c["verdict"] for c in result["claims"])
    rep = result["stability"]["0.055"]
    assert rep["nontrivial_state_exists"] is False and rep["turing_unstable"] == [False]
    assert "finite-amplitude perturbation" in rep["note"]
    assert len(result["map"]["labels"]) == 2 and len(result["map"]["labels"][0]) == 2
    with np.load(tmp_path / "gray_scott.npz") as z:  # read by experiments.pattern_comparison
        assert z["v_final"].shape == (2, 256, 256) and z["k"].tolist() == list(st.PAPER_KS)
    capsys.readouterr()
    for argv, words in [
        (["--preset", "bogus"], "invalid choice"),
        (["--preset", "quick", "--set", "map_dt=1.0"], "Euler limit"),
        (["--preset", "tiny", "--set", "map_dt=1.1"], "dt multiples"),
        (["--preset", "tiny", "--set", "map_F=0.04,0.03"], "first < last"),
    ]:
        with pytest.raises(SystemExit) as err:
            exp.main(argv)
        assert err.value.code == 2
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and words in message, message
