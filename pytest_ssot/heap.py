"""Keeping freed heap memory in a process that parses file after file.

Parsing a file builds its syntax tree partly in memory from glibc's ``malloc``, and as soon as
the tree is freed, glibc hands the top of its heap back to the operating system (whatever
exceeds 128 KiB). The next file's parse then grows the heap again, and the kernel faults in
and zero-fills the same pages once more: scanning 2,000 test files took 500,000 page faults,
and about a tenth of the scan's time went on them. Raising glibc's trim threshold while a
process scans keeps those pages for the next file instead (22,000 faults), at the price of
keeping up to :data:`RETAINED` bytes of freed memory mapped until the scan ends: the peak is
the same either way. Setting it also stops glibc from adapting its mmap threshold for the rest
of the process, which is why only processes that pytest-ssot owns (``ssot`` and its scanning
workers and helper) do this, never a pytest session.

Only glibc has the setting, and a user who tunes malloc through the environment keeps their
own choice: elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterator

M_TRIM_THRESHOLD = -1  # from glibc's <malloc.h>
DEFAULT_TRIM_THRESHOLD = 128 * 1024  # glibc's own default
RETAINED = 64 * 1024 * 1024
# Environment settings through which a user tunes glibc's trimming themselves.
USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
USER_TUNABLES = ("glibc.malloc.trim_threshold", "glibc.malloc.top_pad")

_depth = 0


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None where this process does not run on glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    if not libc.startswith("glibc"):
        return None
    try:
        function = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def _user_tuned() -> bool:
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(name in os.environ for name in USER_SETTINGS) or any(
        name in tunables for name in USER_TUNABLES
    )


def _set_trim_threshold(size: int) -> bool:
    mallopt = _mallopt()
    return mallopt is not None and mallopt(M_TRIM_THRESHOLD, size) == 1


def retain() -> bool:
    """Keep freed heap memory for the rest of this process (a worker that only scans).
    Whether the setting took effect."""
    return not _user_tuned() and _set_trim_threshold(RETAINED)


@contextlib.contextmanager
def retained() -> Iterator[bool]:
    """Keep freed heap memory inside the block, then trim as glibc does by default (nesting
    is fine). Yields whether the setting took effect."""
    global _depth
    applied = _depth > 0 or retain()
    _depth += applied
    try:
        yield applied
    finally:
        _depth -= applied
        if applied and _depth == 0:
            _set_trim_threshold(DEFAULT_TRIM_THRESHOLD)
