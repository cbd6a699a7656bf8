"""Finding test files and tests the way pytest would, from source only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from pytest_ssot import scanner
from pytest_ssot.discovery import (
    DiscoveryError,
    Fixtures,
    ModuleCollector,
    StaticTest,
    conftest_ignore_lists,
    conftests_for,
    default_paths,
    find_test_files,
    fixtures_of,
    load_pytest_settings,
    names_empty_sets_notset,
)
from pytest_ssot.paths import module_name
from pytest_ssot.resolver import ModuleIndex, Resolver
from pytest_ssot.scanner import FileFacts, direct_parameters, scan


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def static_tests(root: Path, paths: list[Path] | None = None) -> list[StaticTest]:
    settings = load_pytest_settings(root)
    files = find_test_files(settings, paths or default_paths(settings, root))
    cache: dict[Path, FileFacts] = {}

    def facts_for(path: Path) -> FileFacts | None:
        if path not in cache:
            if not path.is_file():
                return None
            cache[path] = scan(path.read_bytes(), path.name, full=True)
        return cache[path]

    roots = [settings.rootdir, *settings.pythonpath]
    for file in files:
        directory = file.parent
        while (directory / "__init__.py").is_file():
            directory = directory.parent
        roots.append(directory)
    resolver = Resolver(ModuleIndex(roots), facts_for, module_name)
    tests: list[StaticTest] = []
    for file in files:
        facts = facts_for(file)
        assert facts is not None
        if facts.error is not None:
            continue
        assert facts.structure is not None
        outer = Fixtures()
        for conftest in conftests_for(file, settings.rootdir):
            conftest_facts = facts_for(conftest)
            structure = conftest_facts.structure if conftest_facts else None
            outer.extend(fixtures_of(structure, origin=str(conftest)))
        found, _ = ModuleCollector(settings, resolver, file, facts.structure, outer).collect()
        tests.extend(found)
    return tests


def collected_as_pytest_collects(root: Path) -> set[str]:
    """The node ids discovery finds under ``root``, checked to be exactly pytest's own."""
    found = {t.nodeid for t in static_tests(root)}
    assert found == pytest_nodeids(root)
    return found


def refused_classes(root: Path, name: str) -> list[str]:
    """What discovery says pytest refuses to collect in module ``name`` (one module alone)."""
    settings = load_pytest_settings(root)
    path = root / name
    facts = scan(path.read_bytes(), path.name, full=True)
    assert facts.structure is not None
    resolver = Resolver(ModuleIndex([root]), lambda p: facts if p == path else None, module_name)
    collector = ModuleCollector(settings, resolver, path, facts.structure, fixtures_of(None))
    collector.collect()
    return collector.refused


def pytest_nodeids(root: Path, *, collection_errors: bool = False) -> set[str]:
    """What pytest itself collects (in a subprocess: the suite imports its own modules);
    ``collection_errors``: some modules or classes are expected to fail to collect."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:ssot",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore::pytest.PytestCollectionWarning",
            *(["--continue-on-collection-errors"] if collection_errors else []),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = (1,) if collection_errors else (0, 5)
    assert completed.returncode in expected, completed.stdout + completed.stderr
    # (Not the lines of a warnings summary or of collection errors, which name tests too:
    # pytest 9.2 prints its "In test_x.py::test_a: ..." message among the node ids, and
    # "test_x.py::test_a: in "parametrize" ..." for a parameter set of the wrong length.)
    return {
        line
        for line in completed.stdout.splitlines()
        if "::" in line
        and line[0] != " "
        and not line.startswith(("ERROR ", "In "))
        and ": " not in line.partition("[")[0]
    }


TRICKY_SUITE = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        python_files = ["test_*.py", "check_*.py"]
        python_classes = ["Test", "*Suite"]
        python_functions = ["test", "check_"]
    """,
    "tests/__init__.py": "",
    "tests/support/__init__.py": "",
    "tests/support/mixins.py": """
        class CommonChecks:
            def test_inherited_from_mixin(self):
                assert True

        class HasInit:
            def __init__(self):
                self.x = 1
    """,
    "tests/test_shapes.py": """
        import abc
        import unittest

        import pytest

        from tests.support.mixins import CommonChecks, HasInit


        class TestPlain:
            def test_a(self):
                pass

            def helper(self):
                pass

            @staticmethod
            def test_static():
                pass

            @pytest.fixture
            def test_looks_like_a_test_but_is_a_fixture(self):
                return 1


        class TestWithMixin(CommonChecks):
            def test_own(self):
                pass


        class TestInheritsInit(HasInit):
            def test_never_collected(self):
                pass


        class TestHasInit:
            def __init__(self):
                pass

            def test_never_collected(self):
                pass


        class TestDisabled:
            __test__ = False

            def test_never_collected(self):
                pass


        class TestAbstract(abc.ABC):
            @abc.abstractmethod
            def run(self): ...

            def test_never_collected(self):
                pass


        class MyChecksSuite:
            def check_glob_named(self):
                pass


        class Helper:
            def test_not_a_test_class(self):
                pass


        class LegacyCase(unittest.TestCase):
            def test_unittest_any_class_name(self):
                pass

            def runTest_helper(self):
                pass


        class TestOuter:
            class TestInner:
                def test_nested(self):
                    pass


        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_numbers(n):
            pass


        @pytest.mark.parametrize("word", ["a", "b", "a"])
        def test_duplicate_ids(word):
            pass


        @pytest.mark.parametrize("x", [pytest.param(1, id="one"), 2])
        @pytest.mark.parametrize("y", [None, True])
        def test_stacked(x, y):
            pass


        @pytest.mark.parametrize(("a", "b"), [(1, "x"), (2.5, object())], ids=["first", None])
        def test_tuples(a, b):
            pass


        def check_function_prefix():
            pass


        def not_a_test():
            pass
    """,
    "tests/check_second.py": """
        from tests.test_shapes import TestPlain as ImportedAgain

        def test_here():
            pass
    """,
    "tests/helpers.py": """
        def test_in_a_non_test_file():
            pass
    """,
    "tests/build/test_in_norecurse.py": "def test_x(): pass\n",
    "tests/.hidden/test_hidden.py": "def test_x(): pass\n",
}


# The suite holds an abstract test class: pytest 8.3 and later skip it, as `ssot check` does;
# earlier versions fail to collect it (a collection error).
needs_pytest_8_3 = pytest.mark.skipif(
    Version(pytest.__version__) < Version("8.3"),
    reason="pytest before 8.3 fails to collect an abstract test class",
)


@needs_pytest_8_3
def test_it_finds_the_same_tests_as_pytest_collect_only(tmp_path: Path) -> None:
    write(tmp_path, TRICKY_SUITE)
    found = collected_as_pytest_collects(tmp_path)
    # The suite really exercises the tricky shapes.
    assert "tests/test_shapes.py::TestWithMixin::test_inherited_from_mixin" in found
    assert "tests/test_shapes.py::test_stacked[y0-one]" not in found  # ids come in pytest's order
    assert any("TestHasInit" in n for n in found) is False


PARAMETER_IDS = """
    import enum
    import json
    import os.path as osp
    import typing
    from os import path

    import helpers
    import pytest
    import xml.etree.ElementTree


    class Color(enum.Enum):
        RED = 1


    class Outer:
        class Inner:
            pass


    def helper():
        pass


    @pytest.mark.parametrize("exc", [ValueError, KeyError, Exception, len, str, osp, helper])
    def test_names(exc):
        pass


    @pytest.mark.parametrize("v", [Color.RED, Outer, Outer.Inner, enum])
    def test_module_classes_and_enums(v):
        pass


    # Attributes of imported modules: the standard library's, the project's.
    @pytest.mark.parametrize(
        "v",
        [
            typing.ClassVar,
            json.JSONDecodeError,
            osp.join,
            path.sep,
            helpers.Thing,
            xml.etree.ElementTree.Element,
        ],
    )
    def test_module_attributes(v):
        pass


    @pytest.mark.parametrize("s", ["", b"", "", "0", "0"])
    def test_empty_and_duplicate_ids(s):
        pass


    @pytest.mark.parametrize("a", ["", "x"])
    @pytest.mark.parametrize("b", [""])
    def test_stacked_empty_ids(a, b):
        pass


    @pytest.mark.parametrize(
        "v",
        [None, True, False, 1.5, -1, -2.5, -0.0, 1e100, 3j, 1 + 2j, ~1, not 0, -(-3), 0x10],
    )
    def test_numbers(v):
        pass


    @pytest.mark.parametrize("v", [2**63 - 1, -(2**31), 1 << 20, 10**3, 7 // 2, 1 / 4])
    def test_arithmetic(v):
        pass


    @pytest.mark.parametrize("v", [2**70, -(3**100), 1 << 200, 2**-3, 0.5**80, 2**4000 // 2**3999])
    def test_large_powers(v):
        pass


    @pytest.mark.parametrize("v", [b"\\n\\t\\x00\\xff\\\\", "\\x00\\t\\u2603\\\\", "a b", "\\xe9"])
    def test_escapes(v):
        pass


    @pytest.mark.parametrize(
        "v",
        [pytest.param(1, id=None), pytest.param(2, id=""), pytest.param(3, id="p"), 4],
        ids=["i", "j", "k", ""],
    )
    def test_explicit_ids(v):
        pass


    @pytest.mark.parametrize(("a", "b"), [(1, (2, 3)), ((1, 2), "x"), ([1], {"a": 1}), ("", None)])
    def test_tuples(a, b):
        pass


    @pytest.mark.parametrize("v", [1, 1, 2, "1", 1, "a0", "a", "a"])
    def test_duplicates(v):
        pass


    # One name given as a list or tuple: each value is a row holding that name's value.
    @pytest.mark.parametrize(["v"], [(1,), ["x"]])
    def test_one_name_in_a_list(v):
        pass


    @pytest.mark.parametrize(("v",), [(None,)])
    def test_one_name_in_a_tuple(v):
        pass


    @pytest.mark.parametrize("v", [(1,)])
    def test_one_name_as_a_string_takes_the_tuple_whole(v):
        pass


    def shared():
        pass


    # Each of a chained assignment's names is bound to the one function.
    first = second = shared


    @pytest.mark.parametrize(("f", "g"), [(lambda: 1, first), (second, lambda x: x)])
    def test_lambdas_and_chained_names(f, g):
        pass
"""


def test_parameter_ids_are_the_ones_pytest_generates(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_ids.py": PARAMETER_IDS,
            "helpers.py": "class Thing:\n    pass\n",
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # What was wrong before: class and function names, empty ids, escapes, arithmetic.
    assert {
        "test_ids.py::test_names[ValueError]",
        "test_ids.py::test_module_classes_and_enums[Color.RED]",
        "test_ids.py::test_empty_and_duplicate_ids[0_0]",
        "test_ids.py::test_stacked_empty_ids[-x]",
        "test_ids.py::test_explicit_ids[0]",
        "test_ids.py::test_arithmetic[9223372036854775807]",
        "test_ids.py::test_large_powers[1180591620717411303424]",
        "test_ids.py::test_large_powers[1606938044258990275541962092341162602522202993782792835301376]",
        "test_ids.py::test_large_powers[2]",
        "test_ids.py::test_one_name_in_a_list[1]",
        "test_ids.py::test_one_name_in_a_list[x]",
        "test_ids.py::test_one_name_in_a_tuple[None]",
        "test_ids.py::test_one_name_as_a_string_takes_the_tuple_whole[v0]",
        "test_ids.py::test_module_attributes[ClassVar]",
        "test_ids.py::test_module_attributes[Thing]",
        "test_ids.py::test_module_attributes[Element]",
        "test_ids.py::test_lambdas_and_chained_names[<lambda>-shared]",
        "test_ids.py::test_lambdas_and_chained_names[shared-<lambda>]",
    } <= found


IMPORTED_CASES = {
    "pytest.ini": "[pytest]\n",
    "tests/__init__.py": "",
    "tests/cases.py": """
import enum

import pytest

TIMEOUT = 30


class Color(enum.Enum):
    RED = 1


class Widget:
    pass


def build():
    pass


make = made = build
CASES = [
    1, "two", (3, 4), pytest.param(5, id="five"), None, TIMEOUT, Widget, Color.RED, lambda: 0
]
MADE = [make, made]
PAIRS = [(1, 2), ("a", "b"), pytest.param(3, 4, id="p"), [{"k": 1}, 2.5]]
SAME = (7, 7, "x")
NONE = []
SQUARES = [n * n for n in range(3)]
# Named again, only to be read: the lists are still known.
ALL = [*PAIRS, *SAME]
__all__ = ["CASES", "PAIRS", "SAME", "NONE", "SQUARES", "ALL", "Color", "Widget", "TIMEOUT", "MADE"]
""",
    "tests/shared/__init__.py": "from ..cases import PAIRS as ROWS\n",
    "tests/test_imported.py": """
import pytest

import tests.cases as c
from tests import cases
from tests.cases import CASES, NONE, PAIRS, SAME
from tests.shared import ROWS

from .cases import *


@pytest.mark.parametrize("x", CASES)
def test_values(x):
    pass


@pytest.mark.parametrize("a,b", PAIRS)
def test_rows(a, b):
    pass


@pytest.mark.parametrize(("a", "b"), ROWS)
def test_rows_through_a_package(a, b):
    pass


@pytest.mark.parametrize("x", cases.SAME)
def test_duplicates_made_unique(x):
    pass


@pytest.mark.parametrize("x", c.SQUARES, indirect=False)
def test_comprehension(x):
    pass


@pytest.mark.parametrize("x", NONE)
def test_empty(x):
    pass


@pytest.mark.parametrize("f", MADE)
def test_chained_names(f):
    pass


@pytest.mark.parametrize("f", [c.make, c.made])
def test_chained_names_imported_one_by_one(f):
    pass


class TestInAClass:
    @pytest.mark.parametrize("a,b", PAIRS)
    @pytest.mark.parametrize("x", SAME)
    def test_stacked(self, x, a, b):
        pass


@pytest.fixture(params=SQUARES)
def square(request):
    return request.param


def test_fixture_params(square):
    pass
""",
}


def test_a_parameter_list_imported_from_another_module_gives_pytest_ids(tmp_path: Path) -> None:
    write(tmp_path, IMPORTED_CASES)
    found = collected_as_pytest_collects(tmp_path)
    # Each was one test by its name before (how many there are was not known).
    assert {
        "tests/test_imported.py::test_values[x2]",
        "tests/test_imported.py::test_values[five]",
        "tests/test_imported.py::test_values[30]",
        "tests/test_imported.py::test_values[Widget]",
        "tests/test_imported.py::test_values[Color.RED]",
        "tests/test_imported.py::test_rows[p]",
        "tests/test_imported.py::test_rows[a3-2.5]",
        "tests/test_imported.py::test_rows_through_a_package[a-b]",
        "tests/test_imported.py::test_duplicates_made_unique[7_1]",
        "tests/test_imported.py::test_comprehension[4]",
        "tests/test_imported.py::TestInAClass::test_stacked[7_0-p]",
        "tests/test_imported.py::test_fixture_params[1]",
        "tests/test_imported.py::test_values[<lambda>]",
        "tests/test_imported.py::test_chained_names[build0]",
        "tests/test_imported.py::test_chained_names_imported_one_by_one[build1]",
    } <= found
    assert not {n for n in found if n.endswith(("test_values", "test_rows", "test_empty"))}


def test_imported_lists_are_told_the_same_once_the_text_search_budget_is_spent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module searched past its budget takes every list as named again: its elements are
    then worked out when another module parametrizes with one, with the same ids."""
    write(tmp_path, IMPORTED_CASES)
    told = {t.nodeid for t in static_tests(tmp_path)}
    monkeypatch.setattr(scanner, "_SEARCH_BUDGET", 0)
    assert {t.nodeid for t in static_tests(tmp_path)} == told
    assert "tests/test_imported.py::test_values[five]" in told


def test_an_imported_list_whose_elements_cannot_be_told_there_is_one_test(tmp_path: Path) -> None:
    """Where the ids are not known for sure the function is one test by its name, never
    made-up ids: a list changed in place (by its module or the importing one), an element
    that names what its module imports, a list bound in branches, ``ids=`` given."""
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "colors.py": "import enum\n\n\nclass Color(enum.Enum):\n    RED = 1\n",
            "cases.py": (
                "from colors import Color\n\n"
                "GROWN = [1]\nGROWN.append(2)\nIMPORTED = [Color.RED, 2]\nKEPT = [1, 2]\n"
                "if Color.RED.value:\n    MAYBE = [1, 2]\nelse:\n    MAYBE = [1]\n"
                "ROWS = [(1, 2, 3)]\n"
            ),
            "test_it.py": (
                "import pytest\n\nfrom cases import GROWN, IMPORTED, KEPT, MAYBE\n"
                "from cases import GROWN as RENAMED\n\n"
                "KEPT.append(3)\n\n\n"
                '@pytest.mark.parametrize("x", GROWN)\ndef test_grown(x):\n    pass\n\n\n'
                '@pytest.mark.parametrize("x", IMPORTED)\ndef test_imported(x):\n    pass\n\n\n'
                '@pytest.mark.parametrize("x", KEPT)\ndef test_kept(x):\n    pass\n\n\n'
                '@pytest.mark.parametrize("x", MAYBE)\ndef test_maybe(x):\n    pass\n\n\n'
                '@pytest.mark.parametrize("x", GROWN, ids=str)\ndef test_ids(x):\n    pass\n\n\n'
                '@pytest.mark.parametrize("x", RENAMED)\ndef test_renamed(x):\n    pass\n'
            ),
            "more.py": "STAR = [1, 2]\n",
            "test_star.py": (
                "import pytest\n\nfrom more import *\n\nSTAR.append(3)\n\n\n"
                '@pytest.mark.parametrize("x", STAR)\ndef test_star(x):\n    pass\n'
            ),
            # pytest refuses rows of three values for two names: not guessed either.
            "test_rows.py": (
                "import pytest\n\nfrom cases import ROWS\n\n\n"
                '@pytest.mark.parametrize("a,b", ROWS)\ndef test_rows(a, b):\n    pass\n'
            ),
        },
    )
    names = ("grown", "imported", "kept", "maybe", "ids", "renamed")
    assert {t.nodeid for t in static_tests(tmp_path)} == {
        *(f"test_it.py::test_{name}" for name in names),
        "test_star.py::test_star",
        "test_rows.py::test_rows",
    }
    # pytest makes two or three tests of each of them.
    by_pytest = pytest_nodeids(tmp_path, collection_errors=True)
    for name in names:
        assert len({n for n in by_pytest if n.startswith(f"test_it.py::test_{name}[")}) >= 2


COMPREHENSION_IDS = """
    from typing import Final

    import pytest

    KINDS: Final[list] = [pytest.param(kind, id=kind) for kind in ("config", "data")]
    EXISTING = [*(pytest.param(k, id=k) for k in ("a", "b")), pytest.param("c", id="last")]
    NUMBERS = [n * 2 for n in range(3)]
    PAIRS = [(a, b) for a in (1, 2) for b in ("x", "y")]
    SWAPPED = [(b, a) for a, b in [(1, "p"), (2, "q")]]
    ERRORS = [ValueError, KeyError]
    LOCAL = "module"


    @pytest.mark.parametrize("kind", KINDS)
    def test_bound_comprehension(kind):
        pass


    @pytest.mark.parametrize("kind", [*EXISTING, *KINDS])
    def test_spliced(kind):
        pass


    @pytest.mark.parametrize("n", NUMBERS)
    def test_over_a_range(n):
        pass


    @pytest.mark.parametrize("a,b", PAIRS)
    def test_two_loops(a, b):
        pass


    @pytest.mark.parametrize(("b", "a"), SWAPPED)
    def test_unpacked(b, a):
        pass


    # Not a generator itself: pytest 9.2 deprecates parametrizing over one.
    @pytest.mark.parametrize("e", [pytest.param(e) for e in ERRORS])
    def test_names_through_a_loop(e):
        pass


    @pytest.mark.parametrize("v", [x for x in (1, 2)], ids=[f"i{x:02}" for x in (1, 2)])
    def test_formatted_ids(v):
        pass


    @pytest.fixture(params=[p for p in ("low", "high")])
    def level(request):
        return request.param


    def test_fixture_params(level):
        pass


    class TestScopes:
        LOCAL = "class"

        # A comprehension's element does not see the class body; its first iterable does.
        @pytest.mark.parametrize("v", [LOCAL for _ in (1, 2)])
        def test_element_reads_the_module(self, v):
            pass

        @pytest.mark.parametrize("v", [x for x in (LOCAL,)])
        def test_first_iterable_reads_the_class(self, v):
            pass
"""


@pytest.mark.parametrize(
    "source",
    [
        # make() is a value's maker, not a value: it runs (and adds to CASES) where the mark
        # is, before the second decorator is given CASES.
        "import pytest\n\nCASES = [1]\n\n\ndef make():\n    CASES.append(2)\n    return [3]\n\n\n"
        '@pytest.mark.parametrize("a", [pytest.param(v) for v in make()])\n'
        "def test_a(a):\n    pass\n\n\n"
        '@pytest.mark.parametrize("b", CASES)\ndef test_b(b):\n    pass\n',
        # grow is given to a call, which may call it.
        "import pytest\n\nCASES = [1]\n\n\ndef grow():\n    CASES.append(2)\n\n\n"
        "def apply(f):\n    return f()\n\n\n"
        '@pytest.mark.parametrize("a", [pytest.param(x) for x in map(apply, [grow])])\n'
        "def test_a(a):\n    pass\n\n\n"
        '@pytest.mark.parametrize("b", CASES)\ndef test_b(b):\n    pass\n',
        # The decorators are given the objects themselves, which pytest reads only after the
        # module ran to its end: 3 tests and 2 (never [1] and [2], and [a]).
        'import pytest\n\nCASES = [1, 2]\nTABLE = {"a": 1}\n\n\n'
        '@pytest.mark.parametrize("a", CASES)\ndef test_a(a):\n    pass\n\n\n'
        '@pytest.mark.parametrize("b", TABLE)\ndef test_b(b):\n    pass\n\n\n'
        'CASES += [3]\nTABLE |= {"b": 2}\n',
    ],
    ids=["called-in-a-mark", "given-to-a-call-in-a-mark", "changed-below-the-decorator"],
)
def test_lists_the_module_changes_as_it_runs_are_not_guessed(tmp_path: Path, source: str) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_changed.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == [
        "test_changed.py::test_a",
        "test_changed.py::test_b",
    ]


COPIED_BEFORE_A_CHANGE = """
    import pytest

    CASES = [1, 2]
    TABLE = {"a": 1}


    @pytest.mark.parametrize("v", tuple(CASES))
    def test_tuple(v):
        pass


    @pytest.mark.parametrize("k", sorted(TABLE))
    def test_sorted(k):
        pass


    @pytest.mark.parametrize("v", [c * 10 for c in CASES])
    def test_comprehension(v):
        pass


    @pytest.mark.parametrize("v", [*CASES, 0])
    def test_spliced(v):
        pass


    for extra in (3, 4):
        CASES.append(extra)
    TABLE |= {"b": 2}
"""


def test_a_copy_taken_before_a_change_in_place_is_told_as_it_was(tmp_path: Path) -> None:
    # tuple(), sorted(), a comprehension and a splice copy where they are; what changes the
    # list or dict afterwards does not reach the copy.
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_copied.py": COPIED_BEFORE_A_CHANGE})
    found = collected_as_pytest_collects(tmp_path)
    assert {"test_copied.py::test_tuple[2]", "test_copied.py::test_spliced[0]"} <= found
    assert len(found) == 2 + 1 + 2 + 3


@pytest.mark.parametrize(
    ("parameters", "change_below"),
    [
        # Copied after the change.
        ("tuple(CASES)", False),
        ("list(reversed(CASES))", False),
        ("[c for c in CASES]", False),
        # Not copied: read by pytest after the module ran, changes below it included.
        ("reversed(CASES)", True),
        ("TABLE.keys()", True),
        ("TABLE", True),
    ],
)
def test_a_list_read_after_a_change_in_place_is_not_guessed(
    tmp_path: Path, parameters: str, change_below: bool
) -> None:
    change = 'CASES.append(3)\nTABLE["b"] = 2\n'
    source = (
        'import pytest\n\nCASES = [1, 2]\nTABLE = {"a": 1}\n'
        + ("" if change_below else change)
        + f'\n\n@pytest.mark.parametrize("v", {parameters})\ndef test_v(v):\n    pass\n\n\n'
        + (change if change_below else "")
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_after.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == ["test_after.py::test_v"]


def test_a_list_that_splices_itself_is_one_test_not_a_loop(tmp_path: Path) -> None:
    # `CASES = [*CASES, 2]` over several lines reads the binding above; told from where the
    # starred name is written it would read itself: what cannot be told is one test.
    source = (
        "import pytest\n\nCASES = [1]\nCASES = [\n    *CASES,\n    2,\n]\n\n\n"
        '@pytest.mark.parametrize("v", CASES)\ndef test_v(v):\n    pass\n'
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_self.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == ["test_self.py::test_v"]


def test_a_comprehension_over_a_list_with_an_unknown_part_is_one_test(tmp_path: Path) -> None:
    # `(*cases(), 4)` holds as many values as cases() returns: never two loop values.
    source = (
        "import pytest\n\n\ndef cases():\n    return [1, 2, 3]\n\n\n"
        '@pytest.mark.parametrize("v", [pytest.param(x) for x in (*cases(), 4)])\n'
        "def test_v(v):\n    pass\n"
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_unknown.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == ["test_unknown.py::test_v"]


def test_a_comprehension_making_more_values_than_a_suite_has_is_one_test(tmp_path: Path) -> None:
    # 10**10 rows are never built (a hostile or generated file): counted as one test.
    source = (
        "import pytest\n\n\n"
        '@pytest.mark.parametrize("a,b", [(a, b) for a in range(10**5) for b in range(10**5)])\n'
        "def test_v(a, b):\n    pass\n"
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_many.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == ["test_many.py::test_v"]


def test_powers_too_large_to_work_out_give_position_ids(tmp_path: Path) -> None:
    # Never computed (10**10**10 would take the scan hours): pytest's ids are the values'
    # digits, which only importing the module tells. Not run by pytest here for that reason.
    source = (
        "import pytest\n\n\n"
        '@pytest.mark.parametrize("v", [10**10**10, 1 << 10**10, 7**10**6, 2**4097, 2**70])\n'
        "def test_v(v):\n    pass\n"
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_huge.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == [
        f"test_huge.py::test_v[{i}]" for i in ("v0", "v1", "v2", "v3", 2**70)
    ]


CALL_MADE_IDS = """
    from __future__ import annotations

    import types
    from types import MappingProxyType

    import pytest

    TABLE = {"b": 2, "a": 1, "b": 3}
    FROZEN = MappingProxyType({"x": 1, "y": 2})
    WRAPPED = types.MappingProxyType(TABLE)
    WORDS = ("pear", "apple", "fig")
    NUMBERS = [3, 1.5, 2, True]
    ORDERED = sorted(WORDS)
    LOCAL = "module"


    @pytest.mark.parametrize("key", list(TABLE))
    def test_list_of_a_dict(key):
        pass


    @pytest.mark.parametrize("key", sorted(FROZEN, reverse=True))
    def test_sorted_mapping_proxy(key):
        pass


    @pytest.mark.parametrize("key", TABLE.keys())
    def test_keys(key):
        pass


    @pytest.mark.parametrize("value", list(TABLE.values()))
    def test_values(value):
        pass


    @pytest.mark.parametrize("key,value", WRAPPED.items())
    def test_items(key, value):
        pass


    @pytest.mark.parametrize("key", TABLE)
    def test_the_dict_itself(key):
        pass


    @pytest.mark.parametrize("n", sorted(NUMBERS))
    def test_sorted_numbers(n):
        pass


    @pytest.mark.parametrize("w", ORDERED)
    def test_bound_sorted(w):
        pass


    @pytest.mark.parametrize("w", tuple(reversed(WORDS)))
    def test_reversed(w):
        pass


    @pytest.mark.parametrize("c", list("ab"))
    def test_characters(c):
        pass


    @pytest.mark.parametrize("i", list(range(2)))
    def test_list_of_a_range(i):
        pass


    @pytest.mark.parametrize("k", [pytest.param(k, id=f"k-{k}") for k in sorted(TABLE)])
    def test_comprehension_over_sorted(k):
        pass


    CASES = (("a", "first"), ("b", "second"))


    @pytest.mark.parametrize(("v", "name"), [pytest.param(*c, id=c[-1]) for c in CASES])
    def test_indexed_ids(v, name):
        pass


    class TestClassBody:
        WORDS = ["zeta", "eta"]

        @pytest.mark.parametrize("w", sorted(WORDS))
        def test_reads_the_class(self, w):
            pass


    # What a test does to the dict or the list happens after they were parametrized.
    def test_patches_the_table(monkeypatch):
        monkeypatch.setitem(TABLE, "c", 4)
        WORDS.sort()


    def refresh():
        TABLE.clear()


    class Row(dict):
        def __init__(self):
            TABLE.clear()


    # Annotations that are never evaluated (postponed): Row is never used here.
    LAST: Row | None = None


    def test_annotated(row: Row | None = None):
        pass


    # A parameter's value, not run as the module is imported.
    @pytest.mark.parametrize("f", [pytest.param(refresh, id="refresh")])
    def test_function_as_a_value(f):
        pass


    if __name__ == "__main__":
        refresh()
"""


FILTERED_IDS = """
    import pytest

    CASES = [1, 2, 3, 4]
    NAMES = ("alpha", "beta", "", "gamma")


    @pytest.mark.parametrize("v", [c for c in CASES if c % 2 == 0])
    def test_even(v):
        pass


    @pytest.mark.parametrize("n", [pytest.param(n, id=f"n-{n}") for n in NAMES if n != "beta" if n])
    def test_two_conditions(n):
        pass


    @pytest.mark.parametrize(("a", "b"), [(a, b) for a in (1, 2, 3) for b in (1, 2) if a < b])
    def test_a_later_loop(a, b):
        pass


    @pytest.mark.parametrize("v", [c for c in CASES if c in (1, 4) or not c - 3])
    def test_in_or_not(v):
        pass


    @pytest.mark.parametrize("v", [c for c in CASES if 1 < c <= 3 and c is not None])
    def test_chain_and_is(v):
        pass


    @pytest.mark.parametrize("n", [n for n in NAMES if "mm" in n or n and n[0] == "b"])
    def test_substring(n):
        pass


    @pytest.mark.parametrize("v", [c for c in (0, 1, "x") if c or c == 0])
    def test_short_circuit(v):
        pass
"""


ENUM_IDS = """
    import enum
    from enum import Enum, IntEnum

    import pytest


    class Color(Enum):
        \"\"\"Colours.\"\"\"

        RED = 1
        GREEN = "g"
        CRIMSON = 1.0  # an alias of RED: iterating leaves it out
        BLUE = 2.5

        def describe(self):
            return self.name


    @enum.unique
    class Level(IntEnum):
        LOW = 1
        HIGH = 2


    @pytest.mark.parametrize("c", Color)
    def test_the_class(c):
        pass


    @pytest.mark.parametrize("c", list(Color))
    def test_list(c):
        pass


    @pytest.mark.parametrize("c", [pytest.param(c, id=f"x{i}") for i in (1, 2) for c in Level])
    def test_comprehension(c):
        pass


    @pytest.mark.parametrize(("c", "d"), [(c, d) for c in Level for d in Color])
    def test_two_enums(c, d):
        pass


    @pytest.mark.parametrize("c", reversed(list(Level)))  # reversed(Level) is a generator
    def test_reversed(c):
        pass


    @pytest.mark.parametrize("c", [*Color, None])
    def test_spliced(c):
        pass
"""


PRODUCT_IDS = """
    import itertools
    from itertools import product as cross

    import pytest

    SIZES = (1, 2)
    KINDS = ["a", "b", "c"]


    @pytest.mark.parametrize(("size", "kind"), itertools.product(SIZES, KINDS))
    def test_product(size, kind):
        pass


    @pytest.mark.parametrize(("x", "y"), list(cross(SIZES, repeat=2)))
    def test_repeat(x, y):
        pass


    @pytest.mark.parametrize("pair", list(cross("ab", range(2))))
    def test_one_name(pair):
        pass


    @pytest.mark.parametrize(
        ("size", "kind"), [pytest.param(s, k, id=f"{k}{s}") for s, k in cross(SIZES, KINDS)]
    )
    def test_comprehension(size, kind):
        pass


    @pytest.mark.parametrize(("size", "kind"), itertools.product(SIZES, []))
    def test_empty(size, kind):
        pass
"""


@pytest.mark.parametrize(
    ("source", "some", "count"),
    [
        pytest.param(
            COMPREHENSION_IDS,
            [
                "test_bound_comprehension[data]",
                "test_spliced[last]",
                "test_spliced[config]",
                "test_over_a_range[4]",
                "test_two_loops[2-y]",
                "test_unpacked[q-2]",
                "test_names_through_a_loop[KeyError]",
                "test_formatted_ids[i02]",
                "test_fixture_params[high]",
                "TestScopes::test_element_reads_the_module[module1]",
                "TestScopes::test_first_iterable_reads_the_class[class]",
            ],
            25,
            id="comprehensions-and-spliced-lists",
        ),
        pytest.param(
            CALL_MADE_IDS,
            [
                "test_list_of_a_dict[b]",
                "test_sorted_mapping_proxy[y]",
                "test_keys[a]",
                "test_values[3]",
                "test_items[b-3]",
                "test_the_dict_itself[a]",
                "test_sorted_numbers[True]",
                "test_bound_sorted[apple]",
                "test_reversed[fig]",
                "test_characters[b]",
                "test_list_of_a_range[1]",
                "test_comprehension_over_sorted[k-a]",
                "TestClassBody::test_reads_the_class[eta]",
                "test_indexed_ids[second]",
                "test_function_as_a_value[refresh]",
            ],
            35,
            id="builtin-calls-and-dicts",
        ),
        pytest.param(
            FILTERED_IDS,
            [
                "test_even[4]",
                "test_two_conditions[n-gamma]",
                "test_a_later_loop[1-2]",
                "test_in_or_not[3]",
                "test_chain_and_is[2]",
                "test_substring[gamma]",
                "test_short_circuit[x]",
            ],
            2 + 2 + 1 + 3 + 2 + 2 + 3,
            id="comprehensions-with-conditions",
        ),
        pytest.param(
            ENUM_IDS,
            [
                "test_the_class[Color.BLUE]",
                "test_list[Color.GREEN]",
                "test_comprehension[x2_1]",
                f"test_two_enums[{'Level.HIGH' if sys.version_info < (3, 11) else '2'}-Color.RED]",
                f"test_reversed[{'Level.LOW' if sys.version_info < (3, 11) else '1'}]",
                "test_spliced[None]",
            ],
            3 + 3 + 4 + 6 + 2 + 4,
            id="enum-classes",
        ),
        pytest.param(
            PRODUCT_IDS,
            [
                "test_product[2-c]",
                "test_repeat[1-2]",
                "test_one_name[pair3]",
                "test_comprehension[b2]",
            ],
            6 + 4 + 4 + 6 + 1,
            id="itertools-product",
        ),
    ],
)
def test_parameter_ids_made_from_written_values_are_pytests(
    tmp_path: Path, source: str, some: list[str], count: int
) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_ids.py": source})
    found = collected_as_pytest_collects(tmp_path)
    # Each function was one test before, without that part of its id.
    assert {f"test_ids.py::{nodeid}" for nodeid in some} <= found
    assert len(found) == count


_STRINGS = st.lists(
    st.sampled_from(["a", "b", "B", "a b", "\u00e4", "", "x\ty"]), min_size=1, max_size=5
)
_NUMBERS = st.lists(
    st.one_of(st.integers(-3, 3), st.sampled_from([1.5, -0.0, 2.0]), st.booleans()),
    min_size=1,
    max_size=5,
)
# How a list of values may reach parametrize; {L} a list display, {D} a dict display of them.
_SHAPES = [
    "{L}",
    "list({L})",
    "tuple({L})",
    "sorted({L})",
    "sorted({L}, reverse=True)",
    "list(reversed({L}))",
    "{D}",
    "list({D})",
    "sorted({D})",
    "{D}.keys()",
    "{D}.values()",
    "{D}.items()",
    "[pytest.param(v) for v in sorted({L})]",
]


# Each example runs pytest once; SSOT_IDS_EXAMPLES=500 python -m pytest -p no:ssot -k
# any_written_values tests/test_discovery.py looks further.
@settings(
    max_examples=int(os.environ.get("SSOT_IDS_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cases=st.lists(
        st.tuples(st.one_of(_STRINGS, _NUMBERS), st.sampled_from(_SHAPES), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_builtin_calls_over_any_written_values_give_pytests_ids(
    tmp_path_factory: pytest.TempPathFactory, cases: list[tuple[list[Any], str, bool]]
) -> None:
    lines = ["import pytest", ""]
    for index, (values, shape, bound) in enumerate(cases):
        displays = {
            "L": repr(values),
            "D": "{" + ", ".join(f"{v!r}: {i}" for i, v in enumerate(values)) + "}",
        }
        if bound:  # through names bound above the decorator
            for key, text in displays.items():
                lines.append(f"{key}{index} = {text}")
                displays[key] = f"{key}{index}"
        argvalues = shape.format(**displays)
        lines += [
            "",
            f"@pytest.mark.parametrize('v', {argvalues})",
            f"def test_{index}(v):",
            "    pass",
            "",
        ]
    root = tmp_path_factory.mktemp("ids")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (root / "test_ids.py").write_text("\n".join(lines), encoding="utf-8")
    assert {t.nodeid for t in static_tests(root)} == pytest_nodeids(root)


@pytest.mark.parametrize(
    ("bound", "parameters"),
    [
        # What may change the dict or list before the decorator reads it, or cannot be told.
        ('TABLE = {"a": 1}\nTABLE["b"] = 2\n', "list(TABLE)"),
        ('TABLE = {"a": 1}\nTABLE.update(b=2)\n', "TABLE.keys()"),
        ('TABLE = {"a": 1, **{"b": 2}}\n', "list(TABLE)"),
        ("TABLE = {str(1): 1}\n", "list(TABLE)"),
        ('WORDS = ["b", 1]\n', "sorted(WORDS)"),
        ('WORDS = ["bb", "a"]\n', "sorted(WORDS, key=len)"),
        ('WORDS = ["b", "a"]\nsorted = reversed\n', "sorted(WORDS)"),
        ('WORDS = ["b", "a"]\n', "sorted(*WORDS)"),
        ("", "reversed(x for x in (1, 2))"),
        ("TABLE = dict(a=1)\n", "list(TABLE)"),
        # A function that changes it, run while the module is imported.
        ("CASES = [1]\ndef add():\n    CASES.append(2)\nadd()\n", "CASES"),
        (
            "CASES = [1]\ndef deco(f):\n    CASES.append(2)\n    return f\n@deco\ndef g(): ...\n",
            "CASES",
        ),
        (
            'TABLE = {"a": 1}\nclass T:\n    def fill(self):\n        TABLE.update(b=2)\n'
            "    go = fill\n",
            "TABLE",
        ),
        (
            "CASES = [1]\nclass Add:\n    def __init__(self):\n        CASES.append(2)\nAdd()\n",
            "CASES",
        ),
        (
            "CASES = [1]\nclass Base:\n    def __init_subclass__(cls):\n        CASES.append(2)\n"
            "class Sub(Base): ...\n",
            "CASES",
        ),
        (
            'CASES = [1]\ndef add():\n    CASES.append(2)\nif __name__ == "__main__":\n    pass\n'
            "else:\n    add()\n",
            "CASES",
        ),
        # A comprehension's condition that cannot be told from literal values.
        ("SKIP = 2\n", "[c for c in (1, 2) if c != SKIP]"),
        ("", "[c for c in (1, 2) if c.real]"),
        ("", "[c for c in (1, 2) if c is 1]"),
        ("", '[c for c in (1, "a") if c < 2]'),
        ("", "[c for c in (1, 2) if c in (1, *())]"),
        ("", "[c for c in (1, 2) if (d := c)]"),
        ("", "[c for c in (1, 2) if c == 1 or c.real]"),
        ("", "[c for c in (1, 2) if [x for x in (c,)]]"),
        # An enum whose members iterating it gives are not told here.
        ("import enum\nclass E(enum.Enum):\n    A = enum.auto()\n", "E"),
        ("import enum\nclass E(enum.Flag):\n    A = 1\n    AB = 3\n", "list(E)"),
        ("import enum\nclass E(enum.Enum):\n    _ignore_ = []\n    A = 1\n", "E"),
        ("import enum\nclass E(enum.Enum):\n    A = 1\n    class B: ...\n", "E"),
        ("import enum\nclass E(enum.Enum):\n    A = 1\n    def _missing_(c, v): ...\n", "E"),
        ("import enum\nclass E(enum.Enum):\n    A = 1\n    B, C = 2, 3\n", "E"),
        ("import enum\nclass E(float, enum.Enum):\n    A = 1.5\n", "E"),
        ("import enum\nclass E(str, enum.Enum):\n    A = 1\n", "E"),  # str(1): not told
        ("import enum\nclass E(enum.Enum):\n    pass\n", "E"),
        ("import enum\ndef keep(c):\n    return c\n@keep\nclass E(enum.Enum):\n    A = 1\n", "E"),
        ("import enum\nclass E(enum.Enum):\n    A = 1\nE = [1, 2, 3]\n", "[*E, 4][:1]"),
        # A product of what cannot be told, or of more than a suite's values.
        ("import itertools\nN = int('2')\n", "itertools.product((1, 2), repeat=N)"),
        ("import itertools\nPOOLS = [(1,), (2,)]\n", "itertools.product(*POOLS)"),
        ("import itertools\n", "itertools.product((1, 2), sorted({3, 4}))"),
        ("import itertools\n", "itertools.product(range(200), range(200), (1,))"),
        ("import itertools\n", "itertools.product((1,), repeat=10**9)"),
        ("from itertools import product\nCASES = [1]\nCASES.append(2)\n", "product(CASES)"),
    ],
)
def test_call_made_parameters_that_cannot_be_told_stay_one_test(
    tmp_path: Path, bound: str, parameters: str
) -> None:
    source = (
        f"import pytest\n\n{bound}\n\n"
        f'@pytest.mark.parametrize("v", {parameters})\ndef test_v(v):\n    pass\n'
    )
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_unknown.py": source})
    assert [t.nodeid for t in static_tests(tmp_path)] == ["test_unknown.py::test_v"]


CONSTANT_IDS = """
    import enum

    import pytest

    TIMEOUT = 30
    NAME: str = "svc\\n"
    LIMIT = 2**10 - 1
    RAW = b"\\x00"
    CHANGED = 1
    CHANGED = 2


    class Size(enum.IntEnum):
        SMALL = 1
        LARGE = 10


    class Perm(enum.IntFlag):
        READ = 4


    class Word(enum.StrEnum):
        HELLO = "hi\\tthere"


    @pytest.mark.parametrize("v", [TIMEOUT, NAME, LIMIT, RAW, CHANGED])
    def test_module_constants(v):
        pass


    @pytest.mark.parametrize("v", [CHANGED])
    def test_read_when_decorated(v):
        pass


    CHANGED = 3


    @pytest.mark.parametrize("v", [Size.SMALL, Size.LARGE, Perm.READ, Word.HELLO])
    def test_int_and_str_enums(v):
        pass


    @pytest.mark.parametrize("v", [TIMEOUT], ids=[NAME])
    def test_constant_as_explicit_id(v):
        pass


    class TestShadowing:
        TIMEOUT = "class-level"
        OTHER = object()

        @pytest.mark.parametrize("v", [TIMEOUT, LIMIT, OTHER])
        def test_class_body_first(self, v):
            pass
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="enum.StrEnum is new in Python 3.11")
def test_parameter_ids_of_names_bound_to_constants_are_pytests(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_ids.py": CONSTANT_IDS})
    found = collected_as_pytest_collects(tmp_path)
    # Not argument name and index any more: constants bound once (or last bound above the
    # decorator), int and str enums, a class body's own constant before the module's.
    assert {
        "test_ids.py::test_module_constants[30]",
        "test_ids.py::test_module_constants[svc\\n]",
        "test_ids.py::test_module_constants[1023]",
        "test_ids.py::test_module_constants[\\x00]",
        "test_ids.py::test_module_constants[2]",
        "test_ids.py::test_read_when_decorated[2]",
        "test_ids.py::test_int_and_str_enums[10]",
        "test_ids.py::test_int_and_str_enums[hi\\tthere]",
        "test_ids.py::test_constant_as_explicit_id[svc\\n]",
        "test_ids.py::TestShadowing::test_class_body_first[class-level]",
    } <= found


def test_members_of_enums_mixing_in_str_or_int_have_pytests_ids(tmp_path: Path) -> None:
    source = """
        import enum
        from enum import Enum

        import pytest


        class Color(str, Enum):
            RED = "red"
            CRIMSON = "red"  # an alias: iterating leaves it out
            BLUE = "bl\\tue"


        class Level(int, enum.Enum):
            LOW = 1
            HIGH = 2


        class Loud(str, Enum):
            A = "a"

            def __str__(self):
                return "loud"


        class Shown(Enum):  # how it shows its members: not which members it has
            A = 1

            def __repr__(self):
                return "r"

            def __format__(self, spec):
                return "f"


        @pytest.mark.parametrize("c", Shown)
        def test_shown(c):
            pass


        @pytest.mark.parametrize("c", [Color.RED, Color.BLUE, Level.HIGH])
        def test_members(c):
            pass


        @pytest.mark.parametrize("c", Color)
        def test_str_members(c):
            pass


        @pytest.mark.parametrize("c", list(Level))
        def test_int_members(c):
            pass


        @pytest.mark.parametrize("c", Loud)
        def test_own_str(c):
            pass
    """
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_ids.py": source})
    found = collected_as_pytest_collects(tmp_path)
    # A str member is the string it is; an int member's str() is its name, as a plain enum's.
    assert {
        "test_ids.py::test_members[red]",
        "test_ids.py::test_members[bl\\tue]",
        "test_ids.py::test_members[Level.HIGH]",
        "test_ids.py::test_str_members[red]",
        "test_ids.py::test_str_members[bl\\tue]",
        "test_ids.py::test_int_members[Level.LOW]",
        "test_ids.py::test_int_members[Level.HIGH]",
        "test_ids.py::test_own_str[a]",
        "test_ids.py::test_shown[Shown.A]",
    } <= found


LIST_IDS = """
    import pytest

    TIMEOUT = 30
    VERSIONS = ["1.0", "2.0", "1.0"]
    PAIRS: tuple = ((1, "a"), pytest.param(2, "b", id="second"), [3, None])
    IDS = ["x", "y"]
    WITH_NAMES = [TIMEOUT, ValueError]
    CHANGED = [1]
    CHANGED = [1, 2, 3]


    @pytest.mark.parametrize("v", VERSIONS)
    def test_module_list(v):
        pass


    @pytest.mark.parametrize(("n", "s"), PAIRS)
    def test_tuple_of_pairs(n, s):
        pass


    @pytest.mark.parametrize(argnames="v", argvalues=[1, 2], ids=IDS)
    def test_ids_by_name(v):
        pass


    @pytest.mark.parametrize("v", CHANGED)
    def test_last_binding(v):
        pass


    @pytest.mark.parametrize("i", range(3))
    @pytest.mark.parametrize("j", range(1, 10, 4))
    def test_ranges(i, j):
        pass


    class TestInClass:
        TIMEOUT = "class-level"
        CASES = ["c1", "c2"]

        @pytest.mark.parametrize("v", CASES)
        def test_class_list(self, v):
            pass

        @pytest.mark.parametrize("v", WITH_NAMES)
        def test_module_list_read_where_it_is(self, v):
            pass

        @pytest.mark.parametrize("v", range(2))
        def test_range_in_class(self, v):
            pass


    class TestMarkAlias:
        cases = pytest.mark.parametrize("v", [pytest.param(1, id="one"), 2])

        @cases
        def test_aliased_in_class(self, v):
            pass
"""

TOUCHED_LISTS = """
    import pytest

    APPENDED = [1, 2]
    APPENDED.append(3)
    ALIASED = [1]
    OTHER = ALIASED
    OTHER.append(2)


    def grow(values):
        values.append(9)


    GROWN = [1]
    grow(GROWN)


    @pytest.mark.parametrize("v", APPENDED)
    def test_appended(v):
        pass


    @pytest.mark.parametrize("v", ALIASED)
    def test_aliased(v):
        pass


    @pytest.mark.parametrize("v", GROWN)
    def test_grown(v):
        pass


    @pytest.mark.parametrize("v", [*APPENDED, 4])
    def test_starred(v):
        pass


    class TestShadowedRange:
        def range(stop):
            return [stop]

        @pytest.mark.parametrize("v", range(2))
        def test_shadowed(self, v):
            pass
"""


def test_parameter_lists_bound_to_names_give_pytests_tests(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_lists.py": LIST_IDS})
    found = collected_as_pytest_collects(tmp_path)
    # One test per element, not one test for the whole name (as before).
    assert {
        "test_lists.py::test_module_list[1.0_0]",
        "test_lists.py::test_module_list[2.0]",
        "test_lists.py::test_module_list[1.0_1]",
        "test_lists.py::test_tuple_of_pairs[1-a]",
        "test_lists.py::test_tuple_of_pairs[second]",
        "test_lists.py::test_tuple_of_pairs[3-None]",
        "test_lists.py::test_ids_by_name[y]",
        "test_lists.py::test_last_binding[3]",
        "test_lists.py::test_ranges[9-2]",
        "test_lists.py::TestInClass::test_range_in_class[1]",
        "test_lists.py::TestMarkAlias::test_aliased_in_class[one]",
        "test_lists.py::TestMarkAlias::test_aliased_in_class[2]",
        "test_lists.py::TestInClass::test_class_list[c2]",
        "test_lists.py::TestInClass::test_module_list_read_where_it_is[30]",
        "test_lists.py::TestInClass::test_module_list_read_where_it_is[ValueError]",
    } <= found


def test_parameter_lists_that_may_change_before_the_decorator_are_not_guessed(
    tmp_path: Path,
) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_lists.py": TOUCHED_LISTS})
    found = {t.nodeid for t in static_tests(tmp_path)}
    # Changed in place (directly, through an alias, by a function it is passed to),
    # unpacked, or a `range` that is not the builtin: how many tests there are is not
    # known, so each stays one test by its name.
    assert found == {
        "test_lists.py::test_appended",
        "test_lists.py::test_aliased",
        "test_lists.py::test_grown",
        "test_lists.py::test_starred",
        "test_lists.py::TestShadowedRange::test_shadowed",
    }
    assert len(pytest_nodeids(tmp_path)) == 3 + 2 + 2 + 4 + 1


FIXTURE_PARAMS = {
    "pytest.ini": "[pytest]\n",
    "app/__init__.py": "",
    "app/backends.py": "class Sqlite:\n    pass\n",
    "conftest.py": """
        import pytest

        from app.backends import Sqlite

        BACKENDS = [Sqlite, "postgres"]


        @pytest.fixture(params=BACKENDS)
        def backend(request):
            return request.param


        @pytest.fixture(scope="session", params=["eu", "us"])
        def region(request):
            return request.param


        @pytest.fixture(autouse=True, params=[1, 2], ids=["first", "second"])
        def attempt(request):
            return request.param


        @pytest.fixture(params=["base"])
        def flavour(request):
            return request.param


        def list_them():
            return ["x", "y"]


        @pytest.fixture(params=list_them())
        def computed(request):
            return request.param
    """,
    "test_fixtures.py": """
        import unittest

        import pytest


        class TestLegacy(unittest.TestCase):  # pytest parametrizes no unittest test
            def test_legacy(self):
                pass


        @pytest.fixture
        def flavour(flavour):  # extends the conftest's: its params still apply
            return flavour


        @pytest.fixture
        def client(backend, region):
            return backend, region


        @pytest.mark.parametrize("n", [10, 20])
        def test_closure_order(client, n):
            pass


        @pytest.mark.parametrize("backend", ["direct"])
        def test_mark_wins(backend):
            pass


        @pytest.mark.parametrize("backend", ["p"], indirect=True)
        def test_indirect_mark_wins(backend):
            pass


        def test_extended(flavour):
            pass


        def test_computed(computed):
            pass


        class TestOverride:
            @pytest.fixture(params=range(2))
            def backend(self, request):
                return request.param

            def test_class_fixture(self, backend):
                pass

            @pytest.fixture
            def region(self):  # does not ask for the conftest's: no params
                return "local"

            def test_replaced(self, region):
                pass
    """,
}


def test_parametrized_fixtures_give_pytests_tests(tmp_path: Path) -> None:
    write(tmp_path, FIXTURE_PARAMS)
    expected = pytest_nodeids(tmp_path)
    found = {t.nodeid for t in static_tests(tmp_path)}
    computed = {n for n in found | expected if "test_computed" in n}
    assert found - computed == expected - computed
    # Before, each function was one test (times its marks): fixture params make more, with
    # pytest's ids in its order (widest scope first, then the closure, then the marks).
    assert {
        "test_fixtures.py::test_closure_order[us-first-postgres-20]",
        "test_fixtures.py::test_closure_order[eu-second-Sqlite-10]",
        "test_fixtures.py::test_mark_wins[first-direct]",
        "test_fixtures.py::test_indirect_mark_wins[second-p]",
        "test_fixtures.py::test_extended[first-base]",
        "test_fixtures.py::TestOverride::test_class_fixture[first-1]",
        "test_fixtures.py::TestOverride::test_replaced[second]",
        "test_fixtures.py::TestLegacy::test_legacy",
    } <= found
    # Params that are not literal (pytest makes [first-x], [first-y], ...): the function is
    # one test by its name, as for a computed `parametrize` list, which pytest accepts as
    # the name of all four; not [first] and [second], which are no tests of pytest's.
    assert len(expected & computed) == 4
    assert found & computed == {"test_fixtures.py::test_computed"}


def test_arguments_hypothesis_fills_are_no_fixtures(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": """
                import pytest


                @pytest.fixture(params=[1, 2])
                def flag(request):
                    return request.param
            """,
            "test_given.py": """
                from hypothesis import given
                from hypothesis.strategies import booleans, integers


                @given(booleans())
                def test_positional(flag):
                    pass


                @given(flag=booleans())
                def test_by_name(flag):
                    pass


                @given(integers())
                def test_fixture_kept(flag, n):
                    pass


                class TestMethods:
                    @given(booleans())
                    def test_method(self, flag):
                        pass
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # Before, `flag` counted as the parametrized fixture in every test (and its findings
    # as theirs): only the one hypothesis does not fill is.
    assert found == {
        "test_given.py::test_positional",
        "test_given.py::test_by_name",
        "test_given.py::test_fixture_kept[1]",
        "test_given.py::test_fixture_kept[2]",
        "test_given.py::TestMethods::test_method",
    }


def test_modules_that_skip_themselves_have_no_tests(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "app/__init__.py": "",
            "app/present.py": "",
            "test_missing.py": """
                import pytest

                pytest.importorskip("surely_not_installed_anywhere")


                def test_never():
                    pass
            """,
            "test_missing_sub.py": """
                import pytest

                backend = pytest.importorskip(modname="app.absent", reason="optional")


                def test_never():
                    pass
            """,
            "test_present.py": """
                import pytest

                json = pytest.importorskip("json")
                present = pytest.importorskip("app.present")


                def test_runs():
                    pass
            """,
            "test_skips_itself.py": """
                import pytest

                pytest.skip("not on this project", allow_module_level=True)


                def test_never():
                    pass
            """,
            "test_conditional.py": """
                import sys

                import pytest

                if sys.version_info < (3, 0):
                    pytest.skip("too old", allow_module_level=True)


                def test_runs():
                    pass
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # Before, the modules pytest skips as it imports them were counted as if they ran.
    assert found == {"test_present.py::test_runs", "test_conditional.py::test_runs"}


def test_what_a_literal_dunder_test_false_leaves_out_pytest_leaves_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_flags.py": """
                import os


                def test_helper_named_like_a_test():
                    pass


                test_helper_named_like_a_test.__test__ = False


                class TestNotATest:
                    def test_inside(self):
                        pass


                TestNotATest.__test__ = False


                class TestInherits(TestNotATest):
                    def test_own(self):
                        pass


                def test_set_back():
                    pass


                test_set_back.__test__ = False
                test_set_back.__test__ = True


                def test_unknown():
                    pass


                test_unknown.__test__ = os.environ.get("NEVER_SET_HERE", "collected")


                def test_kept():
                    pass
            """,
            "test_module_off.py": """
                def test_never():
                    pass


                __test__ = False
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # Before, each of these was counted as one test pytest never collects.
    assert found == {
        "test_flags.py::test_set_back",
        "test_flags.py::test_unknown",
        "test_flags.py::test_kept",
    }


def test_a_test_bound_to_a_second_name_in_its_class_is_collected_under_each(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_aliases.py": """
                import pytest


                class TestAliases:
                    def test_original(self):
                        pass

                    test_alias = test_original

                    @pytest.mark.parametrize("n", [1, 2])
                    def test_cases(self, n):
                        pass

                    test_more_cases = test_cases

                    def helper(self):
                        pass

                    test_from_helper = helper

                    test_rebound = test_original

                    def test_rebound(self):
                        pass

                    test_not_a_function = 3

                    class TestInner:
                        def test_inner(self):
                            pass

                    TestInnerAgain = TestInner
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # Before, the names bound by assignment were left out.
    assert {
        "test_aliases.py::TestAliases::test_alias",
        "test_aliases.py::TestAliases::test_more_cases[1]",
        "test_aliases.py::TestAliases::test_more_cases[2]",
        "test_aliases.py::TestAliases::test_from_helper",
        "test_aliases.py::TestAliases::TestInnerAgain::test_inner",
    } < found


def test_names_deleted_rebound_or_made_properties_are_no_tests_as_in_pytest(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_rebound.py": """
                import functools
                import os

                import pytest


                class TestBase:
                    def test_inherited(self):
                        pass


                class TestChild(TestBase):
                    pass


                del TestBase


                def test_deleted():
                    pass


                del test_deleted


                def test_looped():
                    pass


                for test_looped in [1]:
                    pass


                def test_opened():
                    pass


                with open(os.devnull) as test_opened:
                    pass


                class TestBody(TestChild):
                    @property
                    def test_property(self):
                        return 1

                    @functools.cached_property
                    def test_cached(self):
                        return 1

                    def test_original(self):
                        pass

                    test_alias = test_original
                    for test_alias in [1]:
                        pass

                    def test_imported_over(self):
                        pass

                    from os import sep as test_imported_over

                    def test_valued(self):
                        pass

                    test_valued = None

                    def test_rewrapped(self):
                        pass

                    test_rewrapped = pytest.mark.slow(test_rewrapped)

                    def test_made_property(self):
                        return 1

                    test_made_property = property(test_made_property)

                    def test_gone(self):
                        pass

                    del test_gone

                    test_inherited = 3  # hides the base's test
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    # Before, each of the names left out here was counted as a test.
    assert found == {
        "test_rebound.py::TestChild::test_inherited",
        "test_rebound.py::TestBody::test_original",
        "test_rebound.py::TestBody::test_rewrapped",
    }


def test_parameter_ids_of_imported_names_are_pytests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    write(site, {"extlib.py": "class Remote:\n    pass\n\n\nTIMEOUT = 3\n"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    project = tmp_path / "project"
    write(
        project,
        {
            "pytest.ini": "[pytest]\n",
            "app/__init__.py": "",
            "app/errors.py": "class NotFound(Exception):\n    pass\n\n\ndef handler():\n    pass\n",
            "app/reexport.py": "from app.errors import NotFound as Missing\n",
            "app/consts.py": 'LIMIT = "a b"\nRETRIES = -2\nEMPTY = ""\n',
            "test_ids.py": """
                from enum import Enum
                from json import decoder
                from os import sep

                import pytest

                from app.consts import EMPTY, LIMIT, RETRIES
                from app.errors import NotFound as NF, handler
                from app.reexport import Missing
                from extlib import Remote, TIMEOUT


                @pytest.mark.parametrize("v", [NF, handler, Missing, Enum, decoder, sep, Remote])
                def test_imported(v):
                    pass


                @pytest.mark.parametrize(("a", "b"), [(NF, 1), (TIMEOUT, NF)])
                def test_pairs(a, b):
                    pass


                @pytest.mark.parametrize("v", [NF, NF])
                def test_duplicates(v):
                    pass


                @pytest.mark.parametrize("v", [LIMIT, RETRIES, EMPTY])
                def test_constants(v):
                    pass
            """,
        },
    )
    found = collected_as_pytest_collects(project)
    assert {
        "test_ids.py::test_imported[NotFound0]",  # its own name, not the alias, twice
        "test_ids.py::test_imported[NotFound1]",
        "test_ids.py::test_imported[handler]",
        "test_ids.py::test_imported[Enum]",
        "test_ids.py::test_imported[json.decoder]",
        "test_ids.py::test_imported[/]",
        "test_ids.py::test_imported[Remote]",
        "test_ids.py::test_pairs[NotFound-1]",
        "test_ids.py::test_duplicates[NotFound0]",
        "test_ids.py::test_duplicates[NotFound1]",
        "test_ids.py::test_pairs[3-NotFound]",  # a constant of an installed package
        "test_ids.py::test_constants[a b]",
        "test_ids.py::test_constants[-2]",
        "test_ids.py::test_constants[]",  # an empty string is an id too
    } <= found


def test_explicit_ids_naming_imported_objects_are_pytests(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "helpers.py": 'FAST = "fast"\n\n\nclass Slow:\n    pass\n',
            "test_ids.py": """
                import pytest

                from helpers import FAST, Slow

                NAMES = ["a"]


                @pytest.mark.parametrize("x", [1, 2], ids=[*NAMES, "b"])
                def test_spliced(x):
                    pass


                @pytest.mark.parametrize("x", [1, 2, 3], ids=[FAST, Slow, None])
                def test_listed(x):
                    pass


                @pytest.mark.parametrize("x", [pytest.param(1, id=FAST), 2])
                def test_param(x):
                    pass
            """,
        },
    )
    found = collected_as_pytest_collects(tmp_path)
    assert {
        "test_ids.py::test_listed[fast]",
        "test_ids.py::test_listed[Slow]",
        "test_ids.py::test_listed[3]",
        "test_ids.py::test_param[fast]",
        "test_ids.py::test_spliced[a]",
        "test_ids.py::test_spliced[b]",
    } <= found


def test_ids_made_by_the_builtin_str_or_repr_of_literal_values_are_pytests(
    tmp_path: Path,
) -> None:
    source = """
        import pytest

        ROWS = [(1, b"x"), (2.5, None)]


        @pytest.mark.parametrize("x", [1, "a b", b"\\x00", (1, "t"), [2], {"k": 1}], ids=str)
        def test_str(x):
            pass


        @pytest.mark.parametrize("x", ["a", b"b", 3, -1.5, True], ids=repr)
        def test_repr(x):
            pass


        @pytest.mark.parametrize("x, y", [(1, "q"), pytest.param(2, "r", id="own")], ids=str)
        def test_rows(x, y):
            pass


        @pytest.mark.parametrize("x, y", ROWS, ids=repr)
        def test_named_rows(x, y):
            pass


        @pytest.fixture(params=["a", b"b"], ids=repr)
        def flavour(request):
            return request.param


        def test_fixture(flavour):
            pass


        class TestInClass:
            @pytest.mark.parametrize("x", ["n", 7], ids=str)
            def test_method(self, x):
                pass
    """
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_ids.py": source})
    found = collected_as_pytest_collects(tmp_path)
    assert {
        "test_ids.py::test_str[b'\\\\x00']",  # str() of bytes, then escaped as a string
        "test_ids.py::test_str[(1, 't')]",
        "test_ids.py::test_str[{'k': 1}]",
        "test_ids.py::test_repr['a']",
        "test_ids.py::test_rows[1-q]",
        "test_ids.py::test_rows[own]",
        "test_ids.py::test_named_rows[1-b'x']",
        "test_ids.py::test_fixture['a']",
        "test_ids.py::TestInClass::test_method[7]",
    } <= found


def test_a_parameter_set_of_more_or_fewer_values_than_names_fails_the_module_or_class(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_row_refused.py": """
                import pytest

                @pytest.mark.parametrize("a, b", [(1, 2), (3,)])
                def test_short_row(a, b):
                    pass

                def test_other():
                    pass
            """,
            "test_param_refused.py": """
                import pytest

                ROWS = [[1, 2], pytest.param(3, 4, 5, id="long")]

                class TestRefused:
                    @pytest.mark.parametrize(["a", "b"], ROWS)
                    def test_long_param(self, a, b):
                        pass

                class TestAlsoRefused:
                    @pytest.mark.parametrize("x", [1, pytest.param(2, 3)])
                    def test_param_for_one_name(self, x):
                        pass

                class TestSplicedRefused:
                    @pytest.mark.parametrize("a, b", [pytest.param(*c) for c in [(1, 2, 3)]])
                    def test_spliced(self, a, b):
                        pass

                class TestFine:
                    # One name as a string: each value is taken whole, a tuple too.
                    @pytest.mark.parametrize("x", [(1, 2, 3), [4]])
                    @pytest.mark.parametrize(("y",), [(1,), [2], pytest.param(3)])
                    def test_whole(self, x, y):
                        pass
            """,
        },
    )
    found = {t.nodeid for t in static_tests(tmp_path)}
    assert found == pytest_nodeids(tmp_path, collection_errors=True)
    assert not any("test_row_refused.py" in n for n in found)
    assert len(found) == 6  # TestFine's: 2 x 3
    assert refused_classes(tmp_path, "test_param_refused.py") == [
        'TestRefused: In test_long_param: in "parametrize" the number of names (2) must be'
        " equal to the number of values (3)",
        'TestAlsoRefused: In test_param_for_one_name: in "parametrize" the number of names (1)'
        " must be equal to the number of values (2)",
        'TestSplicedRefused: In test_spliced: in "parametrize" the number of names (2) must be'
        " equal to the number of values (3)",
    ]


def test_explicit_ids_more_or_fewer_than_the_values_fail_the_module_or_class_as_in_pytest(
    tmp_path: Path,
) -> None:
    # pytest fails to collect the module or class of a function whose explicit ids are more
    # or fewer than its parameter sets (an empty ids list is ignored; an empty list of values
    # is one set): none of those tests exist, and discovery must not make them up.
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": """
                import pytest

                @pytest.fixture(params=[1, 2], ids=["one"])
                def flavour(request):
                    return request.param
            """,
            "test_module_refused.py": """
                import pytest

                class TestCollectedOtherwise:
                    def test_a(self):
                        pass

                @pytest.mark.parametrize("x", [1, 2, 3], ids=["a", "b"])
                def test_short(x):
                    pass
            """,
            "test_class_refused.py": """
                import pytest

                IDS = ("a", "b", "c")

                class TestRefused:
                    def test_plain(self):
                        pass

                    @pytest.mark.parametrize("x", [1, 2], ids=IDS)
                    def test_long(self, x):
                        pass

                    class TestNested:  # not collected either
                        @pytest.mark.parametrize("x", [1], ids=["a", "b"])
                        def test_inner(self, x):
                            pass

                class TestFine:
                    class TestNestedRefused:
                        @pytest.mark.parametrize("x", [], ids=["a", "b"])
                        def test_empty(self, x):
                            pass

                    @pytest.mark.parametrize("x", [1, 2], ids=[])
                    def test_no_ids(self, x):
                        pass

                def test_function():
                    pass
            """,
            "test_fixture_refused.py": """
                def test_uses(flavour):
                    pass
            """,
            "test_fixture_unused.py": """
                def test_other():
                    pass
            """,
        },
    )
    found = {t.nodeid for t in static_tests(tmp_path)}
    assert found == pytest_nodeids(tmp_path, collection_errors=True)
    assert found == {
        "test_class_refused.py::TestFine::test_no_ids[1]",
        "test_class_refused.py::TestFine::test_no_ids[2]",
        "test_class_refused.py::test_function",
        "test_fixture_unused.py::test_other",
    }
    assert refused_classes(tmp_path, "test_class_refused.py") == [
        "TestRefused: In test_long: 2 parameter sets specified, with different number of ids: 3",
        "TestFine::TestNestedRefused: In test_empty: 1 parameter sets specified, with different"
        " number of ids: 2",
    ]


def test_parametrize_naming_what_a_test_does_not_take_fails_the_module_or_class_as_in_pytest(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "test_module_mark.py": """
                import pytest

                pytestmark = pytest.mark.parametrize("x", [1, 2])


                def test_takes(x):
                    pass


                def test_lacks():
                    pass
            """,
            "test_classes.py": """
                import pytest


                @pytest.fixture
                def through(x):
                    return x


                @pytest.fixture
                def other():
                    return 0


                @pytest.mark.parametrize("x", [1, 2])
                def test_through_a_fixture(through):
                    pass


                @pytest.mark.parametrize("other", [5], indirect=["other"])
                def test_indirect(other):
                    pass


                @pytest.mark.usefixtures("through")
                class TestUsesFixtures:
                    pytestmark = pytest.mark.parametrize("x", [3])

                    def test_a(self, tmp_path, request):
                        pass


                @pytest.mark.parametrize("other", [1, 2])
                class TestLacks:
                    def test_takes(self, other):
                        pass

                    def test_lacks(self):
                        pass


                class TestDefault:
                    @pytest.mark.parametrize("k", [1])
                    def test_keyword(self, *, k=2):
                        pass


                class TestIndirectUnused:
                    @pytest.mark.parametrize("x", [1], indirect=True)
                    def test_unused(self, other):
                        pass


                class TestIndirectTuple:
                    @pytest.mark.parametrize("x, y", [(1, 2)], indirect=("y",))
                    def test_unused(self, other):
                        pass
            """,
            "test_plugin_fixture.py": """
                import pytest


                # A fixture of an installed plugin may request x: not refused here. (pytest
                # refuses it, as no plugin defines `from_a_plugin`.)
                @pytest.mark.parametrize("x", [1])
                def test_from_a_plugin(from_a_plugin):
                    pass
            """,
        },
    )
    found = {t.nodeid for t in static_tests(tmp_path)}
    assert found - {"test_plugin_fixture.py::test_from_a_plugin[1]"} == pytest_nodeids(
        tmp_path, collection_errors=True
    )
    # Before, the tests of the module and the classes pytest refuses were counted.
    assert found == {
        "test_classes.py::test_through_a_fixture[1]",
        "test_classes.py::test_through_a_fixture[2]",
        "test_classes.py::test_indirect[5]",
        "test_classes.py::TestUsesFixtures::test_a[3]",
        "test_plugin_fixture.py::test_from_a_plugin[1]",
    }
    assert refused_classes(tmp_path, "test_classes.py") == [
        "TestLacks: In test_lacks: function uses no argument 'other'",
        "TestDefault: In test_keyword: function already takes an argument 'k' with a default value",
        "TestIndirectUnused: In test_unused: function uses no fixture 'x'",
        "TestIndirectTuple: In test_unused: function uses no argument 'x'",
    ]


def test_str_or_repr_ids_that_cannot_be_told_leave_the_function_one_test(tmp_path: Path) -> None:
    source = """
        import pytest

        from helpers import LATER


        @pytest.mark.parametrize("x", [1, LATER], ids=str)
        def test_name(x):
            pass


        @pytest.mark.parametrize("x", [(1, {"b", "a"})], ids=repr)
        def test_set(x):  # a set's order varies from run to run
            pass


        @pytest.mark.parametrize("x", [], ids=str)
        def test_empty(x):  # str(NOTSET) before pytest 8.4, NOTSET from it
            pass


        def repr(value):
            return "own"


        @pytest.mark.parametrize("x", [1, 2], ids=repr)
        def test_own_repr(x):
            pass


        class TestShadowed:
            str = staticmethod(lambda value: "s")

            @pytest.mark.parametrize("x", [1, 2], ids=str)
            def test_method(self, x):
                pass
    """
    helpers = "import os\n\nLATER = os.sep * 2\n"
    write(tmp_path, {"pytest.ini": "[pytest]\n", "helpers.py": helpers, "test_ids.py": source})
    assert sorted(t.nodeid for t in static_tests(tmp_path)) == [
        "test_ids.py::TestShadowed::test_method",
        "test_ids.py::test_empty",
        "test_ids.py::test_name",
        "test_ids.py::test_own_repr",
        "test_ids.py::test_set",
    ]


UNTOLD_IDS = {
    # A function makes the ids from the values (pytest: [q0], [q1]).
    "lambda": 'ids=lambda v: "q"',
    "function": "ids=name_of",
    # One element is made when the module runs (pytest: [a], [3]; not the value's [2]).
    "call element": 'ids=["a", str(3)]',
    "imported but not known": 'ids=["a", LATER]',
}


@pytest.mark.parametrize("ids", UNTOLD_IDS.values(), ids=UNTOLD_IDS.keys())
def test_explicit_ids_that_cannot_be_told_leave_the_function_one_test(
    tmp_path: Path, ids: str
) -> None:
    source = f"""
        import pytest

        from helpers import LATER


        def name_of(value):
            return "q"


        @pytest.mark.parametrize("x", [1, 2], {ids})
        def test_x(x):
            pass


        @pytest.mark.parametrize("x", [pytest.param(1, id=str(3)), 2])
        def test_param(x):
            pass
    """
    helpers = "import os\n\nLATER = os.sep * 2\n"
    write(tmp_path, {"pytest.ini": "[pytest]\n", "helpers.py": helpers, "test_ids.py": source})
    # Not the values' ids ([1], [2]), which pytest does not use here.
    assert sorted(t.nodeid for t in static_tests(tmp_path)) == [
        "test_ids.py::test_param",
        "test_ids.py::test_x",
    ]


def test_a_function_with_one_parametrization_that_cannot_be_told_is_one_test(
    tmp_path: Path,
) -> None:
    source = """
        import pytest


        def cases():
            return [7, 8]


        @pytest.fixture(params=cases())
        def kind(request):
            return request.param


        @pytest.mark.parametrize("x", [1, 2])
        @pytest.mark.parametrize("y", cases())
        def test_stacked(x, y):
            pass


        @pytest.mark.parametrize("x", [1, 2])
        @pytest.mark.parametrize("y", [3], ids=lambda v: "q")
        def test_untold_ids(x, y):
            pass


        @pytest.mark.parametrize("x", [1, 2])
        def test_with_fixture(x, kind):
            pass
    """
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_stack.py": source})
    names = ["test_stacked", "test_untold_ids", "test_with_fixture"]
    # pytest makes [7-1], [7-2], ...: the told mark's ids alone ([1], [2]) name no test of
    # pytest's, where the function's own name selects all of them.
    assert sorted(t.nodeid for t in static_tests(tmp_path)) == [
        f"test_stack.py::{n}" for n in names
    ]
    assert len(pytest_nodeids(tmp_path)) == 4 + 2 + 4  # what pytest makes of them


EMPTY_SETS = """
    import pytest


    @pytest.fixture(params=[])
    def color(request):
        return request.param


    @pytest.fixture(params=[], name="shade")
    def _shade(request):
        return request.param


    @pytest.fixture(params=[], ids=["own"])
    def tint(request):
        return request.param


    @pytest.mark.parametrize("size,kind", [])
    def test_two(size, kind):
        pass


    @pytest.mark.parametrize(("a", "b"), [], ids=[])
    def test_no_ids(a, b):
        pass


    @pytest.mark.parametrize("x", [1, 2])
    @pytest.mark.parametrize("size", [])
    def test_stacked(size, x):
        pass


    def test_fixture(color):
        pass


    def test_named_fixture(shade):
        pass


    @pytest.mark.parametrize("x", [], ids=["own"])
    def test_own_id(x):
        pass


    def test_fixture_own_id(tint):
        pass
"""


def test_an_empty_parameter_set_is_named_as_the_installed_pytest_names_it(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_empty.py": EMPTY_SETS})
    found = collected_as_pytest_collects(tmp_path)
    if names_empty_sets_notset(pytest.__version__):
        expected = ["NOTSET", "NOTSET", "NOTSET-1", "NOTSET-2", "NOTSET", "NOTSET"]
        expected += ["NOTSET", "NOTSET"]
    else:
        expected = ["size0-kind0", "a0-b0", "size0-1", "size0-2", "color0", "shade0"]
        expected += ["own", "own"]  # an explicit id names the NOTSET set
    names = ["two", "no_ids", "stacked", "stacked", "fixture", "named_fixture"]
    names += ["own_id", "fixture_own_id"]
    assert found == {f"test_empty.py::test_{n}[{i}]" for n, i in zip(names, expected, strict=True)}


@pytest.mark.parametrize(
    ("version", "notset"),
    [("8.1.2", False), ("8.3.5", False), ("8.4.0", True), ("8.4.0rc1", True), ("9.0.3", True)],
)
def test_pytest_names_empty_parameter_sets_notset_from_8_4(version: str, notset: bool) -> None:
    assert names_empty_sets_notset(version) is notset


def test_an_unknown_pytest_version_is_taken_to_be_a_new_one() -> None:
    assert names_empty_sets_notset(None) is True
    assert names_empty_sets_notset("not a version") is True


def test_a_name_whose_value_is_known_only_at_run_time_keeps_its_positional_id(
    tmp_path: Path,
) -> None:
    source = """
        import os
        import pytest

        if os.name:
            MAYBE = 3
        COUNTED = 0
        COUNTED += 1
        LATER = 0


        def bump():
            global LATER
            LATER = 1


        @pytest.mark.parametrize("v", [MAYBE, COUNTED, LATER])
        def test_x(v):
            pass
    """
    write(tmp_path, {"pytest.ini": "[pytest]\n", "test_ids.py": source})
    found = {t.nodeid for t in static_tests(tmp_path)}
    # Not a guess at what an `if`, a `+=` or a `global` made of it.
    assert found == {f"test_ids.py::test_x[v{i}]" for i in range(3)}


INSTALLED_PACKAGE = {
    "webclient.py": """
        class TestClient:
            def __init__(self, app):
                self.app = app


        class TestBase:
            def test_inherited(self):
                pass


        def test_shared_check():
            pass
    """,
    "diamond.py": """
        import pytest


        class Base:
            def test_shared(self):
                pass


        class Left(Base):
            pass


        class Right(Base):
            @pytest.mark.parametrize("x", [1, 2])
            def test_shared(self, x):
                pass
    """,
    "fakedj/__init__.py": "",
    "fakedj/base.py": """
        class Mixin:
            def test_from_mixin(self):
                pass
    """,
    "fakedj/test.py": """
        import unittest

        from .base import Mixin


        class TestCase(Mixin, unittest.TestCase):
            def helper(self):
                pass
    """,
}

USES_INSTALLED_CLASSES = """
    from diamond import Left, Right
    from fakedj.test import TestCase
    from webclient import TestBase, TestClient, test_shared_check


    class TestDiamond(Left, Right):  # Right's test_shared comes before Base's
        pass


    class TestWithClient(TestClient):  # inherits an __init__: pytest skips it
        def test_x(self):
            pass


    class TestInherits(TestBase):
        def test_own(self):
            pass


    class UserViewTests(TestCase):  # a unittest.TestCase further up: collected by any name
        def test_view(self):
            pass
"""


def test_classes_of_installed_packages_are_read_from_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    write(site, INSTALLED_PACKAGE)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # for pytest's own run
    project = tmp_path / "project"
    write(project, {"pytest.ini": "[pytest]\n", "test_app.py": USES_INSTALLED_CLASSES})
    found = collected_as_pytest_collects(project)
    assert {
        "test_app.py::TestBase::test_inherited",  # imported from the package: a test class
        "test_app.py::TestInherits::test_inherited",
        "test_app.py::UserViewTests::test_from_mixin",
        "test_app.py::UserViewTests::test_view",
        "test_app.py::TestDiamond::test_shared[1]",
        "test_app.py::test_shared_check",  # an installed test function, imported
    } <= found
    assert not any("TestWithClient" in nodeid or "TestClient" in nodeid for nodeid in found)
    assert "webclient" not in sys.modules  # read, not imported
    assert "fakedj" not in sys.modules


def test_it_reads_each_pytest_configuration_file_format(tmp_path: Path) -> None:
    formats = {
        "pytest.ini": "[pytest]\npython_files = spec_*.py\ntestpaths = specs\n",
        "tox.ini": "[tox]\n[pytest]\npython_files = spec_*.py\ntestpaths = specs\n",
        "setup.cfg": "[tool:pytest]\npython_files = spec_*.py\ntestpaths = specs\n",
        "pyproject.toml": (
            '[tool.pytest.ini_options]\npython_files = ["spec_*.py"]\ntestpaths = ["specs"]\n'
        ),
        "pytest.toml": '[pytest]\npython_files = ["spec_*.py"]\ntestpaths = ["specs"]\n',
    }
    for name, text in formats.items():
        root = tmp_path / name.replace(".", "_")
        write(root, {name: text, "specs/spec_one.py": "def test_x(): pass\n"})
        settings = load_pytest_settings(root)
        assert settings.rootdir == root.resolve(), name
        assert settings.python_files == ("spec_*.py",), name
        files = find_test_files(settings, default_paths(settings, root))
        assert [f.name for f in files] == ["spec_one.py"], name


def test_pytest_ini_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\npython_functions = check\n",
            "pyproject.toml": '[tool.pytest.ini_options]\npython_functions = ["spec"]\n',
        },
    )
    assert load_pytest_settings(tmp_path).python_functions == ("check",)


def test_the_rootdir_is_found_walking_up_from_the_arguments(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "a/b/test_x.py": "def test_x(): pass\n"})
    settings = load_pytest_settings(tmp_path / "a" / "b")
    assert settings.rootdir == tmp_path.resolve()
    assert settings.inifile == tmp_path.resolve() / "pytest.ini"


def test_testpaths_apply_only_when_run_from_the_rootdir(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\ntestpaths = tests\n",
            "tests/test_a.py": "def test_a(): pass\n",
            "other/test_b.py": "def test_b(): pass\n",
        },
    )
    settings = load_pytest_settings(tmp_path)
    assert default_paths(settings, tmp_path) == [tmp_path.resolve() / "tests"]
    assert default_paths(settings, tmp_path / "other") == [(tmp_path / "other").resolve()]


def test_norecursedirs_virtualenvs_and_ignores_are_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": (
                "[pytest]\nnorecursedirs = legacy*\n"
                "addopts = --ignore=skipme --ignore-glob=*_slow.py\n"
            ),
            "test_kept.py": "def test_a(): pass\n",
            "legacy_suite/test_old.py": "def test_a(): pass\n",
            "venv2/pyvenv.cfg": "home = /usr\n",
            "venv2/test_in_venv.py": "def test_a(): pass\n",
            "skipme/test_ignored.py": "def test_a(): pass\n",
            "sub/test_really_slow.py": "def test_a(): pass\n",
            "sub/__pycache__/test_cached.py": "def test_a(): pass\n",
        },
    )
    settings = load_pytest_settings(tmp_path)
    files = find_test_files(settings, [tmp_path])
    assert [f.name for f in files] == ["test_kept.py"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('collect_ignore = ["a.py", "sub"]\n', {"collect_ignore": ("a.py", "sub")}),
        ('collect_ignore_glob: list[str] = ["*_py2.py"]\n', {"collect_ignore_glob": ("*_py2.py",)}),
        (
            'collect_ignore = []\ncollect_ignore.append("a.py")\n'
            'collect_ignore.extend(["b.py"])\ncollect_ignore += ("c.py",)\n'
            'collect_ignore.insert(0, "d.py")\ncollect_ignore = collect_ignore + ["e.py"]\n',
            {"collect_ignore": ("a.py", "b.py", "c.py", "d.py", "e.py")},
        ),
        # Entries the source does not spell are left out, the others kept.
        (
            'import os\ncollect_ignore = ["a.py", os.path.join("x", "b.py"), *EXTRA]\n',
            {"collect_ignore": ("a.py",)},
        ),
        # Tests on the interpreter are told for this one.
        (
            "import sys\nimport os.path\nimport platform as pf\n"
            'if sys.version_info >= (3, 8):\n    collect_ignore = ["new.py"]\n'
            'else:\n    collect_ignore = ["old.py"]\n'
            "if sys.version_info[:2] < (3, 0) or sys.version_info.major == 2:\n"
            '    collect_ignore.append("py2.py")\n'
            'if not sys.platform.startswith("no-such") and os.name == os.name:\n'
            '    collect_ignore.append("here.py")\n'
            'if pf.system() == "NoSuchSystem":\n    collect_ignore.append("there.py")\n'
            'collect_ignore_glob = ["*_pypy.py"] if sys.implementation.name != "pypy" else []\n',
            {"collect_ignore": ("new.py", "here.py"), "collect_ignore_glob": ("*_pypy.py",)},
        ),
        # What may or may not run adds nothing for sure...
        (
            'collect_ignore = ["a.py"]\nif FLAG:\n    collect_ignore.append("b.py")\n'
            'try:\n    import numpy\nexcept ImportError:\n    collect_ignore.append("c.py")\n'
            'for name in NAMES:\n    collect_ignore.append("d.py")\n',
            {"collect_ignore": ("a.py",)},
        ),
        # ... and an assignment that may run keeps only what either value holds (a
        # conftest that defines a list at all shadows the outer conftests' one).
        (
            'collect_ignore = ["a.py", "b.py"]\nif FLAG:\n    collect_ignore = ["b.py"]\n'
            'if OTHER:\n    collect_ignore_glob = ["*.py"]\n',
            {"collect_ignore": ("b.py",), "collect_ignore_glob": ()},
        ),
        # Whatever else may change a list leaves nothing sure in it.
        ('collect_ignore = ["a.py"]\ncollect_ignore.remove("a.py")\n', {"collect_ignore": ()}),
        ('collect_ignore = ["a.py"]\nprune(collect_ignore)\n', {"collect_ignore": ()}),
        ('collect_ignore = ["a.py"]\nlast = collect_ignore.pop()\n', {"collect_ignore": ()}),
        (
            'collect_ignore = ["a.py"]\ncollect_ignore.append(collect_ignore.pop())\n',
            {"collect_ignore": ()},
        ),
        ('collect_ignore = ["a.py"]\nif collect_ignore.pop():\n    pass\n', {"collect_ignore": ()}),
        (
            'collect_ignore = ["a.py"]\ncollect_ignore_glob = collect_ignore + ["*.txt"]\n',
            {"collect_ignore": ("a.py",), "collect_ignore_glob": ("a.py", "*.txt")},
        ),
        ('collect_ignore = ["a.py"]\ndel collect_ignore[0]\n', {"collect_ignore": ()}),
        ('collect_ignore = ["a.py"]\nALL = collect_ignore\nALL.clear()\n', {"collect_ignore": ()}),
        (
            'collect_ignore = ["a.py"]\ndef setup():\n    collect_ignore.clear()\nsetup()\n',
            {"collect_ignore": ()},
        ),
        ('collect_ignore = ["a.py"]\nfrom other import collect_ignore\n', {"collect_ignore": ()}),
        (
            'collect_ignore = ["a.py"]\ndef pytest_configure():\n    global collect_ignore\n'
            "    collect_ignore = []\n",
            {"collect_ignore": ()},
        ),
        # A hook that only reads a list changes nothing.
        (
            'collect_ignore = ["a.py"]\ndef pytest_ignore_collect(collection_path):\n'
            "    return collection_path.name in collect_ignore\n",
            {"collect_ignore": ("a.py",)},
        ),
        # `sys` bound to something else is no longer the interpreter's.
        (
            'import sys\nsys = object()\nif sys.platform == "x":\n    collect_ignore = []\n'
            'else:\n    collect_ignore = ["a.py"]\n',
            {"collect_ignore": ()},
        ),
        ("def pytest_ignore_collect(collection_path):\n    return None\n", {}),
        # Nested deeper than can be followed: nothing, never a crash.
        ('collect_ignore = ["a"]' + ' + ["b"]' * 20_000 + "\n", {}),
        ("import sys\nif " + "not " * 5_000 + 'sys.platform:\n    collect_ignore = ["a"]\n', {}),
        ('collect_ignore = ["a.py"\n', {}),
    ],
)
def test_conftest_ignore_lists_hold_the_entries_the_source_surely_gives(
    source: str, expected: dict[str, tuple[str, ...]]
) -> None:
    assert conftest_ignore_lists(source.encode()) == expected


def test_conftest_ignore_lists_keep_files_from_the_walk_as_pytest_does(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": 'collect_ignore = ["tests/test_top.py"]\n',
            "tests/conftest.py": 'collect_ignore_glob = ["*_slow.py"]\n',
            "tests/test_top.py": "def test_a(): pass\n",
            "tests/test_really_slow.py": "def test_a(): pass\n",
            "tests/test_kept.py": "def test_a(): pass\n",
            # Nearer lists replace the outer ones, they do not add to them.
            "tests/sub/conftest.py": "collect_ignore_glob = []\n",
            "tests/sub/test_sub_slow.py": "def test_a(): pass\n",
            # A directory its parent's conftest names is not entered.
            "other/conftest.py": 'collect_ignore = ["skipped"]\n',
            "other/skipped/test_skipped.py": "def test_a(): pass\n",
            "other/test_other.py": "def test_a(): pass\n",
        },
    )
    settings = load_pytest_settings(tmp_path)
    expected = {"tests/test_kept.py", "tests/sub/test_sub_slow.py", "other/test_other.py"}
    found = {
        f.relative_to(tmp_path.resolve()).as_posix() for f in find_test_files(settings, [tmp_path])
    }
    assert found == expected
    assert {n.partition("::")[0] for n in pytest_nodeids(tmp_path)} == expected
    # Below the rootdir, the conftests above the given directory still apply; a file named
    # explicitly is collected whatever they say, as pytest does.
    tests = tmp_path.resolve() / "tests"
    assert [f.name for f in find_test_files(settings, [tests])] == [
        "test_sub_slow.py",
        "test_kept.py",
    ]
    assert find_test_files(settings, [tests / "test_top.py"]) == [tests / "test_top.py"]


def test_a_file_named_explicitly_is_a_test_module_whatever_its_name(tmp_path: Path) -> None:
    write(tmp_path, {"pytest.ini": "[pytest]\n", "helpers.py": "def test_a(): pass\n"})
    settings = load_pytest_settings(tmp_path)
    assert find_test_files(settings, [tmp_path]) == []
    assert find_test_files(settings, [tmp_path / "helpers.py"]) == [
        (tmp_path / "helpers.py").resolve()
    ]


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    settings = load_pytest_settings(tmp_path)
    with pytest.raises(DiscoveryError, match=r"file or directory not found: .*nope"):
        find_test_files(settings, [tmp_path / "nope"])


def test_pythonpath_is_resolved_against_the_inifile(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src", "."]\n'})
    settings = load_pytest_settings(tmp_path)
    assert settings.pythonpath == (tmp_path.resolve() / "src", tmp_path.resolve() / ".")


@needs_pytest_8_3
def test_collect_imported_tests_false_skips_imported_classes(tmp_path: Path) -> None:
    suite = dict(TRICKY_SUITE)
    suite["pyproject.toml"] = suite["pyproject.toml"] + "        collect_imported_tests = false\n"
    write(tmp_path, suite)
    found = {t.nodeid for t in static_tests(tmp_path)}
    assert not any("ImportedAgain" in n for n in found)
    assert found == pytest_nodeids(tmp_path)


def test_fixture_closure_follows_fixtures_of_conftests_and_autouse(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\nusefixtures = from_ini\n",
            "conftest.py": """
                import pytest

                @pytest.fixture
                def database(settings):
                    return settings

                @pytest.fixture
                def settings():
                    return {}

                @pytest.fixture(autouse=True)
                def always(tmp_path):
                    return tmp_path

                @pytest.fixture
                def from_ini():
                    return None
            """,
            "test_a.py": """
                import pytest

                @pytest.mark.usefixtures("marked")
                def test_uses(database, with_default=1):
                    pass

                class TestCls:
                    @pytest.fixture
                    def local(self, database):
                        return database

                    def test_method(self, local):
                        pass
            """,
        },
    )
    tests = {t.nodeid: t for t in static_tests(tmp_path)}
    uses = tests["test_a.py::test_uses"].fixturenames
    assert {"database", "settings", "always", "tmp_path", "marked", "from_ini"} <= uses
    assert "with_default" not in uses
    method = tests["test_a.py::TestCls::test_method"].fixturenames
    assert {"local", "database", "settings"} <= method
    assert "self" not in method


def test_the_nearest_fixture_definition_wins_unless_it_requests_the_one_it_overrides(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": """
                import pytest

                @pytest.fixture
                def settings(database):
                    return database

                @pytest.fixture
                def database():
                    return {}
            """,
            "test_a.py": """
                import pytest

                @pytest.fixture
                def settings():
                    return {}

                def test_overridden(settings):
                    pass

                class TestExtendsTheModules:
                    @pytest.fixture
                    def settings(self, settings):
                        return settings

                    def test_extended(self, settings):
                        pass
            """,
            "test_b.py": """
                import pytest

                class TestExtends:
                    @pytest.fixture
                    def settings(self, settings):
                        return settings

                    def test_extended(self, settings):
                        pass

                @pytest.mark.parametrize("database", [1])
                def test_parametrized(database):
                    pass
            """,
        },
    )
    conftest, module = str(tmp_path / "conftest.py"), str(tmp_path / "test_a.py")
    tests = {t.nodeid: t for t in static_tests(tmp_path)}
    overridden = tests["test_a.py::test_overridden"]
    assert overridden.fixturenames == {"settings"}  # the conftest's `database` never runs
    assert overridden.fixturedefs == {(module, "settings")}
    # Extending reaches the next definition out: the module's here, the conftest's there.
    assert tests["test_a.py::TestExtendsTheModules::test_extended"].fixturedefs == {
        (module, "settings")
    }
    extended = tests["test_b.py::TestExtends::test_extended"]
    assert extended.fixturenames == {"settings", "database"}
    assert extended.fixturedefs == {
        (str(tmp_path / "test_b.py"), "settings"),
        (conftest, "settings"),
        (conftest, "database"),
    }
    # A directly parametrized name is a parameter: no fixture of that name runs.
    parametrized = tests["test_b.py::test_parametrized[1]"]
    assert parametrized.fixturenames == set()
    assert parametrized.fixturedefs == set()


def test_exempt_marks_are_read_from_function_class_and_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "test_marks.py": """
                import pytest
                from pytest import mark

                pytestmark = [pytest.mark.ssot_exempt("SSOT003", reason="module")]
                legacy = pytest.mark.ssot_exempt(reason="alias")

                @mark.ssot_exempt("SSOT002", reason="class", until="2099-01-01")
                class TestA:
                    pytestmark = pytest.mark.ssot_exempt("SSOT004", reason="body")

                    @legacy
                    def test_x(self):
                        pass
            """,
        },
    )
    (test,) = static_tests(tmp_path)
    origins = [(origin, m.kwargs.get("reason")) for origin, m in test.marks]
    assert origins == [
        ("test_marks.py::TestA::test_x", "alias"),
        ("test_marks.py::TestA", "class"),
        ("test_marks.py::TestA", "body"),
        ("test_marks.py", "module"),
    ]


@pytest.mark.parametrize(
    ("argnames", "indirect", "direct"),
    [
        ("a", False, {"a"}),
        (" a , b ,", False, {"a", "b"}),  # pytest strips the names and drops empty ones
        (["a", "b"], True, set()),
        (("a", "b"), ["b"], {"a"}),
        (["a", "b"], ("a", "b"), set()),
        ("a,b", {"expr": "INDIRECT"}, set()),  # not spelled out: the fixtures may run
        ({"expr": "NAMES"}, False, set()),
    ],
)
def test_direct_parameters_are_the_names_no_fixture_runs_for(
    argnames: object, indirect: object, direct: set[str]
) -> None:
    assert direct_parameters(argnames, indirect) == direct
