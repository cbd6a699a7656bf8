"""The scan prefilter: a file that cannot hold a fact is not parsed, and nothing is lost by it.

With a cold cache the parse is most of a scan; migrated files (which import the team's
``isolated_environment`` or ``ssot.mocks`` but touch nothing watched) skip it.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ssot import scanner
from pytest_ssot.scanner import ENV_TARGETS, MOCK_MODULES, scan

ROOT = Path(__file__).resolve().parents[1]
WATCHED = tuple(sorted({*ENV_TARGETS, *MOCK_MODULES, "product.http.raw_get"}))

MIGRATED = textwrap.dedent(
    """
    from product import settings
    from test_framework.ssot.base import SSotBaseTestCase
    from test_framework.ssot.isolated_environment import get_env
    from test_framework.ssot.mocks import SSotMockFactory

    class TestMigrated(SSotBaseTestCase):
        class Inner:
            pass

        def test_env(self):
            assert get_env().get("A") is None
            assert SSotMockFactory.create_client()
    """
).encode()


@pytest.fixture
def no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes, path: str) -> object:
        raise AssertionError(f"{path} was parsed")

    monkeypatch.setattr(scanner, "_parse", refuse)


@pytest.mark.usefixtures("no_parse")
def test_a_migrated_file_is_indexed_without_a_parse() -> None:
    facts = scan(MIGRATED, "tests/test_migrated.py", WATCHED)
    assert facts.refs == ()
    assert facts.error is None
    assert {name: info.line for name, info in facts.classes.items()} == {
        "TestMigrated": 7,
        "TestMigrated.Inner": 8,
    }


@pytest.mark.usefixtures("no_parse")
def test_an_inline_ignore_in_an_unparsed_file_is_still_seen() -> None:
    data = MIGRATED + b"\nVALUE = 1  # ssot: ignore[SSOT002]\n"
    facts = scan(data, "tests/test_migrated.py", WATCHED)
    assert facts.suppressions == {15: frozenset({"SSOT002"})}


@pytest.mark.parametrize(
    "line",
    [
        "E = environ",
        "from os import environ as E",
        "value = getattr(o, 'environ')",
        "patch('os.getenv')",
        "from product.http import raw_get as g",
        "x = h.raw_get",
        "import mock",
        "def test_a(mocker): pass",
        "def test_a(class_mocker): pass",
        "monkeypatch.delenv('A')",
        "if __name__ == '__main__': pass",
        "from pytest_mock import MockerFixture",
    ],
)
def test_a_file_that_may_hold_a_fact_is_parsed(line: str) -> None:
    assert scanner.file_triggers_for(WATCHED).search(MIGRATED + line.encode()) is not None


def _corpus() -> list[Path]:
    files = sorted((ROOT / "examples").rglob("*.py"))
    files += sorted((ROOT / "tests").glob("test_*.py"))
    files += sorted((ROOT / "pytest_ssot").glob("*.py"))
    return files


def test_the_prefilter_loses_no_fact_on_real_code() -> None:
    """Every reference, runner block and ignore a full parse finds, the prefiltered scan
    finds too (this test suite and the examples are full of them)."""
    prefiltered = 0
    for path in _corpus():
        data = path.read_bytes()
        fast = scan(data, path.name, WATCHED)
        full = scan(data, path.name, WATCHED, full=True)
        assert (fast.refs, fast.main_blocks, fast.suppressions) == (
            full.refs,
            full.main_blocks,
            full.suppressions,
        ), path
        # A file that does not parse but mentions nothing watched is not parsed to find out
        # (the plugin parses the files pytest fails to import, to say why).
        assert fast.error in (None, full.error), path
        prefiltered += scanner.file_triggers_for(WATCHED).search(data) is None
    assert prefiltered > 0


def test_the_prefilter_loses_no_fact_on_a_generated_suite(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    suite = generate(tmp_path / "suite", 40, seed=7)
    skipped = 0
    for path in sorted(suite.root.rglob("test_*.py")):
        data = path.read_bytes()
        fast = scan(data, path.name, WATCHED)
        full = scan(data, path.name, WATCHED, full=True)
        assert (fast.refs, fast.main_blocks, fast.suppressions) == (
            full.refs,
            full.main_blocks,
            full.suppressions,
        ), path
        # A file that does not parse but mentions nothing watched is not parsed to find out
        # (the plugin parses the files pytest fails to import, to say why).
        assert fast.error in (None, full.error), path
        skipped += scanner.file_triggers_for(WATCHED).search(data) is None
    assert skipped > 5  # the migrated modules
