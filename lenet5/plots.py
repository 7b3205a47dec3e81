"""The figures the chapters draw, so notebook cells stay one line about *what* is shown.

One colour convention for the whole book, with a colour bar on every map:

- pictures (digits, network inputs, masks): grey, dark = high (``gray_r``), drawn by
  :func:`show_images` and :func:`show_input_field`;
- signed quantities (weights, activations, gradients, the RBF codes): red = positive,
  blue = negative, white = 0 (``RdBu_r``, symmetric about zero), drawn by :func:`show_maps`
  and :func:`show_input_and_maps`. Panels that are compared share one scale.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def show_images(images, titles=None, *, ncols=None, size=1.6, suptitle=None, vmin=None,
                vmax=None, colorbar_label="pixel value"):
    """Draw a row (or grid) of pictures (digits, inputs, 0/1 masks) in grey, dark = high,
    on one shared scale with a colour bar. images: (K, H, W), or a list of 2-D arrays.

    ``vmin``/``vmax``: the scale's ends (default: the smallest and largest value shown).
    Signed quantities (weights, activations, gradients) go to :func:`show_maps` instead.
    """
    images = [np.asarray(image, dtype=float) for image in images]
    k = len(images)
    ncols = ncols or k
    nrows = -(-k // ncols)
    vmin = min(float(image.min()) for image in images) if vmin is None else vmin
    vmax = max(float(image.max()) for image in images) if vmax is None else vmax
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.9, size * nrows + 0.45),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= k:
            continue
        shown = ax.imshow(images[i], cmap="gray_r", vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return _with_colour_bar(fig, axes, shown, colorbar_label, suptitle)


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


def _with_colour_bar(fig, axes, shown, label=None, suptitle=None):
    """``fig`` with one colour bar for all its ``axes`` (the scale of ``shown``), and a title."""
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.85, aspect=15 * len(axes))
    bar.ax.tick_params(labelsize=8)
    if label:
        bar.set_label(label, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig


def show_maps(images, titles=None, *, ncols=None, cmap="RdBu_r", limit=None, size=1.4,
              suptitle=None, colorbar_label=None):
    """Draw signed 2-D arrays (kernels, feature maps) on one colour scale centred on zero,
    with a colour bar, so that the same colour means the same value in every panel.

    ``limit``: the absolute value drawn at full colour (default: the largest one shown).
    """
    images = [np.asarray(image, dtype=float) for image in images]
    k = len(images)
    ncols = ncols or k
    nrows = -(-k // ncols)
    limit = limit or max(float(np.abs(image).max()) for image in images) or 1.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.9, size * nrows + 0.45),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= k:
            continue
        shown = ax.imshow(images[i], cmap=cmap, vmin=-limit, vmax=limit)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    return _with_colour_bar(fig, axes, shown, colorbar_label, suptitle)


def show_input_and_maps(x, maps, *, limit, map_titles=None, input_title="input",
                        ncols=4, size=1.6, suptitle=None, colorbar_label=None,
                        input_range=(-0.1, 1.175)):
    """A network input next to the maps a layer computed from it, all at one pixel scale.

    x: (H, W) input; maps: (K, h, w) with h <= H, w <= W. Every panel spans the input's
    H x W pixels and each map is drawn centred in it, so that with a valid k x k convolution
    (h = H - k + 1) each unit sits over the centre of its window. The maps share one colour
    scale, centred on zero, of half-width ``limit``; the input is drawn in grey over
    ``input_range``.
    """
    x = np.asarray(x, dtype=float)
    maps = [np.asarray(m, dtype=float) for m in maps]
    height, width = x.shape
    k = len(maps) + 1
    nrows = -(-k // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.9, size * nrows + 0.5),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        if i >= k:
            ax.set_axis_off()
            continue
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # each panel framed at the input's size
            spine.set_color("0.75")
            spine.set_linewidth(0.6)
    first = axes.flat[0]
    pixels = first.imshow(x, cmap="gray_r", vmin=input_range[0], vmax=input_range[1],
                          extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    first.set_title(input_title, fontsize=9)
    fig.colorbar(pixels, ax=first, location="left", shrink=0.85).ax.tick_params(labelsize=7)
    for ax, m, title in zip(list(axes.flat)[1:], maps, map_titles or [None] * len(maps)):
        top, left = (height - m.shape[0]) / 2, (width - m.shape[1]) / 2
        shown = ax.imshow(m, cmap="RdBu_r", vmin=-limit, vmax=limit,
                          extent=(left - 0.5, left + m.shape[1] - 0.5,
                                  top + m.shape[0] - 0.5, top - 0.5))
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        if title:
            ax.set_title(title, fontsize=9)
    return _with_colour_bar(fig, axes, shown, colorbar_label, suptitle)
