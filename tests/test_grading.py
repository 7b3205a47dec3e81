"""The instructor's grading command on a class: full marks, zero, partial credit, breakage."""
from __future__ import annotations

import csv

import nbformat
import pytest

from autograder import course as cli
from conftest import CHAPTERS, SELECTED
from faulty import EXPECTED, FAULTY


def _feedback(out, student, chapter):
    (html,) = (out / "feedback" / student / chapter).glob("*.html")
    return html.read_text()


def _cell_scores(out, student, chapter) -> dict[str, float]:
    """{grade_id: score} of one submission, from OUT/questions.csv."""
    with (out / "questions.csv").open() as f:
        return {q["question"]: float(q["score"]) for q in csv.DictReader(f)
                if (q["student"], q["chapter"]) == (student, chapter)}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_earn_full_marks(graded_class, chapter):
    _, results = graded_class
    r = results["reference", chapter]
    assert r.status == "graded", r.reason
    assert r.max_score > 0
    assert r.score == r.max_score


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapters_time_limits_leave_a_slower_answer_room(graded_class, chapter):
    """Each chapter caps what one submission may cost (``lenet5.limits`` in its released
    notebook's metadata), at several times what its reference solution needs."""
    out, _ = graded_class
    (release,) = (cli.BOOK / chapter).glob("*.ipynb")
    limits = nbformat.read(release, as_version=4).metadata["lenet5"]["limits"]
    with (out / "logs" / "timings.csv").open() as f:
        (took,) = [r for r in csv.DictReader(f) if (r["student"], r["chapter"]) ==
                   ("reference", chapter)]
    assert limits["cell"] <= 60 and limits["notebook"] <= 900  # they lower the grader's
    assert 3 * float(took["longest_cell"]) < limits["cell"], (took, limits)
    assert 3 * float(took["cells"]) < limits["notebook"], (took, limits)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_edition_earns_zero(graded_class, chapter):
    _, results = graded_class
    r = results["blank", chapter]
    assert (r.status, r.score) == ("graded", 0)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_faulty_submission_loses_points_with_a_diagnosis(graded_class, student):
    out, results = graded_class
    chapter = FAULTY[student][0]
    r = results[student, chapter]
    cells, phrase = EXPECTED[student]  # each test cell's score, from the chapter's metadata
    score = sum(cells.values())
    assert r.status == "graded", r.reason
    assert r.score == pytest.approx(score) and score < r.max_score
    # questions.csv writes scores with %g: 6 significant digits
    assert _cell_scores(out, student, chapter) == pytest.approx(cells, abs=1e-4)
    page = _feedback(out, student, chapter)
    assert phrase in page
    # the summary at the top: the score, and a row per test linked to its cell
    assert f"Your score: {score:g} of {r.max_score:g} points" in page
    assert 'href="#test-' in page and 'id="test-' in page


def test_every_student_gets_a_row_even_when_grading_fails(graded_class):
    out, results = graded_class
    dead = results["kills_kernel", "ch01_input"]  # dies in read_idx, after decode_idx
    assert dead.status == "graded" and "the kernel died in cell read_idx" in dead.reason
    assert 0 < dead.score < dead.max_score  # the cells before it keep their points
    stray = results["stray", "ch01_input"]
    assert (stray.status, stray.score) == ("error", 0) and stray.reason
    with (out / "grades.csv").open() as f:
        rows = {(row["student"], row["chapter"]): row for row in csv.DictReader(f)}
    assert set(rows) == set(results)
    assert rows["stray", "ch01_input"]["status"] == "error"


def test_feedback_shows_no_hidden_test_code(graded_class):
    out, _ = graded_class
    for chapter in SELECTED:
        for student in ("reference", "blank"):
            html = _feedback(out, student, chapter)
            assert "autograder.checks" not in html and "HIDDEN TESTS" not in html
        assert "BEGIN SOLUTION" not in _feedback(out, "blank", chapter)
