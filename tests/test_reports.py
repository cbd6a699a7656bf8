"""Every report format on a suite that breaks every rule: JSON, SARIF (against the official
schema), GitHub annotations, Markdown, HTML, the history, and what happens when writing fails.

The suite is built in two stages: stage 1 is baselined, stage 2 fixes one violation (stale),
adds new ones (one in a strict tier, one with a hostile test id, one with a hostile message)
and keeps the rest (known) and the exemptions.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.reporting import github, markdown

SCHEMA = Path(__file__).parent / "data" / "sarif-2.1.0.json"
HOSTILE_ID = "<script>document.title='pwned'</script>"
HOSTILE_USE = "framework.clock.advance() | <img src=x onerror=alert(1)>"

PYPROJECT = f"""
[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]

[tool.ssot]
mode = "warn"
base_classes = ["framework.base:SSotBaseTestCase"]
env_modules = ["framework.env"]
mock_modules = ["framework.mocks"]
runner = "unified"
baseline = "ssot-baseline.json"

[[tool.ssot.tiers]]
name = "mission_critical"
paths = ["tests/mission_critical/**"]
mode = "strict"

[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-clock"
forbid = ["time.sleep"]
use = "{HOSTILE_USE}"
"""

STAGE_1 = {
    "framework/__init__.py": "",
    "framework/base.py": "class SSotBaseTestCase:\n    pass\n",
    "framework/env.py": """
        import os

        def get_env():
            return os.environ
    """,
    "framework/mocks.py": "",
    "tests/conftest.py": """
        import os

        import pytest


        @pytest.fixture
        def home():
            return os.environ.get("HOME", "")
    """,
    "tests/unit/helpers_env.py": """
        import os


        def configure():
            return os.environ.get("SUITE_MODE", "test")
    """,
    "tests/unit/test_env_usage.py": """
        import os

        import pytest

        from framework.base import SSotBaseTestCase
        from helpers_env import configure


        class TestEnvUsage(SSotBaseTestCase):
            def test_direct(self):
                assert os.getenv("PATH")

            def test_via_helper(self):
                assert configure()

            def test_uses_fixture(self, home):
                assert home is not None

            def test_ignored(self):
                assert os.environ.get("Y") is None or True  # ssot: ignore[SSOT002]

            @pytest.mark.ssot_exempt("SSOT002", reason="documents the env contract")
            def test_exempt(self):
                assert os.environ.get("Z") is None or True

            def test_clean(self):
                assert True
    """,
    "tests/unit/test_mocks_legacy.py": """
        from unittest.mock import MagicMock


        class TestLegacyMocks:
            def test_magic(self):
                assert MagicMock()
    """,
    "tests/unit/test_functions.py": """
        def test_plain():
            assert True
    """,
    "tests/unit/test_self_running.py": """
        import pytest

        from framework.base import SSotBaseTestCase


        class TestSelfRunning(SSotBaseTestCase):
            def test_ok(self):
                assert True


        if __name__ == "__main__":
            pytest.main([__file__])
    """,
    "tests/unit/test_soon_fixed.py": """
        import os

        from framework.base import SSotBaseTestCase


        class TestSoonFixed(SSotBaseTestCase):
            def test_reads(self):
                assert os.environ.get("LANG") is None or True
    """,
    "tests/mission_critical/test_payments.py": """
        from framework.base import SSotBaseTestCase


        class TestPayments(SSotBaseTestCase):
            def test_charge(self):
                assert True
    """,
}

STAGE_2 = {
    "tests/unit/test_soon_fixed.py": """
        from framework.base import SSotBaseTestCase


        class TestSoonFixed(SSotBaseTestCase):
            def test_reads(self):
                assert True
    """,
    "tests/unit/test_clock.py": """
        import time

        from framework.base import SSotBaseTestCase


        class TestClock(SSotBaseTestCase):
            def test_sleeps(self):
                time.sleep(0)
    """,
    "tests/unit/test_hostile.py": f"""
        import os

        import pytest

        from framework.base import SSotBaseTestCase


        class TestHostile(SSotBaseTestCase):
            @pytest.mark.parametrize("name", [{HOSTILE_ID!r}])
            def test_named(self, name):
                assert os.environ.get("X", name)
    """,
    "tests/mission_critical/test_payments.py": """
        import os

        from framework.base import SSotBaseTestCase


        class TestPayments(SSotBaseTestCase):
            def test_charge(self):
                assert True

            def test_refund(self):
                assert os.environ.get("REFUND_MODE") is None or True
    """,
}


def write_stage(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess, isolated from this session's environment and options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "ssot", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def build_every_rule_suite(root: Path) -> None:
    """Stage 1, baselined (and recorded in history), then stage 2 on disk."""
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    write_stage(root, STAGE_1)
    first = run_pytest(root, "--ssot-update-baseline", "--ssot-history=history.jsonl")
    assert first.returncode == 0, first.stdout + first.stderr
    write_stage(root, STAGE_2)


REPORTS = (
    "--ssot-report=json:out/report.json",
    "--ssot-report=sarif:out/report.sarif",
    "--ssot-report=markdown:out/summary.md",
    "--ssot-report=html:out/report.html",
    "--ssot-report=github",
    "--ssot-history=history.jsonl",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the every-rule suite with every report (module-scoped: it is the slow part;
    the tests only read what it wrote)."""
    root = tmp_path_factory.mktemp("every_rule")
    build_every_rule_suite(root)
    result = run_pytest(root, *REPORTS)
    out = root / "out"
    return {
        "result": result,
        "root": root,
        "json": json.loads((out / "report.json").read_text(encoding="utf-8")),
        "sarif": json.loads((out / "report.sarif").read_text(encoding="utf-8")),
        "markdown": (out / "summary.md").read_text(encoding="utf-8"),
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "github": [line for line in result.stdout.splitlines() if line.startswith("::")],
    }


def _by_location(report: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {(v["code"], v["path"], v["line"]): v for v in report["violations"]}


def test_the_every_rule_suite_breaks_every_rule_with_every_status(run: dict[str, Any]) -> None:
    report = run["json"]
    assert set(report["summary"]["by_rule"]) == {
        "SSOT001",
        "SSOT002",
        "SSOT003",
        "SSOT004",
        "SSOT102",
        "SSOT201",
    }
    statuses = {v["status"] for v in report["violations"]}
    assert statuses == {"new", "known", "exempted"}
    assert {v["source"] for v in report["violations"]} == {"static", "runtime"}
    assert [s["code"] for s in report["session"]] == ["SSOT004"]
    assert [e["path"] for e in report["stale"]] == ["tests/unit/test_soon_fixed.py"]
    new = {(v["code"], v["path"]) for v in report["violations"] if v["status"] == "new"}
    assert new == {
        ("SSOT002", "tests/mission_critical/test_payments.py"),
        ("SSOT002", "tests/unit/test_hostile.py"),
        ("SSOT201", "tests/unit/test_clock.py"),
    }
    # The strict tier's new violation errors its test; the run exits 1.
    assert run["result"].returncode == 1, run["result"].stdout
    summary = report["summary"]
    assert summary["new"] + summary["known"] + summary["exempted"] == summary["violations"]


# -- SARIF -----------------------------------------------------------------------------------
def test_the_vendored_schema_is_the_official_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_validates_against_the_official_schema(run: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(run["sarif"]), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # And the schema does catch a broken log, so the check above means something.
    broken = json.loads(json.dumps(run["sarif"]))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))


def test_sarif_results_carry_the_baseline_fingerprint_status_and_rule(
    run: dict[str, Any],
) -> None:
    sarif_run = run["sarif"]["runs"][0]
    rules = sarif_run["tool"]["driver"]["rules"]
    by_location = _by_location(run["json"])
    results = sarif_run["results"]
    assert len(results) == len(run["json"]["violations"])
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        key = (
            result["ruleId"],
            location["artifactLocation"]["uri"],
            location["region"]["startLine"],
        )
        violation = by_location[key]
        assert result["partialFingerprints"] == {"ssotFingerprint/v1": violation["fingerprint"]}
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        expected_state = {"new": "new", "known": "unchanged"}.get(violation["status"])
        assert result.get("baselineState") == expected_state
        assert ("suppressions" in result) == (violation["status"] == "exempted")
        if violation["status"] == "new" and violation["tier"] == "mission_critical":
            assert result["level"] == "error"
    notifications = sarif_run["invocations"][0]["toolExecutionNotifications"]
    assert any(n["message"]["text"].startswith("SSOT004 ") for n in notifications)


def test_sarif_rules_have_metadata_and_help_from_the_rule_documentation(
    run: dict[str, Any],
) -> None:
    from pytest_ssot.rules import DIRECT_ENVIRON_ACCESS

    rules = {r["id"]: r for r in run["sarif"]["runs"][0]["tool"]["driver"]["rules"]}
    assert {"SSOT001", "SSOT002", "SSOT003", "SSOT004", "SSOT102", "SSOT201"} <= set(rules)
    env = rules["SSOT002"]
    assert env["name"] == "direct-environ-access"
    assert env["shortDescription"]["text"] == DIRECT_ENVIRON_ACCESS.summary
    assert DIRECT_ENVIRON_ACCESS.why in env["help"]["text"]
    assert DIRECT_ENVIRON_ACCESS.use_instead in env["help"]["markdown"]
    assert env["defaultConfiguration"]["level"] == "warning"
    assert HOSTILE_USE in json.dumps(rules["SSOT201"])  # team sources document themselves too


# -- GitHub ----------------------------------------------------------------------------------
def test_github_annotates_each_new_violation_at_its_file_and_line(run: dict[str, Any]) -> None:
    lines = run["github"]
    new = [v for v in run["json"]["violations"] if v["status"] == "new"]
    annotations = [line for line in lines if "file=" in line]
    assert len(annotations) == len(new)
    strict = next(v for v in new if v["tier"] == "mission_critical")
    assert any(
        line.startswith(
            f"::error file={strict['path']},line={strict['line']},col={strict['col']},"
            "title=SSOT002 direct-environ-access::"
        )
        for line in annotations
    )
    clock = next(line for line in annotations if "SSOT201" in line)
    assert clock.startswith("::warning file=tests/unit/test_clock.py,line=")
    assert "%0AExample fix:%0A" in clock  # multi-line message, escaped
    assert any(line.startswith("::warning title=SSOT004 unified-runner-bypass::") for line in lines)
    assert lines[-1].startswith("::notice title=SSOT compliance::compliance ")
    assert "%25 (" in lines[-1]  # the % of the percentage is escaped
    assert all("\r" not in line for line in lines)


def test_github_escaping_follows_the_workflow_command_rules() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = github.command("warning", "a:b, c", file="dir/odd,na:me.py", line=3, title="T: x")
    assert line == "::warning file=dir/odd%2Cna%3Ame.py,line=3,title=T%3A x::a:b, c"


# -- Markdown --------------------------------------------------------------------------------
def test_markdown_has_the_headline_tables_and_new_violations(run: dict[str, Any]) -> None:
    text = run["markdown"]
    summary = run["json"]["summary"]
    assert text.startswith(f"## :x: SSOT compliance {summary['compliance']:.1f}%")
    assert f"**{summary['compliant']}/{summary['tests']}** checked tests compliant" in text
    for tier, stats in summary["by_tier"].items():
        name = tier.replace("_", "\\_")
        row = f"| {name} | {stats['tests']} | {stats['compliant']} | {stats['compliance']:.1f}% |"
        assert row in text
    assert f"### New violations ({summary['new']})" in text
    assert "`tests/mission_critical/test_payments.py:" in text
    assert "Stale baseline entries (1)" in text


def test_markdown_escapes_html_and_table_pipes(run: dict[str, Any]) -> None:
    text = run["markdown"]
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    clock_row = next(
        line for line in text.splitlines() if "SSOT201" in line and "test_clock" in line
    )
    # The pipe inside the message is escaped: the row keeps its six cell borders.
    assert len(re.findall(r"(?<!\\)\|", clock_row)) == 6
    assert markdown.cell("a|b\n*c*") == "a\\|b \\*c\\*"


# -- HTML (structure; tests/test_html_browser.py renders it in Chromium) ---------------------
class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def test_html_numbers_match_the_json_report(run: dict[str, Any]) -> None:
    page = run["html"]
    summary = run["json"]["summary"]
    kpis = dict(re.findall(r'data-kpi="(\w+)">([^<]*)<', page))
    assert kpis["compliance"] == f"{summary['compliance']:.1f}%"
    for key in ("tests", "compliant", "new", "known", "exempted"):
        assert kpis[key] == str(summary[key]), key
    assert kpis["stale"] == str(len(run["json"]["stale"]))
    bars = dict(re.findall(r'data-label="([^"]+)" data-compliance="([\d.]+)"', page))
    for tier, stats in summary["by_tier"].items():
        assert bars[tier] == f"{stats['compliance']:.1f}"
    assert page.count("<tr data-status=") == summary["violations"]


def test_html_has_charts_per_tier_directory_rule_and_trend(run: dict[str, Any]) -> None:
    elements = _parse(run["html"]).elements
    charts = {attrs.get("data-chart"): attrs for tag, attrs in elements if tag == "svg"}
    assert {"gauge", "tiers", "directories", "rules", "trend"} <= set(charts)
    assert charts["trend"]["data-points"] == "2"  # stage 1 and stage 2 from --ssot-history
    dirs = [a["data-label"] for t, a in elements if t == "g" and "data-label" in a]
    assert {"tests/unit", "tests/mission_critical"} <= set(dirs)


def test_html_shows_every_violation_with_its_fix(run: dict[str, Any]) -> None:
    page = run["html"]
    from pytest_ssot.rules import DIRECT_ENVIRON_ACCESS

    assert page.count('<pre class="fix">') == len(run["json"]["violations"])
    assert html.escape(DIRECT_ENVIRON_ACCESS.use_instead) in page
    assert '<details id="stale" open>' in page


def test_html_escapes_hostile_names_and_messages(run: dict[str, Any]) -> None:
    page = run["html"]
    assert HOSTILE_ID not in page
    assert html.escape(HOSTILE_ID) in page
    assert "<img" not in page
    parsed = _parse(page)
    scripts = [attrs for tag, attrs in parsed.elements if tag == "script"]
    assert len(scripts) == 2  # the page's own two, nothing injected


def test_html_is_self_contained_and_allows_only_its_own_script(run: dict[str, Any]) -> None:
    import base64
    import hashlib

    page = run["html"]
    elements = _parse(page).elements
    assert not [a for _, a in elements if a.get("src")]
    assert not [a for t, a in elements if t == "link"]
    assert not re.search(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//""", page)
    csp = next(
        a["content"] for t, a in elements if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp is not None
    assert "default-src 'none'" in csp
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 2
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert csp.count("'sha256-") == 2  # and nothing else may run


# -- history ---------------------------------------------------------------------------------
def test_history_gets_one_line_per_completed_session(run: dict[str, Any]) -> None:
    lines = (run["root"] / "history.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    last, summary = records[-1], run["json"]["summary"]
    assert (last["compliance"], last["tests"], last["new"]) == (
        summary["compliance"],
        summary["tests"],
        summary["new"],
    )
    assert last["by_rule"] == summary["by_rule"]
    assert last["by_tier"] == summary["by_tier"]
    assert "commit" in last
    assert re.match(r"\d{4}-\d\d-\d\dT", last["time"])
    assert last["partial"] is False


def test_history_marks_a_run_of_part_of_the_suite_as_partial(tmp_path: Path) -> None:
    build_every_rule_suite(tmp_path)
    run_pytest(tmp_path, "tests/unit/test_clock.py", "--ssot-history=history.jsonl")
    lines = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["partial"] for r in records] == [False, True]


# -- failures ---------------------------------------------------------------------------------
def test_a_report_that_cannot_be_written_is_one_line_and_changes_nothing_else(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    (pytester.path / "blocker").write_text("a file where a directory should be")
    result = pytester.runpytest(
        "-p",
        "ssot",
        "--ssot-report=json:blocker/report.json",
        "--ssot-report=html:ok/report.html",
        "--ssot-history=blocker/history.jsonl",
    )
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "ssot: cannot append to the history blocker/history.jsonl: *",
            "ssot: cannot write the json report to blocker/report.json: *",
        ]
    )
    assert (pytester.path / "ok" / "report.html").is_file()
    assert "Traceback" not in result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_history_that_is_not_one_is_left_as_it_was(pytester: pytest.Pytester) -> None:
    # --ssot-history=baseline.json by mistake: a JSON line appended would break the baseline.
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    other = '{\n  "version": 1,\n  "entries": []\n}\n'
    (pytester.path / "baseline.json").write_text(other)
    result = pytester.runpytest("-p", "ssot", "--ssot-history=baseline.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["ssot: history baseline.json not extended: none of its 4 line(s) is a pytest-ssot *"]
    )
    assert (pytester.path / "baseline.json").read_text() == other


def test_a_reporter_bug_is_reported_not_raised(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(markdown, "render", broken)
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest("-p", "ssot", "--ssot-report=markdown:summary.md")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["ssot: cannot render the markdown report (RuntimeError: boom); this is a pytest-ssot bug*"]
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("xml:out.xml", "unknown report format 'xml'"),
        ("sarif", "sarif needs a path, as in sarif:PATH"),
    ],
)
def test_a_bad_report_option_is_a_usage_error(
    pytester: pytest.Pytester, value: str, message: str
) -> None:
    result = pytester.runpytest("-p", "ssot", f"--ssot-report={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


@pytest.mark.parametrize(
    ("options", "replaced"),
    [
        (["--ssot-report=json:known.json"], "the baseline (known.json)"),
        (["--ssot-report=sarif:pyproject.toml"], "pytest-ssot's configuration (pyproject.toml)"),
        (["--ssot-report=json:r.json", "--ssot-report=html:./r.json"], "the json report (r.json)"),
        (["--ssot-history=h.jsonl", "--ssot-report=markdown:h.jsonl"], "the history (h.jsonl)"),
    ],
)
def test_a_report_never_replaces_a_file_the_session_reads_or_writes(
    pytester: pytest.Pytester, options: list[str], replaced: str
) -> None:
    pyproject = pytester.makepyprojecttoml('[tool.ssot]\nbaseline = "known.json"').read_text()
    baseline = pytester.makefile(".json", known='{"version": 1, "entries": []}').read_text()
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest("-p", "ssot", *options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-ssot: --ssot-report * would replace {replaced}*"])
    assert (pytester.path / "known.json").read_text() == baseline
    assert (pytester.path / "pyproject.toml").read_text() == pyproject
    assert not (pytester.path / "r.json").exists()


# -- the pure API the CLI uses ----------------------------------------------------------------
def test_every_format_renders_from_plain_data_without_pytest() -> None:
    from pytest_ssot import reporting
    from pytest_ssot.config import Config
    from pytest_ssot.model import Finding, Scope
    from pytest_ssot.policy import SessionData, TestRecord, evaluate
    from pytest_ssot.rules import RuleSet, builtin_rules

    config = Config(root=Path("."))
    infos = RuleSet(tuple(builtin_rules(config))).infos
    data = SessionData(tests={"t.py::test_a": TestRecord("t.py")})
    finding = Finding(
        "SSOT002", "t.py", 3, 5, "os.environ accessed directly", Scope(("test_a",)), snippet="x"
    )
    data.add(finding, ["t.py::test_a"])
    result = evaluate(data, config, infos)
    context = reporting.ReportContext(source_prefix="sub/dir")
    for fmt in reporting.FORMATS:
        text = reporting.render(fmt, result, config, infos, "1.2.3", context=context)
        assert "t.py" in text, fmt
    sarif = json.loads(reporting.render("sarif", result, config, infos, "1.2.3", context=context))
    uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "sub/dir/t.py"
    annotations = reporting.render("github", result, config, infos, "1.2.3", context=context)
    assert annotations.startswith("::warning file=sub/dir/t.py,line=3,col=5,")
    report = json.loads(reporting.render("json", result, config, infos, "1.2.3", context=context))
    assert report["violations"][0]["path"] == "t.py"  # JSON stays rootdir-relative


def _plain_result(findings: list[Any], tests: int = 1) -> tuple[Any, Any, Any]:
    from pytest_ssot.config import Config
    from pytest_ssot.policy import SessionData, TestRecord, evaluate
    from pytest_ssot.rules import RuleSet, builtin_rules

    config = Config(root=Path("."))
    infos = RuleSet(tuple(builtin_rules(config))).infos
    ids = [f"t.py::test_{i}" for i in range(tests)]
    data = SessionData(tests={n: TestRecord("t.py") for n in ids})
    for finding in findings:
        data.add(finding, ids[:1])
    return evaluate(data, config, infos), config, infos


@pytest.mark.parametrize("tests", [0, 3])
def test_every_format_renders_a_session_without_violations(tests: int) -> None:
    from pytest_ssot import reporting

    jsonschema = pytest.importorskip("jsonschema")
    result, config, infos = _plain_result([], tests=tests)
    for fmt in reporting.FORMATS:
        assert reporting.render(fmt, result, config, infos, "1.0"), fmt
    page = reporting.render("html", result, config, infos, "1.0")
    assert "No violations." in page
    assert reporting.render("markdown", result, config, infos, "1.0").startswith(
        "## :white_check_mark: SSOT compliance 100.0%"
    )
    sarif = json.loads(reporting.render("sarif", result, config, infos, "1.0"))
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert sarif["runs"][0]["results"] == []


def test_a_file_outside_the_rootdir_keeps_its_absolute_path_in_every_report() -> None:
    from pytest_ssot import reporting
    from pytest_ssot.model import Finding

    outside = Finding("SSOT102", "/opt/helpers/env.py", 4, 1, "read", source="runtime")
    result, config, infos = _plain_result([outside])
    context = reporting.ReportContext(source_prefix="svc")
    sarif = json.loads(reporting.render("sarif", result, config, infos, "1", context=context))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "file:///opt/helpers/env.py"}
    annotations = reporting.render("github", result, config, infos, "1", context=context)
    assert annotations.startswith("::warning file=/opt/helpers/env.py,line=4,")


def test_history_read_skips_torn_lines_and_append_starts_a_fresh_line(tmp_path: Path) -> None:
    from pytest_ssot.reporting import history

    path = tmp_path / "h.jsonl"
    good = {"time": "2026-01-01T00:00:00+00:00", "compliance": 40.0}
    path.write_text(json.dumps(good) + '\n{"time": "2026-01-02T0', encoding="utf-8")
    records, bad = history.read(path)
    assert (records, bad) == ([good], 1)
    history.append(path, {"time": "2026-01-03T00:00:00+00:00", "compliance": 55.5})
    records, bad = history.read(path)
    assert [r["compliance"] for r in records] == [40.0, 55.5]
    assert bad == 1  # the torn line stays torn; the new record is whole
    assert history.read(tmp_path / "missing.jsonl") == ([], 0)


def test_the_trend_draws_whole_suite_sessions_when_there_are_any() -> None:
    from pytest_ssot.reporting import history

    whole = {"time": "t1", "compliance": 10.0, "partial": False}
    part = {"time": "t2", "compliance": 90.0, "partial": True}
    assert history.trend([whole, part, whole]) == [whole, whole]
    assert history.trend([part]) == [part]


def test_git_commit_is_read_from_the_repository_and_none_outside_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot.reporting import history

    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run([git, *args], cwd=repo, env=env, check=True)
    head = subprocess.run(
        [git, "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert history.git_commit(repo / "sub") == head
    assert history.git_prefix(repo / "sub") == "sub"
    assert history.git_prefix(repo) == ""
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert history.git_commit(outside) is None
