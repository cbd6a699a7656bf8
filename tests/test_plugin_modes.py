"""Modes: off, warn and strict; per-rule modes, tiers and the --ssot-mode override."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

# Each test body leaves a mark in ran.txt, so "the body never ran" is checked, not assumed.
SUITE = {
    "conftest.py": """
        import os
        from pathlib import Path

        import pytest

        def ran(name):
            with Path(__file__).with_name("ran.txt").open("a") as handle:
                handle.write(name + "\\n")

        @pytest.fixture
        def ran_mark(request):
            ran(request.node.nodeid)

        @pytest.fixture
        def staging_url():
            return os.environ.get("STAGING_URL", "https://staging")
    """,
    "critical/test_critical.py": """
        import os

        def test_reads_env(ran_mark):
            os.environ.get("CRITICAL")

        def test_uses_conftest_fixture(ran_mark, staging_url):
            pass

        def test_clean(ran_mark):
            pass
    """,
    "unit/test_unit.py": """
        import os
        from unittest.mock import MagicMock

        def test_reads_env(ran_mark):
            os.environ.get("UNIT")

        def test_uses_conftest_fixture(ran_mark, staging_url):
            pass

        def test_mocks(ran_mark):
            MagicMock()

        def test_clean(ran_mark):
            pass
    """,
}

TIERS = """
[[tool.ssot.tiers]]
name = "critical"
paths = ["critical/**"]
mode = "{critical}"
"""

ALL_TESTS = {
    "critical/test_critical.py::test_reads_env",
    "critical/test_critical.py::test_uses_conftest_fixture",
    "critical/test_critical.py::test_clean",
    "unit/test_unit.py::test_reads_env",
    "unit/test_unit.py::test_uses_conftest_fixture",
    "unit/test_unit.py::test_mocks",
    "unit/test_unit.py::test_clean",
}


def _suite(pytester: pytest.Pytester, ssot: str, critical: str | None = None) -> None:
    for name, text in SUITE.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    body = "[tool.ssot]\n" + textwrap.dedent(ssot).lstrip("\n")
    if critical is not None:
        body += TIERS.format(critical=critical)
    pytester.makepyprojecttoml(body)


def _ran(pytester: pytest.Pytester) -> set[str]:
    path = pytester.path / "ran.txt"
    return set(path.read_text().split()) if path.exists() else set()


def _errors(result: pytest.RunResult) -> set[str]:
    return {
        line.split(" ")[1]
        for line in result.stdout.lines
        if line.startswith("ERROR ") and "::" in line
    }


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "ssot", "-rE", "--ssot-report", "json:ssot.json", *args)
    path = pytester.path / "ssot.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return result, report


# -- warn ------------------------------------------------------------------------------------


def test_warn_issues_one_warning_per_violation_at_its_file_and_line(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, 'mode = "warn"\n')
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=7, warnings=4)
    assert _ran(pytester) == ALL_TESTS  # every body ran
    root = pytester.path
    warned = [line for line in result.stdout.lines if "SSOTWarning:" in line]
    # The conftest fixture is used by two tests in two files, yet warned once.
    assert len(warned) == 4
    assert {line.split(": SSOTWarning: ")[0].strip() for line in warned} == {
        f"{root}/conftest.py:16",
        f"{root}/critical/test_critical.py:4",
        f"{root}/unit/test_unit.py:5",
        f"{root}/unit/test_unit.py:11",
    }
    result.stdout.fnmatch_lines(
        [
            "*/critical/test_critical.py:4: SSOTWarning: SSOT002 os.environ.get accessed "
            "directly; use the isolated-environment API instead (direct-environ-access)",
            "*/unit/test_unit.py:11: SSOTWarning: SSOT003 unittest.mock.MagicMock is an "
            "ad-hoc mock; use the team's mock factory instead (ad-hoc-mock)",
        ],
        consecutive=False,
    )
    assert len(report["violations"]) == 4


def test_warn_keeps_the_exit_code_of_the_tests(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "warn"\n')
    pytester.makepyfile(test_failing="def test_fails():\n    assert False\n")
    result, _ = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=7, failed=1, warnings=4)


def test_warnings_turned_into_errors_fail_the_affected_tests_cleanly(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, 'mode = "warn"\n')
    result, _ = _run(pytester, "-W", "error::pytest_ssot.SSOTWarning")
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # Each warning is raised in the setup of the first test it affects.
    assert _errors(result) == {
        "critical/test_critical.py::test_reads_env",
        "critical/test_critical.py::test_uses_conftest_fixture",
        "unit/test_unit.py::test_reads_env",
        "unit/test_unit.py::test_mocks",
    }
    # The warning's text and place, without a traceback through pytest-ssot.
    result.stdout.fnmatch_lines(
        ["*SSOTWarning (an error by the warnings filters) at unit/test_unit.py:*: SSOT002 *"]
    )
    assert "pytest_ssot/plugin.py" not in output


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_config_warnings_turned_into_errors_are_a_clean_failure(
    pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    _suite(pytester, 'mode = "warn"\nmodee = "strict"\nrules = {SSOT020 = "off"}\n')
    # A subprocess: the warning filters must be pytest's own, from the command line.
    result = pytester.runpytest_subprocess(
        "-p", "ssot", "-W", "error::pytest_ssot.SSOTWarning", *xdist
    )
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # All of them at once, as the file reads.
    result.stderr.fnmatch_lines(
        [
            "ERROR: *pyproject.toml: unknown key tool.ssot.modee is ignored*",
            "ERROR: *pyproject.toml: rules.SSOT020 names no rule*",
        ],
        consecutive=False,
    )
    assert not _ran(pytester)


# -- strict ----------------------------------------------------------------------------------


def test_strict_errors_affected_tests_in_setup_before_their_body_runs(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, 'mode = "strict"\n')
    result, report = _run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, errors=5)
    failing = {
        "critical/test_critical.py::test_reads_env",
        "critical/test_critical.py::test_uses_conftest_fixture",
        "unit/test_unit.py::test_reads_env",
        "unit/test_unit.py::test_uses_conftest_fixture",
        "unit/test_unit.py::test_mocks",
    }
    assert _errors(result) == failing
    assert _ran(pytester) == ALL_TESTS - failing
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_reads_env*",
            "pytest-ssot (strict): this test depends on code that bypasses the team's SSOT "
            "test infrastructure:",
            "  SSOT002 critical/test_critical.py:4 os.environ.get accessed directly; use the "
            "isolated-environment API instead (direct-environ-access)",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_mocks*",
            "pytest-ssot (strict): *",
            "  SSOT003 unit/test_unit.py:11 unittest.mock.MagicMock is an ad-hoc mock; use the "
            "team's mock factory instead (ad-hoc-mock)",
        ],
        consecutive=False,
    )
    assert "SSOTWarning" not in result.stdout.str()
    assert {v["severity"] for v in report["violations"]} == {"error"}


def test_strict_names_the_configured_replacements(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "strict"\nenv_modules = ["fw.env"]\nmock_modules = ["fw.mocks"]\n')
    result, _ = _run(pytester)
    result.stdout.fnmatch_lines(
        [
            "  SSOT002 critical/test_critical.py:4 os.environ.get accessed directly; use the "
            "isolated-environment API (fw.env) instead (direct-environ-access)",
            "  SSOT003 unit/test_unit.py:11 unittest.mock.MagicMock is an ad-hoc mock; use the "
            "mock factory (fw.mocks) instead (ad-hoc-mock)",
        ],
        consecutive=False,
    )


# -- off -------------------------------------------------------------------------------------


def test_off_in_the_config_does_nothing(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "off"\n')
    result, report = _run(pytester)
    result.assert_outcomes(passed=7)
    assert report == {}
    assert "SSOT compliance" not in result.stdout.str()
    assert "SSOTWarning" not in result.stdout.str()


def test_ssot_mode_off_disables_everything_even_a_strict_config(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, 'mode = "strict"\nrules = { SSOT003 = "strict" }\n', critical="strict")
    result, report = _run(pytester, "--ssot-mode=off")
    result.assert_outcomes(passed=7)
    assert _ran(pytester) == ALL_TESTS
    output = result.stdout.str()
    assert report == {}
    assert "SSOT compliance" not in output
    assert "SSOTWarning" not in output
    assert "ssot: mode" not in output


def test_off_still_validates_the_configuration(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "off"\nfail_under = "high"\n')
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "ssot", "--ssot-mode=off")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pyproject.toml: tool.ssot.fail_under = 'high': expected*"])


# -- precedence: rules, tiers, --ssot-mode ---------------------------------------------------


def test_a_rule_mode_overrides_the_global_mode(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "warn"\nrules = { SSOT003 = "strict", SSOT002 = "off" }\n')
    result, report = _run(pytester)
    assert _errors(result) == {"unit/test_unit.py::test_mocks"}
    assert {v["code"] for v in report["violations"]} == {"SSOT003"}
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_tier_mode_applies_to_its_files_only(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "warn"\n', critical="strict")
    result, report = _run(pytester)
    # The conftest fixture is strict for the critical test that uses it, a warning elsewhere.
    assert _errors(result) == {
        "critical/test_critical.py::test_reads_env",
        "critical/test_critical.py::test_uses_conftest_fixture",
    }
    result.stdout.fnmatch_lines(["*/conftest.py:16: SSOTWarning: SSOT002 *"])
    tiers = {(v["path"], v["line"]): v["tier"] for v in report["violations"]}
    assert tiers[("critical/test_critical.py", 4)] == "critical"
    assert tiers[("unit/test_unit.py", 5)] == "default"


def test_a_tier_switched_off_reports_nothing_for_its_files(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "strict"\n', critical="off")
    result, report = _run(pytester)
    assert _errors(result) == {
        "unit/test_unit.py::test_reads_env",
        "unit/test_unit.py::test_uses_conftest_fixture",
        "unit/test_unit.py::test_mocks",
    }
    assert all(not v["path"].startswith("critical/") for v in report["violations"])
    assert report["summary"]["by_tier"]["critical"]["compliance"] == 100.0


def test_a_rule_mode_beats_the_tier_mode(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "warn"\nrules = { SSOT002 = "warn" }\n', critical="strict")
    result, _ = _run(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert _errors(result) == set()


def test_ssot_mode_warn_never_fails_whatever_the_config(pytester: pytest.Pytester) -> None:
    _suite(pytester, 'mode = "strict"\nrules = { SSOT003 = "strict" }\n', critical="strict")
    result, _ = _run(pytester, "--ssot-mode=warn")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=7, warnings=4)


def test_ssot_mode_strict_applies_everywhere_but_rules_switched_off(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, 'mode = "warn"\nrules = { SSOT003 = "off" }\n', critical="off")
    result, report = _run(pytester, "--ssot-mode=strict")
    assert _errors(result) == {
        "critical/test_critical.py::test_reads_env",
        "critical/test_critical.py::test_uses_conftest_fixture",
        "unit/test_unit.py::test_reads_env",
        "unit/test_unit.py::test_uses_conftest_fixture",
    }
    assert "SSOT003" not in report["summary"]["by_rule"]
    assert report["mode"] == "strict"


def test_strict_rejection_is_not_hidden_by_a_skip_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(
        test_x="""
        import os

        import pytest

        @pytest.mark.skip(reason="later")
        def test_skipped():
            os.environ.get("A")

        @pytest.mark.skipif(True, reason="never here")
        def test_skipped_if():
            os.environ.get("B")

        @pytest.mark.skip(reason="later")
        def test_skipped_clean():
            pass
        """
    )
    result = pytester.runpytest("-p", "ssot", "--ssot-mode=strict", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2, skipped=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_skipped *", "*SSOT002 test_x.py:7 *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize(
    "marker",
    [
        'xfail(reason="flaky upstream")',
        'xfail(reason="flaky upstream", strict=True)',
        'xfail(reason="flaky upstream", raises=Exception)',
        'xfail(reason="flaky upstream", run=False)',
    ],
)
@pytest.mark.parametrize("rules", ["", 'rules = {SSOT102 = "off"}\n'], ids=["guard", "no-guard"])
def test_strict_rejection_is_not_hidden_by_any_form_of_xfail(
    pytester: pytest.Pytester, marker: str, rules: str
) -> None:
    # SSOT102 off too: the rejection of a static violation alone, without the run-time guard.
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n' + rules)
    pytester.makepyfile(
        test_x=f"""
        import os

        import pytest

        @pytest.mark.{marker}
        def test_xfail():
            os.environ.get("A")
        """
    )
    result = pytester.runpytest("-p", "ssot", "-rE")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_xfail *",
            "*SSOT002 test_x.py:7 *",
            "ERROR test_x.py::test_xfail*",
        ]
    )
    assert "XFAIL" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_warn_leaves_xfail_tests_to_xfail_as_usual(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        test_x="""
        import os

        import pytest

        @pytest.mark.xfail(reason="flaky upstream")
        def test_fails():
            os.environ.get("A")
            assert False

        @pytest.mark.xfail(reason="flaky upstream", raises=KeyError)
        def test_fails_with_the_expected_error():
            os.environ["SSOT_SURELY_UNSET"]

        @pytest.mark.xfail(reason="fixed since")
        def test_passes():
            os.environ.get("B")
        """
    )
    result = pytester.runpytest("-p", "ssot", "-rxX")
    result.assert_outcomes(xfailed=2, xpassed=1, warnings=3)
    result.stdout.fnmatch_lines(["*SSOTWarning: SSOT002*"])
    assert result.ret == pytest.ExitCode.OK
