"""Security: whatever test code puts in a report is escaped in every format; configuration,
baseline and history are parsed as data only; nothing is written outside the paths the user
named and pytest's cache directory."""

from __future__ import annotations

import ast
import html
import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pytest_ssot
from pytest_ssot import reporting
from pytest_ssot.config import Config, Tier
from pytest_ssot.model import Exemption, Finding, RuleInfo, Scope, UncheckedFile
from pytest_ssot.policy import SessionData, evaluate
from pytest_ssot.policy import TestRecord as Record
from pytest_ssot.reporting.history import read as read_history
from pytest_ssot.rules import RuleSet, builtin_rules

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.json"
HOSTILE = (
    "<script>alert(1)</script>\n::error::pwned %0A 100% | `rm -rf /` [x](http://e.vil) "
    "**b** _i_ ~s~ &amp; \" ' \r\n# heading\n> quote ::set-env name=X::1"
)


def _result(text: str) -> tuple[Any, Config, dict[str, RuleInfo], reporting.ReportContext]:
    """A session where every string that test code (or a plugin's rule, a baseline, a history
    file) can set carries ``text``: test ids, paths, messages, scopes, rule code, name and
    documentation, tier names, reasons, exemptions, stale entries."""
    config = Config(
        root=Path("."),
        tiers=(Tier(name=f"tier {text}", paths=("tests/critical/**",), mode="strict"),),
    )
    infos = RuleSet(tuple(builtin_rules(config))).infos
    code = f"SSOT9{text}"
    infos[code] = RuleInfo(
        code=code,
        name=f"name-{text}",
        summary=f"summary {text}",
        why=f"why {text}",
        example=f"example({text!r})",
        use_instead=f"use {text}\n```\n{text}",
        options=f"options {text}",
    )
    path = f"tests/critical/{text}.py"
    nodeids = [f"{path}::test_{text}[{i}]" for i in range(3)]
    data = SessionData(
        tests={
            nodeids[0]: Record(path),
            nodeids[1]: Record(
                path,
                (Exemption(frozenset(), reason=f"reason {text}", until="2000-01-01", origin=text),),
            ),
            nodeids[2]: Record(
                "tests/plain.py", (Exemption(frozenset({code}), f"because {text}"),)
            ),
        },
        unchecked={path: UncheckedFile(path, f"syntax error: {text}")},
        invalid_exemptions={nodeids[0]: f"ssot_exempt {text}; not applied"},
        suppressions={path: {9: frozenset({text})}},
        session_findings=[Finding("SSOT004", "", 0, 0, f"session {text}")],
    )
    scope = Scope(qualname=(f"Test{text}", f"test_{text}"), classes=1)
    data.add(Finding(code, path, 3, 5, f"message {text}", scope, snippet=text), nodeids[:2])
    data.add(Finding("SSOT002", path, 4, 1, f"env {text}", scope, snippet="x"), nodeids[:1])
    data.add(Finding(code, "tests/plain.py", 1, 1, text, snippet="y"), nodeids[2:])
    known = {
        "f" * 20: {"fingerprint": "f" * 20, "code": code, "path": path, "line": 1, "message": text}
    }
    result = evaluate(data, config, infos, known=known)
    history = (
        {"time": f"2026-01-01T00:00:00{text}", "compliance": 50, "commit": text, "by_tier": {}},
        {
            "time": "2026-01-02T00:00:00",
            "compliance": 60.0,
            "commit": text,
            "tests": text,
            "by_tier": {text: {"compliance": 10}, "other": {"compliance": 20}},
        },
    )
    context = reporting.ReportContext(
        source_prefix=f"repo {text}", history=history, commit=text, project=f"project {text}"
    )
    return result, config, infos, context


def _render(text: str) -> dict[str, str]:
    result, config, infos, context = _result(text)
    return {
        fmt: reporting.render(fmt, result, config, infos, "1.0", context=context)
        for fmt in reporting.FORMATS
    }


class _Shape(HTMLParser):
    """The page's elements and attribute names, in order: what text must never change."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "wbr":  # line-break hints inside long paths vary with the text
            self.shape.append((tag, tuple(sorted(name for name, _ in attrs))))


def _html_shape(page: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = _Shape()
    parser.feed(page)
    return parser.shape


_CODE_SPAN = re.compile(r"(?<!\\)`[^`]*(?<!\\)`")
_MARKDOWN_SPECIALS = "<>`|*_[]~"


def _markdown_shape(text: str) -> list[Counter[str]]:
    """Per line, the unescaped Markdown specials outside code spans."""
    shape = []
    for line in text.split("\n"):
        bare = _CODE_SPAN.sub("", line.replace("\\\\", ""))
        bare = re.sub(r"\\.", "", bare)
        shape.append(Counter(c for c in bare if c in _MARKDOWN_SPECIALS))
    return shape


def _code_blocks(markdown: str) -> list[str]:
    """The fenced code blocks of a Markdown text, as CommonMark reads them: a block ends only
    at a line of at least as many backticks as opened it."""
    blocks: list[str] = []
    fence, body = "", []
    for line in markdown.split("\n"):
        if not fence:
            opening = re.match(r"(`{3,})[^`]*$", line)
            if opening:
                fence, body = opening.group(1), []
        elif re.fullmatch(rf"`{{{len(fence)},}}\s*", line):
            blocks.append("\n".join(body))
            fence = ""
        else:
            body.append(line)
    return blocks


_COMMAND = re.compile(r"::(error|warning|notice)(?: ([^:\r\n]*))?::([^\r\n]*)")


def _assert_escaped_everywhere(text: str) -> None:
    """Every format renders ``text`` as data: the document has the same structure as with a
    plain word in its place, and the text itself comes back where the format can carry it."""
    hostile, plain = _render(text), _render("x")

    assert _html_shape(hostile["html"]) == _html_shape(plain["html"])

    assert _markdown_shape(hostile["markdown"]) == _markdown_shape(plain["markdown"])

    lines = hostile["github"].split("\n")
    assert len(lines) == len(plain["github"].split("\n"))
    for line in filter(None, lines):
        match = _COMMAND.fullmatch(line)
        assert match is not None, line
        assert re.search(r"%(?!25|0D|0A|3A|2C)", line) is None, line

    sarif = json.loads(hostile["sarif"])
    messages = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert f"message {text} (name-{text})" in messages
    rule = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == f"SSOT9{text}")
    assert _code_blocks(rule["help"]["markdown"]) == [
        f"example({text!r})",
        f"use {text}\n```\n{text}",
    ]

    report = json.loads(hostile["json"])
    assert f"message {text}" in {v["message"] for v in report["violations"]}
    assert any(text in n for v in report["violations"] for n in v["nodeids"])


def test_every_report_format_escapes_hostile_test_ids_messages_paths_and_rule_docs() -> None:
    _assert_escaped_everywhere(HOSTILE)
    pages = _render(HOSTILE)
    assert "<script>alert" not in pages["html"]
    assert html.escape(f"message {HOSTILE}") in pages["html"]
    assert "<script>" not in pages["markdown"]
    assert not [line for line in pages["github"].splitlines() if line.startswith("::error::")]
    assert "\\`rm -rf /\\`" in pages["markdown"]


def test_sarif_with_hostile_text_still_validates_against_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    sarif = json.loads(_render(HOSTILE)["sarif"])
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text(encoding="utf-8")))


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
        min_size=1,
        max_size=40,
    ).filter(lambda t: t.strip() == t and "\x00" not in t)
)
def test_any_text_from_test_code_is_rendered_as_data_in_every_format(text: str) -> None:
    _assert_escaped_everywhere(text)


# -- data only ---------------------------------------------------------------------------------

# Where pytest-ssot may turn text into code: importing the configured base classes (pytest
# imports those modules anyway), the forbidden APIs of sources with runtime = true (dotted
# names, imported after collection so their calls can be recorded), allowlisted
# standard-library modules (the CLI's resolver: unittest.TestCase and the like) and its own
# report modules by a fixed name.
_ALLOWED_IMPORTS = {
    ("plugin.py", "importlib.import_module"),
    ("sourceguard.py", "importlib.import_module"),
    ("resolver.py", "importlib.import_module"),
    ("reporting/__init__.py", "importlib.import_module"),
}
_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile"}
_FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "yaml", "dill", "jsonpickle", "cloudpickle"}


def test_the_package_has_no_way_to_run_text_as_code_beyond_the_known_imports() -> None:
    package = Path(pytest_ssot.__file__).parent
    found: set[tuple[str, str]] = set()
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        tree = ast.parse(path.read_bytes())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names.append(getattr(node, "module", None) or "")
                for name in names:
                    assert name.split(".")[0] not in _FORBIDDEN_MODULES, (rel, name)
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    assert func.id not in _FORBIDDEN_CALLS, (rel, node.lineno, func.id)
                elif isinstance(func, ast.Attribute) and func.attr in {"import_module", "load"}:
                    owner = ast.unparse(func.value)
                    if owner in {"importlib", "yaml", "pickle", "marshal"}:
                        found.add((rel, f"{owner}.{func.attr}"))
    assert found == _ALLOWED_IMPORTS


PAYLOAD = "__import__('pathlib').Path('pwned').touch()"


def test_config_and_baseline_strings_that_look_like_code_stay_strings(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(
        textwrap.dedent(
            f"""
            [tool.ssot]
            mode = "warn"
            baseline = "ssot-baseline.json"
            exclude = ["{{{{ {PAYLOAD} }}}}", "!!python/object/apply:os.system ['touch pwned']"]

            [[tool.ssot.sources]]
            code = "SSOT201"
            name = "raw-clock"
            forbid = ["time.sleep"]
            use = "{PAYLOAD}"
            """
        )
    )
    entry = {"fingerprint": "0" * 20, "code": "SSOT201", "path": PAYLOAD, "message": PAYLOAD}
    (pytester.path / "ssot-baseline.json").write_text(
        json.dumps({"version": 1, "entries": [entry], "__reduce__": PAYLOAD})
    )
    pytester.makepyfile(test_a="import time\n\ndef test_a():\n    time.sleep(0)\n")
    result = pytester.runpytest("-p", "ssot", "--ssot-report=json:r.json")
    assert result.ret == pytest.ExitCode.OK
    assert not (pytester.path / "pwned").exists()
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["violations"][0]["message"] == f"time.sleep used directly; use {PAYLOAD}"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep", "[" * 100_000 + "]" * 100_000),
        ("digits", '{"version": 1, "entries": [{"line": ' + "9" * 5_000 + "}]}"),
        (
            "entry-types",
            '{"version": 1, "entries": [{"fingerprint": "a", "code": "SSOT002", '
            '"path": "a.py", "scope": ["not", "text"]}]}',
        ),
    ],
)
def test_a_hostile_baseline_is_a_usage_error_naming_the_file(
    pytester: pytest.Pytester, name: str, text: str
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nbaseline = "ssot-baseline.json"\n')
    (pytester.path / "ssot-baseline.json").write_text(text)
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot-baseline.json: *"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert (pytester.path / "ssot-baseline.json").read_text() == text  # never overwritten


@pytest.mark.parametrize(
    "text",
    ["mode = " + "[" * 50_000 + "]" * 50_000, "fail_under = " + "1" * 5_000],
    ids=["deep", "digits"],
)
def test_a_hostile_config_file_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, text: str
) -> None:
    (pytester.path / "ssot.toml").write_text(text + "\n")
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", "--ssot-config=ssot.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ssot.toml: not valid TOML: *"])
    assert "Traceback" not in result.stderr.str()


def test_hostile_history_lines_are_skipped_and_odd_tiers_dropped(tmp_path: Path) -> None:
    good = {"time": "2026-01-01T00:00:00", "compliance": 50, "by_tier": {"a": {"compliance": 1}}}
    odd = {"time": "2026-01-02T00:00:00", "compliance": 60, "by_tier": ["not", "a", "table"]}
    lines = [
        json.dumps(good),
        "[" * 100_000,
        '{"time": "t", "compliance": ' + "1" * 5_000 + "}",
        json.dumps(odd),
        json.dumps({**good, "by_tier": {"b": {"compliance": "NaN"}, "c": 3}}),
    ]
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records, bad = read_history(path)
    assert bad == 2
    assert [r["by_tier"] for r in records] == [{"a": {"compliance": 1}}, {}, {}]
    result, config, infos, _ = _result("x")
    context = reporting.ReportContext(history=tuple(records))
    assert "<svg" in reporting.render("html", result, config, infos, "1", context=context)


# -- nothing written outside the named paths ------------------------------------------------------

SUITE = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.ssot]
        mode = "warn"
        baseline = "ssot-baseline.json"
    """,
    "tests/conftest.py": """
        import os

        import pytest

        @pytest.fixture
        def home():
            return os.environ.get("HOME")
    """,
    "tests/test_env.py": """
        import os
        from unittest import mock

        def test_env(home):
            assert os.getenv("PATH") is not None

        def test_mock():
            assert mock.MagicMock()
    """,
}


def _snapshot(root: Path) -> dict[str, tuple[int, int, int] | None]:
    """Every file under ``root`` with its size, mtime and inode; every directory (None: its
    mtime moves whenever a child is added)."""
    found: dict[str, tuple[int, int, int] | None] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[Path(directory, name).relative_to(root).as_posix()] = None
        for name in files:
            path = Path(directory, name)
            stat = path.lstat()
            found[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return found


def test_a_full_run_writes_only_the_named_paths_and_pytests_cache(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name, text in SUITE.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    (tmp_path / "elsewhere").mkdir()
    named = {
        "reports/r.json",
        "reports/r.sarif",
        "reports/summary.md",
        "reports",
        "history.jsonl",
        "ssot-baseline.json",
    }
    before = _snapshot(tmp_path)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    runs = [
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "ssot",
            "-p",
            "no:benchmark",  # a plugin of this environment that writes .benchmarks/
            "--ssot-update-baseline",
            "--ssot-report=json:reports/r.json",
            "--ssot-report=sarif:reports/r.sarif",
            "--ssot-report=markdown:reports/summary.md",
            "--ssot-report=github",
            f"--ssot-report=html:{tmp_path / 'elsewhere' / 'page.html'}",
            "--ssot-history=history.jsonl",
        ],
        [sys.executable, "-m", "pytest_ssot", "check", "--format", "sarif"],
        [sys.executable, "-m", "pytest_ssot", "baseline"],
    ]
    for argv in runs:
        done = subprocess.run(
            argv, cwd=project, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    after = _snapshot(tmp_path)
    changed = {
        p
        for p in set(before) | set(after)
        if p not in before or p not in after or before[p] != after[p]
    }
    outside_cache = {
        p for p in changed if not p.startswith(("project/.pytest_cache", "project/.pytest_cache/"))
    }
    assert outside_cache == {f"project/{p}" for p in named} | {"elsewhere/page.html"}
    assert "project/.pytest_cache/d/ssot-scan" in after  # the scan cache is where it belongs
    assert not [p for p in after if p.endswith(".tmp") or "/.tmp-" in p]
