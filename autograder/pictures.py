"""Pictures for feedback: a student's output beside the expected one, and their difference.

When a test cell loses points and uses an exercise listed in ``PICTURES``, the judge calls the
student's function once more on test image #0, which the book already shows layer by layer
(so the picture reveals nothing a hidden check keeps back), and draws what came back next to
what the reference computes. Every input is the reference's, so the picture shows this
function's own mistake, not one made upstream.
"""
from __future__ import annotations

import base64
import io

import numpy as np

IMAGE = 0  # test image #0, drawn in chapters 1-8


def _activations():
    from lenet5 import data

    return data.load_activations()


def _to_lenet_input(fn):
    from lenet5 import data
    from reference.model import to_input

    images, _ = data.load_mnist("test")
    one = images[IMAGE:IMAGE + 1]
    return fn(one), to_input(one, np.float64), "to_lenet_input(test image #0)"


def _conv(fn):
    from lenet5 import data
    from reference import layers

    a, w = _activations(), data.load_weights()
    x = a["input"][IMAGE:IMAGE + 1].astype(np.float64)
    args = (x, w["C1_w"].astype(np.float64), w["C1_b"].astype(np.float64))
    return fn(*args), layers.conv_forward(*args)[0], \
        "C1 before squashing: conv(input of test image #0, trained C1 weights)"


def _subsample(fn):
    from lenet5 import data
    from reference import layers

    a, w = _activations(), data.load_weights()
    args = (a["C1"][IMAGE:IMAGE + 1].astype(np.float64), w["S2_coeff"].astype(np.float64),
            w["S2_bias"].astype(np.float64))
    return fn(*args), layers.subsample_forward(*args)[0], \
        "S2 before squashing, from test image #0's C1 maps"


def _connection_table(fn):
    from reference.model import C3_TABLE

    return fn(6), C3_TABLE, "connection_table(6): rows = S2 maps, columns = C3 maps"


def _sparse_conv(fn):
    from lenet5 import data
    from reference import layers

    a, w = _activations(), data.load_weights()
    args = (a["S2"][IMAGE:IMAGE + 1].astype(np.float64), w["C3_w"].astype(np.float64),
            w["C3_b"].astype(np.float64), layers.C3_TABLE)
    return fn(*args), layers.sparse_conv_forward(*args)[0], \
        "C3 before squashing, from test image #0's S2 maps, with Table I"


def _rbf(fn):
    from reference import layers

    args = (_activations()["F6"][IMAGE:IMAGE + 1].astype(np.float64), layers.RBF_CENTERS)
    return fn(*args), layers.rbf_forward(*args)[0], \
        "RBF penalties of test image #0 (from its F6 output)"


#: exercise name -> maker(student's function) -> (what it returned, expected, title)
PICTURES = {
    "to_lenet_input": _to_lenet_input,
    "conv_forward_naive": _conv,
    "conv_forward": _conv,
    "subsample_forward": _subsample,
    "connection_table": _connection_table,
    "sparse_conv_forward": _sparse_conv,
    "rbf_forward": _rbf,
}


def picture(name: str, fn) -> str | None:
    """A PNG (base64) of ``fn``'s output on test image #0 beside the expected one and their
    difference; None when ``fn`` fails, returns another shape, or ``name`` has no picture."""
    make = PICTURES.get(name)
    if make is None:
        return None
    try:
        got, expected, title = make(fn)
        if isinstance(got, tuple) and len(got) == 2 and not isinstance(expected, tuple):
            got = got[0]  # (out, cache)
        if type(got) is not np.ndarray or got.shape != np.shape(expected) or \
                got.dtype.kind not in "biuf" or not np.isfinite(got).all() or \
                np.allclose(got, expected, rtol=1e-6, atol=1e-6):
            return None  # nothing to draw, or nothing a picture would explain
    except Exception:  # noqa: BLE001 - no picture is better than a wrong one
        return None
    return _png(got.astype(np.float64), np.asarray(expected, dtype=np.float64), title)


def _png(got: np.ndarray, expected: np.ndarray, title: str) -> str:
    """"yours", "expected" and "yours - expected", in the book's colours (grey for an input,
    red/blue about zero for signed values), each with its colour bar."""
    import matplotlib.pyplot as plt

    signed_scale = max(np.abs(expected).max(), np.abs(got).max()) or 1.0
    diff = got - expected
    diff_scale = np.abs(diff).max() or 1.0
    if expected.ndim == 2 and expected.shape[0] == 1:  # one vector per image: bars
        fig, axes = plt.subplots(2, 1, figsize=(7, 4), layout="constrained", sharex=True)
        k = np.arange(expected.shape[1])
        axes[0].bar(k - 0.2, got[0], 0.4, label="yours", color="tab:red")
        axes[0].bar(k + 0.2, expected[0], 0.4, label="expected", color="0.5")
        axes[0].legend(fontsize=8)
        axes[1].bar(k, diff[0], 0.6, color="tab:blue")
        axes[1].set_ylabel("yours - expected", fontsize=8)
        axes[1].set_xticks(k)
        axes[1].set_xlabel("output unit", fontsize=8)
        fig.suptitle(title, fontsize=10)
        return _encode(fig)
    maps = [got[0], expected[0], diff[0]] if expected.ndim == 4 else \
        [got[None], expected[None], diff[None]]  # (1, C, H, W), or one 2-D array
    grey = title.startswith("to_lenet_input")
    scales = [("gray_r", -0.1, 1.175) if grey else ("RdBu_r", -signed_scale, signed_scale)] * 2
    scales.append(("RdBu_r", -diff_scale, diff_scale))
    labels = ("yours", "expected", "yours - expected")
    count = maps[0].shape[0]
    if count == 1:  # the three side by side
        fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9), layout="constrained")
        for ax, label, m, (cmap, lo, hi) in zip(axes, labels, maps, scales):
            shown = ax.imshow(m[0], cmap=cmap, vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label, fontsize=9)
            fig.colorbar(shown, ax=ax, shrink=0.85)
    else:  # a block of rows of at most 8 maps for each of the three
        ncols = min(count, 8)
        block = -(-count // ncols)
        fig, axes = plt.subplots(3 * block, ncols, squeeze=False, layout="constrained",
                                 figsize=(1.1 * ncols + 1.4, 1.1 * 3 * block + 0.5))
        for b, (label, m, (cmap, lo, hi)) in enumerate(zip(labels, maps, scales)):
            rows = axes[b * block:(b + 1) * block]
            for i, ax in enumerate(rows.flat):
                ax.set_xticks([])
                ax.set_yticks([])
                if i < count:
                    shown = ax.imshow(m[i], cmap=cmap, vmin=lo, vmax=hi)
                else:
                    ax.set_axis_off()
            rows[0, 0].set_ylabel(label, fontsize=9)
            fig.colorbar(shown, ax=rows.ravel().tolist(), shrink=0.9)
    fig.suptitle(title, fontsize=10)
    return _encode(fig)


def _encode(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
