"""Session fixtures: one release of the student edition and one graded class, shared by tests."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograder import course as cli
from autograder.cli import grade
from autograder.release import release

CHAPTERS = cli.chapters()
# LENET5_TEST_CHAPTERS=ch01_input,ch02_c1 grades only those chapters in graded_class (for a
# quick run while working on them); tests that need another chapter are skipped.
SELECTED = [c for c in os.environ.get("LENET5_TEST_CHAPTERS", "").split(",") if c] or CHAPTERS


def needs(chapter: str) -> None:
    """Skip the calling test when graded_class leaves ``chapter`` out."""
    if chapter not in SELECTED:
        pytest.skip(f"{chapter} is not in LENET5_TEST_CHAPTERS")


class _Results(dict):
    """graded_class's results: {(student, chapter): Result}; a chapter left out by
    LENET5_TEST_CHAPTERS skips the test that asks for it."""

    def __missing__(self, key):
        if key[1] not in SELECTED:
            pytest.skip(f"{key[1]} is not in LENET5_TEST_CHAPTERS")
        raise KeyError(key)


def notebook_of(folder: Path, chapter: str) -> Path:
    (path,) = sorted((folder / chapter).glob("*.ipynb"))
    return path


def submit(submitted: Path, student: str, chapter: str, source: Path,
           replace: dict[str, str] | None = None) -> Path:
    """Put a copy of ``source`` in ``submitted/<student>/<chapter>/``, with the cells whose
    nbgrader grade_id is a key of ``replace`` given that source instead."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if replace and grade_id in replace:
            cell.source = replace[grade_id]
    target = submitted / student / chapter / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """The first chapter's student edition generated afresh from solutions/ (this executes
    its solution; the class in graded_class executes every chapter's)."""
    out = tmp_path_factory.mktemp("release")
    release(out, CHAPTERS[:1])
    return out


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> tuple[Path, dict]:
    """Grade, in one parallel batch, the solutions and the student edition of every chapter,
    the faulty submissions of tests/faulty_*.py and the bad and adversarial ones of
    tests/corpus; returns (out dir, results)."""
    from corpus import submit_corpus  # bad and adversarial submissions (tests/corpus)
    from faulty import FAULTY  # the submissions with known faults (tests/faulty_*.py)

    submitted = tmp_path_factory.mktemp("submitted")
    for chapter in SELECTED:
        submit(submitted, "reference", chapter, notebook_of(cli.SOLUTIONS, chapter))
        submit(submitted, "blank", chapter, notebook_of(cli.BOOK, chapter))
    for student, (chapter, replace) in FAULTY.items():
        if chapter in SELECTED:
            submit(submitted, student, chapter, notebook_of(cli.SOLUTIONS, chapter), replace)
    if "ch01_input" in SELECTED:
        (submitted / "stray" / "ch01_input").mkdir(parents=True)
        (submitted / "stray" / "ch01_input" / "ch01_input.ipynb").write_text("{ not json")
    submit_corpus(submitted, SELECTED)
    out = tmp_path_factory.mktemp("grading")
    results = grade(submitted, out, cell_timeout=20)
    return out, _Results({(r.student, r.chapter): r for r in results})


