"""The student edition: ``solutions/`` -> ``book/``, one chapter folder each.

Each solution notebook is executed first (in its chapter's folder, with the reference answers
of the chapters before it), so narrative cells carry the reference run's figures and results;
nbgrader then strips solutions, hidden tests and graded outputs. Every chapter after the first
is released with ``previous_chapters.py``: the reference answers of the chapters before it,
taken from the solution cells tagged ``export`` (see ``previous_chapters``), so that a
chapter builds on earlier layers without printing them in its narrative.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import (BOOK, SOLUTIONS, chapters, check_success, course_config,
                               instructor_env, nbgrader_api, previous_chapters)

PREVIOUS = "previous_chapters.py"


def execute_notebook(path: Path, timeout: int = 1200) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its own folder; raise on the first failing cell.

    The kernel sees the repository root, so hidden test cells can call ``autograder.checks``.
    """
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=instructor_env(), cwd=str(path.parent))
    try:
        NotebookClient(nb, km=km, timeout=timeout, record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        km.shutdown_kernel(now=True)
    return nb


def release(out: Path = BOOK, only: list[str] | None = None) -> list[Path]:
    """Generate the student edition of each chapter into ``out/<chapter>/``."""
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        api = nbgrader_api(course_config(tmp, source_directory="source",
                                         release_directory=str(out.resolve())))
        for chapter in only or chapters():
            source = tmp / "source" / chapter
            shutil.copytree(SOLUTIONS / chapter, source,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            previous = previous_chapters(chapter)
            if previous:
                (source / PREVIOUS).write_text(previous)
            for notebook in sorted(source.glob("*.ipynb")):
                nbformat.write(execute_notebook(notebook), notebook)
            shutil.rmtree(source / "__pycache__", ignore_errors=True)  # from importing
            check_success(api.generate_assignment(chapter, force=True), f"releasing {chapter}")
            written += sorted((out / chapter).glob("*.ipynb"))
    return written
