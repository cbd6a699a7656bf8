"""The ``ssot`` command line: check, formats, exit codes, baseline, cache, rules, init, run, fix."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ssot import baseline, cli

LEGACY_TEST = """
    import os
    import unittest
    from unittest.mock import MagicMock


    class TestLegacy(unittest.TestCase):
        def test_env(self):
            os.environ["MODE"] = "x"

        def test_mock(self):
            MagicMock()
"""
GOOD_TEST = """
    from framework.base import SSotBase


    class TestGood(SSotBase):
        def test_ok(self):
            assert True
"""
FRAMEWORK = {
    "framework/__init__.py": "",
    "framework/base.py": "import unittest\n\nclass SSotBase(unittest.TestCase):\n    pass\n",
}


def without_mock(text: str) -> str:
    return text.replace("from unittest.mock import MagicMock\n", "").replace("MagicMock()", "pass")


def make_project(root: Path, files: dict[str, str], ssot: str = "") -> Path:
    pyproject = '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n[tool.ssot]\n' + ssot
    for name, text in {"pyproject.toml": pyproject, **FRAMEWORK, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> dict:  # type: ignore[type-arg]
        data: dict = json.loads(self.out)  # type: ignore[type-arg]
        return data


@pytest.fixture
def ssot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(root: Path, *args: str) -> Ran:
        monkeypatch.chdir(root)
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


STRICT = 'mode = "strict"\nbase_classes = ["framework.base:SSotBase"]\n'


def test_check_reports_each_violation_and_exits_1_in_strict_mode(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    ran = ssot(tmp_path, "check", "--jobs", "1")
    assert ran.code == 1
    assert "tests/test_legacy.py:6:1: SSOT001 test class TestLegacy" in ran.out
    assert "tests/test_legacy.py:8:9: SSOT002 os.environ accessed directly" in ran.out
    assert "tests/test_legacy.py:11:9: SSOT003 unittest.mock.MagicMock" in ran.out
    assert "compliance 0.0% (0/2 checked tests compliant)" in ran.out


def test_check_exits_0_in_warn_mode_and_on_a_clean_suite(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path / "warn", {"tests/test_legacy.py": LEGACY_TEST}, 'mode = "warn"\n')
    ran = ssot(tmp_path / "warn", "check", "--jobs", "1")
    assert ran.code == 0
    assert "SSOT002" in ran.out
    make_project(tmp_path / "clean", {"tests/test_good.py": GOOD_TEST}, STRICT)
    ran = ssot(tmp_path / "clean", "check", "--jobs", "1")
    assert ran.code == 0
    assert "compliance 100.0% (1/1 checked tests compliant)" in ran.out


def test_mode_option_overrides_the_configuration(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, 'mode = "warn"\n')
    assert ssot(tmp_path, "check", "--jobs", "1", "--mode", "strict").code == 1


def test_fail_under_fails_the_check(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, "fail_under = 90\n")
    ran = ssot(tmp_path, "check", "--jobs", "1")
    assert ran.code == 1
    assert "below fail_under 90%" in ran.out


def test_config_errors_are_one_line_each_and_exit_2(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST}, 'mode = "loud"\nfail_under = 200\n')
    ran = ssot(tmp_path, "check")
    assert ran.code == 2
    lines = ran.err.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("ssot: error: ") and "pyproject.toml" in line for line in lines)
    assert "tool.ssot.mode = 'loud'" in ran.err
    assert "Traceback" not in ran.err


def test_a_base_class_that_cannot_be_found_is_a_usage_error(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path, {"tests/test_good.py": GOOD_TEST}, 'base_classes = ["framework.base:Nope"]\n'
    )
    ran = ssot(tmp_path, "check")
    assert ran.code == 2
    assert "base_classes entry 'framework.base:Nope' cannot be resolved" in ran.err


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        ("os:getenv", "a function"),  # read from the installed os.py, not imported
        ("abc:abstractmethod", "a function"),  # an allowlisted module, asked directly
        ("unittest.mock:sentinel", "a _Sentinel"),
        # Computed where its source binds it: asked of the loaded standard-library module.
        ("os:environ", "a _Environ"),
        ("sys:path", "a list"),
    ],
)
def test_a_base_class_outside_the_project_that_is_not_a_class_is_a_usage_error(
    tmp_path: Path,
    ssot,  # type: ignore[no-untyped-def]
    entry: str,
    what: str,
) -> None:
    # As the plugin, which imports the entry and refuses anything but a class; ssot check
    # reads the installed module's source instead.
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST}, f'base_classes = ["{entry}"]\n')
    ran = ssot(tmp_path, "check", "--jobs", "1", "--no-cache")
    assert ran.code == 2
    assert ran.err.splitlines() == [
        f"ssot: error: {tmp_path / 'pyproject.toml'}: base_classes entry {entry!r} is not a "
        f"class ({what})"
    ]


def test_only_the_entries_outside_the_project_that_are_not_classes_are_refused(
    tmp_path: Path,
    ssot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Classes read from installed sources pass; so does what the source cannot tell (a name
    # bound in branches of a module nobody loaded), as the plugin would decide on import.
    site = tmp_path / "site"
    site.mkdir()
    (site / "branchy_lib.py").write_text(
        "import sys\n\nif sys.version_info > (3,):\n    Base = object\nelse:\n    Base = len\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    entries = [
        "framework.base:SSotBase",
        "argparse:ArgumentParser",
        "json:JSONDecoder",
        "branchy_lib:Base",
        "subprocess:run",
        "json.decoder:scanstring",  # bound in branches, but json is loaded: a function
    ]
    make_project(
        tmp_path / "project",
        {"tests/test_good.py": GOOD_TEST},
        f"base_classes = {json.dumps(entries)}\n",
    )
    ran = ssot(tmp_path / "project", "check", "--jobs", "1", "--no-cache")
    assert "branchy_lib" not in sys.modules
    assert ran.code == 2
    config = tmp_path / "project" / "pyproject.toml"
    assert ran.err.splitlines() == [
        f"ssot: error: {config}: base_classes entry 'subprocess:run' is not a class (a function)",
        f"ssot: error: {config}: base_classes entry 'json.decoder:scanstring' is not a class "
        "(a builtin_function_or_method)",
    ]


def test_ssot001_follows_classes_of_installed_packages_through_their_source(
    tmp_path: Path,
    ssot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SSOT base class of an installed framework, configured where the package re-exports
    # it; the test classes derive from it through another installed class, or from a
    # unittest.TestCase: decided from the sources, as the plugin decides with issubclass.
    site = tmp_path / "site-packages"
    for name, text in {
        "ssotframe/__init__.py": "from .cases import SSotCase\n",
        "ssotframe/cases.py": (
            "import unittest\n\n\nclass SSotCase(unittest.TestCase):\n    pass\n\n\n"
            "class ApiCase(SSotCase):\n    pass\n"
        ),
    }.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    tests = """
        import unittest

        from ssotframe.cases import ApiCase


        class ApiTests(ApiCase):
            def test_api(self):
                pass


        class LegacyTests(unittest.TestCase):
            def test_legacy(self):
                pass
    """
    make_project(
        tmp_path / "project",
        {"tests/test_api.py": tests},
        'base_classes = ["ssotframe:SSotCase"]\n',
    )
    ran = ssot(tmp_path / "project", "check", "--jobs", "1", "--no-cache", "--format", "json")
    assert ran.code == 0, ran.err
    report = ran.json()
    assert report["summary"]["tests"] == 2
    assert report["summary"]["compliant"] == 1
    (violation,) = report["violations"]
    assert violation["code"] == "SSOT001"
    assert violation["nodeids"] == ["tests/test_api.py::LegacyTests::test_legacy"]
    assert report["unresolved"] == []  # ApiTests: decided, not left open
    assert "ssotframe" not in sys.modules


def test_usage_errors_exit_2(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST})
    missing = ssot(tmp_path, "check", "no/such/dir")
    assert missing.code == 2
    assert "file or directory not found: no/such/dir" in missing.err
    with pytest.raises(SystemExit) as exc:
        ssot(tmp_path, "check", "--format", "xml")
    assert exc.value.code == 2
    assert ssot(tmp_path).code == 2  # no command


def test_a_standalone_config_file_is_used_with_config(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST})
    (tmp_path / "ci-ssot.toml").write_text('mode = "strict"\n', encoding="utf-8")
    assert ssot(tmp_path, "check", "--jobs", "1").code == 0
    assert ssot(tmp_path, "check", "--jobs", "1", "--config", "ci-ssot.toml").code == 1


def test_required_version_mismatch_is_a_usage_error(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST}, 'required_version = ">=999"\n')
    ran = ssot(tmp_path, "check")
    assert ran.code == 2
    assert "required_version" in ran.err


def test_json_output_follows_the_report_schema(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    ran = ssot(tmp_path, "check", "--jobs", "1", "--format", "json")
    report = ran.json()
    assert report["version"] == 1
    assert report["tool"]["name"] == "pytest-ssot"
    assert report["summary"]["tests"] == 2
    assert report["summary"]["by_rule"] == {"SSOT001": 1, "SSOT002": 1, "SSOT003": 1}
    violation = next(v for v in report["violations"] if v["code"] == "SSOT002")
    assert violation["nodeids"] == ["tests/test_legacy.py::TestLegacy::test_env"]
    assert violation["status"] == "new"
    assert violation["source"] == "static"
    assert violation["severity"] == "error"
    assert report["unresolved"] == []


def test_sarif_and_github_formats(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    sarif = ssot(tmp_path, "check", "--jobs", "1", "--format", "sarif").json()
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"SSOT001", "SSOT002", "SSOT003"}
    github = ssot(tmp_path, "check", "--jobs", "1", "--format", "github")
    errors = [line for line in github.out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 3
    assert any("file=tests/test_legacy.py,line=8" in line for line in errors)


def test_show_files_lists_what_it_would_check_and_stops(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {
            "tests/test_good.py": GOOD_TEST,
            "tests/legacy/test_old.py": LEGACY_TEST,
            "tests/helpers.py": "",
            "tests/conftest.py": "",
            "tests/legacy/conftest.py": "",
        },
        'exclude = ["tests/legacy/**"]\n',
    )
    ran = ssot(tmp_path, "check", "--show-files")
    assert ran.code == 0
    assert ran.out.splitlines() == [
        os.path.join("tests", "test_good.py"),
        os.path.join("tests", "conftest.py"),
    ]
    ran = ssot(tmp_path / "tests", "check", "--show-files", ".")
    assert ran.out.splitlines() == ["test_good.py", "conftest.py"]


def test_quiet_prints_only_new_violations_and_totals(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    ran = ssot(tmp_path, "check", "--jobs", "1", "-q")
    lines = ran.out.splitlines()
    assert len(lines) == 5  # three violations, compliance, counts
    assert "by rule:" not in ran.out


def test_unparsable_files_are_counted_and_listed_never_fatal(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {
            "tests/test_good.py": GOOD_TEST,
            "tests/test_broken.py": "class TestX(\n    def test_a(self): pass\n",
            "tests/test_nul.py": "x = 1\0\n",
        },
        STRICT,
    )
    ran = ssot(tmp_path, "check", "--jobs", "1", "--format", "json")
    assert ran.code == 0
    report = ran.json()
    assert {u["path"] for u in report["unchecked"]} == {
        "tests/test_broken.py",
        "tests/test_nul.py",
    }
    assert report["summary"]["tests"] == 1


def test_modules_and_classes_pytest_fails_to_collect_are_unchecked_without_their_tests(
    tmp_path: Path,
    ssot,  # type: ignore[no-untyped-def]
) -> None:
    # Explicit ids that are more or fewer than the values: pytest fails to collect the module
    # (or the class), so its tests neither run nor count, and the file is listed as unchecked.
    refused = """
        import os

        import pytest
        from framework.base import SSotBase

        class TestOk(SSotBase):
            def test_ok(self):
                pass

        @pytest.mark.parametrize("x", [1, 2], ids=["only"])
        def test_short(x):
            os.environ["X"] = "1"
    """
    class_refused = """
        import pytest
        from framework.base import SSotBase

        class TestRefused:  # (pytest parametrizes no unittest.TestCase method)
            @pytest.mark.parametrize("x", [1], ids=["a", "b"])
            def test_long(self, x):
                pass

        class TestOk(SSotBase):
            def test_ok(self):
                pass
    """
    make_project(
        tmp_path,
        {
            "tests/test_good.py": GOOD_TEST,
            "tests/test_refused.py": refused,
            "tests/test_class_refused.py": class_refused,
        },
        STRICT,
    )
    ran = ssot(tmp_path, "check", "--jobs", "1", "--format", "json")
    report = ran.json()
    assert report["unchecked"] == [
        {
            "path": "tests/test_class_refused.py",
            "reason": "pytest fails to collect TestRefused: In test_long: 1 parameter sets "
            "specified, with different number of ids: 2",
        },
        {
            "path": "tests/test_refused.py",
            "reason": "pytest fails to collect the module: In test_short: 2 parameter sets "
            "specified, with different number of ids: 1",
        },
    ]
    # test_good.py's test and test_class_refused.py's TestOk: not the refused ones.
    assert report["summary"]["tests"] == 2
    assert report["summary"]["compliance"] == 100.0


def test_paths_of_another_project_with_its_own_config_are_refused_not_mixed(
    tmp_path: Path,
    ssot,  # type: ignore[no-untyped-def]
) -> None:
    # Checked with this project's config (and baseline) but the other's rootdir, they would
    # overwrite this project's baseline with the other's entries.
    here = make_project(tmp_path / "here", {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    (here / "pyproject.toml").write_text(
        (here / "pyproject.toml").read_text() + 'baseline = "baseline.json"\n'
    )
    other = make_project(
        tmp_path / "other", {"tests/test_legacy.py": LEGACY_TEST}, 'mode = "warn"\n'
    )
    assert ssot(here, "baseline").code == 0
    before = (here / "baseline.json").read_bytes()
    ran = ssot(here, "baseline", str(other / "tests"))
    assert ran.code == 2
    assert f"belong to the project at {other}" in ran.err
    assert (here / "baseline.json").read_bytes() == before
    assert ssot(here, "check", str(other / "tests")).code == 2
    assert ssot(here, "check", "tests").code == 0  # its own paths, from its own directory
    # A project whose pyproject.toml has no [tool.ssot] of its own is checked as before.
    (other / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    ran = ssot(here, "check", str(other / "tests"))
    assert ran.code != 2
    assert "belong to the project" not in ran.err


def test_a_symlink_loop_given_as_a_path_is_a_usage_error(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST})
    (tmp_path / "tests" / "loop1").symlink_to("loop2")
    (tmp_path / "tests" / "loop2").symlink_to("loop1")
    for args in (["check", "tests/loop1"], ["check", "--baseline", "tests/loop1"]):
        ran = ssot(tmp_path, *args)
        assert ran.code == 2
        assert ran.err.startswith("ssot: error: tests/loop1: cannot follow it")
        assert "Traceback" not in ran.err


def test_inline_ignores_and_exempt_markers_apply(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {
            "tests/test_ex.py": """
                import os

                import pytest
                from framework.base import SSotBase


                class TestA(SSotBase):
                    def test_ignored(self):
                        os.environ.get("A")  # ssot: ignore[SSOT002]

                    def test_unused_ignore(self):
                        x = 1  # ssot: ignore[SSOT003]
                        y = 2  # ssot: ignore
                        z = 3  # ssot: ignore[SSOT102]

                    @pytest.mark.ssot_exempt("SSOT002", reason="legacy contract")
                    def test_exempted(self):
                        os.getenv("B")

                    @pytest.mark.ssot_exempt("SSOT002", reason="old", until="2000-01-01")
                    def test_expired(self):
                        os.getenv("C")

                    @pytest.mark.ssot_exempt("SSOT002")
                    def test_invalid(self):
                        os.getenv("D")

                    @pytest.mark.ssot_exempt("SSOT020", "SSOT301", reason="a typo, a plugin's")
                    def test_typo(self):
                        os.getenv("E")
            """
        },
        STRICT,
    )
    report = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    status = {v["line"]: v["status"] for v in report["violations"]}
    assert status == {9: "exempted", 18: "exempted", 22: "new", 26: "new", 30: "new"}
    # A bare ignore, or one a run-time access could use (SSOT102), no static check can judge.
    assert report["unused_ignores"] == [{"path": "tests/test_ex.py", "line": 12}]
    assert [e["origin"] for e in report["expired_exemptions"]] == [
        "tests/test_ex.py::TestA::test_expired"
    ]
    text = ssot(tmp_path, "check", "--jobs", "1").out
    assert "tests/test_ex.py::TestA::test_invalid: ssot_exempt needs reason=" in text
    # SSOT301 may be a pytest plugin's rule, which ssot check cannot know.
    assert "tests/test_ex.py::TestA::test_typo: ssot_exempt names no rule: SSOT020;" in text


def test_unresolved_base_classes_are_listed_not_counted(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {
            "tests/test_u.py": """
                try:
                    from framework.base import SSotBase as Base
                except ImportError:
                    Base = object

                class TestU(Base):
                    def test_a(self):
                        pass
            """
        },
        STRICT,
    )
    ran = ssot(tmp_path, "check", "--jobs", "1")
    assert ran.code == 0
    assert "unresolved base classes 1 (SSOT001 not decided):" in ran.out
    assert "tests/test_u.py:6 TestU:" in ran.out
    report = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    assert report["violations"] == []
    assert report["unresolved"][0]["qualname"] == "TestU"


def test_baseline_makes_violations_known_and_reports_fixed_ones_stale(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {"tests/test_legacy.py": LEGACY_TEST},
        STRICT + 'baseline = "ssot-baseline.json"\n',
    )
    ran = ssot(tmp_path, "baseline", "--jobs", "1")
    assert ran.code == 0
    assert "3 entries" in ran.out
    data = json.loads((tmp_path / "ssot-baseline.json").read_text())
    assert data["version"] == 1
    assert {e["code"] for e in data["entries"]} == {"SSOT001", "SSOT002", "SSOT003"}
    checked = ssot(tmp_path, "check", "--jobs", "1", "--format", "json")
    assert checked.code == 0
    assert {v["status"] for v in checked.json()["violations"]} == {"known"}
    # Moving code keeps violations known; fixing one makes its entry stale.
    legacy = tmp_path / "tests" / "test_legacy.py"
    legacy.write_text("# moved\n\n" + without_mock(legacy.read_text()))
    report = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    assert {v["status"] for v in report["violations"]} == {"known"}
    assert [s["code"] for s in report["stale"]] == ["SSOT003"]


def test_baseline_needs_a_target(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST})
    ran = ssot(tmp_path, "baseline")
    assert ran.code == 2
    assert "pass --baseline PATH" in ran.err
    ran = ssot(tmp_path, "baseline", "--jobs", "1", "--baseline", "b.json")
    assert ran.code == 0
    assert (tmp_path / "b.json").is_file()


def test_a_malformed_baseline_is_a_usage_error_and_kept(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, 'baseline = "b.json"\n')
    (tmp_path / "b.json").write_text("{not json", encoding="utf-8")
    ran = ssot(tmp_path, "baseline", "--jobs", "1")
    assert ran.code == 2
    assert "b.json" in ran.err
    assert (tmp_path / "b.json").read_text() == "{not json"


def test_a_baseline_that_cannot_be_written_is_one_line_not_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ssot,  # type: ignore[no-untyped-def]
) -> None:
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST})

    def read_only(path: Path, text: str) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(baseline, "write_atomic", read_only)
    ran = ssot(tmp_path, "baseline", "--jobs", "1", "--baseline", "b.json")
    assert ran.code == 2
    assert ran.err == "ssot: error: cannot write the baseline b.json: Read-only file system\n"


@pytest.mark.parametrize(
    ("pyproject", "addopts", "expected"),
    [
        ("tool = 5\n", "", "pyproject.toml: tool = 5: must be a table"),
        (
            '[tool.pytest.ini_options]\naddopts = "-k \\"foo"\n',
            "",
            "pyproject.toml (addopts) or PYTEST_ADDOPTS: cannot split the pytest options",
        ),
        ("", '-k "x', "PYTEST_ADDOPTS: cannot split the pytest options: No closing quotation"),
    ],
)
def test_a_broken_pytest_configuration_is_one_line_not_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ssot,  # type: ignore[no-untyped-def]
    pyproject: str,
    addopts: str,
    expected: str,
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    ran = ssot(tmp_path, "check", "--jobs", "1")
    assert ran.code == 2
    assert expected in ran.err
    assert len(ran.err.splitlines()) == 1


def test_the_scan_cache_lives_in_pytests_cache_and_is_content_keyed(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    cold = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    cache = tmp_path / ".pytest_cache" / "d" / "ssot-scan"
    entries = list(cache.rglob("*.json"))
    assert entries
    assert (tmp_path / ".pytest_cache" / ".gitignore").is_file()
    warm = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    assert warm["violations"] == cold["violations"]
    assert sorted(cache.rglob("*.json")) == sorted(entries)  # nothing rescanned
    # An edited file misses the cache and is scanned again.
    legacy = tmp_path / "tests" / "test_legacy.py"
    legacy.write_text(without_mock(legacy.read_text()))
    edited = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    assert edited["summary"]["by_rule"] == {"SSOT001": 1, "SSOT002": 1}


def test_no_cache_writes_no_cache(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST})
    assert ssot(tmp_path, "check", "--jobs", "1", "--no-cache").code == 0
    assert not (tmp_path / ".pytest_cache").exists()


def test_a_corrupt_cache_entry_is_rescanned_not_trusted(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    cold = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    for entry in (tmp_path / ".pytest_cache").rglob("*.json"):
        entry.write_text('{"format": 1, "key": "x", "facts": {}}')
    warm = ssot(tmp_path, "check", "--jobs", "1", "--format", "json").json()
    assert warm["violations"] == cold["violations"]


def test_jobs_2_gives_the_same_result_as_jobs_1(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    files = {f"tests/test_{i:03d}.py": LEGACY_TEST if i % 3 else GOOD_TEST for i in range(80)}
    make_project(tmp_path, files, STRICT)
    serial = ssot(tmp_path, "check", "--no-cache", "--jobs", "1", "--format", "json").json()
    parallel = ssot(tmp_path, "check", "--no-cache", "--jobs", "2", "--format", "json").json()
    assert serial["summary"]["tests"] == 133
    assert parallel["summary"] == serial["summary"]
    assert parallel["violations"] == serial["violations"]


def test_a_progress_bar_is_drawn_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {f"tests/test_{i:03d}.py": GOOD_TEST for i in range(cli.PROGRESS_MIN_FILES)}
    make_project(tmp_path, files, STRICT)
    monkeypatch.chdir(tmp_path)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["check", "--jobs", "1", "--no-cache"]) == 0
    assert f"{cli.PROGRESS_MIN_FILES}/{cli.PROGRESS_MIN_FILES} files" in terminal.getvalue()
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert cli.main(["check", "--jobs", "1", "--no-cache", "--quiet"]) == 0
    assert quiet.getvalue() == ""
    capsys.readouterr()


def test_rules_lists_every_rule_including_team_sources(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    make_project(
        tmp_path,
        {},
        '[[tool.ssot.sources]]\ncode = "SSOT201"\nname = "raw-requests"\n'
        'forbid = ["requests.get"]\nuse = "api_client()"\n',
    )
    ran = ssot(tmp_path, "rules")
    codes = [line.split()[0] for line in ran.out.splitlines()]
    assert codes == ["SSOT001", "SSOT002", "SSOT003", "SSOT004", "SSOT102", "SSOT201"]
    assert "direct-environ-access" in ran.out


@pytest.mark.parametrize("query", ["SSOT002", "ssot002", "direct-environ-access"])
def test_rules_explains_one_rule_like_ruff(tmp_path: Path, ssot, query: str) -> None:  # type: ignore[no-untyped-def]
    ran = ssot(tmp_path, "rules", query)
    assert ran.code == 0
    assert ran.out.startswith("# direct-environ-access (SSOT002)\n")
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert heading in ran.out
    assert "- `env_modules`" in ran.out


def test_rules_rejects_an_unknown_rule(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    ran = ssot(tmp_path, "rules", "SSOT999")
    assert ran.code == 2
    assert "unknown rule 'SSOT999'" in ran.err


def test_rules_json_lists_rule_metadata(tmp_path: Path, ssot) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(ssot(tmp_path, "rules", "--format", "json").out)
    assert {"code", "name", "summary", "why", "example", "use_instead", "options"} <= set(data[0])


def test_fix_without_the_fix_extra_names_the_install_command(
    tmp_path: Path,
    ssot,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    # What a machine without the extra sees: libcst cannot be imported. The extra is checked
    # before the [tool.ssot.fix] table, so this project (which has none) still gets the hint.
    monkeypatch.setitem(sys.modules, "libcst", None)
    ran = ssot(tmp_path, "fix", "--diff")
    assert ran.code == 2
    assert ran.err.strip() == (
        "ssot fix needs the fix extra (libcst): pip install 'pytest-ssot[fix]'"
    )


def test_the_cli_never_imports_pytest(tmp_path: Path) -> None:
    make_project(tmp_path, {"tests/test_legacy.py": LEGACY_TEST}, STRICT)
    code = (
        "import sys\n"
        "from pytest_ssot.cli import main\n"
        "code = main(['check', '--jobs', '2', '--no-cache', '-q'])\n"
        "assert 'pytest' not in sys.modules and '_pytest' not in sys.modules, 'pytest imported'\n"
        "sys.exit(code)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 1, completed.stderr
    assert "SSOT002" in completed.stdout


def test_python_dash_m_and_the_console_script_are_the_same(tmp_path: Path) -> None:
    make_project(tmp_path, {"tests/test_good.py": GOOD_TEST})
    module = subprocess.run(
        [sys.executable, "-m", "pytest_ssot", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0
    assert module.stdout.startswith("ssot ")
    script = Path(sys.executable).with_name("ssot")
    if script.exists():
        completed = subprocess.run(
            [str(script), "check", "--jobs", "1"], cwd=tmp_path, capture_output=True, text=True
        )
        assert completed.returncode == 0, completed.stderr
        assert "compliance 100.0%" in completed.stdout


def _check_in_a_script(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (a script calling ``ssot check --jobs 2`` on a project of wholly
    non-compliant test modules, enough for a pool) and assert the check's own result."""
    files = {f"tests/test_{i:03d}.py": LEGACY_TEST for i in range(cli.MIN_FILES_FOR_POOL)}
    make_project(tmp_path, files, STRICT)
    script = tmp_path / "run_check.py"
    script.write_text(code)
    completed = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 1, completed.stderr
    assert f"compliance 0.0% (0/{2 * cli.MIN_FILES_FOR_POOL} checked tests compliant)" in (
        completed.stdout
    )
    return completed


def test_workers_also_start_with_the_spawn_method(tmp_path: Path) -> None:
    """macOS and Windows start worker processes by importing afresh (no fork)."""
    _check_in_a_script(
        tmp_path,
        "import multiprocessing, sys\n"
        "multiprocessing.set_start_method('spawn', force=True)\n"
        "from pytest_ssot.cli import main\n"
        "if __name__ == '__main__':\n"
        "    sys.exit(main(['check', '--jobs', '2', '--no-cache', '-q']))\n",
    )


def test_workers_start_without_forking_a_process_that_runs_threads(tmp_path: Path) -> None:
    """Forking a multi-threaded process may deadlock the copy (Python 3.12+ warns): a tool or
    test runner that calls ``ssot check`` while its own threads run gets the same result,
    with no warning."""
    completed = _check_in_a_script(
        tmp_path,
        "import _thread, sys, threading, warnings\n"
        "from pytest_ssot.cli import main\n"
        "if __name__ == '__main__':\n"
        "    stop = threading.Event()\n"
        "    # Started as execnet starts xdist's: unknown to threading.active_count().\n"
        "    _thread.start_new_thread(stop.wait, ())\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        code = main(['check', '--jobs', '2', '--no-cache', '-q'])\n"
        "    stop.set()\n"
        "    for warning in caught:\n"
        "        print(f'warning: {warning.message}', file=sys.stderr)\n"
        "    sys.exit(code)\n",
    )
    assert "warning:" not in completed.stderr
