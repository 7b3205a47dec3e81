"""Figures of chapter 5 (S4 and receptive fields). They draw what a cell computed; none of
them computes a receptive field or a derivative itself."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import numpy as np

COLOURS = ["tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple", "tab:brown"]


def show_receptive_fields(x, boxes, *, title=None, vmin=-0.1, vmax=1.175, cmap="gray_r",
                          colorbar="pixel value"):
    """Squares drawn on one 2-D image (a 32x32 input, by default on the input's grey scale).

    x: (H, W); boxes: list of (label, top, left, side) in pixels (inclusive top-left corner);
    each is drawn as a square of ``side`` pixels, with its label in the legend. ``colorbar``:
    a label for a colour bar of the image's scale (none by default).
    """
    fig, ax = plt.subplots(figsize=(4.8, 5.0) if colorbar else (4.8, 4.2),
                           layout="constrained")
    im = ax.imshow(x, cmap=cmap, vmin=vmin, vmax=vmax)
    for (label, top, left, side), colour in zip(boxes, COLOURS):
        ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), side, side, fill=False,
                                   edgecolor=colour, linewidth=2, label=label))
    ax.set_xlim(-1.5, x.shape[1] + 0.5)
    ax.set_ylim(x.shape[0] + 0.5, -1.5)
    ax.set_xticks([0, x.shape[1] - 1])
    ax.set_yticks([0, x.shape[0] - 1])
    if colorbar:
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        bar.set_label(colorbar, fontsize=8)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncols=min(3, len(boxes)),
                  fontsize=8, frameon=False)
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def show_dependence(gradients, titles, *, suptitle=None):
    """One column per unit: above, the input pixels where its derivative is not zero (black);
    below, the derivative itself, divided by its largest magnitude (red > 0, blue < 0), with
    a legend for the one and a colour bar for the other.

    gradients: one (H, W) array per unit.
    """
    gradients = [np.asarray(g, dtype=np.float64) for g in gradients]
    k = len(gradients)
    # a narrow last column holds the legend (upper row) and the colour bar (lower row)
    fig, grid = plt.subplots(2, k + 1, figsize=(1.35 * k + 1.7, 3.7), squeeze=False,
                             layout="constrained", width_ratios=[1] * k + [0.75])
    axes, side = grid[:, :k], grid[:, k]
    for ax in side:
        ax.axis("off")
    for j, (grad, title) in enumerate(zip(gradients, titles)):
        top, bottom = axes[0, j], axes[1, j]
        top.imshow(grad != 0, cmap="Greys", vmin=0, vmax=1.4)
        top.set_title(title, fontsize=9)
        limit = np.abs(grad).max() or 1.0
        im = bottom.imshow(grad / limit, cmap="RdBu_r", vmin=-1, vmax=1)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("derivative != 0", fontsize=8)
    axes[1, 0].set_ylabel("derivative / largest", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    handles = [Patch(facecolor=plt.get_cmap("Greys")(1 / 1.4), label="nonzero"),
               Patch(facecolor="white", edgecolor="0.6", label="zero")]
    side[0].legend(handles=handles, loc="center left", fontsize=8, frameon=False,
                   title="derivative", title_fontsize=8)
    bar = fig.colorbar(im, cax=side[1].inset_axes([0.05, 0.0, 0.12, 1.0]))
    bar.ax.tick_params(labelsize=8)
    return fig
