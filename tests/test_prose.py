"""Numbers written in the book's own pages are recomputed here, so they cannot go stale."""
from __future__ import annotations

import re

from autograder import course as cli
from reference.model import C3_TABLE


def layer_counts() -> dict[str, tuple[int | None, int | None]]:
    """(trainable parameters, connections) of each layer, from its geometry (paper, p. 7)."""
    c3_inputs = C3_TABLE.sum(axis=0)                      # S2 maps feeding each C3 map
    c3_params = int(sum(25 * k + 1 for k in c3_inputs))
    return {
        "C1": (6 * (25 + 1), 6 * 28 * 28 * (25 + 1)),
        "S2": (6 * 2, 6 * 14 * 14 * (4 + 1)),
        "C3": (c3_params, c3_params * 10 * 10),
        "S4": (16 * 2, 16 * 5 * 5 * (4 + 1)),
        "C5": (120 * (16 * 25 + 1), 120 * (16 * 25 + 1) * 1 * 1),
        "F6": (84 * (120 + 1), 84 * (120 + 1)),
        "output": (0, 10 * 84),
    }


def test_intro_table_matches_the_layer_arithmetic():
    rows = {}
    for line in (cli.BOOK / "intro.md").read_text().splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[\d,–]+", cells[3].replace(" ", "")):
            rows[cells[0]] = tuple(None if c == "–" else int(c.replace(",", ""))
                                   for c in cells[3:])
    counts = layer_counts()
    for layer, expected in counts.items():
        assert rows[layer] == expected, layer
    total = (sum(p for p, _ in counts.values()), sum(c for _, c in counts.values()))
    assert rows["total"] == total == (60_000, 340_908)
