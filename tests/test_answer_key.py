"""What a student gets holds no answer, and every check can be judged outside the kernel.

A student has ``book/<chapter>/`` and the helper package ``lenet5``. Neither may define a
graded name of that chapter or of a later one (``previous_chapters.py`` holds only earlier
chapters' answers), the instructor's packages are not importable from a chapter's folder, and
every test cell reads nothing from the kernel but the chapter's answers.
"""
from __future__ import annotations

import ast
import re
import os
import subprocess
import sys

import pytest

from autograder import course
from autograder.judge import Chapter, unknown_names
from conftest import CHAPTERS

HELPERS = sorted((course.REPO / "lenet5").glob("*.py"))


def _defined_names(path) -> set[str]:
    """Every function, class and top-level variable a Python file defines, at any depth."""
    tree = ast.parse(path.read_text())
    names = {n.name for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in tree.body:
        for target in getattr(node, "targets", [getattr(node, "target", None)]):
            names |= {n.id for n in ast.walk(target or ast.Pass()) if isinstance(n, ast.Name)}
    return names


def _graded(chapter: str) -> set[str]:
    """The answers a chapter's tests use (its graded names)."""
    judged = Chapter(chapter)
    return {name for source in judged.tests.values() for name in judged.needs(source)}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nothing_a_student_gets_defines_an_answer_not_yet_graded(chapter):
    later = set().union(*(_graded(c) for c in CHAPTERS if c >= chapter))
    assert later, f"{chapter}: no graded names found"
    files = HELPERS + sorted(p for p in (course.BOOK / chapter).glob("*.py"))
    for path in files:
        leaked = _defined_names(path) & later
        assert not leaked, f"{path.relative_to(course.REPO)} defines {sorted(leaked)}"


@pytest.mark.parametrize("chapter", CHAPTERS[1:])
def test_previous_chapters_holds_the_earlier_answers(chapter):
    path = course.BOOK / chapter / "previous_chapters.py"
    earlier = set().union(*(_graded(c) for c in CHAPTERS if c < chapter))
    assert _defined_names(path) & earlier, f"{chapter}: previous_chapters.py has no answer"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_test_cell_reads_only_answers_from_the_kernel(chapter):
    judged = Chapter(chapter)
    assert judged.tests, chapter
    for grade_id in judged.tests:
        assert not unknown_names(judged, grade_id), (
            f"{chapter}: test cell {grade_id} uses {sorted(unknown_names(judged, grade_id))}, "
            f"which only the kernel's narrative cells define: build it in the cell")


def test_the_instructors_packages_are_not_importable_from_a_chapter():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for module in ("reference", "autograder"):
        found = subprocess.run([sys.executable, "-c", f"import {module}"], env=env,
                               cwd=course.BOOK / CHAPTERS[0], capture_output=True, text=True)
        assert found.returncode != 0 and "ModuleNotFoundError" in found.stderr, module
    found = subprocess.run([sys.executable, "-c", "import lenet5.data, lenet5.testing"],
                           env=env, cwd=course.BOOK / CHAPTERS[0], capture_output=True)
    assert found.returncode == 0, found.stderr


def test_the_students_setup_installs_only_the_helper_package():
    lines = [ln.split("#")[0].strip() for ln in
             (course.REPO / "requirements-student.txt").read_text().splitlines()]
    names = {ln.split("==")[0] for ln in lines if ln}
    assert names == {"numpy", "matplotlib", "nbgrader", "tqdm", "-e ."}
    pyproject = (course.REPO / "pyproject.toml").read_text()
    assert 'packages = ["lenet5"]' in pyproject


def _graded_counts() -> dict[str, list[int]]:
    """The counts each chapter grades (from the layers' geometry, tests/test_prose.py); small
    ones (12, 32, 156, 840) and 60,000 (also MNIST's training-set size) are left out, since
    they occur in the text for other reasons."""
    from test_prose import graded_counts, layer_counts

    counts = layer_counts()
    by_chapter = {"ch02_c1": counts["C1"], "ch03_s2": counts["S2"], "ch04_c3": counts["C3"],
                  "ch05_s4": counts["S4"], "ch06_c5": counts["C5"], "ch07_f6": counts["F6"],
                  "ch08_rbf": (sum(p for p, _ in counts.values()),
                               sum(c for _, c in counts.values())),
                  "ch10_modern": sorted(graded_counts() - {v for pair in counts.values()
                                                           for v in pair if v}
                                        - {60_000, 340_908})}
    return {chapter: [v for v in values if v and v >= 1000 and v != 60_000]
            for chapter, values in by_chapter.items()}


def _pattern(value: int) -> re.Pattern:
    """The value as text: 122304, 122,304, 122 304 or 122\u202f304."""
    digits = str(value)
    head, tail = digits[:-3], digits[-3:]
    return re.compile(rf"(?<![\d.,]){head}[,\s\u202f\u2009]?{tail}(?![\d])")


def _student_text(chapter: str) -> str:
    """What a student reading up to ``chapter`` sees: its notebook and the earlier ones
    (sources and saved outputs), their released files, and the book's other pages."""
    parts = [p.read_text() for p in sorted(course.BOOK.glob("*.md"))]
    for earlier in (c for c in CHAPTERS if c <= chapter):
        parts += [p.read_text() for p in sorted((course.BOOK / earlier).iterdir()) if p.is_file()]
    parts += [p.read_text() for p in sorted((course.REPO / "data").rglob("*.json"))]
    parts += [p.read_text() for p in sorted((course.REPO / "data").rglob("*.md"))]
    return "\n".join(parts)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_graded_count_is_shown_before_it_is_graded(chapter):
    text = _student_text(chapter)
    for grader, values in _graded_counts().items():
        if grader >= chapter:
            for value in values:
                found = _pattern(value).search(text)
                assert not found, (f"{value:,} (graded in {grader}) is shown to a student of "
                                   f"{chapter}: ...{text[max(0, found.start() - 80):found.end() + 40]}...")
