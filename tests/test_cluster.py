"""Grading on a Dask cluster of separate processes (a scheduler and two workers on 127.0.0.1),
as a course with more machines would: the scores are the local run's, and a worker killed in
the middle of the batch loses nothing and grades nothing twice."""
from __future__ import annotations

import csv
import os
import signal
import threading
import time

import pytest

from autograder import cluster, course
from autograder.grading import grade
from autograder.term import Term
from conftest import needs, notebook_of, submit

CHAPTER = "ch01_input"


@pytest.fixture
def loopback_cluster():
    with cluster.loopback(2) as running:
        yield running


def test_a_cluster_with_a_worker_killed_midway_grades_each_submission_once(
        tmp_path, loopback_cluster):
    """Four submissions on two workers; one worker is killed once the first results are in:
    the other grades the rest, each submission has one row and one gradebook entry, and the
    scores, cell by cell, are those a local run gives these notebooks (test_grading: the
    solutions earn every point, the released edition none)."""
    needs(CHAPTER)
    address, workers = loopback_cluster
    submitted, out = tmp_path / "submitted", tmp_path / "grading"
    kinds = {"solution": notebook_of(course.SOLUTIONS, CHAPTER),
             "released": notebook_of(course.BOOK, CHAPTER)}
    students = {f"{kind}{k}": kind for k in range(2) for kind in kinds}
    for student, kind in students.items():
        submit(submitted, student, CHAPTER, kinds[kind])

    def kill_a_worker_after_the_first_result():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not list(out.glob("autograded/*/*/*.ipynb")):
            time.sleep(0.2)
        os.killpg(workers[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker_after_the_first_result)
    killer.start()
    results = grade(submitted, out, cell_timeout=20, term=Term(), scheduler=address)
    killer.join()
    assert workers[0].poll() is not None  # it was killed while the batch ran

    assert sorted(r.student for r in results) == sorted(students)
    for r in results:
        expected = r.max_score if students[r.student] == "solution" else 0
        assert (r.status, r.score) == ("graded", expected), r.reason
    with (out / "questions.csv").open() as f:
        questions = list(csv.DictReader(f))
    assert len(questions) == len(students) * len({q["question"] for q in questions})
    for q in questions:
        assert q["score"] == (q["max_score"] if students[q["student"]] == "solution" else "0")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert sorted(s.student.id for s in gb.find_assignment(CHAPTER).submissions) == \
            sorted(students)
