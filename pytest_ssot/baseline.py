"""The migration ratchet: a sorted, human-diffable JSON file of known violations.

The file holds one entry per line, sorted by path, scope, rule and line, so a pull request that
fixes or adds a violation shows up as exactly that line in the diff.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import re
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_ssot.errors import BaselineError
from pytest_ssot.model import Finding

BASELINE_VERSION = 1
ENTRY_KEYS = ("path", "line", "code", "scope", "message", "source", "fingerprint")
_REQUIRED = ("fingerprint", "code", "path")
_HINT = "fix it, or delete it and write it again (ssot baseline, or pytest --ssot-update-baseline)"

Entry = Mapping[str, Any]


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Known violations by fingerprint. A missing file is an empty baseline; an unreadable or
    malformed one is a usage error naming the file (and is never overwritten)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BaselineError(f"{path}: cannot read the baseline ({reason})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # also too deep, or a 5,000-digit number
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise BaselineError(f"{path}: the baseline is not valid JSON ({reason}); {_HINT}") from None
    if not isinstance(data, dict) or "entries" not in data or "version" not in data:
        raise BaselineError(
            f'{path}: not a pytest-ssot baseline (expected {{"version": 1, "entries": [...]}}); '
            f"{_HINT}"
        )
    # (Not True or 1.0, which equal 1 in Python: the file says what it is exactly.)
    if type(data["version"]) is not int or data["version"] != BASELINE_VERSION:
        raise BaselineError(
            f"{path}: baseline version {data['version']!r} is not supported by this pytest-ssot "
            f"(it reads version {BASELINE_VERSION}); upgrade pytest-ssot or regenerate the file"
        )
    entries = data["entries"]
    if not isinstance(entries, list):
        raise BaselineError(f'{path}: "entries" must be a list; {_HINT}')
    known: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(entries):
        problem = _entry_problem(item)
        if problem:
            raise BaselineError(f"{path}: entry {index + 1} {problem}; {_HINT}")
        known[item["fingerprint"]] = item
    return known


def gone(root: Path, path: str) -> bool:
    """Whether the file a baseline entry names (rootdir-relative) no longer exists: whatever
    it held is fixed. A path no file can have (a name too long, a NUL) is gone too; one that
    cannot be looked at (no permission) is not taken to be."""
    try:
        return not (root / path).exists()
    except OSError as exc:
        return exc.errno == errno.ENAMETOOLONG
    except ValueError:
        return True


def _entry_problem(item: object) -> str | None:
    if not isinstance(item, dict):
        return f"is {type(item).__name__}, not an object"
    for key in _REQUIRED:
        if not isinstance(item.get(key), str) or not item[key]:
            return f"needs a string {key!r}"
    line = item.get("line", 0)
    if not isinstance(line, int) or isinstance(line, bool):
        return f"has a non-integer 'line' ({line!r:.40})"
    for key in ("scope", "message", "source"):  # sorted, shown and compared as text
        if key in item and not isinstance(item[key], str):
            return f"has a non-string {key!r} ({item[key]!r:.40})"
    return None


def entry(finding: Finding, fingerprint: str) -> dict[str, Any]:
    """The baseline entry of one violation. Only the fingerprint matches; the rest is there
    for the humans reviewing the diff (and to decide which entries a partial run may judge)."""
    data: dict[str, Any] = {
        "path": finding.path,
        "line": finding.line,
        "code": finding.code,
        "scope": finding.scope.dotted,
        "message": finding.message,
        "fingerprint": fingerprint,
    }
    if finding.source != "static":
        data["source"] = finding.source
    return data


def _sort_key(e: Entry) -> tuple[str, str, str, int, str]:
    return (e["path"], e.get("scope") or "", e["code"], e.get("line") or 0, e["fingerprint"])


def render(entries: Iterable[Entry]) -> str:
    """The file's text: stable key order, one entry per line, sorted, no duplicates."""
    unique = {e["fingerprint"]: e for e in entries}
    ordered = sorted(unique.values(), key=_sort_key)
    lines = [
        "  " + json.dumps({k: e[k] for k in ENTRY_KEYS if k in e}, ensure_ascii=False)
        for e in ordered
    ]
    body = ",\n".join(lines)
    return (
        f'{{\n  "version": {BASELINE_VERSION},\n  "entries": [\n{body}\n  ]\n}}\n'
        if lines
        else f'{{\n  "version": {BASELINE_VERSION},\n  "entries": []\n}}\n'
    )


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Which baseline entries a session was in a position to confirm or retire.

    A run of part of the suite (paths given, ``-k``/``-m``, ``--lf``, ``--collect-only``) must
    neither call the rest of the baseline stale nor drop it on update: an entry outside the
    coverage was simply not looked at.
    """

    roots: tuple[str, ...] = ("",)  # rootdir-relative paths the session ran ("": all)
    complete_files: frozenset[str] = frozenset()  # test modules with every test selected
    scanned: frozenset[str] = frozenset()  # files whose static findings are all attributed
    gone: frozenset[str] = frozenset()  # entry paths that no longer exist on disk
    # Files that could not be (fully) checked (unparsable, unreadable, a rule failed on
    # them): their entries are neither confirmed nor retired, so nothing is lost to a bug.
    unchecked: frozenset[str] = frozenset()
    whole: bool = True  # nothing deselected: conftests and helpers under roots are judged
    ran: bool = True  # tests ran to the end: runtime entries under roots are judged
    # Fingerprints of violations still in the code that a static check attributes to no test
    # (a fixture only `request.getfixturevalue` reaches): a test run may attribute them, so
    # only a run judges their entries.
    unattributed: frozenset[str] = frozenset()

    def under_roots(self, path: str) -> bool:
        return any(not r or path == r or path.startswith(r.rstrip("/") + "/") for r in self.roots)

    def covers(self, item: Entry) -> bool:
        path = item.get("path", "")
        if not self.under_roots(path) or item.get("fingerprint") in self.unattributed:
            return False
        if path in self.gone:
            return True  # the file was deleted: whatever it held is fixed
        if path in self.unchecked:
            return False
        if item.get("source", "static") != "static":
            return self.whole and self.ran
        if path in self.complete_files:
            return True
        return self.whole and path in self.scanned


EVERYTHING = Coverage()


def stale(entries: Iterable[Entry], coverage: Coverage = EVERYTHING) -> tuple[Entry, ...]:
    """The unmatched entries this session could judge: those are fixed."""
    return tuple(e for e in entries if coverage.covers(e))


def updated(
    known: Mapping[str, Entry],
    current: Iterable[Entry],
    covers: Callable[[Entry], bool] = EVERYTHING.covers,
    renamed: Iterable[str] = (),
) -> list[Entry]:
    """The next baseline: every current violation, plus the known entries this session could
    not judge (outside the paths it ran, deselected tests, runtime entries of a partial run).
    A ``renamed`` entry (an earlier version's fingerprint of a current violation) is replaced
    by that violation's entry."""
    fresh = list(current)
    seen = {e["fingerprint"] for e in fresh} | set(renamed)
    kept = [e for fp, e in known.items() if fp not in seen and not covers(e)]
    return [*kept, *fresh]


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and ``os.replace``, so a reader (or a
    crash, or a full disk) only ever sees the old file or the whole new one.

    The new file keeps the old one's permissions (a plain ``mkstemp`` would leave it 0600).
    A symbolic link is followed (its target is the file meant, the link stays a link), and a
    path that is not a regular file (``/dev/stdout``, a named pipe) is written into, not
    replaced: there is nothing there to keep whole.
    """
    try:
        kind = path.stat().st_mode
    except OSError:
        kind = None
    if kind is not None and not stat.S_ISREG(kind):
        if stat.S_ISDIR(kind):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
            f.write(text)
        return
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        # backslashreplace: a file name that is not UTF-8 arrives as lone surrogates; written
        # as "\udcff" it stays valid UTF-8, and inside a JSON string (the baseline) it is the
        # JSON escape of that very character, so it reads back equal.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _remove_stale_temporaries(path)


STALE_TEMPORARY_SECONDS = 600


def _remove_stale_temporaries(path: Path) -> None:
    """Remove what writers killed mid-write (``kill -9``, a power cut) left next to ``path``.

    Only temporaries old enough that no live writer can still own them: a concurrent
    session's write takes well under a second.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{12}}\.tmp")
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            if pattern.fullmatch(entry.name):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
