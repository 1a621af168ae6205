"""Pattern metrics for 2-D fields: Gray-Scott concentrations and neural-network weight images.

Every metric takes a real field ``(H, W)`` (a Gray-Scott ``v``, a weight row u_j reshaped
to 28×28, or a whole weight matrix) and is jittable and vmappable; classification is
host-side. Lengths are in the field's own units: ``side`` is the field's physical extent
(a float for a square, or ``(Ly, Lx)``); the default ``None`` means one unit per pixel, so
wavelengths come out in pixels.

``periodic=True`` treats the field as a torus (Gray-Scott on its periodic domain).
``periodic=False`` is for images with edges (weights): spectra are taken after a 2-D Hann
window, and neighbour statistics use only pairs inside the image.

Metrics (power P(q) = |FFT(field − mean)|², DC excluded):

* ``radial_power_spectrum``: P averaged over rings |q| ∈ [(j − ½)Δq, (j + ½)Δq).
* ``dominant_wavelength``: 1 / q*, q* the power-weighted mean frequency of the peak ring
  and its two neighbours (sub-bin accuracy); NaN for a uniform field.
* ``spectral_entropy``: −Σ p log p / log M over the M non-DC modes of p = P / ΣP; 0 for a
  single plane wave, about 1 for white noise.
* ``anisotropy``: (λ1 − λ2)/(λ1 + λ2) of the spectral orientation tensor Σ P q̂q̂ᵀ / ΣP;
  1 for parallel stripes, 0 for isotropic fields (labyrinths, hexagonal spots, noise).
* ``morans_i``: Moran's I with rook (4-neighbour) weights; ≈ 0 for noise, → 1 for smooth.
* ``euler_characteristic`` of the superlevel set {field > (min + max)/2} (pixels as closed
  squares, i.e. 8-connected foreground) and ``boundary_length`` of that set; their ratio
  ``euler_per_boundary`` = χ·λ / (boundary length), λ the dominant wavelength, separates
  spots (each spot adds +1, each hole −1: |ratio| ≈ 0.6–1) from stripes and labyrinths
  (χ ≈ 0), whatever fraction of the domain is patterned.
* ``relative_change`` (RMS change between snapshots over the std), ``is_uniform`` (a dead
  or nearly uniform field) and ``is_frozen`` (two snapshots nearly equal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

PATTERN_CLASSES = ("uniform", "spots", "stripes/labyrinth", "mixed/chaotic")

# Classification thresholds (see classify_pattern); tuned on synthetic fields and on
# Gray-Scott end states, documented there.
SPOTS_MIN_EULER = 0.4
STRIPES_MAX_EULER = 0.25
CHAOTIC_MIN_ENTROPY = 0.8
CHAOTIC_MIN_CHANGE = 0.3
SPOTS_MAX_AREA = 1.0


def _sides(field: Array, side) -> tuple[float, float]:
    H, W = field.shape[-2:]
    if side is None:
        return float(H), float(W)
    if isinstance(side, int | float):
        return float(side), float(side)
    Ly, Lx = side
    return float(Ly), float(Lx)


def _check_2d(field) -> Array:
    field = jnp.asarray(field)
    if field.ndim != 2:
        raise ValueError(f"pattern metrics take a 2-D field (vmap for batches), got {field.shape}")
    return field.astype(jnp.result_type(float))


def _hann(field: Array) -> Array:
    H, W = field.shape
    wy = 0.5 - 0.5 * jnp.cos(2.0 * jnp.pi * (jnp.arange(H, dtype=field.dtype) + 0.5) / H)
    wx = 0.5 - 0.5 * jnp.cos(2.0 * jnp.pi * (jnp.arange(W, dtype=field.dtype) + 0.5) / W)
    return wy[:, None] * wx[None, :]


def power_spectrum(field: Array, periodic: bool = True) -> Array:
    """2-D power |FFT(field − mean)|² / (H·W), ``(H, W)`` in ``np.fft`` order; P[0, 0] = 0."""
    field = _check_2d(field)
    z = field - jnp.mean(field)
    if not periodic:
        w = _hann(field)
        z = (z - jnp.sum(z * w) / jnp.sum(w)) * w
    P = jnp.abs(jnp.fft.fft2(z)) ** 2 / z.size
    return P.at[0, 0].set(0.0)


def _frequencies(shape, side) -> tuple[Array, Array]:
    """(fy, fx) grids in cycles per length unit, ``(H, W)`` each."""
    H, W = shape
    Ly, Lx = side
    fy = jnp.fft.fftfreq(H, d=Ly / H)
    fx = jnp.fft.fftfreq(W, d=Lx / W)
    return jnp.broadcast_to(fy[:, None], (H, W)), jnp.broadcast_to(fx[None, :], (H, W))


def _ring_geometry(shape, side):
    H, W = shape
    Ly, Lx = side
    # ring width: the finer of the two frequency resolutions (a rectangle leaves some rings
    # empty, with power 0, rather than blurring the long axis into the short one's bins)
    df = 1.0 / max(Ly, Lx)
    fy, fx = _frequencies(shape, side)
    fmag = jnp.sqrt(fy * fy + fx * fx)
    ring = jnp.rint(fmag / df).astype(jnp.int32)
    fmax = math.hypot(0.5 * H / Ly, 0.5 * W / Lx)
    n_rings = int(math.floor(fmax / df + 0.5)) + 1
    return ring, fmag, n_rings, df


def radial_power_spectrum(field: Array, side=None, periodic: bool = True) -> tuple[Array, Array]:
    """Radially averaged power spectrum.

    Args:
      field: ``(H, W)``. side: physical extent (float or ``(Ly, Lx)``); None = pixels.
    Returns:
      ``(freqs (R,), power (R,))``: ring centres j·Δq in cycles per length unit
      (Δq = 1 / max(Ly, Lx)) and the mean power of the modes in each ring (0 if empty);
      ring 0 (DC) has power 0.
    """
    field = _check_2d(field)
    sides = _sides(field, side)
    P = power_spectrum(field, periodic)
    ring, _, n_rings, df = _ring_geometry(field.shape, sides)
    total = jnp.zeros(n_rings, P.dtype).at[ring.ravel()].add(P.ravel())
    count = jnp.zeros(n_rings, P.dtype).at[ring.ravel()].add(1.0)
    power = jnp.where(count > 0, total / jnp.maximum(count, 1.0), 0.0)
    return jnp.arange(n_rings) * df, power


def dominant_frequency(field: Array, side=None, periodic: bool = True) -> Array:
    """Frequency (cycles per length unit) of the radial spectrum's peak, refined by the
    power-weighted mean over the peak ring and its neighbours. NaN if the field is flat."""
    freqs, power = radial_power_spectrum(field, side, periodic)
    power = power.at[0].set(0.0)
    j = jnp.argmax(power)
    idx = j + jnp.arange(-1, 2)
    valid = (idx >= 1) & (idx < power.shape[0])
    idx = jnp.clip(idx, 0, power.shape[0] - 1)
    w = jnp.where(valid, power[idx], 0.0)
    f = jnp.sum(w * freqs[idx]) / jnp.where(jnp.sum(w) > 0, jnp.sum(w), 1.0)
    return jnp.where(jnp.sum(power) > 0, f, jnp.nan)


def dominant_wavelength(field: Array, side=None, periodic: bool = True) -> Array:
    """Dominant wavelength 1 / q* in the field's length units (pixels if side is None)."""
    return 1.0 / dominant_frequency(field, side, periodic)


def spectral_entropy(field: Array, periodic: bool = True) -> Array:
    """Normalised Shannon entropy of the 2-D power distribution over non-DC modes, in [0, 1].

    Counts each real-field mode pair (q, −q) twice, so a single plane wave gives
    log 2 / log M ≈ 0 rather than exactly 0. NaN for a flat field.
    """
    P = power_spectrum(field, periodic)
    total = jnp.sum(P)
    p = P / jnp.where(total > 0, total, 1.0)
    h = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
    return jnp.where(total > 0, h / math.log(P.size - 1), jnp.nan)


def anisotropy(field: Array, side=None, periodic: bool = True) -> Array:
    """Spectral anisotropy (λ1 − λ2)/(λ1 + λ2) of T = Σ P q̂q̂ᵀ / Σ P, in [0, 1]."""
    field = _check_2d(field)
    P = power_spectrum(field, periodic)
    fy, fx = _frequencies(field.shape, _sides(field, side))
    f2 = fy * fy + fx * fx
    inv = jnp.where(f2 > 0, 1.0 / jnp.where(f2 > 0, f2, 1.0), 0.0)
    total = jnp.sum(P)
    norm = jnp.where(total > 0, total, 1.0)
    txx = jnp.sum(P * fx * fx * inv) / norm
    tyy = jnp.sum(P * fy * fy * inv) / norm
    txy = jnp.sum(P * fx * fy * inv) / norm
    a = jnp.sqrt((txx - tyy) ** 2 + 4.0 * txy**2) / jnp.where(total > 0, txx + tyy, 1.0)
    return jnp.where(total > 0, a, jnp.nan)


def morans_i(field: Array, periodic: bool = True) -> Array:
    """Moran's I with rook weights: I = (N / W) Σ_ij w_ij z_i z_j / Σ_i z_i², z = x − mean.

    Periodic: every pixel has 4 neighbours (W = 4N), so I = Σ z (z_right + z_down) /
    (2 Σ z²) = the mean lag-1 autocorrelation of the two axes. Non-periodic: only pairs
    inside the image. ≈ −1/(N−1) for white noise, → 1 for smooth fields, NaN if flat.
    """
    field = _check_2d(field)
    z = field - jnp.mean(field)
    ss = jnp.sum(z * z)
    if periodic:
        cross = jnp.sum(z * jnp.roll(z, -1, 0)) + jnp.sum(z * jnp.roll(z, -1, 1))
        n_pairs = 2.0 * z.size
    else:
        cross = jnp.sum(z[1:, :] * z[:-1, :]) + jnp.sum(z[:, 1:] * z[:, :-1])
        H, W = z.shape
        n_pairs = float(H * (W - 1) + (H - 1) * W)
    i = (z.size / n_pairs) * cross / jnp.where(ss > 0, ss, 1.0)
    return jnp.where(ss > 0, i, jnp.nan)


def _foreground(field: Array, threshold) -> Array:
    if threshold is None:
        threshold = 0.5 * (jnp.min(field) + jnp.max(field))
    return (field > threshold).astype(jnp.float32)


def euler_characteristic(field: Array, threshold=None, periodic: bool = True) -> Array:
    """Euler characteristic χ = V − E + F of the superlevel set {field > threshold}.

    Foreground pixels are closed unit squares (8-connected foreground); V, E, F count the
    distinct vertices, edges and squares. On the torus a full or empty set has χ = 0; each
    isolated blob adds 1 and each hole −1. The default threshold is (min + max)/2.
    Non-periodic fields are zero-padded (background outside the image).
    """
    field = _check_2d(field)
    b = _foreground(field, threshold)
    if not periodic:
        b = jnp.pad(b, 1)
    left = jnp.roll(b, 1, 1)
    up = jnp.roll(b, 1, 0)
    upleft = jnp.roll(up, 1, 1)
    faces = jnp.sum(b)
    # top edge of pixel (i, j) is shared with (i−1, j); left edge with (i, j−1)
    edges = jnp.sum(jnp.maximum(b, up)) + jnp.sum(jnp.maximum(b, left))
    # top-left vertex of (i, j) is shared by (i, j), (i−1, j), (i, j−1), (i−1, j−1)
    verts = jnp.sum(jnp.maximum(jnp.maximum(b, up), jnp.maximum(left, upleft)))
    return verts - edges + faces


def boundary_length(field: Array, side=None, threshold=None, periodic: bool = True) -> Array:
    """Length of the boundary of {field > threshold} in the field's length units.

    Counts foreground/background pixel edges (4-neighbour pairs) times the pixel size and
    the factor π/4 that makes the count unbiased for isotropic (randomly oriented) curves.
    """
    field = _check_2d(field)
    Ly, Lx = _sides(field, side)
    H, W = field.shape
    b = _foreground(field, threshold)
    if not periodic:
        b = jnp.pad(b, 1)
    vert_edges = jnp.sum(jnp.abs(b - jnp.roll(b, 1, 0)))  # horizontal boundary pieces
    horiz_edges = jnp.sum(jnp.abs(b - jnp.roll(b, 1, 1)))  # vertical boundary pieces
    return (math.pi / 4.0) * (vert_edges * (Lx / W) + horiz_edges * (Ly / H))


def is_uniform(field: Array, tol: float = 1e-2, cv_tol: float = 0.05) -> Array:
    """True for a flat ("dead") field: max − min ≤ tol · max(1, max |field|), or a nearly
    uniform one whose standard deviation is ≤ cv_tol · |mean| (a uniform state carrying a
    small decaying ripple)."""
    field = _check_2d(field)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(field)))
    flat = (jnp.max(field) - jnp.min(field)) <= tol * scale
    return flat | (jnp.std(field) <= cv_tol * jnp.abs(jnp.mean(field)))


def relative_change(previous: Array, current: Array) -> Array:
    """RMS(current − previous) / std(current): 0 for identical fields, ≈ √2 for two
    unrelated fields of equal variance (a pattern that has fully rearranged)."""
    previous, current = _check_2d(previous), _check_2d(current)
    scale = jnp.maximum(jnp.std(current), 1e-12)
    return jnp.sqrt(jnp.mean((current - previous) ** 2)) / scale


def is_frozen(previous: Array, current: Array, tol: float = 1e-3) -> Array:
    """True if two snapshots are nearly equal: max |Δ| ≤ tol · max(1, max |current|)."""
    previous, current = _check_2d(previous), _check_2d(current)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(current)))
    return jnp.max(jnp.abs(current - previous)) <= tol * scale


def pattern_metrics(
    field: Array, side=None, periodic: bool = True, previous: Array | None = None
) -> dict[str, Array]:
    """All scalar metrics of one field as a dict of 0-d arrays (jittable, vmappable).

    Keys: mean, std, uniform, dominant_wavelength, waves_across (min(Ly, Lx) / λ: how
    many wavelengths fit across the field), spectral_entropy, anisotropy, morans_i, euler,
    boundary_length, euler_per_boundary, blob_area (area of the superlevel set per unit of
    χ, or of its complement when χ < 0, in units of λ²: ≈ 0.3 for spots, ≫ 1 for worms),
    and with ``previous`` (an earlier snapshot of the same field) relative_change, frozen.
    """
    field = _check_2d(field)
    Ly, Lx = _sides(field, side)
    lam = dominant_wavelength(field, side, periodic)
    chi = euler_characteristic(field, periodic=periodic)
    blen = boundary_length(field, side, periodic=periodic)
    uniform = is_uniform(field)
    fg = jnp.mean(_foreground(field, None))
    blob_fraction = jnp.where(chi >= 0, fg, 1.0 - fg) / jnp.maximum(jnp.abs(chi), 1.0)
    out = {
        "mean": jnp.mean(field),
        "std": jnp.std(field),
        "uniform": uniform,
        "dominant_wavelength": lam,
        "waves_across": min(Ly, Lx) / lam,
        "spectral_entropy": spectral_entropy(field, periodic),
        "anisotropy": anisotropy(field, side, periodic),
        "morans_i": morans_i(field, periodic),
        "euler": chi,
        "boundary_length": blen,
        "euler_per_boundary": jnp.where(blen > 0, chi * lam / jnp.where(blen > 0, blen, 1.0), 0.0),
        "blob_area": blob_fraction * Ly * Lx / lam**2,
    }
    if previous is not None:
        out["relative_change"] = relative_change(previous, field)
        out["frozen"] = is_frozen(previous, field)
    return out


def pattern_stats(
    field, side=None, periodic: bool = True, previous=None
) -> dict[str, float | bool | str]:
    """Host-side :func:`pattern_metrics` as plain Python scalars, plus ``"class"`` and
    ``"shape_class"`` (the class from the field's shape alone, ignoring ``previous``)."""
    metrics = pattern_metrics(jnp.asarray(field), side, periodic, previous)
    stats = {key: _to_python(value) for key, value in metrics.items()}
    stats["class"] = classify_pattern(stats)
    stats["shape_class"] = classify_pattern(stats, use_change=False)
    return stats


def _to_python(value):
    value = np.asarray(value)
    if value.dtype == bool:
        return bool(value)
    return float(value)


def classify_pattern(stats: Mapping, use_change: bool = True) -> str:
    """Label a field "uniform", "spots", "stripes/labyrinth" or "mixed/chaotic".

    Rules, applied in order to the metrics of :func:`pattern_metrics` (host-side):

    1. ``uniform`` (range ≤ 1% of the scale, or std ≤ 5% of |mean|) → "uniform".
    2. ``spectral_entropy > CHAOTIC_MIN_ENTROPY`` (no dominant scale, noise-like) or, when
       an earlier snapshot was given, ``relative_change > CHAOTIC_MIN_CHANGE`` (the
       pattern still rearranges: RMS change above 0.3 of its standard deviation between
       the two snapshots; Gray-Scott labyrinths and spots settled by t = 10 000 change by
       0.05-0.2 over 500 time units, chaotic or replicating ones by 0.5-1.4) →
       "mixed/chaotic". ``use_change=False`` skips the change test (shape only).
    3. ``|euler_per_boundary| >= SPOTS_MIN_EULER`` → "spots" (isolated blobs, or holes:
       each adds ±1 to χ for about one wavelength of boundary; hexagonal spots give 0.5,
       Gray-Scott spots 0.55-0.75), if also ``blob_area <= SPOTS_MAX_AREA`` (blobs of
       about a spot's size; a few long worms also give a large |χ| per boundary, and are
       called "mixed/chaotic").
    4. ``|euler_per_boundary| <= STRIPES_MAX_EULER`` → "stripes/labyrinth" (connected
       bands: χ ≈ 0 for stripes; Gray-Scott labyrinths give |·| ≤ 0.21, their loops and
       branch points adding a little).
    5. otherwise → "mixed/chaotic" (spots and stripes together).
    """
    if bool(stats["uniform"]):
        return "uniform"
    entropy = float(stats["spectral_entropy"])
    if not math.isfinite(entropy) or entropy > CHAOTIC_MIN_ENTROPY:
        return "mixed/chaotic"
    change = stats.get("relative_change") if use_change else None
    if change is not None and float(change) > CHAOTIC_MIN_CHANGE:
        return "mixed/chaotic"
    e = abs(float(stats["euler_per_boundary"]))
    if e >= SPOTS_MIN_EULER:
        return "spots" if float(stats["blob_area"]) <= SPOTS_MAX_AREA else "mixed/chaotic"
    if e <= STRIPES_MAX_EULER:
        return "stripes/labyrinth"
    return "mixed/chaotic"


def classify_batch(metrics: Mapping[str, Array]) -> list[str]:
    """Labels for vmapped :func:`pattern_metrics` output (every value has a batch axis)."""
    arrays = {key: np.asarray(value) for key, value in metrics.items()}
    batch = next(iter(arrays.values())).shape[0]
    return [
        classify_pattern({key: _to_python(value[i]) for key, value in arrays.items()})
        for i in range(batch)
    ]
