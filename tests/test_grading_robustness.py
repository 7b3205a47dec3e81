"""What an instructor trusts when grading a class: each bad or adversarial submission of
tests/corpus gets the grade it earned and the reason, every submission gets a row, the
gradebook, CSVs and report agree, the sandbox holds, and validate runs what the grader runs."""
from __future__ import annotations

import csv
import html
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import course as cli
from autograder.cli import main as cli_main
from autograder.validation import validate
from autograder.preprocessors import GuardedExecute
from conftest import SELECTED, needs
from corpus import CORPUS, blank, lean, replace
from faulty_ch01_input import ZERO_PADDING


def _feedback(out, student, chapter):
    (page,) = (out / "feedback" / student / chapter).glob("*.html")
    return page.read_text()


def _csv(path):
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("student", sorted(CORPUS))
def test_corpus_submission_earns_its_grade_with_its_reason(graded_class, student):
    out, results = graded_class
    case = CORPUS[student]
    r = results[student, case.chapter]
    expected = {"full": r.max_score, "zero": 0}.get(case.expect)
    if case.expect == "twin":
        expected = results[f"{student}__twin", case.chapter].score
    assert (r.status, r.score) == (case.status, expected), r.reason
    assert case.reason in r.reason
    page = _feedback(out, student, case.chapter)
    assert html.escape(case.feedback, quote=False) in page or case.feedback in page
    if case.absent:
        assert case.absent not in page and html.escape(case.absent) not in page
    if case.status != "graded":
        assert html.escape(r.reason) in page


def test_grades_csv_questions_csv_and_gradebook_agree(graded_class):
    from nbgrader.api import Gradebook

    out, results = graded_class
    rows = {(row["student"], row["chapter"]): row for row in _csv(out / "grades.csv")}
    assert set(rows) == set(results)
    per_question = {}
    for q in _csv(out / "questions.csv"):
        per_question.setdefault((q["student"], q["chapter"]), []).append(float(q["score"]))
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for key, r in results.items():
            assert float(rows[key]["score"]) == r.score and rows[key]["status"] == r.status
            if r.max_score:  # a known chapter: in the gradebook, graded or with 0
                assert gb.find_submission(r.chapter, r.student).score == r.score, key
                assert sum(per_question[key]) == r.score, key


def test_report_has_every_chapter_and_the_plot(graded_class):
    out, results = graded_class
    needs("ch01_input")
    report = (out / "report.md").read_text()
    for chapter in {r.chapter for r in results.values() if r.max_score}:
        assert f"| {chapter} |" in report
    assert "read_idx_hidden" in report and "duplicates_a_test" in report
    assert (out / "score_distribution.png").read_bytes()[:4] == b"\x89PNG"


def test_no_feedback_page_shows_hidden_test_code(graded_class):
    out, _ = graded_class
    pages = list((out / "feedback").rglob("*.html"))
    assert len(pages) >= sum(case.chapter in SELECTED for case in CORPUS.values())
    for page in pages:
        text = page.read_text()
        assert "HIDDEN TESTS" not in text and "from autograder.checks" not in text, page
        assert "def check_" not in text and "check_array(what" not in text, page


def test_megabytes_of_output_are_not_kept(graded_class):
    out, _ = graded_class
    needs("ch01_input")
    (notebook,) = (out / "autograded" / "prints_megabytes" / "ch01_input").glob("*.ipynb")
    assert notebook.stat().st_size < 1_000_000


# ------------------------------------------------------------------------------ sandbox

FILL = """
import itertools
written = 0
try:
    for k in itertools.count():
        with open("PLACE/fill%d" % k, "wb") as f:
            for _ in range(64):
                f.write(b"x" * (1 << 20))
                written += 1
finally:
    print(written, "MB written")
"""
PROBES = {
    "solutions": "assert not os.path.exists({solutions!r})",
    "other files": "open({secret!r})",
    "repository": "open({repo!r} + '/lenet5/planted.py', 'w')",
    "grader": "import autograder",
    "reference model": "import reference",
    "judge's folder": "import glob\nopen(glob.glob({kernels!r} + '/*/judge')[0] + '/x', 'w')",
    "user": "assert os.getuid() != 0",
    "matplotlib's font list": "import glob\nopen(glob.glob('/tmp/matplotlib/fontlist-*')[0], 'a')",
    "network": "import socket\nsocket.create_connection(('pypi.org', 443), timeout=3)",
    "processes": ("pids = []\nfor _ in range(500):\n    pid = os.fork()\n    if pid == 0:\n"
                  "        os._exit(0)\n    pids.append(pid)"),
    "memory": "big = np.ones(10**9)",
    "fills /tmp": FILL.replace("PLACE", "/tmp"),
    "fills home": FILL.replace("PLACE", "."),
    "fills the sockets' folder": FILL.replace("PLACE", "/kernel"),
    "time": "while True:\n    pass",
    "still alive": "print('alive')",
}
EXPECTED_ERRORS = {"other files": "FileNotFoundError", "repository": "OSError",
                   "grader": "ModuleNotFoundError", "reference model": "ModuleNotFoundError",
                   "judge's folder": "OSError", "matplotlib's font list": "OSError",
                   "network": "OSError",
                   "processes": "BlockingIOError", "memory": "MemoryError",
                   "fills /tmp": "OSError", "fills home": "OSError",
                   "fills the sockets' folder": "OSError", "time": "TimeoutError"}


def _size(folder) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.skipif(os.geteuid() != 0, reason="the kernel's own user needs root")
def test_sandbox_holds_against_a_hostile_kernel(tmp_path):
    import shutil
    import tempfile

    from traitlets.config import Config

    secret = tmp_path / "other_student" / "ch01_input.ipynb"
    secret.parent.mkdir()
    secret.write_text("{}")
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    host_tmp = set(os.listdir(tempfile.gettempdir()))
    free = shutil.disk_usage(tempfile.gettempdir()).free
    values = {"solutions": str(cli.SOLUTIONS), "secret": str(secret), "repo": str(cli.REPO),
              "kernels": str(kernels)}
    nb = new_notebook(cells=[new_code_cell("import os\nimport numpy as np")] +
                      [new_code_cell(code.format(**values)) for code in PROBES.values()])
    config = Config()
    config.SandboxedKernelManager.workdir = str(kernels)
    nb, _ = GuardedExecute(timeout=5, config=config).preprocess(
        nb, {"metadata": {"path": str(tmp_path)}})
    for name, cell in zip(["imports", *PROBES], nb.cells):
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        expected = EXPECTED_ERRORS.get(name)
        if expected == "OSError":
            assert errors and errors[0] in ("OSError", "PermissionError", "socket.gaierror",
                                            "gaierror", "FileNotFoundError"), (name, errors)
        else:
            assert (expected in errors) if expected else not errors, (name, cell.outputs)
    assert nb.cells[-1].outputs[0].text == "alive\n"
    # Everything the kernel wrote went with its sandbox: the host kept nothing of it.
    assert _size(kernels) < 1 << 20 and not list(kernels.iterdir())
    assert not list(tmp_path.glob("**/fill*"))
    assert not [p for p in set(os.listdir(tempfile.gettempdir())) - host_tmp
                if p.startswith("lenet5-kernel-")]
    assert shutil.disk_usage(tempfile.gettempdir()).free > free - (256 << 20)  # 577 MB tried


# ----------------------------------------------------------------------------- validate

def _validate(tmp_path, nb, name="ch01_input.ipynb"):
    path = tmp_path / "ch01_input" / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        nbformat.write(nb, path)
    return validate(path, cell_timeout=20)


def test_validate_runs_the_visible_tests_as_the_grader_does(tmp_path, graded_class):
    out, _ = graded_class
    needs("ch01_input")
    code, text = _validate(tmp_path, lean("ch01_input"))
    assert code == 0 and "all visible tests pass" in text
    assert "hidden  read_idx_hidden" in text

    code, text = _validate(tmp_path, replace(to_lenet_input=ZERO_PADDING)(lean("ch01_input")))
    assert code == 1
    failed = {line.split()[1] for line in text.splitlines() if line.strip().startswith("FAILED")}
    assert failed == {"to_lenet_input_visible"}
    assert "must be -0.1, not 0" in text
    graded = {q["question"] for q in _csv(out / "questions.csv")
              if q["student"] == "edits_tests" and float(q["score"]) < float(q["max_score"])}
    assert failed < graded  # the grader fails the same visible test of the same code


def test_validate_finds_a_renamed_notebook_and_says_to_rename_it(tmp_path):
    code, text = _validate(tmp_path, lean("ch01_input"), name="ch01_input-Copy1.ipynb")
    assert code == 0 and "rename it ch01_input.ipynb" in text, text
    assert "Ctrl-C" not in text  # only results, no kernel banner


def test_validate_judges_outside_the_notebook(tmp_path):
    case = CORPUS["aliased_sys"]  # rebinds the visible checks' helpers in the kernel
    code, text = _validate(tmp_path, case.make(blank("ch01_input")))
    assert code == 1 and "FAILED  to_lenet_input_visible" in text
    code, text = _validate(tmp_path, b"{ not json")
    assert code == 1 and "would not be graded" in text and "invalid JSON" in text


def test_validate_command_line(tmp_path):
    path = tmp_path / "ch01_input" / "ch01_input.ipynb"
    path.parent.mkdir()
    path.write_text("")
    assert cli_main(["validate", str(path)]) == 1


def test_each_notebook_gets_a_judge_of_its_own_even_after_the_judge_server_died(tmp_path):
    import json
    import select

    from autograder.preprocessors import ForkedJudge, judge_server

    def ready(judge) -> bool:
        waiting, _, _ = select.select([judge.stdout], [], [], 60)
        return bool(waiting) and json.loads(judge.stdout.readline()) == {"ready": True}

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = ForkedJudge("ch01_input", tmp_path / "one")
    assert ready(first)
    judge_server().process.kill()  # as if the system had ended it
    judge_server().process.wait()
    second = ForkedJudge("ch01_input", tmp_path / "two")
    assert ready(second) and second.pid != first.pid
    for judge in (first, second):  # each ends with its notebook
        judge.stop()
        assert _ends(judge.pid)


def _ends(pid: int, seconds: float = 5) -> bool:
    """Whether process ``pid`` is gone (or a zombie) within ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_new_gradebook_has_the_schema_version_nbgrader_would_write(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'gradebook.db'}") as ini:
        heads = subprocess.check_output([Path(sys.executable).parent / "alembic", "-c", ini,
                                         "heads"], text=True)
    assert cli.alembic_head() == heads.split()[0]


def test_a_dead_kernel_is_told_which_limit_ended_it(tmp_path):
    """The reason a student reads comes from how the kernel's process ended."""
    import subprocess
    import sys
    from types import SimpleNamespace

    from autograder.kernel import SandboxedKernelManager

    def ended(code: str) -> str:
        process = subprocess.Popen([sys.executable, "-c", code])
        process.wait(timeout=60)
        km = SimpleNamespace(provisioner=SimpleNamespace(process=process), memory_mb=512,
                             max_processes=64, cpu_seconds=1)
        return SandboxedKernelManager.exit_reason(km)

    spin = "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (1, 6))\nwhile True: pass"
    assert "used up the CPU time the whole notebook may use (1 s)" in ended(spin)
    assert "killed (SIGKILL)" in ended("import os; os.kill(os.getpid(), 9)")
    assert "512 MB of memory" in ended("import os; os.kill(os.getpid(), 9)")
    assert "exit status 3" in ended("import os; os._exit(3)")


# ------------------------------------------------------------------------- a course's term

def test_a_term_with_due_dates_extensions_and_a_roster(tmp_path):
    """On time, late, late but within an extension, not handed in, and not on the roster:
    nbgrader's lateness from timestamp.txt, the term's penalty, a row for every student.
    (The test's long folder name also makes the judge's socket path longer than a Unix
    socket address may be: grading must not depend on where the output folder is.)"""
    import shutil

    from autograder.grading import grade
    from autograder.term import read_term
    from conftest import notebook_of, submit

    needs("ch01_input")
    solution = notebook_of(cli.SOLUTIONS, "ch01_input")
    submitted = tmp_path / "submitted"
    stamps = {"ontime": "2027-01-22 20:00:00 UTC", "late": "2027-01-24 10:30:00 UTC",
              "extended": "2027-01-24 10:30:00 UTC", "stranger": "2027-01-22 20:00:00 UTC"}
    for student, stamp in stamps.items():
        folder = submit(submitted, student, "ch01_input", solution).parent
        (folder / "timestamp.txt").write_text(stamp)
    (tmp_path / "roster.csv").write_text(
        "id,first_name,last_name,email,section\n"
        "ontime,Ada,On,ada@example.org,A\nlate,Lee,Late,lee@example.org,A\n"
        "extended,Eve,Ext,eve@example.org,B\nabsent,Abe,Sent,abe@example.org,B\n")
    (tmp_path / "course.toml").write_text(
        'roster = "roster.csv"\n[due]\nch01_input = "2027-01-23T00:00:00+01:00"\n'
        '[extensions.extended]\nch01_input = 48\n'
        '[late]\npenalty_per_day = 0.1\ndays_accepted = 5\n')
    out = tmp_path / "grading"
    code = cli_main(["grade", str(submitted), "-o", str(out), "--cell-timeout", "20",
                     "--course", str(tmp_path / "course.toml")])
    assert code == 0
    rows = {r["student"]: r for r in _csv(out / "grades.csv")}
    assert set(rows) == {"ontime", "late", "extended", "stranger", "absent"}
    # due 2027-01-22 23:00 UTC; handed in 2027-01-24 10:30 UTC: 35.5 h late, 2 started days
    assert (rows["late"]["late_hours"], rows["late"]["penalty"], rows["late"]["score"]) == \
        ("35.5", "2", "8")
    assert (rows["ontime"]["score"], rows["ontime"]["penalty"]) == ("10", "0")
    assert (rows["extended"]["score"], rows["extended"]["late_hours"]) == ("10", "0")
    assert (rows["absent"]["status"], rows["absent"]["score"]) == ("missing", "0")
    assert "not on the roster" in rows["stranger"]["reason"]
    page = (out / "feedback" / "late" / "ch01_input" / "ch01_input.html").read_text()
    assert "Your score: 8 of 10 points" in page and "Handed in late" in page
    report = (out / "report.md").read_text()
    assert "| late | 8 (late, -2) | 8 / 10 | 0 | 1 |" in report
    assert "| absent | missing | 0 / 10 | 1 | 0 |" in report
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_student("absent").email == "abe@example.org"
        assert gb.find_submission("ch01_input", "late").late_submission_penalty == 2
    assert read_term(tmp_path / "course.toml").extension("extended", "ch01_input") == 48

    # The late student hands in again, on time now, and a newcomer arrives: grading the
    # folder again grades exactly those two and keeps everything else as it was.
    kept_page = out / "feedback" / "ontime" / "ch01_input" / "ch01_input.html"
    mtime = kept_page.stat().st_mtime_ns
    (submitted / "late" / "ch01_input" / "timestamp.txt").write_text("2027-01-22 21:00:00 UTC")
    submit(submitted, "newcomer", "ch01_input", solution)
    shutil.rmtree(submitted / "stranger")  # graded last time, not in this batch: stays
    results = grade(submitted, out, cell_timeout=20,
                    term=read_term(tmp_path / "course.toml"))
    graded_now = {r.student for r in results if not r.kept and r.status != "missing"}
    assert graded_now == {"late", "newcomer"}
    rows = {r["student"]: r for r in _csv(out / "grades.csv")}
    assert set(rows) == {"ontime", "late", "extended", "stranger", "absent", "newcomer"}
    assert (rows["late"]["score"], rows["late"]["penalty"]) == ("10", "0")
    assert rows["stranger"]["reason"] == "not on the roster"  # said once, however often graded
    assert kept_page.stat().st_mtime_ns == mtime
    assert {q["student"] for q in _csv(out / "questions.csv")} >= {"ontime", "newcomer"}
    # the LMS tables, read back the way Canvas reads its import: the header names the
    # assignments, a "Points Possible" row, then students matched by SIS User ID
    assert cli_main(["export", str(out), "--to", "canvas",
                     "--course", str(tmp_path / "course.toml")]) == 0
    header, points, *students = list(csv.reader((out / "canvas_grades.csv").open()))
    (assignment,) = header[5:]
    assert assignment.startswith("ch01_input (") and points[0] == "Points Possible"
    by_sis = {row[2]: dict(zip(header, row)) for row in students}
    assert set(by_sis) == {"ontime", "late", "extended", "absent"}  # the roster, not more
    assert (by_sis["late"]["Student"], by_sis["late"][assignment], points[5]) == \
        ("Late, Lee", "10", "10")
    assert by_sis["absent"][assignment] == "0" and by_sis["absent"]["Section"] == "B"
    assert cli_main(["export", str(out), "--to", "moodle",
                     "--course", str(tmp_path / "course.toml")]) == 0
    moodle = {m["Email address"]: m for m in _csv(out / "moodle_grades.csv")}
    assert moodle["eve@example.org"][assignment] == "10"
    # nothing changed: nothing is graded again
    assert all(r.kept or r.status == "missing" for r in grade(
        submitted, out, cell_timeout=20, term=read_term(tmp_path / "course.toml")))


def test_a_manual_review_survives_regrading(tmp_path):
    """An instructor reviews a submission in formgrader (`python -m autograder review`): the
    manual score and comment reach grades.csv, the feedback and the LMS export, survive
    grading again (`--regrade` too), and are dropped, with a reason, once the files change."""
    import json
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from autograder.grading import grade
    from autograder.term import Term
    from conftest import notebook_of, submit

    needs("ch01_input")
    submitted, out = tmp_path / "submitted", tmp_path / "grading"
    bob = submit(submitted, "bob", "ch01_input", notebook_of(cli.BOOK, "ch01_input"))
    (bob.parent / "timestamp.txt").write_text("2027-01-22 20:00:00 UTC")  # as nbgrader's
    (bob.parent / "submission_secret.txt").write_text("0123abcd")          # submit writes
    grade(submitted, out, cell_timeout=20, term=Term())

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "autograder", "review", str(out), "--port", str(port),
         "--no-browser"], cwd=cli.REPO, env={**cli.instructor_env(), "JUPYTER_TOKEN": "t0k"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def api(path, data=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/formgrader/api/{path}", method="GET" if data is None
            else "PUT", data=None if data is None else json.dumps(data).encode(),
            headers={"Authorization": "token t0k"})
        return json.loads(urllib.request.urlopen(request, timeout=60).read())

    try:
        for _ in range(120):
            try:
                assert api("status") == {"status": True}
                break
            except OSError:
                time.sleep(0.5)
        notebooks = api("submitted_notebooks/ch01_input/ch01_input")
        (submission,) = [n["id"] for n in notebooks if n["student"] == "bob"]
        grades = {g["name"]: g for g in api(f"grades?submission_id={submission}")}
        comments = {c["name"]: c for c in api(f"comments?submission_id={submission}")}
        question = next(name for name, g in grades.items() if g["max_score"] >= 2)
        api(f"grade/{grades[question]['id']}", {"manual_score": 2, "extra_credit": 0})
        api(f"comment/{next(iter(comments.values()))['id']}",  # comments go on answers
            {"manual_comment": "Your reader is right; the test used an old file."})
    finally:
        server.send_signal(signal.SIGINT)
        log = server.communicate(timeout=120)[0]
    assert server.returncode == 0, log
    assert "updated" in log

    def bob_row():
        return next(r for r in _csv(out / "grades.csv") if r["student"] == "bob")

    def bob_page():
        return _feedback(out, "bob", "ch01_input")

    assert (bob_row()["score"], bob_row()["manual"]) == ("2", "2")
    assert "the test used an old file" in bob_page()
    assert "| bob | 2 (reviewed, +2) |" in (out / "report.md").read_text()
    assert cli_main(["export", str(out), "--to", "canvas", "--course",
                     str(tmp_path / "no_term.toml")]) == 0
    canvas = {row["SIS User ID"]: row for row in _csv(out / "canvas_grades.csv")}
    assert [v for k, v in canvas["bob"].items() if k.startswith("ch01_input")] == ["2"]
    # nbgrader's own commands, run in the grading folder, work on its gradebook
    env = {**cli.instructor_env(), "PATH": f"{os.path.dirname(sys.executable)}:"
                                            f"{os.environ['PATH']}"}

    def nbgrader(*args):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=out, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-2000:]

    nbgrader("export", "--to", "nbgrader_grades.csv")
    exported = {r["student_id"]: r for r in _csv(out / "nbgrader_grades.csv")}
    assert float(exported["bob"]["score"]) == 2
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    nbgrader("release_feedback", "ch01_input", f"--Exchange.root={exchange}")
    assert len(list(exchange.glob("lenet5/feedback/*.html"))) == 1

    # grading again, even afresh, keeps the review of the same files
    grade(submitted, out, cell_timeout=20, term=Term(), regrade=True)
    assert (bob_row()["score"], bob_row()["manual"]) == ("2", "2")
    assert "the test used an old file" in bob_page()
    # new files: the review was of other work
    nb = nbformat.read(bob, as_version=4)
    nb.cells.append(new_code_cell("x = 1"))
    nbformat.write(nb, bob)
    grade(submitted, out, cell_timeout=20, term=Term())
    assert (bob_row()["score"], bob_row()["manual"]) == ("0", "0")
    assert "the review was dropped" in bob_row()["reason"]
    assert "the test used an old file" not in bob_page()


def test_an_edited_exercise_does_not_blame_work_made_from_the_earlier_release():
    """The instructor changes a test and its points after releasing: a submission made from
    the earlier edition is graded with the current test, and its notes say the release
    changed, not that the student edited anything."""
    import copy

    from autograder import integrity

    path = cli.BOOK / "ch01_input" / "ch01_input.ipynb"
    current = nbformat.read(path, as_version=4)
    stamp = current.metadata["lenet5"]["release"]
    found = integrity._edition("ch01_input", stamp)  # from git's history of book/
    assert found is not None and found.metadata["lenet5"]["release"] == stamp
    earlier = copy.deepcopy(current)
    tests = [c for c in earlier.cells if c.metadata.get("nbgrader", {}).get("grade") and
             not c.metadata["nbgrader"].get("solution")]
    tests[0].source += "\nassert True  # the old version"
    tests[1].metadata["nbgrader"]["points"] += 1
    added = tests[2].metadata["nbgrader"]["grade_id"]
    earlier.cells.remove(tests[2])  # a test the current release added
    student = copy.deepcopy(earlier)
    _, notes = integrity.restore_structure(student, current, earlier)
    assert len(notes) == 3 and not any("was edited" in n or "was deleted" in n for n in notes)
    assert f"test cell '{added}' is new since your copy was released: it was added" in notes
    # the same differences in work made from the current edition are the student's
    _, notes = integrity.restore_structure(student, current, None)
    assert sum("was edited" in n or "was deleted" in n or "was changed" in n
               for n in notes) == 3


def test_an_endless_answer_costs_a_time_limit_once(graded_class):
    """A function that never returns stops its first cell at the limit; a later cell that
    calls it gets a short limit, and says why, instead of a full limit again."""
    needs("ch01_input")
    out, results = graded_class
    page = html.unescape(_feedback(out, "loops_in_function", "ch01_input"))
    assert "time limit of 20 s" in page
    assert "to_lenet_input ran past the time limit in an earlier cell, so this cell had 10 s" \
        in page
