"""The deliberately wrong submissions graded by the suite: from tests/faulty_<chapter>.py.

Each file has ``FAULTY = {student: (chapter, {grade_id: source of that cell})}`` and
``EXPECTED = {student: ({grade_id: share of that test cell's points lost}, phrase)}``, the
phrase being one the feedback must hold. The scores expected follow from the points in
``solutions/<chapter>/<chapter>.ipynb``'s nbgrader metadata, so changing a cell's points
needs no change here: ``EXPECTED`` below is ``{student: ({grade_id: score}, phrase)}`` for
every test cell of the chapter.

There are over a hundred, a class of them: grading all takes longer than the suite's 15
minutes on 2 cores. So the suite grades every eighth case of each chapter (in the order of
its file), plus the cases other tests read; ``LENET5_ALL_FAULTY=1`` grades every case (about
15 minutes for the class on 2 cores; run it after changing checks or messages).
"""
import functools
import importlib
import os
from pathlib import Path

import nbformat

from autograder.course import SOLUTIONS

# cases that other tests look at, always graded
ALWAYS = {"kills_kernel", "pads_with_zero", "loops_forever", "raises"}
EVERY = 1 if os.environ.get("LENET5_ALL_FAULTY") else 8


@functools.cache
def points(chapter: str) -> dict[str, float]:
    """Each test cell's points, by grade_id, from the chapter's nbgrader metadata."""
    nb = nbformat.read(SOLUTIONS / chapter / f"{chapter}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader["points"]
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def scores(chapter: str, lost: dict[str, float]) -> dict[str, float]:
    """Each test cell's score when the cells of ``lost`` lose that share of their points."""
    cells = points(chapter)
    assert set(lost) <= set(cells), f"{chapter} has no test cell {set(lost) - set(cells)}"
    assert all(0 < share <= 1 for share in lost.values()), lost
    return {cell: worth * (1 - lost.get(cell, 0)) for cell, worth in cells.items()}


FAULTY, EXPECTED = {}, {}
_NAMED = set()  # every case's name: a name used twice would grade one case only
for _path in sorted(Path(__file__).parent.glob("faulty_*.py")):
    _module = importlib.import_module(_path.stem)
    assert not _NAMED & set(_module.FAULTY), f"{_path.name}: {_NAMED & set(_module.FAULTY)} " \
                                             "is the name of another file's case"
    _NAMED |= set(_module.FAULTY)
    for _k, (_student, _case) in enumerate(_module.FAULTY.items()):
        if _k % EVERY == 0 or _student in ALWAYS:
            FAULTY[_student] = _case
    EXPECTED.update({s: (scores(FAULTY[s][0], lost), phrase)
                     for s, (lost, phrase) in _module.EXPECTED.items() if s in FAULTY})
