"""Find test files and tests the way pytest would, without importing pytest or the tests.

The pytest configuration is read from the same files pytest reads (``pytest.toml``,
``pytest.ini``, ``pyproject.toml`` ``[tool.pytest]``/``[tool.pytest.ini_options]``, ``tox.ini``,
``setup.cfg``), found the same way (the first one walking up from the common ancestor of the
arguments). Files are found with ``testpaths``, ``python_files``, ``norecursedirs``,
``--ignore`` and the ``collect_ignore`` lists conftests spell out; tests with
``python_classes``/``python_functions``, unittest ``TestCase`` classes, inherited test
methods, ``__test__``, ``__init__``/``__new__``, abstract classes and literal
``parametrize`` lists. What pytest decides at run time (``pytest_generate_tests``, a
conftest's computed ignore lists) is out of reach and documented.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import dataclasses
import fnmatch
import functools
import os
import platform
import shlex
import sys
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_ssot.paths import prefix_or_glob
from pytest_ssot.paths import relpath as _slow_relpath
from pytest_ssot.resolver import (
    ClassRef,
    Constant,
    External,
    FuncRef,
    Listed,
    ModuleRef,
    Resolver,
    Target,
    Unresolved,
    external_facts,
    opaque,
    outside_not_a_class,
    standard_object,
)
from pytest_ssot.scanner import (
    COMPARISONS,
    FunctionInfo,
    Mark,
    Structure,
    direct_parameters,
    listed_elements,
    listed_ids,
    parameter_id,
    refusal,
    resolved_ids,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

CONFIG_NAMES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
DEFAULT_NORECURSEDIRS = (
    "*.egg",
    ".*",
    "_darcs",
    "build",
    "CVS",
    "dist",
    "node_modules",
    "venv",
    "{arch}",
)


class DiscoveryError(Exception):
    """The pytest configuration cannot be read, or a path does not exist (a usage error)."""


class _Refused(Exception):
    """pytest fails to collect the module or class being collected (its collection error)."""


@dataclasses.dataclass(frozen=True)
class PytestSettings:
    """The parts of the pytest configuration that decide which files and tests exist."""

    rootdir: Path
    inifile: Path | None = None
    python_files: tuple[str, ...] = ("test_*.py", "*_test.py")
    python_classes: tuple[str, ...] = ("Test",)
    python_functions: tuple[str, ...] = ("test",)
    testpaths: tuple[str, ...] = ()
    norecursedirs: tuple[str, ...] = DEFAULT_NORECURSEDIRS
    pythonpath: tuple[Path, ...] = ()
    usefixtures: tuple[str, ...] = ()
    collect_imported_tests: bool = True
    ignore: tuple[Path, ...] = ()
    ignore_glob: tuple[str, ...] = ()
    cache_dir: Path | None = None
    # Not configuration but the installed pytest's own: from 8.4 the one test of an empty
    # parameter set is ``test[NOTSET]``, before it ``test[name0]`` (``test[a0-b0]``).
    notset_ids: bool = True

    def matches_class(self, name: str) -> bool:
        return prefix_or_glob(name, self.python_classes)

    def matches_function(self, name: str) -> bool:
        return prefix_or_glob(name, self.python_functions)


def relpath(path: Path, root: Path) -> str:
    """:func:`pytest_ssot.paths.relpath` without its system calls for the common case of a
    path under the root (called for every file and test of a large suite)."""
    text, base = str(path), str(root)
    if text.startswith(base) and text[len(base) : len(base) + 1] == os.sep:
        return text[len(base) + 1 :].replace(os.sep, "/")
    return _slow_relpath(path, root)


def fnmatch_path(pattern: str, path: Path) -> bool:
    """pytest's path matching: a pattern without ``/`` matches the name; one with ``/``
    matches the end of the absolute path."""
    if "/" not in pattern and os.sep not in pattern:
        return fnmatch.fnmatch(path.name, pattern)
    text = str(path).replace(os.sep, "/")
    if not os.path.isabs(pattern):
        pattern = "*/" + pattern
    return fnmatch.fnmatch(text, pattern.replace(os.sep, "/"))


# -- configuration -------------------------------------------------------------------------
def _read_ini_section(path: Path, section: str) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        raise DiscoveryError(f"{path}: cannot read the pytest configuration: {exc}") from None
    if not parser.has_section(section):
        return None
    return dict(parser.items(section))


def read_pytest_config(path: Path) -> dict[str, Any] | None:
    """The pytest options in one candidate file, or None when it holds no pytest section."""
    if path.suffix == ".ini":
        section = _read_ini_section(path, "pytest")
        if section is None and path.name in ("pytest.ini", ".pytest.ini"):
            return {}  # always the configuration, even when empty
        return section
    if path.suffix == ".cfg":
        return _read_ini_section(path, "tool:pytest")
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DiscoveryError(f"{path}: cannot read the pytest configuration: {exc}") from None
        if path.name in ("pytest.toml", ".pytest.toml"):
            table = data.get("pytest", {})
            return dict(table) if isinstance(table, dict) else {}
        tools = data.get("tool", {})
        tool = tools.get("pytest") if isinstance(tools, dict) else None
        if not isinstance(tool, dict):
            return None
        native = {k: v for k, v in tool.items() if k != "ini_options"}
        if native:
            return native
        ini = tool.get("ini_options")
        return dict(ini) if isinstance(ini, dict) else None
    return None


def locate_config(start: Path) -> tuple[Path | None, Path | None, dict[str, Any]]:
    """(rootdir, inifile, options) as pytest finds them walking up from ``start``."""
    first_pyproject: Path | None = None
    for base in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = base / name
            if not candidate.is_file():
                continue
            if name == "pyproject.toml" and first_pyproject is None:
                first_pyproject = candidate
            options = read_pytest_config(candidate)
            if options is not None:
                return base, candidate, options
    if first_pyproject is not None:
        return first_pyproject.parent, first_pyproject, {}
    return None, None, {}


def common_ancestor(paths: Iterable[Path], default: Path) -> Path:
    existing = [p for p in paths if p.exists()]
    if not existing:
        return default
    ancestor = Path(os.path.commonpath([str(p) for p in existing]))
    return ancestor.parent if ancestor.is_file() else ancestor


def _args(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(shlex.split(value))
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _lines(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for line in value.splitlines() for part in line.split())
    return _args(value)


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return default


def resolved(path: Path) -> Path:
    """``path`` made absolute with its symlinks followed; a loop of symlinks is a usage error
    naming it. ``Path.resolve`` raises RuntimeError for one before Python 3.13, and from 3.13
    returns a path inside the loop, which only ``stat`` then tells apart from a missing one."""
    try:
        found = path.resolve()
        if path.is_symlink():
            with contextlib.suppress(FileNotFoundError):  # dangling: missing, as in pytest
                os.stat(path)
    except (RuntimeError, OSError) as exc:
        raise DiscoveryError(
            f"{path}: cannot follow it ({exc}); pass a path without a symlink loop"
        ) from None
    return found


def load_pytest_settings(invocation_dir: Path, args: Sequence[Path] = ()) -> PytestSettings:
    """Read the pytest configuration the way pytest would for these arguments."""
    invocation_dir = invocation_dir.resolve()
    dirs = [a if a.is_dir() else a.parent for a in map(resolved, args) if a.exists()]
    ancestor = common_ancestor(dirs, invocation_dir)
    rootdir, inifile, options = locate_config(ancestor)
    if rootdir is None:
        rootdir = next(
            (d for d in (ancestor, *ancestor.parents) if (d / "setup.py").is_file()), None
        )
        if rootdir is None:
            rootdir = common_ancestor([invocation_dir, ancestor], ancestor)
            if rootdir.parent == rootdir:
                rootdir = ancestor
    settings: dict[str, Any] = {"rootdir": rootdir, "inifile": inifile}
    for key in ("python_files", "python_classes", "python_functions", "norecursedirs"):
        if key in options:
            settings[key] = _args(options[key])
    if "testpaths" in options:
        settings["testpaths"] = _args(options["testpaths"])
    if "usefixtures" in options:
        settings["usefixtures"] = _args(options["usefixtures"])
    base = inifile.parent if inifile is not None else rootdir
    if "pythonpath" in options:
        settings["pythonpath"] = tuple(base / p for p in _lines(options["pythonpath"]))
    if "collect_imported_tests" in options:
        settings["collect_imported_tests"] = _bool(options["collect_imported_tests"], True)
    settings["cache_dir"] = rootdir / os.path.expandvars(
        str(options.get("cache_dir", ".pytest_cache"))
    )
    try:
        addopts = [
            *_args(options.get("addopts", "")),
            *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        ]
    except ValueError as exc:  # an unclosed quote: pytest refuses it too
        where = f"{inifile} (addopts) or PYTEST_ADDOPTS" if inifile else "PYTEST_ADDOPTS"
        raise DiscoveryError(f"{where}: cannot split the pytest options: {exc}") from None
    ignore, ignore_glob = _ignores(addopts, invocation_dir)
    settings["ignore"], settings["ignore_glob"] = ignore, ignore_glob
    settings["notset_ids"] = names_empty_sets_notset(_installed_pytest())
    return PytestSettings(**settings)


def _installed_pytest() -> str | None:
    """The installed pytest's version, read from its metadata (the core never imports it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest")
    except PackageNotFoundError:
        return None


def names_empty_sets_notset(pytest_version: str | None) -> bool:
    """Whether this pytest names the one test of an empty parameter set ``NOTSET`` (8.4 and
    newer; an unknown or unreadable version is taken to be a new one)."""
    from packaging.version import InvalidVersion, Version

    if pytest_version is None:
        return True
    try:
        return Version(pytest_version).release >= (8, 4)
    except InvalidVersion:
        return True


def _ignores(addopts: Sequence[str], base: Path) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    ignore: list[Path] = []
    globs: list[str] = []
    words = list(addopts)
    for index, word in enumerate(words):
        for option, target in (("--ignore", ignore), ("--ignore-glob", globs)):
            value = None
            if word == option and index + 1 < len(words):
                value = words[index + 1]
            elif word.startswith(option + "="):
                value = word[len(option) + 1 :]
            if value is None:
                continue
            if target is ignore:
                ignore.append((base / value).resolve())
            else:
                globs.append(str(base / value))
    return tuple(ignore), tuple(globs)


# -- files -----------------------------------------------------------------------------------
def default_paths(settings: PytestSettings, invocation_dir: Path) -> list[Path]:
    """pytest's default arguments: ``testpaths`` when run from the rootdir, else the cwd."""
    if settings.testpaths and invocation_dir.resolve() == settings.rootdir:
        found: list[Path] = []
        for pattern in settings.testpaths:
            matches = (
                sorted(settings.rootdir.glob(pattern))
                if any(c in pattern for c in "*?[")
                else [settings.rootdir / pattern]
            )
            found.extend(m for m in matches if m.exists())
        if found:
            return found
    return [invocation_dir.resolve()]


def _in_venv(path: Path) -> bool:
    try:
        return (path / "pyvenv.cfg").is_file() or (path / "conda-meta" / "history").is_file()
    except OSError:
        return False


def _ignored(path: Path, settings: PytestSettings, conftests: _IgnoreLists) -> bool:
    if path in settings.ignore or path in conftests.paths:
        return True
    return any(
        fnmatch.fnmatch(str(path), pattern) for pattern in (*settings.ignore_glob, *conftests.globs)
    )


def find_test_files(settings: PytestSettings, paths: Sequence[Path]) -> list[Path]:
    """Test modules under ``paths`` in pytest's order; a file named explicitly is a test
    module whatever its name. Raises DiscoveryError for a path that does not exist."""
    files: list[Path] = []
    seen: set[Path] = set()
    for arg in paths:
        path = arg.resolve()
        if not path.exists():
            raise DiscoveryError(f"file or directory not found: {arg}")
        if path.is_file():
            if path.suffix == ".py" and path not in seen:
                seen.add(path)
                files.append(path)
            continue
        for found in _walk(path, settings, _inherited_ignores(path, settings)):
            if found not in seen:
                seen.add(found)
                files.append(found)
    return files


def collected_files(settings: PytestSettings, directory: Path) -> Iterator[Path]:
    """The test modules pytest collects under ``directory``, and the conftest.py of each
    directory it collects from (pytest loads them): what is test code there to pytest."""
    return _walk(directory, settings, _inherited_ignores(directory, settings), conftests=True)


def _walk(
    directory: Path, settings: PytestSettings, inherited: _IgnoreLists, *, conftests: bool = False
) -> Iterator[Path]:
    ignores = _ignores_here(directory, settings, inherited)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
            is_file = not is_dir and entry.is_file(follow_symlinks=True)
        except OSError:  # a symlink loop: pytest skips such entries too
            continue
        if is_dir:
            if entry.name == "__pycache__" or _ignored(path, settings, ignores) or _in_venv(path):
                continue
            if any(fnmatch_path(p, path) for p in settings.norecursedirs):
                continue
            yield from _walk(path, settings, ignores, conftests=conftests)
        elif is_file and entry.name == "conftest.py":
            if conftests:
                yield path
        elif is_file and entry.name.endswith(".py"):
            if _ignored(path, settings, ignores):
                continue
            if any(fnmatch_path(p, path) for p in settings.python_files):
                yield path


# -- conftest ignore lists -------------------------------------------------------------------
IGNORE_LISTS = ("collect_ignore", "collect_ignore_glob")
# The modules a conftest's tests on the platform name (`if sys.version_info < (3, 12):`).
_PLATFORM_MODULES = frozenset({"sys", "os", "platform"})
_PLATFORM_FACTS: dict[tuple[str, str], Callable[[], Any]] = {
    ("sys", "version_info"): lambda: sys.version_info,
    ("sys", "platform"): lambda: sys.platform,
    ("sys", "implementation"): lambda: sys.implementation,
    ("os", "name"): lambda: os.name,
}
_PLATFORM_CALLS: dict[tuple[str, str], Callable[[], Any]] = {
    ("platform", "system"): platform.system,
    ("platform", "python_implementation"): platform.python_implementation,
}
_FACT_ATTRIBUTES = frozenset({"major", "minor", "micro", "releaselevel", "name"})
_UNKNOWN: Any = object()
_CHANGING = (
    ast.Call,
    ast.Attribute,
    ast.Subscript,
    ast.NamedExpr,
    ast.AugAssign,
    ast.Global,
    ast.Delete,
)


@dataclasses.dataclass(frozen=True, slots=True)
class _IgnoreLists:
    """What conftest ``collect_ignore`` (paths) and ``collect_ignore_glob`` (patterns) keep
    out of one directory's entries. pytest takes each list from the nearest conftest that
    defines it, without merging."""

    paths: tuple[Path, ...] = ()
    globs: tuple[str, ...] = ()


def _inherited_ignores(directory: Path, settings: PytestSettings) -> _IgnoreLists:
    """The lists in effect where ``directory`` is an entry: from the conftests of its parent
    and above, up to the rootdir (pytest loads none above it)."""
    if settings.rootdir not in directory.parents:
        return _IgnoreLists()
    parent = directory.parent
    return _ignores_here(parent, settings, _inherited_ignores(parent, settings))


def _ignores_here(
    directory: Path, settings: PytestSettings, inherited: _IgnoreLists
) -> _IgnoreLists:
    """The lists in effect for ``directory``'s entries: its own conftest's where it defines
    them, entries relative to it as pytest joins them."""
    if directory != settings.rootdir and settings.rootdir not in directory.parents:
        return inherited
    try:
        source = (directory / "conftest.py").read_bytes()
    except OSError:  # none here (an unreadable one fails pytest in its own words)
        return inherited
    defined = conftest_ignore_lists(source)

    def joined(entry: str) -> str:
        return os.path.abspath(directory / entry.replace("/", os.sep))

    paths, globs = inherited.paths, inherited.globs
    if "collect_ignore" in defined:
        paths = tuple(Path(joined(entry)) for entry in defined["collect_ignore"])
    if "collect_ignore_glob" in defined:
        globs = tuple(joined(entry) for entry in defined["collect_ignore_glob"])
    return _IgnoreLists(paths, globs)


def conftest_ignore_lists(source: bytes) -> dict[str, tuple[str, ...]]:
    """Per ignore list a conftest defines as it is imported, the entries it surely holds,
    read from its module code: literal strings assigned, appended, extended or added with
    ``+=``, also under ``if`` tests on ``sys.version_info``, ``sys.platform``, ``os.name``
    or ``platform.system()`` (told for this interpreter, the one that runs the suite). An
    entry the source does not tell (a branch on anything else, a ``try``, a loop, a
    computed path, a list handed to a function) is left out, so its file is checked rather
    than skipped."""
    reader = _IgnoreListReader()
    try:
        reader.run(ast.parse(source).body, sure=True)
    except (SyntaxError, ValueError):  # pytest fails on it with its own error
        return {}
    except (RecursionError, MemoryError):  # nested too deeply to follow: nothing is sure
        return {}
    return {name: tuple(entries) for name, entries in reader.lists.items()}


class _IgnoreListReader:
    """Runs a conftest's module-level statements over its ignore lists, as far as the
    source tells. ``sure``: the statement runs whenever the module is imported."""

    def __init__(self) -> None:
        self.lists: dict[str, list[str]] = {}  # absent: not defined
        self.modules: dict[str, str] = {}  # a local name bound to sys, os or platform

    def run(self, statements: Iterable[ast.stmt], *, sure: bool) -> None:
        for statement in statements:
            self._statement(statement, sure=sure)

    def _statement(self, statement: ast.stmt, *, sure: bool) -> None:
        if isinstance(statement, ast.If):
            self._doubt_changes(statement.test)
            truth = self._truth(statement.test)
            if truth is None:
                self.run(statement.body, sure=False)
                self.run(statement.orelse, sure=False)
            else:
                self.run(statement.body if truth else statement.orelse, sure=sure)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if isinstance(statement, ast.Import):
                    top = alias.name.partition(".")[0]  # `import os.path` binds os
                    bound, module = (
                        (top, top) if alias.asname is None else (alias.asname, alias.name)
                    )
                else:
                    bound, module = alias.asname or alias.name, ""
                self._bound(bound, sure=sure, module=module)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            value = statement.value
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            entries = self._strings(value)
            self._doubt_changes(value)
            for target in targets:
                if isinstance(target, ast.Name):
                    if target.id in IGNORE_LISTS:
                        self._assign(target.id, entries, sure=sure)
                    else:
                        self._bound(target.id, sure=sure)
                else:
                    self._doubt_named(target)
            if isinstance(value, ast.Name):  # an alias: changed through either name
                self._doubt_named(value)
                for target in targets:
                    self._doubt_named(target)
        elif (
            isinstance(statement, ast.AugAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id in IGNORE_LISTS
            and isinstance(statement.op, ast.Add)
        ):
            entries = self._strings(statement.value)
            self._doubt_changes(statement.value)
            self._add(statement.target.id, entries, sure=sure)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._call(statement.value, sure=sure)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # Its body runs later if at all (a hook may, before pytest reads the lists): what
            # it may change is doubted, what it only reads is not.
            self._doubt_changes(statement)
            self._bound(statement.name, sure=sure)
        else:
            # A loop, try, with or match runs its parts maybe, or more than once; any other
            # statement naming a list (`del`, `collect_ignore[0] = ...`) may change it.
            blocks = ("body", "orelse", "finalbody", "handlers", "cases")
            for field, value in ast.iter_fields(statement):
                if field not in blocks:
                    if isinstance(value, ast.AST):
                        self._doubt_named(value)
                    elif isinstance(value, list):
                        for item in value:
                            if isinstance(item, ast.AST):
                                self._doubt_named(item)
            for block in ("body", "orelse", "finalbody"):
                self.run(getattr(statement, block, ()), sure=False)
            for part in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
                self.run(part.body, sure=False)

    def _call(self, call: ast.Call, *, sure: bool) -> None:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in IGNORE_LISTS
            and not call.keywords
        ):
            args = call.args
            added: ast.expr | None = None
            if func.attr == "append" and len(args) == 1:
                added = ast.List(elts=list(args))
            elif func.attr == "extend" and len(args) == 1:
                added = args[0]
            elif func.attr == "insert" and len(args) == 2:
                added = ast.List(elts=[args[1]])
            if added is not None:
                entries = self._strings(added)
                for arg in args:
                    self._doubt_changes(arg)
                self._add(func.value.id, entries, sure=sure)
                return
        self._doubt_named(call)

    def _bound(self, name: str, *, sure: bool, module: str = "") -> None:
        if name in IGNORE_LISTS:
            self._assign(name, None, sure=sure)
        if module in _PLATFORM_MODULES and sure:
            self.modules[name] = module
        else:
            self.modules.pop(name, None)

    def _assign(self, name: str, entries: list[str] | None, *, sure: bool) -> None:
        if sure:
            self.lists[name] = list(entries or ())
        else:  # maybe these entries, maybe those before (or none: shadowing the outer lists)
            self.lists[name] = [e for e in self.lists.get(name, ()) if e in (entries or ())]

    def _add(self, name: str, entries: list[str] | None, *, sure: bool) -> None:
        if sure and name in self.lists:
            self.lists[name].extend(entries or ())

    def _doubt_changes(self, node: ast.AST) -> None:
        """Doubt the lists code may change as it runs (by a call, through an attribute or
        item of theirs, or rebinding a global); naming one to read it changes nothing."""
        for sub in ast.walk(node):
            if isinstance(sub, _CHANGING):
                self._doubt_named(sub)

    def _doubt_named(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in self.lists:
                self.lists[sub.id] = []
            elif isinstance(sub, ast.Global):
                for name in sub.names:
                    if name in self.lists:
                        self.lists[name] = []

    def _strings(self, node: ast.expr) -> list[str] | None:
        """The string entries a list display (or a sum of them) surely holds; None: not a
        value this reader follows."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return [
                e.value
                for e in node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._strings(node.left), self._strings(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.Name) and node.id in IGNORE_LISTS:
            return list(self.lists.get(node.id, ()))
        if isinstance(node, ast.IfExp):
            truth = self._truth(node.test)
            if truth is not None:
                return self._strings(node.body if truth else node.orelse)
            body, orelse = self._strings(node.body), self._strings(node.orelse)
            return None if body is None or orelse is None else [e for e in body if e in orelse]
        return None

    def _truth(self, test: ast.expr) -> bool | None:
        value = self._value(test)
        return None if value is _UNKNOWN else bool(value)

    def _value(self, node: ast.expr) -> Any:
        """What ``node`` evaluates to on this interpreter, if it only reads constants and the
        platform's facts; _UNKNOWN otherwise."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Tuple):
            items = [self._value(e) for e in node.elts]
            return _UNKNOWN if _UNKNOWN in items else tuple(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = self._value(node.operand)
            return _UNKNOWN if operand is _UNKNOWN else not operand
        if isinstance(node, ast.BoolOp):
            truths = [self._truth(v) for v in node.values]
            decisive = isinstance(node.op, ast.Or)  # what settles it: any True for or
            if decisive in truths:
                return decisive
            return _UNKNOWN if None in truths else not decisive
        if isinstance(node, ast.Compare):
            left = self._value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self._value(comparator)
                # Identity is the interpreter's business: which objects a conftest gets.
                identity = isinstance(op, (ast.Is, ast.IsNot))
                if left is _UNKNOWN or right is _UNKNOWN or identity:
                    return _UNKNOWN
                try:
                    if not COMPARISONS[type(op)](left, right):
                        return False
                except TypeError:
                    return _UNKNOWN
                left = right
            return True
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in self.modules:
                fact = _PLATFORM_FACTS.get((self.modules[node.value.id], node.attr))
                return _UNKNOWN if fact is None else fact()
            owner = self._value(node.value)
            if owner is _UNKNOWN or node.attr not in _FACT_ATTRIBUTES:
                return _UNKNOWN
            return getattr(owner, node.attr, _UNKNOWN)
        if isinstance(node, ast.Subscript):
            owner, index = self._value(node.value), self._index(node.slice)
            if owner is _UNKNOWN or index is _UNKNOWN or not isinstance(owner, (tuple, str)):
                return _UNKNOWN
            try:
                return owner[index]
            except (IndexError, TypeError):
                return _UNKNOWN
        if (
            isinstance(node, ast.Call)
            and not node.keywords
            and isinstance(node.func, ast.Attribute)
        ):
            func = node.func
            if isinstance(func.value, ast.Name) and func.value.id in self.modules:
                call = _PLATFORM_CALLS.get((self.modules[func.value.id], func.attr))
                return _UNKNOWN if call is None or node.args else call()
            owner = self._value(func.value)
            args = [self._value(a) for a in node.args]
            if (
                isinstance(owner, str)
                and func.attr in ("startswith", "endswith")
                and len(args) == 1
                and isinstance(args[0], (str, tuple))
            ):
                try:
                    return getattr(owner, func.attr)(args[0])
                except TypeError:
                    return _UNKNOWN
        return _UNKNOWN

    def _index(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Slice):
            parts = [
                None if p is None else self._value(p) for p in (node.lower, node.upper, node.step)
            ]
            if _UNKNOWN in parts or not all(p is None or type(p) is int for p in parts):
                return _UNKNOWN
            return slice(*parts)
        index = self._value(node)
        return index if type(index) is int else _UNKNOWN


def conftests_for(test_file: Path, rootdir: Path) -> list[Path]:
    """The ``conftest.py`` files that apply to a test file, nearest first, up to the rootdir
    (the plugin attributes their findings the same way)."""
    found: list[Path] = []
    directory = test_file.parent
    while True:
        candidate = directory / "conftest.py"
        if candidate.is_file():
            found.append(candidate)
        if (
            directory == rootdir
            or directory.parent == directory
            or rootdir not in directory.parents
        ):
            return found
        directory = directory.parent


# -- tests -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class StaticTest:
    """One test as pytest would collect it, read from the source."""

    nodeid: str
    path: str  # rootdir-relative module path
    file: str  # the module it is collected from
    cls: ClassRef | None  # the collecting class
    name: str  # the function's original name
    line: int  # where pytest locates the function (first decorator)
    # The names of the fixtures that run for it (a directly parametrized name's do not).
    fixturenames: frozenset[str]
    # The fixture definitions that run for it, as (defining file, name): a definition
    # overridden nearer the test (its class, its module, a deeper conftest.py) is not one.
    fixturedefs: frozenset[tuple[str, str]] = frozenset()
    marks: tuple[tuple[str, Mark], ...] = ()  # (node id of the node carrying it, mark)
    unittest: bool = False
    # Where the code that runs for it is defined, as the plugin's attribution sees it: its
    # class and every project base (file, qualname), and the test function itself.
    # Paths as strings: comparing them is much cheaper than comparing Path objects.
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    function: tuple[str, tuple[str, ...]] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UnresolvedClass:
    """A class whose status cannot be decided statically (reported, never guessed)."""

    path: str
    line: int
    qualname: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class FixtureDef:
    """One definition of a fixture: the file that defines it and the fixtures it requests;
    for a parametrized one, its ``params`` ids (see :class:`FunctionInfo`) and its scope."""

    origin: str
    args: tuple[str, ...]
    params: tuple[Any, ...] | str | dict[str, Any] | None = None
    scope: str = "function"


@dataclasses.dataclass
class Fixtures:
    """Fixture definitions visible at some level: per name, the nearest definition first
    (pytest runs that one; it runs the next only when the nearer one requests its own
    name), and the autouse names."""

    defs: dict[str, list[FixtureDef]] = dataclasses.field(default_factory=dict)
    autouse: list[str] = dataclasses.field(default_factory=list)
    parametrized: bool = False  # whether any definition has params (most suites: none)

    def add(
        self, functions: Mapping[str, FunctionInfo], prefix: str = "", origin: str = ""
    ) -> None:
        for qualname, info in functions.items():
            if info.fixture is None:
                continue
            owner, _, _ = qualname.rpartition(".")
            if owner != prefix:
                continue
            definition = FixtureDef(origin, info.args, info.params, info.scope)
            self.defs.setdefault(info.fixture, []).append(definition)
            self.parametrized |= info.params is not None
            if info.autouse and info.fixture not in self.autouse:
                self.autouse.append(info.fixture)

    def extend(self, other: Fixtures) -> None:
        """Add the definitions of a level farther from the tests (an outer conftest.py)."""
        for name, defs in other.defs.items():
            self.defs.setdefault(name, []).extend(defs)
        self.parametrized |= other.parametrized
        self.autouse.extend(a for a in other.autouse if a not in self.autouse)

    def inherit(self, base: Fixtures) -> None:
        """Add what a base class defines and the class (or a nearer base) does not: a class
        holds one definition per name, the first along its MRO."""
        for name, defs in base.defs.items():
            if name not in self.defs:
                self.defs[name] = list(defs)
        self.parametrized |= base.parametrized
        self.autouse.extend(a for a in base.autouse if a not in self.autouse)


def fixtures_of(structure: Structure | None, owner: str = "", origin: str = "") -> Fixtures:
    """The fixtures a module (or its class ``owner``) defines; ``origin`` names its file."""
    fixtures = Fixtures()
    if structure is not None:
        fixtures.add(structure.functions, owner, origin)
    return fixtures


Closure = tuple[frozenset[str], frozenset[tuple[str, str]]]


# pytest sets a test's fixtures up widest scope first, and parametrizes them in that order.
_SCOPE_RANK = {"session": 4, "package": 3, "module": 2, "class": 1}


def fixture_params(
    names: Sequence[str], visible: Fixtures, direct: Container[str], marked: Container[str]
) -> list[tuple[str, FixtureDef]]:
    """The parametrized fixtures that make a test several (``@pytest.fixture(params=...)``),
    each as its name and the definition whose params it takes, in the order pytest
    parametrizes them (its ``pytest_generate_tests``): by the test's fixture closure
    (``names``, in the order :func:`closure` finds them), widest scope first; a name a
    ``parametrize`` mark names is the mark's; the nearest definition's params, else those of
    the one it overrides while it requests its own name."""

    def rank(name: str) -> int:
        defs = visible.defs.get(name)
        return 0 if not defs or name in direct else _SCOPE_RANK.get(defs[0].scope, 0)

    found: list[tuple[str, FixtureDef]] = []
    for name in sorted(names, key=rank, reverse=True):
        if name in marked:
            continue
        for definition in visible.defs.get(name, ()):
            if definition.params is not None:
                found.append((name, definition))
                break
            if name not in definition.args:
                break
    return found


def closure(
    initial: Iterable[str], visible: Fixtures, direct: Container[str] = ()
) -> tuple[list[str], set[tuple[str, str]]]:
    """Every fixture name a test requests, directly or through other fixtures, in the order
    pytest lists them (the test's own, then each one found through them), and the
    definitions that run for it as ``(origin, name)``, resolved as pytest resolves them: the
    nearest definition of a name, and the one after it only while a definition requests its
    own name (override and extend). ``direct`` holds the directly parametrized names: no
    definition of theirs runs, nor what it requests."""
    initial = list(dict.fromkeys(initial))
    names: list[str] = list(initial)
    used: set[tuple[str, str]] = set()
    depth: dict[str, int] = {}  # the definition of a name being followed (pytest's stack)

    def follow(name: str) -> None:
        if depth.get(name) == 0:
            return  # already followed from its nearest definition
        if name not in names:
            names.append(name)
        if name in direct:
            return  # the parameter's value stands in for every definition of the name
        defs = visible.defs.get(name)
        index = depth.get(name, 0)
        if not defs or index >= len(defs):
            return
        definition = defs[index]
        used.add((definition.origin, name))
        depth[name] = index + 1
        for arg in definition.args:
            follow(arg)
        depth[name] = index

    for name in initial:
        follow(name)
    return names, used


# pytest's own fixtures: none of them requests a fixture of the suite's.
PYTEST_FIXTURES = frozenset(
    {
        "cache",
        "capfd",
        "capfdbinary",
        "caplog",
        "capsys",
        "capsysbinary",
        "capteesys",
        "doctest_namespace",
        "monkeypatch",
        "pytestconfig",
        "pytester",
        "record_property",
        "record_testsuite_property",
        "record_xml_attribute",
        "recwarn",
        "request",
        "subtests",
        "testdir",
        "tmp_path",
        "tmp_path_factory",
        "tmpdir",
        "tmpdir_factory",
    }
)


def _usefixtures(marks: Iterable[Mark]) -> list[str]:
    return [a for m in marks if m.name == "usefixtures" for a in m.args if isinstance(a, str)]


class ModuleCollector:
    """Collects the tests of one module from its structure and the resolver."""

    def __init__(
        self,
        settings: PytestSettings,
        resolver: Resolver,
        module_path: Path,
        structure: Structure,
        outer_fixtures: Fixtures,
        interned: dict[Closure, Closure] | None = None,
        barren: set[tuple[ClassRef, str]] | None = None,
    ) -> None:
        self.settings = settings
        # Most tests request the same fixtures: one set shared by all, not one per test.
        self._interned = interned if interned is not None else {}
        # Imported classes that yield no test (the base class every module imports): shared
        # by the collectors of one check, so each is looked at once.
        self._barren = barren if barren is not None else set()
        self.resolver = resolver
        self.path = module_path
        self.file = str(module_path)
        self.rel = relpath(module_path, settings.rootdir)
        self.structure = structure
        self.module = resolver.module_name(module_path)
        self.fixtures = fixtures_of(structure, origin=self.file)
        self.fixtures.extend(outer_fixtures)
        self.tests: list[StaticTest] = []
        self.unresolved: list[UnresolvedClass] = []
        # Why pytest fails to collect the module, or classes of it, as its collection errors
        # say: their tests are not collected.
        self.refused: list[str] = []

    def collect(self) -> tuple[list[StaticTest], list[UnresolvedClass]]:
        if self._skipped():
            return self.tests, self.unresolved
        try:
            self._collect_module()
        except _Refused as refused:
            # pytest collects none of the module: neither its functions nor its classes.
            self.tests.clear()
            self.unresolved.clear()
            self.refused[:] = [f"the module: {refused}"]
        return self.tests, self.unresolved

    def _collect_module(self) -> None:
        final: dict[str, Any] = {}
        for binding in self.structure.bindings:
            if binding.kind != "star":
                final[binding.name] = binding
        module_marks = [(self.rel, m) for m in self.structure.marks]
        for name, binding in final.items():
            if binding.kind == "class":
                self._class(
                    name, ClassRef(self.path, binding.target, self.module), module_marks, self.rel
                )
            elif binding.kind == "def":
                info = self.structure.functions.get(binding.target)
                if (
                    info is not None
                    and self.settings.matches_function(name)
                    and info.fixture is None
                ):
                    origin = (self.file, (binding.target,))
                    self._function(name, info, None, module_marks, self.rel, None, origin, ())
            elif (
                binding.kind in ("from", "import", "alias") and self.settings.collect_imported_tests
            ):
                self._imported(name, binding, module_marks)

    def _skipped(self) -> bool:
        """Whether pytest skips the whole module as it imports it: it skips itself, or
        ``pytest.importorskip`` names a module that is neither in the project nor installed
        (a module that is there is taken to import, whatever its version)."""
        return self.structure.skipped or any(
            isinstance(self.resolver.module(name), Unresolved) for name in self.structure.requires
        )

    def _imported(self, name: str, binding: Any, module_marks: list[tuple[str, Mark]]) -> None:
        if binding.kind == "import":
            return
        targets = self.resolver.lookup(self.path, name, None)
        if len(targets) != 1:
            return
        target = targets[0]
        if isinstance(target, External) and (
            (self.settings.matches_class(name) and opaque(target))
            or self.settings.matches_function(name)
        ):
            # A class or test function imported from an installed package is collected too.
            found = self.resolver.installed_target(target.dotted)
            if isinstance(found, (ClassRef, FuncRef)):
                target = found
        if isinstance(target, ClassRef):
            if (target, name) in self._barren:
                return
            before = (len(self.tests), len(self.unresolved))
            self._class(name, target, module_marks, self.rel, imported=True)
            if (len(self.tests), len(self.unresolved)) == before:
                self._barren.add((target, name))
        elif isinstance(target, FuncRef) and self.settings.matches_function(name):
            structure = self.resolver.structure(target.path)
            info = structure.functions.get(target.qualname) if structure else None
            if info is not None and info.fixture is None and "." not in target.qualname:
                origin = (str(target.path), (target.qualname,))
                self._function(name, info, None, module_marks, self.rel, None, origin, ())

    # -- classes -------------------------------------------------------------------------------
    def _class(
        self,
        name: str,
        ref: ClassRef,
        outer_marks: list[tuple[str, Mark]],
        parent_nodeid: str,
        *,
        imported: bool = False,
    ) -> None:
        detail = self.resolver.detail(ref)
        if detail is None:
            return
        mro, problems = self.resolver.mro(ref, installed=True)
        is_unittest: bool | None = False
        opaque: list[str] = []
        for entry in mro:
            if isinstance(entry, External):
                unit, _, _, _ = external_facts(entry.dotted)
                if unit is None and entry.dotted not in ("builtins.object",):
                    opaque.append(entry.dotted)
                elif unit:
                    is_unittest = True
        if (problems or opaque) and not is_unittest:
            is_unittest = None
        nodeid = f"{parent_nodeid}::{name}"
        if is_unittest is None and not self.settings.matches_class(name):
            if not imported and self._has_tests(mro):
                reason = "; ".join(problems) or (
                    f"inherits from {', '.join(opaque)}, which is outside the project"
                )
                self.unresolved.append(
                    UnresolvedClass(
                        relpath(ref.path, self.settings.rootdir),
                        detail.line,
                        ref.qualname,
                        f"cannot tell whether pytest collects it: {reason}",
                    )
                )
            return
        if self._attr(mro, "__test__") is False:
            return
        test_attr = self._attr(mro, "__test__")
        if not is_unittest and not (self.settings.matches_class(name) or test_attr is True):
            return
        if self._is_abstract(mro):
            return
        if not is_unittest and (self._defines(mro, "__init__") or self._defines(mro, "__new__")):
            return
        marks = [
            (nodeid, m)
            for entry in mro
            if isinstance(entry, ClassRef)
            for m in self._class_marks(entry)
        ]
        all_marks = [*marks, *outer_marks]
        own = [
            found
            for entry in mro
            if isinstance(entry, ClassRef)
            and (
                found := fixtures_of(
                    self.resolver.structure(entry.path), entry.qualname, str(entry.path)
                )
            ).defs
        ]
        visible = self.fixtures  # shared unless the class or a base defines fixtures
        if own:
            visible = Fixtures()
            for found in own:  # the class, then its bases
                visible.inherit(found)
            visible.extend(self.fixtures)
        classes = tuple(
            (str(e.path), tuple(e.qualname.split("."))) for e in mro if isinstance(e, ClassRef)
        )
        if is_unittest:
            self._unittest_methods(ref, mro, nodeid, all_marks, visible, classes)
            return
        collected, refused_before = len(self.tests), len(self.refused)
        try:
            self._class_members(ref, mro, nodeid, all_marks, visible, classes)
        except _Refused as refused:
            # pytest collects none of the class's tests, nor the classes nested in it.
            del self.tests[collected:]
            self.refused[refused_before:] = [f"{nodeid.partition('::')[2]}: {refused}"]

    def _class_members(
        self,
        ref: ClassRef,
        mro: list[ClassRef | External],
        nodeid: str,
        all_marks: list[tuple[str, Mark]],
        visible: Fixtures,
        classes: tuple[tuple[str, tuple[str, ...]], ...],
    ) -> None:
        """The test methods and nested classes of a collected (not unittest) class."""
        seen: set[str] = set()
        for entry in mro:
            if not isinstance(entry, ClassRef):
                if isinstance(entry, External):
                    seen.update(external_facts(entry.dotted)[3])
                continue
            entry_detail = self.resolver.detail(entry)
            structure = self.resolver.structure(entry.path)
            if entry_detail is None or structure is None:
                continue
            aliases = dict(entry_detail.aliases)
            for member in entry_detail.names:
                if member in seen:
                    continue
                seen.add(member)
                qualname = f"{entry.qualname}.{member}"
                if member in aliases:  # `test_alias = test_x`: the function under this name
                    bound_to = aliases[member]
                    if bound_to is None:
                        continue  # bound again to a value: no test, and hides a base's
                    qualname = f"{entry.qualname}.{bound_to}"
                info = structure.functions.get(qualname)
                if info is not None:
                    if self.settings.matches_function(member) and info.fixture is None:
                        origin = (str(entry.path), tuple(qualname.split(".")))
                        self._function(
                            member, info, ref, all_marks, nodeid, visible, origin, classes
                        )
                elif qualname in structure.classes:
                    self._class(
                        member, ClassRef(entry.path, qualname, entry.module), all_marks, nodeid
                    )

    def _has_tests(self, mro: list[ClassRef | External]) -> bool:
        for entry in mro:
            if isinstance(entry, ClassRef):
                detail = self.resolver.detail(entry)
                if detail is not None and any(n.startswith("test") for n in detail.names):
                    return True
        return False

    def _class_marks(self, ref: ClassRef) -> tuple[Mark, ...]:
        detail = self.resolver.detail(ref)
        return detail.marks if detail is not None else ()

    def _attr(self, mro: list[ClassRef | External], name: str) -> bool | None:
        """A literal boolean class attribute as found along the MRO."""
        for entry in mro:
            if isinstance(entry, ClassRef):
                detail = self.resolver.detail(entry)
                if detail is not None and name in detail.names:
                    return detail.test_attr if name == "__test__" else None
        return None

    def _defines(self, mro: list[ClassRef | External], name: str) -> bool:
        for entry in mro:
            if isinstance(entry, ClassRef):
                detail = self.resolver.detail(entry)
                if detail is not None and name in detail.names:
                    return True
            elif isinstance(entry, External) and entry.dotted != "builtins.object":
                _, has_init, has_new, _ = external_facts(entry.dotted)
                if (name == "__init__" and has_init) or (name == "__new__" and has_new):
                    return True
        return False

    def _is_abstract(self, mro: list[ClassRef | External]) -> bool:
        """``inspect.isabstract``: an ABCMeta class with an abstract method not overridden."""
        abc_meta = any(isinstance(e, External) and e.dotted in ("abc.ABC",) for e in mro) or any(
            isinstance(e, ClassRef)
            and (d := self.resolver.detail(e)) is not None
            and (d.metaclass or "").endswith("ABCMeta")
            for e in mro
        )
        if not abc_meta:
            return False
        concrete: set[str] = set()
        for entry in mro:
            if not isinstance(entry, ClassRef):
                continue
            detail = self.resolver.detail(entry)
            structure = self.resolver.structure(entry.path)
            if detail is None or structure is None:
                continue
            for member in detail.names:
                if member in concrete:
                    continue
                info = structure.functions.get(f"{entry.qualname}.{member}")
                if info is not None and info.abstract:
                    return True
                concrete.add(member)
        return False

    def _unittest_methods(
        self,
        ref: ClassRef,
        mro: list[ClassRef | External],
        nodeid: str,
        marks: list[tuple[str, Mark]],
        visible: Fixtures,
        classes: tuple[tuple[str, tuple[str, ...]], ...],
    ) -> None:
        names: dict[str, tuple[FunctionInfo | None, ClassRef | None]] = {}
        for entry in mro:
            if isinstance(entry, External):
                for member in external_facts(entry.dotted)[3]:
                    names.setdefault(member, (None, None))
                continue
            detail = self.resolver.detail(entry)
            structure = self.resolver.structure(entry.path)
            if detail is None or structure is None:
                continue
            for member in detail.names:
                info = structure.functions.get(f"{entry.qualname}.{member}")
                names.setdefault(member, (info, entry))
        tests = sorted(
            n for n, (info, _) in names.items() if n.startswith("test") and info is not None
        )
        if not tests and names.get("runTest", (None, None))[0] is not None:
            tests = ["runTest"]
        initial = [*visible.autouse, *self.settings.usefixtures, *_usefixtures(m for _, m in marks)]
        for member in tests:
            info, owner = names[member]
            assert info is not None
            assert owner is not None
            (fixturenames, fixturedefs), _ = self._closure(
                [*initial, *_usefixtures(info.marks)], visible
            )
            function_marks = [(f"{nodeid}::{member}", m) for m in info.marks]
            self.tests.append(
                StaticTest(
                    nodeid=f"{nodeid}::{member}",
                    path=self.rel,
                    file=self.file,
                    cls=ref,
                    name=member,
                    line=info.line,
                    fixturenames=fixturenames,
                    fixturedefs=fixturedefs,
                    marks=tuple(self._exempt([*function_marks, *marks])),
                    unittest=True,
                    classes=classes,
                    function=(str(owner.path), (*owner.qualname.split("."), member)),
                )
            )

    # -- functions -----------------------------------------------------------------------------
    def _function(
        self,
        name: str,
        info: FunctionInfo,
        cls: ClassRef | None,
        outer_marks: list[tuple[str, Mark]],
        parent_nodeid: str,
        visible: Fixtures | None,
        origin: tuple[str, tuple[str, ...]],
        classes: tuple[tuple[str, tuple[str, ...]], ...],
    ) -> None:
        if info.test_attr is False or info.kind == "property":
            return  # `test_x.__test__ = False`, or not callable: pytest leaves it out
        fixtures = visible if visible is not None else self.fixtures
        marks = [*info.marks, *(m for _, m in outer_marks)]
        # The closest decorator is applied first, so its ids come first in the node id.
        parametrize = [m for m in reversed(info.marks) if m.name == "parametrize"]
        parametrize += [m for _, m in outer_marks if m.name == "parametrize"]
        argnames: list[str] = []
        mark_names: list[tuple[str, ...]] = []  # each mark's own names, for its ids
        direct: set[str] = set()  # given their values by the marks: no fixture of theirs runs
        for mark in parametrize:
            names = mark.args[0] if mark.args else None
            own: tuple[str, ...] = ()
            if isinstance(names, list):
                own = tuple(n for n in names if isinstance(n, str))
                direct |= direct_parameters(names, mark.kwargs.get("indirect", False))
            argnames.extend(own)
            mark_names.append(own)
        initial = [
            *fixtures.autouse,
            *self.settings.usefixtures,
            *_usefixtures(marks),
            *info.args,
            *argnames,
        ]
        (fixturenames, fixturedefs), ordered = self._closure(initial, fixtures, direct)
        if argnames:
            self._check_parametrized_names(
                origin[1][-1],
                info,
                parametrize,
                mark_names,
                initial[: -len(argnames)],
                fixtures,
                direct,
            )
        base = f"{parent_nodeid}::{name}"
        defined_in = Path(origin[0])
        # pytest parametrizes the fixtures first, then applies the marks.
        id_lists: list[IdList] = []
        if fixtures.parametrized:
            for fixture, definition in fixture_params(ordered, fixtures, direct, argnames):
                where = Path(definition.origin)
                told_at = functools.partial(self._named_id, where)
                listed_at = functools.partial(self._listed, where)
                id_lists.append(IdList(definition.params, told_at, (fixture,), listed_at))
        told_here = functools.partial(self._named_id, defined_in)
        listed_here = functools.partial(self._listed, defined_in)
        for mark, own in zip(parametrize, mark_names, strict=True):
            ids = mark.args[1] if len(mark.args) > 1 else None
            id_lists.append(IdList(ids, told_here, own, listed_here))
        for id_list in id_lists:
            if (why := refusal(id_list.ids)) is not None:
                # As pytest says it, by the name the function was defined with.
                raise _Refused(f"In {origin[1][-1]}: {why}")
        for suffix in _param_ids(id_lists, self.settings.notset_ids):
            nodeid = base if suffix is None else f"{base}[{suffix}]"
            function_marks = [(nodeid, m) for m in info.marks]
            self.tests.append(
                StaticTest(
                    nodeid=nodeid,
                    path=self.rel,
                    file=self.file,
                    cls=cls,
                    name=name,
                    line=info.line,
                    fixturenames=fixturenames,
                    fixturedefs=fixturedefs,
                    marks=tuple(self._exempt([*function_marks, *outer_marks])),
                    classes=classes,
                    function=origin,
                )
            )

    @staticmethod
    def _check_parametrized_names(
        function: str,
        info: FunctionInfo,
        parametrize: list[Mark],
        mark_names: list[tuple[str, ...]],
        initial: list[str],
        fixtures: Fixtures,
        direct: Container[str],
    ) -> None:
        """Refuse (as pytest fails to collect the module or class) a ``parametrize`` mark,
        the function's or one from its class or module, naming what the test neither takes
        nor requests through its fixtures (``initial``: what it requests itself). Only
        where every fixture it requests is known here: an installed plugin's fixture may
        request the name."""
        parametrized = {n for own in mark_names for n in own}
        requested, _ = closure(initial, fixtures, direct)
        if any(
            n not in fixtures.defs and n not in PYTEST_FIXTURES and n not in parametrized
            for n in requested
        ):
            return
        taken = set(requested)
        for mark, own in zip(parametrize, mark_names, strict=True):
            indirect = mark.kwargs.get("indirect", False)
            if not isinstance(indirect, (bool, list, tuple, str)):
                return  # not written as a literal: which message pytest gives is not known
            for name in own:
                if name in taken:
                    continue
                if name in info.defaults:
                    why = f"function already takes an argument '{name}' with a default value"
                else:
                    # As pytest tells them: `in` a sequence (a string's substrings too).
                    fixture = indirect if isinstance(indirect, bool) else name in indirect
                    why = f"function uses no {'fixture' if fixture else 'argument'} '{name}'"
                raise _Refused(f"In {function}: {why}")

    def _named_id(self, path: Path, local: str) -> str | None:
        """The id pytest makes of the object that name ``local``, imported into module
        ``path`` (or ``module.attr`` of a module imported there), is: its ``__name__`` (a
        class, function or module), or its value where that is known (a literal constant, a
        standard-library value); None when it cannot be told."""
        targets = self._imported_targets(path, local)
        if len(targets) != 1:
            return None
        target: Target | None = targets[0]
        if isinstance(target, External):
            obj = standard_object(target.dotted)
            if obj is not None:
                return parameter_id(obj)
            target = self.resolver.installed_target(target.dotted)
        if isinstance(target, (ClassRef, FuncRef)):
            return target.qualname.rpartition(".")[2]
        if isinstance(target, ModuleRef):
            return target.name
        if isinstance(target, Constant):
            return target.id
        return None

    def _imported_targets(self, path: Path, local: str) -> tuple[Target, ...]:
        """What name ``local`` (or ``module.attr`` of a module imported there) is in module
        ``path`` once it ran."""
        if "." in local:  # an attribute of an imported module
            return self.resolver.resolve(path, local, None)
        return self.resolver.lookup(path, local, None)

    def _listed(self, path: Path, local: str) -> tuple[Any, ...] | None:
        """The elements (as their module's scan told them) of the list that name ``local``,
        imported into module ``path``, is bound to; None when it is not such a list."""
        targets = self._imported_targets(path, local)
        if len(targets) != 1 or not isinstance(targets[0], Listed):
            return None
        listed = targets[0]
        if listed.elements is not None:
            return listed.elements
        try:
            data = listed.path.read_bytes()
        except OSError:
            return None
        return listed_elements(data, str(listed.path), listed.name)

    def _closure(
        self, initial: Iterable[str], visible: Fixtures, direct: Container[str] = ()
    ) -> tuple[Closure, list[str]]:
        """:func:`closure` (one shared copy of each) without the directly parametrized
        names, whose fixtures do not run, and all its names in the order found, which
        parametrized fixtures follow."""
        names, used = closure(initial, visible, direct)
        found = (frozenset(n for n in names if n not in direct), frozenset(used))
        return self._interned.setdefault(found, found), names

    @staticmethod
    def _exempt(marks: Iterable[tuple[str, Mark]]) -> Iterator[tuple[str, Mark]]:
        return ((origin, m) for origin, m in marks if m.name == "ssot_exempt")


@dataclasses.dataclass(frozen=True, slots=True)
class IdList:
    """One parametrization of a function (a ``parametrize`` mark, a fixture's params): the
    ids its scan gave (None or a string when not literal), what tells the ids of the names
    it imports, the names it gives values to, and what tells the elements of a list it
    imports (see :func:`~pytest_ssot.scanner.listed_ids`)."""

    ids: Any
    name_id: Callable[[str], str | None]
    argnames: tuple[str, ...]
    listed: Callable[[str], tuple[Any, ...] | None] = lambda _: None


def _param_ids(id_lists: Sequence[IdList], notset_ids: bool) -> list[str | None]:
    """The ``[...]`` suffixes of a function's tests (``[None]`` when not parametrized; an
    empty id is ``test[]``), from the ids of each parametrization (a fixture's params, a
    ``parametrize`` mark's values) in the order pytest applies them. An empty parameter set
    is one test, ``NOTSET`` or (``notset_ids`` false: before pytest 8.4) ``name0`` per name.
    Where one parametrization cannot be told (not literal, or an explicit id that cannot be
    told), how many tests pytest makes is not known: the function is one test by its name,
    not the ids of the other parametrizations alone (no such test exists)."""
    combined: list[str | None] = [None]
    for id_list in id_lists:
        ids = id_list.ids
        if isinstance(ids, dict) and "notset" in ids:  # an empty list with an explicit id
            ids = [] if notset_ids else [ids["notset"]]
        elif isinstance(ids, dict) and "listed" in ids:  # a list imported from elsewhere
            elements = id_list.listed(str(ids["listed"]))
            rows = bool(ids.get("rows"))
            ids = None if elements is None else listed_ids(list(elements), id_list.argnames, rows)
        if not isinstance(ids, (list, tuple)):
            return [None]
        if ids:
            made = resolved_ids(list(ids), id_list.name_id)
            if made is None:
                return [None]
        elif notset_ids:
            made = ["NOTSET"]
        else:
            made = ["-".join(f"{name}0" for name in id_list.argnames)]
        combined = [i if c is None else f"{c}-{i}" for c in combined for i in made]
    return combined


def resolve_goals(
    resolver: Resolver, entries: Sequence[str]
) -> tuple[list[ClassRef | External], list[str]]:
    """The configured ``base_classes`` as definitions; problems for those not found."""
    goals: list[ClassRef | External] = []
    problems: list[str] = []
    for entry in entries:
        target: Target = resolver.resolve_entry(entry)
        if isinstance(target, External) and (what := outside_not_a_class(entry)) is not None:
            # The plugin imports the entry and refuses anything but a class: so does this.
            problems.append(f"base_classes entry {entry!r} is not a class ({what})")
        elif isinstance(target, (ClassRef, External)):
            goals.append(target)
        elif isinstance(target, Unresolved):
            problems.append(f"base_classes entry {entry!r} cannot be resolved: {target.reason}")
        else:
            problems.append(f"base_classes entry {entry!r} is not a class")
    return goals, problems
