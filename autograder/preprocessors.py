"""nbgrader preprocessors of the course."""
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer
from nbgrader.utils import is_grade, is_solution


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


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def cell_name(cell, index: int) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or f"#{index + 1}"


class GuardedExecute(Execute):
    """nbgrader's Execute in the sandbox (autograder.sandbox), with what a hostile or broken
    notebook needs: a time limit for the whole notebook, a cap on each cell's output, and a
    kernel that dies or stays stuck after a timeout failing the cells that could not run
    (instead of the whole submission). ``last_events`` lists what happened in the last run,
    for the grades CSV.
    """

    notebook_timeout = Integer(900, help="seconds the whole notebook may run").tag(config=True)
    max_output_bytes = Integer(100_000, help="output kept per cell (bytes)").tag(config=True)
    last_events: list[str] = []

    def __init__(self, *args, **kwargs):
        from autograder.sandbox import SandboxedKernelManager

        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self.events, self._stopped, self._sizes = [], None, {}
        self._deadline = time.monotonic() + self.notebook_timeout
        try:
            return super().preprocess(nb, resources, km)
        finally:
            GuardedExecute.last_events = self.events

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if not self._stopped and time.monotonic() > self._deadline:
            self._stop(f"the notebook exceeded its time limit ({self.notebook_timeout} s)")
        if self._stopped:
            cell.outputs = [error_output("NotRun", f"not run: {self._stopped}")]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(error_output(
                "DeadKernelError", "the kernel died while running this cell: it exited, was "
                "killed, or hit a limit (memory, processes, CPU time); the cells after it "
                "were not run"))
            self._stop(f"the kernel died in cell {cell_name(cell, index)}")
            return cell, resources
        except CellTimeoutError:  # the kernel replied but its output never ended
            cell.outputs.append(error_output(
                "CellTimeoutError", f"the cell exceeded the {self.timeout} s time limit and the "
                "kernel stayed busy after it was interrupted; the cells after it were not run"))
            self._stop("the kernel stayed busy after it was interrupted")
            return cell, resources
        if any(o.output_type == "error" and o.ename == "CellTimeoutError" for o in cell.outputs):
            self.events.append(f"cell {cell_name(cell, index)} exceeded the {self.timeout} s "
                               f"time limit")
            if not self._responds(10):
                self._stop("the kernel stayed busy after it was interrupted")
        return cell, resources

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
