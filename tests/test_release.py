"""solutions/ -> book/: the student edition is current, complete and gives nothing away."""
from __future__ import annotations

import nbformat
import pytest

from autograder import course as cli
from autograder.course import previous_chapters
from autograder.release import PREVIOUS, fingerprint, release, released_fingerprint
from conftest import CHAPTERS, notebook_of

LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "autograder.checks")


def _shape(nb):
    """What must agree between two releases: cells, their sources and metadata, and the kinds
    of their outputs (timings and image bytes differ from run to run, and so does how a
    cell's printing is split into stream outputs)."""
    return [(c.cell_type, c.get("id"), c.source, c.metadata.get("nbgrader"),
             sorted({o.output_type for o in c.get("outputs", [])})) for c in nb.cells]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_book_is_in_sync_with_solutions(chapter):
    """book/<chapter> was released from today's inputs (its release fingerprint), with the
    files released beside the notebook as they are today."""
    assert released_fingerprint(notebook_of(cli.BOOK, chapter)) == fingerprint(chapter), (
        f"book/{chapter} was released from other inputs than today's (solutions, lenet5, "
        f"reference, data, checks or libraries changed): run `python -m autograder release "
        f"{chapter}` and commit")
    expected = {p.name: p.read_bytes() for p in (cli.SOLUTIONS / chapter).iterdir()
                if p.is_file() and p.suffix != ".ipynb"}
    if previous_chapters(chapter):
        expected[PREVIOUS] = previous_chapters(chapter).encode()
    committed = {p.name: p.read_bytes() for p in (cli.BOOK / chapter).iterdir()
                 if p.is_file() and p.suffix != ".ipynb"}
    assert committed == expected, (  # previous_chapters.py and any other released file
        f"book/{chapter}'s files are stale: run `python -m autograder release {chapter}`")


def test_a_fresh_release_reproduces_the_book(released):
    """Releasing afresh (executing the solutions) gives the committed edition's cells,
    sources, metadata and kinds of outputs; done for the first chapter only (every chapter
    takes minutes; the fingerprints above cover them all)."""
    (chapter,) = {p.name for p in released.iterdir() if p.is_dir()}
    fresh = nbformat.read(notebook_of(released, chapter), as_version=4)
    committed = nbformat.read(notebook_of(cli.BOOK, chapter), as_version=4)
    assert _shape(committed) == _shape(fresh), (
        f"book/{chapter} is stale: run `python -m autograder release {chapter}` and commit")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_shows_no_solution_and_no_hidden_test(chapter):
    nb = nbformat.read(notebook_of(cli.BOOK, chapter), as_version=4)
    text = notebook_of(cli.BOOK, chapter).read_text()
    for leak in LEAKS:
        assert leak not in text, f"book/{chapter} contains {leak!r}"
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert graded, "a chapter without exercises"
    for cell in graded:
        assert "raise NotImplementedError()" in cell.source
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade") or \
                cell.metadata.get("nbgrader", {}).get("solution"):
            assert cell.outputs == [], f"graded cell {cell.id} keeps outputs"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_keeps_the_reference_figures(chapter):
    nb = nbformat.read(notebook_of(cli.BOOK, chapter), as_version=4)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, f"book/{chapter} has no figure outputs"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors


def test_releasing_unchanged_inputs_changes_no_byte(released):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in released.rglob("*")
              if p.is_file()}
    assert release(released, CHAPTERS[:1]) == []  # nothing to write
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in released.rglob("*")
             if p.is_file()}
    assert after == before
