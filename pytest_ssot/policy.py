"""Policy: exemptions, baseline, tiers and modes applied to findings; says what fails.

A pure function of plain data (:class:`SessionData` in, :class:`Result` out), so the serial
session, the xdist controller and the CLI all decide the same way.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_ssot.config import DEFAULT_TIER, Config, parse_until
from pytest_ssot.model import (
    Exemption,
    Finding,
    Mode,
    RuleInfo,
    Scope,
    Status,
    UncheckedFile,
    fingerprints,
)


class AffectedTests(tuple[str, ...]):
    """A finding's tests, sorted and without repeats: what :meth:`SessionData.compact` shares
    between every finding that affects the same tests (a module-level finding affects every
    test of its module, and a large suite has 100,000s of these pairs). A tuple costs a fifth
    of a frozenset's memory, and its order is the order reports list the tests in."""

    __slots__ = ()


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
    findings: dict[tuple[str, str, int, int], Finding] = dataclasses.field(default_factory=dict)
    # Each finding's tests: a set while findings are added, then (compact()) AffectedTests
    # shared by every finding with the same tests.
    affected: dict[tuple[str, str, int, int], set[str] | AffectedTests] = dataclasses.field(
        default_factory=dict
    )
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

    def add(self, finding: Finding, nodeids: Iterable[str]) -> None:
        self.additions += 1
        key = finding.key
        self.findings.setdefault(key, finding)
        if self.journal is not None:
            listed = tuple(nodeids)
            self.journal.append((finding, listed))
            nodeids = nodeids if isinstance(nodeids, AffectedTests) else listed
        tests = self.affected.get(key)
        if tests is None:  # another's shared tests (see compact()) are shared here too
            self.affected[key] = nodeids if isinstance(nodeids, AffectedTests) else set(nodeids)
        elif isinstance(tests, set):
            tests.update(nodeids)
        elif tests is not nodeids:  # shared (compact()): grow a set of its own if it must
            grown = set(tests)
            grown.update(nodeids)
            if len(grown) > len(tests):
                self.affected[key] = grown

    def affects(self, key: tuple[str, str, int, int], nodeid: str) -> bool:
        """Whether finding ``key`` is already attributed to test ``nodeid``."""
        tests = self.affected.get(key)
        if tests is None:
            return False
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
        shared: dict[AffectedTests, AffectedTests] = {}
        for key, tests in self.affected.items():
            frozen = tests if isinstance(tests, AffectedTests) else AffectedTests(sorted(tests))
            self.affected[key] = shared.setdefault(frozen, frozen)

    def merge(self, other: SessionData) -> None:
        self.tests.update(other.tests)
        for key, finding in other.findings.items():
            self.add(finding, other.affected.get(key, ()))
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
        return {
            "tests": [
                [nodeid, r.path, [_exemption_row(e) for e in r.exemptions]]
                for nodeid, r in self.tests.items()
            ],
            "findings": [
                [finding_row(f), [index.get(n, n) for n in self.affected.get(key, ())]]
                for key, f in self.findings.items()
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


@dataclasses.dataclass(frozen=True)
class Result:
    outcomes: tuple[Outcome, ...]
    session_outcomes: tuple[Outcome, ...]
    tests: int
    compliant: int
    by_tier: dict[str, TierStats]
    failing: dict[str, tuple[Outcome, ...]]  # nodeid -> the new strict violations it has
    stale: tuple[Mapping[str, Any], ...]
    expired: tuple[Exemption, ...]
    unused_ignores: tuple[tuple[str, int], ...]
    unchecked: tuple[UncheckedFile, ...]
    invalid_exemptions: tuple[tuple[str, str], ...]
    # checked tests per test file, for per-file and per-directory views in reports
    by_file: dict[str, TierStats] = dataclasses.field(default_factory=dict)

    @property
    def compliance(self) -> float:
        return compliance(self.compliant, self.tests)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def below(self, fail_under: float) -> bool:
        """Whether compliance misses ``fail_under``: compared as displayed (0.1 %), except
        that 100 means every test, so 99.96 % rounded up to 100.0 % still fails."""
        if fail_under >= 100:
            return self.compliant < self.tests
        return self.compliance < fail_under

    @property
    def by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(o.finding.code for o in self.outcomes).items()))

    def worst_files(self, limit: int = 10) -> list[tuple[str, int]]:
        counts = Counter(o.finding.path for o in self.outcomes if o.status != "exempted")
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def compliance(compliant: int, tests: int) -> float:
    """Compliant / checked x 100, rounded to 0.1; a session with no checked test is 100 %."""
    return round(100.0 * compliant / tests, 1) if tests else 100.0


def _suppressed(finding: Finding, lines: Mapping[int, frozenset[str]], name: str) -> int | None:
    """The line of the inline ignore that covers ``finding``, if any."""
    for line in range(finding.line, max(finding.line, finding.end_line) + 1):
        codes = lines.get(line)
        if codes is not None and (not codes or finding.code in codes or name in codes):
            return line
    return None


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
    prints = fingerprints([*data.findings.values(), *data.session_findings])
    used_ignores: set[tuple[str, int]] = set()
    expired: dict[tuple[str, frozenset[str]], Exemption] = {}
    noncompliant: set[str] = set()
    failing: dict[str, list[Outcome]] = {}
    outcomes: list[Outcome] = []
    matched: set[str] = set()

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
    checked_cache: dict[AffectedTests, tuple[str, ...]] = {}

    def checked(affected: Iterable[str]) -> tuple[str, ...]:
        if not isinstance(affected, AffectedTests):
            return tuple(sorted(n for n in affected if n in data.tests))
        nodeids = checked_cache.get(affected)
        if nodeids is None:
            tests = data.tests
            if all(n in tests for n in affected):
                nodeids = affected  # already sorted: the very same tuple, not a copy
            else:
                nodeids = tuple(n for n in affected if n in tests)
            checked_cache[affected] = nodeids
        return nodeids

    def live(exemption: Exemption) -> bool:
        until = parse_until(exemption.until) if exemption.until else None
        if until is not None and until < today:
            expired[(exemption.origin, exemption.codes)] = exemption
            return False
        return True

    for key in sorted(data.findings, key=lambda k: (k[1], k[2], k[3], k[0])):
        finding = data.findings[key]
        info = infos.get(finding.code)
        name = info.name if info else finding.code.lower()
        nodeids = checked(data.affected.get(key, ()))
        modes = {n: mode_for(finding.code, data.tests[n].path) for n in nodeids}
        counted = [n for n in nodeids if modes[n] != "off"]
        if not counted and (nodeids or config.mode_for(finding.code, finding.path) == "off"):
            continue  # switched off wherever it would count
        fingerprint = prints[key]
        ignore_line = _suppressed(finding, data.suppressions.get(finding.path, {}), name)
        if ignore_line is not None:
            used_ignores.add((finding.path, ignore_line))
            status: Status = "exempted"
            active: list[str] = []
        else:
            active = [
                n
                for n in counted
                if not any(
                    e.covers(finding.code, name) and live(e) for e in data.tests[n].exemptions
                )
            ]
            if counted and not active:
                status = "exempted"
            elif fingerprint in known:
                status = "known"
                matched.add(fingerprint)
            else:
                status = "new"
        strongest: Mode = "strict" if any(modes[n] == "strict" for n in counted) else "warn"
        if not nodeids:
            strongest = config.mode_for(finding.code, finding.path)
        failing_ids = tuple(n for n in active if status == "new" and modes[n] == "strict")
        outcome = Outcome(
            finding=finding,
            name=name,
            fingerprint=fingerprint,
            status=status,
            mode=strongest,
            tier=tier_name(finding.path),
            nodeids=nodeids,
            failing=failing_ids,
            use_instead=info.use_instead if info else "",
        )
        outcomes.append(outcome)
        noncompliant.update(active)
        for nodeid in failing_ids:
            failing.setdefault(nodeid, []).append(outcome)

    session_outcomes = []
    for finding in data.session_findings:
        mode = config.session_mode_for(finding.code)
        if mode == "off":
            continue
        info = infos.get(finding.code)
        session_outcomes.append(
            Outcome(
                finding=finding,
                name=info.name if info else finding.code.lower(),
                fingerprint=prints[finding.key],
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
        outcomes=tuple(outcomes),
        session_outcomes=tuple(session_outcomes),
        tests=len(data.tests),
        compliant=len(data.tests) - len(noncompliant & data.tests.keys()),
        by_tier={name: TierStats(*stats) for name, stats in sorted(by_tier.items())},
        failing={n: tuple(o) for n, o in failing.items()},
        stale=tuple(entry for fp, entry in sorted(known.items()) if fp not in matched),
        expired=tuple(expired.values()),
        unused_ignores=tuple(sorted(unused)),
        unchecked=tuple(sorted(data.unchecked.values(), key=lambda u: u.path)),
        invalid_exemptions=tuple(sorted(data.invalid_exemptions.items())),
        by_file={path: TierStats(*stats) for path, stats in sorted(by_file.items())},
    )
