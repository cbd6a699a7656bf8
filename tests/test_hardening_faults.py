"""Faults: damaged cache entries, a baseline writer killed mid-write, two sessions updating one
baseline at once, interrupted sessions, a full disk or a read-only report path. Nothing is lost
or half-written, the guard is always removed, and the session's own result stands."""

from __future__ import annotations

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import pytest_ssot.guard
from pytest_ssot import baseline

# The environment API as Python made it, captured before any session installs the guard.
ENVIRON_CLASS = type(os.environ)
ENVIRON_METHODS = {name: vars(os._Environ)[name] for name in pytest_ssot.guard._PRIMITIVES}
GETENV, PUTENV, UNSETENV = os.getenv, os.putenv, os.unsetenv

SUITE = {
    "tests/test_env.py": """
        import os

        def test_reads():
            assert os.environ.get("HOME") is None or True

        def test_clean():
            pass
    """,
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _project(pytester: pytest.Pytester, files: dict[str, str] | None = None) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n'
        '[tool.ssot]\nmode = "warn"\nbaseline = "ssot-baseline.json"\n'
    )
    _write(pytester.path, {**SUITE, **(files or {})})


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "r.json").read_text())
    return data


# -- the scan cache ------------------------------------------------------------------------------

DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "garbage": lambda raw: bytes(range(256)),
    "deep": lambda raw: b"[" * 100_000 + b"\n" + raw,
    "huge-number": lambda raw: b"9" * 5_000 + b"\n" + raw,
    "flipped": lambda raw: raw.replace(b"os.environ", b"os.environX"),
}


def test_damaged_cache_entries_change_nothing_in_a_session(pytester: pytest.Pytester) -> None:
    """Every way an entry can rot between two sessions: the next session scans again and
    reports exactly what a cold one did, then the entries are whole again."""
    _project(pytester)
    for n in range(len(DAMAGE)):
        (pytester.path / "tests" / f"test_copy{n}.py").write_text(
            textwrap.dedent(SUITE["tests/test_env.py"]) + f"\n\ndef test_n{n}():\n    pass\n"
        )
    cold = pytester.runpytest("-p", "ssot", "--ssot-report=json:r.json")
    expected = _report(pytester)
    entries = sorted((pytester.path / ".pytest_cache").rglob("ssot-scan/??/*.json"))
    assert len(entries) == len(DAMAGE) + 1
    whole = {entry: entry.read_bytes() for entry in entries}
    for entry, damage in zip(entries, DAMAGE.values(), strict=False):
        entry.write_bytes(damage(whole[entry]))
    entries[-1].unlink()
    entries[-1].mkdir()  # a directory where an entry should be
    warm = pytester.runpytest("-p", "ssot", "--ssot-report=json:r.json")
    assert warm.ret == cold.ret == pytest.ExitCode.OK
    assert "INTERNALERROR" not in warm.stdout.str()
    assert _report(pytester)["violations"] == expected["violations"]
    assert _report(pytester)["unchecked"] == []
    for entry in entries[:-1]:
        assert entry.read_bytes() == whole[entry]  # rewritten whole by the rescan


# -- a baseline writer killed mid-write ------------------------------------------------------------

WRITER = """
import itertools
import sys
from pathlib import Path

from pytest_ssot.baseline import write_atomic

path = Path(sys.argv[1])
texts = [Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text()]
print("ready", flush=True)
for i in itertools.count():
    write_atomic(path, texts[i % 2])
"""


def _big_baseline(tag: str, entries: int = 20_000) -> str:
    return baseline.render(
        {
            "fingerprint": f"{tag}{i:019d}",
            "code": "SSOT002",
            "path": f"tests/test_{i % 500}.py",
            "line": i,
            "scope": "TestX.test_y",
            "message": f"os.environ accessed directly ({tag}); use get_env() instead",
        }
        for i in range(entries)
    )


def test_a_baseline_writer_killed_at_any_moment_leaves_the_old_or_the_new_file_whole(
    tmp_path: Path,
) -> None:
    old, new = _big_baseline("a"), _big_baseline("b")
    assert len(old) > 2_000_000
    (tmp_path / "old.json").write_text(old)
    (tmp_path / "new.json").write_text(new)
    path = tmp_path / "ssot-baseline.json"
    path.write_text(old)
    rng = random.Random(8)
    reads = 0
    for _ in range(6):
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(path),
                str(tmp_path / "old.json"),
                str(tmp_path / "new.json"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        deadline = time.monotonic() + rng.uniform(0.05, 0.4)
        while time.monotonic() < deadline:  # a reader (another session) meanwhile
            assert path.read_text() in (old, new)
            reads += 1
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        assert path.read_text() in (old, new)
        assert len(baseline.load(path)) == 20_000
    assert reads > 6
    # What the killed writers left behind is swept by the next write once it is stale.
    leftovers = list(tmp_path.glob(".ssot-baseline.json.*.tmp"))
    for leftover in leftovers:
        os.utime(leftover, (0, 0))
    baseline.write_atomic(path, old)
    assert list(tmp_path.glob(".ssot-baseline.json.*.tmp")) == []


def test_a_fresh_temporary_file_of_another_writer_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ssot-baseline.json"
    busy = tmp_path / ".ssot-baseline.json.0123456789ab.tmp"
    busy.write_text("another session is writing this right now")
    unrelated = tmp_path / ".other.json.0123456789ab.tmp"
    unrelated.write_text("")
    os.utime(unrelated, (0, 0))
    baseline.write_atomic(path, "{}")
    assert busy.exists()
    assert unrelated.exists()


# -- two sessions updating one baseline ------------------------------------------------------------

CONCURRENT = {
    "conftest.py": """
        import os
        import time
        from pathlib import Path

        import pytest

        SIDE = os.environ["SIDE"]  # read at import, outside any test

        @pytest.fixture
        def side():
            return SIDE

        @pytest.hookimpl(wrapper=True)
        def pytest_sessionfinish(session):
            # Both sessions reach their end before either writes: the writes race.
            here = Path(os.environ["BARRIER"])
            (here / SIDE).touch()
            deadline = time.monotonic() + 120
            while len(list(here.iterdir())) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            return (yield)
    """,
    "tests/test_env.py": """
        import os

        def test_side(side):
            if side == "b":  # only session b touches the environment (at run time)
                getattr(os, "env" + "iron").get("HOME")

        def test_clean():
            pass
    """,
}


def test_two_sessions_updating_one_baseline_at_once_leave_one_of_them_whole(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, CONCURRENT)
    path = pytester.path / "ssot-baseline.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    for round_ in range(2):
        barrier = pytester.path / f"barrier{round_}"
        barrier.mkdir()
        sessions = {
            side: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-p",
                    "ssot",
                    "-p",
                    "no:cacheprovider",
                    "--ssot-update-baseline",
                ],
                cwd=pytester.path,
                env={**env, "SIDE": side, "BARRIER": str(barrier)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for side in ("a", "b")
        }
        written = {}
        for side, process in sessions.items():
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, out
            match = re.search(r"baseline ssot-baseline.json written: (\d+) entries", out)
            assert match, out
            written[side] = int(match.group(1))
        assert written["b"] == written["a"] + 1  # b's run-time violation
        text = path.read_text()
        entries = baseline.load(path)
        assert baseline.render(entries.values()) == text  # whole and canonical
        assert len(entries) in (written["a"], written["b"])  # one of them, not a mix
        runtime = [e for e in entries.values() if e.get("source") == "runtime"]
        assert len(runtime) == (len(entries) - written["a"])
        assert not list(pytester.path.glob(".ssot-baseline.json.*.tmp"))


# -- interrupted sessions --------------------------------------------------------------------------

INTERRUPTIONS = {
    "keyboard-interrupt-in-a-test": {
        "tests/test_stop.py": """
            import os

            def test_stop():
                os.environ.get("HOME")
                raise KeyboardInterrupt
        """
    },
    "exit-in-setup": {
        "tests/test_stop.py": """
            import os

            import pytest

            @pytest.fixture
            def stop():
                os.environ.get("HOME")
                pytest.exit("stopping in setup")

            def test_stop(stop):
                pass
        """
    },
    "exit-in-teardown": {
        "tests/test_stop.py": """
            import pytest

            @pytest.fixture
            def stop():
                yield
                pytest.exit("stopping in teardown")

            def test_stop(stop):
                pass
        """
    },
    "exit-while-collecting": {"tests/test_stop.py": "import pytest\npytest.exit('no')\n"},
    # pytest prints no summary at all for an exit code of its own choosing.
    "exit-with-a-return-code": {
        "tests/test_stop.py": """
            import os

            def test_stop():
                os.environ.get("HOME")
                import pytest; pytest.exit("stopping", returncode=3)
        """
    },
}


def _guard_is_gone() -> None:
    assert type(os.environ) is ENVIRON_CLASS is os._Environ
    assert {name: vars(os._Environ)[name] for name in ENVIRON_METHODS} == ENVIRON_METHODS
    assert (os.getenv, os.putenv, os.unsetenv) == (GETENV, PUTENV, UNSETENV)
    assert not pytest_ssot.guard.installed()


@pytest.mark.parametrize("case", INTERRUPTIONS)
def test_an_interrupted_session_writes_no_baseline_removes_the_guard_and_says_incomplete(
    pytester: pytest.Pytester, case: str
) -> None:
    files = INTERRUPTIONS[case]
    _project(pytester)
    created = pytester.runpytest("-p", "ssot", "--ssot-update-baseline")
    created.stdout.fnmatch_lines(["*baseline ssot-baseline.json written*"])
    before = (pytester.path / "ssot-baseline.json").read_text()
    _write(pytester.path, files)
    saved = dict(os.environ)
    try:
        result = pytester.runpytest(
            "-p",
            "ssot",
            "--ssot-update-baseline",
            "--ssot-report=json:r.json",
            no_reraise_ctrlc=True,
        )
    finally:
        _guard_is_gone()
        os.environ.clear()
        os.environ.update(saved)
    if case == "exit-while-collecting":
        # pytest reports it as an error collecting the module, and stops for that error.
        result.stdout.fnmatch_lines(
            [
                "compliance * [[]incomplete: 1 collection error(s)]",
                "ssot: baseline ssot-baseline.json not updated (1 collection error(s)): it is "
                "only written after a complete session; fix or --ignore the files that fail *",
            ],
            consecutive=False,
        )
    elif result.ret == pytest.ExitCode.INTERRUPTED:
        result.stdout.fnmatch_lines(
            [
                "compliance * [[]incomplete: interrupted]",
                "ssot: baseline ssot-baseline.json not updated (interrupted): it is only written "
                "after a complete session; run again",
            ],
            consecutive=False,
        )
    else:
        assert result.ret == 3
    assert "INTERNALERROR" not in result.stdout.str()
    assert (pytester.path / "ssot-baseline.json").read_text() == before


# -- a full disk, a read-only report path ---------------------------------------------------------


def _fail_writes(monkeypatch: pytest.MonkeyPatch, code: int, where: str) -> None:
    """Writing a file under ``where`` fails as a full disk (at fsync: the data is buffered
    until then) or a read-only file system (at open) would make it fail."""
    real_open, real_fsync = os.open, os.fsync

    def opener(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if code == errno.EROFS and where in os.path.abspath(path) and flags & os.O_CREAT:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    def fsync(fd: int) -> None:
        if code == errno.ENOSPC and where in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", opener)
    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
@pytest.mark.parametrize(
    ("code", "message"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
    ids=["disk-full", "read-only"],
)
@pytest.mark.parametrize("failing", [False, True], ids=["passing", "failing"])
def test_a_report_or_baseline_that_cannot_be_written_is_one_line_and_changes_no_result(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    message: str,
    failing: bool,
) -> None:
    _project(pytester)
    if failing:
        _write(pytester.path, {"tests/test_fail.py": "def test_fail():\n    assert False\n"})
    (pytester.path / "out").mkdir()
    (pytester.path / "out" / "r.json").write_text("the previous report")
    baseline_path = pytester.path / "out" / "ssot-baseline.json"
    baseline.write_atomic(baseline_path, baseline.render([]))
    previous = baseline_path.read_text()
    _fail_writes(monkeypatch, code, str(pytester.path / "out"))
    result = pytester.runpytest(
        "-p",
        "ssot",
        "--ssot-baseline=out/ssot-baseline.json",
        "--ssot-update-baseline",
        "--ssot-report=json:out/r.json",
        "--ssot-report=html:elsewhere/r.html",
    )
    monkeypatch.undo()
    expected = pytest.ExitCode.TESTS_FAILED if failing else pytest.ExitCode.OK
    assert result.ret == expected
    result.stdout.fnmatch_lines(
        [
            f"ssot: cannot write the json report to out/r.json: {message}",
            f"ssot: cannot write the baseline out/ssot-baseline.json: {message}",
        ],
        consecutive=False,
    )
    out = result.stdout.str()
    assert "INTERNALERROR" not in out
    assert "Traceback" not in out
    assert (pytester.path / "out" / "r.json").read_text() == "the previous report"
    assert baseline_path.read_text() == previous
    assert sorted(p.name for p in (pytester.path / "out").iterdir()) == [
        "r.json",
        "ssot-baseline.json",
    ]
    assert (pytester.path / "elsewhere" / "r.html").is_file()  # the other report is written


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only dirs"
)
def test_a_report_in_a_read_only_directory_is_one_line(pytester: pytest.Pytester) -> None:
    _project(pytester)
    locked = pytester.path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = pytester.runpytest("-p", "ssot", "--ssot-report=json:locked/r.json")
    finally:
        locked.chmod(0o755)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["ssot: cannot write the json report to locked/r.json: *"])
