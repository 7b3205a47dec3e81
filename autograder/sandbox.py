"""The sandbox of a grading kernel: bubblewrap, a user of its own, resource limits.

``SandboxedKernelManager`` starts each kernel as ``python -m autograder.sandbox ... -- <kernel
command>``; this module then, still outside the sandbox,

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
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode

REPO = Path(__file__).resolve().parent.parent
HOME = "/home/student"
KERNEL_SOCKETS = "/kernel"  # inside the sandbox: where the kernel's ipc sockets are made
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


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in ``autograder.sandbox`` with the guard loaded."""

    sandbox = Bool(True, help="run the kernel in bubblewrap (else only resource limits)"
                   ).tag(config=True)
    slot = Integer(0, help="grading slot: the kernel's user id is 61000 + slot").tag(config=True)
    memory_mb = Integer(4096, help="address-space limit of the kernel (MB)").tag(config=True)
    max_processes = Integer(256, help="processes and threads the kernel's user may have"
                            ).tag(config=True)
    cpu_seconds = Integer(900, help="CPU seconds the kernel may use in all").tag(config=True)
    workdir = Unicode("", help="folder for the kernels' folders (default: the system's "
                      "temporary folder); a batch removes it when it ends").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._home = Path(tempfile.mkdtemp(prefix="lenet5-kernel-", dir=self.workdir or None))
        os.chmod(self._home, 0o755)
        self.judge_folder.mkdir(mode=0o755)
        self._files_from = None
        self.transport = "ipc"
        if self.sandbox:
            # The kernel makes its sockets in a small tmpfs of the sandbox's own; the grader
            # reaches them through /proc/<pid>/root once the sandbox has started.
            self.ip = f"{KERNEL_SOCKETS}/k"
        else:
            self.ip = str(self._home / "sockets" / "k")
            (self._home / "sockets").mkdir()
            if os.geteuid() == 0:
                os.chown(self._home / "sockets", BASE_UID + self.slot, BASE_UID + self.slot)

    @property
    def judge_folder(self) -> Path:
        """Where the judge listens and puts the files it hands the kernel (read-only there)."""
        return self._home / "judge"

    async def _async_pre_start_kernel(self, **kw):
        self._files_from = kw.get("cwd")  # the chapter folder: its files go in the sandbox
        kw.setdefault("stdout", subprocess.DEVNULL)  # the kernel's start-up banner
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        # Run as a script: the launcher needs no package path, and passes none to the kernel.
        return [sys.executable, str(Path(__file__).resolve()),
                "--home", str(self._home), "--slot", str(self.slot),
                "--memory-mb", str(self.memory_mb), "--max-processes", str(self.max_processes),
                "--cpu-seconds", str(self.cpu_seconds)] + \
               (["--files-from", str(self._files_from)] if self._files_from else []) + \
               ([] if self.sandbox else ["--no-bwrap"]) + ["--"] + cmd

    async def _async_interrupt_kernel(self):
        """Interrupt by message: a signal to bubblewrap would not reach the kernel."""
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)

    interrupt_kernel = _async_interrupt_kernel

    async def _async_post_start_kernel(self, **kw):
        if self.sandbox:
            self.ip = f"/proc/{await self._sandbox_pid()}/root{KERNEL_SOCKETS}/k"
        return await super()._async_post_start_kernel(**kw)

    async def _sandbox_pid(self, seconds: float = 30) -> int:
        """The host's pid of the sandbox's first process, which bubblewrap reports."""
        import asyncio
        import json

        info = self._home / "bwrap.json"
        for _ in range(int(seconds / 0.02)):
            try:
                return int(json.loads(info.read_text())["child-pid"])
            except (OSError, ValueError, KeyError):
                if self.provisioner and await self.provisioner.poll() is not None:
                    break  # the launcher or bubblewrap failed
                await asyncio.sleep(0.02)
        raise RuntimeError("the kernel's sandbox did not start (see the grader's log)")

    def exit_reason(self, wait: float = 3.0) -> str:
        """Why the kernel's process ended (call it once the kernel died), for the student."""
        import signal
        import time

        process = getattr(self.provisioner, "process", None)
        code = None
        for _ in range(int(wait / 0.05)):
            code = process.poll() if process is not None else None
            if code is not None:
                break
            time.sleep(0.05)
        if code is None:
            return "it stopped answering"
        # bubblewrap exits with 128 + the signal that ended the kernel; Popen says -signal
        sig = -code if code < 0 else code - 128 if code > 128 else None
        limits = (f"the limits are {self.memory_mb} MB of memory, {self.max_processes} "
                  f"processes and threads, and {self.cpu_seconds} s of CPU time in all")
        if sig is None:
            return (f"your code ended it (exit status {code}), e.g. with exit(), quit(), "
                    f"sys.exit() or os._exit(): never call these in a notebook")
        if sig == signal.SIGXCPU:
            return (f"it used up the CPU time the whole notebook may use ({self.cpu_seconds} "
                    f"s); a loop that never ends, or very slow code, does this")
        if sig == signal.SIGKILL:
            return (f"it was killed (SIGKILL): most often it ran out of memory or was still "
                    f"running at the notebook's time limit; {limits}")
        if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
            return (f"it crashed ({signal.Signals(sig).name}): usually memory ran out inside "
                    f"NumPy, a thread could not start, or a recursion went too deep; {limits}")
        return f"it was ended by signal {signal.Signals(sig).name if sig < 65 else sig}"

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self._home, ignore_errors=True)


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
           info_fd: int) -> list[str]:
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
            "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
            "--setenv", "MKL_NUM_THREADS", "1", "--setenv", "LENET5_SANDBOX", "1",
            "--setenv", "LENET5_DATA", str(_course_files()[1])]
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
    os.execvp("bwrap", _bwrap(args.home, cmd, uid, args.files_from, info))


if __name__ == "__main__":
    main()
