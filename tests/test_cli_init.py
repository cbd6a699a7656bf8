"""``ssot init``: propose [tool.ssot] for an existing suite, write it only when confirmed."""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pytest

from pytest_ssot import cli
from pytest_ssot.config import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "chat_backend"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """The example suite as it was before anybody configured pytest-ssot."""
    root = tmp_path / "chat_backend"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text[: text.index("[tool.ssot]")].rstrip("\n") + "\n", encoding="utf-8")
    return root


def run(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    code = cli.main(["init", "--jobs", "1", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_it_proposes_the_suites_own_infrastructure(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (suite / "pyproject.toml").read_bytes()
    code, out, _ = run(suite, monkeypatch, capsys)
    assert code == 0
    assert '"test_framework.ssot.base:SSotBaseTestCase",  # 4 test classes' in out
    assert '"test_framework.ssot.base:SSotAsyncTestCase",  # 1 test class' in out
    # The legacy base class of the same name lives in a test module: never proposed.
    assert "test_rooms_legacy" not in out
    assert 'env_modules = ["test_framework.ssot.isolated_environment"]' in out
    assert 'mock_modules = ["test_framework.ssot.mocks"]' in out
    assert 'runner = "unified"' in out
    # Not a terminal and no --yes: nothing is written.
    assert "Nothing written: re-run with --yes" in out
    assert (suite / "pyproject.toml").read_bytes() == before
    assert not (suite / "ssot-baseline.json").exists()


def test_a_base_of_an_imported_installed_test_class_is_never_proposed(
    suite: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ssot check collects an installed Test* class a test module imports (as pytest does),
    # and reads its bases from the package's source: they are not the team's SSOT classes.
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / "webkit.py").write_text(
        "class CaseBase:\n    pass\n\n\n"
        "class TestHelper(CaseBase):\n    def test_helper(self):\n        pass\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    for module in sorted((suite / "tests").rglob("test_*.py"))[:3]:
        module.write_text(
            "from webkit import TestHelper\n" + module.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    code, out, _ = run(suite, monkeypatch, capsys)
    assert code == 0
    assert '"test_framework.ssot.base:SSotBaseTestCase",  # 4 test classes' in out
    assert "CaseBase" not in out


def test_yes_appends_the_table_and_writes_a_baseline(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = suite / "pyproject.toml"
    before = pyproject.read_bytes()
    code, out, _ = run(suite, monkeypatch, capsys, "--yes")
    assert code == 0
    after = pyproject.read_bytes()
    assert after.startswith(before)  # the user's file is untouched, only appended to
    assert b"\n[tool.ssot]\n" in after[len(before) - 1 :]
    config = load(rootdir=suite)
    assert config.base_classes == (
        "test_framework.ssot.base:SSotBaseTestCase",
        "test_framework.ssot.base:SSotAsyncTestCase",
    )
    assert config.runner == "unified"
    baseline = json.loads((suite / "ssot-baseline.json").read_text(encoding="utf-8"))
    assert len(baseline["entries"]) == 11
    assert "11 known violations" in out
    # From now on the suite is clean against its baseline: nothing new.
    monkeypatch.chdir(suite)
    assert cli.main(["check", "--jobs", "1", "--mode", "strict"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "--jobs", "1", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["new"] == 0
    assert report["summary"]["known"] == 11


def test_it_keeps_crlf_line_endings_and_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    pyproject = tmp_path / "pyproject.toml"
    original = b'[project]\r\nname = "demo"\r\n'
    pyproject.write_bytes(original)
    pyproject.chmod(0o640)
    code, _, _ = run(tmp_path, monkeypatch, capsys, "--yes")
    assert code == 0
    data = pyproject.read_bytes()
    assert data.startswith(original + b"\r\n[tool.ssot]\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert stat.S_IMODE(pyproject.stat().st_mode) == 0o640
    assert load(rootdir=tmp_path).baseline == tmp_path / "ssot-baseline.json"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")
def test_a_symlinked_pyproject_stays_a_link_to_the_file_that_gets_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (tmp_path / "shared").mkdir()
    real = tmp_path / "shared" / "pyproject.toml"
    real.write_text('[project]\nname = "demo"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").symlink_to(Path("shared") / "pyproject.toml")
    code, _, _ = run(tmp_path, monkeypatch, capsys, "--yes")
    assert code == 0
    assert (tmp_path / "pyproject.toml").is_symlink()
    assert "[tool.ssot]" in real.read_text(encoding="utf-8")


def test_a_malformed_old_baseline_stops_it_before_anything_is_written(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = (suite / "pyproject.toml").read_text(encoding="utf-8")
    (suite / "ssot-baseline.json").write_text("garbage", encoding="utf-8")
    code, _, err = run(suite, monkeypatch, capsys, "--yes")
    assert code == 2
    assert "ssot-baseline.json: the baseline is not valid JSON" in err
    assert (suite / "pyproject.toml").read_text(encoding="utf-8") == pyproject
    assert (suite / "ssot-baseline.json").read_text(encoding="utf-8") == "garbage"


def test_a_pyproject_that_cannot_be_written_is_one_line_and_changes_nothing(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = (suite / "pyproject.toml").read_text(encoding="utf-8")

    def read_only(path: Path, table: str) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(cli, "append_table", read_only)
    code, _, err = run(suite, monkeypatch, capsys, "--yes")
    assert code == 2
    assert err == (
        "ssot: error: cannot write pyproject.toml: Read-only file system; nothing was changed\n"
    )
    assert (suite / "pyproject.toml").read_text(encoding="utf-8") == pyproject
    assert not (suite / "ssot-baseline.json").exists()


def test_it_creates_pyproject_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test_a.py").write_text("import os\n\ndef test_a():\n    os.getenv('X')\n")
    code, _, _ = run(tmp_path, monkeypatch, capsys, "--yes")
    assert code == 0
    assert (tmp_path / "pyproject.toml").read_text().startswith("[tool.ssot]\n")
    entries = json.loads((tmp_path / "ssot-baseline.json").read_text())["entries"]
    assert [e["code"] for e in entries] == ["SSOT002"]


def test_it_asks_on_a_terminal_and_writes_nothing_unless_confirmed(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (suite / "pyproject.toml").read_bytes()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answers = iter(["n", "y"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    code, out, _ = run(suite, monkeypatch, capsys)
    assert code == 0
    assert "Nothing written." in out
    assert (suite / "pyproject.toml").read_bytes() == before
    code, out, _ = run(suite, monkeypatch, capsys)
    assert code == 0
    assert "Wrote [tool.ssot]" in out
    assert (suite / "ssot-baseline.json").is_file()


def test_it_refuses_to_touch_an_existing_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "configured"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    before = (root / "pyproject.toml").read_bytes()
    code, _, err = run(root, monkeypatch, capsys, "--yes")
    assert code == 2
    assert "already has [tool.ssot]" in err
    assert (root / "pyproject.toml").read_bytes() == before


def test_it_refuses_to_append_a_table_the_file_could_not_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `tool` as an inline table: TOML allows no [tool.ssot] beside it, so appending one would
    # leave a pyproject.toml that pip, pytest and every other tool refuse.
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("tool = {black = {line-length = 100}}\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    code, _, err = run(tmp_path, monkeypatch, capsys, "--yes")
    assert code == 2
    assert "adding [tool.ssot] would not leave valid TOML" in err
    assert pyproject.read_text() == "tool = {black = {line-length = 100}}\n"
    assert not (tmp_path / "ssot-baseline.json").exists()
