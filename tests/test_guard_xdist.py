"""SSOT102 under pytest-xdist: workers guard their tests, the controller reports the same
violations, numbers and warnings as a serial run."""

from __future__ import annotations

import pytest
from test_guard_plugin import _no_guard_left_behind as _no_guard_left_behind  # autouse
from test_guard_plugin import _run, _runtime, _suite

# test_one and test_three reach the same place in helpers.py; test_two another one.
TWO_MODULES = {
    "tests/test_a.py": """
        from tests.helpers import enable_debug, read_dynamic

        def test_one():
            enable_debug()

        def test_two():
            read_dynamic()
    """,
    "tests/test_b.py": """
        from tests.helpers import enable_debug

        def test_three():
            enable_debug()

        def test_clean():
            pass
    """,
}


def test_xdist_reports_the_same_runtime_violations_as_a_serial_run(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    _suite(pytester, TWO_MODULES)
    serial, serial_report = _run(pytester, "-p", "no:xdist")
    parallel, parallel_report = _run(pytester, "-n", "2", "-p", "no:benchmark")
    serial.assert_outcomes(passed=4, warnings=2)
    parallel.assert_outcomes(passed=4, warnings=2)
    assert parallel_report["violations"] == serial_report["violations"]
    assert parallel_report["summary"] == serial_report["summary"]
    assert len(_runtime(parallel_report)) == 2


def test_an_error_filter_fails_the_same_tests_serial_or_distributed(
    pytester: pytest.Pytester,
) -> None:
    # A run-time warning is shown once, by whichever test reaches its site first: under
    # xdist that is a matter of timing. As an error it fails every test that reaches the
    # site, so the outcomes do not depend on who got there first.
    pytest.importorskip("xdist")
    _suite(pytester, TWO_MODULES)
    # In processes of their own: -W names the class by import path (see test_guard_plugin).
    error = ("-p", "ssot", "-W", "error::pytest_ssot.SSOTWarning", "-p", "no:randomly", "-rf")
    serial = pytester.runpytest_subprocess(*error, "-p", "no:xdist")
    # A file per worker: test_one and test_three race to the site.
    parallel = pytester.runpytest_subprocess(*error, "-n", "2", "--dist", "loadfile")
    failed = {
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two",
        "tests/test_b.py::test_three",
    }
    for result in (serial, parallel):
        result.assert_outcomes(passed=1, failed=3)
        lines = result.stdout.lines
        assert {line.split()[1] for line in lines if line.startswith("FAILED ")} == failed
    # Without the filter it is one warning per place, as before.
    shown = pytester.runpytest_subprocess("-p", "ssot", "-n", "2", "--dist", "loadfile")
    shown.assert_outcomes(passed=4, warnings=2)


WIDE_FIXTURES = {
    "tests/wide.py": """
        import os

        def class_read():
            return os.environ.get("SSOT_CLASS")
    """,
    "tests/conftest.py": """
        import pytest

        from tests.helpers import enable_debug, read_dynamic

        @pytest.fixture(scope="session")
        def shared():
            enable_debug()
            yield
            read_dynamic()
    """,
    "tests/test_a.py": """
        import pytest

        @pytest.mark.parametrize("shared", [1])  # its value, not the fixture
        def test_a0(shared):
            pass

        def test_a1(shared):
            pass

        def test_a2(shared):
            pass

        def test_a3():
            pass
    """,
    "tests/test_b.py": """
        import unittest

        import pytest

        from tests.helpers import read_alias
        from tests.wide import class_read

        @pytest.fixture(scope="module")
        def per_module():
            return read_alias()

        def test_b1(per_module):
            pass

        def test_b2(per_module, shared):
            pass

        class TestCls(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                class_read()

            def test_c1(self):
                pass

            def test_c2(self):
                pass
    """,
}


@pytest.mark.parametrize(
    "dist",
    [
        ("-n", "2"),
        ("-n", "4"),
        ("-n", "2", "--dist", "loadfile"),
        ("-n", "3", "--dist", "worksteal"),
    ],
    ids=["n2", "n4", "loadfile", "worksteal"],
)
def test_what_wider_fixtures_do_is_the_serial_runs_test_whatever_the_worker(
    pytester: pytest.Pytester, dist: tuple[str, ...]
) -> None:
    # Each worker sets a session fixture up in the first test it runs: the accesses go to the
    # test the serial run makes them in, or compliance would depend on -n.
    pytest.importorskip("xdist")
    _suite(pytester, WIDE_FIXTURES, extra="allow_function_tests = true\n")
    serial, serial_report = _run(pytester, "-p", "no:xdist", "--ssot-fail-under", "40")
    parallel, parallel_report = _run(
        pytester, *dist, "-p", "no:benchmark", "--ssot-fail-under", "40"
    )
    assert sorted(n for v in _runtime(serial_report) for n in v["nodeids"]) == [
        "tests/test_a.py::test_a1",  # the session fixture's setup: its first user
        "tests/test_b.py::TestCls::test_c1",  # setUpClass: the class's first test
        "tests/test_b.py::TestCls::test_c2",  # the session fixture's teardown: the last test
        "tests/test_b.py::test_b1",  # the module fixture: its first user
    ]
    assert parallel_report["violations"] == serial_report["violations"]
    assert parallel_report["summary"] == serial_report["summary"]
    assert parallel.ret == serial.ret == pytest.ExitCode.OK
