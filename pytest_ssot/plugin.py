"""pytest glue: options, configuration, collection-time checks, setup-time verdicts, summary.

Thin on purpose: it turns pytest's collected objects into plain data for the pure core
(scanner -> rules -> policy -> reporting) and turns the core's decisions into pytest outcomes.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import functools
import importlib
import inspect
import itertools
import linecache
import math
import os
import re
import shlex
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

import pytest_ssot
from pytest_ssot import attribution, gcpause, reporting
from pytest_ssot import baseline as baseline_file
from pytest_ssot import prescan as prescan_helper
from pytest_ssot import xdist as xdist_glue
from pytest_ssot.cache import KeyIndex, ScanCache
from pytest_ssot.config import (
    Config,
    check_required_version,
    key_line,
    load,
    parse_until,
    shown_value,
    unknown_rule_warnings,
    validate_fail_under,
)
from pytest_ssot.errors import (
    ConfigError,
    EnvAccessError,
    RuntimeViolationError,
    SourceAccessError,
    os_reason,
)
from pytest_ssot.guard import Access, Classifier, EnvGuard, use_instead
from pytest_ssot.model import (
    MODES,
    Exemption,
    Finding,
    Mode,
    RuleInfo,
    Scope,
    UncheckedFile,
    baseline_fingerprints,
    normalise_snippet,
)
from pytest_ssot.paths import prefix_or_glob, relpath
from pytest_ssot.policy import (
    Outcome,
    Outcomes,
    RecordPool,
    Result,
    SessionData,
    TestRecord,
    evaluate,
    record_for,
    without_runtime_ignores,
)
from pytest_ssot.reporting import history as history_file
from pytest_ssot.reporting.terminal import summary_lines
from pytest_ssot.rules import (
    DIRECT_ENVIRON_ACCESS,
    NON_SSOT_TEST_CLASS,
    RUNTIME_ENVIRON_ACCESS,
    UNIFIED_RUNNER_BYPASS,
    Rule,
    RuleFailure,
    RuleSet,
    builtin_rules,
    check_file,
    function_test_message,
    runtime_rule_names,
)
from pytest_ssot.scanner import FileFacts, direct_parameters
from pytest_ssot.store import FindingStore, Key, StaticSites

if TYPE_CHECKING:
    # Imported where a session installs it: only suites whose config names sources do.
    from pytest_ssot.sourceguard import Call, SourceGuard, Unrecordable


class SSOTWarning(pytest.PytestWarning):
    """A violation of the team's SSOT test infrastructure (warn mode)."""

    __module__ = "pytest_ssot"


REPORT_FORMATS = {name: needs_path for name, (_, needs_path) in reporting.FORMATS.items()}
PLUGIN_KEY = pytest.StashKey["SSOTPlugin"]()
# Policy's outcome for a run-time site in a test, and whether it fails that test.
_Decision = tuple[Outcome | None, bool]
# Decisions held at once: a suite hitting more distinct sites starts over (memory stays flat).
_DECISIONS_HELD = 4096


def _mode(value: str) -> Mode:
    if value not in MODES:
        raise argparse.ArgumentTypeError(f"{value!r} is not a mode; choose from {', '.join(MODES)}")
    return value


def _fail_under(value: str) -> float:
    try:
        number = validate_fail_under(float(value))
    except ValueError:
        number = None
    if number is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number from 0 to 100")
    return number


def _path(value: str) -> str:
    """A path option's value: an empty one would otherwise mean the default, silently."""
    if not value:
        raise argparse.ArgumentTypeError("needs a path (an empty value names no file)")
    if "\0" in value:
        raise argparse.ArgumentTypeError(f"{value!r}: a path cannot hold a NUL character")
    return value


def _report(value: str) -> tuple[str, Path | None]:
    fmt, _, path = value.partition(":")
    if path:
        _path(path)
    if fmt not in REPORT_FORMATS:
        raise argparse.ArgumentTypeError(
            f"{value!r}: unknown report format {fmt!r}; choose from "
            + ", ".join(sorted(REPORT_FORMATS))
        )
    if REPORT_FORMATS[fmt] and not path:
        raise argparse.ArgumentTypeError(f"{value!r}: {fmt} needs a path, as in {fmt}:PATH")
    return fmt, Path(path) if path else None


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_ssot import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(trylast=True)
def pytest_ssot_rules(config: pytest.Config, ssot_config: Config) -> list[Rule]:
    """The built-in rules and ``[[tool.ssot.sources]]``, contributed like any plugin's."""
    return builtin_rules(ssot_config)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ssot", "single-source-of-truth test infrastructure (pytest-ssot)")
    group.addoption(
        "--ssot-mode",
        type=_mode,
        default=None,
        metavar="MODE",
        help="off|warn|strict: replaces `mode` and every tier's mode for this run.",
    )
    group.addoption(
        "--ssot-config",
        type=_path,
        default=None,
        metavar="PATH",
        help="standalone TOML file with the [tool.ssot] keys at top level.",
    )
    group.addoption(
        "--ssot-baseline",
        type=_path,
        default=None,
        metavar="PATH",
        help="JSON file of known violations.",
    )
    group.addoption(
        "--ssot-update-baseline",
        action="store_true",
        default=False,
        help="write the current violations to the baseline when the session completes.",
    )
    group.addoption(
        "--ssot-report",
        action="append",
        type=_report,
        default=[],
        metavar="FORMAT[:PATH]",
        help="json:PATH, sarif:PATH, markdown:PATH, html:PATH or github (repeatable).",
    )
    group.addoption(
        "--ssot-fail-under",
        type=_fail_under,
        default=None,
        metavar="N",
        help="fail the session when compliance (%%) is below N.",
    )
    group.addoption(
        "--ssot-history",
        type=_path,
        default=None,
        metavar="PATH",
        help="append one JSON line per completed session (time, commit, compliance, counts); "
        "the HTML report draws its trend from it.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "ssot_exempt(*codes, reason, until=None): exempt a test, class or module from SSOT "
        "rules (all rules when no codes are given) until an ISO date.",
    )
    option = config.option
    _check_path_options(config)
    try:
        ssot_config = load(
            rootdir=config.rootpath,
            config_file=Path(option.ssot_config) if option.ssot_config else None,
        )
        ssot_config = ssot_config.with_overrides(
            mode=option.ssot_mode,
            baseline=Path(option.ssot_baseline) if option.ssot_baseline else None,
            fail_under=option.ssot_fail_under,
        )
        check_required_version(ssot_config, pytest_ssot.__version__)
    except ConfigError as exc:
        raise pytest.UsageError(*exc.problems) from None
    if ssot_config.disabled:
        return
    _check_report_targets(config, ssot_config)
    plugin = SSOTPlugin(config, ssot_config)
    config.stash[PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "ssot-session")
    xdist_glue.install(config, plugin, SSOTWarning)
    _check_runner(config, plugin)
    # Said once, by the controller: xdist would relay each worker's copy too.
    if not xdist_glue.is_worker(config):
        said = _SessionWarnings.of(plugin)
        if said.due:
            config.pluginmanager.register(said, "ssot-session-warnings")
    guard = RuntimeGuard(plugin)
    # --collect-only runs no test phase: installing the guards would only cost time.
    watching = (guard.environ or guard.sources) and not config.option.collectonly
    if watching:
        config.pluginmanager.register(guard, "ssot-guard")
    if ssot_config.may_be_strict:
        reports = _FailedAsReported(plugin, guard if watching else None)
        config.pluginmanager.register(reports, "ssot-strict-reports")


_PATH_OPTIONS = ("--ssot-config", "--ssot-baseline", "--ssot-history")


def _check_path_options(config: pytest.Config) -> None:
    """Refuse a rootdir that a path option of this plugin moved. pytest chooses its rootdir
    before it knows plugin options: to it, the value of ``--ssot-baseline PATH`` (two
    arguments) is a test path, and one outside the project takes the rootdir away from the
    project's configuration, so the run would silently use other settings (or none).
    ``--ssot-baseline=PATH`` is one argument, and safe."""
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    args = [str(arg) for arg in args]
    chosen = ("-c", "--config-file", "--rootdir")
    if any(a.startswith(chosen) for a in args):
        return  # pytest does not look at test paths then
    here = Path(config.invocation_params.dir)
    pairs = itertools.pairwise(args)
    given = [(o, v) for o, v in pairs if o in _PATH_OPTIONS and (here / v).exists()]
    if not given:
        return
    from pytest_ssot.discovery import DiscoveryError, common_ancestor, locate_config

    values = {v for _, v in given}
    paths = [here / a for a in args if not a.startswith("-") and a not in values]
    try:
        expected = locate_config(common_ancestor(paths, here))[1]
    except DiscoveryError:
        return
    if expected is None or expected == config.inipath:
        return
    option, value = given[0]
    raise pytest.UsageError(
        f"pytest-ssot: pytest took `{option} {value}` for a test path when it chose its "
        f"rootdir ({config.rootpath}), so it did not read {expected}; write "
        f"`{option}={value}` (pytest reads its configuration before plugin options)"
    )


def _check_report_targets(config: pytest.Config, ssot_config: Config) -> None:
    """Refuse a report that would replace a file this session reads or writes: written at
    the end of the session, it would silently take the place of the baseline, the
    configuration, the history or another report (``json:PATH`` given twice keeps one)."""
    here = Path(config.invocation_params.dir)

    def where(path: Path) -> str:
        return os.path.normcase(os.path.realpath(here / path))

    history = config.option.ssot_history
    claimed: dict[str, str] = {}
    for what, path in (
        ("pytest-ssot's configuration", ssot_config.path),
        ("pytest's configuration", config.inipath),
        ("the baseline", ssot_config.baseline),
        ("the history", Path(history) if history else None),
    ):
        if path is not None:
            claimed.setdefault(where(path), what)
    for fmt, path in config.option.ssot_report:
        if path is None:
            continue
        target = where(path)
        if target in claimed:
            raise pytest.UsageError(
                f"pytest-ssot: --ssot-report {fmt}:{path} would replace {claimed[target]} "
                f"({path}); give each report a file of its own"
            )
        claimed[target] = f"the {fmt} report"


def _import_base(entry: str, ssot_config: Config) -> type:
    module_name, _, attr_path = entry.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            obj = getattr(obj, attr)
    except (Exception, SystemExit) as exc:  # SystemExit: a module that refuses to load
        raise pytest.UsageError(
            f"{ssot_config.path}: base_classes entry {entry!r} cannot be imported "
            f"({type(exc).__name__}: {exc}); check the module path or the pytest pythonpath"
        ) from None
    if not isinstance(obj, type):
        raise pytest.UsageError(
            f"{ssot_config.path}: base_classes entry {entry!r} is not a class ({obj!r})"
        )
    return obj


class SSOTPlugin:
    """Per-session state: scanned files, collected facts, the decisions and the result."""

    def __init__(self, config: pytest.Config, ssot_config: Config) -> None:
        self.config = config
        self.ssot = ssot_config
        self.root = config.rootpath
        self.ruleset = _ruleset(config, ssot_config)
        self.cache = ScanCache(_cache_dir(config), self.ruleset.cache_salt())
        # Started once enough collected files are missing from the cache (see prescan.py).
        self.prescan: prescan_helper.Prescan | None = None
        self._prescan_wanted = not xdist_glue.is_worker(config) and prescan_helper.may_help(
            self.cache
        )
        self._prescan_pending: list[tuple[Path, str]] = []
        # pytest collects a directory again for every file named on the command line: each
        # of its files goes to the helper once, not once per argument.
        self._prescan_offered: set[Path] = set()
        self.prescanned: list[str] = []  # what the helper was given (relative), once done
        # The cache keys of files found in the cache as pytest collected them (see prescan.py).
        self._cached_keys: dict[Path, str] = {}
        self.data = SessionData()
        self.known: dict[str, dict[str, Any]] = {}
        self._facts: dict[Path, FileFacts | None] = {}
        # Each scanned file's findings while the collected tests are checked; after that only
        # the ones a run-time access can turn out to be (see static_sites).
        self._findings: dict[Path, list[Finding]] = {}
        self._static_sites: StaticSites | None = None
        self._conftests: dict[Path, tuple[Path, ...]] = {}
        self._bases: tuple[type, ...] | None = None
        # Each test's warnings to issue as it starts, as indexes into the decided outcomes.
        self._warn_at: dict[str, list[int]] = {}
        self._warned: Outcomes | None = None
        # In an xdist worker, where those warnings go instead of pytest (see xdist.py).
        self.relayed: list[warnings.WarningMessage] | None = None
        self._absolutes: dict[str, str] = {}  # the files they point at
        self._failing: Mapping[str, tuple[Outcome, ...]] = {}
        self._verdicts: dict[tuple[str, str, int, int], Finding | bool] = {}
        self._evaluated: tuple[tuple[int, ...], Result] | None = None
        self._undecided = False  # collected, verdicts not yet made
        self.result: Result | None = None
        # The collectors pytest failed to collect, by node id: under xdist each worker reports
        # its own, and xdist passes on both when their tracebacks differ (a RecursionError).
        self._failed_collectors: set[str] = set()
        self.deselected = 0
        self.interrupted = False
        self.stopped_early = False  # by -x / --maxfail, seen as an interruption (xdist)
        self.report_errors: list[str] = []
        # The strict-mode failures this plugin raised in a test's setup or teardown, so that
        # no xfail marker hides them (see _FailedAsReported).
        self.enforced: weakref.WeakSet[BaseException] = weakref.WeakSet()
        self.notes: list[str] = []  # informational lines for the summary (baseline written...)
        # pytest-ssot's own failures (a rule that raised, a bug in this plugin): they degrade
        # to warnings, or fail the affected tests closed in strict mode; never INTERNALERROR.
        self.broken: list[str] = []
        # A usage error found while the session ran (a base class that cannot be imported):
        # pytest stops with exit code 4, and nothing this session found can be trusted.
        self.usage_error: tuple[str, ...] = ()
        self._rule_failures: dict[Path, list[RuleFailure]] = {}
        self._failures_of: dict[str, list[RuleFailure]] = {}  # node id -> failures
        self.deselected_files: set[str] = set()
        # Under xdist the controller collects nothing: workers tell it what they scanned, and
        # a worker that went down before finishing leaves a reason here (see xdist.py).
        self.scanned_elsewhere: set[str] = set()
        self.lost: list[str] = []
        # Per-file answers asked once per test otherwise (tens of thousands of times).
        self._rels: dict[Path, str] = {}
        self._excluded: dict[str, bool] = {}
        # By class, or by (class, test module) for a class defined outside the rootdir,
        # whose finding is placed in each module that imports it (see _class_location).
        self._class_findings: dict[object, Finding | None] = {}
        self._inside: dict[type, bool] = {}
        self._fixture_sources: dict[tuple[str, object, Path], bool] = {}
        self._parameters: dict[object, frozenset[str]] = {}  # see _direct_parameters
        self._node_marks: dict[pytest.Item | pytest.Collector, tuple[Exemption, ...]] = {}
        # Run-time warnings are issued once per site, across xdist workers too.
        self.first_time = xdist_glue.first_time(config)
        self._github: list[str] = []
        if ssot_config.baseline is not None:
            try:
                self.known = baseline_file.load(ssot_config.baseline)
            except ConfigError as exc:
                raise pytest.UsageError(*exc.problems) from None
        if config.option.ssot_update_baseline and ssot_config.baseline is None:
            raise pytest.UsageError(
                "--ssot-update-baseline needs a baseline file: pass --ssot-baseline=PATH "
                "or set `baseline` in [tool.ssot]"
            )

    # -- header ------------------------------------------------------------------------------
    def pytest_report_header(self) -> str:
        where = relpath(self.ssot.path, self.root) if self.ssot.path else "defaults"
        extra = f", baseline {len(self.known)} known" if self.ssot.baseline else ""
        return f"ssot: mode {self.ssot.effective_mode} ({where}){extra}"

    # -- collection --------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_collect_file(
        self, file_path: Path
    ) -> Generator[None, list[pytest.Collector], list[pytest.Collector]]:
        collectors = yield
        # Each test module (and conftest.py) goes to the helper as pytest finds it, so its
        # scan overlaps with the rest of collection (see prescan.py).
        if self._prescan_wanted and (
            file_path.name == "conftest.py" or any(isinstance(c, pytest.Module) for c in collectors)
        ):
            with self._shielded("handing a file to the scanning helper"):
                self._prescan_file(file_path)
        return collectors

    def _prescan_file(self, path: Path) -> None:
        if path in self._prescan_offered:
            return
        self._prescan_offered.add(path)
        rel = self._rel(path)
        if self._is_excluded(rel):
            return
        if self.prescan is not None:
            self.prescan.submit(path, rel)
            return
        # Until the helper is needed, each file is looked up here: on a warm cache it never
        # is, and these keys spare reading the files again when they are checked.
        key = self._cached_key(path)
        if key is not None:
            self._cached_keys[path] = key
            return
        self._prescan_pending.append((path, rel))
        if len(self._prescan_pending) < prescan_helper.WORTH_IT_AFTER:
            return
        pending, self._prescan_pending = self._prescan_pending, []
        self.prescan = prescan_helper.Prescan.start(self.cache, self.ruleset.watched)
        if self.prescan is None:
            self._prescan_wanted = False
            return
        for pending_path, pending_rel in pending:
            self.prescan.submit(pending_path, pending_rel)

    def _cached_key(self, path: Path) -> str | None:
        """The key of ``path``'s content when the cache has an entry for it, else None (an
        unreadable file too: scanning it says why)."""
        try:
            key = self._keys.key(path)
        except (OSError, ValueError):
            return None
        return key if self.cache.has(key) else None

    def _stop_prescan(self, *, at_once: bool = False) -> None:
        """Let the helper finish (it skips what is cached by now), or stop it at once."""
        prescan, self.prescan = self.prescan, None
        self._prescan_wanted = False
        self._prescan_pending = []
        self._prescan_offered = set()
        if prescan is not None:
            if at_once:
                prescan.stop()
            else:
                prescan.wait()
            self.prescanned = prescan.submitted

    def pytest_unconfigure(self) -> None:
        # Still running here only when collection never finished (an error, ^C).
        self._stop_prescan(at_once=True)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        with self._shielded("listing a file pytest could not collect"):
            self._collect_failed(report)

    @property
    def collection_errors(self) -> int:
        return len(self._failed_collectors)

    def _collect_failed(self, report: pytest.CollectReport) -> None:
        if report.nodeid in self._failed_collectors:
            return
        self._failed_collectors.add(report.nodeid)
        # A test file pytest could not import is still part of the suite: scan it so the
        # summary says why it is unchecked (syntax error, bad encoding, ...).
        path = self.root / report.nodeid.split("::")[0]
        if path.suffix == ".py" and path.is_file():
            facts, _ = self._scan(path)
            rel = relpath(path, self.root)
            if facts is not None and facts.error is None:
                # The text prefilter skips parsing files without trigger words; parse this
                # one fully so the summary gives the real reason (syntax, encoding, nesting),
                # once: the next session finds it in the cache.
                full, _ = check_file(path, rel, self.ruleset, self._full_cache, full=True)
                # A class pytest failed to collect (its module imported: other tests ran).
                failed_class = report.nodeid.partition("::")[2]
                reason = full.error or (
                    f"pytest failed to collect {failed_class} (see errors)"
                    if failed_class
                    else "failed to import (see errors)"
                )
                self.data.unchecked[rel] = UncheckedFile(rel, reason)

    @functools.cached_property
    def _keys(self) -> KeyIndex:
        """The cache keys of the files read in earlier sessions (loaded when first needed)."""
        return KeyIndex(self.cache)

    def _save_keys(self) -> None:
        """Save the key index if files were read (and keyed) since it was loaded, and let it
        go: a large suite's index is megabytes the session would otherwise hold to its end."""
        keys = self.__dict__.pop("_keys", None)
        if keys is not None:
            keys.save()

    @functools.cached_property
    def _full_cache(self) -> ScanCache:
        """The cache of full scans, as ``ssot check`` makes them (the two share entries)."""
        return ScanCache(self.cache.directory, self.ruleset.cache_salt(full=True))

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)
        # Files only partly selected cannot confirm or retire their baseline entries.
        self.deselected_files.update(self._rel(item.path) for item in items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        with self._shielded("checking the collected tests"), gcpause.paused():
            self._collection_finish(session)

    @contextlib.contextmanager
    def _shielded(self, doing: str) -> Iterator[None]:
        """Turn a bug in pytest-ssot into a warning (or, in strict mode, tests that fail
        closed) and an incomplete summary, never an INTERNALERROR. Usage errors stay."""
        try:
            yield
        except pytest.UsageError as exc:
            self.usage_error = tuple(str(arg) for arg in exc.args)
            raise
        except Exception as exc:
            self.broken.append(f"pytest-ssot failed while {doing} ({_failure(exc)})")

    def _collection_finish(self, session: pytest.Session) -> None:
        by_file: dict[Path, list[pytest.Function]] = {}
        records: RecordPool = {}
        checked = self.data.tests
        # Once per test, so what the tests of one class or module share (the file, the
        # ssot_exempt marks of their class, module and packages, nearest first as
        # iter_markers gives them) is worked out when the parent changes: pytest lists a
        # parent's tests one after another.
        last_parent: object = None
        group: list[pytest.Function] | None = None  # None: an excluded file
        for item in session.items:
            if not isinstance(item, pytest.Function):
                continue
            if item.parent is not last_parent:
                last_parent = item.parent
                rel = self._rel(item.path)
                group = None
                if not self._is_excluded(rel):
                    group = by_file.setdefault(item.path, [])
                    parent = _parent(item)
                    above = self._exemptions_above(parent, item) if parent is not None else ()
                    shared = record_for(records, rel, above)
            if group is None:
                continue
            if item.own_markers:
                own = tuple(self._node_exemptions(item, item))
                checked[item.nodeid] = record_for(records, rel, own + above) if own else shared
            else:
                checked[item.nodeid] = shared
            group.append(item)
        # Scanned up front, in an order that lets xdist workers share a cold cache.
        order = xdist_glue.scan_order(self.config, list(by_file))
        if self.prescan is not None:
            # The helper works forward through the same files: meet it in the middle.
            self.prescan.close_input()
            order.reverse()
        for path in order:
            self._scan(path)
        self._stop_prescan()
        # Which tests run a module's code matters only for modules with findings (or a rule
        # that failed on them): a compliant suite skips the per-test work.
        if any(self._findings[path] or path in self._rule_failures for path in by_file):
            related = _related(by_file)
        else:
            related = {path: [] for path in by_file}
        for path, items in by_file.items():
            self._attribute_module(path, related[path])
            for conftest in self._conftests_for(path):
                self._attribute_conftest(conftest, items)
        if self.ssot.base_classes:
            self._check_test_classes(i for items in by_file.values() for i in items)
        self._assign_failures(by_file, related)
        self.data.compact()
        # A file's facts are only read while the collected tests are checked; after that
        # only which files were scanned is asked (its inline ignores are in self.data).
        for path, facts in self._facts.items():
            if facts is not None:
                self._facts[path] = _SCANNED
        # Only asked while the collected tests are checked (pytest's nodes and classes).
        self._node_marks.clear()
        self._fixture_sources.clear()
        self._parameters.clear()
        self._class_findings.clear()
        self._inside.clear()
        self._cached_keys.clear()  # of files no test needed (a conftest.py with no tests)
        self._save_keys()  # now: the run only rarely reads a test module again
        self.static_sites()
        # Decided when the first test starts: --collect-only never needs it, and a run's end
        # reuses the same evaluation unless tests added violations (see evaluate()).
        self._undecided = True
        if xdist_glue.is_worker(self.config):
            # Hooks in conftests below the rootdir only answer where collection happens: a
            # worker that runs no test must still send the controller their verdicts.
            self._filtered()

    def _assign_failures(
        self, by_file: dict[Path, list[pytest.Function]], related: dict[Path, list[_Origins]]
    ) -> None:
        """The tests whose static findings a failed rule could not produce: those of a test
        module (and of tests elsewhere running its code), or every test under a conftest.py."""
        for path, failures in self._rule_failures.items():
            if path in related:
                nodeids = [origins.nodeid for origins in related[path]]
            elif path.name == "conftest.py":
                nodeids = [
                    i.nodeid
                    for test_file, items in by_file.items()
                    if path.parent == test_file.parent or path.parent in test_file.parents
                    for i in items
                ]
            else:
                continue  # scanned only to locate a class: its findings affect no test
            for nodeid in nodeids:
                self._failures_of.setdefault(nodeid, []).extend(failures)

    def _rel(self, path: Path) -> str:
        rel = self._rels.get(path)
        if rel is None:
            rel = self._rels[path] = relpath(path, self.root)
        return rel

    def _is_excluded(self, rel: str) -> bool:
        excluded = self._excluded.get(rel)
        if excluded is None:
            excluded = self._excluded[rel] = self.ssot.is_excluded(rel)
        return excluded

    def _scan(self, path: Path) -> tuple[FileFacts | None, list[Finding]]:
        if path not in self._facts:
            rel = self._rel(path)
            if self._is_excluded(rel):
                self._facts[path], self._findings[path] = None, []
            else:
                facts, findings = check_file(
                    path,
                    rel,
                    self.ruleset,
                    self.cache,
                    known_key=self._cached_keys.pop(path, None),
                    keys=self._keys,
                )
                # Kept for the whole session: only what the plugin reads again (the findings
                # already hold what the references and source lines said).
                self._facts[path] = FileFacts(
                    path=facts.path,
                    error=facts.error,
                    classes=facts.classes,
                    suppressions=facts.suppressions,
                )
                self._findings[path] = findings
                if facts.error is not None:
                    self.data.unchecked[rel] = UncheckedFile(rel, facts.error)
                if facts.suppressions:
                    self.data.suppressions[rel] = facts.suppressions
                # A rule switched off everywhere cannot matter, failing or not.
                failures = [
                    f for f in findings.failures if f.code is None or self._rule_is_on(f.code)
                ]
                if failures:
                    self._rule_failures[path] = failures
                    reason = "; ".join(f.reason for f in failures)
                    self.data.unchecked[rel] = UncheckedFile(rel, reason)
        # Asked for after the collected tests are checked only for a file's facts.
        return self._facts[path], self._findings.get(path, [])

    def static_sites(self) -> StaticSites:
        """The scanned findings a run-time access can turn out to be (a static SSOT002 or a
        source's finding at the line it runs). Made once the collected tests are checked,
        from the per-file lists it replaces."""
        if self._static_sites is None:
            codes = {DIRECT_ENVIRON_ACCESS.code, *(s.code for s in self.ssot.sources)}
            self._static_sites = StaticSites(self.data.findings)
            for findings in self._findings.values():
                for finding in findings:
                    if finding.code in codes:
                        self._static_sites.add(finding)
            self._findings.clear()
            self.data.findings.drop_indexes()  # the look-ups above made them
        return self._static_sites

    def _rule_is_on(self, code: str) -> bool:
        return self.ssot.rules.get(code) != "off"

    def _conftests_for(self, test_file: Path) -> tuple[Path, ...]:
        """The conftest.py files from ``test_file``'s directory up to the rootdir, nearest
        first; once per directory (the files of one directory share them)."""
        directory = test_file.parent
        found = self._conftests.get(directory)
        if found is None:
            candidate = directory / "conftest.py"
            here = (candidate,) if candidate.is_file() else ()
            if directory == self.root or directory.parent == directory:
                above: tuple[Path, ...] = ()
            elif self.root not in directory.parents:
                above = ()
            else:
                above = self._conftests_for(directory)  # its parent directory's
            found = self._conftests[directory] = here + above
        return found

    @functools.cached_property
    def _is_test_name(self) -> Callable[[str], bool]:
        """pytest's rule for the functions it collects as tests (``python_functions``)."""
        options = tuple(str(o) for o in self.config.getini("python_functions"))
        return functools.partial(prefix_or_glob, options=options)

    def _attribute_module(self, path: Path, items: list[_Origins]) -> None:
        """Attribute the findings of test module ``path`` to ``items``: its own tests and the
        tests elsewhere whose classes derive from its classes or that run its functions."""
        _, findings = self._scan(path)
        if not findings:
            return
        candidates = attribution.Candidates(str(path), items, self._is_test_name)
        for finding in findings:
            affected = candidates.affected(finding.scope)
            if affected:
                self.data.add(finding, affected)

    def _attribute_conftest(self, conftest: Path, items: list[pytest.Function]) -> None:
        _, findings = self._scan(conftest)
        for finding in findings:
            fixture = finding.scope.fixture
            affected = [
                i.nodeid
                for i in items
                if fixture is None
                or (
                    fixture in i.fixturenames
                    and fixture not in _direct_parameters(i, self._parameters)
                    and self._runs_fixture_of(i, fixture, conftest)
                )
            ]
            if affected:
                self.data.add(finding, affected)

    def _runs_fixture_of(self, item: pytest.Function, name: str, conftest: Path) -> bool:
        """Whether ``item``'s fixture ``name`` is the one ``conftest`` defines, not an
        override nearer the test (its module, its class, a deeper conftest.py) that never
        runs it. Asked of pytest's fixture manager, as pytest resolves it for the test;
        once per parent (a fixture is defined for a node and what is under it, never for one
        test), as thousands of tests may use a fixture with a finding."""
        key = (name, item.parent, conftest)
        known = self._fixture_sources.get(key)
        if known is None:
            known = self._fixture_sources[key] = self._resolves_to(item, name, conftest)
        return known

    def _resolves_to(self, item: pytest.Function, name: str, conftest: Path) -> bool:
        manager: Any = self.config.pluginmanager.get_plugin("funcmanage")
        try:
            definitions = list(manager.getfixturedefs(name, item) or ())
        except Exception:  # another pytest's manager: the name alone decides, as before
            return True
        wanted = str(conftest)
        for definition in reversed(definitions):
            if _defined_in(getattr(definition, "func", None)) == wanted:
                return True
            if name not in getattr(definition, "argnames", ()):
                return False  # an override that does not ask for the fixture it overrides
        return not definitions

    def _check_test_classes(self, items: Iterable[pytest.Function]) -> None:
        if self._bases is None:
            self._bases = tuple(_import_base(e, self.ssot) for e in self.ssot.base_classes)
        # A class's finding goes to the store once, with all its tests.
        of_class: dict[int, tuple[Finding, list[str]]] = {}
        # The tests of one parent follow each other and share its class: decided once.
        last_parent: object = None
        cls: type | None = None
        nodeids: list[str] | None = None  # where the tests of this class go (None: compliant)
        for item in items:
            if item.parent is not last_parent:
                last_parent = item.parent
                cls = _test_class(item)
                if cls is not None:
                    key: object = cls if self._defined_here(cls) else (cls, item.path)
                    if key in self._class_findings:  # an earlier parent's class: same verdict
                        finding = self._class_findings[key]
                    else:
                        finding = self._class_findings[key] = self._class_finding(cls, item)
                    nodeids = (
                        None
                        if finding is None
                        else of_class.setdefault(id(finding), (finding, []))[1]
                    )
            if cls is None:
                if not self.ssot.allow_function_tests:
                    self.data.add(self._function_finding(item), [item.nodeid])
            elif nodeids is not None:
                nodeids.append(item.nodeid)
        for finding, affected in of_class.values():
            self.data.add(finding, affected)

    def _function_finding(self, item: pytest.Function) -> Finding:
        name = item.originalname
        return Finding(
            code=NON_SSOT_TEST_CLASS.code,
            path=self._rel(item.path),
            line=_line(item),
            col=1,
            message=function_test_message(self._base_names()),
            scope=Scope(qualname=(name,)),
            snippet=f"def {name}",
        )

    def _class_finding(self, cls: type, item: pytest.Function) -> Finding | None:
        """SSOT001 for test class ``cls`` (first collected with ``item``), or None."""
        assert self._bases is not None
        if issubclass(cls, self._bases):
            return None
        path, line = self._class_location(cls, item)
        return Finding(
            code=NON_SSOT_TEST_CLASS.code,
            path=self._rel(path),
            line=line,
            col=1,
            message=(
                f"test class {cls.__qualname__} does not inherit from an SSOT base class; "
                f"derive it from {self._base_names()}"
            ),
            scope=Scope(qualname=tuple(cls.__qualname__.split(".")), classes=1),
            snippet=f"class {cls.__qualname__}",
        )

    def _base_names(self) -> str:
        return " or ".join(e.rpartition(":")[2] for e in self.ssot.base_classes)

    def _defined_here(self, cls: type) -> bool:
        """Whether ``cls`` is defined in a file under the rootdir (once per class)."""
        known = self._inside.get(cls)
        if known is None:
            file = _defined_in(cls)
            known = self._inside[cls] = file is not None and not os.path.isabs(
                self._rel(_as_path(file))
            )
        return known

    def _class_location(self, cls: type, item: pytest.Function) -> tuple[Path, int]:
        """Where SSOT001 points for ``cls``: its definition, or for a class from outside the
        rootdir (an installed package's ``Test*`` class a test module imports, which pytest
        collects there) the line of the test module that imports it: a path under the rootdir,
        so that its fingerprint is the same on every machine."""
        file = _defined_in(cls)
        if file is None or not self._defined_here(cls):
            return item.path, self._import_line(item)
        path = _as_path(file)
        facts, _ = self._scan(path)
        info = facts.classes.get(cls.__qualname__) if facts else None
        if info is not None:
            return path, info.line
        return item.path, _line(item)

    def _import_line(self, item: pytest.Function) -> int:
        """The line where the test module binds the name its test class is collected under
        (``from frame.cases import TestBase``); 1 when it cannot be told."""
        facts, _ = check_file(
            item.path, self._rel(item.path), self.ruleset, self._full_cache, full=True
        )
        structure = facts.structure
        return structure.line_of(item.nodeid.split("::")[1]) if structure is not None else 1

    def _exemptions_above(
        self, node: pytest.Item | pytest.Collector, item: pytest.Function
    ) -> tuple[Exemption, ...]:
        known = self._node_marks.get(node)
        if known is None:
            parent = _parent(node)
            above = self._exemptions_above(parent, item) if parent is not None else ()
            known = (*self._node_exemptions(node, item), *above)
            if node.nodeid:  # a root node's marks are named after each test's file
                self._node_marks[node] = known
        return known

    @functools.cached_property
    def _rule_words(self) -> frozenset[str]:
        """What an exemption may name: every rule's code and name."""
        infos = self.ruleset.infos.values()
        return frozenset({i.code for i in infos} | {i.name for i in infos})

    def _node_exemptions(
        self, node: pytest.Item | pytest.Collector, item: pytest.Function
    ) -> Iterator[Exemption]:
        for mark in node.own_markers:
            if mark.name != "ssot_exempt":
                continue
            origin = node.nodeid or self._rel(item.path)
            # Plain str copies: a str subclass's own methods could raise or lie.
            codes = tuple(str.__str__(c) if isinstance(c, str) else c for c in mark.args)
            reason = mark.kwargs.get("reason")
            reason = str.__str__(reason) if isinstance(reason, str) else ""
            until = mark.kwargs.get("until")
            until = str.__str__(until) if isinstance(until, str) else until
            problem = None
            if not all(isinstance(c, str) for c in codes):
                shown = ", ".join(map(shown_value, codes))
                problem = f"codes must be strings such as 'SSOT002', got {shown}"
            elif not reason.strip():
                problem = 'needs reason="why this test is exempt"'
            elif until is not None and (not isinstance(until, str) or parse_until(until) is None):
                problem = f"until={shown_value(until)} is not a YYYY-MM-DD date"
            elif unknown := [c for c in codes if c not in self._rule_words]:
                problem = f"names no rule: {', '.join(unknown)}"
            if problem is not None:
                self.data.invalid_exemptions[origin] = f"ssot_exempt {problem}; not applied"
                continue
            yield Exemption(codes=frozenset(codes), reason=reason, until=until, origin=origin)

    # -- verdicts ----------------------------------------------------------------------------
    def _decide(self, items: Iterable[pytest.Item]) -> None:
        result = self.evaluate()
        self._failing = result.failing
        outcomes = self._warned = result.outcomes
        order: dict[str, int] = {}  # each test's place in the run, once a warning needs it
        modes: dict[tuple[str, str], Mode] = {}

        def mode(code: str, nodeid: str) -> Mode:
            key = (code, self.data.tests[nodeid].path)
            if key not in modes:
                modes[key] = self.ssot.mode_for(*key)
            return modes[key]

        for index in range(len(outcomes)):
            if outcomes.status(index) != "new":
                continue
            code, failing = outcomes.code(index), outcomes.failing(index)
            warned = [
                n for n in outcomes.nodeids(index) if n not in failing and mode(code, n) == "warn"
            ]
            if warned:
                if not order:
                    order = {item.nodeid: place for place, item in enumerate(items)}
                first = min(warned, key=lambda n: order.get(n, len(order)))
                self._warn_at.setdefault(first, []).append(index)

    def evaluate(self) -> Result:
        # Asked after collection and again at the end: in between, a session that recorded
        # nothing at run time (--collect-only, a compliant suite) has the same answer.
        signature = (*self.data.signature(), datetime.date.today().toordinal())
        if self._evaluated is not None and self._evaluated[0] == signature:
            return self._evaluated[1]
        result = evaluate(self._filtered(), self.ssot, self.ruleset.infos, known=self.known)
        self._evaluated = (signature, result)
        return result

    def _hooked(self) -> bool:
        """Whether a plugin's ``pytest_ssot_violation`` hook may change what is decided."""
        return bool(self.config.hook.pytest_ssot_violation.get_hookimpls())

    def _filtered(self) -> SessionData:
        """The session data as plugins' ``pytest_ssot_violation`` hooks want it."""
        hook = self.config.hook.pytest_ssot_violation
        hooked = self._hooked()
        # An xdist controller has its workers' verdicts: hooks in conftests below the rootdir
        # are only loaded where collection happens.
        if not hooked and not self._verdicts:
            return self.data
        view = dataclasses.replace(self.data, findings=FindingStore())
        store = self.data.findings
        for row in range(len(store)):
            finding, key = store.finding(row), store.key(row)
            if key not in self._verdicts:
                if not hooked:
                    view.add(finding, store.tests(row))
                    continue
                try:
                    answer = hook(finding=finding, config=self.config)
                except Exception as exc:  # its intent is unknown: keep the violation as it is
                    answer = None
                    failed = "pytest-ssot failed while asking a pytest_ssot_violation hook about "
                    if not any(b.startswith(failed) for b in self.broken):
                        self.broken.append(
                            f"{failed}{finding.code} {finding.path}:{finding.line}"
                            f" ({_failure(exc)})"
                        )
                self._verdicts[key] = finding if answer is None or answer is True else answer
            verdict = self._verdicts[key]
            if isinstance(verdict, Finding):
                view.add(verdict, store.tests(row))
        return view

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self._undecided:
            self._undecided = False
            with self._shielded("deciding on the collected tests"), gcpause.paused():
                self._decide(item.session.items)
        nodeid = item.nodeid
        due = self._warn_at.pop(nodeid, None)
        if due:
            self._issue(due)
        failing = self._failing.get(nodeid)
        closed = self._own_failures(item) if self._failures_of or self.broken else []
        if failing:
            lines = "\n".join(f"  {o.line_for_error()}" for o in failing)
            self.fail(
                "pytest-ssot (strict): this test depends on code that bypasses the team's SSOT "
                f"test infrastructure:\n{lines}"
                + (f"\nIt also {_closed_text(closed)}" if closed else "")
            )
        if closed:
            self.fail(f"pytest-ssot (strict): {_closed_text(closed)}")

    def fail(self, message: str) -> NoReturn:
        """Fail the running phase of a test for strict mode, with ``message`` and no
        traceback, so that no xfail marker hides it (see _FailedAsReported)."""
        __tracebackhide__ = True
        error = pytest.fail.Exception(message, pytrace=False)
        self.enforced.add(error)
        raise error

    def _issue(self, due: list[int]) -> None:
        """Issue a test's warnings as it starts. An xdist worker catches them under the same
        filters (an ``error`` filter still raises here, in this test's setup) and relays them
        to the controller with the test's report: xdist would send each warning as an event
        of its own, which for a drifted suite's thousands of warnings costs seconds."""
        relayed = self.relayed
        if relayed is None:
            self._warn_due(due)
            return
        with warnings.catch_warnings(record=True) as caught:
            try:
                self._warn_due(due)
            finally:  # also those issued before an error
                relayed.extend(caught)

    def _warn_due(self, due: list[int]) -> None:
        warned = self._warned
        assert warned is not None  # set with _warn_at
        for index in due:
            text, path, line = warned.warning(index)
            _issue_warning(text, self._absolute(path), line, path)

    def _absolute(self, rel: str) -> str:
        absolute = self._absolutes.get(rel)
        if absolute is None:
            absolute = self._absolutes[rel] = str(self.root / rel)
        return absolute

    def _own_failures(self, item: pytest.Item) -> list[str]:
        """Warn (once per session) about pytest-ssot's own failures that concern this test;
        return why it must fail closed instead, where its mode is strict."""
        record = self.data.tests.get(item.nodeid)
        if record is None and not (self.broken and isinstance(item, pytest.Function)):
            return []
        rel = record.path if record is not None else relpath(item.path, self.root)
        closed: list[str] = []
        for failure in self._failures_of.get(item.nodeid, ()):
            codes = [failure.code] if failure.code else list(self.ruleset.infos)
            modes = {self.ssot.mode_for(code, rel) for code in codes}
            if "strict" in modes:
                closed.append(f"{failure.path}: {failure.what} raised {failure.error}")
            elif "warn" in modes and self._first(f"ssot-failure:{failure.path}:{failure.code}"):
                applied = (
                    "the other rules were applied, and its tests run; fix the rule or report "
                    "the bug to its author"
                    if failure.code
                    else "no rule was applied, and its tests run unchecked; this is a "
                    "pytest-ssot bug, please report it"
                )
                warnings.warn_explicit(
                    SSOTWarning(
                        f"pytest-ssot could not check {failure.path} with {failure.what}: "
                        f"{failure.error} ({failure.origin}); {applied}"
                    ),
                    category=SSOTWarning,
                    filename=str(self.root / failure.path),
                    lineno=1,
                )
        if self.broken:
            modes = {self.ssot.mode_for(code, rel) for code in self.ruleset.infos}
            if "strict" in modes:
                closed.extend(self.broken)
            elif "warn" in modes and self._first("ssot-broken"):
                warnings.warn_explicit(
                    SSOTWarning(
                        "; ".join(self.broken) + "; the tests run, but what pytest-ssot reports "
                        "for this session is incomplete. This is a pytest-ssot bug, please "
                        "report it"
                    ),
                    category=SSOTWarning,
                    filename=str(item.path),
                    lineno=_line(item),
                )
        return closed

    def _first(self, key: str) -> bool:
        """Yes once per key for the whole session (across xdist workers when it can)."""
        once = getattr(self, "first_time", None)
        if once is None:
            once = self.__dict__.setdefault("_first_here", _FirstTimeHere())
        return bool(once(key))

    # -- session end -------------------------------------------------------------------------
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # Without --continue-on-collection-errors pytest stops after collecting with its own
        # Interrupted: the session is incomplete for those errors (running again will not
        # help), not interrupted.
        if self.collection_errors and isinstance(excinfo.value, pytest.Session.Interrupted):
            return
        # Under xdist, -x and --maxfail stop the controller with xdist's own Interrupted
        # ("stopping after N failures"), where a serial run only sets session.shouldfail:
        # both ran part of the suite, neither was interrupted.
        stop = excinfo.value
        if type(stop).__module__.startswith("xdist") and str(stop).startswith("stopping after"):
            self.stopped_early = True
            return
        self.interrupted = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus == pytest.ExitCode.USAGE_ERROR:
            # pytest prints the error; the numbers of a session stopped by it are not a
            # result, so no summary, report, history or baseline is made from them.
            return
        try:
            with gcpause.paused():
                self._session_finish(session)
        except Exception as exc:  # a finished session must not end in a crash of ours
            self.report_errors.append(
                f"pytest-ssot failed at the end of the session ({_failure(exc)}); reports and "
                "the baseline may not have been written. This is a pytest-ssot bug, please "
                "report it"
            )

    def _session_finish(self, session: pytest.Session) -> None:
        self._save_keys()
        if xdist_glue.is_worker(self.config):
            return  # the controller decides and writes files (xdist.py sends it our data)
        self.cache.prune()  # entries unused for a month; at most once a day
        result = self.evaluate()
        coverage = self._coverage(session)
        # Entries outside what this session ran were not looked at, not fixed.
        self.result = result = dataclasses.replace(
            result, stale=baseline_file.stale(result.stale, coverage)
        )
        if not (coverage.whole and coverage.ran):
            # Part of the suite ran: an ignore no test reached at run time may still be used.
            self.result = result = without_runtime_ignores(
                result, self.data.suppressions, runtime_rule_names(self.ssot)
            )
        option = self.config.option
        records = self._history(result, coverage)
        if option.ssot_report:
            context = self._report_context(records)
            for fmt, path in option.ssot_report:
                self._write_report(fmt, path, result, context)
        if option.ssot_update_baseline:
            self._update_baseline(result, coverage)
        if self.ssot.fail_under and result.below(self.ssot.fail_under) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    # -- what this session covered ---------------------------------------------------------
    def _coverage(self, session: pytest.Session) -> baseline_file.Coverage:
        """Which baseline entries this run could judge (see :class:`baseline.Coverage`)."""
        invocation = self.config.invocation_params.dir
        roots: list[str] = []
        narrowed = False  # a node id (path::name) selects part of a file
        partial = set(self.deselected_files)
        for arg in self.config.args:
            path_part, sep, _ = str(arg).partition("::")
            target = Path(path_part)
            if not target.is_absolute():
                target = invocation / target
            if not target.exists():
                continue
            rel = relpath(target.resolve(), self.root)
            if rel.startswith("/"):
                continue  # outside the rootdir: no baseline entry can be there
            rel = "" if rel == "." else rel
            roots.append(rel)
            if sep:
                narrowed = True
                partial.add(rel)
        checked = {record.path for record in self.data.tests.values()}
        scanned = self.scanned() | self.scanned_elsewhere
        gone = {
            str(e["path"])
            for e in self.known.values()
            if self.ssot.is_excluded(str(e["path"]))
            or baseline_file.gone(self.root, str(e["path"]))
        }
        whole = not self.deselected and not narrowed
        stopped = bool(session.shouldfail or session.shouldstop)
        stopped = stopped or self.interrupted or self.stopped_early
        lf = bool(getattr(self.config.option, "lf", False))
        ran = whole and not stopped and not lf and not self.config.option.collectonly
        return baseline_file.Coverage(
            unchecked=frozenset(self.data.unchecked),
            roots=tuple(roots),
            complete_files=frozenset(checked - partial),
            scanned=frozenset(scanned - partial),
            gone=frozenset(gone),
            whole=whole,
            ran=ran,
        )

    def _whole_suite(self, coverage: baseline_file.Coverage) -> bool:
        """Whether this session ran everything a plain ``pytest`` would (for the history)."""
        if not (coverage.whole and coverage.ran):
            return False
        defaults = [relpath(self.root / p, self.root) for p in self.config.getini("testpaths")]
        defaults = ["" if d == "." else d for d in defaults] or [""]
        return all(coverage.under_roots(d) for d in defaults)

    @property
    def complete(self) -> bool:
        return not (self.interrupted or self.collection_errors or self.lost or self.broken)

    @property
    def incomplete(self) -> str | None:
        """Why the numbers do not cover the whole selected suite, if they do not."""
        if self.interrupted:
            return "interrupted"
        reasons = (
            [f"{self.collection_errors} collection error(s)"] if self.collection_errors else []
        )
        reasons += self.lost
        reasons += self.broken
        return "; ".join(reasons) or None

    def scanned(self) -> set[str]:
        """The files this process scanned (rootdir-relative)."""
        return {self._rel(path) for path, facts in self._facts.items() if facts}

    # -- history and reports -----------------------------------------------------------------
    def _history(
        self, result: Result, coverage: baseline_file.Coverage
    ) -> tuple[dict[str, Any], ...]:
        """Append this session to ``--ssot-history`` (if complete); the records to draw."""
        option = self.config.getoption("ssot_history")
        if not option:
            return ()
        path = Path(option)
        try:
            records, bad = history_file.read(path)
        except OSError as exc:
            self.report_errors.append(f"cannot read the history {path}: {os_reason(exc)}")
            records, bad = [], 0
        if bad and not records:
            # Not a history at all (a baseline, a config named by mistake): appending a line
            # would damage it.
            self.report_errors.append(
                f"history {path} not extended: none of its {bad} line(s) is a pytest-ssot "
                "history record; give --ssot-history a new or history file"
            )
            return ()
        if bad:
            self.report_errors.append(f"history {path}: skipped {bad} unreadable line(s)")
        if not self.complete:
            self.notes.append(
                f"history {path} not extended ({self.incomplete}): only complete sessions count"
            )
            return tuple(records)
        line = history_file.record(
            result,
            version=pytest_ssot.__version__,
            mode=self.ssot.effective_mode,
            commit=self._commit,
            partial=not self._whole_suite(coverage),
        )
        try:
            history_file.append(path, line)
        except OSError as exc:
            self.report_errors.append(f"cannot append to the history {path}: {os_reason(exc)}")
        return (*records, line)

    @functools.cached_property
    def _commit(self) -> str | None:
        """The commit under test: ``git rev-parse HEAD``, else what CI says."""
        return history_file.git_commit(self.root) or os.environ.get("GITHUB_SHA")

    def _report_context(self, records: tuple[dict[str, Any], ...]) -> reporting.ReportContext:
        formats = {fmt for fmt, _ in self.config.option.ssot_report}
        needs_git = bool(formats & {"sarif", "github", "markdown"})
        return reporting.ReportContext(
            source_prefix=history_file.git_prefix(self.root) if needs_git else "",
            history=records,
            commit=self._commit if formats & {"html", "sarif"} else None,
            generated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            project=self.root.name,
        )

    def _write_report(
        self, fmt: str, path: Path | None, result: Result, context: reporting.ReportContext
    ) -> None:
        try:
            text = reporting.render(
                fmt, result, self.ssot, self.ruleset.infos, pytest_ssot.__version__, context=context
            )
        except Exception as exc:  # a report must never turn a finished session into a crash
            self.report_errors.append(
                f"cannot render the {fmt} report ({type(exc).__name__}: {exc}); this is a "
                "pytest-ssot bug, please report it"
            )
            return
        if path is None:  # github: workflow commands on stdout
            self._github.extend(text.splitlines())
            if self.config.pluginmanager.get_plugin("terminalreporter") is None:
                # -p no:terminal: nothing prints the summary, so print the commands now.
                print(text, end="", file=sys.__stdout__, flush=True)
                self._github.clear()
            return
        try:
            baseline_file.write_atomic(path, text)
        except OSError as exc:
            self.report_errors.append(f"cannot write the {fmt} report to {path}: {os_reason(exc)}")

    # -- the baseline ------------------------------------------------------------------------
    def _shown(self, path: Path) -> str:
        """A path as the summary shows it: rootdir-relative when inside the rootdir."""
        rel = relpath(path.resolve(), self.root)
        return str(path) if rel.startswith("/") else rel

    def _update_baseline(self, result: Result, coverage: baseline_file.Coverage) -> None:
        assert self.ssot.baseline is not None  # checked in __init__
        path, shown = self.ssot.baseline, self._shown(self.ssot.baseline)
        if not self.complete:
            if self.interrupted:
                hint = "run again"
            elif self.collection_errors:
                hint = "fix or --ignore the files that fail to collect, then run again"
            elif self.lost:
                hint = "fix what made the xdist worker crash, then run again"
            else:
                hint = "see the pytest-ssot failure above, then run again"
            self.report_errors.append(
                f"baseline {shown} not updated ({self.incomplete}): it is only written after "
                f"a complete session; {hint}"
            )
            return
        current = [
            baseline_file.entry(o.finding, o.fingerprint)
            for o in result.outcomes
            if o.status != "exempted"
        ]
        entries = baseline_file.updated(self.known, current, coverage.covers, result.renamed)
        try:
            baseline_file.write_atomic(path, baseline_file.render(entries))
        except OSError as exc:
            self.report_errors.append(f"cannot write the baseline {shown}: {os_reason(exc)}")
            return
        fingerprints = {e["fingerprint"] for e in entries}
        added = len(fingerprints - self.known.keys())
        dropped = len(self.known.keys() - fingerprints)
        kept = sum(1 for e in entries if e["fingerprint"] in self.known) - sum(
            1 for o in result.outcomes if o.status == "known"
        )
        note = f"baseline {shown} written: {len(entries)} entries ({added} added, {dropped} fixed"
        note += f", {kept} kept from parts of the suite this run did not cover)" if kept else ")"
        self.notes.append(note)
        stopped = sum(len(o.failing) for o in result.outcomes)
        if stopped:
            self.notes.append(
                f"note: strict mode stopped {stopped} test(s) before their body ran, so their "
                "run-time violations are not in the baseline; update with --ssot-mode=warn"
            )

    # -- the summary -------------------------------------------------------------------------
    def _fail_under_line(self, result: Result) -> str:
        threshold = self.ssot.fail_under
        if self.config.option.ssot_fail_under is not None:
            source = "--ssot-fail-under"
        elif self.ssot.path is not None:
            source = f"fail_under in {relpath(self.ssot.path, self.root)}"
        else:
            source = "fail_under"
        needed = max(1, math.ceil(threshold * result.tests / 100 - 1e-9) - result.compliant)
        return (
            f"FAIL: SSOT compliance {result.compliance:.1f}% is below {source} {threshold:g}% "
            f"({result.compliant}/{result.tests} tests compliant; {needed} more compliant "
            f"test{'s' if needed != 1 else ''} needed)"
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        try:
            self._terminal_summary(terminalreporter)
        except Exception as exc:
            terminalreporter.write_line(
                f"ssot: pytest-ssot failed to print its summary ({type(exc).__name__}: {exc}); "
                "this is a pytest-ssot bug, please report it",
                yellow=True,
            )

    def _terminal_summary(self, terminalreporter: Any) -> None:
        result = self.result
        if result is None:
            for error in self.report_errors:  # the session end failed before a result
                terminalreporter.write_line(f"ssot: {error}", yellow=True)
            return
        for line in self._github:
            terminalreporter.write_line(line)
        self._github.clear()
        terminalreporter.write_sep("=", "SSOT compliance")
        verbosity = terminalreporter.verbosity
        for line in summary_lines(result, verbosity=verbosity, incomplete=self.incomplete):
            terminalreporter.write_line(line)
        if self.ssot.fail_under and result.below(self.ssot.fail_under):
            terminalreporter.write_line(self._fail_under_line(result), red=True, bold=True)
        for note in self.notes:
            terminalreporter.write_line(f"ssot: {note}")
        for error in self.report_errors:
            terminalreporter.write_line(f"ssot: {error}", yellow=True)


def _issue_warning(
    text: str, filename: str, line: int, shown: str, *, raising: bool = True
) -> None:
    """Issue an SSOTWarning pointing at ``filename:line``. Where a warnings filter makes it
    an error (``-W error::pytest_ssot.SSOTWarning``, a project's ``filterwarnings =
    ["error"]``) the test fails with the warning's text and place, no traceback through this
    plugin; unless not ``raising`` (the test failed already: its own error stays the one)."""
    try:
        warnings.warn_explicit(
            SSOTWarning(text), category=SSOTWarning, filename=filename, lineno=line
        )
    except SSOTWarning:
        if not raising:
            return
    else:
        return
    # Outside the except clause: the warning itself would be chained to the failure.
    pytest.fail(
        f"SSOTWarning (an error by the warnings filters) at {shown}:{line}: {text}",
        pytrace=False,
    )


def _raised_by_filters(text: str, filename: str, line: int) -> bool:
    """Whether the warnings filters in force make an SSOTWarning with ``text`` at
    ``filename:line`` an error, matched as :func:`warnings.warn_explicit` matches them (the
    module named after the file). Asked without issuing it: a trial would use up a
    ``once`` filter's one showing."""
    module = filename or "<unknown>"
    if module[-3:].lower() == ".py":
        module = module[:-3]
    try:
        for action, message, category, module_pattern, lineno in warnings.filters:
            if (
                (message is None or message.match(text))
                and issubclass(SSOTWarning, category)
                and (module_pattern is None or module_pattern.match(module))
                and (lineno == 0 or lineno == line)
            ):
                return bool(action == "error")
    except (AttributeError, TypeError, ValueError):  # a list another tool rewrote: no error
        return False
    return bool(getattr(warnings, "defaultaction", "default") == "error")  # not typed


def _closed_text(reasons: list[str]) -> str:
    lines = "\n".join(f"  {reason}" for reason in dict.fromkeys(reasons))
    return (
        "could not check the code this test depends on, so the test does not run (strict "
        f"mode fails closed):\n{lines}\n"
        "This is a bug in pytest-ssot or in a plugin's rule: fix or report it, or run with "
        "--ssot-mode=warn to let the tests run unchecked."
    )


# -- SSOT004 (a): the session must come from the unified runner ------------------------------
RUNNER_VARIABLE = "PYTEST_SSOT_RUNNER"


def _check_runner(config: pytest.Config, plugin: SSOTPlugin) -> None:
    """Stop (strict) or report once (warn) a session not started by the unified runner.

    xdist workers inherit the controller's decision: they are started by it, never by hand.
    """
    ssot = plugin.ssot
    runner = ssot.runner
    if runner is None or hasattr(config, "workerinput"):
        return
    actual = os.environ.get(RUNNER_VARIABLE)
    mode = ssot.session_mode_for(UNIFIED_RUNNER_BYPASS.code)
    if actual == runner or mode == "off":
        return
    seen = f"{RUNNER_VARIABLE} is not set" if actual is None else f"{RUNNER_VARIABLE}={actual!r}"
    message = (
        f"this pytest session was not started by the unified test runner {runner!r} ({seen}); "
        f"run the suite through it (`ssot run [--tier NAME] [-- PYTEST ARGS]`, or the team's "
        f"runner, which sets {RUNNER_VARIABLE}={runner})"
    )
    if mode == "strict":
        raise pytest.UsageError(
            f"pytest-ssot: {UNIFIED_RUNNER_BYPASS.code} {message} ({UNIFIED_RUNNER_BYPASS.name})"
        )
    path, line = _runner_key_location(ssot, plugin.root)
    plugin.data.session_findings.append(
        Finding(
            code=UNIFIED_RUNNER_BYPASS.code,
            path=path,
            line=line,
            col=1,
            message=message,
            snippet=f"runner = {runner}",
            end_line=line,
        )
    )


class _SessionWarnings:
    """Issues the warnings about the configuration (an unknown key, a ``rules`` entry naming
    no rule) and about the session (SSOT004 (a) in warn mode) once, each pointing at the
    line of the configuration file it is about.

    They are issued as collection starts, inside pytest's warning capture, so the warnings
    summary lists them under that file and line; at configure time pytest's means
    (``Config.issue_config_time_warning``) can only point at the code that issues them. A
    warnings filter that makes them errors (``-W error::pytest_ssot.SSOTWarning``) makes
    them one usage error (exit code 4) listing them all: they are about the session as a
    whole, not about a test.
    """

    def __init__(self, due: list[tuple[str, str, int]]) -> None:
        self.due = due  # text, file, line

    @classmethod
    def of(cls, plugin: SSOTPlugin) -> _SessionWarnings:
        ssot = plugin.ssot
        warned = [*ssot.warnings, *unknown_rule_warnings(ssot, plugin.ruleset.infos)]
        text = _config_text(ssot) if warned else ""
        filename = str(ssot.path) if ssot.path else "pytest-ssot"
        due = sorted(  # as the file reads
            ((w.message, filename, key_line(text, ssot.table + w.key)) for w in warned),
            key=lambda each: each[2],
        )
        for f in plugin.data.session_findings:  # SSOT004 (a), found by _check_runner
            text = f"{f.code} {f.message} ({UNIFIED_RUNNER_BYPASS.name})"
            due.append((text, str(plugin.root / f.path) if f.path else filename, f.line))
        return cls(due)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self) -> None:
        errors: list[str] = []
        for text, filename, line in self.due:
            try:
                warnings.warn_explicit(
                    SSOTWarning(text), category=SSOTWarning, filename=filename, lineno=line
                )
            except SSOTWarning:
                errors.append(f"pytest-ssot: {text}")
        if errors:
            raise pytest.UsageError(*errors)


def _config_text(ssot: Config) -> str:
    """The configuration file's text ("" when it cannot be read now), to find lines in."""
    if ssot.path is None:
        return ""
    try:
        return ssot.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _runner_key_location(ssot: Config, root: Path) -> tuple[str, int]:
    """Where ``runner`` is configured, so reports can point at it."""
    if ssot.path is None:
        return "", 0
    return relpath(ssot.path, root), key_line(_config_text(ssot), (*ssot.table, "runner"))


def _config_location(ssot: Config, root: Path, pattern: str) -> tuple[str, int]:
    """The configuration file and the first line matching ``pattern`` there (else line 1)."""
    if ssot.path is None:
        return "", 0
    for number, line in enumerate(_config_text(ssot).splitlines(), start=1):
        if re.match(pattern, line):
            return relpath(ssot.path, root), number
    return relpath(ssot.path, root), 1


# -- SSOT102 and runtime sources: the run-time guards around every test phase ----------------
_STATIC_ENV_NAMES = frozenset({DIRECT_ENVIRON_ACCESS.code, DIRECT_ENVIRON_ACCESS.name})
_SWALLOWED = {
    EnvAccessError: "the EnvAccessError raised for its direct process-environment access",
    SourceAccessError: "the SourceAccessError raised for its call of an API a team-defined "
    "source forbids",
}


class RuntimeGuard:
    """Enters the run-time guards for setup, call and teardown of each checked test and turns
    each site they report into a finding of that test (registered as ``ssot-guard``): the
    environment guard (SSOT102) and the guard of ``[[tool.ssot.sources]]`` with
    ``runtime = true``. Module-, class- and session-scoped fixtures are set up and torn down
    inside some test's setup and teardown, so they are covered; what they do is attributed
    to the test a serial run does it in (the first test using the fixture for its setup, the
    last test in its scope for its teardown), whichever test an xdist worker does it in.
    """

    def __init__(self, plugin: SSOTPlugin) -> None:
        self.plugin = plugin
        ssot = plugin.ssot
        self.environ = ssot.rules.get(RUNTIME_ENVIRON_ACCESS.code) != "off"
        # A source switched off in `rules` costs nothing: its APIs are never intercepted.
        self.sources = {
            s.code: s for s in ssot.sources if s.runtime and ssot.rules.get(s.code) != "off"
        }
        self.guard: EnvGuard | None = None
        self.source_guard: SourceGuard | None = None
        self._item: pytest.Item | None = None  # the test whose phases the guards watch
        # Run-time warnings of the running phase, issued when it ends (see _warn).
        self._pending: list[tuple[str, str, int, str, str | None]] = []
        # While a wider-scoped fixture sets up or tears down: that fixture's FixtureDef, and
        # (fixture name, scope node id, tearing down) to find the test its accesses belong
        # to, only once one happens (see _owner).
        self._owning: object = None
        self._wide: tuple[str, str, bool] = ("", "", False)
        self._owners: dict[tuple[str, str, bool], str | None] = {}
        self._owners_parameters: dict[object, frozenset[str]] = {}  # see _direct_parameters
        self._items_under: dict[str, list[pytest.Item]] | None = None
        self._items: Sequence[pytest.Item] = ()  # the session's, in the order they run
        self.fix = use_instead(ssot.env_modules)
        self._entered: tuple[EnvGuard | SourceGuard, ...] = ()
        self._guards: dict[str, tuple[EnvGuard | SourceGuard, ...]] = {}  # per test file
        self._modes: dict[tuple[str, str], Mode] = {}
        self._propagated: set[int] = set()
        self._suppressions: dict[str, dict[int, frozenset[str]]] = {}
        self._fresh: set[str] = set()  # files whose lines linecache has checked this session
        self._rels: dict[str, str] = {}  # each accessing file, rootdir-relative
        # Policy's decisions on run-time sites, each with the number of findings it was
        # decided among (see _decision).
        self._decisions: dict[tuple[Key, TestRecord], tuple[int, _Decision]] = {}
        # (finding, test) pairs that run-time accesses attributed: not part of the decision
        # made for the whole session before its first test.
        self._attributed_at_run_time: set[tuple[Key, str]] = set()
        self._decided_ignores = 0
        self._ignores_noted = 0
        # Once per site for the whole session: under xdist the first worker to get there wins.
        self._first_time: Callable[[str], bool] = (
            getattr(plugin, "first_time", None) or _FirstTimeHere()
        )
        plugin.config.add_cleanup(self._close)

    def _close(self) -> None:
        if self.guard is not None:
            self.guard.close()
        if self.source_guard is not None:
            self.source_guard.close()

    def _mode(self, code: str, path: str) -> Mode:
        key = (code, path)
        mode = self._modes.get(key)
        if mode is None:
            mode = self._modes[key] = self.plugin.ssot.mode_for(code, path)
        return mode

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not session.items:
            return  # nothing runs here (an xdist controller, --collect-only on nothing)
        self._items = session.items
        root = self.plugin.root
        files: set[Path] = set()
        last_parent: object = None
        for item in session.items:  # a parent's tests share its file: one look per parent
            if isinstance(item, pytest.Function) and item.parent is not last_parent:
                last_parent = item.parent
                files.add(item.path)
        dirs = {path.parent for path in files}
        for module in self.plugin.config.pluginmanager.get_plugins():
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and os.path.basename(file) == "conftest.py":
                dirs.add(Path(file).parent)
        # In the rootdir (and above it) only a directory's own files are test code: a
        # conftest.py at the top must not make the product code below it test code.
        flat = {d for d in dirs if d == root or d in root.parents}
        classifier = Classifier(
            root=str(root),
            trees=tuple(str(d) for d in dirs - flat),
            dirs=tuple(str(d) for d in flat),
            exempt_modules=self.plugin.ssot.env_modules + self.plugin.ssot.mock_modules,
            exclude=self.plugin.ssot.exclude,
        )
        if self.environ:
            self.guard = EnvGuard(classifier, self._verdict)
            # Installed and entered once for the session (patching a type is the costly
            # part), checking nothing until a test phase switches it on (an attribute store,
            # where entering and leaving per phase cost method calls and a lock). _close()
            # leaves and uninstalls it on every path.
            self.guard.install()
            self.guard.checking = False
            self.guard.__enter__()
        paths = {record.path for record in self.plugin.data.tests.values()}
        sources = [
            s for s in self.sources.values() if any(self._mode(s.code, p) != "off" for p in paths)
        ]
        if sources:
            # After collection, so the test modules (and what they import) are loaded; the
            # interceptors keep the identity of what they patch, so names bound earlier work.
            from pytest_ssot.sourceguard import SourceGuard

            self.source_guard = SourceGuard(classifier, sources, self._call_verdict)
            problems: list[Unrecordable] = []
            with self.plugin._shielded("installing the run-time guard of team-defined sources"):
                problems = self.source_guard.install()
                self.source_guard.checking = False
                self.source_guard.__enter__()
            for problem in problems:
                self._warn_unrecordable(problem)

    def _warn_unrecordable(self, problem: Unrecordable) -> None:
        if not self._first_time(f"ssot-unrecordable:{problem.code}:{problem.api}"):
            return
        ssot = self.plugin.ssot
        path, line = _config_location(
            ssot, self.plugin.root, rf'.*["\']{re.escape(problem.api)}["\']'
        )
        try:
            warnings.warn_explicit(
                SSOTWarning(problem.message),
                category=SSOTWarning,
                filename=str(ssot.path) if ssot.path else "pytest-ssot",
                lineno=line,
            )
        except SSOTWarning:
            # -W error::pytest_ssot.SSOTWarning: configuration that cannot be honoured is a
            # usage error, as an unknown configuration key is.
            raise pytest.UsageError(f"pytest-ssot: {problem.message} ({path})") from None

    # -- the phases ----------------------------------------------------------------------------
    def _guards_for(self, item: pytest.Item) -> tuple[EnvGuard | SourceGuard, ...]:
        record = self.plugin.data.tests.get(item.nodeid)
        if record is None:
            return ()
        guards = self._guards.get(record.path)
        if guards is None:
            chosen: list[EnvGuard | SourceGuard] = []
            if (
                self.guard is not None
                and self._mode(RUNTIME_ENVIRON_ACCESS.code, record.path) != "off"
            ):
                chosen.append(self.guard)
            if self.source_guard is not None and any(
                self._mode(s.code, record.path) != "off" for s in self.source_guard.sources
            ):
                chosen.append(self.source_guard)
            guards = self._guards[record.path] = tuple(chosen)
        return guards

    # The three phase wrappers run for every test of the suite, so they are kept to the
    # bare minimum, and alike on purpose: a shared helper or sub-generator would cost a call
    # per phase. Each hides its frame (``__tracebackhide__``), as pytest hides its own: a
    # fixture that fails shows the traceback it shows without this plugin. A wrapper wraps
    # every plain implementation of its phase, whenever it was registered, and ends exactly
    # with the phase: a report made inside a phase (a subtest's) must not end it. The guards
    # are entered once for the session, so a phase only sets their ``checking`` flag, and
    # the running test is told by identity (``item.nodeid`` is a property).
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        guards = self._entered = self._guards_for(item)
        if not guards:
            self._item = None
            return (yield)
        for guard in guards:
            guard.reset()
        if self._propagated:
            self._propagated.clear()
        self._item = item
        for guard in guards:
            guard.checking = True
        failed = False
        try:
            result = yield
        except BaseException as exc:
            failed = True
            self._note_propagated(exc)
            raise
        finally:
            for guard in guards:
                guard.checking = False
            if self._pending:
                self._flush_warnings(raising=not failed)
        return result

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        guards = self._entered
        if not guards or self._item is not item:
            return (yield)
        for guard in guards:
            guard.checking = True
        failed = False
        try:
            result = yield
        except BaseException as exc:
            failed = True
            self._note_propagated(exc)
            raise
        finally:
            for guard in guards:
                guard.checking = False
            if self._pending:
                self._flush_warnings(raising=not failed)
        return result

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        __tracebackhide__ = True
        guards = self._entered
        if not guards or self._item is not item:
            return (yield)
        for guard in guards:
            guard.checking = True
        failed = False
        try:
            result = yield
        except BaseException as exc:
            failed = True
            self._note_propagated(exc)
            raise
        finally:
            for guard in guards:
                guard.checking = False
            self._item = None
            self._entered = ()
            swallowed: list[RuntimeViolationError] = []
            for guard in guards:
                if guard.raised:  # rare: the next setup resets the rest
                    swallowed += (e for e in guard.raised if id(e) not in self._propagated)
                    if isinstance(guard, EnvGuard):  # before its report is made
                        guard.trim_tracebacks()
                    guard.reset()
            if self._pending:  # last: what it raises must find the state above reset
                self._flush_warnings(raising=not failed and not swallowed)
        if swallowed:
            lines = "\n".join(f"  {error}" for error in dict.fromkeys(map(str, swallowed)))
            what = " and ".join(
                text
                for kind, text in _SWALLOWED.items()
                if any(isinstance(e, kind) for e in swallowed)
            )
            self.plugin.fail(
                f"pytest-ssot (strict): test code caught {what}, so the test fails here "
                f"instead:\n{lines}"
            )
        return result

    def trim_tracebacks(self) -> None:
        """Keep the process environment out of the tracebacks of the EnvAccessErrors raised
        in the running phase (see :meth:`EnvGuard.trim_tracebacks`), before pytest
        represents them."""
        if self.guard is not None and self.guard.raised:
            self.guard.trim_tracebacks()

    def _note_propagated(self, exc: BaseException) -> bool:
        """Remember every error of ours that left the phase (chained or grouped counts);
        whether there was one."""
        found = False
        pending: list[BaseException | None] = [exc]
        seen: set[int] = set()
        while pending:
            current = pending.pop()
            if current is None or id(current) in seen:
                continue
            seen.add(id(current))
            if isinstance(current, RuntimeViolationError):
                self._propagated.add(id(current))
                found = True
            pending += [current.__cause__, current.__context__]
            group = getattr(current, "exceptions", None)
            if isinstance(group, (list, tuple)):
                pending += [e for e in group if isinstance(e, BaseException)]
        return found

    # -- fixtures wider than a test -----------------------------------------------------------
    # A session fixture is set up once per xdist worker, in whichever test that worker runs
    # first: attributing its accesses to the running test would make the numbers depend on
    # -n. The serial run's test is known from the collection, which every worker shares.
    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        __tracebackhide__ = True
        if fixturedef.scope == "function" or self._item is None or self._owning is not None:
            return (yield)
        scope = request.node
        self._owning = fixturedef
        self._wide = (fixturedef.argname, scope.nodeid if scope is not None else "", False)
        try:
            result = yield
        finally:
            self._owning = None
        # Runs before the fixture's own teardown (finalizers run last in, first out).
        request.addfinalizer(functools.partial(self._tearing_down, fixturedef, scope))
        return result

    def _tearing_down(
        self, fixturedef: pytest.FixtureDef[Any], scope: pytest.Item | pytest.Collector
    ) -> None:
        if self._owning is None:
            self._owning = fixturedef
            self._wide = (fixturedef.argname, scope.nodeid if scope is not None else "", True)

    def pytest_fixture_post_finalizer(self, fixturedef: object) -> None:
        if self._owning is fixturedef:
            self._owning = None

    def _owner(self) -> str | None:
        """The test the running wide fixture's accesses belong to: the first test using it
        (setting up) or the last test of its scope (tearing down), as a serial run has it."""
        wide = self._wide
        if wide not in self._owners:
            argname, scope, tearing_down = wide
            under = self._under(scope)
            if tearing_down:
                owner = under[-1].nodeid if under else None
            else:
                owner = next(
                    (
                        i.nodeid
                        for i in under
                        if argname in getattr(i, "fixturenames", ())
                        and argname not in _direct_parameters(i, self._owners_parameters)
                    ),
                    None,
                )
            self._owners[wide] = owner
        return self._owners[wide]

    def _under(self, scope: str) -> list[pytest.Item]:
        """The session's tests under the node ``scope`` (node id; "" is the session), in
        the order they run; made once, the first time a wide fixture touches anything."""
        if self._items_under is None:
            under: dict[str, list[pytest.Item]] = {}
            for item in self._items:
                node: pytest.Item | pytest.Collector | None = item
                while node is not None:
                    under.setdefault(node.nodeid, []).append(item)
                    node = _parent(node)
            self._items_under = under
        return self._items_under.get(scope, [])

    # -- one site --------------------------------------------------------------------------------
    def _verdict(self, access: Access) -> str | None:
        """SSOT102: an environment access site of the running test."""
        done = "wrote" if access.action == "write" else "read"
        return self._record(
            code=RUNTIME_ENVIRON_ACCESS.code,
            static_code=DIRECT_ENVIRON_ACCESS.code,
            filename=access.filename,
            line=access.line,
            qualname=access.qualname,
            message=(
                f"test code {done} the process environment at run time ({access.what}); {self.fix}"
            ),
            fix=self.fix,
            error="EnvAccessError",
        )

    def _call_verdict(self, call: Call) -> str | None:
        """A ``runtime = true`` source: a call site of a forbidden API in the running test."""
        use = f"use {self.sources[call.code].use}"
        return self._record(
            code=call.code,
            static_code=call.code,
            filename=call.filename,
            line=call.line,
            qualname=call.qualname,
            message=f"test code called {call.api}() at run time; {use}",
            fix=use,
            error="SourceAccessError",
        )

    def _record(
        self,
        *,
        code: str,
        static_code: str,
        filename: str,
        line: int,
        qualname: str,
        message: str,
        fix: str,
        error: str,
    ) -> str | None:
        """Record one run-time site for the running test: the same violation as the static
        ``static_code`` finding on that line if there is one, else a ``code`` finding of its
        own. Returns the fix to raise ``error`` with (strict), or None."""
        plugin = self.plugin
        nodeid = self._item.nodeid if self._item is not None else None
        if self._owning is not None and nodeid is not None:
            nodeid = self._owner() or nodeid
        record = plugin.data.tests.get(nodeid) if nodeid else None
        if nodeid is None or record is None or self._mode(code, record.path) == "off":
            return None
        rel = self._rels.get(filename)
        if rel is None:
            rel = self._rels[filename] = relpath(filename, plugin.root)
        data = plugin.data
        sites = plugin.static_sites()
        key = sites.key_at(static_code, rel, line)
        if (
            key is not None
            and (key, nodeid) not in self._attributed_at_run_time
            and not plugin._hooked()
            and data.affects(key, nodeid)
        ):
            # The static finding on this line was attributed to this test when it was
            # collected, so decided for the whole session before the first test and warned
            # about then: only whether it fails this test is left (a failing one normally
            # stops the test in its setup).
            failing = plugin._failing.get(nodeid, ())
            return fix if any(o.finding.key == key for o in failing) else None
        finding = None if key is None else sites.finding(key)
        if finding is None:
            self._note_suppression(code, filename, rel, line)
            finding = Finding(
                code=code,
                path=rel,
                line=line,
                col=1,
                message=message,
                scope=Scope(qualname=tuple(qualname.split(".")) if qualname else ()),
                source="runtime",
                snippet=normalise_snippet(self._source_line(filename, line)),
                end_line=line,
            )
        # A site the test already answers for (its own line reported statically, or a site
        # hit before) adds nothing: no new data for policy or for an xdist worker to send.
        key = finding.key
        if not data.affects(key, nodeid):
            data.add(finding, [nodeid])
            self._attributed_at_run_time.add((key, nodeid))
        outcome, fails = self._decision(finding, nodeid, record)
        if outcome is None or outcome.status != "new":
            return None
        if fails:
            self._warn(outcome, filename, line, f"; pytest-ssot raises {error} here (strict)")
            return fix
        if (finding.source == "runtime" or sites.unattributed(key)) and self._mode(
            outcome.finding.code, record.path
        ) == "warn":
            self._warn(outcome, filename, line, "", once=f"{code}:{rel}:{line}")
        return None

    def _source_line(self, filename: str, line: int) -> str:
        """The line as it is on disk now: the snippet anchors the baseline fingerprint, and a
        process that ran an earlier session (pytester, a watcher) may have cached an older
        version of the file."""
        if filename not in self._fresh:
            self._fresh.add(filename)
            linecache.checkcache(filename)
        return linecache.getline(filename, line)

    def _warn(
        self, outcome: Outcome, filename: str, line: int, suffix: str, *, once: str | None = None
    ) -> None:
        """Issue a warning about a site when the phase ends, not at the access: a warnings
        filter that makes it an error would otherwise raise inside the test's own code,
        halfway through what it was doing (restoring a variable it had set), and change how
        the test behaves. With ``once`` it is shown once per session for that key."""
        f = outcome.finding
        text = f"{f.code} {f.message} ({outcome.name}){suffix}"
        self._pending.append((text, filename, line, f.path, once))

    def _flush_warnings(self, *, raising: bool) -> None:
        pending, self._pending = self._pending, []
        for text, filename, line, shown, once in pending:
            # Shown once, but an error in every test that reaches the site: which test gets
            # there first depends on the order tests run in (and under xdist on timing),
            # while which tests reach it does not, so serial and distributed runs fail the
            # same tests. Asked first, so that an error does not use up the one showing.
            if (
                once is not None
                and not _raised_by_filters(text, filename, line)
                and not self._first_time(once)
            ):
                continue
            _issue_warning(text, filename, line, shown, raising=raising)

    def _note_suppression(self, code: str, filename: str, rel: str, line: int) -> None:
        """Make the inline ignore on a line hit at run time visible to policy for ``code``.

        A helper module is never scanned statically: read it now, and hand policy only the
        line that was hit, so its untouched lines are not reported as unused ignores. An
        ignore of SSOT002 (direct-environ-access) covers the run-time SSOT102 access from its
        line too: it is the same access, seen at run time.
        """
        data = self.plugin.data
        if Path(filename) in self.plugin._facts:
            codes = data.suppressions.get(rel, {}).get(line)
        else:
            if rel not in self._suppressions:
                facts, _ = check_file(Path(filename), rel, self.plugin.ruleset, self.plugin.cache)
                self._suppressions[rel] = facts.suppressions
            codes = self._suppressions[rel].get(line)
        if codes is None:
            return
        if (
            code == RUNTIME_ENVIRON_ACCESS.code
            and codes
            and code not in codes
            and codes & _STATIC_ENV_NAMES
        ):
            codes = codes | {code}
        lines = data.suppressions.get(rel, {})
        if lines.get(line) != codes:  # noted already at an earlier hit: decisions still hold
            data.suppressions[rel] = {**lines, line: codes}
            self._ignores_noted += 1

    def _decision(self, finding: Finding, nodeid: str, record: TestRecord) -> _Decision:
        """Policy's outcome for ``finding`` in test ``nodeid`` and whether it fails the test.

        Both are the same for every test with the same record (file and exemptions) until the
        inline ignores change or, with a baseline, the findings of the finding's file do
        (fingerprints number identical findings of a file). Most hits are each test's own
        statically reported line: deciding each afresh cost a suite with thousands of such
        tests seconds, and so did forgetting every decision whenever a run-time access added
        a finding anywhere.
        """
        plugin = self.plugin
        if self._ignores_noted != self._decided_ignores or len(self._decisions) > _DECISIONS_HELD:
            self._decisions.clear()
            self._decided_ignores = self._ignores_noted
        store = plugin.data.findings
        if plugin._hooked():
            findings = len(store)  # a verdict may move the finding to any file
        else:
            findings = store.count_in(finding.path) if plugin.known else 0
        held = self._decisions.get((finding.key, record))
        if held is not None and held[0] == findings:
            return held[1]
        outcome = self._outcome(finding, nodeid)
        decision = (outcome, outcome is not None and nodeid in outcome.failing)
        self._decisions[finding.key, record] = (findings, decision)
        return decision

    def _outcome(self, finding: Finding, nodeid: str) -> Outcome | None:
        """Policy's decision for this one finding and test: run it on the finding, the other
        findings of its file (fingerprints count occurrences) and the file's inline ignores."""
        plugin = self.plugin
        hook = plugin.config.hook.pytest_ssot_violation
        decided = finding
        if plugin._hooked():
            if finding.key not in plugin._verdicts:
                answer = hook(finding=finding, config=plugin.config)
                plugin._verdicts[finding.key] = (
                    finding if answer is None or answer is True else answer
                )
            verdict = plugin._verdicts[finding.key]
            if not isinstance(verdict, Finding):
                return None
            decided = verdict
        view = SessionData(tests={nodeid: plugin.data.tests[nodeid]})
        if plugin.known:
            # Only a baseline makes the file's other findings matter: fingerprints number
            # identical findings, and the number decides whether this one is baselined.
            store = plugin.data.findings
            for row in store.rows_in(decided.path):
                if store.key(row) not in (finding.key, decided.key):
                    view.findings.add(store.finding(row), ())
        view.add(decided, [nodeid])
        view.suppressions[decided.path] = dict(plugin.data.suppressions.get(decided.path, {}))
        # Only the entries this view's findings can match: evaluate walks and sorts all it is
        # given (to list stale ones), and a whole baseline walked once per hit made a run with
        # a few thousand entries 1.4x as long.
        known: dict[str, dict[str, Any]] = {}
        if plugin.known:
            for fingerprint in baseline_fingerprints(view.findings.values()):
                if fingerprint in plugin.known:
                    known[fingerprint] = plugin.known[fingerprint]
        result = evaluate(view, plugin.ssot, plugin.ruleset.infos, known=known)
        return next((o for o in result.outcomes if o.finding.key == decided.key), None)


_SCANNED = FileFacts(path="")  # what a scanned file's facts come down to after collection


class _FailedAsReported:
    """Makes a test's report fail it for what strict mode enforced, as it was raised.

    - No xfail marker hides a strict-mode failure: pytest's own wrapper (inside this one)
      turns any failure of an xfail test into an xfail, ``strict=True`` and ``raises=`` too,
      and a test marked xfail for an unrelated bug would keep bypassing the SSOT
      infrastructure unseen. The report of a phase that failed for pytest-ssot (its own
      error, one chained to the failure, or its setup or teardown rejection) is failed again.
    - Before the report is made, it keeps the process environment out of the tracebacks of
      the run-time guard's errors (see :meth:`RuntimeGuard.trim_tracebacks`).
    - It tells the run-time guard which of its errors the report already fails the test
      with. A ``unittest.TestCase`` test records its exception in its result instead of
      letting it propagate, so without this an EnvAccessError it did not catch looked
      swallowed and was reported a second time at teardown.

    Registered only where strict mode can apply: a warn-mode session fails nothing, and pays
    no hook call per test phase for it.
    """

    def __init__(self, plugin: SSOTPlugin, guard: RuntimeGuard | None) -> None:
        self.plugin = plugin
        self.guard = guard

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        if self.guard is not None:
            self.guard.trim_tracebacks()
        report = yield
        if call.excinfo is not None:
            error = call.excinfo.value
            ours = self.guard is not None and self.guard._note_propagated(error)
            if hasattr(report, "wasxfail") and (
                ours or (isinstance(error, pytest.fail.Exception) and error in self.plugin.enforced)
            ):
                report.outcome = "failed"
                del report.wasxfail
        return report


class _FirstTimeHere:
    """Yes once per key, in this process (when the xdist glue offers nothing better)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def _ruleset(config: pytest.Config, ssot_config: Config) -> RuleSet:
    try:
        contributed = config.hook.pytest_ssot_rules(config=config, ssot_config=ssot_config)
        rules = [rule for batch in reversed(contributed) for rule in batch]
    except Exception as exc:
        raise pytest.UsageError(
            f"pytest-ssot: a pytest_ssot_rules hook failed ({_failure(exc)}); fix the plugin or "
            "conftest.py that implements it"
        ) from None
    for rule in rules:
        _check_rule(rule)
    # An exemption or an inline ignore names a rule by its code or its name: one each.
    claims: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        for kind, word in (("code", rule.info.code), ("name", rule.info.name)):
            other = claims.setdefault((kind, word), rule)
            if other is not rule:
                raise pytest.UsageError(
                    f"two pytest-ssot rules claim the {kind} {word} ({other.info.code} "
                    f"{other.info.name} and {rule.info.code} {rule.info.name}); give the "
                    f"plugin's rule another {kind}"
                )
    return RuleSet(tuple(rules))


def _check_rule(rule: object) -> None:
    """A contributed rule has the shape the rule set relies on, or the session stops with a
    usage error naming it (checked once here, so a malformed rule never fails later)."""
    what = f"{type(rule).__module__}.{type(rule).__qualname__}"
    problem: str | None = None
    try:
        info = rule.info  # type: ignore[attr-defined]
        watched = rule.watched  # type: ignore[attr-defined]
        if not isinstance(info, RuleInfo):
            problem = f"its info is {type(info).__name__}, not a pytest_ssot.model.RuleInfo"
        elif not isinstance(watched, (tuple, list)) or not all(isinstance(w, str) for w in watched):
            problem = f"its watched is {watched!r:.60}, not a tuple of dotted names"
        elif not callable(getattr(rule, "check", None)):
            problem = "it has no check(facts) method"
    except Exception as exc:
        problem = f"reading it raised {_failure(exc)}"
    if problem is not None:
        raise pytest.UsageError(
            f"pytest-ssot: the rule {what} from a pytest_ssot_rules hook is malformed: {problem}; "
            "a rule needs info (a RuleInfo), watched (a tuple of dotted names) and check(facts)"
        )


def _failure(exc: BaseException) -> str:
    """An exception in one line, with where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}{where}"


def _line(item: pytest.Item) -> int:
    """1-based line of an item's definition, as pytest's ``item.location`` gives it (0-based,
    maybe unknown); read from the function's code when that is plain, since computing the
    location costs a ``stat()`` per test, which adds up over thousands of them."""
    obj = getattr(item, "obj", None)
    if obj is not None and not hasattr(obj, "place_as"):
        first = getattr(obj, "compat_co_firstlineno", None)
        if isinstance(first, int):
            return first + 1
        with contextlib.suppress(ValueError):  # a cycle of __wrapped__
            function = inspect.unwrap(obj)
            code = getattr(function, "__code__", None)
            if code is not None and _defined_in(function) == str(item.path):
                return int(code.co_firstlineno)
    return (item.location[1] or 0) + 1


def _parent(node: pytest.Item | pytest.Collector) -> pytest.Collector | None:
    # pytest 9.0 types `parent` as its non-public Node, 9.2 as a collector; every parent is a
    # collector at run time, and the check satisfies mypy under both.
    parent = node.parent
    return parent if isinstance(parent, pytest.Collector) else None


def _test_class(item: pytest.Function) -> type | None:
    """``item.cls`` without its walk up to the session for every test function (a test's
    parent is its class or its module for nearly every test)."""
    parent = item.parent
    if isinstance(parent, pytest.Class):
        return parent.obj  # type: ignore[no-any-return]
    if isinstance(parent, pytest.Module):
        return None
    return item.cls  # type: ignore[no-any-return]


_NO_NAMES: frozenset[str] = frozenset()


def _direct_parameters(item: pytest.Item, memo: dict[object, frozenset[str]]) -> frozenset[str]:
    """The names ``item``'s ``parametrize`` marks (its function's, class's and module's)
    give their values directly: pytest runs no fixture of those names for it, though they
    are in its ``fixturenames``. Once per parametrized function (``memo``): its tests share
    its marks."""
    if getattr(item, "callspec", None) is None:
        return _NO_NAMES  # not parametrized: nearly every test
    key = (item.parent, getattr(item, "originalname", item.name))
    names = memo.get(key)
    if names is None:
        found: set[str] = set()
        for mark in item.iter_markers(name="parametrize"):
            argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames")
            found |= direct_parameters(argnames, mark.kwargs.get("indirect", False))
        names = memo[key] = frozenset(found) if found else _NO_NAMES
    return names


def _cache_dir(config: pytest.Config) -> Path | None:
    """pytest's own cache directory, so ``--cache-clear`` and ``-p no:cacheprovider`` apply."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    try:
        return Path(cache.mkdir("ssot-scan"))
    except OSError:
        return None


def _defined_in(obj: Any) -> str | None:
    """The file a class or function was defined in (None for builtins and the like), named
    as a normalised path string: attribution compares tens of thousands of them, and strings
    compare much faster than Path objects."""
    code = getattr(obj, "__code__", None)
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        file = None
    if code is not None:
        return _code_file(code.co_filename, file)
    return _normalised(file) if file else None


@functools.lru_cache(maxsize=8192)
def _code_file(co_filename: str, module_file: str | None) -> str:
    """Where code runs from. pytest's assertion rewriting loads its bytecode cache without
    the fix-up the import system applies, so in a checkout moved with its ``__pycache__`` (a
    CI cache restored elsewhere) ``co_filename`` still names the old location: the module's
    own file then tells where that same file is now."""
    if (
        module_file is not None
        and co_filename != module_file
        and os.path.basename(co_filename) == os.path.basename(module_file)
        and not os.path.exists(co_filename)
    ):
        return _normalised(module_file)
    return _normalised(co_filename)


@functools.lru_cache(maxsize=8192)
def _as_path(filename: str) -> Path:
    # The tests of thousands of classes share a few thousand modules: one Path (and its
    # cached hash) per module file.
    return Path(filename)


@functools.lru_cache(maxsize=8192)
def _normalised(filename: str) -> str:
    # As pytest names an item's path (str(item.path)), so the two compare equal as strings.
    return str(Path(filename))


class _Origins:
    """Where the code that runs for one collected test is defined (an
    :class:`~pytest_ssot.attribution.Origins`), one per test while attributing."""

    __slots__ = ("classes", "file", "fixturenames", "function", "nodeid")

    def __init__(
        self,
        nodeid: str,
        file: str,
        fixturenames: Sequence[str],
        classes: tuple[tuple[str | None, tuple[str, ...]], ...],
        function: tuple[str, tuple[str, ...]],
    ) -> None:
        self.nodeid = nodeid
        self.file = file  # the test module it was collected from
        # pytest's own list (a handful of names), not copied unless a parametrize mark gives
        # some of its names directly.
        self.fixturenames = fixturenames
        self.classes = classes  # its class and every base
        self.function = function  # the test function itself

    @classmethod
    def of(cls, item: pytest.Function, memo: dict[Any, Any] | None = None) -> _Origins:
        """``memo`` (one per collection) keeps what tests share: the origins of each class's
        MRO, and those of the last test function (a parametrized one's tests follow each
        other), computed once instead of once per test."""
        memo = {} if memo is None else memo
        # The tests of one class or module follow each other and share its file and classes.
        parent = item.parent
        last_parent = memo.get("parent")
        if last_parent is not None and last_parent[0] is parent:
            here, classes = last_parent[1], last_parent[2]
        else:
            here = str(item.path)
            classes = cls._classes(item, here, memo)
            memo["parent"] = parent, here, classes
        function: Any = getattr(item, "function", None)
        collected = function
        # The tests of a parametrized function are collected one after another: remember the
        # last plain function only (kept alive by the entry, like classes), not one per test.
        plain = isinstance(function, FunctionType)
        last = memo.get("function")
        origin = None
        if plain and last is not None and last[0] is function and last[1] is here:
            origin = last[2]
        if origin is None:
            if hasattr(function, "__wrapped__"):  # rare: not worth inspect.unwrap's set-up
                with contextlib.suppress(ValueError):  # a cycle of __wrapped__
                    function = inspect.unwrap(function)
            if function is not None and hasattr(function, "__qualname__"):
                where = _defined_in(function) or here
                # Interned: the names are the compiler's own identifiers, not copies per test.
                origin = (where, tuple(map(sys.intern, function.__qualname__.split("."))))
                if plain:
                    memo["function"] = collected, here, origin
            else:
                qualname = (*classes[0][1], item.originalname) if classes else (item.originalname,)
                origin = (here, qualname)
        fixturenames: Sequence[str] = item.fixturenames
        if getattr(item, "callspec", None) is not None:
            # The names a parametrize mark gives directly run no fixture: left out, in one
            # list per parametrized function (its tests share pytest's list and follow each
            # other), kept alive here as the last function is.
            last = memo.get("fixturenames")
            if last is not None and last[0] is fixturenames:
                fixturenames = last[1]
            else:
                direct = _direct_parameters(item, {})
                run = [n for n in fixturenames if n not in direct] if direct else fixturenames
                memo["fixturenames"] = (fixturenames, run)
                fixturenames = run
        return cls(item.nodeid, here, fixturenames, classes, origin)

    @staticmethod
    def _classes(
        item: pytest.Function, here: str, memo: dict[Any, Any]
    ) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """Where the test's class (collected from ``here``) and each of its bases are
        defined, once per class."""
        test_class = _test_class(item)
        if test_class is None:
            return ()
        # By id (a metaclass may make classes unhashable); the entry keeps the class alive.
        key = ("class", id(test_class), here)
        if key not in memo:
            memo[key] = (
                test_class,
                tuple(
                    (
                        _defined_in(klass) or (here if klass is test_class else None),
                        tuple(klass.__qualname__.split(".")),
                    )
                    for klass in test_class.__mro__[:-1]  # not object
                ),
            )
        classes: tuple[tuple[str | None, tuple[str, ...]], ...] = memo[key][1]
        return classes


def _related(by_file: dict[Path, list[pytest.Function]]) -> dict[Path, list[_Origins]]:
    """Per collected test module, the tests its code runs for (see
    :func:`pytest_ssot.attribution.related`)."""
    memo: dict[Any, Any] = {}
    origins = {
        str(path): [_Origins.of(item, memo) for item in items] for path, items in by_file.items()
    }
    found = attribution.related(origins)
    return {path: found[str(path)] for path in by_file}
