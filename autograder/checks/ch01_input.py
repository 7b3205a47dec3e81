"""Hidden checks of chapter 1: reading IDX files and building the 32x32 input."""
from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np

from lenet5 import data
from lenet5.testing import check_array, check_raises

from .common import matches, rng


def _idx_bytes(array: np.ndarray, type_byte: int) -> bytes:
    header = bytes([0, 0, type_byte, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def check_read_idx(read_idx) -> None:
    """read_idx(path): every IDX element type, plain and .gz, real files, malformed files."""
    gen = rng()
    cases = [
        (gen.integers(0, 256, (3, 4, 5)).astype(np.uint8), 0x08),
        (gen.integers(-128, 128, (7,)).astype(np.int8), 0x09),
        (gen.integers(-30000, 30000, (2, 9)).astype(np.int16), 0x0B),
        (gen.integers(-2**31, 2**31 - 1, (4, 3)).astype(np.int32), 0x0C),
        (gen.standard_normal((2, 2, 3)).astype(np.float32), 0x0D),
        (gen.standard_normal((1, 2, 2, 3)), 0x0E),
        (np.zeros((0, 5), dtype=np.uint8), 0x08),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, (array, type_byte) in enumerate(cases):
            raw = _idx_bytes(array, type_byte)
            for name, payload in ((f"case{k}.idx", raw), (f"case{k}.idx.gz", gzip.compress(raw))):
                (tmp / name).write_bytes(payload)
                got = read_idx(tmp / name)
                what = f"read_idx on a {array.dtype} array of shape {array.shape} ({name})"
                if type(got) is np.ndarray and got.shape == array.shape and array.size and \
                        array.dtype.itemsize > 1 and not matches(got, array) and \
                        matches(got.byteswap(), array):
                    raise AssertionError(f"{what}: the values come out byte-swapped. IDX stores "
                                         f"elements big-endian: read them with a '>' dtype")
                check_array(what, got, array, rtol=0, atol=0)
                if array.size and np.dtype(got.dtype).kind != array.dtype.kind:
                    raise AssertionError(f"{what}: expected elements of kind {array.dtype}, "
                                         f"got {got.dtype}")
            check_array(f"read_idx accepts a str path ({k})",
                        read_idx(str(tmp / f"case{k}.idx")), array, rtol=0, atol=0)

        good = _idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)
        malformed = {
            "a file one byte short": good[:-1],
            "a file with one byte too many": good + b"\x00",
            "a bad magic number (first byte not 0)": b"\x01" + good[1:],
            "an unknown element type 0x07": good[:2] + b"\x07" + good[3:],
            "a file that ends inside its header": good[:6],
            "an empty file": b"",
        }
        for what, payload in malformed.items():
            (tmp / "bad.idx").write_bytes(payload)
            check_raises(f"read_idx on {what}", ValueError, read_idx, tmp / "bad.idx")
            (tmp / "bad.idx.gz").write_bytes(gzip.compress(payload))
            check_raises(f"read_idx on {what} (.gz)", ValueError, read_idx, tmp / "bad.idx.gz")

    images, labels = data.load_mnist("test")
    check_array("read_idx(real test labels)", read_idx(data.mnist_path("test", "labels")),
                labels, rtol=0, atol=0)
    check_array("read_idx(real test images)", read_idx(data.mnist_path("test", "images")),
                images, rtol=0, atol=0)


def _lenet_input_reference(images: np.ndarray) -> np.ndarray:
    out = np.full((len(images), 1, 32, 32), -0.1)
    out[:, 0, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out


def check_to_lenet_input(to_lenet_input) -> None:
    """to_lenet_input(images): scaling, background padding, layout, dtype, no side effects."""
    images, _ = data.load_mnist("test")
    gen = rng()
    for n in (1, 5, 64):
        batch = images[gen.choice(len(images), n, replace=False)]
        before = batch.copy()
        got = to_lenet_input(batch)
        expected = _lenet_input_reference(batch)
        what = f"to_lenet_input on {n} real digits"
        if type(got) is np.ndarray and got.shape == (n, 32, 32):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"add the channel axis, (N, 1, 32, 32)")
        check_array(what, got, expected, atol=np.inf)  # type and shape only
        if not np.array_equal(batch, before):
            raise AssertionError(f"{what}: your function changed its input array")
        border = np.ones((32, 32), bool)
        border[2:30, 2:30] = False
        if np.allclose(got[:, 0][:, border], 0):
            raise AssertionError(f"{what}: the 2-pixel border is 0. Padding pixels are "
                                 f"background, which is -0.1 after scaling, not 0")
        if matches(got, (expected + 0.1) * (1.75 + 0.1) / 1.275 - 0.1):
            raise AssertionError(f"{what}: ink maps to 1.75; the paper's value is 1.175")
        if matches(got, -0.1 + 1.175 - expected):
            raise AssertionError(f"{what}: the scale is upside down: in MNIST 0 is the "
                                 f"background (-0.1) and 255 is ink (1.175)")
        if np.issubdtype(np.asarray(got).dtype, np.floating) and \
                np.asarray(got).dtype != np.float64:
            raise AssertionError(f"{what}: expected dtype float64, got {got.dtype}")
        check_array(what, got, expected,
                    hint="Check the scaling x = p * 1.275 / 255 - 0.1 and that the image "
                         "sits at rows and columns 2..29")
        if got.dtype != np.float64:
            raise AssertionError(f"{what}: expected dtype float64, got {got.dtype}")
