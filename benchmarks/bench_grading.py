"""Grade a generated class three ways and print submissions per minute and where the time goes.

    python -m benchmarks.bench_grading [--students 40] [--chapters ch01_input ...] [--jobs N]

The class: every student hands in every chapter, a mix of correct (the solution), partly wrong
(one exercise left as released), blank (every exercise as released) and broken (the kernel exits in
the first exercise; or, for every eighth student, a file that is not JSON). It is graded, side by side on the same machine, by
plain serial ``nbgrader autograde`` (nbgrader's own Execute, no sandbox) on a course with the
same notebooks and cell time limit; by ``python -m autograder grade`` on its default local Dask
cluster (one worker per core, sandboxed); and on a cluster of a scheduler and two workers as
separate processes on 127.0.0.1 (``--scheduler``), as with workers on other machines.

Per-notebook overhead: of each grading, the core-seconds per notebook beyond running the
notebook's cells (from ``logs/timings.csv``), and the worker's part of it (its task's time
beyond the cells: kernel and judge start-up, nbgrader's autograde, the feedback page), and of
that the part beyond executing the notebook (its kernel's start and stop included): nbgrader's
bookkeeping, the feedback page, unpacking and packing the task.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import course as cli
from autograder import cluster


def _blank(source: str) -> str:
    """A solution cell as released: the solution replaced by ``raise NotImplementedError()``."""
    return re.sub(r"( *)### BEGIN SOLUTION.*?### END SOLUTION", r"\1raise NotImplementedError()",
                  source, flags=re.S)


def make_class(submitted: Path, students: int, chapters: list[str]) -> int:
    count = 0
    for k in range(students):
        for chapter in chapters:
            (source,) = sorted((cli.SOLUTIONS / chapter).glob("*.ipynb"))
            target = submitted / f"student{k:03d}" / chapter / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            count += 1
            kind = (k + chapters.index(chapter)) % 4
            if kind == 3 and k % 8 == 7:
                target.write_text('{"cells": [')
                continue
            nb = nbformat.read(source, as_version=4)
            solutions = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
            if kind == 1:  # partly wrong: the first exercise as released
                solutions[0].source = _blank(solutions[0].source)
            elif kind == 2:  # blank: every exercise as released
                for cell in solutions:
                    cell.source = _blank(cell.source)
            elif kind == 3:
                solutions[0].source = "import os\nos._exit(1)"
            nbformat.write(nb, target)
    return count


PLAIN_CONFIG = """
c = get_config()
c.CourseDirectory.course_id = "lenet5"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.submitted_directory = {submitted!r}
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
c.Execute.timeout = {timeout}
"""


def plain_nbgrader(submitted: Path, root: Path, chapters: list[str], timeout: int) -> float:
    """Seconds that serial ``nbgrader autograde`` takes for the whole class."""
    root.mkdir(parents=True)  # nbgrader reads nbgrader_config.py from its working folder
    (root / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(
        root=str(root), source=str(cli.SOLUTIONS), submitted=str(submitted), timeout=timeout))
    env = {**cli.instructor_env(),  # its kernels run the hidden checks themselves
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for chapter in chapters:
        subprocess.run(nbgrader + ["generate_assignment", chapter, "--force"], cwd=root,
                       env=env, check=True, capture_output=True)
    start = time.perf_counter()
    for chapter in chapters:  # every student's submission of the chapter, one after the other
        done = subprocess.run(nbgrader + ["autograde", chapter], cwd=root, env=env,
                              capture_output=True, text=True)
        if "Autograding" not in done.stdout + done.stderr:
            raise RuntimeError(f"nbgrader autograde {chapter} did not run:\n{done.stderr}")
    return time.perf_counter() - start


def ours(submitted: Path, out: Path, timeout: int, workers: int, scheduler=None) -> dict:
    """Grade with the command ``python -m autograder grade``, as an instructor does (the
    course file of the repository: no due dates, no roster); its seconds and per-notebook
    timings."""
    command = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
               "--cell-timeout", str(timeout)] + \
        (["--scheduler", scheduler] if scheduler else ["--jobs", str(workers)])
    start = time.perf_counter()
    subprocess.run(command, cwd=cli.REPO, env=cli.instructor_env(), check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    with (out / "grades.csv").open() as f:
        results = list(csv.DictReader(f))
    with (out / "logs" / "timings.csv").open() as f:
        rows = list(csv.DictReader(f))
    cells = sum(float(r["cells"]) for r in rows) / len(rows)
    task = sum(float(r["task"]) for r in rows) / len(rows)
    feedback = sum(float(r["feedback"]) for r in rows) / len(rows)
    execute = sum(float(r["execute"]) for r in rows) / len(rows)
    return {"seconds": seconds, "n": len(results), "cells": cells,
            "overhead": seconds * workers / len(results) - cells,
            "worker_overhead": task - cells, "beyond_execution": task - execute,
            "feedback": feedback}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--chapters", nargs="*", default=None, help="default: all")
    parser.add_argument("--jobs", type=int, default=None, help="default: one per core")
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args()
    chapters = args.chapters or cli.chapters()
    jobs = args.jobs or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = make_class(tmp / "submitted", args.students, chapters)
        print(f"{n} submissions: {args.students} students x {len(chapters)} chapters "
              f"({', '.join(chapters)}); {os.cpu_count()} cores; {_blas()}; load average "
              f"{os.getloadavg()[0]:.2f} at the start")
        plain = plain_nbgrader(tmp / "submitted", tmp / "plain", chapters, args.cell_timeout)
        local = ours(tmp / "submitted", tmp / "local", args.cell_timeout, jobs)
        with cluster.loopback(2) as (address, _):
            remote = ours(tmp / "submitted", tmp / "loopback", args.cell_timeout, 2, address)
    print(f"{'':40s} {'seconds':>8s} {'subm./min':>9s} {'x serial':>8s} "
          f"{'overhead/nb':>11s} {'of it worker':>12s} {'beyond exec':>11s} {'cells/nb':>8s}")
    print(f"{'nbgrader autograde (serial)':40s} {plain:8.1f} {60 * n / plain:9.2f} {1:8.2f}")
    for name, run in ((f"autograder grade, local cluster ({jobs})", local),
                      ("autograder grade, loopback cluster (2)", remote)):
        print(f"{name:40s} {run['seconds']:8.1f} {60 * n / run['seconds']:9.2f} "
              f"{plain / run['seconds']:8.2f} {run['overhead']:10.2f}s "
              f"{run['worker_overhead']:11.2f}s {run['beyond_execution']:10.2f}s "
              f"{run['cells']:7.2f}s")
    print(f"(feedback page: {local['feedback']:.2f} s per notebook on the local cluster; load "
          f"average {os.getloadavg()[0]:.2f} at the end)")


def _blas() -> str:
    """The BLAS that NumPy, in the kernels and the judges, runs on (threadpoolctl)."""
    import numpy  # noqa: F401 - loads the BLAS for threadpoolctl to see
    from threadpoolctl import threadpool_info

    return ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')} kernel, "
                     f"{i['num_threads']} threads)" for i in threadpool_info()
                     if i["user_api"] == "blas") or "no BLAS found"


if __name__ == "__main__":
    main()
