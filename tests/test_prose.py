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
    # "the paper's schedule of step sizes scaled (halved in the first pass, doubled after it)"
    assert "scaled (halved in the first pass, doubled after it)" in text
    assert (meta["rate_scale"], meta["rate_scale"] * meta["first_pass_scale"]) == (2, 0.5)
    assert "value of the loss's constant $j$ that the paper does not give" in text
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


def test_the_preface_states_the_graders_limits():
    from autograder.cli import parser

    preface = " ".join((cli.BOOK / "preface.md").read_text().split())
    defaults = parser().parse_args(["grade", "x"])
    (memory, cpu) = re.findall(r"may use (\d+) GB of memory and (\d+) minutes of CPU time",
                               preface)[0]
    assert int(memory) * 1024 == defaults.memory_mb
    assert int(cpu) * 60 == defaults.notebook_timeout  # the CPU limit is the notebook's time
    assert "runs longer than a minute is stopped" in preface
    assert cli.course_config(cli.REPO).Execute.timeout == 60


def _ch09_book() -> tuple[str, str]:
    """Chapter 9's released notebook: (its prose, its stored text outputs), one space apart."""
    import nbformat

    nb = nbformat.read(cli.BOOK / "ch09_training" / "ch09_training.ipynb", as_version=4)
    prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    outputs = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            outputs.append(o.get("text", "") if o.output_type == "stream" else
                           o.get("data", {}).get("text/plain", ""))
    return " ".join(prose.split()), "\n".join(outputs)


def test_ch09_names_every_departure_from_the_papers_training():
    # review C14-C18 and issue 10: section 9.12 lists every departure, and claims no more
    from lenet5.data import load_weights
    from reference.model import RECIPE

    prose, outputs = _ch09_book()
    _, meta = load_weights(with_meta=True)
    section = prose[prose.index("## 9.12 How close to the paper?"):prose.index("## Summary")]
    for departure in ("**Mini-batches.**", "**The step size.**", "**Why the step size was "
                      "changed.**", "**The curvature estimate.**", "**The order of "
                      "presentation.**", "**What the paper leaves open.**", "**The arithmetic.**",
                      "**What is measured.**"):
        assert departure in section, departure
    assert f"{meta['batch_size']} in the shipped run" in section
    assert meta["batch_size"] == RECIPE["batch_size"]
    first, later = meta["rate_scale"] * meta["first_pass_scale"], meta["rate_scale"]
    assert f"uses {first:g} times the paper's $\\eta$ in pass 1" in section
    assert f"{later:g} times it in passes 2 to 20" in section
    assert f"Eq. 9 with $j = {meta['j']:g}$" in section
    from reference.model import init_params
    start = init_params(0)                          # the shipped run's biases start at zero
    assert "The biases start at zero" in section
    assert all(not start[k].any() for k in start if k.endswith("_b") or k.endswith("_bias"))
    assert "the one departure" not in prose                            # C14
    assert "none at the cap" in section                               # C16
    assert "but not that of the loss function" in section             # C17
    assert "different quantities" in section                          # C18
    assert "highly correlated" in prose and "(p. 41)" in prose        # C19
    assert "three LeNet-4 networks also trained with distorted digits" in prose   # C20
    assert "not the same quantity" in outputs


def test_ch09_timings_are_computed_and_say_on_what_machine():
    # review C24: no typed timing; every stored one is CPU time of one thread, with the machine
    prose, outputs = _ch09_book()
    assert not re.search(r"\d\s*(ms|minutes|batches/s)\b", prose), "a typed timing in ch09"
    assert "batch/s" not in outputs and "it/s" not in outputs        # no rate in progress bars
    (machine,) = re.findall(r"^machine: (.*)$", outputs, flags=re.M)
    assert "logical CPUs" in machine and "NumPy" in machine and "OPENBLAS_NUM_THREADS=1" in machine
    (share,) = re.findall(r"(\d+)% of it in the notebook's own thread", outputs)
    assert int(share) >= 95                                          # one thread did the work
    assert re.search(r"about \d+ minutes of CPU time", outputs)
    assert re.search(r"scored in [\d.]+ s of CPU time", outputs)


def _book_prose(chapter: str) -> str:
    """The markdown of a released chapter, one space apart."""
    import nbformat

    nb = nbformat.read(cli.BOOK / chapter / f"{chapter}.ipynb", as_version=4)
    return " ".join(" ".join(c.source for c in nb.cells if c.cell_type == "markdown").split())


def test_ch01_states_the_papers_reasons_for_the_input_field():
    # review C1-C3: 2 padding pixels per side; the paper's reasons (p. 7), not folklore
    text = _book_prose("ch01_input")
    assert "four padding pixels" not in text and "two padding pixels on each side" in text
    assert "*centre* of the receptive field of the highest-level detectors" in text
    assert "accelerates learning (p. 7)" in text
    assert "must cover the whole digit" not in text


def test_ch03_says_how_the_shipped_weights_were_trained():
    # review C21: the network is the paper's; the training departs from it (chapter 9)
    from lenet5.data import load_weights
    from reference.model import RECIPE

    text = _book_prose("ch03_s2")
    _, meta = load_weights(with_meta=True)
    assert "trained with the paper's method" not in text and "the 1998 way" not in text
    assert f"mini-batches of {RECIPE['batch_size']} digits" in text
    assert meta["batch_size"] == RECIPE["batch_size"]
    assert "multiplied by a constant factor" in text and meta["rate_scale"] != 1
    assert "section 9.12" in text and "constant $j$ of the loss" in text


def test_ch04_says_how_the_shipped_weights_were_trained():
    # review C21 (ch04 §4.5): the network is the paper's, its training departs from it
    from reference.model import RECIPE

    text = _book_prose("ch04_c3")
    assert "trained the 1998 way" not in text and "the paper's method" in text
    assert f"mini-batches of {RECIPE['batch_size']} digits" in text and "chapter 9" in text


def test_ch04_to_ch06_maps_follow_the_books_colour_convention():
    # review F: no grey "dark = positive" maps; every figure call takes the new arguments
    import nbformat

    for chapter in ("ch04_c3", "ch05_s4", "ch06_c5"):
        nb = nbformat.read(cli.BOOK / chapter / f"{chapter}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "dark = positive" not in code and "symmetric=" not in code, chapter
        assert not re.search(r"show_images\([^)]*cmap=", code), chapter


def test_ch05_summary_and_centres_give_nothing_away_and_are_exact():
    # review C4/C5: no field of C5 in the summary; the 20x20 area is not "pixels 6 to 25" of
    # the digit; c3_centres' convention stated exactly
    text = _book_prose("ch05_s4")
    assert "15 pixels" not in text and "a third of the real field" not in text
    assert "occupies pixels 6 to 25" not in text and "*centre of mass*" in text
    assert "centre of pixel $p$ at position $p$" in text and "$a + (r - 1)/2$" in text
    assert "seed article <seed-article>" in text                     # review C7


def test_ch06_does_not_overstate_the_replication():
    # review C8: SDNN is one of the paper's two ways to read strings (sections V, VII, X)
    text = _book_prose("ch06_c5")
    assert "builds its reader of whole character strings on this replication" not in text
    assert "one of the two ways to read character strings" in text
    assert "section VII" in text and "sections V and X" in text


def test_ch07_and_ch08_maps_follow_the_books_colour_convention():
    # review F: the codes and F6's outputs are signed: red/blue with a colour bar, not grey
    import nbformat

    for chapter in ("ch07_f6", "ch08_rbf"):
        nb = nbformat.read(cli.BOOK / chapter / f"{chapter}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "symmetric=" not in code and "black = +1" not in code, chapter
        assert not re.search(r"show_images\(", code), chapter       # no picture is signed here
        assert "red +1 (ink), blue -1 (paper)" in code, chapter


def test_ch07_names_the_function_as_the_paper_does():
    # review C9, C11: "a sigmoid squashing function" (p. 7); 96 codes, ASCII 32 to 127
    text = _book_prose("ch07_f6")
    assert '"a sigmoid squashing function" (p. 7)' in text
    assert "one for each ASCII code from 32 to 127" in text and "127, DEL" in text
    assert "95 printable" not in text and "seed article" not in text
    assert "derive them" in text and "dx = dout @ w.T" not in text   # review F: derived


def test_ch08_says_the_fig3_codes_are_exact_and_why_they_look_odd():
    # review C10-C13, C25, against the shipped bitmaps of Fig. 3
    import numpy as np

    from lenet5 import data

    text = _book_prose("ch08_rbf")
    assert "These are the paper's codes, exactly." in text
    for detail in ("**the bars**", "**the blank DEL**", "**the deliberately similar l, 1 and I**"):
        assert detail in text
    assert '"at least initially" (p. 8)' in text and "*initial* parameters" in text
    assert "the 95 printable characters, from the space to `~`, and DEL (127)" in text
    assert "nowhere else" not in text and "five in six" not in text
    assert "Test digit 0" not in text
    codes = np.load(data.DATA_DIR / "rbf_fig3_bitmaps.npy").reshape(96, 12, 7)
    glyph = {chr(32 + i): code for i, code in enumerate(codes)}
    for digit in "0245":                    # a bar in the top row, a blank row below it
        assert (glyph[digit][0] > 0).any() and (glyph[digit][1] < 0).all()
    assert (glyph[" "] < 0).all() and (codes[95] < 0).all()         # space and DEL: blank
    assert (glyph["l"] != glyph["I"]).sum() <= 2 and (glyph["l"] != glyph["1"]).sum() <= 8
