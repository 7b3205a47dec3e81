"""Hidden checks of chapter 1: decoding IDX bytes, reading IDX files, building the 32x32 input.

The checks run in the grader's process and call the student's functions with plain data:
``decode_idx`` gets ``bytes`` (every element type and every malformed case is built here),
``read_idx`` gets the path, as a ``str``, of a file the book ships (readable by both sides).
"""
from __future__ import annotations

import numpy as np

from lenet5 import data
from lenet5.testing import check_array, check_raises

from .common import matches, rng

# IDX type byte -> the element type of the array decode_idx must return (native byte order).
IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(np.int16),
             0x0C: np.dtype(np.int32), 0x0D: np.dtype(np.float32), 0x0E: np.dtype(np.float64)}


def idx_bytes(array: np.ndarray, type_byte: int) -> bytes:
    """The IDX encoding of ``array``: magic number, big-endian sizes, big-endian elements."""
    header = bytes([0, 0, type_byte, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _well_formed_cases():
    gen = rng()
    return [
        (gen.integers(0, 256, (3, 4, 5)).astype(np.uint8), 0x08),
        (gen.integers(-128, 128, (7,)).astype(np.int8), 0x09),
        (gen.integers(-30000, 30000, (2, 9)).astype(np.int16), 0x0B),
        (gen.integers(-2**31, 2**31 - 1, (4, 3)).astype(np.int32), 0x0C),
        (gen.standard_normal((2, 2, 3)).astype(np.float32), 0x0D),
        (gen.standard_normal((1, 2, 2, 3)), 0x0E),
        (np.zeros((0, 5), dtype=np.uint8), 0x08),
        (gen.integers(0, 256, (300, 2)).astype(np.uint8), 0x08),  # a size above 255
    ]


def check_decode_idx(decode_idx) -> None:
    """decode_idx(raw) on every IDX element type: values, shape, dtype, native byte order."""
    for array, type_byte in _well_formed_cases():
        raw = idx_bytes(array, type_byte)
        got = decode_idx(raw)
        expected_dtype = IDX_TYPES[type_byte]
        what = (f"decode_idx on an IDX file of type 0x{type_byte:02X} ({expected_dtype}) and "
                f"shape {array.shape}")
        if type(got) is np.ndarray and got.shape == array.shape and array.size and \
                array.dtype.itemsize > 1 and not matches(got, array) and \
                matches(got.byteswap(), array):
            raise AssertionError(f"{what}: the values come out byte-swapped. IDX stores "
                                 f"elements big-endian: read them with a '>' dtype such as "
                                 f"'>{expected_dtype.kind}{expected_dtype.itemsize}'")
        if type(got) is np.ndarray and got.ndim == 1 and array.ndim > 1 and \
                got.size == array.size:
            raise AssertionError(f"{what}: expected shape {array.shape}, got {got.shape}: "
                                 f"reshape the elements to the sizes the header gives")
        check_array(what, got, array, rtol=0, atol=0)
        if got.dtype.newbyteorder("=") != expected_dtype:
            raise AssertionError(f"{what}: the values are right but the dtype is {got.dtype}; "
                                 f"type byte 0x{type_byte:02X} means {expected_dtype}")
        if not got.dtype.isnative:
            raise AssertionError(f"{what}: the values are right but the array is still "
                                 f"big-endian (dtype '{got.dtype.str}'); return it in native "
                                 f"byte order, e.g. with .astype('{expected_dtype.str}') or "
                                 f".astype(dtype.newbyteorder('='))")


def check_decode_idx_malformed(decode_idx) -> None:
    """decode_idx(raw) raises ValueError on every malformed header or size listed in the text."""
    good = idx_bytes(np.arange(6, dtype=np.int16).reshape(2, 3), 0x0B)
    malformed = {
        "an empty file (0 bytes)": b"",
        "a file of 3 bytes (shorter than the magic number)": good[:3],
        "a bad magic number (first byte 0x01)": b"\x01" + good[1:],
        "a bad magic number (second byte 0x01)": good[:1] + b"\x01" + good[2:],
        "an unknown element type 0x07": good[:2] + b"\x07" + good[3:],
        "a file that ends inside its header (6 bytes)": good[:6],
        "a file that ends after the header, before the data": good[:12],
        "a file one byte short": good[:-1],
        "a file with one byte too many": good + b"\x00",
        "a file with two elements too many": good + b"\x00" * 4,
    }
    for what, raw in malformed.items():
        check_raises(f"decode_idx on {what}", ValueError, decode_idx, raw)
    # ... and does not refuse everything (uint8, so that byte order plays no part here)
    check_array("decode_idx on a well-formed file of type 0x08 (after the malformed ones)",
                decode_idx(idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)),
                np.arange(6).reshape(2, 3), rtol=0, atol=0)


def check_read_idx(read_idx) -> None:
    """read_idx(path) on the shipped (gzip-compressed) MNIST files, path given as a str."""
    images, labels = data.load_mnist("test")
    for split, kind, expected in (("test", "labels", labels), ("test", "images", images)):
        path = str(data.mnist_path(split, kind))
        what = f"read_idx({path!r})"
        got = read_idx(path)
        if isinstance(got, (bytes, bytearray)):
            raise AssertionError(f"{what}: got bytes; read_idx must decode them (with "
                                 f"decode_idx) and return the array")
        check_array(what, got, expected, rtol=0, atol=0)
        if got.dtype != np.uint8:
            raise AssertionError(f"{what}: expected dtype uint8, got {got.dtype}")


def _lenet_input_reference(images: np.ndarray) -> np.ndarray:
    out = np.full((len(images), 1, 32, 32), -0.1)
    out[:, 0, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out


def check_to_lenet_input(to_lenet_input) -> None:
    """to_lenet_input(images): scaling, background padding, layout, dtype."""
    images, _ = data.load_mnist("test")
    gen = rng()
    for n in (1, 5, 64):
        batch = images[gen.choice(len(images), n, replace=False)]
        got = to_lenet_input(batch)
        expected = _lenet_input_reference(batch)
        what = f"to_lenet_input on {n} real digit{'s' if n > 1 else ''}"
        if type(got) is np.ndarray and got.shape in ((n, 32, 32), (n, 32, 32, 1)):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"the channel axis comes second, (N, 1, 32, 32)")
        if type(got) is np.ndarray and got.shape == (n, 1, 28, 28):
            raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                                 f"pad each image with 2 background pixels on every side")
        check_array(what, got, expected, atol=np.inf)  # type and shape only
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
        if matches(got[:, :, 2:30, 2:30], expected[:, :, 2:30, 2:30]) and \
                not matches(got, expected):
            raise AssertionError(f"{what}: the digit is right but the border is not: every "
                                 f"padding pixel must be -0.1")
        for shift in ((0, 4), (4, 0), (4, 4), (1, 3), (3, 1)):
            moved = np.full_like(expected, -0.1)
            moved[:, 0, shift[0]:shift[0] + 28, shift[1]:shift[1] + 28] = \
                expected[:, 0, 2:30, 2:30]
            if matches(got, moved):
                raise AssertionError(f"{what}: the image sits at rows {shift[0]}.."
                                     f"{shift[0] + 27} and columns {shift[1]}.."
                                     f"{shift[1] + 27}; centre it: 2 pixels on each side, "
                                     f"rows and columns 2..29")
        check_array(what, got, expected,
                    hint="Check the scaling x = p * 1.275 / 255 - 0.1 and that the image "
                         "sits at rows and columns 2..29")
        if got.dtype != np.float64:
            raise AssertionError(f"{what}: the values are right but the dtype is {got.dtype}; "
                                 f"expected float64")
