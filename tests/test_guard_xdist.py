"""SSOT102 under pytest-xdist: workers guard their tests, the controller reports the same
violations, numbers and warnings as a serial run."""

from __future__ import annotations

import pytest
from test_guard_plugin import _no_guard_left_behind as _no_guard_left_behind  # autouse
from test_guard_plugin import _run, _runtime, _suite


def test_xdist_reports_the_same_runtime_violations_as_a_serial_run(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    _suite(
        pytester,
        {
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
        },
    )
    serial, serial_report = _run(pytester, "-p", "no:xdist")
    parallel, parallel_report = _run(pytester, "-n", "2", "-p", "no:benchmark")
    serial.assert_outcomes(passed=4, warnings=2)
    parallel.assert_outcomes(passed=4, warnings=2)
    assert parallel_report["violations"] == serial_report["violations"]
    assert parallel_report["summary"] == serial_report["summary"]
    assert len(_runtime(parallel_report)) == 2
