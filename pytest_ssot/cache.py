"""A content-keyed cache of scanner facts, shared by the plugin (in pytest's cache directory)
and the CLI, safe under concurrent xdist workers.

An entry's key is a digest of the file's bytes, the pytest-ssot version and the settings that
change what a scan yields (``salt``: scanner version, watched names, depth), so an edited file,
an upgrade or a config change misses. Entries are written atomically (a temporary file in the
same directory, then ``os.replace``), so concurrent readers see a whole entry or none. An entry
carries its key and a digest of its body: one that is truncated, corrupt or written for another
key is ignored and rewritten by the next scan, never trusted.

Layout: ``<directory>/<key[:2]>/<key>.json``, each file a one-line JSON header
``{"format", "key", "digest"}`` and the facts as JSON. Entries not used for
:data:`MAX_AGE_DAYS` are pruned by :meth:`ScanCache.prune` (the plugin calls it at most
daily), so a cache that sees years of edits does not grow without bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from pytest_ssot.scanner import FileFacts

CACHE_FORMAT = 2
MAX_AGE_DAYS = 30
DAY = 24 * 60 * 60
PRUNE_STAMP = "last-pruned"


def _version() -> str:
    # Read here, not from pytest_ssot/__init__ (which can reach the pytest plugin): the core
    # never imports pytest.
    try:
        from importlib.metadata import version

        return version("pytest-ssot")
    except Exception:  # pragma: no cover - a source tree without metadata
        return "unknown"


VERSION = _version()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ScanCache:
    """Scanner facts by content key. ``directory=None`` caches nothing (every get misses)."""

    def __init__(self, directory: Path | None, salt: str) -> None:
        self.directory = directory
        self.salt = salt
        self._salt = f"\0{VERSION}\0{CACHE_FORMAT}\0{salt}".encode()
        self.hits = 0
        self.misses = 0

    def key(self, data: bytes) -> str:
        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(self._salt)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether an entry for ``key`` exists (not whether it is sound: :meth:`get` checks).
        One that cannot be looked at (a directory without permissions) is not there."""
        if self.directory is None:
            return False
        try:
            return self._entry(key).is_file()
        except OSError:
            return False

    def get(self, key: str, relpath: str) -> FileFacts | None:
        """The facts stored under ``key`` (with ``relpath`` as their path), or None."""
        if self.directory is None:
            return None
        try:
            with self._entry(key).open("rb") as handle:
                raw = handle.read()
                mtime = os.fstat(handle.fileno()).st_mtime
            facts = self._decode(raw, key)
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            self.misses += 1  # corrupt, truncated or foreign: rewritten by the next put
            return None
        self.hits += 1
        if mtime < time.time() - DAY:
            # Used again: keep it from being pruned (at most one write a day per entry).
            with contextlib.suppress(OSError):
                os.utime(self._entry(key))
        # The same content may live at another path (a copied file): facts carry the path.
        return facts if facts.path == relpath else _with_path(facts, relpath)

    @staticmethod
    def _decode(raw: bytes, key: str) -> FileFacts:
        header_line, newline, body = raw.partition(b"\n")
        if not newline:
            raise ValueError("truncated entry")
        header: Any = json.loads(header_line)
        if not isinstance(header, dict):
            raise ValueError("not an entry")
        if header.get("format") != CACHE_FORMAT or header.get("key") != key:
            raise ValueError("foreign entry")
        if header.get("digest") != _digest(body):
            raise ValueError("corrupt entry")
        data: Any = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not an entry")
        return FileFacts.from_dict(data)

    def put(self, key: str, facts: FileFacts) -> None:
        """Store ``facts`` under ``key``; a read-only or full cache only costs speed."""
        if self.directory is None:
            return
        body = json.dumps(facts.to_dict(), separators=(",", ":")).encode("utf-8")
        header = json.dumps({"format": CACHE_FORMAT, "key": key, "digest": _digest(body)})
        entry = self._entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(header.encode("ascii") + b"\n" + body)
                os.replace(tmp, entry)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            pass

    def prune(self, max_age_days: float = MAX_AGE_DAYS, *, every_days: float = 1.0) -> int:
        """Remove entries (and stray temporary files) unused for ``max_age_days``; at most
        once per ``every_days``. Returns how many files were removed."""
        if self.directory is None:
            return 0
        now = time.time()
        stamp = self.directory / PRUNE_STAMP
        try:
            if now - stamp.stat().st_mtime < every_days * DAY:
                return 0
        except FileNotFoundError:
            pass
        except OSError:
            return 0
        try:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
        except OSError:
            return 0
        removed = 0
        cutoff = now - max_age_days * DAY
        stale_tmp = now - DAY  # a temporary file a day old belongs to no running writer
        with contextlib.suppress(OSError):
            for bucket in self.directory.iterdir():
                if not bucket.is_dir() or len(bucket.name) != 2:
                    continue
                for path in bucket.iterdir():
                    try:
                        mtime = path.stat().st_mtime
                        temporary = path.name.startswith(".tmp-")
                        if mtime < (stale_tmp if temporary else cutoff):
                            path.unlink()
                            removed += 1
                    except OSError:
                        continue
        return removed


def _with_path(facts: FileFacts, relpath: str) -> FileFacts:
    import dataclasses

    return dataclasses.replace(facts, path=relpath)
