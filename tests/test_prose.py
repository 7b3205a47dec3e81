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


def graded_counts() -> set[int]:
    """Every count a chapter grades (chapters 2-8 and 10), from the geometry above."""
    counts = layer_counts()
    values = {v for pair in counts.values() for v in pair if v}
    values |= {sum(p for p, _ in counts.values()), sum(c for _, c in counts.values())}
    assert {60_000, 340_908} <= values
    return values | {44_426, 61_706}              # chapter 10: the Keras variant, 28 and 32


def stated_counts(text: str) -> set[int]:
    """The graded counts that ``text`` states, written with or without thousands commas.
    12 and 32 are left out: they are also sizes (7x12 codes, 32x32 field)."""
    found = set()
    for value in graded_counts() - {12, 32}:
        for written in {str(value), f"{value:,}"}:
            if re.search(rf"(?<![\d,.]){re.escape(written)}(?![\d]|,\d)", text):
                found.add(value)
    return found


def test_the_intro_states_no_graded_count():
    # the counts are exercises of chapters 2 to 8; the intro (table, alt text, prose) and
    # its figure must leave them to the chapters
    text = (cli.BOOK / "intro.md").read_text()
    assert not stated_counts(text), f"intro.md states graded counts: {stated_counts(text)}"
    assert "tens of thousands" in text


def test_the_architecture_figure_shows_no_graded_count():
    import matplotlib.pyplot as plt

    from scripts.draw_architecture import LAYERS, figure

    fig = figure()
    try:
        drawn = "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)
    finally:
        plt.close(fig)
    assert not stated_counts(drawn), f"the figure shows graded counts: {stated_counts(drawn)}"
    for name, maps, side in LAYERS:                # but every layer's size and maps
        assert name in drawn
        assert (f"{maps} @ {side}x{side}" if side > 1 else f"{maps} units") in drawn


def test_the_intro_says_how_the_shipped_weights_were_trained():
    # review C21: the network is the paper's, the training departs from it (chapter 9)
    from lenet5.data import load_weights
    from reference.model import RECIPE

    text = " ".join((cli.BOOK / "intro.md").read_text().split())
    _, meta = load_weights(with_meta=True)
    assert "exactly as the paper describes" not in text
    assert f"mini-batches of {RECIPE['batch_size']} digits" in text
    assert meta["batch_size"] == RECIPE["batch_size"] > 1
    # "the paper's schedule of step sizes multiplied by a constant factor (a smaller one in
    # the first pass)"
    assert "multiplied by a constant factor (a smaller one in the first pass)" in text
    assert meta["rate_scale"] != 1 and meta["rate_scale"] * meta["first_pass_scale"] < \
        meta["rate_scale"]
    assert "test error below one percent" in text and meta["test_error"] < 0.01


def test_the_references_introduce_the_seed_article():
    text = " ".join((cli.BOOK / "references.md").read_text().split())
    assert "(seed-article)= ## The seed article" in text          # a label other pages use
    assert "Khandelwal" in text
    # review C22: LeCun et al. 1989 was an early convolutional network, not the first
    assert "An early convolutional network trained end to end by back-propagation" in text
    assert "The first convolutional network" not in text


def test_the_preface_validates_with_the_graders_time_limit():
    preface = (cli.BOOK / "preface.md").read_text()
    assert ".venv/bin/nbgrader validate book/" in preface  # from the top: nbgrader_config.py
    (limit,) = re.findall(r"time limit of (\d+) seconds per cell", preface)
    assert int(limit) == cli.course_config(cli.REPO).Execute.timeout
    assert "requirements-student.txt" in preface and "previous_chapters.py" in preface
