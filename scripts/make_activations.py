"""Write what the trained network computes for the digits the book shows, as plain arrays.

    python -m scripts.make_activations     # writes data/activations/trained_activations.npz

Chapters that show a trained layer they do not build (or score the test set) read these
arrays through ``lenet5.data.load_activations()`` instead of running the reference model,
which students do not get. Computed by ``reference.model`` from the shipped weights
``data/weights/lenet5.npz``; rerun after retraining (tests/test_data.py checks they match).
"""
from __future__ import annotations

import numpy as np

from lenet5 import data
from reference import model

SHOWN = 16  # test images 0-15


def activations() -> dict:
    """The arrays of ``lenet5.data.load_activations()`` (see its docstring), float32."""
    params = model.load_trained()
    images, labels = data.load_mnist("test")
    x = model.to_input(images)
    maps = model.layer_outputs(x[:SHOWN], params)
    out = {"index": np.arange(SHOWN), "label": labels[:SHOWN].astype(np.int64)}
    for name in ("input", "C1", "S2", "C3", "S4", "C5", "F6"):
        out[name] = maps[name].reshape(SHOWN, *maps[name].shape[1:]).astype(np.float32)
    out["C5"] = out["C5"].reshape(SHOWN, 120)
    out["F6"] = out["F6"].reshape(SHOWN, 84)
    out["penalties"] = maps["output"].astype(np.float32)
    f6, penalties = [], []
    for start in range(0, len(x), 500):
        y, cache = model.forward(x[start:start + 500], params)
        f6.append(cache[0].maps()["F6"].reshape(-1, 84))
        penalties.append(y)
    out["test_F6"] = np.concatenate(f6).astype(np.float32)
    out["test_penalties"] = np.concatenate(penalties).astype(np.float32)
    return out


def main() -> None:
    arrays = activations()
    data.ACTIVATIONS_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(data.ACTIVATIONS_PATH, **arrays)
    print(f"wrote {data.ACTIVATIONS_PATH} ({data.ACTIVATIONS_PATH.stat().st_size:,} bytes)")
    for name, a in arrays.items():
        print(f"  {name:15s} {a.shape} {a.dtype}")


if __name__ == "__main__":
    main()
