"""The grader's side of a student's kernel: a kernel manager that starts it in the sandbox.

The sandbox itself (limits, bubblewrap, what the kernel sees) is ``autograder.sandbox``, a
launcher kept free of Jupyter's packages so that it starts fast, once per notebook graded.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode

from autograder import sandbox
from autograder.sandbox import BASE_UID, KERNEL_SOCKETS


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
        fonts = font_list()
        # Run as a script: the launcher needs no package path, and passes none to the kernel.
        return [sys.executable, str(Path(sandbox.__file__).resolve()),
                "--home", str(self._home), "--slot", str(self.slot),
                "--memory-mb", str(self.memory_mb), "--max-processes", str(self.max_processes),
                "--cpu-seconds", str(self.cpu_seconds)] + \
               (["--files-from", str(self._files_from)] if self._files_from else []) + \
               (["--font-list", str(fonts)] if fonts else []) + \
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


@functools.cache
def font_list() -> Path | None:
    """The grader's matplotlib font list (made here if need be), which kernels read instead
    of making their own: that takes 0.6 CPU-seconds, in every kernel that plots."""
    import matplotlib
    from matplotlib import font_manager  # makes the list if there is none

    path = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
    return path if path.is_file() else None
