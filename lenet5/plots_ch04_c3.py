"""Figures of chapter 4 (C3 and its connection table)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import numpy as np

#: Column groups of Table I: (first column, end column, label).
TABLE_I_GROUPS = [(0, 6, "3 contiguous"), (6, 12, "4 contiguous"),
                  (12, 15, "4 non-\ncontiguous"), (15, 16, "all\n6")]


def show_connection_table(table, groups=TABLE_I_GROUPS, title=None):
    """Draw a bool connection table ``(inputs, outputs)`` as a grid: a dark square with an X
    where input map i (row) feeds output map j (column), with a legend; ``groups`` labels
    ranges of columns."""
    table = np.asarray(table, dtype=bool)
    rows, cols = table.shape
    fig, ax = plt.subplots(figsize=(0.45 * cols + 1.4, 0.45 * rows + 1.6))
    ax.imshow(table, cmap="Greys", vmin=0, vmax=1.6, aspect="equal")
    for i in range(rows + 1):
        ax.axhline(i - 0.5, color="0.75", linewidth=0.8)
    for j in range(cols + 1):
        ax.axvline(j - 0.5, color="0.75", linewidth=0.8)
    for i, j in zip(*np.nonzero(table)):
        ax.text(j, i, "X", ha="center", va="center", color="white", fontsize=9,
                fontweight="bold")
    for start, end, label in groups or []:
        if start > 0:
            ax.axvline(start - 0.5, color="tab:red", linewidth=2)
        ax.text((start + end - 1) / 2, -0.9, label, ha="center", va="bottom", fontsize=8,
                color="tab:red")
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.tick_params(length=0, labelsize=8)
    ax.xaxis.set_ticks_position("bottom")
    ax.set_xlabel("C3 map (column j)")
    ax.set_ylabel("S2 map (row i)")
    ax.legend(handles=[Patch(facecolor=plt.get_cmap("Greys")(1 / 1.6), edgecolor="0.6",
                             label="X: S2 map i feeds C3 map j"),
                       Patch(facecolor="white", edgecolor="0.6", label="no connection")],
              loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, fontsize=8,
              frameon=False)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10, pad=34 if groups else 6)
    fig.tight_layout()
    return fig
