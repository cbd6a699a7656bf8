"""Team-defined sources with ``runtime = true`` end to end: calls of forbidden functions,
classes and methods made by test code while tests run, in real pytest sessions.

Each inner suite has a product package ``chat`` (the forbidden API, and product code that may
use it), a ``tests`` package with a helper module that static analysis never reads (it binds
an alias of ``chat.ws.connect`` when collection imports it, before the session patches
anything) and ``tests/support/ws.py``, the source's sanctioned ``modules``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from test_guard_plugin import _line
from test_guard_plugin import _run as _run_with_report

from pytest_ssot import guard, sourceguard

CHAT_WS = """\
class RawClient:
    def __init__(self, url="ws://chat"):
        self.url = url


class Bare:
    pass


class Channel:
    def publish(self, message):
        return message


def connect(url="ws://chat"):
    return RawClient(url)


def product_ping():
    return connect().url


TIMEOUT = 3
"""

HELPERS = """\
import chat.ws
from chat.ws import connect as open_socket


def via_alias():
    return open_socket()


def build_client():
    return chat.ws.RawClient("ws://helper")


def build_bare():
    return chat.ws.Bare()


def publish():
    return chat.ws.Channel().publish("hello")


def ignored():
    return open_socket()  # ssot: ignore[raw-websocket]


def never_called():
    return open_socket()  # ssot: ignore[raw-websocket]


def call(function):
    return function()
"""

SANCTIONED = """\
from chat.ws import connect


def sanctioned_client():
    return connect()
"""

SOURCE = """\
[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-websocket"
forbid = {forbid}
use = "tests.support.ws.sanctioned_client()"
modules = ["tests.support.ws"]
runtime = true
"""
FORBID = ["chat.ws.connect", "chat.ws.RawClient", "chat.ws.Bare", "chat.ws.Channel.publish"]
USE = "use tests.support.ws.sanctioned_client()"


def _suite(
    pytester: pytest.Pytester,
    files: dict[str, str],
    mode: str = "warn",
    extra: str = "",
    forbid: list[str] = FORBID,
) -> None:
    (pytester.path / "pyproject.toml").write_text(
        f'[tool.ssot]\nmode = "{mode}"\n'
        + textwrap.dedent(extra)
        + "\n"
        + SOURCE.format(forbid=json.dumps(forbid))
    )
    layout = {
        "chat/__init__.py": "",
        "chat/ws.py": CHAT_WS,
        "tests/__init__.py": "",
        "tests/helpers.py": HELPERS,
        "tests/support/__init__.py": "",
        "tests/support/ws.py": SANCTIONED,
        **files,
    }
    for name, text in layout.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result, report = _run_with_report(pytester, *args)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    return result, report


def _runtime(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in report["violations"] if v["source"] == "runtime"]


def _sites(report: dict[str, Any]) -> dict[tuple[str, int], list[str]]:
    return {(v["path"], v["line"]): v["nodeids"] for v in _runtime(report)}


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> Iterator[None]:
    yield
    assert not sourceguard.installed(), "the inner session left interceptors in place"
    assert sourceguard.active_source_guard() is None
    assert not guard.installed()


CALLS = {
    "tests/test_chat.py": """
        from tests import helpers

        def test_alias_bound_before_the_session():
            assert helpers.via_alias().url == "ws://chat"

        def test_class():
            assert helpers.build_client().url == "ws://helper"

        def test_class_without_its_own_init():
            assert type(helpers.build_bare()).__name__ == "Bare"

        def test_method():
            assert helpers.publish() == "hello"

        def test_same_site_again():
            helpers.via_alias()

        def test_clean():
            pass
    """,
}


# -- detection -----------------------------------------------------------------------------
def test_calls_from_a_test_helper_are_runtime_violations_of_the_calling_test(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, CALLS)
    result, report = _run(pytester)
    result.assert_outcomes(passed=6)
    assert result.ret == 0
    module = "tests/test_chat.py::"
    assert _sites(report) == {
        ("tests/helpers.py", _line(HELPERS, "return open_socket()")): [
            module + "test_alias_bound_before_the_session",
            module + "test_same_site_again",
        ],
        ("tests/helpers.py", _line(HELPERS, '"ws://helper"')): [module + "test_class"],
        ("tests/helpers.py", _line(HELPERS, "chat.ws.Bare()")): [
            module + "test_class_without_its_own_init"
        ],
        ("tests/helpers.py", _line(HELPERS, '.publish("hello")')): [module + "test_method"],
    }
    messages = {v["message"] for v in _runtime(report)}
    assert messages == {
        f"test code called {api}() at run time; {USE}"
        for api in (
            "chat.ws.connect",
            "chat.ws.RawClient",
            "chat.ws.Bare",
            "chat.ws.Channel.publish",
        )
    }
    assert {(v["code"], v["name"], v["status"]) for v in _runtime(report)} == {
        ("SSOT201", "raw-websocket", "new")
    }
    assert report["summary"]["compliant"] == 1
    assert report["summary"]["by_rule"] == {"SSOT201": 4}
    # warn mode: one SSOTWarning per call site, at the calling line
    line = _line(HELPERS, "return open_socket()")
    result.stdout.fnmatch_lines(
        [
            f"*tests/helpers.py:{line}: SSOTWarning: SSOT201 test code called chat.ws.connect() "
            f"at run time; {USE} (raw-websocket)"
        ]
    )
    assert result.stdout.str().count("SSOTWarning: SSOT201") == 4


def test_an_alias_the_test_module_bound_before_the_session_is_caught(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_alias.py": """
                from chat.ws import connect as dial

                HANDLERS = {"dial": dial}

                def test_registry():
                    HANDLERS["dial"]()
            """
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    # The static rule sees the import and the registry; only the run-time guard sees the call.
    assert {(v["line"], v["source"]) for v in report["violations"]} == {
        (3, "static"),
        (6, "runtime"),
    }
    assert _sites(report) == {("tests/test_alias.py", 6): ["tests/test_alias.py::test_registry"]}


def test_product_code_and_the_sources_modules_may_call_it(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_allowed.py": """
                import chat.ws
                from tests import helpers
                from tests.support.ws import sanctioned_client

                def test_product_code():
                    assert chat.ws.product_ping() == "ws://chat"

                def test_sanctioned_module():
                    assert sanctioned_client().url == "ws://chat"

                def test_product_code_from_a_helper():
                    assert helpers.call(chat.ws.product_ping) == "ws://chat"

                def test_violating():
                    helpers.via_alias()
            """
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=4)
    assert [v["nodeids"] for v in report["violations"]] == [
        ["tests/test_allowed.py::test_violating"]
    ]


def test_a_call_on_a_statically_reported_line_is_that_same_violation(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_static.py": """
                from chat.ws import connect

                def dial():
                    return connect()

                def test_a():
                    dial()
            """,
            "tests/test_other.py": """
                from tests.test_static import dial

                def test_b():
                    dial()
            """,
        },
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    assert [(v["line"], v["source"]) for v in report["violations"]] == [(4, "static")]
    # the call adds the test of another module that reached the static line, warned once
    assert result.stdout.str().count("SSOTWarning: SSOT201") == 1
    assert report["violations"][0]["nodeids"] == [
        "tests/test_other.py::test_b",
        "tests/test_static.py::test_a",
    ]


# -- strict ----------------------------------------------------------------------------------
def test_strict_raises_source_access_error_at_the_call_site_and_fails_a_swallowing_test(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "tests/test_strict.py": """
                from tests import helpers

                def test_raises():
                    helpers.via_alias()
                    assert False, "never reached"

                def test_swallows():
                    try:
                        helpers.build_client()
                    except Exception:
                        pass

                def test_clean_after():
                    pass
            """
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2, failed=1, errors=1)
    assert result.ret == 1
    alias = _line(HELPERS, "return open_socket()")
    client = _line(HELPERS, '"ws://helper"')
    result.stdout.fnmatch_lines(
        [
            ">       return open_socket()",
            "E       pytest_ssot.errors.SourceAccessError: SSOT201 chat.ws.connect() called "
            f"directly at tests/helpers.py:{alias}; {USE}",
            f"tests/helpers.py:{alias}: SourceAccessError",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_swallows*",
            "*test code caught the SourceAccessError raised for its call of an API a "
            "team-defined source forbids*",
            f"*SSOT201 chat.ws.RawClient() called directly at tests/helpers.py:{client}*",
        ]
    )
    output = result.stdout.str()
    assert "never reached" not in output
    assert "sourceguard.py" not in output
    assert "<pytest-ssot" not in output
    assert "ERROR at teardown of test_clean_after" not in output
    # the warning came first, so a swallowed error still surfaces
    result.stdout.fnmatch_lines(["*SSOTWarning: SSOT201*raises SourceAccessError here (strict)"])
    assert {tuple(nodeids) for nodeids in _sites(report).values()} == {
        ("tests/test_strict.py::test_raises",),
        ("tests/test_strict.py::test_swallows",),
    }


def test_the_error_is_public_shares_a_base_with_env_access_error_and_pickles() -> None:
    import pickle

    import pytest_ssot

    error = pytest_ssot.SourceAccessError("SSOT201", "chat.ws.connect", "tests/h.py:3", USE)
    assert isinstance(error, pytest_ssot.RuntimeViolationError)
    assert issubclass(pytest_ssot.EnvAccessError, pytest_ssot.RuntimeViolationError)
    assert issubclass(pytest_ssot.RuntimeViolationError, pytest_ssot.SSOTError)
    copy = pickle.loads(pickle.dumps(error))
    assert (
        str(copy)
        == str(error)
        == (f"SSOT201 chat.ws.connect() called directly at tests/h.py:3; {USE}")
    )


# -- modes -----------------------------------------------------------------------------------
def test_tiers_and_the_command_line_mode_apply(pytester: pytest.Pytester) -> None:
    body = """
        from tests import helpers

        def test_call():
            helpers.via_alias()
    """
    _suite(
        pytester,
        {
            "tests/critical/__init__.py": "",
            "tests/critical/test_critical.py": body,
            "tests/legacy/__init__.py": "",
            "tests/legacy/test_legacy.py": body,
            "tests/test_default.py": body,
        },
        extra="""
            [[tool.ssot.tiers]]
            name = "critical"
            paths = ["tests/critical/**"]
            mode = "strict"

            [[tool.ssot.tiers]]
            name = "legacy"
            paths = ["tests/legacy/**"]
            mode = "off"
        """,
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED tests/critical/test_critical.py::test_call*"])
    assert list(_sites(report).values()) == [
        ["tests/critical/test_critical.py::test_call", "tests/test_default.py::test_call"]
    ]
    # --ssot-mode replaces every tier's mode: nothing fails, and the legacy tier counts too
    relaxed, relaxed_report = _run(pytester, "--ssot-mode=warn")
    relaxed.assert_outcomes(passed=3)
    assert list(_sites(relaxed_report).values()) == [
        [
            "tests/critical/test_critical.py::test_call",
            "tests/legacy/test_legacy.py::test_call",
            "tests/test_default.py::test_call",
        ]
    ]


@pytest.mark.parametrize(
    ("mode", "extra", "recorded"),
    [
        ("warn", "", True),
        ("warn", 'rules = { SSOT201 = "off" }', False),
        ("off", 'rules = { SSOT002 = "warn" }', False),
    ],
    ids=["on", "rule-off", "mode-off"],
)
def test_a_source_that_is_off_is_not_even_intercepted(
    pytester: pytest.Pytester, mode: str, extra: str, recorded: bool
) -> None:
    _suite(
        pytester,
        {
            "tests/test_off.py": """
                import pathlib

                import chat.ws
                from pytest_ssot import sourceguard
                from tests import helpers

                def test_call():
                    helpers.via_alias()
                    pathlib.Path("seen.txt").write_text(
                        f"{sourceguard.installed()} {chat.ws.connect.__code__.co_filename}"
                    )
            """
        },
        mode=mode,
        extra=extra,
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    installed, filename = (pytester.path / "seen.txt").read_text().split(" ", 1)
    assert installed == str(recorded)
    assert filename.startswith("<pytest-ssot") is recorded
    assert bool(_runtime(report)) is recorded


# -- exemptions, baseline --------------------------------------------------------------------
def test_an_inline_ignore_covers_calls_from_its_line(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_ignored.py": """
                from tests import helpers

                def test_ignored():
                    helpers.ignored()
            """
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=1)
    (violation,) = _runtime(report)
    assert (violation["line"], violation["status"]) == (
        _line(HELPERS, "def ignored") + 1,
        "exempted",
    )
    assert report["summary"]["compliance"] == 100.0
    # the ignore on a helper line that never ran is not reported as unused
    assert report["unused_ignores"] == []


def test_an_ssot_exempt_marker_covers_calls_by_code_or_name(pytester: pytest.Pytester) -> None:
    _suite(
        pytester,
        {
            "tests/test_exempt.py": """
                import pytest
                from tests import helpers

                @pytest.mark.ssot_exempt("raw-websocket", reason="migrating in CHAT-7")
                def test_by_name():
                    helpers.via_alias()

                @pytest.mark.ssot_exempt("SSOT201", reason="migrating in CHAT-8")
                def test_by_code():
                    helpers.build_client()
            """
        },
        mode="strict",
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    assert sorted(v["status"] for v in _runtime(report)) == ["exempted", "exempted"]


def test_a_baselined_call_is_known_and_stays_known_when_code_moves(
    pytester: pytest.Pytester,
) -> None:
    _suite(pytester, CALLS)
    first, _ = _run(pytester, "--ssot-baseline", "b.json", "--ssot-update-baseline")
    first.assert_outcomes(passed=6)
    entries = json.loads((pytester.path / "b.json").read_text())["entries"]
    assert sorted((e["code"], e["source"]) for e in entries) == [("SSOT201", "runtime")] * 4
    helpers = pytester.path / "tests" / "helpers.py"
    helpers.write_text("# moved down by a comment\n\n" + helpers.read_text())
    result, report = _run(pytester, "--ssot-mode=strict", "--ssot-baseline", "b.json")
    result.assert_outcomes(passed=6)
    assert sorted(v["status"] for v in _runtime(report)) == ["known"] * 4
    assert {v["fingerprint"] for v in _runtime(report)} == {e["fingerprint"] for e in entries}
    assert report["stale"] == []


# -- xdist -----------------------------------------------------------------------------------
def test_xdist_reports_the_same_as_a_serial_run(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    _suite(
        pytester,
        {
            **CALLS,
            "tests/test_more.py": """
                from tests import helpers

                def test_again():
                    helpers.via_alias()

                def test_method_again():
                    helpers.publish()
            """,
        },
        forbid=[*FORBID, "chat.ws.TIMEOUT"],
    )
    serial, serial_report = _run(pytester, "-p", "no:xdist")
    parallel, parallel_report = _run(pytester, "-n", "2", "-p", "no:benchmark")
    serial.assert_outcomes(passed=8, warnings=5)
    parallel.assert_outcomes(passed=8, warnings=5)
    assert parallel_report["violations"] == serial_report["violations"]
    assert parallel_report["summary"] == serial_report["summary"]
    assert len(_runtime(parallel_report)) == 4
    for result in (serial, parallel):
        assert result.stdout.str().count("chat.ws.TIMEOUT cannot be recorded at run time") == 1


# -- restoring -------------------------------------------------------------------------------
def test_the_originals_are_restored_after_an_in_process_session(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            **CALLS,
            "tests/test_identity.py": """
                import inspect

                import chat.ws
                from tests import helpers

                def test_identity_is_kept_while_patched():
                    assert chat.ws.connect.__code__.co_filename.startswith("<pytest-ssot")
                    assert helpers.open_socket is chat.ws.connect
                    assert str(inspect.signature(chat.ws.connect)) == "(url='ws://chat')"
                    assert str(inspect.signature(chat.ws.RawClient)) == "(url='ws://chat')"
                    assert "__init__" in vars(chat.ws.Bare)
                    assert isinstance(helpers.build_bare(), chat.ws.Bare)
            """,
        },
    )
    pytester.syspathinsert()
    # Imported here first, so the session patches (and must restore) these very objects.
    ws = importlib.import_module("chat.ws")
    connect = ws.connect
    code, defaults = connect.__code__, connect.__defaults__
    own_init = vars(ws.RawClient)["__init__"]
    publish = vars(ws.Channel)["publish"].__code__
    result, report = _run(pytester)
    result.assert_outcomes(passed=7)
    assert len(_runtime(report)) == 4
    assert sys.modules["chat.ws"] is ws
    assert ws.connect is connect
    assert (connect.__code__, connect.__defaults__, connect.__kwdefaults__) == (
        code,
        defaults,
        None,
    )
    assert "__signature__" not in vars(connect)
    assert vars(ws.RawClient)["__init__"] is own_init
    assert "__init__" not in vars(ws.Bare)
    assert vars(ws.Channel)["publish"].__code__ is publish
    assert inspect.signature(ws.Bare) == inspect.Signature()


INTERRUPTIONS = {
    "keyboard-interrupt": """
        import pathlib
        from tests import helpers

        def test_stop():
            helpers.via_alias()
            pathlib.Path("seen.txt").write_text(helpers.open_socket.__code__.co_filename)
            raise KeyboardInterrupt
    """,
    "exit-in-setup": """
        import pathlib
        import pytest
        from tests import helpers

        @pytest.fixture
        def stop():
            helpers.via_alias()
            pathlib.Path("seen.txt").write_text(helpers.open_socket.__code__.co_filename)
            pytest.exit("stopping in setup")

        def test_stop(stop):
            pass
    """,
}


@pytest.mark.parametrize("body", INTERRUPTIONS.values(), ids=INTERRUPTIONS.keys())
def test_an_interrupted_session_leaves_nothing_patched(
    pytester: pytest.Pytester, body: str
) -> None:
    _suite(pytester, {"tests/test_stop.py": body})
    pytester.syspathinsert()
    ws = importlib.import_module("chat.ws")
    code = ws.connect.__code__
    result = pytester.runpytest("-p", "ssot", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (pytester.path / "seen.txt").read_text().startswith("<pytest-ssot")  # was patched
    assert ws.connect.__code__ is code
    # the autouse fixture checks that no interceptor is left


# -- what cannot be recorded -----------------------------------------------------------------
UNRECORDABLE = {
    "os.getcwd": "a built-in (C) function",
    "chat.ws": "it is a module",
    "chat.ws.TIMEOUT": "not callable",
    "datetime.datetime": "a built-in (immutable) class: *",
    "chat.ws.Channel.missing": "AttributeError: type object 'Channel' has no attribute 'missing'",
    "chat.nowhere.thing": "no module or attribute chat.nowhere",
    "chat.broken.thing": "importing chat.broken failed: ImportError: needs a server",
}


def test_what_cannot_be_recorded_is_one_warning_each_and_the_rest_still_works(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {
            "chat/broken.py": "raise ImportError('needs a server')\n",
            "tests/test_calls.py": """
                from tests import helpers

                def test_call():
                    helpers.via_alias()

                def test_again():
                    helpers.via_alias()
            """,
        },
        forbid=["chat.ws.connect", *UNRECORDABLE],
    )
    result, report = _run(pytester)
    result.assert_outcomes(passed=2)
    assert result.ret == 0
    output = result.stdout.str()
    for api, reason in UNRECORDABLE.items():
        result.stdout.fnmatch_lines(
            [
                f"*pyproject.toml:*: SSOTWarning: SSOT201 (raw-websocket): {api} cannot be "
                f"recorded at run time ({reason}); the static rule still applies"
            ]
        )
        assert output.count(f": {api} cannot be recorded") == 1
    assert list(_sites(report).values()) == [
        ["tests/test_calls.py::test_again", "tests/test_calls.py::test_call"]
    ]


def test_warnings_as_errors_make_an_unrecordable_entry_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _suite(
        pytester,
        {"tests/test_x.py": "def test_x():\n    pass\n"},
        forbid=["chat.ws.connect", "os.getcwd"],
    )
    result = pytester.runpytest("-p", "ssot", "-W", "error::pytest_ssot.SSOTWarning")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: pytest-ssot: SSOT201 (raw-websocket): os.getcwd cannot be recorded at run time*"]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


# -- documentation -----------------------------------------------------------------------------
def test_ssot_rules_says_a_source_is_also_recorded_at_run_time(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot import cli

    _suite(pytester, {})
    monkeypatch.chdir(pytester.path)
    assert cli.main(["rules", "raw-websocket"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# raw-websocket (SSOT201)\n")
    assert "made by test code while tests run" in out
    assert "## Options\n- `[[tool.ssot.sources]]`\n- `runtime = true`\n" in out
    # without runtime = true the rule says nothing of it
    pyproject = pytester.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("runtime = true\n", ""))
    assert cli.main(["rules", "SSOT201"]) == 0
    assert "runtime" not in capsys.readouterr().out
