"""Instructor and student commands on top of nbgrader.

    python -m autograder release               solutions/ -> book/ (the student edition)
    python -m autograder grade SUBMITTED [-o OUT]
                                               autograde submitted/<student>/<chapter>/ in
                                               parallel and sandboxed; write feedback HTML,
                                               grades.csv, questions.csv and report.md
    python -m autograder validate NOTEBOOK     run a notebook as the grader does (visible tests)
All go through nbgrader's own converters, configured by autograder/nbgrader_config.py.
"""
from __future__ import annotations

import argparse
import logging
import os
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
    status: str  # "graded", "rejected" (tampering with the grader) or "error" (not gradable)
    reason: str = ""


def grade(submitted: Path, out: Path, cell_timeout: int | None = None, **options) -> list[Result]:
    """Autograde every ``submitted/<student>/<chapter>/`` folder; one Result per pair.

    See ``autograder.grading.grade`` for the options (jobs, notebook_timeout, memory_mb,
    sandbox) and what it writes to ``out``.
    """
    from autograder.grading import grade as grade_class

    return grade_class(submitted, out, cell_timeout, **options)


# ---------------------------------------------------------------------------- validate

def validate(notebook: Path, cell_timeout: int | None = None,
             sandbox: bool = True) -> tuple[int, str]:
    """Run a student's notebook exactly as the grader does, against the student edition:
    the same checks of the file and its structure, the same sandboxed kernel and limits;
    only the hidden tests are missing. Returns (exit code, report)."""
    from nbgrader.utils import determine_grade

    from autograder import integrity
    from autograder.preprocessors import GuardedExecute
    from autograder.sandbox import first_slot

    chapter = notebook.resolve().parent.name
    releases = sorted((BOOK / chapter).glob(notebook.name)) or \
        sorted(BOOK.glob(f"*/{notebook.name}"))
    if not releases:
        return 2, f"{notebook.name}: no chapter of the book has a notebook of this name"
    release = nbformat.read(releases[0], as_version=4)
    try:
        nb = integrity.read_submission(notebook)
    except integrity.Unreadable as e:
        return 1, f"{notebook}: would not be graded: {e}"
    nb, notes = integrity.restore_structure(nb, release)
    lines = [f"grader's note: {n}" for n in notes]
    found = integrity.tampering(nb, release)
    if found:
        return 1, "\n".join(lines + [f"would be rejected (score 0): {f}" for f in found])
    config = course_config(REPO)
    if cell_timeout:
        config.Execute.timeout = cell_timeout
    config.SandboxedKernelManager.sandbox = sandbox
    config.SandboxedKernelManager.slot = first_slot()
    config.SandboxedKernelManager.chapter = releases[0].parent.name
    with tempfile.TemporaryDirectory() as tmp:
        nb, _ = GuardedExecute(config=config).preprocess(nb, {"metadata": {"path": tmp}})
    lines += [f"note: {e}" for e in GuardedExecute.last_events]
    failed = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("solution"):
            continue
        score, points = determine_grade(cell)
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        hidden = "BEGIN HIDDEN TESTS" in cell.source or not cell.source.strip() or \
            all(ln.lstrip().startswith("#") for ln in cell.source.splitlines() if ln.strip())
        if hidden:
            lines.append(f"  hidden  {meta['grade_id']} ({points:g} points): runs when graded")
        elif score == points:
            lines.append(f"  passed  {meta['grade_id']} ({points:g} points)")
        else:
            failed += 1
            lines.append(f"  FAILED  {meta['grade_id']} ({points:g} points): "
                         f"{errors[-1] if errors else 'error output'}")
    lines.append(f"{notebook}: " + (f"{failed} visible test(s) failed" if failed else
                                    "all visible tests pass"))
    return (1 if failed else 0), "\n".join(lines)


# -------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    from autograder.report import summary

    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate book/ (student edition) from solutions/")
    rel.add_argument("chapters", nargs="*", help="only these chapters (default: all)")
    rel.add_argument("--out", type=Path, default=BOOK, help="output folder (default: book/)")
    gr = sub.add_parser("grade", help="autograde a folder of submissions")
    gr.add_argument("submitted", type=Path, help="folder laid out as <student>/<chapter>/*.ipynb")
    gr.add_argument("-o", "--out", type=Path, default=Path("grading"),
                    help="where feedback, grades, report and the gradebook go (default: ./grading)")
    gr.add_argument("-j", "--jobs", type=int, default=None,
                    help="notebooks graded at once (default: one per CPU core)")
    gr.add_argument("--notebook-timeout", type=int, default=900,
                    help="seconds a whole notebook may run (default: 900)")
    gr.add_argument("--memory-mb", type=int, default=4096,
                    help="memory (address space) a kernel may use, in MB (default: 4096)")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run kernels without bubblewrap (resource limits only; not safe)")
    va = sub.add_parser("validate", help="run a notebook as the grader does (visible tests)")
    va.add_argument("notebook", type=Path)
    va.add_argument("--no-sandbox", action="store_true",
                    help="without bubblewrap (for machines that lack it)")
    for cmd in (gr, va):
        cmd.add_argument("--cell-timeout", type=int, default=None,
                         help="seconds a cell may run before it is interrupted (default: 60)")
    args = parser.parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)

    if args.command == "release":
        for path in release(args.out, args.chapters or None):
            print(f"wrote {path}")
        return 0
    if args.command == "validate":
        code, text = validate(args.notebook, args.cell_timeout, not args.no_sandbox)
        print(text)
        return code
    results = grade(args.submitted, args.out, args.cell_timeout, jobs=args.jobs,
                    notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb,
                    sandbox=not args.no_sandbox)
    print(summary(results))
    print(f"grades: {args.out / 'grades.csv'} (per question: {args.out / 'questions.csv'})\n"
          f"report: {args.out / 'report.md'}\nfeedback: {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
