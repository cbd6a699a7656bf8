"""The runtime environment guard behind SSOT102: who touched the process environment?

Pure core (never imports pytest). While an :class:`EnvGuard` is entered (``with guard:``),
every read and write of the process environment goes through a check that walks the caller
frames, skips the environment API itself (``os``, the ``collections.abc`` mapping machinery,
this module) and lets the first real caller decide: test code is a violation; anything else
(product code, ``env_modules``, the standard library doing its own work such as
``subprocess`` looking up ``PATH``, pytest, other installed packages) is not. Classification
is cached per file, so a check costs a dict lookup per frame and product code reading its
settings while tests run stays cheap.

How it intercepts, and why that way:

- ``os.environ`` keeps its identity: while installed, it and ``os.environb`` are instances of
  a subclass of ``os._Environ`` whose primitive methods (``__getitem__``, ``__setitem__``,
  ``__delitem__``, ``__iter__``, ``__len__``, ``__repr__``) are the interceptors (their
  ``__class__`` is swapped, and swapped back). Every other mapping method (``get``, ``in``,
  ``copy``, ``pop``, ``update``, ``items``, ``|`` ...) and ``os.getenv`` go through those
  primitives, so aliases bound before the guard (``from os import environ, getenv``) are
  covered too. The interceptors call ``os._Environ``'s methods as they are at that moment, so
  a test that patches one still gets its patch.
- ``os._Environ`` itself is never modified. Patching a class's methods uses up one of its
  type versions each time, and CPython 3.13 stops giving a class new versions after 1,000:
  from then on its attribute lookups are uncached, and 3.13.0 can keep calling a replaced
  ``__getitem__`` from a stale specialization cache (after some 500 sessions in one process,
  as in a suite of in-process pytester runs), so accesses would pass unseen.
- ``os.putenv`` and ``os.unsetenv`` are C functions that bypass ``os.environ``; the guard swaps
  the module attributes. An alias bound to the C function before the guard (``from os
  import putenv``) cannot be intercepted and is left to the static rule.
- Installing and activating are separate: :meth:`EnvGuard.install` puts the interceptors in
  place for a session, and an interceptor with no entered guard just calls the original. A
  guard entered for a whole session can also be paused and resumed by setting
  :attr:`EnvGuard.checking`, an attribute store per test phase, where entering and leaving
  would be method calls. Entering a guard that is not installed installs it for the
  duration. The last holder out puts everything back, on every path.
"""

from __future__ import annotations

import _collections_abc
import collections
import dataclasses
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, TypeVar

from pytest_ssot.errors import EnvAccessError
from pytest_ssot.paths import any_glob_match, in_modules, relpath

# Bound once: a test may delete or replace sys._getframe (attrs' own suite does), and the
# guard must still find its callers, or every later test would fail.
_getframe = sys._getframe

__all__ = [
    "Access",
    "Classifier",
    "EnvGuard",
    "active_guard",
    "deciding_frame",
    "frame_qualname",
    "installed",
    "remove_last",
    "use_instead",
]

_T = TypeVar("_T")

# What a frame is to the guard: part of the environment API (keep walking), test code (a
# violation), or anything else (not a violation; stop walking).
TRANSPARENT, TEST, OTHER = 0, 1, 2

_ENV_CLASS: Any = os._Environ
_PRIMITIVES = ("__getitem__", "__setitem__", "__delitem__", "__iter__", "__len__", "__repr__")
_ORIGINALS: dict[str, Any] = {name: _ENV_CLASS.__dict__[name] for name in _PRIMITIVES}
_ORIG_PUTENV: Callable[..., None] = os.putenv
_ORIG_UNSETENV: Callable[..., None] = os.unsetenv

_lock = threading.RLock()
# One entry per install() and per entered guard: the interceptors stay while any is held.
_holders: list[EnvGuard] = []
_active: list[EnvGuard] = []
# The innermost entered guard; read without the lock on the hot path (a plain global load).
_current: EnvGuard | None = None


def _code_file(function: Any) -> str:
    return str(function.__code__.co_filename)


# Files of the environment API itself: frozen (``<frozen os>``) or real, whatever this
# interpreter uses. ``collections`` is here for ``ChainMap``/``UserDict`` over ``os.environ``.
_API_FILES = frozenset(
    {
        _code_file(os.getenv),
        _code_file(_collections_abc.Mapping.get),
        _code_file(collections.ChainMap.__getitem__),
    }
)
# os.environ's own __setitem__/__delitem__ call putenv/unsetenv: already judged once.
_SETITEM_CODE = _ORIGINALS["__setitem__"].__code__
_DELITEM_CODE = _ORIGINALS["__delitem__"].__code__
# The interceptors repeat these two methods' bodies while they check (see _setitem_guarded),
# only if they are the ones this module was written against (as in Python 3.10 to 3.13):
# an interpreter whose methods differ keeps calling its own.
_INLINE_SETITEM = _SETITEM_CODE.co_names == ("encodekey", "encodevalue", "putenv", "_data")
_INLINE_DELITEM = _DELITEM_CODE.co_names == ("encodekey", "unsetenv", "_data", "KeyError")


@dataclasses.dataclass(frozen=True)
class Access:
    """One access to the process environment made by test code."""

    filename: str  # the accessing frame's ``co_filename``
    line: int
    qualname: str  # enclosing function, dotted (``TestX.test_y``); "" at module level
    action: str  # "read" or "write"
    what: str  # the access as the test wrote it, best effort: ``os.environ.get('X')``


def use_instead(env_modules: tuple[str, ...]) -> str:
    """The fix to name in messages: the configured isolated-environment module(s)."""
    if env_modules:
        return f"use the isolated-environment API ({', '.join(env_modules)}) instead"
    return "use the team's isolated-environment API instead"


class Classifier:
    """Decides from plain data whether a source file is test code (SPEC: "every collected test
    module, every conftest.py, and every other module inside the directories that hold them,
    never an env_modules or mock_modules module").

    ``trees`` are directories whose whole subtree is test code; ``dirs`` are directories whose
    own files only are test code (the rootdir: a ``conftest.py`` there must not turn the
    product code below it into test code). Files of the standard library and of installed
    packages are never test code, nor are ``exempt_modules`` (by module name or path) and
    files matching ``exclude``. Answers are cached per file name in :attr:`kinds`.
    """

    def __init__(
        self,
        *,
        root: str,
        trees: tuple[str, ...] = (),
        dirs: tuple[str, ...] = (),
        exempt_modules: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
    ) -> None:
        self.root = Path(root)
        self._trees = tuple(sorted({_norm(t) for t in trees}))
        self._dirs = frozenset(_norm(d) for d in dirs)
        self._exempt = exempt_modules
        self._exclude = exclude
        self._system = _system_prefixes()
        # Read directly by the hot path.
        self.kinds: dict[str, int] = dict.fromkeys(_API_FILES, TRANSPARENT)
        self.kinds[_code_file(_check_frame)] = TRANSPARENT

    def classify(self, frame: FrameType) -> int:
        """The kind of the frame's file (cached); only called on a cache miss."""
        filename = frame.f_code.co_filename
        kind = self._kind(filename, frame.f_globals.get("__name__"))
        self.kinds[filename] = kind
        return kind

    def is_test_file(self, filename: str, module: str | None = None) -> bool:
        return self._kind(filename, module) == TEST

    def _kind(self, filename: str, module: object) -> int:
        if filename.startswith("<"):
            # Frozen modules are the standard library; other pseudo-files are code compiled
            # at run time (exec, generated methods): the caller that made it decides.
            return OTHER if filename.startswith("<frozen") else TRANSPARENT
        path = _norm(filename)
        if path.startswith(self._system) or not self._inside(path):
            return OTHER
        if self.belongs_to(path, module, self._exempt):
            return OTHER
        if self._exclude and any_glob_match(relpath(path, self.root), self._exclude):
            return OTHER
        return TEST

    def belongs_to(self, filename: str, module: object, modules: tuple[str, ...]) -> bool:
        """Whether a file is one of ``modules`` (or inside one), by its module name or, for
        code imported under another name, by its path."""
        if not modules:
            return False
        if isinstance(module, str) and in_modules(module, modules):
            return True
        return _sanctioned(relpath(_norm(filename), self.root), modules)

    def _inside(self, path: str) -> bool:
        directory = os.path.dirname(path)
        if directory in self._dirs:
            return True
        return any(directory == t or directory.startswith(t + os.sep) for t in self._trees)


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _system_prefixes() -> tuple[str, ...]:
    """Directories of the standard library and installed packages (never test code)."""
    import sysconfig

    prefixes: set[str] = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            prefixes.add(_norm(paths[key]))
    for entry in sys.path:
        if entry and os.path.basename(entry) in ("site-packages", "dist-packages"):
            prefixes.add(_norm(entry))
    return tuple(sorted(p + os.sep for p in prefixes))


def _sanctioned(rel: str, modules: tuple[str, ...]) -> bool:
    """Whether a file is one of ``modules`` judged by its path (``src/fw/env.py`` is
    ``fw.env``), for code imported under another name than the configured one."""
    if not modules:
        return False
    dotted = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return any(
        dotted == m or dotted.endswith("." + m) or f".{m}." in f".{dotted}." for m in modules
    )


Verdict = Callable[[Access], "str | None"]


class EnvGuard:
    """Intercepts process-environment access while entered (``with guard: ...``).

    ``verdict`` is asked once per access site (file, line) between two :meth:`reset` calls;
    it returns ``None`` to let accesses from that site through, or the fix to name, in which
    case every access from that site raises :class:`~pytest_ssot.errors.EnvAccessError`
    before it happens (strict mode). Errors raised are kept in :attr:`raised`, so the caller
    can tell whether test code swallowed one.
    """

    def __init__(self, classifier: Classifier, verdict: Verdict) -> None:
        self.classifier = classifier
        self.verdict = verdict
        self.raised: list[EnvAccessError] = []
        self._sites: dict[tuple[str, int], str | None] = {}
        # While entered, whether accesses are judged; False lets them through, as if the
        # guard were not entered (without touching the stack of entered guards).
        self.checking = True
        self._installed = False
        self._entries: list[bool] = []  # per entry: whether it holds the interceptors

    def reset(self) -> None:
        """Forget the verdicts and raised errors (a new test starts)."""
        # Twice per test, and almost always nothing to forget.
        if self._sites:
            self._sites = {}
        if self.raised:
            self.raised = []

    def trim_tracebacks(self) -> None:
        """End the traceback of each error in :attr:`raised` at its access site (in place,
        so every holder of the traceback sees it; again is harmless).

        The frames after that site are the environment API's and this module's: pytest's
        long tracebacks show their arguments, and ``self`` there is ``os.environ`` itself,
        every variable of the process (tokens, passwords) printed into a CI log. The access
        site is the last frame that is not part of the API: the guard walked past exactly
        those to find it.
        """
        kinds = self.classifier.kinds
        for error in self.raised:
            site = None
            entry = error.__traceback__
            while entry is not None:
                if kinds.get(entry.tb_frame.f_code.co_filename) != TRANSPARENT:
                    site = entry
                entry = entry.tb_next
            if site is not None:
                site.tb_next = None

    def install(self) -> None:
        """Put the interceptors in place until :meth:`uninstall` (idempotent)."""
        with _lock:
            if not self._installed:
                self._installed = True
                _hold(self)

    def uninstall(self) -> None:
        with _lock:
            if self._installed:
                self._installed = False
                _release(self)

    def __enter__(self) -> EnvGuard:
        global _current
        with _lock:
            # Installed: entering only makes this the guard the interceptors ask (it judges
            # while ``checking``). Otherwise hold the interceptors for this entry only.
            temporary = not self._installed
            if temporary:
                _hold(self)
            self._entries.append(temporary)
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
            if _active and _active[-1] is self:
                _active.pop()
            else:
                remove_last(_active, self)
            _current = _active[-1] if _active else None
            if self._entries and self._entries.pop():
                _release(self)

    def close(self) -> None:
        """Leave and uninstall the guard however often it was entered (abrupt ends)."""
        global _current
        with _lock:
            self._installed = False
            self._entries.clear()
            _active[:] = [guard for guard in _active if guard is not self]
            _current = _active[-1] if _active else None
            _holders[:] = [guard for guard in _holders if guard is not self]
            if not _holders:
                _restore()

    def _hit(self, frame: FrameType, start: FrameType, primitive: str, env: Any, key: Any) -> None:
        __tracebackhide__ = True
        site = (frame.f_code.co_filename, frame.f_lineno)
        what = ""
        try:
            fix = self._sites[site]
        except KeyError:
            what = _describe(start, frame, primitive, env, key)
            access = Access(
                filename=site[0],
                line=site[1],
                qualname=frame_qualname(frame),
                action="read" if primitive in _READS else "write",
                what=what,
            )
            fix = self.verdict(access)
            self._sites[site] = fix
        if fix is not None:
            where = f"{relpath(site[0], self.classifier.root)}:{site[1]}"
            error = EnvAccessError(what or _describe(start, frame, primitive, env, key), where, fix)
            self.raised.append(error)
            raise error


def remove_last(entries: list[_T], item: _T) -> None:
    """Remove the last occurrence of ``item`` (by identity): a guard leaving the stack of
    entered guards, or giving back one hold of the interceptors."""
    for index in range(len(entries) - 1, -1, -1):
        if entries[index] is item:
            del entries[index]
            return


def _hold(guard: EnvGuard) -> None:
    if not _holders:
        _install()
    _holders.append(guard)


def _release(guard: EnvGuard) -> None:
    remove_last(_holders, guard)
    if not _holders:
        _restore()


def deciding_frame(classifier: Classifier, frame: FrameType | None) -> FrameType | None:
    """The first caller that is not part of the watched API, if it is test code: the frame a
    run-time violation is reported at. ``None`` when product code, the standard library or
    anything else outside the tests made the call."""
    kinds = classifier.kinds
    while frame is not None:
        kind = kinds.get(frame.f_code.co_filename)
        if kind is None:
            kind = classifier.classify(frame)
        if kind != TRANSPARENT:
            return frame if kind == TEST else None
        frame = frame.f_back
    return None


def _check_frame(guard: EnvGuard, frame: FrameType, primitive: str, env: Any, key: Any) -> None:
    """Find the first caller outside the environment API and judge it."""
    __tracebackhide__ = True
    caller = deciding_frame(guard.classifier, frame)
    if caller is not None:
        guard._hit(caller, frame, primitive, env, key)


def frame_qualname(frame: FrameType) -> str:
    """The dotted function a frame runs (``TestX.test_y``); "" at module level."""
    code = frame.f_code
    name: str = getattr(code, "co_qualname", code.co_name)
    if name == "<module>":
        return ""
    return ".".join(part for part in name.split(".") if part != "<locals>")


_NO_KEY: Any = object()
_READS = frozenset({"__getitem__", "__iter__", "__len__", "__repr__"})
# How to show an access: by the public method the test called (the outermost frame of the
# environment API), else by the primitive that was hit.
_CALLS = {
    "get": "{env}.get({key})",
    "pop": "{env}.pop({key})",
    "setdefault": "{env}.setdefault({key}, ...)",
    "getenv": "os.getenv({key})",
    "getenvb": "os.getenvb({key})",
    "update": "{env}.update(...)",
    "clear": "{env}.clear()",
    "copy": "{env}.copy()",
    "popitem": "{env}.popitem()",
    "__contains__": "{key} in {env}",
    "__eq__": "{env} == ...",
    "__or__": "{env} | ...",
    "__ror__": "... | {env}",
    "__ior__": "{env} |= ...",
    "__iter__": "iteration over {env}",
}
_PRIMITIVE_TEXT = {
    "__getitem__": "{env}[{key}]",
    "__setitem__": "{env}[{key}] = ...",
    "__delitem__": "del {env}[{key}]",
    "__iter__": "iteration over {env}",
    "__len__": "len({env})",
    "__repr__": "repr({env})",
    "putenv": "os.putenv({key}, ...)",
    "unsetenv": "os.unsetenv({key})",
}


def _describe(start: FrameType, caller: FrameType, primitive: str, env: Any, key: Any) -> str:
    outer = None
    frame: FrameType | None = start
    while frame is not None and frame is not caller:
        if frame.f_code.co_filename in _API_FILES:
            outer = frame
        frame = frame.f_back
    env_name = "os.environb" if env is getattr(os, "environb", None) else "os.environ"
    text = "" if key is _NO_KEY else repr(key)
    if len(text) > 60:
        text = text[:57] + "..."
    template = _PRIMITIVE_TEXT[primitive]
    if outer is not None and outer.f_code.co_name in _CALLS:
        template = _CALLS[outer.f_code.co_name]
    return template.format(env=env_name, key=text)


# -- the interceptors ----------------------------------------------------------------------
# Each one judges its caller, then calls the original. The direct caller is looked up inline
# (most callers are product code or pytest, decided by one dict lookup); only test code or the
# environment API's own frames take the walk. ``__tracebackhide__`` keeps the guard's frames
# out of pytest's tracebacks, so an EnvAccessError points at the test's own line.
_setitem = _ORIGINALS["__setitem__"]
_delitem = _ORIGINALS["__delitem__"]


def _getitem_guarded(self: Any, key: Any) -> Any:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__getitem__", self, key)
    return _ENV_CLASS.__getitem__(self, key)


def _setitem_guarded(self: Any, key: Any, value: Any) -> None:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__setitem__", self, key)
        if _INLINE_SETITEM and os.putenv is _putenv and _ENV_CLASS.__setitem__ is _setitem:
            # The original's body, with the real putenv: the one it would call is ours, and
            # would take a frame only to find that this write is already judged. pytest
            # writes PYTEST_CURRENT_TEST three times per test.
            key = self.encodekey(key)
            value = self.encodevalue(value)
            _ORIG_PUTENV(key, value)
            self._data[key] = value
            return
    _ENV_CLASS.__setitem__(self, key, value)


def _delitem_guarded(self: Any, key: Any) -> None:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__delitem__", self, key)
        if _INLINE_DELITEM and os.unsetenv is _unsetenv and _ENV_CLASS.__delitem__ is _delitem:
            encoded = self.encodekey(key)  # as in _setitem_guarded
            _ORIG_UNSETENV(encoded)
            try:
                del self._data[encoded]
            except KeyError:
                raise KeyError(key) from None
            return
    _ENV_CLASS.__delitem__(self, key)


def _iter_guarded(self: Any) -> Any:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__iter__", self, _NO_KEY)
    return _ENV_CLASS.__iter__(self)


def _len_guarded(self: Any) -> int:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__len__", self, _NO_KEY)
    result: int = _ENV_CLASS.__len__(self)
    return result


def _repr_guarded(self: Any) -> str:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if guard.classifier.kinds.get(frame.f_code.co_filename) != OTHER:
            _check_frame(guard, frame, "__repr__", self, _NO_KEY)
    result: str = _ENV_CLASS.__repr__(self)
    return result


def _putenv(key: Any, value: Any, /) -> None:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if frame.f_code is not _SETITEM_CODE:
            _check_frame(guard, frame, "putenv", None, key)
    _ORIG_PUTENV(key, value)


def _unsetenv(key: Any, /) -> None:
    __tracebackhide__ = True
    guard = _current
    if guard is not None and guard.checking:
        frame = _getframe(1)
        if frame.f_code is not _DELITEM_CODE:
            _check_frame(guard, frame, "unsetenv", None, key)
    _ORIG_UNSETENV(key)


_INTERCEPTORS: dict[str, Any] = {
    "__getitem__": _getitem_guarded,
    "__setitem__": _setitem_guarded,
    "__delitem__": _delitem_guarded,
    "__iter__": _iter_guarded,
    "__len__": _len_guarded,
    "__repr__": _repr_guarded,
}
for _name, _function in (
    *_INTERCEPTORS.items(),
    ("putenv", _putenv),
    ("unsetenv", _unsetenv),
):
    _original = _ORIGINALS.get(_name) or getattr(os, _name)
    _function.__name__ = _original.__name__
    _function.__qualname__ = _original.__qualname__
    _function.__doc__ = _original.__doc__
    _function.__wrapped__ = _original


# The class os.environ and os.environb have while the guard is installed. Its interceptors
# call os._Environ's methods, as a subclass would, so it needs no state of its own.
_GUARDED_CLASS: Any = type(
    "_GuardedEnviron", (_ENV_CLASS,), {"__slots__": (), "__module__": __name__, **_INTERCEPTORS}
)
# The mappings whose class _install() swapped, to swap back the very same objects (a test may
# replace os.environ meanwhile).
_swapped: list[Any] = []


def _process_environs() -> tuple[Any, ...]:
    return tuple(
        env
        for env in (os.environ, getattr(os, "environb", None))  # no environb on Windows
        if env is not None and type(env) is _ENV_CLASS
    )


def _install() -> None:
    for env in _process_environs():
        env.__class__ = _GUARDED_CLASS
        _swapped.append(env)
    os.putenv = _putenv
    os.unsetenv = _unsetenv


def _restore() -> None:
    # Put back only what is still ours: something that swapped or patched on top of the
    # guard keeps what it did (the interceptors pass through once no guard is entered).
    for env in _swapped:
        if type(env) is _GUARDED_CLASS:
            env.__class__ = _ENV_CLASS
    _swapped.clear()
    if os.putenv is _putenv:
        os.putenv = _ORIG_PUTENV
    if os.unsetenv is _unsetenv:
        os.unsetenv = _ORIG_UNSETENV


def installed() -> bool:
    """Whether any interceptor is in place (tests use it to prove nothing leaks)."""
    return (
        any(type(env) is _GUARDED_CLASS for env in (*_swapped, os.environ))
        or any(_ENV_CLASS.__dict__.get(n) is not _ORIGINALS[n] for n in _PRIMITIVES)
        or os.putenv is not _ORIG_PUTENV
        or os.unsetenv is not _ORIG_UNSETENV
    )


def active_guard() -> EnvGuard | None:
    """The innermost entered guard, if any, while it checks accesses."""
    return _current if _current is not None and _current.checking else None
