"""Keeping freed heap memory while scanning (glibc's trim threshold, see pytest_ssot.heap)."""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_ssot import cli, heap

# Run in a fresh interpreter: how much freed memory the heap keeps depends on everything the
# process allocated before, and a test process has a long history.
PROBE = """
import ctypes, json
from pytest_ssot import heap

CHUNK, CHUNKS = 64 * 1024, 256  # below glibc's smallest mmap threshold: from the heap itself


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]


libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2


def freed_and_kept():
    # A burst of heap memory allocated and freed, as a parse does: how much of the heap's
    # top the process still holds afterwards (glibc's keepcost).
    # The list is made whole first: grown while the burst is allocated, its buffer could
    # land between the chunks and split the freed top in two.
    chunks = [None] * CHUNKS
    for index in range(CHUNKS):
        chunks[index] = libc.malloc(CHUNK)
    for chunk in reversed(chunks):
        libc.free(chunk)
    return libc.mallinfo2().keepcost


kept = {"before": freed_and_kept()}
with heap.retained() as applied:
    kept["applied"] = applied
    kept["inside"] = freed_and_kept()
    with heap.retained():
        pass
    kept["after a nested block"] = freed_and_kept()
kept["after"] = freed_and_kept()
print(json.dumps(kept))
"""
BURST = 64 * 1024 * 256  # what PROBE allocates and frees at a time: 16 MiB


@pytest.fixture(autouse=True)
def _no_user_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in heap.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)


def test_freed_heap_stays_in_the_process_inside_the_block_and_is_trimmed_after_it() -> None:
    if heap._mallopt() is None or not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("glibc 2.33 or later only")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    kept = json.loads(done.stdout)
    assert kept["applied"] is True
    # Some of the burst may come from the heap's free lists rather than its top.
    assert kept["inside"] >= BURST * 3 // 4
    assert kept["after a nested block"] >= BURST * 3 // 4  # the outer block still holds
    # glibc's default, before and after: the top is trimmed as soon as it is freed.
    assert kept["before"] < BURST // 4
    assert kept["after"] < BURST // 4


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MALLOC_TRIM_THRESHOLD_", "4096"),
        ("MALLOC_TOP_PAD_", "0"),
        ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=4096"),
    ],
)
def test_a_users_own_malloc_tuning_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "_set_trim_threshold", lambda size: calls.append(size) or True)
    monkeypatch.setenv(name, value)
    with heap.retained() as applied:
        assert not applied
    assert not heap.retain()
    assert calls == []


def test_it_does_nothing_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap._mallopt() is None
    with heap.retained() as applied:
        assert not applied
    assert not heap.retain()


def test_a_check_scans_with_the_heap_retained_and_trims_again_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ssot]\n", encoding="utf-8")
    (tmp_path / "test_one.py").write_text(
        "import os\n\ndef test_one():\n    assert os.environ.get('HOME')\n", encoding="utf-8"
    )
    calls: list[int] = []
    monkeypatch.setattr(heap, "_set_trim_threshold", lambda size: calls.append(size) or True)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--jobs", "1", "--no-cache", "--quiet"]) in (0, 1)
    assert calls == [heap.RETAINED, heap.DEFAULT_TRIM_THRESHOLD]


def test_the_setting_is_a_no_op_for_a_process_that_cannot_load_libc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(name: object) -> object:
        raise OSError("no libc here")

    monkeypatch.setattr(ctypes, "CDLL", refuse)
    assert heap._mallopt() is None
