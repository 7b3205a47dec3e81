"""Draw LeNet-5 at a glance for the book's landing page: book/images/architecture.png.

    python scripts/draw_architecture.py [--out book/images/architecture.png]

Every layer is drawn as a stack of its feature maps (at most 6 drawn), each square's side proportional to the
map's side (32, 28, 14, 10, 5), or as a column of units (C5, F6, output).  The input square
shows a real MNIST test digit in its 32x32 field; counts under each layer are computed here from
the layer sizes and checked against the paper's totals (60,000 parameters, 340,908
connections).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from lenet5 import data, model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "book" / "images" / "architecture.png"


def layers():
    """(name, maps, side, parameters, connections) per layer, from the geometry."""
    c3_params = int(sum(25 * k + 1 for k in model.C3_TABLE.sum(axis=0)))
    rows = [
        ("INPUT", 1, 32, None, None),
        ("C1", 6, 28, 6 * 26, 6 * 28 * 28 * 26),
        ("S2", 6, 14, 6 * 2, 6 * 14 * 14 * 5),
        ("C3", 16, 10, c3_params, c3_params * 100),
        ("S4", 16, 5, 16 * 2, 16 * 5 * 5 * 5),
        ("C5", 120, 1, 120 * 401, 120 * 401),
        ("F6", 84, 1, 84 * 121, 84 * 121),
        ("OUTPUT", 10, 1, 0, 10 * 84),
    ]
    assert sum(r[3] or 0 for r in rows) == 60_000
    assert sum(r[4] or 0 for r in rows) == 340_908
    return rows


GAPS = [15, 15, 13, 15, 15, 15, 16]   # room between layers for the operation labels
OPS = ["5x5 convolution", "2x2 subsampling\n(trainable)", "5x5 convolution\n(Table I)",
       "2x2 subsampling\n(trainable)", "5x5 convolution\n(= full)", "full\nconnection",
       "Euclidean RBF\n(fixed codes)"]


def draw(out: Path) -> Path:
    digit = data.load_mnist("test")[0][0]
    field = model.to_input(digit[None])[0, 0]
    fig, ax = plt.subplots(figsize=(11, 4.3), dpi=110)
    ax.axis("off")
    unit = 0.5                                    # drawing units per pixel of a map side
    x = 2.0
    centres = []
    for k, (name, maps, side, params, conns) in enumerate(layers()):
        if side > 1:                               # a stack of maps
            shown = min(maps, 6)
            step = 1.1 if maps <= 6 else 0.55
            size = side * unit
            for m in range(shown)[::-1]:
                x0, y0 = x + m * step, 14 - size / 2 + m * step
                if name == "INPUT":
                    ax.imshow(field, cmap="gray_r", vmin=-0.1, vmax=1.175,
                              extent=(x0, x0 + size, y0, y0 + size), zorder=3)
                    ax.add_patch(Rectangle((x0, y0), size, size, fill=False, lw=1, zorder=4))
                else:
                    ax.add_patch(Rectangle((x0, y0), size, size, facecolor="#dbe8f5",
                                           edgecolor="#1f4e79", lw=0.8, zorder=3 + m))
            width = size + (shown - 1) * step
            top = 14 + size / 2 + shown * step
        else:                                      # a column of units
            n_drawn = {120: 24, 84: 17, 10: 10}[maps]
            h = 26.0
            width = 2.2
            for u in range(n_drawn):
                y0 = 14 - h / 2 + u * h / n_drawn
                ax.add_patch(Rectangle((x, y0), width, h / n_drawn * 0.8,
                                       facecolor="#f5e3c8" if name != "OUTPUT" else "#e6d2f0",
                                       edgecolor="#7a4b00" if name != "OUTPUT" else "#5b2a86",
                                       lw=0.5))
            top = 14 + h / 2
        shape = f"{maps} @ {side}x{side}" if side > 1 else f"{maps} units"
        ax.text(x + width / 2, top + 1.4, name, ha="center", va="bottom", fontsize=12,
                fontweight="bold")
        ax.text(x + width / 2, -5.0, shape, ha="center", fontsize=9.5)
        if params is not None:
            ax.text(x + width / 2, -8.8, f"{params:,} params", ha="center", fontsize=8.5,
                    color="#333")
            ax.text(x + width / 2, -11.8, f"{conns:,} conn.", ha="center", fontsize=8.5,
                    color="#333")
        centres.append((x, x + width))
        x += width + (GAPS[k] if k < 7 else 0)
    for k, op in enumerate(OPS):
        x0, x1 = centres[k][1] + 0.4, centres[k + 1][0] - 0.4
        ax.add_patch(FancyArrowPatch((x0, 14), (x1, 14), arrowstyle="-|>", mutation_scale=10,
                                     color="#444", lw=1, zorder=10))
        ax.text((x0 + x1) / 2, 10.5, op, ha="center", va="top",
                fontsize=8, color="#222", zorder=11,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
    ax.text(x / 2, -16.5, "every unit from C1 to F6 applies f(a) = 1.7159 tanh(2a/3);   "
            "total: 60,000 trainable parameters, 340,908 connections",
            ha="center", fontsize=9.5, style="italic")
    ax.set_xlim(0, x + 2)
    ax.set_ylim(-18.5, 36)
    ax.set_aspect("auto")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    print(f"wrote {draw(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
