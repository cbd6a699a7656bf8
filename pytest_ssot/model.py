"""Plain data shared by every stage: findings, rule metadata, exemptions.

Everything here is a frozen dataclass or a plain value so it can be cached, pickled and sent
from an xdist worker to the controller as dicts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

Mode = Literal["off", "warn", "strict"]
MODES: tuple[Mode, ...] = ("off", "warn", "strict")
Status = Literal["new", "known", "exempted"]
Source = Literal["static", "runtime"]


@dataclasses.dataclass(frozen=True)
class RuleInfo:
    """What a user needs to know about a rule (rendered by `ssot rules`, shown in reports)."""

    code: str
    name: str
    summary: str
    why: str
    example: str
    use_instead: str
    options: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """Where a finding sits in its file, so it can be attributed to the tests it affects.

    ``qualname`` is the chain of enclosing classes and functions (``()`` at module level);
    ``fixture`` is the fixture name when the outermost enclosing function is a fixture.
    """

    qualname: tuple[str, ...] = ()
    fixture: str | None = None
    classes: int = 0  # how many leading qualname parts are classes

    @property
    def dotted(self) -> str:
        return ".".join(self.qualname)

    @classmethod
    def read_back(cls, qualname: Iterable[str], fixture: str | None, classes: int) -> Scope:
        """A scope read back from JSON (cache, xdist): one copy of each class and function
        name, as the parser gives its own identifiers, not one per finding."""
        return cls(tuple(map(sys.intern, qualname)), fixture, int(classes))


MODULE_SCOPE = Scope()


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One violation at one place in the source, before policy decides what it means."""

    code: str
    path: str  # rootdir-relative, with "/"
    line: int
    col: int
    message: str
    scope: Scope = MODULE_SCOPE
    source: Source = "static"
    snippet: str = ""  # the offending line, whitespace-normalised: the fingerprint's anchor
    end_line: int = 0

    def __post_init__(self) -> None:
        # A large suite holds 100,000s of findings with a handful of distinct messages and
        # many repeated lines: one copy of each text, however the finding was made or read.
        for name in ("path", "message", "snippet"):
            value = getattr(self, name)
            if type(value) is str:  # sys.intern takes no subclass (a plugin's rule may pass one)
                object.__setattr__(self, name, sys.intern(value))
        if self.end_line == self.line:  # most findings span one line: one int object, not two
            object.__setattr__(self, "end_line", self.line)

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.code, self.path, self.line, self.col)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["scope"] = {
            "qualname": list(self.scope.qualname),
            "fixture": self.scope.fixture,
            "classes": self.scope.classes,
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        fields = dict(data)
        scope = fields.pop("scope")
        return cls(
            scope=Scope.read_back(scope["qualname"], scope["fixture"], scope["classes"]),
            **fields,
        )


def normalise_snippet(text: str) -> str:
    """Collapse whitespace so re-indenting or re-spacing a line keeps its fingerprint."""
    return " ".join(text.split())


def fingerprints(findings: Iterable[Finding]) -> dict[tuple[str, str, int, int], str]:
    """Give each finding a fingerprint that survives moved and inserted lines (see
    :func:`fingerprint_digests`), as the hex text baselines and reports show."""
    listed = list(findings)
    digests = fingerprint_digests(
        len(listed), lambda i: finding_order(listed[i]), lambda i: finding_anchor(listed[i])
    )
    return {finding.key: digest.hex() for finding, digest in zip(listed, digests, strict=True)}


def baseline_fingerprints(findings: Iterable[Finding]) -> set[str]:
    """Every fingerprint ``findings`` may have in a baseline: today's, and those earlier
    versions gave them (see :func:`fingerprint_digest_pairs`)."""
    listed = list(findings)
    digests, legacy = fingerprint_digest_pairs(
        len(listed), lambda i: finding_order(listed[i]), lambda i: finding_anchor(listed[i])
    )
    return {digest.hex() for digest in (*digests, *legacy)}


FINGERPRINT_BYTES = 10  # shown as 20 hex digits


def finding_order(finding: Finding) -> tuple[str, int, int, str]:
    """Where a finding comes in its file and in reports: by path, line, column and rule."""
    return (finding.path, finding.line, finding.col, finding.code)


def finding_anchor(finding: Finding) -> tuple[str, str, str, str]:
    """What a finding's fingerprint is made of: rule, path, dotted scope, normalised line."""
    return (finding.code, finding.path, finding.scope.dotted, finding.snippet)


def fingerprint_digests(
    count: int,
    order: Callable[[int], tuple[str, int, int, str]],
    anchor: Callable[[int], tuple[str, str, str, str]],
) -> list[bytes]:
    """The fingerprints of findings ``0 .. count - 1``, given each one's place in its file
    (path, line, column, rule) and its anchor (rule, path, dotted scope, normalised line).

    The fingerprint is the anchor (its line made :func:`canonical_snippet`) plus the
    occurrence index among findings with the same anchor, in source order: moving code keeps
    it, while a second identical occurrence in the same scope gets a new fingerprint.
    """
    return fingerprint_digest_pairs(count, order, anchor, legacy=False)[0]


def fingerprint_digest_pairs(
    count: int,
    order: Callable[[int], tuple[str, int, int, str]],
    anchor: Callable[[int], tuple[str, str, str, str]],
    *,
    legacy: bool = True,
) -> tuple[list[bytes], list[bytes]]:
    """:func:`fingerprint_digests`, and with ``legacy`` the fingerprints that versions before
    :func:`canonical_snippet` gave the same findings (their lines only whitespace-normalised),
    which baselines written by them hold: each is the same digest wherever the two agree."""
    seen: dict[tuple[str, str, str, str], int] = {}
    seen_legacy: dict[tuple[str, str, str, str], int] = {}
    digests = [b""] * count
    legacy_digests = digests if not legacy else [b""] * count
    for number in sorted(range(count), key=order):
        raw = anchor(number)
        line = canonical_snippet(raw[3])
        anchored = raw if line is raw[3] else (raw[0], raw[1], raw[2], line)
        index = seen.get(anchored, 0)
        seen[anchored] = index + 1
        digests[number] = _digest(anchored, index)
        if legacy:
            old_index = seen_legacy.get(raw, 0)
            seen_legacy[raw] = old_index + 1
            same = old_index == index and anchored is raw
            legacy_digests[number] = digests[number] if same else _digest(raw, old_index)
    return digests, legacy_digests


def _digest(anchored: tuple[str, str, str, str], index: int) -> bytes:
    # surrogatepass: a file name that is not UTF-8 reaches here as lone surrogates.
    text = "\x1f".join([*anchored, str(index)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:FINGERPRINT_BYTES]


def canonical_snippet(snippet: str) -> str:
    """A whitespace-normalised line as its fingerprint sees it: without a trailing comment
    and with one kind of quote, so a formatter changing quotes or a comment added to the
    line keeps a baselined violation known."""
    if "#" in snippet:
        snippet = _without_comment(snippet)
    return snippet.replace("'", '"') if "'" in snippet else snippet


def _without_comment(line: str) -> str:
    quote = ""  # the delimiter of the string the scan is in: one quote character or three
    position = 0
    while position < len(line):
        char = line[position]
        if quote:
            if char == "\\":
                position += 1  # the escaped character cannot close the string
            elif line.startswith(quote, position):
                position += len(quote) - 1
                quote = ""
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, position) else char
            position += len(quote) - 1
        elif char == "#":
            return line[:position].rstrip()
        position += 1
    return line


@dataclasses.dataclass(frozen=True, slots=True)
class Exemption:
    """An ``ssot_exempt`` marker as applied to one test."""

    codes: frozenset[str]  # empty: every rule
    reason: str
    until: str | None = None  # ISO date
    origin: str = ""  # "path:line" or node id, for the summary

    def covers(self, code: str, name: str) -> bool:
        return not self.codes or code in self.codes or name in self.codes


@dataclasses.dataclass(frozen=True, slots=True)
class UncheckedFile:
    """A file the scanner could not read or parse; counted and listed, never fatal."""

    path: str
    reason: str
