"""How ``ssot check`` and ``ssot fix`` start their worker processes."""

from __future__ import annotations

import multiprocessing
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
    if threading.active_count() > 1:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("fork")
