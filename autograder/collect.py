"""``python -m autograder collect DOWNLOADS -o submitted``: an LMS's download, laid out to grade.

LMSs name downloaded submissions their own way: Canvas ``<name>_[LATE_]<user id>_<submission
id>_<file>`` (``chenrich_1234_56789_ch01_input-1.ipynb``), Moodle a folder per submission
(``Rich Chen_4321_assignsubmission_file_/ch01_input.ipynb``), a plain zip
``rich_chen_ch01_input.ipynb``, and Jupyter adds ``-Copy1``. For every notebook below
DOWNLOADS this finds

- the chapter: a chapter's name in the file name, else the chapter whose exercises the
  notebook has (its nbgrader ids), so a renamed notebook is still found;
- the student: with a roster, the roster id that the path names (as a whole word, or the
  e-mail's user name, or "First Last"); without one, the name before the chapter (or the
  Moodle folder's name) without the LMS's numbers, as a folder name;

and copies it to ``submitted/<student>/<chapter>/<chapter>.ipynb``. A notebook it cannot
place is listed, never guessed; of two files for one student and chapter the newer is kept.
``submitted/collected.json`` remembers where each placed file came from
(``{"<student>/<chapter>": "<its path below DOWNLOADS>"}``, merged with the one there), so
that ``feedback`` can name each page as the LMS's bulk upload expects (``autograder.export``).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from autograder.course import BOOK, chapters

MANIFEST = "collected.json"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _chapter_of(path: Path, known: list[str]) -> str | None:
    named = [c for c in known if c in path.name]
    if named:
        return max(named, key=len)
    try:
        ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
               for c in json.loads(path.read_text(encoding="utf-8"))["cells"]} - {None}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    for chapter in known:
        for released in (BOOK / chapter).glob("*.ipynb"):
            if ids & {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                      for c in json.loads(released.read_text())["cells"]}:
                return chapter
    return None


def _student_of(path: Path, chapter: str | None, downloads: Path,
                roster: list[dict]) -> str | None:
    where = _slug(str(path.relative_to(downloads).with_suffix("")))
    if roster:
        found = []
        for s in roster:
            names = {_slug(s["id"]), _slug(s["email"].split("@")[0]),
                     _slug(f"{s['first_name']} {s['last_name']}"),
                     _slug(f"{s['last_name']}{s['first_name']}")} - {""}
            if any(re.search(rf"(^|_){re.escape(n)}(_|$)", where) for n in names):
                found.append(s["id"])
        return found[0] if len(found) == 1 else None
    if path.parent != downloads:  # a folder per submission (Moodle)
        name = path.relative_to(downloads).parts[0]
    else:
        name = path.stem.split(chapter)[0] if chapter and chapter in path.stem else ""
    name = re.sub(r"_assignsubmission_.*$", "", name)
    name = re.sub(r"(_late)?(_\d+)+_?$", "", _slug(name))  # Canvas's LATE and the LMS's numbers
    return name or None


def collect(downloads: Path, submitted: Path, roster: list[dict]) -> tuple[list, list]:
    """Copy each notebook below ``downloads`` into ``submitted``; return (placed as
    (file, student, chapter), not placed as (file, why))."""
    known = chapters()
    best: dict[tuple[str, str], Path] = {}
    unplaced = []
    for path in sorted(downloads.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        chapter = _chapter_of(path, known)
        student = _student_of(path, chapter, downloads, roster)
        if chapter is None or student is None:
            unplaced.append((path, "no chapter found (no chapter's name, no exercise of one)"
                             if chapter is None else
                             "no student found" + (" of the roster" if roster else "")))
            continue
        key = (student, chapter)
        if key not in best or path.stat().st_mtime > best[key].stat().st_mtime:
            best[key] = path
    placed = []
    for (student, chapter), path in sorted(best.items()):
        target = submitted / student / chapter / f"{chapter}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        placed.append((path, student, chapter))
    _remember(submitted / MANIFEST, {f"{student}/{chapter}": path.relative_to(downloads)
                                     .as_posix() for path, student, chapter in placed})
    return placed, unplaced


def _remember(manifest: Path, origins: dict[str, str]) -> None:
    """Merge ``origins`` into the manifest of where each placed file was downloaded from."""
    known = json.loads(manifest.read_text()) if manifest.is_file() else {}
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(dict(sorted({**known, **origins}.items())), indent=1) + "\n")
