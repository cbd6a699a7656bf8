"""`ssot fix` rewrite shapes, one file at a time (pure core: no pytester needed)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("libcst")

from pytest_ssot.config import Config, parse
from pytest_ssot.fix import FileResult, fix_file
from pytest_ssot.resolver import derives_from_unittest

BASE = "framework.base:SSotBaseTestCase"
ASYNC_BASE = "framework.base:SSotAsyncTestCase"
ENV_IMPORT = "from framework.env import get_env"
FIX: dict[str, Any] = {
    "base_class": BASE,
    "async_base_class": ASYNC_BASE,
    "env_import": ENV_IMPORT,
    "env_get": "get_env().get({key}, {default})",
    "env_set": 'get_env().set({key}, {value}, source="test")',
    "env_delete": "get_env().delete({key})",
    "env_contains": "get_env().get({key}) is not None",
}


def make_config(root: Path, *, fix: dict[str, Any] | None = None, **table: Any) -> Config:
    table.setdefault("base_classes", [BASE, ASYNC_BASE])
    table["fix"] = FIX if fix is None else fix
    return parse(table, path=root / "pyproject.toml", root=root, prefix="tool.ssot.")


def run_fix(
    tmp_path: Path,
    source: str,
    *,
    name: str = "test_mod.py",
    wrap: bool = False,
    config: Config | None = None,
) -> FileResult:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return fix_file(path, config or make_config(tmp_path), wrap_functions=wrap)


# The SSOT bases as source, for the tests where `ssot fix` reads what kind of class they are.
PYTEST_STYLE_BASES = "class SSotBaseTestCase:\n    pass\n\n\nclass SSotAsyncTestCase:\n    pass\n"
UNITTEST_BASE = "import unittest\n\n\nclass SSotBaseTestCase(unittest.TestCase):\n    pass\n"


def write_bases(root: Path, source: str) -> None:
    """Write ``framework/base.py`` (the module BASE and ASYNC_BASE name) under ``root``."""
    package = root / "framework"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(source)


def write_legacy(root: Path, source: str | None) -> Config:
    """Write ``legacy/cases.py`` (a team's old base ``OldBase``; None: no such module) under
    ``root``; a config whose ``base_map`` moves it to BASE."""
    if source is not None:
        (root / "legacy").mkdir()
        (root / "legacy" / "__init__.py").write_text("")
        (root / "legacy" / "cases.py").write_text(source)
    return make_config(root, fix={**FIX, "base_map": {"legacy.cases:OldBase": BASE}})


def after(result: FileResult) -> str:
    return result.after.decode("utf-8")


def manual(result: FileResult) -> list[str]:
    return [f"{item.line}: {item.code} {item.message}" for item in result.manual]


# -- SSOT002: the environment -------------------------------------------------------------------


def test_it_rewrites_each_environ_shape_through_its_template(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os


        def read():
            a = os.environ["A"]
            b = os.environ.get("B")
            c = os.environ.get("C", "c")
            d = os.getenv("D", "d")
            os.environ["E"] = "e"
            del os.environ["F"]
            return "G" in os.environ, "H" not in os.environ
        """,
        name="conftest.py",
    )
    assert after(result) == textwrap.dedent(
        """\
        from framework.env import get_env


        def read():
            a = get_env().get("A")
            b = get_env().get("B")
            c = get_env().get("C", "c")
            d = get_env().get("D", "d")
            get_env().set("E", "e", source="test")
            get_env().delete("F")
            return get_env().get("G") is not None, not (get_env().get("H") is not None)
        """
    )
    assert result.fixed == {"SSOT002": 8}
    assert result.manual == []


def test_it_follows_every_alias_of_the_environment(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os as o
        from os import environ as E, getenv
        from os import environ


        def read():
            return o.environ["A"], E.get("B", "b"), getenv("C"), environ["D"], o.getenv("E")
        """,
        name="conftest.py",
    )
    text = after(result)
    assert 'get_env().get("A"), get_env().get("B", "b"), get_env().get("C")' in text
    assert 'get_env().get("D"), get_env().get("E")' in text
    assert "import os" not in text
    assert "from os import" not in text
    assert result.fixed == {"SSOT002": 5}


def test_it_maps_getenv_keyword_arguments(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os

        value = os.getenv(key="K", default="d")
        """,
        name="conftest.py",
    )
    assert 'value = get_env().get("K", "d")' in after(result)


def test_it_rewrites_nested_calls_inside_out(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os

        limit = int(os.environ.get("LIMIT", os.getenv("DEFAULT_LIMIT", "10")))


        def configure():
            os.environ[os.environ["NAME"]] = os.environ.get("VALUE", "")
        """,
        name="conftest.py",
    )
    text = after(result)
    assert 'limit = int(get_env().get("LIMIT", get_env().get("DEFAULT_LIMIT", "10")))' in text
    assert (
        '    get_env().set(get_env().get("NAME"), get_env().get("VALUE", ""), source="test")\n'
        in text
    )
    assert result.fixed == {"SSOT002": 5}


def test_it_rewrites_inside_f_strings_when_the_quotes_allow(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os

        home = f"{os.environ['HOME']}/cache/{os.getenv('USER', 'me')}"
        """,
        name="conftest.py",
    )
    assert "home = f\"{get_env().get('HOME')}/cache/{get_env().get('USER', 'me')}\"" in after(
        result
    )


def test_it_refuses_an_f_string_rewrite_that_needs_other_quotes(tmp_path: Path) -> None:
    config = make_config(tmp_path, fix={**FIX, "env_get": 'get_env().get({key}, source="x")'})
    result = run_fix(
        tmp_path,
        """\
        import os

        home = f"{os.environ['HOME']}/cache"
        """,
        name="conftest.py",
        config=config,
    )
    assert result.changed is False
    assert manual(result) == ["3: SSOT002 inside an f-string the rewrite would need other quotes"]


def test_it_keeps_comments_around_what_it_rewrites(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os


        def configure():
            # the URL the client talks to
            os.environ["URL"] = "http://x"  # not the real one
            return os.environ.get(  # keep me
                "URL"
            )
        """,
        name="conftest.py",
    )
    text = after(result)
    assert "    # the URL the client talks to\n" in text
    assert 'get_env().set("URL", "http://x", source="test")  # not the real one' in text
    # The multi-line call holds a comment its rewrite would lose: it is left for a person.
    assert "os.environ.get(  # keep me" in text
    assert manual(result) == ["7: SSOT002 rewriting it would drop a comment"]


def test_it_adds_the_import_once_and_keeps_imports_still_in_use(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os
        from framework.env import get_env


        def paths():
            env = get_env()
            return os.path.join(os.environ["A"], os.environ["B"]), env
        """,
        name="conftest.py",
    )
    text = after(result)
    assert text.count("import get_env") == 1
    assert text.startswith("import os\n")  # os.path still needs it
    assert 'os.path.join(get_env().get("A"), get_env().get("B"))' in text


def test_it_keeps_an_import_a_string_annotation_still_needs(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os
        from os import environ


        def read(path: "os.PathLike[str]") -> str:
            return environ["A"]
        """,
        name="conftest.py",
    )
    text = after(result)
    assert text.startswith("import os\n")
    assert "from os import environ" not in text
    assert 'return get_env().get("A")' in text


def test_it_rewrites_monkeypatch_and_patch_dict_only_with_templates(tmp_path: Path) -> None:
    source = """\
        import os
        from unittest import mock


        @mock.patch.dict(os.environ, {"A": "1"})
        def helper(monkeypatch):
            monkeypatch.setenv("B", "2")
            monkeypatch.setenv(value="3", name="B3")
            monkeypatch.delenv("C", raising=False)
            with mock.patch.dict("os.environ", {"D": "4"}, clear=True):
                pass
        """
    result = run_fix(tmp_path, source, name="conftest.py")
    assert result.changed is False
    assert manual(result) == [
        '5: SSOT002 mock.patch.dict(os.environ, {"A": "1"}): no [tool.ssot.fix] '
        "patch_environ template",
        '7: SSOT002 monkeypatch.setenv("B", "2"): no [tool.ssot.fix] monkeypatch_setenv template',
        '8: SSOT002 monkeypatch.setenv(value="3", name="B3"): no [tool.ssot.fix] '
        "monkeypatch_setenv template",
        '9: SSOT002 monkeypatch.delenv("C", raising=False): no [tool.ssot.fix] '
        "monkeypatch_delenv template",
        '10: SSOT002 mock.patch.dict("os.environ", {"D": "4"}, clear=True): no [tool.ssot.fix] '
        "patch_environ template",
    ]
    templates = {
        **FIX,
        "patch_environ": "get_env().patched({values}, clear={clear})",
        "monkeypatch_setenv": 'get_env().set({key}, {value}, source="test")',
        "monkeypatch_delenv": "get_env().delete({key})",
    }
    result = run_fix(
        tmp_path, source, name="conftest.py", config=make_config(tmp_path, fix=templates)
    )
    text = after(result)
    assert '@get_env().patched({"A": "1"}, clear=None)' in text
    assert 'get_env().set("B", "2", source="test")' in text
    assert 'get_env().set("B3", "3", source="test")' in text
    assert 'get_env().delete("C")' in text
    assert 'with get_env().patched({"D": "4"}, clear=True):' in text
    assert "import os" not in text
    assert "from unittest import mock" not in text
    assert result.fixed == {"SSOT002": 5}


def test_it_refuses_monkeypatch_setenv_with_prepend(tmp_path: Path) -> None:
    templates = {**FIX, "monkeypatch_setenv": 'get_env().set({key}, {value}, source="test")'}
    result = run_fix(
        tmp_path,
        """\
        def helper(monkeypatch):
            monkeypatch.setenv("PATH", "/bin", prepend=":")
        """,
        name="conftest.py",
        config=make_config(tmp_path, fix=templates),
    )
    assert result.changed is False
    assert manual(result) == ["2: SSOT002 monkeypatch.setenv() with unusual arguments"]


def test_it_lists_what_it_cannot_rewrite_and_never_guesses(tmp_path: Path) -> None:
    source = """\
        import os
        import subprocess

        env = os.environ
        env["W"] = "w"
        os.environ.update({"A": "1"})
        subprocess.run(["true"], env=os.environ)
        a = b = os.environ["X"] = "x"
        os.environ["Y"] += "y"
        value = os.environ.pop("Z", None)
        os.putenv("P", "1")
        token = getattr(os, "environ")["TOKEN"]
        """
    result = run_fix(tmp_path, source, name="conftest.py")
    assert result.changed is False
    assert manual(result) == [
        "5: SSOT002 os.environ accessed directly: not a shape ssot fix rewrites",
        "6: SSOT002 os.environ.update accessed directly: not a shape ssot fix rewrites",
        "7: SSOT002 os.environ accessed directly: not a shape ssot fix rewrites",
        "8: SSOT002 os.environ accessed directly: not a shape ssot fix rewrites",
        "9: SSOT002 os.environ accessed directly: not a shape ssot fix rewrites",
        "10: SSOT002 os.environ.pop() whose result is used",
        "11: SSOT002 os.putenv accessed directly: not a shape ssot fix rewrites",
        "12: SSOT002 os.environ accessed directly: not a shape ssot fix rewrites",
    ]


def test_it_leaves_inline_ignores_and_exemptions_alone(tmp_path: Path) -> None:
    source = """\
        import os

        import pytest


        def test_token():
            return os.getenv("TOKEN")  # ssot: ignore[SSOT002]


        @pytest.mark.ssot_exempt("SSOT002", reason="documents the contract")
        def test_contract():
            return os.environ["CONTRACT"]


        @pytest.mark.ssot_exempt("SSOT002", reason="expired", until="2000-01-01")
        def test_expired():
            return os.environ["EXPIRED"]
        """
    config = make_config(tmp_path, allow_function_tests=True)
    result = run_fix(tmp_path, source, config=config)
    text = after(result)
    assert 'return os.getenv("TOKEN")  # ssot: ignore[SSOT002]' in text
    assert 'return os.environ["CONTRACT"]' in text
    assert 'return get_env().get("EXPIRED")' in text
    assert result.fixed == {"SSOT002": 1}
    assert result.manual == []


def test_it_skips_a_rule_that_is_switched_off(tmp_path: Path) -> None:
    config = make_config(tmp_path, rules={"SSOT002": "off"})
    result = run_fix(
        tmp_path, 'import os\n\nx = os.environ["A"]\n', name="conftest.py", config=config
    )
    assert result.changed is False
    assert result.manual == []


def test_it_uses_self_templates_only_inside_test_methods(tmp_path: Path) -> None:
    config = make_config(tmp_path, fix={**FIX, "env_set": "self.env.set({key}, {value})"})
    result = run_fix(
        tmp_path,
        """\
        import os

        from framework.base import SSotBaseTestCase


        def helper():
            os.environ["A"] = "1"


        class TestThing(SSotBaseTestCase):
            def test_it(self):
                os.environ["B"] = "2"
        """,
        config=config,
    )
    text = after(result)
    assert 'self.env.set("B", "2")' in text
    assert 'os.environ["A"] = "1"' in text
    assert "from framework.env import get_env" not in text  # the template does not need it
    assert manual(result) == ["7: SSOT002 env_set uses self, but this is not in a test method"]


def test_it_leaves_environment_changes_that_outlive_one_test_for_manual_work(
    tmp_path: Path,
) -> None:
    # An isolated environment restored after each test would drop what these set for the
    # tests after the first: the rewrite would break them. Reads and per-test writes go.
    source = """\
        import os
        import unittest

        import pytest

        os.environ["AT_IMPORT"] = "1"


        @pytest.fixture(scope="module")
        def shared():
            os.environ["MODULE"] = "1"
            yield
            del os.environ["MODULE"]


        class TestThing(unittest.TestCase):
            FLAG = os.environ.get("FLAG")

            @classmethod
            def setUpClass(cls):
                os.environ["CLASS"] = "1"

            def setUp(self):
                os.environ["EACH"] = "1"

            def test_it(self):
                del os.environ["EACH"]
        """
    result = run_fix(tmp_path, source)
    text = after(result)
    for kept in ('os.environ["AT_IMPORT"] = "1"', 'os.environ["MODULE"] = "1"'):
        assert kept in text
    for kept in ('del os.environ["MODULE"]', 'os.environ["CLASS"] = "1"'):
        assert kept in text
    assert 'FLAG = get_env().get("FLAG")' in text
    assert 'get_env().set("EACH", "1", source="test")' in text
    assert 'get_env().delete("EACH")' in text
    why = (
        "SSOT002 changes the environment for more than one test (at import, in a class body, "
        "setUpClass or a wider fixture), which an isolated environment may not keep across "
        "tests; rewrite it by hand"
    )
    assert manual(result) == [f"{line}: {why}" for line in (6, 11, 13, 21)]


def test_it_refuses_when_the_api_name_already_means_something_else(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import os


        def get_env():
            return {}


        value = os.environ["A"]
        """,
        name="conftest.py",
    )
    assert result.changed is False
    assert manual(result) == [
        "8: SSOT002 get_env already means something else here; rewrite it by hand"
    ]


def test_it_parenthesises_a_template_where_precedence_needs_it(tmp_path: Path) -> None:
    config = make_config(tmp_path, fix={**FIX, "env_get": 'get_env().get({key}) or ""'})
    result = run_fix(
        tmp_path,
        """\
        import os

        parts = os.environ["PATH"].split(":")
        plain = os.environ["HOME"]
        """,
        name="conftest.py",
        config=config,
    )
    text = after(result)
    assert 'parts = (get_env().get("PATH") or "").split(":")' in text
    assert 'plain = get_env().get("HOME") or ""' in text


# -- SSOT001: test classes ------------------------------------------------------------------------


def test_it_rebases_a_unittest_class_and_drops_the_dead_import(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        \"\"\"Rooms.\"\"\"

        import unittest


        class TestRooms(unittest.TestCase):
            def setUp(self):
                \"\"\"Build the room.\"\"\"
                self.room = "general"

            def tearDown(self):
                self.room = None

            def test_join(self):
                self.assertEqual(self.room, "general")
        """,
    )
    assert after(result) == textwrap.dedent(
        """\
        \"\"\"Rooms.\"\"\"

        from framework.base import SSotBaseTestCase


        class TestRooms(SSotBaseTestCase):
            def setUp(self):
                \"\"\"Build the room.\"\"\"
                super().setUp()
                self.room = "general"

            def tearDown(self):
                self.room = None
                super().tearDown()

            def test_join(self):
                self.assertEqual(self.room, "general")
        """
    )
    assert result.fixed == {"SSOT001": 1}


def test_it_handles_one_line_set_ups_nested_classes_and_keywords(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import abc
        import unittest


        class Mixin:
            pass


        class TestMeta(Mixin, metaclass=abc.ABCMeta):
            def test_a(self):
                pass


        class TestOuter(unittest.TestCase):
            class TestInner(unittest.TestCase):
                def test_d(self):
                    pass

            def setUp(self): self.x = 1

            def tearDown(self):
                if self.x:
                    return
                self.x = None
        """,
    )
    text = after(result)
    assert "class TestMeta(Mixin, SSotBaseTestCase, metaclass=abc.ABCMeta):" in text
    assert "class TestOuter(SSotBaseTestCase):\n    class TestInner(SSotBaseTestCase):" in text
    assert "def setUp(self): super().setUp(); self.x = 1" in text
    assert result.fixed == {"SSOT001": 3}
    assert manual(result) == [
        "14: SSOT001 class TestOuter: tearDown returns early; call super().tearDown() in it by hand"
    ]


def test_it_maps_async_tests_to_the_async_base(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        from unittest import IsolatedAsyncioTestCase, TestCase


        class TestA(IsolatedAsyncioTestCase):
            async def asyncSetUp(self):
                self.ready = True

            async def test_a(self):
                assert self.ready


        class TestB(TestCase):
            async def test_b(self):
                assert True


        class TestC(TestCase):
            def test_c(self):
                super().setUp()
        """,
    )
    text = after(result)
    assert "from framework.base import SSotAsyncTestCase, SSotBaseTestCase" in text
    assert "class TestA(SSotAsyncTestCase):" in text
    assert "await super().asyncSetUp()\n        self.ready = True" in text
    assert "class TestB(SSotAsyncTestCase):" in text
    assert "class TestC(SSotBaseTestCase):" in text
    assert "from unittest import" not in text
    assert result.fixed == {"SSOT001": 3}


def test_it_refuses_async_tests_without_an_async_base(tmp_path: Path) -> None:
    config = make_config(tmp_path, fix={k: v for k, v in FIX.items() if k != "async_base_class"})
    result = run_fix(
        tmp_path,
        """\
        import unittest


        class TestA(unittest.IsolatedAsyncioTestCase):
            async def test_a(self):
                pass
        """,
        config=config,
    )
    assert result.changed is False
    assert manual(result) == [
        "4: SSOT001 class TestA needs [tool.ssot.fix] async_base_class to be rewritten"
    ]


def test_a_base_name_taken_by_an_import_says_which_and_how_to_use_it(tmp_path: Path) -> None:
    # Django's own tests: `from django.test import SimpleTestCase`, configured by the module
    # that defines it ("django.test.testcases:SimpleTestCase").
    source = """\
        import unittest

        from framework import SSotBaseTestCase


        class TestA(unittest.TestCase):
            def test_a(self):
                pass


        class TestB(SSotBaseTestCase):
            def test_b(self):
                pass
        """
    result = run_fix(tmp_path, source)
    assert result.changed is False
    assert manual(result) == [
        "6: SSOT001 class TestA: the name SSotBaseTestCase is taken in this module (imported "
        'from framework); if that is the same class, write it as "framework:SSotBaseTestCase" '
        "in [tool.ssot.fix]"
    ]
    # Written as the message says, the module's own import is used.
    config = make_config(tmp_path, fix={**FIX, "base_class": "framework:SSotBaseTestCase"})
    fixed = run_fix(tmp_path, source, config=config)
    assert "class TestA(SSotBaseTestCase):" in after(fixed)
    assert manual(fixed) == []


def test_it_gives_a_pytest_style_class_the_base_after_its_mixins(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        class LimitsMixin:
            limit = 5


        class TestLimits(LimitsMixin):
            def test_limit(self):
                assert self.limit == 5


        class TestPlain(object):
            def test_plain(self):
                assert True
        """,
    )
    text = after(result)
    assert "class LimitsMixin:\n" in text
    assert "class TestLimits(LimitsMixin, SSotBaseTestCase):" in text
    assert "class TestPlain(SSotBaseTestCase):" in text
    assert result.fixed == {"SSOT001": 2}


def test_it_refuses_classes_that_rely_on_pytest_only_features(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import pytest


        class TestFixtures:
            def test_tmp(self, tmp_path):
                assert tmp_path


        class TestParams:
            @pytest.mark.parametrize("n", [1, 2])
            def test_n(self):
                pass
        """,
    )
    assert result.changed is False
    assert manual(result) == [
        "4: SSOT001 class TestFixtures has test_tmp taking fixtures (tmp_path); unittest "
        "methods cannot receive fixtures",
        "9: SSOT001 class TestParams has test_n parametrized; unittest methods cannot be",
    ]


MIXED_STYLES = """\
    import unittest

    import pytest


    class TestFixtures:
        def test_tmp(self, tmp_path):
            assert tmp_path


    class TestParams:
        @pytest.mark.parametrize("n", [1, 2])
        def test_n(self, n):
            pass


    class TestHooks:
        def setup_method(self, method):
            self.ready = True

        def test_ready(self):
            assert self.ready


    class TestLegacy(unittest.TestCase):
        def setUp(self):
            self.x = 1

        def test_x(self):
            self.assertEqual(self.x, 1)
    """


def test_a_pytest_style_base_takes_pytest_classes_as_they_are_and_no_unittest_class(
    tmp_path: Path,
) -> None:
    """Where the SSOT base is certainly no unittest class (its source says so), a pytest-style
    class keeps its fixtures and parametrize, and a unittest class would lose setUp and
    self.assert*: the opposite of a unittest base."""
    write_bases(tmp_path, PYTEST_STYLE_BASES)
    result = run_fix(tmp_path, MIXED_STYLES)
    text = after(result)
    assert "class TestFixtures(SSotBaseTestCase):" in text
    assert "class TestParams(SSotBaseTestCase):" in text
    assert "super()" not in text
    assert result.fixed == {"SSOT001": 2}
    assert manual(result) == [
        "17: SSOT001 class TestHooks defines setup_method, which would hide the SSOT base's "
        "own; rebase it by hand",
        "25: SSOT001 class TestLegacy derives from unittest.TestCase, and "
        "framework.base.SSotBaseTestCase is no unittest class: its setUp, tearDown and "
        "self.assert* methods would stop working",
    ]


def test_a_unittest_base_read_from_its_source_takes_unittest_classes_only(
    tmp_path: Path,
) -> None:
    unittest_base = "from unittest import TestCase as _Case\n\n\nclass SSotBaseTestCase(_Case):\n"
    write_bases(tmp_path, unittest_base + "    pass\n")
    assert derives_from_unittest(BASE, [tmp_path]) is True  # read, not assumed
    result = run_fix(tmp_path, MIXED_STYLES)
    assert "class TestLegacy(SSotBaseTestCase):" in after(result)
    assert result.fixed == {"SSOT001": 2}  # TestHooks too: it takes no fixtures
    assert [line.split(" has ")[0] for line in manual(result)] == [
        "6: SSOT001 class TestFixtures",
        "11: SSOT001 class TestParams",
    ]


def test_it_leaves_ssot_classes_and_their_local_subclasses_alone(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import unittest

        from framework.base import SSotBaseTestCase as Base


        class TestReady(Base):
            def test_ok(self):
                pass


        class LegacyBase(unittest.TestCase):
            pass


        class TestLegacy(LegacyBase):
            def test_ok(self):
                pass
        """,
    )
    text = after(result)
    assert "class LegacyBase(Base):" in text  # the existing alias is reused
    assert "class TestLegacy(LegacyBase):" in text
    assert text.count("from framework.base import") == 1
    assert result.fixed == {"SSOT001": 1}


def test_it_honours_an_inline_ignore_on_a_class(tmp_path: Path) -> None:
    source = "import unittest\n\n\nclass TestOld(unittest.TestCase):  # ssot: ignore[SSOT001]\n"
    result = run_fix(tmp_path, source + "    pass\n")
    assert result.changed is False
    assert result.manual == []


LEGACY_CLASS = """\
    from legacy.cases import OldBase


    class TestOld(OldBase):
        def setUp(self):
            self.x = 1

        def test_x(self):
            self.assertEqual(self.x, 1)
    """


@pytest.mark.parametrize(
    ("legacy_source", "refusal"),
    [
        (
            "import unittest\n\n\nclass Mixin:\n    pass\n\n\n"
            "class OldBase(Mixin, unittest.TestCase):\n    pass\n",
            "derives from legacy.cases.OldBase, a unittest class, and",
        ),
        # Its module is not there to read: it may be one.
        (None, "derives from legacy.cases.OldBase, which may be a unittest class, and"),
    ],
)
def test_a_legacy_unittest_base_is_not_mapped_to_a_pytest_style_base(
    tmp_path: Path, legacy_source: str | None, refusal: str
) -> None:
    """A team's own legacy base on unittest.TestCase gives its classes setUp and
    self.assert*, which a pytest-style SSOT base would take away, as for TestCase itself."""
    write_bases(tmp_path, PYTEST_STYLE_BASES)
    config = write_legacy(tmp_path, legacy_source)
    result = run_fix(tmp_path, LEGACY_CLASS, config=config)
    assert after(result) == textwrap.dedent(LEGACY_CLASS)
    assert manual(result) == [
        f"4: SSOT001 class TestOld {refusal} framework.base.SSotBaseTestCase is no unittest "
        "class: its setUp, tearDown and self.assert* methods would stop working"
    ]


def test_a_legacy_pytest_style_base_is_mapped_to_a_pytest_style_base(tmp_path: Path) -> None:
    write_bases(tmp_path, PYTEST_STYLE_BASES)
    config = write_legacy(tmp_path, "class OldBase:\n    pass\n")
    result = run_fix(
        tmp_path,
        "from legacy.cases import OldBase\n\n\nclass TestOld(OldBase):\n    pass\n",
        config=config,
    )
    assert "class TestOld(SSotBaseTestCase):" in after(result)
    assert manual(result) == []


def test_a_legacy_unittest_base_mapped_to_a_unittest_base_reaches_its_set_up(
    tmp_path: Path,
) -> None:
    write_bases(tmp_path, UNITTEST_BASE)
    config = write_legacy(
        tmp_path, "import unittest\n\n\nclass OldBase(unittest.TestCase):\n    pass\n"
    )
    result = run_fix(tmp_path, LEGACY_CLASS, config=config)
    assert "class TestOld(SSotBaseTestCase):" in after(result)
    assert "        super().setUp()\n        self.x = 1\n" in after(result)
    assert manual(result) == []


def test_a_legacy_pytest_style_base_is_not_mapped_to_a_unittest_base_for_fixtures(
    tmp_path: Path,
) -> None:
    write_bases(tmp_path, UNITTEST_BASE)
    config = write_legacy(tmp_path, "class OldBase:\n    pass\n")
    source = (
        "from legacy.cases import OldBase\n\n\nclass TestOld(OldBase):\n"
        "    def test_tmp(self, tmp_path):\n        assert tmp_path\n"
    )
    result = run_fix(tmp_path, source, config=config)
    assert after(result) == source
    assert manual(result) == [
        "4: SSOT001 class TestOld has test_tmp taking fixtures (tmp_path); unittest methods "
        "cannot receive fixtures"
    ]


def test_it_applies_the_configured_base_map(tmp_path: Path) -> None:
    config = make_config(tmp_path, fix={**FIX, "base_map": {"legacy.cases:OldBase": BASE}})
    result = run_fix(
        tmp_path,
        """\
        from legacy.cases import OldBase


        class TestOld(OldBase):
            def test_ok(self):
                pass
        """,
        config=config,
    )
    assert after(result) == textwrap.dedent(
        """\
        from framework.base import SSotBaseTestCase


        class TestOld(SSotBaseTestCase):
            def test_ok(self):
                pass
        """
    )


def test_it_lists_test_functions_unless_asked_to_wrap_them(tmp_path: Path) -> None:
    source = """\
        import pytest


        def helper():
            return 1


        # the basics
        @pytest.mark.slow
        def test_one():
            assert helper() == 1


        def test_two():
            assert True


        async def test_three():
            assert True


        def test_fixture(tmp_path):
            assert tmp_path


        def test_called():
            pass


        def test_caller_is_not_a_test_but_calls():
            test_called()
        """
    result = run_fix(tmp_path, source)
    assert result.changed is False
    assert [m.split(" is ")[0] for m in manual(result)] == [
        "10: SSOT001 test function test_one",
        "14: SSOT001 test function test_two",
        "18: SSOT001 test function test_three",
        "22: SSOT001 test function test_fixture",
        "26: SSOT001 test function test_called",
        "30: SSOT001 test function test_caller_is_not_a_test_but_calls",
    ]
    result = run_fix(tmp_path, source, wrap=True)
    assert after(result) == textwrap.dedent(
        """\
        import pytest
        from framework.base import SSotAsyncTestCase, SSotBaseTestCase


        def helper():
            return 1


        # the basics
        class TestMod(SSotBaseTestCase):
            @pytest.mark.slow
            def test_one(self):
                assert helper() == 1

            def test_two(self):
                assert True

            def test_caller_is_not_a_test_but_calls(self):
                test_called()


        class TestModAsync(SSotAsyncTestCase):
            async def test_three(self):
                assert True


        def test_fixture(tmp_path):
            assert tmp_path


        def test_called():
            pass
        """
    )
    assert manual(result) == [
        "22: SSOT001 test function test_fixture takes fixtures (tmp_path); unittest methods "
        "cannot receive fixtures: wrap it by hand",
        "26: SSOT001 test function test_called is referenced by name; wrap it by hand",
    ]
    assert result.fixed == {"SSOT001": 4}


def test_a_pytest_style_base_wraps_functions_with_their_fixtures_and_parameters(
    tmp_path: Path,
) -> None:
    write_bases(tmp_path, PYTEST_STYLE_BASES)
    source = """\
        import pytest


        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n):
            assert n


        def test_fixture(tmp_path, *, flag=True):
            assert tmp_path.is_dir() and flag


        def test_star(*args):
            pass
        """
    result = run_fix(tmp_path, source, wrap=True)
    assert after(result) == textwrap.dedent(
        """\
        import pytest
        from framework.base import SSotBaseTestCase


        class TestMod(SSotBaseTestCase):
            @pytest.mark.parametrize("n", [1, 2])
            def test_param(self, n):
                assert n

            def test_fixture(self, tmp_path, *, flag=True):
                assert tmp_path.is_dir() and flag


        def test_star(*args):
            pass
        """
    )
    assert manual(result) == [
        "13: SSOT001 test function test_star takes positional-only or variable arguments; "
        "wrap it by hand",
    ]
    # And pytest runs the wrapped tests as it ran the functions.
    (tmp_path / "test_mod.py").write_bytes(result.after)
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:ssot", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout
    assert "4 passed" in ran.stdout


def test_it_leaves_functions_alone_when_function_tests_are_allowed(tmp_path: Path) -> None:
    config = make_config(tmp_path, allow_function_tests=True)
    result = run_fix(tmp_path, "def test_ok():\n    pass\n", wrap=True, config=config)
    assert result.changed is False
    assert result.manual == []


# -- SSOT004: files that run themselves ---------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "imports_left"),
    [
        ("pytest.main([__file__])", "import sys\nimport unittest\n"),
        ('sys.exit(pytest.main([__file__, "-v"]))', "import unittest\n"),
        ("raise SystemExit(pytest.main())", "import sys\nimport unittest\n"),
        ("unittest.main(verbosity=2)", "import sys\n\nimport pytest\n"),
    ],
)
def test_it_removes_a_main_block_that_only_runs_this_file(
    tmp_path: Path, block: str, imports_left: str
) -> None:
    source = (
        "import sys\nimport unittest\n\nimport pytest\n\n\n"
        "def test_ok():\n    pass\n\n\n"
        f'if __name__ == "__main__":\n    {block}\n'
    )
    config = make_config(tmp_path, allow_function_tests=True)
    path = tmp_path / "test_main.py"
    path.write_text(source, encoding="utf-8")
    result = fix_file(path, config)
    # Only the imports the block used go; ones that were unused before stay (not ours to judge).
    assert after(result) == f"{imports_left}\n\ndef test_ok():\n    pass\n"
    assert result.fixed == {"SSOT004": 1}


def test_it_keeps_a_main_block_that_does_more(tmp_path: Path) -> None:
    config = make_config(tmp_path, allow_function_tests=True)
    result = run_fix(
        tmp_path,
        """\
        import pytest

        if __name__ == "__main__":
            print("running")
            pytest.main([__file__])
        """,
        config=config,
    )
    assert result.changed is False
    assert manual(result) == [
        "3: SSOT004 the __main__ block does more than run the tests; remove it by hand"
    ]


# -- files -----------------------------------------------------------------------------------------


def test_it_keeps_the_file_encoding_and_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "conftest.py"
    path.write_bytes(
        b"# -*- coding: latin-1 -*-\r\nimport os\r\n\r\nNAME = '\xe9t\xe9'\r\n"
        b"VALUE = os.environ['A']\r\n"
    )
    result = fix_file(path, make_config(tmp_path))
    assert result.after == (
        b"# -*- coding: latin-1 -*-\r\nfrom framework.env import get_env\r\n\r\n"
        b"NAME = '\xe9t\xe9'\r\nVALUE = get_env().get('A')\r\n"
    )


def test_it_keeps_the_last_line_ending_of_a_file_with_cr_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "conftest.py"
    path.write_bytes(b"import os\r\r\rdef reset():\r    del os.environ['A']\r")
    result = fix_file(path, make_config(tmp_path))
    assert result.after == (
        b"from framework.env import get_env\r\r\rdef reset():\r    get_env().delete('A')\r"
    )


def test_it_reports_positions_after_non_ascii_text_on_the_line(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        'import os\n\nx = ("é", os.environ["A"], os.environ.copy())\n',
        name="conftest.py",
    )
    assert 'x = ("é", get_env().get("A"), os.environ.copy())' in after(result)
    assert result.fixed == {"SSOT002": 1}
    assert manual(result) == [
        "3: SSOT002 os.environ.copy accessed directly: not a shape ssot fix rewrites"
    ]


def test_it_does_not_touch_a_file_it_cannot_parse(tmp_path: Path) -> None:
    result = run_fix(tmp_path, "import os\nclass Broken(\n    os.environ['A']\n")
    assert result.changed is False
    assert str(result.skipped).startswith("syntax error")


def test_it_does_not_wrap_under_a_module_level_parametrize(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        import pytest

        pytestmark = [pytest.mark.parametrize("n", [1, 2])]


        def test_x():
            pass
        """,
        wrap=True,
    )
    assert result.changed is False
    assert manual(result) == [
        "6: SSOT001 test function test_x is parametrized; unittest methods cannot be"
    ]


def test_a_base_imported_only_below_the_class_is_imported_above_it(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        """\
        \"\"\"Legacy.\"\"\"
        import unittest


        class TestLate(unittest.TestCase):
            def test_ok(self):
                pass


        from framework.base import SSotBaseTestCase  # noqa: E402
        """,
    )
    assert after(result) == textwrap.dedent(
        """\
        \"\"\"Legacy.\"\"\"

        from framework.base import SSotBaseTestCase


        class TestLate(SSotBaseTestCase):
            def test_ok(self):
                pass


        from framework.base import SSotBaseTestCase  # noqa: E402
        """
    )


def test_new_imports_go_after_the_docstring_apart_from_the_code(tmp_path: Path) -> None:
    result = run_fix(
        tmp_path,
        '"""Doc."""\n\n\nclass TestPlain:\n    def test_ok(self):\n        pass\n',
    )
    assert after(result) == (
        '"""Doc."""\n\nfrom framework.base import SSotBaseTestCase\n\n\n'
        "class TestPlain(SSotBaseTestCase):\n    def test_ok(self):\n        pass\n"
    )
    result = run_fix(tmp_path, "class TestPlain:\n    def test_ok(self):\n        pass\n")
    assert after(result) == (
        "from framework.base import SSotBaseTestCase\n\n\n"
        "class TestPlain(SSotBaseTestCase):\n    def test_ok(self):\n        pass\n"
    )


def test_an_expression_too_deep_to_rewrite_is_left_untouched_saying_so(tmp_path: Path) -> None:
    # libcst's code generation meets the RecursionError in a 3,000-term sum and turns it into
    # a KeyError on its way out, which said "cannot be rewritten: KeyError".
    terms = " + ".join(["1"] * 3000)
    source = f'import os\n\n\ndef test_a():\n    x = {terms}\n    assert os.environ.get("A")\n'
    result = run_fix(tmp_path, source)
    assert result.skipped == "nested too deeply to rewrite"
    assert not result.changed
    assert (tmp_path / "test_mod.py").read_text(encoding="utf-8") == source
