"""The key index: a file unchanged since an earlier session is found in the scan cache by
``stat`` alone, and any change to it (even one that keeps its size and modification time) is
read again; a damaged or foreign index is ignored, never trusted."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from pytest_ssot import cache as cache_module
from pytest_ssot.cache import DAY, KEY_INDEX, KeyIndex, ScanCache
from pytest_ssot.config import Config
from pytest_ssot.plugin import PLUGIN_KEY
from pytest_ssot.rules import RuleSet, builtin_rules, check_file

SOURCE = b'import os\n\n\ndef test_a():\n    assert os.environ.get("A") is None\n'
SAME_SIZE = b'import os\n\n\ndef test_a():\n    assert os.getenv("A")      is None\n'


@pytest.fixture
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by a test are only milliseconds old: let the index trust them."""
    monkeypatch.setattr(cache_module, "SETTLED_NS", 0)


def _setup(tmp_path: Path) -> tuple[Path, RuleSet, ScanCache]:
    path = tmp_path / "test_a.py"
    path.write_bytes(SOURCE)
    ruleset = RuleSet(tuple(builtin_rules(Config(root=tmp_path))))
    return path, ruleset, ScanCache(tmp_path / "cache", ruleset.cache_salt())


def _first_session(path: Path, ruleset: RuleSet, cache: ScanCache) -> None:
    keys = KeyIndex(cache)
    check_file(path, "test_a.py", ruleset, cache, keys=keys)
    keys.save()


def _edit_in_place(path: Path, content: bytes) -> None:
    """Rewrite ``path`` in place and set its modification time back, as a tool restoring
    times would: only the change time (which no tool can set) still tells."""
    before = path.stat()
    deadline = time.monotonic() + 5
    while True:
        with path.open("r+b") as handle:
            handle.write(content)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        if path.stat().st_ctime_ns != before.st_ctime_ns or time.monotonic() > deadline:
            break
        time.sleep(0.01)  # still within the file system's clock tick
    assert path.stat().st_ctime_ns != before.st_ctime_ns
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert path.stat().st_size == before.st_size


@pytest.mark.usefixtures("settled_at_once")
def test_an_unchanged_file_is_found_in_the_cache_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)

    keys = KeyIndex(cache)
    read_bytes = Path.read_bytes

    def not_the_module(self: Path) -> bytes:
        assert self != path, "the module was read"
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", not_the_module)
    facts, findings = check_file(path, "test_a.py", ruleset, cache, keys=keys)

    assert facts.error is None
    assert [(f.code, f.line) for f in findings] == [("SSOT002", 5)]
    assert (cache.hits, cache.misses) == (1, 1)


def _alter_key(cache: ScanCache, path: Path, key: str, *, digest_again: bool) -> None:
    """Give ``path`` another key in the saved index: a damaged body (its digest no longer
    matches) or, ``digest_again``, a forged one (the digest made for the new body)."""
    index = cache.directory / KEY_INDEX  # type: ignore[operator]
    header, body = index.read_bytes().split(b"\n", 1)
    entries = json.loads(body)
    entries[str(path)][5] = key
    altered = json.dumps(entries).encode()
    if digest_again:
        forged = {**json.loads(header), "digest": cache_module._digest(altered)}
        header = json.dumps(forged).encode()
    index.write_bytes(header + b"\n" + altered)


@pytest.mark.usefixtures("settled_at_once")
def test_an_edit_keeping_size_and_modification_time_is_read_again(tmp_path: Path) -> None:
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)

    _edit_in_place(path, SAME_SIZE)
    keys = KeyIndex(cache)
    _, findings = check_file(path, "test_a.py", ruleset, cache, keys=keys)

    assert [f.message.split()[0] for f in findings] == ["os.getenv"]
    keys.save()
    assert KeyIndex(cache).lookup(str(path)) == cache.key(SAME_SIZE)


@pytest.mark.usefixtures("settled_at_once")
def test_a_file_replaced_by_another_is_read_again(tmp_path: Path) -> None:
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)

    replacement = tmp_path / "new.py"
    replacement.write_bytes(SAME_SIZE)
    os.utime(replacement, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.replace(replacement, path)  # as editors save: a new inode under the old name

    assert KeyIndex(cache).lookup(str(path)) is None


def test_a_file_changed_moments_ago_is_not_remembered(tmp_path: Path) -> None:
    # Changed again within the same clock tick, it could keep every time the index compares.
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)

    assert KeyIndex(cache).lookup(str(path)) is None
    assert not (cache.directory / KEY_INDEX).exists()  # type: ignore[operator]


@pytest.mark.usefixtures("settled_at_once")
@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json\n{}",
        b'{"format": 1}',  # no body
        b'{"format": 99, "salt": "", "digest": ""}\n{}',
        b"[]\n{}",
    ],
)
def test_a_damaged_index_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    path, ruleset, cache = _setup(tmp_path)
    index = tmp_path / "cache" / KEY_INDEX
    index.parent.mkdir(parents=True)
    index.write_bytes(damage)

    keys = KeyIndex(cache)
    assert keys.lookup(str(path)) is None
    check_file(path, "test_a.py", ruleset, cache, keys=keys)
    keys.save()

    assert KeyIndex(cache).lookup(str(path)) == cache.key(SOURCE)


@pytest.mark.usefixtures("settled_at_once")
def test_an_index_whose_body_was_altered_is_not_trusted(tmp_path: Path) -> None:
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)
    _alter_key(cache, path, cache.key(SAME_SIZE), digest_again=False)  # other content's

    assert KeyIndex(cache).lookup(str(path)) is None


@pytest.mark.usefixtures("settled_at_once")
def test_another_configuration_does_not_use_the_index(tmp_path: Path) -> None:
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)

    other = ScanCache(tmp_path / "cache", ruleset.cache_salt(full=True))

    assert KeyIndex(other).lookup(str(path)) is None
    assert KeyIndex(cache).lookup(str(path)) == cache.key(SOURCE)


@pytest.mark.usefixtures("settled_at_once")
def test_entries_unused_for_a_month_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, ruleset, cache = _setup(tmp_path)
    gone = tmp_path / "test_gone.py"
    gone.write_bytes(SOURCE)
    keys = KeyIndex(cache)
    check_file(path, "test_a.py", ruleset, cache, keys=keys)
    check_file(gone, "test_gone.py", ruleset, cache, keys=keys)
    keys.save()

    later = time.time() + 40 * DAY
    monkeypatch.setattr(time, "time", lambda: later)
    keys = KeyIndex(cache)
    assert keys.lookup(str(path)) == cache.key(SOURCE)  # used again: kept
    keys.save()

    body = (tmp_path / "cache" / KEY_INDEX).read_bytes().split(b"\n", 1)[1]
    assert list(json.loads(body)) == [str(path)]


def test_without_a_cache_directory_the_index_does_nothing(tmp_path: Path) -> None:
    path = tmp_path / "test_a.py"
    path.write_bytes(SOURCE)
    keys = KeyIndex(ScanCache(None, "salt"))

    assert keys.lookup(str(path)) is None
    keys.remember(str(path), "key")
    keys.save()
    assert list(tmp_path.iterdir()) == [path]


# -- inside pytest ---------------------------------------------------------------------------


@pytest.mark.usefixtures("settled_at_once")
def test_the_plugin_reads_only_what_changed_and_sees_every_change(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    test_a = pytester.path / "test_a.py"
    test_a.write_bytes(SOURCE)
    pytester.makepyfile(test_b="def test_b():\n    pass\n")
    recorder = pytester.inline_run("-p", "ssot")
    assert recorder.ret == 0
    assert (pytester.path / ".pytest_cache" / "d" / "ssot-scan" / KEY_INDEX).is_file()
    plugin = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY]
    assert "_keys" not in vars(plugin)  # saved once the collected tests were checked, let go

    read: list[str] = []
    read_bytes = Path.read_bytes

    def counting(self: Path) -> bytes:
        # Only pytest-ssot's reads: the outer session's assertion rewriting reads test modules.
        caller = sys._getframe(1).f_code.co_filename
        if self.name.startswith("test_") and "pytest_ssot" in caller:
            read.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    _edit_in_place(test_a, SAME_SIZE)
    result = pytester.runpytest("-p", "ssot", "--assert=plain")

    # Read to find it is not in the cache, then to scan it; test_b.py not at all.
    assert read == ["test_a.py", "test_a.py"]
    result.stdout.fnmatch_lines(["*SSOT002 os.getenv accessed directly*", "*2 passed*"])
    result.stdout.no_fnmatch_line("*os.environ.get accessed*")


def test_prune_removes_an_index_write_a_crash_left_behind(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path, "salt")
    stray = tmp_path / ".tmp-abandoned.json"
    stray.write_text("{")
    long_ago = time.time() - 2 * DAY
    os.utime(stray, (long_ago, long_ago))

    assert cache.prune() == 1
    assert not stray.exists()


@pytest.mark.usefixtures("settled_at_once")
def test_an_index_naming_a_path_instead_of_a_key_is_not_trusted(tmp_path: Path) -> None:
    # A key names the entry file to read: "../../x" must never reach it.
    path, ruleset, cache = _setup(tmp_path)
    _first_session(path, ruleset, cache)
    _alter_key(cache, path, ("../" * 14)[:40], digest_again=True)  # as long as a key

    assert KeyIndex(cache).lookup(str(path)) is None
