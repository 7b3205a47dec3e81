"""The shipped MNIST and its loader: real data, verified, and clear errors for bad files."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from lenet5 import data
from reference import idx


def test_real_mnist_loads_with_the_published_figures():
    train_images, train_labels = data.load_mnist("train")
    test_images, test_labels = data.load_mnist("test")
    assert train_images.shape == (60_000, 28, 28) and train_images.dtype == np.uint8
    assert test_images.shape == (10_000, 28, 28) and test_labels.shape == (10_000,)
    assert np.bincount(test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                 974, 1009]
    pixels = train_images / 255.0
    assert round(pixels.mean(), 4) == 0.1307 and round(pixels.std(), 4) == 0.3081


@pytest.fixture
def mnist_copy(tmp_path):
    for path in (data.DATA_DIR / "mnist").glob("t10k-*.gz"):
        shutil.copy(path, tmp_path)
    return tmp_path


def test_missing_file_is_named(mnist_copy):
    (mnist_copy / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataError, match="missing data file .*t10k-labels-idx1-ubyte.gz"):
        data.load_mnist("test", mnist_copy)


def test_corrupt_file_fails_its_checksum(mnist_copy):
    path = mnist_copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[100] = (raw[100] + 1) % 10           # one label changed: still a valid IDX file
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        data.load_mnist("test", mnist_copy)


def test_truncated_gzip_is_reported(mnist_copy):
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(data.DataError, match="not a valid gzip file"):
        data.load_mnist("test", mnist_copy)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        data.load_mnist("validation")


@pytest.mark.parametrize("raw, message", [
    (b"\x00\x00\x08", "too short"),
    (b"\x1f\x8b\x08\x01" + bytes(8), "bad magic number.*gzip"),
    (b"\x00\x00\x07\x01" + bytes(5), "unknown IDX element type 0x07"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x02", "ends first"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03" + bytes(2), r"shape \(3,\)"),
])
def test_parse_idx_says_what_is_wrong(raw, message):
    with pytest.raises(data.DataError, match=message):
        idx.parse_idx(raw)


def test_parse_idx_reads_big_endian_values():
    values = np.array([[1, -2], [300, -40000]], dtype=">i4")
    raw = b"\x00\x00\x0c\x02" + (2).to_bytes(4, "big") * 2 + values.tobytes()
    got = idx.parse_idx(raw)
    assert got.dtype == np.int32 and got.dtype.isnative
    assert got.tolist() == [[1, -2], [300, -40000]]


def test_load_mnist_reads_what_a_full_idx_parser_reads():
    """The helper reads verified files at their known offsets; the instructor's general
    reader (reference.idx) parses their headers and must agree."""
    import gzip

    images, labels = data.load_mnist("test")
    for array, kind in ((images, "images"), (labels, "labels")):
        parsed = idx.parse_idx(gzip.decompress(data.mnist_path("test", kind).read_bytes()))
        assert parsed.dtype == array.dtype and np.array_equal(parsed, array), kind


def test_rbf_bitmaps_are_the_ten_digit_codes():
    codes = data.rbf_bitmaps()
    assert codes.shape == (10, 12, 7)
    assert set(np.unique(codes)) == {-1.0, 1.0}
    assert len({c.tobytes() for c in codes}) == 10          # ten distinct codes
