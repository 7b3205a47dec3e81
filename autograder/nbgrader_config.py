# nbgrader configuration of the course. `python -m autograder ...` loads this file and points
# the per-run folders (gradebook, autograded, feedback) at its own output folder; it also works
# with plain nbgrader from the repository root (with the root on PYTHONPATH):
# `nbgrader <command> --JupyterApp.config_file=autograder/nbgrader_config.py`.
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearSolutions,
    ComputeChecksums, GetGrades, IgnorePattern, IncludeHeaderFooter, InstantiateTests,
    LimitOutput, LockCells, SaveAutoGrades, SaveCells,
)

from autograder.preprocessors import (ClearGradedOutputs, FeedbackExporter, FeedbackSummary,
                                      GuardedExecute, OfflineMathJax, ShortTracebacks)

c = get_config()  # noqa: F821 - provided by traitlets when the file is loaded
load_subconfig("nbgrader_config.py", path=str(Path(__file__).resolve().parent.parent))  # noqa: F821 - course id, time limit
c.CourseDirectory.source_directory = "solutions"  # instructor notebooks: solutions + hidden tests
# Plain `nbgrader generate_assignment` writes to release/ (ignored by git). Only
# `python -m autograder release` writes book/, the student edition the web book reads: it
# executes the solutions first, so the book keeps the reference run's figures.
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"

# The student edition keeps the outputs of narrative cells (figures and results of the reference
# run) and clears those of solution and test cells; see autograder/preprocessors.py.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ClearSolutions,
    ClearGradedOutputs,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

# Feedback shows, at the top, the score and each test's points, result and message (linked to
# the cell), then the notebook; never the hidden test code. The page is nbgrader's feedback
# template with MathJax inside it (math renders offline) and wrapping output lines.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
    ShortTracebacks,
    FeedbackSummary,
    OfflineMathJax,
    CSSHTMLHeaderPreprocessor,
]
# nbgrader sets template_name "feedback" itself; our page, given by its path, extends that
# template's index.html.j2.
c.GenerateFeedback.exporter_class = FeedbackExporter  # MathJax put in after the page is made
c.HTMLExporter.template_file = str(Path(__file__).resolve().parent / "templates" / "feedback.html.j2")
c.ClearHiddenTests.enforce_metadata = False  # autograded test cells are locked and checksummed

# Autograding runs each submission's kernel in the sandbox (autograder/sandbox.py: bubblewrap,
# a user of its own, limits on memory, processes and CPU) with a time limit per notebook and a
# cap on output; otherwise nbgrader's own steps.
c.Autograde.autograde_preprocessors = [
    GuardedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

