"""SSOT004 (a): a session not started by the unified runner stops (strict) or is reported
once (warn); it is about the session, never attributed to tests."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

RUNNER = "PYTEST_SSOT_RUNNER"
TESTS = """
    def test_one():
        pass

    def test_two():
        pass
"""


def _suite(pytester: pytest.Pytester, extra: str = "", mode: str = "warn") -> None:
    pytester.makepyprojecttoml(
        textwrap.dedent(
            f"""
            [tool.ssot]
            mode = "{mode}"
            runner = "unified"
            """
        )
        + textwrap.dedent(extra)
    )
    pytester.makepyfile(test_suite=TESTS)


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:report.json", *args)
    report_path = pytester.path / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return result, report


def test_a_session_started_by_the_runner_is_fine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNNER, "unified")
    _suite(pytester, mode="strict")
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    assert report["session"] == []
    assert "SSOT004" not in result.stdout.str()


def test_without_runner_configured_there_is_no_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RUNNER, raising=False)
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(test_suite=TESTS)
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    assert report["session"] == []


def test_warn_reports_it_once_in_the_summary_and_as_one_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNNER, "somebody-else")
    _suite(pytester)
    result, report = _run(pytester)
    result.assert_outcomes(passed=2, warnings=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*pyproject.toml:3: SSOTWarning: SSOT004 this pytest session was not started by the "
            "unified test runner 'unified' (PYTEST_SSOT_RUNNER='somebody-else'); run the suite "
            "through it*",
            "*SSOT compliance*",
            "session: SSOT004 this pytest session was not started by the unified test runner*",
        ]
    )
    assert result.stdout.str().count("SSOTWarning: SSOT004") == 1
    # about the session, not its tests: every test stays compliant
    assert report["summary"]["compliance"] == 100.0
    assert report["violations"] == []
    (session,) = report["session"]
    assert session["code"] == "SSOT004"
    assert session["nodeids"] == []
    assert (session["path"], session["line"]) == ("pyproject.toml", 3)


@pytest.mark.parametrize(
    ("extra", "args"),
    [
        ("", ("--ssot-mode=strict",)),
        ('rules = { SSOT004 = "strict" }', ()),
    ],
    ids=["mode-option", "rule-mode"],
)
def test_strict_stops_before_collection_with_exit_code_4(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, extra: str, args: tuple[str, ...]
) -> None:
    monkeypatch.delenv(RUNNER, raising=False)
    _suite(pytester, extra=extra)
    result, report = _run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert report == {}
    result.stderr.fnmatch_lines(
        [
            "ERROR: pytest-ssot: SSOT004 this pytest session was not started by the unified "
            "test runner 'unified' (PYTEST_SSOT_RUNNER is not set); run the suite through it "
            "(`ssot run*`, or the team's runner, which sets PYTEST_SSOT_RUNNER=unified) "
            "(unified-runner-bypass)"
        ]
    )
    assert "collected" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_warnings_as_errors_turn_it_into_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RUNNER, raising=False)
    _suite(pytester)
    result, _ = _run(pytester, "-W", "error::pytest_ssot.SSOTWarning")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-ssot: SSOT004 *"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("extra", "args"),
    [('rules = { SSOT004 = "off" }', ()), ("", ("--ssot-mode=off",))],
    ids=["rule-off", "plugin-off"],
)
def test_off_means_no_check(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, extra: str, args: tuple[str, ...]
) -> None:
    monkeypatch.delenv(RUNNER, raising=False)
    _suite(pytester, extra=extra, mode="strict")
    result = pytester.runpytest("-p", "ssot", *args)
    result.assert_outcomes(passed=2)
    assert "SSOT004" not in result.stdout.str()


def test_xdist_workers_inherit_the_controllers_decision(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    monkeypatch.delenv(RUNNER, raising=False)
    _suite(pytester)
    result, report = _run(pytester, "-n", "2", "-p", "no:benchmark")
    # one warning in all: workers neither re-check nor re-warn
    result.assert_outcomes(passed=2, warnings=1)
    assert len(report["session"]) == 1
    assert report["summary"]["compliance"] == 100.0


def test_xdist_strict_stops_in_the_controller(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    monkeypatch.delenv(RUNNER, raising=False)
    _suite(pytester, mode="strict")
    result, _ = _run(pytester, "-n", "2", "-p", "no:benchmark")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-ssot: SSOT004 *"])
