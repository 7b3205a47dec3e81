"""The data the book ships: MNIST as gzip'd IDX files, and the paper's RBF bitmaps.

Nothing here downloads anything. Every MNIST file is checked against its SHA-256 sum after
decompression, so a truncated or swapped file is reported by name instead of yielding
silently wrong pixels; a verified file's layout is then known, so no IDX parsing happens
here (reading any IDX file is chapter 1's exercise).
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

# The layout of each shipped file, known once its checksum is verified: the header's length
# in bytes and the shape of the uint8 array after it (chapter 1 reads any IDX file properly).
_LAYOUT = {"images-idx3": (16, (28, 28)), "labels-idx1": (8, ())}
_COUNT = {"train": 60_000, "test": 10_000}


class DataError(ValueError):
    """A data file is missing, corrupt or not what it claims to be."""


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
        header, shape = _LAYOUT[kind]
        arrays.append(np.frombuffer(raw, dtype=np.uint8, offset=header)
                      .reshape(_COUNT[split], *shape).copy())
    images, labels = arrays
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


#: The trained weights the book ships (written by scripts/train_lenet5.py).
WEIGHTS_PATH = DATA_DIR / "weights" / "lenet5.npz"


def load_weights(with_meta: bool = False):
    """The shipped trained LeNet-5 weights: a dict of float32 arrays (numbers, no code).

    Keys and shapes: ``C1_w (6, 1, 5, 5)``, ``C1_b (6,)``, ``S2_coeff (6,)``, ``S2_bias (6,)``,
    ``C3_w (16, 6, 5, 5)`` (zero where Table I has no connection), ``C3_b (16,)``,
    ``S4_coeff (16,)``, ``S4_bias (16,)``, ``C5_w (120, 16, 5, 5)``, ``C5_b (120,)``,
    ``F6_w (120, 84)``, ``F6_b (84,)``. With ``with_meta``, also the training run's metadata.
    """
    import json

    if not WEIGHTS_PATH.exists():
        raise DataError(f"{WEIGHTS_PATH} is missing: the repository ships it")
    with np.load(WEIGHTS_PATH, allow_pickle=False) as f:
        params = {k: f[k] for k in f.files if k != "meta"}
        meta = json.loads(str(f["meta"])) if "meta" in f.files else {}
    return (params, meta) if with_meta else params


#: Activations of the trained network for the test digits the book shows
#: (written by scripts/make_activations.py).
ACTIVATIONS_PATH = DATA_DIR / "activations" / "trained_activations.npz"


def load_activations() -> dict:
    """What the trained network computes for the book's example digits, as arrays.

    ``index (16,)``: which test images (0-15); ``label (16,)``; then one float32 array per
    layer for those digits: ``input (16, 1, 32, 32)``, ``C1 (16, 6, 28, 28)``,
    ``S2 (16, 6, 14, 14)``, ``C3 (16, 16, 10, 10)``, ``S4 (16, 16, 5, 5)``, ``C5 (16, 120)``,
    ``F6 (16, 84)``, ``penalties (16, 10)``; and for the whole test set ``test_F6 (10000, 84)``
    and ``test_penalties (10000, 10)``.
    """
    if not ACTIVATIONS_PATH.exists():
        raise DataError(f"{ACTIVATIONS_PATH} is missing: the repository ships it")
    with np.load(ACTIVATIONS_PATH, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
