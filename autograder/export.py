"""``python -m autograder export OUT --to canvas|moodle``: the grades as an LMS imports them.

Reads ``OUT/grades.csv`` (one row per student and chapter, scores after late penalties) and
the term's roster (``course.toml``), and writes one row per student and one column per
chapter, named ``<chapter> (<title>)``, with the points possible:

- ``canvas_grades.csv``: Canvas's gradebook import (Student as "Last, First", ID,
  SIS User ID, SIS Login ID, Section, then the chapters; a "Points Possible" row first).
  The roster's ``id`` is the SIS User ID and its ``email`` the SIS Login ID. A chapter column
  Canvas does not know becomes a new assignment.
- ``moodle_grades.csv``: Moodle's grade import (CSV): First name, Last name, ID number,
  Email address, then the chapters; map "Email address" to the users' e-mail when
  importing. Moodle reads points possible from its grade items, so there is no such row.

A student of the roster without a row counts 0 (nothing handed in); a student who handed in
but is not on the roster is left out and named on the terminal.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from autograder.course import SOLUTIONS, chapters
from autograder.term import Term

CANVAS_IDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDS = ["First name", "Last name", "ID number", "Email address"]


def chapter_title(chapter: str) -> str:
    """The chapter's title: the first heading of its notebook, without its number."""
    (path,) = sorted((SOLUTIONS / chapter).glob("*.ipynb"))
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]).lstrip()
            if text.startswith("# "):
                title = text[2:].splitlines()[0].strip()
                return title.split(". ", 1)[1] if title[:1].isdigit() and ". " in title \
                    else title
    return chapter


def export(out: Path, lms: str, term: Term) -> tuple[Path, list[str]]:
    """Write ``OUT/<lms>_grades.csv``; return its path and the students left out."""
    with (out / "grades.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    graded = [c for c in chapters() if any(r["chapter"] == c for r in rows)]
    possible = {c: next(float(r["max_score"]) for r in rows if r["chapter"] == c)
                for c in graded}
    scores = {(r["student"], r["chapter"]): float(r["score"]) for r in rows}
    roster = term.roster or [{"id": s, "first_name": "", "last_name": "", "email": "",
                              "section": ""} for s in sorted({r["student"] for r in rows})]
    enrolled = {s["id"] for s in roster}
    left_out = sorted({r["student"] for r in rows} - enrolled)
    columns = [f"{c} ({chapter_title(c)})" for c in graded]
    path = out / f"{lms}_grades.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if lms == "canvas":
            writer.writerow(CANVAS_IDS + columns)
            writer.writerow(["Points Possible", "", "", "", ""] +
                            [f"{possible[c]:g}" for c in graded])
        else:
            writer.writerow(MOODLE_IDS + columns)
        for s in roster:
            marks = [f"{scores.get((s['id'], c), 0.0):g}" for c in graded]
            if lms == "canvas":
                name = ", ".join(p for p in (s["last_name"], s["first_name"]) if p) or s["id"]
                writer.writerow([name, "", s["id"], s["email"], s["section"]] + marks)
            else:
                writer.writerow([s["first_name"], s["last_name"], s["id"], s["email"]] + marks)
    return path, left_out
