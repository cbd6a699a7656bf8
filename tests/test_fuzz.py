"""Fuzzing the scan -> rules -> policy -> reports pipeline with hypothesis.

Three sources of input: arbitrary bytes, valid Python from hypothesmith's grammar, and modules
assembled from the shapes the rules look for (aliases, patches, fixtures, ``__main__`` blocks,
inline ignores) at random depths, then maybe damaged. Whatever comes in, no exception escapes,
every file ends checked or unchecked with a reason, no built-in rule ever fails, the cache gives
back what a cold scan gives, and every report renders.

The ``ci`` profile (root conftest.py) keeps this quick; for a long run:
``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_ssot import reporting
from pytest_ssot.cache import ScanCache
from pytest_ssot.config import Config, SourceOfTruth, Tier
from pytest_ssot.model import UncheckedFile, fingerprints
from pytest_ssot.policy import SessionData, evaluate
from pytest_ssot.policy import TestRecord as Record
from pytest_ssot.rules import Checked, RuleSet, builtin_rules, check_file
from pytest_ssot.scanner import FileFacts, scan

CONFIG = Config(
    root=Path("."),
    env_modules=("fw.env",),
    mock_modules=("fw.mocks",),
    runner="unified",
    tiers=(Tier("critical", ("tests/critical/**",), "strict"),),
    sources=(SourceOfTruth("SSOT201", "raw-clock", ("time.sleep",), "fw.clock.advance()"),),
)
RULES = RuleSet(tuple(builtin_rules(CONFIG)))
PATH = "tests/critical/test_fuzz.py"
# What an unparsable file may be told: the scanner's own words, never a bug report.
REASONS = (
    "syntax error",
    "cannot be decoded",
    "contains NUL bytes",
    "nested too deeply to analyse",
    "too large or nested too deeply to analyse",
)


def _check(data: bytes) -> tuple[FileFacts, Checked]:
    facts = scan(data, PATH, RULES.watched)
    findings = RULES.check(facts)
    # Checked or unchecked with a reason, and a built-in rule never fails on anything.
    assert findings.failures == ()
    if facts.error is not None:
        assert facts.error.startswith(REASONS), facts.error
        assert findings == []
        return facts, findings
    lines = max(1, data.count(b"\n") + data.count(b"\r") + 1)
    for finding in findings:
        assert finding.path == PATH
        assert finding.code in RULES.infos
        assert 1 <= finding.line <= lines
        assert finding.line <= max(finding.line, finding.end_line) <= lines
        assert finding.message.strip()
    assert len(fingerprints(findings)) == len({f.key for f in findings})
    return facts, findings


def _report_everything(facts: FileFacts, findings: list) -> None:  # type: ignore[type-arg]
    """The findings of one file through policy and every report format."""
    nodeids = [f"{PATH}::test_{i}" for i in range(2)]
    data = SessionData(tests={n: Record(PATH) for n in nodeids})
    for finding in findings:
        data.add(finding, nodeids[: 1 + finding.line % 2])
    data.suppressions[PATH] = dict(facts.suppressions)
    if facts.error:
        data.unchecked[PATH] = UncheckedFile(PATH, facts.error)
    result = evaluate(data, CONFIG, RULES.infos)
    assert result.tests == 2
    for fmt in reporting.FORMATS:
        assert reporting.render(fmt, result, CONFIG, RULES.infos, "1.0")


# -- inputs -------------------------------------------------------------------------------------

NAMES = st.sampled_from(["os", "o", "E", "env", "mock", "m", "patch", "mp", "self", "x", "time"])
EXPRESSIONS = st.sampled_from(
    [
        'os.environ["A"]',
        'os.environ.get("A", "d")',
        "os.environb",
        'os.getenv("A")',
        'os.putenv("A", "1")',
        'os.unsetenv("A")',
        'getattr(os, "environ")',
        'getattr(os, "env" + "iron")',
        "E",
        'env["A"]',
        "o.environ.copy()",
        "mock.MagicMock()",
        "mock.ANY",
        "MagicMock(spec=object)",
        'patch("os.environ", {})',
        'patch.dict(os.environ, {"A": "1"})',
        'patch.object(os, "environ")',
        'monkeypatch.setenv("A", "1")',
        'monkeypatch.delenv("A")',
        'mp.setattr("os.environ", {})',
        'request.getfixturevalue("mocker")',
        "time.sleep(0)",
        "subprocess.run(['pytest'])",
        "pytest.main([__file__])",
        "lambda: os.environ",
        "[os.getenv(k) for k in 'AB']",
        "f'{os.environ}'",
        '"os.environ in a string"',
        "x",
    ]
)
IMPORTS = st.sampled_from(
    [
        "import os",
        "import os as o",
        "from os import environ as E, getenv",
        "from os import *",
        "import unittest.mock as mock",
        "from unittest import mock",
        "from unittest.mock import MagicMock, patch, ANY",
        "from mock import *",
        "import pytest",
        "import time",
        "import subprocess",
        "from fw.env import get_env",
        "env = os.environ",
        "os = None",
    ]
)
COMMENTS = st.sampled_from(
    ["", "  # ssot: ignore", "  # ssot: ignore[SSOT002]", "  # ssot: ignore[ad-hoc-mock, SSOT201]"]
)


@st.composite
def _statement(draw: st.DrawFn, depth: int) -> list[str]:
    kind = draw(st.integers(0, 9 if depth < 4 else 2))
    comment = draw(COMMENTS)
    if kind == 0:
        return [draw(IMPORTS) + comment]
    if kind == 1:
        return [f"{draw(NAMES)} = {draw(EXPRESSIONS)}{comment}"]
    if kind == 2:
        return [draw(EXPRESSIONS) + comment]
    body = [
        "    " + line
        for _ in range(draw(st.integers(1, 3)))
        for line in draw(_statement(depth + 1))
    ]
    name = draw(st.sampled_from(["TestA", "Base", "test_b", "helper", "setUp", "client"]))
    base = draw(st.sampled_from(["", "Base", "unittest.TestCase", "mock.Mock"]))
    argument = draw(st.sampled_from(["monkeypatch", "mocker", "mp: pytest.MonkeyPatch", "x"]))
    header = {
        3: f"class {name}({base}):",
        4: f"def {name}(self, {argument}):",
        5: "@pytest.fixture\n" + f"def {name}(request):",
        6: 'if __name__ == "__main__":',
        7: f"with {draw(EXPRESSIONS)} as {draw(NAMES)}:",
        8: "try:",
        9: f"for {draw(NAMES)} in {draw(EXPRESSIONS)}:",
    }[kind]
    tail = ["except Exception:", "    pass"] if kind == 8 else []
    return [*header.split("\n"), *body, *tail]


@st.composite
def _ssot_module(draw: st.DrawFn) -> bytes:
    """A module of the shapes the rules look for, maybe damaged the way files are damaged."""
    lines = [line for _ in range(draw(st.integers(1, 8))) for line in draw(_statement(0))]
    text = "\n".join(lines) + "\n"
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    data = text.replace("\n", newline).encode()
    damage = draw(st.sampled_from(["none", "none", "bom", "cut", "splice", "tabs"]))
    if damage == "bom":
        data = b"\xef\xbb\xbf" + data
    elif damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif damage == "tabs":
        data = data.replace(b"    ", b"\t")
    return data


# Lists and dicts, what may change them, and what parametrize may be given (ssot check
# expands what it can tell; nothing here may make it fail).
BINDINGS = st.sampled_from(
    [
        "CASES = [1, 'a', None]",
        "CASES = (2.5, -1, True)",
        "CASES = [x for x in (1, 2)]",
        "CASES = [*CASES, 3]",
        "CASES += [4]",
        "CASES.append(5)",
        "TABLE = {'a': 1, 'b': 2, 'a': 3}",
        "TABLE = {**TABLE}",
        "TABLE = MappingProxyType({'k': 1})",
        "TABLE = types.MappingProxyType(TABLE)",
        "TABLE |= {'c': 4}",
        "TABLE[0] = 1",
        "sorted = list",
        "WORDS = sorted(TABLE)",
        "def grow():\n    CASES.append(6)\n    TABLE.clear()",
        "grow()",
        "class Grow:\n    def __init__(self):\n        CASES.pop()",
        "Grow()",
        "if __name__ == '__main__':\n    grow()",
        "from __future__ import annotations",
        "import types\nfrom types import MappingProxyType",
    ]
)
ARGVALUES = [
    "CASES",
    "TABLE",
    "WORDS",
    "list(TABLE)",
    "tuple(CASES)",
    "sorted(CASES)",
    "sorted(TABLE, reverse=True)",
    "sorted(CASES, key=len)",
    "reversed(CASES)",
    "list(reversed(TABLE))",
    "TABLE.keys()",
    "TABLE.values()",
    "TABLE.items()",
    "list('ab')",
    "list(b'ab')",
    "list(range(3))",
    "[pytest.param(*c, id=c[-1]) for c in TABLE.items()]",
    "[pytest.param(c, id=c[5]) for c in CASES]",
    "[pytest.param(v, id=('x', 'y')[v]) for v in range(2)]",
    "sorted(list(tuple(reversed(sorted(CASES)))))",
    "{}",
    "dict(CASES)",
    "[*TABLE, *CASES]",
]


@st.composite
def _parametrized_module(draw: st.DrawFn) -> bytes:
    lines = ["import pytest"]
    for _ in range(draw(st.integers(1, 4))):
        lines += draw(BINDINGS).split("\n")
    # Every shape once, in a drawn order, with a few more bindings between them.
    for values in draw(st.permutations(ARGVALUES)):
        if draw(st.integers(0, 5)) == 0:
            lines += draw(BINDINGS).split("\n")
        lines += [f"@pytest.mark.parametrize('v', {values})", "def test_v(v):", "    pass"]
    return ("\n".join(lines) + "\n").encode()


# Built once: constructing the grammar strategy takes seconds, drawing from it does not.
_GRAMMAR = hypothesmith.from_grammar()
_SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- properties ---------------------------------------------------------------------------------


@_SLOW
@given(_ssot_module())
def test_fuzz_modules_of_rule_shapes_end_checked_or_unchecked_and_render(data: bytes) -> None:
    facts, findings = _check(data)
    _report_everything(facts, findings)


@_SLOW
@given(_ssot_module())
# Found by this test: with "\r" line ends, tokenize put the ignore on the wrong line.
@example(b"import os\rfrom os import environ as E, getenv  # ssot: ignore\r")
def test_fuzz_pruned_and_full_visits_find_the_same_facts(data: bytes) -> None:
    assert scan(data, PATH, RULES.watched) == scan(data, PATH, RULES.watched, prune=False)


@_SLOW
@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it draws
@given(_GRAMMAR)
def test_fuzz_grammar_generated_python_is_checked_by_every_rule(source: str) -> None:
    facts, findings = _check(source.encode("utf-8", "surrogatepass"))
    _report_everything(facts, findings)


@_SLOW
@given(_parametrized_module())
def test_fuzz_parameter_lists_end_told_or_untold_in_a_full_scan(data: bytes) -> None:
    facts = scan(data, PATH, RULES.watched, full=True)
    assert facts.error is None or facts.error.startswith(REASONS), facts.error
    assert facts.error is not None or facts.structure is not None


@_SLOW
@given(st.binary(max_size=4_000))
def test_fuzz_arbitrary_bytes_end_checked_or_unchecked(data: bytes) -> None:
    for prefix in (b"", b"import os\nos.environ\n"):
        _check(prefix + data)
        assert scan(prefix + data, PATH, RULES.watched, full=True).path == PATH


@_SLOW
@given(_ssot_module(), st.sampled_from(["truncated", "garbage", "none"]))
def test_fuzz_the_cache_gives_back_what_a_cold_scan_gives(data: bytes, damage: str) -> None:
    with tempfile.TemporaryDirectory() as directory:  # one per example, not per test
        root = Path(directory)
        path = root / "test_fuzz.py"
        path.write_bytes(data)
        cache = ScanCache(root / "cache", RULES.cache_salt())
        cold = check_file(path, PATH, RULES, cache)
        for entry in (root / "cache").rglob("*.json"):
            raw = entry.read_bytes()
            entry.write_bytes(
                {"truncated": raw[: len(raw) // 2], "garbage": b"\xff[", "none": raw}[damage]
            )
        warm = check_file(path, PATH, RULES, ScanCache(root / "cache", RULES.cache_salt()))
    assert warm == cold
    assert warm[1].failures == cold[1].failures == ()
