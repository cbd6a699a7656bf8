"""The migration ratchet: a sorted, human-diffable JSON file of known violations."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_ssot.errors import BaselineError
from pytest_ssot.model import Finding

BASELINE_VERSION = 1
ENTRY_KEYS = ("fingerprint", "code", "path", "scope", "line", "message")


def load(path: Path) -> dict[str, dict[str, Any]]:
    """Known violations by fingerprint. A missing file is an empty baseline; an unreadable or
    malformed one is a usage error naming the file (and is never overwritten)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc}") from None
    hint = "fix it or delete it and run with --ssot-update-baseline"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: the baseline is not valid JSON ({exc}); {hint}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise BaselineError(
            f'{path}: not a pytest-ssot baseline (expected {{"version": 1, '
            f'"entries": [...]}}); {hint}'
        )
    entries = data.get("entries")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries
    ):
        raise BaselineError(f"{path}: every baseline entry needs a fingerprint; {hint}")
    return {entry["fingerprint"]: entry for entry in entries}


def entry(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
        "code": finding.code,
        "path": finding.path,
        "scope": finding.scope.dotted,
        "line": finding.line,
        "message": finding.message,
    }


def render(entries: Iterable[Mapping[str, Any]]) -> str:
    ordered = sorted(
        ({k: e[k] for k in ENTRY_KEYS if k in e} for e in entries),
        key=lambda e: (
            e["path"],
            e["code"],
            e.get("scope", ""),
            e.get("line", 0),
            e["fingerprint"],
        ),
    )
    return json.dumps({"version": BASELINE_VERSION, "entries": ordered}, indent=2) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and ``os.replace``, so a reader (or a
    crash) only ever sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
