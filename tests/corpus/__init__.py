"""Bad and adversarial submissions, each with the grade and the reason the grader must give.

Every submission starts from a chapter's solution notebook with the narrative code cells left
out (a student may delete them; the tests do not need them), which keeps each run short.
``CORPUS[student] = Case(chapter, make, score, status, reason, feedback)``: ``make`` turns
that notebook into the file handed in; ``reason`` must appear in the student's row of
grades.csv and ``feedback`` in the student's feedback page.
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

from autograder import cli

from faulty_ch01_input import LITTLE_ENDIAN, ZERO_PADDING


@dataclass
class Case:
    chapter: str
    make: Callable  # NotebookNode -> NotebookNode (written as a notebook) or bytes (as is)
    score: float
    status: str = "graded"
    reason: str = ""
    feedback: str = ""


def lean(chapter: str) -> nbformat.NotebookNode:
    """What a student who solved ``chapter`` hands in: the student edition with the solutions
    written in, here without its narrative code cells (imports kept)."""
    (path,) = sorted((cli.SOLUTIONS / chapter).glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:  # hidden tests as released: without the hidden lines
        c.source = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "", c.source,
                          flags=re.S)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c is first_code
                or "nbgrader" in c.metadata]
    return nb


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

# ------------------------------------------------------------------------------ corpus

CH1 = "ch01_input"


def _solution(grade_id):
    return cell(lean(CH1), grade_id).source


CORPUS = {
    # handed-in files that are not gradable notebooks: a row with 0 and the reason
    "empty_file": Case(CH1, raw(b""), 0, "error", "the notebook file is empty"),
    "truncated_json": Case(CH1, lambda nb: nbformat.writes(nb).encode()[:500], 0, "error",
                           "invalid JSON"),
    "json_list": Case(CH1, raw(b"[1, 2, 3]"), 0, "error", "no list of cells"),
    "nbformat_3": Case(CH1, raw(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                             "worksheets": [{"cells": []}]}).encode()),
                       0, "error", "notebook format 3"),
    "no_cells": Case(CH1, lambda nb: nbformat.writes(nbformat.v4.new_notebook()).encode(), 0,
                     "error", "has no cells"),
    # changed structure: the released tests are put back; no point is won by it
    "deletes_failing_tests": Case(CH1, then(replace(read_idx=LITTLE_ENDIAN),
                                            delete("read_idx_visible", "read_idx_hidden")),
                                  5, reason="test cell 'read_idx_hidden' was deleted"),
    "duplicates_a_test": Case(CH1, duplicate("to_lenet_input_hidden"), 10,
                              reason="cell 'to_lenet_input_hidden' is duplicated"),
    "moves_tests_first": Case(CH1, move_to_top("to_lenet_input_visible", "read_idx_hidden"),
                              10, reason="cells were moved"),
    "edits_tests": Case(CH1, then(replace(to_lenet_input=ZERO_PADDING,
                                          to_lenet_input_visible="pass",
                                          to_lenet_input_hidden="pass")),
                        5, reason="test cell 'to_lenet_input_hidden' was edited"),
    "raises_points": Case(CH1, metadata("read_idx_visible", points=100), 10,
                          reason="metadata of cell 'read_idx_visible' was changed"),
    "test_made_ordinary": Case(CH1, then(replace(to_lenet_input=ZERO_PADDING),
                                         metadata("to_lenet_input_hidden", nbgrader=None)),
                               5, reason="test cell 'to_lenet_input_hidden' was deleted"),
    "solution_made_test": Case(CH1, metadata("read_idx", grade=True, points=50), 10,
                               reason="metadata of cell 'read_idx' was changed"),
    "changes_cell_ids": Case(CH1, ids(read_idx_hidden="mine", to_lenet_input="x1"), 10,
                             reason="the id of cell 'read_idx_hidden' was changed"),
    "adds_bonus_test": Case(CH1, append_cell("pass", {"grade": True, "solution": False,
                                                      "locked": True, "points": 50,
                                                      "grade_id": "bonus",
                                                      "schema_version": 3}),
                            10, reason="unknown grade_id 'bonus'"),
    # breakage at run time: the cells that could run are graded, the batch goes on
    "sys_exit": Case(CH1, replace(read_idx="import sys\nsys.exit(1)"), 5,
                     feedback="is not defined"),
    "os_exit_late": Case(CH1, lambda nb: replace(to_lenet_input=EXIT_AFTER.format(
        source=_solution("to_lenet_input"), call="os._exit(0)"))(nb), 5,
        reason="the kernel died in cell to_lenet_input"),
    "kills_own_kernel": Case(CH1, lambda nb: replace(to_lenet_input=EXIT_AFTER.format(
        source=_solution("to_lenet_input"), call="os.kill(os.getpid(), 9)"))(nb), 5,
        reason="the kernel died in cell to_lenet_input"),
    "fork_bomb": Case(CH1, lambda nb: replace(to_lenet_input=(
        "import os\nwhile True:\n    os.fork()\n" + _solution("to_lenet_input")))(nb), 5),
    "allocates_forever": Case(CH1, replace(to_lenet_input=(
        "def to_lenet_input(images):\n    hog = []\n    while True:\n"
        "        hog.append(np.ones(10**8))\n")), 5, feedback="MemoryError"),
    "prints_megabytes": Case(CH1, lambda nb: replace(read_idx=_solution("read_idx") +
                                                     "\nprint('x' * 30_000_000)")(nb), 10,
                             reason="truncated"),
    "loops_in_function": Case(CH1, replace(to_lenet_input=(
        "def to_lenet_input(images):\n    while True:\n        pass\n")), 5,
        reason="cell to_lenet_input_visible exceeded the"),
    "ignores_interrupts": Case(CH1, replace(to_lenet_input=IGNORES_INTERRUPTS), 5,
                               reason="the kernel stayed busy"),
    # reaching into the grader: rejected, 0, whatever else the notebook does
    "patches_allclose": Case(CH1, lambda nb: replace(to_lenet_input=ZERO_PADDING +
                                                     "\nnp.allclose = lambda *a, **k: True")(nb),
                             0, "rejected", "changes np.allclose"),
    "patches_the_checks": Case(CH1, replace(read_idx=(
        "import autograder.checks.ch01_input as hidden\n"
        "hidden.check_read_idx = lambda f: None\n")), 0, "rejected", "imports autograder"),
    "rebinds_check_array": Case(CH1, lambda nb: replace(to_lenet_input=ZERO_PADDING +
                                                        "\ncheck_array = lambda *a, **k: None")(nb),
                                0, "rejected", "rebinds check_array"),
    "hides_tracebacks": Case(CH1, lambda nb: replace(to_lenet_input=ZERO_PADDING +
                                                     "\nget_ipython().showtraceback = print")(nb),
                             0, "rejected", "uses get_ipython"),
    "reads_caller_frame": Case(CH1, replace(read_idx=(
        "import sys\n\ndef read_idx(path):\n"
        "    return sys._getframe(1).f_locals['array']\n")), 0, "rejected", "uses ._getframe"),
    # tampering that passes the scan is stopped in the kernel, and earns nothing
    "patches_numpy_by_alias": Case(CH1, lambda nb: replace(
        to_lenet_input=ZERO_PADDING + "\nlib = np\nlib.abs = lambda x: 0 * x")(nb),
                                   5, feedback="numpy.abs cannot be changed while grading"),
    "agreeable_array": Case(CH1, replace(to_lenet_input=LIAR_ARRAY), 5,
                            feedback="expected a NumPy array, got Agreeable"),
    "agreeable_int": Case("ch02_c1", replace(c1_counts=AGREEABLE_COUNTS.format(
        names=("c1_params", "c1_connections"))), 18,
        feedback="expected an integer, got Agreeable"),
    "agreeable_int_f6": Case("ch07_f6", replace(f6_counts=AGREEABLE_COUNTS.format(
        names=("f6_params", "f6_connections"))), 8,
        feedback="expected an integer, got Agreeable"),
    # right, but not the way the solution does it: full marks
    "struct_and_pad": Case(CH1, replace(read_idx=READ_IDX_STRUCT,
                                        to_lenet_input=TO_LENET_INPUT_PAD), 10),
    "dense_with_einsum": Case("ch07_f6", replace(dense_forward=DENSE_FORWARD_EINSUM,
                                                 dense_backward=DENSE_BACKWARD_EINSUM), 11),
}


def submit_corpus(submitted: Path) -> None:
    for student, case in CORPUS.items():
        made = case.make(lean(case.chapter))
        target = submitted / student / case.chapter / f"{case.chapter}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(made, bytes):
            target.write_bytes(made)
        else:
            nbformat.write(made, target)
