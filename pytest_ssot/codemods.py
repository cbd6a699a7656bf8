"""The libcst transforms behind ``ssot fix``: rewrite what is mechanical, refuse the rest.

Needs the optional extra ``pytest-ssot[fix]`` (libcst). :mod:`pytest_ssot.fix` imports this module
only when the command runs, so the rest of the CLI works without it.

One file at a time: :func:`rewrite` takes the source, the positions of the static findings the
scanner reported (so exactly what ``ssot check`` flags is considered, and inline ignores are
honoured) and a :class:`Plan`, and returns the new source with what it fixed and what it left for
a person, each with a reason. Every rewrite is a pattern match on the concrete syntax tree; a
shape that does not match exactly is left alone and reported, never guessed at.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    QualifiedName,
    QualifiedNameSource,
    ScopeProvider,
)

from pytest_ssot.config import PLACEHOLDER_RE, parse_until, placeholder_name

IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

SSOT001 = "SSOT001"
SSOT002 = "SSOT002"
SSOT004 = "SSOT004"
RULE_NAMES = {
    SSOT001: "non-ssot-test-class",
    SSOT002: "direct-environ-access",
    SSOT004: "unified-runner-bypass",
}
TESTCASE = "unittest.TestCase"
ASYNC_TESTCASE = "unittest.IsolatedAsyncioTestCase"
ENVIRON = "os.environ"
GETENV = "os.getenv"
ENV_NAMES = frozenset(
    {"os.environ", "os.environb", "os.getenv", "os.getenvb", "os.putenv", "os.unsetenv"}
)
PATCH_DICT = frozenset({"unittest.mock.patch.dict", "mock.patch.dict"})
RUNNERS = frozenset({"pytest.main", "unittest.main"})
EXITS = frozenset({"sys.exit", "builtins.exit", "builtins.quit", "builtins.SystemExit"})
# unittest.TestCase's own setUp/tearDown do nothing, so a class rebased from it may override
# them without super(); the SSOT base's do real work, so the call is added.
SETUPS = ("setUp", "asyncSetUp", "setUpClass")
TEARDOWNS = ("tearDown", "asyncTearDown", "tearDownClass")
# pytest's own set-up and tear-down methods of a pytest-style class.
XUNIT = frozenset({"setup_method", "teardown_method", "setup_class", "teardown_class"})
# pytest marks that do not work on unittest methods (skip, xfail, usefixtures... do).
FUNCTION_ONLY_MARKS = frozenset({"parametrize"})

_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)
Position = tuple[int, int]  # (line, 1-based UTF-8 column): the scanner's coordinates


@dataclasses.dataclass(frozen=True)
class Target:
    """A class to derive from, written ``"package.module:ClassName"`` in the config."""

    module: str
    name: str

    @classmethod
    def parse(cls, spec: str) -> Target:
        module, _, name = spec.partition(":")
        return cls(module, name)

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What may be rewritten in one file, and to what."""

    templates: Mapping[str, str] = dataclasses.field(default_factory=dict)
    env_imports: tuple[str, ...] = ()
    base: Target | None = None
    async_base: Target | None = None
    # old base (dotted) -> new base; None: the mapping needs a key that is not configured
    base_map: Mapping[str, Target | None] = dataclasses.field(default_factory=dict)
    compliant: frozenset[str] = frozenset()  # dotted names of the SSOT base classes
    # Dotted names of the bases to rewrite to that are certainly no unittest classes.
    pytest_style: frozenset[str] = frozenset()
    # Whether each legacy base of base_map (dotted) is a unittest class, as its source says;
    # None where the source cannot tell.
    legacy_unittest: Mapping[str, bool | None] = dataclasses.field(default_factory=dict)
    rules: frozenset[str] = frozenset({SSOT001, SSOT002, SSOT004})
    functions: bool = True  # module-level test functions violate SSOT001
    wrap_functions: bool = False
    module_stem: str = "module"
    today: datetime.date = dataclasses.field(default_factory=datetime.date.today)


@dataclasses.dataclass(frozen=True)
class Change:
    """One violation fixed, at its position in the original source."""

    code: str
    line: int
    col: int
    what: str


@dataclasses.dataclass(frozen=True)
class Manual:
    """One violation left for a person, with why it was not rewritten."""

    code: str
    line: int
    col: int
    message: str


@dataclasses.dataclass
class Outcome:
    code: bytes
    fixed: list[Change]
    manual: list[Manual]
    # qualname -> exempted codes (empty: every rule); () is the module's pytestmark
    exempt: dict[tuple[str, ...], frozenset[str]]
    error: str | None = None


def rewrite(
    source: bytes,
    plan: Plan,
    targets: Mapping[Position, str],
    suppressions: Mapping[int, frozenset[str]] | None = None,
) -> Outcome:
    """Rewrite one file. ``targets`` maps the scanner's positions of the SSOT002/SSOT004 findings
    that may be fixed (not suppressed) to their codes."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return Outcome(source, [], [], {}, error=f"libcst cannot parse it: {exc.message}")
    except (RecursionError, MemoryError, UnicodeDecodeError, LookupError) as exc:
        return Outcome(source, [], [], {}, error=f"cannot be parsed: {type(exc).__name__}")
    try:
        # Freshly parsed, so no defensive copy; only the two providers that must see the whole
        # tree are computed up front (qualified names are looked up for the few nodes that
        # matter): libcst's per-node metadata passes are most of the cost of a large module.
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        survey = _Survey(plan, suppressions or {})
        wrapper.visit(survey)
        fixer = _Fixer(plan, survey, targets)
        changed = wrapper.visit(fixer)
        if fixer.dirty:
            changed = _edit_imports(changed, fixer.needed, fixer.unused)
    except RecursionError:
        return Outcome(source, [], [], {}, error="nested too deeply to rewrite")
    except Exception as exc:  # one odd file must not stop a run over thousands
        if _raised_in_recursion(exc):
            return Outcome(source, [], [], {}, error="nested too deeply to rewrite")
        return Outcome(source, [], [], {}, error=f"cannot be rewritten: {type(exc).__name__}")
    code = changed.bytes if fixer.dirty else source
    if fixer.dirty and source.endswith(b"\r") and not code.endswith(b"\r"):
        code += b"\r"  # libcst drops the last line ending of a file with old Mac (CR) ones
    return Outcome(code, fixer.fixed, fixer.manual + survey.manual, survey.exempt)


# -- helpers ---------------------------------------------------------------------------------


def _raised_in_recursion(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while a RecursionError unwound: libcst's code generation
    turns one in a deep expression into a KeyError as it leaves its position records."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RecursionError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _position(line: int, column: int) -> Position:
    """libcst counts columns from 0, the scanner (as editors) from 1; both in characters."""
    return line, column + 1


def _qualified_names(visitor: cst.MetadataDependent, node: cst.CSTNode) -> set[QualifiedName]:
    """What a name or attribute refers to, through imports and scopes (empty when unknown)."""
    scope = visitor.get_metadata(ScopeProvider, node, None)
    if scope is None:
        return set()
    try:
        return set(scope.get_qualified_names_for(node))
    except Exception:  # a node scope analysis cannot name
        return set()


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


_ATOMIC = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.Ellipsis,
)


def _atomic(node: cst.BaseExpression) -> bool:
    return bool(node.lpar) or isinstance(node, _ATOMIC)


def _parenthesize(node: cst.BaseExpression) -> cst.BaseExpression:
    if _atomic(node):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _CountComments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.count = 0

    def visit_Comment(self, node: cst.Comment) -> None:
        self.count += 1


def _comments(node: cst.CSTNode) -> int:
    counter = _CountComments()
    node.visit(counter)
    return counter.count


def _string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class _Fill(cst.CSTTransformer):
    """Puts argument nodes into a parsed template; drops a call argument left without one."""

    def __init__(self, values: Mapping[str, cst.BaseExpression], absent: set[str]) -> None:
        self.values = {placeholder_name(k): v for k, v in values.items()}
        self.absent = {placeholder_name(k) for k in absent}

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node.value in self.values:
            return _parenthesize(self.values[original_node.value])
        if original_node.value in self.absent:
            return cst.Name("None")
        return updated_node

    def leave_Arg(
        self, original_node: cst.Arg, updated_node: cst.Arg
    ) -> cst.Arg | cst.RemovalSentinel:
        value = original_node.value
        if isinstance(value, cst.Name) and not original_node.keyword:
            if value.value in self.absent:
                return cst.RemovalSentinel.REMOVE
            if value.value in self.values:  # an argument needs no parentheses
                return updated_node.with_changes(value=self.values[value.value])
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if len(updated_node.args) < len(original_node.args) and updated_node.args:
            args = list(updated_node.args)
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated_node.with_changes(args=args)
        return updated_node


@dataclasses.dataclass(frozen=True)
class _Template:
    key: str
    text: str
    expression: cst.BaseExpression
    placeholders: frozenset[str]
    names: frozenset[str]

    @classmethod
    def parse(cls, key: str, text: str) -> _Template:
        expression = cst.parse_expression(
            PLACEHOLDER_RE.sub(lambda m: placeholder_name(m.group(1)), text)
        )
        names = frozenset(n.value for n in _walk(expression) if isinstance(n, cst.Name)) - {
            placeholder_name(p) for p in PLACEHOLDER_RE.findall(text)
        }
        return cls(key, text, expression, frozenset(PLACEHOLDER_RE.findall(text)), names)

    def build(self, values: Mapping[str, cst.BaseExpression]) -> cst.BaseExpression:
        filled = self.expression.visit(_Fill(values, set(self.placeholders) - set(values)))
        assert isinstance(filled, cst.BaseExpression)
        return filled


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _walk(child)


@dataclasses.dataclass(frozen=True)
class _Import:
    """One name an import statement binds (``import module as asname`` or
    ``from module import obj as asname``)."""

    module: str
    obj: str | None
    asname: str | None

    @property
    def bound(self) -> str:
        return self.asname or self.obj or self.module.split(".")[0]

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.obj}" if self.obj else self.module


def _parse_imports(statements: Iterable[str]) -> list[_Import]:
    found: list[_Import] = []
    for text in statements:
        for line in cst.parse_module(text).body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        asname = _asname(alias)
                        found.append(
                            _Import(get_full_name_for_node(alias.name) or "", None, asname)
                        )
                elif isinstance(small, cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    module = get_full_name_for_node(small.module) if small.module else ""
                    for alias in small.names:
                        found.append(
                            _Import(
                                module or "", get_full_name_for_node(alias.name), _asname(alias)
                            )
                        )
    return found


def _asname(alias: cst.ImportAlias) -> str | None:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return None


class _NameUses(cst.CSTVisitor):
    """The names each function (and the module) still reads after the rewrite.

    Deliberately generous: any name in the subtree counts, and so do the names in string
    annotations and ``__all__``, so an import is only dropped when nothing could need it."""

    def __init__(self) -> None:
        super().__init__()
        self.module: set[str] = set()
        self.functions: dict[int, set[str]] = {}
        self.open: list[set[str]] = []
        self.strings = 0  # inside an annotation or __all__, where strings name things

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self.strings += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self.strings -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(_code(t.target) == "__all__" for t in node.targets):
            self.strings += 1

    def leave_Assign(self, original_node: cst.Assign) -> None:
        if any(_code(t.target) == "__all__" for t in original_node.targets):
            self.strings -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.open.append(self.functions.setdefault(id(node), set()))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.open.pop()

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # what an import binds is not a use

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # ``x.os`` does not use ``os``
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # nor does ``f(os=1)``
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.module.add(node.value)
        for names in self.open:
            names.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if self.strings and isinstance(value, str):
            for name in IDENTIFIER_RE.findall(value):
                self.visit_Name(cst.Name(name))


class _ImportEditor(cst.CSTTransformer):
    """Drops the imports the rewrite left unused and adds the ones it needs.

    An import is dropped only when it is one the rewrite stopped using (``unused``) and nothing
    in its scope still names it; the removed line's spacing passes to the next statement, and a
    block or file never starts with a blank line afterwards."""

    def __init__(self, uses: _NameUses, needed: Sequence[_Import], unused: set[_Import]) -> None:
        super().__init__()
        self.uses = uses
        self.needed = needed
        self.unused = unused
        self.functions: list[int] = []
        self.emptied: set[int] = set()

    def _used(self, name: str) -> bool:
        names = self.uses.functions[self.functions[-1]] if self.functions else self.uses.module
        return name in names

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(id(node))

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.functions.pop()
        return updated_node

    def _keep(self, spec: _Import) -> bool:
        return spec not in self.unused or self._used(spec.bound)

    @staticmethod
    def _aliases(aliases: Sequence[cst.ImportAlias], keep: list[bool]) -> list[cst.ImportAlias]:
        kept = [a for a, k in zip(aliases, keep, strict=True) if k]
        if kept and len(kept) < len(aliases):
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return kept

    def leave_Import(
        self, original_node: cst.Import, updated_node: cst.Import
    ) -> cst.Import | cst.RemovalSentinel:
        keep = [
            self._keep(_Import(get_full_name_for_node(a.name) or "", None, _asname(a)))
            for a in updated_node.names
        ]
        if all(keep):
            return updated_node
        if not any(keep):
            return cst.RemovalSentinel.REMOVE
        return updated_node.with_changes(names=self._aliases(updated_node.names, keep))

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom | cst.RemovalSentinel:
        if (
            isinstance(updated_node.names, cst.ImportStar)
            or updated_node.relative
            or updated_node.module is None
        ):
            return updated_node
        module = get_full_name_for_node(updated_node.module) or ""
        keep = [
            self._keep(_Import(module, get_full_name_for_node(a.name), _asname(a)))
            for a in updated_node.names
        ]
        if all(keep):
            return updated_node
        if not any(keep):
            return cst.RemovalSentinel.REMOVE
        return updated_node.with_changes(names=self._aliases(updated_node.names, keep))

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        if updated_node.body:
            return updated_node
        # libcst would drop the emptied line with its blank lines; its block does it instead.
        placeholder = updated_node.with_changes(body=[cst.Pass()])
        self.emptied.add(id(placeholder))
        return placeholder

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = _tidy(updated_node.body, self.emptied)
        return updated_node.with_changes(body=body or [cst.SimpleStatementLine(body=[cst.Pass()])])

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = _tidy(updated_node.body, self.emptied)
        return updated_node.with_changes(body=_add_imports(body, self.needed))


def _leading_block(body: Sequence[cst.BaseStatement]) -> int:
    """How many statements open the module before any code: a docstring, then imports."""
    index = 1 if body and _is_docstring(body[0]) else 0
    while index < len(body):
        line = body[index]
        if not (
            isinstance(line, cst.SimpleStatementLine)
            and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in line.body)
        ):
            break
        index += 1
    return index


def _bound_at_module_level(body: Sequence[cst.BaseStatement]) -> set[_Import]:
    """What the leading imports bind (a later import is no use to a class base above it)."""
    bound: set[_Import] = set()
    for line in body[: _leading_block(body)]:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                bound.update(_parse_imports([_code(small)]))
    return bound


def _add_imports(
    body: list[cst.BaseStatement], needed: Sequence[_Import]
) -> list[cst.BaseStatement]:
    """Add what is not imported yet: a name joins an existing ``from module import`` line,
    anything else gets a new line after the module's leading imports (names sorted)."""
    bound = _bound_at_module_level(body)
    missing: dict[str, list[_Import]] = {}
    for spec in needed:
        if spec not in bound and spec not in missing.setdefault(spec.module, []):
            missing[spec.module].append(spec)
    body = list(body)
    new_lines: list[cst.SimpleStatementLine] = []
    for module, specs in sorted(missing.items()):
        plain = [s for s in specs if s.obj is None]
        names = sorted((s for s in specs if s.obj is not None), key=lambda s: (s.obj, s.asname))
        for spec in plain:
            alias = cst.ImportAlias(
                name=cst.parse_expression(spec.module),  # type: ignore[arg-type]
                asname=cst.AsName(name=cst.Name(spec.asname)) if spec.asname else None,
            )
            new_lines.append(cst.SimpleStatementLine(body=[cst.Import(names=[alias])]))
        if not names:
            continue
        aliases = [
            cst.ImportAlias(
                name=cst.Name(s.obj or ""),
                asname=cst.AsName(name=cst.Name(s.asname)) if s.asname else None,
            )
            for s in names
        ]
        merged = False
        for index, line in enumerate(body[: _leading_block(body)]):
            if merged or not isinstance(line, cst.SimpleStatementLine):
                continue
            for position, small in enumerate(line.body):
                if (
                    isinstance(small, cst.ImportFrom)
                    and not small.relative
                    and small.module is not None
                    and get_full_name_for_node(small.module) == module
                    and not isinstance(small.names, cst.ImportStar)
                ):
                    current = list(small.names)
                    trailing = current[-1].comma
                    if not isinstance(trailing, cst.Comma):
                        current[-1] = current[-1].with_changes(
                            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                        )
                    if isinstance(trailing, cst.Comma):
                        aliases = [a.with_changes(comma=trailing) for a in aliases]
                    smalls = list(line.body)
                    smalls[position] = small.with_changes(names=[*current, *aliases])
                    body[index] = line.with_changes(body=smalls)
                    merged = True
                    break
        if not merged:
            statement = cst.ImportFrom(
                module=cst.parse_expression(module),  # type: ignore[arg-type]
                names=aliases,
            )
            new_lines.append(cst.SimpleStatementLine(body=[statement]))
    if not new_lines:
        return body
    # After the docstring and the leading block of imports, as a person would add it.
    start = 1 if body and _is_docstring(body[0]) else 0
    index = _leading_block(body)
    after_docstring = start == 1 and index == 1
    if after_docstring:
        new_lines[0] = new_lines[0].with_changes(leading_lines=[cst.EmptyLine()])
    if index == start < len(body):
        # Nothing imported before: keep the code after the new imports apart from them.
        following = body[index]
        lines = list(getattr(following, "leading_lines", ()))
        if not lines or lines[0].comment is not None:
            gap = 2 if isinstance(following, (cst.ClassDef, cst.FunctionDef)) else 1
            body[index] = following.with_changes(leading_lines=[cst.EmptyLine()] * gap + lines)
    return [*body[:index], *new_lines, *body[index:]]


def _edit_imports(
    module: cst.Module, needed: Sequence[_Import], unused: set[_Import]
) -> cst.Module:
    uses = _NameUses()
    module.visit(uses)
    edited = module.visit(_ImportEditor(uses, needed, unused))
    assert isinstance(edited, cst.Module)
    return edited


def _tidy(body: Sequence[cst.BaseStatement], emptied: set[int]) -> list[cst.BaseStatement]:
    kept: list[cst.BaseStatement] = []
    carry: list[cst.EmptyLine] | None = None
    for statement in body:
        if id(statement) in emptied:
            if carry is None:
                carry = list(getattr(statement, "leading_lines", ()))
            continue
        if carry is not None:
            ours: list[cst.EmptyLine] = list(getattr(statement, "leading_lines", ()))
            lines = [*carry, *ours]
            if not kept:  # nothing above it any more: no blank lines before the first comment
                while lines and lines[0].comment is None:
                    lines.pop(0)
            statement = statement.with_changes(
                leading_lines=_collapse(lines, max(_blank_run(carry), _blank_run(ours)))
            )
            carry = None
        kept.append(statement)
    return kept


def _blank_run(lines: Sequence[cst.EmptyLine]) -> int:
    longest = run = 0
    for line in lines:
        run = run + 1 if line.comment is None else 0
        longest = max(longest, run)
    return longest


def _collapse(lines: Sequence[cst.EmptyLine], limit: int) -> list[cst.EmptyLine]:
    kept: list[cst.EmptyLine] = []
    run = 0
    for line in lines:
        run = run + 1 if line.comment is None else 0
        if run <= limit:
            kept.append(line)
    return kept


# -- survey: what the file holds, decided before anything changes ----------------------------


@dataclasses.dataclass
class _ClassPlan:
    """What happens to one class for SSOT001."""

    action: str  # "ok" (already SSOT or will be), "replace", "append", "manual", "ignore"
    target: Target | None = None
    replace: int = -1  # index of the base argument to replace
    remove: tuple[int, ...] = ()  # base arguments to drop (a bare ``object``)
    super_calls: bool = False  # add super().setUp() and friends where missing


# Templates that change the environment rather than read it.
_WRITES = frozenset({"env_set", "env_delete"})
# Set-up that runs once for many tests.
_WIDE_SETUPS = frozenset(
    {"setUpClass", "tearDownClass", "setUpModule", "tearDownModule", "setup_class",
     "teardown_class", "setup_module", "teardown_module"}
)  # fmt: skip


def _outlives_a_test(node: cst.FunctionDef) -> bool:
    """A set-up of a class or module, or a fixture whose scope is wider than a function."""
    if node.name.value in _WIDE_SETUPS:
        return True
    for decorator in node.decorators:
        call = decorator.decorator
        if not isinstance(call, cst.Call):
            continue
        name = get_full_name_for_node(call.func) or ""
        if name.rpartition(".")[2] != "fixture":
            continue
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "scope":
                scope = _string_value(arg.value)
                return scope != "function"  # a callable or another scope: not one test
    return False


@dataclasses.dataclass(frozen=True)
class _Frame:
    kind: str  # "class" | "def"
    name: str
    method: bool = False  # a def directly in a class body whose first parameter is self
    # setUpClass, setUpModule, a fixture of a wider scope: what it does outlives one test.
    outlives_test: bool = False


class _Scoped(cst.CSTVisitor):
    """Keeps the chain of enclosing classes and functions, as the scanner names scopes."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[_Frame] = []

    @property
    def qualname(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.frames)

    def _enter_class(self, node: cst.ClassDef) -> None:
        self.frames.append(_Frame("class", node.name.value))

    def _enter_def(self, node: cst.FunctionDef) -> None:
        params = node.params.params
        method = (
            bool(self.frames)
            and self.frames[-1].kind == "class"
            and bool(params)
            and params[0].name.value == "self"
        )
        self.frames.append(_Frame("def", node.name.value, method))


class _Survey(_Scoped):
    METADATA_DEPENDENCIES = (PositionProvider, ScopeProvider)

    def __init__(self, plan: Plan, suppressions: Mapping[int, frozenset[str]]) -> None:
        super().__init__()
        self.plan = plan
        self.suppressions = suppressions
        self.definitions: set[int] = set()  # ids of the Name nodes that name a def
        self.wrap_positions: dict[str, Position] = {}
        self.module_marks: set[str] = set()  # marks the module's pytestmark applies
        self.exempt: dict[tuple[str, ...], frozenset[str]] = {}
        self.classes: dict[tuple[str, ...], _ClassPlan] = {}
        self.functions: list[cst.FunctionDef] = []
        self.wrap: dict[str, Target] = {}  # function name -> class to put it in
        self.manual: list[Manual] = []
        self.imported: dict[str, str] = {}  # dotted -> name the leading imports bind to it
        self.bindings: dict[str, str] = {}  # name -> dotted, for from-imports anywhere
        self.referenced: set[str] = set()
        self.module_names: set[str] = set()

    # -- positions and exemptions ---------------------------------------------------------
    def position(self, node: cst.CSTNode) -> Position:
        start = self.get_metadata(PositionProvider, node).start
        return _position(start.line, start.column)

    def exempted(self, code: str, qualname: tuple[str, ...]) -> bool:
        for depth in range(len(qualname) + 1):
            codes = self.exempt.get(qualname[:depth])
            if codes is not None and (not codes or code in codes or RULE_NAMES[code] in codes):
                return True
        return False

    def suppressed(self, code: str, line: int) -> bool:
        codes = self.suppressions.get(line)
        return codes is not None and (not codes or code in codes or RULE_NAMES[code] in codes)

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return {
            q.name
            for q in _qualified_names(self, node)
            if q.source is not QualifiedNameSource.LOCAL
        }

    def _exemption(self, marks: Iterable[cst.BaseExpression]) -> frozenset[str] | None:
        """The codes an ``ssot_exempt`` mark among ``marks`` exempts (empty: all), if any."""
        for mark in marks:
            if not isinstance(mark, cst.Call):
                continue
            if not any(q.endswith("mark.ssot_exempt") for q in self._qualified(mark.func)):
                continue
            until = next(
                (
                    _string_value(a.value)
                    for a in mark.args
                    if a.keyword and a.keyword.value == "until"
                ),
                None,
            )
            day = parse_until(until) if until else None
            if day is not None and day < self.plan.today:
                continue  # an expired exemption no longer applies
            codes = [_string_value(a.value) for a in mark.args if a.keyword is None]
            return frozenset(c for c in codes if c)
        return None

    # -- module level ------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        leading = _leading_block(node.body)
        for index, statement in enumerate(node.body):
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._module_statement(small, leading=index < leading)
            elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self.module_names.add(statement.name.value)
                if isinstance(statement, cst.FunctionDef):
                    self.functions.append(statement)

    def _module_statement(self, small: cst.BaseSmallStatement, *, leading: bool) -> None:
        if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
            module = get_full_name_for_node(small.module) if small.module else None
            if module and not small.relative:
                for alias in small.names:
                    name = get_full_name_for_node(alias.name)
                    bound = _asname(alias) or name
                    if name and bound:
                        # Only an import above all code binds a name a class base can use.
                        if leading:
                            self.imported.setdefault(f"{module}.{name}", bound)
                        self.bindings.setdefault(bound, f"{module}.{name}")
                        self.module_names.add(bound)
        elif isinstance(small, cst.Import):
            for alias in small.names:
                self.module_names.add(_asname(alias) or _code(alias.name).split(".")[0])
        elif isinstance(small, cst.Assign):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    self.module_names.add(target.target.value)
                    if target.target.value == "pytestmark":
                        value = small.value
                        marks = (
                            [e.value for e in value.elements]
                            if isinstance(value, (cst.List, cst.Tuple))
                            else [value]
                        )
                        codes = self._exemption(marks)
                        if codes is not None:
                            self.exempt[()] = codes
                        self.module_marks.update(self._marks_of(marks))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.definitions:
            self.referenced.add(node.value)

    # -- classes and functions --------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter_class(node)
        codes = self._exemption(d.decorator for d in node.decorators)
        if codes is not None:
            self.exempt[self.qualname] = codes
        if all(f.kind == "class" for f in self.frames):
            self.classes[self.qualname] = self._class_plan(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.frames.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.definitions.add(id(node.name))  # its own name is not a reference to it
        self._enter_def(node)
        codes = self._exemption(d.decorator for d in node.decorators)
        if codes is not None:
            self.exempt[self.qualname] = codes
        if len(self.frames) == 1 and node.name.value.startswith("test"):
            self._function_plan(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()

    def _active(self, node: cst.CSTNode, qualname: tuple[str, ...]) -> bool:
        line = self.position(node)[0]
        return (
            SSOT001 in self.plan.rules
            and not self.exempted(SSOT001, qualname)
            and not self.suppressed(SSOT001, line)
        )

    def _local_class(self, name: str) -> _ClassPlan | None:
        return self.classes.get(tuple(name.split(".")))

    def _class_plan(self, node: cst.ClassDef) -> _ClassPlan:
        plan = self.plan
        resolved: list[str | None] = []
        local: list[_ClassPlan | None] = []
        for arg in node.bases:
            names = {q.name for q in _qualified_names(self, arg.value)}
            local_plan = next((p for n in names if (p := self._local_class(n)) is not None), None)
            local.append(local_plan)
            resolved.append(next(iter(names)) if len(names) == 1 else None)
        if any(name in plan.compliant for name in resolved) or any(
            p is not None and p.action in ("ok", "replace", "append") for p in local
        ):
            return _ClassPlan("ok")
        if not self._active(node.name, self.qualname):
            return _ClassPlan("ignore")
        mapped = [i for i, name in enumerate(resolved) if name in plan.base_map]
        is_async = ASYNC_TESTCASE in resolved or self._has_async_tests(node)
        if mapped:
            if len(mapped) > 1:
                return self._refuse(node, "derives from more than one base to replace")
            old = resolved[mapped[0]]
            assert old is not None
            target = plan.base_map[old]
            if old == TESTCASE and is_async:
                target = plan.base_map.get(ASYNC_TESTCASE)
                if target is None:
                    return self._refuse(
                        node, "has async tests; set [tool.ssot.fix] async_base_class"
                    )
            if target is None:
                key = "async_base_class" if old == ASYNC_TESTCASE else "base_class"
                return self._refuse(node, f"needs [tool.ssot.fix] {key} to be rewritten")
            unittest_class = old in (TESTCASE, ASYNC_TESTCASE)
            legacy = plan.legacy_unittest.get(old, False)  # False: TestCase itself
            if target.dotted in plan.pytest_style:
                if unittest_class or legacy is not False:
                    kind = {True: ", a unittest class,", None: ", which may be a unittest class,"}
                    return self._refuse(
                        node,
                        f"derives from {old}{kind.get(legacy, ',')} and {target.dotted} is no "
                        "unittest class: its setUp, tearDown and self.assert* methods would "
                        "stop working",
                    )
            elif old in plan.legacy_unittest and legacy is False:
                # A pytest-style class going onto a unittest base: as for one with no base.
                problem = self._pytest_only(node)
                if problem:
                    return self._refuse(node, problem)
            # A unittest class's setUp and tearDown must reach the SSOT base's own.
            super_calls = unittest_class or legacy is True
            return _ClassPlan("replace", target, replace=mapped[0], super_calls=super_calls)
        plain = all(
            name == "builtins.object" or (p is not None and p.action == "plain")
            for name, p in zip(resolved, local, strict=True)
        )
        if not plain:
            return _ClassPlan("ignore")  # a base we cannot see into: maybe SSOT already
        if not node.name.value.startswith("Test") or self._has_init(node):
            return _ClassPlan("plain")  # not collected as a test class: a mixin or helper
        target = plan.async_base if is_async else plan.base
        # A pytest-style SSOT base takes the class as it is, fixtures, parametrize and all.
        pytest_style = target is not None and target.dotted in plan.pytest_style
        problem = None if pytest_style else self._pytest_only(node)
        if problem:
            return self._refuse(node, problem)
        if target is None:
            key = "async_base_class" if is_async else "base_class"
            return self._refuse(node, f"needs [tool.ssot.fix] {key} to be rewritten")
        hook = next((f.name.value for f in self._methods(node) if f.name.value in XUNIT), None)
        if pytest_style and hook is not None:
            return self._refuse(
                node, f"defines {hook}, which would hide the SSOT base's own; rebase it by hand"
            )
        drop = tuple(i for i, name in enumerate(resolved) if name == "builtins.object")
        return _ClassPlan("append", target, remove=drop, super_calls=not pytest_style)

    def _refuse(self, node: cst.ClassDef, why: str) -> _ClassPlan:
        line, col = self.position(node.name)
        self.manual.append(Manual(SSOT001, line, col, f"class {node.name.value} {why}"))
        return _ClassPlan("manual")

    @staticmethod
    def _methods(node: cst.ClassDef) -> Iterator[cst.FunctionDef]:
        if isinstance(node.body, cst.IndentedBlock):
            for statement in node.body.body:
                if isinstance(statement, cst.FunctionDef):
                    yield statement

    def _has_async_tests(self, node: cst.ClassDef) -> bool:
        return any(
            f.asynchronous is not None and f.name.value.startswith(("test", "asyncSetUp"))
            for f in self._methods(node)
        )

    def _has_init(self, node: cst.ClassDef) -> bool:
        return any(f.name.value == "__init__" for f in self._methods(node))

    def _mark_names(self, decorators: Sequence[cst.Decorator]) -> list[str]:
        return self._marks_of([d.decorator for d in decorators])

    def _marks_of(self, expressions: Sequence[cst.BaseExpression]) -> list[str]:
        names = []
        for expression in expressions:
            func = expression.func if isinstance(expression, cst.Call) else expression
            for qualified in self._qualified(func):
                if qualified.startswith("pytest.mark."):
                    names.append(qualified.split(".")[2])
        return names

    def _pytest_only(self, node: cst.ClassDef) -> str | None:
        """Why a pytest-style class cannot become a unittest class, if it cannot."""
        if FUNCTION_ONLY_MARKS & (self.module_marks | set(self._mark_names(node.decorators))):
            return "is parametrized; unittest classes cannot be"
        for method in self._methods(node):
            if not method.name.value.startswith("test"):
                continue
            params = method.params
            extra = [p.name.value for p in params.params[1:]] + [
                p.name.value for p in (*params.posonly_params, *params.kwonly_params)
            ]
            if extra:
                return (
                    f"has {method.name.value} taking fixtures ({', '.join(extra)}); "
                    "unittest methods cannot receive fixtures"
                )
            if FUNCTION_ONLY_MARKS & set(self._mark_names(method.decorators)):
                return f"has {method.name.value} parametrized; unittest methods cannot be"
        return None

    def _function_plan(self, node: cst.FunctionDef) -> None:
        plan = self.plan
        if not plan.functions or not self._active(node.name, self.qualname):
            return
        line, col = self.position(node.name)
        name = node.name.value

        def manual(why: str) -> None:
            self.manual.append(Manual(SSOT001, line, col, f"test function {name} {why}"))

        if not plan.wrap_functions:
            manual("is not in an SSOT test class; move it into one (ssot fix --wrap-functions)")
            return
        target = plan.async_base if node.asynchronous else plan.base
        # A pytest-style SSOT base's methods take fixtures and parametrize as functions do.
        pytest_style = target is not None and target.dotted in plan.pytest_style
        params = node.params
        args = [
            p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)
        ]
        # (a bare `*` before keyword-only arguments is a ParamStar, no argument)
        variable = isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None
        if pytest_style and (params.posonly_params or variable):
            manual("takes positional-only or variable arguments; wrap it by hand")
            return
        if not pytest_style and (args or variable):
            manual(
                f"takes fixtures ({', '.join(args) or '*args'}); unittest methods cannot "
                "receive fixtures: wrap it by hand"
            )
            return
        marks = self._mark_names(node.decorators)
        if not pytest_style and FUNCTION_ONLY_MARKS & (self.module_marks | set(marks)):
            manual("is parametrized; unittest methods cannot be")
            return
        if len(marks) != len(node.decorators):
            manual("has decorators other than pytest marks; wrap it by hand")
            return
        if sum(f.name.value == name for f in self.functions) > 1:
            manual("is defined more than once; wrap it by hand")
            return
        if target is None:
            key = "async_base_class" if node.asynchronous else "base_class"
            manual(f"cannot be wrapped: set [tool.ssot.fix] {key}")
            return
        self.wrap[name] = target
        self.wrap_positions[name] = (line, col)

    def leave_Module(self, original_node: cst.Module) -> None:
        # Only now are all references known: a test function used by name stays put.
        for name in list(self.wrap):
            if name in self.referenced:
                node = next(f for f in self.functions if f.name.value == name)
                line, col = self.position(node.name)
                self.manual.append(
                    Manual(
                        SSOT001,
                        line,
                        col,
                        f"test function {name} is referenced by name; wrap it by hand",
                    )
                )
                del self.wrap[name]


# -- the rewrite -------------------------------------------------------------------------------

_SAFE_PARENTS = (
    cst.Expr,
    cst.Arg,
    cst.Assign,
    cst.AnnAssign,
    cst.AugAssign,
    cst.Return,
    cst.If,
    cst.While,
    cst.Assert,
    cst.FormattedStringExpression,
    cst.Element,
    cst.Index,
)


class _Fixer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider, ScopeProvider)

    def __init__(
        self,
        plan: Plan,
        survey: _Survey,
        targets: Mapping[Position, str],
    ) -> None:
        super().__init__()
        self.plan = plan
        self.survey = survey
        self.targets = targets
        self.needed: list[_Import] = []  # imports the rewritten code needs
        self.stack: list[cst.CSTNode] = []  # the nodes being visited, outermost first
        self.stores: set[int] = set()  # ids of subscripts that are assigned or deleted
        self.unused: set[_Import] = set()  # imports whose uses the rewrite removed
        self.templates = {k: _Template.parse(k, v) for k, v in plan.templates.items()}
        self.env_imports = _parse_imports(plan.env_imports)
        self.fixed: list[Change] = []
        self.manual: list[Manual] = []
        self.dirty = False
        self.frames: list[_Frame] = []
        self.fstrings: list[str] = []
        self.class_plans: list[_ClassPlan | None] = []

    # -- the tree around a node ---------------------------------------------------------------
    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(node)
        return super().on_visit(node)

    def on_leave(
        self, original_node: _NodeT, updated_node: _NodeT
    ) -> _NodeT | cst.RemovalSentinel | cst.FlattenSentinel[_NodeT]:
        try:
            return super().on_leave(original_node, updated_node)
        finally:
            self.stack.pop()

    def parent(self) -> cst.CSTNode | None:
        """The parent of the node being left (called from a ``leave_`` method)."""
        return self.stack[-2] if len(self.stack) > 1 else None

    def _store(self, target: cst.BaseExpression) -> None:
        """Note the subscripts an assignment target writes (through tuples and stars)."""
        if isinstance(target, cst.Subscript):
            self.stores.add(id(target))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
        elif isinstance(target, cst.StarredElement):
            self._store(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._store(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._store(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._store(node.asname.name)

    # -- coordinates -----------------------------------------------------------------------
    def position(self, node: cst.CSTNode) -> Position:
        start = self.get_metadata(PositionProvider, node).start
        return _position(start.line, start.column)

    def target(self, node: cst.CSTNode, code: str) -> Position | None:
        """The node's position when the scanner reported a fixable finding of ``code`` there."""
        position = self.position(node)
        if self.targets.get(position) != code:
            return None
        if self.survey.exempted(code, tuple(f.name for f in self.frames)):
            return None
        return position

    def refuse(self, code: str, position: Position, why: str) -> None:
        self.manual.append(Manual(code, position[0], position[1], why))

    def env_name(self, node: cst.CSTNode) -> str | None:
        names = {
            q.name for q in _qualified_names(self, node) if q.source is QualifiedNameSource.IMPORT
        }
        if len(names) == 1 and (name := next(iter(names))) in ENV_NAMES:
            return name
        return None

    def qualified(self, node: cst.CSTNode) -> set[str]:
        return {q.name for q in _qualified_names(self, node)}

    # -- scopes ----------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = (*(f.name for f in self.frames), node.name.value)
        plain = all(f.kind == "class" for f in self.frames)
        self.class_plans.append(self.survey.classes.get(qualname) if plain else None)
        self.frames.append(_Frame("class", node.name.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params = node.params.params
        method = (
            bool(self.frames)
            and self.frames[-1].kind == "class"
            and bool(params)
            and params[0].name.value == "self"
        )
        self.frames.append(_Frame("def", node.name.value, method, _outlives_a_test(node)))

    def _inside_one_test(self) -> bool:
        """Whether code here runs for one test at a time (a test, setUp, a helper it calls):
        not at import, in a class body, in setUpClass or in a wider fixture."""
        defs = [f for f in self.frames if f.kind == "def"]
        return bool(defs) and not any(f.outlives_test for f in defs)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.frames.pop()
        return updated_node

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.fstrings.append(node.start.lstrip("fFrRbBuU")[:1])

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.FormattedString:
        self.fstrings.pop()
        return updated_node

    # -- the one way every environment rewrite goes ----------------------------------------
    def build(
        self,
        key: str,
        values: Mapping[str, cst.BaseExpression],
        original: cst.CSTNode,
        position: Position,
        *,
        fallback: str | None = None,
    ) -> cst.BaseExpression | None:
        """The template ``key`` filled with ``values``, or None (and a manual entry) when it is
        not configured or its result could not stand where ``original`` stands."""
        if key in _WRITES and not self._inside_one_test():
            self.refuse(
                SSOT002,
                position,
                "changes the environment for more than one test (at import, in a class "
                "body, setUpClass or a wider fixture), which an isolated environment may not "
                "keep across tests; rewrite it by hand",
            )
            return None
        template = self.templates.get(key) or (self.templates.get(fallback) if fallback else None)
        if template is None:
            self.refuse(
                SSOT002, position, f"{_code(original).strip()}: no [tool.ssot.fix] {key} template"
            )
            return None
        if "self" in template.names and not (self.frames and self.frames[-1].method):
            self.refuse(
                SSOT002, position, f"{template.key} uses self, but this is not in a test method"
            )
            return None
        scope = self.get_metadata(ScopeProvider, original, None)
        for spec in self.env_imports:
            if spec.bound not in template.names or scope is None:
                continue
            meanings = {q.name for q in scope.get_qualified_names_for(spec.bound)}
            if meanings - {spec.dotted}:
                self.refuse(
                    SSOT002,
                    position,
                    f"{spec.bound} already means something else here; rewrite it by hand",
                )
                return None
        result = template.build(values)
        if isinstance(result, cst.Tuple) and not result.lpar:
            result = _parenthesize(result)
        produced = _code(result)
        if self.fstrings and (
            "\\" in produced
            or "\n" in produced
            or "#" in produced
            or any(quote in produced for quote in self.fstrings)
        ):
            self.refuse(SSOT002, position, "inside an f-string the rewrite would need other quotes")
            return None
        kept = sum(_comments(v) for v in values.values())
        if _comments(original) > kept:
            self.refuse(SSOT002, position, "rewriting it would drop a comment")
            return None
        for spec in self.env_imports:
            if spec.bound in template.names:
                self.needed.append(spec)
        return result

    def settle(
        self,
        original: cst.BaseExpression,
        result: cst.BaseExpression,
        position: Position,
        what: str,
    ) -> cst.BaseExpression:
        """Put an expression where ``original`` stood, keeping its parentheses."""
        if original.lpar:
            result = result.with_changes(lpar=original.lpar, rpar=original.rpar)
        elif not _atomic(result):
            parent = self.parent()
            if not isinstance(parent, _SAFE_PARENTS):
                result = _parenthesize(result)
        self.done(SSOT002, position, what, original)
        return result

    def done(self, code: str, position: Position, what: str, removed: cst.CSTNode) -> None:
        self.fixed.append(Change(code, position[0], position[1], what))
        self.dirty = True
        self.forget(removed)

    def forget(self, removed: cst.CSTNode) -> None:
        """Ask for the imports that names in ``removed`` used to be dropped if now unused."""
        for node in _walk(removed):
            if not isinstance(node, cst.Name):
                continue
            scope = self.get_metadata(ScopeProvider, node, None)
            if scope is None:
                continue
            try:
                accesses = scope.accesses[node]
            except Exception:  # not a name lookup (an attribute's name, a keyword)
                continue
            for access in accesses:
                for referent in access.referents:
                    if isinstance(referent, ImportAssignment):
                        self._forget_import(referent.node, referent.name)

    def _forget_import(self, statement: cst.CSTNode, bound: str) -> None:
        if isinstance(statement, cst.Import):
            for alias in statement.names:
                name = get_full_name_for_node(alias.name) or ""
                if (_asname(alias) or name.split(".")[0]) == bound:
                    self.unused.add(_Import(name, None, _asname(alias)))
        elif (
            isinstance(statement, cst.ImportFrom)
            and statement.module is not None
            and not statement.relative
            and not isinstance(statement.names, cst.ImportStar)
        ):
            module = get_full_name_for_node(statement.module) or ""
            for alias in statement.names:
                name = get_full_name_for_node(alias.name) or ""
                if (_asname(alias) or name) == bound:
                    self.unused.add(_Import(module, name, _asname(alias)))

    # -- SSOT002 shapes ----------------------------------------------------------------------
    def _environ(self, node: cst.BaseExpression) -> Position | None:
        """The finding's position when ``node`` is ``os.environ`` (through any alias)."""
        if self.env_name(node) == ENVIRON:
            return self.target(node, SSOT002)
        return None

    @staticmethod
    def _single_key(node: cst.Subscript) -> cst.BaseExpression | None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            index = node.slice[0].slice
            if index.star is None:
                return index.value
        return None

    def leave_Subscript(
        self, original_node: cst.Subscript, updated_node: cst.Subscript
    ) -> cst.BaseExpression:
        position = self._environ(original_node.value)
        if position is None:
            return updated_node
        if id(original_node) in self.stores:
            return updated_node  # a store or delete: its statement decides
        key = self._single_key(updated_node)
        if key is None:
            self.refuse(SSOT002, position, "os.environ[...] with more than one key")
            return updated_node
        result = self.build(
            "env_getitem", {"key": key}, original_node, position, fallback="env_get"
        )
        if result is None:
            return updated_node
        return self.settle(original_node, result, position, "os.environ[key]")

    def leave_Assign(
        self, original_node: cst.Assign, updated_node: cst.Assign
    ) -> cst.BaseSmallStatement:
        if len(original_node.targets) != 1:
            return updated_node
        target = original_node.targets[0].target
        if not isinstance(target, cst.Subscript):
            return updated_node
        position = self._environ(target.value)
        if position is None:
            return updated_node
        new_target = updated_node.targets[0].target
        assert isinstance(new_target, cst.Subscript)
        key = self._single_key(new_target)
        if key is None:
            self.refuse(SSOT002, position, "os.environ[...] = with more than one key")
            return updated_node
        result = self.build(
            "env_set", {"key": key, "value": updated_node.value}, original_node, position
        )
        if result is None:
            return updated_node
        self.done(SSOT002, position, "os.environ[key] = value", original_node)
        return cst.Expr(value=result, semicolon=updated_node.semicolon)

    def leave_Del(self, original_node: cst.Del, updated_node: cst.Del) -> cst.BaseSmallStatement:
        target = original_node.target
        if not isinstance(target, cst.Subscript):
            return updated_node
        position = self._environ(target.value)
        if position is None:
            return updated_node
        new_target = updated_node.target
        assert isinstance(new_target, cst.Subscript)
        key = self._single_key(new_target)
        if key is None:
            self.refuse(SSOT002, position, "del os.environ[...] with more than one key")
            return updated_node
        result = self.build("env_delete", {"key": key}, original_node, position)
        if result is None:
            return updated_node
        self.done(SSOT002, position, "del os.environ[key]", original_node)
        return cst.Expr(value=result, semicolon=updated_node.semicolon)

    def leave_Comparison(
        self, original_node: cst.Comparison, updated_node: cst.Comparison
    ) -> cst.BaseExpression:
        if len(original_node.comparisons) != 1:
            return updated_node
        operator = original_node.comparisons[0].operator
        if not isinstance(operator, (cst.In, cst.NotIn)):
            return updated_node
        position = self._environ(original_node.comparisons[0].comparator)
        if position is None:
            return updated_node
        result = self.build("env_contains", {"key": updated_node.left}, original_node, position)
        if result is None:
            return updated_node
        if isinstance(operator, cst.NotIn):
            result = cst.UnaryOperation(operator=cst.Not(), expression=_parenthesize(result))
        return self.settle(original_node, result, position, "key in os.environ")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in ("setenv", "delenv"):
                position = self.target(original_node, SSOT002)
                if position is not None:
                    return self._monkeypatch(original_node, updated_node, position)
            if self.qualified(func) & PATCH_DICT and original_node.args:
                first = original_node.args[0].value
                if (self.env_name(first) == ENVIRON or _string_value(first) == ENVIRON) and (
                    position := self.target(first, SSOT002)
                ) is not None:
                    return self._patch_dict(original_node, updated_node, position)
            position = self._environ(func.value)
            if position is not None and func.attr.value in ("get", "pop"):
                return self._environ_method(original_node, updated_node, position)
        if self.env_name(func) == GETENV and (position := self.target(func, SSOT002)):
            return self._getenv(original_node, updated_node, position)
        return updated_node

    @staticmethod
    def _arguments(
        call: cst.Call,
        params: Sequence[str],
        *,
        keywords: bool,
        ignored: frozenset[str] = frozenset(),
    ) -> dict[str, cst.BaseExpression] | None:
        """Map a call's arguments onto its parameters ``params`` (by position, and by keyword
        when the function accepts keywords); None for any other shape. Keyword arguments in
        ``ignored`` are accepted and dropped."""
        values: dict[str, cst.BaseExpression] = {}
        for index, arg in enumerate(call.args):
            if arg.star:
                return None
            if arg.keyword is None:
                if index >= len(params):
                    return None
                values[params[index]] = arg.value
            elif keywords and arg.keyword.value in ignored:
                continue
            elif keywords and arg.keyword.value in params and arg.keyword.value not in values:
                values[arg.keyword.value] = arg.value
            else:
                return None
        return values

    def _environ_method(
        self, original: cst.Call, updated: cst.Call, position: Position
    ) -> cst.BaseExpression:
        method = original.func.attr.value  # type: ignore[attr-defined]
        values = self._arguments(updated, ("key", "default"), keywords=False)
        if values is None or "key" not in values:
            self.refuse(SSOT002, position, f"os.environ.{method}() with unusual arguments")
            return updated
        if method == "pop":
            parent = self.parent()
            if not isinstance(parent, cst.Expr):
                self.refuse(SSOT002, position, "os.environ.pop() whose result is used")
                return updated
            result = self.build("env_delete", {"key": values["key"]}, original, position)
            if result is None:
                return updated
            return self.settle(original, result, position, "os.environ.pop(key)")
        result = self.build("env_get", values, original, position)
        if result is None:
            return updated
        return self.settle(original, result, position, "os.environ.get(key, default)")

    def _getenv(
        self, original: cst.Call, updated: cst.Call, position: Position
    ) -> cst.BaseExpression:
        values = self._arguments(updated, ("key", "default"), keywords=True)
        if values is None or "key" not in values:
            self.refuse(SSOT002, position, "os.getenv() with unusual arguments")
            return updated
        result = self.build("env_get", values, original, position)
        if result is None:
            return updated
        return self.settle(original, result, position, "os.getenv(key, default)")

    def _monkeypatch(
        self, original: cst.Call, updated: cst.Call, position: Position
    ) -> cst.BaseExpression:
        method = original.func.attr.value  # type: ignore[attr-defined]
        # setenv(name, value, prepend=None); delenv(name, raising=True): a prepend changes
        # what is set, so it is refused; raising only decides whether a missing name fails.
        params = ("name", "value") if method == "setenv" else ("name",)
        ignored = frozenset({"raising"} if method == "delenv" else ())
        values = self._arguments(updated, params, keywords=True, ignored=ignored)
        if values is None or set(values) != set(params):
            self.refuse(SSOT002, position, f"monkeypatch.{method}() with unusual arguments")
            return updated
        values["key"] = values.pop("name")
        result = self.build(f"monkeypatch_{method}", values, original, position)
        if result is None:
            return updated
        return self.settle(original, result, position, f"monkeypatch.{method}()")

    def _patch_dict(
        self, original: cst.Call, updated: cst.Call, position: Position
    ) -> cst.BaseExpression:
        values: dict[str, cst.BaseExpression] = {}
        for index, arg in enumerate(updated.args[1:], start=1):
            if arg.star:
                break
            if arg.keyword is None and index == 1:
                values["values"] = arg.value
            elif arg.keyword is not None and arg.keyword.value in ("values", "clear"):
                values[arg.keyword.value] = arg.value
            else:
                break
        else:
            if "values" in values:
                result = self.build("patch_environ", values, original, position)
                if result is None:
                    return updated
                return self.settle(original, result, position, "patch.dict(os.environ, ...)")
        self.refuse(SSOT002, position, "patch.dict(os.environ) with unusual arguments")
        return updated

    # -- SSOT004: a __main__ block that only runs this file's tests --------------------------
    def leave_If(
        self, original_node: cst.If, updated_node: cst.If
    ) -> cst.BaseStatement | cst.RemovalSentinel:
        position = self.target(original_node, SSOT004)
        if position is None:
            return updated_node
        if not isinstance(self.parent(), cst.Module):
            self.refuse(SSOT004, position, "the __main__ block is nested; remove it by hand")
            return updated_node
        problem = self._main_block_problem(original_node)
        if problem:
            self.refuse(SSOT004, position, problem)
            return updated_node
        self.done(SSOT004, position, 'if __name__ == "__main__" block', original_node)
        return cst.RemovalSentinel.REMOVE

    def _main_block_problem(self, node: cst.If) -> str | None:
        if node.orelse is not None:
            return "the __main__ block has an else branch; remove it by hand"
        more = "the __main__ block does more than run the tests; remove it by hand"
        statements: list[cst.BaseSmallStatement] = []
        if isinstance(node.body, cst.SimpleStatementSuite):
            statements.extend(node.body.body)
        else:
            for line in node.body.body:
                if not isinstance(line, cst.SimpleStatementLine):
                    return more
                statements.extend(line.body)
        runs = 0
        for statement in statements:
            if isinstance(statement, cst.Pass):
                continue
            call: cst.BaseExpression | None = None
            if isinstance(statement, cst.Expr):
                call = statement.value
            elif isinstance(statement, cst.Raise) and statement.exc is not None:
                call = statement.exc
            if isinstance(call, cst.Call) and self.qualified(call.func) & EXITS:
                single = len(call.args) == 1 and call.args[0].keyword is None
                call = call.args[0].value if single else None
            if not (isinstance(call, cst.Call) and self._runs_this_file(call)):
                return more
            runs += 1
        return None if runs else "the __main__ block does not just run the tests"

    def _runs_this_file(self, call: cst.Call) -> bool:
        names = self.qualified(call.func) & RUNNERS
        if names == {"unittest.main"}:
            return all(
                a.keyword is not None
                and a.keyword.value in ("verbosity", "exit", "failfast", "buffer", "catchbreak")
                for a in call.args
            )
        if names != {"pytest.main"}:
            return False
        if not call.args:
            return True
        if len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return False
        value = call.args[0].value
        if not isinstance(value, (cst.List, cst.Tuple)):
            return False
        for element in value.elements:
            if isinstance(element, cst.StarredElement):
                return False
            mentions_file = any(
                isinstance(n, cst.Name) and n.value == "__file__" for n in _walk(element.value)
            )
            if _string_value(element.value) is None and not mentions_file:
                return False
        return True

    # -- SSOT001: classes ------------------------------------------------------------------------
    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        self.frames.pop()
        plan = self.class_plans.pop()
        if plan is None or plan.action not in ("replace", "append") or plan.target is None:
            return updated_node
        name = self._class_name(plan.target, original_node)
        if name is None:
            return updated_node
        bases = list(updated_node.bases)
        if plan.action == "replace":
            bases[plan.replace] = bases[plan.replace].with_changes(value=cst.Name(name))
            removed: cst.CSTNode = original_node.bases[plan.replace]
        else:
            # Appended last, so the class's own mixins keep precedence in the MRO; libcst
            # writes the separating comma (and the parentheses of a bare class) itself.
            bases = [b for i, b in enumerate(bases) if i not in plan.remove]
            if bases and isinstance(bases[-1].comma, cst.Comma) and not updated_node.keywords:
                bases[-1] = bases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            bases.append(cst.Arg(cst.Name(name)))
            removed = cst.Module(body=[])
        updated_node = updated_node.with_changes(bases=bases)
        if plan.super_calls:
            updated_node = self._super_calls(updated_node, original_node)
        line, col = self.position(original_node.name)
        self.done(SSOT001, (line, col), f"class {original_node.name.value}", removed)
        return updated_node

    def _class_name(self, target: Target, node: cst.ClassDef) -> str | None:
        """The name to write for ``target`` here, importing it when it is not yet."""
        existing = self.survey.imported.get(target.dotted)
        if existing:
            return existing
        bound = self.survey.bindings.get(target.name)
        if target.name in self.survey.module_names and bound != target.dotted:
            why = f"class {node.name.value}: the name {target.name} is taken in this module"
            if bound is not None:
                # Often the same class by a public path (`from django.test import TestCase`
                # for "django.test.testcases:TestCase"): say which, and how to use it.
                module, _, name = bound.rpartition(".")
                why += (
                    f" (imported from {module}); if that is the same class, write it as "
                    f'"{module}:{name}" in [tool.ssot.fix]'
                )
            line, col = self.position(node.name)
            self.refuse(SSOT001, (line, col), why)
            return None
        self.needed.append(_Import(target.module, target.name, None))
        return target.name

    def _super_calls(self, node: cst.ClassDef, original: cst.ClassDef) -> cst.ClassDef:
        if not isinstance(node.body, cst.IndentedBlock):
            return node
        body = []
        for statement in node.body.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in (
                *SETUPS,
                *TEARDOWNS,
            ):
                statement = self._with_super(statement, original)
            body.append(statement)
        return node.with_changes(body=node.body.with_changes(body=body))

    def _with_super(self, method: cst.FunctionDef, owner: cst.ClassDef) -> cst.FunctionDef:
        name = method.name.value
        for sub in _walk(method.body):
            if (
                isinstance(sub, cst.Call)
                and isinstance(sub.func, cst.Attribute)
                and sub.func.attr.value == name
                and isinstance(sub.func.value, cst.Call)
                and _code(sub.func.value.func) == "super"
            ):
                return method  # already calls the base
        call: cst.BaseExpression = cst.Call(
            func=cst.Attribute(value=cst.Call(func=cst.Name("super")), attr=cst.Name(name))
        )
        if name.startswith("async"):
            call = cst.Await(expression=call)
        body = method.body
        if name not in SETUPS and any(isinstance(n, cst.Return) for n in _walk(body)):
            line, col = self.position(owner.name)
            self.refuse(
                SSOT001,
                (line, col),
                f"class {owner.name.value}: {name} returns early; call "
                f"super().{name}() in it by hand",
            )
            return method
        if isinstance(body, cst.SimpleStatementSuite):  # def setUp(self): ...
            smalls = list(body.body)
            smalls.insert(0 if name in SETUPS else len(smalls), cst.Expr(call))
            return method.with_changes(body=body.with_changes(body=smalls))
        if not isinstance(body, cst.IndentedBlock):
            return method
        lines = list(body.body)
        statement = cst.SimpleStatementLine(body=[cst.Expr(call)])
        if name in SETUPS:
            docstring = bool(lines) and _is_docstring(lines[0])
            lines.insert(1 if docstring else 0, statement)
        else:
            lines.append(statement)
        return method.with_changes(body=body.with_changes(body=lines))

    # -- SSOT001: --wrap-functions -------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        wrap = self.survey.wrap
        if not wrap:
            return updated_node
        groups: dict[Target, list[cst.FunctionDef]] = {}
        for statement in updated_node.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in wrap:
                groups.setdefault(wrap[statement.name.value], []).append(statement)
        stem = "".join(
            part.capitalize()
            for part in self.plan.module_stem.removeprefix("test_").removesuffix("_test").split("_")
        )
        classes: dict[Target, cst.ClassDef] = {}
        taken = set(self.survey.module_names)
        for target, functions in groups.items():
            suffix = "Async" if target == self.plan.async_base and target != self.plan.base else ""
            name = next(
                (
                    n
                    for n in (f"Test{stem}{suffix}", f"Test{stem}{suffix}Functions")
                    if n not in taken
                ),
                None,
            )
            base = self.survey.imported.get(target.dotted)
            if base is None and self.survey.bindings.get(target.name, target.dotted) != (
                target.dotted
            ):
                name = None  # its name means something else here
            for function in functions:
                line, col = self.survey.wrap_positions[function.name.value]
                if name is None:
                    self.refuse(
                        SSOT001,
                        (line, col),
                        f"test function {function.name.value}: no free class name to wrap it in",
                    )
                else:
                    self.done(
                        SSOT001, (line, col), f"function {function.name.value}", cst.Module([])
                    )
            if name is None:
                continue
            taken.add(name)
            if base is None:
                self.needed.append(_Import(target.module, target.name, None))
                base = target.name
            methods = []
            for index, function in enumerate(functions):
                # The first function's comments now head the class; the others keep theirs.
                comments = [line for line in function.leading_lines if line.comment is not None]
                leading = [cst.EmptyLine(indent=False), *comments] if index else []
                methods.append(
                    function.with_changes(
                        params=function.params.with_changes(
                            params=[cst.Param(cst.Name("self")), *function.params.params]
                        ),
                        leading_lines=leading,
                    )
                )
            classes[target] = cst.ClassDef(
                name=cst.Name(name),
                bases=[cst.Arg(cst.Name(base))],
                body=cst.IndentedBlock(body=methods),
                leading_lines=functions[0].leading_lines,
            )
        body: list[cst.BaseStatement] = []
        for statement in updated_node.body:
            if isinstance(statement, cst.FunctionDef) and statement.name.value in wrap:
                target = wrap[statement.name.value]
                if target not in classes:
                    body.append(statement)
                elif statement is groups[target][0]:
                    body.append(classes[target])
                continue
            body.append(statement)
        return updated_node.with_changes(body=body)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
