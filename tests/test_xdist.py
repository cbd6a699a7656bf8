"""pytest-xdist: every number, report and exit code equals the serial run's.

Real ``-n N`` runs in subprocesses (xdist starts its own workers) on a suite with every rule,
exemptions, inline ignores, a strict tier and run-time (SSOT102) violations reached from tests
that xdist spreads over several workers.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("xdist")

PYPROJECT = """
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
addopts = ["--continue-on-collection-errors"]

[tool.ssot]
mode = "warn"
base_classes = ["fw.base:SSotBase"]
env_modules = ["fw.env"]
mock_modules = ["fw.mocks"]
runner = "unified"

[[tool.ssot.tiers]]
name = "critical"
paths = ["tests/critical/**"]
mode = "strict"

[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-http"
forbid = ["fw.http.raw_get"]
use = "fw.http.get"
"""

FRAMEWORK = {
    "fw/__init__.py": "",
    "fw/base.py": """
        import unittest

        class SSotBase(unittest.TestCase):
            pass
    """,
    "fw/env.py": """
        import os

        def get(key, default=None):
            return os.environ.get(key, default)
    """,
    "fw/mocks.py": """
        from unittest import mock

        def client():
            return mock.Mock()
    """,
    "fw/http.py": """
        def raw_get(url):
            return url

        def get(url):
            return raw_get(url)
    """,
    "tests/__init__.py": "",
    "tests/conftest.py": """
        import os

        import pytest

        @pytest.fixture
        def region():
            return os.environ.get("XD_REGION", "eu")
    """,
    "tests/helpers.py": """
        import os

        def configure():
            # Not a test module: only the run-time guard (SSOT102) can see this.
            return os.environ.get("XD_HELPER", "off")

        def sneaky():
            return getattr(os, "env" + "iron").get("XD_SNEAKY")
    """,
    "tests/critical/__init__.py": "",
    "tests/critical/test_payments.py": """
        import os

        from fw.base import SSotBase
        from tests import helpers

        class TestPayments(SSotBase):
            def test_clean(self):
                assert True

            def test_reads_env(self):
                assert os.environ.get("XD_PAY") is None

            def test_helper_at_run_time(self):
                helpers.configure()
    """,
    "tests/test_broken.py": "def test_broken(:\n    pass\n",
}


def _module(index: int) -> str:
    """A legacy module: every static rule, exemptions, ignores and run-time accesses."""
    return f"""
        import os
        import unittest
        from unittest.mock import MagicMock

        import pytest

        from fw import http
        from fw.base import SSotBase
        from tests import helpers

        class TestLegacy{index}(unittest.TestCase):
            def setUp(self):
                os.environ["XD_LEGACY"] = "1"

            def test_a(self):
                assert True

            def test_b(self):
                client = MagicMock()
                client.send()

        class TestMigrated{index}(SSotBase):
            def test_clean(self):
                assert True

            def test_helper(self):
                helpers.configure()

            def test_sneaky(self):
                helpers.sneaky()

            def test_ignored(self):
                assert os.getenv("XD_X") is None  # ssot: ignore[SSOT002]

            @pytest.mark.ssot_exempt("SSOT002", reason="documents the env contract")
            def test_exempt(self):
                assert os.getenv("XD_Y") is None

            @pytest.mark.ssot_exempt("SSOT002", reason="expired", until="2000-01-01")
            def test_expired(self):
                assert os.getenv("XD_Z") is None

        def test_function_{index}(region):
            assert http.raw_get("/x") == "/x"

        def test_unused_ignore_{index}():
            assert True  # ssot: ignore[SSOT003]

        if __name__ == "__main__":
            pytest.main([__file__])
    """


def _suite(pytester: pytest.Pytester, modules: int = 6) -> None:
    pytester.makepyprojecttoml(textwrap.dedent(PYPROJECT))
    files = dict(FRAMEWORK)
    files.update({f"tests/test_legacy_{i}.py": _module(i) for i in range(modules)})
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def _run(
    pytester: pytest.Pytester, *args: str, report: str = "ssot.json"
) -> tuple[pytest.RunResult, dict[str, Any]]:
    path = pytester.path / report
    path.unlink(missing_ok=True)
    result = pytester.runpytest_subprocess(
        "-p", "ssot", "-p", "xdist", "-rA", "--ssot-report", f"json:{report}", *args
    )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result, data


OUTCOME_RE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.MULTILINE)


def _outcomes(result: pytest.RunResult) -> list[tuple[str, str]]:
    """Each test's outcome from the short summary (-rA), in a stable order."""
    text = result.stdout.str()
    return sorted(set(OUTCOME_RE.findall(text)), key=lambda o: (o[1], o[0]))


def _summary(result: pytest.RunResult) -> list[str]:
    """The SSOT compliance section, line by line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "SSOT compliance" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=")), len(lines))
    return lines[start:end]


def _ssot_warnings(result: pytest.RunResult) -> list[str]:
    """Each SSOTWarning in the warnings summary once per (file:line, message)."""
    return sorted(re.findall(r"(\S+:\d+: SSOTWarning: .*)", result.stdout.str()))


def _warnings_summary(result: pytest.RunResult) -> list[str]:
    """The lines of pytest's warnings summary, in a stable order."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "warnings summary" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("-- Docs"))
    return sorted(lines[start + 1 : end])


def _warning_count(result: pytest.RunResult) -> int:
    match = re.search(r"(\d+) warnings?", result.stdout.lines[-1])
    assert match is not None, result.stdout.lines[-1]
    return int(match.group(1))


@pytest.fixture
def serial(pytester: pytest.Pytester) -> tuple[pytest.RunResult, dict[str, Any]]:
    _suite(pytester)
    return _run(pytester, "-p", "no:randomly", report="serial.json")


@pytest.mark.parametrize(
    ("workers", "dist"),
    [("1", "load"), ("2", "load"), ("2", "loadfile"), ("4", "loadscope"), ("2", "worksteal")],
)
def test_a_distributed_run_reports_exactly_what_the_serial_run_reports(
    pytester: pytest.Pytester,
    serial: tuple[pytest.RunResult, dict[str, Any]],
    workers: str,
    dist: str,
) -> None:
    serial_result, serial_report = serial
    result, report = _run(pytester, "-n", workers, "--dist", dist, report="dist.json")

    assert report == serial_report
    assert result.ret == serial_result.ret == pytest.ExitCode.TESTS_FAILED
    assert _outcomes(result) == _outcomes(serial_result)
    assert _summary(result) == _summary(serial_result)
    assert _ssot_warnings(result) == _ssot_warnings(serial_result)


def test_the_suite_under_test_exercises_every_rule_exemptions_and_run_time_findings(
    serial: tuple[pytest.RunResult, dict[str, Any]],
) -> None:
    result, report = serial
    codes = {v["code"] for v in report["violations"]} | {v["code"] for v in report["session"]}
    assert codes == {"SSOT001", "SSOT002", "SSOT003", "SSOT004", "SSOT102", "SSOT201"}
    statuses = {v["status"] for v in report["violations"]}
    assert statuses == {"new", "exempted"}
    runtime = [v for v in report["violations"] if v["source"] == "runtime"]
    # The helper's site is reached from tests in six modules, spread over the workers.
    helper = next(v for v in runtime if v["path"] == "tests/helpers.py" and v["line"] == 5)
    assert len(helper["nodeids"]) == 7
    assert report["expired_exemptions"]
    assert report["unused_ignores"]
    assert report["unchecked"]
    # Strict tier: setup errors for static and failures for run-time violations.
    assert ("ERROR", "tests/critical/test_payments.py::TestPayments::test_reads_env") in (
        _outcomes(result)
    )
    assert ("FAILED", "tests/critical/test_payments.py::TestPayments::test_helper_at_run_time") in (
        _outcomes(result)
    )


def test_each_warning_is_issued_once_not_once_per_worker(
    pytester: pytest.Pytester, serial: tuple[pytest.RunResult, dict[str, Any]]
) -> None:
    serial_result, _ = serial
    result, _ = _run(pytester, "-n", "4", "--dist", "load", report="dist.json")

    warned = _ssot_warnings(result)
    assert warned == _ssot_warnings(serial_result)
    assert len(warned) == len(set(warned))
    # The run-time site hit by seven tests on several workers is warned exactly once.
    helper = [
        w
        for w in warned
        if w.startswith(str(pytester.path / "tests/helpers.py:5")) and "(strict)" not in w
    ]
    assert len(helper) == 1
    # The "N warnings" of the final line: pytest counts each warning issued.
    assert _warning_count(result) == _warning_count(serial_result)


@pytest.mark.parametrize("workers", [None, "2"])
def test_warnings_as_errors_give_clean_test_errors_never_an_internal_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str | None
) -> None:
    # Started by the runner: the session-level SSOT004 would otherwise be a usage error.
    monkeypatch.setenv("PYTEST_SSOT_RUNNER", "unified")
    _suite(pytester, modules=3)
    distributed = ("-n", workers) if workers else ()
    result, report = _run(pytester, "-W", "error::pytest_ssot.SSOTWarning", *distributed)

    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert "Traceback" not in result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["summary"]["tests"] > 0
    errored = [n for outcome, n in _outcomes(result) if outcome in ("ERROR", "FAILED")]
    assert any("test_legacy_0.py" in n for n in errored)


WARNING_SUITE = {
    "test_a.py": """
        import os

        import pytest

        REGION = os.environ.get("XD_REGION")

        def test_first():
            pass

        @pytest.mark.filterwarnings("ignore::pytest_ssot.SSOTWarning")
        def test_quiet():
            os.environ.get("XD_QUIET")

        def test_loud():
            os.getenv("XD_LOUD")
    """,
    # Notes each SSOTWarning a worker's pytest records: those xdist sends one event each.
    "conftest.py": """
        import pytest_ssot

        configs = []

        def pytest_configure(config):
            configs.append(config)

        def pytest_warning_recorded(warning_message, nodeid):
            config = configs[0]
            if hasattr(config, "workerinput") and issubclass(
                warning_message.category, pytest_ssot.SSOTWarning
            ):
                with open(config.rootpath / "worker-recorded.txt", "a") as out:
                    out.write(nodeid + "\\n")
    """,
}


def test_a_tests_warnings_travel_with_its_report_under_the_tests_own_filters(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(**{k[:-3]: textwrap.dedent(v) for k, v in WARNING_SUITE.items()})
    serial_result, serial_report = _run(pytester, "-p", "no:randomly", report="serial.json")
    result, report = _run(pytester, "-n", "2", "-p", "no:randomly", report="dist.json")

    warned = _ssot_warnings(result)
    assert warned == _ssot_warnings(serial_result)
    # The whole summary, source lines included (the worker reads those for the controller).
    assert _warnings_summary(result) == _warnings_summary(serial_result)
    assert '    REGION = os.environ.get("XD_REGION")' in _warnings_summary(result)
    assert any("test_a.py:5: SSOTWarning: SSOT002" in w for w in warned)  # module level
    assert any("test_a.py:15: SSOTWarning: SSOT002" in w for w in warned)
    assert not any("test_a.py:12:" in w for w in warned)  # the test's filter still applies
    assert _warning_count(result) == _warning_count(serial_result) == 2
    assert report["summary"] == serial_report["summary"]
    # The workers' pytest never saw them: they went to the controller with the test reports.
    assert not (pytester.path / "worker-recorded.txt").exists()


def test_a_worker_that_crashes_after_a_tests_setup_has_sent_its_warnings(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        test_crash="""
            import os

            SETTING = os.environ.get("XD_CRASH")

            def test_crashes_the_worker():
                os._exit(3)
        """
    )
    result, _ = _run(pytester, "-n", "1", "--max-worker-restart", "0")

    result.stdout.fnmatch_lines(["*incomplete*xdist worker gw0 crashed*"])
    # pytest would have recorded it only after the test's teardown, which never came.
    assert any("test_crash.py:3: SSOTWarning: SSOT002" in w for w in _ssot_warnings(result))


def test_warnings_as_errors_fail_the_same_tests_serial_and_distributed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_SSOT_RUNNER", "unified")
    _suite(pytester, modules=3)
    # Static warnings land on the first affected test in collection order, whatever worker
    # runs it; run-time ones on the first test to reach the site, which may differ.
    args = ("-W", "error::pytest_ssot.SSOTWarning", "-W", "ignore:SSOT102")
    serial_result, serial_report = _run(pytester, *args, report="serial.json")
    result, report = _run(pytester, *args, "-n", "2", report="dist.json")

    assert _outcomes(result) == _outcomes(serial_result)
    assert report["summary"] == serial_report["summary"]
    assert result.ret == serial_result.ret


def test_a_crashed_worker_leaves_a_summary_of_what_ran_marked_incomplete(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, modules=4)
    crash = pytester.path / "tests/test_zz_crash.py"
    crash.write_text(
        textwrap.dedent(
            """
            import os

            def test_crashes_the_worker():
                os._exit(3)
            """
        ),
        encoding="utf-8",
    )
    serial_like, full = _run(pytester, "--deselect", "tests/test_zz_crash.py", report="ok.json")
    # (--dist loadfile reschedules a crashing file until xdist gives up, or hangs.)
    result, report = _run(pytester, "-n", "2", "--dist", "load")

    result.stdout.fnmatch_lines(
        [
            "*incomplete: 1 collection error(s); xdist worker gw? crashed running "
            "tests/test_zz_crash.py::test_crashes_the_worker*"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # Everything that ran is there, run-time findings from both workers included.
    assert report["summary"]["tests"] == full["summary"]["tests"] + 1
    ran = {(v["code"], v["path"], v["line"]) for v in full["violations"]}
    assert ran <= {(v["code"], v["path"], v["line"]) for v in report["violations"]}
    assert serial_like.ret == pytest.ExitCode.TESTS_FAILED


def test_a_crash_before_the_worker_finishes_keeps_the_run_time_findings_it_streamed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        helper_mod="""
            import os

            def touch():
                return os.environ.get("XD_STREAMED")
        """,
        test_a="""
            import os

            import helper_mod

            def test_touches_the_environment():
                helper_mod.touch()

            def test_then_crashes():
                os._exit(3)
        """,
    )
    pytester.syspathinsert()
    result, report = _run(
        pytester, "-n", "1", "--max-worker-restart", "0", "-p", "no:randomly",
        "--ssot-baseline", "b.json", "--ssot-update-baseline",
    )  # fmt: skip

    runtime = [v for v in report["violations"] if v["code"] == "SSOT102"]
    assert [v["nodeids"] for v in runtime] == [["test_a.py::test_touches_the_environment"]]
    result.stdout.fnmatch_lines(
        [
            "*incomplete*xdist worker gw0 crashed*",
            "ssot: baseline b.json not updated (xdist worker gw0 crashed*): it is only written "
            "after a complete session; fix what made the xdist worker crash, then run again",
        ]
    )
    assert not (pytester.path / "b.json").exists()


def test_only_the_controller_writes_the_baseline_and_it_equals_the_serial_one(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, modules=3)
    (pytester.path / "tests/test_broken.py").unlink()  # a baseline needs a complete session
    update = ("--ssot-baseline", "baseline.json", "--ssot-update-baseline", "--ssot-mode", "warn")
    _run(pytester, *update, report="serial.json")
    serial_baseline = (pytester.path / "baseline.json").read_text(encoding="utf-8")
    (pytester.path / "baseline.json").unlink()
    result, _ = _run(pytester, *update, "-n", "2")

    assert (pytester.path / "baseline.json").read_text(encoding="utf-8") == serial_baseline
    assert list(pytester.path.glob("baseline.json*")) == [pytester.path / "baseline.json"]
    result.stdout.fnmatch_lines(["ssot: baseline baseline.json written*"])
    # The baseline makes every violation known: nothing new, the same for both.
    _, serial_known = _run(pytester, "--ssot-baseline", "baseline.json", report="serial.json")
    _, known = _run(pytester, "--ssot-baseline", "baseline.json", "-n", "2")
    assert known == serial_known
    assert known["summary"]["new"] == 0


def test_stopping_after_a_failure_is_a_partial_run_serial_and_distributed(
    pytester: pytest.Pytester,
) -> None:
    # Under xdist, -x stops the controller with xdist's own Interrupted: still a partial run
    # that updates the baseline as the serial run does, not an interrupted one.
    pytester.makepyprojecttoml("[tool.ssot]\nallow_function_tests = true\n")
    pytester.makepyfile(
        test_a="""
            import os

            def test_fails():
                assert os.getenv("XD_NOT_SET")

            def test_ok():
                pass
        """
    )
    update = ("-x", "-p", "no:randomly", "--ssot-baseline", "b.json", "--ssot-update-baseline")
    serial, serial_report = _run(pytester, *update, report="serial.json")
    serial_baseline = (pytester.path / "b.json").read_text(encoding="utf-8")
    (pytester.path / "b.json").unlink()
    result, report = _run(pytester, *update, "-n", "1")
    assert _summary(result) == _summary(serial)
    assert "incomplete" not in "\n".join(_summary(result))
    result.stdout.fnmatch_lines(["ssot: baseline b.json written: 1 entries (1 added, 0 fixed)"])
    assert (pytester.path / "b.json").read_text(encoding="utf-8") == serial_baseline
    assert report["summary"] == serial_report["summary"]


def test_a_module_failing_differently_in_each_worker_is_one_collection_error(
    pytester: pytest.Pytester,
) -> None:
    # xdist passes on each worker's collection error when their tracebacks differ (as a
    # RecursionError's do): the summary counted one per worker, where the serial run has one.
    pytester.makepyprojecttoml("[tool.ssot]\nallow_function_tests = true\n")
    pytester.makepyfile(
        test_broken="""
            import os

            raise RuntimeError("fails in " + os.environ.get("PYTEST_XDIST_WORKER", "serial"))
        """,
        test_ok="def test_ok():\n    pass\n",
    )
    serial, serial_report = _run(pytester, report="serial.json")
    result, report = _run(pytester, "-n", "2")
    result.stdout.fnmatch_lines(["ERROR test_broken.py - RuntimeError: fails in gw0"])
    result.stdout.fnmatch_lines(["ERROR test_broken.py - RuntimeError: fails in gw1"])
    assert any("[incomplete: 1 collection error(s)]" in line for line in _summary(serial))
    assert _summary(result) == _summary(serial)
    assert report == serial_report


def test_the_plugin_works_with_xdist_disabled(pytester: pytest.Pytester) -> None:
    _suite(pytester, modules=2)
    result = pytester.runpytest_subprocess("-p", "ssot", "-p", "no:xdist")

    result.stdout.fnmatch_lines(["*= SSOT compliance =*"])
    assert "INTERNALERROR" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_workers_agree_on_the_strict_verdicts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Started by the runner: a strict session-level SSOT004 would stop before collection.
    monkeypatch.setenv("PYTEST_SSOT_RUNNER", "unified")
    _suite(pytester, modules=4)
    serial_result, _ = _run(pytester, "--ssot-mode", "strict", report="serial.json")
    result, _ = _run(pytester, "--ssot-mode", "strict", "-n", "2", "--dist", "worksteal")

    assert _outcomes(result) == _outcomes(serial_result)
    errors = [n for outcome, n in _outcomes(result) if outcome == "ERROR"]
    assert "tests/test_legacy_0.py::TestLegacy0::test_a" in errors
    assert result.ret == serial_result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_report_path_is_written_once_by_the_controller(pytester: pytest.Pytester) -> None:
    _suite(pytester, modules=2)
    result, report = _run(pytester, "-n", "2", report="out/report.json")

    assert report["summary"]["tests"] > 0
    assert sorted(p.name for p in Path(pytester.path / "out").iterdir()) == ["report.json"]
    assert result.stdout.str().count("SSOT compliance") == 1


@pytest.mark.parametrize(("args", "registered"), [((), False), (("-n", "1"), True)])
def test_the_controller_side_is_registered_only_when_xdist_distributes(
    pytester: pytest.Pytester, args: tuple[str, ...], registered: bool
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(test_a="def test_a(): pass\n")
    seen: list[bool] = []

    class Probe:
        @pytest.hookimpl(trylast=True)
        def pytest_sessionstart(self, session: pytest.Session) -> None:
            plugins = session.config.pluginmanager
            seen.append(plugins.get_plugin("ssot-xdist-controller") is not None)

    pytester.inline_run("-p", "ssot", "-p", "xdist", *args, plugins=[Probe()])
    assert seen == [registered]
