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

Finding a file's entry means reading and hashing the whole file, which on a warm cache is most
of what a lookup costs. :class:`KeyIndex` (``<directory>/keys.json``) remembers each file's key
under what the file system says of it (device, inode, size, modification and change times), as
git's index does, so an unchanged file is only looked at with ``stat``.
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

from pytest_ssot._version import __version__ as VERSION
from pytest_ssot.scanner import FileFacts

CACHE_FORMAT = 2
MAX_AGE_DAYS = 30
DAY = 24 * 60 * 60
PRUNE_STAMP = "last-pruned"
KEY_LENGTH = 40  # hex digits of a content key
KEY_INDEX = "keys.json"
KEY_INDEX_FORMAT = 1
# A file changed again within this long of being read could keep the same times (timestamps
# are as coarse as the kernel's tick, two seconds on FAT): its key is not remembered until
# it has been still for longer (git's "racily clean" entries).
SETTLED_NS = 2_000_000_000


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ScanCache:
    """Scanner facts by content key. ``directory=None`` caches nothing (every get misses)."""

    def __init__(self, directory: Path | None, salt: str) -> None:
        self.directory = directory
        self.salt = salt
        self._salt = f"\0{VERSION}\0{CACHE_FORMAT}\0{salt}".encode()
        self.identity = _digest(self._salt)  # what every key of this cache is salted with
        self.hits = 0
        self.misses = 0

    def key(self, data: bytes) -> str:
        digest = hashlib.blake2b(data, digest_size=KEY_LENGTH // 2)
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
        with contextlib.suppress(OSError):
            _write_atomically(self._entry(key), header.encode("ascii") + b"\n" + body)

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
                if bucket.name.startswith(".tmp-"):  # the key index's, left by a crash
                    with contextlib.suppress(OSError):
                        if bucket.stat().st_mtime < stale_tmp:
                            bucket.unlink()
                            removed += 1
                    continue
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


class KeyIndex:
    """The content keys of a cache's files by their ``stat``: what a file that has not changed
    since it was last read hashes to, without reading it.

    A key is trusted only while the file's device, inode, size, modification and change times
    are all as they were when it was read; the change time cannot be set back by tools that
    restore modification times. An index that is missing, corrupt or made for other settings
    starts empty; only speed depends on it. Entries unused for :data:`MAX_AGE_DAYS` are dropped
    when it is saved, so files deleted long ago do not stay in it.
    """

    def __init__(self, cache: ScanCache) -> None:
        self.cache = cache
        self._today = int(time.time() // DAY)
        # path -> [device, inode, size, mtime_ns, ctime_ns, key, day last used]
        self._entries: dict[str, list[Any]] = self._load()
        self._changed = False
        # What a look-up that missed saw, to be remembered with the key the read gives.
        self._seen: dict[str, tuple[tuple[int, ...], int]] = {}

    @property
    def path(self) -> Path | None:
        return None if self.cache.directory is None else self.cache.directory / KEY_INDEX

    def _load(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        try:
            header_line, newline, body = self.path.read_bytes().partition(b"\n")
            header: Any = json.loads(header_line)
            if (
                not newline
                or not isinstance(header, dict)
                or header.get("format") != KEY_INDEX_FORMAT
                or header.get("salt") != self.cache.identity
                or header.get("digest") != _digest(body)
            ):
                return {}
            entries: Any = json.loads(body)
        except (OSError, ValueError):
            return {}
        if not isinstance(entries, dict):
            return {}
        return {
            path: entry
            for path, entry in entries.items()
            if isinstance(entry, list)
            and len(entry) == 7
            and all(type(value) is int for value in entry[:5])
            and isinstance(entry[5], str)
            and len(entry[5]) == KEY_LENGTH
            and entry[5].isalnum()  # a key, never a path to read an entry from
            and entry[5].isascii()
            and type(entry[6]) is int
        }

    def lookup(self, path: str) -> str | None:
        """``path``'s key if it has not changed since it was read, else None."""
        if self.path is None:
            return None
        try:
            stat = os.stat(path)
        except (OSError, ValueError):
            return None
        signature = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        entry = self._entries.get(path)
        if entry is not None and tuple(entry[:5]) == signature:
            if entry[6] != self._today:
                entry[6] = self._today
                self._changed = True
            return str(entry[5])
        # Taken before the file is read: a change made while it is read shows in the next stat.
        self._seen[path] = signature, time.time_ns()
        return None

    def key(self, path: Path) -> str:
        """``path``'s key: from the index while the file is unchanged, else read, hashed
        and remembered. Raises what reading it raises (OSError, ValueError)."""
        key = self.lookup(str(path))
        if key is None:
            key = self.cache.key(path.read_bytes())
            self.remember(str(path), key)
        return key

    def remember(self, path: str, key: str) -> None:
        """``key`` is what ``path`` hashed to, read after the :meth:`lookup` that missed."""
        seen = self._seen.pop(path, None)
        if seen is None:
            return
        signature, looked = seen
        if looked - max(signature[3], signature[4]) < SETTLED_NS:
            return
        self._entries[path] = [*signature, key, self._today]
        self._changed = True

    def save(self) -> None:
        """Write the index if it changed, atomically; a read-only cache only costs speed."""
        if self.path is None or not self._changed:
            return
        oldest = self._today - MAX_AGE_DAYS
        entries = {path: entry for path, entry in self._entries.items() if entry[6] >= oldest}
        body = json.dumps(entries, separators=(",", ":"), sort_keys=True).encode("utf-8")
        header = json.dumps(
            {"format": KEY_INDEX_FORMAT, "salt": self.cache.identity, "digest": _digest(body)}
        )
        with contextlib.suppress(OSError):
            _write_atomically(self.path, header.encode("ascii") + b"\n" + body)
        self._changed = False


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _with_path(facts: FileFacts, relpath: str) -> FileFacts:
    import dataclasses

    return dataclasses.replace(facts, path=relpath)
