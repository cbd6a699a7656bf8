"""The scan cache: hit, invalidated on edit, safe under concurrent writers and corruption,
and honouring pytest's ``-p no:cacheprovider`` and ``--cache-clear``."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from pytest_ssot.cache import CACHE_FORMAT, DAY, ScanCache
from pytest_ssot.config import Config, SourceOfTruth
from pytest_ssot.rules import RuleSet, builtin_rules, check_file
from pytest_ssot.scanner import FileFacts, scan

SOURCE = b'import os\n\n\ndef test_a():\n    assert os.environ.get("A") is None\n'
EDITED = b'import os\n\n\ndef test_a():\n    assert os.getenv("A") is None\n'


def _ruleset(*sources: SourceOfTruth) -> RuleSet:
    return RuleSet(tuple(builtin_rules(Config(root=Path("."), sources=sources))))


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("??/*.json"))


def _scanning(tmp_path: Path, content: bytes) -> tuple[Path, RuleSet, ScanCache]:
    """A test module holding ``content``, the built-in rules and an empty cache beside it."""
    path = tmp_path / "test_a.py"
    path.write_bytes(content)
    ruleset = _ruleset()
    return path, ruleset, ScanCache(tmp_path / "cache", ruleset.cache_salt())


def test_a_second_scan_of_the_same_content_is_a_hit(tmp_path: Path) -> None:
    path, ruleset, cache = _scanning(tmp_path, SOURCE)

    first = check_file(path, "test_a.py", ruleset, cache)
    second = check_file(path, "test_a.py", ruleset, cache)

    assert (cache.misses, cache.hits) == (1, 1)
    assert first == second
    assert [(f.code, f.line) for f in second[1]] == [("SSOT002", 5)]


def test_editing_a_file_misses_and_yields_the_new_facts(tmp_path: Path) -> None:
    path, ruleset, cache = _scanning(tmp_path, SOURCE)
    check_file(path, "test_a.py", ruleset, cache)

    path.write_bytes(EDITED)
    _, findings = check_file(path, "test_a.py", ruleset, cache)

    assert (cache.misses, cache.hits) == (2, 0)
    assert [f.message.split()[0] for f in findings] == ["os.getenv"]
    assert len(_entries(tmp_path / "cache")) == 2


def test_a_key_known_from_earlier_in_the_session_spares_reading_the_file(tmp_path: Path) -> None:
    path, ruleset, cache = _scanning(tmp_path, SOURCE)
    expected = check_file(path, "test_a.py", ruleset, cache)
    key = cache.key(SOURCE)
    path.unlink()  # so a read would show: the file is gone

    assert check_file(path, "test_a.py", ruleset, cache, known_key=key) == expected
    unread, _ = check_file(path, "test_a.py", ruleset, cache)
    assert unread.error is not None
    assert unread.error.startswith("cannot be read")


def test_a_known_key_without_a_sound_entry_reads_and_keys_the_file_afresh(tmp_path: Path) -> None:
    path, ruleset, cache = _scanning(tmp_path, EDITED)

    _, findings = check_file(path, "test_a.py", ruleset, cache, known_key=cache.key(SOURCE))

    assert [f.message.split()[0] for f in findings] == ["os.getenv"]
    assert cache.has(cache.key(EDITED))
    assert not cache.has(cache.key(SOURCE))


def test_a_config_that_changes_what_is_scanned_uses_other_entries(tmp_path: Path) -> None:
    plain = _ruleset()
    sourced = _ruleset(SourceOfTruth("SSOT201", "raw-http", ("requests.get",), "http.get"))
    keys = {
        ScanCache(tmp_path, salt).key(SOURCE)
        for salt in (plain.cache_salt(), sourced.cache_salt(), plain.cache_salt(full=True))
    }
    assert len(keys) == 3
    assert ScanCache(tmp_path, plain.cache_salt()).key(SOURCE) == ScanCache(
        tmp_path / "elsewhere", _ruleset().cache_salt()
    ).key(SOURCE)


def test_copied_content_at_another_path_is_a_hit_with_that_path(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path, "salt")
    facts = scan(SOURCE, "tests/test_a.py")
    cache.put(cache.key(SOURCE), facts)

    copy = cache.get(cache.key(SOURCE), "tests/copy/test_a.py")

    assert copy is not None
    assert copy.path == "tests/copy/test_a.py"
    assert copy.refs == facts.refs


def _stored(tmp_path: Path) -> tuple[ScanCache, str, Path]:
    cache = ScanCache(tmp_path, "salt")
    key = cache.key(SOURCE)
    cache.put(key, scan(SOURCE, "test_a.py"))
    (entry,) = _entries(tmp_path)
    return cache, key, entry


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: raw.split(b"\n")[0], id="header-only"),
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: b"\x00\xff garbage \n{", id="garbage"),
        pytest.param(lambda raw: raw.replace(b'"line":5', b'"line":6'), id="flipped-digit"),
        pytest.param(lambda raw: raw.replace(b'"format":', b'"formax":'), id="no-format"),
        pytest.param(lambda raw: b'["a list"]\n{}', id="not-an-entry"),
        pytest.param(
            lambda raw: raw.replace(f'"format": {CACHE_FORMAT}'.encode(), b'"format": 1'),
            id="old-format",
        ),
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten_never_trusted(
    tmp_path: Path, damage: object
) -> None:
    cache, key, entry = _stored(tmp_path)
    raw = entry.read_bytes()
    damaged = damage(raw)  # type: ignore[operator]
    assert damaged != raw
    entry.write_bytes(damaged)

    assert cache.get(key, "test_a.py") is None
    assert cache.misses == 1

    path = tmp_path / "test_a.py"
    path.write_bytes(SOURCE)
    ruleset = _ruleset()
    rescanning = ScanCache(tmp_path, "salt")
    facts, _ = check_file(path, "test_a.py", ruleset, rescanning)
    assert entry.read_bytes() == raw  # rewritten whole
    assert rescanning.get(key, "test_a.py") == facts


def test_an_entry_written_for_another_key_is_foreign(tmp_path: Path) -> None:
    cache, key, entry = _stored(tmp_path)
    other = cache.key(EDITED)
    (tmp_path / other[:2]).mkdir(exist_ok=True)
    os.replace(entry, tmp_path / other[:2] / f"{other}.json")

    assert cache.get(other, "test_a.py") is None
    assert cache.get(key, "test_a.py") is None


def test_an_upgrade_of_pytest_ssot_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cache, key, _ = _stored(tmp_path)
    monkeypatch.setattr("pytest_ssot.cache.VERSION", "99.0")
    upgraded = ScanCache(tmp_path, "salt")
    assert upgraded.key(SOURCE) != key
    assert upgraded.get(upgraded.key(SOURCE), "test_a.py") is None


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    cache = ScanCache(blocker, "salt")
    key = cache.key(SOURCE)

    cache.put(key, scan(SOURCE, "test_a.py"))

    assert cache.get(key, "test_a.py") is None


def test_an_entry_that_cannot_be_looked_at_is_not_there(tmp_path: Path) -> None:
    # The plugin asks while pytest collects: an error here must not reach the session.
    # (A name too long for the file system: permissions do not stop root.)
    cache = ScanCache(tmp_path / ("d" * 300), "salt")

    assert not cache.has(cache.key(SOURCE))


def test_no_directory_caches_nothing() -> None:
    cache = ScanCache(None, "salt")
    cache.put(cache.key(SOURCE), scan(SOURCE, "test_a.py"))
    assert cache.get(cache.key(SOURCE), "test_a.py") is None


def _hammer(directory: str, rounds: int, queue: multiprocessing.Queue[str]) -> None:
    """Write and read the same entries as fast as possible, as xdist workers would."""
    cache = ScanCache(Path(directory), "salt")
    sources = [SOURCE + f"# variant {i}\n".encode() for i in range(8)]
    expected = {cache.key(s): scan(s, "test_a.py") for s in sources}
    problems = 0
    for _ in range(rounds):
        for key, facts in expected.items():
            cache.put(key, facts)
            got = cache.get(key, "test_a.py")
            if got is not None and got != facts:
                problems += 1
    queue.put(f"{problems} {cache.hits} {cache.misses}")


def test_concurrent_writers_never_leave_or_read_a_partial_entry(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[str] = context.Queue()
    workers = [context.Process(target=_hammer, args=(str(tmp_path), 40, queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert [r.split()[0] for r in results] == ["0", "0", "0"]  # never a wrong answer
    assert sum(int(r.split()[1]) for r in results) > 0
    assert len(_entries(tmp_path)) == 8
    assert not list(tmp_path.glob("??/.tmp-*"))
    cache = ScanCache(tmp_path, "salt")
    for entry in _entries(tmp_path):
        assert cache.get(entry.stem, "test_a.py") is not None


def test_prune_removes_entries_unused_for_a_month_and_stray_temporary_files(
    tmp_path: Path,
) -> None:
    cache, _key, entry = _stored(tmp_path)
    old = ScanCache(tmp_path, "salt")
    old_key = old.key(EDITED)
    old.put(old_key, scan(EDITED, "test_a.py"))
    old_entry = tmp_path / old_key[:2] / f"{old_key}.json"
    stray = entry.parent / ".tmp-abandoned.json"
    stray.write_text("{")
    long_ago = time.time() - 40 * DAY
    for path in (old_entry, stray):
        os.utime(path, (long_ago, long_ago))

    assert cache.prune() == 2
    assert cache.prune() == 0  # at most once a day
    assert _entries(tmp_path) == [entry]
    assert not stray.exists()


def test_a_hit_on_an_old_entry_keeps_it_from_being_pruned(tmp_path: Path) -> None:
    cache, key, entry = _stored(tmp_path)
    long_ago = time.time() - 40 * DAY
    os.utime(entry, (long_ago, long_ago))

    assert cache.get(key, "test_a.py") is not None

    assert entry.stat().st_mtime > time.time() - DAY
    assert cache.prune() == 0


def test_entries_are_plain_json_a_person_can_inspect(tmp_path: Path) -> None:
    _, key, entry = _stored(tmp_path)
    header, body = entry.read_bytes().split(b"\n", 1)
    assert json.loads(header)["key"] == key
    assert FileFacts.from_dict(json.loads(body)) == scan(SOURCE, "test_a.py")


# -- inside pytest ---------------------------------------------------------------------------


def _plugin_cache(pytester: pytest.Pytester, *args: str) -> ScanCache | None:
    from pytest_ssot.plugin import PLUGIN_KEY

    recorder = pytester.inline_run("-p", "ssot", *args)
    config = recorder.getcall("pytest_sessionfinish").session.config
    cache: ScanCache = config.stash[PLUGIN_KEY].cache
    return cache if cache.directory is not None else None


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        test_a="import os\n\ndef test_a():\n    assert os.environ.get('A') is None\n",
        test_b="def test_b():\n    pass\n",
    )
    return pytester


def test_the_plugin_keeps_its_cache_in_pytests_cache_directory(project: pytest.Pytester) -> None:
    cold = _plugin_cache(project)
    warm = _plugin_cache(project)

    assert cold is not None
    assert warm is not None
    assert (cold.hits, cold.misses) == (0, 2)
    assert (warm.hits, warm.misses) == (2, 0)
    assert warm.directory == project.path / ".pytest_cache" / "d" / "ssot-scan"


def test_a_file_pytest_cannot_collect_is_parsed_for_its_reason_once(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_ssot import scanner
    from pytest_ssot.plugin import PLUGIN_KEY

    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    # No trigger word, so the plugin's own scan does not parse it: only the full scan that
    # finds the summary's reason does, and the next session finds that in the cache.
    pytester.makepyfile(test_broken="def test_a(:\n    pass\n", test_b="def test_b(): pass\n")
    parse = scanner._parse
    parsed: list[str] = []

    def counting(data: bytes, path: str) -> object:
        parsed.append(path)
        return parse(data, path)

    monkeypatch.setattr(scanner, "_parse", counting)
    for expected in (["test_broken.py"], []):
        parsed.clear()
        recorder = pytester.inline_run("-p", "ssot")
        plugin = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY]
        (unchecked,) = plugin.data.unchecked.values()
        assert unchecked.reason.startswith("syntax error (line 1)")
        assert parsed == expected


def test_an_edited_test_file_is_scanned_again(project: pytest.Pytester) -> None:
    _plugin_cache(project)
    project.makepyfile(test_b="import os\n\ndef test_b():\n    os.getenv('B')\n")

    cache = _plugin_cache(project)

    assert cache is not None
    assert (cache.hits, cache.misses) == (1, 1)


def test_cache_clear_empties_the_scan_cache_too(project: pytest.Pytester) -> None:
    _plugin_cache(project)
    cache = _plugin_cache(project, "--cache-clear")
    assert cache is not None
    assert (cache.hits, cache.misses) == (0, 2)


def test_without_the_cacheprovider_nothing_is_cached_or_written(
    project: pytest.Pytester,
) -> None:
    first = _plugin_cache(project, "-p", "no:cacheprovider")
    second = _plugin_cache(project, "-p", "no:cacheprovider")

    assert first is None
    assert second is None
    assert not (project.path / ".pytest_cache").exists()


def test_xdist_workers_share_one_cold_cache(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    for index in range(12):
        pytester.makepyfile(
            **{f"test_{index}": f"import os\n\ndef test_{index}():\n    os.getenv('A{index}')\n"}
        )
    result = pytester.runpytest_subprocess("-p", "ssot", "-p", "xdist", "-n", "2")
    assert result.ret == pytest.ExitCode.OK

    directory = pytester.path / ".pytest_cache" / "d" / "ssot-scan"
    assert len(_entries(directory)) == 12
    assert not list(directory.glob("??/.tmp-*"))
    warm = _plugin_cache(pytester)
    assert warm is not None
    assert (warm.hits, warm.misses) == (12, 0)
