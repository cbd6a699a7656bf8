"""The ``ssot`` command line: static checks without running tests, baseline, init, rules, run.

``ssot check`` composes the same stages as the plugin (config, scanner, rules, policy,
reporting) and never imports pytest or the code under test: test files and tests are found the
way pytest would (:mod:`pytest_ssot.discovery`), SSOT001 is decided by resolving base classes
through the project's own source (:mod:`pytest_ssot.resolver`), and findings are attributed to
tests exactly as the plugin attributes them, so both report the same statically decidable
violations with the same fingerprints (a baseline written by one is read by the other).

Scans run in worker processes (``--jobs``) and are cached by content in pytest's cache
directory (``.pytest_cache/d/ssot-scan``, so ``pytest --cache-clear`` clears it too).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import datetime
import functools
import gc
import hashlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

from pytest_ssot import attribution, gcpause, heap, reporting
from pytest_ssot import baseline as baseline_file
from pytest_ssot import resolver as resolver_module
from pytest_ssot._version import __version__ as VERSION
from pytest_ssot.cache import ScanCache
from pytest_ssot.config import (
    DEFAULT_TIER,
    Config,
    check_required_version,
    find_pyproject,
    load,
    own_rule_code,
    parse,
    parse_until,
    tools,
    unknown_rule_warnings,
)
from pytest_ssot.discovery import (
    Closure,
    DiscoveryError,
    Fixtures,
    ModuleCollector,
    PytestSettings,
    StaticTest,
    UnresolvedClass,
    conftests_for,
    default_paths,
    find_test_files,
    fixtures_of,
    load_pytest_settings,
    relpath,
    resolve_goals,
    resolved,
)
from pytest_ssot.errors import ConfigError, os_reason
from pytest_ssot.model import MODES, Exemption, Finding, RuleInfo, Scope, UncheckedFile
from pytest_ssot.paths import glob_match, module_name
from pytest_ssot.policy import (
    RecordPool,
    Result,
    SessionData,
    TestRecord,
    evaluate,
    record_for,
    unattributed_fingerprints,
    without_runtime_ignores,
)
from pytest_ssot.processes import pool_context
from pytest_ssot.reporting import jsonreport
from pytest_ssot.reporting.terminal import summary_lines
from pytest_ssot.resolver import ClassRef, External, ModuleIndex, ModuleRef, Resolver, Verdict
from pytest_ssot.rules import (
    NON_SSOT_TEST_CLASS,
    RuleSet,
    builtin_rules,
    check_file,
    function_test_message,
    runtime_rule_names,
)
from pytest_ssot.scanner import ENV_TARGETS, MOCK_MODULES, SCANNER_VERSION, FileFacts

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "sarif", "github")
CACHE_NAME = "ssot-scan"
RUN_CACHE_NAME = "ssot-runs"
# Formats whose output depends on nothing but the inputs (SARIF carries the time of the run).
RUN_CACHE_FORMATS = ("text", "json", "github")
RUNNER_ENV = "PYTEST_SSOT_RUNNER"
# Below this many files, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 64
PROGRESS_MIN_FILES = 200


class Writer(Protocol):
    """Where output goes: a terminal stream, or a tee into the run cache."""

    def write(self, text: str, /) -> int: ...


class UsageError(Exception):
    """A command-line problem: printed as one line, exit code 2."""


# -- project -------------------------------------------------------------------------------------
@dataclasses.dataclass
class Project:
    """The pytest settings and the [tool.ssot] configuration of the suite being checked."""

    cwd: Path
    settings: PytestSettings
    config: Config

    @property
    def root(self) -> Path:
        return self.settings.rootdir


def _has_own_table(pyproject: Path) -> bool:
    """Whether ``pyproject`` is a readable pyproject.toml with a ``[tool.ssot]`` table."""
    try:
        return pyproject.is_file() and "ssot" in tools(pyproject)
    except ConfigError:
        return False  # not read as a configuration here: pytest reports it there


def load_project(
    args: argparse.Namespace, paths: Sequence[Path] = (), *, err: TextIO = sys.stderr
) -> Project:
    cwd = Path.cwd().resolve()
    settings = load_pytest_settings(cwd, paths)
    config_file = getattr(args, "config", None)
    if config_file:
        config = load(rootdir=settings.rootdir, config_file=Path(config_file))
    else:
        pyproject = find_pyproject(cwd)
        root = pyproject.parent if pyproject is not None else settings.rootdir
        other = settings.rootdir / "pyproject.toml"
        if pyproject is not None and other != pyproject and _has_own_table(other):
            # The paths are another project's, with its own [tool.ssot]: checking them with
            # this one's would mix two projects (and write their entries to this baseline).
            raise UsageError(
                f"the paths given belong to the project at {settings.rootdir}, whose "
                f"pyproject.toml has its own [tool.ssot], not {pyproject}; run ssot there "
                "(or pass --config)"
            )
        config = load(rootdir=root)
    config = config.with_overrides(
        mode=getattr(args, "mode", None),
        baseline=resolved(Path(args.baseline)) if getattr(args, "baseline", None) else None,
        fail_under=getattr(args, "fail_under", None),
    )
    check_required_version(config, VERSION)
    known = RuleSet(tuple(builtin_rules(config))).infos
    warned = [*config.warnings, *unknown_rule_warnings(config, known, plugin_rules_known=False)]
    for warning in warned:
        print(f"ssot: warning: {warning}", file=err)
    return Project(cwd=cwd, settings=settings, config=config)


# -- scanning ------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Module:
    """What one scanned file yields, computed in the process that scanned it."""

    path: str
    error: str | None
    suppressions: dict[int, frozenset[str]]
    findings: list[Finding]
    tests: list[StaticTest] = dataclasses.field(default_factory=list)
    records: list[tuple[str, TestRecord]] = dataclasses.field(default_factory=list)
    invalid: dict[str, str] = dataclasses.field(default_factory=dict)
    unresolved: list[UnresolvedClass] = dataclasses.field(default_factory=list)
    ssot001: list[tuple[Finding, list[str]]] = dataclasses.field(default_factory=list)


class _Context:
    """One process's share of a check: it scans files and, for the test modules among them,
    collects their tests and decides SSOT001 with its own resolver. Resolution depends only on
    file contents, so every process reaches the answers a single one would."""

    def __init__(
        self,
        ruleset: RuleSet,
        cache_dir: Path | None,
        settings: PytestSettings,
        config: Config,
        roots: list[Path],
    ) -> None:
        self.ruleset = ruleset
        self.cache = (
            ScanCache(cache_dir, ruleset.cache_salt(full=True)) if cache_dir is not None else None
        )
        self.settings = settings
        self.config = config
        self.root = settings.rootdir
        self.facts: dict[Path, FileFacts] = {}
        self.index = ModuleIndex(roots)
        self.resolver = Resolver(
            self.index, self._facts_for, functools.partial(module_name, packages={})
        )
        self.chains = _ConftestChains(self.root)
        self._interned: dict[Closure, Closure] = {}
        self._barren: set[tuple[ClassRef, str]] = set()
        self._fixtures: dict[Path, Fixtures] = {}
        self._goals: list[ClassRef | External] | None = None
        self._verdicts: dict[ClassRef, tuple[Verdict, int, str]] = {}

    def scan(self, path: Path) -> tuple[FileFacts, list[Finding]]:
        facts, findings = check_file(
            path, relpath(path, self.root), self.ruleset, self.cache, full=True
        )
        # What the check needs besides the findings: less to keep, and to send back.
        slim = FileFacts(
            path=facts.path,
            error=facts.error,
            suppressions=facts.suppressions,
            structure=facts.structure,
        )
        self.facts[path] = slim
        return slim, findings

    def _facts_for(self, path: Path) -> FileFacts | None:
        if path not in self.facts:
            if not path.is_file():
                return None
            self.scan(path)
        return self.facts[path]

    def goals(self) -> list[ClassRef | External]:
        """The configured base classes as definitions (ConfigError when one is not found)."""
        if self._goals is None:
            goals, problems = resolve_goals(self.resolver, self.config.base_classes)
            if problems:
                where = self.config.path or "[tool.ssot]"
                raise ConfigError([f"{where}: {problem}" for problem in problems])
            self._goals = goals
        return self._goals

    def analyse_many(
        self, files: Sequence[tuple[Path, bool]], progress: Progress | None = None
    ) -> list[_Module]:
        """Scan every file, then analyse: parsing leaves large short-lived trees behind, and
        keeping them apart from the long-lived test records keeps memory compact."""
        scanned = []
        for path, _ in files:
            scanned.append(self.scan(path))
            if progress is not None:
                progress.advance(1)
        return [
            self.analyse(path, is_test, facts, findings)
            for (path, is_test), (facts, findings) in zip(files, scanned, strict=True)
        ]

    def analyse(
        self, path: Path, is_test: bool, facts: FileFacts, findings: list[Finding]
    ) -> _Module:
        module = _Module(str(path), facts.error, facts.suppressions, findings)
        if not is_test or facts.error is not None or facts.structure is None:
            return module
        outer = Fixtures()
        for conftest in self.chains.get(path.parent):
            if conftest not in self._fixtures:
                found = self._facts_for(conftest)
                self._fixtures[conftest] = fixtures_of(
                    found.structure if found else None, origin=str(conftest)
                )
            outer.extend(self._fixtures[conftest])
        collector = ModuleCollector(
            self.settings,
            self.resolver,
            path,
            facts.structure,
            outer,
            self._interned,
            self._barren,
        )
        module.tests, module.unresolved = collector.collect()
        if collector.refused:
            # pytest stops there with a collection error: those tests never run.
            module.error = f"pytest fails to collect {'; '.join(collector.refused)}"
        rel = relpath(path, self.root)
        pool: RecordPool = {}
        for test in module.tests:
            exemptions = tuple(_exemptions(test, module.invalid, self._rule_codes))
            module.records.append((test.nodeid, record_for(pool, rel, exemptions)))
        if self.config.base_classes and module.tests:
            self._ssot001(module)
        return module

    @functools.cached_property
    def _rule_codes(self) -> frozenset[str]:
        return frozenset(self.ruleset.infos)

    def _ssot001(self, module: _Module) -> None:
        """SSOT001 on static facts; a class whose ancestry cannot be resolved is reported as
        unresolved instead of being guessed either way."""
        goals = self.goals()
        names = " or ".join(e.rpartition(":")[2] for e in self.config.base_classes)
        for test in module.tests:
            if test.cls is None:
                if self.config.allow_function_tests:
                    continue
                finding = Finding(
                    code=NON_SSOT_TEST_CLASS.code,
                    path=test.path,
                    line=test.line,
                    col=1,
                    message=function_test_message(names),
                    scope=Scope(qualname=(test.name,)),
                    snippet=f"def {test.name}",
                )
                module.ssot001.append((finding, [test.nodeid]))
                continue
            if test.cls not in self._verdicts:
                detail = self.resolver.detail(test.cls)
                self._verdicts[test.cls] = (
                    self.resolver.derives_from(test.cls, goals),
                    detail.line if detail is not None else test.line,
                    relpath(test.cls.path, self.root),
                )
            verdict, line, class_path = self._verdicts[test.cls]
            if verdict.value is None:
                module.unresolved.append(
                    UnresolvedClass(class_path, line, test.cls.qualname, verdict.reason)
                )
                continue
            if verdict.value:
                continue
            if os.path.isabs(class_path):
                # An installed package's class that a test module imports (and pytest
                # collects there): placed where the module imports it, as the plugin does, so
                # that its fingerprint is the same on every machine.
                class_path, line = test.path, self._import_line(test)
            qualname = test.cls.qualname
            finding = Finding(
                code=NON_SSOT_TEST_CLASS.code,
                path=class_path,
                line=line,
                col=1,
                message=(
                    f"test class {qualname} does not inherit from an SSOT base class; "
                    f"derive it from {names}"
                ),
                scope=Scope(qualname=tuple(qualname.split(".")), classes=1),
                snippet=f"class {qualname}",
            )
            module.ssot001.append((finding, [test.nodeid]))

    def _import_line(self, test: StaticTest) -> int:
        """The line where the test's module binds the name its class is collected under."""
        structure = self.resolver.structure(Path(test.file))
        return structure.line_of(test.nodeid.split("::")[1]) if structure is not None else 1

    def lookups(self) -> _Lookups:
        """What this process read or looked for besides the files it was given."""
        return _Lookups(
            files=set(self.facts),
            modules={
                name: (str(path) if path else None, found)
                for name, (path, found) in self.index.lookups().items()
            },
            installed=self.resolver.installed_tops(),
            outside={
                name: (str(path) if path else None, found)
                for name, (path, found) in self.resolver.installed_lookups().items()
            },
        )


@dataclasses.dataclass
class _Lookups:
    files: set[Path] = dataclasses.field(default_factory=set)
    modules: dict[str, tuple[str | None, bool]] = dataclasses.field(default_factory=dict)
    installed: dict[str, bool] = dataclasses.field(default_factory=dict)
    # Modules looked for among installed packages' sources (their classes' bases).
    outside: dict[str, tuple[str | None, bool]] = dataclasses.field(default_factory=dict)

    def update(self, other: _Lookups) -> None:
        self.files |= other.files
        self.modules.update(other.modules)
        self.installed.update(other.installed)
        self.outside.update(other.outside)


_WORKER: _Context | None = None


def _init_worker(
    ruleset: RuleSet,
    cache_dir: str | None,
    settings: PytestSettings,
    config: Config,
    roots: list[Path],
) -> None:
    global _WORKER
    gc.disable()  # see _no_cyclic_gc
    heap.retain()  # a worker only scans: keep the heap between files (see pytest_ssot.heap)
    _WORKER = _Context(ruleset, Path(cache_dir) if cache_dir else None, settings, config, roots)


def _analyse_batch(batch: list[tuple[str, bool]]) -> tuple[list[_Module], _Lookups]:
    assert _WORKER is not None
    modules = _WORKER.analyse_many([(Path(path), is_test) for path, is_test in batch])
    return modules, _WORKER.lookups()


class Progress:
    """A one-line progress bar on a terminal; nothing otherwise."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.enabled = enabled and total >= PROGRESS_MIN_FILES
        self._drawn = 0.0

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self._drawn > 0.1 or self.done >= self.total):
            self._drawn = now
            width = 30
            filled = width * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\rssot: scanning [{bar}] {self.done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def analyse_files(
    files: Sequence[tuple[Path, bool]],
    context: _Context,
    cache_dir: Path | None,
    jobs: int,
    progress: Progress,
) -> tuple[list[_Module], _Lookups]:
    """Scan ``files`` (path, is a test module) and analyse the test modules, in ``jobs``
    processes; the results come back in the order of ``files``."""
    if jobs <= 1 or len(files) < MIN_FILES_FOR_POOL:
        return context.analyse_many(files, progress), context.lookups()
    work = [(str(path), is_test) for path, is_test in files]
    size = max(8, min(128, len(work) // (jobs * 8) or 1))
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    done: dict[int, list[_Module]] = {}
    lookups = _Lookups()
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=pool_context(),
        initializer=_init_worker,
        initargs=(
            context.ruleset,
            str(cache_dir) if cache_dir else None,
            context.settings,
            context.config,
            context.index.roots,
        ),
    ) as pool:
        futures = {pool.submit(_analyse_batch, batch): i for i, batch in enumerate(batches)}
        for future in concurrent.futures.as_completed(futures):
            modules, seen = future.result()
            done[futures[future]] = modules
            lookups.update(seen)
            progress.advance(len(modules))
    return [m for i in range(len(batches)) for m in done[i]], lookups


class RunCache:
    """The output of a whole check, keyed by everything it depends on, so that a check of
    an unchanged suite only reads and hashes its files.

    The key covers the content of every test module and conftest, the configuration, the
    pytest settings, the options, the baseline and the date (exemptions expire). An entry
    also lists what the check read or looked for besides them: project modules it followed
    for base classes (with their content) and each module-index lookup (with its answer).
    All of it is checked again before an entry is used, so an entry can only ever replay
    the output the check would print now.
    """

    KEEP = 8  # entries kept (each holds a whole report)

    def __init__(
        self, directory: Path, project: Project, files: Plan, args: argparse.Namespace
    ) -> None:
        self.directory = directory
        self.project = project
        self.files = files
        digest = hashlib.blake2b(digest_size=20)
        config = project.config
        baseline = config.baseline
        parts = [
            VERSION,
            SCANNER_VERSION,
            sys.version.split()[0],
            repr(config),
            repr(project.settings),
            args.format,
            str(args.quiet),
            datetime.date.today().isoformat(),
            _digest_file(baseline) if baseline is not None else "-",
            _digest_file(config.path) if config.path is not None else "-",
            _digest_file(project.settings.inifile) if project.settings.inifile else "-",
        ]
        for part in parts:
            digest.update(part.encode() + b"\0")
        packages: dict[Path, bool] = {}
        for path in [*files.test_files, *files.conftests]:
            digest.update(os.fsencode(path) + b"\0" + _digest_file(path).encode() + b"\0")
            # Which directories are packages decides module names, hence relative imports.
            for directory in path.parents:
                if directory in packages:
                    break
                packages[directory] = (directory / "__init__.py").is_file()
                if directory == project.root:
                    break
        digest.update(repr(sorted(str(d) for d, package in packages.items() if package)).encode())
        self.key = digest.hexdigest()

    def _paths(self) -> tuple[Path, Path]:
        return self.directory / f"{self.key}.json", self.directory / f"{self.key}.out"

    def recorder(self, out: TextIO) -> _Tee:
        return _Tee(out, self.directory)

    def get(self) -> tuple[str, int] | None:
        meta_path, output_path = self._paths()
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("key") != self.key:
                return None
            for path, digest in meta["deps"]:
                if _digest_file(Path(path)) != digest:
                    return None
            roots = [Path(root) for root in meta["roots"]]
            for index, lookups in (
                (ModuleIndex(roots), meta["modules"]),
                (resolver_module.installed_index(roots), meta["outside"]),
            ):
                for name, (path, found) in lookups.items():
                    now = index.find(name)
                    if [str(now[0]) if now[0] else None, now[1]] != [path, found]:
                        return None
            for top, installed in meta["installed"].items():
                if resolver_module.installed(top) != installed:
                    return None
            output = output_path.read_text(encoding="utf-8", errors="surrogateescape")
            digest = hashlib.blake2b(output.encode("utf-8", "surrogateescape"), digest_size=16)
            if digest.hexdigest() != meta["output"]:
                return None  # a torn or edited entry
            os.utime(meta_path)  # recently used: kept by the pruning
            return output, int(meta["exit"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, run: CheckRun, tee: _Tee, code: int) -> None:
        if tee.path is None:
            return
        first = {*self.files.test_files, *self.files.conftests}
        meta = {
            "key": self.key,
            "exit": code,
            "deps": [[str(p), _digest_file(p)] for p in run.read_files if p not in first],
            "roots": [str(r) for r in run.resolver.index.roots],
            "modules": {name: list(answer) for name, answer in run.lookups.modules.items()},
            "installed": run.lookups.installed,
            "outside": {name: list(answer) for name, answer in run.lookups.outside.items()},
            "output": tee.digest.hexdigest(),
        }
        meta_path, output_path = self._paths()
        try:
            os.replace(tee.path, output_path)
            baseline_file.write_atomic(meta_path, json.dumps(meta))
            self._prune()
        except OSError:
            with contextlib.suppress(OSError):
                tee.path.unlink()  # a read-only cache only costs speed

    def _prune(self) -> None:
        entries = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[: -self.KEEP]:
            for path in (old, old.with_suffix(".out")):
                with contextlib.suppress(OSError):
                    path.unlink()


class _Tee(io.TextIOBase):
    """Writes to the terminal and to a temporary file of the run cache, hashing as it goes."""

    def __init__(self, out: TextIO, directory: Path) -> None:
        self.out = out
        self.digest = hashlib.blake2b(digest_size=16)
        self.path: Path | None = None
        self._file: TextIO | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".run-", suffix=".tmp", dir=directory)
            # surrogateescape: a file name that is not UTF-8 comes back as the same bytes.
            self._file = os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="")
            self.path = Path(name)
        except OSError:
            pass

    def write(self, text: str) -> int:
        self.out.write(text)
        if self._file is not None:
            self._file.write(text)
            self.digest.update(text.encode("utf-8", "surrogateescape"))
        return len(text)

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        if exc[0] is not None and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.path = None


def _digest_file(path: Path) -> str:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except (OSError, ValueError):  # ValueError: a NUL in the path (reading it says so)
        return "missing"


def cache_dir_for(settings: PytestSettings) -> Path | None:
    """``<pytest cache_dir>/d/ssot-scan``, created the way pytest creates its cache (with a
    ``.gitignore``, so the cache is never committed)."""
    base = settings.cache_dir or settings.rootdir / ".pytest_cache"
    try:
        if not base.exists():
            base.mkdir(parents=True)
            (base / ".gitignore").write_text("# Created by pytest-ssot.\n*\n", encoding="utf-8")
            (base / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8"
            )
        directory = base / "d" / CACHE_NAME
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory


# -- the static check ------------------------------------------------------------------------
@dataclasses.dataclass
class CheckRun:
    """Everything a static check found, ready for reports, baselines and ``init``."""

    project: Project
    ruleset: RuleSet
    data: SessionData
    result: Result
    test_classes: set[ClassRef]
    test_count: int
    test_files: list[Path]
    scanned: set[str]
    roots: tuple[str, ...]
    unresolved: list[UnresolvedClass]
    resolver: Resolver
    read_files: list[Path]  # every file whose content the result depends on
    lookups: _Lookups  # every module lookup and installed-package probe, and its answer
    facts: dict[Path, FileFacts]  # empty unless the run was asked to keep them
    known: dict[str, dict[str, Any]]
    coverage: baseline_file.Coverage


def _roots_for(project: Project, paths: Sequence[Path]) -> tuple[str, ...]:
    roots = []
    for path in paths:
        rel = relpath(path.resolve(), project.root)
        roots.append("" if rel == "." else rel)
    return tuple(roots) or ("",)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a scan keeps tens of thousands of long-lived,
    acyclic objects, and each full collection would walk them all again (the AST of each
    file is freed by reference counting either way)."""
    with gcpause.paused():
        try:
            yield
        finally:
            # What a check built lives on (reports, baselines): keep it out of later collections.
            gc.freeze()


def run_check(
    project: Project,
    paths: Sequence[Path],
    *,
    jobs: int,
    use_cache: bool,
    progress_stream: TextIO | None = None,
    files: Plan | None = None,
    keep_facts: bool = False,
) -> CheckRun:
    if keep_facts:
        jobs = 1  # the facts are those of this process
    # Parsing file after file: keep the freed heap for the next file (see pytest_ssot.heap).
    with _no_cyclic_gc(), heap.retained():
        return _run_check(project, paths, jobs, use_cache, progress_stream, files, keep_facts)


@dataclasses.dataclass
class Plan:
    """The files a check reads first: test modules (not excluded) and their conftests."""

    targets: list[Path]
    test_files: list[Path]
    conftests: list[Path]
    chains: _ConftestChains


def plan(project: Project, paths: Sequence[Path]) -> Plan:
    settings, config, root = project.settings, project.config, project.root
    targets = list(paths) or default_paths(settings, project.cwd)
    all_files = find_test_files(settings, targets)
    test_files = [f for f in all_files if not config.is_excluded(relpath(f, root))]
    chains = _ConftestChains(root)
    conftests: dict[Path, None] = {}  # ordered and unique
    for directory in dict.fromkeys(f.parent for f in test_files):
        for conftest in chains.get(directory):
            if conftest not in conftests and not config.is_excluded(relpath(conftest, root)):
                conftests[conftest] = None
    return Plan(targets, test_files, list(conftests), chains)


def _run_check(
    project: Project,
    paths: Sequence[Path],
    jobs: int,
    use_cache: bool,
    progress_stream: TextIO | None,
    files: Plan | None = None,
    keep_facts: bool = False,
) -> CheckRun:
    settings, config, root = project.settings, project.config, project.root
    files = files or plan(project, paths)
    targets, test_files, conftests, chains = (
        files.targets,
        files.test_files,
        files.conftests,
        files.chains,
    )
    ruleset = RuleSet(tuple(builtin_rules(config)))
    cache_dir = cache_dir_for(settings) if use_cache else None
    context = _Context(ruleset, cache_dir, settings, config, _import_roots(settings, test_files))
    if config.base_classes:
        context.goals()  # a base class that cannot be found is a usage error, before any scan
    todo = [*((p, True) for p in test_files), *((p, False) for p in conftests)]
    progress = Progress(len(todo), progress_stream or sys.stderr, progress_stream is not None)
    try:
        modules, lookups = analyse_files(todo, context, cache_dir, jobs, progress)
    finally:
        progress.close()
    if not keep_facts:
        # A large suite's facts are the biggest thing in memory, and all that follows needs
        # only the tests and findings; `init` looks at them again (through the resolver).
        context.facts = {}
        context.resolver.forget()

    data = SessionData()
    tests: list[StaticTest] = []
    unresolved: list[UnresolvedClass] = []
    by_file: dict[Path, list[StaticTest]] = {}
    scanned: dict[Path, _Module] = {}
    for (path, _), module in zip(todo, modules, strict=True):
        scanned[path] = module
        unresolved.extend(module.unresolved)
        data.invalid_exemptions.update(module.invalid)
        if module.tests:
            by_file[path] = module.tests
            tests.extend(module.tests)
            data.tests.update(module.records)
        for finding, nodeids in module.ssot001:
            data.add(finding, nodeids)

    scanned_rel: set[str] = set()

    def record_scan(path: Path) -> list[Finding]:
        rel = relpath(path, root)
        scanned_rel.add(rel)
        module = scanned.get(path)
        if module is None:
            return []
        if module.error is not None:
            data.unchecked[rel] = UncheckedFile(rel, module.error)
        if module.suppressions:
            data.suppressions[rel] = module.suppressions
        return module.findings

    related = attribution.related({str(path): tests for path, tests in by_file.items()})
    # Findings attributed to a test (by identity); the rest of those read here still count
    # for the baseline (see unattributed_fingerprints).
    attributed: set[int] = set()
    looked_at: dict[Path, list[Finding]] = {}
    for path, own in by_file.items():
        module_findings = looked_at[path] = record_scan(path)
        candidates = attribution.Candidates(str(path), related[str(path)])
        for finding in module_findings:
            affected = candidates.affected(finding.scope)
            if affected:
                data.add(finding, affected)
                attributed.add(id(finding))
        for conftest in chains.get(path.parent):
            if config.is_excluded(relpath(conftest, root)):
                continue
            looked_at[conftest] = conftest_findings = record_scan(conftest)
            for finding in conftest_findings:
                fixture = finding.scope.fixture
                # Only where this very definition runs: not overridden nearer the test.
                runs = (str(conftest), fixture)
                affected = [t.nodeid for t in own if fixture is None or runs in t.fixturedefs]
                if affected:
                    data.add(finding, affected)
                    attributed.add(id(finding))
    unattributed = [
        f for findings in looked_at.values() for f in findings if id(f) not in attributed
    ]
    for test_file in test_files:
        if scanned[test_file].error is not None:
            record_scan(test_file)

    # What init needs of the tests; the records themselves go before policy builds its own.
    test_classes = {t.cls for t in tests if t.cls is not None}
    test_count = len(tests)
    complete = frozenset(relpath(p, root) for p in by_file)
    scanned.clear()
    del tests, by_file, related, modules, looked_at
    data.compact()
    known: dict[str, dict[str, Any]] = {}
    if config.baseline is not None:
        known = baseline_file.load(config.baseline)
    result = evaluate(data, config, ruleset.infos, known=known)
    roots = _roots_for(project, targets)
    coverage = _coverage(project, roots, scanned_rel, complete, known)
    # A file that could not be checked neither confirms nor retires its baseline entries, nor
    # does a violation still in the code that only a test run can attribute.
    coverage = dataclasses.replace(
        coverage,
        unchecked=frozenset(data.unchecked),
        unattributed=unattributed_fingerprints(data, unattributed) if known else frozenset(),
    )
    result = dataclasses.replace(result, stale=baseline_file.stale(result.stale, coverage))
    # No test runs here: an ignore only a run-time access would use cannot be told unused.
    result = without_runtime_ignores(result, data.suppressions, runtime_rule_names(config))
    return CheckRun(
        project=project,
        ruleset=ruleset,
        data=data,
        result=result,
        test_classes=test_classes,
        test_count=test_count,
        test_files=test_files,
        scanned=scanned_rel,
        roots=roots,
        unresolved=sorted(set(unresolved), key=lambda u: (u.path, u.line, u.qualname)),
        resolver=context.resolver,
        facts=context.facts,
        read_files=sorted({*lookups.files, *test_files, *conftests}),
        lookups=lookups,
        known=known,
        coverage=coverage,
    )


def _coverage(
    project: Project,
    roots: tuple[str, ...],
    scanned: set[str],
    complete: frozenset[str],
    known: dict[str, dict[str, Any]],
) -> baseline_file.Coverage:
    gone = frozenset(
        str(e.get("path"))
        for e in known.values()
        if e.get("path") and baseline_file.gone(project.root, str(e.get("path")))
    )
    return baseline_file.Coverage(
        roots=roots,
        complete_files=complete,
        scanned=frozenset(scanned),
        gone=gone,
        whole=True,
        ran=False,  # a static check never judges what only a test run can see
    )


def _import_roots(settings: PytestSettings, test_files: Iterable[Path]) -> list[Path]:
    """What the tests have on ``sys.path``: rootdir, ``pythonpath``, ``src``, and (pytest's
    ``prepend`` import mode) the directory above each test file's top package."""
    roots = [settings.rootdir, *settings.pythonpath]
    if (settings.rootdir / "src").is_dir():
        roots.append(settings.rootdir / "src")
    seen: set[Path] = set()
    for test_file in test_files:
        directory = test_file.parent
        if directory in seen:
            continue
        seen.add(directory)
        while (directory / "__init__.py").is_file() and directory.parent != directory:
            directory = directory.parent
        if directory not in roots:
            roots.append(directory)
    return roots


def _exemptions(
    test: StaticTest, invalid: dict[str, str], codes_known: frozenset[str]
) -> Iterator[Exemption]:
    """The ``ssot_exempt`` marks of a test, validated as the plugin validates them (only a
    code of pytest-ssot's own range can be told to name no rule: a pytest plugin's rules are
    unknown here)."""
    for origin, mark in test.marks:
        codes = mark.args
        reason = mark.kwargs.get("reason")
        until = mark.kwargs.get("until")
        problem = None
        if any(isinstance(c, dict) for c in codes):
            problem = "codes are not literal strings, so ssot check cannot read them"
        elif not all(isinstance(c, str) for c in codes):
            problem = f"codes must be strings such as 'SSOT002', got {tuple(codes)!r}"
        elif isinstance(reason, dict):
            reason = f"<{reason.get('expr')}>"  # a constant: pytest sees its value
        elif not isinstance(reason, str) or not reason.strip():
            problem = 'needs reason="why this test is exempt"'
        if problem is None and isinstance(until, dict):
            until = None  # computed: its expiry date is only known at run time
        elif (
            problem is None
            and until is not None
            and (not isinstance(until, str) or parse_until(until) is None)
        ):
            problem = f"until={until!r} is not a YYYY-MM-DD date"
        unknown = [
            c for c in codes if isinstance(c, str) and own_rule_code(c) and c not in codes_known
        ]
        if problem is None and unknown:
            problem = f"names no rule: {', '.join(unknown)}"
        if problem is not None:
            invalid[origin] = f"ssot_exempt {problem}; not applied"
            continue
        yield Exemption(codes=frozenset(codes), reason=str(reason), until=until, origin=origin)


class _ConftestChains:
    """``conftests_for`` by directory, each directory looked at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._chains: dict[Path, list[Path]] = {}

    def get(self, directory: Path) -> list[Path]:
        if directory not in self._chains:
            self._chains[directory] = conftests_for(directory / "_", self.root)
        return self._chains[directory]


# -- output ----------------------------------------------------------------------------------
def _violation_lines(result: Result, *, only_new: bool) -> Iterator[str]:
    for outcome in result.outcomes:
        if outcome.status == "exempted" or (only_new and outcome.status != "new"):
            continue
        f = outcome.finding
        tag = "" if outcome.status == "new" else f" [{outcome.status}]"
        yield f"{f.path}:{f.line}:{f.col}: {f.code} {f.message} ({outcome.name}){tag}"


def _context(project: Project) -> reporting.ReportContext:
    prefix = _git_prefix(project.root)
    return reporting.ReportContext(
        source_prefix=prefix,
        generated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        project=project.root.name,
    )


def _git_prefix(root: Path) -> str:
    """The rootdir relative to the enclosing git repository (paths in SARIF and GitHub
    annotations resolve against the repository)."""
    for directory in (root, *root.parents):
        if (directory / ".git").exists():
            rel = relpath(root, directory)
            return "" if rel == "." else rel
    return ""


def render_check(run: CheckRun, fmt: str, out: Writer, *, quiet: bool) -> None:
    result, config = run.result, run.project.config
    version = VERSION
    if fmt == "json":
        write_json(result, config, version, out, unresolved=run.unresolved)
        return
    if fmt in ("sarif", "github"):
        out.write(
            reporting.render(
                fmt, result, config, run.ruleset.infos, version, context=_context(run.project)
            )
        )
        return
    for line in _violation_lines(result, only_new=quiet):
        out.write(line + "\n")
    if run.unresolved and not quiet:
        out.write(f"unresolved base classes {len(run.unresolved)} (SSOT001 not decided):\n")
        for item in run.unresolved[:50]:
            out.write(f"  {item.path}:{item.line} {item.qualname}: {item.reason}\n")
        if len(run.unresolved) > 50:
            out.write(f"  ... and {len(run.unresolved) - 50} more\n")
    if not quiet:
        out.write("SSOT compliance (static, ssot check)\n")
    for line in summary_lines(result, verbosity=-1 if quiet else 0):
        out.write(line + "\n")
    if result.below(config.fail_under):
        out.write(
            f"FAIL: SSOT compliance {result.compliance:.1f}% is below fail_under "
            f"{config.fail_under:g}%\n"
        )


def write_json(
    result: Result,
    config: Config,
    version: str,
    out: Writer,
    *,
    unresolved: Sequence[UnresolvedClass] = (),
) -> None:
    """The JSON report (:mod:`~pytest_ssot.reporting.jsonreport`), streamed: one violation
    per line, each encoded at C speed (json's C encoder only runs without indentation), and
    never all of a large suite's violations in memory as dicts at once."""
    counted_apart = dataclasses.replace(result, outcomes=result.outcomes.none())
    head = jsonreport.report(counted_apart, config, version)
    # The summary fields that count violations, from the real outcomes.
    head["summary"].update(
        violations=len(result.outcomes),
        new=result.count("new"),
        known=result.count("known"),
        exempted=result.count("exempted"),
        by_rule=result.by_rule,
    )
    del head["violations"]
    head["unresolved"] = [dataclasses.asdict(u) for u in unresolved]
    text = json.dumps(head, ensure_ascii=False)
    out.write(text[:-1] + ', "violations": [\n')
    for index, outcome in enumerate(result.outcomes):
        line = json.dumps(jsonreport.outcome_dict(outcome), ensure_ascii=False)
        out.write(("," if index else "") + line + "\n")
    out.write("]}\n")


def exit_code(run: CheckRun) -> int:
    """1 when a new violation fails a test in a strict setting, or compliance is below
    ``fail_under``; else 0."""
    result = run.result
    if result.failing or result.below(run.project.config.fail_under):
        return EXIT_VIOLATIONS
    return EXIT_OK


# -- commands ------------------------------------------------------------------------------------
def _jobs(value: int | None) -> int:
    return max(1, value if value is not None else (os.cpu_count() or 1))


def _paths(values: Sequence[str]) -> list[Path]:
    return [Path(v) for v in values]


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths = _paths(args.paths)
    project = load_project(args, paths, err=err)
    if args.show_files:
        # Exactly what a check reads for its static rules: the test modules (in pytest's
        # order), then the conftest.py files above them.
        files = plan(project, paths)
        for path in [*files.test_files, *files.conftests]:
            out.write(os.path.relpath(path, project.cwd) + "\n")
        return EXIT_OK
    show_progress = err.isatty() and not args.quiet
    files = plan(project, paths)
    runs = None
    if not args.no_cache and args.format in RUN_CACHE_FORMATS:
        directory = cache_dir_for(project.settings)
        if directory is not None:
            runs = RunCache(directory.parent / RUN_CACHE_NAME, project, files, args)
            hit = runs.get()
            if hit is not None:
                output, code = hit
                out.write(output)
                return code
    run = run_check(
        project,
        paths,
        jobs=_jobs(args.jobs),
        use_cache=not args.no_cache,
        progress_stream=err if show_progress else None,
        files=files,
    )
    code = exit_code(run)
    if runs is None:
        render_check(run, args.format, out, quiet=args.quiet)
        return code
    # Written to the terminal and the run cache at once: a large report is never held whole.
    with runs.recorder(out) as tee:
        render_check(run, args.format, tee, quiet=args.quiet)
    runs.put(run, tee, code)
    return code


def cmd_baseline(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    paths = _paths(args.paths)
    project = load_project(args, paths, err=err)
    target = project.config.baseline
    if target is None:
        raise UsageError("no baseline file: set `baseline` in [tool.ssot] or pass --baseline PATH")
    run = run_check(project, paths, jobs=_jobs(args.jobs), use_cache=not args.no_cache)
    shown = os.path.relpath(target, project.cwd)
    try:
        written = write_baseline(run, target)
    except OSError as exc:
        raise UsageError(f"cannot write the baseline {shown}: {os_reason(exc)}") from None
    out.write(f"ssot: baseline {shown} written: {written} entries\n")
    return EXIT_OK


def write_baseline(run: CheckRun, target: Path) -> int:
    current = [
        baseline_file.entry(o.finding, o.fingerprint)
        for o in run.result.outcomes
        if o.status != "exempted"
    ]
    entries = baseline_file.updated(run.known, current, run.coverage.covers, run.result.renamed)
    baseline_file.write_atomic(target, baseline_file.render(entries))
    return len({e["fingerprint"] for e in entries})


def rule_doc(info: RuleInfo) -> str:
    """A rule explained the way ruff explains its rules."""
    options = [o.strip() for o in info.options.split(",") if o.strip()]
    parts = [
        f"# {info.name} ({info.code})",
        "",
        "## What it does",
        info.summary + ".",
        "",
        "## Why is this bad?",
        info.why,
        "",
        "## Example",
        "```python",
        info.example,
        "```",
        "",
        "## Use instead",
        "```python",
        info.use_instead,
        "```",
    ]
    if options:
        parts += ["", "## Options", *(f"- `{o}`" for o in options)]
    return "\n".join(parts) + "\n"


def cmd_rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        config = load_project(args, err=err).config
    except (ConfigError, DiscoveryError) as exc:
        print(f"ssot: warning: configuration not used ({_first_line(exc)})", file=err)
        config = Config(root=Path.cwd())
    infos = RuleSet(tuple(builtin_rules(config))).infos
    if args.code:
        wanted = args.code.strip()
        info = next(
            (i for i in infos.values() if wanted.upper() == i.code or wanted == i.name), None
        )
        if info is None:
            raise UsageError(
                f"unknown rule {wanted!r}; `ssot rules` lists them ({', '.join(infos)})"
            )
        if args.format == "json":
            out.write(json.dumps(dataclasses.asdict(info), indent=2) + "\n")
        else:
            out.write(rule_doc(info))
        return EXIT_OK
    if args.format == "json":
        out.write(json.dumps([dataclasses.asdict(i) for i in infos.values()], indent=2) + "\n")
        return EXIT_OK
    width = max(len(i.name) for i in infos.values())
    for info in infos.values():
        out.write(f"{info.code}  {info.name:<{width}}  {info.summary}\n")
    return EXIT_OK


def _first_line(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return str(problems[0])
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def tier_paths(project: Project, tier_name: str) -> tuple[list[Path], list[Path]]:
    """(paths of the tier, paths of the other tiers) that exist; for ``default``, no path
    and every named tier's paths to leave out."""
    config = project.config
    names = [t.name for t in config.tiers]
    if tier_name != DEFAULT_TIER and tier_name not in names:
        known = ", ".join([*names, DEFAULT_TIER]) if names else "none are configured"
        raise UsageError(f"unknown tier {tier_name!r} (tiers: {known})")
    selected: list[Path] = []
    others: list[Path] = []
    for tier in config.tiers:
        found = [p for pattern in tier.paths for p in _existing(project.root, pattern)]
        (selected if tier.name == tier_name else others).extend(found)
    if tier_name != DEFAULT_TIER and not selected:
        raise UsageError(
            f"tier {tier_name!r} matches no existing path ({', '.join(_tier(config, tier_name))})"
        )
    return _outermost(selected), _outermost(others)


def _tier(config: Config, name: str) -> tuple[str, ...]:
    return next(t.paths for t in config.tiers if t.name == name)


def _existing(root: Path, pattern: str) -> list[Path]:
    """The existing files and directories a tier glob stands for."""
    pattern = pattern.strip("/")
    literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    if literal == pattern:
        path = root / pattern
        return [path] if path.exists() else []
    prefix = literal.rpartition("/")[0]
    rest = pattern[len(prefix) :].lstrip("/")
    if rest in ("**", "**/*"):
        if not prefix:
            return [root]
        return [root / prefix] if (root / prefix).is_dir() else []
    base = root / prefix if prefix else root
    glob = rest if "/" in pattern else "**/" + rest
    if not base.is_dir():
        return []
    return sorted(
        p
        for p in base.glob(glob)
        if glob_match(relpath(p, root), pattern) and "__pycache__" not in p.parts
    )


def _outermost(paths: list[Path]) -> list[Path]:
    result: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(parent in result for parent in path.parents):
            result.append(path)
    return sorted(result)


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    project = load_project(args, err=err)
    runner = project.config.runner
    if not runner:
        raise UsageError(
            '`runner` is not set in [tool.ssot]: set runner = "<id>" so pytest-ssot can tell '
            "official runs from others"
        )
    selected: list[Path] = []
    if args.tier:
        selected, others = tier_paths(project, args.tier)
        if args.tier == DEFAULT_TIER:
            args.pytest_args = [
                *(f"--ignore={os.path.relpath(p, project.cwd)}" for p in others),
                *args.pytest_args,
            ]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "ssot",
        *(os.path.relpath(p, project.cwd) for p in selected),
        *args.pytest_args,
    ]
    env = {**os.environ, RUNNER_ENV: runner}
    if not args.quiet:
        shown = " ".join(shlex.quote(c) for c in ["python", *command[1:]])
        print(f"ssot run: {RUNNER_ENV}={runner} {shown}", file=err)
    err.flush()
    out.flush()
    try:
        completed = subprocess.run(command, env=env, check=False)
    except KeyboardInterrupt:
        return 2
    return completed.returncode


def cmd_fix(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # fix.py itself needs only the standard library; it reports a missing libcst (the `fix`
    # extra) as a usage error before touching anything.
    from pytest_ssot import fix

    paths = _paths(args.paths)
    project = load_project(args, paths, err=err)
    return fix.run(
        [p.resolve() for p in paths],
        project.config,
        diff=args.diff,
        wrap_functions=args.wrap_functions,
        out=out,
        jobs=args.jobs,
        err=err,
        settings=project.settings,
    )


# -- init ----------------------------------------------------------------------------------------
@dataclasses.dataclass
class Proposal:
    base_classes: list[tuple[str, int]]
    env_modules: list[str]
    mock_modules: list[str]
    runner: str | None
    baseline: str
    files: int
    tests: int

    def toml(self) -> str:
        lines = [
            "[tool.ssot]",
            f"# Proposed by `ssot init` from {self.files} test files and {self.tests} tests;",
            "# review it, then tighten `mode` (or add tiers) as the migration goes.",
            'mode = "warn"',
        ]
        if self.base_classes:
            lines.append("base_classes = [")
            for entry, count in self.base_classes:
                plural = "es" if count != 1 else ""
                lines.append(f"    {_toml_str(entry)},  # {count} test class{plural}")
            lines.append("]")
        else:
            lines.append('# base_classes = ["package.module:SSotBaseTestCase"]')
        for key, values in (("env_modules", self.env_modules), ("mock_modules", self.mock_modules)):
            if values:
                lines.append(f"{key} = [{', '.join(_toml_str(v) for v in values)}]")
            else:
                lines.append(f'# {key} = ["package.module"]')
        if self.runner:
            lines.append(f"runner = {_toml_str(self.runner)}")
        else:
            lines.append('# runner = "unified"  # the value your runner puts in PYTEST_SSOT_RUNNER')
        lines.append(f"baseline = {_toml_str(self.baseline)}")
        return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


RUNNER_RE = re.compile(r"""PYTEST_SSOT_RUNNER['"]\s*(?:\]\s*=|,)\s*['"]([^'"]+)['"]""")
# A wrapper module names what it wraps: a class such as IsolatedEnvironment or SSotMockFactory,
# or a module such as isolated_environment or mocks. A helper that merely touches os.environ
# (tests/helpers/legacy_env.py: enable_debug_logging) is a violation, not a wrapper.
CLASS_ENV_RE = re.compile(r"env", re.IGNORECASE)
MODULE_ENV_RE = re.compile(r"environ", re.IGNORECASE)
CLASS_MOCK_RE = re.compile(r"mock|fake|stub|double", re.IGNORECASE)
MODULE_MOCK_RE = re.compile(r"mock|fake|double", re.IGNORECASE)
NAME_BASE_RE = re.compile(r"test|case|base", re.IGNORECASE)


def propose(run: CheckRun) -> Proposal:
    """Inspect a suite: its most inherited test base classes, the project modules that wrap
    the environment and unittest.mock, and the runner id it already uses."""
    resolver = run.resolver
    test_files = set(run.test_files)
    test_classes = run.test_classes
    counts: dict[ClassRef, int] = {}
    depth: dict[ClassRef, int] = {}
    for cls in test_classes:
        mro, _ = resolver.mro(cls)
        for entry in mro[1:]:
            if isinstance(entry, ClassRef) and entry not in test_classes:
                counts[entry] = counts.get(entry, 0) + 1
                depth[entry] = len(resolver.mro(entry)[0])
    root = run.project.root
    candidates = [
        c
        for c in counts
        # The project's own: a class of an installed package that a test module imported is
        # no SSOT base to propose.
        if c.path not in test_files and c.path.name != "conftest.py" and root in c.path.parents
    ]
    named = [c for c in candidates if NAME_BASE_RE.search(c.qualname.rpartition(".")[2])]
    ordered = sorted(named or candidates, key=lambda c: (-counts[c], -depth[c], c.dotted))
    chosen: list[ClassRef] = []
    for candidate in ordered:
        if any(candidate in resolver.mro(c)[0] for c in chosen):
            continue  # a base of an SSOT class already chosen
        chosen.append(candidate)
        if len(chosen) == 3:
            break
    bases = [(f"{resolver.module_name(c.path)}:{c.qualname}", counts[c]) for c in chosen]
    env_modules, mock_modules = _wrapper_modules(run)
    return Proposal(
        base_classes=bases,
        env_modules=env_modules,
        mock_modules=mock_modules,
        runner=_runner_id(run),
        baseline="ssot-baseline.json",
        files=len(run.test_files),
        tests=run.test_count,
    )


def _imported_modules(run: CheckRun, limit: int = 2000) -> list[tuple[str, Path]]:
    """Project modules reachable by imports from the test files (not test files or
    conftests themselves), breadth first."""
    resolver = run.resolver
    queue: list[Path] = list(run.test_files)
    seen: set[Path] = set(queue)
    found: list[tuple[str, Path]] = []
    while queue and len(seen) < limit:
        path = queue.pop(0)
        structure = resolver.structure(path)
        if structure is None:
            continue
        for binding in structure.bindings:
            names: list[str] = []
            if binding.kind in ("import", "from", "star"):
                absolute = resolver.absolute(path, binding.target)
                if absolute is None:
                    continue
                names.append(absolute)
                if binding.kind == "from":
                    names.append(f"{absolute}.{binding.attr}")
            for name in names:
                target = resolver.module(name)
                if not isinstance(target, ModuleRef) or target.path is None:
                    continue
                if target.path in seen:
                    continue
                seen.add(target.path)
                queue.append(target.path)
                if target.path.name != "conftest.py":
                    found.append((name, target.path))
    return found


def _wrapper_modules(run: CheckRun) -> tuple[list[str], list[str]]:
    env: list[str] = []
    mocks: list[str] = []
    ruleset = RuleSet(tuple(builtin_rules(Config(root=run.project.root))))
    for name, path in _imported_modules(run):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        from pytest_ssot.scanner import scan

        facts = scan(data, relpath(path, run.project.root), ruleset.watched, full=True)
        if facts.error is not None or facts.structure is None:
            continue
        classes = list(facts.structure.classes)
        leaf = name.rpartition(".")[2]
        targets = {r.target for r in facts.refs}
        touches_env = any(t == e or t.startswith(e + ".") for t in targets for e in ENV_TARGETS)
        uses_mock = any(t == m or t.startswith(m + ".") for t in targets for m in MOCK_MODULES)
        if (
            touches_env
            and name not in env
            and (MODULE_ENV_RE.search(leaf) or any(CLASS_ENV_RE.search(c) for c in classes))
        ):
            env.append(name)
        if (
            uses_mock
            and name not in mocks
            and (MODULE_MOCK_RE.search(leaf) or any(CLASS_MOCK_RE.search(c) for c in classes))
        ):
            mocks.append(name)
    return env, mocks


def _runner_id(run: CheckRun) -> str | None:
    """The id an existing runner script puts in PYTEST_SSOT_RUNNER, if any: searched in the
    non-test Python files of the rootdir and of every directory holding tests."""
    root = run.project.root
    directories: set[Path] = {root}
    for test_file in run.test_files:
        directories.update(d for d in test_file.parents if d == root or root in d.parents)
    tests = set(run.test_files)
    for directory in sorted(directories):
        for path in sorted(directory.glob("*.py")):
            if path in tests:
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if RUNNER_ENV.encode() not in data:
                continue
            match = RUNNER_RE.search(data.decode("utf-8", errors="replace"))
            if match:
                return match.group(1)
    return None


def append_table(path: Path, table: str) -> None:
    """Append a TOML table to a file, atomically, leaving every existing byte as it was
    (line endings and permissions included). A symbolic link is followed, not replaced."""
    path = Path(os.path.realpath(path))
    try:
        existing = path.read_bytes()
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        existing, mode = b"", 0o644
    newline = b"\r\n" if b"\r\n" in existing else b"\n"
    addition = table.encode("utf-8").replace(b"\n", newline)
    separator = b""
    if existing:
        separator = newline if existing.endswith(newline) else newline * 2
        if existing.endswith(newline) and not existing.endswith(newline * 2):
            separator = newline
        elif existing.endswith(newline * 2):
            separator = b""
    combined = existing + separator + addition
    try:
        tomllib_loads(combined.decode("utf-8"))
    except ValueError as exc:  # tomllib's TOMLDecodeError, UnicodeDecodeError
        # (`tool = {black = {...}}` as an inline table: TOML allows no [tool.ssot] beside it.)
        raise UsageError(
            f"{path}: adding [tool.ssot] would not leave valid TOML ({exc}); add the table "
            "by hand; nothing was changed"
        ) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(combined)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cmd_init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if getattr(args, "config", None):
        raise UsageError("ssot init writes [tool.ssot] to pyproject.toml; drop --config")
    cwd = Path.cwd().resolve()
    settings = load_pytest_settings(cwd)
    pyproject = settings.rootdir / "pyproject.toml"
    if pyproject.is_file() and "ssot" in tools(pyproject):
        raise UsageError(
            f"{pyproject} already has [tool.ssot]; edit it by hand, or run `ssot baseline` "
            "to refresh the baseline"
        )
    project = Project(cwd=cwd, settings=settings, config=Config(root=settings.rootdir))
    run = run_check(
        project, [], jobs=_jobs(args.jobs), use_cache=not args.no_cache, keep_facts=True
    )
    proposal = propose(run)
    # An old baseline that cannot be read would fail the run after the table is written:
    # refuse before writing anything.
    baseline_file.load(settings.rootdir / proposal.baseline)
    table = proposal.toml()
    # What is written must be what pytest-ssot accepts.
    parse(
        tomllib_loads(table)["tool"]["ssot"],
        path=pyproject,
        root=settings.rootdir,
        prefix="tool.ssot.",
    )
    shown = os.path.relpath(pyproject, cwd)
    out.write(f"Proposed configuration for {shown}:\n\n{table}\n")
    if not args.yes:
        if not sys.stdin.isatty():
            out.write(f"Nothing written: re-run with --yes to add it to {shown}.\n")
            return EXIT_OK
        answer = input(f"Add this to {shown} and write the baseline? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            out.write("Nothing written.\n")
            return EXIT_OK
    try:
        append_table(pyproject, table)
    except OSError as exc:
        raise UsageError(f"cannot write {shown}: {os_reason(exc)}; nothing was changed") from None
    config = load(rootdir=settings.rootdir)
    project = Project(cwd=cwd, settings=settings, config=config)
    run = run_check(project, [], jobs=_jobs(args.jobs), use_cache=not args.no_cache)
    assert config.baseline is not None
    try:
        entries = write_baseline(run, config.baseline)
    except OSError as exc:
        raise UsageError(
            f"wrote [tool.ssot] to {shown} but cannot write the baseline "
            f"{os.path.relpath(config.baseline, cwd)}: {os_reason(exc)}; run `ssot baseline` "
            "once it can be written"
        ) from None
    result = run.result
    out.write(
        f"Wrote [tool.ssot] to {shown} and {entries} known violations to "
        f"{os.path.relpath(config.baseline, cwd)}.\n"
        f"Compliance today: {result.compliance:.1f}% ({result.compliant}/{result.tests} tests).\n"
        "Next: commit both; run `pytest -p ssot` (or `ssot check`) in CI to stop new drift.\n"
    )
    return EXIT_OK


def tomllib_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    data: dict[str, Any] = tomllib.loads(text)
    return data


# -- argument parsing ------------------------------------------------------------------------
def _mode(value: str) -> str:
    if value not in MODES:
        raise argparse.ArgumentTypeError(f"{value!r} is not a mode; choose from {', '.join(MODES)}")
    return value


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of jobs")
    return number


def _command(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, allow_abbrev=False, **kwargs)
    return parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="standalone TOML file with the [tool.ssot] keys at top level",
    )
    scan = argparse.ArgumentParser(add_help=False)
    scan.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or directories (default: pytest testpaths, else the current directory)",
    )
    scan.add_argument(
        "--jobs",
        "-j",
        type=_positive,
        default=None,
        metavar="N",
        help="worker processes (default: all cores)",
    )
    scan.add_argument("--no-cache", action="store_true", help="do not read or write the scan cache")
    scan.add_argument("--baseline", metavar="PATH", help="baseline file (overrides `baseline`)")

    # No abbreviations: `ssot run --co` is pytest's --co, not an abbreviated --config.
    parser = argparse.ArgumentParser(
        prog="ssot",
        allow_abbrev=False,
        description="Static SSOT checks for pytest suites (pytest-ssot); never imports the tests.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = _command(sub, "check", parents=[common, scan], help="check the suite statically")
    check.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    check.add_argument(
        "--mode",
        type=_mode,
        default=None,
        metavar="MODE",
        help="off|warn|strict: replaces `mode` and every tier's mode",
    )
    check.add_argument(
        "--show-files",
        action="store_true",
        help="list the files it would check, one per line, and stop",
    )
    check.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="only new violations and the totals; no progress bar",
    )
    check.set_defaults(handler=cmd_check)

    base = _command(
        sub, "baseline", parents=[common, scan], help="write the baseline from a static scan"
    )
    base.set_defaults(handler=cmd_baseline)

    rules = _command(sub, "rules", parents=[common], help="list the rules, or explain one")
    rules.add_argument(
        "code", nargs="?", help="a rule code or name, e.g. SSOT002 or direct-environ-access"
    )
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=cmd_rules)

    init = _command(
        sub,
        "init",
        parents=[common],
        help="propose [tool.ssot] for a suite and write it with a baseline",
    )
    init.add_argument("--yes", "-y", action="store_true", help="write without asking")
    init.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N")
    init.add_argument("--no-cache", action="store_true")
    init.set_defaults(handler=cmd_init)

    run = _command(
        sub,
        "run",
        parents=[common],
        help="run pytest as the unified runner (sets PYTEST_SSOT_RUNNER)",
        description=(
            "Reference unified runner: runs `python -m pytest -p ssot` with PYTEST_SSOT_RUNNER "
            "set to `runner`. Arguments after -- go to pytest. A team's own runner only needs "
            'os.environ["PYTEST_SSOT_RUNNER"] = "<runner id>" before it starts pytest.'
        ),
    )
    run.add_argument(
        "--tier",
        metavar="NAME",
        help="run only this tier's paths (`default`: everything outside the named tiers)",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="do not print the command")
    run.set_defaults(handler=cmd_run, pytest_args=[])

    fix = _command(
        sub, "fix", parents=[common], help="rewrite to the SSOT APIs (needs pytest-ssot[fix])"
    )
    fix.add_argument("paths", nargs="*", metavar="PATH")
    fix.add_argument("--diff", action="store_true", help="print a diff, change nothing")
    fix.add_argument(
        "--wrap-functions",
        action="store_true",
        help="move module-level test functions into an SSOT class",
    )
    fix.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N")
    fix.set_defaults(handler=cmd_fix)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        # A file name that is not UTF-8 (a lone surrogate once decoded) is printed as the
        # bytes it has on disk, as `ls` would, under any locale; not a UnicodeEncodeError.
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="surrogateescape")
    parser = build_parser()
    passthrough: list[str] = []
    if argv[:1] == ["run"]:
        # Everything pytest should see: after `--`, and options `ssot run` does not know.
        if "--" in argv:
            cut = argv.index("--")
            argv, passthrough = argv[:cut], argv[cut + 1 :]
        args, unknown = parser.parse_known_args(argv)
        passthrough = [*unknown, *passthrough]
    else:
        args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(err)
        return EXIT_USAGE
    if passthrough:
        args.pytest_args = passthrough
    try:
        code: int = args.handler(args, out, err)
        return code
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"ssot: error: {problem}", file=err)
        return EXIT_USAGE
    except (DiscoveryError, UsageError) as exc:
        print(f"ssot: error: {exc}", file=err)
        return EXIT_USAGE
    except BrokenPipeError:
        # `ssot check | head`: the reader left; not an error worth a traceback.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return EXIT_OK
    except KeyboardInterrupt:
        print("ssot: interrupted", file=err)
        return 130
