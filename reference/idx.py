"""The instructor's general IDX reader: the oracle of chapter 1's hidden checks and of the
data tests (students write their own, ``read_idx``, in chapter 1)."""
from __future__ import annotations

import numpy as np

from lenet5.data import DataError

# IDX type byte -> element type (big-endian on disk).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one uncompressed IDX file into an array in native byte order.

    Layout: two zero bytes, a type byte, a byte giving the number of dimensions d, then d
    big-endian uint32 sizes, then the elements, big-endian, row-major.
    """
    if len(raw) < 4:
        raise DataError(f"{name}: {len(raw)} bytes is too short for an IDX header (4 bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{name}: bad magic number: an IDX file starts with two zero bytes, "
                        f"this one with {raw[:2].hex()} (is it still gzip-compressed?)")
    if raw[2] not in _IDX_DTYPES:
        raise DataError(f"{name}: unknown IDX element type 0x{raw[2]:02x}")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name}: header promises {ndim} dimensions but the file ends first")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{name}: header says shape {shape} ({expected} bytes in all), "
                        f"but the file has {len(raw)} bytes")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


