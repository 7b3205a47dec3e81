"""Grading a class: on Dask workers, each kernel sandboxed, every submission a row.

The client (this process) registers the chapters in the gradebook, checks each submission
(``autograder.integrity``: readable, released structure restored) and stages it; Dask workers
(``autograder.cluster``: a local cluster, or an existing one) then autograde the staged
submissions, each running nbgrader's own autograde and feedback for one submission at a time,
on a private copy of the empty gradebook, with the kernel in the sandbox of its grading slot
(``autograder.sandbox``). Only the client writes the course's gradebook: it records each
autograded notebook with nbgrader's SaveAutoGrades, one after the other, so the gradebook is
exactly what serial nbgrader would have written. A submission whose grading failed everywhere
(a worker crashing on it each time) gets score 0 and the reason.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import json
import shutil
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_markdown_cell
from tqdm import tqdm

from autograder import integrity, report, review
from autograder.release import fingerprint
from autograder.term import Term, configure, read_term
from autograder.course import (BOOK, SOLUTIONS, Result, chapters, course_config,
                               check_success as _check, nbgrader_api as _api)

FOLDERS = ("autograded", "feedback", "logs", "release", "staged", "work")
STATE = "graded.json"  # the hash of each submission's files when it was graded
# seconds per graded submission, in logs/timings.csv: running the notebook's cells; its
# longest cell; all of the execution (kernel and judge start and stop too); nbgrader's
# autograde around it; the feedback page; the worker's whole task (unpacking, the gradebook
# copy, packing results)
TIMINGS = ("cells", "longest_cell", "execute", "autograde", "feedback", "task")



def grade(submitted: Path, out: Path, cell_timeout: int | None = None, *,
          jobs: int | None = None, scheduler: str | None = None,
          notebook_timeout: int = 900, memory_mb: int = 4096, sandbox: bool = True,
          term: Term | None = None, regrade: bool = False,
          progress: bool = False) -> list[Result]:
    """Autograde every ``submitted/<student>/<chapter>/``; one Result per pair, in order.

    ``term`` (default: ``course.toml``, see ``autograder.term``) gives the due dates,
    extensions and late policy, applied by nbgrader from each submission's ``timestamp.txt``,
    and the roster: every student of the roster gets a row ("missing") for every chapter that
    is due or handed in.

    Grading merges into ``out``: a submission whose files, and whose chapter's release
    fingerprint (checks, solutions, helpers), are those it was graded from keeps its results
    (``kept``), the others are graded again, and results of
    submissions not in ``submitted`` stay as they were. ``regrade`` starts afresh.

    Writes ``out/gradebook.db``, ``out/autograded``,
    ``out/feedback/<student>/<chapter>/*.html``, ``out/grades.csv``, ``out/questions.csv``
    and ``out/report.md`` with
    ``out/score_distribution.png``. ``scheduler`` (``tcp://HOST:PORT``) grades on that Dask
    cluster; by default a local one of ``jobs`` workers (default: one per core);
    ``progress`` shows a bar on the terminal (notebooks done, failures, time left).
    """
    from autograder import cluster, sandbox as sandbox_module

    submitted, out = submitted.resolve(), out.resolve()
    if not submitted.is_dir():
        raise FileNotFoundError(f"no such folder of submissions: {submitted}")
    if sandbox and not sandbox_module.available():
        raise RuntimeError("bubblewrap is needed to sandbox the kernels: apt-get install "
                           "bubblewrap (or grade with --no-sandbox, resource limits only)")
    # the workers get ready while the submissions are prepared here
    warming = threading.Thread(target=cluster.warm_up, args=(scheduler, jobs), daemon=True)
    if any(p.is_dir() for p in submitted.glob("*/*")):
        warming.start()
    course_id = course_config(out).CourseDirectory.course_id
    reviews = review.saved(f"sqlite:///{out / 'gradebook.db'}", course_id,
                           json.loads((out / STATE).read_text()) if (out / STATE).is_file() else {})
    if regrade:
        for folder in FOLDERS:
            shutil.rmtree(out / folder, ignore_errors=True)
        for name in ("gradebook.db", "grades.csv", STATE):
            (out / name).unlink(missing_ok=True)
    for folder in ("release", "staged", "work"):  # this run's own
        shutil.rmtree(out / folder, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    before, hashes = _previous(out)
    term = read_term() if term is None else term
    config = _config(out)
    configure(config, term)
    api = _api(config)
    known = chapters()
    handed_in = {p.name for p in submitted.glob("*/*") if p.is_dir()}
    registered = sorted((handed_in | set(term.due) | {c for _, c in before}) & set(known))
    for chapter in registered:
        _check(api.generate_assignment(chapter, force=True), f"registering {chapter}")
    _register_term(api, term, registered)
    template = out / "work" / "template.db"
    template.parent.mkdir()
    shutil.copyfile(out / "gradebook.db", template)

    results, tasks = [], []
    # a chapter whose checks, solutions or helpers changed is graded again
    stamps = {chapter: fingerprint(chapter) for chapter in registered}
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            key = (student_dir.name, chapter_dir.name)
            digest = folder_hash(chapter_dir) + ":" + stamps.get(key[1], "")
            if hashes.get("/".join(key)) == digest and key in before:
                results.append(before[key])  # unchanged since it was graded
                results[-1].kept = True
                continue
            hashes["/".join(key)] = digest
            for folder in ("autograded", "feedback"):
                shutil.rmtree(out / folder / key[0] / key[1], ignore_errors=True)
            _failure_log(out, *key).unlink(missing_ok=True)
            result, task = _prepare(student_dir.name, chapter_dir, known, out)
            results.append(result)
            if task:
                task["extension_hours"] = term.extension(result.student, result.chapter)
                tasks.append((result, task))
    now = {(r.student, r.chapter) for r in results}
    for key, r in before.items():
        if key not in now and r.status != "missing":  # not in this batch: as it was
            r.kept = True
            results.append(r)
    results += _missing(results, term, registered, out)

    settings = {"cell_timeout": cell_timeout or config.Execute.timeout,
                "notebook_timeout": notebook_timeout, "memory_mb": memory_mb,
                "sandbox": sandbox, "late": [term.penalty_per_day, term.days_accepted]}
    def record(k: int, outcome: dict) -> None:  # as each submission comes back
        result, task = tasks[k]
        _record(api, result, task, outcome)
        if result.status == "graded":  # a review of these same files is kept
            files = hashes["/".join((result.student, result.chapter))].split(":")[0]
            if review.restore(api.coursedir.db_url, course_id, result,
                              reviews.get((result.student, result.chapter)), files):
                api.generate_feedback(result.chapter, result.student, force=True)

    with warnings.catch_warnings():  # nbgrader's SQLAlchemy use warns on new submissions
        warnings.simplefilter("ignore")
        if tasks:
            if warming.ident:
                warming.join()
            _run(tasks, out, settings, scheduler, jobs, progress, record)
        for result in results:
            if result.kept:
                continue
            if result.status == "error" and result.max_score:
                _record_zero(api, result)
            if result.status == "error":
                report.error_feedback(out / "feedback" / result.student / result.chapter, result)
    results.sort(key=lambda r: (r.student, r.chapter))
    review.rescore(api.coursedir.db_url, course_id, results)
    review.write_config(out, submitted)
    report.write_all(out, results, api.coursedir.db_url)
    (out / STATE).write_text(json.dumps(hashes, indent=0, sort_keys=True))
    for folder in ("staged", "work"):
        shutil.rmtree(out / folder, ignore_errors=True)
    return results


def _run(tasks: list, out: Path, settings: dict, scheduler: str | None, jobs: int | None,
         progress: bool, record: Callable[[int, dict], None]) -> None:
    """Grade the staged ``tasks`` on Dask (``autograder.cluster``); write what comes back
    (autograded notebook, feedback, a log of a failure) into ``out``, and ``record`` each
    outcome (``tasks[k]``, outcome) in the gradebook while the others are graded."""
    from autograder import cluster

    client = cluster.connect(scheduler, jobs)
    try:
        workers, refused = cluster.capable_workers(client, settings["sandbox"])
        for worker, why in refused.items():
            print(f"worker {worker} will not grade: {why}", file=sys.stderr)
        if not workers:
            raise RuntimeError("no worker can sandbox the kernels (see above); grade with "
                               "--no-sandbox only if you trust the code")
        if progress and client.dashboard_link:
            print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr)
        failed = [0]
        (out / "logs").mkdir(exist_ok=True)
        timings, header = out / "logs" / "timings.csv", ",".join(["student", "chapter",
                                                                     "worker", *TIMINGS])
        if not timings.is_file() or timings.read_text().partition("\n")[0] != header:
            timings.write_text(header + "\n")  # a new file, or one of an earlier version

        def done(k: int, outcome: dict) -> None:
            task = tasks[k][1]
            where = (task["student"], task["chapter"])
            cluster.write_folder(out / "autograded" / where[0] / where[1],
                                 outcome.pop("autograded", {}))
            cluster.write_folder(out / "feedback" / where[0] / where[1],
                                 outcome.pop("feedback", {}))
            with timings.open("a") as f:  # where the time went
                seconds = outcome.get("seconds", {})
                f.write(",".join([*where, outcome.get("worker", "")] +
                                 [f"{seconds.get(name, 0):.2f}" for name in TIMINGS]) + "\n")
            if not outcome["success"]:  # the reason, for the instructor
                failed[0] += 1
                _failure_log(out, *where).write_text(
                    f"{outcome.get('worker', '')}: {outcome.get('error')}\n")
            record(k, outcome)
            bar.set_postfix(failed=failed[0], refresh=False)
            bar.update(1)

        with tqdm(total=len(tasks), unit="notebook", disable=not progress, smoothing=0.1,
                  desc="grading") as bar:
            cluster.run(
                client, [task for _, task in tasks],
                [cluster.read_folder(out / "staged" / t["student"] / t["chapter"])
                 for _, t in tasks],
                (out / "work" / "template.db").read_bytes(), settings, workers, done)
    finally:
        cluster.close(client)


def _failure_log(out: Path, student: str, chapter: str) -> Path:
    """Where the reason a submission's grading failed is kept, for the instructor."""
    return out / "logs" / f"{student}--{chapter}.txt"


def folder_hash(folder: Path) -> str:
    """A hash of the files of a submission's folder (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _previous(out: Path) -> tuple[dict, dict]:
    """What an earlier run left in ``out``: its results by (student, chapter), and the hash
    of each submission it graded."""
    if not ((out / "grades.csv").is_file() and (out / STATE).is_file()):
        return {}, {}
    return ({(r.student, r.chapter): r for r in review.read_results(out)},
            json.loads((out / STATE).read_text()))


def grading_api(out: Path):
    """nbgrader's API on a grading folder ``out`` and its gradebook."""
    return _api(_config(out))


def _config(root: Path, private_db: Path | None = None):
    config = course_config(root, source_directory=str(SOLUTIONS),
                           release_directory=str(root / "release"),
                           submitted_directory=str(root / "staged"),
                           autograded_directory=str(root / "autograded"),
                           feedback_directory=str(root / "feedback"))
    if private_db:
        config.CourseDirectory.db_url = f"sqlite:///{private_db}"
    return config


def _register_term(api, term: Term, chapters_: list[str]) -> None:
    """The due dates (nbgrader keeps them in UTC) and the roster's students, in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for chapter in chapters_:
            if chapter in term.due:
                due = term.due[chapter].astimezone(datetime.timezone.utc).replace(tzinfo=None)
                gb.update_or_create_assignment(chapter, duedate=due)
        for student in term.roster:
            gb.update_or_create_student(student["id"], first_name=student["first_name"],
                                        last_name=student["last_name"], email=student["email"])


def _missing(results: list[Result], term: Term, chapters_: list[str], out: Path):
    """A "missing" row for each student of the roster and chapter due or handed in that has
    no submission; students handed in but not on the roster are told in their reason."""
    if not term.roster:
        return []
    enrolled = {s["id"] for s in term.roster}
    for r in results:
        if r.student not in enrolled and "not on the roster" not in r.reason:
            r.reason = "; ".join(filter(None, [r.reason, "not on the roster"]))
    have = {(r.student, r.chapter) for r in results}
    missing = []
    for chapter in chapters_:
        (release_path,) = sorted((out / "release" / chapter).glob("*.ipynb"))
        points = _max_score(nbformat.read(release_path, as_version=4))
        for student in term.roster:
            if (student["id"], chapter) not in have:
                missing.append(Result(student["id"], chapter, 0, points, "missing",
                                      "nothing handed in"))
    return missing


def _max_score(release) -> float:
    return sum(float(c.metadata["nbgrader"].get("points", 0)) for c in release.cells
               if c.metadata.get("nbgrader", {}).get("grade"))


def _prepare(student: str, chapter_dir: Path, known: list[str], out: Path):
    """The Result of one submission so far, and the worker's task when it is to be run."""
    chapter = chapter_dir.name
    if chapter not in known:
        return Result(student, chapter, 0, 0, "error", f"unknown chapter folder {chapter!r}; "
                      f"expected one of {', '.join(known)}"), None
    (release_path,) = sorted((out / "release" / chapter).glob("*.ipynb"))
    release = nbformat.read(release_path, as_version=4)
    result = Result(student, chapter, 0, _max_score(release), "error")
    path = chapter_dir / release_path.name
    if not path.is_file():
        found = ", ".join(p.name for p in chapter_dir.glob("*.ipynb")) or "none"
        result.reason = f"no {release_path.name} in the submission (notebooks found: {found})"
        return result, None
    try:
        nb = integrity.read_submission(path)
    except integrity.Unreadable as e:
        result.reason = str(e)
        return result, None
    nb, notes = integrity.restore_structure(nb, release, integrity.made_from(nb, chapter))
    if notes:
        nb.cells.insert(0, new_markdown_cell("**Notes of the grader on this submission**\n\n" +
                                             "\n".join(f"- {n}" for n in notes)))
    staged = out / "staged" / student / chapter
    shutil.copytree(chapter_dir, staged, ignore=shutil.ignore_patterns("*.ipynb"))
    for released in (BOOK / chapter).iterdir():  # as released, whatever was handed in
        if released.is_file() and released.suffix != ".ipynb":
            shutil.copyfile(released, staged / released.name)
    nbformat.write(nb, staged / path.name)
    result.reason = "; ".join(notes)
    return result, {"student": student, "chapter": chapter, "notebook": path.stem}


def grade_one(task: dict, work: Path) -> dict:
    """Autograde one submission and write its feedback, on a private copy of the gradebook."""
    from autograder.preprocessors import GuardedExecute

    out = Path(task["out"])
    db = work / "gradebook.db"
    shutil.copyfile(out / "work" / "template.db", db)
    config = _config(out, db)
    config.Execute.timeout = task["cell_timeout"]
    config.GuardedExecute.notebook_timeout = task["notebook_timeout"]
    config.SandboxedKernelManager.slot = task["slot"]
    config.GuardedExecute.chapter = task["chapter"]
    config.SandboxedKernelManager.workdir = str(out / "work")
    config.SandboxedKernelManager.memory_mb = task["memory_mb"]
    config.SandboxedKernelManager.cpu_seconds = task["notebook_timeout"]
    config.SandboxedKernelManager.sandbox = task["sandbox"]
    configure(config, Term(penalty_per_day=task["late"][0], days_accepted=task["late"][1]))
    if task["extension_hours"]:
        _grant_extension(f"sqlite:///{db}", config.CourseDirectory.course_id, task)
    api = _api(config)
    start = time.monotonic()
    outcome = api.autograde(task["chapter"], task["student"], force=True, create=True)
    result = {"success": bool(outcome.get("success")), "events": GuardedExecute.last_events,
              "error": _first_error_line(outcome.get("error") or outcome.get("log")),
              "seconds": {**GuardedExecute.last_seconds,
                          "autograde": time.monotonic() - start}}
    if result["success"]:
        start = time.monotonic()
        feedback = api.generate_feedback(task["chapter"], task["student"], force=True)
        result["seconds"]["feedback"] = time.monotonic() - start
        if not feedback.get("success"):
            result["events"].append("feedback failed: " + _first_error_line(
                feedback.get("error") or feedback.get("log")))
    return result


def _first_error_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "Error" in ln or "error" in ln:
            return ln[:300]
    return lines[-1][:300] if lines else "unknown error"


def _grant_extension(db_url: str, course_id: str, task: dict) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(task["student"])
        gb.update_or_create_submission(task["chapter"], task["student"])
        gb.grant_extension(task["chapter"], task["student"], hours=task["extension_hours"])


def _record(api, result: Result, task: dict, outcome: dict) -> None:
    """Write one autograded submission into the course's gradebook (nbgrader's SaveAutoGrades)."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    reasons = [result.reason] if result.reason else []
    if not outcome.get("success"):
        result.reason = "; ".join(reasons + [outcome.get("error") or "grading failed"])
        return
    student, chapter, coursedir = task["student"], task["chapter"], api.coursedir
    timestamp = coursedir.get_existing_timestamp(str(Path(coursedir.submitted_directory) /
                                                     student / chapter))
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(chapter, student, **({"timestamp": timestamp}
                                                            if timestamp else {}))
    if task["extension_hours"]:
        _grant_extension(coursedir.db_url, coursedir.course_id, task)
    path = Path(coursedir.autograded_directory) / student / chapter / f"{task['notebook']}.ipynb"
    nb = nbformat.read(path, as_version=4)
    resources = {"nbgrader": {"notebook": task["notebook"], "assignment": chapter,
                              "student": student, "db_url": coursedir.db_url}}
    SaveAutoGrades().preprocess(nb, resources)
    AssignLatePenalties(parent=api).preprocess(nb, resources)  # the term's policy (configure)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:  # score: review.rescore
        submission = gb.find_submission(chapter, student)
        result.late_hours = round(submission.total_seconds_late / 3600, 2)
    result.status = "graded"
    result.reason = "; ".join(reasons + outcome.get("events", []))


def _record_zero(api, result: Result) -> None:
    """A submission that could not be graded: 0 for every question."""
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        gb.update_or_create_student(result.student)
        submission = gb.update_or_create_submission(result.chapter, result.student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score, grade.needs_manual_grade = 0, False
        gb.db.commit()
