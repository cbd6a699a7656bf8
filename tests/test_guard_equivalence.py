"""The guard is invisible: the same environment operations give the same results with it.

A hypothesis state machine runs random sequences of environment operations (through
``os.environ``'s whole mapping API and ``os.getenv``), each once without a guard and once
inside a guard that lets everything through, resetting the environment in between, and
compares results, exceptions and the environment afterwards, as well as a plain-dict model.
A strict guard must refuse every operation before it changes anything. After every step no
interceptor is left in place and ``os.environ`` is still the very same ``os._Environ``.

This file lives in the tests directory the classifier is given, so its own accesses are test
code: exactly the accesses the guard intercepts.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from pytest_ssot.errors import EnvAccessError
from pytest_ssot.guard import Access, Classifier, EnvGuard, installed

PREFIX = "SSOT_HYPO_"
KEYS = st.sampled_from([PREFIX + name for name in "ABCD"])
VALUES = st.text(alphabet=string.ascii_letters + string.digits + "-_ .:/", max_size=8)
HERE = Path(__file__).parent
ENVIRON = os.environ


def _ours() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}


def _set_ours(state: dict[str, str]) -> None:
    for key in [k for k in os.environ if k.startswith(PREFIX)]:
        del os.environ[key]
    os.environ.update(state)


def _outcome(operation: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", operation()
    except KeyError as exc:
        return "KeyError", exc.args


class Allow:
    def __init__(self) -> None:
        self.accesses: list[Access] = []

    def __call__(self, access: Access) -> str | None:
        self.accesses.append(access)
        return None


OPERATIONS: dict[str, Callable[[str, str], Any]] = {
    "set": lambda k, v: os.environ.__setitem__(k, v),
    "getitem": lambda k, v: os.environ[k],
    "get": lambda k, v: os.environ.get(k, "<none>"),
    "getenv": lambda k, v: os.getenv(k),
    "contains": lambda k, v: k in os.environ,
    "delete": lambda k, v: os.environ.__delitem__(k),
    "pop": lambda k, v: os.environ.pop(k, "<none>"),
    "setdefault": lambda k, v: os.environ.setdefault(k, v),
    "update": lambda k, v: os.environ.update({k: v, k + "_2": v}),
    "copy": lambda k, v: {a: b for a, b in os.environ.copy().items() if a.startswith(PREFIX)},
    "iterate": lambda k, v: sorted(a for a in os.environ if a.startswith(PREFIX)),
    "items": lambda k, v: sorted((a, b) for a, b in os.environ.items() if a.startswith(PREFIX)),
    "values_has": lambda k, v: v in os.environ.values(),
    "or": lambda k, v: {a: b for a, b in (os.environ | {k: v}).items() if a.startswith(PREFIX)},
    "ior": lambda k, v: os.environ.__ior__({k: v}) is ENVIRON,
    "len_same": lambda k, v: len(os.environ) == len(dict(os.environ)),
    "repr_has": lambda k, v: repr(k) in repr(os.environ),
}


def _model(name: str, model: dict[str, str], key: str, value: str) -> tuple[str, Any]:
    """What each operation does to our keys, as a plain dict would."""
    if name in ("set", "update", "ior"):
        model[key] = value
        if name == "update":
            model[key + "_2"] = value
        return "ok", (None if name != "ior" else True)
    if name == "getitem":
        return ("ok", model[key]) if key in model else ("KeyError", (key,))
    if name == "delete":
        if key not in model:
            return "KeyError", (key,)
        del model[key]
        return "ok", None
    if name == "pop":
        return "ok", model.pop(key, "<none>")
    if name == "setdefault":
        return "ok", model.setdefault(key, value)
    if name == "get":
        return "ok", model.get(key, "<none>")
    if name == "getenv":
        return "ok", model.get(key)
    if name == "contains":
        return "ok", key in model
    if name == "copy":
        return "ok", dict(model)
    if name == "iterate":
        return "ok", sorted(model)
    if name == "items":
        return "ok", sorted(model.items())
    if name == "or":
        return "ok", {**model, key: value}
    return "skip", None  # values_has, len_same, repr_has depend on the whole environment


class GuardEquivalence(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        _set_ours({})
        self.model: dict[str, str] = {}
        self.allow = Allow()
        classifier = Classifier(root=str(HERE.parent), trees=(str(HERE),))
        self.guard = EnvGuard(classifier, self.allow)
        self.strict = EnvGuard(classifier, lambda access: "use get_env() instead")

    @rule(name=st.sampled_from(sorted(OPERATIONS)), key=KEYS, value=VALUES)
    def same_with_and_without_the_guard(self, name: str, key: str, value: str) -> None:
        operation = OPERATIONS[name]
        before = _ours()
        plain = _outcome(lambda: operation(key, value))
        after_plain = _ours()
        _set_ours(before)
        seen = len(self.allow.accesses)
        self.guard.reset()
        with self.guard:
            guarded = _outcome(lambda: operation(key, value))
        after_guarded = _ours()
        assert guarded == plain, name
        assert after_guarded == after_plain, name
        assert len(self.allow.accesses) > seen, f"{name} was not intercepted"
        expected = _model(name, self.model, key, value)
        if expected[0] != "skip":
            assert guarded == expected, name
        assert _ours() == self.model

    @rule(name=st.sampled_from(sorted(OPERATIONS)), key=KEYS, value=VALUES)
    def strict_refuses_before_anything_changes(self, name: str, key: str, value: str) -> None:
        before = _ours()
        self.strict.reset()
        with self.strict, pytest.raises(EnvAccessError, match="use get_env"):
            OPERATIONS[name](key, value)
        assert _ours() == before

    @invariant()
    def nothing_leaks(self) -> None:
        assert not installed()
        assert os.environ is ENVIRON
        assert type(os.environ) is os._Environ

    def teardown(self) -> None:
        _set_ours({})


GuardEquivalence.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None
)
test_the_guard_is_invisible_to_environment_operations = GuardEquivalence.TestCase
