"""`ssot fix` through the real command line, then `ssot check`, on a copy of the example suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("libcst")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_backend"


def ssot(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest_ssot", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def check(root: Path) -> dict[str, Any]:
    completed = ssot(root, "check", "--no-cache", "--format", "json")
    assert completed.returncode in (0, 1), completed.stderr
    data: dict[str, Any] = json.loads(completed.stdout)
    return data


def test_ssot_fix_then_ssot_check_reports_fewer_violations_and_nothing_new(
    tmp_path: Path,
) -> None:
    root = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    before = check(root)
    sources = {p: p.read_bytes() for p in root.rglob("*.py")}

    dry = ssot(root, "fix", "--diff", "tests")
    assert dry.returncode == 0, dry.stderr
    assert "+class BaseTestCase(SSotBaseTestCase):\n" in dry.stdout
    assert "3 of 8 files would change" in dry.stdout + dry.stderr
    assert {p: p.read_bytes() for p in root.rglob("*.py")} == sources

    done = ssot(root, "fix", "tests")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ssot fix: 3 of 8 files changed\n")

    after = check(root)
    by_rule_before = before["summary"]["by_rule"]
    by_rule_after = after["summary"]["by_rule"]
    assert after["summary"]["violations"] < before["summary"]["violations"]
    assert all(by_rule_after.get(code, 0) <= n for code, n in by_rule_before.items())
    assert set(by_rule_after) <= set(by_rule_before)
    fingerprints_before = {v["fingerprint"] for v in before["violations"]}
    assert {v["fingerprint"] for v in after["violations"]} <= fingerprints_before
    assert after["summary"]["compliance"] > before["summary"]["compliance"]


def test_ssot_fix_without_a_fix_table_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ssot]\nmode = 'warn'\n", encoding="utf-8")
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    completed = ssot(tmp_path, "fix")
    assert completed.returncode == 2
    assert "nothing to rewrite to: add a [tool.ssot.fix] table" in (
        completed.stdout + completed.stderr
    )
