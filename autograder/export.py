"""What goes to the LMS: the grades as its gradebook imports them, the feedback as its bulk
upload takes it.

``python -m autograder export OUT --to canvas|moodle``

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

``python -m autograder feedback OUT --to canvas|moodle``

writes ``OUT/feedback_<lms>_<chapter>.zip``, one per chapter (an assignment of the LMS),
with each student's page of ``OUT/feedback/`` named after the file the LMS gave for them
(``submitted/collected.json``, written by ``collect``), which is how the LMS finds the student:

- Canvas ("Re-Upload Submissions") reads the user id and the submission's file id as the
  first two number fields of ``<name>_[LATE_]<user id>_<file id>_<file>``: the page keeps that
  prefix, ``chenrich_1234_56789_ch01_input_feedback.html``.
- Moodle ("Upload multiple feedback files in a zip") splits a path's folder on "_" into full
  name, participant id, "assignsubmission", plugin, rest: the page goes in that folder,
  ``Rich Chen_4321_assignsubmission_file_/ch01_input_feedback.html``.

A page whose student was not collected, or whose downloaded file has no such prefix, is not
guessed: it is left out and named on the terminal.
"""
from __future__ import annotations

import csv
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

from autograder.course import SOLUTIONS, chapters
from autograder.term import Term

CANVAS_IDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDS = ["First name", "Last name", "ID number", "Email address"]
CANVAS_PREFIX = re.compile(r"[^_/]+_(?:LATE_)?\d+_\d+_")  # name, [LATE,] user id, file id


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


# ------------------------------------------------------------------------- feedback archives

def _moodle_folder(download: str) -> str | None:
    """``<Full name>_<participant id>_assignsubmission_<plugin>_`` of a Moodle download's path
    (its folder, or the file's own name when downloaded without folders)."""
    for part in PurePosixPath(download).parts:
        fields = part.split("_", 4)
        if len(fields) >= 4 and fields[1].isdigit() and fields[2] == "assignsubmission":
            return "_".join(fields[:4]) + "_"
    return None


def feedback_name(lms: str, download: str, page: str) -> str | None:
    """The name, in the LMS's zip, of the feedback page ``page`` (``<chapter>.html``) on the
    file downloaded as ``download``; None if that file's name has no prefix of the LMS's."""
    stem = PurePosixPath(page).stem
    if lms == "canvas":
        prefix = CANVAS_PREFIX.match(PurePosixPath(download).name)
        return prefix and f"{prefix.group(0)}{stem}_feedback.html"
    folder = _moodle_folder(download)
    return folder and f"{folder}/{stem}_feedback.html"


def feedback_archives(out: Path, lms: str, collected: Path) -> tuple[list[Path], list[str]]:
    """Write ``OUT/feedback_<lms>_<chapter>.zip`` from ``OUT/feedback/`` and the manifest
    ``collected``; return the zips and the pages left out, each with why."""
    downloaded = json.loads(collected.read_text()) if collected.is_file() else {}
    pages: dict[str, dict[str, Path]] = defaultdict(dict)  # chapter -> {name in zip: page}
    left_out = []
    for page in sorted((out / "feedback").glob("*/*/*.html")):
        key = f"{page.parent.parent.name}/{page.parent.name}"
        download = downloaded.get(key)
        name = download and feedback_name(lms, download, page.name)
        if name:
            pages[page.parent.name][name] = page
        else:
            left_out.append(f"{key}: " + (f"not collected (not in {collected})" if not download
                                          else f"{download} has no {lms} prefix"))
    zips = []
    for chapter, members in sorted(pages.items()):
        zips.append(out / f"feedback_{lms}_{chapter}.zip")
        with zipfile.ZipFile(zips[-1], "w", zipfile.ZIP_DEFLATED) as archive:
            for name, page in sorted(members.items()):
                archive.write(page, name)
    return zips, left_out
