"""Bad and adversarial submissions, each with the grade the grader must give and why.

Every submission starts from a chapter's notebook with the narrative code cells left out (a
student may delete them; the tests do not need them), which keeps each run short: ``lean``
has the solutions written in, ``blank`` is the student edition (every exercise a stub).
``CORPUS[student] = Case(chapter, make, expect, ...)``: ``make`` turns that notebook into the
file handed in; ``expect`` is what it must score:

- ``"full"``: every point of the chapter (right work, however unusual);
- ``"zero"``: nothing (made from ``blank``: no exercise done, whatever else it does);
- ``"twin"``: exactly what ``twin`` (the same work without the trick, also graded) scores.

``reason`` must appear in the student's row of grades.csv, ``feedback`` in the student's
feedback page, and ``absent`` must not.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell

from autograder import course as cli

from faulty_ch01_input import DECODE_LITTLE_ENDIAN, ZERO_PADDING


@dataclass
class Case:
    chapter: str
    make: Callable  # NotebookNode -> NotebookNode (written as a notebook) or bytes (as is)
    expect: str  # "full", "zero" or "twin"
    twin: Callable | None = None  # for "twin": the same work, handed in without the trick
    status: str = "graded"
    reason: str = ""
    feedback: str = ""
    absent: str = ""
    base: str = "lean"  # what make starts from: "lean" (solved) or "blank" (student edition)


def lean(chapter: str, folder: Path | None = None) -> nbformat.NotebookNode:
    """What a student who solved ``chapter`` hands in: the student edition with the solutions
    written in, here without its narrative code cells (imports kept)."""
    (path,) = sorted((folder or cli.SOLUTIONS).joinpath(chapter).glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:  # hidden tests as released: without the hidden lines
        c.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", c.source,
                          flags=re.S)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c is first_code
                or "nbgrader" in c.metadata]
    return nb


def blank(chapter: str) -> nbformat.NotebookNode:
    """The student edition as released (every exercise a stub), without its narrative code."""
    return lean(chapter, cli.BOOK)


def _index(nb, grade_id):
    return next(k for k, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def cell(nb, grade_id):
    return nb.cells[_index(nb, grade_id)]


def replace(**sources):
    """Give the cells named by grade_id these sources."""
    def make(nb):
        for grade_id, source in sources.items():
            cell(nb, grade_id).source = source
        return nb
    return make


def then(*steps):
    def make(nb):
        for step in steps:
            nb = step(nb)
        return nb
    return make


def delete(*grade_ids):
    def make(nb):
        nb.cells = [c for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
        return nb
    return make


def duplicate(grade_id):
    def make(nb):
        k = _index(nb, grade_id)
        nb.cells.insert(k + 1, copy.deepcopy(nb.cells[k]))
        nb.cells[k + 1]["id"] = "copy"
        return nb
    return make


def move_to_top(*grade_ids):
    def make(nb):
        moved = [cell(nb, g) for g in grade_ids]
        nb.cells = moved + [c for c in nb.cells if all(c is not m for m in moved)]
        return nb
    return make


def metadata(grade_id, **changes):
    def make(nb):
        meta = cell(nb, grade_id).metadata
        if changes.get("nbgrader") is None and "nbgrader" in changes:
            del meta["nbgrader"]
        else:
            meta["nbgrader"].update(changes)
        return nb
    return make


def ids(**new_ids):
    def make(nb):
        for grade_id, new in new_ids.items():
            cell(nb, grade_id)["id"] = new
        return nb
    return make


def append_cell(source, nbgrader=None):
    def make(nb):
        new = new_code_cell(source)
        if nbgrader:
            new.metadata["nbgrader"] = nbgrader
        nb.cells.append(new)
        return nb
    return make


def raw(data: bytes):
    return lambda nb: data


# ------------------------------------------------------------------------------ sources

READ_IDX_STRUCT = '''
import struct

def read_idx(path):
    """Parsed with struct, one field at a time."""
    with open(path, "rb") as f:
        raw = f.read()
    if str(path).endswith(".gz"):
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        raise ValueError("too short")
    zero, kind, ndim = struct.unpack(">HBB", raw[:4])
    codes = {8: "B", 9: "b", 11: "h", 12: "i", 13: "f", 14: "d"}
    if zero != 0 or kind not in codes:
        raise ValueError("bad magic number")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError("the header is cut short")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    dtype = np.dtype(">" + codes[kind])
    count = int(np.prod(shape, dtype=np.int64))
    body = raw[4 + 4 * ndim:]
    if len(body) != count * dtype.itemsize:
        raise ValueError("size does not match the header")
    return np.frombuffer(body, dtype).astype(dtype.newbyteorder("=")).reshape(shape)
'''

TO_LENET_INPUT_PAD = '''
def to_lenet_input(images):
    """Scale first, then pad with the background value."""
    scaled = images.astype(np.float64) / 255 * 1.275 - 0.1
    padded = np.pad(scaled, ((0, 0), (2, 2), (2, 2)), constant_values=-0.1)
    return padded[:, np.newaxis]
'''

LIAR_ARRAY = '''
class Agreeable(np.ndarray):
    def __eq__(self, other):
        return True

def to_lenet_input(images):
    return np.zeros((len(images), 1, 32, 32)).view(Agreeable)
'''

AGREEABLE_COUNTS = '''
class Agreeable(int):
    def __eq__(self, other):
        return True

{names[0]} = Agreeable(1)
{names[1]} = Agreeable(2)
'''

DENSE_FORWARD_EINSUM = '''
def dense_forward(x, w, b):
    return np.einsum("ni,io->no", x, w) + b[np.newaxis, :], {"x": x, "w": w}
'''

DENSE_BACKWARD_EINSUM = '''
def dense_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return np.einsum("no,io->ni", dout, w), np.einsum("ni,no->io", x, dout), dout.sum(axis=0)
'''

EXIT_AFTER = "{source}\nimport os\n{call}"

IGNORES_INTERRUPTS = '''
while True:
    try:
        while True:
            pass
    except KeyboardInterrupt:
        pass
'''

# ------------------------------------------------------------------------------ attacks
# Routes a notebook could take to earn points without doing an exercise. None may work: the
# checks run in the judge, outside the kernel, on data the kernel sends (autograder.judge).

ALIASED_SYS = '''
from sys import modules as loaded, displayhook as show, _getframe as frame
loaded["lenet5.testing"].check_array = lambda *a, **k: None
loaded["lenet5.testing"].check_int = lambda *a, **k: None
loaded["lenet5.testing"].check_raises = lambda *a, **k: None
loaded["numpy"].allclose = lambda *a, **k: True

def to_lenet_input(images):
    caller = frame(1)
    while caller is not None:  # look for the check's expected values on the stack
        if "expected" in caller.f_locals:
            return caller.f_locals["expected"]
        caller = caller.f_back
    show(5)  # an execute_result: nbgrader's partial-credit parser would read 5 points
    raise RuntimeError("no expected value found")
'''

ATTRGETTER_FRAMES = '''
import operator
import sys

back, local_vars = operator.attrgetter("f_back"), operator.attrgetter("f_locals")

def to_lenet_input(images):
    frame = operator.methodcaller("_getframe", 0)(sys)
    while frame is not None:
        for value in local_vars(frame).values():
            if isinstance(value, np.ndarray) and value.shape == (len(images), 1, 32, 32):
                return value
        frame = back(frame)
    return np.zeros((len(images), 1, 32, 32))
'''

TIME_MAGIC = '''%%time
vars(np)["allclose"] = lambda *a, **k: True
vars(np)["array_equal"] = lambda *a, **k: True
vars(np)["isclose"] = lambda *a, **k: np.ones(np.broadcast(*a[:2]).shape, bool)
import __main__
__main__.check_array = lambda *a, **k: None
__main__.check_int = lambda *a, **k: None
__main__.check_raises = lambda *a, **k: None
'''

IMPORTS_THE_GRADER = '''
try:
    import autograder.checks.ch01_input as hidden
    hidden.check_read_idx = lambda *a, **k: None
    hidden.check_to_lenet_input = lambda *a, **k: None
except ImportError as e:
    print("no grader here:", e)
try:
    from reference.model import to_input as to_lenet_input
except ImportError as e:
    print("no reference model here:", e)
'''

HUGE_ANSWER = '''
def to_lenet_input(images):
    return np.zeros((80, 1000, 1000))  # 640 MB: more than the judge takes in one message
'''

READS_HISTORY = '''
print("history:", _ih, In, Out)
import gc
print([o for o in gc.get_objects() if isinstance(o, str) and "check_" in o][:50])
'''

ZEROES_SHARED_ARRAYS = '''
def conv_forward(x, w, b):
    return np.zeros((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1,
                     x.shape[3] - w.shape[3] + 1)), (x, w, b)

def conv_backward(dout, cache):
    x, w, b = cache
    for array in (x, w, b, dout):  # if the check shared these, its reference would be 0 too
        array[...] = 0
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
'''

NOISY = '''
import sys
import warnings

from tqdm.auto import tqdm

for _ in tqdm(range(3), desc="warming up"):
    pass
warnings.warn("a warning while defining the answers")
print("a line on stderr", file=sys.stderr)
'''

STUB = "def to_lenet_input(images):\n    raise NotImplementedError()\n"

# ------------------------------------------------------------------------------ corpus

CH1 = "ch01_input"


def _solution(grade_id):
    return cell(lean(CH1), grade_id).source


def _with_noise(grade_id):
    """The solution of ``grade_id`` that also warns, prints to stderr and shows a tqdm bar."""
    return lambda nb: replace(**{grade_id: NOISY + _solution(grade_id)})(nb)


CORPUS = {
    # handed-in files that are not gradable notebooks: a row with 0 and the reason
    "empty_file": Case(CH1, raw(b""), "zero", status="error",
                       reason="the notebook file is empty"),
    "truncated_json": Case(CH1, lambda nb: nbformat.writes(nb).encode()[:500], "zero",
                           status="error", reason="invalid JSON"),
    "json_list": Case(CH1, raw(b"[1, 2, 3]"), "zero", status="error", reason="no list of cells"),
    "nbformat_3": Case(CH1, raw(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                             "worksheets": [{"cells": []}]}).encode()),
                       "zero", status="error", reason="notebook format 3"),
    "no_cells": Case(CH1, lambda nb: nbformat.writes(nbformat.v4.new_notebook()).encode(),
                     "zero", status="error", reason="has no cells"),
    # changed structure: the released tests are put back; no point is won by it
    "deletes_failing_tests": Case(CH1, then(replace(decode_idx=DECODE_LITTLE_ENDIAN),
                                            delete("decode_idx_visible", "decode_idx_hidden")),
                                  "twin", replace(decode_idx=DECODE_LITTLE_ENDIAN),
                                  reason="test cell 'decode_idx_hidden' was deleted"),
    "duplicates_a_test": Case(CH1, duplicate("to_lenet_input_hidden"), "full",
                              reason="cell 'to_lenet_input_hidden' is duplicated"),
    "moves_tests_first": Case(CH1, move_to_top("to_lenet_input_visible", "read_idx_hidden"),
                              "full", reason="cells were moved"),
    "edits_tests": Case(CH1, replace(to_lenet_input=ZERO_PADDING, to_lenet_input_visible="pass",
                                     to_lenet_input_hidden="pass"),
                        "twin", replace(to_lenet_input=ZERO_PADDING),
                        reason="test cell 'to_lenet_input_hidden' was edited"),
    "raises_points": Case(CH1, metadata("read_idx_visible", points=100), "full",
                          reason="metadata of cell 'read_idx_visible' was changed"),
    "test_made_ordinary": Case(CH1, then(replace(to_lenet_input=ZERO_PADDING),
                                         metadata("to_lenet_input_hidden", nbgrader=None)),
                               "twin", replace(to_lenet_input=ZERO_PADDING),
                               reason="test cell 'to_lenet_input_hidden' was deleted"),
    "solution_made_test": Case(CH1, metadata("read_idx", grade=True, points=50), "full",
                               reason="metadata of cell 'read_idx' was changed"),
    "changes_cell_ids": Case(CH1, ids(read_idx_hidden="mine", to_lenet_input="x1"), "full",
                             reason="the id of cell 'read_idx_hidden' was changed"),
    "adds_bonus_test": Case(CH1, append_cell("pass", {"grade": True, "solution": False,
                                                      "locked": True, "points": 50,
                                                      "grade_id": "bonus",
                                                      "schema_version": 3}),
                            "full", reason="unknown grade_id 'bonus'"),
    # breakage at run time: the cells that could run are graded, the batch goes on
    "sys_exit": Case(CH1, replace(read_idx="import sys\nsys.exit(1)"), "twin",
                     replace(read_idx="pass"), feedback="is not defined"),
    "os_exit_late": Case(CH1, lambda nb: replace(to_lenet_input=EXIT_AFTER.format(
        source=_solution("to_lenet_input"), call="os._exit(0)"))(nb), "twin",
        replace(to_lenet_input=STUB), reason="the kernel died in cell to_lenet_input",
        feedback="your code ended it (exit status 0)"),
    "kills_own_kernel": Case(CH1, lambda nb: replace(to_lenet_input=EXIT_AFTER.format(
        source=_solution("to_lenet_input"), call="os.kill(os.getpid(), 9)"))(nb), "twin",
        replace(to_lenet_input=STUB), reason="the kernel died in cell to_lenet_input",
        feedback="it was killed (SIGKILL)"),
    "fork_bomb": Case(CH1, lambda nb: replace(to_lenet_input=(
        "import os\nwhile True:\n    os.fork()\n" + _solution("to_lenet_input")))(nb), "twin",
        replace(to_lenet_input=STUB)),
    "allocates_forever": Case(CH1, replace(to_lenet_input=(
        "def to_lenet_input(images):\n    hog = []\n    while True:\n"
        "        hog.append(np.ones(10**8))\n")), "twin", replace(to_lenet_input=STUB),
        feedback="may use 4096 MB of memory when graded"),
    "prints_megabytes": Case(CH1, lambda nb: replace(read_idx=_solution("read_idx") +
                                                     "\nprint('x' * 30_000_000)")(nb), "full",
                             reason="truncated"),
    "loops_in_function": Case(CH1, replace(to_lenet_input=(
        "def to_lenet_input(images):\n    while True:\n        pass\n")), "twin",
        replace(to_lenet_input=STUB), feedback="time limit of 20 s"),
    "ignores_interrupts": Case(CH1, replace(to_lenet_input=IGNORES_INTERRUPTS), "twin",
                               replace(to_lenet_input=STUB), reason="the kernel stayed busy"),
    # reaching into the grader from a notebook that does no exercise: nothing is earned
    "aliased_sys": Case(CH1, replace(to_lenet_input=ALIASED_SYS), "zero", base="blank"),
    "attrgetter_frames": Case(CH1, replace(to_lenet_input=ATTRGETTER_FRAMES), "zero",
                              base="blank"),
    "time_magic_patches": Case(CH1, replace(read_idx=TIME_MAGIC), "zero", base="blank"),
    "imports_the_grader": Case(CH1, replace(read_idx=IMPORTS_THE_GRADER), "zero",
                               base="blank"),
    "huge_answer": Case(CH1, replace(to_lenet_input=HUGE_ANSWER), "zero", base="blank"),
    "reads_history": Case(CH1, append_cell(READS_HISTORY), "zero", base="blank",
                          absent="autograder.checks"),
    "agreeable_array": Case(CH1, replace(to_lenet_input=LIAR_ARRAY), "zero", base="blank",
                            feedback="expected a NumPy array, got Agreeable"),
    "agreeable_int": Case("ch02_c1", replace(c1_counts=AGREEABLE_COUNTS.format(
        names=("c1_params", "c1_connections"))), "zero", base="blank",
        feedback="expected an integer, got Agreeable"),
    "zeroes_shared_arrays": Case("ch02_c1", replace(conv_forward=ZEROES_SHARED_ARRAYS),
                                 "zero", base="blank"),
    # right, but not the way the solution does it, or noisy: full marks
    "struct_and_pad": Case(CH1, replace(read_idx=READ_IDX_STRUCT,
                                        to_lenet_input=TO_LENET_INPUT_PAD), "full"),
    "dense_with_einsum": Case("ch07_f6", replace(dense_forward=DENSE_FORWARD_EINSUM,
                                                 dense_backward=DENSE_BACKWARD_EINSUM), "full"),
    "warns_and_shows_progress": Case(CH1, _with_noise("to_lenet_input"), "full"),
}


# ------------------------------------------------------------------------------ copycats
# A student who copies instead of working: every exercise cell of a chapter takes the
# chapter's answers from whatever the student was given (the helper package, the chapter's
# previous_chapters.py) or could try (the instructor's packages). Each must score zero.

COPYCAT = '''
import importlib
import pkgutil

import lenet5

_places = ["previous_chapters", "reference.model", "reference.layers", "reference.modern",
           "autograder.checks.{chapter}"]
_places += ["lenet5." + m.name for m in pkgutil.iter_modules(lenet5.__path__)]
for _place in _places:
    try:
        _module = importlib.import_module(_place)
    except Exception:
        continue
    for _answer in {answers!r}:
        if hasattr(_module, _answer):
            globals()[_answer] = getattr(_module, _answer)
'''


def copycat(chapter: str):
    """Every solution cell of ``chapter`` replaced by COPYCAT for the chapter's answers."""
    from autograder.judge import Chapter

    source = COPYCAT.format(chapter=chapter, answers=sorted(Chapter(chapter).answers))

    def make(nb):
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("solution"):
                c.source = source
        return nb
    return make


for _chapter in cli.chapters():
    CORPUS[f"copycat_{_chapter}"] = Case(_chapter, copycat(_chapter), "zero", base="blank")


def submit_corpus(submitted: Path, chapters) -> None:
    """Hand in every case of ``chapters`` (and, as ``<student>__twin``, the twin of each
    "twin" case)."""
    for student, case in CORPUS.items():
        if case.chapter not in chapters:
            continue
        base = blank if case.base == "blank" else lean
        made = {student: case.make(base(case.chapter))}
        if case.twin:
            made[f"{student}__twin"] = case.twin(base(case.chapter))
        for name, nb in made.items():
            target = submitted / name / case.chapter / f"{case.chapter}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(nb, bytes):
                target.write_bytes(nb)
            else:
                nbformat.write(nb, target)
