"""The data the book ships: MNIST as gzip'd IDX files, and the paper's RBF bitmaps.

Nothing here downloads anything. Every MNIST file is checked against its SHA-256 sum after
decompression, so a truncated or swapped file is reported by name instead of yielding
silently wrong pixels.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

#: Where the shipped data lives; ``LENET5_DATA`` overrides it (a folder holding ``mnist/``).
DATA_DIR = Path(os.environ.get("LENET5_DATA", Path(__file__).resolve().parent.parent / "data"))

#: SHA-256 of the *uncompressed* IDX files (data/mnist/README.md).
MNIST_SHA256 = {
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
}

_SPLIT_PREFIX = {"train": "train", "test": "t10k"}

# IDX type byte -> element type (big-endian on disk).
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DataError(ValueError):
    """A data file is missing, corrupt or not what it claims to be."""


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


def _read_verified(path: Path, expected_sha256: str) -> bytes:
    if not path.exists():
        raise DataError(f"missing data file {path}: the repository ships it under data/mnist/ "
                        f"(set LENET5_DATA if your copy lives elsewhere)")
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DataError(f"{path} is not a valid gzip file ({err}); restore it from the "
                        f"repository") from err
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        raise DataError(f"{path}: checksum mismatch after decompression (sha256 {digest}, "
                        f"expected {expected_sha256}); the file is corrupt or not the "
                        f"original MNIST file")
    return raw


def load_mnist(split: str = "train", data_dir: Path | str | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load a verified MNIST split.

    Returns ``images: (N, 28, 28) uint8`` (0 = background, 255 = ink) and
    ``labels: (N,) uint8``; N is 60,000 for ``"train"`` and 10,000 for ``"test"``.
    """
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    folder = Path(data_dir) if data_dir is not None else DATA_DIR / "mnist"
    arrays = []
    for kind in ("images-idx3", "labels-idx1"):
        stem = f"{_SPLIT_PREFIX[split]}-{kind}-ubyte"
        raw = _read_verified(folder / f"{stem}.gz", MNIST_SHA256[stem])
        arrays.append(parse_idx(raw, stem))
    images, labels = arrays
    if len(images) != len(labels):
        raise DataError(f"{split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def mnist_path(split: str, kind: str) -> Path:
    """Path of one shipped file, e.g. ``mnist_path("test", "labels")``."""
    dims = {"images": "idx3", "labels": "idx1"}[kind]
    return DATA_DIR / "mnist" / f"{_SPLIT_PREFIX[split]}-{kind}-{dims}-ubyte.gz"


def rbf_bitmaps() -> np.ndarray:
    """The paper's Fig. 3 codes of the ten digits: ``(10, 12, 7)`` float64, +1 ink, -1 paper."""
    allchars = np.load(DATA_DIR / "rbf_fig3_bitmaps.npy")
    if allchars.shape != (96, 12, 7):
        raise DataError(f"rbf_fig3_bitmaps.npy has shape {allchars.shape}, expected (96, 12, 7)")
    return allchars[ord("0") - 32: ord("9") - 32 + 1].astype(np.float64)
