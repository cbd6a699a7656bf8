"""Exemptions: the ssot_exempt marker, inline ignores and exclude globs."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest


def _run(
    pytester: pytest.Pytester, files: dict[str, str], ssot: str = 'mode = "strict"\n', *args: str
) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makepyprojecttoml("[tool.ssot]\n" + ssot)
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    result = pytester.runpytest(
        "-p", "ssot", "--strict-markers", "--ssot-report", "json:ssot.json", *args
    )
    report: dict[str, Any] = json.loads((pytester.path / "ssot.json").read_text())
    return result, report


def _statuses(report: dict[str, Any]) -> dict[tuple[str, int], str]:
    return {(v["path"], v["line"]): v["status"] for v in report["violations"]}


def test_the_marker_exempts_a_test_a_class_or_a_module(pytester: pytest.Pytester) -> None:
    result, report = _run(
        pytester,
        {
            "test_marked.py": """
                import os

                import pytest

                @pytest.mark.ssot_exempt("SSOT002", reason="documents the env contract")
                def test_function():
                    os.environ.get("A")

                @pytest.mark.ssot_exempt(reason="legacy suite, migrating in Q3")
                class TestClass:
                    def test_one(self):
                        os.environ.get("B")

                    def test_two(self):
                        pass

                def test_not_exempt():
                    os.environ.get("C")
            """,
            "test_module_marked.py": """
                import os

                import pytest

                pytestmark = pytest.mark.ssot_exempt("direct-environ-access", reason="legacy")

                def test_a():
                    os.environ.get("D")
            """,
        },
    )
    # --strict-markers: the marker is registered
    assert "not found in `markers` configuration option" not in result.stdout.str()
    result.assert_outcomes(passed=4, errors=1)
    assert _statuses(report) == {
        ("test_marked.py", 7): "exempted",
        ("test_marked.py", 12): "exempted",
        ("test_marked.py", 18): "new",
        ("test_module_marked.py", 8): "exempted",
    }
    summary = report["summary"]
    assert (summary["new"], summary["exempted"]) == (1, 3)
    # Exempted violations do not make a test non-compliant.
    assert (summary["tests"], summary["compliant"]) == (5, 4)


def test_an_exemption_covers_only_the_codes_or_names_it_lists(pytester: pytest.Pytester) -> None:
    result, report = _run(
        pytester,
        {
            "test_codes.py": """
                import os
                from unittest.mock import MagicMock

                import pytest

                @pytest.mark.ssot_exempt("SSOT003", reason="mock only")
                def test_by_code():
                    os.environ.get("A")
                    MagicMock()

                @pytest.mark.ssot_exempt("ad-hoc-mock", reason="mock only, by name")
                def test_by_name():
                    os.environ.get("B")
                    MagicMock()

                @pytest.mark.ssot_exempt("SSOT002", "ad-hoc-mock", reason="both")
                def test_both():
                    os.environ.get("C")
                    MagicMock()
            """,
        },
    )
    assert _statuses(report) == {
        ("test_codes.py", 8): "new",
        ("test_codes.py", 9): "exempted",
        ("test_codes.py", 13): "new",
        ("test_codes.py", 14): "exempted",
        ("test_codes.py", 18): "exempted",
        ("test_codes.py", 19): "exempted",
    }
    result.assert_outcomes(passed=1, errors=2)


def test_an_exemption_without_a_reason_is_listed_as_invalid_and_not_applied(
    pytester: pytest.Pytester,
) -> None:
    result, report = _run(
        pytester,
        {
            "test_invalid.py": """
                import os

                import pytest

                @pytest.mark.ssot_exempt("SSOT002")
                def test_no_reason():
                    os.environ.get("A")

                @pytest.mark.ssot_exempt("SSOT002", reason="  ")
                def test_blank_reason():
                    os.environ.get("B")

                @pytest.mark.ssot_exempt("SSOT002", reason="x", until="next spring")
                def test_bad_date():
                    os.environ.get("C")

                @pytest.mark.ssot_exempt("SSOT020", "direct-environ-access", reason="typo")
                def test_no_such_rule():
                    os.environ.get("D")
            """,
        },
    )
    result.assert_outcomes(errors=4)
    assert set(_statuses(report).values()) == {"new"}
    result.stdout.fnmatch_lines(
        [
            "invalid exemptions 4:",
            "  test_invalid.py::test_bad_date: ssot_exempt until='next spring' is not a "
            "YYYY-MM-DD date; not applied",
            '  test_invalid.py::test_blank_reason: ssot_exempt needs reason="why this test is '
            'exempt"; not applied',
            '  test_invalid.py::test_no_reason: ssot_exempt needs reason="why this test is '
            'exempt"; not applied',
            "  test_invalid.py::test_no_such_rule: ssot_exempt names no rule: SSOT020; not applied",
        ],
        consecutive=False,
    )


def test_a_marker_argument_that_cannot_be_shown_is_an_invalid_exemption(
    pytester: pytest.Pytester,
) -> None:
    """Marker arguments are whatever the test module made them: a repr or a str method that
    raises used to fail the whole session closed ("pytest-ssot failed ...")."""
    result, report = _run(
        pytester,
        {
            "test_hostile.py": """
                import os

                import pytest

                class Unshowable:
                    def __repr__(self):
                        raise RuntimeError("no repr")

                class Code(str):
                    def __hash__(self):
                        raise RuntimeError("no hash")

                    def strip(self, *args):
                        raise RuntimeError("no strip")

                @pytest.mark.ssot_exempt(Unshowable(), reason="x")
                def test_code():
                    os.environ.get("A")

                @pytest.mark.ssot_exempt("SSOT002", reason="x", until=Unshowable())
                def test_until():
                    os.environ.get("B")

                @pytest.mark.ssot_exempt(Code("SSOT002"), reason=Code("migrating"))
                def test_str_subclass():
                    os.environ.get("C")

                def test_clean():
                    pass
            """,
        },
    )
    result.assert_outcomes(passed=2, errors=2)
    assert "pytest-ssot failed" not in result.stdout.str()
    assert _statuses(report) == {
        ("test_hostile.py", 18): "new",
        ("test_hostile.py", 22): "new",
        ("test_hostile.py", 26): "exempted",
    }
    result.stdout.fnmatch_lines(
        [
            "invalid exemptions 2:",
            "  test_hostile.py::test_code: ssot_exempt codes must be strings such as 'SSOT002', "
            "got <Unshowable object>; not applied",
            "  test_hostile.py::test_until: ssot_exempt until=<Unshowable object> is not a "
            "YYYY-MM-DD date; not applied",
        ],
        consecutive=False,
    )


def test_an_expired_exemption_is_listed_and_not_applied(pytester: pytest.Pytester) -> None:
    result, report = _run(
        pytester,
        {
            "test_until.py": """
                import os

                import pytest

                @pytest.mark.ssot_exempt("SSOT002", reason="migrating", until="2000-01-31")
                def test_expired():
                    os.environ.get("A")

                @pytest.mark.ssot_exempt("SSOT002", reason="migrating", until="2999-01-31")
                def test_current():
                    os.environ.get("B")
            """,
        },
    )
    assert _statuses(report) == {("test_until.py", 7): "new", ("test_until.py", 11): "exempted"}
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["expired exemptions 1:", "  test_until.py::test_expired until 2000-01-31: migrating"],
        consecutive=False,
    )


def test_inline_ignores_take_codes_names_or_nothing_and_unused_ones_are_reported(
    pytester: pytest.Pytester,
) -> None:
    result, report = _run(
        pytester,
        {
            "test_inline.py": """
                import os
                from unittest.mock import MagicMock

                def test_by_code():
                    os.environ.get("A")  # ssot: ignore[SSOT002]

                def test_by_name():
                    os.environ.get("B")  # ssot: ignore[direct-environ-access]

                def test_bare():
                    MagicMock(os.environ.get("C"))  # ssot: ignore

                def test_other_code():
                    os.environ.get("D")  # ssot: ignore[SSOT003]

                def test_unused():
                    assert True  # ssot: ignore[SSOT002]
            """,
        },
    )
    assert _statuses(report) == {
        ("test_inline.py", 5): "exempted",
        ("test_inline.py", 8): "exempted",
        ("test_inline.py", 11): "exempted",  # SSOT002 and SSOT003 on the same line
        ("test_inline.py", 14): "new",
    }
    assert sorted(v["code"] for v in report["violations"] if v["line"] == 11) == [
        "SSOT002",
        "SSOT003",
    ]
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "unused ssot: ignore comments 2:",
            "  test_inline.py:14",
            "  test_inline.py:17",
        ],
        consecutive=False,
    )
    # Part of the suite: a run-time access from another test could still use the SSOT002
    # ignore of line 17, and only the SSOT003 one of line 14 can be told unused.
    partial = pytester.runpytest("-p", "ssot", "-k", "test_other_code")
    partial.stdout.fnmatch_lines(["unused ssot: ignore comments 1:", "  test_inline.py:14"])


def test_excluded_files_are_neither_checked_nor_counted(pytester: pytest.Pytester) -> None:
    result, report = _run(
        pytester,
        {
            "tests/legacy/test_old.py": """
                import os

                def test_old():
                    os.environ.get("A")
            """,
            "tests/test_generated.py": """
                import os

                def test_generated():
                    os.environ.get("B")
            """,
            "tests/test_new.py": """
                def test_new():
                    pass
            """,
        },
        'mode = "strict"\nexclude = ["tests/legacy/**", "*_generated.py"]\n',
    )
    result.assert_outcomes(passed=3)
    assert report["violations"] == []
    assert (report["summary"]["tests"], report["summary"]["compliant"]) == (1, 1)
    result.stdout.fnmatch_lines(["compliance 100.0% (1/1 checked tests compliant)"])
