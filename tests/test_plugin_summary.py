"""The ``SSOT compliance`` terminal section and --ssot-fail-under."""

from __future__ import annotations

import textwrap

import pytest

FILES = {
    "critical/test_core.py": """
        import os

        def test_env():
            os.environ.get("A")

        def test_clean():
            pass
    """,
    "unit/test_busy.py": """
        import os
        from unittest.mock import MagicMock

        import pytest

        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_param(n):
            os.getenv("B")

        def test_mock():
            MagicMock()

        def test_env_ignored():
            os.getenv("C")  # ssot: ignore[SSOT002]

        def test_clean():
            pass
    """,
    "unit/test_quiet.py": """
        def test_one():
            pass

        def test_two():
            pass

        def test_three():
            pass
    """,
}

CONFIG = """
[tool.ssot]
mode = "warn"

[[tool.ssot.tiers]]
name = "critical"
paths = ["critical/**"]
"""


def _suite(pytester: pytest.Pytester, config: str = CONFIG) -> None:
    pytester.makepyprojecttoml(textwrap.dedent(config))
    for name, text in FILES.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _section(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "SSOT compliance" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("===")), len(lines))
    return lines[start + 1 : end]


def test_the_summary_shows_compliance_counts_rules_tiers_and_files(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester)
    result = pytester.runpytest("-p", "ssot")
    result.assert_outcomes(passed=11, warnings=3)
    # 11 collected tests; non-compliant: test_env, test_param[1..3], test_mock.
    assert _section(result) == [
        "compliance 54.5% (6/11 checked tests compliant)",
        "violations 4: 3 new, 0 known, 1 exempted",
        "by rule:",
        "  SSOT002 direct-environ-access      3",
        "  SSOT003 ad-hoc-mock                1",
        "by tier:",
        "  critical              50.0%  (1/2)",
        "  default               55.6%  (5/9)",
        "most violations:",
        "     2  unit/test_busy.py",
        "     1  critical/test_core.py",
    ]


def test_the_quiet_summary_keeps_the_essentials(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    result = pytester.runpytest("-p", "ssot", "-q")
    section = _section(result)
    assert section[:2] == [
        "compliance 54.5% (6/11 checked tests compliant)",
        "violations 4: 3 new, 0 known, 1 exempted",
    ]
    # With -q pytest's own last line follows the section without a separator.
    assert len(section) == 3
    assert section[2].startswith("11 passed, 3 warnings")
    assert "by rule:" not in result.stdout.str()


def test_a_clean_suite_is_fully_compliant(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(test_a="def test_a(): pass\ndef test_b(): pass\n")
    result = pytester.runpytest("-p", "ssot")
    assert _section(result) == [
        "compliance 100.0% (2/2 checked tests compliant)",
        "violations 0: 0 new, 0 known, 0 exempted",
    ]


def test_the_worst_files_are_capped_and_ordered_by_count_then_path(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    for index, count in enumerate([1, 3, 2, 1, 1, 2, 1]):
        body = "import os\n\ndef test_x():\n" + "    os.getenv('A')\n" * count
        pytester.makepyfile(**{f"test_f{index}": body})
    result = pytester.runpytest("-p", "ssot")
    section = _section(result)
    start = section.index("most violations:")
    assert section[start + 1 : start + 7] == [
        "     3  test_f1.py",
        "     2  test_f2.py",
        "     2  test_f5.py",
        "     1  test_f0.py",
        "     1  test_f3.py",
    ]


def test_renaming_classes_cannot_game_compliance(pytester: pytest.Pytester) -> None:
    """Compliance counts collected tests, so non-compliant tests count however they are
    grouped: one class of four tests is four non-compliant tests, not one."""
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        test_a="""
        import os

        class TestLegacy:
            os.environ.get("A")

            def test_1(self): pass
            def test_2(self): pass
            def test_3(self): pass
            def test_4(self): pass

        class TestNew:
            def test_5(self): pass
        """
    )
    result = pytester.runpytest("-p", "ssot", "-q")
    assert _section(result)[0] == "compliance 20.0% (1/5 checked tests compliant)"


# -- fail-under ------------------------------------------------------------------------------


def test_fail_under_fails_a_passing_session_below_the_threshold(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester)
    result = pytester.runpytest("-p", "ssot", "--ssot-fail-under", "90")
    result.assert_outcomes(passed=11, warnings=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAIL: SSOT compliance 54.5% is below --ssot-fail-under 90% "
            "(6/11 tests compliant; 4 more compliant tests needed)"
        ]
    )


def test_fail_under_from_the_config_names_its_file(pytester: pytest.Pytester) -> None:
    _suite(pytester, CONFIG.replace('mode = "warn"', 'mode = "warn"\nfail_under = 60'))
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["FAIL: SSOT compliance 54.5% is below fail_under in pyproject.toml 60% *"]
    )


def test_fail_under_passes_at_or_above_the_threshold(pytester: pytest.Pytester) -> None:
    _suite(pytester)
    result = pytester.runpytest("-p", "ssot", "--ssot-fail-under", "54.5")
    assert result.ret == pytest.ExitCode.OK
    assert "FAIL: SSOT compliance" not in result.stdout.str()


def test_the_command_line_threshold_replaces_the_config_one(pytester: pytest.Pytester) -> None:
    _suite(pytester, CONFIG.replace('mode = "warn"', 'mode = "warn"\nfail_under = 99'))
    result = pytester.runpytest("-p", "ssot", "--ssot-fail-under", "50")
    assert result.ret == pytest.ExitCode.OK


def test_fail_under_keeps_a_worse_exit_code(pytester: pytest.Pytester) -> None:
    _suite(pytester, CONFIG.replace('mode = "warn"', 'mode = "strict"'))
    result = pytester.runpytest("-p", "ssot", "--ssot-fail-under", "90", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
