"""The example suite (examples/chat_backend), run end to end as the README's first command."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_backend"


@pytest.fixture
def example(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(
        EXAMPLE,
        pytester.path,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
    )
    return pytester


def test_the_example_suite_shows_the_compliance_summary(example: pytest.Pytester) -> None:
    # A subprocess, as a user runs it: the example imports its own `tests` package.
    result = example.runpytest_subprocess("-p", "ssot", "--ssot-report", "json:ssot.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the strict tier rejects a regression
    result.assert_outcomes(passed=13, errors=2)
    result.stdout.fnmatch_lines(
        [
            "ssot: mode warn (pyproject.toml)",
            "*ERROR collecting tests/integration/test_presence_legacy.py*",
            "*ERROR at setup of TestReconnect.test_reconnect_url*",
            "  SSOT002 tests/mission_critical/test_websocket_events.py:26 os.environ accessed "
            "directly; use the isolated-environment API "
            "(test_framework.ssot.isolated_environment) instead (direct-environ-access)",
            "*= SSOT compliance =*",
            "compliance 42.9% (6/14 checked tests compliant) [incomplete: 1 collection error(s)]",
            "violations 14: 12 new, 0 known, 2 exempted",
            "session: SSOT004 this pytest session was not started by the unified test runner*",
            "by rule:",
            "  SSOT001 non-ssot-test-class        4",
            "  SSOT002 direct-environ-access      6",
            "  SSOT003 ad-hoc-mock                2",
            "  SSOT004 unified-runner-bypass      1",
            "  SSOT102 runtime-environ-access     1",
            "by tier:",
            "  default               30.0%  (3/10)",
            "  mission_critical      75.0%  (3/4)",
            "most violations:",
            "     4  tests/unit/test_rooms_legacy.py",
            "     4  tests/unit/test_settings.py",
            "*",
            "unchecked files 1:",
            "  tests/integration/test_presence_legacy.py: syntax error (line 4): expected ':'",
        ],
        consecutive=False,
    )
    report = json.loads((example.path / "ssot.json").read_text())
    runtime = [v for v in report["violations"] if v["code"] == "SSOT102"]
    assert [(v["path"], v["source"], v["nodeids"]) for v in runtime] == [
        (
            "tests/helpers/legacy_env.py",
            "runtime",
            ["tests/integration/test_auth_flow.py::TestLogin::test_debug_logging"],
        )
    ]
    legacy = {
        (v["code"], v["line"]): sorted(v["nodeids"])
        for v in report["violations"]
        if v["path"] == "tests/unit/test_rooms_legacy.py"
    }
    rooms = ["tests/unit/test_rooms_legacy.py::TestRooms::test_join"]
    rooms.append("tests/unit/test_rooms_legacy.py::TestRooms::test_leave_notifies_client")
    assert (
        legacy
        == {
            ("SSOT001", 17): rooms,  # a BaseTestCase, but not the SSOT one
            ("SSOT002", 14): rooms,  # in the base class's setUp: every test of its subclasses
            ("SSOT003", 24): rooms[1:],
            ("SSOT004", 31): rooms,  # the module runs itself
        }
    )
    exempted = {(v["path"], v["code"]) for v in report["violations"] if v["status"] == "exempted"}
    assert exempted == {
        ("tests/integration/test_auth_flow.py", "SSOT002"),  # inline ignore
        ("tests/unit/test_settings.py", "SSOT002"),  # ssot_exempt marker
    }


def test_the_example_suite_passes_through_its_unified_runner_in_warn_mode(
    example: pytest.Pytester,
) -> None:
    result = example.run(
        sys.executable,
        "tests/unified_test_runner.py",
        "--ssot-mode=warn",
        "--ignore=tests/integration/test_presence_legacy.py",
        "-q",
    )
    assert result.ret == pytest.ExitCode.OK
    assert "session: SSOT004" not in result.stdout.str()
    # The helper writing os.environ at run time (SSOT102) still counts; only SSOT004(a) is gone.
    result.stdout.fnmatch_lines(["compliance 42.9% (6/14 checked tests compliant)"])
