"""pytest-xdist glue: one truth across workers.

Every worker collects the whole suite (xdist requires it), scans it through the shared scan
cache and decides the strict-mode setup verdicts and the warn-mode warnings from that full
collection, so all workers agree on them; a warning is issued at the first affected test in
collection order, which runs on exactly one worker. Workers only run tests and ship plain data:

* with its first test report, a worker sends everything it collected (:class:`SessionData`
  as plain dicts plus what it deselected and scanned); a later report carries what its test
  added at run time (SSOT102) when that was new, so a worker that crashes has already sent
  what ran;
* with ``config.workeroutput`` it sends whatever was not streamed yet (a worker that ran no
  test sends everything there);
* the warn-mode warnings a test's setup issued travel with its setup report, as one JSON
  text, and the controller records them as pytest's own warning hook would (xdist sends each
  warning as an event of its own, serialised field by field in Python: for a drifted suite's
  thousands of warnings, seconds of work on both sides). Each carries the source line the
  warnings summary shows, read by the worker: the controller, which also receives every
  report, would otherwise read each warned file for it (a second for a large suite).

Each message travels as one JSON text: execnet serialises nested data item by item in Python,
which for a large suite's collected data cost workers and the controller seconds; ``json``
does the same in C.

The collection travels as a JSON text of its own, in a canonical order: every worker collects
the same suite, so the controller merges one text once and skips the byte-identical copies
the other workers send (each merge of a large suite's collection costs it about a second).
The controller merges all the rest (``SessionData.merge`` deduplicates), evaluates once,
prints the one summary and alone writes reports, history and the baseline. A worker that
went down without finishing marks the summary incomplete.

xdist's own hooks live on :class:`ControllerHooks`, registered only when xdist is loaded, so
``-p no:xdist`` and a missing xdist both work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import tokenize
import warnings
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from pytest_ssot import gcpause
from pytest_ssot.model import Finding
from pytest_ssot.policy import SessionData, finding_from_row, finding_row

PAYLOAD_VERSION = 1
OUTPUT_KEY = "pytest_ssot"  # in config.workeroutput
REPORT_ATTR = "pytest_ssot"  # on TestReport objects sent by workers
COLLECTED_ATTR = "pytest_ssot_collected"  # the same, for a worker's collection
COLLECTED_KEY = "pytest_ssot_collected"  # in config.workeroutput
WARNINGS_ATTR = "pytest_ssot_warnings"  # the same, for the warnings a test issued
SHARED_KEY = "pytest_ssot_shared"  # in workerinput: a directory all processes share
USAGE_KEY = "pytest_ssot_usage_error"  # in config.workeroutput: why a worker stopped

Key = tuple[str, str, int, int]
T = TypeVar("T")


class Session(Protocol):
    """What this module reads and fills in the plugin's per-session state."""

    config: pytest.Config
    data: SessionData
    deselected: int
    deselected_files: set[str]
    scanned_elsewhere: set[str]  # files scanned by workers (the controller scans nothing)
    lost: list[str]  # why the numbers miss part of what ran (a crashed worker)
    relayed: list[warnings.WarningMessage] | None  # a worker's warnings not yet sent
    usage_error: tuple[str, ...]  # the usage error that stopped this process's session
    _verdicts: dict[Key, Finding | bool]

    def scanned(self) -> set[str]: ...


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def install(config: pytest.Config, plugin: Session, category: type[Warning]) -> None:
    """Register the worker or controller side for this process, if xdist is in play;
    ``category`` is the class of the warnings workers relay."""
    if is_worker(config):
        config.pluginmanager.register(WorkerHooks(plugin), "ssot-xdist-worker")
    elif config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") != "no":
        # Only when xdist distributes (it turns -n N into --dist load): a serial run with
        # xdist installed would otherwise pay a hook call for each of its test reports.
        hooks = ControllerHooks(plugin, category)
        config.pluginmanager.register(hooks, "ssot-xdist-controller")


def scan_order(config: pytest.Config, paths: Sequence[T]) -> list[T]:
    """The order a process scans files in. Workers start at different offsets, so on a cold
    cache each one scans its own share first and then mostly finds the others' entries."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or not paths:
        return list(paths)
    try:
        index = int(str(workerinput["workerid"]).removeprefix("gw"))
        count = int(workerinput["workercount"])
    except (KeyError, ValueError):
        return list(paths)
    start = (index % max(count, 1)) * len(paths) // max(count, 1)
    return [*paths[start:], *paths[:start]]


class FirstTime:
    """Answers yes once per key for the whole session, across xdist workers.

    Run-time warnings are "issued once" per site; in a distributed run two workers may hit the
    same site, so the first to create a marker file in a directory shared by all processes
    wins. Without such a directory (serial run) it is an in-memory set.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._seen: set[str] = set()

    def __call__(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        if self.directory is None:
            return True
        marker = self.directory / hashlib.sha1(key.encode("utf-8")).hexdigest()
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        except OSError:
            return True  # cannot coordinate: a duplicate warning beats a lost one
        os.close(fd)
        return True


def first_time(config: pytest.Config) -> FirstTime:
    """The session's :class:`FirstTime`, shared across workers when distributed."""
    workerinput = getattr(config, "workerinput", None)
    shared = workerinput.get(SHARED_KEY) if isinstance(workerinput, dict) else None
    return FirstTime(Path(shared) if isinstance(shared, str) and Path(shared).is_dir() else None)


# -- payloads ------------------------------------------------------------------------------------
def _verdict_rows(verdicts: dict[Key, Finding | bool], keys: Any = None) -> list[list[Any]]:
    chosen = verdicts if keys is None else {k: verdicts[k] for k in keys if k in verdicts}
    return [
        [list(key), finding_row(v) if isinstance(v, Finding) else bool(v)]
        for key, v in chosen.items()
    ]


def collected_payload(plugin: Session) -> dict[str, Any]:
    """Everything a worker learnt from collection and scanning, as plain data."""
    return {
        "version": PAYLOAD_VERSION,
        "data": plugin.data.to_dict(),
        "deselected": plugin.deselected,
        "deselected_files": sorted(plugin.deselected_files),
        "scanned": sorted(plugin.scanned()),
        "verdicts": _verdict_rows(plugin._verdicts),
    }


def runtime_payload(
    plugin: Session, journal: list[tuple[Finding, tuple[str, ...]]]
) -> dict[str, Any]:
    """What tests added since the last report: findings, the inline ignores of their files
    (a helper module's ignore is only read when a test hits it) and hook verdicts."""
    paths = {finding.path for finding, _ in journal}
    suppressions = plugin.data.suppressions
    return {
        "version": PAYLOAD_VERSION,
        "findings": [[finding_row(f), list(nodeids)] for f, nodeids in journal],
        "suppressions": {
            path: [[line, sorted(codes)] for line, codes in suppressions[path].items()]
            for path in sorted(paths)
            if path in suppressions
        },
        "verdicts": _verdict_rows(plugin._verdicts, {f.key for f, _ in journal}),
    }


def merge_payload(plugin: Session, payload: Any) -> bool:
    """Merge one worker payload into the controller's state; False if it is unreadable."""
    if not isinstance(payload, dict) or payload.get("version") != PAYLOAD_VERSION:
        return False
    try:
        if "data" in payload:
            plugin.data.merge(SessionData.from_dict(payload["data"]))
            plugin.deselected = max(plugin.deselected, int(payload["deselected"]))
            plugin.deselected_files.update(map(str, payload["deselected_files"]))
            plugin.scanned_elsewhere.update(map(str, payload["scanned"]))
        for row, nodeids in payload.get("findings", ()):
            plugin.data.add(finding_from_row(row), [str(n) for n in nodeids])
        for path, lines in payload.get("suppressions", {}).items():
            target = plugin.data.suppressions.setdefault(str(path), {})
            target.update({int(line): frozenset(codes) for line, codes in lines})
        for key, verdict in payload.get("verdicts", ()):
            plugin._verdicts.setdefault(
                (str(key[0]), str(key[1]), int(key[2]), int(key[3])),
                finding_from_row(verdict) if isinstance(verdict, list) else bool(verdict),
            )
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return True


def encode_message(message: dict[str, Any] | list[Any]) -> str:
    """A worker's message as one JSON text (the payloads are JSON-compatible by design).
    ASCII only: an undecodable file name reaches Python as lone surrogates, which execnet
    cannot encode as UTF-8, and JSON escapes carry them through unchanged."""
    return json.dumps(message, separators=(",", ":"))


def decode_message(raw: Any) -> dict[str, Any] | None:
    """What :func:`encode_message` made of a dict, or None when it is not such a message."""
    message = _decoded(raw)
    return message if isinstance(message, dict) else None


def decode_list(raw: Any) -> list[Any] | None:
    """What :func:`encode_message` made of a list, or None when it is not such a message."""
    value = _decoded(raw)
    return value if isinstance(value, list) else None


def _decoded(raw: Any) -> Any:
    """The JSON value of a text, or None when it is not a JSON text."""
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# -- the worker side -----------------------------------------------------------------------------
class WorkerHooks:
    """Streams a worker's data to the controller on its test reports and workeroutput."""

    def __init__(self, plugin: Session) -> None:
        self.plugin = plugin
        self.collected_sent = False
        plugin.relayed = []
        self._sources: dict[str, tuple[str, ...]] = {}  # the last few warned files' lines

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self) -> None:
        # From here on every add() is run-time data to stream (static data goes in one piece).
        self.plugin.data.journal = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if not self.collected_sent:
            setattr(report, COLLECTED_ATTR, self._collected())
        if self.plugin.data.journal:
            setattr(report, REPORT_ATTR, encode_message(self._message()))
        relayed = self.plugin.relayed
        if relayed:
            texts = [
                [str(w.message), w.filename, w.lineno, self._line(w.filename, w.lineno)]
                for w in relayed
            ]
            setattr(report, WARNINGS_ATTR, encode_message(texts))
            relayed.clear()
        return report

    def _line(self, filename: str, lineno: int) -> str:
        """The line a warning points at, as :mod:`linecache` would read it for the warnings
        summary ("" when it cannot be read). A test's warnings point into a few files, and
        the tests of one file mostly run one after another on the same worker: the last few
        files' lines are kept, not every file's."""
        lines = self._sources.get(filename)
        if lines is None:
            if len(self._sources) >= 16:
                self._sources.clear()
            lines = self._sources[filename] = _source_lines(filename)
        return lines[lineno - 1] if 0 < lineno <= len(lines) else ""

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Runs before xdist sends workeroutput (its hook wrapper sends after all others).
        output = session.config.workeroutput  # type: ignore[attr-defined]
        if self.plugin.usage_error:
            output[USAGE_KEY] = list(self.plugin.usage_error)
            return
        if not self.collected_sent:
            output[COLLECTED_KEY] = self._collected()
        message = self._message()
        message["finished"] = True
        output[OUTPUT_KEY] = encode_message(message)

    def _collected(self) -> str:
        self.collected_sent = True
        with gcpause.paused():
            return encode_message(collected_payload(self.plugin))

    def _message(self) -> dict[str, Any]:
        """What tests added that the controller has not been sent yet."""
        message: dict[str, Any] = {}
        journal = self.plugin.data.journal
        if journal:
            message["runtime"] = runtime_payload(self.plugin, journal)
            journal.clear()
        return message


# -- the controller side -------------------------------------------------------------------------
class ControllerHooks:
    """Merges what workers send; notes workers that went down before finishing."""

    def __init__(self, plugin: Session, category: type[Warning]) -> None:
        self.plugin = plugin
        self.category = category
        self.shared: Path | None = None
        self.crashed: dict[str, str] = {}  # worker id -> why its numbers are partial
        self.unreadable = 0
        self.collections: set[bytes] = set()  # digests of the collection texts merged
        plugin.config.add_cleanup(self._remove_shared)

    def _remove_shared(self) -> None:
        if self.shared is not None:
            shutil.rmtree(self.shared, ignore_errors=True)
            self.shared = None

    def _merge_collected(self, raw: Any) -> None:
        """Merge a worker's collection, unless one just like it was merged already."""
        ascii_text = isinstance(raw, str) and raw.isascii()
        digest = hashlib.sha256(raw.encode("ascii")).digest() if ascii_text else None
        if digest is not None and digest in self.collections:
            return
        with gcpause.paused():  # it holds the whole collection
            payload = decode_message(raw)
            merged = payload is not None and merge_payload(self.plugin, payload)
        if not merged:
            self.unreadable += 1
            self._lost()
        elif digest is not None:
            self.collections.add(digest)

    def _merge(self, raw: Any) -> dict[str, Any] | None:
        """Merge one message from a worker; what it said, or None when it was unreadable."""
        message = decode_message(raw)
        if message is None or (
            "runtime" in message and not merge_payload(self.plugin, message["runtime"])
        ):
            self.unreadable += 1
            self._lost()
        return message

    def _lost(self) -> None:
        reasons = [self.crashed[k] for k in sorted(self.crashed)]
        if self.unreadable:
            reasons.append(f"{self.unreadable} unreadable message(s) from xdist workers")
        self.plugin.lost[:] = reasons

    def pytest_configure_node(self, node: Any) -> None:
        if self.shared is None:
            with contextlib.suppress(OSError):
                self.shared = Path(tempfile.mkdtemp(prefix="pytest-ssot-"))
        if self.shared is not None:
            node.workerinput[SHARED_KEY] = str(self.shared)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        collected = report.__dict__.pop(COLLECTED_ATTR, None)
        if collected is not None:
            self._merge_collected(collected)
        message = report.__dict__.pop(REPORT_ATTR, None)
        if message is not None:
            self._merge(message)
        relayed = report.__dict__.pop(WARNINGS_ATTR, None)
        if relayed is not None:
            self._record_warnings(relayed, report.nodeid)

    def _record_warnings(self, raw: Any, nodeid: str) -> None:
        """Record a test's relayed warnings as xdist records a worker's warning: for the
        terminal's warnings summary and any other plugin that follows warnings."""
        relayed = decode_list(raw)
        readable = relayed is not None
        record = self.plugin.config.hook.pytest_warning_recorded.call_historic
        for entry in relayed or ():
            try:
                text, filename, lineno, line = entry
                message = warnings.WarningMessage(
                    self.category(str(text)),
                    self.category,
                    str(filename),
                    int(lineno),
                    line=str(line),
                )
            except (TypeError, ValueError):
                readable = False
                continue
            record(
                kwargs={
                    "warning_message": message,
                    "when": "runtest",
                    "nodeid": nodeid,
                    "location": None,
                }
            )
        if not readable:
            self.unreadable += 1
            self._lost()

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None)
        output = output if isinstance(output, dict) else {}
        problems = output.get(USAGE_KEY)
        if isinstance(problems, list) and problems:
            # The worker stopped on a usage error (a base class it cannot import): the whole
            # session is one, as in a serial run (exit code 4, the message, no INTERNALERROR).
            raise pytest.UsageError(*(str(p) for p in problems))
        if output.get(COLLECTED_KEY) is not None:
            self._merge_collected(output[COLLECTED_KEY])
        raw = output.get(OUTPUT_KEY)
        message = self._merge(raw) if raw is not None else None
        if error is not None and not (message is not None and message.get("finished")):
            name = _worker_id(node)
            self.crashed.setdefault(name, f"xdist worker {name} crashed")
            self._lost()

    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        name = _worker_id(getattr(report, "node", None))
        self.crashed[name] = f"xdist worker {name} crashed running {crashitem}"
        self._lost()


def _source_lines(filename: str) -> tuple[str, ...]:
    """A file's lines read as :func:`linecache.updatecache` reads them (the encoding its
    coding cookie declares, universal newlines), without filling linecache. Whatever makes
    linecache give up (and a name it cannot even open) gives no lines."""
    try:
        with tokenize.open(filename) as handle:
            lines = handle.readlines()
    except (OSError, ValueError, SyntaxError):  # ValueError: undecodable, or a NUL in a name
        return ()
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return tuple(lines)


def _worker_id(node: Any) -> str:
    gateway = getattr(node, "gateway", None)
    return str(getattr(gateway, "id", None) or "?")
