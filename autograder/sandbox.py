"""The sandbox of a grading kernel: bubblewrap, a user of its own, resource limits.

``autograder.kernel.SandboxedKernelManager`` starts each kernel as ``python
autograder/sandbox.py ... -- <kernel command>``; this module then, still outside the sandbox,

- sets resource limits (address space, processes, CPU seconds, file size, open files, no core);
- switches to the grading slot's own user id when started as root, so the process limit counts
  only this kernel's processes and the kernel owns no file of the course;
- execs bubblewrap: new namespaces of every kind (no network, its own process tree that dies
  with the grader), a read-only view of the system, the Python installation, the students'
  package ``lenet5/`` and ``data/``, the files released with the chapter (read-only, in the
  kernel's home), an empty writable home and /tmp in memory, and nothing else: no
  ``autograder/`` (no checks), no ``reference/``, no solutions, no gradebook, no other
  submission.

Every place the kernel can write is a size-limited tmpfs of the sandbox's own (home, /tmp,
and ``/kernel``, where it makes its ipc sockets; the grader reaches those through
``/proc/<pid>/root``), so nothing it writes lands on the host's disk, and all of it goes
with the sandbox. It talks to the grader's judge over a socket in the judge's folder, which
it sees read-only.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOME = "/home/student"
KERNEL_SOCKETS = "/kernel"  # inside the sandbox: where the kernel's ipc sockets are made
MATPLOTLIB = "/tmp/matplotlib"  # inside the sandbox: matplotlib's configuration and cache
BASE_UID = 61000  # grading slot k runs its kernels as uid/gid BASE_UID + k


def available() -> bool:
    return shutil.which("bwrap") is not None


def capability() -> str | None:
    """Why this machine cannot run sandboxed kernels, or None if it can: bubblewrap must be
    installed and able to make its namespaces (as root, which also gives each grading slot a
    user of its own; or as a user with unprivileged user namespaces)."""
    if not available():
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    root = os.geteuid() == 0
    if root and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net"] if root else \
        ["--unshare-all"]
    try:
        trial = subprocess.run(["bwrap", *namespaces, "--die-with-parent", "--ro-bind", "/", "/",
                                "--proc", "/proc", "--dev", "/dev", "true"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap did not run: {e}"
    if trial.returncode:
        return (f"bubblewrap cannot make its namespaces here ({trial.stderr.strip()[:200]}): "
                f"run the worker as root, or allow unprivileged user namespaces "
                f"(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); "
                f"in a container, see the instructor guide")
    return None


def first_slot() -> int:
    """This process's first grading slot: batches running at the same time use other users."""
    return (os.getpid() % 1000) * 64


def _course_files() -> list[Path]:
    """What the kernel may read of the course: the students' package ``lenet5`` where the
    kernel's Python imports it from (an editable install: the repository's folder), and the
    course's data as the grader reads it (the kernel is told to read it there too)."""
    import importlib.util

    extra = set(filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path[1:] if p not in extra]  # as the kernel will see it
    try:
        spec = importlib.util.find_spec("lenet5")
    finally:
        sys.path[:] = saved
    package = Path(spec.origin).resolve().parent if spec and spec.origin else REPO / "lenet5"
    # The data the grader's own lenet5 reads (the judge hands the kernel paths into it).
    return [package, Path(os.environ.get("LENET5_DATA", REPO / "data")).resolve()]


def _bwrap(home: Path, cmd: list[str], uid: int | None, files_from: Path | None,
           font_list: Path | None, info_fd: int) -> list[str]:
    """The bubblewrap command line around ``cmd``; see the module docstring.

    As root, bubblewrap sets the sandbox up with its own privileges and ``setpriv`` then
    drops to ``uid`` inside it (a user namespace would map the kernel back to root outside).
    """
    namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                  "--unshare-cgroup-try"] if uid is not None else ["--unshare-all"]
    args = ["bwrap", *namespaces, "--die-with-parent", "--new-session",
            "--info-fd", str(info_fd),
            "--tmpfs", "/", "--dev", "/dev", "--proc", "/proc",
            "--perms", "1777", "--size", str(512 << 20), "--tmpfs", "/tmp",
            "--perms", "0777", "--size", str(64 << 20), "--tmpfs", HOME,
            "--perms", "0777", "--size", str(1 << 20), "--tmpfs", KERNEL_SOCKETS,
            "--chdir", HOME,
            "--clearenv", "--setenv", "HOME", HOME,
            "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "--setenv", "LANG", "C.UTF-8", "--setenv", "MPLBACKEND", "agg",
            "--setenv", "MPLCONFIGDIR", MATPLOTLIB,
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
            "--setenv", "MKL_NUM_THREADS", "1", "--setenv", "LENET5_SANDBOX", "1",
            "--setenv", "LENET5_DATA", str(_course_files()[1])]
    if "OPENBLAS_CORETYPE" in os.environ:  # the machine's choice of BLAS kernel holds inside
        args += ["--setenv", "OPENBLAS_CORETYPE", os.environ["OPENBLAS_CORETYPE"]]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    readable = [Path(p) for p in ("/usr", "/etc", sys.prefix, sys.base_prefix)] + \
        [*_course_files(), home / "judge"]
    made = {Path("/"), Path("/tmp")}
    for path in [p for p in readable if p.exists()] + [home]:
        for parent in reversed(path.parents):  # traversable by the kernel's user
            if parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(path), str(path)] if path != home else \
            ["--perms", "0755", "--dir", str(home)]
    args += ["--ro-bind", str(home / "connection.json"), str(home / "connection.json")]
    if font_list:  # matplotlib's cache in the kernel: the grader's font list, read-only
        args += ["--perms", "0777", "--dir", MATPLOTLIB,
                 "--ro-bind", str(font_list), f"{MATPLOTLIB}/{font_list.name}"]
    for path in sorted(files_from.iterdir()) if files_from else []:
        if path.is_file() and path.suffix != ".ipynb":  # e.g. previous_chapters.py
            args += ["--ro-bind", str(path), f"{HOME}/{path.name}"]
    args.append("--")
    if uid is not None:
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    return args + cmd


def _end_processes_of(uid: int, seconds: float = 10) -> None:
    """Kill every process of the grading slot's own user (what is left of an earlier kernel of
    the slot, such as a fork bomb still being torn down) and wait until they are gone."""
    import signal
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as status:
                    owner = next(int(ln.split()[1]) for ln in status if ln.startswith("Uid:"))
                if owner == uid:
                    os.kill(int(entry), signal.SIGKILL)
                    left.append(entry)
            except (OSError, StopIteration, ValueError):
                continue  # gone already
        if not left:
            return
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    """Limit this process, drop to the slot's user, and exec the kernel in bubblewrap."""
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--slot", type=int, default=0)
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--max-processes", type=int, default=256)
    parser.add_argument("--cpu-seconds", type=int, default=900)
    parser.add_argument("--files-from", type=Path, default=None)
    parser.add_argument("--font-list", type=Path, default=None)
    parser.add_argument("--no-bwrap", action="store_true")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd

    # The connection file (with the session key) is the grader's and private: the kernel
    # gets a copy of its own.
    copy = args.home / "connection.json"
    shutil.copyfile(cmd[cmd.index("-f") + 1], copy)
    cmd[cmd.index("-f") + 1] = str(copy)
    limits = {resource.RLIMIT_AS: args.memory_mb << 20,
              resource.RLIMIT_FSIZE: 256 << 20, resource.RLIMIT_NOFILE: 1024,
              resource.RLIMIT_CORE: 0}
    uid = BASE_UID + args.slot if os.geteuid() == 0 else None
    if uid is not None:
        _end_processes_of(uid)  # a previous kernel's leftovers would count against its limit
        os.chown(copy, uid, uid)
        limits[resource.RLIMIT_NPROC] = args.max_processes  # counts the processes of uid
    for kind, value in limits.items():
        resource.setrlimit(kind, (value, value))
    # CPU time: SIGXCPU at the limit (so that the student can be told which limit it was),
    # SIGKILL a few seconds later should the kernel ignore that signal
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu_seconds, args.cpu_seconds + 5))
    if args.no_bwrap:
        os.environ.pop("PYTHONPATH", None)  # the grader's packages stay the grader's
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        os.execv(cmd[0], cmd)
    info = os.open(args.home / "bwrap.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.set_inheritable(info, True)  # bubblewrap writes the sandbox's pid there
    os.execvp("bwrap", _bwrap(args.home, cmd, uid, args.files_from, args.font_list, info))


if __name__ == "__main__":
    main()
