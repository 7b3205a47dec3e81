"""Figures of chapter 3 (S2: trainable subsampling)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

_BLOCK_COLOURS = ["#fde0c5", "#c9e4f6", "#d5f0d0", "#eadcf4", "#fff3b0", "#f6d0d8",
                  "#d0f0f0", "#e8e8c8", "#f0d8c0"]


def _grid(ax, values, colours, title, fmt="{:g}"):
    h, w = values.shape
    for r in range(h):
        for c in range(w):
            ax.add_patch(plt.Rectangle((c, h - 1 - r), 1, 1, facecolor=colours[r][c],
                                       edgecolor="0.6", linewidth=0.8))
            ax.text(c + 0.5, h - 0.5 - r, fmt.format(values[r, c]), ha="center",
                    va="center", fontsize=10)
    ax.set_xlim(-0.05, w + 0.05)
    ax.set_ylim(-0.05, h + 0.05)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)


def show_block_sum(x, sums, out, coeff, bias):
    """One map through S2, with numbers: input ``(H, W)``, block sums and the affine output
    ``(H/2, W/2)``; each 2x2 block and the unit it feeds share a colour."""
    x, sums, out = np.asarray(x), np.asarray(sums), np.asarray(out)
    h, w = x.shape
    colour_of = [[_BLOCK_COLOURS[((r // 2) * (w // 2) + c // 2) % len(_BLOCK_COLOURS)]
                  for c in range(w)] for r in range(h)]
    small = [[colour_of[2 * r][2 * c] for c in range(w // 2)] for r in range(h // 2)]
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.3),
                             gridspec_kw={"width_ratios": [w, w / 2 + 0.6, w / 2 + 0.6]})
    _grid(axes[0], x, colour_of, f"input map ({h}x{w})")
    for k in range(0, w + 1, 2):
        axes[0].plot([k, k], [0, h], color="k", linewidth=1.6)
    for k in range(0, h + 1, 2):
        axes[0].plot([0, w], [k, k], color="k", linewidth=1.6)
    _grid(axes[1], sums, small, "sum of each 2x2 block")
    _grid(axes[2], out, small, f"coefficient x sum + bias\n(coefficient {coeff:g}, "
                               f"bias {bias:g})")
    fig.tight_layout()
    return fig


def show_unit_modes(counts, curves, labels, title=None):
    """Output of one S2 unit (after the squash) against the number of its four inputs that
    are "on"; ``curves``: one sequence of len(counts) values per label."""
    fig, ax = plt.subplots(figsize=(8.2, 3.4))
    for values, label, marker in zip(curves, labels, "osD^v"):
        ax.plot(counts, values, marker=marker, label=label)
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.set_xticks(counts)
    ax.set_xlabel("number of the four inputs that are on (+1; the others are -1)")
    ax.set_ylabel("unit output f(w * sum + b)")
    ax.set_ylim(-1.8, 1.8)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_map_rows(rows, row_labels, col_titles=None, *, limit=1.7159, size=1.3,
                  suptitle=None, colorbar_label="unit output"):
    """A grid of signed maps, one row per entry of ``rows`` (each ``(K, h, w)``), in the
    book's colours (red positive, blue negative, white 0) on ONE scale of half-width
    ``limit`` for every panel, with a colour bar. Every panel spans the same field, so a map
    of half the side is drawn with pixels twice as large: sizes are to scale."""
    nrows, ncols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 1.1, size * nrows + 0.6),
                             squeeze=False, layout="constrained")
    side = max(np.shape(m)[-1] for r in rows for m in r)
    shown = None
    for i, (maps, label) in enumerate(zip(rows, row_labels)):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(maps):
                ax.set_axis_off()
                continue
            shown = ax.imshow(maps[j], cmap="RdBu_r", vmin=-limit, vmax=limit,
                              extent=(0, side, side, 0))
            if i == 0 and col_titles is not None:
                ax.set_title(col_titles[j], fontsize=10)
        axes[i][0].set_ylabel(label, fontsize=10)
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.85)
    bar.ax.tick_params(labelsize=9)
    if colorbar_label:
        bar.set_label(colorbar_label, fontsize=10)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig
