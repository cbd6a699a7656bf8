"""End to end on a copy of the example suite: `ssot fix` leaves fewer violations, no new one,
and a suite whose tests still pass (run in a real pytest subprocess)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("libcst")

from pytest_ssot.config import Config, load
from pytest_ssot.fix import run
from pytest_ssot.model import Finding, fingerprints
from pytest_ssot.paths import relpath
from pytest_ssot.rules import RuleSet, builtin_rules, check_file

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_backend"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    copy = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return copy


def static_findings(root: Path, config: Config) -> list[Finding]:
    ruleset = RuleSet(tuple(builtin_rules(config)))
    findings: list[Finding] = []
    for path in sorted((root / "tests").rglob("*.py")):
        rel = relpath(path, root)
        if config.is_excluded(rel) or not (
            path.name.startswith("test_") or path.name == "conftest.py"
        ):
            continue
        findings.extend(check_file(path, rel, ruleset, full=True)[1])
    return findings


def pytest_run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def outcomes(root: Path, junit: Path) -> dict[str, str]:
    """Each test's outcome from a plain pytest run (no ssot), read from its JUnit XML."""
    pytest_run(root, "-p", "no:ssot", "-q", f"--junitxml={junit}")
    results: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        status = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                status = tag
        results[f"{case.get('classname')}.{case.get('name')}"] = status
    return results


def ssot_report(root: Path, report: Path) -> dict[str, Any]:
    pytest_run(root, "-p", "ssot", "--ssot-mode=warn", f"--ssot-report=json:{report}")
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def test_fix_on_the_example_suite_leaves_fewer_violations_and_passing_tests(
    suite: Path, tmp_path: Path
) -> None:
    config = load(rootdir=suite)
    before = static_findings(suite, config)
    tests_before = outcomes(suite, tmp_path / "before.xml")
    report_before = ssot_report(suite, tmp_path / "before.json")

    out = io.StringIO()
    assert run([suite / "tests"], config, diff=False, wrap_functions=False, out=out) == 0
    summary = out.getvalue()
    assert summary.startswith("ssot fix: 3 of 8 files changed\n")
    assert "fixed: 5 violations (SSOT001 1, SSOT002 3, SSOT004 1)\n" in summary
    assert "tests/unit/test_settings.py:7: SSOT002 monkeypatch.delenv(" in summary
    assert "tests/integration/test_presence_legacy.py: syntax error" in summary

    after = static_findings(suite, config)
    assert len(after) < len(before)
    assert set(fingerprints(after).values()) <= set(fingerprints(before).values())
    assert {f.code for f in after} == {"SSOT002", "SSOT003"}  # left: monkeypatch, mocks

    tests_after = outcomes(suite, tmp_path / "after.xml")
    assert tests_after == tests_before
    assert "failure" not in tests_after.values()
    assert list(tests_after.values()).count("passed") == 14

    # The plugin sees it too, SSOT001 included (decided on the real classes).
    report_after = ssot_report(suite, tmp_path / "after.json")
    rules_before = report_before["summary"]["by_rule"]
    rules_after = report_after["summary"]["by_rule"]
    assert all(rules_after.get(code, 0) <= n for code, n in rules_before.items())
    assert set(rules_after) <= set(rules_before)
    assert rules_after.get("SSOT001", 0) < rules_before["SSOT001"]
    assert report_after["summary"]["compliance"] > report_before["summary"]["compliance"]

    # Idempotent: a second run finds nothing left to rewrite.
    snapshot = {p: p.read_bytes() for p in suite.rglob("*.py")}
    out = io.StringIO()
    assert run([suite / "tests"], config, diff=False, wrap_functions=False, out=out) == 0
    assert out.getvalue().startswith("ssot fix: 0 of 8 files changed\n")
    assert {p: p.read_bytes() for p in suite.rglob("*.py")} == snapshot
