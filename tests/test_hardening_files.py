"""Pathological test files, through the scanner, a real pytest session with the plugin and
``ssot check``: each ends checked (its violation found at the right line) or unchecked with a
reason, never a crash, a hang or an INTERNALERROR, and the plugin and the CLI agree."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot import cli
from pytest_ssot.scanner import scan

BODY = 'import os\n\n\ndef test_env():\n    assert os.environ.get("HOME") is None or True\n'
DEEP = 5_000  # nesting levels: past what Python's compiler accepts before 3.13
BIG = 10_000_000  # bytes


def _big_module() -> bytes:
    """A 10 MB test module whose access sits at its end (a huge literal: cheap to parse)."""
    filler = ("x" * 99 + "\n") * (BIG // 100)
    return (f"import os\n\n\nDATA = '''\n{filler}'''\n\n\n" + BODY.split("\n\n\n", 1)[1]).encode()


# name -> (bytes, line of the violation if checked, fragment of the reason if unchecked)
CASES: dict[str, tuple[bytes, int | None, str | None]] = {
    "bom": (b"\xef\xbb\xbf" + BODY.encode(), 5, None),
    "crlf": (BODY.replace("\n", "\r\n").encode(), 5, None),
    "cr": (BODY.replace("\n", "\r").encode(), 5, None),
    "latin1_cookie": (
        ("# -*- coding: latin-1 -*-\nCAFE = 'caf\xe9'\n" + BODY).encode("latin-1"),
        7,
        None,
    ),
    "tabs": (BODY.replace("    ", "\t").encode(), 5, None),
    "form_feed": (BODY.replace("\n\n\n", "\n\x0c\n\n").encode(), 5, None),
    "nul": (BODY.encode() + b"\0\n", None, "contains NUL bytes"),
    "invalid_utf8": (BODY.encode() + b"X = '\xff\xfe'\n", None, "can't decode byte 0xff"),
    "mixed_indent": (BODY.encode() + b"\tx = 1\n", None, "syntax error"),
    "big": (_big_module(), BIG // 100 + 9, None),
}
# Python 3.13's compiler accepts 5,000 nesting levels (and so pytest imports the module): the
# scanner must follow. Earlier compilers refuse them.
DEEP_MODULE = f"import os\n\n\ndef test_deep():\n    x = len(os.environ){' + 1' * DEEP}\n".encode()
if sys.version_info >= (3, 13):
    CASES["deep"] = (DEEP_MODULE, 5, None)
else:
    CASES["deep"] = (DEEP_MODULE, None, "nested too deeply to analyse")
# PEP 695 (`type X = ...`, `def f[T]()`): a syntax error before Python 3.12, valid from it.
PEP695 = ("type Alias = int\n\n\ndef generic[T](x: T) -> T:\n    return x\n\n\n" + BODY).encode()
if sys.version_info >= (3, 12):
    CASES["pep695"] = (PEP695, 12, None)
else:
    CASES["pep695"] = (PEP695, None, "syntax error (line 1)")


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_scanner_ends_every_pathological_file_checked_or_unchecked_with_a_reason(
    name: str,
) -> None:
    data, line, reason = CASES[name]
    facts = scan(data, f"tests/test_{name}.py")
    if line is not None:
        assert facts.error is None
        assert [(r.target, r.line) for r in facts.refs] == [
            ("os.environ.get", line)
        ] or name == "deep"
    else:
        assert reason is not None
        assert facts.error is not None
        assert reason in facts.error
        assert facts.refs == ()


def test_a_module_nested_as_deeply_as_python_imports_is_checked_inside_a_pytest_session(
    pytester: pytest.Pytester,
) -> None:
    """Python compiles a 2,000-term expression; a scan from deep inside pytest's stack must
    not give up on it for want of recursion depth. In a subprocess: a session's real stack
    depth is the point. Before 3.11 every Python call also takes C stack, and the scanner
    keeps the recursion limit (see scanner._stack_limit): the module is unchecked, and says
    why, rather than silently passing."""
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    (pytester.path / "test_long_sum.py").write_text(
        "import os\n\n\ndef test_sum():\n    x = len(os.environ)" + " + 1" * 2_000 + "\n"
    )
    result = pytester.runpytest_subprocess(
        "-p", "ssot", "--assert=plain", "--ssot-report=json:r.json"
    )
    report = json.loads((pytester.path / "r.json").read_text())
    if sys.version_info < (3, 11):
        result.assert_outcomes(passed=1)
        assert report["unchecked"] == [
            {"path": "test_long_sum.py", "reason": "nested too deeply to analyse (RecursionError)"}
        ]
        return
    result.assert_outcomes(passed=1, warnings=1)
    assert report["unchecked"] == []
    assert [(v["code"], v["line"]) for v in report["violations"]] == [("SSOT002", 5)]


def _project(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.ssot]\nmode = "warn"\n'
    )
    tests = root / "tests"
    tests.mkdir()
    for name, (data, _, _) in CASES.items():
        (tests / f"test_{name}.py").write_bytes(data)


def _check(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, Any]:
    monkeypatch.chdir(root)
    out = root / "check.json"
    with out.open("w") as stream:
        monkeypatch.setattr(sys, "stdout", stream)
        code = cli.main(["check", "--jobs", "1", "--format", "json", *args])
    monkeypatch.undo()
    return code, json.loads(out.read_text())


def _outcome(report: dict[str, Any]) -> tuple[set[tuple[str, int]], dict[str, str]]:
    violations = {(v["path"], v["line"]) for v in report["violations"]}
    unchecked = {u["path"]: u["reason"] for u in report["unchecked"]}
    return violations, unchecked


def test_pytest_and_ssot_check_end_every_pathological_file_the_same_way(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester.path)
    result = pytester.runpytest(
        "-p", "ssot", "--continue-on-collection-errors", "--ssot-report=json:r.json"
    )
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    report = json.loads((pytester.path / "r.json").read_text())
    violations, unchecked = _outcome(report)
    for name, (_, line, reason) in CASES.items():
        path = f"tests/test_{name}.py"
        if line is not None:
            assert (path, line) in violations, name
            assert path not in unchecked, name
        else:
            assert reason is not None
            assert reason in unchecked[path], name
    assert report["summary"]["tests"] == sum(1 for _, line, _ in CASES.values() if line)

    code, static = _check(pytester.path, monkeypatch)
    assert code == 0
    assert _outcome(static) == (violations, unchecked)


# -- symlink loops ------------------------------------------------------------------------------


def test_symlink_loops_neither_crash_nor_hang_and_both_sides_agree(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pytester.path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.ssot]\nmode = "warn"\n'
    )
    tests = pytester.path / "tests"
    (tests / "sub").mkdir(parents=True)
    (tests / "sub" / "test_env.py").write_text(BODY)
    (tests / "loop_a").symlink_to("loop_b")  # a <-> b: ELOOP on every stat
    (tests / "loop_b").symlink_to("loop_a")
    (tests / "test_self.py").symlink_to("test_self.py")  # a file that is its own target
    (tests / "test_dangling.py").symlink_to("no_such_file.py")
    (tests / "sub" / "up").symlink_to("..")  # a directory cycle, cut by the kernel's limit
    result = pytester.runpytest("-p", "ssot", "--ssot-report=json:r.json")
    assert "INTERNALERROR" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.OK
    report = json.loads((pytester.path / "r.json").read_text())
    code, static = _check(pytester.path, monkeypatch)
    assert code == 0
    assert report["summary"]["tests"] == static["summary"]["tests"] > 1
    assert _outcome(report) == _outcome(static)


# -- unreadable files ----------------------------------------------------------------------------


def _deny(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """pytest-ssot reading ``name`` fails as it would for a file of mode 000 (the tests run
    as root here, where chmod denies nothing); pytest itself still reads it, so its tests run.
    """
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if self.name == name and caller.startswith("pytest_ssot"):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


def test_an_unreadable_test_file_is_unchecked_with_the_reason_and_loses_no_baseline_entry(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\nbaseline = "ssot-baseline.json"\n')
    pytester.makepyfile(
        test_secret=BODY.replace("assert ", "if False:\n        "), test_plain="def test_a(): pass"
    )
    created = pytester.runpytest("-p", "ssot", "--ssot-update-baseline")
    created.stdout.fnmatch_lines(["*baseline ssot-baseline.json written: 1 entries*"])
    before = (pytester.path / "ssot-baseline.json").read_text()
    _deny(monkeypatch, "test_secret.py")
    result = pytester.runpytest("-p", "ssot", "--ssot-update-baseline", "--ssot-report=json:r.json")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["unchecked"] == [
        {"path": "test_secret.py", "reason": "cannot be read: Permission denied"}
    ]
    assert report["stale"] == []
    assert (pytester.path / "ssot-baseline.json").read_text() == before

    code, static = _check(pytester.path, monkeypatch)
    assert code == 0
    assert static["unchecked"] == report["unchecked"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a file of mode 000"
)
def test_a_file_of_mode_000_is_unchecked_with_the_reason(tmp_path: Path) -> None:
    from pytest_ssot.config import Config
    from pytest_ssot.rules import RuleSet, builtin_rules, check_file

    path = tmp_path / "test_secret.py"
    path.write_text(BODY)
    path.chmod(0)
    try:
        facts, findings = check_file(
            path, "test_secret.py", RuleSet(tuple(builtin_rules(Config(root=tmp_path))))
        )
    finally:
        path.chmod(0o644)
    assert facts.error == "cannot be read: Permission denied"
    assert findings == []


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE") != "long", reason="long profile only")
def test_ten_megabytes_of_code_are_scanned_whole(tmp_path: Path) -> None:
    """Ten megabytes of real statements (slow: the parse alone takes seconds)."""
    body = "".join(
        textwrap.dedent(
            f"""
            class TestCase{i}:
                def test_{i}(self):
                    value = compute({i}, "abc", [1, 2, 3])
                    assert value == {{"k": {i}}}
            """
        )
        for i in range(70_000)
    )
    data = ("import os\n" + body + "\ndef test_env():\n    os.environ['A'] = '1'\n").encode()
    assert len(data) > BIG
    facts = scan(data, "tests/test_big.py")
    assert facts.error is None
    assert [r.line for r in facts.refs] == [data.count(b"\n")]


# -- file names that are not UTF-8 ----------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
def test_a_test_file_whose_name_is_not_utf8_is_reported_and_baselined_round_trip(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\nbaseline = "ssot-baseline.json"\n')
    name = os.fsdecode(b"test_caf\xe9.py")  # latin-1 bytes: a lone surrogate in Python
    (pytester.path / name).write_text(BODY.replace("assert ", "if False:\n        "))
    reports = [f"--ssot-report={fmt}:r.{fmt}" for fmt in ("json", "sarif", "markdown", "html")]
    # pytest's own cache cannot store such node ids (an INTERNALERROR of pytest itself).
    no_cache = ("-p", "no:cacheprovider")
    first = pytester.runpytest("-p", "ssot", *no_cache, "--ssot-update-baseline", *reports)
    assert first.ret == pytest.ExitCode.OK
    out = first.stdout.str()
    assert "INTERNALERROR" not in out
    assert "pytest-ssot failed" not in out
    assert "cannot render" not in out
    first.stdout.fnmatch_lines(["*baseline ssot-baseline.json written: 1 entries*"])
    sarif = json.loads((pytester.path / "r.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "test_caf%E9.py"  # the file's own bytes
    # The baseline reads back and matches the same violation: known, not new.
    second = pytester.runpytest("-p", "ssot", *no_cache, "--ssot-report=json:r.json")
    assert json.loads((pytester.path / "r.json").read_text())["summary"]["known"] == 1
    assert second.ret == pytest.ExitCode.OK


def test_ssot_baseline_keeps_the_entries_of_a_file_that_stopped_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A syntax error does not fix anything: the file's entries stay until it parses again."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n'
        '[tool.ssot]\nmode = "warn"\nbaseline = "ssot-baseline.json"\n'
    )
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_a.py").write_text(BODY)
    (tests / "test_b.py").write_text(BODY)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["baseline", "--jobs", "1", "--no-cache"]) == 0
    before = (tmp_path / "ssot-baseline.json").read_text()
    (tests / "test_b.py").write_text(BODY.replace("def test_env():", "def test_env(:"))
    code, report = _check(tmp_path, monkeypatch, "--no-cache")
    assert code == 0
    assert [u["path"] for u in report["unchecked"]] == ["tests/test_b.py"]
    assert report["stale"] == []
    monkeypatch.chdir(tmp_path)
    assert cli.main(["baseline", "--jobs", "1", "--no-cache"]) == 0
    assert (tmp_path / "ssot-baseline.json").read_text() == before
