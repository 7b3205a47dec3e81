"""The commands of the student preface and the instructor guide work as written.

Every fenced ``bash`` block of book/preface.md and book/instructor_guide.md is run, in
document order, in a temporary copy of the repository whose course is cut down to chapter 1
(so that "release every chapter" takes seconds), with ``.venv/bin/`` standing for the
environment running the tests.  Only the blocks that install the environment (which
.ci/run itself does, with the same commands) or start an interactive server are left out,
each for a stated reason; any other block must run and exit 0, and what it should have made
(the student edition, grades.csv, feedback, the zip files, the LMS tables) is checked.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from autograder import course as cli
from autograder.collect import collect

REPO = cli.REPO
GUIDES = ["book/preface.md", "book/instructor_guide.md"]
CHAPTER = "ch01_input"
BIN = Path(sys.executable).parent

# (pattern, reason): blocks not run here, and why
NOT_RUN = [
    (re.compile(r"python3 -m venv|pip install"),
     "sets up the environment; .ci/run runs these very commands in a fresh virtual environment"),
    (re.compile(r"jupyter lab"), "starts an interactive server for a person"),
]


def bash_blocks(path: Path) -> list[str]:
    """The fenced ```bash blocks of a Markdown file, in order."""
    return re.findall(r"^```bash\n(.*?)^```", path.read_text(), flags=re.S | re.M)


def test_the_guides_have_commands():
    for guide in GUIDES:
        assert bash_blocks(REPO / guide), f"{guide} has no ```bash blocks"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the repository whose course has one chapter, plus an LMS download folder."""
    root = tmp_path_factory.mktemp("course") / "repo"
    ignore = shutil.ignore_patterns(".git", ".venv", "_build", "grading", "submitted",
                                    "downloads", "feedback_zips", ".pytest_cache",
                                    "__pycache__", "*.egg-info", ".ipynb_checkpoints")
    shutil.copytree(REPO, root, ignore=ignore)
    for folder in (root / "solutions").iterdir():
        if folder.is_dir() and folder.name != CHAPTER:
            shutil.rmtree(folder)
    downloads = root / "downloads"
    downloads.mkdir()
    # what Canvas's download would hold: Alice hands in the reference solution, Bob the blank
    # edition (saved by Jupyter as a copy)
    shutil.copy(REPO / "solutions" / CHAPTER / f"{CHAPTER}.ipynb",
                downloads / f"alice_101_9001_{CHAPTER}.ipynb")
    shutil.copy(REPO / "book" / CHAPTER / f"{CHAPTER}.ipynb",
                downloads / f"bob_102_9002_{CHAPTER}-Copy1.ipynb")
    return root


def run_block(block: str, cwd: Path) -> subprocess.CompletedProcess:
    script = re.sub(r"(?<![\w/.])\.venv/bin/", f"{BIN}/", block)
    start = time.perf_counter()
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    result.seconds = time.perf_counter() - start
    return result


@pytest.fixture(scope="module")
def ran(course) -> dict[str, list[tuple[str, subprocess.CompletedProcess | str]]]:
    """Run every block of every guide in order; guide -> [(block, result or reason)]."""
    results = {}
    for guide in GUIDES:
        results[guide] = []
        for block in bash_blocks(REPO / guide):
            reason = next((why for pattern, why in NOT_RUN if pattern.search(block)), None)
            results[guide].append((block, reason or run_block(block, course)))
    return results


def test_every_command_runs(ran):
    executed = 0
    for guide, blocks in ran.items():
        for block, result in blocks:
            if isinstance(result, str):
                print(f"{guide}: not run ({result}):\n{block}")
                continue
            executed += 1
            print(f"{guide}: ran in {result.seconds:.0f} s:\n{block}")
            assert result.returncode == 0, (f"{guide}: this block failed "
                                            f"(exit {result.returncode}):\n{block}\n"
                                            f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    assert executed >= 7, f"only {executed} blocks ran"


def test_validate_reports_the_blank_exercises(ran):
    (validate,) = [r for b, r in ran["book/preface.md"] if "nbgrader validate" in b]
    assert "VALIDATION FAILED" in validate.stdout + validate.stderr


def test_release_writes_the_student_edition(ran, course):
    edition = course / "book" / CHAPTER / f"{CHAPTER}.ipynb"
    assert edition.is_file()
    text = edition.read_text()
    assert "raise NotImplementedError()" in text
    for leak in ("BEGIN SOLUTION", "HIDDEN TESTS", "autograder.checks"):
        assert leak not in text


def test_collect_grade_feedback_export(ran, course):
    for student in ("alice", "bob"):
        assert (course / "submitted" / student / CHAPTER / f"{CHAPTER}.ipynb").is_file()
    rows = {r["student"]: r for r in csv.DictReader(open(course / "grading" / "grades.csv"))}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["status"] == rows["bob"]["status"] == "graded"
    maximum = float(rows["alice"]["max_score"])
    assert maximum > 0 and float(rows["alice"]["score"]) == maximum
    assert float(rows["bob"]["score"]) == 0
    questions = list(csv.DictReader(open(course / "grading" / "questions.csv")))
    assert {q["student"] for q in questions} == {"alice", "bob"}
    assert (course / "grading" / "report.md").is_file()
    assert (course / "grading" / "score_distribution.png").is_file()
    for student in ("alice", "bob"):
        assert (course / "grading" / "feedback" / student / CHAPTER / f"{CHAPTER}.html").is_file()
    assert json.loads((course / "submitted" / "collected.json").read_text()) == {
        f"alice/{CHAPTER}": f"alice_101_9001_{CHAPTER}.ipynb",
        f"bob/{CHAPTER}": f"bob_102_9002_{CHAPTER}-Copy1.ipynb"}
    with zipfile.ZipFile(course / "grading" / f"feedback_canvas_{CHAPTER}.zip") as z:
        assert sorted(z.namelist()) == [f"alice_101_9001_{CHAPTER}_feedback.html",
                                        f"bob_102_9002_{CHAPTER}_feedback.html"]
    table = list(csv.reader(open(course / "grading" / "canvas_grades.csv")))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert table[0][5].startswith(f"{CHAPTER} (") and len(table[0]) == 6
    assert table[1] == ["Points Possible", "", "", "", "", f"{maximum:g}"]
    assert [(row[2], row[5]) for row in table[2:]] == [("alice", f"{maximum:g}"), ("bob", "0")]
    moodle = list(csv.DictReader(open(course / "grading" / "moodle_grades.csv")))
    assert [m["ID number"] for m in moodle] == ["alice", "bob"]


def test_nbgrader_exchange_release_as_the_guide_writes_it(tmp_path):
    """The guide's `nbgrader release_assignment` (a text block: it needs the course's exchange
    folder) releases book/'s edition; plain generate_assignment is sent away from book/."""
    guide = (REPO / "book" / "instructor_guide.md").read_text()
    (block,) = [b for b in re.findall(r"^```text\n(.*?)^```", guide, flags=re.S | re.M)
                if "release_assignment" in b]
    words = block.replace("\\\n", " ").split()
    assert words[0] == "PYTHONPATH=." and words[1] == "nbgrader"
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    done = subprocess.run([str(BIN / "nbgrader"), *words[2:], f"--Exchange.root={exchange}",
                           f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}"],
                          cwd=REPO, env={**cli.instructor_env()}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (released,) = exchange.glob(f"*/outbound/{CHAPTER}/{CHAPTER}.ipynb")
    assert released.read_bytes() == (REPO / "book" / CHAPTER / f"{CHAPTER}.ipynb").read_bytes()
    config = cli.course_config(REPO)
    assert config.CourseDirectory.release_directory == "release"


def test_collect_places_an_lms_download(tmp_path):
    """File names as LMSs and Jupyter make them, with and without a roster."""
    edition = (REPO / "book" / CHAPTER / f"{CHAPTER}.ipynb").read_text()
    downloads = tmp_path / "downloads"
    files = {
        f"chenrich_1234_56789_{CHAPTER}-1.ipynb": "",            # Canvas
        f"Ada Lovelace_4321_assignsubmission_file_/{CHAPTER}-Copy1.ipynb": "",  # Moodle
        f"rich_chen_{CHAPTER}.ipynb": "newer",                     # plain, newer than Canvas's
        "bob_smith_homework.ipynb": "",                            # renamed: found by its ids
        "notes.ipynb": "not a notebook",                           # nothing to place
    }
    for k, (name, kind) in enumerate(files.items()):
        path = downloads / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kind if kind == "not a notebook" else edition)
        if kind == "newer":
            time.sleep(0.01)
    roster = [{"id": "rchen", "first_name": "Rich", "last_name": "Chen",
               "email": "rich_chen@example.org", "section": ""},
              {"id": "alove", "first_name": "Ada", "last_name": "Lovelace",
               "email": "ada@example.org", "section": ""},
              {"id": "bsmith", "first_name": "Bob", "last_name": "Smith",
               "email": "bob.smith@example.org", "section": ""}]
    placed, unplaced = collect(downloads, tmp_path / "by_roster", roster)
    assert {(s, c) for _, s, c in placed} == {("rchen", CHAPTER), ("alove", CHAPTER),
                                               ("bsmith", CHAPTER)}
    assert dict((s, p.name) for p, s, _ in placed)["rchen"] == f"rich_chen_{CHAPTER}.ipynb"
    assert [p.name for p, _ in unplaced] == ["notes.ipynb"]
    assert (tmp_path / "by_roster" / "alove" / CHAPTER / f"{CHAPTER}.ipynb").is_file()
    placed, _ = collect(downloads, tmp_path / "by_name", [])
    assert {s for _, s, _ in placed} == {"chenrich", "ada_lovelace", "rich_chen"}


def canvas_ids(name: str) -> tuple[str, str]:
    """(user id, file id) as Canvas's re-upload reads them: the first two number fields."""
    user, file, *_ = [field for field in Path(name).name.split("_") if field.isdigit()]
    return user, file


def moodle_ids(name: str) -> tuple[str, str]:
    """(participant id, plugin) as Moodle's feedback zip import reads them: a folder split
    on "_" into name, participant id, "assignsubmission", plugin, rest."""
    _, participant, kind, plugin, _ = name.split("/")[0].split("_", 4)
    assert kind == "assignsubmission" and participant.isdigit()
    return participant, plugin


def test_feedback_zips_are_named_for_each_lms(tmp_path, capsys):
    """Two downloads collected into one folder and a page per student (stand-ins: no grading);
    each LMS's zip names the pages it can match, by that LMS's own reading, and lists the rest."""
    from autograder.cli import main

    downloads = {  # download folder -> {file: chapter}
        "first": {"chenrich_1234_56789_ch01_input-1.ipynb": "ch01_input",        # Canvas
                  "smithbob_LATE_1235_56790_ch01_input.ipynb": "ch01_input",     # Canvas, late
                  "Ada Lovelace_4321_assignsubmission_file_/ch01_input.ipynb": "ch01_input",
                  "rich_chen_ch01_input.ipynb": "ch01_input"},                   # no LMS's
        "second": {"chenrich_1234_60001_ch02_c1.ipynb": "ch02_c1"},
    }
    submitted, out = tmp_path / "submitted", tmp_path / "grading"
    for folder, files in downloads.items():
        for name, chapter in files.items():
            (tmp_path / folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / "book" / chapter / f"{chapter}.ipynb", tmp_path / folder / name)
        collect(tmp_path / folder, submitted, [])
    collected = json.loads((submitted / "collected.json").read_text())
    assert collected == {  # the second collect added to the first's
        "chenrich/ch01_input": "chenrich_1234_56789_ch01_input-1.ipynb",
        "smithbob/ch01_input": "smithbob_LATE_1235_56790_ch01_input.ipynb",
        "ada_lovelace/ch01_input": "Ada Lovelace_4321_assignsubmission_file_/ch01_input.ipynb",
        "rich_chen/ch01_input": "rich_chen_ch01_input.ipynb",
        "chenrich/ch02_c1": "chenrich_1234_60001_ch02_c1.ipynb"}
    for key in [*collected, "walkin/ch01_input"]:  # walkin was put in submitted/ by hand
        page = out / "feedback" / key / f"{key.split('/')[1]}.html"
        page.parent.mkdir(parents=True)
        page.write_text(key)

    zips, pages, left_out = {}, {}, {}
    for lms in ("canvas", "moodle"):
        assert main(["feedback", str(out), "--to", lms,
                     "--collected", str(submitted / "collected.json")]) == 1
        left_out[lms] = {line.split()[4].rstrip(":") for line in
                         capsys.readouterr().out.splitlines() if line.startswith("NOT IN A ZIP")}
        zips[lms], pages[lms] = {}, {}
        for path in sorted(out.glob(f"feedback_{lms}_*.zip")):
            with zipfile.ZipFile(path) as z:
                zips[lms][path.name] = sorted(z.namelist())
                pages[lms].update({name: z.read(name).decode() for name in z.namelist()})
    assert zips["canvas"] == {
        "feedback_canvas_ch01_input.zip": ["chenrich_1234_56789_ch01_input_feedback.html",
                                           "smithbob_LATE_1235_56790_ch01_input_feedback.html"],
        "feedback_canvas_ch02_c1.zip": ["chenrich_1234_60001_ch02_c1_feedback.html"]}
    assert zips["moodle"] == {"feedback_moodle_ch01_input.zip": [
        "Ada Lovelace_4321_assignsubmission_file_/ch01_input_feedback.html"]}
    everyone = {*collected, "walkin/ch01_input"}
    for lms in ("canvas", "moodle"):  # every page in one zip or listed, never both
        assert left_out[lms] == everyone - set(pages[lms].values())
    assert left_out["canvas"] == {"ada_lovelace/ch01_input", "rich_chen/ch01_input",
                                  "walkin/ch01_input"}
    # the LMS's own reading of each name finds the ids of that student's download
    for name, key in pages["canvas"].items():
        assert canvas_ids(name) == canvas_ids(collected[key])
    for name, key in pages["moodle"].items():
        assert moodle_ids(name) == moodle_ids(collected[key]) == ("4321", "file")
