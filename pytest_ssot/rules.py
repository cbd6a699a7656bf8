"""The rules: each turns scanner facts into findings and carries its whole story for users.

Built-in rules and team-defined sources implement the same small interface (:class:`Rule`),
which is also what third-party plugins contribute through the ``pytest_ssot_rules`` hook.
"""

from __future__ import annotations

import contextlib
import dataclasses
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pytest_ssot.cache import KeyIndex, ScanCache
from pytest_ssot.config import Config, SourceOfTruth
from pytest_ssot.model import Finding, RuleInfo
from pytest_ssot.scanner import ENV_TARGETS, MOCK_MODULES, FileFacts, Ref, scan

NON_SSOT_TEST_CLASS = RuleInfo(
    code="SSOT001",
    name="non-ssot-test-class",
    summary="Test class does not inherit from an SSOT base class",
    why=(
        "The SSOT base class is where the team's test infrastructure lives: isolated "
        "environment, mock factory, cleanup, logging. A test that bypasses it silently skips "
        "all of that, and every such class is one more place to update by hand."
    ),
    example="class TestLogin(unittest.TestCase):\n    def test_ok(self): ...",
    use_instead="class TestLogin(SSotBaseTestCase):\n    def test_ok(self): ...",
    options="base_classes, allow_function_tests",
)


def function_test_message(base_names: str) -> str:
    """SSOT001's message for a module-level test function. It does not name the function:
    the finding's line and node ids do, and a suite's thousands of such findings then share
    one copy of the text."""
    return (
        "test function is not in an SSOT test class; move it into a class deriving from "
        f"{base_names}"
    )


DIRECT_ENVIRON_ACCESS = RuleInfo(
    code="SSOT002",
    name="direct-environ-access",
    summary="Test code touches the process environment directly",
    why=(
        "os.environ is process-global: a test that writes it leaks into every later test "
        "(and every xdist neighbour), and one that reads it depends on the machine it runs on. "
        "The isolated-environment API scopes changes to the test and restores them."
    ),
    example='os.environ["API_URL"] = "http://localhost"\nmonkeypatch.setenv("DEBUG", "1")',
    use_instead='get_env().set("API_URL", "http://localhost", source="test")',
    options="env_modules",
)
AD_HOC_MOCK = RuleInfo(
    code="SSOT003",
    name="ad-hoc-mock",
    summary="Test code builds its own mocks instead of using the mock factory",
    why=(
        "Hand-rolled MagicMock/patch doubles drift from the real interfaces they stand in for "
        "and are rebuilt slightly differently in every file; the mock factory keeps one "
        "spec-checked double per dependency."
    ),
    example="from unittest.mock import MagicMock\nclient = MagicMock()",
    use_instead="client = SSotMockFactory.create_websocket_client()",
    options="mock_modules, mock_allowed_names",
)
UNIFIED_RUNNER_BYPASS = RuleInfo(
    code="SSOT004",
    name="unified-runner-bypass",
    summary="Tests are run outside the unified test runner",
    why=(
        "The unified runner sets up services, tiers and reporting the same way for everyone; a "
        "test file that runs itself, or a session started by hand, skips that and produces "
        "results nobody else can reproduce."
    ),
    example='if __name__ == "__main__":\n    pytest.main([__file__])',
    use_instead="python tests/unified_test_runner.py --tier <tier>   (or: ssot run)",
    options="runner",
)
RUNTIME_ENVIRON_ACCESS = RuleInfo(
    code="SSOT102",
    name="runtime-environ-access",
    summary="Test code touched the process environment while tests ran",
    why=(
        "Static analysis cannot see helpers in test packages or dynamic access such as "
        'getattr(os, "env" + "iron"); the runtime guard sees every access and attributes it '
        "to the nearest caller outside the standard library."
    ),
    example='def configure():  # tests/helpers.py\n    os.environ["MODE"] = "test"',
    use_instead='get_env().set("MODE", "test", source="test")',
    options="env_modules",
)


class Rule(Protocol):
    """What a rule is: its documentation, and a check from one file's facts to findings.

    Rules that are decided elsewhere (SSOT001 on real classes, SSOT102 at run time) return
    no static findings but still document themselves here.
    """

    @property
    def info(self) -> RuleInfo: ...

    @property
    def watched(self) -> tuple[str, ...]:
        """Dotted names whose references the scanner must record for this rule."""
        ...

    def check(self, facts: FileFacts) -> Iterable[Finding]: ...


@dataclasses.dataclass(frozen=True)
class DocumentedRule:
    """A rule with no static check (decided on real objects or at run time)."""

    info: RuleInfo
    watched: tuple[str, ...] = ()

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        return ()


def sanctioned(relpath: str, modules: Sequence[str]) -> bool:
    """Whether a file is one of ``modules`` (or inside one), judged from its rootdir-relative
    path so it works without importing: ``src/fw/env.py`` is ``fw.env`` as well as
    ``src.fw.env``."""
    if not modules:
        return False
    dotted = relpath.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return any(
        dotted == m or dotted.endswith("." + m) or f".{m}." in f".{dotted}." for m in modules
    )


def _finding(info: RuleInfo, facts: FileFacts, ref: Ref, message: str) -> Finding:
    return Finding(
        code=info.code,
        path=facts.path,
        line=ref.line,
        col=ref.col,
        message=message,
        scope=ref.scope,
        snippet=ref.snippet,
        end_line=ref.end_line,
    )


def _use_module(kind: str, modules: Sequence[str], fallback: str) -> str:
    if modules:
        return f"use the {kind} ({', '.join(modules)}) instead"
    return f"use {fallback} instead"


@dataclasses.dataclass(frozen=True)
class EnvironRule:
    env_modules: tuple[str, ...] = ()
    info: RuleInfo = DIRECT_ENVIRON_ACCESS
    watched: tuple[str, ...] = ENV_TARGETS

    def check(self, facts: FileFacts) -> Iterator[Finding]:
        if sanctioned(facts.path, self.env_modules):
            return
        fix = _use_module(
            "isolated-environment API", self.env_modules, "the isolated-environment API"
        )
        for ref in facts.refs:
            if ref.kind == "monkeypatch":
                yield _finding(self.info, facts, ref, f"{ref.target}() changes os.environ; {fix}")
            elif ref.kind in ("use", "string") and any(
                ref.target == t or ref.target.startswith(t + ".") for t in ENV_TARGETS
            ):
                how = "patched" if ref.kind == "string" else "accessed"
                yield _finding(self.info, facts, ref, f"{ref.target} {how} directly; {fix}")


@dataclasses.dataclass(frozen=True)
class MockRule:
    mock_modules: tuple[str, ...] = ()
    allowed_names: tuple[str, ...] = ()
    info: RuleInfo = AD_HOC_MOCK
    watched: tuple[str, ...] = MOCK_MODULES

    def _allowed(self, target: str) -> bool:
        for module in MOCK_MODULES:
            if target.startswith(module + "."):
                return target[len(module) + 1 :].split(".")[0] in self.allowed_names
        return False

    def check(self, facts: FileFacts) -> Iterator[Finding]:
        if sanctioned(facts.path, self.mock_modules):
            return
        fix = _use_module("mock factory", self.mock_modules, "the team's mock factory")
        for ref in facts.refs:
            if not any(ref.target == m or ref.target.startswith(m + ".") for m in MOCK_MODULES):
                continue
            if ref.kind == "fixture":
                fixture = ref.target.rpartition(".")[2]
                message = f"the pytest-mock '{fixture}' fixture builds ad-hoc mocks; {fix}"
            elif ref.kind == "star-import":
                message = f"from {ref.target[:-2]} import * brings in ad-hoc mocks; {fix}"
            elif self._allowed(ref.target):
                continue
            elif ref.kind == "import":
                message = f"imports {ref.target}; {fix}"
            elif ref.kind in ("use", "string"):
                message = f"{ref.target} is an ad-hoc mock; {fix}"
            else:
                continue
            yield _finding(self.info, facts, ref, message)


@dataclasses.dataclass(frozen=True)
class RunnerBypassRule:
    runner: str | None = None
    info: RuleInfo = UNIFIED_RUNNER_BYPASS
    watched: tuple[str, ...] = ()

    def check(self, facts: FileFacts) -> Iterator[Finding]:
        how = (
            f"run the suite with the unified runner ({self.runner})"
            if self.runner
            else ("run it through the unified test runner")
        )
        for block in facts.main_blocks:
            yield Finding(
                code=self.info.code,
                path=facts.path,
                line=block.line,
                col=block.col,
                message=(
                    f"test module runs itself ({', '.join(block.calls)} under "
                    f'if __name__ == "__main__"); remove the block and {how}'
                ),
                snippet=block.snippet,
                end_line=block.line,
            )


@dataclasses.dataclass(frozen=True)
class SourceRule:
    """A team-defined single source of truth from ``[[tool.ssot.sources]]``."""

    source: SourceOfTruth

    @property
    def info(self) -> RuleInfo:
        forbid = ", ".join(self.source.forbid)
        why = f"The team's single source of truth for this is {self.source.use}."
        options = "[[tool.ssot.sources]]"
        if self.source.runtime:
            why += (
                " With runtime = true, calls of the forbidden functions and classes made by "
                "test code while tests run (helpers in test packages, aliases, dynamic calls) "
                "are reported too."
            )
            options += ", runtime = true"
        return RuleInfo(
            code=self.source.code,
            name=self.source.name,
            summary=f"Test code uses {forbid} instead of {self.source.use}",
            why=why,
            example="\n".join(f"{api}(...)" for api in self.source.forbid),
            use_instead=self.source.use,
            options=options,
        )

    @property
    def watched(self) -> tuple[str, ...]:
        return self.source.forbid

    def check(self, facts: FileFacts) -> Iterator[Finding]:
        if sanctioned(facts.path, self.source.modules):
            return
        for ref in facts.refs:
            if ref.kind not in ("use", "string", "star-import", "import"):
                continue
            if any(ref.target == f or ref.target.startswith(f + ".") for f in self.watched):
                yield _finding(
                    self.info, facts, ref, f"{ref.target} used directly; use {self.source.use}"
                )


def runtime_rule_names(config: Config) -> frozenset[str]:
    """The rules (codes and names) a run-time hit can be reported as, so an inline ignore
    naming one may be used only at run time: SSOT102 and the static SSOT002 of the line it
    is on (while the guard is on), and every ``runtime = true`` source."""
    names: set[str] = set()
    if config.rules.get(RUNTIME_ENVIRON_ACCESS.code) != "off":
        for info in (RUNTIME_ENVIRON_ACCESS, DIRECT_ENVIRON_ACCESS):
            names.update((info.code, info.name))
    for source in config.sources:
        if source.runtime and config.rules.get(source.code) != "off":
            names.update((source.code, source.name))
    return frozenset(names)


def builtin_rules(config: Config) -> list[Rule]:
    """The rules of a configuration: the built-in five, then team-defined sources."""
    rules: list[Rule] = [
        DocumentedRule(NON_SSOT_TEST_CLASS),
        EnvironRule(env_modules=config.env_modules),
        MockRule(mock_modules=config.mock_modules, allowed_names=config.mock_allowed_names),
        RunnerBypassRule(runner=config.runner),
        DocumentedRule(RUNTIME_ENVIRON_ACCESS),
    ]
    rules.extend(SourceRule(source) for source in config.sources)
    return rules


@dataclasses.dataclass(frozen=True)
class RuleFailure:
    """A rule (or the scanner, ``code=None``) that raised on one file: a bug in pytest-ssot or
    in the plugin that contributed the rule, never a violation of the suite under test."""

    path: str  # rootdir-relative, with "/"
    code: str | None  # None: the scanner, so no rule could check the file
    name: str
    error: str  # "RuntimeError: boom"
    origin: str  # where the failing code lives: "module.Class" and the raising line

    @classmethod
    def of(cls, rule: Rule | None, path: str, exc: BaseException) -> RuleFailure:
        if rule is None:
            code, name, origin = None, "scanner", "pytest_ssot.scanner"
        else:
            info: Any = _safely(lambda: rule.info, None)
            code = _safely(lambda: str(info.code), "?")
            name = _safely(lambda: str(info.name), type(rule).__name__)
            origin = f"{type(rule).__module__}.{type(rule).__qualname__}"
        frames = _safely(lambda: traceback.extract_tb(exc.__traceback__), None)
        if frames:
            origin += f", raised at {frames[-1].filename}:{frames[-1].lineno}"
        text = _safely(lambda: " ".join(str(exc).split()), "")  # one line, whatever __str__ does
        error = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        return cls(path=path, code=code, name=name, error=error, origin=origin)

    @property
    def what(self) -> str:
        return f"rule {self.code} ({self.name})" if self.code else "its scanner"

    @property
    def reason(self) -> str:
        """Why the file is (partly) unchecked, for the summary and reports."""
        return f"pytest-ssot could not check it with {self.what}: {self.error} ({self.origin})"


_T = TypeVar("_T")


def _safely(get: Callable[[], _T], default: _T) -> _T:
    """``get()``, or ``default`` when describing a broken rule breaks too."""
    try:
        return get()
    except Exception:
        return default


class Checked(list[Finding]):
    """The findings of one file, plus the rules that failed on it (:class:`RuleFailure`).

    A list, so callers that only want findings need not care; the failures survive pickling
    (the CLI checks files in worker processes)."""

    failures: tuple[RuleFailure, ...] = ()


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """The active rules of a session and the scanner settings they need."""

    rules: tuple[Rule, ...]

    @property
    def watched(self) -> tuple[str, ...]:
        return tuple(sorted({name for rule in self.rules for name in rule.watched}))

    @property
    def infos(self) -> dict[str, RuleInfo]:
        return {rule.info.code: rule.info for rule in self.rules}

    def cache_salt(self, *, full: bool = False) -> str:
        """What besides a file's bytes decides its scan: version, watched names, depth."""
        from pytest_ssot.scanner import SCANNER_VERSION

        return f"{SCANNER_VERSION}|{full}|{','.join(self.watched)}"

    def check(self, facts: FileFacts) -> Checked:
        """Every rule's findings for one file. A rule that raises (or returns something that
        is not a finding) is a bug in that rule, never a crash of the session: its findings
        for this file are dropped, the other rules still apply, and the failure rides along
        in :attr:`Checked.failures` for the caller to warn about or fail closed on."""
        findings = Checked()
        if facts.error is not None:
            return findings
        failures: list[RuleFailure] = []
        for rule in self.rules:
            try:
                # All or nothing per rule: a check that raises halfway keeps no findings, so a
                # partial result never looks like fixed violations.
                found = list(rule.check(facts))
                for finding in found:
                    if not isinstance(finding, Finding):
                        raise TypeError(
                            f"check() yielded {type(finding).__name__} {finding!r:.60}, "
                            "not a pytest_ssot Finding"
                        )
            except Exception as exc:
                failures.append(RuleFailure.of(rule, facts.path, exc))
                continue
            findings.extend(found)
        findings.failures = tuple(failures)
        return findings


def check_file(
    path: Path,
    relpath: str,
    ruleset: RuleSet,
    cache: ScanCache | None = None,
    *,
    full: bool = False,
    known_key: str | None = None,
    keys: KeyIndex | None = None,
) -> tuple[FileFacts, Checked]:
    """Read, scan and check one file. Never raises: an unreadable file becomes facts with an
    error; a broken cache entry is a miss; a scanner bug becomes facts with an error plus a
    :class:`RuleFailure` for every rule (the file could not be checked at all).

    ``known_key`` is the cache key of the file's content as read earlier in the session, and
    ``keys`` (for ``cache``) knows those of files unchanged since an earlier one: when its
    entry is sound, the file is not read (nor hashed) again."""
    if cache is not None and known_key is None and keys is not None:
        known_key = keys.lookup(str(path))
    if cache is not None and known_key is not None:
        with contextlib.suppress(Exception):  # anything odd: read and key the file afresh
            cached = cache.get(known_key, relpath)
            if cached is not None:
                return cached, ruleset.check(cached)
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return FileFacts(path=relpath, error=f"cannot be read: {reason}"), Checked()
    key = ""
    if cache is not None:
        try:
            key = cache.key(data)
            if keys is not None:
                keys.remember(str(path), key)
            cached = cache.get(key, relpath)
        except Exception:  # a cache is only ever a shortcut: anything odd in it is a miss
            cached = None  # (and the scan below rewrites the entry)
            cache = cache if key else None
        if cached is not None:
            return cached, ruleset.check(cached)
    try:
        facts = scan(data, relpath, ruleset.watched, full=full)
    except Exception as exc:
        failure = RuleFailure.of(None, relpath, exc)
        findings = Checked()
        findings.failures = (failure,)
        return FileFacts(path=relpath, error=failure.reason), findings
    if cache is not None:
        with contextlib.suppress(Exception):
            cache.put(key, facts)
    return facts, ruleset.check(facts)
