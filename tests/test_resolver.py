"""Resolving base classes through the project's own modules, without importing them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ssot.paths import module_name
from pytest_ssot.resolver import (
    ClassRef,
    External,
    ModuleIndex,
    ModuleRef,
    Resolver,
    Target,
    Unresolved,
    Verdict,
)
from pytest_ssot.scanner import FileFacts, scan


class Project:
    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        self.scans: list[Path] = []
        self.resolver = Resolver(ModuleIndex([root]), self._facts, module_name)

    def _facts(self, path: Path) -> FileFacts | None:
        if not path.is_file():
            return None
        self.scans.append(path)
        return scan(path.read_bytes(), path.name, full=True)

    def path(self, name: str) -> Path:
        return (self.root / name).resolve()

    def base_of(self, file: str, cls: str) -> tuple[Target, ...]:
        """What the (only) base of class ``cls`` in ``file`` resolves to."""
        ((_, targets),) = self.resolver.bases(ClassRef(self.path(file), cls))
        return targets

    def derives(self, file: str, cls: str, *goals: str) -> Verdict:
        resolved = []
        for goal in goals:
            target = self.resolver.resolve_entry(goal)
            assert isinstance(target, (ClassRef, External)), target
            resolved.append(target)
        return self.resolver.derives_from(ClassRef(self.path(file), cls), resolved)


FRAMEWORK = {
    "framework/__init__.py": "from .base import SSotBase\n",
    "framework/base.py": """
        import unittest

        class SSotBase(unittest.TestCase):
            pass
    """,
}


def one(targets: tuple[Target, ...]) -> Target:
    assert len(targets) == 1, targets
    return targets[0]


def test_it_follows_an_absolute_from_import(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": "from framework.base import SSotBase\nclass TestA(SSotBase): pass\n",
        },
    )
    assert one(p.base_of("test_a.py", "TestA")) == ClassRef(p.path("framework/base.py"), "SSotBase")
    assert p.derives("test_a.py", "TestA", "framework.base:SSotBase").value is True


def test_it_follows_module_imports_with_and_without_as(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": """
                import framework.base
                import framework.base as fb

                class TestA(framework.base.SSotBase): pass
                class TestB(fb.SSotBase): pass
            """,
        },
    )
    expected = ClassRef(p.path("framework/base.py"), "SSotBase")
    assert one(p.base_of("test_a.py", "TestA")) == expected
    assert one(p.base_of("test_a.py", "TestB")) == expected


def test_it_follows_relative_imports_at_any_level(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "tests/__init__.py": "",
            "tests/support.py": "from framework.base import SSotBase as Base\n",
            "tests/unit/__init__.py": "",
            "tests/unit/test_a.py": """
                from ..support import Base
                from .. import support
                from . import helpers

                class TestA(Base): pass
                class TestB(support.Base): pass
                class TestC(helpers.Local): pass
            """,
            "tests/unit/helpers.py": "class Local: pass\n",
        },
    )
    base = ClassRef(p.path("framework/base.py"), "SSotBase")
    assert one(p.base_of("tests/unit/test_a.py", "TestA")) == base
    assert one(p.base_of("tests/unit/test_a.py", "TestB")) == base
    assert one(p.base_of("tests/unit/test_a.py", "TestC")) == ClassRef(
        p.path("tests/unit/helpers.py"), "Local"
    )


def test_a_relative_import_beyond_the_top_package_is_unresolved(tmp_path: Path) -> None:
    p = Project(tmp_path, {"test_a.py": "from ..far import Base\nclass TestA(Base): pass\n"})
    target = one(p.base_of("test_a.py", "TestA"))
    assert isinstance(target, Unresolved)
    assert "beyond the top-level package" in target.reason


def test_it_follows_star_imports_and_respects_all(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "reexport.py": "from framework.base import *\nfrom framework.base import SSotBase\n",
            "public.py": "__all__ = ['Shown']\nclass Shown: pass\nclass Hidden: pass\n",
            "test_a.py": """
                from reexport import *
                from public import *

                class TestA(SSotBase): pass
                class TestB(Hidden): pass
            """,
        },
    )
    assert one(p.base_of("test_a.py", "TestA")) == ClassRef(p.path("framework/base.py"), "SSotBase")
    hidden = one(p.base_of("test_a.py", "TestB"))
    assert isinstance(hidden, Unresolved)
    assert "Hidden is not defined" in hidden.reason


def test_it_follows_aliases_and_package_reexports(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": """
                import framework
                from framework import SSotBase as _Base

                Base = _Base
                AlsoBase = framework.SSotBase

                class TestA(Base): pass
                class TestB(AlsoBase): pass
            """,
        },
    )
    expected = ClassRef(p.path("framework/base.py"), "SSotBase")
    assert one(p.base_of("test_a.py", "TestA")) == expected
    assert one(p.base_of("test_a.py", "TestB")) == expected
    # The package re-export and the defining module are the same class.
    assert p.derives("test_a.py", "TestA", "framework:SSotBase").value is True


def test_intermediate_classes_in_other_files_and_mixins_are_followed(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "support/__init__.py": "",
            "support/layer.py": "from framework import SSotBase\nclass ApiCase(SSotBase): pass\n",
            "support/mixins.py": "class DbMixin: pass\n",
            "test_a.py": """
                from support.layer import ApiCase
                from support.mixins import DbMixin

                class TestA(DbMixin, ApiCase): pass
                class TestB(DbMixin): pass
            """,
        },
    )
    assert p.derives("test_a.py", "TestA", "framework.base:SSotBase").value is True
    assert p.derives("test_a.py", "TestB", "framework.base:SSotBase").value is False
    mro, problems = p.resolver.mro(ClassRef(p.path("test_a.py"), "TestA"))
    assert problems == []
    names = [m.qualname if isinstance(m, ClassRef) else m.dotted for m in mro]
    assert names[:4] == ["TestA", "DbMixin", "ApiCase", "SSotBase"]
    assert "unittest.case.TestCase" in names


def test_two_classes_with_the_same_name_are_told_apart(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "framework/__init__.py": "",
            "framework/base.py": "class BaseTestCase: pass\n",
            "legacy.py": "class BaseTestCase: pass\n",
            "test_new.py": (
                "from framework.base import BaseTestCase\nclass TestA(BaseTestCase): pass\n"
            ),
            "test_old.py": "from legacy import BaseTestCase\nclass TestA(BaseTestCase): pass\n",
            "test_local.py": "class BaseTestCase: pass\nclass TestA(BaseTestCase): pass\n",
        },
    )
    goal = "framework.base:BaseTestCase"
    assert p.derives("test_new.py", "TestA", goal).value is True
    assert p.derives("test_old.py", "TestA", goal).value is False
    assert p.derives("test_local.py", "TestA", goal).value is False


def test_a_self_referencing_alias_is_unresolved_not_a_crash(tmp_path: Path) -> None:
    p = Project(tmp_path, {"test_a.py": "X = X\nclass TestA(X): pass\n"})
    target = one(p.base_of("test_a.py", "TestA"))
    assert isinstance(target, Unresolved)
    assert "X is not defined" in target.reason


def test_an_import_cycle_is_unresolved_and_named(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "a.py": "from b import Base\n",
            "b.py": "from a import Base\n",
            "test_a.py": "from a import Base\nclass TestA(Base): pass\n",
        },
    )
    target = one(p.base_of("test_a.py", "TestA"))
    assert isinstance(target, Unresolved)
    assert "cycle" in target.reason
    assert "a.Base -> b.Base -> a.Base" in target.reason


def test_a_class_inheriting_from_itself_through_aliases_is_unresolved(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "a.py": "import b\nclass A(b.B): pass\n",
            "b.py": "import a\nclass B(a.A): pass\n",
        },
    )
    verdict = p.resolver.derives_from(ClassRef(p.path("a.py"), "A"), [External("nowhere.X")])
    assert verdict.value is None
    assert "inherits from itself" in verdict.reason


def test_a_conditional_alias_with_different_targets_is_unresolved(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "legacy.py": "class Old: pass\n",
            "test_a.py": """
                import os
                try:
                    from framework import SSotBase as Base
                except ImportError:
                    from legacy import Old as Base

                class TestA(Base): pass
            """,
        },
    )
    targets = p.base_of("test_a.py", "TestA")
    assert len(targets) == 2
    verdict = p.derives("test_a.py", "TestA", "framework:SSotBase")
    assert verdict.value is None
    assert "several branches" in verdict.reason


def test_a_conditional_alias_decides_when_every_branch_agrees(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": """
                import sys
                if sys.version_info >= (3, 11):
                    from framework import SSotBase as Base
                else:
                    from framework.base import SSotBase as Base

                class TestA(Base): pass
            """,
        },
    )
    assert p.derives("test_a.py", "TestA", "framework:SSotBase").value is True


def test_a_later_unconditional_binding_replaces_earlier_ones(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "legacy.py": "class Old: pass\n",
            "test_a.py": """
                from legacy import Old as Base
                class TestOld(Base): pass
                from framework import SSotBase as Base
                class TestNew(Base): pass
            """,
        },
    )
    assert p.derives("test_a.py", "TestOld", "framework:SSotBase").value is False
    assert p.derives("test_a.py", "TestNew", "framework:SSotBase").value is True


def test_a_module_that_does_not_exist_is_unresolved(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": """
                from no_such_module_anywhere import Base
                from framework.missing import Other
                from framework.base import Missing

                class TestA(Base): pass
                class TestB(Other): pass
                class TestC(Missing): pass
            """,
        },
    )
    reasons = {}
    for name in ("TestA", "TestB", "TestC"):
        target = one(p.base_of("test_a.py", name))
        assert isinstance(target, Unresolved), name
        reasons[name] = target.reason
    assert "cannot be found" in reasons["TestA"]
    assert "does not exist in the project" in reasons["TestB"]
    assert "Missing is not defined in framework.base" in reasons["TestC"]
    assert p.derives("test_a.py", "TestA", "framework:SSotBase").value is None


def test_installed_packages_are_external_and_never_an_ssot_base(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            **FRAMEWORK,
            "test_a.py": "import unittest\nimport packaging.version\n"
            "class TestA(unittest.TestCase): pass\n"
            "class TestB(packaging.version.Version): pass\n",
        },
    )
    assert one(p.base_of("test_a.py", "TestA")) == External("unittest.case.TestCase")
    assert one(p.base_of("test_a.py", "TestB")) == External("packaging.version.Version")
    assert p.derives("test_a.py", "TestA", "framework:SSotBase").value is False
    assert p.derives("test_a.py", "TestB", "framework:SSotBase").value is False


def test_an_external_base_class_entry_is_compared_by_identity(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "test_a.py": """
                import unittest
                from unittest import IsolatedAsyncioTestCase

                class TestA(IsolatedAsyncioTestCase): pass
                class TestB: pass
                class TestC(unittest.TestCase): pass
            """,
        },
    )
    assert p.derives("test_a.py", "TestA", "unittest:TestCase").value is True
    assert p.derives("test_a.py", "TestB", "unittest:TestCase").value is False
    assert p.derives("test_a.py", "TestC", "unittest.case:TestCase").value is True


def test_nested_classes_and_generic_bases_resolve(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "shapes.py": "class Outer:\n    class Inner: pass\n",
            "test_a.py": """
                from typing import Generic, TypeVar
                from shapes import Outer

                T = TypeVar("T")

                class TestA(Outer.Inner): pass
                class TestB(Generic[T]): pass
            """,
        },
    )
    assert one(p.base_of("test_a.py", "TestA")) == ClassRef(p.path("shapes.py"), "Outer.Inner")
    assert one(p.base_of("test_a.py", "TestB")) == External("typing.Generic")


def test_a_computed_base_is_unresolved(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {"test_a.py": "def make(): return object\nBase = make()\nclass TestA(Base): pass\n"},
    )
    target = one(p.base_of("test_a.py", "TestA"))
    assert isinstance(target, Unresolved)
    assert "computed value" in target.reason


def test_resolution_never_imports_project_modules(tmp_path: Path) -> None:
    p = Project(
        tmp_path,
        {
            "boom.py": "raise SystemExit('imported!')\nclass Base: pass\n",
            "test_a.py": "from boom import Base\nclass TestA(Base): pass\n",
        },
    )
    assert one(p.base_of("test_a.py", "TestA")) == ClassRef(p.path("boom.py"), "Base")
    assert "boom" not in sys.modules


def test_lookups_are_cached(tmp_path: Path) -> None:
    p = Project(tmp_path, {**FRAMEWORK, "test_a.py": "from framework import SSotBase\n"})
    for _ in range(3):
        p.resolver.lookup(p.path("test_a.py"), "SSotBase")
    assert p.resolver.module("framework") == ModuleRef("framework", p.path("framework/__init__.py"))
    first = len(p.scans)
    p.resolver.lookup(p.path("test_a.py"), "SSotBase")
    assert len(p.scans) == first


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("framework.base:Nope", "Nope is not defined"),
        ("nowhere_at_all:Base", "cannot be found"),
    ],
)
def test_base_class_entries_that_do_not_exist_are_named(
    tmp_path: Path, entry: str, reason: str
) -> None:
    p = Project(tmp_path, FRAMEWORK)
    target = p.resolver.resolve_entry(entry)
    assert isinstance(target, Unresolved)
    assert reason in target.reason
