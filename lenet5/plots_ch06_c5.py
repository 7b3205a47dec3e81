"""Figures of chapter 6 (C5): activation vectors, dense versus convolution, the replicated net."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_vectors(vectors, row_labels, *, title=None, xlabel="unit"):
    """One row per vector, colour = value (red > 0, blue < 0, on a scale symmetric around 0,
    with a colour bar), and a black line wherever the row label changes. vectors: (K, D)."""
    vectors = np.asarray(vectors)
    k, d = vectors.shape
    fig, ax = plt.subplots(figsize=(min(7.5, 2 + d / 12), 0.9 + 0.26 * k))
    limit = np.abs(vectors).max()
    im = ax.imshow(vectors, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto",
                   interpolation="nearest")
    ax.set_yticks(range(k))
    ax.set_yticklabels(row_labels)
    for i in range(1, k):                       # a line between groups of rows with one label
        if row_labels[i] != row_labels[i - 1]:
            ax.axhline(i - 0.5, color="black", linewidth=1.8)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("output", fontsize=9)
    fig.tight_layout()
    return fig


def show_equality(dense, conv, *, title=None):
    """Scatter of two computations of the same numbers, with the identity line."""
    dense, conv = np.ravel(dense), np.ravel(conv)
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    lo, hi = min(dense.min(), conv.min()), max(dense.max(), conv.max())
    ax.plot([lo, hi], [lo, hi], color="0.7", linewidth=1, zorder=0)
    ax.scatter(conv, dense, s=6, color="tab:blue")
    ax.set_xlabel("conv_forward(...)[:, :, 0, 0]")
    ax.set_ylabel("c5_as_dense(...)")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_replicated(field, predictions, best_penalty, *, window=32, step=4, marks=(),
                    label="smallest penalty"):
    """The network replicated over a large field.

    field: (H, W) input, in grey with a colour bar; predictions, best_penalty: (h, w) per position (the digit read there
    and a score, smaller = better); marks: positions (i, j) whose ``window``-pixel input
    window is outlined on the field; label: what the score is, for the colour bar.
    """
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.6, 4.2))
    shown = ax0.imshow(field, cmap="gray_r", vmin=-0.1, vmax=1.175)
    pixel_bar = fig.colorbar(shown, ax=ax0, fraction=0.046, pad=0.04)
    pixel_bar.set_label("pixel value", fontsize=9)
    colours = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"]
    for (i, j), colour in zip(marks, colours):
        # drawn 1 pixel inside the window, so that windows sharing an edge stay visible
        ax0.add_patch(plt.Rectangle((j * step + 0.5, i * step + 0.5), window - 2, window - 2,
                                    fill=False, edgecolor=colour, linewidth=2.4))
        # a white rim under the coloured square keeps it visible on every cell colour
        for width, edge in ((5.5, "white"), (3, colour)):
            ax1.add_patch(plt.Rectangle((j - 0.42, i - 0.42), 0.84, 0.84, fill=False,
                                        edgecolor=edge, linewidth=width))
    ax0.set_title(f"{field.shape[0]}x{field.shape[1]} input field", fontsize=10)
    ax0.set_xticks([0, field.shape[1] - 1])
    ax0.set_yticks([0, field.shape[0] - 1])
    im = ax1.imshow(best_penalty, cmap="viridis_r", interpolation="nearest")
    for i in range(predictions.shape[0]):
        for j in range(predictions.shape[1]):
            red, green, blue, _ = im.cmap(im.norm(best_penalty[i, j]))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5     # luminance of the cell
            ax1.text(j, i, str(predictions[i, j]), ha="center", va="center", fontsize=8,
                     fontweight="bold", color="white" if dark else "black")
    ax1.set_title(f"{predictions.shape[0]}x{predictions.shape[1]} positions: the digit read "
                  f"there\n(one step = {step} input pixels)", fontsize=9)
    ax1.set_xticks(range(predictions.shape[1]))
    ax1.set_yticks(range(predictions.shape[0]))
    bar = fig.colorbar(im, ax=ax1, fraction=0.046, pad=0.04)
    bar.formatter.set_useOffset(False)
    bar.set_label(label, fontsize=9)
    fig.tight_layout()
    return fig
