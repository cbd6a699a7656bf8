"""``ssot run``: the reference unified runner (sets PYTEST_SSOT_RUNNER, selects tiers)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pytest_ssot import cli

SUITE = {
    "pyproject.toml": """
        [tool.pytest.ini_options]
        testpaths = ["tests"]

        [tool.ssot]
        runner = "ci-runner"

        [[tool.ssot.tiers]]
        name = "critical"
        paths = ["tests/critical/**"]
        mode = "strict"
    """,
    "tests/critical/test_payments.py": """
        import os

        def test_started_by_the_runner():
            assert os.environ["PYTEST_SSOT_RUNNER"] == "ci-runner"  # ssot: ignore
    """,
    "tests/unit/test_models.py": """
        def test_model():
            assert True

        def test_broken():
            assert False
    """,
}


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    for name, text in SUITE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return tmp_path


def ssot_run(
    root: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(root)
    monkeypatch.delenv("PYTEST_SSOT_RUNNER", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    code = cli.main(["run", *args])
    captured = capfd.readouterr()
    return code, captured.out, captured.err


def test_it_runs_the_tier_with_the_runner_id_set(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ssot_run(
        suite, monkeypatch, capfd, "--tier", "critical", "--", "-p", "no:cacheprovider"
    )
    assert code == 0, out
    assert "1 passed" in out
    assert "ssot run: PYTEST_SSOT_RUNNER=ci-runner python -m pytest -p ssot tests/critical" in err


def test_it_returns_pytests_exit_code_and_passes_arguments_through(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ssot_run(suite, monkeypatch, capfd, "-q", "--", "-p", "no:cacheprovider")
    assert code == 1
    assert "1 failed, 2 passed" in out
    code, out, _ = ssot_run(
        suite, monkeypatch, capfd, "-q", "--", "-p", "no:cacheprovider", "-k", "started"
    )
    assert code == 0
    assert "1 passed, 2 deselected" in out
    # Options `ssot run` does not know go to pytest without `--` too.
    code, out, _ = ssot_run(suite, monkeypatch, capfd, "-q", "--co", "-p", "no:cacheprovider")
    assert code == 0
    assert "3 tests collected" in out


def test_the_default_tier_is_everything_outside_the_named_tiers(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ssot_run(
        suite,
        monkeypatch,
        capfd,
        "-q",
        "--tier",
        "default",
        "--",
        "--co",
        "-q",
        "-p",
        "no:cacheprovider",
    )
    assert code == 0
    assert "tests/unit/test_models.py::test_model" in out
    assert "critical" not in out


def test_an_unknown_tier_is_a_usage_error(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    code, _, err = ssot_run(suite, monkeypatch, capfd, "--tier", "smoke")
    assert code == 2
    assert "unknown tier 'smoke' (tiers: critical, default)" in err


def test_a_tier_that_matches_no_path_is_a_usage_error(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    pyproject = suite / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("tests/critical/**", "tests/gone/**"))
    code, _, err = ssot_run(suite, monkeypatch, capfd, "--tier", "critical")
    assert code == 2
    assert "tier 'critical' matches no existing path (tests/gone/**)" in err


def test_without_a_runner_id_it_refuses_to_run(
    suite: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    pyproject = suite / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('runner = "ci-runner"\n', ""))
    code, out, err = ssot_run(suite, monkeypatch, capfd)
    assert code == 2
    assert "`runner` is not set in [tool.ssot]" in err
    assert out == ""


def test_tier_globs_become_existing_paths(tmp_path: Path) -> None:
    for name in ("tests/a/test_x.py", "tests/b/test_critical_y.py", "other/test_critical_z.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert cli._existing(tmp_path, "tests/a/**") == [tmp_path / "tests/a"]
    assert cli._existing(tmp_path, "tests/a") == [tmp_path / "tests/a"]
    assert cli._existing(tmp_path, "test_critical_*.py") == [
        tmp_path / "other/test_critical_z.py",
        tmp_path / "tests/b/test_critical_y.py",
    ]
    assert cli._existing(tmp_path, "tests/*/test_critical_*.py") == [
        tmp_path / "tests/b/test_critical_y.py"
    ]
    assert cli._existing(tmp_path, "missing/**") == []
