"""The session's findings as columns: what a suite of 10,000 files can afford to hold.

A :class:`~pytest_ssot.model.Finding` object with its scope costs about 350 bytes, and a
dictionary of them keyed by ``(code, path, line, col)`` tuples as much again. A large suite
has 100,000 findings. Here each finding is one row across typed arrays and lists of shared
strings (about a third of that), found again through its file's rows, and made into a
``Finding`` only when something asks for one.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Iterable, Iterator
from typing import overload

from pytest_ssot.model import MODULE_SCOPE, Finding, Scope, Source

Key = tuple[str, str, int, int]  # Finding.key: (code, path, line, col)

# A file with more findings than this gets a dictionary to find them by: below it, looking
# through the file's rows is as fast and costs nothing to hold.
_INDEXED_FROM = 48


class AffectedTests(tuple[str, ...]):
    """A finding's tests, sorted and without repeats: what :meth:`FindingStore.compact`
    shares between every finding that affects the same tests (a module-level finding affects
    every test of its module, and a large suite has 100,000s of these pairs). A tuple costs a
    fifth of a frozenset's memory, and its order is the order reports list the tests in."""

    __slots__ = ()


Tests = set[str] | AffectedTests
_NO_TESTS = AffectedTests()
_NO_ROWS = array("I")  # read only


def one_or_many(items: tuple[str, ...]) -> str | tuple[str, ...]:
    """What to hold for ``items``: most findings have one test and most scopes one name, and
    the string alone costs nothing (the tuple around it 48 bytes). :func:`many` reverses it."""
    return items[0] if len(items) == 1 else items


def many(held: str | tuple[str, ...]) -> tuple[str, ...]:
    return (held,) if isinstance(held, str) else held


def _extended(column: array[int], numbers: tuple[int, ...]) -> array[int]:
    """``column`` with ``numbers`` appended: 4-byte ints, or the column widened to 8 bytes
    once one needs it (a plugin's hook may hand back any line number). All or none of
    ``numbers`` go in, so a row never ends up half written."""
    try:
        packed = array(column.typecode, numbers)
    except OverflowError:
        column = array("q", column)
        packed = array("q", numbers)
    column.extend(packed)
    return column


class _Names:
    """A few distinct strings (rule codes, paths) numbered in order of first use."""

    __slots__ = ("names", "numbers")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.numbers: dict[str, int] = {}

    def number(self, name: str) -> int:
        number = self.numbers.get(name)
        if number is None:
            number = self.numbers[name] = len(self.names)
            self.names.append(name)
        return number


class FindingStore:
    """Every finding of a session with the tests each affects, one row per finding key.

    Reads like a mapping from :attr:`Finding.key` to the finding (``store[key]``, ``in``,
    ``items()``, ``values()``, ``len``); rows are only ever added, so a row number names the
    same finding for the store's whole life.
    """

    def __init__(self) -> None:
        self._codes = _Names()
        self._paths = _Names()
        self._code = array("H")
        self._path = array("I")
        # Line, column, last line and scope's class count of each row, four ints a row: 4
        # bytes each, or 8 once any needs it (a plugin's hook may hand back any number).
        self._ints = array("i")
        self._runtime = bytearray()
        self._message: list[str] = []
        self._snippet: list[str] = []
        self._qualname: list[str | tuple[str, ...]] = []  # see one_or_many()
        self._fixture: list[str | None] = []
        # A set while tests are added, then (compact()) AffectedTests or its one node id.
        self._tests: list[Tests | str] = []
        self._rows_of_path: dict[int, array[int]] = {}
        self._index_of_path: dict[int, dict[tuple[int, int, int], int]] = {}

    # -- rows ------------------------------------------------------------------------------
    def row(self, key: Key) -> int | None:
        """The row of the finding with ``key``, if the store has one."""
        code, path, line, col = key
        code_number = self._codes.numbers.get(code)
        path_number = self._paths.numbers.get(path)
        if code_number is None or path_number is None:
            return None
        return self._row(code_number, path_number, line, col)

    def _row(self, code: int, path: int, line: int, col: int) -> int | None:
        index = self._index_of_path.get(path)
        if index is not None:
            return index.get((code, line, col))
        rows = self._rows_of_path.get(path)
        if rows is None:
            return None
        if len(rows) >= _INDEXED_FROM:
            return self._index(path, rows).get((code, line, col))
        ints, codes = self._ints, self._code
        for row in rows:
            at = 4 * row
            if ints[at] == line and ints[at + 1] == col and codes[row] == code:
                return row
        return None

    def _index(self, path: int, rows: array[int]) -> dict[tuple[int, int, int], int]:
        ints, codes = self._ints, self._code
        index = self._index_of_path[path] = {
            (codes[row], ints[4 * row], ints[4 * row + 1]): row for row in rows
        }
        return index

    def _append(self, finding: Finding, code: int, path: int, tests: Tests) -> int:
        row = len(self._tests)
        scope = finding.scope
        numbers = (finding.line, finding.col, finding.end_line, scope.classes)
        self._ints = _extended(self._ints, numbers)
        self._code.append(code)
        self._path.append(path)
        self._runtime.append(finding.source == "runtime")
        self._message.append(finding.message)
        self._snippet.append(finding.snippet)
        self._qualname.append(one_or_many(scope.qualname))
        self._fixture.append(scope.fixture)
        self._tests.append(tests)
        rows = self._rows_of_path.get(path)
        if rows is None:
            rows = self._rows_of_path[path] = array("I")
        rows.append(row)
        index = self._index_of_path.get(path)
        if index is not None:
            index[code, finding.line, finding.col] = row
        return row

    def add(self, finding: Finding, nodeids: Iterable[str]) -> bool:
        """Attribute ``finding`` to ``nodeids`` (a finding already held keeps its first form and
        gains the tests). Whether the store had no finding with its key before."""
        code = self._codes.number(finding.code)
        path = self._paths.number(finding.path)
        row = self._row(code, path, finding.line, finding.col)
        if row is None:
            # Another finding's shared tests (see compact()) are shared here too, and so is
            # one empty tuple (an empty set alone is 216 bytes).
            tests = nodeids if isinstance(nodeids, AffectedTests) else set(nodeids)
            self._append(finding, code, path, tests or _NO_TESTS)
            return True
        tests = self.tests(row)
        if isinstance(tests, set):
            tests.update(nodeids)
        elif tests is not nodeids:  # shared (compact()): grow a set of its own if it must
            grown = set(tests)
            grown.update(nodeids)
            if len(grown) > len(tests):
                self._tests[row] = grown
        return False

    def compact(self) -> None:
        """Share one :class:`AffectedTests` between the findings that affect the same tests;
        later adds still work (a shared one grows as a set of its own). The indexes of files
        with many findings go too: they are made again for the files a later add or look-up
        needs (the few a run adds to)."""
        self.drop_indexes()
        shared: dict[AffectedTests, AffectedTests] = {}
        for row, tests in enumerate(self._tests):
            if isinstance(tests, str):
                continue
            frozen = tests if isinstance(tests, AffectedTests) else AffectedTests(sorted(tests))
            self._tests[row] = frozen[0] if len(frozen) == 1 else shared.setdefault(frozen, frozen)

    def take(self, other: FindingStore) -> None:
        """Hold what ``other`` holds, as it is (``other`` is not used again): an empty store
        taking a whole one over, without making and adding each finding again. This very
        store stays the one its holders see."""
        if len(self):
            raise ValueError("only an empty store can take another's rows")
        vars(self).update(vars(other))

    def drop_indexes(self) -> None:
        """Forget the dictionaries that find the rows of files with many findings (made
        again for a file when an add or look-up needs it)."""
        self._index_of_path.clear()

    # -- one row's columns -----------------------------------------------------------------
    def finding(self, row: int) -> Finding:
        at = 4 * row
        line, col, end_line, classes = self._ints[at : at + 4]
        qualname, fixture = many(self._qualname[row]), self._fixture[row]
        scope = (
            MODULE_SCOPE
            if not qualname and fixture is None and not classes
            else Scope(qualname, fixture, classes)
        )
        source: Source = "runtime" if self._runtime[row] else "static"
        return Finding(
            code=self._codes.names[self._code[row]],
            path=self._paths.names[self._path[row]],
            line=line,
            col=col,
            message=self._message[row],
            scope=scope,
            source=source,
            snippet=self._snippet[row],
            end_line=end_line,
        )

    def key(self, row: int) -> Key:
        return (
            self._codes.names[self._code[row]],
            self._paths.names[self._path[row]],
            self._ints[4 * row],
            self._ints[4 * row + 1],
        )

    def code(self, row: int) -> str:
        return self._codes.names[self._code[row]]

    def path(self, row: int) -> str:
        return self._paths.names[self._path[row]]

    def message(self, row: int) -> str:
        return self._message[row]

    def lines(self, row: int) -> tuple[int, int]:
        """The first and last line of the row's finding."""
        return self._ints[4 * row], self._ints[4 * row + 2]

    def tests(self, row: int) -> Tests:
        tests = self._tests[row]
        return AffectedTests((tests,)) if isinstance(tests, str) else tests

    def order(self, row: int) -> tuple[str, int, int, str]:
        """:func:`~pytest_ssot.model.finding_order` of the row's finding, without making it."""
        return (self.path(row), self._ints[4 * row], self._ints[4 * row + 1], self.code(row))

    def anchor(self, row: int) -> tuple[str, str, str, str]:
        """:func:`~pytest_ssot.model.finding_anchor` of the row's finding, without making it."""
        qualname = self._qualname[row]
        dotted = qualname if isinstance(qualname, str) else ".".join(qualname)
        return (self.code(row), self.path(row), dotted, self._snippet[row])

    def rows_in(self, path: str) -> tuple[int, ...]:
        """The rows of the findings in file ``path``, in the order they were added."""
        return tuple(self._file_rows(path))

    def count_in(self, path: str) -> int:
        """How many findings file ``path`` has."""
        return len(self._file_rows(path))

    def _file_rows(self, path: str) -> array[int]:
        number = self._paths.numbers.get(path)
        rows = self._rows_of_path.get(number) if number is not None else None
        return rows if rows is not None else _NO_ROWS

    # -- as a mapping ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._tests)

    def __iter__(self) -> Iterator[Key]:
        return map(self.key, range(len(self._tests)))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 4 and self.row(key) is not None

    def __getitem__(self, key: Key) -> Finding:
        row = self.row(key)
        if row is None:
            raise KeyError(key)
        return self.finding(row)

    @overload
    def get(self, key: Key) -> Finding | None: ...
    @overload
    def get(self, key: Key, default: Finding) -> Finding: ...
    def get(self, key: Key, default: Finding | None = None) -> Finding | None:
        row = self.row(key)
        return default if row is None else self.finding(row)

    def keys(self) -> Iterator[Key]:
        return iter(self)

    def values(self) -> Iterator[Finding]:
        return map(self.finding, range(len(self._tests)))

    def items(self) -> Iterator[tuple[Key, Finding]]:
        for row in range(len(self._tests)):
            yield self.key(row), self.finding(row)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FindingStore):
            return NotImplemented
        return _contents(self) == _contents(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it stands for

    def __repr__(self) -> str:
        return f"<FindingStore: {len(self)} findings>"


def _contents(store: FindingStore) -> dict[Key, tuple[Finding, set[str]]]:
    rows = range(len(store))
    return {store.key(row): (store.finding(row), set(store.tests(row))) for row in rows}


@dataclasses.dataclass(frozen=True)
class AffectedView:
    """Each finding's tests by finding key, read from a :class:`FindingStore`."""

    store: FindingStore

    def get(self, key: Key, default: Iterable[str] = ()) -> Iterable[str]:
        row = self.store.row(key)
        return default if row is None else self.store.tests(row)

    def __getitem__(self, key: Key) -> Tests:
        row = self.store.row(key)
        if row is None:
            raise KeyError(key)
        return self.store.tests(row)

    def __contains__(self, key: object) -> bool:
        return key in self.store

    def __len__(self) -> int:
        return len(self.store)


class StaticSites:
    """Where the scanned findings a run-time access can turn out to be sit, in scan order,
    without holding them twice: most are in the session's store already (found again there
    by key), and only the few attributed to no test are kept here whole."""

    def __init__(self, session: FindingStore) -> None:
        self._session = session
        self._codes = _Names()
        self._sites: dict[str, array[int]] = {}  # path -> code, line, last line, col per site
        self._unattributed = FindingStore()

    def add(self, finding: Finding) -> None:
        numbers = (self._codes.number(finding.code), finding.line, finding.end_line, finding.col)
        sites = self._sites.get(finding.path) or array("i")
        self._sites[finding.path] = _extended(sites, numbers)
        if finding.key not in self._session:
            self._unattributed.add(finding, ())

    def at(self, code: str, path: str, line: int) -> Finding | None:
        """The first site of rule ``code`` in ``path`` whose lines include ``line``."""
        key = self.key_at(code, path, line)
        return None if key is None else self.finding(key)

    def key_at(self, code: str, path: str, line: int) -> Key | None:
        """The key of :meth:`at`'s finding, without making the finding: a run-time hit on a
        line its test already answers for needs no more (most hits, in a drifted suite)."""
        sites = self._sites.get(path)
        number = self._codes.numbers.get(code)
        if sites is None or number is None:
            return None
        for at in range(0, len(sites), 4):
            first, last = sites[at + 1], sites[at + 2]
            if sites[at] == number and first <= line <= max(first, last):
                return (code, path, first, sites[at + 3])
        return None

    def unattributed(self, key: Key) -> bool:
        """Whether the site's finding affected no test when the tests were collected (a
        fixture only ``request.getfixturevalue`` reaches): nobody was warned about it then."""
        return key in self._unattributed

    def finding(self, key: Key) -> Finding | None:
        """The site's finding for a key :meth:`key_at` gave."""
        found = self._session.get(key)
        return found if found is not None else self._unattributed.get(key)

    def __len__(self) -> int:
        return sum(len(sites) for sites in self._sites.values()) // 4
