"""Session fixtures: one release of the student edition and one graded class, shared by tests."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import course as cli
from autograder.cli import grade
from autograder.release import release

CHAPTERS = cli.chapters()


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
    """The student edition generated afresh from solutions/ (this executes every solution)."""
    out = tmp_path_factory.mktemp("release")
    release(out)
    return out


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory) -> tuple[Path, dict]:
    """Grade, in one parallel batch, the solutions and the student edition of every chapter,
    the faulty submissions of tests/faulty_*.py and the bad and adversarial ones of
    tests/corpus; returns (out dir, results)."""
    from corpus import submit_corpus  # bad and adversarial submissions (tests/corpus)
    from faulty import FAULTY  # the submissions with known faults (tests/faulty_*.py)

    submitted = tmp_path_factory.mktemp("submitted")
    for chapter in CHAPTERS:
        submit(submitted, "reference", chapter, notebook_of(cli.SOLUTIONS, chapter))
        submit(submitted, "blank", chapter, notebook_of(cli.BOOK, chapter))
    for student, (chapter, replace) in FAULTY.items():
        submit(submitted, student, chapter, notebook_of(cli.SOLUTIONS, chapter), replace)
    (submitted / "stray" / "ch01_input").mkdir(parents=True)
    (submitted / "stray" / "ch01_input" / "ch01_input.ipynb").write_text("{ not json")
    submit_corpus(submitted)
    out = tmp_path_factory.mktemp("grading")
    results = grade(submitted, out, cell_timeout=20)
    return out, {(r.student, r.chapter): r for r in results}


