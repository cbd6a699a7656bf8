"""What xdist workers send: plain data that survives the wire and merges to the serial truth."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_ssot.model import Exemption, Finding, Scope, UncheckedFile
from pytest_ssot.policy import SessionData
from pytest_ssot.policy import TestRecord as Record
from pytest_ssot.store import FindingStore
from pytest_ssot.xdist import (
    COLLECTED_ATTR,
    COLLECTED_KEY,
    OUTPUT_KEY,
    PAYLOAD_VERSION,
    REPORT_ATTR,
    WARNINGS_ATTR,
    ControllerHooks,
    FirstTime,
    collected_payload,
    decode_message,
    encode_message,
    merge_payload,
    runtime_payload,
    scan_order,
)

MODULE = Finding("SSOT002", "tests/test_a.py", 3, 5, "os.environ accessed", snippet="os.environ")
IN_TEST = Finding(
    "SSOT003",
    "tests/test_a.py",
    9,
    9,
    "MagicMock is an ad-hoc mock",
    scope=Scope(("TestA", "test_b"), None, 1),
    end_line=10,
)
RUNTIME = Finding(
    "SSOT102",
    "tests/helpers.py",
    4,
    1,
    "test code read the process environment",
    scope=Scope(("configure",)),
    source="runtime",
)


def _data() -> SessionData:
    data = SessionData()
    a, b = "tests/test_a.py::TestA::test_a", "tests/test_a.py::TestA::test_b"
    exempt = Exemption(frozenset({"SSOT003"}), "legacy", "2099-01-01", "tests/test_a.py::TestA")
    data.tests = {
        a: Record("tests/test_a.py"),
        b: Record("tests/test_a.py", (exempt,)),
    }
    data.add(MODULE, list(data.tests))
    data.add(IN_TEST, ["tests/test_a.py::TestA::test_b", "not/collected.py::test_x"])
    data.suppressions["tests/test_a.py"] = {3: frozenset(), 7: frozenset({"SSOT002"})}
    data.unchecked["tests/test_broken.py"] = UncheckedFile("tests/test_broken.py", "syntax error")
    data.session_findings.append(Finding("SSOT004", "pyproject.toml", 12, 1, "not the runner"))
    data.invalid_exemptions["tests/test_a.py::test_c"] = "ssot_exempt needs reason"
    data.compact()  # as the plugin leaves it after collection
    return data


def _wire(value: Any) -> Any:
    """What execnet would deliver: plain JSON-compatible data only."""
    return json.loads(json.dumps(value))


def test_session_data_survives_the_wire_unchanged() -> None:
    data = _data()
    assert SessionData.from_dict(_wire(data.to_dict())) == data


def test_affected_tests_travel_as_indexes_into_the_tests() -> None:
    wire = _data().to_dict()
    rows = {row[0][0]: row[1] for row in wire["findings"]}
    assert sorted(rows["SSOT002"]) == [0, 1]
    assert sorted(rows["SSOT003"], key=str) == [1, "not/collected.py::test_x"]


def test_merging_every_workers_copy_counts_each_finding_once() -> None:
    serial = _data()
    controller = SessionData()
    for _ in range(4):  # every worker collected every module
        controller.merge(SessionData.from_dict(_wire(_data().to_dict())))
    assert controller == serial
    assert len(controller.session_findings) == 1


def test_malformed_data_raises_a_plain_error() -> None:
    wire = _data().to_dict()
    wire["findings"][0][0] = wire["findings"][0][0][:3]
    with pytest.raises(ValueError, match="fields"):
        SessionData.from_dict(wire)


class _Plugin:
    """The slice of the plugin's state that the glue reads and fills."""

    def __init__(self, data: SessionData | None = None) -> None:
        self.config: Any = None
        self.data = data or SessionData()
        self.deselected = 0
        self.deselected_files: set[str] = set()
        self.scanned_elsewhere: set[str] = set()
        self.lost: list[str] = []
        self._verdicts: dict[tuple[str, str, int, int], Finding | bool] = {}
        self._scanned = {"tests/test_a.py", "tests/conftest.py"}

    def scanned(self) -> set[str]:
        return self._scanned


def test_a_collected_payload_carries_what_the_controller_cannot_see() -> None:
    worker = _Plugin(_data())
    worker.deselected = 2
    worker.deselected_files = {"tests/test_c.py"}
    replaced = dataclasses.replace(IN_TEST, message="rewritten by a hook")
    worker._verdicts = {MODULE.key: False, IN_TEST.key: replaced}
    controller = _Plugin()

    assert merge_payload(controller, _wire(collected_payload(worker)))  # type: ignore[arg-type]

    assert controller.data == worker.data
    assert controller.deselected == 2
    assert controller.deselected_files == {"tests/test_c.py"}
    assert controller.scanned_elsewhere == {"tests/test_a.py", "tests/conftest.py"}
    assert controller._verdicts == {MODULE.key: False, IN_TEST.key: replaced}


def test_a_runtime_payload_carries_findings_and_the_ignores_of_their_files() -> None:
    worker = _Plugin(_data())
    worker.data.suppressions["tests/helpers.py"] = {4: frozenset({"SSOT102"})}
    journal = [(RUNTIME, ("tests/test_a.py::TestA::test_a",))]
    controller = _Plugin(_data())

    assert merge_payload(controller, _wire(runtime_payload(worker, journal)))  # type: ignore[arg-type]

    assert controller.data.findings[RUNTIME.key] == RUNTIME
    assert set(controller.data.affected[RUNTIME.key]) == {"tests/test_a.py::TestA::test_a"}
    assert controller.data.suppressions["tests/helpers.py"] == {4: frozenset({"SSOT102"})}


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "text",
        {"version": PAYLOAD_VERSION + 1, "findings": []},
        {"version": PAYLOAD_VERSION, "findings": [["not", "a", "row"]]},
        {"version": PAYLOAD_VERSION, "data": {"tests": "nope"}},
    ],
)
def test_an_unreadable_payload_is_refused_not_half_merged_into_a_crash(payload: Any) -> None:
    controller = _Plugin()
    assert not merge_payload(controller, payload)  # type: ignore[arg-type]


class _ControllerConfig:
    def add_cleanup(self, function: Any) -> None:
        pass


def _controller() -> tuple[_Plugin, ControllerHooks]:
    plugin = _Plugin()
    plugin.config = _ControllerConfig()
    return plugin, ControllerHooks(plugin, UserWarning)  # type: ignore[arg-type]


def test_a_collection_travels_as_one_json_text_that_the_controller_merges() -> None:
    worker = _Plugin(_data())
    raw = encode_message(collected_payload(worker))  # type: ignore[arg-type]
    assert isinstance(raw, str)
    assert decode_message(raw) == json.loads(raw)
    controller, hooks = _controller()

    hooks.pytest_runtest_logreport(SimpleNamespace(**{COLLECTED_ATTR: raw}))  # type: ignore[arg-type]

    assert controller.data == worker.data
    assert controller.lost == []


def test_the_controller_merges_a_collection_every_worker_sent_alike_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_ssot import xdist

    merged: list[object] = []
    original = xdist.merge_payload

    def spy(plugin: Any, payload: Any) -> bool:
        merged.append(payload)
        return original(plugin, payload)

    monkeypatch.setattr(xdist, "merge_payload", spy)
    same = encode_message(collected_payload(_Plugin(_data())))  # type: ignore[arg-type]
    other_data = _data()
    other_data.unchecked["tests/test_other.py"] = UncheckedFile("tests/test_other.py", "syntax")
    other = encode_message(collected_payload(_Plugin(other_data)))  # type: ignore[arg-type]
    controller, hooks = _controller()

    hooks.pytest_runtest_logreport(SimpleNamespace(**{COLLECTED_ATTR: same}))  # type: ignore[arg-type]
    hooks.pytest_runtest_logreport(SimpleNamespace(**{COLLECTED_ATTR: same}))  # type: ignore[arg-type]
    down = SimpleNamespace(workeroutput={COLLECTED_KEY: same}, gateway=SimpleNamespace(id="gw2"))
    hooks.pytest_testnodedown(down, error=None)
    assert len(merged) == 1

    hooks.pytest_runtest_logreport(SimpleNamespace(**{COLLECTED_ATTR: other}))  # type: ignore[arg-type]
    assert len(merged) == 2
    assert controller.data == other_data
    assert controller.lost == []


def test_a_collection_is_encoded_alike_whatever_order_files_were_scanned_in() -> None:
    forward, backward = _data(), _data()
    for data, paths in ((forward, ["a", "b"]), (backward, ["b", "a"])):
        for path in paths:
            data.suppressions[f"tests/{path}.py"] = {2: frozenset({"SSOT003"}), 1: frozenset()}
            data.unchecked[f"tests/{path}_broken.py"] = UncheckedFile(f"tests/{path}.py", "x")
            data.invalid_exemptions[f"tests/{path}.py::test_x"] = "needs reason"
    assert list(forward.suppressions) != list(backward.suppressions)

    assert encode_message(forward.to_dict()) == encode_message(backward.to_dict())


def test_a_message_carries_undecodable_file_names_as_plain_ascii() -> None:
    name = "tests/test_\udcff\u00e9.py"  # a byte that is not UTF-8, as os.fsdecode gives it
    raw = encode_message({"scanned": [name]})
    assert raw.isascii()
    raw.encode("utf-8")  # what execnet does with a str: lone surrogates would raise here
    assert decode_message(raw) == {"scanned": [name]}


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '{"runtime": {}}', 7])
@pytest.mark.parametrize("attr", [REPORT_ATTR, COLLECTED_ATTR, WARNINGS_ATTR])
def test_a_message_that_is_not_a_json_object_counts_as_unreadable(raw: Any, attr: str) -> None:
    controller, hooks = _controller()
    controller.config.hook = _recording_hook([])  # type: ignore[attr-defined]
    report = SimpleNamespace(nodeid="tests/test_a.py::test_a", **{attr: raw})
    hooks.pytest_runtest_logreport(report)  # type: ignore[arg-type]
    assert controller.lost == ["1 unreadable message(s) from xdist workers"]


def _recording_hook(recorded: list[dict[str, Any]]) -> Any:
    def call_historic(kwargs: dict[str, Any]) -> None:
        recorded.append(kwargs)

    return SimpleNamespace(pytest_warning_recorded=SimpleNamespace(call_historic=call_historic))


def test_relayed_warnings_are_recorded_for_their_test_as_xdist_records_a_workers() -> None:
    controller, hooks = _controller()
    recorded: list[dict[str, Any]] = []
    controller.config.hook = _recording_hook(recorded)  # type: ignore[attr-defined]
    text = "SSOT002 os.environ accessed (direct-environ-access)"
    relayed = [[text, "/p/tests/test_a.py", 3, "    os.environ.get('A')\n"]]
    report = SimpleNamespace(
        nodeid="tests/test_a.py::test_a", **{WARNINGS_ATTR: json.dumps(relayed)}
    )
    hooks.pytest_runtest_logreport(report)  # type: ignore[arg-type]

    (kwargs,) = recorded
    message = kwargs.pop("warning_message")
    assert kwargs == {"when": "runtest", "nodeid": "tests/test_a.py::test_a", "location": None}
    assert (message.category, str(message.message)) == (UserWarning, relayed[0][0])
    assert isinstance(message.message, UserWarning)
    assert (message.filename, message.lineno) == ("/p/tests/test_a.py", 3)
    assert message.line == relayed[0][3]  # the worker's: the controller reads no file for it
    assert controller.lost == []
    assert not hasattr(report, WARNINGS_ATTR)  # taken off: the report goes on to others

    # A broken entry is lost (and said so); the readable ones beside it still count.
    bad = SimpleNamespace(nodeid="t::b", **{WARNINGS_ATTR: json.dumps([["x"], *relayed])})
    hooks.pytest_runtest_logreport(bad)  # type: ignore[arg-type]
    assert len(recorded) == 2
    assert controller.lost == ["1 unreadable message(s) from xdist workers"]


def test_a_worker_sends_each_warnings_line_as_linecache_reads_it(tmp_path: Path) -> None:
    import linecache
    import warnings

    from pytest_ssot import xdist

    latin = tmp_path / "test_latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\r\nimport os\r\nX = '\xe9'  # os.environ\r\n")
    plain = tmp_path / "test_plain.py"
    plain.write_text("import os\n\n\ndef test_a():\n    os.getenv('A')", encoding="utf-8")
    plugin = _Plugin()
    worker = xdist.WorkerHooks(plugin)  # type: ignore[arg-type]
    worker.collected_sent = True
    wanted = [(latin, 3), (plain, 5), (plain, 9), (tmp_path / "gone.py", 1)]
    assert plugin.relayed == []
    plugin.relayed = [  # type: ignore[assignment]
        warnings.WarningMessage(UserWarning("w"), UserWarning, str(path), line)
        for path, line in wanted
    ]
    report = SimpleNamespace()
    hook = worker.pytest_runtest_makereport()
    next(hook)
    with pytest.raises(StopIteration):
        hook.send(report)

    sent = json.loads(getattr(report, WARNINGS_ATTR))
    assert [entry[3] for entry in sent] == [linecache.getline(str(p), n) for p, n in wanted]
    assert sent[0][3] == "X = '\u00e9'  # os.environ\n"  # its declared encoding, one newline
    assert sent[2][3] == ""  # past the end, as linecache says
    assert plugin.relayed == []
    assert xdist._source_lines(str(tmp_path / "nul\0.py")) == ()  # no lines, no error


def test_a_worker_that_finished_is_not_counted_as_crashed_when_its_node_goes_down() -> None:
    controller, hooks = _controller()
    finished = SimpleNamespace(
        workeroutput={OUTPUT_KEY: encode_message({"finished": True})},
        gateway=SimpleNamespace(id="gw0"),
    )
    hooks.pytest_testnodedown(finished, error="closed")
    assert controller.lost == []

    cut_short = SimpleNamespace(workeroutput={}, gateway=SimpleNamespace(id="gw1"))
    hooks.pytest_testnodedown(cut_short, error="crashed")
    assert controller.lost == ["xdist worker gw1 crashed"]


def test_the_journal_records_adds_after_it_is_switched_on_and_copies_do_not_share_it() -> None:
    import dataclasses

    data = _data()
    assert data.journal is None
    data.journal = []
    data.add(RUNTIME, iter(["tests/test_a.py::TestA::test_a"]))  # an iterator is read once
    assert data.journal == [(RUNTIME, ("tests/test_a.py::TestA::test_a",))]
    assert set(data.affected[RUNTIME.key]) == {"tests/test_a.py::TestA::test_a"}
    view = dataclasses.replace(data, findings=FindingStore())
    view.add(MODULE, [])
    assert view.journal is None
    assert len(data.journal) == 1


class _Config:
    def __init__(self, workerinput: dict[str, Any] | None) -> None:
        if workerinput is not None:
            self.workerinput = workerinput


def test_workers_scan_from_different_offsets_and_the_serial_run_in_order() -> None:
    paths = list(range(10))
    assert scan_order(_Config(None), paths) == paths  # type: ignore[arg-type]
    orders = [
        scan_order(_Config({"workerid": f"gw{i}", "workercount": 2}), paths)  # type: ignore[arg-type]
        for i in range(2)
    ]
    assert orders[0] == paths
    assert orders[1] == [5, 6, 7, 8, 9, 0, 1, 2, 3, 4]
    assert scan_order(_Config({"workerid": "odd"}), paths) == paths  # type: ignore[arg-type]


def _claim(directory: str, keys: list[str], queue: multiprocessing.Queue[list[str]]) -> None:
    once = FirstTime(Path(directory))
    queue.put([key for key in keys if once(key)])


def test_first_time_says_yes_once_per_key_across_processes(tmp_path: Path) -> None:
    keys = [f"SSOT102:tests/helpers.py:{n}" for n in range(50)]
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    workers = [context.Process(target=_claim, args=(str(tmp_path), keys, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    claimed = [key for _ in workers for key in queue.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=60)
    assert sorted(claimed) == sorted(keys)


def test_first_time_without_a_shared_directory_is_per_process() -> None:
    once = FirstTime()
    assert [once("a"), once("a"), once("b")] == [True, False, True]


def test_whole_collections_are_encoded_and_merged_with_the_cyclic_gc_paused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each allocation burst would make the collector walk the whole heap again: decoding one
    worker's collection of 2,000 files took 0.7 s with it, 0.1 s without."""
    import gc

    from pytest_ssot import xdist

    seen: list[tuple[str, bool]] = []
    for name in ("collected_payload", "merge_payload"):
        original = getattr(xdist, name)

        def spy(*args: Any, _original: Any = original, _name: str = name) -> Any:
            seen.append((_name, gc.isenabled()))
            return _original(*args)

        monkeypatch.setattr(xdist, name, spy)
    worker = xdist.WorkerHooks(_Plugin(_data()))  # type: ignore[arg-type]
    report = SimpleNamespace()
    hook = worker.pytest_runtest_makereport()
    next(hook)
    with pytest.raises(StopIteration):
        hook.send(report)
    _, controller = _controller()
    assert gc.isenabled()

    controller.pytest_runtest_logreport(report)  # type: ignore[arg-type]

    assert seen == [("collected_payload", False), ("merge_payload", False)]
    assert gc.isenabled()
