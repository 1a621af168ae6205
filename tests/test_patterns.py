"""Pattern metrics on synthetic fields of known structure."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prd_jax.turing import patterns as pt

N = 64
Y, X = np.mgrid[0:N, 0:N]


def stripes(wavelength: float, angle_deg: float = 0.0) -> np.ndarray:
    th = np.deg2rad(angle_deg)
    return np.cos(2 * np.pi * (X * np.cos(th) + Y * np.sin(th)) / wavelength)


def hex_spots() -> np.ndarray:
    """Three plane waves at ~120°: wavevectors (8, 0), (−4, ±7) cycles per 64 pixels."""
    return sum(np.cos(2 * np.pi * (kx * X + ky * Y) / N) for kx, ky in [(8, 0), (-4, 7), (-4, -7)])


def disks(centres, radius) -> np.ndarray:
    f = np.zeros((N, N))
    for cy, cx in centres:
        f[(Y - cy) ** 2 + (X - cx) ** 2 <= radius**2] = 1.0
    return f


@pytest.mark.parametrize(
    "wavelength,angle,side,tol",
    [
        (8.0, 0.0, None, 1e-6),  # whole number of periods: exact
        (16.0, 90.0, None, 1e-6),
        (8.0, 0.0, 2.5, 1e-6),  # in length units: 8 px of a 64-px field of side 2.5
        (10.0, 30.0, None, 0.05),  # oblique, not periodic on the grid: within 5%
        (6.5, 60.0, None, 0.05),
    ],
)
def test_dominant_wavelength_of_stripes(wavelength, angle, side, tol):
    lam = float(pt.dominant_wavelength(jnp.asarray(stripes(wavelength, angle)), side=side))
    expected = wavelength * (1.0 if side is None else side / N)
    assert lam == pytest.approx(expected, rel=tol)


def test_spots_and_stripes_are_told_apart():
    s = pt.pattern_stats(stripes(8.0), side=None)
    h = pt.pattern_stats(hex_spots(), side=None)
    # hexagonal lattice of wavevector length 8 cycles / 64 px (up to the (−4, 7) rounding)
    assert h["dominant_wavelength"] == pytest.approx(8.0, rel=0.02)
    assert s["anisotropy"] == pytest.approx(1.0, abs=1e-6) and h["anisotropy"] < 0.05
    assert s["euler"] == 0 and h["euler"] == 56  # one per spot: 56 spots in the torus
    assert s["class"] == "stripes/labyrinth" and h["class"] == "spots"
    holes = pt.pattern_stats(-hex_spots())
    assert holes["euler"] == -56 and holes["class"] == "spots"
    assert s["spectral_entropy"] < 0.1 and h["spectral_entropy"] < 0.3


def test_euler_characteristic_counts_blobs_and_holes():
    three = disks([(10, 10), (30, 40), (50, 20)], radius=4)
    assert float(pt.euler_characteristic(jnp.asarray(three))) == 3
    assert float(pt.euler_characteristic(jnp.asarray(1.0 - three))) == -3
    annulus = disks([(32, 32)], 12) - disks([(32, 32)], 6)
    assert float(pt.euler_characteristic(jnp.asarray(annulus))) == 0
    # a blob touching the image edge: one component either way
    edge = disks([(0, 32)], 6)
    assert float(pt.euler_characteristic(jnp.asarray(edge), periodic=True)) == 1
    assert float(pt.euler_characteristic(jnp.asarray(edge), periodic=False)) == 1
    # a disk's boundary length ≈ its circumference (π/4 correction of the pixel count)
    blen = float(pt.boundary_length(jnp.asarray(disks([(32, 32)], 12))))
    assert blen == pytest.approx(2 * math.pi * 12, rel=0.05)


def test_morans_i_closed_form_and_noise():
    # periodic stripes along x: lag-1 correlation cos(2π/λ) along x and 1 along y
    lam = 8.0
    i = float(pt.morans_i(jnp.asarray(stripes(lam))))
    assert i == pytest.approx((1 + math.cos(2 * math.pi / lam)) / 2, abs=1e-5)
    noise = np.random.default_rng(0).normal(size=(N, N))
    assert abs(float(pt.morans_i(jnp.asarray(noise)))) < 0.03
    assert abs(float(pt.morans_i(jnp.asarray(noise), periodic=False))) < 0.03
    assert float(pt.morans_i(jnp.asarray(stripes(lam)), periodic=False)) > 0.8


def test_noise_has_high_entropy_and_is_mixed():
    noise = np.random.default_rng(1).normal(size=(N, N))
    stats = pt.pattern_stats(noise)
    assert stats["spectral_entropy"] > 0.9 and stats["class"] == "mixed/chaotic"


def test_uniform_and_frozen_detection():
    flat = np.full((N, N), 0.3)
    assert bool(pt.is_uniform(jnp.asarray(flat)))
    assert bool(pt.is_uniform(jnp.asarray(flat + 1e-4 * np.sin(X))))
    assert bool(pt.is_uniform(jnp.asarray(0.5 + 0.01 * stripes(8.0))))  # ripple on a state
    assert not bool(pt.is_uniform(jnp.asarray(stripes(8.0))))
    stats = pt.pattern_stats(flat)
    assert stats["uniform"] and stats["class"] == "uniform"
    assert math.isnan(stats["dominant_wavelength"])
    a = jnp.asarray(stripes(8.0))
    assert bool(pt.is_frozen(a, a + 1e-5)) and float(pt.relative_change(a, a)) == 0.0
    shifted = jnp.asarray(np.roll(stripes(8.0), 2, axis=1))  # moved by a quarter wavelength
    assert not bool(pt.is_frozen(a, shifted))
    assert float(pt.relative_change(a, shifted)) == pytest.approx(math.sqrt(2), rel=1e-4)
    moving = pt.pattern_stats(shifted, previous=a)
    assert not moving["frozen"] and moving["class"] == "mixed/chaotic"


def test_radial_spectrum_and_rectangular_non_periodic_fields():
    freqs, power = pt.radial_power_spectrum(jnp.asarray(stripes(8.0)), side=2.0)
    assert float(freqs[1]) == pytest.approx(0.5)  # ring width 1/side
    assert int(jnp.argmax(power)) == 8 and float(power[0]) == 0.0
    # a weight-matrix-like rectangle (rows x many columns) with stripes of period 14 columns
    rows, cols = 24, 392
    field = np.cos(2 * np.pi * np.arange(cols) / 14.0)[None, :] * np.ones((rows, 1))
    field = field + 0.1 * np.random.default_rng(2).normal(size=(rows, cols))
    stats = pt.pattern_stats(field, periodic=False)
    assert stats["dominant_wavelength"] == pytest.approx(14.0, rel=0.1)
    assert all(np.isfinite(v) for v in stats.values() if isinstance(v, float))
    # 28x28 images (a neuron's input weights)
    img = np.random.default_rng(3).normal(size=(28, 28))
    assert pt.pattern_stats(img, periodic=False)["class"] == "mixed/chaotic"


def test_metrics_jit_and_vmap_match_single_calls():
    fields = jnp.asarray(np.stack([stripes(8.0), hex_spots(), stripes(16.0, 90.0)]))
    batched = jax.jit(jax.vmap(lambda f: pt.pattern_metrics(f, side=2.5)))(fields)
    labels = pt.classify_batch(batched)
    assert labels == ["stripes/labyrinth", "spots", "stripes/labyrinth"]
    for i in range(3):
        single = pt.pattern_metrics(fields[i], side=2.5)
        for key, value in single.items():
            np.testing.assert_allclose(np.asarray(batched[key][i]), np.asarray(value), rtol=1e-5)
    with pytest.raises(ValueError, match="2-D"):
        pt.pattern_metrics(fields)


# ------------------------------------------------ the pattern experiments' claims (paired seeds)


def test_pattern_experiment_claims_are_paired_by_seed_and_recomputable():
    import dataclasses

    from experiments import patterns_mnist
    from prd_jax import claims

    cfg = dataclasses.replace(patterns_mnist.PRESETS["tiny"], dataset="synthetic", seeds=3)
    results, arrays = patterns_mnist.run(cfg)
    recs = {r["id"]: r for r in results["claims"]}
    assert len(recs) == len(results["claims"])  # unique ids
    for key, cid, _, _ in patterns_mnist.COMPARISONS:
        rec = recs[cid]
        assert rec["kind"] == "comparison" and rec["seeds"] == 3
        per_seed = results["summary"]["per_seed"]
        pairs = zip(per_seed["adversarial"], per_seed["supervised"], strict=True)
        expected = [a[key] - s[key] for a, s in pairs]
        np.testing.assert_allclose(rec["measured"], expected)
        assert rec["verdict"] == "inconclusive"  # 3 < 5 seeds: never judged
        assert rec["setting"]["seeds"] == 3 and rec["setting"]["train"] == "U,V"
    span = recs["drift_in_data_span"]
    assert span["kind"] == "check" and span["verdict"] == "passes"  # an identity: no support
    # Beside the comparisons at the horizon: the L_sup gap, and drift and KS at matched L_sup.
    assert recs["loss_sup_gap"]["kind"] == "finding" and recs["loss_sup_gap"]["seeds"] == 3
    for cid in ("drift_adv_gt_sup_at_matched_loss", "ks_u_adv_gt_sup_at_matched_loss"):
        assert recs[cid]["kind"] == "comparison" and recs[cid]["seeds"] == 3
    matched = results["summary"]["matched_loss"]
    for s in range(3):  # both modes read at the same L_sup (the larger final one)
        target = matched["target"][s]
        assert target == pytest.approx(
            max(results["summary"]["final_loss_sup"][m][s] for m in ("supervised", "adversarial"))
        )
    for rec in results["claims"]:
        assert claims.judge(rec) == rec["verdict"]
    # One drift curve per seed and mode, for the figure.
    assert arrays["drift_rel_adversarial"].shape == (3, arrays["log_t"].size)


def test_medium_presets_exist_and_push_the_drift():
    """The medium presets (docs/medium): CPU-sized, 5 seeds, at a scale where ‖Δu_j‖ can reach
    ‖u_j(0)‖ (14x14 or 7x7 images, small m)."""
    from experiments import embedding, feature_vis, patterns_fashion_mnist, patterns_mnist

    for module in (patterns_mnist, patterns_fashion_mnist, embedding, feature_vis):
        quick, medium = module.PRESETS["quick"], module.PRESETS["medium"]
        assert medium.seeds >= 5 and medium.factor >= 2 and medium.steps >= quick.steps
        assert medium.n * medium.width * medium.steps <= 5e8  # CPU-sized (paper presets: ~2e10)
