"""A content-keyed cache of scanner facts, shared by the plugin (in pytest's cache directory)
and the CLI, safe under concurrent xdist workers.

Entries are keyed by a digest of the file's bytes, the pytest-ssot version and the settings
that change what a scan yields, so an edited file, an upgrade or a config change misses. Each
entry is written atomically; one that cannot be read back exactly is ignored and rewritten,
never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pytest_ssot.scanner import FileFacts

CACHE_FORMAT = 1


class ScanCache:
    def __init__(self, directory: Path | None, salt: str) -> None:
        self.directory = directory
        self.salt = salt
        self.hits = 0
        self.misses = 0

    def key(self, data: bytes) -> str:
        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(self.salt.encode())
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, relpath: str) -> FileFacts | None:
        if self.directory is None:
            return None
        try:
            with self._entry(key).open("rb") as handle:
                payload = json.load(handle)
            if payload.get("format") != CACHE_FORMAT or payload.get("key") != key:
                raise ValueError("foreign entry")
            facts = FileFacts.from_dict(payload["facts"])
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.misses += 1  # corrupt, truncated or foreign: rewritten by the next put
            return None
        self.hits += 1
        # The same content may live at another path (a copied file): facts carry the path.
        return facts if facts.path == relpath else _with_path(facts, relpath)

    def put(self, key: str, facts: FileFacts) -> None:
        if self.directory is None:
            return
        entry = self._entry(key)
        payload = {"format": CACHE_FORMAT, "key": key, "facts": facts.to_dict()}
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(payload, handle, separators=(",", ":"))
                os.replace(tmp, entry)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            pass  # a read-only or full cache directory only costs speed


def _with_path(facts: FileFacts, relpath: str) -> FileFacts:
    import dataclasses

    return dataclasses.replace(facts, path=relpath)
