"""The student edition: ``solutions/`` -> ``book/``, one chapter folder each.

Each solution notebook is executed first (in its chapter's folder, with the reference answers
of the chapters before it), so narrative cells carry the reference run's figures and results;
nbgrader then strips solutions, hidden tests and graded outputs. Every chapter after the first
is released with ``previous_chapters.py``: the reference answers of the chapters before it,
taken from the solution cells tagged ``export`` (see ``previous_chapters``), so that a
chapter builds on earlier layers without printing them in its narrative.

A release is a function of what it reads: the chapter's solutions, the earlier chapters'
exported answers, the helper package, the reference code, the data, the checks and the
versions of the libraries that draw and compute. Their hash, the *release fingerprint*, is
kept in the released notebook's metadata (``lenet5.release``); a chapter whose fingerprint
has not changed is left as it is, byte for byte (``force`` runs it anyway).
"""
from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import (BOOK, REPO, SOLUTIONS, chapters, check_success, course_config,
                               instructor_env, nbgrader_api, previous_chapters)

PREVIOUS = "previous_chapters.py"
# What a chapter's release reads besides its own folder of solutions/ (paths from the root).
RELEASE_INPUTS = ("lenet5", "reference", "data", "autograder/checks/__init__.py",
                  "autograder/checks/common.py", "autograder/release.py",
                  "autograder/nbgrader_config.py", "nbgrader_config.py")
LIBRARIES = ("numpy", "matplotlib", "nbgrader", "nbconvert", "nbformat")


def fingerprint(chapter: str) -> str:
    """The release fingerprint of ``chapter``: a hash of everything its release reads."""
    digest = hashlib.sha256()
    paths = [SOLUTIONS / chapter, REPO / "autograder" / "checks" / f"{chapter}.py"] + \
        [REPO / p for p in RELEASE_INPUTS]
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and \
                    ".ipynb_checkpoints" not in file.parts:
                digest.update(str(file.relative_to(REPO)).encode() + b"\0")
                digest.update(hashlib.sha256(file.read_bytes()).digest())
    digest.update((previous_chapters(chapter) or "").encode())
    digest.update(f"python {sys.version_info[:2]}".encode())
    for library in LIBRARIES:
        digest.update(f"{library} {version(library)}".encode())
    return digest.hexdigest()


def released_fingerprint(notebook: Path) -> str | None:
    """The fingerprint a released notebook was made from (None if it has none)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError):
        return None
    return nb.metadata.get("lenet5", {}).get("release")


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


def release(out: Path = BOOK, only: list[str] | None = None,
            force: bool = False) -> list[Path]:
    """Generate the student edition of each chapter into ``out/<chapter>/``; a chapter whose
    release fingerprint is unchanged is left as it is unless ``force``. Returns the
    notebooks written."""
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        api = nbgrader_api(course_config(tmp, source_directory="source",
                                         release_directory=str(out.resolve())))
        for chapter in only or chapters():
            stamp = fingerprint(chapter)
            current = sorted((out / chapter).glob("*.ipynb"))
            if not force and current and \
                    all(released_fingerprint(p) == stamp for p in current):
                continue  # unchanged: nothing to do
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
            for notebook in sorted((out / chapter).glob("*.ipynb")):
                nb = nbformat.read(notebook, as_version=4)
                nb.metadata.setdefault("lenet5", {})["release"] = stamp
                nbformat.write(nb, notebook)
                written.append(notebook)
    return written
