"""The caches of ``ssot check``: per file (scan facts) and per run (the whole output).

A run is replayed only when nothing it depends on changed: each test case below changes one
input and checks that the output follows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_ssot import cli

FILES = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.ssot]
        mode = "strict"
        base_classes = ["framework.base:SSotBase"]
        baseline = "baseline.json"
    """,
    "framework/__init__.py": "",
    "framework/base.py": "import unittest\n\nclass SSotBase(unittest.TestCase):\n    pass\n",
    "tests/support.py": "from framework.base import SSotBase as Base\n",
    "tests/test_a.py": """
        import os

        from support import Base


        class TestA(Base):
            def test_env(self):
                os.getenv("A")
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


@pytest.fixture
def check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    calls = {"full": 0}
    real = cli.run_check

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["full"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(cli, "run_check", counting)

    def run(root: Path, *args: str) -> tuple[int, str, int]:
        """(exit code, output, full runs so far)."""
        monkeypatch.chdir(root)
        code = cli.main(["check", "--jobs", "1", *args])
        return code, capsys.readouterr().out, calls["full"]

    return run


def test_an_unchanged_suite_replays_the_same_output_without_a_scan(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    first = check(project)
    second = check(project)
    assert first[:2] == second[:2]
    assert first[0] == 1
    assert "SSOT002" in first[1]
    assert (first[2], second[2]) == (1, 1)  # the second run did not check again
    json_first = check(project, "--format", "json")
    json_second = check(project, "--format", "json")
    assert json_first[:2] == json_second[:2]
    assert json_second[2] == 2  # another format is another entry
    assert json.loads(json_second[1])["summary"]["violations"] == 1


@pytest.mark.skipif(sys.platform != "linux", reason="file names that are not UTF-8")
def test_a_file_name_that_is_not_utf8_is_checked_and_replayed(project: Path) -> None:
    name = b"test_caf\xe9.py"  # Latin-1 on disk
    test = project / "tests" / os.fsdecode(name)
    test.write_text("import os\n\ndef test_b():\n    os.getenv('B')\n")
    # A UTF-8 locale's strict stdout, where printing the name used to raise.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    command = [sys.executable, "-m", "pytest_ssot", "check", "--jobs", "1"]
    first, second = (
        subprocess.run(command, cwd=project, env=env, capture_output=True, check=False)
        for _ in range(2)
    )
    assert first.returncode == 1, first.stderr
    assert b"tests/" + name + b":4:5: SSOT002" in first.stdout
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert list((project / ".pytest_cache").rglob("*.out"))  # the second run was replayed


def test_editing_a_test_file_is_seen(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    assert check(project)[0] == 1
    test = project / "tests" / "test_a.py"
    test.write_text(test.read_text().replace('os.getenv("A")', "pass"))
    code, output, runs = check(project)
    assert (code, runs) == (0, 2)
    assert "SSOT002" not in output


def test_editing_a_module_followed_for_base_classes_is_seen(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    assert "SSOT001" not in check(project)[1]
    (project / "tests" / "support.py").write_text("class Base:\n    pass\n")
    _, output, runs = check(project)
    assert runs == 2
    assert "SSOT001 test class TestA does not inherit" in output


def test_a_module_that_appears_is_seen(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    test = project / "tests" / "test_a.py"
    test.write_text(test.read_text().replace("from support import Base", "from extra import Base"))
    assert "unresolved base classes 1" in check(project)[1]
    (project / "tests" / "extra.py").write_text("from framework.base import SSotBase as Base\n")
    _, output, runs = check(project)
    assert runs == 2
    assert "unresolved" not in output


def test_a_module_that_importorskip_needs_appearing_is_seen(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    test = project / "tests" / "test_a.py"
    test.write_text('import pytest\n\npytest.importorskip("optional")\n' + test.read_text())
    assert "0/0 checked tests" in check(project)[1]  # pytest skips the module
    (project / "tests" / "optional.py").write_text("")
    _, output, runs = check(project)
    assert runs == 2
    assert "0/1 checked tests" in output


def test_an_installed_package_read_for_a_base_class_is_part_of_the_key(
    project: Path,
    check,  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path_factory.mktemp("site-packages")
    base = "class TestBase:\n    def test_inherited(self):\n        pass\n"
    (site / "webkit.py").write_text(base)
    monkeypatch.syspath_prepend(str(site))
    (project / "tests" / "test_b.py").write_text(
        "from webkit import TestBase\n\n\nclass TestB(TestBase):\n    pass\n"
    )
    # TestA, TestBase (imported: pytest collects it) and TestB inheriting its test.
    assert "(0/3 checked tests compliant)" in check(project)[1]
    assert check(project)[2] == 1  # replayed
    # The package now gives its class an __init__: pytest no longer collects either class.
    (site / "webkit.py").write_text(
        "class TestBase:\n    def __init__(self):\n        pass\n\n"
        "    def test_inherited(self):\n        pass\n"
    )
    _, output, runs = check(project)
    assert runs == 2
    assert "(0/1 checked tests compliant)" in output
    # The class moves to a module the package does not have yet, then gets it.
    (site / "webkit.py").write_text("from webkit_base import TestBase\n")
    _, output, runs = check(project)
    assert runs == 3
    assert "(0/1 checked tests compliant)" in output
    (site / "webkit_base.py").write_text("class TestBase:\n    def test_x(self):\n        pass\n")
    _, output, runs = check(project)
    assert runs == 4
    assert "(0/3 checked tests compliant)" in output


def test_the_baseline_options_and_config_are_part_of_the_key(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    assert check(project)[0] == 1
    assert check(project, "--mode", "warn")[0] == 0
    assert cli.main(["baseline", "--jobs", "1"]) == 0
    code, output, _ = check(project)
    assert code == 0
    assert "[known]" in output
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('mode = "strict"', 'mode = "off"'))
    assert "violations 0" in check(project)[1]


def test_a_new_package_marker_is_seen(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    check(project)
    (project / "tests" / "__init__.py").write_text("")
    _, output, runs = check(project)
    assert runs == 2
    # `from support import Base` no longer resolves once tests/ is a package.
    assert "unresolved base classes 1" in output


def test_a_corrupt_run_entry_is_ignored(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    first = check(project)
    runs = project / ".pytest_cache" / "d" / "ssot-runs"
    for output in runs.glob("*.out"):
        output.write_text("tampered\n")
    second = check(project)
    assert second[1] == first[1]
    assert second[2] == 2


def test_no_cache_never_replays(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    check(project)
    assert check(project, "--no-cache")[2] == 2
    assert check(project, "--format", "sarif")[2] == 3  # carries its time: never replayed
    assert check(project, "--format", "sarif")[2] == 4


def test_only_a_few_runs_are_kept(project: Path, check) -> None:  # type: ignore[no-untyped-def]
    test = project / "tests" / "test_a.py"
    for index in range(cli.RunCache.KEEP + 3):
        test.write_text(test.read_text() + f"\n# edit {index}\n")
        check(project)
    entries = list((project / ".pytest_cache" / "d" / "ssot-runs").glob("*.json"))
    assert len(entries) == cli.RunCache.KEEP
