"""The run-time guard of team-defined sources as pure core: what it can intercept, how calls
are attributed, and that every original comes back exactly.

A generated product package (imported by name, as ``resolve`` imports forbid entries) holds
the forbidden APIs; a helper module in a generated tests directory is the test code calling
them. Both are fresh in every test.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.config import SourceOfTruth
from pytest_ssot.errors import SourceAccessError
from pytest_ssot.guard import Classifier
from pytest_ssot.sourceguard import (
    Call,
    SourceGuard,
    Target,
    Unrecordable,
    active_source_guard,
    installed,
    resolve,
)

PRODUCT = '''\
import functools
import types


def connect(url="ws://x", *, timeout=3):
    """Open a raw socket."""
    return ("connected", url, timeout)


def calls_connect():
    return connect()


def counter():
    count = 0

    def bump(step=1):
        nonlocal count
        count += step
        return count

    return bump


bump = counter()


def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


@logged
def decorated(value):
    return value * 2


async def fetch(value):
    return value


def stream(n):
    received = yield "ready"
    yield from range(n)
    return received


@types.coroutine
def legacy_coroutine():
    yield
    return "legacy"


async def agen():
    yield 1


def widen(a, b, c, d):
    def wide():
        return a, b, c, d

    return wide


wide = widen(1, 2, 3, 4)


def triple(a, b, c):
    def three():
        return a + b + c

    return three


three = triple(1, 2, 3)


class Client:
    def __init__(self, url="ws://x"):
        self.url = url

    def send(self, data):
        return data

    @classmethod
    def build(cls):
        return cls("ws://built")

    @staticmethod
    def version():
        return 2


class Child(Client):
    def send(self, data):
        return ("child", super().send(data))


class Bare:
    pass


class Base:
    def send(self, data):
        return ("base", data)


class Special(Base):
    pass


class Other(Base):
    pass


class Shape:
    def __new__(cls, sides):
        instance = super().__new__(cls)
        instance.sides = sides
        return instance


class Failure(Exception):
    pass


class Slotted:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


DEFAULT = "ws://x"
'''

HELPERS = """\
from ssot_sg_product import api
from ssot_sg_product.api import connect as dial


def call(name, *args, **kwargs):
    return getattr(api, name)(*args, **kwargs)


def via_alias():
    return dial()


def make(cls, *args):
    return cls(*args)


def send(client):
    return client.send(1)


async def awaiting():
    return await api.fetch(1)


def iterate():
    return list(api.stream(2))
"""


class Suite:
    def __init__(self, root: Path) -> None:
        self.root = root
        package = root / "ssot_sg_product"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "api.py").write_text(PRODUCT)
        (package / "broken.py").write_text("raise ImportError('needs a server')\n")
        self.api = importlib.import_module("ssot_sg_product.api")
        tests = root / "tests"
        tests.mkdir()
        (tests / "sanctioned.py").write_text("def dial(api):\n    return api.connect()\n")
        (tests / "helpers.py").write_text(HELPERS)
        self.helpers = self._load(tests / "helpers.py", "ssot_sg_helpers")
        self.sanctioned = self._load(tests / "sanctioned.py", "ssot_sg_sanctioned")

    @staticmethod
    def _load(path: Path, name: str) -> types.ModuleType:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    def guard(self, *forbid: str, fix: str | None = None, **source: Any) -> Guarded:
        entries = [f"ssot_sg_product.api.{name}" for name in forbid]
        return Guarded(self, entries, fix, source)

    def line_of(self, text: str) -> int:
        lines = (self.root / "tests" / "helpers.py").read_text().splitlines()
        return next(i for i, line in enumerate(lines, start=1) if text in line)


class Guarded:
    """A guard over one source, with the calls its verdict saw."""

    def __init__(self, suite: Suite, forbid: list[str], fix: str | None, extra: Any) -> None:
        self.calls: list[Call] = []
        self.fix = fix
        source = SourceOfTruth(
            code="SSOT201", name="raw-socket", forbid=tuple(forbid), use="sanctioned()", **extra
        )
        classifier = Classifier(root=str(suite.root), trees=(str(suite.root / "tests"),))
        self.guard = SourceGuard(classifier, [source], self._verdict)
        self.problems = self.guard.install()

    def _verdict(self, call: Call) -> str | None:
        self.calls.append(call)
        return self.fix

    def each(self, function: Any, *args: Any) -> Any:
        """Call, then forget the verdicts: the next call from the same line is judged again."""
        try:
            return function(*args)
        finally:
            self.guard.reset()

    @property
    def apis(self) -> list[str]:
        return [call.api for call in self.calls]


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Suite]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Suite(tmp_path)
    for name in list(sys.modules):
        if name.startswith(("ssot_sg_",)):
            del sys.modules[name]


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    yield
    assert not installed(), "interceptors leaked out of the test"
    assert active_source_guard() is None


def _close(*guarded: Guarded) -> None:
    for each in guarded:
        each.guard.close()


# -- what it intercepts ------------------------------------------------------------------------
def test_a_function_keeps_its_identity_signature_and_aliases_bound_before(suite: Suite) -> None:
    api, helpers = suite.api, suite.helpers
    connect, code = api.connect, api.connect.__code__
    guarded = suite.guard("connect")
    try:
        assert guarded.problems == []
        assert api.connect is connect is helpers.dial
        assert str(inspect.signature(connect)) == "(url='ws://x', *, timeout=3)"
        assert connect.__name__ == "connect"
        assert connect.__doc__ == "Open a raw socket."
        assert connect.__code__ is not code
        assert helpers.via_alias() == ("connected", "ws://x", 3)  # not entered: not checked
        assert guarded.calls == []
        with guarded.guard:
            assert helpers.via_alias() == ("connected", "ws://x", 3)
            assert helpers.call("connect", "ws://y", timeout=5) == ("connected", "ws://y", 5)
            api.calls_connect()  # product code
    finally:
        _close(guarded)
    assert [(c.code, c.api, c.line, c.qualname) for c in guarded.calls] == [
        ("SSOT201", "ssot_sg_product.api.connect", suite.line_of("return dial()"), "via_alias"),
        ("SSOT201", "ssot_sg_product.api.connect", suite.line_of("getattr(api"), "call"),
    ]
    assert connect.__code__ is code
    assert (connect.__defaults__, connect.__kwdefaults__) == (("ws://x",), {"timeout": 3})
    assert "__signature__" not in vars(connect)


def test_closures_decorated_functions_coroutines_and_generators_keep_working(
    suite: Suite,
) -> None:
    api, helpers = suite.api, suite.helpers
    guarded = suite.guard(
        "bump", "decorated", "three", "Child.send", "fetch", "stream", "legacy_coroutine"
    )
    try:
        assert guarded.problems == []
        assert inspect.iscoroutinefunction(api.fetch)
        assert inspect.isgeneratorfunction(api.stream)
        with guarded.guard:
            assert guarded.each(helpers.call, "bump") == 1
            assert guarded.each(helpers.call, "bump", 2) == 3
            assert guarded.each(helpers.call, "decorated", 4) == 8
            assert guarded.each(helpers.call, "three") == 6
            assert guarded.each(helpers.send, api.Child()) == ("child", 1)  # super() inside
            assert asyncio.run(helpers.awaiting()) == 1
            assert helpers.iterate() == ["ready", 0, 1]
            generator = api.stream(1)
            assert next(generator) == "ready"
            assert generator.send("hi") == 0
            with pytest.raises(StopIteration) as stopped:
                next(generator)
            assert stopped.value.value == "hi"

            async def legacy() -> Any:
                return await api.legacy_coroutine()

            assert asyncio.run(legacy()) == "legacy"
    finally:
        _close(guarded)
    assert api.bump() == 4
    # the coroutine and generator: checked when their body starts, from where it is started
    assert [(c.api.rpartition(".")[2], c.qualname) for c in guarded.calls] == [
        ("bump", "call"),
        ("bump", "call"),
        ("decorated", "call"),
        ("three", "call"),
        ("send", "send"),
        ("fetch", "awaiting"),
        ("stream", "iterate"),
    ]


def test_classes_keep_their_identity_and_get_their_init_back(suite: Suite) -> None:
    api, helpers = suite.api, suite.helpers
    client_init = vars(api.Client)["__init__"]
    guarded = suite.guard("Client", "Bare", "Shape", "Failure", "Slotted")
    try:
        assert guarded.problems == []
        assert str(inspect.signature(api.Client)) == "(url='ws://x')"
        with guarded.guard:
            client = guarded.each(helpers.make, api.Client, "ws://y")
            assert type(client) is api.Client
            assert client.url == "ws://y"
            assert isinstance(guarded.each(helpers.make, api.Bare), api.Bare)
            assert guarded.each(helpers.make, api.Shape, 4).sides == 4  # __new__ takes them
            assert guarded.each(helpers.make, api.Failure, "boom").args == ("boom",)
            assert guarded.each(helpers.make, api.Slotted, 1).value == 1
            with pytest.raises(TypeError, match=r"Bare\(\) takes no arguments"):
                guarded.each(helpers.make, api.Bare, 1)
            api.Client.build()  # product code (its classmethod)
    finally:
        _close(guarded)
    assert [c.api.rpartition(".")[2] for c in guarded.calls] == [
        "Client",
        "Bare",
        "Shape",
        "Failure",
        "Slotted",
        "Bare",
    ]
    assert vars(api.Client)["__init__"] is client_init
    for name in ("Bare", "Shape", "Failure"):
        assert "__init__" not in vars(getattr(api, name))


def test_methods_static_class_and_inherited_ones_count_only_on_the_class_named(
    suite: Suite,
) -> None:
    api, helpers = suite.api, suite.helpers
    guarded = suite.guard("Client.send", "Client.build", "Client.version", "Special.send")
    try:
        assert guarded.problems == []
        with guarded.guard:
            client = api.Client()
            send = client.send  # a bound method taken before the call
            assert guarded.each(helpers.send, client) == 1
            assert guarded.each(helpers.make, send, 5) == 5
            assert guarded.each(helpers.make, api.Client.build).url == "ws://built"
            assert guarded.each(helpers.make, api.Client.version) == 2
            assert guarded.each(helpers.send, api.Special()) == ("base", 1)
            assert guarded.each(helpers.send, api.Other()) == ("base", 1)  # other class
    finally:
        _close(guarded)
    assert guarded.apis == [
        "ssot_sg_product.api.Client.send",
        "ssot_sg_product.api.Client.send",
        "ssot_sg_product.api.Client.build",
        "ssot_sg_product.api.Client.version",
        "ssot_sg_product.api.Special.send",
    ]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("os.getcwd", "a built-in (C) function"),
        ("os", "it is a module"),
        ("ssot_sg_product.api.DEFAULT", "not callable"),
        ("ssot_sg_product.api.agen", "an async generator function"),
        ("ssot_sg_product.api.wide", "a closure over 4 variables; up to 3 can be recorded"),
        ("ssot_sg_product.api.Client.missing", "AttributeError: type object 'Client' has no"),
        ("ssot_sg_product.nowhere.x", "no module or attribute ssot_sg_product.nowhere"),
        ("nowhere_at_all.x", "no module or attribute nowhere_at_all"),
        ("ssot_sg_product.broken.x", "importing ssot_sg_product.broken failed: ImportError"),
        ("random.randint", "a bound method"),
        ("datetime.datetime", "a built-in (immutable) class"),
        ("builtins.str.join", "a built-in (C) function"),
        ("datetime.date.today", "a built-in (C) function"),
        ("functools.partial", "a built-in (immutable) class"),
    ],
)
def test_what_cannot_be_intercepted_says_why(suite: Suite, entry: str, reason: str) -> None:
    guarded = suite.guard()
    source = SourceOfTruth(code="SSOT201", name="raw-socket", forbid=(entry,), use="x")
    sources = SourceGuard(guarded.guard.classifier, [source], guarded._verdict)
    try:
        (problem,) = sources.install()
    finally:
        sources.close()
        _close(guarded)
    assert isinstance(problem, Unrecordable)
    assert problem.reason.startswith(reason)
    assert problem.message.startswith(f"SSOT201 (raw-socket): {entry} cannot be recorded")
    assert problem.message.endswith("; the static rule still applies")


def test_resolve_imports_the_longest_module_prefix(suite: Suite) -> None:
    target = resolve("ssot_sg_product.api.Client.send")
    assert target == Target(suite.api.Client.send)
    assert resolve("ssot_sg_product.api.Special.send") == Target(
        suite.api.Base.send, suite.api.Special
    )


# -- who decides -------------------------------------------------------------------------------
def test_the_sources_modules_may_call_it(suite: Suite) -> None:
    guarded = suite.guard("connect", modules=("ssot_sg_sanctioned",))
    try:
        with guarded.guard:
            suite.sanctioned.dial(suite.api)
            suite.helpers.via_alias()
    finally:
        _close(guarded)
    assert [c.qualname for c in guarded.calls] == ["via_alias"]


def test_strict_raises_at_the_call_site_before_the_call_and_keeps_the_error(
    suite: Suite,
) -> None:
    guarded = suite.guard("Client", fix="use sanctioned()")
    try:
        with guarded.guard:
            with pytest.raises(SourceAccessError) as raised:
                suite.helpers.make(suite.api.Client)
            with pytest.raises(SourceAccessError):
                suite.helpers.make(suite.api.Client)
            assert len(guarded.calls) == 1  # one verdict per site
            assert guarded.guard.raised == [raised.value, guarded.guard.raised[1]]
            guarded.guard.reset()
            assert guarded.guard.raised == []
    finally:
        _close(guarded)
    line = suite.line_of("return cls(*args)")
    assert str(raised.value) == (
        f"SSOT201 ssot_sg_product.api.Client() called directly at tests/helpers.py:{line}; "
        "use sanctioned()"
    )


def test_the_verdict_may_call_a_forbidden_api_without_recursing(suite: Suite) -> None:
    api, helpers = suite.api, suite.helpers
    guarded = suite.guard("connect")
    seen: list[Call] = []

    def verdict(call: Call) -> str | None:
        seen.append(call)
        helpers.via_alias()  # while judging: passes through
        return None

    guarded.guard.verdict = verdict
    try:
        with guarded.guard:
            assert helpers.via_alias() == api.connect()
    finally:
        _close(guarded)
    assert len(seen) == 1


# -- sharing and restoring ---------------------------------------------------------------------
def test_two_guards_share_an_interceptor_and_the_last_one_out_restores(suite: Suite) -> None:
    code = suite.api.connect.__code__
    outer = suite.guard("connect")
    inner = suite.guard("connect")
    try:
        with outer.guard:
            with inner.guard:
                suite.helpers.via_alias()
            suite.helpers.via_alias()
        outer.guard.close()  # out of order: the inner guard still holds it
        assert installed()
        assert suite.api.connect.__code__ is not code
        inner.guard.reset()
        with inner.guard:
            suite.helpers.via_alias()
    finally:
        _close(outer, inner)
    assert suite.api.connect.__code__ is code
    assert (len(outer.calls), len(inner.calls)) == (1, 2)


def test_close_leaves_alone_what_someone_else_replaced_after_us(suite: Suite) -> None:
    api = suite.api
    guarded = suite.guard("Client")
    replacement = lambda self, url="": None  # noqa: E731
    try:
        api.Client.__init__ = replacement
    finally:
        _close(guarded)
    assert vars(api.Client)["__init__"] is replacement


def test_close_after_an_abrupt_end_leaves_no_guard_entered(suite: Suite) -> None:
    guarded = suite.guard("connect")
    guarded.guard.__enter__()
    guarded.guard.__enter__()
    assert active_source_guard() is guarded.guard
    guarded.guard.close()
    assert active_source_guard() is None
    assert not installed()


def test_installing_twice_installs_once(suite: Suite) -> None:
    guarded = suite.guard("connect", "DEFAULT")
    try:
        assert [p.api for p in guarded.problems] == ["ssot_sg_product.api.DEFAULT"]
        assert guarded.guard.install() == []
    finally:
        _close(guarded)


def test_there_is_a_trampoline_for_every_flavour_and_closure_size() -> None:
    from pytest_ssot.sourceguard import _TRAMPOLINES, MAX_CELLS

    for flavour, flag in (
        ("plain", 0),
        ("coroutine", inspect.CO_COROUTINE),
        ("generator", inspect.CO_GENERATOR),
    ):
        for cells in range(MAX_CELLS + 1):
            code = _TRAMPOLINES[flavour, cells]
            assert len(code.co_freevars) == cells
            assert code.co_flags & (inspect.CO_COROUTINE | inspect.CO_GENERATOR) == flag
            assert code.co_filename.startswith("<pytest-ssot")
