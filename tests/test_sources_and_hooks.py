"""Team-defined single sources of truth ([[tool.ssot.sources]]), the rule hooks for plugins,
and required_version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pytest_ssot

CHATLIB = {
    "chatlib/__init__.py": "",
    "chatlib/ws.py": """
        DEFAULT_URL = "ws://localhost"

        class RawClient:
            def send(self, data):
                return data

        def connect(url=DEFAULT_URL):
            return RawClient()
    """,
    "chatlib/settings.py": "TIMEOUT = 3\n",
    "testkit/__init__.py": "",
    "testkit/ws_client.py": """
        from chatlib.ws import connect

        def sanctioned_client():
            return connect()
    """,
}

SOURCES = """
[tool.ssot]
mode = "{mode}"

[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-websocket"
forbid = ["chatlib.ws.RawClient", "chatlib.ws.connect", "chatlib.settings.TIMEOUT"]
use = "testkit.ws_client.sanctioned_client()"
modules = ["testkit.ws_client"]

[[tool.ssot.sources]]
code = "SSOT202"
name = "raw-socket-module"
forbid = ["socket"]
use = "the network fixture"
"""


def _project(pytester: pytest.Pytester, mode: str = "warn", extra: str = "") -> None:
    for path, text in CHATLIB.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_dedent(text))
    pytester.makepyprojecttoml(SOURCES.format(mode=mode) + extra)


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).lstrip("\n")


def _report(pytester: pytest.Pytester, *args: str) -> dict[str, object]:
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:report.json", *args)
    assert result.ret in (0, 1), result.stdout.str()
    data: dict[str, object] = json.loads((pytester.path / "report.json").read_text())
    return data


def _violations(report: dict[str, object]) -> set[tuple[str, int, str]]:
    return {
        (v["code"], v["line"], v["status"])  # type: ignore[index]
        for v in report["violations"]  # type: ignore[attr-defined]
    }


def test_a_source_forbids_classes_functions_attributes_and_modules_through_aliases(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    pytester.makepyfile(
        test_ws="""
        import socket as s
        from unittest import mock

        import chatlib.ws as ws
        from chatlib.settings import TIMEOUT as T
        from chatlib.ws import RawClient as Raw
        from testkit.ws_client import sanctioned_client

        def test_class_alias():
            assert Raw().send(1) == 1

        def test_module_function():
            assert ws.connect()

        def test_attribute_from_import():
            assert T == 3

        def test_string_patch_target():
            with mock.patch("chatlib.ws.connect"):
                pass

        def test_module_forbidden_whole():
            assert s.AF_INET

        def test_sanctioned_wrapper_is_fine():
            assert sanctioned_client()
        """
    )
    report = _report(pytester)
    found = {(code, line) for code, line, _ in _violations(report)}
    assert ("SSOT201", 10) in found  # Raw()
    assert ("SSOT201", 13) in found  # ws.connect()
    assert ("SSOT201", 16) in found  # T
    assert ("SSOT201", 19) in found  # patch("chatlib.ws.connect")
    assert ("SSOT202", 23) in found  # s.AF_INET
    nodeids = {
        n
        for v in report["violations"]  # type: ignore[attr-defined]
        if v["code"].startswith("SSOT2")
        for n in v["nodeids"]
    }
    assert "test_ws.py::test_sanctioned_wrapper_is_fine" not in nodeids
    messages = [v["message"] for v in report["violations"] if v["code"] == "SSOT201"]  # type: ignore[attr-defined]
    assert all("testkit.ws_client.sanctioned_client()" in m for m in messages)


def test_the_sanctioned_module_itself_may_use_the_forbidden_api(tmp_path: Path) -> None:
    from pytest_ssot.config import SourceOfTruth
    from pytest_ssot.rules import RuleSet, SourceRule
    from pytest_ssot.scanner import scan

    source = SourceOfTruth(
        code="SSOT201", name="raw-websocket", forbid=("chatlib.ws.connect",),
        use="sanctioned_client()", modules=("testkit.ws_client",),
    )  # fmt: skip
    rules = RuleSet((SourceRule(source),))
    text = b"from chatlib.ws import connect\nconnect()\n"
    assert rules.check(scan(text, "testkit/ws_client.py", rules.watched)) == []
    assert rules.check(scan(text, "src/testkit/ws_client.py", rules.watched)) == []
    flagged = rules.check(scan(text, "tests/test_x.py", rules.watched))
    assert [(f.code, f.line) for f in flagged] == [("SSOT201", 2)]


def test_sources_follow_modes_rules_tiers_exemptions_and_the_baseline(
    pytester: pytest.Pytester,
) -> None:
    _project(
        pytester,
        mode="strict",
        extra='\n[tool.ssot.rules]\nSSOT202 = "warn"\n',
    )
    pytester.makepyfile(
        test_modes="""
        import socket
        import pytest
        from chatlib.ws import connect

        def test_strict_source():
            connect()

        def test_warned_source():
            socket.gethostname()

        @pytest.mark.ssot_exempt("raw-websocket", reason="migrating in JIRA-1")
        def test_exempt_by_name():
            connect()
        """
    )
    result = pytester.runpytest("-p", "ssot", "--ssot-baseline", "b.json")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*SSOT201 test_modes.py:6 chatlib.ws.connect used directly*"])
    assert "SSOTWarning: SSOT202" in result.stdout.str()
    # Ratchet: once baselined, the strict violation no longer fails the test.
    pytester.runpytest("-p", "ssot", "--ssot-baseline", "b.json", "--ssot-update-baseline")
    entries = json.loads((pytester.path / "b.json").read_text())["entries"]
    assert {e["code"] for e in entries} == {"SSOT201", "SSOT202"}
    again = pytester.runpytest("-p", "ssot", "--ssot-baseline", "b.json")
    again.assert_outcomes(passed=3)


def test_ssot_rules_lists_team_sources(pytester: pytest.Pytester) -> None:
    from pytest_ssot.config import load
    from pytest_ssot.rules import RuleSet, builtin_rules

    _project(pytester)
    config = load(rootdir=pytester.path)
    infos = RuleSet(tuple(builtin_rules(config))).infos
    assert infos["SSOT201"].name == "raw-websocket"
    assert infos["SSOT201"].use_instead == "testkit.ws_client.sanctioned_client()"
    assert list(infos)[:5] == ["SSOT001", "SSOT002", "SSOT003", "SSOT004", "SSOT102"]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ('[[tool.ssot.sources]]\ncode = "SSOT002"\nname = "x"\nforbid = ["a.b"]\nuse = "y"',
         "sources[0].code = 'SSOT002': team-defined codes are SSOT200 to SSOT299"),
        ('[[tool.ssot.sources]]\ncode = "SSOT201"\nname = "x"\nforbid = []\nuse = "y"',
         "sources[0].forbid = []: list at least one forbidden API"),
        ('[[tool.ssot.sources]]\ncode = "SSOT201"\nname = "x"\nforbid = ["a..b"]\nuse = "y"',
         "sources[0].forbid = 'a..b': does not look like a dotted name"),
        ('[[tool.ssot.sources]]\ncode = "SSOT201"\nname = "x"\nforbid = ["a"]\nuse = "y"\n'
         '[[tool.ssot.sources]]\ncode = "SSOT201"\nname = "z"\nforbid = ["b"]\nuse = "y"',
         "sources[1].code = 'SSOT201': each source needs its own code"),
    ],
)  # fmt: skip
def test_bad_sources_are_one_usage_error_naming_file_key_and_value(
    pytester: pytest.Pytester, sources: str, expected: str
) -> None:
    pytester.makepyprojecttoml(f"[tool.ssot]\nmode = 'warn'\n{sources}\n")
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"pyproject.toml: tool.ssot.{expected}" in result.stderr.str()
    assert result.stderr.str().startswith("ERROR: ")


def test_all_config_problems_are_reported_at_once(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.ssot]\nmode = "loud"\nfail_under = 140\n'
        '[[tool.ssot.sources]]\ncode = "X1"\nname = "Bad Name"\nforbid = ["a"]\nuse = ""\n'
    )
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 3, result.stderr.str()
    assert "Traceback" not in result.stderr.str()


RULE_PLUGIN = """
    import dataclasses
    from pytest_ssot.model import Finding, RuleInfo

    NO_RAW_SQL = RuleInfo(
        code="SSOT301", name="raw-sql-in-tests", summary="Tests run raw SQL",
        why="The db session factory owns transactions.", example='db.execute("...")',
        use_instead="db_session_factory()",
    )

    class NoRawSqlRule:
        info = NO_RAW_SQL
        watched = ("sqlite3.connect",)

        def check(self, facts):
            for ref in facts.refs:
                if ref.target.startswith("sqlite3.connect"):
                    yield Finding(code=self.info.code, path=facts.path, line=ref.line,
                                  col=ref.col, message="raw sqlite3.connect; use "
                                  "db_session_factory()", scope=ref.scope, snippet=ref.snippet)

    def pytest_ssot_rules(config, ssot_config):
        return [NoRawSqlRule()]

    def pytest_ssot_violation(finding, config):
        if "legacy" in finding.path:
            return False
        if finding.code == "SSOT301":
            return dataclasses.replace(finding, message=finding.message + " [see DB-42]")
        return None
"""


def test_a_conftest_can_add_a_rule_and_filter_violations(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makeconftest(RULE_PLUGIN)
    pytester.makepyfile(
        test_db="""
        import sqlite3

        def test_raw():
            sqlite3.connect(":memory:").close()

        def test_clean():
            pass
        """,
        test_legacy="""
        import sqlite3

        def test_legacy_raw():
            sqlite3.connect(":memory:").close()
        """,
    )
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:r.json")
    result.assert_outcomes(passed=2, errors=1)
    assert (
        "SSOT301 test_db.py:4 raw sqlite3.connect; use db_session_factory() [see DB-42] "
        "(raw-sql-in-tests)" in result.stdout.str()
    )
    report = json.loads((pytester.path / "r.json").read_text())
    assert [v["path"] for v in report["violations"]] == ["test_db.py"]
    assert report["summary"]["by_rule"] == {"SSOT301": 1}


@pytest.mark.parametrize(
    ("claimed", "error"),
    [
        (
            ('code="SSOT301"', 'code="SSOT002"'),
            "ERROR: two pytest-ssot rules claim the code SSOT002*",
        ),
        # `# ssot: ignore[name]` and ssot_exempt("name") must name one rule.
        (
            ('"raw-sql-in-tests"', '"ad-hoc-mock"'),
            "ERROR: two pytest-ssot rules claim the name ad-hoc-mock (SSOT003 ad-hoc-mock and "
            "SSOT301 ad-hoc-mock); give the plugin's rule another name",
        ),
    ],
    ids=["code", "name"],
)
def test_a_plugin_rule_cannot_take_a_code_or_name_already_claimed(
    pytester: pytest.Pytester, claimed: tuple[str, str], error: str
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makeconftest(RULE_PLUGIN.replace(*claimed))
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([error])


@pytest.mark.parametrize(
    ("spec", "accepted"),
    [(">=0.1", True), ("<0.1", False), (">=0.1.0rc1,<1", True), ("==99.*", False)],
)
def test_required_version_is_checked_with_pep_440(
    pytester: pytest.Pytester, spec: str, accepted: bool
) -> None:
    pytester.makepyprojecttoml(f'[tool.ssot]\nrequired_version = "{spec}"\n')
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("-p", "ssot")
    if accepted:
        assert result.ret == 0
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(
            [f"ERROR: *required_version = '{spec}', but pytest-ssot "
             f"{pytest_ssot.__version__} is installed*"]
        )  # fmt: skip


def test_required_version_accepts_prereleases_of_the_installed_version() -> None:
    from pytest_ssot.config import Config, check_required_version

    config = Config(root=Path("."), path=Path("pyproject.toml"), required_version=">=1.0rc1")
    check_required_version(config, "1.0rc2")
    with pytest.raises(pytest_ssot.ConfigError, match=r"pytest-ssot 0\.9 is installed"):
        check_required_version(config, "0.9")
