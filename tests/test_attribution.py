"""The attribution rule shared by the plugin and the CLI, and its indexed form."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot.attribution import Candidates, affected_by, related
from pytest_ssot.model import Scope

HERE, OTHER = "/s/tests/test_a.py", "/s/tests/test_b.py"


@dataclasses.dataclass(frozen=True)
class FakeTest:
    nodeid: str
    file: str
    fixturenames: frozenset[str] = frozenset()
    classes: tuple[tuple[str | None, tuple[str, ...]], ...] = ()
    function: tuple[str | None, tuple[str, ...]] | None = None


# Classes of test_a.py and test_b.py, each with its MRO as attribution sees it.
CLASSES = {
    "A": ((HERE, ("A",)),),
    "B": ((HERE, ("B",)), (HERE, ("A",))),  # B derives from A
    "C": ((OTHER, ("C",)), (HERE, ("A",))),  # a class elsewhere deriving from A
    "N": ((HERE, ("A", "N")),),  # nested in A
    "X": ((OTHER, ("X",)), (None, ("Base",))),  # a base defined nowhere known
}
# Where each class's test_x is defined: C inherits A's, X defines its own.
OWN = {
    "A": (HERE, ("A", "test_x")),
    "B": (HERE, ("B", "test_x")),
    "C": (HERE, ("A", "test_x")),
    "N": (HERE, ("A", "N", "test_x")),
    "X": (OTHER, ("X", "test_x")),
}
SCOPES = [
    Scope(),
    Scope(("A",), classes=1),
    Scope(("A", "N"), classes=2),
    Scope(("A", "test_x"), classes=1),
    Scope(("B", "test_x"), classes=1),
    Scope(("A", "setUp"), classes=1),
    Scope(("A", "helper"), fixture="db", classes=1),
    Scope(("test_3",)),
    Scope(("test_f",)),
    Scope(("helper",)),
    Scope(("db_fixture",), fixture="db"),
    Scope(("Z", "x"), classes=1),
]


def _tests(specs: list[tuple[str | None, bool, str]]) -> list[FakeTest]:
    tests = []
    for index, (cls, uses_db, function) in enumerate(specs):
        file = OTHER if cls in ("C", "X") else HERE
        if function == "own":
            origin = (
                (HERE, (cls, "test_x")) if cls in CLASSES and cls != "X" else (file, ("test_x",))
            )
        elif function == "shared":
            origin = (HERE, ("test_f",))  # defined in test_a.py, collected maybe elsewhere
        else:
            origin = (file, (f"test_{index}",))
        tests.append(
            FakeTest(
                nodeid=f"n{index}",
                file=file,
                fixturenames=frozenset({"db"} if uses_db else ()),
                classes=CLASSES[cls] if cls else (),
                function=origin,
            )
        )
    return tests


def _expected(tests: list[FakeTest], scope: Scope) -> list[str]:
    defined = {t.function for t in tests if t.function and t.function[0] == HERE}
    return sorted(t.nodeid for t in tests if affected_by(t, scope, HERE, defined))


def test_the_indexed_form_agrees_with_the_rule_for_every_kind_of_scope() -> None:
    specs = list(itertools.product([*CLASSES, None], [False, True], ["own", "shared", "index"]))
    tests = _tests(specs)
    index = Candidates(HERE, tests)
    for scope in SCOPES:
        assert sorted(index.affected(scope)) == _expected(tests, scope), scope
    # Findings in one scope share one answer.
    assert index.affected(Scope()) is index.affected(Scope())


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from([*CLASSES, None]),
            st.booleans(),
            st.sampled_from(["own", "shared", "index"]),
        ),
        max_size=12,
    ),
    scopes=st.lists(st.sampled_from(SCOPES), min_size=1, max_size=6),
)
def test_the_indexed_form_agrees_with_the_rule_for_any_suite(
    specs: list[tuple[str | None, bool, str]], scopes: list[Scope]
) -> None:
    tests = _tests(specs)
    index = Candidates(HERE, tests)  # indexes built in whatever order findings ask
    for scope in scopes:
        assert sorted(index.affected(scope)) == _expected(tests, scope), scope


def test_related_adds_the_tests_elsewhere_that_run_a_modules_code() -> None:
    own = FakeTest("a1", HERE, classes=CLASSES["A"], function=(HERE, ("A", "test_x")))
    derived = FakeTest("b1", OTHER, classes=CLASSES["C"], function=(HERE, ("A", "test_x")))
    imported = FakeTest("b2", OTHER, function=(HERE, ("test_f",)))
    unrelated = FakeTest("b3", OTHER, classes=CLASSES["X"], function=(OTHER, ("X", "test_y")))
    outside = FakeTest("b4", OTHER, function=("/site-packages/lib.py", ("test_z",)))

    found = related({HERE: [own], OTHER: [derived, imported, unrelated, outside]})

    assert [t.nodeid for t in found[HERE]] == ["a1", "b1", "b2"]
    assert [t.nodeid for t in found[OTHER]] == ["b1", "b2", "b3", "b4"]
    assert set(found) == {HERE, OTHER}  # files that collect no test get no entry
