"""Draw LeNet-5 at a glance for the book's landing page: book/images/architecture.png.

    python -m scripts.draw_architecture [--out book/images/architecture.png]

Run it from the repository root (it reads the instructor's ``reference`` package).  Every layer
is drawn as a stack of all its feature maps, each square's side proportional to the map's side
(32, 28, 14, 10, 5), or as a column of units (C5, F6, output; only some of the units drawn).
The input square shows a real MNIST test digit in its 32x32 field.  Under each layer: its
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
GAPS = [19, 18, 17, 18, 20, 16, 18]   # room between layers for the operation labels
OPS = ["5x5 convolution", "2x2 subsampling\n(trainable)", "5x5 convolution\n(Table I)",
       "2x2 subsampling\n(trainable)", "5x5 convolution\n(fully connected)", "full\nconnection",
       "Euclidean RBF\n(fixed codes)"]
NOTES = {"INPUT": "a 28x28 digit, centred", "C5": "(120 maps of 1x1)",
         "OUTPUT": "one per digit"}


def figure() -> plt.Figure:
    """The architecture drawing as a Matplotlib figure (not saved)."""
    digit = data.load_mnist("test")[0][0]
    field = model.to_input(digit[None])[0, 0]
    fig, ax = plt.subplots(figsize=(12, 3.9), dpi=110)
    ax.axis("off")
    unit = 0.5                                    # drawing units per pixel of a map side
    x = 2.0
    spans = []
    for k, (name, maps, side) in enumerate(LAYERS):
        if side > 1:                               # a stack of all its maps
            step = 1.1 if maps <= 6 else 0.42
            size = side * unit
            for m in range(maps)[::-1]:
                x0, y0 = x + m * step, 14 - size / 2 + m * step
                if name == "INPUT":
                    ax.imshow(field, cmap="gray_r", vmin=-0.1, vmax=1.175,
                              extent=(x0, x0 + size, y0, y0 + size), zorder=3)
                    ax.add_patch(Rectangle((x0, y0), size, size, fill=False, lw=1, zorder=4))
                else:
                    ax.add_patch(Rectangle((x0, y0), size, size, facecolor="#dbe8f5",
                                           edgecolor="#1f4e79", lw=0.7, zorder=3 + m))
            width = size + (maps - 1) * step
            top = 14 + size / 2 + maps * step
        else:                                      # a column of units
            n_drawn = {120: 24, 84: 17, 10: 10}[maps]
            h = 26.0
            width = 2.2
            output = name == "OUTPUT"
            for u in range(n_drawn):
                y0 = 14 - h / 2 + u * h / n_drawn
                ax.add_patch(Rectangle((x, y0), width, h / n_drawn * 0.8,
                                       facecolor="#e6d2f0" if output else "#f5e3c8",
                                       edgecolor="#5b2a86" if output else "#7a4b00", lw=0.5))
            top = 14 + h / 2
        shape = f"{maps} @ {side}x{side}" if side > 1 else f"{maps} units"
        ax.text(x + width / 2, top + 1.4, name, ha="center", va="bottom", fontsize=12,
                fontweight="bold")
        ax.text(x + width / 2, -4.5, shape, ha="center", fontsize=9.5)
        if name in NOTES:
            ax.text(x + width / 2, -7.8, NOTES[name], ha="center", fontsize=8.5, color="#333")
        spans.append((x, x + width))
        x += width + (GAPS[k] if k < len(GAPS) else 0)
    for k, op in enumerate(OPS):
        x0, x1 = spans[k][1] + 0.4, spans[k + 1][0] - 0.4
        ax.add_patch(FancyArrowPatch((x0, 14), (x1, 14), arrowstyle="-|>", mutation_scale=10,
                                     color="#444", lw=1, zorder=10))
        ax.text((x0 + x1) / 2, 10.5, op, ha="center", va="top",
                fontsize=8, color="#222", zorder=11,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))
    ax.text(x / 2, -12.5, "every unit from C1 to F6 applies the squashing function "
            "f(a) = 1.7159 tanh(2a/3)", ha="center", fontsize=9.5, style="italic")
    ax.set_xlim(0, x + 2)
    ax.set_ylim(-14.5, 36)
    ax.set_aspect("auto")
    fig.tight_layout()
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
