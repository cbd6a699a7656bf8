"""The scanning helper: a second process that fills the scan cache while pytest collects."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_ssot import prescan
from pytest_ssot.cache import ScanCache
from pytest_ssot.config import Config
from pytest_ssot.rules import RuleSet, builtin_rules
from pytest_ssot.scanner import scan

WATCHED = RuleSet(tuple(builtin_rules(Config(root=Path("."))))).watched
SALT = "test-salt"


def _module(index: int) -> str:
    return f"import os\n\n\ndef test_{index}():\n    assert os.getenv('A{index}') is None\n"


def _write_modules(directory: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = directory / f"test_{index:02d}.py"
        path.write_text(_module(index), encoding="utf-8")
        paths.append(path)
    return paths


def _started(cache: ScanCache) -> prescan.Prescan:
    helper = prescan.Prescan.start(cache, WATCHED)
    if helper is None:
        pytest.skip("one CPU: the helper is not started")
    return helper


def test_the_helper_fills_the_cache_with_the_facts_a_scan_yields(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path / "cache", SALT)
    paths = _write_modules(tmp_path, 5)
    helper = _started(cache)

    for path in paths:
        helper.submit(path, path.name)
    helper.wait()

    assert helper.submitted == [path.name for path in paths]
    for path in paths:
        data = path.read_bytes()
        assert cache.get(cache.key(data), path.name) == scan(data, path.name, WATCHED)


def test_the_helper_leaves_existing_entries_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a warm cache the helper only checks that each entry is there: reading and decoding
    # every one again cost CPU the collecting process could use. A corrupt entry is the
    # plugin's to find (it rescans the file itself).
    cache = ScanCache(tmp_path / "cache", SALT)
    fresh, cached = _write_modules(tmp_path, 2)
    present = cache.key(cached.read_bytes())
    cache.put(present, scan(cached.read_bytes(), cached.name, WATCHED))
    monkeypatch.setattr(ScanCache, "get", _never_read)
    settings = json.dumps({"cache": str(cache.directory), "salt": SALT, "watched": WATCHED})
    lines = [settings, *(json.dumps([str(p), p.name]) for p in (fresh, cached))]

    assert prescan.serve(io.BytesIO("\n".join(lines).encode() + b"\n")) == 0

    assert cache.has(cache.key(fresh.read_bytes()))
    assert cache.has(present)
    assert not cache.has(cache.key(b"never written"))


def _never_read(*args: Any) -> None:
    raise AssertionError("the helper read a cache entry")


def test_without_a_cache_or_when_switched_off_no_helper_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert prescan.Prescan.start(ScanCache(None, SALT), WATCHED) is None
    monkeypatch.setenv(prescan.ENV_SWITCH, "0")
    assert prescan.Prescan.start(ScanCache(tmp_path, SALT), WATCHED) is None


def test_the_helper_skips_what_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path / "cache", SALT)
    [good] = _write_modules(tmp_path, 1)
    settings = {"cache": str(cache.directory), "salt": SALT, "watched": list(WATCHED)}
    lines = [
        json.dumps(settings),
        json.dumps([str(tmp_path / "missing.py"), "missing.py"]),
        "not json at all",
        json.dumps([str(good), good.name]),
    ]

    status = prescan.serve(io.BytesIO("\n".join(lines).encode() + b"\n"))

    assert status == 0
    assert cache.get(cache.key(good.read_bytes()), good.name) is not None


def test_a_helper_given_no_usable_settings_exits_without_writing(tmp_path: Path) -> None:
    assert prescan.serve(io.BytesIO(b'{"cache": 1}\n' + str(tmp_path).encode())) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_helper_that_is_gone_costs_nothing_but_speed(tmp_path: Path) -> None:
    cache = ScanCache(tmp_path / "cache", SALT)
    paths = _write_modules(tmp_path, 3)
    helper = _started(cache)
    helper.stop()

    for path in paths:
        helper.submit(path, path.name)  # no error: the plugin scans these itself
    helper.wait()

    assert helper.submitted == []


# -- in the plugin -----------------------------------------------------------------------------
needs_two_cpus = pytest.mark.skipif(
    prescan.available_cpus() < 2, reason="one CPU: the helper is not started"
)


def _suite(pytester: pytest.Pytester, modules: int) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makeconftest("import os\n\nSETTING = os.environ.get('SETTING')\n")
    pytester.makepyfile(**{f"test_{index:02d}": _module(index) for index in range(modules)})


def _inline(pytester: pytest.Pytester, *args: str) -> tuple[Any, dict[str, Any]]:
    from pytest_ssot.plugin import PLUGIN_KEY

    recorder = pytester.inline_run("-p", "ssot", "--ssot-report", "json:ssot.json", *args)
    plugin = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY]
    report = json.loads((pytester.path / "ssot.json").read_text(encoding="utf-8"))
    return plugin, report


def _decisions(report: dict[str, Any]) -> Any:
    return report["summary"], sorted(json.dumps(v, sort_keys=True) for v in report["violations"])


@needs_two_cpus
def test_a_large_enough_suite_is_scanned_by_the_helper_with_the_same_result(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = prescan.WORTH_IT_AFTER + 5
    _suite(pytester, modules)

    helped, helped_report = _inline(pytester)
    monkeypatch.setenv(prescan.ENV_SWITCH, "0")
    alone, alone_report = _inline(pytester, "--cache-clear")

    # Rootdir-relative, and the suite sits at the rootdir.
    expected = ["conftest.py", *(f"test_{i:02d}.py" for i in range(modules))]
    assert sorted(helped.prescanned) == sorted(expected)
    assert alone.prescanned == []
    assert helped_report["summary"]["violations"] == modules + 1  # and the conftest's
    assert _decisions(helped_report) == _decisions(alone_report)


@needs_two_cpus
def test_a_warm_cache_starts_no_helper_and_the_result_is_the_same(
    pytester: pytest.Pytester,
) -> None:
    # A helper with nothing to scan would only cost CPU (reading and hashing every module).
    modules = prescan.WORTH_IT_AFTER + 5
    _suite(pytester, modules)
    cold, cold_report = _inline(pytester)

    warm, warm_report = _inline(pytester)

    assert len(cold.prescanned) == modules + 1
    assert warm.prescanned == []
    assert warm.cache.hits == modules + 1
    assert _decisions(warm_report) == _decisions(cold_report)


def _edited(index: int) -> str:
    return f"import os\n\n\ndef test_{index}():\n    assert os.environ.get('A') is None\n"


def _accesses(report: dict[str, Any]) -> dict[str, str]:
    """What each test module's violation accesses (the conftest's is os.environ.get too)."""
    return {
        v["path"]: v["message"].split()[0]
        for v in report["violations"]
        if v["path"] != "conftest.py"
    }


@needs_two_cpus
def test_the_helper_starts_once_enough_files_are_missing_from_the_cache(
    pytester: pytest.Pytester,
) -> None:
    modules = prescan.WORTH_IT_AFTER + 10
    _suite(pytester, modules)
    _inline(pytester)
    # A few edited files: the plugin scans them itself.
    few = [f"test_{i:02d}" for i in range(3)]
    pytester.makepyfile(**{name: _edited(i) for i, name in enumerate(few)})
    plugin, report = _inline(pytester)
    assert plugin.prescanned == []
    assert [p for p, access in _accesses(report).items() if access == "os.environ.get"] == [
        f"{name}.py" for name in few
    ]
    # Enough edited ones (a branch switch): the helper gets every file from the first
    # missing one on, never those found in the cache before it started.
    many = [f"test_{i:02d}" for i in range(5, modules)]
    pytester.makepyfile(**{name: _edited(i) for i, name in enumerate(many, 5)})

    plugin, report = _inline(pytester)

    assert sorted(plugin.prescanned) == sorted(f"{name}.py" for name in many)
    accesses = _accesses(report)
    assert sorted(p for p, access in accesses.items() if access == "os.environ.get") == sorted(
        f"{name}.py" for name in few + many
    )
    assert len(accesses) == modules


@needs_two_cpus
def test_each_file_goes_to_the_helper_once_when_named_one_by_one(
    pytester: pytest.Pytester,
) -> None:
    # pytest collects a file's directory again for every file argument (CI splitters pass
    # long file lists), so pytest_collect_file sees each module once per argument.
    modules = prescan.WORTH_IT_AFTER + 5
    _suite(pytester, modules)
    names = [f"test_{i:02d}.py" for i in range(modules)]

    plugin, report = _inline(pytester, *names)

    assert sorted(plugin.prescanned) == sorted(["conftest.py", *names])
    assert report["summary"]["tests"] == modules


def test_a_small_suite_starts_no_helper(pytester: pytest.Pytester) -> None:
    _suite(pytester, prescan.WORTH_IT_AFTER - 2)

    plugin, report = _inline(pytester)

    assert plugin.prescanned == []
    assert plugin.prescan is None
    assert report["summary"]["violations"] == prescan.WORTH_IT_AFTER - 1


def test_no_helper_starts_without_the_cacheprovider(pytester: pytest.Pytester) -> None:
    _suite(pytester, prescan.WORTH_IT_AFTER + 5)

    plugin, _ = _inline(pytester, "-p", "no:cacheprovider")

    assert plugin.prescanned == []
