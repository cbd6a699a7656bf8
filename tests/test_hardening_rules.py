"""pytest-ssot's own failures: a rule that raises, a scanner or plugin bug. They degrade to a
warning naming the file and the rule while the session goes on with the other rules, or, where
the effective mode is strict, fail the affected tests closed; never an INTERNALERROR."""

from __future__ import annotations

import json
import pickle
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pytest_ssot.plugin
import pytest_ssot.rules
from pytest_ssot.cache import ScanCache
from pytest_ssot.config import Config
from pytest_ssot.model import Finding, RuleInfo
from pytest_ssot.rules import Checked, EnvironRule, RuleSet, builtin_rules, check_file
from pytest_ssot.scanner import FileFacts, scan

BROKEN_RULE = """
import dataclasses

from pytest_ssot.model import Finding, RuleInfo

INFO = RuleInfo(
    code="SSOT901", name="broken-rule", summary="s", why="w", example="e", use_instead="u"
)


@dataclasses.dataclass(frozen=True)
class BrokenRule:
    info: RuleInfo = INFO
    watched: tuple = ()

    def check(self, facts):
        if "boom" in facts.path:
            raise RuntimeError("rule exploded")
        if "flagged" in facts.path:
            yield Finding(code="SSOT901", path=facts.path, line=1, col=1, message="flagged")


def pytest_ssot_rules(config, ssot_config):
    return [BrokenRule()]
"""

BOOM = """
import os
from unittest import mock

RUN = False  # read by the static rules, never run (the runtime guard would see it)

def test_env():
    if RUN:
        os.getenv("PATH")

def test_clean():
    pass
"""


def _project(pytester: pytest.Pytester, mode: str = "warn") -> None:
    pytester.makepyprojecttoml(
        f'[tool.ssot]\nmode = "{mode}"\n\n'
        '[[tool.ssot.tiers]]\nname = "critical"\npaths = ["critical/**"]\nmode = "strict"\n'
    )
    pytester.makeconftest(BROKEN_RULE)
    (pytester.path / "critical").mkdir()
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    critical = textwrap.dedent(BOOM).replace("from unittest import mock\n", "")
    (pytester.path / "critical" / "test_boom_critical.py").write_text(critical)
    (pytester.path / "test_flagged.py").write_text("def test_flagged():\n    pass\n")


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "ssot", "--ssot-report=json:ssot.json", *args)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    report: dict[str, Any] = json.loads((pytester.path / "ssot.json").read_text())
    return result, report


def _violations(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v["code"], v["path"]) for v in report["violations"]}


# -- a plugin's rule that raises ----------------------------------------------------------------


def test_a_rule_that_raises_is_a_warning_naming_the_file_and_rule_and_the_others_still_apply(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result, report = _run(pytester, "--ssot-mode=warn")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=5, warnings=result.parseoutcomes()["warnings"])
    result.stdout.fnmatch_lines(
        [
            "*SSOTWarning: pytest-ssot could not check test_boom.py with rule SSOT901 "
            "(broken-rule): RuntimeError: rule exploded (conftest.BrokenRule, raised at "
            "*conftest.py:*); the other rules were applied, and its tests run*",
        ]
    )
    # Each failure is warned about once, not once per test.
    assert result.stdout.str().count("could not check test_boom.py") == 1
    # The other rules still checked the file, and the failing rule still checked the others.
    assert {
        ("SSOT002", "test_boom.py"),
        ("SSOT003", "test_boom.py"),
        ("SSOT901", "test_flagged.py"),
    } <= _violations(report)
    unchecked = {u["path"]: u["reason"] for u in report["unchecked"]}
    assert unchecked["test_boom.py"].startswith(
        "pytest-ssot could not check it with rule SSOT901 (broken-rule): RuntimeError: rule "
        "exploded"
    )


def test_strict_mode_fails_the_tests_of_a_file_it_could_not_check_closed(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result, _ = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The default tier warns; the strict tier's tests do not run their bodies.
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_clean*",
            "pytest-ssot (strict): could not check the code this test depends on, so the test "
            "does not run (strict mode fails closed):",
            "  critical/test_boom_critical.py: rule SSOT901 (broken-rule) raised RuntimeError: "
            "rule exploded",
            "This is a bug in pytest-ssot or in a plugin's rule: fix or report it, or run with "
            "--ssot-mode=warn to let the tests run unchecked.",
        ],
        consecutive=True,
    )


def test_under_xdist_the_failure_is_warned_once_and_decided_as_in_a_serial_run(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    _project(pytester)
    serial, serial_report = _run(pytester)
    distributed, report = _run(pytester, "-n", "2", "-p", "no:benchmark")
    assert distributed.ret == serial.ret == pytest.ExitCode.TESTS_FAILED
    warnings = serial.parseoutcomes()["warnings"]
    distributed.assert_outcomes(passed=3, errors=2, warnings=warnings)
    assert distributed.stdout.str().count("could not check test_boom.py") == 1
    assert report["unchecked"] == serial_report["unchecked"]
    assert report["summary"] == serial_report["summary"]


def test_warnings_as_errors_make_the_affected_test_error_cleanly(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result, _ = _run(pytester, "--ssot-mode=warn", "-W", "error::pytest_ssot.SSOTWarning")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*SSOTWarning: pytest-ssot could not check test_boom.py*"])


def test_a_rule_switched_off_may_fail_silently(pytester: pytest.Pytester) -> None:
    _project(pytester, mode="strict")
    toml = (pytester.path / "pyproject.toml").read_text()
    (pytester.path / "pyproject.toml").write_text(
        toml.replace('mode = "strict"\n\n', 'mode = "strict"\nrules = {SSOT901 = "off"}\n\n', 1)
    )
    for name in ("test_boom.py", "critical/test_boom_critical.py"):
        (pytester.path / name).write_text("def test_clean():\n    pass\n")
    result, report = _run(pytester)
    result.assert_outcomes(passed=3)
    assert report["unchecked"] == []


def test_a_broken_builtin_rule_degrades_the_same_way(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: EnvironRule, facts: FileFacts) -> Iterator[Finding]:
        raise ZeroDivisionError("division by zero in a built-in rule")

    monkeypatch.setattr(EnvironRule, "check", broken)
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*SSOTWarning: pytest-ssot could not check test_boom.py with rule SSOT002 "
            "(direct-environ-access): ZeroDivisionError: division by zero in a built-in rule "
            "(pytest_ssot.rules.EnvironRule, raised at *test_hardening_rules.py:*)*"
        ]
    )
    assert _violations(report) == {("SSOT003", "test_boom.py")}


def test_the_baseline_keeps_the_entries_of_a_file_a_rule_failed_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\nbaseline = "ssot-baseline.json"\n')
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    first = pytester.runpytest("-p", "ssot", "--ssot-update-baseline")
    first.stdout.fnmatch_lines(["*baseline ssot-baseline.json written: 2 entries*"])
    before = (pytester.path / "ssot-baseline.json").read_text()

    def broken(self: EnvironRule, facts: FileFacts) -> Iterator[Finding]:
        raise RuntimeError("boom")

    monkeypatch.setattr(EnvironRule, "check", broken)
    result, report = _run(pytester, "--ssot-update-baseline")
    # Not "fixed": the rule could not look, so its entry is neither stale nor dropped.
    assert report["stale"] == []
    assert "stale" not in result.stdout.str()
    assert (pytester.path / "ssot-baseline.json").read_text() == before


MALFORMED = {
    "info-raises": (
        "class Rule:\n"
        "    watched = ()\n"
        "    @property\n"
        "    def info(self):\n"
        "        raise RuntimeError('no info')\n"
        "    def check(self, facts):\n"
        "        return ()\n",
        "the rule conftest.Rule from a pytest_ssot_rules hook is malformed: reading it raised "
        "RuntimeError: no info at *conftest.py:5; a rule needs info (a RuleInfo), watched (a "
        "tuple of dotted names) and check(facts)",
    ),
    "no-info": (
        "class Rule:\n    info = None\n    watched = ()\n    def check(self, facts): ...\n",
        "*conftest.Rule * malformed: its info is NoneType, not a pytest_ssot.model.RuleInfo*",
    ),
    "bad-watched": (
        "from pytest_ssot.model import RuleInfo\n"
        "class Rule:\n"
        "    info = RuleInfo('SSOT990', 'r', '', '', '', '')\n"
        "    watched = 'os.environ'\n"
        "    def check(self, facts): ...\n",
        "*malformed: its watched is 'os.environ', not a tuple of dotted names*",
    ),
    "no-check": (
        "from pytest_ssot.model import RuleInfo\n"
        "class Rule:\n"
        "    info = RuleInfo('SSOT990', 'r', '', '', '', '')\n"
        "    watched = ()\n",
        "*malformed: it has no check(facts) method*",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_plugin_rule_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, case: str
) -> None:
    source, message = MALFORMED[case]
    pytester.makeconftest(
        source + "\ndef pytest_ssot_rules(config, ssot_config):\n    return [Rule()]\n"
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"ERROR: pytest-ssot: {message}".replace("ERROR: pytest-ssot: *", "*")]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_rules_hook_that_raises_is_a_usage_error_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "def pytest_ssot_rules(config, ssot_config):\n    raise ImportError('no rules today')\n"
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: pytest-ssot: a pytest_ssot_rules hook failed (ImportError: no rules today at "
            "*conftest.py:2); fix the plugin or conftest.py that implements it"
        ]
    )


# -- bugs in pytest-ssot itself -----------------------------------------------------------------


def _break_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    def unexpected(*args: object, **kwargs: object) -> Any:
        raise KeyError("nobody expected this")

    monkeypatch.setattr(pytest_ssot.plugin, "_related", unexpected)


def test_a_bug_while_checking_the_collected_tests_is_a_warning_not_an_internal_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_collection(monkeypatch)
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\nbaseline = "ssot-baseline.json"\n')
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    result, _ = _run(pytester, "--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*SSOTWarning: pytest-ssot failed while checking the collected tests (KeyError: "
            "'nobody expected this' at *test_hardening_rules.py:*); the tests run, but what "
            "pytest-ssot reports for this session is incomplete. This is a pytest-ssot bug*",
            "compliance * [[]incomplete: pytest-ssot failed while checking the collected tests*",
            "ssot: baseline ssot-baseline.json not updated (pytest-ssot failed while *",
        ],
        consecutive=False,
    )
    assert not (pytester.path / "ssot-baseline.json").exists()


def test_a_bug_while_checking_the_collected_tests_fails_closed_in_strict_mode(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_collection(monkeypatch)
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    result, _ = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "pytest-ssot (strict): could not check the code this test depends on, so the test "
            "does not run (strict mode fails closed):",
            "  pytest-ssot failed while checking the collected tests (KeyError: *",
        ]
    )


def test_a_violation_hook_that_raises_keeps_the_violation_and_is_a_warning(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makeconftest(
        "def pytest_ssot_violation(finding, config):\n    raise LookupError('no verdict')\n"
    )
    (pytester.path / "test_boom.py").write_text(textwrap.dedent(BOOM))
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=result.parseoutcomes()["warnings"])
    result.stdout.fnmatch_lines(
        [
            "*SSOTWarning: pytest-ssot failed while asking a pytest_ssot_violation hook about "
            "SSOT00* test_boom.py:* (LookupError: no verdict at *conftest.py:2); the tests run*",
            "compliance * [[]incomplete: pytest-ssot failed while asking *",
        ],
        consecutive=False,
    )
    assert _violations(report) == {("SSOT002", "test_boom.py"), ("SSOT003", "test_boom.py")}


def test_a_bug_at_the_end_of_the_session_is_one_line_and_keeps_the_exit_code(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unexpected(*args: object, **kwargs: object) -> Any:
        raise AttributeError("no such thing")

    monkeypatch.setattr(pytest_ssot.plugin.SSOTPlugin, "_coverage", unexpected)
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n", test_bad="def test_bad():\n    1/0\n")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "ssot: pytest-ssot failed at the end of the session (AttributeError: no such thing "
            "at *); reports and the baseline may not have been written. This is a pytest-ssot "
            "bug, please report it"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_usage_error_found_while_checking_the_tests_stays_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nbase_classes = ["no_such_module:Base"]\n')
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*base_classes entry 'no_such_module:Base' cannot be imported*"])


# -- the core: RuleSet.check and check_file never raise ----------------------------------------

INFO = RuleInfo(code="SSOT990", name="test-rule", summary="", why="", example="", use_instead="")


class _Rule:
    """A configurable rule for the unit tests below."""

    info = INFO
    watched: tuple[str, ...] = ()

    def __init__(self, *answers: object, fail: BaseException | None = None) -> None:
        self.answers = answers
        self.fail = fail

    def check(self, facts: FileFacts) -> Iterator[Any]:
        yield from self.answers
        if self.fail is not None:
            raise self.fail


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("even __str__ is broken")


def _finding(line: int, code: str = "SSOT990") -> Finding:
    return Finding(code=code, path="tests/test_x.py", line=line, col=1, message="m")


def _ruleset(*rules: Any) -> RuleSet:
    return RuleSet((*builtin_rules(Config(root=Path("."))), *rules))


SOURCE = b"import os\nos.environ['A'] = '1'\n"


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        (_Rule(_finding(1), fail=ValueError("halfway")), "ValueError: halfway"),
        (_Rule(_finding(1), "not a finding"), "TypeError: check() yielded str 'not a finding'"),
        (_Rule(fail=_Unprintable()), "_Unprintable"),
        (_Rule(fail=RecursionError()), "RecursionError"),
    ],
    ids=["raises-halfway", "yields-junk", "unprintable-error", "recursion"],
)
def test_a_failing_rule_keeps_no_findings_and_the_others_apply(rule: _Rule, error: str) -> None:
    ruleset = _ruleset(_Rule(_finding(2, "SSOT991")), rule)
    findings = ruleset.check(scan(SOURCE, "tests/test_x.py", ruleset.watched))
    assert [(f.code, f.line) for f in findings] == [("SSOT002", 2), ("SSOT991", 2)]
    (failure,) = findings.failures
    assert (failure.path, failure.code, failure.name) == ("tests/test_x.py", "SSOT990", "test-rule")
    assert failure.error.startswith(error)
    assert failure.origin.startswith("test_hardening_rules._Rule, raised at ")
    assert "\n" not in failure.reason


def test_a_rule_failure_survives_pickling_for_the_clis_worker_processes() -> None:
    ruleset = _ruleset(_Rule(fail=OSError("x")))
    findings = ruleset.check(scan(SOURCE, "tests/test_x.py", ruleset.watched))
    again = pickle.loads(pickle.dumps(findings))
    assert isinstance(again, Checked)
    assert again == findings
    assert again.failures == findings.failures


def test_a_keyboard_interrupt_in_a_rule_is_not_swallowed() -> None:
    ruleset = _ruleset(_Rule(fail=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        ruleset.check(scan(SOURCE, "tests/test_x.py", ruleset.watched))


def test_a_scanner_bug_leaves_the_file_unchecked_with_a_failure_for_every_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> FileFacts:
        raise IndexError("list index out of range")

    monkeypatch.setattr(pytest_ssot.rules, "scan", broken)
    path = tmp_path / "test_x.py"
    path.write_bytes(SOURCE)
    facts, findings = check_file(path, "tests/test_x.py", _ruleset())
    assert findings == []
    (failure,) = findings.failures
    assert failure.code is None
    assert facts.error == failure.reason
    assert facts.error.startswith(
        "pytest-ssot could not check it with its scanner: IndexError: list index out of range"
    )


def test_a_cache_that_raises_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ScanCache, key: str, relpath: str) -> FileFacts | None:
        raise RecursionError("a hostile cache entry")

    monkeypatch.setattr(ScanCache, "get", broken)
    path = tmp_path / "test_x.py"
    path.write_bytes(SOURCE)
    ruleset = _ruleset()
    facts, findings = check_file(path, "test_x.py", ruleset, ScanCache(tmp_path, "salt"))
    assert facts.error is None
    assert [f.code for f in findings] == ["SSOT002"]


def test_an_unreadable_or_impossible_path_is_an_error_fact(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.py", tmp_path / "nul\0byte.py", tmp_path):
        facts, findings = check_file(path, "x.py", _ruleset())
        assert facts.error is not None
        assert facts.error.startswith("cannot be read: ")
        assert findings == []
