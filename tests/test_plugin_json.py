"""The JSON report: exactly the SPEC's schema, with numbers that agree with each other."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import jsonschema
import pytest

import pytest_ssot

INT = {"type": "integer", "minimum": 0}
PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
STR = {"type": "string", "minLength": 1}
REL_PATH = {"type": "string", "pattern": r"^[^/\\][^\\]*$"}
CODE = {"type": "string", "pattern": r"^SSOT\d{3}$"}


def _object(properties: dict[str, Any], *, exact: bool = True) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": not exact,
    }


VIOLATION = _object(
    {
        "code": CODE,
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "path": REL_PATH,
        "line": {"type": "integer", "minimum": 1},
        "col": {"type": "integer", "minimum": 1},
        "message": STR,
        "severity": {"enum": ["error", "warning"]},
        "status": {"enum": ["new", "known", "exempted"]},
        "source": {"enum": ["static", "runtime"]},
        "tier": STR,
        "fingerprint": STR,
        "nodeids": {"type": "array", "items": STR},
    }
)
SCHEMA = _object(
    {
        "version": {"const": 1},
        "tool": _object({"name": {"const": "pytest-ssot"}, "version": STR}),
        "mode": {"enum": ["off", "warn", "strict"]},
        "summary": _object(
            {
                "tests": INT,
                "compliant": INT,
                "compliance": PERCENT,
                "violations": INT,
                "new": INT,
                "known": INT,
                "exempted": INT,
                "by_rule": {
                    "type": "object",
                    "propertyNames": CODE,
                    "additionalProperties": INT,
                },
                "by_tier": {
                    "type": "object",
                    "additionalProperties": _object(
                        {"tests": INT, "compliant": INT, "compliance": PERCENT}
                    ),
                },
            }
        ),
        "violations": {"type": "array", "items": VIOLATION},
        "stale": {"type": "array", "items": {"type": "object"}},
    },
    exact=False,  # documented extras (unchecked files, expired exemptions, ...) may follow
)

FILES = {
    "critical/test_core.py": """
        import os

        def test_env():
            os.environ.get("A")

        def test_clean():
            pass
    """,
    "unit/test_unit.py": """
        import os
        from unittest.mock import MagicMock

        import pytest

        @pytest.mark.ssot_exempt("SSOT003", reason="mock factory lands next sprint")
        def test_mock():
            MagicMock()

        @pytest.mark.parametrize("n", [1, 2])
        def test_env(n):
            os.getenv("B")

        def test_fixed_later():
            os.getenv("C")
    """,
}


def _suite(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        textwrap.dedent(
            """
            [tool.ssot]
            mode = "warn"
            baseline = "ssot-baseline.json"

            [[tool.ssot.tiers]]
            name = "critical"
            paths = ["critical/**"]
            mode = "strict"
            """
        )
    )
    for name, text in FILES.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _report(pytester: pytest.Pytester, *args: str) -> dict[str, Any]:
    pytester.runpytest("-p", "ssot", "--ssot-report", "json:out/ssot.json", *args)
    data: dict[str, Any] = json.loads((pytester.path / "out" / "ssot.json").read_text())
    return data


def test_the_report_follows_the_spec_schema_exactly(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    _report(pytester, "--ssot-update-baseline", "--ssot-mode=warn")
    # Fix one violation and add a new one: known, new, exempted and stale all appear.
    unit = pytester.path / "unit" / "test_unit.py"
    unit.write_text(
        unit.read_text().replace('os.getenv("C")', "pass")
        + '\ndef test_new():\n    os.environ["D"] = "1"\n'
    )
    report = _report(pytester)
    jsonschema.validate(report, SCHEMA)

    assert report["tool"] == {"name": "pytest-ssot", "version": pytest_ssot.__version__}
    assert report["mode"] == "warn"
    statuses = {(v["path"], v["line"]): v["status"] for v in report["violations"]}
    assert statuses == {
        ("critical/test_core.py", 4): "known",
        ("unit/test_unit.py", 8): "exempted",
        ("unit/test_unit.py", 12): "known",
        ("unit/test_unit.py", 18): "new",
    }
    assert [(s["code"], s["path"]) for s in report["stale"]] == [("SSOT002", "unit/test_unit.py")]
    by_line = {v["line"]: v for v in report["violations"]}
    assert by_line[12]["nodeids"] == [
        "unit/test_unit.py::test_env[1]",
        "unit/test_unit.py::test_env[2]",
    ]
    assert by_line[4]["severity"] == "error"  # the strict tier
    assert by_line[4]["tier"] == "critical"
    assert by_line[18]["severity"] == "warning"
    assert by_line[18]["tier"] == "default"
    assert by_line[8]["name"] == "ad-hoc-mock"
    assert {v["source"] for v in report["violations"]} == {"static"}

    summary = report["summary"]
    assert summary == {
        "tests": 7,
        "compliant": 3,  # test_clean, test_mock (exempted), test_fixed_later
        "compliance": 42.9,
        "violations": 4,
        "new": 1,
        "known": 2,
        "exempted": 1,
        "by_rule": {"SSOT002": 3, "SSOT003": 1},
        "by_tier": {
            "critical": {"tests": 2, "compliant": 1, "compliance": 50.0},
            "default": {"tests": 5, "compliant": 2, "compliance": 40.0},
        },
    }


def test_fingerprints_are_stable_across_runs_and_line_moves(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    first = _report(pytester)
    core = pytester.path / "critical" / "test_core.py"
    core.write_text("# a comment pushes everything down\n\n" + core.read_text())
    second = _report(pytester)
    moved = {(v["code"], v["fingerprint"]) for v in second["violations"]}
    assert moved == {(v["code"], v["fingerprint"]) for v in first["violations"]}
    assert [v["line"] for v in second["violations"] if v["path"] == "critical/test_core.py"] == [6]


def test_the_report_is_written_when_strict_mode_fails_tests(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    report = _report(pytester, "--ssot-mode=strict")
    assert report["mode"] == "strict"
    assert {v["severity"] for v in report["violations"]} == {"error"}
    assert report["summary"]["new"] == 3
