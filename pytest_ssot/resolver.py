"""Resolve names and base classes across the project's own modules without importing them.

Inside pytest, SSOT001 is decided with ``issubclass`` on the real classes. ``ssot check`` has no
classes, only source: it follows each base expression through the module's bindings (absolute,
relative and star imports, ``X = Y`` aliases, re-exports) to the statement that defines the
class, so a class is known by its file and qualified name and two classes called
``BaseTestCase`` are never confused. Whatever cannot be followed (a module that does not exist,
a computed base, a name bound differently in two branches of an ``if``) is *unresolved*: it is
reported as such and never guessed.

Classes from outside the project are opaque, except a small allowlist of standard-library
modules (``unittest``, ``abc``, ``typing``, ...) that are imported to ask what pytest would ask:
is it a ``unittest.TestCase``, does it define ``__init__``. For what pytest collects from a test
class deriving from an installed package's class, that class is read from its source on
``sys.path`` (:meth:`Resolver.installed_mro`), never imported.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import json
import os
import sys
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pytest_ssot.scanner import Binding, ClassDetail, FileFacts, Structure, scan

# Standard-library modules whose classes may be imported and inspected: importing them runs no
# project code and has no side effects.
INSPECTABLE_MODULES = frozenset(
    {
        "builtins",
        "abc",
        "collections",
        "collections.abc",
        "contextlib",
        "enum",
        "typing",
        "unittest",
        "unittest.case",
        "unittest.async_case",
        "unittest.mock",
    }
)
MAX_DEPTH = 64
_Key = tuple[Path, str, "int | None"]
_Seen = tuple[_Key, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ClassRef:
    """A class statement in a project file, by file and qualified name."""

    path: Path
    qualname: str
    # The dotted module name it was reached by, for messages only: identity is the file.
    module: str = dataclasses.field(default="", compare=False)

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.qualname}" if self.module else self.qualname


@dataclasses.dataclass(frozen=True, slots=True)
class FuncRef:
    path: Path
    qualname: str
    module: str = dataclasses.field(default="", compare=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ModuleRef:
    name: str
    path: Path | None  # None: a namespace package (a directory without __init__.py)


@dataclasses.dataclass(frozen=True, slots=True)
class External:
    """Something outside the project (an installed package or the standard library)."""

    dotted: str


@dataclasses.dataclass(frozen=True, slots=True)
class Unresolved:
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Constant:
    """A name bound to a literal (``TIMEOUT = 30``): no class, but a parameter's id."""

    id: str  # as pytest shows the value in a node id
    where: str


@dataclasses.dataclass(frozen=True, slots=True)
class Listed:
    """A name bound to a list (``CASES = [1, 2]``): no id of its own as a parameter, but
    ``parametrize`` makes a test of each element; ``elements`` as the scan told them
    (:func:`pytest_ssot.scanner.listed_ids` makes the ids)."""

    elements: tuple[Any, ...] | None  # None: named again there, see scanner.listed_elements
    where: str
    path: Path  # the module binding it
    name: str  # the name it binds it to


Target = ClassRef | FuncRef | ModuleRef | External | Unresolved | Constant | Listed


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a class derives from one of the goals: True, False, or None with a reason."""

    value: bool | None
    reason: str = ""


class ModuleIndex:
    """Finds the project's modules by dotted name under its import roots.

    The roots are what the tests would have on ``sys.path``: the rootdir, pytest's
    ``pythonpath``, a ``src`` directory, and the base directory of each test package.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots: list[Path] = []
        for root in roots:
            resolved = root.resolve()
            if resolved.is_dir() and resolved not in self.roots:
                self.roots.append(resolved)
        self._found: dict[str, tuple[Path | None, bool]] = {}
        self._names: dict[Path, str] = {}

    def find(self, name: str) -> tuple[Path | None, bool]:
        """``(file, found)``: the module's file (``None`` for a namespace package)."""
        if name not in self._found:
            self._found[name] = self._search(name)
            path = self._found[name][0]
            if path is not None:
                self._names.setdefault(path, name)
        return self._found[name]

    def _search(self, name: str) -> tuple[Path | None, bool]:
        parts = name.split(".")
        if not all(p.isidentifier() for p in parts):
            return None, False
        for root in self.roots:
            base = root.joinpath(*parts)
            module = base.with_name(base.name + ".py")
            if module.is_file():
                return module, True
            package = base / "__init__.py"
            if package.is_file():
                return package, True
            if base.is_dir():
                return None, True  # a namespace package: a directory without __init__.py
        return None, False

    def lookups(self) -> dict[str, tuple[Path | None, bool]]:
        """Every lookup so far and its answer (a check's results depend on them)."""
        return dict(self._found)

    def name_of(self, path: Path) -> str | None:
        return self._names.get(path)


def installed_index(project_roots: Iterable[Path]) -> ModuleIndex:
    """The modules of the installed packages' sources, as this interpreter finds them."""
    project = set(project_roots)
    return ModuleIndex(root for root in _installed_roots() if root not in project)


def _installed_roots() -> list[Path]:
    """The directories on ``sys.path`` that hold installed packages' sources: not the
    standard library's (its classes stay ``External``, inspected where allowlisted)."""
    paths = sysconfig.get_paths()
    stdlib = {Path(paths[k]).resolve() for k in ("stdlib", "platstdlib") if paths.get(k)}
    roots: list[Path] = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        root = Path(entry).resolve()
        packages = {"site-packages", "dist-packages"} & set(root.parts)
        if not packages and any(root == s or s in root.parents for s in stdlib):
            continue
        if root not in roots:
            roots.append(root)
    return roots


def _inspectable(module: str) -> bool:
    return module in INSPECTABLE_MODULES


@functools.lru_cache(maxsize=1024)
def external_object(dotted: str) -> object | None:
    """The object behind an allowlisted standard-library name, else None."""
    if dotted.startswith("builtins."):
        return getattr(builtins, dotted[len("builtins.") :], None)
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        if _inspectable(module):
            try:
                obj: object = importlib.import_module(module)
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except (ImportError, AttributeError):
                return None
            return obj
    return None


@functools.lru_cache(maxsize=1024)
def canonical_external(dotted: str) -> External:
    """``unittest.TestCase`` and ``unittest.case.TestCase`` are the same class."""
    obj = external_object(dotted)
    if isinstance(obj, type):
        return External(f"{obj.__module__}.{obj.__qualname__}")
    return External(dotted)


def installed(top: str) -> bool:
    """Whether a regular top-level module or package of that name is importable (found
    without importing it)."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin not in (None, "namespace")


class Resolver:
    """Resolves names in project modules; ``facts_for`` supplies full scans of files."""

    def __init__(
        self,
        index: ModuleIndex,
        facts_for: Callable[[Path], FileFacts | None],
        module_name: Callable[[Path], str],
    ) -> None:
        self.index = index
        self._facts_for = facts_for
        self._module_name = module_name
        self._lookups: dict[tuple[Path, str, int | None], tuple[Target, ...]] = {}
        self._modules: dict[str, Target] = {}
        self._installed: dict[str, bool] = {}
        self._verdicts: dict[tuple[ClassRef, frozenset[object]], Verdict] = {}
        self._exports: dict[Path, frozenset[str] | None] = {}
        self._names: dict[Path, str] = {}
        self._structures: dict[Path, Structure | None] = {}
        self._mros: dict[ClassRef, tuple[list[ClassRef | External], list[str]]] = {}
        self._installed_order: dict[ClassRef, tuple[list[ClassRef | External], list[str]]] = {}
        self._outside: Resolver | None = None
        self._installed_mros: dict[str, list[ClassRef | External] | None] = {}

    def forget(self) -> None:
        """Drop what was learnt about modules (their facts may be freed); the module index
        and the installed-package probes stay, for whoever records what a check looked up."""
        self._lookups.clear()
        self._verdicts.clear()
        self._exports.clear()
        self._structures.clear()
        self._mros.clear()
        self._installed_order.clear()
        if self._outside is not None:
            self._outside.forget()

    # -- modules -----------------------------------------------------------------------------
    def module_name(self, path: Path) -> str:
        name = self._names.get(path)
        if name is None:
            name = self._names[path] = self.index.name_of(path) or self._module_name(path)
        return name

    def structure(self, path: Path) -> Structure | None:
        if path not in self._structures:
            facts = self._facts_for(path)
            self._structures[path] = (
                facts.structure if facts is not None and facts.error is None else None
            )
        return self._structures[path]

    def module(self, name: str) -> Target:
        if name not in self._modules:
            self._modules[name] = self._find_module(name)
        return self._modules[name]

    def _find_module(self, name: str) -> Target:
        path, found = self.index.find(name)
        top = name.split(".")[0]
        if top not in self._installed:
            self._installed[top] = installed(top)
        top_path, top_found = self.index.find(top)
        if top_found and top_path is None and self._installed[top]:
            # A directory that happens to share an installed package's name: Python imports
            # the regular package, never the namespace portion.
            return External(name)
        if found:
            return ModuleRef(name, path)
        if top_found:
            return Unresolved(f"module {name} does not exist in the project")
        if self._installed[top]:
            return External(name)
        return Unresolved(f"module {name} cannot be found (not in the project, not installed)")

    def installed_mro(self, dotted: str) -> list[ClassRef | External] | None:
        """The method resolution order of an installed package's class (``External``) as
        its source on ``sys.path`` says: its classes as definitions in that source, and the
        standard library's as ``External``. None when the source cannot tell (an extension
        module, a base that cannot be followed)."""
        if dotted not in self._installed_mros:
            self._installed_mros[dotted] = self._read_installed_mro(dotted)
        return self._installed_mros[dotted]

    def _read_installed_mro(self, dotted: str) -> list[ClassRef | External] | None:
        target = self.installed_target(dotted)
        if not isinstance(target, ClassRef):
            return None
        assert self._outside is not None  # made by installed_target
        order, problems = self._outside.mro(target)
        return None if problems else order

    def installed_target(self, dotted: str) -> Target | None:
        """What a name of an installed package (``External``) is, as its source on
        ``sys.path`` says; None when no source of it is found."""
        if self._outside is None:
            index = installed_index(self.index.roots)
            self._outside = Resolver(index, self._facts_for, lambda path: path.stem)
        outside = self._outside
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if outside.index.find(module)[0] is not None:
                return outside.resolve_entry(f"{module}:{'.'.join(parts[cut:])}")
        return None

    def installed_lookups(self) -> dict[str, tuple[Path | None, bool]]:
        """Every module looked for among the installed packages' sources, and the answer."""
        return self._outside.index.lookups() if self._outside is not None else {}

    def installed_tops(self) -> dict[str, bool]:
        """The top-level names looked up outside the project, and whether each is installed."""
        return dict(self._installed)

    def absolute(self, path: Path, relative: str) -> str | None:
        """The absolute module name of ``..pkg.mod`` imported from ``path``."""
        level = len(relative) - len(relative.lstrip("."))
        rest = relative[level:]
        if level == 0:
            return rest
        name = self.module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts) or (level - 1 == len(parts) and not rest):
            return None
        parts = parts[: len(parts) - (level - 1)]
        if not parts and not rest:
            return None
        return ".".join([*parts, rest] if rest else parts)

    # -- names -------------------------------------------------------------------------------
    def lookup(self, path: Path, name: str, line: int | None = None) -> tuple[Target, ...]:
        """What ``name`` may be in the module at ``path`` just before ``line`` (None: after
        the whole module ran). Several targets: bound differently in branches."""
        return self._lookup(path, name, line, ())

    def _lookup(self, path: Path, name: str, line: int | None, seen: _Seen) -> tuple[Target, ...]:
        key = (path, name, line)
        if key in self._lookups:
            return self._lookups[key]
        if key in seen:
            return (Unresolved(f"{name} is defined in a cycle ({self._cycle(seen, key)})"),)
        if len(seen) > MAX_DEPTH:
            return (Unresolved(f"{name}: too many levels of aliases and imports"),)
        result = self._lookup_uncached(path, name, line, (*seen, key))
        self._lookups[key] = result
        return result

    def _cycle(self, seen: _Seen, key: _Key) -> str:
        chain = [*seen[seen.index(key) :], key]
        return " -> ".join(f"{self.module_name(p)}.{n}" for p, n, _ in chain)

    def _lookup_uncached(
        self, path: Path, name: str, line: int | None, seen: _Seen
    ) -> tuple[Target, ...]:
        structure = self.structure(path)
        module = self.module_name(path)
        if structure is None:
            return (Unresolved(f"{module} cannot be parsed"),)
        candidates: list[Binding] = []
        for binding in structure.bindings:
            if line is not None and binding.line >= line:
                continue
            provides = binding.name == name
            if binding.kind == "star" and not name.startswith("_"):
                provides = self._star_provides(path, binding, name, seen)
            if provides:
                candidates = [*candidates, binding] if binding.conditional else [binding]
        if not candidates:
            if hasattr(builtins, name):
                return (canonical_external(f"builtins.{name}"),)
            return (Unresolved(f"{name} is not defined in {module}"),)
        results: list[Target] = []
        for binding in candidates:
            for target in self._from_binding(path, binding, name, seen):
                if target not in results:
                    results.append(target)
        return tuple(results)

    def _star_provides(self, path: Path, binding: Binding, name: str, seen: _Seen) -> bool:
        target = self._star_module(path, binding)
        if isinstance(target, ModuleRef) and target.path is not None:
            exports = self._exports_of(target.path, seen)
            return exports is None or name in exports
        if isinstance(target, External):
            obj = external_object(f"{target.dotted}.{name}")
            return obj is not None or not _inspectable(target.dotted)
        return False

    def _star_module(self, path: Path, binding: Binding) -> Target:
        absolute = self.absolute(path, binding.target)
        if absolute is None:
            return Unresolved(f"relative import {binding.target} goes beyond the top package")
        return self.module(absolute)

    def _exports_of(self, path: Path, seen: _Seen) -> frozenset[str] | None:
        """Names ``from module import *`` binds (None: unknown)."""
        if path in self._exports:
            return self._exports[path]
        self._exports[path] = frozenset()  # a star-import cycle adds nothing more
        structure = self.structure(path)
        if structure is None:
            result: frozenset[str] | None = None
        elif structure.all_names is not None:
            result = frozenset(structure.all_names)
        else:
            last = {b.name: b.kind for b in structure.bindings if b.kind != "star"}
            names = {name for name, kind in last.items() if kind != "deleted"}
            for binding in structure.bindings:
                if binding.kind != "star":
                    continue
                target = self._star_module(path, binding)
                if isinstance(target, ModuleRef) and target.path is not None:
                    names |= self._exports_of(target.path, seen) or set()
            result = frozenset(n for n in names if not n.startswith("_"))
        self._exports[path] = result
        return result

    def _from_binding(
        self, path: Path, binding: Binding, name: str, seen: _Seen
    ) -> tuple[Target, ...]:
        module = self.module_name(path)
        where = f"{module}:{binding.line}"
        if binding.kind == "class":
            return (ClassRef(path, binding.target, module),)
        if binding.kind == "def":
            return (FuncRef(path, binding.target, module),)
        if binding.kind == "value":
            return (Unresolved(f"{name} is a computed value ({where})"),)
        if binding.kind == "deleted":
            return (Unresolved(f"{name} is deleted ({where})"),)
        if binding.kind == "constant":
            return (Constant(binding.target, where),)
        if binding.kind == "listed":
            told = json.loads(binding.target)
            elements = tuple(told["elements"]) if "elements" in told else None
            return (Listed(elements, where, path, binding.name),)
        if binding.kind == "import":
            return (self.module(binding.target),)
        if binding.kind == "alias":
            return self._resolve_dotted(path, binding.target, binding.line, seen)
        if binding.kind in ("from", "star"):
            absolute = self.absolute(path, binding.target)
            if absolute is None:
                return (
                    Unresolved(
                        f"relative import from {binding.target} goes beyond the top-level "
                        f"package ({where})"
                    ),
                )
            attr = binding.attr if binding.kind == "from" else name
            return self._attribute(self.module(absolute), attr, seen)
        return (Unresolved(f"{name}: unknown binding ({where})"),)

    def _attribute(self, target: Target, attr: str, seen: _Seen) -> tuple[Target, ...]:
        if isinstance(target, Unresolved):
            return (target,)
        if isinstance(target, External):
            return (canonical_external(f"{target.dotted}.{attr}"),)
        if isinstance(target, ModuleRef):
            if target.path is not None:
                found = self._lookup(target.path, attr, None, seen)
                if not all(isinstance(t, Unresolved) for t in found):
                    return found
                submodule = self.module(f"{target.name}.{attr}")
                if isinstance(submodule, ModuleRef):
                    return (submodule,)
                return found
            return (self.module(f"{target.name}.{attr}"),)
        if isinstance(target, ClassRef):
            structure = self.structure(target.path)
            nested = f"{target.qualname}.{attr}"
            if structure is not None and nested in structure.classes:
                return (ClassRef(target.path, nested, target.module),)
            return (Unresolved(f"{target.dotted}.{attr} is not a class statement"),)
        if isinstance(target, (Constant, Listed)):
            return (Unresolved(f"{attr} is looked up on a constant ({target.where})"),)
        return (Unresolved(f"{attr} is looked up on a function"),)

    def resolve(self, path: Path, expression: str, line: int | None = None) -> tuple[Target, ...]:
        """Resolve a dotted expression (a base class as written) in a module."""
        return self._resolve_dotted(path, expression, line, ())

    def _resolve_dotted(
        self, path: Path, expression: str, line: int | None, seen: _Seen
    ) -> tuple[Target, ...]:
        # `Generic[T]` derives from `Generic`; a call or other computed base cannot be followed.
        base = expression.split("[", 1)[0].strip()
        parts = base.split(".")
        if not all(p.isidentifier() for p in parts):
            return (Unresolved(f"base {expression} is computed, not a name"),)
        targets = self._lookup(path, parts[0], line, seen)
        for attr in parts[1:]:
            following: list[Target] = []
            for target in targets:
                for result in self._attribute(target, attr, seen):
                    if result not in following:
                        following.append(result)
            targets = tuple(following)
        return targets

    def resolve_entry(self, entry: str) -> Target:
        """A ``base_classes`` entry ``package.module:Name`` to its definition."""
        module_name, _, qualname = entry.partition(":")
        targets: tuple[Target, ...] = (self.module(module_name),)
        for attr in qualname.split("."):
            targets = tuple(t for target in targets for t in self._attribute(target, attr, ()))
        if len(targets) != 1:
            return Unresolved(f"{entry} is bound differently in different branches")
        return targets[0]

    # -- classes -----------------------------------------------------------------------------
    def detail(self, ref: ClassRef) -> ClassDetail | None:
        structure = self.structure(ref.path)
        return structure.classes.get(ref.qualname) if structure is not None else None

    def bases(self, ref: ClassRef) -> list[tuple[str, tuple[Target, ...]]]:
        """Each base expression of a class with what it may resolve to."""
        detail = self.detail(ref)
        if detail is None:
            return []
        return [(base, self.resolve(ref.path, base, detail.line)) for base in detail.bases]

    def derives_from(self, ref: ClassRef, goals: Sequence[ClassRef | External]) -> Verdict:
        """Whether the class derives (at any depth) from any goal; None when that depends on
        something that cannot be resolved."""
        # An installed goal is also its definition, read from its source: the class itself
        # when a test module imports it (pytest collects it) or an installed class derives
        # from it.
        defined = {
            found[0]
            for goal in goals
            if isinstance(goal, External)
            and external_object(goal.dotted) is None
            and (found := self.installed_mro(goal.dotted))
        }
        return self._derives(ref, frozenset(goals) | defined, ())

    def _derives(
        self, target: Target, goals: frozenset[object], stack: tuple[ClassRef, ...]
    ) -> Verdict:
        if target in goals:
            return Verdict(True)
        if isinstance(target, Unresolved):
            return Verdict(None, target.reason)
        if isinstance(target, External):
            return self._external_derives(target, goals)
        if not isinstance(target, ClassRef):
            return Verdict(None, "a base is not a class")
        if target in stack:
            return Verdict(None, f"{target.dotted} inherits from itself")
        key = (target, goals)
        if key in self._verdicts:
            return self._verdicts[key]
        unknown: Verdict | None = None
        verdict = Verdict(False)
        for expression, alternatives in self.bases(target):
            results = [self._derives(t, goals, (*stack, target)) for t in alternatives]
            values = {r.value for r in results}
            if values == {True}:
                verdict = Verdict(True)
                break
            if values == {False}:
                continue
            if len(alternatives) > 1 and None not in values:
                reason = f"base {expression} of {target.dotted} is bound in several branches"
            else:
                reason = next(r.reason for r in results if r.value is None)
            unknown = unknown or Verdict(None, reason)
        else:
            verdict = unknown or Verdict(False)
        self._verdicts[key] = verdict
        return verdict

    def _external_derives(self, target: External, goals: frozenset[object]) -> Verdict:
        external_goals = [g for g in goals if isinstance(g, External)]
        if not external_goals:
            # Code outside the project never derives from the project's own classes.
            return Verdict(False)
        obj = external_object(target.dotted)
        if isinstance(obj, type):
            wanted = [external_object(g.dotted) for g in external_goals]
            return Verdict(any(isinstance(w, type) and issubclass(obj, w) for w in wanted))
        unknown = Verdict(
            None, f"{target.dotted} is outside the project and cannot be inspected statically"
        )
        order = self.installed_mro(target.dotted)
        if order is None:
            return unknown
        # An installed package's class, read from its source: a goal from the standard
        # library is among its bases as one, an installed goal as its definition.
        for goal in external_goals:
            if external_object(goal.dotted) is not None:
                if canonical_external(goal.dotted) in order:
                    return Verdict(True)
                continue
            defined = self.installed_mro(goal.dotted)
            if defined is None:
                return unknown
            if defined[0] in order:
                return Verdict(True)
        unknowable = [e for e in order if opaque(e)]
        if unknowable:
            return Verdict(
                None,
                f"{unknowable[0].dotted} is outside the project and cannot be inspected statically",
            )
        return Verdict(False)

    def mro(
        self, ref: ClassRef, *, installed: bool = False
    ) -> tuple[list[ClassRef | External], list[str]]:
        """An approximation of the method resolution order (C3 where consistent) and the
        problems met: bases that could not be resolved are left out and named. With
        ``installed``, the classes of installed packages are read from their source (see
        :meth:`installed_mro`) where they cannot be inspected."""
        cache = self._installed_order if installed else self._mros
        if ref not in cache:
            problems: list[str] = []
            order = self._mro(ref, (), problems, installed)
            cache[ref] = (order, problems)
        return cache[ref]

    def _mro(
        self,
        ref: ClassRef | External,
        stack: tuple[ClassRef, ...],
        problems: list[str],
        installed: bool = False,
    ) -> list[ClassRef | External]:
        if isinstance(ref, External):
            obj = external_object(ref.dotted)
            if isinstance(obj, type):
                return [External(f"{c.__module__}.{c.__qualname__}") for c in obj.__mro__]
            read = self.installed_mro(ref.dotted) if installed else None
            return read or [ref]
        if ref in stack:
            problems.append(f"{ref.dotted} inherits from itself")
            return []
        parents: list[ClassRef | External] = []
        for expression, alternatives in self.bases(ref):
            usable = [t for t in alternatives if isinstance(t, (ClassRef, External))]
            if not usable:
                reasons = [t.reason for t in alternatives if isinstance(t, Unresolved)]
                problems.append(
                    f"base {expression} of {ref.dotted}: "
                    + (reasons[0] if reasons else "not a class")
                )
                continue
            if len(alternatives) > 1:
                problems.append(f"base {expression} of {ref.dotted} is bound in several branches")
            parents.append(usable[0])
        sequences = [self._mro(p, (*stack, ref), problems, installed) for p in parents]
        # A base read from an installed package's source heads its own order as a definition.
        heads = [
            sequence[0] if installed and isinstance(p, External) and sequence else p
            for p, sequence in zip(parents, sequences, strict=True)
        ]
        merged = _c3([*sequences, heads])
        if merged is None:  # inconsistent: Python would refuse it; keep a stable order
            merged = []
            for sequence in sequences:
                merged.extend(c for c in sequence if c not in merged)
        return [ref, *merged]


def _c3(sequences: list[list[ClassRef | External]]) -> list[ClassRef | External] | None:
    sequences = [list(s) for s in sequences if s]
    result: list[ClassRef | External] = []
    while sequences:
        for sequence in sequences:
            head = sequence[0]
            if not any(head in s[1:] for s in sequences):
                break
        else:
            return None
        result.append(head)
        sequences = [[c for c in s if c != head] for s in sequences]
        sequences = [s for s in sequences if s]
    return result


@functools.lru_cache(maxsize=256)
def external_facts(dotted: str) -> tuple[bool | None, bool, bool, tuple[str, ...]]:
    """For an external class: (is a unittest.TestCase | None if unknown, has __init__,
    has __new__, test method names) as pytest would see them."""
    obj = external_object(dotted)
    if not isinstance(obj, type):
        return None, False, False, ()
    import unittest

    is_unittest = issubclass(obj, unittest.TestCase)
    has_init = getattr(obj, "__init__", None) not in (None, object.__init__)
    has_new = getattr(obj, "__new__", None) not in (None, object.__new__)
    names = tuple(n for n, v in inspect.getmembers(obj) if n.startswith("test") and callable(v))
    return is_unittest, has_init, has_new, names


def opaque(entry: ClassRef | External) -> bool:
    """A name outside the project that cannot be inspected (imported) to ask about it."""
    return isinstance(entry, External) and external_object(entry.dotted) is None


def _loaded_standard_object(module: str, qualname: str) -> object | None:
    """What a standard-library module this process has loaded already (``os``, ``sys``)
    binds to ``qualname``: the very object pytest's process imports. A computed value there
    (``os.environ``) is what its source cannot tell. Nothing is imported to find out."""
    loaded = sys.modules.get(module)
    if loaded is None or module.partition(".")[0] not in sys.stdlib_module_names:
        return None
    obj: object = loaded
    for attr in qualname.split("."):
        obj = getattr(obj, attr, None)
        if obj is None:
            return None
    return obj


def standard_object(dotted: str) -> object | None:
    """The object behind a name of an allowlisted or already loaded standard-library module
    (``enum.Enum``, ``os.sep``), never importing anything new; else None."""
    obj = external_object(dotted)
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        if obj is not None:
            break
        obj = _loaded_standard_object(".".join(parts[:cut]), ".".join(parts[cut:]))
    return obj


def outside_not_a_class(entry: str) -> str | None:
    """For a ``module:Name`` entry outside the project: what it names when that is certainly
    not a class (``"a function"``), else None (a class, or nothing can tell). Read from the
    installed module's source on ``sys.path`` the way project modules are read, never
    imported (an allowlisted or already loaded standard-library module is asked directly);
    an extension module, a computed value elsewhere or a name bound in branches cannot
    tell."""
    module, _, qualname = entry.partition(":")
    obj = standard_object(f"{module}.{qualname}")
    if obj is not None:
        return None if isinstance(obj, type) else f"a {type(obj).__name__}"
    on_sys_path = [Path(p) for p in sys.path if p and os.path.isdir(p)]
    target = _source_reader(on_sys_path).resolve_entry(entry)
    if isinstance(target, FuncRef):
        return "a function"
    if isinstance(target, ModuleRef):
        return "a module"
    return None


def derives_from_unittest(entry: str, roots: Sequence[Path]) -> bool | None:
    """Whether the ``module:Name`` class derives from ``unittest.TestCase``, read from the
    source of the project's modules (under ``roots``) and of installed packages, never
    imported; None when the source cannot tell."""
    resolver = _source_reader(roots)
    target = resolver.resolve_entry(entry)
    if not isinstance(target, (ClassRef, External)):
        return None
    goal = canonical_external("unittest.TestCase")
    return resolver._derives(target, frozenset({goal}), ()).value


def _source_reader(roots: Sequence[Path]) -> Resolver:
    """A resolver whose modules are those under ``roots`` (others are outside), reading
    each one's source once."""
    facts: dict[Path, FileFacts | None] = {}

    def facts_for(path: Path) -> FileFacts | None:
        if path not in facts:
            try:
                facts[path] = scan(path.read_bytes(), path.name, full=True)
            except OSError:
                facts[path] = None
        return facts[path]

    return Resolver(ModuleIndex(roots), facts_for, lambda path: path.stem)
