"""``ssot fix``: rewrite test code to the team's SSOT APIs, mechanically and reviewably.

This module picks the files, asks the scanner what ``ssot check`` would report in each, hands
that to the libcst codemods (:mod:`pytest_ssot.codemods`, imported only here and only when the
command runs, so the CLI works without the optional ``pytest-ssot[fix]`` extra), checks that
every rewrite left the file parseable with no violation the scanner did not see before, and then
prints a unified diff (``--diff``) or replaces each file atomically. Whatever is not rewritten
is listed as manual work with ``path:line`` and the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import functools
import itertools
import os
import re
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pytest_ssot.config import FIX_CLASS_KEYS, FIX_TEMPLATES, Config
from pytest_ssot.discovery import PytestSettings, collected_files, load_pytest_settings
from pytest_ssot.model import Finding
from pytest_ssot.paths import in_modules, module_name, relpath
from pytest_ssot.processes import pool_context
from pytest_ssot.resolver import derives_from_unittest
from pytest_ssot.rules import (
    DIRECT_ENVIRON_ACCESS,
    NON_SSOT_TEST_CLASS,
    UNIFIED_RUNNER_BYPASS,
    EnvironRule,
    RuleSet,
    RunnerBypassRule,
)
from pytest_ssot.scanner import ENV_TARGETS, FileFacts, scan

if TYPE_CHECKING:
    from pytest_ssot.codemods import Manual, Outcome, Plan

RULE_NAMES = {
    info.code: info.name
    for info in (NON_SSOT_TEST_CLASS, DIRECT_ENVIRON_ACCESS, UNIFIED_RUNNER_BYPASS)
}
STATIC_CODES = (DIRECT_ENVIRON_ACCESS.code, UNIFIED_RUNNER_BYPASS.code)
TEST_FUNCTION_RE = re.compile(rb"^(?:async[ \t]+)?def[ \t]+test", re.MULTILINE)
PARALLEL_FROM = 48  # below this many files, starting worker processes costs more than it saves
INSTALL_HINT = "ssot fix needs the fix extra (libcst): pip install 'pytest-ssot[fix]'"


@dataclasses.dataclass(frozen=True)
class ManualItem:
    """A violation ``ssot fix`` left for a person."""

    path: str
    line: int
    code: str
    message: str

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


@dataclasses.dataclass
class FileResult:
    """What fixing one file would do; nothing is written until :func:`run` decides."""

    path: Path
    relpath: str
    before: bytes = b""
    after: bytes = b""
    fixed: Counter[str] = dataclasses.field(default_factory=Counter)
    manual: list[ManualItem] = dataclasses.field(default_factory=list)
    skipped: str | None = None  # why the file was left untouched as a whole
    # what is left, at its line in the rewritten file (reported once the file is written)
    manual_after: list[ManualItem] | None = None

    @property
    def changed(self) -> bool:
        return self.skipped is None and self.after != self.before


# -- which files ---------------------------------------------------------------------------------


def is_test_file(name: str) -> bool:
    """pytest's default ``python_files`` plus ``conftest.py``."""
    return name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    )


def _is_test_code(path: Path, root: Path) -> bool:
    """Whether a file named on the command line is test code (SPEC: test modules, conftest.py
    files and the other modules inside the directories that hold them). The rootdir counts
    only for its own test files: a conftest.py at the top does not make the product code below
    it test code, as for the run-time guard."""
    if is_test_file(path.name):
        return True
    root = root.absolute()
    directory = path.parent
    while directory != root and root in directory.parents:
        if _holds_tests(directory):
            return True
        directory = directory.parent
    return False


def _holds_tests(directory: Path) -> bool:
    try:
        return any(entry.is_file() and is_test_file(entry.name) for entry in os.scandir(directory))
    except OSError:
        return False


def collect(
    paths: Iterable[Path], config: Config, settings: PytestSettings
) -> tuple[list[Path], list[FileResult]]:
    """The files to fix under ``paths``, and those left out with the reason: in a directory
    the test modules pytest collects there and the conftest.py files it loads (``settings``:
    ``python_files``, ``norecursedirs``, ``--ignore`` and conftest ``collect_ignore`` lists,
    virtualenvs), never what pytest leaves alone; any test code named explicitly."""
    sanctioned = (
        *config.env_modules,
        *config.mock_modules,
        *(b.partition(":")[0] for b in config.base_classes),
        *(str(config.fix[key]).partition(":")[0] for key in FIX_CLASS_KEYS if key in config.fix),
    )
    chosen: list[Path] = []
    left_out: list[FileResult] = []
    seen: set[Path] = set()
    for given in paths:
        walked = given.is_dir()
        candidates = collected_files(settings, given.resolve()) if walked else iter([given])
        for path in candidates:
            absolute = path.absolute()
            if walked and path.parent.resolve() != path.parent:
                continue  # under a linked directory: perhaps outside the project, never fixed
            if absolute in seen:
                continue
            seen.add(absolute)
            rel = relpath(absolute, config.root)
            if config.is_excluded(rel):
                continue  # excluded files are never checked, so never touched
            if path.suffix != ".py":
                left_out.append(FileResult(absolute, rel, skipped="not a Python file"))
            elif path.is_symlink():
                left_out.append(FileResult(absolute, rel, skipped="a symbolic link"))
            elif in_modules(module_name(absolute), sanctioned):
                left_out.append(
                    FileResult(absolute, rel, skipped="SSOT infrastructure, not test code")
                )
            elif not _is_test_code(absolute, config.root):
                left_out.append(
                    FileResult(
                        absolute,
                        rel,
                        skipped="not test code: no test module or conftest.py in its "
                        "directory or above",
                    )
                )
            else:
                chosen.append(absolute)
    return chosen, left_out


# -- one file ------------------------------------------------------------------------------------


def plan_for(rel: str, config: Config, *, wrap_functions: bool) -> Plan:
    from pytest_ssot.codemods import ASYNC_TESTCASE, TESTCASE, Plan, Target

    fix = config.fix
    base = Target.parse(fix["base_class"]) if "base_class" in fix else None
    async_base = Target.parse(fix["async_base_class"]) if "async_base_class" in fix else None
    base_map: dict[str, Target | None] = {TESTCASE: base, ASYNC_TESTCASE: async_base}
    for old, new in fix.get("base_map", {}).items():
        base_map[old.replace(":", ".")] = Target.parse(new)
    targets = [t for t in (base, async_base, *base_map.values()) if t is not None]
    entries = tuple(sorted({f"{t.module}:{t.name}" for t in targets}))
    compliant = {b.replace(":", ".") for b in config.base_classes}
    compliant |= {t.dotted for t in targets}
    pytest_style = _pytest_style_bases(config.root, entries)
    legacy = tuple(sorted(fix.get("base_map", {})))
    name = rel.rpartition("/")[2]
    rules = {
        code
        for code in (NON_SSOT_TEST_CLASS.code, *STATIC_CODES)
        if config.mode_for(code, rel) != "off"
    }
    if not config.base_classes or name == "conftest.py":
        rules.discard(NON_SSOT_TEST_CLASS.code)  # SSOT001 is inactive / has no tests here
    return Plan(
        templates={k: v for k, v in fix.items() if k in FIX_TEMPLATES},
        env_imports=tuple(fix.get("env_import", ())),
        base=base,
        async_base=async_base,
        base_map=base_map,
        compliant=frozenset(compliant),
        pytest_style=pytest_style,
        legacy_unittest=_legacy_unittest_bases(config.root, legacy),
        rules=frozenset(rules),
        functions=not config.allow_function_tests,
        wrap_functions=wrap_functions,
        module_stem=name.removesuffix(".py"),
    )


@functools.lru_cache(maxsize=16)
def _pytest_style_bases(root: Path, entries: tuple[str, ...]) -> frozenset[str]:
    """The bases to rewrite to (``module:Name``) that are certainly no unittest classes, as
    their source says (read once per process): a pytest-style class may become one of
    them, fixtures, parametrize and all, and a unittest class may not. A base whose source
    cannot tell is taken for a unittest class, the usual SSOT base."""
    roots = [root, *([root / "src"] if (root / "src").is_dir() else [])]
    return frozenset(
        entry.replace(":", ".") for entry in entries if derives_from_unittest(entry, roots) is False
    )


@functools.lru_cache(maxsize=16)
def _legacy_unittest_bases(root: Path, entries: tuple[str, ...]) -> Mapping[str, bool | None]:
    """Whether each legacy base of ``base_map`` (``module:Name``) is a unittest class, by
    dotted name (None: its source cannot tell): a class on one keeps setUp and self.assert*
    only on a unittest SSOT base, one on a pytest-style base its fixtures only on a
    pytest-style one. Read once per process."""
    roots = [root, *([root / "src"] if (root / "src").is_dir() else [])]
    return {e.replace(":", "."): derives_from_unittest(e, roots) for e in entries}


def _suppressed(finding: Finding, lines: Mapping[int, frozenset[str]]) -> bool:
    """Covered by an inline ``# ssot: ignore`` on one of its lines (as policy decides)."""
    name = RULE_NAMES.get(finding.code, "")
    for line in range(finding.line, max(finding.line, finding.end_line) + 1):
        codes = lines.get(line)
        if codes is not None and (not codes or finding.code in codes or name in codes):
            return True
    return False


def _static_findings(facts: FileFacts, config: Config, rel: str) -> list[Finding]:
    """What ``ssot check`` reports here for the rules fix can rewrite, minus inline ignores."""
    ruleset = RuleSet(
        (EnvironRule(env_modules=config.env_modules), RunnerBypassRule(runner=config.runner))
    )
    return [
        f
        for f in ruleset.check(facts)
        if config.mode_for(f.code, rel) != "off" and not _suppressed(f, facts.suppressions)
    ]


def _exempted(finding: Finding, exempt: Mapping[tuple[str, ...], frozenset[str]]) -> bool:
    qualname = finding.scope.qualname
    name = RULE_NAMES.get(finding.code, "")
    for depth in range(len(qualname) + 1):
        codes = exempt.get(qualname[:depth])
        if codes is not None and (not codes or finding.code in codes or name in codes):
            return True
    return False


def fix_file(
    path: Path,
    config: Config,
    *,
    wrap_functions: bool = False,
    rel: str | None = None,
    renumber: bool = False,
) -> FileResult:
    """Compute the rewrite of one file (nothing is written). With ``renumber``, also what
    would be left, at its line in the rewritten file: a second pass over the result, which
    changes nothing more (the rewrite is idempotent) and finds exactly what remains."""
    rel = relpath(path, config.root) if rel is None else rel
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(path, rel, skipped=f"cannot be read: {exc.strerror or exc}")
    result = fix_source(data, path, rel, config, wrap_functions=wrap_functions)
    if renumber and result.changed:
        rest = fix_source(result.after, path, rel, config, wrap_functions=wrap_functions)
        if rest.skipped is None:
            result.manual_after = rest.manual
    return result


def _fix_one(path: Path, config: Config, wrap_functions: bool, renumber: bool) -> FileResult:
    """One file in a worker process: a bug on one odd file must not stop the run."""
    try:
        return fix_file(path, config, wrap_functions=wrap_functions, renumber=renumber)
    except Exception as exc:
        rel = relpath(path, config.root)
        return FileResult(path, rel, skipped=f"internal error ({type(exc).__name__}: {exc})")


def fix_all(
    files: list[Path], config: Config, *, wrap_functions: bool, renumber: bool, jobs: int
) -> Iterator[FileResult]:
    """Results in file order, computed in ``jobs`` processes when there are enough files."""
    if jobs <= 1 or len(files) < PARALLEL_FROM:
        for path in files:
            yield _fix_one(path, config, wrap_functions, renumber)
        return
    import concurrent.futures

    done = 0
    try:
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=pool_context()) as pool:
            for result in pool.map(
                _fix_one,
                files,
                itertools.repeat(config),
                itertools.repeat(wrap_functions),
                itertools.repeat(renumber),
                chunksize=max(1, min(32, len(files) // (jobs * 4))),
            ):
                done += 1
                yield result
    except (concurrent.futures.process.BrokenProcessPool, OSError):
        # No worker processes here (a sandbox, an unimportable __main__): carry on in this one.
        for path in files[done:]:
            yield _fix_one(path, config, wrap_functions, renumber)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fix_source(
    data: bytes, path: Path, rel: str, config: Config, *, wrap_functions: bool = False
) -> FileResult:
    """Compute the rewrite of one file's bytes."""
    from pytest_ssot.codemods import rewrite

    result = FileResult(path, rel, before=data, after=data)
    facts = scan(result.before, rel, ENV_TARGETS, full=True)
    if facts.error is not None:
        result.skipped = facts.error
        return result
    findings = _static_findings(facts, config, rel)
    plan = plan_for(rel, config, wrap_functions=wrap_functions)
    if not findings and not _may_need_a_base(data, facts, plan):
        return result  # the common case in a migrated suite: no need for the concrete tree
    outcome = rewrite(data, plan, {(f.line, f.col): f.code for f in findings}, facts.suppressions)
    if outcome.error is not None:
        result.skipped = outcome.error
        return result
    pending = [f for f in findings if not _exempted(f, outcome.exempt)]
    problem = _verify(outcome, findings, rel, config) if outcome.code != result.before else None
    if problem is not None:
        result.skipped = problem
        result.manual = _manual(rel, pending, outcome.manual, fixed=set())
        return result
    result.after = outcome.code
    result.fixed = Counter(change.code for change in outcome.fixed)
    fixed = {(c.line, c.col) for c in outcome.fixed if c.code in STATIC_CODES}
    result.manual = _manual(rel, pending, outcome.manual, fixed)
    return result


def _may_need_a_base(data: bytes, facts: FileFacts, plan: Plan) -> bool:
    """Whether SSOT001 could have work here, judged from the scanner's facts (generously:
    the codemod decides for real)."""
    if NON_SSOT_TEST_CLASS.code not in plan.rules:
        return False
    if plan.functions and TEST_FUNCTION_RE.search(data):
        return True
    mapped = {name.rpartition(".")[2] for name in plan.base_map}
    ssot: set[str] = set()  # classes of this file that already derive from an SSOT base
    for qualname, info in facts.classes.items():  # in source order, so bases come first
        if any(base in plan.compliant or base in ssot for base in info.bases):
            ssot.add(qualname)
        else:
            name = qualname.rpartition(".")[2]
            if name.startswith("Test") or any(b.rpartition(".")[2] in mapped for b in info.bases):
                return True
    return False


def _verify(outcome: Outcome, before: list[Finding], rel: str, config: Config) -> str | None:
    """The safety net under every rewrite: the result parses, and the scanner finds no more
    than what was there minus what was fixed (a template must not bring violations back)."""
    facts = scan(outcome.code, rel, ENV_TARGETS, full=True)
    if facts.error is not None:
        return f"the rewrite would not parse ({facts.error}); left unchanged, please report it"
    after = Counter(f.code for f in _static_findings(facts, config, rel))
    expected = Counter(f.code for f in before)
    expected.subtract(Counter(c.code for c in outcome.fixed if c.code in STATIC_CODES))
    grown = sorted(code for code in after if after[code] > expected[code])
    if grown:
        return (
            f"the rewrite would leave {', '.join(grown)} violations it did not remove "
            "(check the [tool.ssot.fix] templates); left unchanged"
        )
    return None


def _manual(
    rel: str,
    findings: Iterable[Finding],
    reasons: Iterable[Manual],
    fixed: set[tuple[int, int]],
) -> list[ManualItem]:
    by_position: dict[tuple[str, int, int], str] = {}
    items: list[ManualItem] = []
    for reason in reasons:
        if reason.code in STATIC_CODES:
            by_position.setdefault((reason.code, reason.line, reason.col), reason.message)
        else:
            items.append(ManualItem(rel, reason.line, reason.code, reason.message))
    for finding in findings:
        if (finding.line, finding.col) in fixed:
            continue
        why = by_position.get((finding.code, finding.line, finding.col))
        if why is None:
            what = finding.message.partition(";")[0]
            why = f"{what}: not a shape ssot fix rewrites"
        items.append(ManualItem(rel, finding.line, finding.code, why))
    return sorted(items, key=lambda i: (i.line, i.code, i.message))


# -- writing -------------------------------------------------------------------------------------


def unified_diff(result: FileResult) -> bytes:
    """A patch of the file's own bytes, split where ``patch`` and ``git apply`` split lines
    (at LF only): text decoded and written again as UTF-8 would lose a BOM and change a
    latin-1 file's bytes, and a file with old Mac (CR) line endings is one line to them."""
    old, new = _lf_lines(result.before), _lf_lines(result.after)
    name = result.relpath.encode("utf-8", "surrogateescape")
    lines = difflib.diff_bytes(difflib.unified_diff, old, new, b"a/" + name, b"b/" + name)
    return b"".join(
        line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n"
        for line in lines
    )


def _lf_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    ended = [line + b"\n" for line in lines[:-1]]
    return [*ended, lines[-1]] if lines[-1] else ended


def write_patch(out: TextIO, patch: bytes) -> None:
    """``patch`` as it is where ``out`` has bytes underneath (stdout, a file); else (a
    StringIO) decoded as UTF-8, undecodable bytes kept as escapes."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(patch.decode("utf-8", "surrogateescape"))
        return
    out.flush()
    buffer.write(patch)
    buffer.flush()


def write_atomic(path: Path, data: bytes, expected: bytes) -> str | None:
    """Replace ``path`` with ``data`` via a temporary file in the same directory, keeping its
    permissions; refuse (returning why) when the file changed since it was read."""
    try:
        if path.read_bytes() != expected:
            return "changed on disk while ssot fix ran; run it again"
        mode = stat.S_IMODE(path.stat().st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".ssot-fix", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        return f"cannot be written: {exc.strerror or exc}"
    return None


# -- the command ---------------------------------------------------------------------------------


def usage_problems(paths: Iterable[Path], config: Config) -> list[str]:
    problems = [f"ssot fix: {p}: no such file or directory" for p in paths if not p.exists()]
    if not any(key in config.fix for key in (*FIX_CLASS_KEYS, *FIX_TEMPLATES, "base_map")):
        where = config.path or config.root / "pyproject.toml"
        problems.append(
            f"ssot fix: nothing to rewrite to: add a [tool.ssot.fix] table to {where} "
            '(base_class = "package.module:SSotBaseTestCase", env_get = '
            '"get_env().get({key}, {default})", env_import = "from ... import get_env", ...)'
        )
    return problems


def run(
    paths: list[Path],
    config: Config,
    *,
    diff: bool,
    wrap_functions: bool,
    out: TextIO,
    jobs: int | None = None,
    err: TextIO | None = None,
    settings: PytestSettings | None = None,
) -> int:
    """Fix the files under ``paths`` (default: the root) that pytest collects or loads there,
    with its ``settings`` (default: those of the root). Returns 0 when nothing failed, 1 when
    a file could not be written, 2 on a usage error (nothing to rewrite to, a missing path,
    libcst not installed). ``jobs``: worker processes (default: the usable cores).

    Usage errors go to ``err`` (default: ``out``), and so does the summary of a ``--diff`` run,
    so that ``ssot fix --diff > changes.patch`` writes nothing but the patch."""
    err = out if err is None else err
    try:
        import libcst  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=err)
        return 2
    paths = paths or [config.root]
    problems = usage_problems(paths, config)
    if problems:
        for problem in problems:
            print(problem, file=err)
        return 2
    if settings is None:
        settings = load_pytest_settings(config.root)
    files, results = collect(paths, config, settings)
    failed = False
    jobs = default_jobs() if jobs is None else jobs
    for result in fix_all(
        files, config, wrap_functions=wrap_functions, renumber=not diff, jobs=jobs
    ):
        results.append(result)
        if not result.changed:
            continue
        if diff:
            write_patch(out, unified_diff(result))
            continue
        not_written = write_atomic(result.path, result.after, result.before)
        if not_written is not None:
            failed = True
            result.skipped = not_written
        elif result.manual_after is not None:
            result.manual = result.manual_after
    for line in summary(results, len(files), diff=diff):
        print(line, file=err if diff else out)
    return 1 if failed else 0


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def summary(results: list[FileResult], considered: int, *, diff: bool) -> list[str]:
    """The closing report: files changed, violations fixed per rule, what is left to do."""
    changed = [r for r in results if r.changed]
    fixed: Counter[str] = Counter()
    for result in changed:
        fixed.update(result.fixed)
    verb = "would change" if diff else "changed"
    lines = [f"ssot fix: {len(changed)} of {_files(considered)} {verb}"]
    if diff:
        lines[0] += " (--diff: nothing was written)"
    total = sum(fixed.values())
    per_rule = ", ".join(f"{code} {fixed[code]}" for code in sorted(fixed))
    lines.append(f"fixed: {total} violations" + (f" ({per_rule})" if per_rule else ""))
    manual = sorted(
        (item for r in results for item in r.manual), key=lambda i: (i.path, i.line, i.code)
    )
    lines.append(f"left for manual work: {len(manual)}")
    lines.extend(f"  {item.render()}" for item in manual)
    skipped = [r for r in results if r.skipped is not None]
    if skipped:
        lines.append(f"left untouched: {_files(len(skipped))}")
        skipped.sort(key=lambda r: r.relpath)
        lines.extend(f"  {r.relpath}: {r.skipped}" for r in skipped)
    return lines
