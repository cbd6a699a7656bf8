"""Policy: exemptions, baseline, tiers and modes applied to findings; says what fails.

A pure function of plain data (:class:`SessionData` in, :class:`Result` out), so the serial
session, the xdist controller and the CLI all decide the same way.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import operator
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, overload

from pytest_ssot.config import DEFAULT_TIER, Config, parse_until
from pytest_ssot.model import (
    FINGERPRINT_BYTES,
    MODES,
    Exemption,
    Finding,
    Mode,
    RuleInfo,
    Scope,
    Status,
    UncheckedFile,
    finding_anchor,
    finding_order,
    fingerprint_digest_pairs,
)
from pytest_ssot.store import AffectedTests, AffectedView, FindingStore, many, one_or_many


@dataclasses.dataclass(frozen=True, slots=True)
class TestRecord:
    """What policy needs of a checked test (a collected Python test outside ``exclude``),
    stored under its node id. The tests of one file with the same exemptions share a record
    (see :func:`record_for`): a large suite has 100,000s of tests but a few thousand files."""

    path: str
    exemptions: tuple[Exemption, ...] = ()


RecordPool = dict[tuple[str, tuple[Exemption, ...]], TestRecord]


def record_for(pool: RecordPool, path: str, exemptions: tuple[Exemption, ...] = ()) -> TestRecord:
    """The record of a test in ``path`` with ``exemptions``, shared through ``pool``."""
    key = (path, exemptions)
    record = pool.get(key)
    if record is None:
        record = pool[key] = TestRecord(path, exemptions)
    return record


@dataclasses.dataclass
class SessionData:
    """Everything policy needs, as plain data that merges across xdist workers."""

    tests: dict[str, TestRecord] = dataclasses.field(default_factory=dict)
    # Each finding with its tests: a set while findings are added, then (compact())
    # AffectedTests shared by every finding with the same tests.
    findings: FindingStore = dataclasses.field(default_factory=FindingStore)
    suppressions: dict[str, dict[int, frozenset[str]]] = dataclasses.field(default_factory=dict)
    unchecked: dict[str, UncheckedFile] = dataclasses.field(default_factory=dict)
    session_findings: list[Finding] = dataclasses.field(default_factory=list)
    invalid_exemptions: dict[str, str] = dataclasses.field(default_factory=dict)
    # When a list: every later add() is also appended here, so an xdist worker can stream
    # what its tests found at run time before it (maybe) crashes. Never copied or merged.
    journal: list[tuple[Finding, tuple[str, ...]]] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )

    # Counts add() calls, so a caller can tell that nothing was added since it last looked.
    additions: int = dataclasses.field(default=0, init=False, repr=False, compare=False)

    @property
    def affected(self) -> AffectedView:
        """Each finding's tests by finding key."""
        return AffectedView(self.findings)

    def add(self, finding: Finding, nodeids: Iterable[str]) -> bool:
        """Attribute ``finding`` to ``nodeids``; whether it is a finding not held before."""
        self.additions += 1
        if self.journal is not None:
            listed = tuple(nodeids)
            self.journal.append((finding, listed))
            nodeids = nodeids if isinstance(nodeids, AffectedTests) else listed
        return self.findings.add(finding, nodeids)

    def affects(self, key: tuple[str, str, int, int], nodeid: str) -> bool:
        """Whether finding ``key`` is already attributed to test ``nodeid``."""
        row = self.findings.row(key)
        if row is None:
            return False
        tests = self.findings.tests(row)
        if isinstance(tests, set):
            return nodeid in tests
        index = bisect.bisect_left(tests, nodeid)  # AffectedTests are sorted
        return index < len(tests) and tests[index] == nodeid

    def signature(self) -> tuple[int, ...]:
        """Changes whenever what :func:`evaluate` decides on may have changed (records are
        only ever added, never replaced, once a session starts deciding)."""
        return (
            self.additions,
            len(self.tests),
            len(self.findings),
            len(self.suppressions),
            len(self.unchecked),
            len(self.session_findings),
            len(self.invalid_exemptions),
        )

    def compact(self) -> None:
        """Share one :class:`AffectedTests` between the findings that affect the same tests;
        later adds still work (a shared one grows as a set of its own)."""
        self.findings.compact()

    def merge(self, other: SessionData) -> None:
        """Add what ``other`` holds (``other`` is not used again)."""
        self.tests.update(other.tests)
        if not self.findings and self.journal is None:
            # The first collection an xdist controller merges: take its findings as they are
            # instead of making and adding each one again.
            self.findings.take(other.findings)
            self.additions += other.additions
        else:
            store = other.findings
            for row in range(len(store)):
                self.add(store.finding(row), store.tests(row))
        for path, lines in other.suppressions.items():
            self.suppressions.setdefault(path, {}).update(lines)
        self.unchecked.update(other.unchecked)
        known = {f.key for f in self.session_findings}
        self.session_findings.extend(f for f in other.session_findings if f.key not in known)
        self.invalid_exemptions.update(other.invalid_exemptions)
        self.compact()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (what an xdist worker sends); :meth:`from_dict` reverses it.

        Affected tests are sent as indexes into ``tests``: a module-level finding affects
        every test of its module, and node ids are long.
        """
        index = {nodeid: i for i, nodeid in enumerate(self.tests)}
        store = self.findings
        return {
            "tests": [
                [nodeid, r.path, [_exemption_row(e) for e in r.exemptions]]
                for nodeid, r in self.tests.items()
            ],
            "findings": [
                [finding_row(store.finding(row)), [index.get(n, n) for n in store.tests(row)]]
                for row in range(len(store))
            ],
            # Sorted where the order is the order files were scanned in, which differs
            # between xdist workers: their collections must be equal to the byte.
            "suppressions": {
                path: [[line, sorted(codes)] for line, codes in sorted(lines.items())]
                for path, lines in sorted(self.suppressions.items())
            },
            "unchecked": sorted([u.path, u.reason] for u in self.unchecked.values()),
            "session_findings": [finding_row(f) for f in self.session_findings],
            "invalid_exemptions": dict(sorted(self.invalid_exemptions.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionData:
        """Rebuild from :meth:`to_dict`; malformed data raises ValueError, KeyError or
        TypeError (the caller decides what an unreadable payload means)."""
        nodeids = [row[0] for row in data["tests"]]
        pool: RecordPool = {}
        result = cls(
            tests={
                nodeid: record_for(pool, str(path), tuple(_exemption(e) for e in exemptions))
                for nodeid, path, exemptions in data["tests"]
            },
            suppressions={
                str(path): {int(line): frozenset(codes) for line, codes in lines}
                for path, lines in data["suppressions"].items()
            },
            unchecked={str(p): UncheckedFile(str(p), str(r)) for p, r in data["unchecked"]},
            session_findings=[finding_from_row(row) for row in data["session_findings"]],
            invalid_exemptions={str(k): str(v) for k, v in data["invalid_exemptions"].items()},
        )
        for row, affected in data["findings"]:
            result.add(
                finding_from_row(row), [n if isinstance(n, str) else nodeids[n] for n in affected]
            )
        result.compact()
        return result


_FINDING_FIELDS = tuple(field.name for field in dataclasses.fields(Finding))


def finding_row(finding: Finding) -> list[Any]:
    """A finding as a JSON-able list in field order (compact: thousands go over the wire)."""
    row: list[Any] = [getattr(finding, name) for name in _FINDING_FIELDS]
    scope = finding.scope
    row[_FINDING_FIELDS.index("scope")] = [list(scope.qualname), scope.fixture, scope.classes]
    return row


def finding_from_row(row: list[Any]) -> Finding:
    if len(row) != len(_FINDING_FIELDS):
        raise ValueError(f"a finding has {len(_FINDING_FIELDS)} fields, got {len(row)}")
    fields = dict(zip(_FINDING_FIELDS, row, strict=True))
    qualname, fixture, classes = fields["scope"]
    fields["scope"] = Scope.read_back(qualname, fixture, classes)
    return Finding(**fields)


def _exemption_row(exemption: Exemption) -> list[Any]:
    return [sorted(exemption.codes), exemption.reason, exemption.until, exemption.origin]


def _exemption(row: list[Any]) -> Exemption:
    codes, reason, until, origin = row
    return Exemption(frozenset(codes), str(reason), until, str(origin))


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """A violation as decided: its status, where it counts and whether it fails tests."""

    finding: Finding
    name: str
    fingerprint: str
    status: Status
    mode: Mode  # the strongest mode over the tests it affects
    tier: str
    nodeids: tuple[str, ...]
    failing: tuple[str, ...]  # tests it makes fail (strict and new)
    use_instead: str = ""

    @property
    def severity(self) -> str:
        return "error" if self.mode == "strict" else "warning"

    def line_for_error(self) -> str:
        f = self.finding
        return f"{f.code} {f.path}:{f.line} {f.message} ({self.name})"


@dataclasses.dataclass(frozen=True)
class TierStats:
    tests: int
    compliant: int

    @property
    def compliance(self) -> float:
        return compliance(self.compliant, self.tests)


STATUSES: tuple[Status, ...] = ("new", "known", "exempted")


class Outcomes(Sequence[Outcome]):
    """The decided violations in report order (file, line, column, rule), each made into an
    :class:`Outcome` only when asked for: a large suite has 100,000 of them, most of them
    only ever counted. Each is a row of the session's :class:`FindingStore` plus a few bytes
    of decision."""

    def __init__(
        self,
        store: FindingStore,
        infos: Mapping[str, RuleInfo],
        digests: Callable[[], Sequence[bytes]] = list,
    ) -> None:
        self._store = store
        self._infos = infos
        self._rows = array("I")
        # Each row's fingerprint digest, worked out when a fingerprint is first asked for: a
        # session without baseline or report (``--collect-only``, a plain run) never shows
        # one, and hashing every anchor took a third of deciding.
        self._digests_by_row: Callable[[], Sequence[bytes]] | None = digests
        self._digests = bytearray()
        self._statuses = bytearray()
        self._modes = bytearray()
        self._tiers = array("H")
        self._tier_names: list[str] = []
        self._nodeids: list[str | tuple[str, ...]] = []  # see one_or_many()
        self._failing: dict[int, tuple[str, ...]] = {}  # only the few outcomes that fail tests

    def append(
        self,
        row: int,
        status: Status,
        mode: Mode,
        tier: str,
        nodeids: tuple[str, ...],
        failing: tuple[str, ...],
    ) -> int:
        index = len(self._rows)
        self._rows.append(row)
        self._statuses.append(STATUSES.index(status))
        self._modes.append(MODES.index(mode))
        if tier not in self._tier_names:
            self._tier_names.append(tier)
        self._tiers.append(self._tier_names.index(tier))
        self._nodeids.append(one_or_many(nodeids))
        if failing:
            self._failing[index] = failing
        return index

    def none(self) -> Outcomes:
        """No outcomes, as a report's head wants when it counts them itself."""
        return Outcomes(self._store, self._infos)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Outcome: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Outcome]: ...
    def __getitem__(self, index: int | slice) -> Outcome | Sequence[Outcome]:
        if isinstance(index, slice):
            return [self._outcome(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("outcome index out of range")
        return self._outcome(index)

    def __iter__(self) -> Iterator[Outcome]:
        return map(self._outcome, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcomes):
            return NotImplemented
        return len(self) == len(other) and all(map(operator.eq, self, other))

    __hash__ = None  # type: ignore[assignment]  # a growing sequence, like a list

    def _outcome(self, index: int) -> Outcome:
        finding = self._store.finding(self._rows[index])
        info = self._infos.get(finding.code)
        return Outcome(
            finding=finding,
            name=info.name if info else finding.code.lower(),
            fingerprint=self.fingerprint(index),
            status=self.status(index),
            mode=MODES[self._modes[index]],
            tier=self._tier_names[self._tiers[index]],
            nodeids=self.nodeids(index),
            failing=self.failing(index),
            use_instead=info.use_instead if info else "",
        )

    # What counting and looking up need, without making the outcome.
    def status(self, index: int) -> Status:
        return STATUSES[self._statuses[index]]

    def code(self, index: int) -> str:
        return self._store.code(self._rows[index])

    def nodeids(self, index: int) -> tuple[str, ...]:
        return many(self._nodeids[index])

    def failing(self, index: int) -> tuple[str, ...]:
        return self._failing.get(index, ())

    def path(self, index: int) -> str:
        return self._store.path(self._rows[index])

    def warning(self, index: int) -> tuple[str, str, int]:
        """What a warning about the outcome says, and the file and line it points at, without
        making the outcome (warn mode issues one per violation)."""
        store, row = self._store, self._rows[index]
        code = store.code(row)
        info = self._infos.get(code)
        name = info.name if info else code.lower()
        return f"{code} {store.message(row)} ({name})", store.path(row), store.lines(row)[0]

    def fingerprint(self, index: int) -> str:
        start = index * FINGERPRINT_BYTES
        return self._fingerprints()[start : start + FINGERPRINT_BYTES].hex()

    def _fingerprints(self) -> bytearray:
        """Every outcome's digest, in order, 10 bytes each (made on the first call)."""
        if self._digests_by_row is not None:
            by_row, self._digests_by_row = self._digests_by_row(), None
            self._digests = bytearray(b"".join(map(by_row.__getitem__, self._rows)))
        return self._digests

    def count_status(self, status: Status) -> int:
        return self._statuses.count(STATUSES.index(status))

    def failing_tests(self) -> dict[str, tuple[int, ...]]:
        """Each test these outcomes make fail, with the indexes of those outcomes."""
        failing: dict[str, list[int]] = {}
        for index, nodeids in self._failing.items():
            for nodeid in nodeids:
                failing.setdefault(nodeid, []).append(index)
        return {nodeid: tuple(indexes) for nodeid, indexes in failing.items()}


class FailingTests(Mapping[str, tuple[Outcome, ...]]):
    """Node id -> the new strict violations that make the test fail, made on demand."""

    def __init__(self, outcomes: Outcomes) -> None:
        self._outcomes = outcomes
        self._indexes = outcomes.failing_tests()

    def __getitem__(self, nodeid: str) -> tuple[Outcome, ...]:
        return tuple(self._outcomes[i] for i in self._indexes[nodeid])

    # Asked for every test as it starts, and nearly every test is absent: Mapping's own get
    # and ``in`` would raise and catch a KeyError each time (an exception, two tracebacks and
    # their frames: 150,000 objects for the collector over a 30,000-test run).
    def get(self, nodeid: str, default: Any = None) -> Any:
        indexes = self._indexes.get(nodeid)
        return default if indexes is None else tuple(self._outcomes[i] for i in indexes)

    def __contains__(self, nodeid: object) -> bool:
        return nodeid in self._indexes

    def __iter__(self) -> Iterator[str]:
        return iter(self._indexes)

    def __len__(self) -> int:
        return len(self._indexes)


@dataclasses.dataclass(frozen=True)
class Result:
    outcomes: Outcomes
    session_outcomes: tuple[Outcome, ...]
    tests: int
    compliant: int
    by_tier: dict[str, TierStats]
    failing: Mapping[str, tuple[Outcome, ...]]  # nodeid -> the new strict violations it has
    stale: tuple[Mapping[str, Any], ...]
    expired: tuple[Exemption, ...]
    unused_ignores: tuple[tuple[str, int], ...]
    unchecked: tuple[UncheckedFile, ...]
    invalid_exemptions: tuple[tuple[str, str], ...]
    # checked tests per test file, for per-file and per-directory views in reports
    by_file: dict[str, TierStats] = dataclasses.field(default_factory=dict)
    # Baseline fingerprints an earlier version gave violations found now: the next baseline
    # holds today's fingerprint of each instead.
    renamed: frozenset[str] = frozenset()

    @property
    def compliance(self) -> float:
        return compliance(self.compliant, self.tests)

    def count(self, status: Status) -> int:
        return self.outcomes.count_status(status)

    def below(self, fail_under: float) -> bool:
        """Whether compliance misses ``fail_under``: compared as displayed (0.1 %), except
        that 100 means every test, so 99.96 % rounded up to 100.0 % still fails."""
        if fail_under >= 100:
            return self.compliant < self.tests
        return self.compliance < fail_under

    @property
    def by_rule(self) -> dict[str, int]:
        outcomes = self.outcomes
        return dict(sorted(Counter(map(outcomes.code, range(len(outcomes)))).items()))

    def worst_files(self, limit: int = 10) -> list[tuple[str, int]]:
        outcomes = self.outcomes
        counts = Counter(
            outcomes.path(i) for i in range(len(outcomes)) if outcomes.status(i) != "exempted"
        )
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def without_runtime_ignores(
    result: Result,
    suppressions: Mapping[str, Mapping[int, frozenset[str]]],
    runtime: frozenset[str],
) -> Result:
    """``result`` without the unused inline ignores a run-time access may still need: a bare
    one, or one naming a rule (code or name) in ``runtime``, which a run-time hit from its
    line is reported as. Only a session that ran the whole suite saw every such access;
    ``ssot check`` sees none, and a partial run only some."""
    if not runtime:
        return result
    kept = tuple(
        (path, line)
        for path, line in result.unused_ignores
        if (codes := suppressions.get(path, {}).get(line)) and not codes & runtime
    )
    return dataclasses.replace(result, unused_ignores=kept)


def compliance(compliant: int, tests: int) -> float:
    """Compliant / checked x 100, rounded to 0.1; a session with no checked test is 100 %."""
    return round(100.0 * compliant / tests, 1) if tests else 100.0


def _suppressed(
    code: str, line: int, end_line: int, lines: Mapping[int, frozenset[str]], name: str
) -> int | None:
    """The line of the inline ignore that covers a finding of rule ``code`` at lines
    ``line .. end_line``, if any."""
    for number in range(line, max(line, end_line) + 1):
        codes = lines.get(number)
        if codes is not None and (not codes or code in codes or name in codes):
            return number
    return None


def _shared_record(nodeids: Sequence[str], tests: Mapping[str, TestRecord]) -> TestRecord | None:
    """The record every test of ``nodeids`` has, or None (none, or more than one)."""
    if not nodeids:
        return None
    first = tests[nodeids[0]]
    for nodeid in nodeids:
        record = tests[nodeid]
        if record is not first and record != first:
            return None
    return first


def _digests(
    data: SessionData, extra: Sequence[Finding] = (), *, legacy: bool = False
) -> tuple[list[bytes], list[bytes]]:
    """The fingerprints of the stored findings, then of the session's, then of ``extra``:
    one numbering, so identical anchors count up across all of them. With ``legacy`` also
    those earlier versions gave them (see :func:`fingerprint_digest_pairs`)."""
    return _digests_of(data.findings, len(data.findings), [*data.session_findings, *extra], legacy)


def _digests_of(
    store: FindingStore, rows: int, others: Sequence[Finding], legacy: bool
) -> tuple[list[bytes], list[bytes]]:
    """:func:`_digests` of the first ``rows`` rows of ``store`` and then ``others``: a
    store's rows never change once added, so this is the same answer later on."""

    def order(number: int) -> tuple[str, int, int, str]:
        if number < rows:
            return store.order(number)
        return finding_order(others[number - rows])

    def anchor(number: int) -> tuple[str, str, str, str]:
        if number < rows:
            return store.anchor(number)
        return finding_anchor(others[number - rows])

    return fingerprint_digest_pairs(rows + len(others), order, anchor, legacy=legacy)


def unattributed_fingerprints(data: SessionData, findings: Sequence[Finding]) -> frozenset[str]:
    """The fingerprints ``findings`` would have as findings of ``data``: violations a static
    check finds in the code but attributes to no test (a fixture that only
    ``request.getfixturevalue`` reaches), which a test run may still attribute and baseline.
    Earlier versions' fingerprints of them too, as a baseline they wrote holds those."""
    if not findings:
        return frozenset()
    digests, legacy = _digests(data, findings, legacy=True)
    return frozenset(d.hex() for d in (*digests[-len(findings) :], *legacy[-len(findings) :]))


def evaluate(
    data: SessionData,
    config: Config,
    infos: Mapping[str, RuleInfo],
    *,
    known: Mapping[str, Mapping[str, Any]] | None = None,
    today: datetime.date | None = None,
) -> Result:
    """Decide every violation and every test. ``known`` maps baseline fingerprints to entries."""
    known = known or {}
    today = today or datetime.date.today()
    store = data.findings
    rows = len(store)
    session = data.session_findings
    # Fingerprints are needed now only to match a baseline (one written by an earlier version
    # holds the fingerprints it gave: they still match) or for the session's few outcomes.
    digests: Sequence[bytes] = ()
    legacy: Sequence[bytes] = ()
    if known or session:
        digests, legacy = _digests(data, legacy=bool(known))
        outcomes = Outcomes(store, infos, lambda: digests)
    else:
        outcomes = Outcomes(store, infos, lambda: _digests_of(store, rows, (), False)[0])
    used_ignores: set[tuple[str, int]] = set()
    expired: dict[tuple[str, frozenset[str]], Exemption] = {}
    noncompliant: set[str] = set()
    matched: set[str] = set()
    renamed: set[str] = set()

    # Tiers are globs: match each (rule, file) once, not once per affected test (a large
    # suite has hundreds of thousands of those pairs).
    mode_cache: dict[tuple[str, str], Mode] = {}
    tier_cache: dict[str, str] = {}

    def mode_for(code: str, path: str) -> Mode:
        key = (code, path)
        if key not in mode_cache:
            mode_cache[key] = config.mode_for(code, path)
        return mode_cache[key]

    def tier_name(path: str) -> str:
        if path not in tier_cache:
            tier_cache[path] = config.tier_name(path)
        return tier_cache[path]

    # Findings share their affected tests (SessionData.compact): so do their outcomes.
    tests = data.tests
    checked_cache: dict[AffectedTests, tuple[tuple[str, ...], TestRecord | None]] = {}

    def checked(affected: Iterable[str]) -> tuple[tuple[str, ...], TestRecord | None]:
        """The checked tests among ``affected``, and the one record they all share if they
        do (tests of one file with the same exemptions: nearly every finding's)."""
        if not isinstance(affected, AffectedTests):
            nodeids = tuple(sorted(n for n in affected if n in tests))
            return nodeids, _shared_record(nodeids, tests)
        known_answer = checked_cache.get(affected)
        if known_answer is None:
            if all(n in tests for n in affected):
                nodeids = affected  # already sorted: the very same tuple, not a copy
            else:
                nodeids = tuple(n for n in affected if n in tests)
            known_answer = checked_cache[affected] = nodeids, _shared_record(nodeids, tests)
        return known_answer

    def live(exemption: Exemption) -> bool:
        until = parse_until(exemption.until) if exemption.until else None
        if until is not None and until < today:
            expired[(exemption.origin, exemption.codes)] = exemption
            return False
        return True

    for row in sorted(range(rows), key=store.order):
        code, path = store.code(row), store.path(row)
        info = infos.get(code)
        name = info.name if info else code.lower()
        nodeids, shared = checked(store.tests(row))
        # With one shared record, one mode and one exemption check stand for every test.
        modes: dict[str, Mode] = {}
        if shared is not None:
            shared_mode = mode_for(code, shared.path)
            counted: Sequence[str] = nodeids if shared_mode != "off" else ()
        else:
            modes = {n: mode_for(code, tests[n].path) for n in nodeids}
            counted = [n for n in nodeids if modes[n] != "off"]
        if not counted and (nodeids or config.mode_for(code, path) == "off"):
            continue  # switched off wherever it would count
        line, end_line = store.lines(row)
        ignore_line = _suppressed(code, line, end_line, data.suppressions.get(path, {}), name)
        active: Sequence[str]
        if ignore_line is not None:
            used_ignores.add((path, ignore_line))
            status: Status = "exempted"
            active = ()
        else:
            if shared is not None:
                exempt = any(e.covers(code, name) and live(e) for e in shared.exemptions)
                active = () if exempt else counted
            else:
                active = [
                    n
                    for n in counted
                    if not any(e.covers(code, name) and live(e) for e in tests[n].exemptions)
                ]
            if counted and not active:
                status = "exempted"
            elif not known:
                status = "new"
            elif (fingerprint := digests[row].hex()) in known:
                status = "known"
                matched.add(fingerprint)
            elif legacy[row] is not digests[row] and legacy[row].hex() in known:
                status = "known"
                matched.add(legacy[row].hex())
                renamed.add(legacy[row].hex())
            else:
                status = "new"
        strongest: Mode
        if not nodeids:
            strongest = config.mode_for(code, path)
        elif shared is not None:
            strongest = "strict" if shared_mode == "strict" else "warn"
        else:
            strongest = "strict" if any(modes[n] == "strict" for n in counted) else "warn"
        if status != "new":
            failing_ids: tuple[str, ...] = ()
        elif shared is not None:
            failing_ids = tuple(active) if shared_mode == "strict" else ()
        else:
            failing_ids = tuple(n for n in active if modes[n] == "strict")
        outcomes.append(row, status, strongest, tier_name(path), nodeids, failing_ids)
        noncompliant.update(active)
    if digests:
        outcomes._fingerprints()  # hashed already: kept as 10 bytes an outcome, not every row's

    session_outcomes = []
    for number, finding in enumerate(session):
        mode = config.session_mode_for(finding.code)
        if mode == "off":
            continue
        info = infos.get(finding.code)
        session_outcomes.append(
            Outcome(
                finding=finding,
                name=info.name if info else finding.code.lower(),
                fingerprint=digests[rows + number].hex(),
                status="new",
                mode=mode,
                tier=DEFAULT_TIER,
                nodeids=(),
                failing=(),
            )
        )

    # Counted per file, then per tier: this loop runs once per test of the suite.
    by_file: dict[str, list[int]] = {}
    for nodeid, record in data.tests.items():
        stats = by_file.get(record.path)
        if stats is None:
            stats = by_file[record.path] = [0, 0]
        stats[0] += 1
        stats[1] += nodeid not in noncompliant
    by_tier: dict[str, list[int]] = {}
    for path, (count, compliant_count) in by_file.items():
        stats = by_tier.setdefault(tier_name(path), [0, 0])
        stats[0] += count
        stats[1] += compliant_count
    unused = {
        (path, line)
        for path, lines in data.suppressions.items()
        for line in lines
        if (path, line) not in used_ignores
    }
    return Result(
        outcomes=outcomes,
        session_outcomes=tuple(session_outcomes),
        tests=len(data.tests),
        compliant=len(data.tests) - len(noncompliant & data.tests.keys()),
        by_tier={name: TierStats(*stats) for name, stats in sorted(by_tier.items())},
        failing=FailingTests(outcomes),
        stale=tuple(entry for fp, entry in sorted(known.items()) if fp not in matched),
        expired=tuple(expired.values()),
        unused_ignores=tuple(sorted(unused)),
        unchecked=tuple(sorted(data.unchecked.values(), key=lambda u: u.path)),
        invalid_exemptions=tuple(sorted(data.invalid_exemptions.items())),
        by_file={path: TierStats(*stats) for path, stats in sorted(by_file.items())},
        renamed=frozenset(renamed),
    )
