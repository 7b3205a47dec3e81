"""nbgrader preprocessors of the course."""
from nbgrader.preprocessors import NbGraderPreprocessor
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
