"""What a submission must be before it runs: a notebook, in the released structure, that does
not tamper with the grader.

``read_submission`` rejects what is not a notebook (empty, not JSON, not nbformat 4).
``restore_structure`` puts the released test cells back: deleted, duplicated, moved or edited
test cells and changed cell metadata or ids are repaired, and each repair is reported.
``tampering`` finds the code in the student's cells that reaches into the grader (patching
modules or the tests' helpers, frames, IPython's machinery, exec); such a submission earns 0.
"""
from __future__ import annotations

import ast
import copy
import json
import re
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


def restore_structure(nb: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """Rebuild ``nb`` on the released sequence of cells; return it and the repairs made.

    Each released nbgrader cell appears once, in the released order, with the released
    metadata, id and type; test cells keep the released source, solution cells the student's.
    The released narrative cells the student kept (same id) keep their released place and the
    student's source; the student's own cells follow the cell they followed in the submission.
    """
    released = {_grade_id(c): c for c in release.cells if _grade_id(c)}
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
            notes.append(f"{what} '{gid}' was deleted: the released cell was put back")
            cells.append(copy.deepcopy(original))
        elif gid:
            cells.append(_restored(cell, original, notes))
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


def _restored(cell, original, notes: list[str]):
    """The released nbgrader cell ``original`` with the student's answer from ``cell``."""
    gid = _grade_id(original)
    if cell.cell_type != original.cell_type:
        notes.append(f"cell '{gid}' was changed to {cell.cell_type}: restored")
    if _is_test(original) and _normal(cell.source) != _normal(original.source):
        notes.append(f"test cell '{gid}' was edited: the released test was restored")
    if _grading_metadata(cell) != _grading_metadata(original):
        notes.append(f"the nbgrader metadata of cell '{gid}' was changed: restored")
    if cell.get("id") != original.get("id"):
        notes.append(f"the id of cell '{gid}' was changed: restored")
    restored = copy.deepcopy(original)
    if not _is_test(original):
        restored.source = cell.source
    if restored.cell_type == "code":
        restored.outputs, restored.execution_count = [], None
    return restored


# ------------------------------------------------------------------------------ tampering

# Modules a solution has no business importing: they reach the interpreter, the kernel or the
# grader. (os and sys are allowed: os._exit or sys.exit only break the student's own notebook.)
FORBIDDEN_MODULES = {
    "autograder", "nbgrader", "IPython", "ipykernel", "jupyter_client", "zmq", "builtins",
    "inspect", "ctypes", "gc", "importlib", "traceback", "types", "dis", "marshal", "code",
    "codeop", "linecache", "atexit", "faulthandler", "_thread", "threading", "signal",
}
ALLOWED_MODULES = {"IPython.display"}  # showing things is fine
FORBIDDEN_NAMES = {
    "get_ipython", "exec", "eval", "compile", "__import__", "globals", "vars", "setattr",
    "delattr", "getattr", "breakpoint", "__builtins__", "__loader__", "__spec__", "In", "Out",
}
FORBIDDEN_ATTRIBUTES = {
    "_getframe", "modules", "settrace", "setprofile", "excepthook", "displayhook", "meta_path",
    "path_hooks", "f_back", "f_locals", "f_globals", "f_builtins", "f_code", "tb_frame",
    "gi_frame", "cr_frame", "ag_frame", "showtraceback", "set_custom_exc", "run_cell",
}
DUNDERS_ALLOWED = {"__init__", "__name__", "__doc__", "__len__", "__call__", "__version__"}
TIMING_MAGICS = {"timeit", "time", "matplotlib"}


def _python(source: str) -> str:
    """Cell source as plain Python: IPython magics and !shell lines become calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _allowed_magic(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
            and node.args and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in TIMING_MAGICS)


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _assigned(target: ast.AST):
    """The names, attributes and items that an assignment target writes (not its indices)."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _assigned(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned(target.value)
    else:
        yield target


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _top_level(tree: ast.AST):
    """The nodes of a cell outside function and class bodies."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                 ast.Lambda)) or node is tree:
            todo += ast.iter_child_nodes(node)


def _findings(tree: ast.AST, protected: set[str]) -> list[tuple[int, str]]:
    found = []
    top = {id(n) for n in _top_level(tree)}
    skip = {id(n.func.value.func) for n in ast.walk(tree) if isinstance(n, ast.Call)
            and _allowed_magic(n) and isinstance(n.func.value, ast.Call)}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for module in modules:
                if module.split(".")[0] in FORBIDDEN_MODULES and module not in ALLOWED_MODULES:
                    found.append((line, f"imports {module}"))
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            if id(node) not in skip:
                found.append((line, f"uses {node.id}"))
        elif isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_ATTRIBUTES or (
                    node.attr.startswith("__") and node.attr not in DUNDERS_ALLOWED):
                found.append((line, f"uses .{node.attr}"))
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
                node.name in protected and id(node) in top:
            found.append((line, f"redefines {node.name}, which the tests use"))
        for target in targets:
            for t in _assigned(target):
                if isinstance(t, (ast.Attribute, ast.Subscript)) and _root(t) in protected:
                    found.append((line, f"changes {ast.unparse(t)}"))
                elif isinstance(t, ast.Name) and t.id in protected and id(node) in top:
                    found.append((line, f"rebinds {t.id}, which the tests use"))
    return found


def tampering(nb: NotebookNode, release: NotebookNode) -> list[str]:
    """Where the student's code cells reach into the grader: ["cell 'x', line 3: uses ..."].

    Student code is every solution cell and every code cell that is not in the release.
    Protected names are the imported names that the test cells use (np, check_array, ...).
    """
    released_sources = {c.source for c in release.cells if c.cell_type == "code"}
    imported, used_by_tests = set(), set()
    for cell in release.cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(_python(cell.source))
            except SyntaxError:
                continue
            imported |= _imported_names(tree)
            if _is_test(cell):
                used_by_tests |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    protected = imported & used_by_tests
    reasons = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (not meta.get("solution") and
                                        cell.source in released_sources):
            continue
        try:
            tree = ast.parse(_python(cell.source))
        except SyntaxError:
            continue  # it fails when it runs, like any syntax error
        name = meta.get("grade_id") or f"#{index + 1}"
        for line, what in sorted(set(_findings(tree, protected))):
            reasons.append(f"cell '{name}', line {line}: {what}")
    return reasons
