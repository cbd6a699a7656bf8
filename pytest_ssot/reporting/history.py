"""``--ssot-history PATH``: one JSON line per completed session, for the HTML trend chart.

An append-only JSON Lines file: cheap to write from every CI run on the main branch, easy to
keep as a CI artifact or cache, and a damaged line costs that line only.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ssot.policy import Result

HISTORY_VERSION = 1
GIT_TIMEOUT = 5.0  # seconds; a hung git (network filesystem, lock) must not hang pytest


def record(
    result: Result,
    *,
    version: str,
    mode: str,
    commit: str | None = None,
    when: datetime.datetime | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """The history line of one session."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return {
        "version": HISTORY_VERSION,
        "time": when.astimezone(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "tool_version": version,
        "mode": mode,
        "partial": partial,
        "tests": result.tests,
        "compliant": result.compliant,
        "compliance": result.compliance,
        "violations": len(result.outcomes),
        "new": result.count("new"),
        "known": result.count("known"),
        "exempted": result.count("exempted"),
        "stale": len(result.stale),
        "by_rule": result.by_rule,
        "by_tier": {
            name: {"tests": s.tests, "compliant": s.compliant, "compliance": s.compliance}
            for name, s in result.by_tier.items()
        },
    }


def append(path: Path, line: Mapping[str, Any]) -> None:
    """Append one record as one line (a single ``write`` on an ``O_APPEND`` file, so parallel
    CI jobs writing to a shared file do not interleave within a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        size = os.fstat(fd).st_size
        if size:
            # A previous writer killed mid-line would glue this record onto its fragment.
            with open(path, "rb") as existing:
                existing.seek(size - 1)
                if existing.read(1) != b"\n":
                    text = "\n" + text
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def read(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The records of a history file, oldest first, and how many lines were unreadable.

    A missing file is an empty history. Unreadable lines are skipped, not fatal: the history
    is a convenience, and one torn line must not cost the whole trend.
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], 0
    records: list[dict[str, Any]] = []
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):  # torn, too deep, or a 5,000-digit number
            bad += 1
            continue
        if isinstance(data, dict) and _plausible(data, timed=True):
            by_tier = data.get("by_tier")
            if by_tier is not None:
                # Charts read only well-formed tiers; one odd tier costs that tier's point.
                data["by_tier"] = (
                    {k: v for k, v in by_tier.items() if isinstance(v, dict) and _plausible(v)}
                    if isinstance(by_tier, dict)
                    else {}
                )
            records.append(data)
        else:
            bad += 1
    return records, bad


def _plausible(data: Mapping[str, Any], *, timed: bool = False) -> bool:
    compliance = data.get("compliance")
    return (
        (not timed or isinstance(data.get("time"), str))
        and isinstance(compliance, (int, float))
        and not isinstance(compliance, bool)
        and 0 <= compliance <= 100
    )


def trend(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records a trend chart should draw: whole-suite sessions when there are any (a run
    of one directory says nothing about the suite), else everything."""
    whole = [r for r in records if not r.get("partial")]
    return whole or list(records)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git, not a repository, or it hung
    if completed.returncode != 0:
        return None
    return completed.stdout.strip() or None


def git_commit(cwd: Path) -> str | None:
    """``git rev-parse HEAD`` in ``cwd``, or None when that is not available."""
    return _git(["rev-parse", "HEAD"], cwd)


def git_prefix(cwd: Path) -> str:
    """Where ``cwd`` sits inside its git work tree (``git rev-parse --show-prefix``), with
    "/" and no trailing slash; "" at the top or outside a repository."""
    return (_git(["rev-parse", "--show-prefix"], cwd) or "").strip("/")
