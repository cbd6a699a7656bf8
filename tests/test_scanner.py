"""The scanner: source bytes in, facts out; never raises, whatever the bytes."""

from __future__ import annotations

import sys
import textwrap
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_ssot.model import Scope
from pytest_ssot.scanner import ENV_TARGETS, MOCK_MODULES, NO_RULE, FileFacts, scan

WATCHED = ENV_TARGETS + MOCK_MODULES


def _scan(source: str, *, full: bool = False) -> FileFacts:
    return scan(textwrap.dedent(source).lstrip("\n").encode(), "tests/test_x.py", full=full)


def _refs(source: str) -> set[tuple[str, str, int]]:
    return {(r.target, r.kind, r.line) for r in _scan(source).refs}


def test_it_resolves_attribute_chains_to_the_longest_watched_name() -> None:
    assert _refs(
        """
        import os
        os.environ.get("A")
        os.environ.setdefault("B", "1")
        """
    ) == {("os.environ.get", "use", 2), ("os.environ.setdefault", "use", 3)}


def test_it_resolves_import_aliases_from_imports_and_assignments() -> None:
    assert _refs(
        """
        import os as o
        from os import environ as E, getenv
        env = o.environ
        o.putenv("A", "1")
        E["B"]
        getenv("C")
        env.get("D")
        """
    ) == {
        ("os.putenv", "use", 4),
        ("os.environ", "use", 5),
        ("os.getenv", "use", 6),
        ("os.environ.get", "use", 7),
    }


def test_it_resolves_getattr_with_a_constant_name() -> None:
    assert _refs('import os\ngetattr(os, "environ")["A"]\n') == {("os.environ", "use", 2)}


def test_a_rebound_name_is_no_longer_an_alias() -> None:
    # Only the (unused) import is left: the rules decide whether importing is a violation.
    assert _refs(
        """
        from os import environ
        environ = {"A": "1"}
        environ.get("A")
        """
    ) == {("os.environ", "import", 1)}


def test_it_records_string_patch_targets() -> None:
    refs = _refs(
        """
        from unittest.mock import patch
        patch.dict("os.environ", {"A": "1"})
        patch("os.getenv")
        """
    )
    assert ("os.environ", "string", 2) in refs
    assert ("os.getenv", "string", 3) in refs


def test_it_records_object_and_attribute_name_patches() -> None:
    refs = _refs(
        """
        import os
        from unittest import mock
        mock.patch.object(os, "environ", {})
        def test_a(monkeypatch):
            monkeypatch.setattr(os, "getenv", lambda k: "1")
        """
    )
    assert ("os.environ", "use", 3) in refs
    assert ("os.getenv", "use", 5) in refs


def test_it_records_monkeypatch_environment_calls_of_fixtures_and_contexts() -> None:
    refs = _refs(
        """
        import pytest
        from pytest import MonkeyPatch

        def test_param(monkeypatch):
            monkeypatch.setenv("A", "1")
            monkeypatch.delenv("B")

        def test_context():
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("C", "1")
            with MonkeyPatch.context() as other:
                other.delenv("D", raising=False)

        def test_instance():
            patcher = MonkeyPatch()
            patcher.setenv("E", "1")

        def test_not_a_monkeypatch(client):
            client.setenv("F", "1")

        def test_annotated(mp: pytest.MonkeyPatch):
            mp.setenv("G", "1")
        """
    )
    assert refs == {
        ("monkeypatch.setenv", "monkeypatch", 5),
        ("monkeypatch.delenv", "monkeypatch", 6),
        ("monkeypatch.setenv", "monkeypatch", 10),
        ("monkeypatch.delenv", "monkeypatch", 12),
        ("monkeypatch.setenv", "monkeypatch", 16),
        ("monkeypatch.setenv", "monkeypatch", 22),
    }


def test_text_in_docstrings_comments_and_strings_is_never_a_reference() -> None:
    facts = _scan(
        '''
        """Tests that never touch os.environ or unittest.mock.patch directly."""
        import os  # os.environ["A"] = "1" would be wrong
        NOTE = "os.environ.get('A') and mock.MagicMock()"

        def test_a():
            """We used to call os.getenv("A") and monkeypatch.setenv here."""
            message = f"os.environ {NOTE}"
            assert os.path.sep and message
        ''',
        full=True,
    )
    assert facts.error is None
    assert facts.refs == ()


def test_mock_imports_are_reported_once_at_the_import_or_at_each_use() -> None:
    assert _refs("from unittest.mock import MagicMock\n") == {
        ("unittest.mock.MagicMock", "import", 1)
    }
    assert _refs("from unittest.mock import MagicMock\nMagicMock()\nMagicMock()\n") == {
        ("unittest.mock.MagicMock", "use", 2),
        ("unittest.mock.MagicMock", "use", 3),
    }


def test_importing_unittest_mock_is_a_reference_even_when_only_unittest_is_used() -> None:
    assert _refs("import unittest.mock\nclass T(unittest.TestCase): pass\n") == {
        ("unittest.mock", "import", 1)
    }


def test_a_star_import_of_a_watched_module_is_recorded() -> None:
    assert _refs("from unittest.mock import *\n") == {("unittest.mock.*", "star-import", 1)}


def test_a_star_import_binds_the_watched_names_of_its_module() -> None:
    assert _refs("from os import *\nenviron.get('A')\ngetenv('B')\n") == {
        ("os.environ.get", "use", 2),
        ("os.getenv", "use", 3),
    }


def test_it_records_every_mocker_fixture_request() -> None:
    refs = _refs(
        """
        import pytest

        def test_a(mocker): ...
        def test_b(session_mocker): ...
        @pytest.mark.usefixtures("class_mocker")
        def test_c(): ...
        def test_d(request):
            request.getfixturevalue("module_mocker")
        def test_e(mocked): ...
        """
    )
    assert refs == {
        ("pytest_mock.mocker", "fixture", 3),
        ("pytest_mock.session_mocker", "fixture", 4),
        ("pytest_mock.class_mocker", "fixture", 5),
        ("pytest_mock.module_mocker", "fixture", 8),
    }


def test_references_carry_their_enclosing_scope() -> None:
    facts = _scan(
        """
        import os
        import pytest

        os.environ.get("MODULE")

        class TestA:
            os.environ.get("CLASS")

            @pytest.fixture
            def env(self):
                return os.environ.get("CLASS_FIXTURE")

            def test_x(self):
                def inner():
                    return os.environ.get("NESTED")

        @pytest.fixture(name="renamed")
        def _renamed():
            return os.getenv("FIXTURE")
        """
    )
    scopes = {r.line: r.scope for r in facts.refs}
    assert scopes == {
        4: Scope(),
        7: Scope(("TestA",), None, 1),
        11: Scope(("TestA", "env"), "env", 1),
        15: Scope(("TestA", "test_x", "inner"), None, 1),
        19: Scope(("_renamed",), "renamed", 0),
    }
    assert facts.fixtures == {"TestA.env": "env", "_renamed": "renamed"}


def test_a_decorator_made_by_a_fixture_call_makes_fixtures_until_rebound() -> None:
    source = """
    import os
    import pytest

    module_fixture = pytest.fixture(scope="module")
    zone_fixture = pytest.fixture(name="zone")

    @module_fixture
    def secret():
        return os.getenv("SECRET")

    @zone_fixture
    def _zone():
        return os.getenv("ZONE")

    module_fixture = print

    @module_fixture
    def helper():
        return os.getenv("HELPER")
    """
    for full in (False, True):  # the prefilter must not skip the bindings
        facts = _scan(source, full=full)
        assert facts.fixtures == {"secret": "secret", "_zone": "zone"}
        fixture_at = {r.line: r.scope.fixture for r in facts.refs}
        assert fixture_at == {9: "secret", 13: "zone", 19: None}


def test_it_indexes_classes_with_their_resolved_bases() -> None:
    facts = _scan(
        """
        import unittest
        from fw.base import SSotBaseTestCase as Base

        class Mixin: ...

        class TestA(Mixin, Base):
            class TestNested(unittest.TestCase): ...

        def factory():
            class Local: ...
        """,
        full=True,
    )
    assert {name: (info.line, info.bases) for name, info in facts.classes.items()} == {
        "Mixin": (4, ()),
        "TestA": (6, ("Mixin", "fw.base.SSotBaseTestCase")),
        "TestA.TestNested": (7, ("unittest.TestCase",)),
    }


def test_a_file_without_trigger_words_only_gets_a_class_index() -> None:
    facts = _scan(
        """
        class TestA:
            def test_x(self): ...

            class TestInner:
                def test_y(self): ...

        class TestB(Base): ...
        """
    )
    assert facts.error is None
    assert facts.refs == ()
    assert {name: info.line for name, info in facts.classes.items()} == {
        "TestA": 1,
        "TestA.TestInner": 4,
        "TestB": 7,
    }


def test_an_alias_kept_as_a_class_attribute_is_itself_the_access() -> None:
    # Used as self.env[...] later, which no name follows: the class body is where it shows.
    facts = _scan(
        """
        import os

        class TestC:
            env = os.environ

            def test_x(self):
                self.env["A"] = "1"

        def helper():
            env = os.environ
            return env["B"]
        """
    )
    assert sorted((r.line, r.target, r.scope.dotted) for r in facts.refs) == [
        (4, "os.environ", "TestC"),
        (11, "os.environ", "helper"),  # a local alias: its use is the access, once
    ]


def test_columns_count_characters_not_utf8_bytes() -> None:
    # Editors, GitHub annotations and SARIF ("columnKind": "unicodeCodePoints") count
    # characters; ast counts bytes, which puts a finding after "é" or an emoji off by one or 3.
    facts = _scan(
        """
        import os
        s = "ééééé"; os.environ["A"] = "1"
        t = "😀"; os.getenv("B")
        """
    )
    assert sorted((r.line, r.col) for r in facts.refs) == [(2, 14), (3, 10)]


def test_main_blocks_that_start_a_test_runner_are_recorded() -> None:
    facts = _scan(
        """
        import subprocess
        import sys
        import unittest

        if __name__ == "__main__":
            import pytest
            sys.exit(pytest.main([__file__]))

        if "__main__" == __name__:
            unittest.main()

        if __name__ == "__main__":
            subprocess.run([sys.executable, "-m", "pytest", __file__], check=True)
        """
    )
    assert [(b.line, b.calls) for b in facts.main_blocks] == [
        (5, ("pytest.main",)),
        (9, ("unittest.main",)),
        (12, ("subprocess.run (pytest)",)),
    ]


def test_a_main_block_that_runs_the_tests_through_its_own_function_is_recorded() -> None:
    facts = _scan(
        """
        import unittest

        def main():
            run()

        def run():
            unittest.main(verbosity=2)
            main()  # a cycle is followed once

        if __name__ == "__main__":
            main()
        """
    )
    assert [(b.line, b.calls) for b in facts.main_blocks] == [(10, ("unittest.main",))]


@pytest.mark.parametrize(
    "command",
    [
        '["python", "tools/make_pytest_report.py"]',
        '[sys.executable, "-m", "pytest_ssot", "check"]',
        '"pip install pytest-xdist"',
    ],
)
def test_a_subprocess_that_only_mentions_pytest_in_a_name_is_not_a_test_run(command: str) -> None:
    facts = _scan(
        f"""
        import subprocess
        import sys

        if __name__ == "__main__":
            subprocess.run({command})
        """
    )
    assert facts.main_blocks == ()


@pytest.mark.parametrize(
    "command",
    ['"pytest -q"', '["/venv/bin/py.test", __file__]', '"python -mpytest tests"'],
)
def test_a_subprocess_that_runs_pytest_is_a_test_run(command: str) -> None:
    facts = _scan(
        f"""
        import subprocess

        if __name__ == "__main__":
            subprocess.run({command})
        """
    )
    assert [b.calls for b in facts.main_blocks] == [("subprocess.run (pytest)",)]


def test_main_blocks_that_do_something_else_are_not_recorded() -> None:
    facts = _scan(
        """
        import subprocess
        import sys

        def main():
            print("a demo")

        if __name__ == "__main__":
            main()
            subprocess.run(["echo", "hello"])
            sys.exit(0)

        def test_a():
            if __name__ == "__main__":
                import pytest
                pytest.main()
        """
    )
    assert facts.main_blocks == ()


def test_suppression_comments_are_read_with_tokenize() -> None:
    facts = _scan(
        """
        import os
        a = os.environ["A"]  # ssot: ignore[SSOT002]
        b = os.getenv("B")  #ssot:ignore[direct-environ-access, SSOT003]
        c = os.getenv("C")  # ssot: ignore
        d = "# ssot: ignore[SSOT002]"  # a note, not a ssot: ignore
        e = f()  # type: ignore[misc]  # ssot: ignore[ SSOT002 ,ad-hoc-mock ]
        """
    )
    assert facts.suppressions == {
        2: frozenset({"SSOT002"}),
        3: frozenset({"direct-environ-access", "SSOT003"}),
        4: frozenset(),
        6: frozenset({"SSOT002", "ad-hoc-mock"}),
    }


@pytest.mark.parametrize("prune", [False, True])
def test_a_malformed_inline_ignore_never_widens_to_every_rule(prune: bool) -> None:
    # An unclosed bracket names what follows it; empty brackets name no rule (so they ignore
    # nothing and show as unused). Searching the whole file, an unclosed bracket once ran on
    # into the next lines' comments and hid them.
    source = textwrap.dedent(
        """
        import os
        a = os.getenv("A")  # ssot: ignore[SSOT003
        b = os.getenv("B")  # ssot: ignore[ , ]
        c = os.getenv("C")  # ssot: ignore[]
        d = os.getenv("D")  # ssot: ignore[SSOT002]
        """
    ).lstrip()
    facts = scan(source.encode(), "test_x.py", prune=prune)
    assert facts.suppressions == {
        2: frozenset({"SSOT003"}),
        3: NO_RULE,
        4: NO_RULE,
        5: frozenset({"SSOT002"}),
    }


def test_facts_survive_a_round_trip_through_plain_dicts() -> None:
    facts = _scan(
        """
        import os
        import pytest
        from unittest.mock import MagicMock

        class TestA:
            @pytest.fixture
            def env(self):
                return os.environ  # ssot: ignore

            def test_x(self, mocker):
                MagicMock()

        if __name__ == "__main__":
            pytest.main()
        """
    )
    assert all((facts.refs, facts.main_blocks, facts.fixtures, facts.suppressions))
    assert FileFacts.from_dict(facts.to_dict()) == facts


# -- bad input -------------------------------------------------------------------------------


def test_a_syntax_error_is_a_fact_with_its_line() -> None:
    facts = _scan("import os\nclass TestA(Base)\n    os.environ\n")
    assert facts.error == "syntax error (line 2): expected ':'"
    assert facts.refs == ()


def test_bytes_that_are_not_utf8_are_a_fact() -> None:
    facts = scan(b"import os\nx = '\xff\xfe caf\xe9'\nos.environ\n", "tests/test_x.py")
    assert facts.error is not None
    assert "utf-8" in facts.error.lower()


def test_a_declared_source_encoding_is_honoured() -> None:
    data = "# -*- coding: latin-1 -*-\nimport os\nx = 'café'\nos.environ\n".encode("latin-1")
    facts = scan(data, "tests/test_x.py")
    assert facts.error is None
    assert [(r.target, r.line) for r in facts.refs] == [("os.environ", 4)]


def test_nul_bytes_are_a_fact_with_or_without_trigger_words() -> None:
    with_trigger = scan(b"import os\nos.environ\0\n", "tests/test_x.py")
    without = scan(b"x = 1\0\n", "tests/test_x.py")
    assert with_trigger.error == without.error == "contains NUL bytes"


def test_deep_nesting_is_a_fact_not_a_crash() -> None:
    expression = "1" + " + 1" * 50_000
    facts = scan(f"import os\nx = {expression}\nos.environ\n".encode(), "tests/test_x.py")
    if sys.version_info >= (3, 11):
        assert facts.error == "nested too deeply to analyse (RecursionError)"
    else:  # Python 3.10 parses a flat chain of `+` (its parser loops): the file is checked
        assert facts.error is None
        assert [ref.target for ref in facts.refs] == ["os.environ"]


def test_deep_unary_nesting_is_a_fact_not_a_crash() -> None:
    facts = scan(
        ("import os\nx = " + "-" * 100_000 + "1\nos.environ\n").encode(), "tests/test_x.py"
    )
    assert facts.error is not None


def test_an_unknown_declared_encoding_is_a_fact() -> None:
    facts = scan(b"# coding: no-such-codec\nimport os\nos.environ\n", "tests/test_x.py")
    assert facts.error is not None


def test_compiler_warnings_neither_leak_nor_turn_into_syntax_errors() -> None:
    data = b'import os\nx = "\\d"\ny = 1()\nos.environ\n'
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under `pytest -W error`
        facts = scan(data, "tests/test_x.py")
    assert facts.error is None
    assert [r.line for r in facts.refs] == [4]


def _assert_well_formed(facts: FileFacts) -> None:
    assert facts.path == "tests/test_x.py"
    if facts.error is not None:
        assert facts.error.strip()
        assert facts.refs == ()
    for ref in facts.refs:
        assert ref.line >= 1
        assert ref.end_line >= ref.line


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2_000))
def test_scan_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    _assert_well_formed(scan(data, "tests/test_x.py", WATCHED, full=True))
    _assert_well_formed(scan(data, "tests/test_x.py", WATCHED))


# Built once: constructing the grammar strategy costs seconds, drawing from it does not.
_PYTHON_SOURCE = hypothesmith.from_grammar()


@st.composite
def _damaged_source(draw: st.DrawFn) -> tuple[bytes, str]:
    """Generated Python after a watched access, then maybe cut, spliced or re-encoded."""
    source: str = draw(_PYTHON_SOURCE)
    text = "import os\nos.environ['A'] = '1'  # ssot: ignore[SSOT002]\n" + source
    data = text.encode("utf-8", errors="surrogatepass")
    damage = draw(st.sampled_from(["none", "cut", "nul", "latin1"]))
    if damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "nul":
        data = data.replace(b"\n", b"\n\0", 1)
    elif damage == "latin1":
        data += b"\nx = '\xe9'\n"
    return data, damage


# hypothesmith compiles what it generates: its own SyntaxWarnings are not the scanner's.
@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@given(_damaged_source())
def test_scan_never_raises_on_generated_python(case: tuple[bytes, str]) -> None:
    data, damage = case
    facts = scan(data, "tests/test_x.py", WATCHED)
    _assert_well_formed(facts)
    if damage in ("nul", "latin1"):
        assert facts.error is not None
    if facts.error is None and damage == "none":
        # Whatever follows it, the access before the generated code is found and ignorable.
        assert ("os.environ", 2) in {(r.target, r.line) for r in facts.refs}
        assert facts.suppressions[2] == frozenset({"SSOT002"})


def test_an_undecodable_comment_does_not_hide_later_inline_ignores() -> None:
    # Found by the fuzzer: CPython accepts a stray \x80 in a comment, so the file parses and
    # the ignore on line 2 is real; pruned and full scans must both see it.
    data = b"import os  #\x80 ssot: ignore\nimport os  # ssot: ignore[ad-hoc-mock, SSOT201]\n"
    full = scan(data, "t.py", full=True)
    pruned = scan(data, "t.py")
    assert full.suppressions.get(2) == frozenset({"ad-hoc-mock", "SSOT201"})
    assert pruned.suppressions == full.suppressions
