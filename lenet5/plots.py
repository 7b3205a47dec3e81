"""The figures the chapters draw, so notebook cells stay one line about *what* is shown."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_images(images, titles=None, *, ncols=None, cmap="gray_r", size=1.6,
                suptitle=None, symmetric=False):
    """Draw a row (or grid) of 2-D images. images: (K, H, W), or a list of 2-D arrays.

    ``symmetric=True`` centres each image's colour scale on zero (for weights and signed
    maps), so that white is 0 whatever the image's range.
    """
    images = [np.asarray(image) for image in images]
    k = len(images)
    ncols = ncols or k
    nrows = -(-k // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= k:
            continue
        if symmetric:
            limit = np.abs(images[i]).max() or 1.0
            ax.imshow(images[i], cmap=cmap, vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[i], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def show_input_field(x, label=None):
    """One LeNet-5 input with its 2-pixel background border outlined. x: (32, 32)."""
    fig, ax = plt.subplots(figsize=(3.4, 3.4))
    im = ax.imshow(x, cmap="gray_r", vmin=-0.1, vmax=1.175)
    ax.add_patch(plt.Rectangle((1.5, 1.5), 28, 28, fill=False, edgecolor="tab:red",
                               linewidth=1.2, linestyle="--"))
    ax.set_title("32x32 input" + (f" (label {label})" if label is not None else "")
                 + "\nred: the original 28x28 image", fontsize=9)
    ax.set_xticks([0, 31])
    ax.set_yticks([0, 31])
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig
