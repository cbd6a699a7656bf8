"""Turns the source text of one file into facts; rules turn facts into findings.

One ``ast.parse`` and one visitor pass per file. The visitor resolves names through imports and
simple aliases (``import os as o``, ``from os import environ as E``, ``env = os.environ``,
``getattr(os, "environ")``) and records every reference to a *watched* dotted name, so the
built-in rules and team-defined sources share one pass. Nothing here raises on bad input: a file
that cannot be read or parsed becomes facts with an ``error``.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pytest_ssot.model import MODULE_SCOPE, Scope, normalise_snippet

# Bump when what a scan yields changes, so cached facts from older scanners are not reused.
SCANNER_VERSION = "1"

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
SUPPRESSION_RE = re.compile(r"#\s*ssot:\s*ignore\b(?:\[([^\]]*)\])?")
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


@dataclasses.dataclass(frozen=True)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "error": self.error,
            "refs": [dataclasses.asdict(r) | {"scope": _scope_dict(r.scope)} for r in self.refs],
            "main_blocks": [dataclasses.asdict(m) for m in self.main_blocks],
            "classes": {k: [v.line, list(v.bases)] for k, v in self.classes.items()},
            "fixtures": dict(self.fixtures),
            "suppressions": {str(k): sorted(v) for k, v in self.suppressions.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileFacts:
        return cls(
            path=data["path"],
            error=data["error"],
            refs=tuple(
                Ref(**{**r, "scope": Scope(tuple(r["scope"][0]), r["scope"][1], r["scope"][2])})
                for r in data["refs"]
            ),
            main_blocks=tuple(
                MainBlock(m["line"], m["col"], tuple(m["calls"]), m["snippet"])
                for m in data["main_blocks"]
            ),
            classes={k: ClassInfo(v[0], tuple(v[1])) for k, v in data["classes"].items()},
            fixtures=dict(data["fixtures"]),
            suppressions={int(k): frozenset(v) for k, v in data["suppressions"].items()},
        )


def _scope_dict(scope: Scope) -> list[Any]:
    return [list(scope.qualname), scope.fixture, scope.classes]


def triggers_for(watched: Iterable[str]) -> tuple[str, ...]:
    """Words one of which must appear in a file for it to hold any fact worth a full parse."""
    extra = {name.split(".")[0] for name in watched} - {"os", "unittest"}
    return tuple(sorted(set(BUILTIN_TRIGGERS) | extra))


def scan(
    data: bytes,
    path: str,
    watched: tuple[str, ...] = ENV_TARGETS + MOCK_MODULES,
    *,
    full: bool = False,
) -> FileFacts:
    """Scan one file's bytes. ``full`` forces a parse (the CLI needs every class's bases);
    otherwise a file mentioning none of the trigger words only gets a cheap class index."""
    try:
        if not full and not any(word.encode() in data for word in triggers_for(watched)):
            if b"\0" in data:
                return FileFacts(path=path, error="contains NUL bytes")
            return FileFacts(path=path, classes=_class_index(data))
        tree = ast.parse(data, filename=path)
        text = _decode(data)
        lines = LINE_SPLIT_RE.split(text)
        visitor = _Visitor(lines, watched)
        visitor.visit(tree)
        suppressions = _suppressions(data) if b"ssot:" in data else {}
        return FileFacts(
            path=path,
            refs=tuple(visitor.refs()),
            main_blocks=tuple(visitor.main_blocks),
            classes=visitor.classes,
            fixtures=visitor.fixtures,
            suppressions=suppressions,
        )
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return FileFacts(path=path, error=f"syntax error{where}: {exc.msg}")
    except (ValueError, UnicodeDecodeError) as exc:  # NUL bytes, bad encodings
        return FileFacts(path=path, error=f"cannot be decoded: {exc}")
    except RecursionError:
        return FileFacts(path=path, error="nested too deeply to analyse (RecursionError)")
    except MemoryError:
        return FileFacts(path=path, error="too large to analyse (MemoryError)")


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
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type != tokenize.COMMENT:
                continue
            match = SUPPRESSION_RE.search(token.string)
            if match is None:
                continue
            codes = match.group(1)
            found[token.start[0]] = frozenset(
                c.strip() for c in (codes or "").split(",") if c.strip()
            )
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        pass
    return found


def _matches(dotted: str | None, watched: tuple[str, ...]) -> bool:
    return dotted is not None and any(dotted == w or dotted.startswith(w + ".") for w in watched)


class _Visitor(ast.NodeVisitor):
    def __init__(self, lines: list[str], watched: tuple[str, ...]) -> None:
        self.lines = lines
        self.watched = watched
        self.aliases: dict[str, str] = {}
        self.monkeypatches: set[str] = set()
        self.stack: list[tuple[str, str]] = []  # ("class" | "def", name)
        self.fixture_stack: list[str | None] = []
        self.scope = MODULE_SCOPE
        self._refs: list[Ref] = []
        self._imports: list[tuple[str, Ref]] = []  # (bound local name, ref)
        self._used: set[str] = set()
        self.main_blocks: list[MainBlock] = []
        self.classes: dict[str, ClassInfo] = {}
        self.fixtures: dict[str, str] = {}

    # -- results -------------------------------------------------------------------------
    def refs(self) -> Iterator[Ref]:
        yield from self._refs
        # An imported mock name that is never used is reported at its import; a used one is
        # reported at each use instead, so nothing is counted twice.
        for bound, ref in self._imports:
            if bound not in self._used:
                yield ref

    def _snippet(self, line: int) -> str:
        return normalise_snippet(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""

    def _add(self, target: str, kind: RefKind, node: ast.AST) -> Ref:
        line = getattr(node, "lineno", 1)
        ref = Ref(
            target=target,
            kind=kind,
            line=line,
            col=getattr(node, "col_offset", 0) + 1,
            end_line=getattr(node, "end_lineno", None) or line,
            scope=self.scope,
            snippet=self._snippet(line),
        )
        self._refs.append(ref)
        return ref

    # -- name resolution ---------------------------------------------------------------------
    def resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            self._used.add(node.id)
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
        self.stack.append((kind, name))
        outer_fixture = next((f for f in self.fixture_stack if f), None)
        self.fixture_stack.append(fixture)
        classes = 0
        for part_kind, _ in self.stack:
            if part_kind != "class":
                break
            classes += 1
        self.scope = Scope(
            qualname=tuple(n for _, n in self.stack),
            fixture=outer_fixture or fixture,
            classes=classes,
        )

    def _pop(self) -> None:
        self.stack.pop()
        self.fixture_stack.pop()
        if not self.stack:
            self.scope = MODULE_SCOPE
        else:
            kinds = self.stack
            classes = 0
            for part_kind, _ in kinds:
                if part_kind != "class":
                    break
                classes += 1
            self.scope = Scope(
                qualname=tuple(n for _, n in kinds),
                fixture=next((f for f in self.fixture_stack if f), None),
                classes=classes,
            )

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = ".".join([*(n for _, n in self.stack), node.name])
        if all(kind == "class" for kind, _ in self.stack):
            bases = tuple(self.resolve(b) or ast.unparse(b) for b in node.bases)
            self.classes[qualname] = ClassInfo(line=node.lineno, bases=bases)
        self._push("class", node.name)
        self.generic_visit(node)
        self._pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        fixture = None
        if all(kind == "class" for kind, _ in self.stack):
            fixture = self._fixture_name(node)
            if fixture is not None:
                self.fixtures[".".join([*(n for _, n in self.stack), node.name])] = fixture
        self._push("def", node.name, fixture)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            if arg.arg in MOCKER_FIXTURES and _matches("pytest_mock", self.watched):
                self._add(f"pytest_mock.{arg.arg}", "fixture", arg)
            elif arg.arg == "monkeypatch":
                self.monkeypatches.add(arg.arg)
        self.generic_visit(node)
        self._pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _fixture_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if self._peek(target) in FIXTURE_DECORATORS:
                for keyword in call.keywords if call else ():
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
                return node.name
        return None

    def _peek(self, node: ast.AST) -> str | None:
        """Resolve without marking names as used (decorators of fixtures, bases)."""
        used = set(self._used)
        try:
            return self.resolve(node)
        finally:
            self._used = used

    # -- imports and aliases ---------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                bound, target = alias.asname, alias.name
            else:
                bound = target = alias.name.split(".")[0]
            self.aliases[bound] = target
            if (
                _matches(alias.name, self.watched)
                and alias.name.split(".")[0] == target.split(".")[0]
            ):
                self._note_import(bound, alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            for alias in node.names:  # relative imports never name a watched module
                self.aliases.pop(alias.asname or alias.name, None)
            return
        for alias in node.names:
            target = f"{node.module}.{alias.name}"
            if alias.name == "*":
                if _matches(target[:-2], self.watched):
                    self._add(f"{node.module}.*", "star-import", node)
                continue
            bound = alias.asname or alias.name
            self.aliases[bound] = target
            if _matches(target, self.watched):
                self._note_import(bound, target, node)

    def _note_import(self, bound: str, target: str, node: ast.stmt) -> None:
        line = node.lineno
        ref = Ref(
            target, "import", line, node.col_offset + 1, line, self.scope, self._snippet(line)
        )
        self._imports.append((bound, ref))

    def visit_Assign(self, node: ast.Assign) -> None:
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        dotted = self._peek(node.value)
        if len(node.targets) == 1 and len(names) == 1 and _matches(dotted, self.watched):
            # `env = os.environ` binds an alias; its uses are the violations.
            self.aliases[names[0]] = dotted  # type: ignore[assignment]
            return
        for name in names:
            self.aliases.pop(name, None)
        if (
            len(names) == 1
            and isinstance(node.value, ast.Call)
            and (self._peek(node.value.func) or "").endswith("MonkeyPatch")
        ):
            self.monkeypatches.add(names[0])
        self.generic_visit(node)

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
            if _matches(dotted, self.watched):
                self._add(dotted, "use", node)  # type: ignore[arg-type]
        else:
            self.aliases.pop(node.id, None)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self.resolve(node)
        if _matches(dotted, self.watched):
            self._add(dotted, "use", node)  # type: ignore[arg-type]
            return  # the longest chain is the reference; its parts are not counted again
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        dotted = self.resolve(node)
        if _matches(dotted, self.watched):
            self._add(dotted, "use", node)  # type: ignore[arg-type]
            return
        func = node.func
        method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        args = node.args
        if method in STRING_TARGET_CALLS and args and _is_str(args[0]):
            target = args[0].value  # type: ignore[attr-defined]
            if _matches(target, self.watched):
                self._add(target, "string", args[0])
        if method in OBJECT_ATTR_CALLS and len(args) >= 2 and _is_str(args[1]):
            base = self._peek(args[0])
            target = f"{base}.{args[1].value}" if base else None  # type: ignore[attr-defined]
            if _matches(target, self.watched):
                self._add(target, "use", node)  # type: ignore[arg-type]
        if (
            method in ("setenv", "delenv")
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.monkeypatches
        ):
            self._add(f"monkeypatch.{method}", "monkeypatch", node)
        if method in ("getfixturevalue", "usefixtures") and _matches("pytest_mock", self.watched):
            for arg in args:
                if _is_str(arg) and arg.value in MOCKER_FIXTURES:  # type: ignore[attr-defined]
                    self._add(f"pytest_mock.{arg.value}", "fixture", arg)  # type: ignore[attr-defined]
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        if not self.stack and _is_main_guard(node.test):
            calls = sorted(
                {name for call in _calls(node.body) if (name := self._runner_call(call))}
            )
            if calls:
                self.main_blocks.append(
                    MainBlock(
                        node.lineno, node.col_offset + 1, tuple(calls), self._snippet(node.lineno)
                    )
                )
        self.generic_visit(node)

    def _runner_call(self, call: ast.Call) -> str | None:
        name = self._peek(call.func)
        if name is None:
            return None
        if name in RUNNER_CALLS or name.startswith("unittest.TextTestRunner"):
            return name
        if name.startswith(PROCESS_CALLS) and any(
            _is_str(n) and "pytest" in n.value  # type: ignore[attr-defined]
            for n in ast.walk(call)
        ):
            return f"{name} (pytest)"
        return None


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
