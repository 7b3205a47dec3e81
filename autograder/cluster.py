"""Where submissions are graded: Dask distributed, on this machine or on a cluster.

With no scheduler, ``connect`` starts a local cluster of one worker process per core (one
task at a time each: a task is a whole notebook with its kernel). With ``tcp://HOST:PORT``
it uses an existing cluster whose workers run ``dask worker`` in the project's environment
(see the instructor guide): started by hand, by dask-jobqueue on Slurm/PBS or by the Dask
Kubernetes operator.

A submission travels to a worker as task data (its files and the course's empty gradebook)
and its autograded notebook and feedback come back the same way: no shared filesystem. The
worker grades it in a temporary folder with ``autograder.grading.grade_one``, its kernel in
the sandbox of the worker's grading slot. A worker that dies has its task re-run by Dask on
another (``distributed.scheduler.allowed-failures`` times); the client alone writes the
gradebook, so each submission is recorded once.

A worker that cannot sandbox kernels (``sandbox.capability``) gets no submission unless the
instructor grades with ``--no-sandbox``; with ``dask worker --preload autograder.worker``
such a worker refuses to start.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator

# jsonschema, under nbformat, builds an IRI grammar when imported if rfc3987_syntax is
# installed (seconds of CPU per worker process); nbgrader needs no IRI check.
sys.modules.setdefault("rfc3987_syntax", None)

from autograder import sandbox as sandbox_module  # noqa: E402


_LOCAL: dict[int, object] = {}  # this process's local clusters, by size: started once


def connect(scheduler: str | None = None, jobs: int | None = None):
    """A Dask client: on ``scheduler``, or on a local cluster of ``jobs`` workers (default:
    one per core), each one process with one thread, started at the first call and kept for
    the next ones until the process exits. ``close`` it when done."""
    import dask
    from distributed import Client, LocalCluster

    dask.config.set({"distributed.worker.daemon": False,  # kernels are child processes
                     "distributed.scheduler.allowed-failures": 2,
                     "distributed.logging.distributed": "error"})
    if scheduler:
        return Client(scheduler, timeout="30s")
    size = jobs or os.cpu_count() or 1
    cluster = _LOCAL.get(size)
    if cluster is None or cluster.status.name != "running":
        cluster = _LOCAL[size] = LocalCluster(
            n_workers=size, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=40, memory_limit=0)
        atexit.register(cluster.close)
    return Client(cluster)


def warm_up(scheduler: str | None = None, jobs: int | None = None) -> None:
    """Start the cluster (a local one, if it is) and have every worker import what grading
    needs and start its judge server, so that its first notebook need not wait for them.
    It takes seconds: run it while the submissions are being prepared, and let it end before
    any is sent (two threads of a worker importing the same modules can collide)."""
    client = connect(scheduler, jobs)
    try:
        client.run(_get_ready)
    finally:
        close(client)


def _get_ready() -> None:
    from nbgrader.apps import api  # noqa: F401

    from autograder import grading  # noqa: F401
    from autograder.kernel import font_list
    from autograder.preprocessors import judge_server

    font_list()
    judge_server()


def close(client) -> None:
    """Close ``client`` (a local cluster stays for this process's next grading)."""
    client.close()


def capable_workers(client, sandbox: bool) -> tuple[list[str], dict[str, str]]:
    """The workers that can grade (addresses), and why the others cannot."""
    if not sandbox:
        return list(client.scheduler_info()["workers"]), {}
    reasons = client.run(sandbox_module.capability)
    return ([w for w, why in reasons.items() if why is None],
            {w: why for w, why in reasons.items() if why is not None})


def run(client, tasks: list[dict], files: list[dict], template: bytes, settings: dict,
        workers: list[str], done: Callable[[int, dict], None]) -> list[dict]:
    """Grade ``tasks[k]`` (with its staged ``files[k]``: name -> bytes) on the cluster; call
    ``done(k, outcome)`` as each finishes; return the outcomes in order."""
    from distributed import wait

    shared = client.scatter(template, broadcast=True, workers=workers)
    futures = {client.submit(grade_remote, task, staged, shared, settings, workers=workers,
                             allow_other_workers=False, pure=False,
                             key=f"grade-{task['student']}-{task['chapter']}-{k}"): k
               for k, (task, staged) in enumerate(zip(tasks, files))}
    outcomes: list[dict] = [{}] * len(tasks)
    pending, alone_since = set(futures), None
    while pending:
        try:
            finished, pending = wait(pending, timeout=10, return_when="FIRST_COMPLETED")
        except TimeoutError:  # none finished within 10 s: see that workers are left
            finished = set()
        for future in finished:
            k = futures[future]
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - failed on every worker it was tried on
                outcome = _failed(f"{type(e).__name__}: {str(e)[:200]}")
            outcomes[k] = outcome
            done(k, outcome)
            future.release()
        if set(client.scheduler_info()["workers"]) & set(workers):
            alone_since = None
        elif time.monotonic() - (alone_since := alone_since or time.monotonic()) > NO_WORKER:
            for future in pending:  # every worker is gone and none came back
                outcomes[futures[future]] = outcome = _failed(
                    f"no worker left on the cluster for {NO_WORKER} s")
                done(futures[future], outcome)
            break
    return outcomes


NO_WORKER = 300  # seconds without a worker before the remaining submissions fail


def _failed(why: str) -> dict:
    return {"success": False, "events": [], "error": f"the grading process failed on the "
                                                     f"cluster: {why}"}


def grade_remote(task: dict, staged: dict[str, bytes], template: bytes, settings: dict) -> dict:
    """On a worker: grade one submission in a temporary folder; return the outcome with the
    autograded and feedback files (relative name -> bytes)."""
    from autograder.grading import grade_one

    student, chapter = task["student"], task["chapter"]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lenet5-grade-") as tmp, \
            warnings.catch_warnings():  # nbgrader's SQLAlchemy use warns on new submissions
        warnings.simplefilter("ignore")
        out = Path(tmp)
        write_folder(out / "staged" / student / chapter, staged)
        work = out / "work" / f"{student}--{chapter}"
        work.mkdir(parents=True)
        (out / "work" / "template.db").write_bytes(template)
        outcome = grade_one({**settings, **task, "out": str(out),
                             "slot": sandbox_module.first_slot()}, work)
        outcome["autograded"] = read_folder(out / "autograded" / student / chapter)
        outcome["feedback"] = read_folder(out / "feedback" / student / chapter)
        outcome["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    outcome.setdefault("seconds", {})["task"] = time.monotonic() - start
    return outcome


def read_folder(folder: Path) -> dict[str, bytes]:
    """A folder's files by name relative to it: what travels to or from a worker."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write files that travelled from a client or worker below ``folder``, never outside it."""
    for name, data in files.items():
        path = folder / name
        if folder.resolve() not in path.resolve().parents:
            raise ValueError(f"a file outside its folder: {name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@contextlib.contextmanager
def loopback(workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and ``workers`` workers (``dask worker --preload autograder.worker``, one
    thread each) as separate processes on 127.0.0.1, as on machines of a cluster; yields the
    scheduler's address and the workers' processes, and kills them all at the end."""
    from distributed import Client

    from autograder.course import REPO, instructor_env

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**instructor_env(), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}

    def start(*args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", *args], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)

    processes = [start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                       str(port), "--dashboard-address", ":0")]
    started = [start("distributed.cli.dask_worker", address, "--nthreads", "1", "--name",
                     f"worker{k}", "--no-dashboard", "--preload", "autograder.worker")
               for k in range(workers)]
    processes += started
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, started
    finally:
        for p in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
