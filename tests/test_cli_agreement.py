"""The CLI and the plugin agree on every statically decidable violation.

The plugin runs in a subprocess (the suites import their own packages), the CLI in process; both
write the JSON report, compared on (code, path, line) and on what each violation means: its
fingerprint (so one's baseline is the other's), status and the tests it affects. Runtime
violations (SSOT102, only the plugin can see them) are left out.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot import cli

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_backend"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def run_plugin(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "ssot",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            *args,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def plugin_report(root: Path) -> dict[str, Any]:
    report = root / "plugin-report.json"
    completed = run_plugin(root, f"--ssot-report=json:{report}")
    assert report.is_file(), completed.stdout + completed.stderr
    data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return data


def static_report(root: Path) -> dict[str, Any]:
    """What ``ssot check --format json`` reports in ``root`` (run in process)."""
    out = io.StringIO()
    previous = Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out):
            cli.main(["check", "--jobs", "1", "--no-cache", "--format", "json"])
    finally:
        os.chdir(previous)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def cli_report(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """:func:`static_report`, staying in ``root`` for the test's further CLI calls."""
    monkeypatch.chdir(root)
    return static_report(root)


def static(report: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {
        (v["code"], v["path"], v["line"]): v
        for v in report["violations"]
        if v["source"] == "static" and v["code"] != "SSOT102"
    }


def assert_agree(plugin: dict[str, Any], static_check: dict[str, Any]) -> None:
    ours, theirs = static(static_check), static(plugin)
    assert set(ours) == set(theirs)
    for key, violation in theirs.items():
        for field in ("fingerprint", "status", "nodeids", "message", "tier"):
            assert ours[key][field] == violation[field], (key, field)
    assert static_check["summary"]["tests"] == plugin["summary"]["tests"]
    tiers = {name: tier["tests"] for name, tier in plugin["summary"]["by_tier"].items()}
    assert {n: t["tests"] for n, t in static_check["summary"]["by_tier"].items()} == tiers
    # Runtime violations (helpers outside test modules, dynamic access) only make more tests
    # non-compliant; without them, the numbers are the same.
    runtime = [v for v in plugin["violations"] if v["source"] != "static"]
    if runtime:
        assert static_check["summary"]["compliant"] >= plugin["summary"]["compliant"]
    else:
        assert static_check["summary"]["compliant"] == plugin["summary"]["compliant"]
    # A static check cannot tell an ignore unused that a run-time access could use (bare,
    # SSOT002, SSOT102); the plugin, having run the whole suite, can.
    assert all(u in plugin["unused_ignores"] for u in static_check["unused_ignores"])


def test_cli_and_plugin_agree_on_the_example_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    plugin = plugin_report(root)
    static_check = cli_report(root, monkeypatch)
    assert len(static(plugin)) >= 12  # every built-in static rule fires in the example
    assert {k[0] for k in static(plugin)} == {"SSOT001", "SSOT002", "SSOT003", "SSOT004"}
    assert_agree(plugin, static_check)
    assert [u["path"] for u in static_check["unchecked"]] == [
        "tests/integration/test_presence_legacy.py"
    ]


SHAPES = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.ssot]
        mode = "warn"
        base_classes = ["framework.base:SSotBase"]
        env_modules = ["framework.env"]
        runner = "unified"

        [[tool.ssot.tiers]]
        name = "api"
        paths = ["tests/api/**"]
    """,
    "framework/__init__.py": "from framework.base import SSotBase as SSotBase\n",
    "framework/base.py": "class SSotBase:\n    pass\n",
    "framework/env.py": "import os\n\ndef get(key):\n    return os.environ.get(key)\n",
    "tests/__init__.py": "",
    "tests/conftest.py": """
        import os

        import pytest

        @pytest.fixture
        def token():
            return os.getenv("TOKEN")

        @pytest.fixture
        def client(token):
            return token

        @pytest.fixture(autouse=True)
        def everywhere():
            yield

        os.environ.setdefault("CONFTEST", "1")
    """,
    "tests/api/__init__.py": "",
    "tests/api/base.py": """
        import os

        from framework import SSotBase

        class ApiBase(SSotBase):
            def setup_method(self):
                os.environ["API"] = "1"
    """,
    "tests/api/test_users.py": """
        import os
        from unittest import mock

        import pytest

        from tests.api.base import ApiBase
        from framework.base import SSotBase as Aliased


        class Mixin:
            def helper(self):
                return os.getenv("MIXIN")


        class TestUsers(Mixin, ApiBase):
            def test_list(self, client):
                assert True

            @pytest.mark.parametrize("n", [1, 2])
            def test_param(self, n):
                mock.Mock()

            @pytest.mark.ssot_exempt("SSOT002", reason="documented")
            def test_exempt(self):
                os.getenv("X")


        class TestAliased(Aliased):
            def test_fine(self):
                pass


        class TestNotSsot:
            def setup_method(self):
                os.environ.get("LOCAL")

            def test_a(self):
                pass

            def test_b(self, token):
                x = os.environ  # ssot: ignore[SSOT002]
                y = 1  # ssot: ignore


        def test_function():
            pass


        if __name__ == "__main__":
            pytest.main([__file__])
    """,
    "tests/test_plain.py": """
        from tests.api.test_users import TestUsers


        class TestMore(TestUsers):
            def test_more(self):
                pass
    """,
}


def test_cli_and_plugin_agree_on_inheritance_fixtures_and_parametrize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, SHAPES)
    plugin = plugin_report(tmp_path)
    static_check = cli_report(tmp_path, monkeypatch)
    assert plugin["summary"]["tests"] >= 15
    assert_agree(plugin, static_check)


def test_the_streamed_json_report_is_the_reporters_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot.reporting import jsonreport

    root = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    monkeypatch.chdir(root)
    args = cli.build_parser().parse_args(["check", "--jobs", "1", "--no-cache"])
    run = cli.run_check(cli.load_project(args), [], jobs=1, use_cache=False)
    streamed = cli_report(root, monkeypatch)
    streamed.pop("unresolved")
    expected = jsonreport.report(run.result, run.project.config, cli.VERSION)
    assert streamed == json.loads(json.dumps(expected))
    assert len(streamed["violations"]) == 13


OVERRIDES = {
    "pyproject.toml": '[tool.ssot]\nmode = "warn"\nallow_function_tests = true\n',
    "tests/__init__.py": "",
    "tests/conftest.py": """
        import os

        import pytest

        @pytest.fixture
        def settings():
            return os.getenv("SETTINGS")

        @pytest.fixture
        def chain(settings):
            return settings

        @pytest.fixture(autouse=True)
        def always():
            os.environ.get("ALWAYS")
    """,
    "tests/bases.py": """
        import pytest

        class OverridesSettings:
            @pytest.fixture
            def settings(self):
                return {}
    """,
    "tests/test_module.py": """
        import pytest

        @pytest.fixture
        def settings():
            return {}

        @pytest.fixture
        def always():
            pass

        def test_overridden(settings):
            pass

        def test_chain_reaches_the_override(chain):
            pass
    """,
    "tests/test_classes.py": """
        import os

        import pytest

        from tests.bases import OverridesSettings

        class TestOverride:
            @pytest.fixture
            def settings(self):
                return {}

            def test_overridden(self, settings):
                pass

            def test_chain_reaches_the_override(self, chain):
                pass

        class TestInheritedOverride(OverridesSettings):
            def test_overridden(self, settings):
                pass

        class TestExtend:
            @pytest.fixture
            def settings(self, settings):
                return settings

            def test_extended(self, settings):
                pass

        def test_conftests(settings):
            pass

        @pytest.mark.parametrize("chain", [1])
        def test_parametrized_not_run(chain):
            pass

        @pytest.mark.parametrize("chain", [1], indirect=True)
        def test_parametrized_indirectly(chain):
            pass

        @pytest.mark.parametrize("settings", [1])
        def test_settings_parametrized(settings):
            pass

        @pytest.mark.parametrize("settings, chain", [(1, 2)], indirect=["chain"])
        def test_settings_given_to_the_indirect_chain(settings, chain):
            pass

        @pytest.fixture
        def local():
            return os.environ.get("LOCAL")

        @pytest.mark.parametrize("local", [1])
        def test_local_parametrized(local):
            pass

        def test_local(local):
            pass
    """,
    "tests/sub/__init__.py": "",
    "tests/sub/conftest.py": """
        import pytest

        @pytest.fixture
        def settings(settings):
            return settings
    """,
    "tests/sub/test_extended.py": """
        import pytest

        def test_extended_by_the_conftest(settings):
            pass

        class TestReplacesTheExtension:
            @pytest.fixture
            def settings(self):
                return 1

            def test_replaced(self, settings):
                pass
    """,
    "tests/deeper/__init__.py": "",
    "tests/deeper/conftest.py": """
        import pytest

        @pytest.fixture
        def settings():
            return 1
    """,
    "tests/deeper/test_deeper.py": "def test_deeper_override(chain):\n    pass\n",
}


def test_cli_and_plugin_agree_on_conftest_fixtures_overridden_nearer_the_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, OVERRIDES)
    plugin = plugin_report(tmp_path)
    static_check = cli_report(tmp_path, monkeypatch)
    assert_agree(plugin, static_check)
    by_line = {(v["path"], v["line"]): v["nodeids"] for v in static_check["violations"]}
    # The conftest's `settings` runs only where no nearer definition replaces it.
    assert by_line["tests/conftest.py", 7] == [
        "tests/sub/test_extended.py::test_extended_by_the_conftest",
        "tests/test_classes.py::TestExtend::test_extended",
        "tests/test_classes.py::test_conftests",
        "tests/test_classes.py::test_parametrized_indirectly[1]",
    ]
    # An autouse fixture overridden in a module no longer runs there.
    assert not any("test_module.py" in n for n in by_line["tests/conftest.py", 15])
    # A fixture whose name a test parametrizes directly does not run for it.
    source = (tmp_path / "tests/test_classes.py").read_text(encoding="utf-8").splitlines()
    local = source.index('    return os.environ.get("LOCAL")') + 1
    assert by_line["tests/test_classes.py", local] == ["tests/test_classes.py::test_local"]


IGNORED_BY_CONFTESTS = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.ssot]
        mode = "warn"
        allow_function_tests = true
    """,
    "tests/conftest.py": """
        import sys

        collect_ignore = ["test_retired.py", "vendored"]
        collect_ignore.append("deeper/test_outer_only.py")
        if sys.version_info >= (3, 8):
            collect_ignore_glob = ["*_legacy.py"]
        if sys.platform == "no-such-platform":
            collect_ignore.append("test_kept.py")
    """,
    # Nearer, and defining its own list: the outer entry for this directory no longer applies.
    "tests/deeper/conftest.py": "collect_ignore = []\n",
    "tests/deeper/test_outer_only.py": """
        import os

        def test_deeper():
            assert os.environ.get("DEEPER") is None
    """,
    "tests/test_kept.py": """
        import os

        def test_kept():
            assert os.environ.get("KEPT") is None
    """,
    "tests/test_retired.py": """
        import os

        def test_retired():
            os.environ["RETIRED"] = "1"
    """,
    "tests/test_old_legacy.py": """
        import os

        def test_legacy():
            os.environ["LEGACY"] = "1"
    """,
    "tests/vendored/test_vendored.py": """
        import os

        def test_vendored():
            os.environ["VENDORED"] = "1"
    """,
}


def test_cli_and_plugin_agree_on_files_conftests_keep_from_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, IGNORED_BY_CONFTESTS)
    plugin = plugin_report(tmp_path)
    static_check = cli_report(tmp_path, monkeypatch)
    assert_agree(plugin, static_check)
    assert static_check["summary"]["tests"] == 2
    assert {v["path"] for v in static_check["violations"]} == {
        "tests/deeper/test_outer_only.py",
        "tests/test_kept.py",
    }


REACHED_AT_RUN_TIME = {
    "pyproject.toml": """
        [tool.ssot]
        mode = "strict"
        allow_function_tests = true
        baseline = "ssot-baseline.json"
    """,
    "tests/conftest.py": """
        import os

        import pytest

        @pytest.fixture
        def dynamic():
            return os.getenv("DYNAMIC")
    """,
    "tests/test_dynamic.py": """
        import os

        import pytest

        @pytest.fixture
        def local():
            return os.environ.get("LOCAL")

        def test_reaches_them(request):
            request.getfixturevalue("dynamic")
            request.getfixturevalue("local")

        def test_other():
            pass
    """,
}


def test_the_ratchet_holds_for_static_violations_only_a_test_run_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Fixtures reached only through request.getfixturevalue: the plugin attributes their
    # static violations when the test runs and baselines them; ssot check sees them in the
    # code but can attribute them to no test. It must neither call them stale nor drop them.
    write(tmp_path, REACHED_AT_RUN_TIME)
    baseline = tmp_path / "ssot-baseline.json"
    written = run_plugin(tmp_path, "--ssot-mode=warn", "--ssot-update-baseline")
    assert written.returncode == 0, written.stdout + written.stderr
    entries = json.loads(baseline.read_text(encoding="utf-8"))["entries"]
    assert sorted((e["path"], e["scope"]) for e in entries) == [
        ("tests/conftest.py", "dynamic"),
        ("tests/test_dynamic.py", "local"),
    ]

    checked = cli_report(tmp_path, monkeypatch)
    assert checked["stale"] == []
    assert cli.main(["baseline", "--jobs", "1", "--no-cache"]) == 0
    assert "2 entries" in capsys.readouterr().out
    assert json.loads(baseline.read_text(encoding="utf-8"))["entries"] == entries
    strict = run_plugin(tmp_path)
    assert strict.returncode == 0, strict.stdout + strict.stderr

    # Fixed in the code: now the entry is stale, and the next baseline drops it.
    conftest = tmp_path / "tests" / "conftest.py"
    conftest.write_text(conftest.read_text().replace('os.getenv("DYNAMIC")', "None"))
    checked = cli_report(tmp_path, monkeypatch)
    assert [e["scope"] for e in checked["stale"]] == ["dynamic"]
    assert cli.main(["baseline", "--jobs", "1", "--no-cache"]) == 0
    assert json.loads(baseline.read_text(encoding="utf-8"))["entries"] == entries[1:]


def test_cli_and_plugin_agree_on_classes_of_installed_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A framework installed outside the project: its SSOT base class (the configured goal,
    # imported into a test module, so pytest collects it too), a test class with an
    # __init__, and one with a test to inherit. The CLI reads them from their source.
    site = tmp_path / "site-packages"
    write(
        site,
        {
            "frame/__init__.py": "from .cases import TestCase\n",
            "frame/cases.py": """
                import unittest


                class Mixin:
                    def test_from_mixin(self):
                        pass


                class TestCase(Mixin, unittest.TestCase):
                    pass


                class TestClient:
                    def __init__(self, app):
                        self.app = app


                class TestBase:
                    def test_inherited(self):
                        pass
            """,
        },
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # for the plugin's pytest run
    project = tmp_path / "project"
    write(
        project,
        {
            "pyproject.toml": """
                [tool.ssot]
                base_classes = ["frame:TestCase"]
            """,
            "tests/test_app.py": """
                from frame import TestCase
                from frame.cases import TestBase, TestClient


                class UserViewTests(TestCase):
                    def test_view(self):
                        pass


                class TestWithClient(TestClient):
                    def test_x(self):
                        pass


                class TestInherits(TestBase):
                    def test_own(self):
                        pass
            """,
        },
    )
    plugin = plugin_report(project)
    static_check = cli_report(project, monkeypatch)
    assert plugin["summary"]["tests"] == 6
    assert {v["nodeids"][0] for v in static(plugin).values()} == {
        "tests/test_app.py::TestBase::test_inherited",
        "tests/test_app.py::TestInherits::test_inherited",
    }
    # The installed class pytest collects in the test module is reported where the module
    # imports it, never at a path outside the project (which differs between machines, and
    # with it the fingerprint a baseline holds).
    assert {key[:3] for key in static(plugin)} == {
        ("SSOT001", "tests/test_app.py", 2),
        ("SSOT001", "tests/test_app.py", 15),
    }
    assert_agree(plugin, static_check)
    assert static_check["unresolved"] == []


FIXTURE_ALIAS = """
    import os

    import pytest

    fixture = pytest.fixture

    @fixture
    def token():
        return os.getenv("TOKEN")

    @fixture(name="region")
    def _region():
        return os.getenv("REGION")
"""
# A decorator a fixture call made: the call's keywords (its `name`) apply to each use.
CONFIGURED_FIXTURE_DECORATORS = """
    import os

    import pytest

    module_fixture = pytest.fixture(scope="module")
    region_fixture = pytest.fixture(name="region")

    @module_fixture
    def token():
        return os.getenv("TOKEN")

    @region_fixture
    def _region():
        return os.getenv("REGION")
"""


@pytest.mark.parametrize(
    ("conftest", "token_line", "region_line"),
    [(FIXTURE_ALIAS, 9, 13), (CONFIGURED_FIXTURE_DECORATORS, 10, 14)],
    ids=["alias", "configured"],
)
def test_a_fixture_decorated_through_a_bound_name_affects_only_its_users(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    conftest: str,
    token_line: int,
    region_line: int,
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.ssot]\nmode = "warn"\nallow_function_tests = true\n',
            "conftest.py": conftest,
            "test_a.py": """
                def test_token(token):
                    pass

                def test_region(region):
                    pass

                def test_neither():
                    pass
            """,
        },
    )
    plugin = plugin_report(tmp_path)
    static_check = cli_report(tmp_path, monkeypatch)
    assert_agree(plugin, static_check)
    by_line = {v["line"]: v["nodeids"] for v in plugin["violations"]}
    assert by_line == {
        token_line: ["test_a.py::test_token"],
        region_line: ["test_a.py::test_region"],
    }
