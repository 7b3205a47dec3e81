"""nbgrader preprocessors of the course."""
import atexit
import contextlib
import functools
import html
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time

from jupyter_core.utils import run_sync
from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.exporters.html import WidgetsDataTypeFilter
from nbconvert.filters.highlight import Highlight2HTML
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Integer, Unicode, default


PARTIAL = "partial credit: "  # how a test cell's output starts when it earned part of its points


class ClearGradedOutputs(NbGraderPreprocessor):
    """Clear the outputs of solution and test cells; keep every other cell's outputs.

    Used instead of nbgrader's ClearOutput when generating the student edition, so that the
    figures and printed results of the reference run stay in the book as expected outputs
    while nothing a solution or hidden test printed can leak.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and (is_solution(cell) or is_grade(cell)):
            cell.outputs = []
            cell.execution_count = None
        return cell, resources


class ShortTracebacks(NbGraderPreprocessor):
    """In feedback, reduce the error of every test cell to its last line ("Name: message").

    A full traceback quotes the source around each frame, including the hidden test line and
    the code of the checks it calls; the message alone says what is wrong without that.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_grade(cell):
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class FeedbackSummary(NbGraderPreprocessor):
    """At the top of a feedback page: the score, then every graded cell with its points, its
    result and why it lost points (each part of a check with parts), linked to its place in
    the notebook (after GetGrades and ShortTracebacks)."""

    def preprocess(self, nb, resources):
        rows, cells = [], []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                grade_id = meta["grade_id"]
                cells.append(new_markdown_cell(f'<a id="test-{grade_id}"></a>'))
                rows.append(_summary_row(cell, grade_id))
            cells.append(cell)
        info = resources.get("nbgrader", {})
        head = (f"## Your score: {info['score']:g} of {info['max_score']:g} points\n\n"
                if "score" in info else "## Your results\n\n")
        stopped = [_stopped_line(cell) for cell in nb.cells if cell.cell_type == "code"
                   and not cell.metadata.get("nbgrader", {}).get("grade")
                   and any(o.output_type == "error" for o in cell.outputs)]
        if stopped:  # a failing cell of the student's own explains later "is not defined"
            head += ("**Cells of yours that stopped with an error** (tests after them may "
                     "fail because of it):\n\n" + "\n".join(stopped) + "\n\n")
        if info.get("late_penalty"):
            head += (f"**Handed in late:** {info['late_penalty']:g} points were taken off by "
                     f"the course's late policy (the tests below show the points before "
                     f"that).\n\n")
        table = ('<table class="lenet5-summary">\n<tr><th>test</th><th>points</th>'
                 '<th>result</th><th>why points were lost</th></tr>\n' + "\n".join(rows) +
                 "\n</table>") if rows else "This notebook has no graded test."
        nb.cells = [new_markdown_cell(head + table)] + cells
        return nb, resources


def _stopped_line(cell) -> str:
    name = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {cell.get('id', '?')}"
    error = [o for o in cell.outputs if o.output_type == "error"][-1]
    return f"- {html.escape(name)}: {html.escape(error.ename)}: {html.escape(error.evalue)}"


def cell_result(cell) -> tuple[str, str]:
    """A judged test cell's result, from its outputs: ("passed" | "partly passed" | "lost",
    why points were lost, as the student reads it)."""
    errors = [o for o in cell.outputs if o.output_type == "error"]
    partial = [o.text for o in cell.outputs if o.output_type == "stream" and
               o.text.startswith(PARTIAL)]
    if errors:
        return "lost", f"{errors[-1].ename}: {errors[-1].evalue}"
    if partial:
        return "partly passed", partial[-1][len(PARTIAL):].strip()
    return "passed", ""


def _summary_row(cell, grade_id: str) -> str:
    meta = cell.metadata.nbgrader
    score, points = meta.get("score"), meta.get("points")
    result, why = cell_result(cell)
    shown = f"{score:g} / {points:g}" if score is not None and points is not None else "?"
    why = "<br>".join(html.escape(line) for line in why.splitlines())
    kind = result.split()[0]
    return (f'<tr class="{kind}"><td><a href="#test-{grade_id}">{grade_id}</a></td>'
            f'<td>{shown}</td><td class="result">{result}</td><td class="why">{why}</td></tr>')


MATHJAX_HERE = "/* MathJax: FeedbackExporter puts it here */"


class OfflineMathJax(NbGraderPreprocessor):
    """Mark the place of MathJax (the web book's own copy, SVG output, about 2 MB) in the
    feedback page (``autograder/templates/feedback.html.j2``), so that equations render with
    no network; ``FeedbackExporter`` puts it there once the page is made."""

    def preprocess(self, nb, resources):
        resources["offline_mathjax"] = MATHJAX_HERE
        return nb, resources


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML page for feedback, made faster for a class of pages: its templates are
    compiled once per process (not once per page), and MathJax is put in after the page is
    made. HTMLExporter's clean-up pass, which parses the whole page to add alternative text
    to images and to mark JupyterLab cells focusable, is replaced by the one part of it that
    applies to this classic-style page: images get alternative text."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        info = nb.metadata.get("language_info", {})
        lexer = info.get("pygments_lexer", info.get("name"))
        resources = self._init_resources(resources)
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page = _IMAGE_WITHOUT_ALT.sub(r'<img alt="No description has been provided for this '
                                      r'image"\1>', page)
        return page.replace(MATHJAX_HERE, _mathjax(), 1), resources


class _TemplateCache(BytecodeCache):
    """Compiled Jinja templates, kept in memory for the process's next feedback pages."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _TemplateCache()
_IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)([^>]*)>")


@functools.cache
def _mathjax() -> str:
    from importlib.metadata import distribution

    path = distribution("sphinx-mathjax-offline").locate_file(
        "sphinx-mathjax-offline/static/mathjax/tex-svg-full.js")
    return path.read_text(encoding="utf-8").replace("</script", "<\\/script")


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def verdict_outputs(verdict: dict, points: float) -> list:
    """A test cell's outputs made from the judge's verdict, so that nbgrader reads its score
    from them: full points for no error, ``score * points`` as the cell's value for partial
    credit, an error (0 points) otherwise; with what the checks printed."""
    outputs = []
    if verdict.get("output"):
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=verdict["output"]))
    if verdict.get("picture"):
        outputs.append(NotebookNode(output_type="display_data", metadata={}, data={
            "image/png": verdict["picture"],
            "text/plain": "your output on test image #0 beside the expected one, and their "
                          "difference"}))
    score = float(verdict["score"])
    if score >= 1.0:
        return outputs
    if score > 0.0:
        outputs.append(NotebookNode(output_type="stream", name="stdout",
                                    text=f"{PARTIAL}{verdict['message']}\n"))
        outputs.append(NotebookNode(output_type="execute_result", execution_count=None,
                                    metadata={}, data={"text/plain": repr(round(score * points,
                                                                                  4))}))
        return outputs
    return outputs + [error_output(verdict.get("ename") or "AssertionError", verdict["message"])]


def _abort(path: str, token: str) -> None:
    """Tell a judge still waiting for this cell's relay that it will not come."""
    from lenet5.relay import send_message, unix_address

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s, unix_address(path) as address:
        try:
            s.settimeout(2)
            s.connect(address)
            send_message(s, {"op": "abort", "token": token}, [])
        except OSError:
            pass


def cell_name(cell, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"#{index + 1}"


class GuardedExecute(Execute):
    """nbgrader's Execute in the sandbox (autograder.sandbox), with a judge outside it.

    - Solution and narrative cells run in the student's kernel as usual.
    - A test cell's checks run in the judge (``autograder.judge``), a process of the grader's:
      the kernel runs only the cell's visible code (what the student sees) and then a relay
      that hands the judge the notebook's answers as data. The cell's outputs, and so its
      score, are made from the judge's verdict alone: nothing the kernel prints counts.
    - A time limit for the whole notebook, a cap on each cell's output, and a kernel that
      dies or stays stuck after a timeout fail the cells that could not run (instead of the
      whole submission). ``last_events`` lists what happened in the last run, for the grades
      CSV; ``last_seconds`` its time: in the notebook's cells, in its longest cell, and in all
      (kernel, judge).
    """

    notebook_timeout = Integer(900, help="seconds the whole notebook may run").tag(config=True)
    max_output_bytes = Integer(100_000, help="output kept per cell (bytes)").tag(config=True)
    repeat_timeout = Integer(10, help="seconds for a test cell that calls an answer which "
                             "already ran past a cell's time limit").tag(config=True)
    chapter = Unicode("", help="the chapter graded (its tests come from solutions/)"
                      ).tag(config=True)
    visible_only = Bool(False, help="judge only the visible part of each test cell "
                        "(validation by a student)").tag(config=True)
    last_events: list[str] = []
    last_seconds: dict[str, float] = {}

    @default("shutdown_kernel")
    def _kill_the_kernel_at_the_end(self):
        return "immediate"  # nothing of the kernel's is kept: no need to wait for it to exit

    def __init__(self, *args, **kwargs):
        from autograder.kernel import SandboxedKernelManager

        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        self._judge, self._judge_ready = None, False

    def preprocess(self, nb, resources=None, km=None):
        self.events, self._stopped, self._sizes = [], None, {}
        self._looping, self._last_verdict, self._chapter = set(), {}, None
        start, self._cells, self._longest = time.monotonic(), 0.0, 0.0
        self._started = start
        # the chapter's own limits, from the released notebook's metadata, can only lower
        # the grader's: {"lenet5": {"limits": {"cell": seconds, "notebook": seconds}}}
        limits = nb.metadata.get("lenet5", {}).get("limits", {})
        usual = self.timeout
        self.timeout = min(self.timeout, int(limits.get("cell", self.timeout)))
        self._deadline = start + min(self.notebook_timeout,
                                     int(limits.get("notebook", self.notebook_timeout)))
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.timeout = usual
            self._stop_judge()
            GuardedExecute.last_events = self.events
            GuardedExecute.last_seconds = {"cells": self._cells, "longest_cell": self._longest,
                                           "execute": time.monotonic() - start}

    def preprocess_cell(self, cell, resources, index):
        if self._judge is None and self.chapter and not self._stopped:
            self._start_judge()  # it starts up while the first cells run
        if cell.cell_type != "code":
            return cell, resources
        if not self._stopped and time.monotonic() > self._deadline:
            self._stop(f"the notebook exceeded its time limit "
                       f"({self._deadline - self._started:.0f} s)")
        if self._stopped:
            cell.outputs = [error_output("NotRun", f"not run: {self._stopped}")]
            return cell, resources
        start = time.monotonic()
        try:
            if is_grade(cell) and not is_solution(cell):
                return self._judged(cell, resources, index), resources
            return self._run(cell, resources, index), resources
        finally:
            took = time.monotonic() - start
            self._cells += took
            self._longest = max(self._longest, took)

    def _run(self, cell, resources, index):
        """Run ``cell`` in the kernel; a kernel that dies or stays busy stops the notebook."""
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            reason = self.km.exit_reason() if hasattr(self.km, "exit_reason") else \
                "it exited, was killed, or hit a limit (memory, processes, CPU time)"
            cell.outputs.append(error_output(
                "DeadKernelError", f"the kernel died while running this cell: {reason}; the "
                f"cells after it were not run"))
            self._stop(f"the kernel died in cell {cell_name(cell, index)} ({reason})")
            return cell
        except CellTimeoutError:  # the kernel replied but its output never ended
            cell.outputs.append(error_output(
                "CellTimeoutError", f"the cell exceeded the {self.timeout} s time limit and the "
                "kernel stayed busy after it was interrupted; the cells after it were not run"))
            self._stop("the kernel stayed busy after it was interrupted")
            return cell
        for o in cell.outputs:
            if o.output_type == "error" and o.ename == "MemoryError":
                o.evalue = (f"{o.evalue}; " if o.evalue else "") + self._memory_limit()
                o.traceback = [*o.traceback, self._memory_limit()]
        if any(o.output_type == "error" and o.ename == "CellTimeoutError" for o in cell.outputs):
            self.events.append(f"cell {cell_name(cell, index)} exceeded the {self.timeout} s "
                               f"time limit")
            # nbclient leaves an empty "CellTimeoutError:" and "KeyboardInterrupt:": say why.
            cell.outputs = [o for o in cell.outputs if not (
                o.output_type == "error" and o.ename in ("CellTimeoutError", "KeyboardInterrupt"))]
            cell.outputs.append(error_output(
                "TimeoutError", f"this cell ran past its time limit of {self.timeout} s and was "
                "stopped (each cell of a notebook may run this long when it is graded)"))
            if not self._responds(10):
                self._stop("the kernel stayed busy after it was interrupted")
        return cell

    def _memory_limit(self) -> str:
        memory = getattr(self.km, "memory_mb", None)
        return (f"the notebook's kernel may use {memory} MB of memory when graded: work on "
                f"smaller pieces, e.g. in batches" if memory else "it ran out of memory")

    def _judged(self, cell, resources, index):
        """A test cell: its visible code in the kernel, then the judge's verdict. A cell
        whose checks need longer than the course's limit says so in its metadata
        (``"lenet5": {"timeout": seconds}``, set in solutions/ and released with it).

        An answer that ran past its cell's limit costs that limit once: a later cell that
        calls it gets ``repeat_timeout`` seconds (a finishing answer needs far less), so one
        endless loop does not cost a time limit in every cell that uses it."""
        from autograder.judge import Chapter

        if self._chapter is None:
            self._chapter = Chapter(self.chapter)
        needs = set(self._chapter.needs(self._chapter.tests.get(cell_name(cell, index), "")))
        self._last_verdict, usual = {}, self.timeout
        self.timeout = max(usual, int(cell.metadata.get("lenet5", {}).get("timeout", 0)))
        again = sorted(needs & self._looping)
        if again:
            self.timeout = min(self.timeout, self.repeat_timeout)
        try:
            cell = self._judged_in_time(cell, resources, index)
        finally:
            self.timeout = usual
        stopped = [o for o in cell.outputs if o.output_type == "error" and
                   o.ename in ("TimeoutError", "CellTimeoutError")]
        if stopped:
            looping = self._last_verdict.get("looping")
            self._looping |= {looping} if looping else needs  # visible code: any of them
            if again:
                stopped[-1].evalue = (f"{', '.join(again)} ran past the time limit in an "
                                      f"earlier cell, so this cell had "
                                      f"{self.repeat_timeout} s; it ran past them too")
        return cell

    def _judged_in_time(self, cell, resources, index):
        from autograder.judge import HIDDEN

        visible = HIDDEN.sub("", cell.source)
        has_code = any(ln.strip() and not ln.lstrip().startswith("#")
                       for ln in visible.splitlines())
        if self.visible_only and not has_code:
            return cell  # a hidden test: nothing to judge when validating
        if has_code:
            shown = self._run(new_code_cell(visible), resources, index)
            self.nb.cells[index] = cell
            timed_out = [o for o in shown.outputs if o.output_type == "error" and
                         o.ename in ("TimeoutError", "CellTimeoutError", "DeadKernelError")]
            if timed_out or self._stopped:
                cell.outputs = timed_out[-1:] or shown.outputs[-1:]
                return cell
        verdict = self._last_verdict = self._verdict(cell, resources, index)
        if verdict.get("ename") == "MemoryError":
            verdict["message"] += f"; {self._memory_limit()}"
        cell.outputs = verdict_outputs(verdict, float(cell.metadata.nbgrader.get("points", 0)))
        return cell

    def _verdict(self, cell_being_judged, resources, index) -> dict:
        """Ask the judge about one test cell while the kernel runs the relay."""
        folder = self.km.judge_folder
        if self._judge is None or not self._judge_ready:
            self._start_judge()
            self._judge_ready = True
            if not self._answer(60).get("ready"):
                self._stop_judge()
                return {"score": 0.0, "ename": "GraderError", "output": "",
                        "message": "the grader's judge could not start"}
        token = secrets.token_hex(8)  # names this cell's relay: a stale one is not heard
        self._judge.stdin.write(json.dumps({"cell": cell_name(cell_being_judged, index),
                                            "timeout": self.timeout, "token": token,
                                            "visible_only": self.visible_only}) + "\n")
        self._judge.stdin.flush()
        path = str(folder / "socket")
        relay = self._run(new_code_cell(
            f"__import__('lenet5.relay', fromlist=['serve']).serve({path!r}, globals(), "
            f"{token!r})"),
            resources, index)
        failed = [o for o in relay.outputs if o.output_type == "error"]
        if failed:
            _abort(path, token)  # if the relay never connected, the judge need not wait
        self.nb.cells[index] = cell_being_judged  # nbclient put the relay's cell there
        verdict = self._answer(15)
        if not verdict:
            self._stop_judge()
            verdict = {"score": 0.0, "ename": "GraderError", "output": "",
                       "message": "the grader's judge did not answer for this cell"}
        if failed and verdict["ename"] in ("KernelStopped", "GraderError"):
            verdict["message"] = (f"your notebook could not hand its answers to the grader: "
                                  f"{failed[-1].ename}: {failed[-1].evalue}")
        return verdict

    def _start_judge(self) -> None:
        """Start the judge (once per notebook, while the kernel starts): forked by this
        process's judge server."""
        if self._judge is None:
            self._judge = ForkedJudge(self.chapter, self.km.judge_folder)
            self._judge_ready = False

    def _answer(self, seconds: float) -> dict:
        """The judge's next line, or {} if none comes within ``seconds``."""
        ready, _, _ = select.select([self._judge.stdout], [], [], seconds)
        line = self._judge.stdout.readline() if ready else ""
        return json.loads(line) if line else {}

    def _stop_judge(self) -> None:
        if self._judge is not None:
            self._judge.stop()
            self._judge = None

    def _responds(self, seconds: float) -> bool:
        """Whether the kernel answers a kernel_info request within ``seconds``."""
        async def ask():
            await self.kc.kernel_info(reply=True, timeout=seconds)

        try:
            run_sync(ask)()
        except Exception:  # noqa: BLE001 - a timeout or a dead kernel
            return False
        return True

    def _stop(self, reason: str) -> None:
        self._stopped = reason
        self.events.append(reason)

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_bytes`` of printed text per cell (50 times that of
        figures and other rich output); say so where output was dropped."""
        kind = msg["msg_type"]
        if kind in ("stream", "display_data", "update_display_data", "execute_result"):
            content = msg["content"]
            size = len(content.get("text", "")) + sum(len(str(v)) for v in
                                                      content.get("data", {}).values())
            limit = self.max_output_bytes * (1 if kind == "stream" else 50)
            used = self._sizes.get((cell_index, kind == "stream"), 0)
            self._sizes[cell_index, kind == "stream"] = used + size
            if used + size > limit:
                if used <= limit:
                    outs.append(NotebookNode(output_type="stream", name="stdout", text=(
                        f"\n[output truncated by the grader: more than {limit:,} bytes]\n")))
                    self.events.append(f"output of cell #{cell_index + 1} truncated")
                return None
        return super().output(outs, msg, display_id, cell_index)


class ForkedJudge:
    """A judge (``autograder.judge``) for one notebook, forked by this process's judge server:
    ``stdin`` takes its commands, ``stdout`` gives its verdicts (text, a line each)."""

    def __init__(self, chapter: str, folder):
        commands, self.stdin = _pipe()
        self.stdout, verdicts = _pipe()
        try:
            try:
                self.pid = judge_server().fork(chapter, str(folder), commands, verdicts)
            except OSError:  # the server died (it is started again once)
                _SERVER.clear()
                self.pid = judge_server().fork(chapter, str(folder), commands, verdicts)
        finally:
            commands.close()
            verdicts.close()

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


def _pipe():
    """A pipe as two text files (read end, write end)."""
    read, write = os.pipe()
    return open(read, encoding="utf-8"), open(write, "w", encoding="utf-8")


class _JudgeServer:
    """This process's judge server (``autograder.judge.serve_forks``), started when first
    needed; a new one if it has died. It ends when this process does (its socket closes)."""

    def __init__(self):
        from autograder.course import REPO, instructor_env

        self.socket, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.judge", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=instructor_env(), cwd=str(REPO))
        theirs.close()
        self.answers = self.socket.makefile("r", encoding="utf-8")
        self.lock = threading.Lock()
        atexit.register(self.process.kill)

    def fork(self, chapter: str, folder: str, commands, verdicts) -> int:
        """A new judge's pid; it reads ``commands`` and writes ``verdicts`` (files)."""
        with self.lock:
            self.socket.settimeout(60)  # the server's first imports take a second or two
            socket.send_fds(self.socket, [json.dumps([chapter, folder]).encode()],
                            [commands.fileno(), verdicts.fileno()])
            answer = self.answers.readline()
        if not answer:
            raise OSError("the judge server stopped")
        return int(answer)


_SERVER: list[_JudgeServer] = []


def judge_server() -> _JudgeServer:
    if not _SERVER or _SERVER[0].process.poll() is not None:
        _SERVER[:] = [_JudgeServer()]
    return _SERVER[0]
