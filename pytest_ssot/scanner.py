"""Turns the source text of one file into facts; rules turn facts into findings.

One ``ast.parse`` and one visitor pass per file. The visitor resolves names through imports and
simple aliases (``import os as o``, ``from os import environ as E``, ``env = os.environ``,
``getattr(os, "environ")``) and records every reference to a *watched* dotted name, so the
built-in rules and team-defined sources share one pass. Nothing here raises on bad input: a file
that cannot be read or parsed becomes facts with an ``error``.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import contextlib
import copy
import dataclasses
import enum
import functools
import io
import itertools
import json
import operator
import re
import sys
import threading
import tokenize
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from pytest_ssot.model import MODULE_SCOPE, Scope, normalise_snippet

# Bump when what a scan yields changes, so cached facts from older scanners are not reused,
# or what `ssot check` makes of them (its saved results are keyed by it too).
SCANNER_VERSION = "37"

RefKind = Literal["use", "string", "import", "star-import", "monkeypatch", "fixture"]

ENV_TARGETS = (
    "os.environ",
    "os.environb",
    "os.getenv",
    "os.getenvb",
    "os.putenv",
    "os.unsetenv",
)
MOCK_MODULES = ("unittest.mock", "mock", "pytest_mock")
MOCKER_FIXTURES = frozenset(
    {"mocker", "class_mocker", "module_mocker", "package_mocker", "session_mocker"}
)
FIXTURE_DECORATORS = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
# Calls whose first argument may name a patch target as a string: patch("os.getenv"),
# patch.dict("os.environ", ...), monkeypatch.setattr("os.environ", ...), mocker.patch(...).
STRING_TARGET_CALLS = frozenset({"patch", "dict", "setattr", "delattr"})
# Calls that name an attribute of an object: patch.object(os, "environ"), setattr(os, ...).
OBJECT_ATTR_CALLS = frozenset({"object", "setattr", "delattr", "getattr", "hasattr"})
RUNNER_CALLS = frozenset({"pytest.main", "unittest.main"})
PROCESS_CALLS = ("subprocess.", "os.system", "os.exec", "os.spawn", "os.popen")
# pytest as a command word ("pytest", "python -m pytest -x", "/venv/bin/py.test"), not a
# name that merely contains it ("make_pytest_report.py", "pytest_ssot").
PYTEST_COMMAND_RE = re.compile(r"(?:^|[\s/\\]|-m)(?:pytest|py\.test)(?:$|\s)")
# An unclosed bracket runs to the end of its line (never into the next lines' comments, when
# searching a whole file): a typo must not widen it to every rule.
SUPPRESSION_RE = re.compile(r"#\s*ssot:\s*ignore\b(?:\[([^\]\r\n]*)\]?)?")
NO_RULE = frozenset({""})  # what an inline ignore with empty brackets names
LINE_SPLIT_RE = re.compile(r"\r\n|\r|\n")
BUILTIN_TRIGGERS = (
    "environ",
    "getenv",
    "putenv",
    "unsetenv",
    "setenv",
    "delenv",
    "mock",
    "__main__",
    "ssot",
)
CLASS_RE = re.compile(rb"^([ \t]*)class[ \t]+([A-Za-z_]\w*)", re.MULTILINE)
# Besides the file's triggers, a word that makes a statement worth the full visit: a statement
# mentioning no trigger and no name bound to a watched API cannot yield a fact, so it is skipped.
STATEMENT_TRIGGERS = ("MonkeyPatch",)
MOCK_PATCH_DECORATORS = ("unittest.mock.patch", "mock.patch")
PROPERTY_DECORATORS = frozenset(
    {"property", "functools.cached_property", "abc.abstractproperty", "types.DynamicClassAttribute"}
)
_BLOCKS: tuple[type[ast.AST], ...] = (
    ast.Module,
    ast.ClassDef,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    getattr(ast, "TryStar", ast.Try),
    ast.ExceptHandler,
    ast.Match,
    ast.match_case,
)
_BODY_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})
_ALWAYS_VISITED = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef, ast.Import, ast.ImportFrom)
_NEVER_PRUNED = (*_ALWAYS_VISITED, *_BLOCKS)
_UNCONDITIONAL = (ast.Module, *_ALWAYS_VISITED)


def _may_alias_fixture(node: ast.stmt) -> bool:
    """Whether ``node`` may bind a name to ``pytest.fixture`` (``fixture = pytest.fixture``)
    or to a decorator it makes (``module_fixture = pytest.fixture(scope="module")``), which no
    trigger word marks, though it decides which functions are fixtures."""
    if not isinstance(node, ast.Assign):
        return False
    value = node.value
    if isinstance(value, ast.Call):
        value = value.func
    if isinstance(value, ast.Attribute):
        return value.attr == "fixture"
    return isinstance(value, ast.Name) and value.id == "fixture"


@dataclasses.dataclass(frozen=True)
class Ref:
    """A reference to a watched dotted name (``os.environ.get``, ``unittest.mock.patch``)."""

    target: str
    kind: RefKind
    line: int
    col: int
    end_line: int
    scope: Scope
    snippet: str


@dataclasses.dataclass(frozen=True)
class MainBlock:
    """An ``if __name__ == "__main__":`` block that starts a test runner."""

    line: int
    col: int
    calls: tuple[str, ...]
    snippet: str


@dataclasses.dataclass(frozen=True)
class ClassInfo:
    line: int
    bases: tuple[str, ...]  # resolved dotted names where possible, else source text


@dataclasses.dataclass(frozen=True, slots=True)
class Mark:
    """A ``pytest.mark.*`` as written in the source (full scans only).

    ``args``/``kwargs`` hold JSON-compatible literal values; an expression that is not a
    literal is kept as ``{"expr": "<source>"}``. For ``parametrize``, ``args`` is
    ``(argnames, ids)`` with the ids pytest derives, ``ids`` being ``None`` when not literal,
    and ``kwargs`` holds ``indirect`` when given.
    """

    name: str
    line: int
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Binding:
    """A module-level name binding, in source order (full scans only), for the resolver.

    ``kind`` is ``import`` (``target`` = module), ``from`` (``target`` = module, with leading
    dots when relative; ``attr`` = imported name), ``star`` (``name`` = ``*``), ``alias``
    (``target`` = dotted expression), ``class``/``def`` (``target`` = qualname), ``constant``
    (``target`` = the id pytest makes of its value, for parameters), ``listed`` (a list
    or tuple another module may parametrize with: ``target`` = JSON, the ids of its
    elements or that the module names it again, see :meth:`_Visitor._listed_elements`),
    ``deleted`` (``del name``) or ``value`` (anything
    else). ``conditional``: under ``if``/``try``/a loop, so it may not happen.
    """

    name: str
    kind: str
    target: str = ""
    attr: str = ""
    line: int = 0
    conditional: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A module-level function or a method (full scans only)."""

    line: int  # pytest's location: the first decorator's line, else the def line
    args: tuple[str, ...] = ()  # what pytest may fill with fixtures (no defaults, no self)
    fixture: str | None = None
    autouse: bool = False
    kind: str = "function"  # "function" | "staticmethod" | "classmethod" | "property"
    abstract: bool = False
    marks: tuple[Mark, ...] = ()
    # A fixture's `params`: the ids pytest makes of them (as a `parametrize` mark's, also
    # refused_ids() or {"notset": id}), or UNKNOWN_PARAMS when they are not literal; None
    # when it has none. And its scope.
    params: tuple[Any, ...] | str | dict[str, Any] | None = None
    scope: str = "function"
    # ``name.__test__ = <literal>`` after the def, at module level: False, pytest skips it.
    test_attr: bool | None = None
    # Arguments with a default value (not positional-only), which no parametrize may name.
    defaults: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class ClassDetail:
    """What test discovery and base resolution need about a class (full scans only)."""

    line: int
    bases: tuple[str, ...] = ()  # source text of each base expression
    metaclass: str | None = None
    names: tuple[str, ...] = ()  # names bound in the class body
    # A literal ``__test__ = ...`` in the body, or ``Name.__test__ = ...`` after it.
    test_attr: bool | None = None
    marks: tuple[Mark, ...] = ()  # decorators and ``pytestmark``
    # ``test_alias = test_x`` in the body, as (name, the name it is bound to): pytest
    # collects the function under each name. None: a name of the body bound again to
    # something else (``for test_x in ...``), under which pytest finds no test.
    aliases: tuple[tuple[str, str | None], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Structure:
    """The shape of a module: bindings, functions, classes, module marks (full scans)."""

    bindings: tuple[Binding, ...] = ()
    functions: dict[str, FunctionInfo] = dataclasses.field(default_factory=dict)
    classes: dict[str, ClassDetail] = dataclasses.field(default_factory=dict)
    marks: tuple[Mark, ...] = ()  # module ``pytestmark``
    all_names: tuple[str, ...] | None = None  # a literal ``__all__``
    # What pytest skips the whole module without, when it runs unconditionally at module
    # level: the modules of ``pytest.importorskip("name")``, and whether it calls
    # ``pytest.skip(..., allow_module_level=True)`` or sets ``__test__ = False`` (then pytest
    # collects nothing from it).
    requires: tuple[str, ...] = ()
    skipped: bool = False

    def line_of(self, name: str) -> int:
        """The line of the module's last binding of ``name`` (its import, for a class a test
        module imports); 1 when it has none."""
        lines = [b.line for b in self.bindings if b.name == name and b.line]
        return lines[-1] if lines else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "bindings": [list(dataclasses.astuple(b)) for b in self.bindings],
            "functions": {k: _function_dict(v) for k, v in self.functions.items()},
            "classes": {k: _class_dict(v) for k, v in self.classes.items()},
            "marks": [_mark_dict(m) for m in self.marks],
            "all_names": None if self.all_names is None else list(self.all_names),
            "requires": list(self.requires),
            "skipped": self.skipped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Structure:
        return cls(
            bindings=tuple(Binding(*b) for b in data["bindings"]),
            functions={
                k: FunctionInfo(
                    **{
                        **v,
                        "args": tuple(v["args"]),
                        "defaults": tuple(v["defaults"]),
                        "marks": _marks(v["marks"]),
                        "params": tuple(v["params"])
                        if isinstance(v["params"], list)
                        else v["params"],
                    }
                )
                for k, v in data["functions"].items()
            },
            classes={
                k: ClassDetail(
                    **{
                        **v,
                        "bases": tuple(v["bases"]),
                        "names": tuple(v["names"]),
                        "marks": _marks(v["marks"]),
                        "aliases": tuple((a, b) for a, b in v["aliases"]),
                    }
                )
                for k, v in data["classes"].items()
            },
            marks=_marks(data["marks"]),
            all_names=None if data["all_names"] is None else tuple(data["all_names"]),
            requires=tuple(data["requires"]),
            skipped=bool(data["skipped"]),
        )


def _mark_dict(mark: Mark) -> dict[str, Any]:
    return {"name": mark.name, "line": mark.line, "args": list(mark.args), "kwargs": mark.kwargs}


def _marks(data: list[dict[str, Any]]) -> tuple[Mark, ...]:
    return tuple(Mark(m["name"], m["line"], tuple(m["args"]), dict(m["kwargs"])) for m in data)


def _function_dict(info: FunctionInfo) -> dict[str, Any]:
    data = dataclasses.asdict(info)
    data["args"] = list(info.args)
    data["marks"] = [_mark_dict(m) for m in info.marks]
    return data


def _class_dict(info: ClassDetail) -> dict[str, Any]:
    data = dataclasses.asdict(info)
    data["bases"] = list(info.bases)
    data["names"] = list(info.names)
    data["marks"] = [_mark_dict(m) for m in info.marks]
    data["aliases"] = [list(pair) for pair in info.aliases]
    return data


@dataclasses.dataclass(frozen=True, slots=True)  # the plugin keeps one per scanned file
class FileFacts:
    """Everything the rules, the policy and the CLI need to know about one file."""

    path: str
    error: str | None = None
    refs: tuple[Ref, ...] = ()
    main_blocks: tuple[MainBlock, ...] = ()
    classes: dict[str, ClassInfo] = dataclasses.field(default_factory=dict)
    fixtures: dict[str, str] = dataclasses.field(default_factory=dict)  # function -> fixture
    # line -> suppressed codes/names; an empty set suppresses every rule on that line
    suppressions: dict[int, frozenset[str]] = dataclasses.field(default_factory=dict)
    lines: tuple[str, ...] = ()  # normalised source lines that carry facts, by line number
    structure: Structure | None = None  # full scans only: what the CLI needs besides refs

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "error": self.error,
            # Field by field: dataclasses.asdict deep-copies, a cost paid for every cold file.
            "refs": [
                {
                    "target": r.target,
                    "kind": r.kind,
                    "line": r.line,
                    "col": r.col,
                    "end_line": r.end_line,
                    "scope": _scope_dict(r.scope),
                    "snippet": r.snippet,
                }
                for r in self.refs
            ],
            "main_blocks": [
                {"line": m.line, "col": m.col, "calls": list(m.calls), "snippet": m.snippet}
                for m in self.main_blocks
            ],
            "classes": {k: [v.line, list(v.bases)] for k, v in self.classes.items()},
            "fixtures": dict(self.fixtures),
            "suppressions": {str(k): sorted(v) for k, v in self.suppressions.items()},
            "structure": None if self.structure is None else self.structure.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileFacts:
        return cls(
            path=data["path"],
            error=data["error"],
            refs=tuple(Ref(**{**r, "scope": Scope.read_back(*r["scope"])}) for r in data["refs"]),
            main_blocks=tuple(
                MainBlock(m["line"], m["col"], tuple(m["calls"]), m["snippet"])
                for m in data["main_blocks"]
            ),
            classes={k: ClassInfo(v[0], tuple(v[1])) for k, v in data["classes"].items()},
            fixtures=dict(data["fixtures"]),
            suppressions={int(k): frozenset(v) for k, v in data["suppressions"].items()},
            structure=(Structure.from_dict(data["structure"]) if data.get("structure") else None),
        )


def _scope_dict(scope: Scope) -> list[Any]:
    return [list(scope.qualname), scope.fixture, scope.classes]


def triggers_for(watched: Iterable[str]) -> tuple[str, ...]:
    """Words that make a statement worth a visit (aliases start at a name's first part)."""
    extra = {name.split(".")[0] for name in watched} - {"os", "unittest"}
    return tuple(sorted(set(BUILTIN_TRIGGERS) | extra))


@functools.lru_cache(maxsize=64)
def file_triggers_for(watched: tuple[str, ...]) -> re.Pattern[bytes]:
    """What a file must contain to hold any fact worth a parse.

    A reference to a watched name spells the name's last part as a word somewhere in the
    file, however it is imported or aliased (``environ``, ``mock``, ``raw_get``); whole words,
    so the migrated files that import ``isolated_environment`` or ``ssot.mocks`` are not
    parsed one by one. (An inline ignore alone is found without a parse.)
    """
    words = (set(BUILTIN_TRIGGERS) - {"ssot", "__main__"}) | set(MOCKER_FIXTURES)
    words |= {name.rsplit(".", 1)[-1] for name in watched}
    alternatives = "|".join(re.escape(word) for word in sorted(words) if word)
    return re.compile(rf"\b(?:{alternatives})\b|__main__".encode())


def scan(
    data: bytes,
    path: str,
    watched: tuple[str, ...] = ENV_TARGETS + MOCK_MODULES,
    *,
    full: bool = False,
    prune: bool = True,
) -> FileFacts:
    """Scan one file's bytes. ``full`` forces a parse and records the module's
    :class:`Structure` (the CLI needs every class, test and import); otherwise a file
    mentioning none of the trigger words only gets a cheap class index.

    ``prune`` skips statements that mention no trigger word and no name bound to a watched
    API: they cannot yield a fact, and skipping them keeps a scan close to the cost of the
    parse itself. ``prune=False`` visits everything (tests check that both agree)."""
    with _room_to_recurse():
        return _scan(data, path, watched, full, prune)


def _scan(data: bytes, path: str, watched: tuple[str, ...], full: bool, prune: bool) -> FileFacts:
    try:
        if b"\0" in data:  # never valid Python; the same reason whichever way it is scanned
            return FileFacts(path=path, error="contains NUL bytes")
        if not full and file_triggers_for(watched).search(data) is None:
            # No fact but maybe an inline ignore, which policy reports when it ignores nothing.
            ignores = _suppressions(data) if b"ssot:" in data else {}
            return FileFacts(path=path, classes=_class_index(data), suppressions=ignores)
        tree = _parse(data, path)
        text = _decode(data)
        # str.split is much cheaper than the regex and the same when there is no "\r".
        lines = LINE_SPLIT_RE.split(text) if "\r" in text else text.split("\n")
        visitor = _Visitor(lines, watched, text=text if prune else None, full=full)
        visitor.module = tree
        visitor.visit(tree)
        suppressions: dict[int, frozenset[str]] = {}
        if b"ssot:" in data:
            suppressions = (
                _suppressions_near(text, tree, visitor.line_starts)
                if prune
                else _suppressions(data)
            )
        return FileFacts(
            path=path,
            refs=tuple(visitor.refs()),
            main_blocks=tuple(visitor.main_blocks),
            classes=visitor.classes,
            fixtures=visitor.fixtures,
            suppressions=suppressions,
            structure=visitor.structure() if full else None,
        )
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return FileFacts(path=path, error=f"syntax error{where}: {exc.msg}")
    except (ValueError, UnicodeDecodeError) as exc:  # NUL bytes, bad encodings
        return FileFacts(path=path, error=f"cannot be decoded: {exc}")
    except RecursionError:
        return FileFacts(path=path, error="nested too deeply to analyse (RecursionError)")
    except MemoryError:
        # The parser also says MemoryError when its own stack overflows (deep nesting).
        return FileFacts(path=path, error="too large or nested too deeply to analyse (MemoryError)")


def _stack_limit() -> int:
    """How deep parsing and visiting may recurse in the main thread (0: leave the limit alone).

    ``ast.parse`` and the visitor recurse once or a few times per nesting level, so under the
    default limit of 1000 frames (less what the calling pytest session already uses) a
    module nested a few hundred levels deep would be left unchecked, although Python imports
    it. From Python 3.12 the limit counts Python frames only, which live on the heap (C code
    has its own guard), so it can be generous. On 3.11 the parser recurses on the C stack
    under the same limit, so the limit follows the main thread's stack size at a
    conservative kilobyte per frame (8 MB: about 8,000 frames). Other threads may have small
    stacks and Python before 3.11 spends C stack on every Python call (about 500 bytes per
    frame of the visitor, measured on 3.10): there the limit stays as it is, and a module
    nested too deeply for it is reported unchecked.
    """
    if sys.version_info >= (3, 12):
        # The 3.13 compiler accepts some 9,000 nesting levels; the visitor takes three frames
        # per level.
        return 50_000
    if sys.version_info < (3, 11):
        return 0
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    except (ImportError, OSError, ValueError):
        return 0
    if soft == resource.RLIM_INFINITY:
        soft = 8 * 1024 * 1024
    return min(soft // 1024, 10_000)


_MAIN_THREAD_LIMIT = _stack_limit()


@contextlib.contextmanager
def _room_to_recurse() -> Iterator[None]:
    old = sys.getrecursionlimit()
    new = _MAIN_THREAD_LIMIT if threading.current_thread() is threading.main_thread() else 0
    if new <= old:
        yield
        return
    sys.setrecursionlimit(new)
    try:
        yield
    finally:
        if sys.getrecursionlimit() == new:  # unless someone else changed it meanwhile
            sys.setrecursionlimit(old)


def _parse(data: bytes, path: str) -> ast.Module:
    # The compiler's SyntaxWarnings (`1()`, invalid escapes) are the test file's business, not
    # the scan's: shown, they clutter pytest's summary; under `-W error` they would turn a valid
    # file into a "syntax error".
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(data, filename=path)


def _decode(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    return data.decode(encoding, errors="replace").removeprefix("\ufeff")


def _class_index(data: bytes) -> dict[str, ClassInfo]:
    """Class qualnames by indentation, for files too plain to need a parse."""
    classes: dict[str, ClassInfo] = {}
    stack: list[tuple[int, str]] = []
    for match in CLASS_RE.finditer(data):
        indent = len(match.group(1).expandtabs())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        name = match.group(2).decode()
        qualname = ".".join([*(n for _, n in stack), name])
        stack.append((indent, name))
        line = data.count(b"\n", 0, match.start()) + 1
        classes[qualname] = ClassInfo(line=line, bases=())
    return classes


def _suppressions(data: bytes) -> dict[int, frozenset[str]]:
    """``# ssot: ignore[...]`` comments by line, read with tokenize so strings never count."""
    found: dict[int, frozenset[str]] = {}
    if b"\r" in data:  # tokenize splits lines at "\n" only; Python reads "\r" as one too
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    # Decode as the rest of the scan does (undecodable bytes replaced): CPython accepts some
    # of them in comments, and tokenizing raw bytes would stop at the first such line.
    text = _decode(data)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = SUPPRESSION_RE.search(token.string)
            if match is None:
                continue
            found[token.start[0]] = _ignored_codes(match)
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        pass
    return found


def _ignored_codes(match: re.Match[str]) -> frozenset[str]:
    """The codes or names an inline ignore lists: none (every rule) for a bare ``# ssot:
    ignore``; brackets that list nothing (``ignore[]``, ``ignore[ , ]``) name no rule, so
    they suppress nothing (and show as unused), rather than everything."""
    listed = match.group(1)
    if listed is None:
        return frozenset()
    codes = frozenset(c.strip() for c in listed.split(",") if c.strip())
    return codes or NO_RULE


def _suppressions_near(text: str, tree: ast.Module, starts: list[int]) -> dict[int, frozenset[str]]:
    """The same as :func:`_suppressions`, tokenizing only from the innermost statement that
    holds each candidate comment (a statement starts outside any string), not the whole file."""
    found: dict[int, frozenset[str]] = {}
    done: set[int] = set()
    try:
        for match in SUPPRESSION_RE.finditer(text):
            line = bisect.bisect_right(starts, match.start())
            if line in done:
                continue
            first = _clean_start(tree.body, line)
            end = starts[line] if line < len(starts) else len(text)
            segment = text[starts[first - 1] : end]
            tokens = tokenize.generate_tokens(io.StringIO(segment).readline)
            with contextlib.suppress(tokenize.TokenError):  # a statement cut at `line`
                for token in tokens:
                    if token.type != tokenize.COMMENT:
                        continue
                    number = token.start[0] + first - 1
                    done.add(number)
                    comment = SUPPRESSION_RE.search(token.string)
                    if comment is not None:
                        found[number] = _ignored_codes(comment)
            done.add(line)
    except (SyntaxError, ValueError):  # unexpected: be exact the slow way
        return _suppressions(text.encode("utf-8"))
    return found


def _clean_start(body: list[ast.stmt], line: int) -> int:
    """A line at or before ``line`` where the tokenizer state is clean: the start of the
    innermost statement holding ``line``, else the line after the statement before it."""
    start = 1
    statements: list[Any] = list(body)
    while statements:
        holder = None
        previous_end = None
        for statement in statements:
            if _first_line(statement) > line:
                break
            end = getattr(statement, "end_lineno", None) or _first_line(statement)
            if end >= line:
                holder = statement
                break
            previous_end = end
        if previous_end is not None:
            start = max(start, previous_end + 1)
        if holder is None:
            return start
        start = max(start, _first_line(holder))
        children: list[Any] = []
        for field in ("body", "handlers", "orelse", "finalbody", "cases"):
            for child in getattr(holder, field, None) or ():
                if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                    children.extend(child.body)
                else:
                    children.append(child)
        statements = sorted(children, key=_first_line)
    return start


def _matches(dotted: str | None, watched: tuple[str, ...]) -> bool:
    return dotted is not None and any(dotted == w or dotted.startswith(w + ".") for w in watched)


# Answers of _matches per watched tuple: the same few hundred names (`pytest`, the base
# class, `os.environ.get`) are asked about in file after file.
_MATCHES: dict[tuple[str, ...], dict[str, bool]] = {}
_MATCHES_LIMIT = 50_000


class _Visitor(ast.NodeVisitor):
    def __init__(
        self,
        lines: list[str],
        watched: tuple[str, ...],
        *,
        text: str | None = None,
        full: bool = False,
    ) -> None:
        self.lines = lines
        self.watched = watched
        self.full = full
        matches = _MATCHES.get(watched)
        if matches is None or len(matches) > _MATCHES_LIMIT:
            matches = _MATCHES[watched] = {}
        self._watched_answers = matches
        self._mocker_watched = _matches("pytest_mock", watched)
        # Pruning: lines (1 = worth a visit) a statement must touch to be visited; None: visit
        # everything. Marked with str.find, which is far cheaper than a regex per statement.
        self.text = text
        self.line_starts: list[int] = []
        self._heated: set[str] = set()
        self._hot: bytearray | None = None
        if text is not None:
            self.line_starts = _line_starts(text, lines)
            self._hot = bytearray(len(self.line_starts) + 2)
            for word in {*triggers_for(watched), *STATEMENT_TRIGGERS}:
                self._heat(word, whole_word=False)
        # Structure (full scans): module bindings, functions, classes, marks.
        self._conditional = 0
        self._bindings: list[Binding] = []
        self._functions: dict[str, FunctionInfo] = {}
        self._class_details: dict[str, ClassDetail] = {}
        self._class_body: list[dict[str, Any]] = []  # open classes: names, __test__, marks
        # What parameter ids need to know of names bound to constants (made when asked).
        self.module: ast.Module | None = None
        self._stores: dict[int, dict[str, list[tuple[int, Any]]]] = {}  # by id() of its node
        self._touched: dict[str, int] | None = None  # see _changed_in_place
        self._source: str | None = None  # see _named_more_than
        self._searched = 0  # characters searched by _named_more_than
        self._listing: str | None = None  # the name listed_elements() asks for
        self._expanding: set[int] = set()  # the bound displays being read (`X = [*X]`)
        self._class_nodes: dict[str, ast.ClassDef] = {}
        self._module_marks: list[Mark] = []
        self._mark_aliases: dict[str, Mark] = {}
        self._all_names: tuple[str, ...] | None = None
        self._requires: list[str] = []
        self._skipped = False
        self._module_test_attr: bool | None = None
        self.aliases: dict[str, str] = {}
        # Names bound to a decorator that a fixture decorator's call made, with that call
        # (`module_fixture = pytest.fixture(scope="module")`): its keywords apply to each use.
        self._decorator_calls: dict[str, ast.Call] = {}
        self.monkeypatches: set[str] = set()
        # The enclosing scopes of the current one (empty at module level).
        self._outer_scopes: list[Scope] = []
        self.scope = MODULE_SCOPE
        # Whether the current scope is the module or a class body (no enclosing function);
        # asked for every statement, so kept up to date by _push and _pop.
        self._class_level = True
        self._refs: list[Ref] = []
        self._imports: list[Ref] = []
        self._aliased: set[str] = set()  # targets bound to a local name (`x = mock.ANY`)
        self.main_blocks: list[MainBlock] = []
        # Module-level functions by name, for a __main__ block that calls `main()` (only
        # while this file is scanned: nothing keeps the tree).
        self._module_functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.fixtures: dict[str, str] = {}

    # -- results -------------------------------------------------------------------------
    def refs(self) -> Iterator[Ref]:
        yield from self._refs
        # An imported watched name that is never used is reported at its import; a used one is
        # reported at each use instead, so nothing is counted twice. "Used" means a use under
        # the imported name: `import unittest.mock` followed only by `unittest.TestCase`
        # still imports the mock library.
        uses = {ref.target for ref in self._refs if ref.kind == "use"} | self._aliased
        for ref in self._imports:
            prefix = ref.target + "."
            if not any(use == ref.target or use.startswith(prefix) for use in uses):
                yield ref

    def structure(self) -> Structure:
        return Structure(
            bindings=tuple(self._bindings),
            functions=self._functions,
            classes=self._class_details,
            marks=tuple(self._module_marks),
            all_names=self._all_names,
            requires=tuple(self._requires),
            skipped=self._skipped or self._module_test_attr is False,
        )

    def _column(self, line: int, offset: int) -> int:
        """The 1-based column in characters (as editors and SARIF count) of ``ast``'s
        ``col_offset``, which counts the line's UTF-8 bytes."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return offset + 1
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="ignore")) + 1

    def _snippet(self, line: int) -> str:
        return normalise_snippet(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""

    def _is_watched(self, dotted: str | None) -> bool:
        if dotted is None:
            return False
        known = self._watched_answers.get(dotted)
        if known is None:
            known = self._watched_answers[dotted] = _matches(dotted, self.watched)
        return known

    # -- pruning -----------------------------------------------------------------------------
    def _is_hot(self, first: int, last: int) -> bool:
        return self._hot is None or self._hot.find(1, first, last + 1) != -1

    def _heat(self, word: str, *, whole_word: bool) -> None:
        """Mark the lines where ``word`` occurs (as a name: not part of a longer name and
        not an attribute, like the regex ``(?<![\\w.])word\\b``)."""
        text, hot, starts = self.text, self._hot, self.line_starts
        if text is None or hot is None:
            return
        size, end = len(word), len(text)
        position = text.find(word)
        while position != -1:
            if whole_word:
                before = text[position - 1] if position else " "
                after = text[position + size] if position + size < end else " "
                if before.isalnum() or before in "_." or after.isalnum() or after == "_":
                    position = text.find(word, position + size)
                    continue
            hot[bisect.bisect_right(starts, position)] = 1
            position = text.find(word, position + size)

    def _bind(self, name: str, target: str) -> None:
        """Bind a local name to a dotted target; a name that leads to a watched API makes
        every line mentioning it worth visiting."""
        self.aliases[name] = target
        self._decorator_calls.pop(name, None)
        if self._hot is None or name in self._heated:
            return
        if any(
            w == target or w.startswith(target + ".") or target.startswith(w + ".")
            for w in self.watched
        ):
            self._heated.add(name)
            self._heat(name, whole_word=True)

    def visit(self, node: ast.AST) -> Any:
        # NodeVisitor.visit builds the method's name for every node; look it up once per type.
        try:
            method = _VISIT_METHODS[node.__class__]
        except KeyError:
            method = getattr(_Visitor, "visit_" + node.__class__.__name__, _Visitor.generic_visit)
            _VISIT_METHODS[node.__class__] = method
        return method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _BLOCKS):
            super().generic_visit(node)
            return
        # A block: its statements are visited one by one (pruned), its header only when it
        # mentions something worth a look.
        header, bodies = _block_fields(type(node))
        if header and not isinstance(node, ast.Module):
            body = next((v for v in (getattr(node, f) for f in bodies) if v), None)
            first = _first_line(node)
            last = max(first, _first_line(body[0]) - 1) if body else first
            if self._is_hot(first, last):
                for field in header:
                    value = getattr(node, field, None)
                    if isinstance(value, list):
                        for item in value:
                            if isinstance(item, ast.AST):
                                self.visit(item)
                    elif isinstance(value, ast.AST):
                        self.visit(value)
        conditional = not self.scope.qualname and not isinstance(node, _UNCONDITIONAL)
        self._conditional += conditional
        for field in bodies:
            for child in getattr(node, field):
                if isinstance(child, ast.stmt):
                    self._visit_stmt(child)
                else:
                    self.visit(child)  # except handlers, match cases
        self._conditional -= conditional

    def _visit_stmt(self, node: ast.stmt) -> None:
        if self.full and self._class_level:
            self._record_statement(node)
        if (
            isinstance(node, _NEVER_PRUNED)
            or self._is_hot(node.lineno, node.end_lineno or node.lineno)
            or _may_alias_fixture(node)
            or self._rebinds_fixture_decorator(node)
        ):
            self.visit(node)

    def _rebinds_fixture_decorator(self, node: ast.stmt) -> bool:
        """Whether ``node`` assigns a name bound to a fixture decorator (no trigger word marks
        ``module_fixture = print``, though after it the name makes no fixtures)."""
        if not isinstance(node, ast.Assign) or not (self._decorator_calls or self.aliases):
            return False
        return any(
            isinstance(target, ast.Name)
            and (
                target.id in self._decorator_calls
                or self.aliases.get(target.id) in FIXTURE_DECORATORS
            )
            for target in node.targets
        )

    # -- structure (full scans) --------------------------------------------------------------
    def _binding(
        self, name: str, kind: str, target: str = "", attr: str = "", line: int = 0
    ) -> None:
        if self.full and not self.scope.qualname:
            self._bindings.append(
                Binding(name, kind, target, attr, line, conditional=self._conditional > 0)
            )

    def _record_statement(self, node: ast.stmt) -> None:
        """Module- and class-level assignments: aliases, ``__all__``, ``pytestmark``,
        ``__test__`` and class attribute names; what skips the whole module."""
        if (
            isinstance(node, (ast.Expr, ast.Assign))
            and isinstance(node.value, ast.Call)
            and not self.scope.qualname
            and not self._conditional
        ):
            self._module_skip(node.value)
        if isinstance(node, ast.Delete):
            deleted = [t.id for t in node.targets if isinstance(t, ast.Name)]
            self._record_deletion(deleted, node.lineno)
            return
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets, value = [node.target], None
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
            value = None
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and self.scope.qualname:
            # At module level visit_Import records these bindings; in a class body an
            # import only rebinds names, as any other statement binding them does.
            bound = [a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"]
            targets, value = [ast.Name(id=name, ctx=ast.Store()) for name in bound], None
        else:
            return
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        for target in targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                names.extend(e.id for e in target.elts if isinstance(e, ast.Name))
        if not self.scope.qualname and self.full:
            self._note_test_attr(targets, value)
        if self.scope.qualname:  # a class body
            body = self._class_body[-1]
            for name in names:
                # Bound again to something that is not this body's function or class (`for
                # test_x in ...`, `test_x = None`): pytest no longer finds them under the name.
                # `test_x = mark(test_x)` still binds the function; `property(test_x)` not.
                rewrapped = (
                    isinstance(value, ast.Call)
                    and any(isinstance(a, ast.Name) and a.id == name for a in value.args)
                    and (self._peek(value.func) or getattr(value.func, "id", ""))
                    not in PROPERTY_DECORATORS
                )
                if name in body["names"] and not rewrapped:
                    body["aliases"][name] = None
                else:
                    body["aliases"].pop(name, None)
            body["names"].extend(names)
            if len(targets) == 1 and len(names) == 1 and isinstance(value, ast.Name):
                body["aliases"][names[0]] = value.id
            if "__test__" in names and isinstance(value, ast.Constant):
                body["test_attr"] = bool(value.value)
            if "pytestmark" in names and value is not None:
                body["marks"].extend(self._marks_in(value))
            elif len(names) == 1 and isinstance(value, (ast.Call, ast.Attribute)):
                # `cases = pytest.mark.parametrize(...)` in a class body, for its methods.
                marks = self._marks_in(value)
                if len(marks) == 1:
                    body["mark_aliases"][names[0]] = marks[0]
            return
        # `s = attributes = attrs` binds each name to the one value; a list bound so is
        # changed through either name, which only a single name lets the scan follow.
        chained = value is not None and all(isinstance(t, ast.Name) for t in targets)
        simple = chained and len(targets) == 1
        for name in names:
            if chained and _dotted_source(value) is not None:
                self._binding(name, "alias", _dotted_source(value) or "", line=node.lineno)
            elif (
                self.full  # bindings are kept for full scans only: no value to work out else
                and chained
                and value is not None
                and (known := _constant(value)) is not _NO_VALUE
            ):
                self._binding(name, "constant", parameter_id(known) or "", line=node.lineno)
            elif (
                self.full
                and simple
                and value is not None
                and (elements := self._listed_elements(name, value)) is not None
            ):
                self._binding(name, "listed", elements, line=node.lineno)
            else:
                self._binding(name, "value", line=node.lineno)
        if not simple or value is None:
            return
        name = names[0]
        if name == "__all__" and isinstance(value, (ast.List, ast.Tuple)):
            items = [e.value for e in value.elts if _is_str(e)]  # type: ignore[attr-defined]
            if len(items) == len(value.elts):
                self._all_names = tuple(items)
        elif name == "pytestmark":
            self._module_marks.extend(self._marks_in(value))
        else:
            marks = self._marks_in(value) if isinstance(value, (ast.Call, ast.Attribute)) else []
            if len(marks) == 1:
                self._mark_aliases[name] = marks[0]

    def _listed_elements(self, name: str, value: ast.expr) -> str | None:
        """What a module-level list another module may give ``parametrize`` (``CASES =
        [1, pytest.param(2, id="two")]``, or a display :meth:`_sequence_named` makes) tells
        of the ids pytest makes of each element, as JSON (``{"elements": ...}``) for
        :func:`listed_ids`. A list the module names again may change in place: it is told
        ``{"named_again": true}`` only, for :func:`listed_elements` to work out should
        another module give it to ``parametrize`` (rarely: working out all of a module's
        changes walks all of it again, as costly as its parse). None when it is no list,
        or an element's id depends on what this module imports (told only here)."""
        if name.startswith("__"):
            return None
        if name != self._listing and self._named_more_than(name, 1):
            return json.dumps({"named_again": True}) if _may_list(value) else None
        found = self._display_of(value, module_only=True, copied_at=None)
        if found is None or len(found[0].elts) > MAX_RANGE:
            return None
        display, value_id = found
        elements: list[list[Any]] = []
        for element in display.elts:
            explicit: Any = None
            given: list[Any] | None = None  # pytest.param's values
            row: list[Any] | None = None  # a tuple or list's, as one value per name
            if (param := _param_call(element, self._peek)) is not None:
                given = [_id_value(v, value_id) for v in param[0]]
                if param[1] is not None:
                    explicit = _explicit_id(param[1], value_id)
                    if not isinstance(explicit, str):
                        return None
            elif isinstance(element, (ast.Tuple, ast.List)):
                row = [_id_value(v, value_id) for v in element.elts]
            whole = _id_value(element, value_id)
            if any(isinstance(i, dict) for i in (whole, *(given or ()), *(row or ()))):
                return None
            elements.append([explicit, given, row, whole])
        return json.dumps({"elements": elements})

    def _named_more_than(self, name: str, times: int) -> bool:
        """Whether ``name`` occurs more than ``times`` times in the module's text, as a word
        or within one (a quick, cautious look: it may say yes for a name that is not named
        again, never no for one that is). Yes, as cautiously, for every name once the
        searches of this module went through ``_SEARCH_BUDGET`` characters: a module of
        thousands of lists would otherwise be searched once per list."""
        if self._source is None:
            self._source = self.text if self.text is not None else "\n".join(self.lines)
        self._searched += len(self._source)
        return self._searched > _SEARCH_BUDGET or self._source.count(name) > times

    def _record_deletion(self, names: list[str], line: int) -> None:
        """``del name`` at module or class level: what was bound there is gone, so pytest
        does not collect it (in a class, a base's attribute of that name shows again)."""
        if self.scope.qualname:
            body = self._class_body[-1]
            body["names"] = [n for n in body["names"] if n not in names]
            for name in names:
                body["aliases"].pop(name, None)
            return
        for name in names:
            self._binding(name, "deleted", line=line)

    def _note_test_attr(self, targets: list[ast.expr], value: ast.expr | None) -> None:
        """``__test__ = False`` (the module) or ``test_x.__test__ = False`` (a function or
        class of this module) at module level: pytest does not collect what it marks. Only
        a literal set unconditionally counts; any other value leaves what pytest does untold,
        taken as not set."""
        literal = (
            bool(value.value) if isinstance(value, ast.Constant) and not self._conditional else None
        )
        for target in targets:
            if isinstance(target, ast.Name) and target.id == "__test__":
                self._module_test_attr = literal
            elif (
                isinstance(target, ast.Attribute)
                and target.attr == "__test__"
                and isinstance(target.value, ast.Name)
            ):
                # On what the name holds now (a def or class above it; a later one of the
                # same name is a new object, without it).
                name = target.value.id
                if name in self._functions:
                    info = self._functions[name]
                    self._functions[name] = dataclasses.replace(info, test_attr=literal)
                elif name in self._class_details:
                    detail = self._class_details[name]
                    names = (*detail.names, "__test__")
                    if "__test__" in detail.names:
                        names = detail.names
                    self._class_details[name] = dataclasses.replace(
                        detail, names=names, test_attr=literal
                    )

    def _module_skip(self, call: ast.Call) -> None:
        """Note ``pytest.importorskip("name")`` and ``pytest.skip(allow_module_level=True)``
        run by the module itself, whatever happens (not under an ``if`` or ``try``)."""
        dotted = self._peek(call.func)
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        if dotted == "pytest.importorskip":
            name = call.args[0] if call.args else keywords.get("modname")
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self._requires.append(name.value)
        elif dotted == "pytest.skip":
            flag = keywords.get("allow_module_level")
            self._skipped |= isinstance(flag, ast.Constant) and flag.value is True

    def _marks_in(self, node: ast.expr) -> list[Mark]:
        items = node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]
        return [mark for item in items if (mark := self._mark(item)) is not None]

    def _mark(self, node: ast.expr) -> Mark | None:
        call = node if isinstance(node, ast.Call) else None
        target = call.func if call else node
        if isinstance(target, ast.Name) and call is None:
            # A method's decorator reads its class body first, then the module.
            in_class = self._class_body[-1]["mark_aliases"] if self._class_body else {}
            alias = in_class.get(target.id) or self._mark_aliases.get(target.id)
            if alias is not None:
                return alias
        dotted = self._peek(target) or ""
        if not dotted.startswith("pytest.mark."):
            return None
        name = dotted[len("pytest.mark.") :]
        if name not in ("ssot_exempt", "usefixtures", "parametrize"):
            return None
        if call is None:
            return Mark(name, node.lineno)
        if name == "parametrize":
            # `indirect` decides whether pytest runs the fixtures of those names.
            indirect = {k.arg: _literal(k.value) for k in call.keywords if k.arg == "indirect"}
            args = _parametrize(
                call,
                self._peek,
                self._name_id,
                self._sequence_named,
                self._id_function,
                self._imported_list,
            )
            return Mark(name, node.lineno, args, indirect)
        return Mark(
            name,
            node.lineno,
            tuple(_literal(a) for a in call.args),
            {k.arg: _literal(k.value) for k in call.keywords if k.arg},
        )

    def _name_id(
        self, node: ast.expr, *, module_only: bool = False, depth: int = 0
    ) -> str | dict[str, str] | None:
        """The ``__name__`` pytest puts in a node id for a parameter that is a name bound to
        a class, a function or a module (by this module, or a builtin), or the value of a
        constant; ``{"name": ...}`` for a name imported from elsewhere, which discovery
        resolves; None when the name may hold anything else. ``module_only``: the name is
        read at module level (an element of a module's list), even under a class."""
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name):
                member = self._enum_member_id(node.value.id, node.attr)
                if member is not None:
                    return member
            dotted = _dotted_source(node)
            if dotted is None:
                return None
            owner = dotted.partition(".")[0]
            in_class, _ = self._constant_named(owner, node.lineno, module_only=module_only)
            binding = None if in_class else self._module_binding(owner)
            if binding is not None and binding.kind in ("import", "from"):
                # An imported module's attribute (`typing.ClassVar`, `urllib3.exceptions.
                # ProtocolError`): what it names is for the resolver to tell, as for a name.
                return {"name": dotted}
            return None
        if not isinstance(node, ast.Name):
            return None
        in_class, value = self._constant_named(node.id, node.lineno, module_only=module_only)
        if value is not _NO_VALUE:
            return parameter_id(value)
        if in_class:
            return None  # a name of the class body, not the module's
        binding = self._module_binding(node.id)
        if binding is None:
            value = getattr(builtins, node.id, None)
            name = getattr(value, "__name__", None)
            return name if isinstance(name, str) and callable(value) else None
        if binding.kind in ("class", "def"):
            return node.id
        if binding.kind == "import":
            # A module's own name: `import os.path as p` is posixpath (as loaded here).
            module = sys.modules.get(binding.target)
            return getattr(module, "__name__", binding.target)
        if binding.kind == "from":
            return {"name": node.id}  # what it names is for the resolver to tell
        if binding.kind == "alias" and not binding.conditional and depth < _MAX_ALIASES:
            # `first = shared`: what the name it was given named then, if not bound since.
            parts = binding.target.split(".")
            origin = self._module_binding(parts[0])
            if origin is not None and (origin.line > binding.line or origin.conditional):
                return None
            aliased: ast.expr = ast.Name(id=parts[0], ctx=ast.Load(), lineno=binding.line)
            for part in parts[1:]:
                aliased = ast.Attribute(aliased, part, ast.Load(), lineno=binding.line)
            return self._name_id(aliased, module_only=True, depth=depth + 1)
        return None

    def _imported_list(self, node: ast.expr) -> str | None:
        """The name (``CASES``, ``cases.CASES``) by which ``node`` reads what this module
        imports from elsewhere, where that may be a list another module defines: its
        elements are for discovery to tell. None for anything else, and for a list this
        module may change in place before pytest reads it."""
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        told = self._name_id(node)
        # Where the import statement names it, it may be named there and here only.
        named_by_import = isinstance(node, ast.Name)
        if told is None and isinstance(node, ast.Name) and self._star_imported(node):
            told, named_by_import = {"name": node.id}, False
        if not isinstance(told, dict):
            return None
        name = told["name"]
        # Named nowhere else, it is not changed: the common case, which spares working out
        # all of this module's changes.
        if self._named_more_than(name, 1 + named_by_import) and self._changed_in_place(name, None):
            return None
        return name

    def _star_imported(self, name: ast.Name) -> bool:
        """Whether ``name`` can only be what a ``from module import *`` of this module binds
        (the module binds no such name, nor a builtin)."""
        in_class, _ = self._constant_named(name.id, name.lineno)
        return (
            not in_class
            and self._module_binding(name.id) is None
            and not hasattr(builtins, name.id)
            and any(b.kind == "star" for b in self._bindings)
        )

    def _constants_of(self, node: ast.Module | ast.ClassDef) -> dict[str, list[tuple[int, Any]]]:
        """:func:`_constants_bound` of a module or class body, once per scan."""
        if id(node) not in self._stores:
            found = _constants_bound(node.body)
            if isinstance(node, ast.Module) and any("global" in line for line in self.lines):
                # A function declaring it `global` may rebind it before a decorator runs.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Global):
                        found.update((name, [(0, _NO_VALUE)]) for name in inner.names)
            self._stores[id(node)] = found
        return self._stores[id(node)]

    def _id_function(self, node: ast.expr | None) -> Callable[[object], str] | None:
        """The builtin ``str`` or ``repr`` that ``ids=`` names, unless the class body or the
        module binds that name above it (or imports one); else None."""
        if not isinstance(node, ast.Name) or node.id not in _ID_FUNCTIONS:
            return None
        in_class, _ = self._constant_named(node.id, node.lineno)
        if in_class or node.id in self.aliases or self._module_binding(node.id) is not None:
            return None
        return _ID_FUNCTIONS[node.id]

    def _constant_named(
        self, name: str, line: int, *, module_only: bool = False
    ) -> tuple[bool, Any]:
        """What a decorator on ``line`` reads from ``name`` when that is a constant: the value
        of the last binding above the line in its class body (for a method) or else in the
        module, when that was ``NAME = <constant>`` (or a :class:`_Sequence`); else
        ``_NO_VALUE``. First, whether the class body binds the name (a method's decorator
        reads the class body first, unless ``module_only``)."""
        if self.scope.qualname and not module_only:
            if not self._class_body:
                return True, _NO_VALUE  # inside a function: its locals come first
            bindings = self._constants_of(self._class_body[-1]["node"]).get(name, [])
            above = _bound_above(bindings, line)
            if above is not None:
                return True, above[1]
        if self.module is not None:
            above = _bound_above(self._constants_of(self.module).get(name, []), line)
            if above is not None:
                return False, above[1]
        return False, _NO_VALUE

    def _sequence_named(
        self, node: ast.expr, *, module_only: bool = False, copied_at: int | None = None
    ) -> tuple[ast.List | ast.Tuple, NameId] | None:
        """The list or tuple display that a ``parametrize`` argument names (``CASES`` for
        ``CASES = [1, 2]`` above the decorator, in the class body or the module) or makes (a
        ``range()`` call, a comprehension, a display with ``*`` parts, a dict's keys, the
        builtins of :meth:`_called`), with how to tell the ids of its elements (read where
        each was written); None when the name may hold anything else, or its list may be
        changed in place before it is read. ``module_only``: ``node`` is read at module
        level (in a module's list, or inside a comprehension under a class). ``copied_at``:
        ``node`` is copied on that line (see :meth:`_changed_in_place`); None: pytest reads
        it."""
        if isinstance(node, ast.Call):
            return self._called(node, module_only=module_only, copied_at=copied_at)
        if isinstance(node, ast.Dict):  # iterated, it gives its keys
            mapping = self._mapping(node, module_only=module_only, copied_at=copied_at)
            return None if mapping is None else (_listed(k for k, _ in mapping[0]), mapping[1])
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            return self._comprehension_made(node, module_only=module_only)
        if isinstance(node, (ast.List, ast.Tuple)):
            if not _has_starred(node):
                return None  # as written: the caller reads it where it is
            return self._spliced(node, module_only=module_only)
        if not isinstance(node, ast.Name):
            return None
        # Most names are lists: followed first, the rarer enum class only asked of the rest.
        followed = self._followed(
            node,
            lambda bound, inside: self._display_of(bound, module_only=inside, copied_at=copied_at),
            module_only=module_only,
            copied_at=copied_at,
        )
        return (
            followed if followed is not None else self._enum_members(node, module_only=module_only)
        )

    def _followed(
        self,
        name: ast.Name,
        read: Callable[[ast.expr, bool], _Read | None],
        *,
        module_only: bool,
        copied_at: int | None,
    ) -> _Read | None:
        """``read`` of what ``name`` is bound to (a :class:`_Sequence`), and whether it is read
        at module level; None when the name holds anything else, its value may have changed
        in place before it is read, or its value reads itself (``CASES = [*CASES]`` over
        several lines)."""
        if self._changed_in_place(name.id, copied_at):
            return None
        in_class, value = self._constant_named(name.id, name.lineno, module_only=module_only)
        if not isinstance(value, _Sequence) or id(value.node) in self._expanding:
            return None
        self._expanding.add(id(value.node))
        try:
            return read(value.node, module_only or not in_class)
        finally:
            self._expanding.discard(id(value.node))

    def _reader(self, module_only: bool) -> NameId:
        """How to tell the ids of names read in the class body or the module (see _name_id)."""
        return functools.partial(self._name_id, module_only=True) if module_only else self._name_id

    def _display_of(
        self, node: ast.expr, *, module_only: bool, copied_at: int | None
    ) -> tuple[ast.List | ast.Tuple, NameId] | None:
        """The display ``node`` is (one without ``*`` parts, read where it is) or what
        :meth:`_sequence_named` makes of it; None when neither can be told."""
        if isinstance(node, (ast.List, ast.Tuple)) and not _has_starred(node):
            return node, self._reader(module_only)
        return self._sequence_named(node, module_only=module_only, copied_at=copied_at)

    def _spliced(
        self, node: ast.List | ast.Tuple, *, module_only: bool
    ) -> tuple[ast.List, NameId] | None:
        """``[*CASES, *(... for ...), 3]`` as one display, each ``*`` part a display or what
        :meth:`_sequence_named` makes of it; None when one cannot be told."""
        told = _Told(self._reader(module_only))
        elements: list[ast.expr] = []
        for element in node.elts:
            if not isinstance(element, ast.Starred):
                elements.append(element)
                continue
            found = self._display_of(element.value, module_only=module_only, copied_at=node.lineno)
            if found is None:
                return None
            told.add(found[0].elts, found[1])
            elements.extend(found[0].elts)
            if len(elements) > MAX_RANGE:
                return None
        return _listed(elements), told

    def _comprehension_made(
        self, node: ast.ListComp | ast.GeneratorExp, *, module_only: bool
    ) -> tuple[ast.List, NameId] | None:
        """``[pytest.param(k, id=k) for k in ("a", "b")]`` as the display it makes,
        ``[pytest.param("a", id="a"), pytest.param("b", id="b")]``: each ``for`` over what
        :meth:`_sequence_named` tells (or a display), none depending on another; its
        element may read the loop's names and the module's, its ``if`` clauses the loop's
        names and literal values (see :func:`_truth`). None otherwise."""
        if self.scope.qualname and not self._class_body:
            return None  # inside a function: its locals come first
        if any(
            isinstance(n, _OWN_NAMES)
            for part in (node.elt, *(c for g in node.generators for c in g.ifs))
            for n in ast.walk(part)
        ):
            return None  # it binds names of its own
        # Only the first iterable is read where the comprehension is; the rest of it is a
        # scope of its own, which does not see a class body's names.
        inside = self._reader(True)
        told = _Told(inside)
        rows: list[dict[str, ast.expr]] = [{}]
        looped: set[str] = set()
        for index, generator in enumerate(node.generators):
            if generator.is_async:
                return None
            iterable = generator.iter
            if any(isinstance(n, ast.Name) and n.id in looped for n in ast.walk(iterable)):
                return None  # it depends on an earlier loop
            found = self._display_of(
                iterable, module_only=module_only or index > 0, copied_at=node.lineno
            )
            names = _loop_names(generator.target)
            if found is None or names is None:
                return None
            display, name_id = found
            if len(rows) * len(display.elts) > MAX_MADE:
                return None
            told.add(display.elts, name_id)
            bound: list[dict[str, ast.expr]] = []
            for element in display.elts:
                if isinstance(generator.target, ast.Name):
                    bound.append({names[0]: element})
                elif (
                    isinstance(element, (ast.Tuple, ast.List))
                    and len(element.elts) == len(names)
                    and not _has_starred(element)
                ):
                    bound.append(dict(zip(names, element.elts, strict=True)))
                else:
                    return None  # unpacked from what is not a display of as many
            rows = [{**row, **more} for row in rows for more in bound]
            looped.update(names)
            for condition in generator.ifs:
                kept = []
                for row in rows:
                    truth = _truth(_substituted(condition, row))
                    if truth is _NO_VALUE:
                        return None  # a condition that cannot be told
                    if truth:
                        kept.append(row)
                rows = kept
        made = [_substituted(node.elt, row) for row in rows]
        return _listed(made), told

    def _called(
        self, call: ast.Call, *, module_only: bool, copied_at: int | None
    ) -> tuple[ast.List, NameId] | None:
        """What a call makes of values the module spells out, as a display: ``range()``,
        ``list()``, ``tuple()``, ``sorted()`` and ``reversed()`` (the builtins) of them, a
        ``types.MappingProxyType()`` of a dict display (its keys), the ``keys()``,
        ``values()`` or ``items()`` of either, and ``itertools.product()`` of them."""
        if self.scope.qualname and not self._class_body:
            return None  # inside a function: its locals come first
        func = call.func
        if self._peek(func) == "itertools.product":
            return self._product(call, module_only=module_only)
        if isinstance(func, ast.Attribute):
            if func.attr not in _VIEWS or call.args or call.keywords:
                return None
            mapping = self._mapping(func.value, module_only=module_only, copied_at=copied_at)
            if mapping is None:
                return None
            pairs, name_id = mapping
            if func.attr == "items":
                return _listed(ast.Tuple(elts=[k, v], ctx=ast.Load()) for k, v in pairs), name_id
            return _listed(pair[func.attr == "values"] for pair in pairs), name_id
        if not isinstance(func, ast.Name) or func.id not in _ITERATING:
            # A MappingProxyType, a view of its dict as pytest reads it.
            mapping = self._mapping(call, module_only=module_only, copied_at=copied_at)
            return None if mapping is None else (_listed(k for k, _ in mapping[0]), mapping[1])
        bodies = [self.module, *(b["node"] for b in self._class_body[-1:])]
        if any(func.id in self._constants_of(b) for b in bodies if b is not None):
            return None  # the module or the class body binds the name
        if func.id == "range":
            return self._range_called(call)
        if len(call.args) != 1 or isinstance(call.args[0], ast.Starred):
            return None
        reverse = False
        for keyword in call.keywords:
            flag = _constant(keyword.value)
            if func.id != "sorted" or keyword.arg != "reverse" or type(flag) not in (bool, int):
                return None  # a key= function, or what no builtin takes
            reverse = bool(flag)
        iterated = call.args[0]
        found: tuple[ast.List | ast.Tuple, NameId] | None
        if (characters := _characters(iterated)) is not None:
            found = characters, self._name_id
        elif func.id == "reversed" and isinstance(iterated, ast.GeneratorExp):
            return None  # not a sequence: pytest fails to collect it
        else:
            # list(), tuple() and sorted() copy what they are given where they are called;
            # reversed() is an iterator over it, read when pytest reads it.
            copied = copied_at if func.id == "reversed" else call.lineno
            found = self._display_of(iterated, module_only=module_only, copied_at=copied)
        if found is None:
            return None
        elements, name_id = list(found[0].elts), found[1]
        if func.id == "reversed":
            elements.reverse()
        elif func.id == "sorted":
            ordered = _sorted_constants(elements, reverse=reverse)
            if ordered is None:
                return None
            elements = ordered
        return _listed(elements), name_id

    def _product(self, call: ast.Call, *, module_only: bool) -> tuple[ast.List, NameId] | None:
        """``itertools.product(A, B)`` as the display of its rows, ``[(a1, b1), (a1, b2),
        ...]`` (``repeat=`` with a literal count too), each of ``A`` and ``B`` what
        :meth:`_display_of` tells: it copies what it is given where it is called."""
        repeat = 1
        for keyword in call.keywords:
            count = _constant(keyword.value)
            if keyword.arg != "repeat" or type(count) is not int:
                return None
            repeat = count
        if not call.args or repeat < 1 or any(isinstance(a, ast.Starred) for a in call.args):
            return None  # one empty row, or as many iterables as are given at run time
        told = _Told(self._reader(module_only))
        pools: list[list[ast.expr]] = []
        for iterable in call.args:
            characters = _characters(iterable)
            found = (
                (characters, self._name_id)
                if characters is not None
                else self._display_of(iterable, module_only=module_only, copied_at=call.lineno)
            )
            if found is None:
                return None
            told.add(found[0].elts, found[1])
            pools.append(list(found[0].elts))
        if len(pools) * repeat > MAX_MADE:
            return None  # rows this long are no suite's parameters (`repeat=10**9`)
        pools *= repeat
        made = 1
        for pool in pools:
            made *= len(pool)
            if made > MAX_MADE:
                return None
        rows = itertools.product(*pools)
        return _listed(ast.Tuple(elts=list(row), ctx=ast.Load()) for row in rows), told

    def _mapping(
        self, node: ast.expr, *, module_only: bool, copied_at: int | None
    ) -> tuple[list[tuple[ast.expr, ast.expr]], NameId] | None:
        """The ``(key, value)`` pairs of the dict display ``node`` is, names or wraps in
        ``types.MappingProxyType()``, as the dict holds them (a repeated key keeps its first
        place and its last value); None unless every key is a constant, or where the dict
        may be changed in place before it is read (``copied_at`` as for _sequence_named)."""
        if isinstance(node, ast.Name):
            return self._followed(
                node,
                lambda bound, inside: self._mapping(bound, module_only=inside, copied_at=copied_at),
                module_only=module_only,
                copied_at=copied_at,
            )
        if isinstance(node, ast.Call):
            if (
                len(node.args) != 1
                or node.keywords
                or self._peek(node.func) != "types.MappingProxyType"
            ):
                return None
            return self._mapping(node.args[0], module_only=module_only, copied_at=copied_at)
        if not isinstance(node, ast.Dict) or len(node.keys) > MAX_RANGE:
            return None
        pairs: dict[Any, list[ast.expr]] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            constant = _NO_VALUE if key is None else _constant(key)  # None: a `**` part
            if constant is _NO_VALUE:
                return None
            if constant in pairs:
                pairs[constant][1] = value
            else:
                pairs[constant] = [key, value]  # type: ignore[list-item]
        return [(k, v) for k, v in pairs.values()], self._reader(module_only)

    def _range_called(self, call: ast.Call) -> tuple[ast.List, NameId] | None:
        """``range(3)`` (with literal bounds) as the display ``[0, 1, 2]``."""
        if call.keywords:
            return None
        bounds = [_constant(arg) for arg in call.args]
        if not 1 <= len(bounds) <= 3 or not all(type(b) is int for b in bounds):
            return None
        try:
            numbers = range(*bounds)
        except ValueError:  # a step of 0: pytest fails to collect it
            return None
        if len(numbers) > MAX_RANGE:
            return None
        return _listed(ast.Constant(n) for n in numbers), self._name_id

    def _changed_in_place(self, name: str, copied_at: int | None) -> bool:
        """Whether the list or dict ``name`` holds may have changed in place before pytest
        reads it (``copied_at`` None: it is given to pytest itself, which reads it after the
        module ran) or before it is copied on line ``copied_at`` (by ``tuple(CASES)``, a
        comprehension or a display splicing it)."""
        line = self._changes().get(name)
        return line is not None and (copied_at is None or line <= copied_at)

    def _changes(self) -> dict[str, int]:
        """Per name anywhere in the module whose list or dict may change in place
        (``CASES.append(...)``, ``CASES[0] = ...``, ``CASES += [3]``, ``shuffle(CASES)``, an
        alias ``ALL = CASES``), as name or attribute (``cls.CASES.sort()``), the first line
        where it may; a method that only reads it (``TABLE.items()``) leaves it alone. A
        change in a loop may happen from the loop's first line on. What a function's body
        does counts only where the module may run one of its functions or methods while it
        is imported (it names one of them or a class outside their bodies), and then from
        the start: a test that patches ``TABLE`` runs after collection. Worked out once."""
        if self._touched is None:
            at_import: dict[str, int] = {}
            in_bodies: set[str] = set()
            functions: set[str] = set()  # the module's functions, methods and classes
            named: set[str] = set()  # names read where the module runs as it is imported
            reading: set[int] = set()  # `TABLE.keys` of `TABLE.keys()`: met after its call
            passed: set[int] = set()  # names given to parametrize, which runs none of them
            postponed = self.module is not None and any(
                isinstance(statement, ast.ImportFrom)
                and statement.module == "__future__"
                and any(alias.name == "annotations" for alias in statement.names)
                for statement in self.module.body
            )
            # (node, inside a function's body, the first line a change in it may happen on)
            pending: list[tuple[ast.AST, bool, int]] = (
                [] if self.module is None else [(self.module, False, sys.maxsize)]
            )
            while pending:
                node, deferred, floor = pending.pop()
                line = min(getattr(node, "lineno", floor), floor)
                children: Iterable[tuple[ast.AST, bool, int]]
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions.add(node.name)
                    # Its decorators and defaults run where it is defined, its body later.
                    evaluated = _defined_with(node, annotations=not postponed)
                    children = [
                        *((c, deferred, floor) for c in evaluated),
                        *((s, True, floor) for s in node.body),
                    ]
                elif isinstance(node, ast.If) and _is_main_guard(node.test):
                    # Its body does not run when pytest imports the module; its else does.
                    children = [
                        *((s, True, floor) for s in node.body),
                        *((s, deferred, floor) for s in node.orelse),
                    ]
                elif isinstance(node, ast.AnnAssign) and postponed:
                    # `from __future__ import annotations`: the annotation is never evaluated.
                    children = [
                        (c, deferred, floor) for c in (node.target, node.value) if c is not None
                    ]
                else:
                    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                        floor = line  # its body runs again after its later lines
                    children = [(c, deferred, floor) for c in ast.iter_child_nodes(node)]
                    if isinstance(node, ast.ClassDef):
                        # Using a class runs its methods (``__init__``, a base's
                        # ``__init_subclass__``, a descriptor's ``__set_name__``) by no name.
                        functions.add(node.name)
                if isinstance(node, ast.Name):
                    if not deferred and isinstance(node.ctx, ast.Load) and id(node) not in passed:
                        named.add(node.id)
                elif isinstance(node, ast.Call) and not deferred and self._passes_values(node):
                    # pytest keeps a parameter's value (a function, too) and calls ids= later;
                    # what the arguments call themselves runs now, with what they are given.
                    called = {
                        id(n)
                        for call in ast.walk(node)
                        if isinstance(call, ast.Call)
                        and call is not node
                        and not self._passes_values(call)
                        for n in ast.walk(call)
                    }
                    passed.update(
                        id(n)
                        for n in ast.walk(node)
                        if isinstance(n, ast.Name) and id(n) not in called
                    )
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _READING_METHODS
                ):
                    reading.add(id(node.func))
                pending.extend(children)
                if isinstance(node, ast.Attribute) and id(node) in reading:
                    continue
                changed: Iterable[str] = ()
                if isinstance(node, ast.Attribute) or (
                    isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load)
                ):
                    changed = _named(node.value)
                elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                    changed = _named(node.value) if node.value is not None else ()
                elif isinstance(node, ast.AugAssign):
                    # `CASES += [3]` extends the very list a decorator above was given.
                    changed = _named(node.target)
                elif isinstance(node, ast.Call) and not (
                    _leaves_arguments_alone(node.func) or self._peek(node.func) in _READING_IMPORTED
                ):
                    changed = [
                        name
                        for arg in (*node.args, *(k.value for k in node.keywords))
                        for name in _named(arg.value if isinstance(arg, ast.Starred) else arg)
                    ]
                for name in changed:
                    if deferred:
                        in_bodies.add(name)
                    else:
                        at_import[name] = min(at_import.get(name, line), line)
            if functions & named:
                at_import.update(dict.fromkeys(in_bodies, 0))
            self._touched = at_import
        return self._touched

    def _passes_values(self, call: ast.Call) -> bool:
        """``pytest.param(...)`` or ``pytest.mark.parametrize(...)``: the functions it is given
        are values, not run as the module is imported (unlike those its arguments call)."""
        return self._peek(call.func) in ("pytest.param", "pytest.mark.parametrize")

    def _module_binding(self, name: str) -> Binding | None:
        return next((b for b in reversed(self._bindings) if b.name == name), None)

    def _module_class(self, name: str) -> ClassDetail | None:
        """The class this module's name is bound to last (so far), if it is one."""
        binding = self._module_binding(name)
        return self._class_details.get(name) if binding and binding.kind == "class" else None

    def _resolved_bases(self, detail: ClassDetail) -> list[str | None]:
        """A class's bases as dotted names through the module's imports (None: not known)."""
        bases: list[str | None] = []
        for base in detail.bases:
            head, _, rest = base.partition(".")
            resolved = self.aliases.get(head)
            bases.append(f"{resolved}.{rest}" if resolved and rest else resolved)
        return bases

    def _enum_members(self, name: ast.Name, *, module_only: bool) -> tuple[ast.List, NameId] | None:
        """The members iterating an enum class of this module gives (``for c in Color``,
        ``list(Color)``), in definition order without aliases, each a ``Color.RED`` node told
        as :meth:`_enum_member_id` tells it; None for any other name, a flag (which members
        iterating it gives depends on the Python version), or a body with more than members
        of literal values and methods (``auto()``, ``_ignore_``, a nested class...)."""
        in_class, _ = self._constant_named(name.id, name.lineno, module_only=module_only)
        detail = None if in_class else self._module_class(name.id)
        node = self._class_nodes.get(name.id) if detail is not None else None
        if (
            detail is None
            or node is None
            or (
                node.decorator_list
                and not all(self._peek(d) == "enum.unique" for d in node.decorator_list)
            )
        ):
            return None
        bases = self._resolved_bases(detail)
        if bases not in (["enum.Enum"], ["enum.IntEnum"], ["enum.StrEnum"]) and (
            self._enum_mixin(detail) is None
        ):
            return None
        members: list[ast.expr] = []
        ids: dict[int, str] = {}
        values: dict[Any, str] = {}  # a value seen before makes an alias (1, 1.0 and True too)
        for statement in node.body:
            if isinstance(statement, ast.Pass) or (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            ):
                continue  # a docstring, `...`
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if statement.name.startswith("_") and statement.name not in _HOW_SHOWN:
                    return None  # `_missing_`, `__new__`, `_generate_next_value_`...
                continue  # a method, no member
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(target := statement.targets[0], ast.Name)
                and not target.id.startswith("_")
            ):
                return None
            value = _constant(statement.value)
            ident = self._enum_member_id(name.id, target.id)
            if value is _NO_VALUE or ident is None:
                return None
            if value in values:
                continue
            values[value] = target.id
            member = ast.Attribute(
                value=ast.Name(id=name.id, ctx=ast.Load()), attr=target.id, ctx=ast.Load()
            )
            ast.copy_location(member, name)
            ast.copy_location(member.value, name)
            ids[id(member)] = ident
            members.append(member)
        if not members:
            return None
        default = self._reader(module_only)
        return _listed(members), lambda node: ids.get(id(node)) or default(node)

    def _enum_member_id(self, owner: str, attr: str) -> str | None:
        """``str()`` of a member of a plain ``enum.Enum``/``enum.Flag`` of this module,
        ``Color.RED`` (other enums print their values, or what their ``__str__`` says); the
        name of a class nested in a class of this module."""
        detail = self._module_class(owner)
        if detail is None or attr not in detail.names:
            return None
        mixin = self._enum_mixin(detail)
        if mixin is str:
            # pytest takes a str member as the string it is, whatever its __str__ says.
            value = self._member_value(owner, attr)
            return parameter_id(value) if isinstance(value, str) else None
        if "__str__" in detail.names:
            return None
        bases = self._resolved_bases(detail)
        member = f"{owner}.{attr}"
        if member in self._class_details:
            return attr  # a nested class: its name
        if member in self._functions:
            return None
        if bases in (["enum.Enum"], ["enum.Flag"]):
            return member
        if mixin is int:
            # pytest gives an int str(), which a plain enum's makes its name on every Python.
            return member if type(self._member_value(owner, attr)) in (int, bool) else None
        if len(bases) != 1 or bases[0] not in _BY_VALUE_ENUMS:
            return None
        if sys.version_info < (3, 11):
            return member  # str() of an int enum's member was its name, as a plain enum's
        # Its members are ints or strs, which pytest takes as such: the value is the id.
        value = self._member_value(owner, attr)
        wanted = str if bases[0] == "enum.StrEnum" else int
        if not isinstance(value, wanted) or isinstance(value, bool):
            return None
        return parameter_id(value)

    def _member_value(self, owner: str, attr: str) -> Any:
        """The literal value the class body binds ``attr`` to last, else ``_NO_VALUE``."""
        node = self._class_nodes.get(owner)
        if node is None:
            return _NO_VALUE
        above = _bound_above(self._constants_of(node).get(attr, []), sys.maxsize)
        return above[1] if above is not None else _NO_VALUE

    def _enum_mixin(self, detail: ClassDetail) -> type[str] | type[int] | None:
        """The builtin ``str`` or ``int`` an enum mixes in (``class Color(str, Enum)``),
        unless the module binds that name; else None."""
        if len(detail.bases) != 2 or detail.bases[0] not in ("str", "int"):
            return None
        builtin = detail.bases[0]
        if builtin in self.aliases or self._module_binding(builtin) is not None:
            return None
        if self._resolved_bases(detail)[1] != "enum.Enum":
            return None
        return str if builtin == "str" else int

    def _function_info(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, fixture: str | None, method: bool
    ) -> FunctionInfo:
        kind, abstract, autouse, patches = "function", False, False, 0
        params: tuple[Any, ...] | str | dict[str, Any] | None = None
        scope = "function"
        filled_by_name: set[str] = set()  # arguments hypothesis's @given fills by name
        filled_from_right = 0  # ... and how many it fills from the right
        decorators = node.decorator_list
        for decorator in decorators:
            target, call = self._decorator(decorator)
            dotted = self._peek(target) or (target.id if isinstance(target, ast.Name) else "")
            if dotted in ("staticmethod", "classmethod"):
                kind = dotted
            elif dotted in PROPERTY_DECORATORS:
                kind = "property"  # not callable: pytest collects no test of it
            elif dotted.endswith("abstractmethod"):
                abstract = True
            elif dotted in FIXTURE_DECORATORS and call is not None:
                keywords = {k.arg: k.value for k in call.keywords if k.arg}
                flag = keywords.get("autouse")
                autouse = isinstance(flag, ast.Constant) and bool(flag.value)
                if isinstance(scope_node := keywords.get("scope"), ast.Constant):
                    scope = str(scope_node.value)
                if "params" in keywords and fixture is not None:
                    ids = _parameter_ids(
                        [fixture],
                        keywords["params"],
                        keywords.get("ids"),
                        self._peek,
                        self._name_id,
                        self._sequence_named,
                        id_function=self._id_function(keywords.get("ids")),
                        imported_list=self._imported_list,
                    )
                    if ids is None:
                        params = UNKNOWN_PARAMS
                    else:
                        params = ids if isinstance(ids, dict) else tuple(ids)
            elif dotted == "hypothesis.given" and call is not None:
                filled_from_right = len(call.args)
                filled_by_name = {k.arg for k in call.keywords if k.arg}
            elif call is not None and dotted.startswith(MOCK_PATCH_DECORATORS):
                # `@patch(...)` without `new` passes the mock as a leading argument, which
                # pytest does not treat as a fixture.
                rest = dotted.rpartition("patch")[2]
                positional = {"": 2, ".object": 3}.get(rest)
                new_given = any(k.arg == "new" for k in call.keywords)
                if positional is not None and not new_given and len(call.args) < positional:
                    patches += 1
        a = node.args
        positional_args = [*a.posonlyargs, *a.args]
        required = positional_args[: len(positional_args) - len(a.defaults)]
        defaulted = positional_args[len(required) :]
        defaults = tuple(
            [x.arg for x in defaulted if x not in a.posonlyargs]
            + [x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=False) if d is not None]
        )
        names = [x.arg for x in required]
        names += [x.arg for x, d in zip(a.kwonlyargs, a.kw_defaults, strict=False) if d is None]
        if method and kind != "staticmethod":
            names = names[1:]
            positional_args = positional_args[1:]
        if filled_by_name or filled_from_right:
            # `@given(...)` hides the arguments it fills from pytest: they are no fixtures.
            rightmost = positional_args[max(0, len(positional_args) - filled_from_right) :]
            filled = filled_by_name | {x.arg for x in rightmost}
            names = [n for n in names if n not in filled]
        if not decorators:  # most test methods
            return FunctionInfo(
                line=node.lineno, args=tuple(names), fixture=fixture, defaults=defaults
            )
        return FunctionInfo(
            defaults=defaults,
            line=min(node.lineno, *(d.lineno for d in decorators)),
            args=tuple(names[patches:]),
            fixture=fixture,
            autouse=autouse,
            kind=kind,
            abstract=abstract,
            marks=tuple(m for d in decorators if (m := self._mark(d)) is not None),
            params=params,
            scope=scope,
        )

    def _add(self, target: str, kind: RefKind, node: ast.AST) -> Ref:
        line = getattr(node, "lineno", 1)
        ref = Ref(
            target=target,
            kind=kind,
            line=line,
            col=self._column(line, getattr(node, "col_offset", 0)),
            end_line=getattr(node, "end_lineno", None) or line,
            scope=self.scope,
            snippet=self._snippet(line),
        )
        self._refs.append(ref)
        return ref

    # -- name resolution ---------------------------------------------------------------------
    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and "getattr" not in self.aliases
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            base = self.resolve(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None

    # -- scopes ------------------------------------------------------------------------------
    def _push(self, kind: str, name: str, fixture: str | None = None) -> None:
        outer = self.scope
        self._outer_scopes.append(outer)
        # Classes count only while no function encloses them; the outermost fixture wins.
        leading_classes = self._class_level
        self.scope = Scope(
            qualname=(*outer.qualname, name),
            fixture=outer.fixture or fixture,
            classes=outer.classes + (kind == "class" and leading_classes),
        )
        self._class_level = kind == "class" and leading_classes

    def _pop(self) -> None:
        self.scope = scope = self._outer_scopes.pop()
        self._class_level = scope.classes == len(scope.qualname)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = ".".join([*self.scope.qualname, node.name])
        recorded = self._class_level
        sources = [_dotted_source(b) or ast.unparse(b) for b in node.bases]
        if recorded:
            bases = tuple(
                self.resolve(b) or src for b, src in zip(node.bases, sources, strict=True)
            )
            self.classes[qualname] = ClassInfo(line=node.lineno, bases=bases)
        structure = self.full and recorded
        if structure:
            if self.scope.qualname:
                self._class_body[-1]["names"].append(node.name)
                self._class_body[-1]["aliases"].pop(node.name, None)
            self._binding(node.name, "class", qualname, line=node.lineno)
            self._class_nodes[qualname] = node
            self._class_body.append(
                {
                    "node": node,
                    "names": [],
                    "test_attr": None,
                    "mark_aliases": {},
                    "aliases": {},
                    "marks": [m for d in node.decorator_list if (m := self._mark(d)) is not None],
                }
            )
        self._push("class", node.name)
        self.generic_visit(node)
        self._pop()
        if structure:
            body = self._class_body.pop()
            metaclass = next((k.value for k in node.keywords if k.arg == "metaclass"), None)
            self._class_details[qualname] = ClassDetail(
                line=node.lineno,
                bases=tuple(sources),
                metaclass=ast.unparse(metaclass) if metaclass is not None else None,
                names=tuple(body["names"]),
                test_attr=body["test_attr"],
                marks=tuple(body["marks"]),
                aliases=tuple(body["aliases"].items()),
            )

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not self.scope.qualname:
            self._module_functions[node.name] = node
        fixture = None
        if self._class_level:
            fixture = self._fixture_name(node)
            qualname = ".".join([*self.scope.qualname, node.name])
            if fixture is not None:
                self.fixtures[qualname] = fixture
            if self.full:
                method = bool(self.scope.qualname)
                if method:
                    self._class_body[-1]["names"].append(node.name)
                    self._class_body[-1]["aliases"].pop(node.name, None)
                self._binding(node.name, "def", qualname, line=node.lineno)
                self._functions[qualname] = self._function_info(node, fixture, method)
        self._push("def", node.name, fixture)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            if arg.arg in MOCKER_FIXTURES and self._mocker_watched:
                self._add(f"pytest_mock.{arg.arg}", "fixture", arg)
            elif arg.arg == "monkeypatch" or (
                # `def test(mp: pytest.MonkeyPatch)`: the fixture under another name
                arg.annotation is not None
                and (self._peek(arg.annotation) or "").endswith("MonkeyPatch")
            ):
                self.monkeypatches.add(arg.arg)
        if not self._cold(node):
            self.generic_visit(node)
        self._pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _cold(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether a whole function, decorators to last line, can be skipped: no line is hot
        and nothing in it is an import. Statement by statement, pruning would skip all of it
        but its imports, nested definitions and blocks, and only an import can change what
        the rest of the file means; the test is two searches instead of a walk of the body."""
        if self._hot is None or self.text is None:
            return False
        first, last = _first_line(node), node.end_lineno or node.lineno
        if self._is_hot(first, last):
            return False
        starts = self.line_starts
        end = starts[last] if last < len(starts) else len(self.text)
        return self.text.find("import", starts[first - 1], end) == -1

    def _fixture_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        for decorator in node.decorator_list:
            target, call = self._decorator(decorator)
            if self._peek(target) in FIXTURE_DECORATORS:
                for keyword in call.keywords if call else ():
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
                return node.name
        return None

    def _peek(self, node: ast.AST) -> str | None:
        """Resolve a name without recording it as a reference."""
        return self.resolve(node)

    def _decorator(self, decorator: ast.expr) -> tuple[ast.expr, ast.Call | None]:
        """What a decorator applies and the call that configured it: ``@pytest.fixture(...)``
        and ``@module_fixture`` (bound to such a call) alike."""
        if isinstance(decorator, ast.Call):
            return decorator.func, decorator
        if isinstance(decorator, ast.Name):
            made_by = self._decorator_calls.get(decorator.id)
            if made_by is not None:
                return made_by.func, made_by
        return decorator, None

    # -- imports and aliases ---------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                bound, target = alias.asname, alias.name
            else:
                bound = target = alias.name.split(".")[0]
            self._bind(bound, target)
            self._binding(bound, "import", target, line=node.lineno)
            if self._is_watched(alias.name) and alias.name.split(".")[0] == target.split(".")[0]:
                self._note_import(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            module = "." * node.level + (node.module or "")
            for alias in node.names:  # relative imports never name a watched module
                if alias.name == "*":
                    self._binding("*", "star", module, line=node.lineno)
                    continue
                self.aliases.pop(alias.asname or alias.name, None)
                self._binding(alias.asname or alias.name, "from", module, alias.name, node.lineno)
            return
        for alias in node.names:
            target = f"{node.module}.{alias.name}"
            if alias.name == "*":
                self._binding("*", "star", node.module, line=node.lineno)
                if self._is_watched(node.module):
                    self._add(f"{node.module}.*", "star-import", node)
                    continue
                # `from os import *` binds `environ`, `getenv`, ...: their uses are references.
                for name in self.watched:
                    parent, _, leaf = name.rpartition(".")
                    if parent == node.module:
                        self._bind(leaf, name)
                continue
            bound = alias.asname or alias.name
            self._bind(bound, target)
            self._binding(bound, "from", node.module, alias.name, node.lineno)
            if self._is_watched(target):
                self._note_import(target, node)

    def _note_import(self, target: str, node: ast.stmt) -> None:
        line = node.lineno
        ref = Ref(
            target,
            "import",
            line,
            self._column(line, node.col_offset),
            line,
            self.scope,
            self._snippet(line),
        )
        self._imports.append(ref)

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        dotted = self._peek(node.value)
        if len(node.targets) == 1 and len(names) == 1 and self._is_watched(dotted):
            # `env = os.environ` binds an alias; its uses are the violations.
            self._bind(names[0], dotted)  # type: ignore[arg-type]
            self._aliased.add(dotted)  # type: ignore[arg-type]
            if self._class_level and self.scope.qualname:
                # A class attribute is used as self.env or cls.env, which names do not
                # follow: binding it in the class body is the violation.
                self._add(dotted, "use", node.value)  # type: ignore[arg-type]
            return
        for name in names:
            self.aliases.pop(name, None)
            self._decorator_calls.pop(name, None)
        if (
            len(names) == 1
            and isinstance(node.value, ast.Call)
            and (self._peek(node.value.func) or "").endswith("MonkeyPatch")
        ):
            self.monkeypatches.add(names[0])
        self.generic_visit(node)  # (its targets unbind their names)
        if len(node.targets) == 1 and len(names) == 1:
            if dotted in FIXTURE_DECORATORS:
                # `fixture = pytest.fixture`: the functions it decorates are fixtures.
                self.aliases[names[0]] = dotted
            elif (
                isinstance(node.value, ast.Call)
                and not node.value.args
                and self._peek(node.value.func) in FIXTURE_DECORATORS
            ):
                # `module_fixture = pytest.fixture(scope="module")`: the same, configured.
                self._decorator_calls[names[0]] = node.value

    def visit_withitem(self, node: ast.withitem) -> None:
        if isinstance(node.optional_vars, ast.Name) and isinstance(node.context_expr, ast.Call):
            func = self._peek(node.context_expr.func) or ""
            if func.endswith(("MonkeyPatch.context", "MonkeyPatch")):
                self.monkeypatches.add(node.optional_vars.id)
        self.generic_visit(node)

    # -- references ------------------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            dotted = self.resolve(node)
            if self._is_watched(dotted):
                self._add(dotted, "use", node)  # type: ignore[arg-type]
        else:
            self.aliases.pop(node.id, None)
            self._decorator_calls.pop(node.id, None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self.resolve(node)
        if self._is_watched(dotted):
            self._add(dotted, "use", node)  # type: ignore[arg-type]
            return  # the longest chain is the reference; its parts are not counted again
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self.resolve(node)
        if self._is_watched(dotted):
            self._add(dotted, "use", node)  # type: ignore[arg-type]
            return
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        args = node.args
        if method in STRING_TARGET_CALLS and args and _is_str(args[0]):
            target = args[0].value  # type: ignore[attr-defined]
            if self._is_watched(target):
                self._add(target, "string", args[0])
        if method in OBJECT_ATTR_CALLS and len(args) >= 2 and _is_str(args[1]):
            base = self._peek(args[0])
            target = f"{base}.{args[1].value}" if base else None  # type: ignore[attr-defined]
            if self._is_watched(target):
                self._add(target, "use", node)  # type: ignore[arg-type]
        if (
            method in ("setenv", "delenv")
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.monkeypatches
        ):
            self._add(f"monkeypatch.{method}", "monkeypatch", node)
        if method in ("getfixturevalue", "usefixtures") and self._mocker_watched:
            for arg in args:
                if _is_str(arg) and arg.value in MOCKER_FIXTURES:  # type: ignore[attr-defined]
                    self._add(f"pytest_mock.{arg.value}", "fixture", arg)  # type: ignore[attr-defined]
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        # Visit the block first: `import pytest` inside it binds the name its calls use.
        self.generic_visit(node)
        if not self.scope.qualname and _is_main_guard(node.test):
            calls = sorted(
                {name for call in self._main_calls(node.body) if (name := self._runner_call(call))}
            )
            if calls:
                self.main_blocks.append(
                    MainBlock(
                        node.lineno,
                        self._column(node.lineno, node.col_offset),
                        tuple(calls),
                        self._snippet(node.lineno),
                    )
                )

    def _main_calls(self, body: list[ast.stmt]) -> Iterator[ast.Call]:
        """The calls a __main__ block makes, and those of the module's own functions it calls
        (`def main(): unittest.main()`), followed through any depth once each."""
        pending, seen = [body], set()
        while pending:
            for call in _calls(pending.pop()):
                yield call
                name = call.func.id if isinstance(call.func, ast.Name) else None
                function = self._module_functions.get(name) if name else None
                if function is not None and name not in seen:
                    seen.add(name)
                    pending.append(function.body)

    def _runner_call(self, call: ast.Call) -> str | None:
        name = self._peek(call.func)
        if name is None:
            return None
        if name in RUNNER_CALLS or name.startswith("unittest.TextTestRunner"):
            return name
        if name.startswith(PROCESS_CALLS) and any(
            _is_str(n) and PYTEST_COMMAND_RE.search(n.value)  # type: ignore[attr-defined]
            for n in ast.walk(call)
        ):
            return f"{name} (pytest)"
        return None


_FIELDS: dict[type[ast.AST], tuple[tuple[str, ...], tuple[str, ...]]] = {}
_VISIT_METHODS: dict[type[ast.AST], Callable[[_Visitor, Any], Any]] = {}


def _block_fields(cls: type[ast.AST]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(header fields, statement-list fields) of a block node type."""
    if cls not in _FIELDS:
        _FIELDS[cls] = (
            tuple(f for f in cls._fields if f not in _BODY_FIELDS),
            tuple(f for f in cls._fields if f in _BODY_FIELDS),
        )
    return _FIELDS[cls]


def _line_starts(text: str, lines: list[str]) -> list[int]:
    """Offsets in ``text`` where each line starts (1-based line n starts at [n - 1])."""
    if "\r" in text:
        return [0, *(m.end() for m in LINE_SPLIT_RE.finditer(text))]
    # All in C: each line's length plus its "\n", summed up.
    starts = list(
        itertools.accumulate(map(operator.add, map(len, lines), itertools.repeat(1)), initial=0)
    )
    starts.pop()
    return starts or [0]


def _first_line(node: ast.AST) -> int:
    """A node's first line, decorators included (a match case has no line of its own)."""
    if isinstance(node, ast.match_case):
        return node.pattern.lineno
    line: int = getattr(node, "lineno", 1)
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        line = min(line, *(d.lineno for d in decorators))
    return line


def _dotted_source(node: ast.expr | None) -> str | None:
    """``a.b.C`` for a plain name or attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("not JSON")


def _literal(node: ast.expr) -> Any:
    """A literal's JSON-compatible value, else ``{"expr": source}``."""
    try:
        return _jsonable(ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return {"expr": ast.unparse(node)}


# pytest's escaping of parameter ids (``_pytest.compat.ascii_escaped``).
_NON_PRINTABLE = {i: f"\\x{i:02x}" for i in range(128) if i not in range(32, 127)}
_NON_PRINTABLE.update({ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"})


def _ascii_id(value: str | bytes) -> str:
    """What a str or bytes parameter looks like in a node id, as pytest escapes it."""
    if isinstance(value, bytes):
        escaped = value.decode("ascii", "backslashreplace")
    else:
        escaped = value.encode("unicode_escape").decode("ascii")
    return escaped.translate(_NON_PRINTABLE)


_NO_VALUE = object()
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
}
_SEARCH_BUDGET = 50_000_000  # characters _named_more_than may search in one module
MAX_RANGE = 100_000  # a `range()` longer than this is no suite's parameter list
MAX_MADE = 10_000  # nor are more values made by a comprehension (each one a copy)
MAX_ID_BITS = 4096  # `2**63 - 1` is a parameter; `10**10**10` is no value to compute here


def _constant(node: ast.expr, depth: int = 0) -> Any:
    """The value of a literal string, bytes, number, bool or None, of arithmetic on numbers
    (``-1``, ``2**63 - 1``, ``1 << 20``, ``1 + 2j``), of an f-string or an index into a
    display of those, else ``_NO_VALUE``."""
    if depth > 32:
        return _NO_VALUE
    if isinstance(node, ast.Constant):
        value = node.value
        return (
            value
            if value is None or isinstance(value, (str, bytes, int, float, complex))
            else _NO_VALUE
        )
    if isinstance(node, ast.JoinedStr):
        return _formatted(node, depth)
    if isinstance(node, ast.Subscript):
        return _indexed(node, depth)
    numbers = (int, float, complex)  # bools are ints
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        operand = _constant(node.operand, depth + 1)
        if not isinstance(operand, numbers):
            return _NO_VALUE
        try:
            return _UNARY[type(node.op)](operand)
        except TypeError:  # ~1.5
            return _NO_VALUE
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _constant(node.left, depth + 1), _constant(node.right, depth + 1)
        if not (isinstance(left, numbers) and isinstance(right, numbers)):
            return _NO_VALUE
        if isinstance(node.op, (ast.Pow, ast.LShift)) and not _small_result(node.op, left, right):
            return _NO_VALUE
        try:
            value = _BINARY[type(node.op)](left, right)
        except (ArithmeticError, TypeError, ValueError):
            return _NO_VALUE
        if isinstance(value, int) and value.bit_length() > MAX_ID_BITS:
            return _NO_VALUE
        return value
    return _NO_VALUE


def _small_result(op: ast.operator, left: complex, right: complex) -> bool:
    """Whether ``left ** right`` or ``left << right`` can be worked out cheaply: an integer
    result of at most :data:`MAX_ID_BITS` (``2**70`` is a parameter pytest names by its
    digits; ``10**10**10`` would take the scan minutes)."""
    if isinstance(op, ast.LShift):
        return isinstance(left, int) and isinstance(right, int) and right <= MAX_ID_BITS
    if not (isinstance(left, int) and isinstance(right, int)) or right < 0:
        return True  # a float or complex result: it overflows (OverflowError), never grows
    # At least this many bits: what is computed stays within twice the limit.
    return (left.bit_length() - 1) * right <= MAX_ID_BITS


# What each comparison operator computes, for the literal conditions the scanner and test
# discovery work out (identity only where they allow it).
COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda item, container: item in container,
    ast.NotIn: lambda item, container: item not in container,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_SINGLETONS = (None, True, False)


def _truth(node: ast.expr, depth: int = 0) -> Any:
    """Whether a comprehension's condition holds, with its loop names replaced by their
    values: comparisons (a chain too) of what :func:`_constant` tells, ``in`` a display of
    those or a string, ``is`` only against ``None``, ``True`` or ``False``, ``not``,
    ``and``/``or`` as Python short-circuits them, or a value's truth. ``_NO_VALUE`` when it
    cannot be told."""
    if depth > 32:
        return _NO_VALUE
    if isinstance(node, ast.BoolOp):
        # As Python evaluates it: a part after the deciding one is never looked at.
        deciding = isinstance(node.op, ast.Or)
        for part in node.values:
            truth = _truth(part, depth + 1)
            if truth is _NO_VALUE or truth is deciding:
                return truth
        return not deciding
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        truth = _truth(node.operand, depth + 1)
        return truth if truth is _NO_VALUE else not truth
    if isinstance(node, ast.Compare):
        left = _constant(node.left, depth + 1)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)) and isinstance(
                right_node, (ast.Tuple, ast.List, ast.Set)
            ):
                if _has_starred(right_node):
                    return _NO_VALUE
                right: Any = tuple(_constant(e, depth + 1) for e in right_node.elts)
                if _NO_VALUE in right:
                    return _NO_VALUE
            else:
                right = _constant(right_node, depth + 1)
            if left is _NO_VALUE or right is _NO_VALUE:
                return _NO_VALUE
            if isinstance(op, (ast.Is, ast.IsNot)) and not (
                any(left is v for v in _SINGLETONS) or any(right is v for v in _SINGLETONS)
            ):
                return _NO_VALUE  # identity of other values is the interpreter's business
            try:
                holds = bool(COMPARISONS[type(op)](left, right))
            except (TypeError, ValueError):  # "a" < 1, 1 in "abc"
                return _NO_VALUE
            if not holds:
                return False
            left = right
        return True
    value = _constant(node, depth + 1)
    return value if value is _NO_VALUE else bool(value)


def _indexed(node: ast.Subscript, depth: int) -> Any:
    """The value of an element of a display or string by a constant index, ``("a", "b")[1]``
    (as a comprehension's ``pytest.param(*case, id=case[1])`` makes it), else ``_NO_VALUE``."""
    index = _constant(node.slice, depth + 1)
    container = node.value
    if type(index) is not int:
        return _NO_VALUE
    if isinstance(container, (ast.Tuple, ast.List)) and not _has_starred(container):
        try:
            return _constant(container.elts[index], depth + 1)
        except IndexError:
            return _NO_VALUE
    text = _constant(container, depth + 1)
    if isinstance(text, (str, bytes)) and -len(text) <= index < len(text):
        return text[index]
    return _NO_VALUE


_CONVERSIONS: dict[int, Callable[[Any], Any]] = {-1: lambda v: v, 115: str, 114: repr, 97: ascii}
# A format spec's width or precision past this is no id (`f"{0:999999999}"` is memory).
_LONG_SPEC = re.compile(r"\d{4}")


def _formatted(node: ast.JoinedStr, depth: int) -> Any:
    """The value of an f-string whose parts are constants (``f"v{1}"``, ``f"{2:03}"``, as a
    comprehension over literal values makes them), else ``_NO_VALUE``."""
    parts: list[str] = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
            continue
        if not isinstance(part, ast.FormattedValue) or part.conversion not in _CONVERSIONS:
            return _NO_VALUE
        value = _constant(part.value, depth + 1)
        spec = "" if part.format_spec is None else _constant(part.format_spec, depth + 1)
        if value is _NO_VALUE or not isinstance(spec, str) or _LONG_SPEC.search(spec):
            return _NO_VALUE
        try:
            parts.append(format(_CONVERSIONS[part.conversion](value), spec))
        except (TypeError, ValueError):
            return _NO_VALUE
    return "".join(parts)


NameId = Callable[[ast.expr], "str | dict[str, str] | None"]
_MAX_ALIASES = 8  # `a = b`, `b = c`...: followed this far (a loop of them is not a value)
_Read = TypeVar("_Read")  # what _Visitor._followed makes of a name's value
# The list or tuple display a name is bound to, and how to tell its elements' ids there.
SequenceOf = Callable[[ast.expr], "tuple[ast.List | ast.Tuple, NameId] | None"]


def _id_value(node: ast.expr, name_id: NameId | None = None) -> str | dict[str, str] | None:
    """The id pytest derives from a parameter value (``IdMaker._idval_from_value``), else
    None (pytest then uses the argument name and index). ``name_id`` tells the ``__name__``
    of a class, function or module a name refers to, where it can be known."""
    value = _constant(node)
    if value is not _NO_VALUE:
        return parameter_id(value)
    if isinstance(node, ast.Lambda):
        return "<lambda>"  # its __name__
    return name_id(node) if name_id is not None else None


def _parametrize(
    call: ast.Call,
    peek: Any,
    name_id: NameId | None = None,
    sequence_of: SequenceOf | None = None,
    id_function_of: Callable[[ast.expr | None], Callable[[object], str] | None] | None = None,
    imported_list: Callable[[ast.expr], str | None] | None = None,
) -> tuple[Any, ...]:
    """``(argnames, ids)`` of a ``parametrize`` call, ``ids`` None when not literal (see
    :func:`_parameter_ids`). ``id_function_of`` tells the builtin an ``ids=`` names."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    names_node = call.args[0] if call.args else keywords.get("argnames")
    values_node = call.args[1] if len(call.args) > 1 else keywords.get("argvalues")
    argnames: list[str] | None = None
    # pytest takes each value whole for one name given as a string; otherwise (several
    # names, or names given as a list or tuple, even one) each value is a row of values.
    rows = True
    if isinstance(names_node, ast.Constant) and isinstance(names_node.value, str):
        argnames = [n.strip() for n in names_node.value.split(",") if n.strip()]
        rows = len(argnames) > 1
    elif isinstance(names_node, (ast.List, ast.Tuple)) and all(_is_str(e) for e in names_node.elts):
        argnames = [e.value for e in names_node.elts]  # type: ignore[attr-defined]
    if argnames is None:
        return (argnames, None)
    ids_node = keywords.get("ids")
    ids = _parameter_ids(
        argnames,
        values_node,
        ids_node,
        peek,
        name_id,
        sequence_of,
        rows=rows,
        id_function=id_function_of(ids_node) if id_function_of is not None else None,
        imported_list=imported_list,
        counted=True,
    )
    return (argnames, ids)


def direct_parameters(argnames: object, indirect: object = False) -> frozenset[str]:
    """The names a ``parametrize`` mark gives their values directly, as pytest reads its
    ``argnames`` (``"a, b"`` or a sequence) and ``indirect``. pytest runs no fixture of such
    a name for the test, not even one a ``conftest.py`` defines: the parameter replaces it.
    ``indirect=True`` makes none direct, a sequence the names it leaves out; any other value
    (one the source does not spell out) is taken to make none direct, so that a fixture that
    may run is never missed."""
    if isinstance(argnames, str):
        names = [n.strip() for n in argnames.split(",") if n.strip()]
    elif isinstance(argnames, (list, tuple)):
        names = [n for n in argnames if isinstance(n, str)]
    else:
        return frozenset()
    if isinstance(indirect, bool):
        return frozenset() if indirect else frozenset(names)
    if isinstance(indirect, (list, tuple, str)):
        return frozenset(names).difference(indirect)
    return frozenset()


def refused_ids(sets: int, ids: int) -> dict[str, int]:
    """What a parametrization's ids are when its explicit ``ids`` are more or fewer than its
    parameter sets: pytest then fails to collect the module or class of each test it applies
    to (:func:`refusal` tells why)."""
    return {"sets": sets, "ids": ids}


def refused_values(names: int, values: int) -> dict[str, int]:
    """What a parametrization's ids are when one of its parameter sets has more or fewer
    values than it has names: pytest then fails to collect the module or class of each test
    it applies to (:func:`refusal` tells why)."""
    return {"names": names, "values": values}


def refusal(ids: object) -> str | None:
    """Why pytest refuses a parametrization (as its collection error puts it, after ``In
    test_name: ``), or None when ``ids`` (a mark's ids, a fixture's params) are not refused."""
    if not isinstance(ids, dict):
        return None
    if isinstance(sets := ids.get("sets"), int):
        return f"{sets} parameter sets specified, with different number of ids: {ids.get('ids')}"
    if isinstance(names := ids.get("names"), int):
        return (
            f'in "parametrize" the number of names ({names}) must be equal to the number of'
            f" values ({ids.get('values')})"
        )
    return None


def _parameter_ids(
    argnames: list[str],
    values_node: ast.expr | None,
    ids_node: ast.expr | None,
    peek: Any,
    name_id: NameId | None = None,
    sequence_of: SequenceOf | None = None,
    *,
    rows: bool = False,
    id_function: Callable[[object], str] | None = None,
    imported_list: Callable[[ast.expr], str | None] | None = None,
    counted: bool = False,
) -> list[str | list[Any]] | dict[str, Any] | None:
    """The ids pytest makes of ``argvalues`` (a ``parametrize`` mark's, or a fixture's
    ``params`` for its one name), None when they are not literal, :func:`refused_ids` or
    :func:`refused_values` when pytest refuses them (explicit ``ids`` that are more or fewer;
    with ``counted``, as for a mark, a parameter set of more or fewer values than names),
    ``{"notset": id}`` for
    an empty list with an explicit id (which pytest before 8.4 gives its NOTSET set). An id
    that depends on names imported from elsewhere is a list of its parts, each a string or
    ``{"name": ..., "fallback": ...}``, for :func:`resolved_ids` to finish. ``sequence_of``
    tells the list or tuple display a name given as ``argvalues`` or ``ids`` is bound to.
    ``rows``: each value is a list or tuple of one value per name (else each is one name's
    value). ``id_function``: the builtin ``ids=`` is (``str`` or ``repr``), which pytest
    calls on each value of a set without an ``id=`` of its own. ``imported_list`` tells the
    name a list imported from another module is read by (``CASES`` of ``from cases import
    CASES``): its ids are then ``{"listed": name, "rows": rows}``, for :func:`listed_ids`
    to make of what that module's scan tells of its elements."""

    def display(node: ast.expr | None) -> tuple[ast.expr | None, NameId | None]:
        """The display a name is bound to (with how to tell its ids), else ``node`` itself."""
        found = sequence_of(node) if node is not None and sequence_of is not None else None
        return found if found is not None else (node, name_id)

    values_node, value_id = display(values_node)
    if (
        imported_list is not None
        and values_node is not None
        and (ids_node is None or _is_none(ids_node))
        and id_function is None
        and (name := imported_list(values_node)) is not None
    ):
        return {"listed": name, "rows": rows}
    if not isinstance(values_node, (ast.List, ast.Tuple)) or _has_starred(values_node):
        return None  # how many is not known
    params = [_param_call(element, peek) for element in values_node.elts]
    if counted:
        # Checked by pytest before anything else of the mark, at its first such set.
        for element, param in zip(values_node.elts, params, strict=True):
            if param is not None:
                given_values = param[0]
            elif rows and isinstance(element, (ast.Tuple, ast.List)):
                given_values = element.elts
            else:
                continue  # one value (for one name), or a row the source does not spell out
            count = _count_values(given_values)
            if count is None:
                return None  # how many values it has is not known
            if count != len(argnames):
                return refused_values(len(argnames), count)
    explicit, explicit_id = display(ids_node)
    given: list[Any] = []
    if isinstance(explicit, (ast.List, ast.Tuple)):
        if _has_starred(explicit):
            return None  # which id goes with which value is not known
        sets = len(values_node.elts) or 1  # an empty list is one set: pytest's NOTSET
        if explicit.elts and len(explicit.elts) != sets:
            return refused_ids(sets, len(explicit.elts))
        if not values_node.elts and explicit.elts and not _is_none(explicit.elts[0]):
            # Before pytest 8.4 the NOTSET set takes the explicit id; from 8.4 it is NOTSET.
            told = _explicit_id(explicit.elts[0], explicit_id)
            return None if told is None else {"notset": told}
        for element in explicit.elts:
            if _is_none(element):
                given.append(None)  # pytest makes this one's id itself
                continue
            told = _explicit_id(element, explicit_id)
            if told is None:
                return None
            given.append(told)
    elif explicit is not None and not _is_none(explicit) and id_function is None:
        return None  # made by a function (or not spelled out): pytest's ids are not known
    if id_function is not None and not values_node.elts:
        return None  # pytest before 8.4 calls it on its NOTSET marker: an id of its own
    ids: list[str | list[Any]] = []
    for index, (element, param) in enumerate(zip(values_node.elts, params, strict=True)):
        values: list[ast.expr] = [element]
        ident: str | list[Any] | None = None
        if param is not None:
            values, id_node = param
            if id_node is not None:
                ident = _explicit_id(id_node, value_id)
                if ident is None:
                    return None
        elif rows and isinstance(element, (ast.Tuple, ast.List)):
            values = list(element.elts)
        if ident is None and index < len(given) and given[index] is not None:
            ident = given[index]
        if ident is None and id_function is not None:
            made: list[str] = []
            for value in values[: len(argnames)]:
                told = _made_id(id_function, value)
                if told is None:
                    return None  # a value whose str() or repr() is not known here
                made.append(told)
            ident = "-".join(made)
        if ident is None:
            parts: list[Any] = []
            for value, name in zip(values, argnames, strict=False):
                part = _id_value(value, value_id)
                if isinstance(part, dict):
                    part = {**part, "fallback": f"{name}{index}"}
                parts.append(f"{name}{index}" if part is None else part)
            ident = "-".join(parts) if all(isinstance(p, str) for p in parts) else parts
        ids.append(ident)
    return ids


def _count_values(values: Sequence[ast.expr]) -> int | None:
    """How many values ``values`` are once ``*`` parts of displays are spliced in (a
    comprehension's ``pytest.param(*row)``, with ``row`` worked out); None if not known."""
    count = 0
    for value in values:
        if not isinstance(value, ast.Starred):
            count += 1
        elif isinstance(value.value, (ast.List, ast.Tuple)) and not _has_starred(value.value):
            count += len(value.value.elts)
        else:
            return None
    return count


def _param_call(element: ast.expr, peek: Any) -> tuple[list[ast.expr], ast.expr | None] | None:
    """The values and the ``id=`` (None when not given, or given as None) of a parameter
    set written as ``pytest.param(...)``; None for any other element."""
    if not isinstance(element, ast.Call) or peek(element.func) != "pytest.param":
        return None
    ids = [k.value for k in element.keywords if k.arg == "id" and not _is_none(k.value)]
    return list(element.args), ids[-1] if ids else None


# The builtins given as `ids=` whose ids can be told from literal values.
_ID_FUNCTIONS: dict[str, Callable[[object], str]] = {"str": str, "repr": repr}


def _made_id(id_function: Callable[[object], str], node: ast.expr) -> str | None:
    """The id ``ids=str`` or ``ids=repr`` makes of a value written as a literal: pytest
    escapes the string the function returns, as it would a value; None for any other value
    (what a name or a call holds is not known here)."""
    value = _constant(node)
    if value is _NO_VALUE and isinstance(node, (ast.List, ast.Tuple, ast.Dict)):
        # A set's order varies from run to run (string hashes): its str() is not known.
        if any(isinstance(inner, ast.Set) for inner in ast.walk(node)):
            return None
        try:
            value = ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    if value is _NO_VALUE:
        return None
    return _ascii_id(id_function(value))


def parameter_id(value: object) -> str | None:
    """The id pytest makes of a parameter's value (``IdMaker._idval_from_value``), else
    None (pytest then uses the argument name and index)."""
    if isinstance(value, (str, bytes)):
        return _ascii_id(value)
    if value is None or isinstance(value, (float, int, bool, complex)):
        return str(value)
    if isinstance(value, re.Pattern):
        return _ascii_id(value.pattern)
    if isinstance(value, enum.Enum):
        return str(value)
    name = getattr(value, "__name__", None)
    return name if isinstance(name, str) else None


def _explicit_id(node: ast.expr, name_id: NameId | None) -> str | list[Any] | None:
    """An explicit id (an ``ids=`` element, ``pytest.param(id=)``): a string where it is
    known here; a name imported from elsewhere as a one-part list for :func:`resolved_ids`
    to tell (with no fallback: pytest uses the object itself); else None (a call, an
    unknown name), which leaves the whole parametrization untold rather than guessed."""
    value = _id_value(node, name_id)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return [value]
    return None


# Built-in calls that may make a list :meth:`_Visitor._called` tells (never a class).
_LIST_MAKERS = frozenset({"range", "sorted", "list", "tuple", "itertools.product"})


def _may_list(value: ast.expr) -> bool:
    """Whether ``value`` may be a list whose elements the scan can tell: a display, a
    comprehension or a call of a builtin that makes one (never what may be a class)."""
    if isinstance(value, ast.Call):
        return _dotted_source(value.func) in _LIST_MAKERS
    return isinstance(value, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp, ast.Dict))


@functools.lru_cache(maxsize=32)
def listed_elements(data: bytes, path: str, name: str) -> tuple[Any, ...] | None:
    """The elements (as :meth:`_Visitor._listed_elements` tells them) of the list that
    module ``data`` binds ``name`` to last, where the module names it again: None when what
    the module runs as it is imported may change it in place (``CASES.append(4)``) before a
    module importing it gives it to ``parametrize``, or it cannot be told."""
    try:
        with _room_to_recurse():
            tree = _parse(data, path)
            visitor = _Visitor(LINE_SPLIT_RE.split(_decode(data)), (), full=True)
            visitor.module = tree
            visitor._listing = name
            visitor.visit(tree)
            if visitor._changed_in_place(name, None):
                return None
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    last = visitor._module_binding(name)
    if last is None or last.kind != "listed":
        return None
    elements = json.loads(last.target).get("elements")
    return None if elements is None else tuple(elements)


def listed_ids(elements: list[Any], argnames: Sequence[str], rows: bool) -> list[str] | None:
    """The ids pytest makes of a list imported from another module (its elements as
    :meth:`_Visitor._listed_elements` told them there) for a ``parametrize`` mark's
    ``argnames``; ``rows``: each element holds one value per name. None when pytest would
    take an element apart itself, or refuse it for holding more or fewer values than names."""
    ids: list[str] = []
    for index, (explicit, given, row, whole) in enumerate(elements):
        if explicit is not None:
            ids.append(explicit)
            continue
        values = given if given is not None else (row if rows else [whole])
        if values is None or len(values) != len(argnames):
            return None
        ids.append(
            "-".join(
                f"{name}{index}" if v is None else v
                for v, name in zip(values, argnames, strict=True)
            )
        )
    return ids


def resolved_ids(ids: list[Any], name_id: Callable[[str], str | None]) -> list[str] | None:
    """A ``parametrize`` mark's ids as pytest makes them: each name imported from elsewhere
    as ``name_id`` tells it (else, for a value, by position), then made unique; None when an
    explicit id names something that cannot be told."""
    made: list[str] = []
    for ident in ids:
        if isinstance(ident, str):
            made.append(ident)
            continue
        parts: list[str] = []
        for part in ident:
            if isinstance(part, str):
                parts.append(part)
                continue
            found = name_id(str(part.get("name")))  # "" is an id
            if found is None:
                if "fallback" not in part:
                    return None
                found = str(part["fallback"])
            parts.append(found)
        made.append("-".join(parts))
    return _unique_ids(made)


# Methods of an enum that change how its members look, never which members it has.
_HOW_SHOWN = frozenset({"__str__", "__repr__", "__format__"})
_BY_VALUE_ENUMS = ("enum.IntEnum", "enum.IntFlag", "enum.StrEnum")
UNKNOWN_PARAMS = "unknown"  # a fixture's `params` that are not literal


@dataclasses.dataclass(frozen=True, slots=True)
class _Sequence:
    """A name bound to a list, tuple or dict display (``CASES = [1, "a"]``), a list
    comprehension or a call (``sorted(TABLE)``, which :meth:`_Visitor._called` may tell):
    ``parametrize`` makes a test of each element. As a parameter value itself it has no id
    of its own (pytest gives a list, a dict and what a call returns the argument name and
    index, unless the call made a string or a number, which is not told here)."""

    node: ast.List | ast.Tuple | ast.ListComp | ast.Dict | ast.Call


# What binds names of its own inside an expression (a comprehension's element).
_OWN_NAMES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr)


class _Told:
    """Tells the ids of a display's elements gathered from several places (a spliced
    ``*CASES``, a comprehension's loop values), each as read where it was written."""

    def __init__(self, default: NameId) -> None:
        self.default = default
        # By id(), each node kept alive with it: a loop value the element never reads (made
        # by range(), not in the module's tree) would otherwise free its id for another node.
        self.by_node: dict[int, tuple[ast.AST, NameId]] = {}

    def add(self, elements: Iterable[ast.expr], name_id: NameId) -> None:
        for element in elements:
            for node in ast.walk(element):
                self.by_node[id(node)] = node, name_id

    def __call__(self, node: ast.expr) -> str | dict[str, str] | None:
        found = self.by_node.get(id(node))
        return (self.default if found is None else found[1])(node)


# Builtins whose result parametrizes over what they iterate, and the views of a dict.
_ITERATING = frozenset({"range", "list", "tuple", "sorted", "reversed"})
_VIEWS = frozenset({"keys", "values", "items"})
# Methods that read a list or dict without changing it (`CASES.count(1)`, `TABLE.keys()`).
_READING_METHODS = _VIEWS | frozenset({"get", "copy", "count", "index"})


def _listed(elements: Iterable[ast.expr]) -> ast.List:
    return ast.List(elts=list(elements), ctx=ast.Load())


def _characters(node: ast.expr) -> ast.List | None:
    """What iterating a literal string (or bytes) gives, as a display; None for the rest."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, (str, bytes)):
        return None
    if len(node.value) > MAX_RANGE:
        return None
    return _listed(ast.Constant(c) for c in node.value)  # of bytes: ints


def _sorted_constants(elements: list[ast.expr], *, reverse: bool) -> list[ast.expr] | None:
    """``elements`` in the order ``sorted()`` gives their values (stable, as it is), when
    they are all strings, all bytes or all real numbers; else None."""
    values = [_constant(e) for e in elements]
    if not (
        all(isinstance(v, str) for v in values)
        or all(isinstance(v, bytes) for v in values)
        or all(isinstance(v, (int, float)) for v in values)  # bools are ints
    ):
        return None
    order = sorted(range(len(values)), key=values.__getitem__, reverse=reverse)
    return [elements[i] for i in order]


def _has_starred(display: ast.List | ast.Tuple | ast.Set) -> bool:
    """Whether a display has ``*`` parts: how many elements it has is not written."""
    return any(isinstance(e, ast.Starred) for e in display.elts)


def _loop_names(target: ast.expr) -> list[str] | None:
    """The names a comprehension's ``for`` binds: one name, or a flat tuple of names."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Name) for e in target.elts
    ):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


class _Substitute(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        # The loop's value itself, not a copy: its ids are told where it was written.
        return self.values.get(node.id, node)


def _substituted(node: ast.expr, values: dict[str, ast.expr]) -> ast.expr:
    """``node`` with each loop name replaced by its value (a copy, where it reads one)."""
    if isinstance(node, ast.Name):
        return values.get(node.id, node)
    if not any(isinstance(n, ast.Name) and n.id in values for n in ast.walk(node)):
        return node
    made: ast.expr = _Substitute(values).visit(copy.deepcopy(node))
    return made


def _defined_with(
    node: ast.FunctionDef | ast.AsyncFunctionDef, *, annotations: bool
) -> Iterator[ast.AST]:
    """What runs where a function is defined, not when it is called (its ``annotations`` too,
    unless the module postpones them)."""
    yield from node.decorator_list
    arguments = node.args
    yield from arguments.defaults
    yield from (d for d in arguments.kw_defaults if d is not None)
    if not annotations:
        return
    for argument in (
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        *filter(None, (arguments.vararg, arguments.kwarg)),
    ):
        if argument.annotation is not None:
            yield argument.annotation
    if node.returns is not None:
        yield node.returns


def _named(node: ast.expr) -> tuple[str, ...]:
    """The name an expression reads a value through: ``CASES``, or ``CASES`` of
    ``self.CASES``."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (node.attr,)
    return ()


# Calls that only read the lists passed to them (others, a helper that shuffles one, may not):
# builtins, pytest's own (`pytest.fixture(params=CASES)`, `from pytest import param`) and
# itertools'.
_READING_PYTEST = frozenset({"fixture", "mark", "param", "parametrize"})
_READING_NAMES = _READING_PYTEST | frozenset(
    {"all", "any", "dict", "enumerate", "frozenset", "isinstance", "iter", "len", "list", "map"}
    | {"filter", "max", "min", "print", "range", "repr", "reversed", "set", "sorted", "str"}
    | {"sum", "tuple", "zip", "MappingProxyType"}
)
_READING_ATTRIBUTES = (
    _READING_PYTEST
    | _READING_METHODS
    | frozenset({"chain", "product", "combinations", "permutations", "zip_longest"})
    | frozenset({"MappingProxyType"})
)


# The same, imported by name (`from itertools import product as cross`).
_READING_IMPORTED = frozenset(
    f"itertools.{name}"
    for name in ("chain", "product", "combinations", "permutations", "zip_longest")
)


def _leaves_arguments_alone(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in _READING_NAMES
    return isinstance(func, ast.Attribute) and func.attr in _READING_ATTRIBUTES


def _constants_bound(body: list[ast.stmt]) -> dict[str, list[tuple[int, Any]]]:
    """Per name that ``body`` (a module's or a class's) binds, not counting what its functions
    and classes bind inside: each binding's ``(line, value)`` in line order, the value known
    (see :func:`_constant`) only for ``NAME = <constant>`` directly in the body, else
    ``_NO_VALUE`` (anything under ``if``, ``for``, ``try``... may not happen); a list or
    tuple display is kept as a :class:`_Sequence`."""
    found: dict[str, list[tuple[int, Any]]] = {}

    def bound(name: str | None, line: int, value: Any = _NO_VALUE) -> None:
        if name:
            found.setdefault(name, []).append((line, value))

    for statement in body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                value = statement.value
                known = (
                    _Sequence(value)
                    if isinstance(value, (ast.List, ast.Tuple, ast.ListComp, ast.Dict, ast.Call))
                    else _constant(value)
                )
                bound(targets[0].id, statement.lineno, known)
                continue
        pending: list[ast.AST] = [statement]
        while pending:
            node = pending.pop()
            line = getattr(node, "lineno", statement.lineno)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound(node.name, line)  # what its body binds is its own
                continue
            if isinstance(node, ast.Lambda):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                bound(node.id, line)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    bound((alias.asname or alias.name).partition(".")[0], line)
            elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
                bound(node.name, line)
            elif isinstance(node, ast.MatchMapping):
                bound(node.rest, line)
            pending.extend(ast.iter_child_nodes(node))
    for bindings in found.values():
        bindings.sort(key=operator.itemgetter(0))
    return found


def _bound_above(bindings: list[tuple[int, Any]], line: int) -> tuple[int, Any] | None:
    """The last of ``bindings`` above ``line``: what a decorator there reads."""
    index = bisect.bisect_left(bindings, line, key=operator.itemgetter(0))
    return bindings[index - 1] if index else None


def _unique_ids(ids: list[str]) -> list[str]:
    """Make ids unique the way pytest does: ``a0``, ``a1``; ``1_0``, ``1_1``."""
    counts: dict[str, int] = {}
    for ident in ids:
        counts[ident] = counts.get(ident, 0) + 1
    taken = set(ids)
    suffixes: dict[str, int] = {}
    result = list(ids)
    for index, ident in enumerate(ids):
        if counts[ident] > 1:
            sep = "_" if ident and ident[-1].isdigit() else ""
            number = suffixes.get(ident, 0)
            candidate = f"{ident}{sep}{number}"
            while candidate in taken:
                number += 1
                candidate = f"{ident}{sep}{number}"
            result[index] = candidate
            taken.add(candidate)
            suffixes[ident] = number + 1
    return result


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and consts)


def _calls(body: list[ast.stmt]) -> Iterator[ast.Call]:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                yield node
