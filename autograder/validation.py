"""``python -m autograder validate NOTEBOOK``: run a student's notebook as the grader does."""
from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat

from autograder.course import BOOK, REPO, course_config


def validate(notebook: Path, cell_timeout: int | None = None,
             sandbox: bool = True) -> tuple[int, str]:
    """Run a student's notebook exactly as the grader does, against the student edition:
    the same checks of the file and its structure, the same sandboxed kernel, limits and
    judge; only the hidden tests are left out. Returns (exit code, report)."""
    from nbgrader.utils import determine_grade

    from autograder import integrity
    from autograder.preprocessors import GuardedExecute, cell_result
    from autograder.sandbox import first_slot

    try:
        nb = integrity.read_submission(notebook)
    except integrity.Unreadable as e:
        return 1, f"{notebook}: would not be graded: {e}"
    released = _release_of(notebook, nb)
    if released is None:
        return 2, (f"{notebook.name}: no chapter of the book has a notebook of this name or "
                   f"with these exercises")
    lines = []
    if released.name != notebook.name:
        lines.append(f"grader's note: this is {released.parent.name}'s notebook under another "
                     f"name: rename it {released.name} before you submit, or it will not be "
                     f"found")
    releases = [released]
    release = nbformat.read(released, as_version=4)
    nb, notes = integrity.restore_structure(nb, release)
    lines += [f"grader's note: {n}" for n in notes]
    config = course_config(REPO)
    if cell_timeout:
        config.Execute.timeout = cell_timeout
    config.SandboxedKernelManager.sandbox = sandbox
    config.SandboxedKernelManager.slot = first_slot()
    config.GuardedExecute.chapter = releases[0].parent.name
    config.GuardedExecute.visible_only = True
    with tempfile.TemporaryDirectory() as tmp:
        config.SandboxedKernelManager.workdir = tmp
        nb, _ = GuardedExecute(config=config).preprocess(
            nb, {"metadata": {"path": str(releases[0].parent)}})
    lines += [f"note: {e}" for e in GuardedExecute.last_events]
    failed, earned, possible = 0, 0.0, 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or meta.get("solution"):
            continue
        score, points = determine_grade(cell)
        hidden = "BEGIN HIDDEN TESTS" in cell.source or not cell.source.strip() or \
            all(ln.lstrip().startswith("#") for ln in cell.source.splitlines() if ln.strip())
        if hidden:
            lines.append(f"  hidden  {meta['grade_id']} ({_points(points)}): runs when graded")
            continue
        earned, possible = earned + (score or 0), possible + points
        result, why = cell_result(cell)
        if result == "passed":
            lines.append(f"  passed  {meta['grade_id']} ({_points(points)})")
            continue
        failed += 1
        first, *more = why.splitlines() or ["error output"]
        lines.append(f"  FAILED  {meta['grade_id']} ({score or 0:g} of {_points(points)}): "
                     f"{first}")
        lines += [f"          {line}" for line in more]
    lines.append(f"visible tests: {earned:g} of {_points(possible)}")
    lines.append(f"{notebook}: " + (f"{failed} visible test(s) failed" if failed else
                                    "all visible tests pass"))
    return (1 if failed else 0), "\n".join(lines)


def _points(n: float) -> str:
    return f"{n:g} point" + ("" if n == 1 else "s")


def _release_of(notebook: Path, nb) -> Path | None:
    """The released notebook that ``notebook`` is a copy of: by name, else (a renamed copy,
    such as ``ch01_input-Copy1.ipynb``) by the nbgrader ids of its exercises."""
    by_name = sorted((BOOK / notebook.resolve().parent.name).glob(notebook.name)) or \
        sorted(BOOK.glob(f"*/{notebook.name}"))
    if by_name:
        return by_name[0]
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    for path in sorted(BOOK.glob("*/*.ipynb")):
        released = nbformat.read(path, as_version=4)
        if ids and ids & {c.metadata.get("nbgrader", {}).get("grade_id")
                          for c in released.cells}:
            return path
    return None
