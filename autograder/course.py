"""The course's places and nbgrader set-up, shared by release, grading and validation."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

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


def nbgrader_api(config: Config):
    """nbgrader's API on ``config`` (a slow import: only the commands need it)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    # nbgrader runs the `alembic` script of its environment: make it findable even when this
    # Python was started by its full path, without activating the virtual environment.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def check_success(result: dict, what: str) -> None:
    """Raise with nbgrader's log when one of its API calls failed."""
    if not result.get("success"):
        raise RuntimeError(f"{what} failed:\n{result.get('error') or result.get('log')}")


def instructor_env() -> dict:
    """The environment of an instructor-side process (release kernels, the judge): the
    repository root on the path, so that ``autograder`` and ``reference`` import."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


@dataclass
class Result:
    student: str
    chapter: str
    score: float
    max_score: float
    status: str  # "graded" or "error" (not gradable)
    reason: str = ""
