"""Figures of chapter 5 (S4 and receptive fields)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLOURS = ["tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple", "tab:brown"]


def show_receptive_fields(x, boxes, *, title=None):
    """Squares drawn on one 32x32 input.

    x: (H, W) input; boxes: list of (label, top, left, side) in input pixels (inclusive
    top-left corner); each is drawn as a square of ``side`` pixels, with its label in the
    legend.
    """
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(x, cmap="gray_r", vmin=-0.1, vmax=1.175)
    for (label, top, left, side), colour in zip(boxes, COLOURS):
        ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), side, side, fill=False,
                                   edgecolor=colour, linewidth=2, label=label))
    ax.set_xlim(-1.5, x.shape[1] + 0.5)
    ax.set_ylim(x.shape[0] + 0.5, -1.5)
    ax.set_xticks([0, x.shape[1] - 1])
    ax.set_yticks([0, x.shape[0] - 1])
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_dependence(masks, titles, *, suptitle=None):
    """Which input pixels a unit depends on: one (H, W) bool mask per unit, side by side."""
    masks = np.asarray(masks)
    fig, axes = plt.subplots(1, len(masks), figsize=(1.9 * len(masks), 2.3), squeeze=False)
    for ax, mask, title in zip(axes[0], masks, titles):
        ax.imshow(mask, cmap="Greys", vmin=0, vmax=1.4)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig
