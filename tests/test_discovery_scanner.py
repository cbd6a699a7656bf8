"""The scanner's full scans for the CLI: module structure, pruning that changes nothing."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pytest_ssot.cache import ScanCache
from pytest_ssot.scanner import (
    ENV_TARGETS,
    MOCK_MODULES,
    Binding,
    FileFacts,
    scan,
)

ROOT = Path(__file__).resolve().parents[1]
WATCHED = tuple(sorted((*ENV_TARGETS, *MOCK_MODULES, "requests.get")))

TRICKY = {
    "aliases": """
        import os as o
        from os import getenv as g, environ
        from unittest.mock import patch, MagicMock as M
        import unittest.mock as um
        import requests as r

        class TestA:
            def test_a(self):
                x = 1
                g("A")
                o.environ["B"] = "1"
                value = environ["B"]
                r.get("u")

            @patch("os.getenv")
            def test_b(self, getenv):
                M()
                um.ANY

        def helper():
            environ = {}
            return environ["shadowed"]
    """,
    "star_and_monkeypatch": """
        from os import *
        from pytest import MonkeyPatch

        def test_star():
            getenv("X")

        def test_mp():
            mp = MonkeyPatch()
            mp.setenv("A", "1")
            with MonkeyPatch.context() as m2:
                m2.delenv("B")
    """,
    "suppressions": '''
        import os

        DOC = """
        os.environ["NOT_CODE"]  # ssot: ignore[SSOT002]
        """

        class TestBig:
            """A docstring that mentions # ssot: ignore in prose."""

            def test_a(self):
                os.environ.get("A")  # ssot: ignore[SSOT002]

            # ssot: ignore  (a comment on its own line, between methods)

            def test_b(self):
                x = (
                    1,  # ssot: ignore[direct-environ-access]
                    os.getenv("B"),
                )
                s = "# ssot: ignore"
    ''',
    "main_block": """
        import pytest

        def test_a():
            pass

        if __name__ == "__main__":
            import sys
            sys.exit(pytest.main([__file__]))
    """,
    "blocks": """
        import os
        try:
            from unittest import mock
        except ImportError:
            mock = None
        for name in ("A", "B"):
            os.environ.setdefault(name, "1")
        while False:
            os.getenv("C")
        match os.name:
            case "posix":
                os.environ["D"] = "1"
            case _:
                pass
        with open(__file__) as handle:
            mock.patch("x")
    """,
    # Whole functions are skipped when no line of theirs is hot, unless they import.
    "cold_functions": """
        import pytest

        def setup_module():
            global system
            import os as system

        def test_plain():
            assert system is not None

        def test_uses():
            assert system.environ.get("A") is None

        class TestThing:
            @pytest.fixture
            def thing(self):
                return 1

            @pytest.mark.usefixtures("thing")
            def test_cold(self, thing, other):
                def inner(mocker):
                    return mocker
                assert thing == 1
    """,
}


def tricky(name: str) -> bytes:
    return textwrap.dedent(TRICKY[name]).lstrip("\n").encode()


def corpus() -> list[Path]:
    paths = [*sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "examples").rglob("*.py"))]
    return [*paths, *sorted((ROOT / "pytest_ssot").rglob("*.py"))]


@pytest.mark.parametrize("name", sorted(TRICKY))
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_pruning_changes_no_fact(name: str, newline: bytes) -> None:
    data = tricky(name).replace(b"\n", newline)
    assert scan(data, "t.py", WATCHED, full=True) == scan(
        data, "t.py", WATCHED, full=True, prune=False
    )
    assert scan(data, "t.py", WATCHED) == scan(data, "t.py", WATCHED, prune=False)


def test_pruning_changes_no_fact_on_this_repository() -> None:
    different = [
        path
        for path in corpus()
        if scan(path.read_bytes(), "f.py", WATCHED, full=True)
        != scan(path.read_bytes(), "f.py", WATCHED, full=True, prune=False)
    ]
    assert different == []
    assert len(corpus()) > 40


def test_cold_functions_keep_their_structure_and_their_imports_count() -> None:
    facts = scan(tricky("cold_functions"), "t.py", WATCHED, full=True)
    assert facts.structure is not None
    cold = facts.structure.functions["TestThing.test_cold"]
    assert (cold.args, [m.name for m in cold.marks]) == (("thing", "other"), ["usefixtures"])
    assert facts.fixtures == {"TestThing.thing": "thing"}
    seen = {(r.target, r.line, r.scope.qualname) for r in facts.refs}
    # `system` is bound by the import inside the otherwise cold setup_module.
    assert ("os.environ.get", 11, ("test_uses",)) in seen
    assert ("pytest_mock.mocker", 20, ("TestThing", "test_cold", "inner")) in seen


def test_suppressions_in_strings_never_count() -> None:
    facts = scan(tricky("suppressions"), "t.py", WATCHED, full=True)
    assert facts.suppressions == {
        11: frozenset({"SSOT002"}),
        13: frozenset(),
        17: frozenset({"direct-environ-access"}),
    }


def test_pruned_scans_still_see_aliased_and_dynamic_uses() -> None:
    facts = scan(tricky("aliases"), "t.py", WATCHED, full=True)
    seen = {(r.target, r.line) for r in facts.refs}
    assert ("os.getenv", 10) in seen
    assert ("os.environ", 11) in seen
    assert ("os.environ", 12) in seen
    assert ("requests.get", 13) in seen
    assert ("unittest.mock.MagicMock", 17) in seen
    assert all(line != 22 for _, line in seen)  # a local `environ` shadows nothing


def test_structure_records_bindings_in_order_with_conditions() -> None:
    facts = scan(tricky("blocks"), "t.py", WATCHED, full=True)
    assert facts.structure is not None
    bindings = [(b.name, b.kind, b.conditional) for b in facts.structure.bindings]
    assert bindings[:3] == [
        ("os", "import", False),
        ("mock", "from", True),
        ("mock", "constant", True),  # `mock = None`, its id for a parameter as target
    ]
    assert Binding("mock", "from", "unittest", "mock", 3, True) in facts.structure.bindings
    assert facts.structure.bindings[2].target == "None"


def test_structure_survives_json_and_the_cache(tmp_path: Path) -> None:
    data = (ROOT / "examples/chat_backend/tests/unit/test_settings.py").read_bytes()
    facts = scan(data, "tests/unit/test_settings.py", WATCHED, full=True)
    assert facts.structure is not None
    assert FileFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts
    cache = ScanCache(tmp_path, "salt")
    key = cache.key(data)
    cache.put(key, facts)
    assert cache.get(key, "tests/unit/test_settings.py") == facts


def test_function_facts_are_what_pytest_would_request() -> None:
    data = textwrap.dedent(
        """
        import pytest
        from unittest import mock

        class TestA:
            @mock.patch("os.getenv")
            @mock.patch("os.putenv", new=None)
            def test_a(self, getenv, db, *, opt=1, kw):
                pass

            @staticmethod
            @pytest.mark.parametrize("n", [1, -2, "x y", None])
            def test_static(n):
                pass

            @pytest.fixture(autouse=True, name="renamed")
            def _setup(self, tmp_path):
                yield
        """
    ).encode()
    facts = scan(data, "t.py", WATCHED, full=True)
    assert facts.structure is not None
    functions = facts.structure.functions
    assert functions["TestA.test_a"].args == ("db", "kw")
    assert functions["TestA.test_a"].line == 6  # the first decorator, as pytest locates it
    assert functions["TestA.test_static"].kind == "staticmethod"
    assert functions["TestA.test_static"].args == ("n",)
    (mark,) = functions["TestA.test_static"].marks
    assert mark.args == (["n"], ["1", "-2", "x y", "None"])
    fixture = functions["TestA._setup"]
    assert (fixture.fixture, fixture.autouse, fixture.args) == ("renamed", True, ("tmp_path",))
