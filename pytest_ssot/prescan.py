"""Scan test modules into the scan cache in a second process while pytest collects them.

On a cold cache, parsing every test module is nearly all that pytest-ssot adds to collection,
and pytest collects on one core. So the plugin starts this helper, streams it each module's
path as pytest finds the module, and the helper scans it into the shared, content-keyed scan
cache (:mod:`pytest_ssot.cache`: atomic entries, safe for concurrent writers). When collection
ends the plugin scans what is still missing itself, in the opposite order, so the two meet in
the middle instead of doing the same files.

On a warm cache there is nothing to scan, and a second process reading and hashing every test
module again only to find it cached costs CPU for nothing (0.25 s at 2,000 files). So the
plugin looks each module up in the cache itself as pytest finds it, and starts the helper only
once enough of them are missing; the keys it computed spare it reading those files again when
it checks them.

The helper is only a shortcut, never a source of truth: an entry it writes is an ordinary
cache entry (keyed by content, checked by digest), and anything it did not finish, because it
crashed, was slow or never started, is scanned by the plugin as before.

Protocol on the helper's standard input: one JSON line of settings (``cache``, ``salt``,
``watched``), then one JSON line per file, ``[path, relpath]`` (its path as facts name it);
end of input means no more files.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from pytest_ssot.cache import ScanCache

# Unset or anything else: on where it helps; "0": off (for comparisons and bug reports).
ENV_SWITCH = "PYTEST_SSOT_PRESCAN"
# Below this many files to scan (not in the cache) a second Python process costs more than
# it saves.
WORTH_IT_AFTER = 20


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def may_help(cache: ScanCache) -> bool:
    """Whether a helper can help at all: not without a cache to fill, on one CPU, or when
    switched off with ``PYTEST_SSOT_PRESCAN=0``."""
    if cache.directory is None or os.environ.get(ENV_SWITCH) == "0":
        return False
    return available_cpus() >= 2


class Prescan:
    """The plugin's handle on one helper process."""

    def __init__(self, process: subprocess.Popen[bytes], stdin: IO[bytes]) -> None:
        self._process = process
        self._stdin: IO[bytes] | None = stdin
        self.submitted: list[str] = []  # rootdir-relative

    @classmethod
    def start(cls, cache: ScanCache, watched: tuple[str, ...]) -> Prescan | None:
        """A running helper, or None where it cannot help (see :func:`may_help`) or cannot
        be started."""
        if not may_help(cache):
            return None
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        # The helper must import this very copy of pytest-ssot, even one that is only on
        # sys.path (a source tree), not installed.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "pytest_ssot.prescan"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except (OSError, ValueError):
            return None
        assert process.stdin is not None
        settings = {"cache": str(cache.directory), "salt": cache.salt, "watched": list(watched)}
        prescan = cls(process, process.stdin)
        prescan._send(json.dumps(settings))
        return prescan

    def submit(self, path: Path, relpath: str) -> None:
        """Ask for ``path`` to be scanned (sent in batches, as the pipe's buffer fills)."""
        if self._send(json.dumps([str(path), relpath])):
            self.submitted.append(relpath)

    def _send(self, line: str) -> bool:
        if self._stdin is None:
            return False
        try:
            self._stdin.write(line.encode("ascii") + b"\n")
        except (OSError, ValueError):  # the helper is gone: the plugin scans everything itself
            self.close_input()
            return False
        return True

    def close_input(self) -> None:
        """No more files: the helper finishes what it was sent (skipping what is cached)."""
        stdin, self._stdin = self._stdin, None
        if stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

    def stop(self) -> None:
        """Stop the helper now (collection was cut short); its entries are atomic."""
        self.close_input()
        with contextlib.suppress(OSError):
            self._process.kill()
        self._process.wait()

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the helper to exit; one that hangs is killed (its entries are atomic)."""
        self.close_input()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def serve(stream: IO[bytes]) -> int:
    """The helper's loop: scan each path read from ``stream`` into the cache."""
    # Here, not at the top: the plugin imports this module in every session, and a session
    # that never starts the helper has no use for them.
    from pytest_ssot import heap
    from pytest_ssot.scanner import scan

    header = stream.readline()
    try:
        settings = json.loads(header)
        cache = ScanCache(Path(settings["cache"]), str(settings["salt"]))
        watched = tuple(str(name) for name in settings["watched"])
    except (ValueError, KeyError, TypeError):
        return 2
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)  # the plugin's own process (pytest collecting) comes first
    heap.retain()  # parsing file after file: keep the freed heap for the next file
    for line in stream:
        # Nothing here may stop the loop: the plugin redoes whatever the helper skips.
        with contextlib.suppress(Exception):
            path, relpath = json.loads(line)
            data = Path(path).read_bytes()
            key = cache.key(data)
            # The plugin may have done it already (or an earlier run: a warm cache). Whether
            # an entry is sound is the plugin's to check: it rescans a corrupt one itself.
            if not cache.has(key):
                cache.put(key, scan(data, relpath, watched))
    return 0


if __name__ == "__main__":
    raise SystemExit(serve(sys.stdin.buffer))
