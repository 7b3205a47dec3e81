"""A Dask worker's start-up check: ``dask worker tcp://HOST:PORT --preload autograder.worker``.

A worker that cannot sandbox the students' kernels (``autograder.sandbox.capability``) stops
with the reason, unless ``LENET5_NO_SANDBOX=1`` is set for workers that grade only trusted code.
"""
from __future__ import annotations

import os

from autograder.sandbox import capability


def dask_setup(worker) -> None:
    """Called by ``dask worker`` at start-up (Dask's preload hook)."""
    why = capability()
    if why and os.environ.get("LENET5_NO_SANDBOX") != "1":
        raise RuntimeError(f"this worker cannot sandbox kernels, so it will not grade: {why}")
