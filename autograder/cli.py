"""Instructor commands on top of nbgrader.

    python -m autograder release               solutions/ -> book/ (the student edition)
    python -m autograder grade SUBMITTED [-o OUT]
                                               autograde submitted/<student>/<chapter>/,
                                               write feedback HTML and grades.csv
Both go through nbgrader's own converters, configured by autograder/nbgrader_config.py.
"""
from __future__ import annotations

import argparse
import csv
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config, PyFileConfigLoader

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
BOOK = REPO / "book"
CONFIG_FILE = Path(__file__).resolve().parent / "nbgrader_config.py"


def chapters() -> list[str]:
    """Assignment ids: the folders of solutions/ that hold a notebook, in order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def course_config(root: Path, **directories: str) -> Config:
    """The course's nbgrader config with ``root`` and any CourseDirectory folders replaced."""
    config = PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    for name, value in directories.items():
        setattr(config.CourseDirectory, name, value)
    return config


def _api(config: Config):
    from nbgrader.apps import NbGraderAPI  # slow import; only the commands need it
    from nbgrader.coursedir import CourseDirectory

    # nbgrader runs the `alembic` script of its environment: make it findable even when this
    # Python was started by its full path, without activating the virtual environment.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"{what} failed:\n{result.get('error') or result.get('log')}")


# ----------------------------------------------------------------------------- release

def execute_notebook(path: Path, timeout: int = 1200) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its own folder; raise on the first failing cell."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def release(out: Path = BOOK, only: list[str] | None = None) -> list[Path]:
    """Generate the student edition of each chapter into ``out/<chapter>/``.

    Each solution notebook is executed first, so narrative cells carry the reference run's
    figures and results; nbgrader then strips solutions, hidden tests and graded outputs.
    """
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        api = _api(course_config(tmp, source_directory="source",
                                 release_directory=str(out.resolve())))
        for chapter in only or chapters():
            for notebook in sorted((SOLUTIONS / chapter).glob("*.ipynb")):
                target = tmp / "source" / chapter / notebook.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(execute_notebook(notebook), target)
            _check(api.generate_assignment(chapter, force=True), f"releasing {chapter}")
            written += sorted((out / chapter).glob("*.ipynb"))
    return written


# ------------------------------------------------------------------------------- grade

@dataclass
class Result:
    student: str
    chapter: str
    score: float
    max_score: float
    status: str  # "graded" or "error"
    reason: str = ""


def _max_scores(api) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        return {a.name: a.max_score for a in gb.assignments}


def _score(api, chapter: str, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        return gb.find_submission(chapter, student).score


def _first_error_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "error" in ln:
            return ln[:300]
    return lines[-1][:300] if lines else "unknown error"


def grade(submitted: Path, out: Path, cell_timeout: int | None = None) -> list[Result]:
    """Autograde every ``submitted/<student>/<chapter>/`` folder; one Result per pair.

    Writes ``out/autograded``, ``out/feedback/<student>/<chapter>/*.html``, ``out/grades.csv``
    and ``out/gradebook.db`` (created afresh each run). A submission that cannot be graded
    (not a notebook, a kernel that dies) gets score 0 and its reason; the batch goes on.
    """
    submitted, out = submitted.resolve(), out.resolve()
    if not submitted.is_dir():
        raise FileNotFoundError(f"no such folder of submissions: {submitted}")
    for stale in ("autograded", "feedback", "release"):
        shutil.rmtree(out / stale, ignore_errors=True)
    (out / "gradebook.db").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    config = course_config(out, source_directory=str(SOLUTIONS),
                           release_directory=str(out / "release"),
                           submitted_directory=str(submitted),
                           autograded_directory=str(out / "autograded"),
                           feedback_directory=str(out / "feedback"))
    if cell_timeout:
        config.Execute.timeout = cell_timeout
    api = _api(config)
    known = chapters()
    for chapter in known:
        _check(api.generate_assignment(chapter, force=True), f"registering {chapter}")
    max_scores = _max_scores(api)

    results = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        student = student_dir.name
        for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            chapter = chapter_dir.name
            if chapter not in known:
                results.append(Result(student, chapter, 0, 0, "error",
                                      f"unknown chapter folder {chapter!r}; expected one of "
                                      f"{', '.join(known)}"))
                continue
            result = Result(student, chapter, 0, max_scores[chapter], "error")
            outcome = api.autograde(chapter, student, force=True, create=True)
            if outcome.get("success"):
                result.score, result.status = _score(api, chapter, student), "graded"
                feedback = api.generate_feedback(chapter, student, force=True)
                if not feedback.get("success"):
                    result.reason = "graded, but feedback failed: " + _first_error_line(
                        feedback.get("error") or feedback.get("log"))
            else:
                result.reason = _first_error_line(outcome.get("error") or outcome.get("log"))
            results.append(result)
    write_grades(results, out / "grades.csv")
    return results


def write_grades(results: list[Result], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "chapter", "score", "max_score", "status", "reason"])
        for r in results:
            writer.writerow([r.student, r.chapter, f"{r.score:g}", f"{r.max_score:g}",
                             r.status, r.reason])


def summary(results: list[Result]) -> str:
    width = max([len(r.student) for r in results] + [7])
    lines = [f"{'student':{width}s}  {'chapter':14s} {'score':>11s}  status"]
    for r in results:
        lines.append(f"{r.student:{width}s}  {r.chapter:14s} {r.score:5g} / {r.max_score:<3g}  "
                     f"{r.status}{': ' + r.reason if r.reason else ''}")
    graded = sum(r.status == "graded" for r in results)
    lines.append(f"{len(results)} submissions, {graded} graded, {len(results) - graded} "
                 f"with errors")
    return "\n".join(lines)


# -------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate book/ (student edition) from solutions/")
    rel.add_argument("chapters", nargs="*", help="only these chapters (default: all)")
    rel.add_argument("--out", type=Path, default=BOOK, help="output folder (default: book/)")
    gr = sub.add_parser("grade", help="autograde a folder of submissions")
    gr.add_argument("submitted", type=Path, help="folder laid out as <student>/<chapter>/*.ipynb")
    gr.add_argument("-o", "--out", type=Path, default=Path("grading"),
                    help="where feedback, grades.csv and the gradebook go (default: ./grading)")
    gr.add_argument("--cell-timeout", type=int, default=None,
                    help="seconds a cell may run before it is interrupted (default: 60)")
    args = parser.parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)

    if args.command == "release":
        for path in release(args.out, args.chapters or None):
            print(f"wrote {path}")
        return 0
    results = grade(args.submitted, args.out, args.cell_timeout)
    print(summary(results))
    print(f"grades: {args.out / 'grades.csv'}\nfeedback: {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
