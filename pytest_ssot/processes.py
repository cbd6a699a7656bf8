"""How ``ssot check`` and ``ssot fix`` start their worker processes."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from multiprocessing.context import BaseContext


def pool_context() -> BaseContext:
    """fork on Linux: cheap, and the workers inherit what the parent already loaded. Not in a
    process that runs other threads (``ssot`` called inside a tool or a test runner): a fork
    may deadlock the copy there (Python 3.12+ warns), so a fork server starts them instead.
    spawn elsewhere, where fork is unsafe or missing."""
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    if _threads() > 1:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("fork")


def _threads() -> int:
    """The threads of this process, as the kernel counts them: threads started without the
    threading module (xdist's execnet starts its own) are not in ``threading.active_count()``
    but are forked all the same."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()
