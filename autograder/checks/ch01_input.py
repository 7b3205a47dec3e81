"""Hidden checks of chapter 1: decoding IDX bytes, reading IDX files, building the 32x32 input.

The checks run in the grader's process and call the student's functions with plain data:
``decode_idx`` gets ``bytes`` (every element type and every malformed case is built here),
``read_idx`` gets the path, as a ``str``, of a file the book ships (readable by both sides).
"""
from __future__ import annotations

import numpy as np

from lenet5 import data
from lenet5.testing import check_array, check_raises

from .common import Parts, matches, rng

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


def _decode_values(what, got, array, type_byte) -> None:
    """Fail unless ``got`` has the shape and values of ``array`` (any byte order)."""
    expected_dtype = IDX_TYPES[type_byte]
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


def _decode_dtype(what, got, array, type_byte) -> None:
    """Fail unless ``got``'s dtype is the table's type for ``type_byte``, in native order."""
    expected_dtype = IDX_TYPES[type_byte]
    if type(got) is not np.ndarray:
        raise AssertionError(f"{what}: expected a NumPy array, got {type(got).__name__}")
    values_right = matches(got, array, tol=0) if array.size else got.shape == array.shape
    right = "the values are right but " if values_right else ""
    if got.dtype.newbyteorder("=") != expected_dtype:
        raise AssertionError(f"{what}: {right}the dtype is {got.dtype}; type byte "
                             f"0x{type_byte:02X} means {expected_dtype}")
    if not got.dtype.isnative:
        raise AssertionError(f"{what}: {right}the array is still big-endian (dtype "
                             f"'{got.dtype.str}'); return it in native byte order, e.g. with "
                             f".astype('{expected_dtype.str}') or "
                             f".astype(dtype.newbyteorder('='))")


def check_decode_idx(decode_idx) -> None:
    """decode_idx(raw) on every IDX element type, in three parts: the values and shapes of
    the one-byte types (with an empty array and a size above 255), those of the multi-byte
    types, and the dtypes (the table's type, native byte order)."""
    results = []
    for array, type_byte in _well_formed_cases():
        what = (f"decode_idx on an IDX file of type 0x{type_byte:02X} "
                f"({IDX_TYPES[type_byte]}) and shape {array.shape}")
        try:
            got = decode_idx(idx_bytes(array, type_byte))
        except Exception as error:  # noqa: BLE001 - each part reports it
            if not getattr(error, "raised_by", None):
                raise
            got = error
        results.append((what, got, array, type_byte))

    def run(what, got, array, type_byte, check):
        if isinstance(got, Exception):
            raise got
        check(what, got, array, type_byte)

    parts = Parts()
    with parts("values and shapes of the one-byte types (0x08, 0x09), of an empty array "
               "and of a size above 255"):
        for case in results:
            if case[2].dtype.itemsize == 1:
                run(*case, _decode_values)
    with parts("values and shapes of the multi-byte types (0x0B, 0x0C, 0x0D, 0x0E)",
               weight=2):
        for case in results:
            if case[2].dtype.itemsize > 1:
                run(*case, _decode_values)
    with parts("dtypes: the table's type, in native byte order"):
        for case in results:
            run(*case, _decode_dtype)
    parts.verdict()


def check_decode_idx_malformed(decode_idx) -> None:
    """decode_idx(raw) raises ValueError on every malformed header or size listed in the
    text; one part per kind of damage, once it decodes a well-formed file."""
    # A decoder that refuses everything earns nothing here (uint8, so that byte order plays
    # no part).
    check_array("decode_idx on a well-formed file of type 0x08 (it must not refuse it)",
                decode_idx(idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)),
                np.arange(6).reshape(2, 3), rtol=0, atol=0)
    good = idx_bytes(np.arange(6, dtype=np.int16).reshape(2, 3), 0x0B)
    malformed = {
        "data shorter than its header": {
            "an empty file (0 bytes)": b"",
            "a file of 3 bytes (shorter than the magic number)": good[:3],
            "a file that ends inside its header (6 bytes)": good[:6]},
        "a bad magic number or an unknown element type": {
            "a bad magic number (first byte 0x01)": b"\x01" + good[1:],
            "a bad magic number (second byte 0x01)": good[:1] + b"\x01" + good[2:],
            "an unknown element type 0x07": good[:2] + b"\x07" + good[3:]},
        "too few data bytes": {
            "a file that ends after the header, before the data": good[:12],
            "a file one byte short": good[:-1]},
        "too many data bytes": {
            "a file with one byte too many": good + b"\x00",
            "a file with two elements too many": good + b"\x00" * 4},
    }
    parts = Parts()
    for part, cases in malformed.items():
        with parts(part):
            for what, raw in cases.items():
                check_raises(f"decode_idx on {what}", ValueError, decode_idx, raw)
    parts.verdict()


def check_read_idx(read_idx) -> None:
    """read_idx(path) on the shipped (gzip-compressed) MNIST files, path given as a str; one
    part per file (the test labels, the test images)."""
    images, labels = data.load_mnist("test")
    parts = Parts()
    for split, kind, expected in (("test", "labels", labels), ("test", "images", images)):
        with parts(f"the {split} {kind}"):
            path = str(data.mnist_path(split, kind))
            what = f"read_idx({path!r})"
            got = read_idx(path)
            if isinstance(got, (bytes, bytearray)):
                raise AssertionError(f"{what}: got bytes; read_idx must decode them (with "
                                     f"decode_idx) and return the array")
            check_array(what, got, expected, rtol=0, atol=0)
            if got.dtype != np.uint8:
                raise AssertionError(f"{what}: expected dtype uint8, got {got.dtype}")
    parts.verdict()


def _lenet_input_reference(images: np.ndarray) -> np.ndarray:
    out = np.full((len(images), 1, 32, 32), -0.1)
    out[:, 0, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out


def _as_field(got, n):
    """``got`` seen as (n, 1, 32, 32) when it holds n 32x32 fields in another layout, else
    None; so that the padding and the digit are judged apart from the layout."""
    if type(got) is np.ndarray and got.size == n * 32 * 32 and \
            got.shape in ((n, 1, 32, 32), (n, 32, 32), (n, 32, 32, 1)):
        return got.reshape(n, 1, 32, 32)
    return None


def _holds_digits(what, field) -> None:
    """Fail if ``field`` (N, 1, 32, 32) shows no digit: layout and padding earn nothing
    without one."""
    inner = np.asarray(field[:, 0, 2:30, 2:30], dtype=float)
    if not np.isfinite(inner).all() or np.ptp(inner) == 0:
        raise AssertionError(f"{what}: the output holds no digit (the 28x28 area inside the "
                             f"border has one value everywhere)")


def _input_layout(what, got, expected) -> None:
    n = len(expected)
    if type(got) is np.ndarray and got.shape in ((n, 32, 32), (n, 32, 32, 1)):
        raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                             f"the channel axis comes second, (N, 1, 32, 32)")
    if type(got) is np.ndarray and got.shape == (n, 1, 28, 28):
        raise AssertionError(f"{what}: expected shape {expected.shape}, got {got.shape}: "
                             f"pad each image with 2 background pixels on every side")
    check_array(what, got, expected, atol=np.inf)  # type and shape only
    _holds_digits(what, got)
    if got.dtype != np.float64:
        raise AssertionError(f"{what}: expected dtype float64, got {got.dtype}")


def _input_border(what, got, expected) -> None:
    field = _as_field(got, len(expected))
    if field is None:
        raise AssertionError(f"{what}: the padding cannot be checked: expected 32x32 "
                             f"fields, shape {expected.shape}, got "
                             f"{getattr(got, 'shape', type(got).__name__)}")
    _holds_digits(what, field)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    if np.allclose(field[:, 0][:, border], 0):
        raise AssertionError(f"{what}: the 2-pixel border is 0. Padding pixels are "
                             f"background, which is -0.1 after scaling, not 0")
    check_array(f"{what}, the 2-pixel border", field[:, 0][:, border],
                expected[:, 0][:, border],
                hint="Every padding pixel is background: -0.1, the value of a pixel 0")


def _input_digit(what, got, expected) -> None:
    field = _as_field(got, len(expected))
    if field is None and type(got) is np.ndarray and \
            got.shape[-2:] == (28, 28) and got.size == len(expected) * 28 * 28:
        check_array(f"{what}, the scaled pixels", got.reshape(-1, 28, 28),
                    expected[:, 0, 2:30, 2:30],
                    hint="Check the scaling x = p * 1.275 / 255 - 0.1")
        return
    if field is None:
        raise AssertionError(f"{what}: the digit cannot be checked: expected shape "
                             f"{expected.shape}, got {getattr(got, 'shape', type(got).__name__)}")
    if matches(field, (expected + 0.1) * (1.75 + 0.1) / 1.275 - 0.1):
        raise AssertionError(f"{what}: ink maps to 1.75; the paper's value is 1.175")
    if matches(field, -0.1 + 1.175 - expected):
        raise AssertionError(f"{what}: the scale is upside down: in MNIST 0 is the "
                             f"background (-0.1) and 255 is ink (1.175)")
    for shift in ((0, 4), (4, 0), (4, 4), (1, 3), (3, 1)):
        moved = np.full_like(expected, -0.1)
        moved[:, 0, shift[0]:shift[0] + 28, shift[1]:shift[1] + 28] = \
            expected[:, 0, 2:30, 2:30]
        if matches(field, moved):
            raise AssertionError(f"{what}: the image sits at rows {shift[0]}.."
                                 f"{shift[0] + 27} and columns {shift[1]}.."
                                 f"{shift[1] + 27}; centre it: 2 pixels on each side, "
                                 f"rows and columns 2..29")
    check_array(f"{what}, the 28x28 digit at rows and columns 2..29",
                field[:, 0, 2:30, 2:30], expected[:, 0, 2:30, 2:30],
                hint="Check the scaling x = p * 1.275 / 255 - 0.1 and that the image "
                     "sits at rows and columns 2..29")


def check_to_lenet_input(to_lenet_input) -> None:
    """to_lenet_input(images) on real digits, in three parts: the layout and dtype
    ((N, 1, 32, 32), float64), the 2-pixel background border, and the scaled digit."""
    images, _ = data.load_mnist("test")
    gen = rng()
    cases = []
    for n in (1, 5, 64):
        batch = images[gen.choice(len(images), n, replace=False)]
        try:
            got = to_lenet_input(batch)
        except Exception as error:  # noqa: BLE001 - each part reports it
            if not getattr(error, "raised_by", None):
                raise
            got = error
        cases.append((f"to_lenet_input on {n} real digit{'s' if n > 1 else ''}", got,
                      _lenet_input_reference(batch)))
    parts = Parts()
    for name, check in (("the layout (N, 1, 32, 32) and dtype float64", _input_layout),
                        ("the padding: 2 background pixels (-0.1) on every side",
                         _input_border),
                        ("the digit: scaled to -0.1 ... 1.175, at rows and columns 2..29",
                         _input_digit)):
        with parts(name):
            for what, got, expected in cases:
                if isinstance(got, Exception):
                    raise got
                check(what, got, expected)
    parts.verdict()
