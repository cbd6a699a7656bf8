"""The plugin end to end: loading, SSOT001 on real classes, bad input, what is counted."""

from __future__ import annotations

import gc
import json
import textwrap
from typing import Any

import pytest

BASES = {
    "fw/__init__.py": "",
    "fw/base.py": """
        import unittest

        class SSotBaseTestCase(unittest.TestCase):
            pass

        class SSotAsyncTestCase(unittest.IsolatedAsyncioTestCase):
            pass

        # Same name as the legacy classes below, but derived from the SSOT base.
        class BaseTestCase(SSotBaseTestCase):
            pass

        NOT_A_CLASS = 3
    """,
    "legacy/__init__.py": "",
    "legacy/plain.py": """
        class BaseTestCase:
            pass
    """,
    "legacy/unit.py": """
        import unittest

        class BaseTestCase(unittest.TestCase):
            pass
    """,
}


def _write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _project(pytester: pytest.Pytester, ssot: str, files: dict[str, str]) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\npythonpath = ["."]\n\n[tool.ssot]\n'
        + textwrap.dedent(ssot).lstrip("\n")
    )
    _write(pytester, {**BASES, **files})


def _report(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:ssot.json", *args)
    report: dict[str, Any] = json.loads((pytester.path / "ssot.json").read_text())
    return result, report


def _affected(report: dict[str, Any], code: str) -> set[str]:
    return {n for v in report["violations"] if v["code"] == code for n in v["nodeids"]}


# -- loading ---------------------------------------------------------------------------------


def test_the_plugin_loads_by_name_and_says_so_in_the_header(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    result.stdout.fnmatch_lines(["ssot: mode warn (pyproject.toml)", "*= SSOT compliance =*"])
    assert result.ret == pytest.ExitCode.OK


def test_no_ssot_disables_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(test_a="import os\ndef test_a():\n    os.environ.get('A')\n")
    result = pytester.runpytest("-p", "no:ssot")
    result.assert_outcomes(passed=1)
    assert "SSOT compliance" not in result.stdout.str()
    assert "ssot: mode" not in result.stdout.str()


def test_the_plugin_loads_under_disabled_autoload(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(test_a="import os\ndef test_a():\n    os.environ.get('A')\n")
    result = pytester.runpytest_subprocess("-p", "ssot")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*SSOT002 test_a.py:3 os.environ.get accessed directly*"])


def test_the_warning_class_is_a_pytest_warning() -> None:
    import pytest_ssot

    assert issubclass(pytest_ssot.SSOTWarning, pytest.PytestWarning)
    assert pytest_ssot.SSOTWarning.__module__ == "pytest_ssot"


# -- SSOT001 on the real classes -------------------------------------------------------------


CLASSES = {
    "test_classes.py": """
        import unittest

        from fw.base import BaseTestCase as FwBaseTestCase
        from fw.base import SSotAsyncTestCase
        from fw.base import SSotBaseTestCase as Base
        from legacy.plain import BaseTestCase as PlainBaseTestCase
        from legacy.unit import BaseTestCase

        SSOT = Base

        class Mixin:
            pass

        class Intermediate(Base):
            pass

        class TestAliased(SSOT):
            def test_a(self):
                pass

        class TestMixin(Mixin, Base):
            def test_a(self):
                pass

        class TestIntermediate(Intermediate):
            def test_a(self):
                pass

        class TestSameNameButSsot(FwBaseTestCase):
            def test_a(self):
                pass

        class TestAsync(SSotAsyncTestCase):
            async def test_a(self):
                pass

        class TestSameNameUnittest(BaseTestCase):
            def test_a(self):
                pass

            def test_b(self):
                pass

        class TestSameNamePlain(PlainBaseTestCase):
            def test_a(self):
                pass

        class TestUnittest(unittest.TestCase):
            def test_a(self):
                pass

        class TestPlain:
            def test_a(self):
                pass

        def test_function():
            pass
    """,
}


def test_ssot001_is_decided_on_the_real_classes(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        'base_classes = ["fw.base:SSotBaseTestCase", "fw.base:SSotAsyncTestCase"]\n',
        CLASSES,
    )
    result, report = _report(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert _affected(report, "SSOT001") == {
        "test_classes.py::TestSameNameUnittest::test_a",
        "test_classes.py::TestSameNameUnittest::test_b",
        "test_classes.py::TestSameNamePlain::test_a",
        "test_classes.py::TestUnittest::test_a",
        "test_classes.py::TestPlain::test_a",
        "test_classes.py::test_function",
    }
    # One violation per class (at its definition) and per function, not per test.
    lines = sorted(
        (v["line"], v["message"].split(";")[0], v["nodeids"][-1]) for v in report["violations"]
    )
    not_derived = "does not inherit from an SSOT base class"
    assert lines == [
        (
            37,
            f"test class TestSameNameUnittest {not_derived}",
            "test_classes.py::TestSameNameUnittest::test_b",
        ),
        (
            44,
            f"test class TestSameNamePlain {not_derived}",
            "test_classes.py::TestSameNamePlain::test_a",
        ),
        (48, f"test class TestUnittest {not_derived}", "test_classes.py::TestUnittest::test_a"),
        (52, f"test class TestPlain {not_derived}", "test_classes.py::TestPlain::test_a"),
        (56, "test function is not in an SSOT test class", "test_classes.py::test_function"),
    ]
    assert report["summary"]["tests"] == 11
    assert report["summary"]["compliant"] == 5


def test_allow_function_tests_lets_module_level_functions_pass(
    pytester: pytest.Pytester,
) -> None:
    _project(
        pytester,
        'base_classes = ["fw.base:SSotBaseTestCase"]\nallow_function_tests = true\n',
        {
            "test_f.py": """
                import pytest

                def test_function():
                    pass

                @pytest.mark.parametrize("x", [1, 2])
                def test_parametrized(x):
                    pass

                class TestPlain:
                    def test_a(self):
                        pass
            """
        },
    )
    _, report = _report(pytester)
    assert _affected(report, "SSOT001") == {"test_f.py::TestPlain::test_a"}


def test_ssot001_is_inactive_without_base_classes(pytester: pytest.Pytester) -> None:
    _project(pytester, 'mode = "strict"\n', CLASSES)
    result, report = _report(pytester)
    assert report["violations"] == []
    result.assert_outcomes(passed=11)


def test_a_path_option_that_moved_pytests_rootdir_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\n\n[tool.ssot]\nmode = "strict"\n')
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    empty = '{"version": 1, "entries": []}\n'
    outside = pytester.path.parent / f"{pytester.path.name}-ci" / "baseline.json"
    outside.parent.mkdir()
    outside.write_text(empty)
    # pytest chooses its rootdir before it knows plugin options: the value looks like a test
    # path, outside the project, so the project's configuration would silently not apply.
    result = pytester.runpytest("-p", "ssot", "--ssot-baseline", str(outside))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: pytest-ssot: pytest took `--ssot-baseline {outside}` for a test path when "
            "it chose its rootdir (*), so it did not read "
            f"{pytester.path / 'pyproject.toml'}; write `--ssot-baseline={outside}`*"
        ]
    )
    # As one argument it is no test path: the project's configuration applies.
    result = pytester.runpytest("-p", "ssot", f"--ssot-baseline={outside}")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["ssot: mode strict (pyproject.toml), baseline 0 known"])
    # A path inside the project leaves the rootdir where it is: two arguments are fine.
    inside = pytester.path / "baseline.json"
    inside.write_text(empty)
    result = pytester.runpytest("-p", "ssot", "--ssot-baseline", str(inside))
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["ssot: mode strict (pyproject.toml), baseline 0 known"])


def test_a_base_class_that_cannot_be_imported_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _project(
        pytester,
        'base_classes = ["fw.base:SSotBaseTestCase", "fw.nowhere:Base"]\n',
        {"test_a.py": "def test_a(): pass\n"},
    )
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: *pyproject.toml: base_classes entry 'fw.nowhere:Base' cannot be imported*"]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_a_usage_error_while_collecting_writes_nothing_and_keeps_the_baseline(
    pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    # The base class is imported once the tests are collected: a typo there stops pytest,
    # and what the stopped session found must not replace the baseline's entries.
    files = {
        "test_a.py": "class TestPlain:\n    def test_a(self): pass\n",
        "boom.py": 'raise SystemExit("set DATABASE_URL first")\n',
    }
    _project(pytester, 'base_classes = ["fw.base:SSotBaseTestCase"]\n', files)
    pytester.runpytest("-p", "ssot", "--ssot-baseline", "bl.json", "--ssot-update-baseline")
    baseline = (pytester.path / "bl.json").read_text()
    assert '"SSOT001"' in baseline
    for entry, why in [
        ("fw.base:SSotBaseTestCas", "AttributeError"),
        ("boom:Base", "SystemExit: set DATABASE_URL first"),
    ]:
        _project(pytester, f'base_classes = ["{entry}"]\n', files)
        result = pytester.runpytest(
            "-p", "ssot", "--ssot-baseline", "bl.json", "--ssot-update-baseline",
            "--ssot-report", "json:report.json", *xdist,
        )  # fmt: skip
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: *base_classes entry '{entry}' *({why}*"])
        output = result.stdout.str() + result.stderr.str()
        assert "INTERNALERROR" not in output
        assert "SSOT compliance" not in output
        assert (pytester.path / "bl.json").read_text() == baseline
        assert not (pytester.path / "report.json").exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("fw.base:Missing", "base_classes entry 'fw.base:Missing' cannot be imported"),
        ("fw.base:NOT_A_CLASS", "base_classes entry 'fw.base:NOT_A_CLASS' is not a class"),
    ],
)
def test_a_base_class_entry_that_is_not_a_class_is_a_usage_error(
    pytester: pytest.Pytester, entry: str, message: str
) -> None:
    _project(pytester, f'base_classes = ["{entry}"]\n', {"test_a.py": "def test_a(): pass\n"})
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


# -- bad input -------------------------------------------------------------------------------


def test_files_that_do_not_parse_are_listed_as_unchecked_never_a_crash(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, 'mode = "strict"\n', {"test_ok.py": "def test_ok(): pass\n"})
    (pytester.path / "test_syntax.py").write_text("import os\nclass TestA\n    pass\n")
    (pytester.path / "test_latin.py").write_bytes(b"x = '\xe9t\xe9'\ndef test_a(): pass\n")
    (pytester.path / "test_nul.py").write_bytes(b"import os\0\ndef test_a(): pass\n")
    (pytester.path / "test_deep.py").write_text(
        "x = " + "(" * 300 + "1" + ")" * 300 + "\ndef test_a(): pass\n"
    )
    (pytester.path / "test_deeper.py").write_text(
        "x = " + "-" * 100_000 + "1\ndef test_a(): pass\n"
    )
    result, report = _report(pytester, "--continue-on-collection-errors")
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    result.assert_outcomes(passed=1, errors=5)
    for name in ("test_syntax", "test_latin", "test_nul", "test_deep", "test_deeper"):
        assert f"ERROR collecting {name}.py" in output
    unchecked = {u["path"]: u["reason"] for u in report["unchecked"]}
    assert set(unchecked) == {
        "test_syntax.py",
        "test_latin.py",
        "test_nul.py",
        "test_deep.py",
        "test_deeper.py",
    }
    assert unchecked["test_syntax.py"].startswith("syntax error (line 2)")
    assert "utf-8" in unchecked["test_latin.py"]
    assert unchecked["test_nul.py"] == "contains NUL bytes"
    assert "nested" in unchecked["test_deep.py"]
    result.stdout.fnmatch_lines(
        [
            "compliance 100.0% (1/1 checked tests compliant) [incomplete: 5 collection error(s)]",
            "*",
            "unchecked files 5:",
            "  test_deep.py: *",
            "  test_deeper.py: *",
            "  test_latin.py: *",
            "  test_nul.py: *",
            "  test_syntax.py: syntax error (line 2)*",
        ],
        consecutive=False,
    )


def test_a_collection_error_without_continue_still_shows_the_unchecked_file(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, 'mode = "warn"\n', {"test_ok.py": "def test_ok(): pass\n"})
    (pytester.path / "test_broken.py").write_text("def test_a(:\n    pass\n")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*ERROR collecting test_broken.py*", "unchecked files 1:", "  test_broken.py: *"],
        consecutive=False,
    )
    assert "INTERNALERROR" not in result.stdout.str()


def test_a_file_that_imports_badly_is_unchecked_with_a_pointer_to_the_error(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, 'mode = "warn"\n', {"test_ok.py": "def test_ok(): pass\n"})
    (pytester.path / "test_import.py").write_text("import no_such_module\n")
    _, report = _report(pytester, "--continue-on-collection-errors")
    assert report["unchecked"] == [
        {"path": "test_import.py", "reason": "failed to import (see errors)"}
    ]


def test_a_class_pytest_fails_to_collect_leaves_its_file_unchecked_naming_the_class(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, 'mode = "warn"\n', {"test_ok.py": "def test_ok(): pass\n"})
    (pytester.path / "test_class.py").write_text(
        "import pytest\n\n"
        "class TestRefused:\n"
        '    @pytest.mark.parametrize("x", [1, 2], ids=["one"])\n'
        "    def test_a(self, x): pass\n\n"
        "def test_b(): pass\n"
    )
    _, report = _report(pytester, "--continue-on-collection-errors")
    assert report["unchecked"] == [
        {"path": "test_class.py", "reason": "pytest failed to collect TestRefused (see errors)"}
    ]
    assert report["summary"]["tests"] == 2  # test_ok and test_b


# -- what is counted -------------------------------------------------------------------------


def test_doctests_and_non_python_items_are_not_counted(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        'base_classes = ["fw.base:SSotBaseTestCase"]\n',
        {
            "test_mod.py": '''
                def helper():
                    """
                    >>> 1 + 1
                    2
                    """

                def test_function():
                    pass
            ''',
            "conftest.py": """
                import pytest

                class YamlItem(pytest.Item):
                    def runtest(self):
                        pass

                class YamlFile(pytest.File):
                    def collect(self):
                        yield YamlItem.from_parent(self, name="check")

                def pytest_collect_file(parent, file_path):
                    if file_path.suffix == ".yaml":
                        return YamlFile.from_parent(parent, path=file_path)
            """,
            "test_data.yaml": "a: 1\n",
        },
    )
    result, report = _report(pytester, "--doctest-modules")
    result.assert_outcomes(passed=3)
    assert report["summary"]["tests"] == 1
    assert report["summary"]["compliant"] == 0
    assert _affected(report, "SSOT001") == {"test_mod.py::test_function"}


def test_every_damaged_test_file_ends_checked_or_unchecked_with_a_reason(
    pytester: pytest.Pytester,
) -> None:
    """A seeded corpus of valid test modules cut, spliced with random bytes or re-encoded:
    one pytest run, no crash, and every file pytest could not collect is listed with why."""
    import random

    rng = random.Random(20261124)
    template = textwrap.dedent(
        '''
        import os
        from unittest import mock

        class TestThing:
            """Docs mention os.environ."""

            def test_{n}(self):
                os.environ.get("A")  # ssot: ignore[SSOT002]
                with mock.patch("x.y"):
                    pass

        if __name__ == "__main__":
            import pytest
            pytest.main([__file__])
        '''
    ).lstrip()
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    for n in range(30):
        data = template.replace("{n}", str(n)).encode()
        damage = n % 5
        if damage == 1:
            data = data[: rng.randrange(len(data))]
        elif damage == 2:
            at = rng.randrange(len(data))
            data = data[:at] + bytes(rng.randrange(256) for _ in range(8)) + data[at:]
        elif damage == 3:
            data = data.replace(b"Docs", "D\u00f6cs".encode("latin-1"))
        elif damage == 4:
            data = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")  # BOM and CRLF: valid
        (pytester.path / f"test_fuzz{n:02d}.py").write_bytes(data)
    result, report = _report(pytester, "--continue-on-collection-errors")
    output = result.stdout.str()
    assert "INTERNALERROR" not in output
    failed = {
        line.split(" ")[1]
        for line in result.stdout.lines
        if line.startswith("ERROR test_fuzz") and "::" not in line
    }
    unchecked = {u["path"]: u["reason"] for u in report["unchecked"]}
    assert set(unchecked) == failed
    assert len(failed) >= 6  # the latin-1 ones at least
    assert all(reason.strip() for reason in unchecked.values())
    checked = {nodeid.split("::")[0] for v in report["violations"] for nodeid in v["nodeids"]}
    assert not checked & failed
    # The valid and re-encoded-but-valid files were checked: their violations were found.
    assert {f"test_fuzz{n:02d}.py" for n in range(0, 30, 5)} <= checked
    assert {f"test_fuzz{n:02d}.py" for n in range(4, 30, 5)} <= checked


SHAPES = '''
import os
import unittest.mock
from os import environ as E
from os import getenv

import pytest

RUN = False  # the shapes are read, never executed


def test_import_alias():
    import os as o

    if RUN:
        o.environ["A"] = "1"


def test_from_import_alias():
    if RUN:
        E.get("A")


def test_assigned_alias():
    env = os.environ
    if RUN:
        env.get("A")


def test_getattr():
    if RUN:
        getattr(os, "environ").get("A")


def test_environb():
    if RUN:
        os.environb.get(b"A")


def test_getenv_from_import():
    if RUN:
        getenv("A")


def test_getenvb_putenv_unsetenv():
    if RUN:
        os.getenvb(b"A")
        os.putenv("A", "1")
        os.unsetenv("A")


def test_write_delete_contains():
    if RUN:
        os.environ["A"] = "1"
        del os.environ["A"]
        assert "A" in os.environ


def test_patch_dict_string():
    if RUN:
        unittest.mock.patch.dict("os.environ", {"A": "1"})


def test_patch_string():
    if RUN:
        unittest.mock.patch("os.getenv")


def test_patch_object():
    if RUN:
        unittest.mock.patch.object(os, "environ", {})


def test_monkeypatch(monkeypatch):
    if RUN:
        monkeypatch.setenv("A", "1")
        monkeypatch.delenv("A")


def test_monkeypatch_context():
    if RUN:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("A", "1")


@pytest.fixture
def mocker():  # stands in for pytest-mock's
    return None


def test_mocker(mocker):
    pass


def test_text_only():
    """os.environ["A"] and mock.patch("os.getenv") in a docstring."""
    # os.environ.get("A") in a comment
    assert "os.environ" != "monkeypatch.setenv"
'''


def test_every_static_shape_is_reported_through_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(test_shapes=SHAPES)
    result, report = _report(pytester)
    result.assert_outcomes(passed=15)
    by_test: dict[str, list[str]] = {}
    for violation in report["violations"]:
        for nodeid in violation["nodeids"]:
            by_test.setdefault(nodeid.partition("::")[2], []).append(violation["code"])
    assert {name: sorted(codes) for name, codes in by_test.items()} == {
        "test_import_alias": ["SSOT002"],
        "test_from_import_alias": ["SSOT002"],
        "test_assigned_alias": ["SSOT002"],
        "test_getattr": ["SSOT002"],
        "test_environb": ["SSOT002"],
        "test_getenv_from_import": ["SSOT002"],
        "test_getenvb_putenv_unsetenv": ["SSOT002"] * 3,
        "test_write_delete_contains": ["SSOT002"] * 3,
        "test_patch_dict_string": ["SSOT002", "SSOT003"],
        "test_patch_string": ["SSOT002", "SSOT003"],
        "test_patch_object": ["SSOT002", "SSOT003"],
        "test_monkeypatch": ["SSOT002"] * 2,
        "test_monkeypatch_context": ["SSOT002"],
        "test_mocker": ["SSOT003"],
    }


def test_garbage_collection_is_back_on_when_tests_run_and_after(pytester: pytest.Pytester) -> None:
    # The plugin pauses the cyclic collector during its bulk steps only.
    pytester.makepyfile("import gc\n\ndef test_collector_on():\n    assert gc.isenabled()\n")
    assert gc.isenabled()

    result = pytester.inline_run("-p", "ssot", "--ssot-mode", "warn")

    result.assertoutcome(passed=1)
    assert gc.isenabled()
