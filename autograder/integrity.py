"""What a submission must be before it runs: a notebook, in the released structure.

``read_submission`` rejects what is not a notebook (empty, not JSON, not nbformat 4).
``restore_structure`` puts the released test cells back: deleted, duplicated, moved or edited
test cells and changed cell metadata or ids are repaired, and each repair is reported. A
submission made from an earlier release (``made_from``: its ``lenet5.release`` fingerprint,
found in the history of ``book/``) is compared with that release too, so a test the instructor
changed since is updated without blaming the student.
(Nothing the notebook's code does can change a score: the checks run in the judge, outside
the student's kernel; see ``autograder.judge``.)
"""
from __future__ import annotations

import copy
import functools
import json
import re
import subprocess
from pathlib import Path

import nbformat
from nbformat import NotebookNode


class Unreadable(Exception):
    """The file is not a notebook the grader can run; the message says why."""


def read_submission(path: Path) -> NotebookNode:
    raw = path.read_bytes()
    if not raw.strip():
        raise Unreadable("the notebook file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unreadable("not a notebook: the file is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise Unreadable(f"not a notebook: invalid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")),
                                                    list):
        raise Unreadable("not a notebook: the JSON has no list of cells")
    if data.get("nbformat") != 4:
        raise Unreadable(f"notebook format {data.get('nbformat')!r}, expected 4: open it in "
                         f"Jupyter and save it again")
    if not data["cells"]:
        raise Unreadable("the notebook has no cells")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001 - any validation failure is the reason
        raise Unreadable(f"not a valid notebook: {str(e).splitlines()[0][:200]}") from None
    return nb


def made_from(nb: NotebookNode, chapter: str) -> NotebookNode | None:
    """The earlier student edition ``nb`` was downloaded as, if it is not the current one."""
    from autograder.course import BOOK

    stamp = nb.metadata.get("lenet5", {}).get("release")
    current = json.loads((BOOK / chapter / f"{chapter}.ipynb").read_text())
    if not stamp or stamp == current["metadata"].get("lenet5", {}).get("release"):
        return None
    return _edition(chapter, stamp)


@functools.lru_cache(maxsize=64)
def _edition(chapter: str, stamp: str) -> NotebookNode | None:
    """The student edition of ``chapter`` with release fingerprint ``stamp``, from the git
    history of ``book/`` (None without git or for a fingerprint it never released)."""
    from autograder.course import REPO

    path = f"book/{chapter}/{chapter}.ipynb"

    def git(*args):
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                              text=True, timeout=60)

    commits = git("log", "--format=%H", "-n", "200", "--", path)
    for commit in commits.stdout.split() if commits.returncode == 0 else []:
        shown = git("show", f"{commit}:{path}")
        if shown.returncode == 0 and f'"release": "{stamp}"' in shown.stdout:
            return nbformat.reads(shown.stdout, as_version=4)
    return None


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return not meta.get("solution") and bool(meta.get("grade") or meta.get("locked"))


GRADING_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id")


def _grading_metadata(cell) -> dict:
    meta = cell.metadata.get("nbgrader", {})
    return {k: meta.get(k) for k in GRADING_KEYS}


def _normal(source: str) -> str:
    """A test cell's source as a student has it: no hidden tests, no trailing spaces."""
    source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", source, flags=re.S)
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def restore_structure(nb: NotebookNode, release: NotebookNode,
                      made_from: NotebookNode | None = None) -> tuple[NotebookNode, list[str]]:
    """Rebuild ``nb`` on the released sequence of cells; return it and the repairs made.

    ``made_from``: the earlier edition the student worked on, if any; what differs from the
    current release only because the release changed is updated and told as such.

    Each released nbgrader cell appears once, in the released order, with the released
    metadata, id and type; test cells keep the released source, solution cells the student's.
    The released narrative cells the student kept (same id) keep their released place and the
    student's source; the student's own cells follow the cell they followed in the submission.
    """
    released = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    earlier = {_grade_id(c): c for c in made_from.cells if _grade_id(c)} if made_from else {}
    narrative = {c.get("id") for c in release.cells if not _grade_id(c)}
    notes, found, followers, anchor, order = [], {}, {None: []}, None, []
    for cell in nb.cells:
        gid = _grade_id(cell)
        key = gid if gid in released else (
            ("narrative", cell.get("id")) if not gid and cell.get("id") in narrative else None)
        if key is not None and key not in found:
            found[key], anchor = cell, key
            followers[key] = []
            if gid:
                order.append(gid)
            continue
        if gid in released:
            if _is_test(released[gid]):
                notes.append(f"cell '{gid}' is duplicated: the copy was removed")
                continue
            notes.append(f"cell '{gid}' is duplicated: the copy runs as an ordinary cell")
        elif gid:
            notes.append(f"cell with unknown grade_id '{gid}': runs as an ordinary cell")
        if gid:
            cell = copy.deepcopy(cell)
            del cell.metadata["nbgrader"]
        followers[anchor].append(cell)
    if order != [g for g in released if g in found]:
        notes.append("cells were moved: the released order was restored")

    cells = list(followers[None])
    for original in release.cells:
        gid = _grade_id(original)
        key = gid or ("narrative", original.get("id"))
        cell = found.get(key)
        if gid and cell is None:
            what = "test cell" if _is_test(original) else "solution cell"
            notes.append(f"{what} '{gid}' is new since your copy was released: it was added"
                         if earlier and gid not in earlier else
                         f"{what} '{gid}' was deleted: the released cell was put back")
            cells.append(copy.deepcopy(original))
        elif gid:
            cells.append(_restored(cell, original, notes, earlier.get(gid)))
        elif cell is not None:
            cells.append(cell)
        cells += followers.get(key, [])

    taken = {c.get("id") for c in cells if _grade_id(c)}
    for k, cell in enumerate(cells):  # ordinary cells must not take an id already used
        if not _grade_id(cell) and (not cell.get("id") or cell.get("id") in taken):
            cell["id"] = f"cell-{k}"
            while cell["id"] in taken:
                cell["id"] += "x"
        taken.add(cell.get("id"))
    out = copy.deepcopy(release)
    out.cells = cells
    return out, notes


def _restored(cell, original, notes: list[str], earlier=None):
    """The released nbgrader cell ``original`` with the student's answer from ``cell``;
    ``earlier``: the same cell in the edition the student worked on, if that was another."""
    gid = _grade_id(original)
    if cell.cell_type != original.cell_type:
        notes.append(f"cell '{gid}' was changed to {cell.cell_type}: restored")
    if _is_test(original) and _normal(cell.source) != _normal(original.source):
        notes.append(f"test cell '{gid}' was updated after your copy was released: the "
                     f"current test ran" if earlier and _normal(cell.source) ==
                     _normal(earlier.source) else
                     f"test cell '{gid}' was edited: the released test was restored")
    if _grading_metadata(cell) != _grading_metadata(original):
        notes.append(f"the points or settings of cell '{gid}' were updated after your copy "
                     f"was released" if earlier and _grading_metadata(cell) ==
                     _grading_metadata(earlier) else
                     f"the nbgrader metadata of cell '{gid}' was changed: restored")
    if cell.get("id") != original.get("id"):
        notes.append(f"the id of cell '{gid}' was changed: restored")
    restored = copy.deepcopy(original)
    if not _is_test(original):
        restored.source = cell.source
    if restored.cell_type == "code":
        restored.outputs, restored.execution_count = [], None
    return restored
