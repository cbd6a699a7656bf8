"""SSOT102 end to end: the guard around real pytest runs, in warn and strict mode.

Each inner suite has a ``tests`` package (test code, including helpers that static analysis
never reads), a ``product`` package (reads its own settings: never a violation) and the
isolated-environment module configured in ``env_modules``.
"""

from __future__ import annotations

import json
import os
import textwrap
import warnings
from typing import Any

import pytest

from pytest_ssot.guard import active_guard, installed
from pytest_ssot.plugin import SSOTWarning, _raised_by_filters

HELPERS = """\
import os
from os import environ as ENV


def enable_debug():
    os.environ["SSOT_DEBUG"] = "1"


def read_alias():
    return ENV.get("SSOT_ALIAS")


def read_dynamic():
    return getattr(os, "env" + "iron").get("SSOT_DYNAMIC")


def ignored():
    os.environ["SSOT_IGNORED"] = "1"  # ssot: ignore[SSOT102]


def never_called():
    os.environ["SSOT_NEVER"] = "1"  # ssot: ignore
"""

PRODUCT = """\
import os


def timeout():
    return int(os.environ.get("SSOT_TIMEOUT", "30"))


def configure():
    os.environ["SSOT_PRODUCT_CONFIGURED"] = "yes"
"""

ISOLATED = """\
import os


def set_env(key, value):
    os.environ[key] = value


def get_env(key):
    return os.environ.get(key)
"""


def _suite(
    pytester: pytest.Pytester, files: dict[str, str], mode: str = "warn", extra: str = ""
) -> None:
    (pytester.path / "pyproject.toml").write_text(
        f'[tool.ssot]\nmode = "{mode}"\nenv_modules = ["tests.support.isolated_env"]\n'
        + textwrap.dedent(extra)
    )
    layout = {
        "tests/__init__.py": "",
        "tests/helpers.py": HELPERS,
        "tests/support/__init__.py": "",
        "tests/support/isolated_env.py": ISOLATED,
        "product/__init__.py": "",
        "product/settings.py": PRODUCT,
        **files,
    }
    for name, text in layout.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:report.json", *args)
    report = json.loads((pytester.path / "report.json").read_text())
    return result, report


def _runtime(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in report["violations"] if v["code"] == "SSOT102"]


def _glob(text: str) -> str:
    """A literal for fnmatch_lines: ``[`` would start a character class."""
    return text.replace("[", "[[]")


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.fixture(autouse=True)
def _no_guard_left_behind() -> Any:
    # Inner runs share this process: give each one the same environment.
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    assert not installed(), "the inner session left the guard installed"
    assert active_guard() is None


# -- detection --------------------------------------------------------------------------------
def test_it_reports_a_helper_in_the_tests_package_once_per_site(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_debug.py": """
            from tests.helpers import enable_debug

            def test_one():
                enable_debug()

            def test_two():
                enable_debug()

            def test_clean():
                pass
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=3)
    assert result.ret == 0
    line = _line(HELPERS, 'os.environ["SSOT_DEBUG"]')
    result.stdout.fnmatch_lines(
        [
            _glob(
                f"*tests/helpers.py:{line}: SSOTWarning: SSOT102 test code wrote the process "
                "environment at run time (os.environ['SSOT_DEBUG'] = ...); use the "
                "isolated-environment API (tests.support.isolated_env) instead "
                "(runtime-environ-access)"
            )
        ]
    )
    assert result.stdout.str().count("SSOTWarning: SSOT102") == 1
    (violation,) = _runtime(report)
    assert violation["path"] == "tests/helpers.py"
    assert violation["line"] == line
    assert violation["source"] == "runtime"
    assert violation["status"] == "new"
    assert violation["nodeids"] == [
        "tests/test_debug.py::test_one",
        "tests/test_debug.py::test_two",
    ]
    assert report["summary"]["compliant"] == 1
    assert report["summary"]["by_rule"] == {"SSOT102": 1}


@pytest.mark.skipif(
    not hasattr(pytest, "Subtests"), reason="pytest 9 brought subtests into pytest itself"
)
def test_a_subtest_does_not_end_the_watch_of_its_test(pytester: pytest.Pytester) -> None:
    # Each subtest makes a report while its test still runs: the guard must keep watching
    # until the call phase itself ends.
    _suite(
        pytester,
        {
            "tests/test_subtests.py": """
            from tests.helpers import enable_debug, read_alias

            def test_with_subtests(subtests):
                with subtests.test(msg="first"):
                    read_alias()
                with subtests.test(msg="second"):
                    pass
                enable_debug()
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    sites = {(v["path"], v["line"]) for v in _runtime(report)}
    assert sites == {
        ("tests/helpers.py", _line(HELPERS, "ENV.get")),
        ("tests/helpers.py", _line(HELPERS, 'os.environ["SSOT_DEBUG"]')),
    }


def test_it_sees_dynamic_access_and_aliases_bound_before_the_guard(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_dynamic.py": """
            import os
            from tests.helpers import read_alias, read_dynamic

            def test_dynamic_in_the_test():
                getattr(os, "env" + "iron").get("SSOT_X")

            def test_alias_in_a_helper():
                read_alias()

            def test_dynamic_in_a_helper():
                read_dynamic()
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=3)
    sites = {(v["path"], v["line"]): v["nodeids"] for v in _runtime(report)}
    assert sites == {
        ("tests/test_dynamic.py", 5): ["tests/test_dynamic.py::test_dynamic_in_the_test"],
        ("tests/helpers.py", _line(HELPERS, "ENV.get")): [
            "tests/test_dynamic.py::test_alias_in_a_helper"
        ],
        ("tests/helpers.py", _line(HELPERS, '"env" + "iron"')): [
            "tests/test_dynamic.py::test_dynamic_in_a_helper"
        ],
    }


def test_it_covers_fixtures_of_every_scope_and_attributes_them_to_the_running_test(
    pytester: pytest.Pytester,
) -> None:
    fixtures = "".join(
        f"""
        def {scope}_up():
            os.environ["SSOT_{scope.upper()}"] = "1"

        def {scope}_down():
            os.environ.pop("SSOT_{scope.upper()}", None)
        """
        for scope in ("session", "module", "class", "function")
    )
    _suite(
        pytester,
        {
            "tests/scoped.py": "import os\n" + textwrap.dedent(fixtures),
            "tests/conftest.py": """
            import pytest
            from tests import scoped

            @pytest.fixture(scope="session")
            def session_fixture():
                scoped.session_up()
                yield
                scoped.session_down()

            @pytest.fixture(scope="module")
            def module_fixture():
                scoped.module_up()
                yield
                scoped.module_down()

            @pytest.fixture(scope="class")
            def class_fixture():
                scoped.class_up()
                yield
                scoped.class_down()

            @pytest.fixture
            def function_fixture():
                scoped.function_up()
                yield
                scoped.function_down()
        """,
            "tests/test_scopes.py": """
            import pytest

            @pytest.mark.usefixtures(
                "session_fixture", "module_fixture", "class_fixture", "function_fixture"
            )
            class TestScopes:
                def test_first(self):
                    pass

                def test_last(self):
                    pass
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    first = "tests/test_scopes.py::TestScopes::test_first"
    last = "tests/test_scopes.py::TestScopes::test_last"
    by_access = {
        v["message"].split("at run time (", 1)[1].rsplit("); ", 1)[0]: v["nodeids"]
        for v in _runtime(report)
    }
    assert by_access == {
        "os.environ['SSOT_SESSION'] = ...": [first],
        "os.environ['SSOT_MODULE'] = ...": [first],
        "os.environ['SSOT_CLASS'] = ...": [first],
        "os.environ['SSOT_FUNCTION'] = ...": [first, last],
        "os.environ.pop('SSOT_SESSION')": [last],
        "os.environ.pop('SSOT_MODULE')": [last],
        "os.environ.pop('SSOT_CLASS')": [last],
        "os.environ.pop('SSOT_FUNCTION')": [first, last],
    }


def test_it_covers_threads_started_by_a_test(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_thread.py": """
            import threading
            from tests.helpers import enable_debug

            def test_in_a_thread():
                thread = threading.Thread(target=enable_debug)
                thread.start()
                thread.join()
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    (violation,) = _runtime(report)
    assert violation["nodeids"] == ["tests/test_thread.py::test_in_a_thread"]


# -- no false positives -----------------------------------------------------------------------
def test_product_code_pytest_monkeypatch_and_the_isolated_environment_are_not_flagged(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_clean.py": """
            import subprocess
            import sys
            import tempfile

            from product.settings import configure, timeout
            from tests.support.isolated_env import get_env, set_env

            def test_product_reads_its_settings():
                configure()
                assert timeout() == 30

            def test_isolated_environment():
                set_env("SSOT_ISOLATED", "1")
                assert get_env("SSOT_ISOLATED") == "1"

            def test_child_process_and_tempfile():
                set_env("SSOT_CHILD", "inherited")
                out = subprocess.run(
                    [sys.executable, "-c", "import os; print(os.environ['SSOT_CHILD'])"],
                    capture_output=True, text=True, check=True,
                ).stdout
                assert out.strip() == "inherited"
                tempfile.mkdtemp()

            def test_monkeypatch(monkeypatch):
                monkeypatch.setenv("SSOT_MP", "1")
                assert timeout() == 30
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=4)
    assert _runtime(report) == []
    # monkeypatch.setenv is the static SSOT002 on its own line, reported once
    assert [(v["code"], v["line"]) for v in report["violations"]] == [("SSOT002", 26)]


def test_a_runtime_access_on_a_statically_reported_line_is_the_same_violation(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_static.py": """
            import os

            def helper():
                os.environ["SSOT_STATIC"] = "1"

            def test_a():
                helper()

            def test_b():
                os.environ.get("SSOT_STATIC")
        """,
            "tests/test_other.py": """
            from tests.test_static import helper

            def test_c():
                helper()
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=3)
    assert [(v["code"], v["line"], v["source"]) for v in report["violations"]] == [
        ("SSOT002", 4, "static"),
        ("SSOT002", 10, "static"),
    ]
    # the run-time access adds the test of another module that reached the static line
    assert report["violations"][0]["nodeids"] == [
        "tests/test_other.py::test_c",
        "tests/test_static.py::test_a",
        "tests/test_static.py::test_b",
    ]


def test_a_static_violation_first_reached_at_run_time_is_warned_about(
    pytester: pytest.Pytester,
) -> None:
    # A fixture only request.getfixturevalue reaches affects no test when they are collected,
    # so no warning was issued then: the test that reaches it gets it, once.
    _suite(
        pytester,
        {
            "tests/conftest.py": """
            import os

            import pytest

            @pytest.fixture
            def dynamic():
                return os.getenv("SSOT_DYNAMIC_FIXTURE")
        """,
            "tests/test_dynamic.py": """
            def test_a(request):
                request.getfixturevalue("dynamic")

            def test_b(request):
                request.getfixturevalue("dynamic")
        """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*conftest.py:7: SSOTWarning: SSOT002 os.getenv accessed*"])
    (violation,) = report["violations"]
    assert (violation["status"], violation["source"]) == ("new", "static")
    # In a process of its own: -W names the class by import path, which must be the class
    # the plugin raises (an in-process run may meet a re-imported pytest_ssot). Shown once,
    # it is an error in each test that reaches it.
    errors = pytester.runpytest_subprocess("-p", "ssot", "-W", "error::pytest_ssot.SSOTWarning")
    errors.assert_outcomes(failed=2)


def test_an_inline_ignore_covers_runtime_accesses_from_its_line(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_ignored.py": """
            from tests.helpers import ignored

            def test_ignored():
                ignored()
        """,
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    (violation,) = _runtime(report)
    assert violation["status"] == "exempted"
    assert report["summary"]["compliance"] == 100.0
    # the ignore in a helper line that never ran is not reported as unused
    assert report["unused_ignores"] == []


def test_an_ignore_of_ssot002_covers_the_runtime_access_from_its_line(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_dynamic.py": """
                import os

                def test_dynamic():
                    getattr(os, "env" + "iron").get("SSOT_X")  # ssot: ignore[SSOT002]
            """,
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    assert [(v["line"], v["status"]) for v in _runtime(report)] == [(4, "exempted")]
    assert report["unused_ignores"] == []


def test_an_ssot_exempt_marker_covers_runtime_accesses(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_exempt.py": """
            import pytest
            from tests.helpers import enable_debug

            @pytest.mark.ssot_exempt("SSOT102", reason="legacy debug switch")
            def test_exempt():
                enable_debug()
        """,
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    assert [v["status"] for v in _runtime(report)] == ["exempted"]


def test_the_guard_is_off_when_the_rule_is_off(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_debug.py": """
            from tests.helpers import enable_debug

            def test_debug():
                enable_debug()
        """,
        },
        mode="strict",
        extra='rules = { SSOT102 = "off" }',
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    assert _runtime(report) == []


# -- strict ---------------------------------------------------------------------------------
def test_strict_raises_env_access_error_at_the_access_site(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_debug.py": """
            from tests.helpers import enable_debug
            from tests.support.isolated_env import get_env

            def test_debug():
                enable_debug()
                assert False, "never reached"

            def test_after():
                assert get_env("SSOT_DEBUG") is None
        """,
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1
    line = _line(HELPERS, 'os.environ["SSOT_DEBUG"]')
    result.stdout.fnmatch_lines(
        [
            '>       os.environ[[]"SSOT_DEBUG"] = "1"',
            _glob(
                "E       pytest_ssot.errors.EnvAccessError: SSOT102 direct process-environment "
                f"access os.environ['SSOT_DEBUG'] = ... at tests/helpers.py:{line}; use the "
                "isolated-environment API (tests.support.isolated_env) instead"
            ),
            f"tests/helpers.py:{line}: EnvAccessError",
        ]
    )
    assert "never reached" not in result.stdout.str()
    assert "guard.py" not in result.stdout.str()
    # the warning came first, so a swallowed error would still surface
    result.stdout.fnmatch_lines(["*SSOTWarning: SSOT102*raises EnvAccessError here (strict)"])
    assert [v["nodeids"] for v in _runtime(report)] == [["tests/test_debug.py::test_debug"]]


def test_strict_fails_a_test_that_swallowed_the_error(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_swallow.py": """
            import threading
            from tests.helpers import enable_debug

            def test_swallows():
                try:
                    enable_debug()
                except Exception:
                    pass

            def quietly():
                try:
                    enable_debug()
                except Exception:
                    pass

            def test_thread_swallows():
                thread = threading.Thread(target=quietly)
                thread.start()
                thread.join()

            def test_clean_after():
                pass
        """,
        },
        mode="strict",
    )
    result, _ = _run(pytester)
    result.assert_outcomes(passed=3, errors=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_swallows*",
            "*test code caught the EnvAccessError*",
            _glob("*SSOT102 direct process-environment access os.environ['SSOT_DEBUG'] = ...*"),
            "*ERROR at teardown of test_thread_swallows*",
        ]
    )
    assert "ERROR at teardown of test_clean_after" not in result.stdout.str()


def test_strict_fails_a_unittest_test_once_for_an_error_it_did_not_catch(
    pytester: pytest.Pytester,
) -> None:
    # unittest records the error in its result instead of letting it propagate: it is the
    # test's failure, not an error the test swallowed (which would error it again at teardown).
    _suite(
        pytester,
        {
            "tests/test_unit.py": """
            import unittest
            from tests.helpers import enable_debug

            class TestUnit(unittest.TestCase):
                def test_not_caught(self):
                    enable_debug()

                def test_caught(self):
                    try:
                        enable_debug()
                    except Exception:
                        pass
        """,
        },
        mode="strict",
    )
    result, _ = _run(pytester, "-p", "no:randomly", "-rfE")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    summary = {line.split(" - ")[0] for line in result.stdout.lines if " - " in line}
    assert summary == {
        "FAILED tests/test_unit.py::TestUnit::test_not_caught",
        "ERROR tests/test_unit.py::TestUnit::test_caught",  # at teardown: it was swallowed
    }


def test_strict_failures_at_run_time_are_not_hidden_by_xfail(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_xfail.py": """
            import pytest
            from tests.helpers import enable_debug

            @pytest.mark.xfail(reason="known bug")
            def test_xfail():
                enable_debug()

            @pytest.mark.xfail(reason="known bug", strict=True)
            def test_xfail_strict():
                enable_debug()

            @pytest.mark.xfail(reason="known bug", raises=Exception)
            def test_xfail_raises():
                enable_debug()

            @pytest.mark.xfail(reason="known bug")
            def test_xfail_chained():
                try:
                    enable_debug()
                except Exception as exc:
                    raise RuntimeError("wrapped") from exc

            @pytest.mark.xfail(reason="known bug")
            def test_xfail_for_its_own_failure():
                assert False
        """,
        },
        mode="strict",
    )
    result, _ = _run(pytester, "-rfx")
    result.assert_outcomes(failed=4, xfailed=1)
    summary = {line.split(" - ")[0] for line in result.stdout.lines if " - " in line}
    assert summary == {
        "FAILED tests/test_xfail.py::test_xfail",
        "FAILED tests/test_xfail.py::test_xfail_strict",
        "FAILED tests/test_xfail.py::test_xfail_raises",
        "FAILED tests/test_xfail.py::test_xfail_chained",
        "XFAIL tests/test_xfail.py::test_xfail_for_its_own_failure",
    }
    result.stdout.fnmatch_lines(["E       pytest_ssot.errors.EnvAccessError: SSOT102 *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_strict_fails_an_xfail_test_that_swallowed_the_error(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_xfail.py": """
            import pytest
            from tests.helpers import enable_debug

            @pytest.mark.xfail(reason="known bug")
            def test_swallows():
                try:
                    enable_debug()
                except Exception:
                    pass

            @pytest.mark.xfail(reason="known bug", strict=True)
            def test_swallows_strictly():
                try:
                    enable_debug()
                except Exception:
                    pass
        """,
        },
        mode="strict",
    )
    result, _ = _run(pytester)
    # The bodies did pass (unexpectedly, as xfail says), and each test errors at teardown
    # for the error it swallowed, as it does without the marker.
    result.assert_outcomes(xpassed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_swallows *",
            "*test code caught the EnvAccessError*",
            "*ERROR at teardown of test_swallows_strictly *",
            "*test code caught the EnvAccessError*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


SECRET = "hunter2-s3cr3t-t0ken"


@pytest.mark.parametrize(
    "access",
    [
        '{environ}["SSOT_SECRET_TOKEN"]',
        '{environ}.get("SSOT_SECRET_TOKEN")',
        '"SSOT_SECRET_TOKEN" in {environ}',
        '{getenv}("SSOT_SECRET_TOKEN")',
        "{environ}.copy()",
    ],
)
@pytest.mark.parametrize(
    "style", [(), ("--tb=long",), ("--tb=short",), ("-l",), ("--tb=long", "--full-trace")]
)
def test_strict_tracebacks_never_show_the_process_environment(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    access: str,
    style: tuple[str, ...],
) -> None:
    # In a helper (static rules never read it) and in the test itself, dynamically (a plain
    # `os.environ` there would stop the test in its setup, before any access).
    helper = access.format(environ="os.environ", getenv="os.getenv")
    dynamic = access.format(environ="ENV", getenv='getattr(os, "get" + "env")')
    _suite(
        pytester,
        {
            "tests/secrets.py": f"""
            import os

            def read():
                return {helper}
            """,
            "tests/test_secret.py": f"""
            import os
            from tests.secrets import read

            ENV = getattr(os, "env" + "iron")

            def test_helper():
                read()

            def test_dynamic():
                {dynamic}
            """,
        },
        mode="strict",
    )
    monkeypatch.setenv("SSOT_SECRET_TOKEN", SECRET)
    result = pytester.runpytest("-p", "ssot", *style)
    result.assert_outcomes(failed=2)
    output = result.stdout.str() + result.stderr.str()
    assert SECRET not in output
    assert "environ({" not in output
    # Still useful: what the access did, what to use instead, and the line that made it
    # (where the traceback ends, in long style).
    use = "use the isolated-environment API (tests.support.isolated_env) instead"
    end = "EnvAccessError" if "--tb=short" not in style else "in *"
    for where in ("tests/secrets.py:4", "tests/test_secret.py:10"):
        result.stdout.fnmatch_lines([f"{where}: {end}"])
        result.stdout.fnmatch_lines(
            [f"E   *EnvAccessError: SSOT102 direct process-environment access * at {where}; {use}"]
        )


def test_strict_does_not_raise_for_a_baselined_runtime_violation(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_debug.py": """
            from tests.helpers import enable_debug

            def test_debug():
                enable_debug()
        """,
        },
    )
    first = pytester.runpytest(
        "-p", "ssot", "--ssot-baseline", "baseline.json", "--ssot-update-baseline"
    )
    first.assert_outcomes(passed=1)
    result, report = _run(pytester, "--ssot-mode=strict", "--ssot-baseline", "baseline.json")
    result.assert_outcomes(passed=1)
    assert [v["status"] for v in _runtime(report)] == ["known"]


BASELINE_READS = """
import pytest

from pytest_ssot.plugin import PLUGIN_KEY


class _CountingBaseline(dict):
    walks = 0

    def items(self):
        _CountingBaseline.walks += 1
        return super().items()

    def __iter__(self):
        _CountingBaseline.walks += 1
        return super().__iter__()


def pytest_sessionstart(session):
    plugin = session.config.stash[PLUGIN_KEY]
    plugin.known = _CountingBaseline(plugin.known)


def pytest_unconfigure(config):
    with open("baseline-walks.txt", "w") as out:
        out.write(str(_CountingBaseline.walks))
"""


def test_a_run_time_hit_never_walks_the_whole_baseline(pytester: pytest.Pytester) -> None:
    # Deciding one hit needs only the baseline entries its file's findings can match. Walking
    # (and sorting) all of a large suite's baseline for every hit made a 500-file run with a
    # 3,869-entry baseline 1.4x as long as without one.
    _suite(
        pytester,
        {
            "tests/test_debug.py": """
            import pytest

            from tests.helpers import enable_debug

            @pytest.mark.parametrize("n", range(40))
            def test_debug(n):
                enable_debug()
        """,
        },
    )
    pytester.runpytest(
        "-p", "ssot", "--ssot-baseline", "baseline.json", "--ssot-update-baseline"
    ).assert_outcomes(passed=40)
    pytester.makeconftest(BASELINE_READS)

    result, report = _run(pytester, "--ssot-mode=strict", "--ssot-baseline", "baseline.json")

    result.assert_outcomes(passed=40)
    (violation,) = _runtime(report)
    assert violation["status"] == "known"
    assert len(violation["nodeids"]) == 40
    # The session's own decisions walk it (after collection, at the end): not one per hit.
    assert int((pytester.path / "baseline-walks.txt").read_text()) <= 4


DECISIONS = """
import pytest

from pytest_ssot import plugin as ssot_plugin
from pytest_ssot.store import FindingStore

counts = {"evaluations": 0, "made": 0, "made_by_tests": 0}
_evaluate = ssot_plugin.evaluate
_finding = FindingStore.finding


def _counting(*args, **kwargs):
    counts["evaluations"] += 1
    return _evaluate(*args, **kwargs)


def _counting_finding(self, row):
    counts["made"] += 1
    return _finding(self, row)


ssot_plugin.evaluate = _counting
FindingStore.finding = _counting_finding


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    counts["added"] = session.config.stash[ssot_plugin.PLUGIN_KEY].data.additions
    counts["made_at_collection"] = counts["made"]


def pytest_runtest_logfinish():
    # Findings made from the store while tests ran (the session's end makes its own).
    counts["made_by_tests"] = counts["made"] - counts["made_at_collection"]


def pytest_unconfigure(config):
    data = config.stash[ssot_plugin.PLUGIN_KEY].data
    ssot_plugin.evaluate = _evaluate
    FindingStore.finding = _finding
    with open("decisions.txt", "w") as out:
        added = data.additions - counts["added"]
        out.write(f"{counts['evaluations']} {added} {counts['made_by_tests']}")
"""


def test_hits_a_test_already_answers_for_add_nothing_and_are_decided_once(
    pytester: pytest.Pytester,
) -> None:
    # Most run-time hits in a drifted suite are each test's own statically reported line:
    # deciding each one afresh (and, under xdist, sending it to the controller) cost a
    # 2,000-file suite seconds. A decision holds for every test with the same file and
    # exemptions, until the session's findings or ignores change.
    _suite(
        pytester,
        {
            "tests/test_env.py": """
            import os

            import pytest

            @pytest.mark.parametrize("n", range(40))
            def test_reads_its_own_line(n):
                assert os.environ.get("SSOT_OWN") is None

            @pytest.mark.parametrize("n", range(40))
            def test_calls_a_helper(n):
                from tests.helpers import read_alias
                read_alias()

            @pytest.mark.parametrize("n", range(40))
            def test_calls_an_ignored_helper(n):
                from tests.helpers import ignored
                ignored()
        """,
        },
    )
    pytester.makeconftest(DECISIONS)

    result, report = _run(pytester)

    result.assert_outcomes(passed=120)
    (static,) = (v for v in report["violations"] if v["path"] == "tests/test_env.py")
    assert len(static["nodeids"]) == 40
    helper, ignored = sorted(_runtime(report), key=lambda v: v["line"])
    assert (helper["status"], len(helper["nodeids"])) == ("new", 40)
    assert (ignored["status"], len(ignored["nodeids"])) == ("exempted", 40)
    evaluations, added, made = map(int, (pytester.path / "decisions.txt").read_text().split())
    # Each helper's site, once per test; never a test's own line again.
    assert added == 80
    # Nor is a test's own line made into a finding to find that out (42 when it was).
    assert made <= 4
    # After collection, each helper's first hit, the session's end: an inline ignore noted
    # again at each later hit of its line must not make policy decide afresh.
    assert evaluations <= 5


def test_own_lines_are_not_decided_again_and_new_sites_keep_other_decisions(
    pytester: pytest.Pytester,
) -> None:
    # A drifted suite's tests each read the environment on their own, statically reported
    # line: decided with the whole session before the first test, they need no decision of
    # their own at run time. And a site first hit in one test must not make policy decide
    # afresh every site of other files that later tests hit again.
    tests = "\n".join(
        f"def test_{n}():\n"
        f"    assert os.environ.get('SSOT_OWN_{n}') is None\n"
        f"    read_{n}()\n"
        f"    read_alias()\n"
        for n in range(30)
    )
    readers = "\n".join(f"def read_{n}():\n    return os.getenv('SSOT_{n}')\n" for n in range(30))
    imports = ", ".join(f"read_{n}" for n in range(30))
    _suite(
        pytester,
        {
            "tests/readers.py": "import os\n\n" + readers,
            "tests/test_env.py": (
                f"import os\n\nfrom tests.helpers import read_alias\n"
                f"from tests.readers import {imports}\n\n" + tests
            ),
        },
    )
    pytester.makeconftest(DECISIONS)

    result, report = _run(pytester)

    result.assert_outcomes(passed=30)
    static = [v for v in report["violations"] if v["code"] == "SSOT002"]
    assert len(static) == 30
    assert all(len(v["nodeids"]) == 1 for v in static)
    runtime = _runtime(report)
    assert sum(v["path"] == "tests/readers.py" for v in runtime) == 30
    (alias,) = (v for v in runtime if v["path"] == "tests/helpers.py")
    assert len(alias["nodeids"]) == 30
    evaluations, added, made = map(int, (pytester.path / "decisions.txt").read_text().split())
    assert added == 60  # each reader's site and the shared helper's, in each test
    # After collection, each reader's first hit, the shared helper's first hit in the one
    # file, the session's end. Deciding each own line again made it 30 more, and forgetting
    # every decision at each new site 30 more again.
    assert evaluations <= 34
    # Own lines make no finding object either: 61 when each did, 31 for the readers' sites.
    assert made <= 35


def test_a_strict_tier_raises_while_the_default_tier_warns(pytester: pytest.Pytester) -> None:
    body = """
        from tests.helpers import enable_debug

        def test_debug():
            enable_debug()
    """
    _suite(
        pytester,
        {
            "tests/critical/__init__.py": "",
            "tests/critical/test_critical.py": body,
            "tests/test_legacy.py": body,
        },
        extra="""
        [[tool.ssot.tiers]]
        name = "critical"
        paths = ["tests/critical/**"]
        mode = "strict"
        """,
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["FAILED tests/critical/test_critical.py::test_debug*"])
    (violation,) = _runtime(report)
    assert violation["nodeids"] == [
        "tests/critical/test_critical.py::test_debug",
        "tests/test_legacy.py::test_debug",
    ]


# -- nothing leaks between tests ----------------------------------------------------------------
@pytest.mark.parametrize(
    "replace", ["delattr(sys, '_getframe')", "setattr(sys, '_getframe', None)"]
)
def test_a_test_that_takes_away_sys_getframe_breaks_nothing(
    pytester: pytest.Pytester, replace: str
) -> None:
    # attrs' own suite deletes sys._getframe in a test; pytest then writes PYTEST_CURRENT_TEST,
    # and a guard that looked it up afresh failed that test's teardown and every later test.
    _suite(
        pytester,
        {
            "tests/test_frames.py": f"""
            import os
            import sys

            def test_without_getframe(monkeypatch):
                monkeypatch.{replace}
                os.environ.get("HOME")

            def test_after():
                assert callable(sys._getframe)
        """
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2, warnings=1)
    assert [v["code"] for v in report["violations"]] == ["SSOT002"]


FILTERS = [
    [],
    [("error", "", SSOTWarning, "", 0)],
    [("error", "", Warning, "", 0)],
    [("error", "", DeprecationWarning, "", 0)],
    [("ignore", "", SSOTWarning, "", 0), ("error", "", Warning, "", 0)],
    [("error", "ssot102 test code", Warning, "", 0)],  # the message, from its start, any case
    [("error", "wrote", Warning, "", 0)],
    [("error", "", Warning, r".*/tests/helpers", 0)],  # the module is the file without .py
    [("error", "", Warning, r"tests\.helpers", 0)],
    [("error", "", Warning, "", 7)],
    [("error", "", Warning, "", 8)],
    [("always", "", SSOTWarning, "", 0), ("error", "", Warning, "", 0)],
]


@pytest.mark.parametrize("filters", FILTERS)
def test_an_error_is_told_from_the_filters_as_python_applies_them(
    filters: list[tuple[str, str, type[Warning], str, int]],
) -> None:
    text = "SSOT102 test code wrote the process environment at run time (runtime-environ-access)"
    filename, line = "/work/suite/tests/helpers.py", 7
    with warnings.catch_warnings(record=True):
        warnings.resetwarnings()
        for action, message, category, module, lineno in reversed(filters):
            warnings.filterwarnings(action, message, category, module, lineno)  # type: ignore[arg-type]
        told = _raised_by_filters(text, filename, line)
        try:
            warnings.warn_explicit(SSOTWarning(text), SSOTWarning, filename, line)
        except SSOTWarning:
            raised = True
        else:
            raised = False
    assert told is raised


def test_a_warning_made_an_error_by_the_filters_does_not_cut_a_test_short(
    pytester: pytest.Pytester,
) -> None:
    # A project's filterwarnings = ["error"] makes every SSOTWarning an error. Raised at
    # the access, it stopped a helper between setting a variable and restoring it (the
    # restoring line is the one with a violation), so the variable leaked into the next
    # test: the failure comes when the phase ends instead, without a traceback through the
    # plugin.
    _suite(
        pytester,
        {
            "tests/tz.py": """
            import os

            def roundtrip(restore=True):
                os.environ["SSOT_TZ"] = "UTC"  # ssot: ignore[SSOT102]
                try:
                    return "done"
                finally:
                    if restore:
                        del os.environ["SSOT_TZ"]
        """,
            "tests/test_tz.py": """
            from tests.support.isolated_env import get_env
            from tests.tz import roundtrip

            def test_sets_it_first():
                roundtrip(restore=False)  # the next test deletes it

            def test_sets_and_restores():
                assert roundtrip() == "done"

            def test_then_sees_it_restored():
                assert get_env("SSOT_TZ") is None
        """,
        },
    )
    with (pytester.path / "pyproject.toml").open("a") as config:
        # (Only ours: other plugins installed here may warn at start-up.)
        config.write(
            '\n[tool.pytest.ini_options]\nfilterwarnings = ["error::pytest_ssot.SSOTWarning"]\n'
        )
    result = pytester.runpytest_subprocess("-p", "ssot", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_sets_and_restores _*",
            "SSOTWarning (an error by the warnings filters) at tests/tz.py:9: SSOT102 *",
            "*= SSOT compliance =*",
        ]
    )
    assert "During handling" not in result.stdout.str()
    assert "pytest_ssot/plugin.py" not in result.stdout.str()


def test_nothing_leaks_between_tests(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/conftest.py": """
            import os
            from pytest_ssot.guard import active_guard

            ENVIRON = os.environ  # ssot: ignore

            def pytest_runtest_logreport(report):
                # between phases: the guard is off and os.environ the same mapping
                assert active_guard() is None, report.nodeid
                assert os.environ is ENVIRON  # ssot: ignore
                assert isinstance(os.environ, os._Environ)  # ssot: ignore
        """,
            "tests/test_leaks.py": """
            import pytest
            from pytest_ssot import EnvAccessError
            from tests.helpers import enable_debug

            def test_swallows_first():
                try:
                    enable_debug()
                except EnvAccessError:
                    pass

            def test_clean_in_between():
                pass

            def test_same_site_raises_again():
                with pytest.raises(EnvAccessError):
                    enable_debug()
                raise AssertionError("reached the end")
        """,
        },
        mode="strict",
    )
    result, report = _run(pytester)
    # the first test's swallowed error fails only its own teardown; the clean test passes;
    # the third one is refused again at the same site (pytest.raises swallowed it too)
    result.assert_outcomes(passed=2, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_swallows_first*",
            "*ERROR at teardown of test_same_site_raises_again*",
            "*AssertionError: reached the end*",
        ]
    )
    assert "test_clean_in_between" not in result.stdout.str().split("short test summary")[1]
    assert "INTERNALERROR" not in result.stdout.str()
    assert _runtime(report)[0]["nodeids"] == [
        "tests/test_leaks.py::test_same_site_raises_again",
        "tests/test_leaks.py::test_swallows_first",
    ]


def test_an_interrupted_session_leaves_nothing_installed(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_interrupt.py": """
            from tests.helpers import enable_debug

            def test_interrupt():
                enable_debug()
                raise KeyboardInterrupt
        """,
        },
    )
    result = pytester.runpytest("-p", "ssot", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    # the autouse fixture checks that the guard is gone


def _sections(output: str) -> list[str]:
    """The errors and failures pytest printed, up to the next section (the plugin's summary,
    or pytest's short summary without it)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "= ERRORS =" in line)
    end = next(
        i
        for i, line in enumerate(lines)
        if "SSOT compliance" in line or "short test summary info" in line
    )
    return lines[start:end]


def test_a_failing_fixture_or_test_shows_pytests_own_traceback(
    pytester: pytest.Pytester,
) -> None:
    # The guard's hook wrappers are on the stack of every setup, call and teardown: a fixture
    # that fails must not show them (pytest would also parse this plugin's sources for each
    # error, 50 ms each: a suite whose conftest breaks took 22 s instead of 2 s).
    _suite(
        pytester,
        {
            "tests/conftest.py": """
            import pytest

            @pytest.fixture(scope="session")
            def broken_session():
                raise LookupError("session fixture broke")

            @pytest.fixture
            def broken_teardown():
                yield
                raise KeyError("teardown broke")
        """,
            "tests/test_errors.py": """
            from product.settings import timeout

            def test_session_fixture(broken_session):
                pass

            def test_teardown(broken_teardown):
                pass

            def test_body():
                assert timeout() == 31
        """,
        },
    )
    with_plugin = pytester.runpytest("-p", "ssot", "-p", "no:cacheprovider")
    without = pytester.runpytest("-p", "no:ssot", "-p", "no:cacheprovider")
    with_plugin.assert_outcomes(passed=1, failed=1, errors=2)
    without.assert_outcomes(passed=1, failed=1, errors=2)
    shown = _sections(with_plugin.stdout.str())
    text = "\n".join(shown)
    assert "pytest_ssot" not in text
    assert "session fixture broke" in text
    assert "teardown broke" in text
    assert "assert 30 == 31" in text
    assert shown == _sections(without.stdout.str())
