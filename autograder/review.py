"""Manual review on top of autograding: nbgrader's formgrader on a grading folder.

    python -m autograder review OUT     formgrader on OUT's gradebook; when it stops,
                                        grades.csv, report.md and the reviewed students'
                                        feedback are brought up to date

The gradebook (``OUT/gradebook.db``) is the one place for reviews: formgrader writes a manual
score, extra credit or a comment there, and ``saved``/``restore`` carry them across the next
``grade`` of the same files (``--regrade`` included). A submission whose files changed since
the review loses it: the review was of other work, and its row says so. ``refresh`` reads the
scores back from the gradebook, so ``grades.csv`` and the exports count the reviews.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import REPO, SOLUTIONS, Result, instructor_env


@dataclass
class Review:
    """What an instructor set by hand on one submission, by (notebook, cell name)."""
    files: str  # the hash of the submission's files that were reviewed
    grades: dict = field(default_factory=dict)    # -> (manual_score, extra_credit)
    comments: dict = field(default_factory=dict)  # -> manual_comment


def saved(db_url: str, course_id: str, hashes: dict) -> dict[tuple[str, str], Review]:
    """The reviews in the gradebook at ``db_url``, by (student, chapter); ``hashes``: the
    grading state ("student/chapter" -> "<files hash>:<chapter fingerprint>")."""
    from nbgrader.api import Gradebook

    reviews = {}
    if not db_url.startswith("sqlite:///") or not Path(db_url[10:]).is_file():
        return reviews
    with Gradebook(db_url, course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                key = (submission.student.id, assignment.name)
                review = Review(hashes.get("/".join(key), "").split(":")[0])
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.manual_score is not None or grade.extra_credit:
                            review.grades[notebook.name, grade.name] = (grade.manual_score,
                                                                         grade.extra_credit)
                    for comment in notebook.comments:
                        if comment.manual_comment:
                            review.comments[notebook.name, comment.name] = comment.manual_comment
                if review.grades or review.comments:
                    reviews[key] = review
    return reviews


def restore(db_url: str, course_id: str, result: Result, review: Review | None,
            files: str) -> bool:
    """After ``result``'s submission was graded again: put back the review of the same
    ``files``, drop any other; the row's reason tells a dropped review. True if the
    submission had a review (its feedback is to be made again from the gradebook)."""
    from nbgrader.api import Gradebook

    if review is None:  # nothing was set by hand: nothing to put back or drop
        return False
    keep = review.files == files
    with Gradebook(db_url, course_id) as gb:
        submission = gb.find_submission(result.chapter, result.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                manual, extra = review.grades.get((notebook.name, grade.name), (None, None)) \
                    if keep else (None, None)
                grade.manual_score, grade.extra_credit = manual, extra
                grade.needs_manual_grade = grade.auto_score is None and manual is None
            for comment in notebook.comments:
                comment.manual_comment = review.comments.get((notebook.name, comment.name)) \
                    if keep else None
        gb.db.commit()
    if not keep:
        result.reason = "; ".join(filter(None, [
            result.reason, "the files changed since the manual review: the review was "
                           "dropped, review again"]))
    return True


def rescore(db_url: str, course_id: str, results: list[Result]) -> None:
    """Each graded row's score from the gradebook (reviews included, late penalty off) and
    ``manual``: the points the review changed."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        for r in results:
            if r.status != "graded":
                continue
            submission = gb.find_submission(r.chapter, r.student)
            r.penalty = float(submission.late_submission_penalty or 0)
            r.score = submission.score - r.penalty
            r.manual = submission.score - sum(g.auto_score or 0 for nb in submission.notebooks
                                               for g in nb.grades)


def read_results(out: Path) -> list[Result]:
    """The rows of ``OUT/grades.csv`` as Results."""
    with (out / "grades.csv").open(newline="") as f:
        return [Result(row["student"], row["chapter"], float(row["score"]),
                       float(row["max_score"]), row["status"], row["reason"],
                       float(row.get("late_hours") or 0), float(row.get("penalty") or 0),
                       manual=float(row.get("manual") or 0))
                for row in csv.DictReader(f)]


def refresh(out: Path, feedback: bool = True) -> list[Result]:
    """Bring ``OUT``'s grades.csv, questions.csv and report.md up to date with the gradebook,
    and (``feedback``) regenerate the feedback of every reviewed submission."""
    from autograder import report
    from autograder.grading import grading_api

    out = out.resolve()
    if not (out / "grades.csv").is_file():
        raise FileNotFoundError(f"{out} has no grades.csv: grade into it first")
    api = grading_api(out)
    results = read_results(out)
    rescore(api.coursedir.db_url, api.coursedir.course_id, results)
    report.write_all(out, results, api.coursedir.db_url)
    if feedback:
        for student, chapter in saved(api.coursedir.db_url, api.coursedir.course_id, {}):
            api.generate_feedback(chapter, student, force=True)
    return results


CONFIG = """\
# Written by `python -m autograder grade`: nbgrader's own commands, run in this folder, work
# on its gradebook (formgrader, `nbgrader export`, `nbgrader release_feedback`).
c = get_config()  # noqa: F821
load_subconfig("nbgrader_config.py", path={config_dir!r})  # noqa: F821 - the course's
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = {submitted!r}
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = {db!r}
"""


def write_config(out: Path, submitted: Path) -> Path:
    """``OUT/nbgrader_config.py``: the course's config on OUT's folders and gradebook, with
    the submissions as handed in (``submitted``: release_feedback hashes them)."""
    path = out / "nbgrader_config.py"
    path.write_text(CONFIG.format(config_dir=str(REPO / "autograder"), root=str(out),
                                  source=str(SOLUTIONS), submitted=str(submitted),
                                  db=f"sqlite:///{out / 'gradebook.db'}"))
    return path


def server_command(out: Path, port: int, browser: bool) -> list[str]:
    """A Jupyter server on ``OUT`` with formgrader, on localhost."""
    return [sys.executable, "-m", "jupyter", "server", f"--ServerApp.root_dir={out}",
            f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.open_browser={browser}",
            "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}",
            "--ServerApp.default_url=/formgrader"] + (
                ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else [])


def serve(out: Path, port: int = 8888, browser: bool = True) -> int:
    """Run formgrader on ``OUT`` until it is stopped (Ctrl-C), then ``refresh``."""
    out = out.resolve()
    if not (out / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"{out} has no gradebook: grade into it first")
    print(f"formgrader on {out / 'gradebook.db'}: open the address below, /formgrader; "
          f"stop it with Ctrl-C", flush=True)
    server = subprocess.Popen(server_command(out, port, browser), cwd=out,
                              env=instructor_env())
    try:
        code = server.wait()
    except KeyboardInterrupt:
        server.terminate()
        code = server.wait()
    refresh(out)
    print(f"updated {out / 'grades.csv'}, {out / 'report.md'} and the reviewed feedback")
    return code if code > 0 else 0

