"""The static rules: every shape of SSOT002, SSOT003 and SSOT004(b), from source to findings."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.cache import ScanCache
from pytest_ssot.config import Config
from pytest_ssot.model import Finding
from pytest_ssot.rules import (
    AD_HOC_MOCK,
    DIRECT_ENVIRON_ACCESS,
    NON_SSOT_TEST_CLASS,
    RUNTIME_ENVIRON_ACCESS,
    UNIFIED_RUNNER_BYPASS,
    RuleSet,
    builtin_rules,
    check_file,
)
from pytest_ssot.scanner import scan


def _ruleset(**config: Any) -> RuleSet:
    return RuleSet(tuple(builtin_rules(Config(root=Path("/p"), **config))))


def _findings(source: str, path: str = "tests/test_x.py", **config: Any) -> list[Finding]:
    ruleset = _ruleset(**config)
    data = textwrap.dedent(source).lstrip("\n").encode()
    return ruleset.check(scan(data, path, ruleset.watched))


def _codes(source: str, **config: Any) -> list[tuple[str, int]]:
    return sorted((f.code, f.line) for f in _findings(source, **config))


# -- SSOT002 direct-environ-access -----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        'import os\nos.environ["A"] = "1"',
        'import os\nos.environ.get("A")',
        'import os\ndel os.environ["A"]',
        'import os\nif "A" in os.environ: pass',
        'import os\nos.environ.pop("A", None)',
        "import os\nos.environb",
        'import os\nos.getenv("A")',
        'import os\nos.getenvb(b"A")',
        'import os\nos.putenv("A", "1")',
        'import os\nos.unsetenv("A")',
        'import os as o\no.environ["A"]',
        'from os import environ as E\nE.get("A")',
        'from os import getenv\ngetenv("A")',
        'import os\nenv = os.environ\nenv.get("A")',
        'import os\ngetattr(os, "environ")',
        'from os import *\nenviron["A"]',
        'from unittest.mock import patch\npatch.dict("os.environ", {"A": "1"})',
        'import mock\nmock.patch("os.getenv")',
        'import pytest\npytest.MonkeyPatch().setattr("os.environ", {})',
    ],
)
def test_it_reports_each_shape_of_direct_environ_access(source: str) -> None:
    env = [f for f in _findings(source) if f.code == "SSOT002"]
    assert len(env) == 1, env
    assert env[0].line == source.count("\n") + 1


def test_it_reports_patch_object_on_the_os_module() -> None:
    assert _codes(
        """
        import os
        from unittest import mock
        def test_a():
            with mock.patch.object(os, "environ", {}):
                pass
        """
    ) == [("SSOT002", 4), ("SSOT003", 4)]


def test_it_reports_patch_dict_of_os_environ_as_both_environ_and_mock() -> None:
    findings = _findings(
        """
        import os
        from unittest import mock
        @mock.patch.dict(os.environ, {"A": "1"})
        def test_a():
            pass
        """
    )
    assert sorted((f.code, f.line, f.message.split(" ")[0]) for f in findings) == [
        ("SSOT002", 3, "os.environ"),
        ("SSOT003", 3, "unittest.mock.patch.dict"),
    ]


def test_it_reports_monkeypatch_setenv_and_delenv_on_the_fixture_and_contexts() -> None:
    findings = _findings(
        """
        import pytest

        def test_fixture(monkeypatch):
            monkeypatch.setenv("A", "1")
            monkeypatch.delenv("B", raising=False)
            monkeypatch.setattr("chat.settings.URL", "x")

        def test_context():
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("C", "1")
        """
    )
    assert [(f.code, f.line) for f in findings] == [
        ("SSOT002", 4),
        ("SSOT002", 5),
        ("SSOT002", 10),
    ]
    assert findings[0].message.startswith("monkeypatch.setenv() changes os.environ; use ")


def test_text_about_the_environment_is_never_a_violation() -> None:
    assert (
        _codes(
            '''
        """Never call os.environ["A"] or os.getenv() in a test; never mock.patch it."""
        import os  # os.environ.get("A") used to be here; from unittest.mock import MagicMock

        def test_a():
            """monkeypatch.setenv("A", "1") is also wrong."""
            assert "os.environ" != 'mock.patch("os.getenv")'
            assert os.sep
        '''
        )
        == []
    )


def test_the_environ_message_names_the_configured_isolated_environment() -> None:
    (finding,) = _findings('import os\nos.environ["A"]', env_modules=("fw.env",))
    assert finding.message == (
        "os.environ accessed directly; use the isolated-environment API (fw.env) instead"
    )


def test_env_modules_themselves_may_touch_the_environment() -> None:
    source = 'import os\nos.environ["A"] = "1"'
    assert _findings(source, path="fw/env.py", env_modules=("fw.env",)) == []
    assert _findings(source, path="src/fw/env.py", env_modules=("fw.env",)) == []
    assert len(_findings(source, path="tests/test_env.py", env_modules=("fw.env",))) == 1


# -- SSOT003 ad-hoc-mock ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from unittest.mock import MagicMock", [1]),
        ("from unittest.mock import MagicMock\nMagicMock()\nMagicMock()", [2, 3]),
        ("from unittest import mock\nmock.patch('x.y')", [2]),
        ("import unittest.mock\nunittest.mock.Mock()", [2]),
        ("import unittest.mock", [1]),
        ("import unittest.mock as um\num.AsyncMock()", [2]),
        ("import mock\nmock.Mock()", [2]),
        ("from mock import patch\n@patch('x.y')\ndef test_a(p): pass", [2]),
        ("import pytest_mock", [1]),
        ("from unittest.mock import *", [1]),
        ("from mock import *", [1]),
        ("def test_a(mocker): pass", [1]),
        ("def test_a(class_mocker): pass", [1]),
        ("def test_a(module_mocker): pass", [1]),
        ("def test_a(package_mocker): pass", [1]),
        ("def test_a(session_mocker): pass", [1]),
        ("import pytest\n@pytest.mark.usefixtures('mocker')\ndef test_a(): pass", [2]),
        ("def test_a(request):\n    request.getfixturevalue('mocker')", [2]),
    ],
)
def test_it_reports_each_shape_of_ad_hoc_mocking(source: str, expected: list[int]) -> None:
    assert _codes(source) == [("SSOT003", line) for line in expected]


@pytest.mark.parametrize(
    "source",
    [
        "from unittest.mock import ANY, call, sentinel, DEFAULT\nx = [ANY, call(1), sentinel.a]",
        "from unittest import mock\nassert mock.ANY == 1\nmock.call(1)",
        "from unittest import mock\nANYTHING = mock.ANY",
        "import mock\nmock.sentinel.value",
        "from unittest.mock import call as c\nc(1)",
    ],
)
def test_mock_allowed_names_are_not_mocks(source: str) -> None:
    assert _codes(source) == []


def test_mock_allowed_names_are_configurable() -> None:
    source = "from unittest.mock import ANY, MagicMock\nANY\nMagicMock()"
    assert _codes(source, mock_allowed_names=("ANY", "MagicMock")) == []
    assert _codes(source, mock_allowed_names=()) == [("SSOT003", 2), ("SSOT003", 3)]


def test_mock_modules_may_build_mocks_and_tests_may_use_them() -> None:
    factory = "from unittest import mock\ndef client():\n    return mock.MagicMock()"
    assert _findings(factory, path="fw/mocks.py", mock_modules=("fw.mocks",)) == []
    user = "from fw.mocks import client\nfrom fw import mocks\nclient()\nmocks.client()"
    assert _findings(user, mock_modules=("fw.mocks",)) == []
    (finding,) = _findings(factory, mock_modules=("fw.mocks",))
    assert finding.message == (
        "unittest.mock.MagicMock is an ad-hoc mock; use the mock factory (fw.mocks) instead"
    )


def test_the_mocker_message_names_the_fixture() -> None:
    (finding,) = _findings("def test_a(session_mocker): pass")
    assert finding.message.startswith(
        "the pytest-mock 'session_mocker' fixture builds ad-hoc mocks; "
    )


# -- SSOT004 unified-runner-bypass (b) -------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "call"),
    [
        ("import pytest\n    pytest.main([__file__])", "pytest.main"),
        ("import sys, pytest\n    sys.exit(pytest.main(['-q', __file__]))", "pytest.main"),
        ("from pytest import main\n    main()", "pytest.main"),
        ("import unittest\n    unittest.main()", "unittest.main"),
        ("from unittest import main\n    main(verbosity=2)", "unittest.main"),
        (
            "import subprocess, sys\n    subprocess.run([sys.executable, '-m', 'pytest'])",
            "subprocess.run (pytest)",
        ),
        ("import subprocess\n    subprocess.call('pytest -q', shell=True)", "subprocess.call"),
        ("import os\n    os.system('python -m pytest tests')", "os.system (pytest)"),
    ],
)
def test_it_reports_test_modules_that_run_themselves(block: str, call: str) -> None:
    source = f'if __name__ == "__main__":\n    {block}\n'
    findings = _findings(source, runner="unified")
    assert [(f.code, f.line) for f in findings] == [("SSOT004", 1)]
    assert call in findings[0].message
    assert findings[0].message.endswith(
        "remove the block and run the suite with the unified runner (unified)"
    )


def test_a_main_block_that_does_something_else_is_fine() -> None:
    assert (
        _codes(
            """
        import sys

        def demo():
            print("demo")

        if __name__ == "__main__":
            demo()
            sys.exit(0)
        """
        )
        == []
    )


def test_the_runner_bypass_message_works_without_a_configured_runner() -> None:
    (finding,) = _findings('import pytest\nif __name__ == "__main__":\n    pytest.main()')
    assert finding.message.endswith("remove the block and run it through the unified test runner")


# -- the rule set ----------------------------------------------------------------------------


def test_the_builtin_rules_document_every_code() -> None:
    infos = _ruleset().infos
    assert list(infos) == ["SSOT001", "SSOT002", "SSOT003", "SSOT004", "SSOT102"]
    assert [i.name for i in infos.values()] == [
        "non-ssot-test-class",
        "direct-environ-access",
        "ad-hoc-mock",
        "unified-runner-bypass",
        "runtime-environ-access",
    ]
    for info in (
        NON_SSOT_TEST_CLASS,
        DIRECT_ENVIRON_ACCESS,
        AD_HOC_MOCK,
        UNIFIED_RUNNER_BYPASS,
        RUNTIME_ENVIRON_ACCESS,
    ):
        assert all((info.summary, info.why, info.example, info.use_instead))


def test_the_rule_set_watches_every_environment_and_mock_name() -> None:
    assert set(_ruleset().watched) >= {
        "os.environ",
        "os.environb",
        "os.getenv",
        "os.getenvb",
        "os.putenv",
        "os.unsetenv",
        "unittest.mock",
        "mock",
        "pytest_mock",
    }


def test_a_file_that_does_not_parse_has_no_findings_only_an_error() -> None:
    ruleset = _ruleset()
    facts = scan(b"import os\nos.environ[\n", "tests/test_x.py", ruleset.watched)
    assert facts.error is not None
    assert ruleset.check(facts) == []


def test_the_cache_salt_changes_with_what_is_watched() -> None:
    assert _ruleset().cache_salt() != RuleSet(_ruleset().rules[:2]).cache_salt()
    assert _ruleset().cache_salt() != _ruleset().cache_salt(full=True)


def test_check_file_turns_an_unreadable_file_into_an_error(tmp_path: Path) -> None:
    facts, findings = check_file(tmp_path / "missing.py", "missing.py", _ruleset())
    assert facts.error is not None
    assert facts.error.startswith("cannot be read")
    assert findings == []


def test_check_file_gives_the_same_findings_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "test_a.py"
    path.write_text('import os\nos.environ["A"]\nfrom unittest.mock import MagicMock\n')
    ruleset = _ruleset()
    cache = ScanCache(tmp_path / "cache", ruleset.cache_salt())
    first = check_file(path, "test_a.py", ruleset, cache)
    second = check_file(path, "test_a.py", ruleset, cache)
    assert cache.hits == 1
    assert first == second
    assert [(f.code, f.line) for f in second[1]] == [("SSOT002", 2), ("SSOT003", 3)]
