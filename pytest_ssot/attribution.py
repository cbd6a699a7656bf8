"""Which tests a static finding of a test module affects: one rule for the plugin (on the
objects pytest collected) and the CLI (on the tests it reads from the source).

A test is known by where the code that runs for it is defined (:class:`Origins`): its
module, its class and every base (file, qualname), and the test function itself. A finding
in test module ``here`` at ``scope`` then affects (SPEC, "A violation is attributed ..."):

* module level: every test collected from ``here``;
* a class body: the tests whose class is, or derives from, that class;
* a fixture: those of the tests above that use it;
* a test function's body: the tests that run that very function (wherever collected);
* any other function (a helper, ``setUp``): the tests of its class, or of ``here``.

:func:`affected_by` states the rule one test at a time; :class:`Candidates` is its indexed
form, which a suite with tens of thousands of tests and findings can afford.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from pytest_ssot.model import Scope

W = TypeVar("W", bound=Hashable)  # how a file is named: one type per caller, compared by ==
W_co = TypeVar("W_co", bound=Hashable, covariant=True)
Function = tuple[W, tuple[str, ...]]  # (file, qualname) of a function or class


class Origins(Protocol[W_co]):
    """Where the code that runs for one test is defined."""

    @property
    def nodeid(self) -> str: ...
    @property
    def file(self) -> W_co: ...  # the test module it is collected from
    @property
    def fixturenames(self) -> Container[str]: ...
    @property
    def classes(self) -> Sequence[tuple[W_co | None, tuple[str, ...]]]: ...  # class and bases
    @property
    def function(self) -> tuple[W_co | None, tuple[str, ...]] | None: ...


T = TypeVar("T", bound=Origins)  # type: ignore[type-arg]  # any file type


def affected_by(test: Origins[W], scope: Scope, here: W, defined: Container[object]) -> bool:
    """Whether a finding at ``scope`` of test module ``here`` affects ``test``.

    ``defined`` holds the test functions defined in ``here`` (file, qualname), so a test's
    body is told apart from a helper that every test of its class or module may call.
    """
    if not scope.qualname:
        return test.file == here
    cls_parts = scope.qualname[: scope.classes]
    rest = scope.qualname[scope.classes :]
    if cls_parts and not any(
        where == here and qualname[: len(cls_parts)] == cls_parts
        for where, qualname in test.classes
    ):
        return False  # a class this test's class neither is nor derives from
    if not rest:
        return True  # class body
    if scope.fixture is not None:
        return scope.fixture in test.fixturenames
    body = (here, (*cls_parts, rest[0]))
    if body in defined:
        return test.function == body  # a test's body: wherever that function runs
    return bool(cls_parts) or test.file == here


def related(by_file: Mapping[W, Sequence[T]]) -> dict[W, list[T]]:
    """Per test module (a key of ``by_file``, each test's :attr:`~Origins.file`), the tests
    its code runs for: its own, plus those of other modules whose classes derive from its
    classes or that collect its test functions."""
    found: dict[W, list[T]] = {here: [] for here in by_file}
    # The files of one class's MRO, other than the module a test is collected from: the
    # tests of a class share one ``classes`` sequence where the caller can (kept alive here).
    elsewhere: dict[tuple[int, W], tuple[object, frozenset[W]]] = {}
    for here, tests in by_file.items():
        own = found[here]
        for test in tests:
            own.append(test)
            classes = test.classes
            key = (id(classes), here)
            held = elsewhere.get(key)
            if held is None:
                files = frozenset(w for w, _ in classes if w is not None and w != here)
                held = elsewhere[key] = (classes, files)
            files = held[1]
            function = test.function
            where = function[0] if function is not None else None
            if where is not None and where != here and where not in files:
                files = files | {where}
            for file in files:
                if file in found:
                    found[file].append(test)
    return found


class Candidates(Generic[W, T]):
    """The tests module ``here``'s code may run for (its :func:`related` tests), indexed so
    that attributing a finding costs a few look-ups. Each index is built when a finding
    first needs it, and findings in one scope share one answer."""

    def __init__(
        self, here: W, tests: Sequence[T], is_test_name: Callable[[str], bool] | None = None
    ) -> None:
        self.here = here
        self.tests = tests
        # When only part of the module was collected (`file::test`, -k, --lf), the tests
        # left out are not in ``tests``: their bodies are told by pytest's naming rule, or
        # they would pass for helpers that every test of the module or class runs.
        self.is_test_name = is_test_name
        self._own: list[str] | None = None
        self._defined: set[object] | None = None
        self._collected: set[tuple[str, ...]] | None = None
        self._by_function: dict[object, list[T]] | None = None
        self._by_prefix: dict[tuple[str, ...], dict[str, T]] | None = None
        self._answers: dict[Scope, list[str]] = {}

    def affected(self, scope: Scope) -> list[str]:
        """The node ids :func:`affected_by` accepts, in the order of :attr:`tests` (the same
        list for every finding in ``scope``)."""
        answer = self._answers.get(scope)
        if answer is None:
            answer = self._answers[scope] = self._affected(scope)
        return answer

    def _affected(self, scope: Scope) -> list[str]:
        if not scope.qualname:
            return self._own_tests()
        cls_parts = scope.qualname[: scope.classes]
        rest = scope.qualname[scope.classes :]
        pool: Sequence[T] = self._in_class(cls_parts) if cls_parts else self.tests
        if not rest:
            return [t.nodeid for t in pool]
        if scope.fixture is not None:
            return [t.nodeid for t in pool if scope.fixture in t.fixturenames]
        body = (self.here, (*cls_parts, rest[0]))
        if body in self._defined_here() or self._left_out(body[1]):
            runs = self._runs(body)
            if not cls_parts:
                return [t.nodeid for t in runs]
            ids = {t.nodeid for t in pool}
            return [t.nodeid for t in runs if t.nodeid in ids]
        if cls_parts:
            return [t.nodeid for t in pool]
        return self._own_tests()

    def _own_tests(self) -> list[str]:
        if self._own is None:
            self._own = [t.nodeid for t in self.tests if t.file == self.here]
        return self._own

    def _defined_here(self) -> set[object]:
        if self._defined is None:
            functions = (t.function for t in self.tests)
            self._defined = {f for f in functions if f is not None and f[0] == self.here}
        return self._defined

    def _left_out(self, qualname: tuple[str, ...]) -> bool:
        """Whether ``qualname`` names a test function pytest did not collect this time."""
        if self.is_test_name is None or not self.is_test_name(qualname[-1]):
            return False
        if self._collected is None:
            # By name: a module reached through a symlink may report its functions under
            # the path it was first imported from.
            functions = (t.function for t in self.tests if t.file == self.here)
            self._collected = {f[1] for f in functions if f is not None}
        return qualname not in self._collected

    def _runs(self, body: object) -> list[T]:
        if self._by_function is None:
            self._by_function = {}
            for test in self.tests:
                self._by_function.setdefault(test.function, []).append(test)
        return self._by_function.get(body, [])

    def _in_class(self, cls_parts: tuple[str, ...]) -> list[T]:
        if self._by_prefix is None:
            self._by_prefix = {}
            for test in self.tests:
                for where, qualname in test.classes:
                    if where == self.here:
                        for size in range(1, len(qualname) + 1):
                            self._by_prefix.setdefault(qualname[:size], {})[test.nodeid] = test
        return list(self._by_prefix.get(cls_parts, {}).values())
