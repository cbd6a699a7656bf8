"""Run-time recording for team-defined sources (``[[tool.ssot.sources]]`` with ``runtime = true``).

Pure core (never imports pytest). While a :class:`SourceGuard` is entered, every call of a
forbidden callable is judged like SSOT102 judges an environment access: the caller frames are
walked with the environment guard's :class:`~pytest_ssot.guard.Classifier`, and the first
caller outside the interception decides. Test code is a violation unless it is one of the
source's ``modules``; product code, the standard library and installed packages are not.

How it intercepts, and why that way:

- **Python functions** (module-level functions, methods given as ``pkg.mod.Class.method``,
  static and class methods) keep their identity: the guard swaps the function's ``__code__``
  for a small trampoline that checks the caller and then runs a copy of the original
  function. Patching the module attribute instead would miss every alias bound before the
  session (``from chat.ws import connect as c`` in a test module or helper, a bound method, a
  registry dict, a ``functools.partial``) and would make ``chat.ws.connect is c`` false while
  tests run; with the code swap every reference reaches the check. Coroutine and generator
  functions get a trampoline of the same kind, so ``inspect.iscoroutinefunction`` still holds;
  their check runs when the body starts (the first ``await`` or ``next``), attributed to the
  frame that starts it. While installed, ``inspect.signature`` reports the original signature
  (``__signature__``), but ``inspect.getsource`` of the function does not find its source.
- **Classes** keep their identity too (``isinstance`` works): instantiation is checked by an
  ``__init__`` set on that class only, which then runs the class's own ``__init__`` or the
  inherited one. Restoring puts the own ``__init__`` back, or deletes ours when there was none.
- A method named through a subclass but defined on a base (``pkg.mod.Sub.send`` inherited
  from ``Base``) is the base's function: only calls whose ``self`` (or ``cls``) is a ``Sub``
  count.
- What cannot be intercepted this way is reported by :meth:`SourceGuard.install` as
  :class:`Unrecordable` and left to the static rule: modules, C functions and methods,
  built-in (immutable) classes, module-level bound methods, async generator functions,
  closures over more than :data:`MAX_CELLS` variables, other callables (partials, instances)
  and names that do not import. A coroutine started by the event loop rather than awaited by
  test code (``asyncio.run(f())``, a task) is started by the standard library, so it is not
  recorded either; a class whose metaclass builds instances without ``__init__`` neither.

Calls made for test code by the standard library or another package (a ``threading.Thread``
target, an executor, a framework callback) are decided by that caller, as for SSOT102, so
they are not recorded. Interceptors are installed once per session (:meth:`install`) and shared
by every guard that forbids the same object; while no guard is entered a call costs two small
extra frames and a global load, and the last holder out restores the original.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import sys
import threading
import types
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any

from pytest_ssot.config import SourceOfTruth
from pytest_ssot.errors import SourceAccessError
from pytest_ssot.guard import (
    OTHER,
    TRANSPARENT,
    Classifier,
    deciding_frame,
    frame_qualname,
    remove_last,
)
from pytest_ssot.paths import relpath

# Bound once: a test may delete or replace sys._getframe (attrs' own suite does), and the
# guard must still find its callers, or every later test would fail.
_getframe = sys._getframe

__all__ = [
    "Call",
    "SourceGuard",
    "Target",
    "Unrecordable",
    "active_source_guard",
    "installed",
    "resolve",
]


@dataclasses.dataclass(frozen=True)
class Call:
    """One call of a forbidden API made by test code."""

    code: str  # the source's code (SSOT2xx)
    api: str  # the forbid entry as configured: ``chat.ws.connect``
    filename: str  # the calling frame's ``co_filename``
    line: int
    qualname: str  # enclosing function, dotted; "" at module level


@dataclasses.dataclass(frozen=True)
class Unrecordable:
    """A forbid entry of a ``runtime = true`` source that cannot be intercepted."""

    code: str
    name: str
    api: str
    reason: str

    @property
    def message(self) -> str:
        return (
            f"{self.code} ({self.name}): {self.api} cannot be recorded at run time "
            f"({self.reason}); the static rule still applies"
        )


@dataclasses.dataclass(frozen=True)
class Target:
    """What to intercept for one forbid entry."""

    obj: Any  # a Python function (code swap) or a class (``__init__``)
    receiver: type | None = None  # an inherited method: only calls on this class count


def resolve(api: str) -> Target | str:
    """Import the longest importable module prefix of ``api`` and look up the rest; the
    target to intercept, or why it cannot be intercepted. Never raises for a bad entry."""
    parts = api.split(".")
    try:
        obj: Any = importlib.import_module(parts[0])
    except (Exception, SystemExit) as exc:
        return _import_problem(parts[0], exc)
    owner: Any = None
    path = parts[0]
    for part in parts[1:]:
        path = f"{path}.{part}"
        owner = obj
        try:
            obj = getattr(owner, part)
            continue
        except Exception as exc:
            if not isinstance(owner, types.ModuleType):
                return f"{type(exc).__name__}: {exc}"
        try:
            obj = importlib.import_module(path)
        except (Exception, SystemExit) as exc:
            return _import_problem(path, exc)
    if isinstance(obj, types.ModuleType):
        return "it is a module"
    if isinstance(obj, type):
        return Target(obj)
    receiver: type | None = None
    defining = next((k for k in getattr(owner, "__mro__", ()) if parts[-1] in vars(k)), None)
    if isinstance(owner, type) and defining is not None:
        # The raw class attribute, not what getattr binds: a classmethod's function.
        raw = vars(defining)[parts[-1]]
        obj = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        if defining is not owner and not isinstance(raw, staticmethod):
            receiver = owner
    if isinstance(obj, types.FunctionType):
        if inspect.isasyncgenfunction(obj):
            return "an async generator function"
        if len(obj.__closure__ or ()) > MAX_CELLS:
            cells = len(obj.__closure__ or ())
            return f"a closure over {cells} variables; up to {MAX_CELLS} can be recorded"
        return Target(obj, receiver)
    if isinstance(obj, types.MethodType):
        return "a bound method"
    if isinstance(
        obj,
        (types.BuiltinFunctionType, types.MethodDescriptorType, types.ClassMethodDescriptorType),
    ):
        return "a built-in (C) function"
    return "not a Python function or class" if callable(obj) else "not callable"


def _import_problem(path: str, exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name == path:
        return f"no module or attribute {path}"
    return f"importing {path} failed: {type(exc).__name__}: {exc}"


@dataclasses.dataclass(frozen=True)
class _Rule:
    """One forbid entry of one source, as a guard checks it on an intercepted call."""

    code: str
    api: str
    modules: tuple[str, ...]
    receiver: type | None


_lock = threading.RLock()
_patches: dict[int, _Patch] = {}  # id(target) -> its interceptor (which keeps the target alive)
_active: list[SourceGuard] = []
# The innermost entered guard; read without the lock on the hot path (a plain global load).
_current: SourceGuard | None = None


class SourceGuard:
    """Records calls of the forbidden APIs of ``sources`` while entered (``with guard:``).

    ``verdict`` is asked once per (code, file, line) between two :meth:`reset` calls; it
    returns ``None`` to let calls from that line through, or the fix to name, in which case
    every such call raises :class:`~pytest_ssot.errors.SourceAccessError` before it happens
    (strict mode). Errors raised are kept in :attr:`raised`, so the caller can tell whether
    test code swallowed one.
    """

    def __init__(
        self,
        classifier: Classifier,
        sources: Iterable[SourceOfTruth],
        verdict: Callable[[Call], str | None],
    ) -> None:
        self.classifier = classifier
        self.sources = tuple(sources)
        self.verdict = verdict
        self.raised: list[SourceAccessError] = []
        self._sites: dict[tuple[str, str, int], str | None] = {}
        self._allowed: dict[tuple[str, str], bool] = {}  # (code, file): one of its modules
        self._held: list[_Patch] = []
        # While entered, whether calls are judged (see EnvGuard.checking).
        self.checking = True
        self._installed = False
        # Set while this thread judges a call: the bookkeeping may call a forbidden API.
        self._busy = threading.local()
        # This module's frames are the interception itself.
        classifier.kinds[_code_file(_Patch.check)] = TRANSPARENT

    def install(self) -> list[Unrecordable]:
        """Put the interceptors in place until :meth:`close` (idempotent); what cannot be
        intercepted is returned, once per entry."""
        problems: list[Unrecordable] = []
        with _lock:
            if self._installed:
                return problems
            self._installed = True
            for source in self.sources:
                for api in source.forbid:
                    held = _intercept(api)
                    if isinstance(held, str):
                        problems.append(Unrecordable(source.code, source.name, api, held))
                        continue
                    patch, receiver = held
                    rule = _Rule(source.code, api, source.modules, receiver)
                    patch.rules.setdefault(self, []).append(rule)
                    if patch not in self._held:
                        self._held.append(patch)
        return problems

    def reset(self) -> None:
        """Forget the verdicts and raised errors (a new test starts)."""
        # Twice per test, and almost always nothing to forget.
        if self._sites:
            self._sites = {}
        if self.raised:
            self.raised = []

    def __enter__(self) -> SourceGuard:
        global _current
        with _lock:
            _active.append(self)
            _current = self
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _current
        with _lock:
            remove_last(_active, self)
            _current = _active[-1] if _active else None

    def close(self) -> None:
        """Leave the guard however often it was entered and give back its interceptors; the
        originals are restored when no other guard holds them (every path: call it from a
        ``finally`` or a cleanup)."""
        global _current
        with _lock:
            _active[:] = [guard for guard in _active if guard is not self]
            _current = _active[-1] if _active else None
            for patch in reversed(self._held):
                patch.rules.pop(self, None)
                if not patch.rules:
                    _patches.pop(id(patch.target), None)
                    patch.restore()
            self._held.clear()
            self._installed = False

    def _check(self, frame: FrameType, rules: list[_Rule], args: tuple[Any, ...]) -> None:
        """Judge one intercepted call whose nearest caller is ``frame``."""
        __tracebackhide__ = True
        busy = self._busy
        if getattr(busy, "on", False):
            return
        busy.on = True
        error: SourceAccessError | None = None
        try:
            caller = deciding_frame(self.classifier, frame)
            if caller is None:
                return
            filename, line = caller.f_code.co_filename, caller.f_lineno
            for rule in rules:
                if rule.receiver is not None and not _receives(rule.receiver, args):
                    continue
                if self._sanctioned(rule, caller):
                    continue
                site = (rule.code, filename, line)
                if site in self._sites:
                    fix = self._sites[site]
                else:
                    call = Call(rule.code, rule.api, filename, line, frame_qualname(caller))
                    fix = self._sites[site] = self.verdict(call)
                if fix is not None and error is None:
                    where = f"{relpath(filename, self.classifier.root)}:{line}"
                    error = SourceAccessError(rule.code, rule.api, where, fix)
        finally:
            busy.on = False
        if error is not None:
            self.raised.append(error)
            raise error

    def _sanctioned(self, rule: _Rule, caller: FrameType) -> bool:
        key = (rule.code, caller.f_code.co_filename)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self._allowed[key] = self.classifier.belongs_to(
                key[1], caller.f_globals.get("__name__"), rule.modules
            )
        return allowed


def _receives(receiver: type, args: tuple[Any, ...]) -> bool:
    if not args:
        return False
    first = args[0]
    return isinstance(first, receiver) or (isinstance(first, type) and issubclass(first, receiver))


def _code_file(function: Any) -> str:
    return str(function.__code__.co_filename)


# -- the interceptors ------------------------------------------------------------------------
class _Patch:
    """The interceptor of one target, shared by every guard that forbids it."""

    target: Any

    def __init__(self) -> None:
        self.rules: dict[SourceGuard, list[_Rule]] = {}

    def apply(self) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError

    def check(self, guard: SourceGuard, frame: FrameType | None, args: tuple[Any, ...]) -> None:
        """Judge a call while ``guard`` (the trampoline's one read of the current guard)
        checks: one dict lookup when product code (or pytest, or the standard library) is
        the caller."""
        __tracebackhide__ = True
        if frame is None:
            return
        if guard.classifier.kinds.get(frame.f_code.co_filename) == OTHER:
            return
        rules = self.rules.get(guard)
        if rules:
            guard._check(frame, rules, args)


_TRAMPOLINE_FILE = "<pytest-ssot: recorded call>"
MAX_CELLS = 3


def _trampolines() -> dict[tuple[str, int], types.CodeType]:
    """Code objects ``(*args, _ssot_call_, **kwargs)`` that hand a call to its patch, by
    flavour and number of free variables.

    A function's ``__code__`` can only be swapped for code with as many free variables as the
    function has closure cells (decorated functions, ``super()`` in methods), so each one reads
    that many enclosing names in a branch that never runs. Written out rather than generated:
    the package never compiles text. Their file name starts with ``<``: the classifier sees
    them as part of the interception, coverage tools ignore them.
    """
    a = b = c = None

    def plain0(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _ssot_call_(args, kwargs)

    def plain1(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _ssot_call_(args, kwargs) if _ssot_call_ else a

    def plain2(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _ssot_call_(args, kwargs) if _ssot_call_ else (a, b)

    def plain3(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return _ssot_call_(args, kwargs) if _ssot_call_ else (a, b, c)

    async def coroutine0(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return await _ssot_call_(args, kwargs)

    async def coroutine1(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return await _ssot_call_(args, kwargs) if _ssot_call_ else a

    async def coroutine2(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return await _ssot_call_(args, kwargs) if _ssot_call_ else (a, b)

    async def coroutine3(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return await _ssot_call_(args, kwargs) if _ssot_call_ else (a, b, c)

    def generator0(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return (yield from _ssot_call_(args, kwargs))

    def generator1(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return (yield from _ssot_call_(args, kwargs)) if _ssot_call_ else a

    def generator2(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return (yield from _ssot_call_(args, kwargs)) if _ssot_call_ else (a, b)

    def generator3(*args: Any, _ssot_call_: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return (yield from _ssot_call_(args, kwargs)) if _ssot_call_ else (a, b, c)

    functions: dict[str, tuple[Callable[..., Any], ...]] = {
        "plain": (plain0, plain1, plain2, plain3),
        "coroutine": (coroutine0, coroutine1, coroutine2, coroutine3),
        "generator": (generator0, generator1, generator2, generator3),
    }
    return {
        (flavour, cells): function.__code__.replace(co_filename=_TRAMPOLINE_FILE)
        for flavour, row in functions.items()
        for cells, function in enumerate(row)
    }


_TRAMPOLINES = _trampolines()


class _FunctionPatch(_Patch):
    """Swaps a Python function's code for a trampoline; the original runs as a copy."""

    def __init__(self, function: types.FunctionType) -> None:
        super().__init__()
        self.target = function
        self.code = function.__code__
        self.defaults = function.__defaults__
        self.kwdefaults = function.__kwdefaults__
        self.had_signature = "__signature__" in function.__dict__
        original = types.FunctionType(
            self.code, function.__globals__, function.__name__, self.defaults, function.__closure__
        )
        original.__kwdefaults__ = self.kwdefaults
        original.__qualname__ = function.__qualname__
        self.original = original
        # Whether the function still runs our trampoline: this very dict is its __kwdefaults__.
        self._mine: dict[str, Any] = {"_ssot_call_": self}

    def apply(self) -> None:
        function, code = self.target, self.code
        if inspect.iscoroutinefunction(function):
            flavour = "coroutine"
        elif inspect.isgeneratorfunction(function):
            flavour = "generator"
        else:
            flavour = "plain"
        trampoline = _TRAMPOLINES[flavour, len(function.__closure__ or ())]
        # Generator-based coroutines (@types.coroutine) stay awaitable.
        flags = trampoline.co_flags | (code.co_flags & inspect.CO_ITERABLE_COROUTINE)
        if sys.version_info >= (3, 11):
            trampoline = trampoline.replace(
                co_flags=flags, co_name=code.co_name, co_qualname=code.co_qualname
            )
        else:  # pragma: no cover - 3.10
            trampoline = trampoline.replace(co_flags=flags, co_name=code.co_name)
        try:
            signature: inspect.Signature | None = inspect.signature(function)
        except (TypeError, ValueError):
            signature = None
        function.__code__ = trampoline
        function.__defaults__ = None
        function.__kwdefaults__ = self._mine
        if signature is not None and not self.had_signature:
            function.__signature__ = signature

    def restore(self) -> None:
        function = self.target
        if function.__kwdefaults__ is not self._mine:
            return  # replaced after us: what is there now is not ours to undo
        function.__code__ = self.code
        function.__defaults__ = self.defaults
        function.__kwdefaults__ = self.kwdefaults
        if not self.had_signature:
            function.__dict__.pop("__signature__", None)

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        __tracebackhide__ = True
        guard = _current  # read once: another thread may leave it
        if guard is not None and guard.checking:
            # Our caller is the trampoline; its caller (or resumer) is the one to judge.
            self.check(guard, _getframe(1).f_back, args)
        return self.original(*args, **kwargs)


_MISSING: Any = object()


class _InitPatch(_Patch):
    """Checks instantiation through an ``__init__`` set on the class itself."""

    def __init__(self, cls: type) -> None:
        super().__init__()
        self.target = cls
        self.own: Any = cls.__dict__.get("__init__", _MISSING)
        self.wrapper = self._wrapper()

    def _wrapper(self) -> Callable[..., None]:
        patch, cls, own = self, self.target, self.own

        def __init__(instance: Any, *args: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True
            guard = _current  # read once: another thread may leave it
            if guard is not None and guard.checking:
                patch.check(guard, _getframe(1), (instance,))
            if own is not _MISSING:
                own.__get__(instance, type(instance))(*args, **kwargs)
            else:
                _inherited_init(cls, instance, args, kwargs)

        if own is not _MISSING:
            functools.update_wrapper(__init__, own)
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        return __init__

    def apply(self) -> None:
        setattr(self.target, "__init__", self.wrapper)  # noqa: B010 - TypeError: immutable type

    def restore(self) -> None:
        cls = self.target
        if cls.__dict__.get("__init__") is not self.wrapper:
            return
        if self.own is _MISSING:
            delattr(cls, "__init__")
        else:
            setattr(cls, "__init__", self.own)  # noqa: B010


def _inherited_init(cls: type, instance: Any, args: tuple[Any, ...], kwargs: Any) -> None:
    """What instantiation did before the class had an ``__init__`` of its own."""
    mro = type(instance).__mro__
    owner = next((k for k in mro[mro.index(cls) + 1 :] if "__init__" in vars(k)), object)
    new: object = type(instance).__new__
    if owner is not object:
        vars(owner)["__init__"].__get__(instance, type(instance))(*args, **kwargs)
    elif (args or kwargs) and new is object.__new__:
        # object.__new__ let the arguments through because the class now has an __init__.
        raise TypeError(f"{type(instance).__name__}() takes no arguments")
    # Otherwise object.__init__ has nothing to do, and a custom __new__ took the arguments.


def _intercept(api: str) -> tuple[_Patch, type | None] | str:
    """The interceptor of a forbid entry and the class its calls must be made on (an
    inherited method); or why the entry cannot be intercepted."""
    target = resolve(api)
    if isinstance(target, str):
        return target
    patch = _hold(target.obj)
    return patch if isinstance(patch, str) else (patch, target.receiver)


def _hold(obj: Any) -> _Patch | str:
    """The shared interceptor of ``obj``, applied on first use; or why it cannot be."""
    patch = _patches.get(id(obj))
    if patch is not None:
        return patch
    try:
        patch = _InitPatch(obj) if isinstance(obj, type) else _FunctionPatch(obj)
        patch.apply()
    except (TypeError, ValueError, AttributeError) as exc:
        if isinstance(obj, type):
            return f"a built-in (immutable) class: {exc}"
        return f"cannot be patched: {exc}"
    _patches[id(obj)] = patch
    return patch


def installed() -> bool:
    """Whether any interceptor is in place (tests use it to prove nothing leaks)."""
    return bool(_patches)


def active_source_guard() -> SourceGuard | None:
    """The innermost entered guard, if any, while it checks calls."""
    return _current if _current is not None and _current.checking else None
