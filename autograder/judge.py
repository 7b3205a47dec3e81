"""The judge: runs a chapter's test cells outside the student's kernel and decides their scores.

One judge process serves one notebook being graded, forked by the grader's judge server
(``serve_forks``, ``python -m autograder.judge FD``) for a chapter and a FOLDER. For each test
cell the grader writes a line of JSON on the judge's commands pipe, ``{"cell": grade_id,
"timeout": seconds, "visible_only": bool}`` (once the judge has said it is ready, listening at
``FOLDER/socket``), then makes the student's kernel run ``lenet5.relay.serve(FOLDER/socket,
globals(), token)``. The judge accepts that connection, runs the cell's source *as the
instructor wrote it* (``solutions/``, hidden lines included) in its own namespace, and writes
one line of JSON on its verdicts pipe, the verdict: ``{"score": fraction of the
cell's points, "message": why points were lost, "output": what the checks printed}``.

The cell's namespace holds the import statements of the chapter's narrative cells (run here:
``numpy``, ``lenet5.testing``, ``previous_chapters`` as released...) and, from the kernel, only
the chapter's *answers*: the names its solution cells define. Those arrive as plain data;
functions arrive as references, and calling one sends its arguments to the kernel and brings
the result back as data (``lenet5.relay``). Expected values never enter the kernel, and
nothing the kernel sends is run or trusted here. Files the checks create (``tempfile``) go to
FOLDER, which the sandbox shows to the kernel read-only.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import io
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
import traceback
import types
from pathlib import Path

from autograder.course import previous_chapters, source_cells
from lenet5 import relay

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
SOCKET_NAME = "socket"


class Timeout(Exception):
    """The student's code ran past the cell's time limit."""


class Chapter:
    """What the judge needs of a chapter's source notebook."""

    def __init__(self, chapter: str):
        self.name, self.tests, self.answers, imports = chapter, {}, set(), []
        self._previous = None
        for cell in source_cells(chapter):
            if cell["cell_type"] != "code":
                continue
            meta = cell["metadata"].get("nbgrader", {})
            tree = ast.parse(_python(cell["source"]))
            if meta.get("solution"):
                self.answers |= _defined(tree)
            elif meta.get("grade"):
                self.tests[meta["grade_id"]] = cell["source"]
            else:
                imports += [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.imports = compile(ast.Module(body=imports, type_ignores=[]),
                               f"<imports of {chapter}>", "exec")

    def namespace(self) -> dict:
        """A fresh namespace with the chapter's imports run in it."""
        if self._previous is None:
            self._previous = types.ModuleType("previous_chapters")
            exec(compile(previous_chapters(self.name) or "", "previous_chapters.py", "exec"),
                 self._previous.__dict__)
        sys.modules["previous_chapters"] = self._previous  # this chapter's, for its imports
        ns = {"__name__": "__judge__"}
        exec(self.imports, ns)
        return ns

    def needs(self, source: str) -> list[str]:
        """The answers a test cell's source uses."""
        return sorted(_free_names(ast.parse(_python(source))) & self.answers)


def _python(source: str) -> str:
    """Source without IPython's magics and shell escapes (lines that start with % or !)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _defined(tree: ast.Module) -> set[str]:
    """Names bound at the top level of a cell."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            names |= {n.id for n in ast.walk(node)
                      if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def _free_names(tree: ast.Module) -> set[str]:
    """Names a cell reads that it binds nowhere in it (not at the top, not as a function's
    argument or local); an over-approximation is harmless: only answers are fetched."""
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and
              isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and
             isinstance(n.ctx, (ast.Store, ast.Del))}
    bound |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                                ast.AsyncFunctionDef,
                                                                ast.ClassDef))}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name}
    return loaded - bound - _defined(tree) - set(dir(builtins))


def unknown_names(chapter: Chapter, grade_id: str) -> set[str]:
    """Names a test cell reads that are neither imported by the notebook nor answers: a test
    cell that needs one depends on the kernel's narrative state, which the judge cannot use."""
    ns = chapter.namespace()
    return _free_names(ast.parse(_python(chapter.tests[grade_id]))) - chapter.answers - set(ns)


class Judge:
    """Judges the test cells of one notebook; see the module docstring."""

    def __init__(self, chapter: Chapter, folder: Path):
        self.chapter, self.folder = chapter, Path(folder)
        self.pictured: set[str] = set()
        tempfile.tempdir = str(self.folder)  # files the checks make, readable by the kernel
        path = str(self.folder / SOCKET_NAME)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with relay.unix_address(path) as address:
            self.listener.bind(address)
        os.chmod(path, 0o666)
        self.listener.listen(1)

    def _connection(self, token: str, deadline: float) -> socket.socket | None:
        """The relay's connection for the cell named ``token``; None if the grader says the
        relay failed (``abort``) or none comes in time. Other connections are dropped."""
        while True:
            self.listener.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return None
            try:
                conn.settimeout(max(0.01, min(5.0, deadline - time.monotonic())))
                header, _ = relay.recv_message(conn)
            except (OSError, relay.ProtocolError):
                header = {}
            if header.get("token") == token and header.get("op") in ("hello", "abort"):
                if header["op"] == "hello":
                    return conn
                conn.close()
                return None
            conn.close()

    def judge(self, grade_id: str, timeout: float, token: str = "",
              visible_only: bool = False) -> dict:
        source = self.chapter.tests.get(grade_id)
        if source is None:
            return {"score": 0.0, "ename": "GraderError", "output": "",
                    "message": f"the grader has no test cell {grade_id!r}"}
        if visible_only:
            source = HIDDEN.sub("", source)
        # The kernel is interrupted at the cell's time limit; the judge waits a little longer,
        # so that it hears of the interrupt rather than guessing.
        deadline = time.monotonic() + timeout + 5
        output = io.StringIO()
        conn = self._connection(token, deadline)
        if conn is None:
            return {"score": 0.0, "ename": "KernelStopped", "output": "", "message": (
                "the notebook's kernel did not answer the grader (was it stopped, or did "
                "the notebook replace Python's import machinery?)")}
        peer = _TimedPeer(conn, deadline)
        try:
            ns = self.chapter.namespace()
        except Exception as error:  # noqa: BLE001 - the course's fault, not the student's
            conn.close()
            return {"score": 0.0, "ename": "GraderError", "output": "", "message": (
                f"the grader could not prepare this chapter's checks ({type(error).__name__}: "
                f"{error}); tell your instructor")}
        answers: dict = {}
        try:
            answers = peer.get(self.chapter.needs(source))
            ns.update(answers)
            with contextlib.redirect_stdout(output):
                exec(compile(_python(source), f"<test cell {grade_id}>", "exec"), ns)
            verdict = {"score": 1.0, "ename": "", "message": ""}
        except Exception as error:  # noqa: BLE001 - every failure is a verdict
            verdict = _verdict(error, timeout)
            if isinstance(error, Timeout) and peer.running is not None:
                # the answer that was running: later cells give it less time (GuardedExecute)
                verdict["looping"] = next((name for name, value in answers.items()
                                           if value is peer.running), None)
            if not visible_only and verdict["ename"] in _PICTURED:
                verdict["picture"] = self._picture(source, ns)
        finally:
            with contextlib.suppress(OSError, relay.ProtocolError):
                conn.settimeout(2)
                relay.send_message(conn, {"op": "done"}, [])
            conn.close()
        return {**verdict, "output": output.getvalue()[-20_000:]}


    def _picture(self, source: str, ns: dict) -> str | None:
        """A picture of the first exercise of the cell that has one (autograder.pictures),
        made while the kernel still answers."""
        from autograder import pictures

        for name in self.chapter.needs(source):
            if name in pictures.PICTURES and name in ns and name not in self.pictured:
                self.pictured.add(name)  # one picture per exercise and notebook
                return pictures.picture(name, ns[name])
        return None


# The verdicts that come with a picture when the exercise has one: a wrong answer, not a
# kernel that stopped answering or ran out of time.
_PICTURED = {"AssertionError", "PartialCredit"}


def _verdict(error: Exception, timeout: float) -> dict:
    """The verdict of a cell whose code raised ``error``: the fraction of its points earned,
    and the error a student reads (``ename``: ``message``)."""
    from autograder.checks.common import Partial

    def lost(ename, message, score=0.0):
        return {"score": score, "ename": ename, "message": message}

    if isinstance(error, Partial):
        return lost("PartialCredit", str(error), error.fraction)
    if isinstance(error, Timeout):
        return lost("TimeoutError", f"your code ran past this cell's time limit of "
                                    f"{timeout:g} s and was stopped")
    if getattr(error, "raised_by", None):
        return lost(error.raised_by, f"{error} (raised by your code)")
    if isinstance(error, (relay.Closed, OSError)):
        return lost("KernelStopped", "the notebook's kernel stopped answering the grader (it "
                                     "was interrupted, exited or died)")
    if isinstance(error, relay.ProtocolError):
        return lost("GraderError", f"the notebook sent the grader something it cannot read: "
                                   f"{error}")
    if isinstance(error, AssertionError):
        return lost("AssertionError", str(error) or "a check failed")
    if isinstance(error, NameError):
        return lost("NameError", f"{error}: define it in your notebook (did a cell fail "
                                 f"before it?)")
    return lost(type(error).__name__, f"{error} (in the check, with what your code returned)")


class _TimedPeer(relay.Peer):
    """The judge's side of the connection: every wait ends at the cell's deadline."""

    def __init__(self, sock: socket.socket, deadline: float):
        super().__init__(sock)
        self.deadline = deadline
        self.calls: list[relay.Remote] = []  # the student's functions being called, outermost first
        self.running: relay.Remote | None = None  # the outermost one when time ran out

    def call(self, target: relay.Remote, args: tuple, kwargs: dict):
        self.calls.append(target)
        try:
            return super().call(target, args, kwargs)
        finally:
            self.calls.pop()

    def wait(self):
        try:
            return self._wait()
        except Timeout:
            self.running = self.calls[0] if self.calls else None
            raise

    def _wait(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        self.sock.settimeout(left)
        try:
            return super().wait()
        except socket.timeout:
            raise Timeout() from None
        except KeyboardInterrupt:  # the kernel was interrupted at its time limit
            raise Timeout() from None

    @staticmethod
    def exception(header: dict) -> BaseException:
        if header.get("type") == "KeyboardInterrupt":
            return Timeout()
        return relay.Peer.exception(header)


def serve(chapter: Chapter, folder: Path, commands, verdicts) -> None:
    """Judge one notebook: one JSON command per line from ``commands``, one verdict per line
    to ``verdicts`` (text files)."""
    judge = Judge(chapter, folder)
    with contextlib.suppress(Exception):  # the chapter's imports, done while the kernel starts
        chapter.namespace()  # (a failure is told by the first cell that needs them)
    sys.stdout = sys.stderr  # what else prints goes to the grader's log
    verdicts.write(json.dumps({"ready": True}) + "\n")  # listening: the kernel may connect
    verdicts.flush()
    for line in commands:
        command = json.loads(line)
        verdict = judge.judge(command["cell"], float(command["timeout"]),
                              str(command.get("token", "")), bool(command.get("visible_only")))
        verdicts.write(json.dumps(verdict) + "\n")
        verdicts.flush()


def serve_forks(fd: int) -> None:
    """The judge server: one process that has imported what judging needs (and each chapter's
    checks, once asked for it), forking a judge for each notebook: a judge then starts in
    milliseconds, not in a second of imports.

    Each request on the Unix socket ``fd``: ``[chapter, folder]`` in JSON, with two file
    descriptors, the read end of the judge's commands and the write end of its verdicts; the
    answer is the judge's pid, in a line. Every judge is a fresh copy of this server, which
    never talks to a kernel, so nothing of one notebook reaches the judge of another. The
    server ends when the grader's end of the socket closes."""
    from autograder import pictures  # noqa: F401 - for the judges of wrong answers

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the judges are reaped as they end
    with socket.socket(fileno=fd) as server:
        while True:
            try:
                request, fds, _, _ = socket.recv_fds(server, 65536, 2)
            except OSError:
                return
            if not request:
                return  # the grader is gone
            chapter, folder = json.loads(request)
            prepared = _prepared(chapter)
            pid = os.fork()
            if pid == 0:  # the judge
                status = 1
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    server.close()
                    with open(fds[0]) as commands, open(fds[1], "w") as verdicts:
                        serve(prepared or Chapter(chapter), Path(folder), commands, verdicts)
                    status = 0
                except BaseException:  # noqa: BLE001 - told in the grader's log
                    traceback.print_exc()
                finally:
                    os._exit(status)
            for descriptor in fds:
                os.close(descriptor)
            server.sendall(f"{pid}\n".encode())


_PREPARED: dict[str, Chapter | None] = {}


def _prepared(chapter: str) -> Chapter | None:
    """The judge server's copy of a chapter, its imports and checks loaded; None if that
    failed (the judge then fails as it would have alone, and says why)."""
    if chapter not in _PREPARED:
        try:
            prepared = Chapter(chapter)
            prepared.namespace()
            importlib.import_module(f"autograder.checks.{chapter}")
        except Exception:  # noqa: BLE001
            prepared = None
        _PREPARED[chapter] = prepared
    return _PREPARED[chapter]


def main(argv: list[str] | None = None) -> None:
    """``python -m autograder.judge FD``: the judge server, on the Unix socket ``FD``."""
    import matplotlib

    matplotlib.use("Agg")
    serve_forks(int((argv or sys.argv[1:])[0]))


if __name__ == "__main__":
    main()
