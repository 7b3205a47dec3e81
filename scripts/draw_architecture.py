"""Draw LeNet-5 at a glance for the book's landing page: book/images/architecture.png.

    python -m scripts.draw_architecture [--out book/images/architecture.png]

Run it from the repository root (it reads the instructor's ``reference`` package).  Every layer
is drawn as a stack of all its feature maps, each square's side proportional to the map's side
(32, 28, 14, 10, 5), or as a column of units (C5, F6, output; only some of the units drawn),
in two rows.  The input square shows a real MNIST test digit in its 32x32 field.  Under each layer: its
output shape.  The figure deliberately shows no parameter or connection counts: counting them
is an exercise of chapters 2 to 8.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from lenet5 import data  # noqa: E402
from reference import model  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "book" / "images" / "architecture.png"

#: (name, maps, side) per layer, as in the paper (p. 7, Fig. 2).
LAYERS = [
    ("INPUT", 1, 32),
    ("C1", 6, 28),
    ("S2", 6, 14),
    ("C3", 16, 10),
    ("S4", 16, 5),
    ("C5", 120, 1),
    ("F6", 84, 1),
    ("OUTPUT", 10, 1),
]
#: the operation between layer k and layer k + 1
OPS = ["5x5\nconvolution", "2x2\nsubsampling\n(trainable)", "5x5\nconvolution\n(Table I)",
       "2x2 subsampling (trainable)", "5x5 convolution\n(fully connected)",
       "full\nconnection", "Euclidean RBF\n(fixed codes)"]
NOTES = {"INPUT": "a 28x28 digit,\ncentred", "C5": "(120 maps\nof 1x1)",
         "OUTPUT": "one per\ndigit"}
#: left edge of each layer (drawing units; a map pixel is UNIT wide) and the centre line of
#: its row: the first four layers on top, the last four below
LEFT = [2, 36, 76, 106, 10, 44, 78, 112]
ROW_Y = [68, 68, 68, 68, 17, 17, 17, 17]
UNIT = 0.5
FONT = {"name": 14, "shape": 12, "note": 10.5, "op": 11, "foot": 11.5}


def _draw_layer(ax, name, maps, side, x, yc, field):
    """Draw one layer with its left edge at x, centred on yc; return (left, right, bottom, top)."""
    if side > 1:                                   # a stack of all its maps
        step = 1.1 if maps <= 6 else 0.42
        size = side * UNIT
        for m in range(maps)[::-1]:
            x0, y0 = x + m * step, yc - size / 2 + m * step
            if name == "INPUT":
                ax.imshow(field, cmap="gray_r", vmin=-0.1, vmax=1.175,
                          extent=(x0, x0 + size, y0, y0 + size), zorder=3)
                ax.add_patch(Rectangle((x0, y0), size, size, fill=False, lw=1, zorder=4))
            else:
                ax.add_patch(Rectangle((x0, y0), size, size, facecolor="#dbe8f5",
                                       edgecolor="#1f4e79", lw=0.7, zorder=3 + m))
        return x, x + size + (maps - 1) * step, yc - size / 2, yc + size / 2 + maps * step
    n_drawn = {120: 24, 84: 17, 10: 10}[maps]     # a column of units (some of them drawn)
    h, width = 22.0, 2.4
    output = name == "OUTPUT"
    for u in range(n_drawn):
        ax.add_patch(Rectangle((x, yc - h / 2 + u * h / n_drawn), width, h / n_drawn * 0.8,
                               facecolor="#e6d2f0" if output else "#f5e3c8",
                               edgecolor="#5b2a86" if output else "#7a4b00", lw=0.5))
    return x, x + width, yc - h / 2, yc + h / 2


def _label(ax, x, y, text, **kw):
    ax.text(x, y, text, ha="center", va="center", fontsize=FONT["op"], color="#222", zorder=11,
            linespacing=1.1, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none",
                                       alpha=0.9), **kw)


def figure() -> plt.Figure:
    """The architecture drawing as a Matplotlib figure (not saved)."""
    digit = data.load_mnist("test")[0][0]
    field = model.to_input(digit[None])[0, 0]
    fig, ax = plt.subplots(figsize=(8.6, 7.0), dpi=110)
    ax.axis("off")
    boxes = []
    for (name, maps, side), x, yc in zip(LAYERS, LEFT, ROW_Y):
        left, right, bottom, top = _draw_layer(ax, name, maps, side, x, yc, field)
        mid = (left + right) / 2
        ax.text(mid, top + 1.2, name, ha="center", va="bottom", fontsize=FONT["name"],
                fontweight="bold")
        shape = f"{maps} @ {side}x{side}" if side > 1 else f"{maps} units"
        low = min(bottom, yc - 11)
        ax.text(mid, low - 1.5, shape, ha="center", va="top", fontsize=FONT["shape"])
        if name in NOTES:
            ax.text(mid, low - 5.2, NOTES[name], ha="center", va="top", fontsize=FONT["note"],
                    color="#444", linespacing=1.1)
        boxes.append((left, right, bottom, top, yc))
    arrow = dict(arrowstyle="-|>", mutation_scale=12, color="#444", lw=1.1, zorder=10)
    for k, op in enumerate(OPS):
        (_, r0, b0, _, y0), (l1, r1, _, t1, y1) = boxes[k], boxes[k + 1]
        if y0 == y1:                               # along a row
            ax.add_patch(FancyArrowPatch((r0 + 0.5, y0), (l1 - 0.5, y1), **arrow))
            _label(ax, (r0 + l1) / 2, y0 - 7, op)
        else:                                      # from the end of a row to the next row
            turn = (min(b0, y0 - 11) - 12 + t1 + 5) / 2
            x_end = (l1 + r1) / 2
            ax.plot([(boxes[k][0] + r0) / 2] * 2, [min(b0, y0 - 11) - 8.5, turn], color="#444",
                    lw=1.1, zorder=10)
            ax.plot([(boxes[k][0] + r0) / 2, x_end], [turn, turn], color="#444", lw=1.1,
                    zorder=10)
            ax.add_patch(FancyArrowPatch((x_end, turn), (x_end, t1 + 5.2), **arrow))
            _label(ax, ((boxes[k][0] + r0) / 2 + x_end) / 2, turn, op)
    ax.text(62, -9.5, "every unit from C1 to F6 applies the squashing function "
            "f(a) = 1.7159 tanh(2a/3)", ha="center", fontsize=FONT["foot"], style="italic")
    ax.set_xlim(0, 124)
    ax.set_ylim(-12, 90)
    ax.set_aspect("equal")
    fig.tight_layout(pad=0.3)
    return fig


def draw(out: Path = OUT) -> Path:
    """Draw the figure into ``out`` (PNG) and return the path."""
    fig = figure()
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
