"""The migration ratchet end to end: create, tolerate, catch new, survive moves, stale, update,
malformed; subset runs; --ssot-fail-under."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

CONFIG = """
[tool.ssot]
mode = "strict"
baseline = "ssot-baseline.json"
"""

LEGACY = """
import os


class TestLegacy:
    def test_reads_home(self):
        assert os.environ.get("HOME") or True

    def test_reads_user(self):
        assert os.getenv("USER") or True

    def test_clean(self):
        assert True
"""


def _write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "ssot", "--ssot-report", "json:report.json", *args)


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "report.json").read_text())
    return data


def _statuses(pytester: pytest.Pytester) -> list[tuple[str, int, str]]:
    return sorted((v["code"], v["line"], v["status"]) for v in _report(pytester)["violations"])


def _baseline(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "ssot-baseline.json").read_text())
    return data


@pytest.fixture
def legacy(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(CONFIG)
    _write(pytester, "tests/test_legacy.py", LEGACY)
    return pytester


def _create(pytester: pytest.Pytester) -> pytest.RunResult:
    result = _run(pytester, "--ssot-mode=warn", "--ssot-update-baseline")
    assert result.ret == 0, result.stdout.str()
    return result


def test_update_baseline_creates_a_sorted_file_of_every_current_violation(
    legacy: pytest.Pytester,
) -> None:
    result = _create(legacy)
    result.stdout.fnmatch_lines(["ssot: baseline ssot-baseline.json written: 2 entries (2 added*"])
    data = _baseline(legacy)
    assert data["version"] == 1
    assert [(e["code"], e["line"], e["scope"]) for e in data["entries"]] == [
        ("SSOT002", 6, "TestLegacy.test_reads_home"),
        ("SSOT002", 9, "TestLegacy.test_reads_user"),
    ]
    text = (legacy.path / "ssot-baseline.json").read_text()
    assert text.count("\n") == len(data["entries"]) + 5  # one line per entry


def test_known_violations_never_fail_strict_mode_but_still_count_as_non_compliant(
    legacy: pytest.Pytester,
) -> None:
    _create(legacy)
    result = _run(legacy)
    result.assert_outcomes(passed=3)
    assert _statuses(legacy) == [("SSOT002", 6, "known"), ("SSOT002", 9, "known")]
    summary = _report(legacy)["summary"]
    assert (summary["compliant"], summary["tests"], summary["known"]) == (1, 3, 2)
    result.stdout.fnmatch_lines(["violations 2: 0 new, 2 known, 0 exempted"])


def test_a_new_violation_fails_strict_mode_while_known_ones_pass(legacy: pytest.Pytester) -> None:
    _create(legacy)
    _write(
        legacy,
        "tests/test_legacy.py",
        LEGACY.replace("assert True", 'assert os.environ.get("SHELL") or True'),
    )
    result = _run(legacy)
    result.assert_outcomes(passed=2, errors=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*SSOT002 tests/test_legacy.py:12 os.environ*"])
    assert ("SSOT002", 12, "new") in _statuses(legacy)


def test_moved_code_and_inserted_lines_keep_violations_known(legacy: pytest.Pytester) -> None:
    _create(legacy)
    moved = LEGACY.replace(
        "import os\n",
        'import os\n\n# a comment\nVALUE = 1\n\n\ndef helper():\n    return "x"\n',
    )
    # Swap the two tests and re-indent nothing else: both lines move.
    head, rest = moved.split("    def test_reads_home(self):")
    home, rest = rest.split("    def test_reads_user(self):")
    user, clean = rest.split("    def test_clean(self):")
    swapped = (
        head
        + "    def test_reads_user(self):"
        + user
        + "    def test_reads_home(self):"
        + home
        + "    def test_clean(self):"
        + clean
    )
    _write(legacy, "tests/test_legacy.py", swapped)
    result = _run(legacy)
    result.assert_outcomes(passed=3)
    statuses = _statuses(legacy)
    assert [s for _, _, s in statuses] == ["known", "known"]
    lines = sorted(line for _, line, _ in statuses)
    assert len(lines) == 2
    assert lines[0] > 9  # both moved down, past the inserted helper


def test_a_formatters_quotes_and_an_added_comment_keep_violations_known(
    legacy: pytest.Pytester,
) -> None:
    _create(legacy)
    reformatted = LEGACY.replace('os.environ.get("HOME")', "os.environ.get('HOME')").replace(
        'os.getenv("USER") or True', 'os.getenv("USER") or True  # TODO(ssot): migrate'
    )
    _write(legacy, "tests/test_legacy.py", reformatted)

    result = _run(legacy)

    result.assert_outcomes(passed=3)
    assert _statuses(legacy) == [("SSOT002", 6, "known"), ("SSOT002", 9, "known")]
    assert _report(legacy)["stale"] == []


def test_a_second_identical_occurrence_in_the_same_test_is_new(legacy: pytest.Pytester) -> None:
    _create(legacy)
    line = '        assert os.environ.get("HOME") or True\n'
    doubled = LEGACY.replace(line, line + line)
    _write(legacy, "tests/test_legacy.py", doubled)
    result = _run(legacy)
    assert [s for _, _, s in _statuses(legacy)].count("new") == 1
    result.assert_outcomes(passed=2, errors=1)


def test_fixed_violations_are_listed_as_stale_and_dropped_at_the_next_update(
    legacy: pytest.Pytester,
) -> None:
    _create(legacy)
    _write(legacy, "tests/test_legacy.py", LEGACY.replace('os.getenv("USER")', '"user"'))
    result = _run(legacy)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["stale baseline entries (fixed) 1:", "  SSOT002 tests/test_legacy.py:9 os.getenv*"]
    )
    assert [e["line"] for e in _report(legacy)["stale"]] == [9]
    result = _run(legacy, "--ssot-update-baseline")
    result.stdout.fnmatch_lines(
        ["*baseline ssot-baseline.json written: 1 entries (0 added, 1 fixed)"]
    )
    assert [e["line"] for e in _baseline(legacy)["entries"]] == [6]
    result = _run(legacy)
    result.stdout.no_fnmatch_line("stale baseline entries*")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{broken", "the baseline is not valid JSON"),
        ('{"version": 1, "entries": [{"code": "SSOT002"}]}', "entry 1 needs a string"),
    ],
)
def test_a_malformed_baseline_is_a_usage_error_and_is_never_overwritten(
    legacy: pytest.Pytester, content: str, problem: str
) -> None:
    path = legacy.path / "ssot-baseline.json"
    path.write_text(content, encoding="utf-8")
    result = _run(legacy, "--ssot-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{path}: *{problem}*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert path.read_text(encoding="utf-8") == content


def test_an_unreadable_baseline_is_a_usage_error_naming_it(legacy: pytest.Pytester) -> None:
    (legacy.path / "ssot-baseline.json").mkdir()
    result = _run(legacy)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot-baseline.json: cannot read the baseline*"])


# Without --continue-on-collection-errors pytest stops after collecting, with its own
# "Interrupted": the reason and the hint are still the collection error, not an interruption.
@pytest.mark.parametrize("args", [("--continue-on-collection-errors",), ()])
def test_the_baseline_is_not_written_after_collection_errors(
    legacy: pytest.Pytester, args: tuple[str, ...]
) -> None:
    _create(legacy)
    before = (legacy.path / "ssot-baseline.json").read_text()
    _write(legacy, "tests/test_legacy.py", LEGACY.replace('os.getenv("USER")', '"user"'))
    _write(legacy, "tests/test_broken.py", "import does_not_exist\n")
    result = _run(legacy, "--ssot-update-baseline", *args)
    result.stdout.fnmatch_lines(
        [
            "compliance * [[]incomplete: 1 collection error(s)]",
            "ssot: baseline ssot-baseline.json not updated (1 collection error(s)): it is only "
            "written after a complete session; fix or --ignore the files that fail to collect*",
        ]
    )
    assert (legacy.path / "ssot-baseline.json").read_text() == before


def test_the_baseline_is_not_written_after_an_interrupted_session(
    legacy: pytest.Pytester,
) -> None:
    _create(legacy)
    before = (legacy.path / "ssot-baseline.json").read_text()
    _write(legacy, "tests/test_legacy.py", LEGACY.replace('os.getenv("USER")', '"user"'))
    _write(
        legacy,
        "tests/test_stop.py",
        """
        def test_interrupts():
            raise KeyboardInterrupt
        """,
    )
    result = legacy.runpytest(
        "-p", "ssot", "--ssot-mode=warn", "--ssot-update-baseline", no_reraise_ctrlc=True
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*baseline ssot-baseline.json not updated (interrupted)*"])
    assert (legacy.path / "ssot-baseline.json").read_text() == before


OTHER = """
import os


class TestOther:
    def test_reads_path(self):
        assert os.environ.get("PATH") or True
"""


@pytest.fixture
def two_dirs(legacy: pytest.Pytester) -> pytest.Pytester:
    _write(legacy, "tests/api/test_other.py", OTHER)
    _create(legacy)
    assert len(_baseline(legacy)["entries"]) == 3
    return legacy


def test_running_one_directory_neither_calls_the_rest_stale_nor_drops_it(
    two_dirs: pytest.Pytester,
) -> None:
    _write(two_dirs, "tests/test_legacy.py", LEGACY.replace('os.getenv("USER")', '"user"'))
    result = _run(two_dirs, "tests/api", "--ssot-update-baseline")
    result.assert_outcomes(passed=1)
    assert _report(two_dirs)["stale"] == []
    result.stdout.fnmatch_lines(["*written: 3 entries (0 added, 0 fixed, 2 kept from parts*"])
    assert len(_baseline(two_dirs)["entries"]) == 3
    # The directory that was run is judged: its entry is retired once fixed.
    _write(two_dirs, "tests/api/test_other.py", OTHER.replace('os.environ.get("PATH")', "1"))
    _run(two_dirs, "tests/api", "--ssot-update-baseline")
    assert {e["path"] for e in _baseline(two_dirs)["entries"]} == {"tests/test_legacy.py"}


def test_deselecting_tests_keeps_the_entries_of_partly_run_files(two_dirs: pytest.Pytester) -> None:
    result = _run(two_dirs, "-k", "reads_home or reads_path", "--ssot-update-baseline")
    result.assert_outcomes(passed=2, deselected=2)
    assert _report(two_dirs)["stale"] == []
    assert len(_baseline(two_dirs)["entries"]) == 3
    # A fully selected file is still judged: fixing it retires its entry.
    _write(two_dirs, "tests/api/test_other.py", OTHER.replace('os.environ.get("PATH")', "1"))
    result = _run(two_dirs, "-k", "reads_home or reads_path", "--ssot-update-baseline")
    assert [e["line"] for e in _report(two_dirs)["stale"]] == [6]
    assert {e["path"] for e in _baseline(two_dirs)["entries"]} == {"tests/test_legacy.py"}


def test_a_node_id_run_judges_nothing_of_its_file(two_dirs: pytest.Pytester) -> None:
    _run(two_dirs, "tests/test_legacy.py::TestLegacy::test_clean", "--ssot-update-baseline")
    assert _report(two_dirs)["stale"] == []
    assert len(_baseline(two_dirs)["entries"]) == 3


def test_a_deleted_test_file_retires_its_entries(two_dirs: pytest.Pytester) -> None:
    (two_dirs.path / "tests/api/test_other.py").unlink()
    result = _run(two_dirs, "--ssot-update-baseline")
    assert [e["path"] for e in _report(two_dirs)["stale"]] == ["tests/api/test_other.py"]
    assert "tests/api/test_other.py" not in result.stdout.str().split("written")[-1]
    assert len(_baseline(two_dirs)["entries"]) == 2


def test_excluding_a_file_retires_its_entries(two_dirs: pytest.Pytester) -> None:
    two_dirs.makepyprojecttoml(CONFIG + 'exclude = ["tests/api/**"]\n')
    _run(two_dirs, "--ssot-update-baseline")
    assert {e["path"] for e in _baseline(two_dirs)["entries"]} == {"tests/test_legacy.py"}


# -- fail_under --------------------------------------------------------------------------------
def test_fail_under_fails_a_passing_session_and_says_why(legacy: pytest.Pytester) -> None:
    result = _run(legacy, "--ssot-mode=warn", "--ssot-fail-under", "50")
    result.assert_outcomes(passed=3)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "FAIL: SSOT compliance 33.3% is below --ssot-fail-under 50% (1/3 tests compliant; "
            "1 more compliant test needed)"
        ]
    )


def test_fail_under_from_the_config_names_the_file(legacy: pytest.Pytester) -> None:
    legacy.makepyprojecttoml(CONFIG.replace('mode = "strict"', 'mode = "warn"\nfail_under = 90'))
    result = _run(legacy)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAIL: *below fail_under in pyproject.toml 90% (1/3 *2 more*"])


def test_meeting_fail_under_keeps_the_exit_code(legacy: pytest.Pytester) -> None:
    result = _run(legacy, "--ssot-mode=warn", "--ssot-fail-under", "33.3")
    assert result.ret == 0
    result.stdout.no_fnmatch_line("FAIL:*")


def test_fail_under_100_needs_every_test_even_when_the_rounding_says_100() -> None:
    from pytest_ssot.config import Config
    from pytest_ssot.model import Finding
    from pytest_ssot.policy import SessionData, TestRecord, evaluate

    data = SessionData(tests={f"t.py::test_{i}": TestRecord("t.py") for i in range(2001)})
    data.add(Finding("SSOT002", "t.py", 1, 1, "os.environ", snippet="x"), ["t.py::test_0"])
    result = evaluate(data, Config(root=Path(".")), {})
    assert result.compliance == 100.0  # 2000/2001, as displayed
    assert result.below(100)
    assert not result.below(99.9)
    assert not result.below(0)


def test_fail_under_rejects_a_bad_value_as_a_usage_error(legacy: pytest.Pytester) -> None:
    result = _run(legacy, "--ssot-fail-under", "150")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'150' is not a number from 0 to 100*"])
