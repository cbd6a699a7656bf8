"""What a session costs before it checks anything: the modules it imports.

Importing the plugin is most of what it adds to a pytest run of a few files (each frozen
dataclass alone takes the best part of a millisecond to create), so the modules only some
sessions use are imported by those sessions, when they use them.
"""

from __future__ import annotations

import json
import textwrap
from importlib.metadata import version
from typing import Any

import pytest

import pytest_ssot

# Written by the inner session's own conftest as it ends: which pytest_ssot modules it loaded,
# and whether the run-time guard was set up.
RECORDER = """\
import json
import sys


def pytest_unconfigure(config):
    loaded = sorted(name for name in sys.modules if name.startswith("pytest_ssot"))
    guarded = config.pluginmanager.has_plugin("ssot-guard")
    with open("loaded.json", "w", encoding="utf-8") as handle:
        json.dump({"modules": loaded, "guarded": guarded}, handle)
"""

SOURCE = """\
[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-http"
forbid = ["product.raw_get"]
use = "the team's http client"
runtime = true
"""


def _session(pytester: pytest.Pytester, config: str, *args: str) -> dict[str, Any]:
    pytester.makepyprojecttoml(
        '[tool.ssot]\nmode = "warn"\nbase_classes = ["tests_base:Base"]\n\n' + config
    )
    pytester.makepyfile(
        conftest=RECORDER,
        product="def raw_get():\n    return 1\n",
        tests_base="class Base:\n    pass\n",
        test_one=textwrap.dedent(
            """\
            from tests_base import Base


            class TestOne(Base):
                def test_one(self):
                    assert True
            """
        ),
    )
    result = pytester.runpytest_subprocess("-p", "ssot", "-p", "no:randomly", *args)
    assert result.ret == 0, result.stdout.str()
    recorded: dict[str, Any] = json.loads((pytester.path / "loaded.json").read_text("utf-8"))
    return recorded


def _loaded(pytester: pytest.Pytester, config: str, *args: str) -> list[str]:
    modules: list[str] = _session(pytester, config, *args)["modules"]
    return modules


@pytest.mark.parametrize("args", [(), ("--collect-only",)], ids=["run", "collect-only"])
def test_a_session_without_runtime_sources_never_imports_their_guard(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    loaded = _loaded(pytester, "", *args)

    assert "pytest_ssot.plugin" in loaded  # the recorder saw the plugin's session
    assert "pytest_ssot.sourceguard" not in loaded


def test_a_session_with_runtime_sources_imports_their_guard(pytester: pytest.Pytester) -> None:
    assert "pytest_ssot.sourceguard" in _loaded(pytester, SOURCE)


def test_a_session_that_starts_no_scanning_helper_never_imports_its_parts(
    pytester: pytest.Pytester,
) -> None:
    # One test file: far fewer than a helper is started for. The helper's heap tuning loads
    # ctypes, which the plugin's own process has no use for.
    loaded = _loaded(pytester, "")

    assert "pytest_ssot.prescan" in loaded
    assert "pytest_ssot.heap" not in loaded


@pytest.mark.parametrize(
    ("args", "guarded"), [((), True), (("--collect-only",), False)], ids=["run", "collect-only"]
)
def test_the_run_time_guard_is_set_up_only_for_sessions_that_run_tests(
    pytester: pytest.Pytester, args: tuple[str, ...], guarded: bool
) -> None:
    assert _session(pytester, SOURCE, *args)["guarded"] is guarded


def test_the_package_version_is_the_installed_distribution_s() -> None:
    # The package says its version without asking the metadata; the build reads it from the
    # same place, so an installed copy and the package agree.
    assert pytest_ssot.__version__ == version("pytest-ssot")
