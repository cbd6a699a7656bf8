"""The runtime guard as pure core: interception, attribution, strict errors, restoration.

Helpers live in a generated "suite" directory (test code for the classifier) next to a
"product" package and an isolated-environment module; they are imported from their files so
the frames the guard sees are exactly theirs.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_ssot import guard as guard_module
from pytest_ssot.errors import EnvAccessError
from pytest_ssot.guard import OTHER, TEST, TRANSPARENT, Access, Classifier, EnvGuard, installed

KEY = "SSOT_GUARD_TEST_KEY"

HELPERS = """\
import os
from os import environ as ENV, getenv

def write(key, value):
    os.environ[key] = value

def read(key):
    return os.environ.get(key)

def read_alias(key):
    return ENV.get(key)

def read_getenv(key):
    return getenv(key)

def read_dynamic(key):
    return getattr(os, "env" + "iron")[key]

def via_exec(key):
    exec("os.environ[key]", {"os": os, "key": key})

def run(code, key, value=None):
    return eval(code, {"os": os, "ENV": ENV, "key": key, "value": value})

def expand_home():
    return os.path.expanduser("~")

def child_sees(key):
    import subprocess, sys
    return subprocess.run(
        [sys.executable, "-c", f"import os; print(os.environ.get({key!r}))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
"""

PRODUCT = """\
import os

def setting(key):
    return os.environ.get(key, "default")

def write(key, value):
    os.environ[key] = value
"""

ISOLATED = """\
import os

def set(key, value):
    os.environ[key] = value
"""


class Suite:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tests = root / "tests"
        self.helpers = self._load("tests/helpers.py", "ssot_guard_suite_helpers", HELPERS)
        self.product = self._load("product/settings.py", "ssot_guard_product", PRODUCT)
        self.isolated = self._load("tests/isolated_env.py", "ssot_guard_isolated", ISOLATED)

    def _load(self, rel: str, name: str, text: str) -> ModuleType:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def classifier(self, **kwargs: Any) -> Classifier:
        kwargs.setdefault("trees", (str(self.tests),))
        kwargs.setdefault("exempt_modules", ("ssot_guard_isolated",))
        return Classifier(root=str(self.root), **kwargs)

    def line_of(self, module: ModuleType, text: str) -> int:
        lines = Path(str(module.__file__)).read_text().splitlines()
        return next(i for i, line in enumerate(lines, start=1) if text in line)


class Recorder:
    """A verdict that records accesses and answers with ``fix`` (None: let them through)."""

    def __init__(self, fix: str | None = None) -> None:
        self.fix = fix
        self.accesses: list[Access] = []

    def __call__(self, access: Access) -> str | None:
        self.accesses.append(access)
        return self.fix


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    return Suite(tmp_path)


@pytest.fixture(autouse=True)
def _clean_environment() -> Iterator[None]:
    yield
    os.environ.pop(KEY, None)
    assert not installed(), "a guard leaked out of the test"


def _guard(suite: Suite, fix: str | None = None, **kwargs: Any) -> tuple[EnvGuard, Recorder]:
    recorder = Recorder(fix)
    return EnvGuard(suite.classifier(**kwargs), recorder), recorder


# -- invisibility and restoration ---------------------------------------------------------------
def test_os_environ_keeps_its_identity_and_os_Environ_is_never_modified(suite: Suite) -> None:
    environ = os.environ
    methods = dict(vars(os._Environ))
    guard, _ = _guard(suite)
    with guard:
        assert os.environ is environ
        assert isinstance(os.environ, os._Environ)
        assert installed()
        # Patching the class would use up its type versions (see the next test).
        assert dict(vars(os._Environ)) == methods
    assert not installed()
    assert type(os.environ) is os._Environ


def test_a_test_that_patches_os_Environ_gets_its_patch_while_guarded(suite: Suite) -> None:
    from unittest import mock

    guard, recorder = _guard(suite)
    with guard, mock.patch.object(os._Environ, "__getitem__", lambda self, key: f"fake {key}"):
        assert suite.helpers.read(KEY) == f"fake {KEY}"
    assert [a.what for a in recorder.accesses] == [f"os.environ.get('{KEY}')"]
    assert not installed()


def test_the_guard_still_intercepts_after_a_thousand_sessions_in_one_process(
    suite: Suite,
) -> None:
    """CPython 3.13 gives a class at most 1,000 type versions; once they are used up, 3.13.0
    keeps calling a replaced ``__getitem__`` from its specialization cache. A guard that
    patched ``os._Environ`` at every install missed accesses after ~500 sessions."""
    read = suite.helpers.read
    guard, recorder = _guard(suite)
    for _ in range(1_000):
        with guard:
            for _ in range(5):  # warm enough for the call sites to specialize
                read("SSOT_GUARD_CYCLES")
        for _ in range(5):
            read("SSOT_GUARD_CYCLES")
    guard.reset()
    recorder.accesses.clear()
    with guard:
        read("SSOT_GUARD_CYCLES")
    assert [a.what for a in recorder.accesses] == ["os.environ.get('SSOT_GUARD_CYCLES')"]


def test_it_restores_the_very_mapping_it_swapped_when_a_test_replaced_os_environ(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = os.environ
    guard, _ = _guard(suite)
    with guard:
        monkeypatch.setattr(os, "environ", {"REPLACED": "1"})
    assert type(environ) is os._Environ
    monkeypatch.undo()
    assert os.environ is environ
    assert not installed()


def test_it_restores_the_originals_when_the_block_raises(suite: Suite) -> None:
    guard, _ = _guard(suite)
    with pytest.raises(RuntimeError), guard:
        raise RuntimeError("boom")
    assert not installed()


def test_it_restores_the_originals_on_keyboard_interrupt(suite: Suite) -> None:
    guard, _ = _guard(suite)
    with pytest.raises(KeyboardInterrupt), guard:
        raise KeyboardInterrupt
    assert not installed()


def test_nested_guards_restore_only_when_the_last_one_leaves(suite: Suite) -> None:
    outer, outer_seen = _guard(suite)
    inner, inner_seen = _guard(suite)
    with outer:
        with inner:
            suite.helpers.write(KEY, "inner")
        assert installed()
        suite.helpers.write(KEY, "outer")
    assert not installed()
    assert [a.what for a in inner_seen.accesses] == [f"os.environ[{KEY!r}] = ..."]
    assert [a.what for a in outer_seen.accesses] == [f"os.environ[{KEY!r}] = ..."]


def test_an_installed_guard_checks_only_while_entered(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    guard.install()
    try:
        suite.helpers.write(KEY, "not checked")
        assert installed()
        assert recorder.accesses == []
        with guard:
            suite.helpers.write(KEY, "checked")
        assert len(recorder.accesses) == 1
    finally:
        guard.uninstall()
    assert not installed()


def test_close_restores_after_an_abrupt_end(suite: Suite) -> None:
    guard, _ = _guard(suite)
    guard.install()
    guard.__enter__()
    guard.__enter__()
    guard.close()
    assert not installed()
    assert guard_module.active_guard() is None


def test_a_child_process_still_gets_the_environment(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    os.environ[KEY] = "inherited"
    with guard:
        seen = suite.helpers.child_sees(KEY)
    assert seen == "inherited"
    # subprocess reading PATH for the helper is the standard library's own work
    assert all("PATH" not in a.what for a in recorder.accesses)


def test_putenv_reaches_a_child_process_while_guarded(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    with guard:
        suite.helpers.run("os.putenv(key, 'via-putenv')", KEY)
    child = subprocess.run(
        [sys.executable, "-c", f"import os; print(os.environ.get({KEY!r}))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "via-putenv"
    assert [a.what for a in recorder.accesses] == [f"os.putenv({KEY!r}, ...)"]
    os.unsetenv(KEY)


def test_writes_reach_a_putenv_patched_over_the_guard(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While it checks, the guard runs os.environ's own __setitem__/__delitem__ with the real
    # putenv/unsetenv, but only while those are its own interceptors: anything patched on
    # top of them still gets the writes, as it would without the guard.
    assert guard_module._INLINE_SETITEM
    assert guard_module._INLINE_DELITEM
    guard, _ = _guard(suite)
    calls: list[tuple[object, ...]] = []
    with guard:
        monkeypatch.setattr(os, "putenv", lambda key, value: calls.append((key, value)))
        monkeypatch.setattr(os, "unsetenv", lambda key: calls.append((key,)))
        os.environ[KEY] = "patched"
        assert os.environ[KEY] == "patched"
        del os.environ[KEY]
        monkeypatch.undo()
    encoded = os.environ.encodekey(KEY)  # type: ignore[attr-defined]
    assert calls == [(encoded, os.environ.encodevalue("patched")), (encoded,)]  # type: ignore[attr-defined]
    assert KEY not in os.environ


def test_a_missing_key_deleted_while_checked_raises_the_original_key_error(suite: Suite) -> None:
    guard, _ = _guard(suite)
    with guard, pytest.raises(KeyError) as raised:
        del os.environ[KEY]
    assert raised.value.args == (KEY,)
    assert raised.value.__suppress_context__


# -- attribution ----------------------------------------------------------------------------
def test_it_reports_a_helper_write_with_its_file_line_and_function(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    with guard:
        suite.helpers.write(KEY, "1")
    (access,) = recorder.accesses
    assert access.filename == str(suite.root / "tests" / "helpers.py")
    assert access.line == suite.line_of(suite.helpers, "os.environ[key] = value")
    assert access.qualname == "write"
    assert access.action == "write"
    assert access.what == f"os.environ[{KEY!r}] = ..."
    assert os.environ[KEY] == "1"


@pytest.mark.parametrize(
    ("code", "what", "action"),
    [
        ("os.environ.get(key)", "os.environ.get({key})", "read"),
        ("os.getenv(key)", "os.getenv({key})", "read"),
        ("key in os.environ", "{key} in os.environ", "read"),
        ("os.environ[key]", "os.environ[{key}]", "read"),
        ("[k for k in os.environ]", "iteration over os.environ", "read"),
        ("[kv for kv in os.environ.items()]", "iteration over os.environ", "read"),
        ("os.environ.copy()", "os.environ.copy()", "read"),
        ("dict(os.environ)", "iteration over os.environ", "read"),
        ("len(os.environ)", "len(os.environ)", "read"),
        ("repr(os.environ)", "repr(os.environ)", "read"),
        ("os.environ.pop(key, None)", "os.environ.pop({key})", "read"),
        ("os.environ.setdefault(key, 'v')", "os.environ.setdefault({key}, ...)", "read"),
        ("os.environ.update({key: 'v'})", "os.environ.update(...)", "write"),
        ("os.environ | {key: 'v'}", "os.environ | ...", "read"),
        ("ENV.get(key)", "os.environ.get({key})", "read"),
        ("os.putenv(key, 'v')", "os.putenv({key}, ...)", "write"),
        ("os.unsetenv(key)", "os.unsetenv({key})", "write"),
    ],
)
def test_it_describes_each_way_of_touching_the_environment(
    suite: Suite, code: str, what: str, action: str
) -> None:
    os.environ[KEY] = "x"
    guard, recorder = _guard(suite)
    with guard:
        suite.helpers.run(code, KEY)
    assert recorder.accesses, f"{code} was not intercepted"
    assert recorder.accesses[0].what == what.format(key=repr(KEY))
    assert recorder.accesses[0].action == action
    assert {a.line for a in recorder.accesses} == {suite.line_of(suite.helpers, "return eval")}


@pytest.mark.parametrize("reader", ["read_alias", "read_getenv", "read_dynamic"])
def test_aliases_bound_before_the_guard_and_dynamic_access_are_covered(
    suite: Suite, reader: str
) -> None:
    os.environ[KEY] = "x"
    guard, recorder = _guard(suite)
    with guard:
        assert getattr(suite.helpers, reader)(KEY) == "x"
    assert [a.qualname for a in recorder.accesses] == [reader]


def test_code_run_through_exec_is_attributed_to_the_line_that_ran_it(suite: Suite) -> None:
    os.environ[KEY] = "x"
    guard, recorder = _guard(suite)
    with guard:
        suite.helpers.via_exec(KEY)
    assert [a.line for a in recorder.accesses] == [suite.line_of(suite.helpers, 'exec("os')]


def test_product_code_and_the_isolated_environment_module_are_not_test_code(
    suite: Suite,
) -> None:
    guard, recorder = _guard(suite)
    with guard:
        suite.product.write(KEY, "from product")
        assert suite.product.setting(KEY) == "from product"
        suite.isolated.set(KEY, "from the isolated environment")
    assert recorder.accesses == []
    assert os.environ[KEY] == "from the isolated environment"


def test_the_standard_library_doing_its_own_work_is_not_the_callers_access(
    suite: Suite,
) -> None:
    guard, recorder = _guard(suite)
    with guard:
        assert suite.helpers.expand_home()
    assert recorder.accesses == []


def test_verdict_is_asked_once_per_site_until_reset(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    with guard:
        for _ in range(3):
            suite.helpers.write(KEY, "1")
        guard.reset()
        suite.helpers.write(KEY, "2")
    assert len(recorder.accesses) == 2


def test_accesses_from_a_thread_started_inside_are_checked(suite: Suite) -> None:
    guard, recorder = _guard(suite)
    with guard:
        thread = threading.Thread(target=suite.helpers.write, args=(KEY, "threaded"))
        thread.start()
        thread.join()
    assert [a.qualname for a in recorder.accesses] == ["write"]
    assert os.environ[KEY] == "threaded"


# -- strict: raise before the access --------------------------------------------------------
def test_strict_verdict_raises_before_the_write_happens(suite: Suite) -> None:
    guard, _ = _guard(suite, fix="use get_env() instead")
    with guard, pytest.raises(EnvAccessError) as excinfo:
        suite.helpers.write(KEY, "never")
    assert KEY not in os.environ
    error = excinfo.value
    line = suite.line_of(suite.helpers, "os.environ[key] = value")
    assert error.where == f"tests/helpers.py:{line}"
    assert error.what == f"os.environ[{KEY!r}] = ..."
    assert str(error) == (
        f"SSOT102 direct process-environment access os.environ[{KEY!r}] = ... at "
        f"tests/helpers.py:{line}; use get_env() instead"
    )
    assert guard.raised == [error]
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.what, copy.where, copy.use_instead) == (error.what, error.where, error.use_instead)


def test_strict_site_keeps_raising_for_every_access(suite: Suite) -> None:
    guard, recorder = _guard(suite, fix="fix it")
    with guard:
        for _ in range(2):
            with pytest.raises(EnvAccessError):
                suite.helpers.read(KEY)
    assert len(recorder.accesses) == 1
    assert len(guard.raised) == 2


def test_strict_error_in_a_thread_is_kept_for_the_caller(suite: Suite) -> None:
    guard, _ = _guard(suite, fix="fix it")
    caught: list[BaseException] = []

    def target() -> None:
        try:
            suite.helpers.write(KEY, "threaded")
        except EnvAccessError as exc:
            caught.append(exc)

    with guard:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert caught == guard.raised
    assert KEY not in os.environ


def test_a_failing_verdict_leaves_the_guard_restorable(suite: Suite) -> None:
    def broken(access: Access) -> str | None:
        raise ValueError("plugin bug")

    guard = EnvGuard(suite.classifier(), broken)
    with pytest.raises(ValueError, match="plugin bug"), guard:
        suite.helpers.write(KEY, "1")
    assert not installed()


# -- the classifier ---------------------------------------------------------------------------
def _kind(classifier: Classifier, filename: str, module: str | None = None) -> int:
    return classifier._kind(filename, module)


def test_files_below_a_test_directory_are_test_code(tmp_path: Path) -> None:
    classifier = Classifier(root=str(tmp_path), trees=(str(tmp_path / "tests"),))
    assert _kind(classifier, str(tmp_path / "tests" / "test_a.py")) == TEST
    assert _kind(classifier, str(tmp_path / "tests" / "helpers" / "env.py")) == TEST
    assert _kind(classifier, str(tmp_path / "src" / "app.py")) == OTHER
    assert _kind(classifier, str(tmp_path / "tests_other" / "x.py")) == OTHER


def test_a_rootdir_conftest_makes_only_the_rootdirs_own_files_test_code(tmp_path: Path) -> None:
    classifier = Classifier(root=str(tmp_path), dirs=(str(tmp_path),))
    assert _kind(classifier, str(tmp_path / "conftest.py")) == TEST
    assert _kind(classifier, str(tmp_path / "app" / "settings.py")) == OTHER


def test_env_and_mock_modules_are_never_test_code(tmp_path: Path) -> None:
    classifier = Classifier(
        root=str(tmp_path),
        trees=(str(tmp_path / "tests"),),
        exempt_modules=("tests.support.env", "fw.mocks"),
    )
    support = str(tmp_path / "tests" / "support" / "env.py")
    assert _kind(classifier, support, "tests.support.env") == OTHER
    assert _kind(classifier, support, None) == OTHER  # judged by path as well
    assert _kind(classifier, str(tmp_path / "tests" / "fw" / "mocks.py"), "x") == OTHER
    assert _kind(classifier, str(tmp_path / "tests" / "support" / "other.py"), "x") == TEST


def test_excluded_files_are_never_test_code(tmp_path: Path) -> None:
    classifier = Classifier(
        root=str(tmp_path), trees=(str(tmp_path / "tests"),), exclude=("tests/vendored/**",)
    )
    assert _kind(classifier, str(tmp_path / "tests" / "vendored" / "lib.py")) == OTHER
    assert _kind(classifier, str(tmp_path / "tests" / "test_a.py")) == TEST


def test_the_standard_library_and_installed_packages_are_never_test_code() -> None:
    everything = Classifier(root="/", trees=("/",))
    assert _kind(everything, os.__file__) == OTHER
    assert _kind(everything, pytest.__file__) == OTHER
    assert _kind(everything, "<frozen posixpath>") == OTHER
    assert _kind(everything, "<string>") == TRANSPARENT


def test_the_environment_api_itself_is_transparent(suite: Suite) -> None:
    classifier = suite.classifier()
    assert classifier.kinds[os.getenv.__code__.co_filename] == TRANSPARENT
    assert classifier.kinds[guard_module._check_frame.__code__.co_filename] == TRANSPARENT


def test_the_fix_names_the_configured_isolated_environment_module() -> None:
    assert guard_module.use_instead(("fw.env",)) == (
        "use the isolated-environment API (fw.env) instead"
    )
    assert "isolated-environment API" in guard_module.use_instead(())
