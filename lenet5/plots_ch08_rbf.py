"""Figures of chapter 8 (the RBF output layer): the codes, penalties of a digit, the squashing
function. Signed values (codes, F6 outputs) in red/blue centred on zero, as in lenet5.plots."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

A_SQUASH = 1.7159


def show_penalties(image, f6, penalties, label, predicted, title=None):
    """One digit, its F6 output as a 7x12 picture and its ten RBF penalties as bars.

    image: (H, W) the input digit, drawn in grey (dark = high); f6: (84,) F6 outputs, drawn
    signed (red +, blue -) on the squashing function's range +-1.7159, like the codes;
    penalties: (10,), drawn on a log scale so that a small penalty next to large ones still
    shows; label: true class; predicted: the class the network chose (computed by the
    caller). The predicted class's bar is orange, the true class's bar hatched (legend).
    """
    from matplotlib.patches import Patch

    f6 = np.asarray(f6).reshape(12, 7)
    penalties = np.asarray(penalties, dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 0.75, 2.4]})
    shown = axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title(f"input (label {label})", fontsize=9)
    axes[0].set_axis_off()
    bar = fig.colorbar(shown, ax=axes[0], fraction=0.08, pad=0.03)
    bar.ax.tick_params(labelsize=7)
    bar.set_label("pixel value", fontsize=8)
    im = axes[1].imshow(f6, cmap="RdBu_r", vmin=-A_SQUASH, vmax=A_SQUASH)
    axes[1].set_title("F6 output, 7x12", fontsize=9)
    axes[1].set_axis_off()
    bar = fig.colorbar(im, ax=axes[1], fraction=0.12, pad=0.04,
                       ticks=[-A_SQUASH, -1, 0, 1, A_SQUASH])
    bar.ax.tick_params(labelsize=7)
    bar.set_label("output (red +, blue -)", fontsize=8)
    winner, label = int(predicted), int(label)
    floor = max(float(penalties.min()), 1e-3) / 4          # the bottom of the log axis
    colors = ["tab:orange" if i == winner else "tab:blue" for i in range(len(penalties))]
    bars = axes[2].bar(range(len(penalties)), np.maximum(penalties, floor) - floor,
                       bottom=floor, color=colors)
    bars[label].set_hatch("///")
    bars[label].set_edgecolor("black")
    for i, y in enumerate(penalties):
        axes[2].text(i, max(y, floor), f"{y:.1f}" if y < 100 else f"{y:.0f}", ha="center",
                     va="bottom", fontsize=7)
    axes[2].set_yscale("log")
    axes[2].set_ylim(floor, float(penalties.max()) * 8)
    axes[2].set_xticks(range(len(penalties)))
    axes[2].tick_params(labelsize=8)
    axes[2].set_xlabel("class i", fontsize=9)
    axes[2].set_ylabel("penalty $y_i$ (log scale)", fontsize=9)
    axes[2].set_title("RBF penalties (smallest wins)", fontsize=9)
    axes[2].legend(handles=[Patch(facecolor="tab:orange", label=f"predicted ({winner})"),
                            Patch(facecolor="white", edgecolor="black", hatch="///",
                                  label=f"label ({label})")],
                   fontsize=8, loc="upper left", ncols=2, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def show_code_table(bitmaps, names, ncols=16, size=0.42, suptitle=None):
    """Every code of Fig. 3 on one signed scale (red +1 = ink, blue -1 = paper), each titled
    with its character. bitmaps: (K, 12, 7) of +-1; names: K labels."""
    k = len(bitmaps)
    nrows = -(-k // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, size * 1.75 * nrows + 0.5),
                             squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < k:
            shown = ax.imshow(bitmaps[i], cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_title(names[i], fontsize=8, pad=2)
    bar = fig.colorbar(shown, ax=axes.ravel().tolist(), shrink=0.6, ticks=[-1, 0, 1])
    bar.ax.tick_params(labelsize=8)
    bar.set_label("code value", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig


def show_squash_curvature(a, f, abs_f2, peaks):
    """f(a) with the points (+-1, +-1), and |f''(a)| with its maxima marked.

    a: (K,) grid; f, abs_f2: (K,) values of f and |f''| on it; peaks: the a where |f''| peaks.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.1))
    left.plot(a, f, color="tab:blue", label="$f(a) = 1.7159\\,\\tanh(2a/3)$")
    for level in (A_SQUASH, -A_SQUASH):
        left.axhline(level, color="gray", linestyle=":", linewidth=1)
    left.plot([-1, 1], [-1, 1], "o", color="tab:red", label="$f(\\pm 1) = \\pm 1$")
    for v in (-1, 1):
        left.plot([v, v, a[0]], [-A_SQUASH - 0.3, v, v], color="tab:red", linewidth=0.8,
                  linestyle="--")
    left.set_ylim(-A_SQUASH - 0.3, A_SQUASH + 0.3)
    left.set_xlim(a[0], a[-1])
    left.set_xlabel("$a$")
    left.set_title("$f$ (dotted: asymptotes $\\pm 1.7159$)", fontsize=9)
    left.legend(fontsize=8, loc="lower right")
    right.plot(a, abs_f2, color="tab:green", label="$|f''(a)|$")
    right.plot(peaks, np.interp(peaks, a, abs_f2), "o", color="tab:green", markersize=7,
               label=f"its maxima, $a = \\pm{abs(peaks[0]):.3f}$")
    for k, v in enumerate((-1, 1)):
        right.axvline(v, color="tab:red", linestyle=":", linewidth=1.2,
                      label="$a = \\pm 1$, where $f = \\pm 1$" if k == 0 else None)
    right.set_xlim(a[0], a[-1])
    right.set_ylim(0, float(abs_f2.max()) * 1.35)
    right.set_xlabel("$a$")
    right.set_title("$|f''|$ is largest next to $a = \\pm 1$", fontsize=9)
    right.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
