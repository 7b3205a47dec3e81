"""What grading a class hands the instructor: grades.csv, questions.csv, report.md with a plot
of the score distribution per exercise, a summary, and a feedback page for each submission
that could not be graded."""
from __future__ import annotations

import csv
import html
import statistics
from collections import defaultdict
from pathlib import Path


def write_all(out: Path, results, db_url: str) -> None:
    import nbformat

    order = {}  # grade_id -> position in its released notebook
    for path in sorted((out / "release").glob("*/*.ipynb")):
        for k, cell in enumerate(nbformat.read(path, as_version=4).cells):
            order[cell.metadata.get("nbgrader", {}).get("grade_id")] = k
    write_grades(results, out / "grades.csv")
    questions = write_questions(results, db_url, out / "questions.csv", order)
    write_report(out, results, questions)


def write_grades(results, path: Path) -> None:
    """One row per student and chapter: student, chapter, score (after any late penalty),
    max_score, status (graded, error, missing), hours late, penalty, the points a manual
    review changed, reason."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "chapter", "score", "max_score", "status", "late_hours",
                         "penalty", "manual", "reason"])
        for r in results:
            writer.writerow([r.student, r.chapter, f"{r.score:g}", f"{r.max_score:g}",
                             r.status, f"{r.late_hours:g}", f"{r.penalty:g}", f"{r.manual:g}", r.reason])


def write_questions(results, db_url: str, path: Path, order: dict) -> list[dict]:
    """One row per submission and graded cell, read back from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(db_url) as gb:
        for r in results:
            try:
                submission = gb.find_submission(r.chapter, r.student)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, 0)):
                    rows.append({"student": r.student, "chapter": r.chapter,
                                 "question": grade.name, "score": grade.score or 0,
                                 "max_score": grade.max_score, "status": r.status,
                                 "position": order.get(grade.name, 0)})
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "chapter", "question", "score", "max_score", "status"])
        for q in rows:
            writer.writerow([q["student"], q["chapter"], q["question"], f"{q['score']:g}",
                             f"{q['max_score']:g}", q["status"]])
    return rows


def write_report(out: Path, results, questions: list[dict]) -> None:
    """report.md: per chapter and per exercise statistics, and score_distribution.png."""
    by_chapter = defaultdict(list)
    for r in results:
        if r.max_score and r.status != "missing":
            by_chapter[r.chapter].append(r)
    by_question = defaultdict(list)
    for q in sorted(questions, key=lambda q: (q["chapter"], q["position"])):
        by_question[q["chapter"], q["question"]].append(q)
    lines = ["# Grading report", "",
             f"{sum(r.status != 'missing' for r in results)} submissions: " + ", ".join(
                 f"{sum(r.status == s for r in results)} {s}"
                 for s in ("graded", "error", "missing")), "",
             "| chapter | submissions | mean | median | full marks | not gradable |",
             "|---|---:|---:|---:|---:|---:|"]
    for chapter, rs in sorted(by_chapter.items()):
        scores = [r.score for r in rs]
        lines.append(f"| {chapter} | {len(rs)} | {statistics.mean(scores):.1f} / "
                     f"{rs[0].max_score:g} | {statistics.median(scores):g} | "
                     f"{sum(r.score == r.max_score for r in rs)} | "
                     f"{sum(r.status == 'error' for r in rs)} |")
    lines += ["", "## Per exercise", "", "![score distribution per exercise]"
              "(score_distribution.png)", "",
              "| chapter | exercise | points | full | partial | zero |",
              "|---|---|---:|---:|---:|---:|"]
    for (chapter, question), qs in by_question.items():
        full, zero = _split(qs)
        lines.append(f"| {chapter} | {question} | {qs[0]['max_score']:g} | {full} | "
                     f"{len(qs) - full - zero} | {zero} |")
    lines += _per_student(results)
    problems = [r for r in results if r.reason and r.status != "missing"]
    if problems:
        lines += ["", "## Submissions with a reason", "", "| student | chapter | status | reason |",
                  "|---|---|---|---|"]
        lines += [f"| {r.student} | {r.chapter} | {r.status} | {r.reason.replace('|', '/')} |"
                  for r in problems]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    _plot(by_question, out / "score_distribution.png")


def _per_student(results) -> list[str]:
    """Each student's total over the chapters in ``results``, with what is missing or late."""
    chapters = sorted({r.chapter for r in results if r.max_score})
    students = defaultdict(dict)
    for r in results:
        if r.max_score:
            students[r.student][r.chapter] = r
    lines = ["", "## Per student", "", "| student | " + " | ".join(chapters) +
             " | total | missing | late |", "|---|" + "---:|" * (len(chapters) + 3)]
    possible = sum(next(r.max_score for r in results if r.chapter == c) for c in chapters)
    for student, done in sorted(students.items()):
        cells = []
        for chapter in chapters:
            r = done.get(chapter)
            cells.append("—" if r is None else "missing" if r.status == "missing" else
                         f"{r.score:g}" + (f" (late, -{r.penalty:g})" if r.late_hours else "") +
                         (f" (reviewed, {r.manual:+g})" if r.manual else ""))
        total = sum(r.score for r in done.values())
        lines.append(f"| {student} | " + " | ".join(cells) + f" | {total:g} / {possible:g} | "
                     f"{sum(r.status == 'missing' for r in done.values())} | "
                     f"{sum(r.late_hours > 0 for r in done.values())} |")
    return lines


def _split(qs) -> tuple[int, int]:
    full = sum(q["score"] >= q["max_score"] for q in qs)
    zero = sum(q["score"] <= 0 for q in qs)
    return full, zero


def _plot(by_question, path: Path) -> None:
    """Per exercise, the share of submissions with full, partial and zero points."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    keys = list(by_question)
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(keys) + 1.2))
    for k, key in enumerate(keys):
        qs = by_question[key]
        full, zero = _split(qs)
        left = 0
        for count, color, label in ((full, "#2a9d8f", "full"),
                                    (len(qs) - full - zero, "#e9c46a", "partial"),
                                    (zero, "#e76f51", "zero")):
            ax.barh(k, count / len(qs), left=left, color=color, label=label if k == 0 else None)
            left += count / len(qs)
    ax.set_yticks(range(len(keys)), [f"{c}: {q}" for c, q in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("share of submissions")
    ax.set_title("Score distribution per exercise")
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def error_feedback(folder: Path, result) -> None:
    """The feedback page of a submission that was not graded: the reason, 0 points."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{result.chapter}.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{result.chapter}</title>"
        f"</head><body><h1>{html.escape(result.chapter)}: not graded</h1>"
        f"<p>Score: 0 / {result.max_score:g} ({html.escape(result.status)})</p>"
        f"<p>{html.escape(result.reason)}</p></body></html>\n")


def summary(results) -> str:
    width = max([len(r.student) for r in results] + [7])
    lines = [f"{'student':{width}s}  {'chapter':14s} {'score':>11s}  status"]
    for r in results:
        lines.append(f"{r.student:{width}s}  {r.chapter:14s} {r.score:5g} / {r.max_score:<3g}  "
                     f"{r.status}{' (unchanged, not graded again)' if r.kept else ''}"
                     f"{': ' + r.reason if r.reason else ''}")
    count = {s: sum(r.status == s for r in results) for s in ("graded", "error", "missing")}
    kept = sum(r.kept for r in results)
    lines.append(f"{len(results) - count['missing']} submissions, {count['graded']} graded, "
                 f"{count['error']} not gradable" +
                 (f"; {count['missing']} missing (on the roster, nothing handed in)"
                  if count["missing"] else "") +
                 (f"; {kept} unchanged since they were graded, not graded again" if kept
                  else ""))
    return "\n".join(lines)
