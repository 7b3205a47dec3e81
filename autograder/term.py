"""A term of the course: due dates, extensions, the late policy and the roster.

They live in ``course.toml`` at the repository's root (the instructor's; students never get
it)::

    roster = "roster.csv"          # id,first_name,last_name,email,section (one row a student)

    [due]                          # chapter = due date, ISO 8601 with its time zone
    ch01_input = "2027-01-22T23:59:00+01:00"

    [extensions.alice]             # student = {chapter = extra hours}
    ch01_input = 48

    [late]
    penalty_per_day = 0.1          # fraction of the points lost per day or part of a day late
    days_accepted = 5              # after that, nothing is earned

Lateness is nbgrader's: the due date is the gradebook's assignment due date, an extension is
the submission's extension, a submission's time is nbgrader's ``timestamp.txt`` in its
folder, and the penalty is given by nbgrader's ``AssignLatePenalties`` with
:class:`PenaltyPerDay` as its plugin.
"""
from __future__ import annotations

import csv
import datetime
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Integer

from autograder.course import REPO

COURSE_FILE = REPO / "course.toml"
ROSTER_COLUMNS = ("id", "first_name", "last_name", "email", "section")


class TermError(ValueError):
    """course.toml or the roster is malformed: the message says where."""


@dataclass
class Term:
    due: dict[str, datetime.datetime] = field(default_factory=dict)
    extensions: dict[tuple[str, str], float] = field(default_factory=dict)  # hours
    penalty_per_day: float = 0.0
    days_accepted: int = 0
    roster: list[dict[str, str]] = field(default_factory=list)

    def extension(self, student: str, chapter: str) -> float:
        return self.extensions.get((student, chapter), 0.0)


def read_term(path: Path | None = COURSE_FILE) -> Term:
    """The term's settings from ``path`` (an empty Term if there is no such file)."""
    if path is None or not Path(path).is_file():
        return Term()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise TermError(f"{path}: {e}") from None
    term = Term()
    for chapter, when in raw.get("due", {}).items():
        when = when if isinstance(when, datetime.datetime) else _datetime(path, chapter, when)
        if when.tzinfo is None:
            raise TermError(f"{path}: the due date of {chapter} needs a time zone, "
                            f"e.g. {when.isoformat()}+00:00")
        term.due[chapter] = when
    for student, hours in raw.get("extensions", {}).items():
        for chapter, h in dict(hours).items():
            if not isinstance(h, (int, float)) or h < 0:
                raise TermError(f"{path}: the extension of {student} for {chapter} must be a "
                                f"number of hours, got {h!r}")
            term.extensions[student, chapter] = float(h)
    late = raw.get("late", {})
    term.penalty_per_day = float(late.get("penalty_per_day", 0.0))
    term.days_accepted = int(late.get("days_accepted", 0))
    if "roster" in raw:
        term.roster = read_roster(path.parent / raw["roster"])
    return term


def _datetime(path: Path, chapter: str, text) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(str(text))
    except ValueError:
        raise TermError(f"{path}: the due date of {chapter} is not an ISO 8601 date and time: "
                        f"{text!r}") from None


def read_roster(path: Path) -> list[dict[str, str]]:
    """The roster's students, in its order: dicts of ROSTER_COLUMNS (``id`` required)."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise TermError(f"cannot read the roster {path}: {e}") from None
    if rows and "id" not in rows[0]:
        raise TermError(f"{path}: the roster needs an 'id' column (the students' folder "
                        f"names); its columns are {', '.join(rows[0])}")
    seen = set()
    for k, row in enumerate(rows, start=2):
        if not (row.get("id") or "").strip():
            raise TermError(f"{path}, line {k}: a student without an id")
        if row["id"] in seen:
            raise TermError(f"{path}, line {k}: the id {row['id']!r} appears twice")
        seen.add(row["id"])
    return [{c: (row.get(c) or "").strip() for c in ROSTER_COLUMNS} for row in rows]


class PenaltyPerDay(LateSubmissionPlugin):
    """nbgrader's late-submission plugin of the course: ``per_day`` of the notebook's score
    is lost for each day or part of a day late; after ``days_accepted`` days, all of it."""

    per_day = Float(0.0, help="fraction of the score lost per started day late").tag(config=True)
    days_accepted = Integer(0, help="days after which a late submission earns nothing"
                            ).tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        days = math.ceil(total_seconds_late / 86400)
        if self.days_accepted and days > self.days_accepted:
            return score
        return min(score, score * self.per_day * days)


def configure(config, term: Term) -> None:
    """Put the term's late policy into an nbgrader ``config``."""
    config.AssignLatePenalties.plugin_class = PenaltyPerDay
    config.PenaltyPerDay.per_day = term.penalty_per_day
    config.PenaltyPerDay.days_accepted = term.days_accepted
