"""Instructor and student commands on top of nbgrader.

    python -m autograder release               solutions/ -> book/ (the student edition)
    python -m autograder grade SUBMITTED [-o OUT]
                                               autograde submitted/<student>/<chapter>/ in
                                               parallel and sandboxed; write feedback HTML,
                                               grades.csv, questions.csv and report.md
    python -m autograder collect DOWNLOADS     an LMS's download -> submitted/<student>/<chapter>/
    python -m autograder export OUT --to canvas|moodle
                                               the grades as an LMS imports them
    python -m autograder feedback OUT --to canvas|moodle
                                               a zip of feedback pages per chapter, named
                                               for the LMS's bulk upload
    python -m autograder review OUT            formgrader on OUT's gradebook for manual review;
                                               when stopped, grades and feedback follow it
    python -m autograder validate NOTEBOOK     run a notebook as the grader does (visible tests)
All go through nbgrader's own converters, configured by autograder/nbgrader_config.py.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from autograder.course import BOOK, chapters
from autograder.release import release
from autograder.term import COURSE_FILE, TermError, read_term
from autograder.validation import validate


def grade(submitted: Path, out: Path, cell_timeout: int | None = None, **options):
    """Autograde every ``submitted/<student>/<chapter>/`` folder; see ``autograder.grading``."""
    from autograder.grading import grade as grade_class

    return grade_class(submitted, out, cell_timeout, **options)


# -------------------------------------------------------------------------------- main

def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m autograder``."""
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="generate book/ (student edition) from solutions/")
    rel.add_argument("chapters", nargs="*", help="only these chapters (default: all)")
    rel.add_argument("--out", type=Path, default=BOOK, help="output folder (default: book/)")
    rel.add_argument("--force", action="store_true",
                     help="run every chapter, even those whose inputs have not changed")
    gr = sub.add_parser("grade", help="autograde a folder of submissions")
    gr.add_argument("submitted", type=Path, help="folder laid out as <student>/<chapter>/*.ipynb")
    gr.add_argument("-o", "--out", type=Path, default=Path("grading"),
                    help="where feedback, grades, report and the gradebook go (default: ./grading)")
    gr.add_argument("-j", "--jobs", type=int, default=None,
                    help="notebooks graded at once on this machine (default: one per CPU "
                         "core)")
    gr.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                    help="grade on this Dask cluster (its workers run `dask worker "
                         "--preload autograder.worker` in this project's environment); "
                         "default: a local cluster on this machine")
    gr.add_argument("--notebook-timeout", type=int, default=900,
                    help="seconds a whole notebook may run (default: 900)")
    gr.add_argument("--memory-mb", type=int, default=4096,
                    help="memory (address space) a kernel may use, in MB (default: 4096)")
    gr.add_argument("--no-sandbox", action="store_true",
                    help="run kernels without bubblewrap (resource limits only; not safe)")
    gr.add_argument("--regrade", action="store_true",
                    help="start afresh: grade every submission again and forget earlier "
                         "results in OUT (by default a submission whose files have not "
                         "changed keeps its results, and results of students not in "
                         "SUBMITTED stay)")
    gr.add_argument("--course", type=Path, default=COURSE_FILE,
                    help="the term's due dates, extensions, late policy and roster "
                         "(default: course.toml at the repository's root)")
    co = sub.add_parser("collect", help="lay out an LMS's download of submissions to grade")
    co.add_argument("downloads", type=Path, help="the folder of downloaded notebooks")
    co.add_argument("-o", "--out", type=Path, default=Path("submitted"),
                    help="where <student>/<chapter>/<chapter>.ipynb go (default: ./submitted)")
    co.add_argument("--course", type=Path, default=COURSE_FILE,
                    help="the term, for its roster (default: course.toml)")
    ex = sub.add_parser("export", help="the grades of OUT as an LMS imports them")
    ex.add_argument("out", type=Path, help="the folder grade wrote (with grades.csv)")
    ex.add_argument("--to", choices=("canvas", "moodle"), required=True)
    ex.add_argument("--course", type=Path, default=COURSE_FILE,
                    help="the term, for its roster (default: course.toml)")
    fb = sub.add_parser("feedback", help="the feedback pages of OUT zipped for an LMS's "
                                         "bulk upload, one zip per chapter")
    fb.add_argument("out", type=Path, help="the folder grade wrote (with feedback/)")
    fb.add_argument("--to", choices=("canvas", "moodle"), required=True)
    fb.add_argument("--collected", type=Path, default=Path("submitted") / "collected.json",
                    help="where collect noted each downloaded file "
                         "(default: submitted/collected.json)")
    rv = sub.add_parser("review", help="nbgrader's formgrader on a grading folder, for "
                                       "manual scores and comments")
    rv.add_argument("out", type=Path, help="the folder grade wrote (with gradebook.db)")
    rv.add_argument("--port", type=int, default=8888)
    rv.add_argument("--no-browser", action="store_true", help="do not open a browser")
    va = sub.add_parser("validate", help="run a notebook as the grader does (visible tests)")
    va.add_argument("notebook", type=Path)
    va.add_argument("--no-sandbox", action="store_true",
                    help="without bubblewrap (for machines that lack it)")
    for cmd in (gr, va):
        cmd.add_argument("--cell-timeout", type=int, default=None,
                         help="seconds a cell may run before it is interrupted (default: 60)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from autograder.report import summary

    args = parser().parse_args(argv)
    logging.getLogger("traitlets").setLevel(logging.ERROR)

    if args.command == "release":
        written = release(args.out, args.chapters or None, force=args.force)
        for path in written:
            print(f"wrote {path}")
        for chapter in sorted(set(args.chapters or chapters()) -
                              {path.parent.name for path in written}):
            print(f"unchanged {chapter} (its inputs are those it was released from)")
        return 0
    if args.command == "collect":
        from autograder.collect import collect

        try:
            placed, unplaced = collect(args.downloads, args.out, read_term(args.course).roster)
        except TermError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        for path, student, chapter in placed:
            print(f"{student:20s} {chapter:14s} <- {path}")
        for path, why in unplaced:
            print(f"NOT PLACED {path}: {why}")
        return 1 if unplaced else 0
    if args.command == "export":
        from autograder.export import export

        from autograder.review import refresh

        try:
            refresh(args.out, feedback=False)  # the gradebook's scores, reviews included
            path, left_out = export(args.out, args.to, read_term(args.course))
        except TermError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"wrote {path}")
        if left_out:
            print(f"not on the roster, left out: {', '.join(left_out)}")
        return 0
    if args.command == "feedback":
        from autograder.export import feedback_archives

        zips, left_out = feedback_archives(args.out, args.to, args.collected)
        for path in zips:
            print(f"wrote {path}")
        for page in left_out:
            print(f"NOT IN A ZIP {page}")
        return 1 if left_out else 0
    if args.command == "review":
        from autograder.review import serve

        return serve(args.out, args.port, not args.no_browser)
    if args.command == "validate":
        code, text = validate(args.notebook, args.cell_timeout, not args.no_sandbox)
        print(text)
        return code
    try:
        term = read_term(args.course)
    except TermError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    results = grade(args.submitted, args.out, args.cell_timeout, jobs=args.jobs,
                    scheduler=args.scheduler,
                    notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb,
                    sandbox=not args.no_sandbox, term=term, regrade=args.regrade,
                    progress=sys.stderr.isatty())
    print(summary(results))
    print(f"grades: {args.out / 'grades.csv'} (per question: {args.out / 'questions.csv'})\n"
          f"report: {args.out / 'report.md'}\nfeedback: {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
