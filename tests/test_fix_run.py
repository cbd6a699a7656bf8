"""`ssot fix` as a command: which files, --diff, atomic writes, idempotence, the summary."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("libcst")

import pytest_ssot.fix
from pytest_ssot.config import Config, load
from pytest_ssot.fix import run, write_atomic

PYPROJECT = """\
[tool.ssot]
base_classes = ["framework.base:SSotBaseTestCase"]
exclude = ["tests/legacy/**"]

[tool.ssot.fix]
base_class = "framework.base:SSotBaseTestCase"
env_import = "from framework.env import get_env"
env_get = "get_env().get({key}, {default})"
env_set = 'get_env().set({key}, {value}, source="test")'
"""
LEGACY = """\
import os
import unittest


class TestThing(unittest.TestCase):
    def test_env(self):
        os.environ["MODE"] = "test"
        self.assertEqual(os.environ["MODE"], "test")
        os.environ.clear()


if __name__ == "__main__":
    unittest.main()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name in ("tests/test_thing.py", "tests/legacy/test_old.py", "other/test_outside.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LEGACY, encoding="utf-8")
    (tmp_path / "tests/test_broken.py").write_text("import os\nclass (\n", encoding="utf-8")
    (tmp_path / "tests/helper.py").write_text(LEGACY, encoding="utf-8")
    return tmp_path


def fix(project: Path, *paths: str, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    config: Config = load(rootdir=project)
    options.setdefault("diff", False)
    options.setdefault("wrap_functions", False)
    code = run([project / p for p in paths], config, out=out, **options)
    return code, out.getvalue()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_diff_prints_a_unified_diff_and_changes_nothing(project: Path) -> None:
    before = snapshot(project)
    code, out = fix(project, "tests", diff=True)
    assert code == 0
    assert snapshot(project) == before
    assert "--- a/tests/test_thing.py\n+++ b/tests/test_thing.py\n" in out
    assert "-class TestThing(unittest.TestCase):\n+class TestThing(SSotBaseTestCase):\n" in out
    assert '+        get_env().set("MODE", "test", source="test")\n' in out
    assert "ssot fix: 1 of 2 files would change (--diff: nothing was written)" in out
    # --diff changed nothing, so what is left is reported at its line in the file as it is
    assert "  tests/test_thing.py:9: SSOT002 os.environ.clear accessed directly" in out


def test_it_rewrites_files_in_place_and_prints_the_summary(project: Path) -> None:
    code, out = fix(project, "tests")
    assert code == 0
    assert (project / "tests/test_thing.py").read_text(encoding="utf-8") == textwrap.dedent(
        """\
        import os
        from framework.base import SSotBaseTestCase
        from framework.env import get_env


        class TestThing(SSotBaseTestCase):
            def test_env(self):
                get_env().set("MODE", "test", source="test")
                self.assertEqual(get_env().get("MODE"), "test")
                os.environ.clear()
        """
    )
    assert out.splitlines() == [
        "ssot fix: 1 of 2 files changed",
        "fixed: 4 violations (SSOT001 1, SSOT002 2, SSOT004 1)",
        "left for manual work: 1",
        # at its line in the rewritten file (line 9 before the imports changed)
        "  tests/test_thing.py:10: SSOT002 os.environ.clear accessed directly: not a shape "
        "ssot fix rewrites",
        "left untouched: 1 file",
        "  tests/test_broken.py: syntax error (line 2): invalid syntax",
    ]


def test_it_never_touches_excluded_files_files_outside_paths_or_helpers(project: Path) -> None:
    fix(project, "tests")
    assert (project / "tests/legacy/test_old.py").read_text(encoding="utf-8") == LEGACY
    assert (project / "other/test_outside.py").read_text(encoding="utf-8") == LEGACY
    assert (project / "tests/helper.py").read_text(encoding="utf-8") == LEGACY
    assert (project / "tests/test_broken.py").read_text(encoding="utf-8") == "import os\nclass (\n"


def test_an_explicit_file_is_fixed_whatever_its_name_unless_excluded(project: Path) -> None:
    code, out = fix(project, "tests/helper.py", "tests/legacy/test_old.py")
    assert code == 0
    assert "class TestThing(SSotBaseTestCase):" in (project / "tests/helper.py").read_text()
    assert (project / "tests/legacy/test_old.py").read_text(encoding="utf-8") == LEGACY
    assert out.startswith("ssot fix: 1 of 1 file changed\n")


def test_product_code_named_explicitly_is_left_alone(project: Path) -> None:
    # SPEC: product code reading its own settings from the environment is not a violation,
    # so `ssot fix` must not make it depend on the test infrastructure.
    settings = 'import os\n\n\ndef url():\n    return os.environ.get("URL", "x")\n'
    (project / "app").mkdir()
    (project / "app/settings.py").write_text(settings, encoding="utf-8")
    code, out = fix(project, "app/settings.py", "tests/test_thing.py")
    assert code == 0
    assert (project / "app/settings.py").read_text(encoding="utf-8") == settings
    assert out.startswith("ssot fix: 1 of 1 file changed\n")
    assert "  app/settings.py: not test code: no test module or conftest.py" in out


def test_running_it_twice_changes_nothing_the_second_time(project: Path) -> None:
    fix(project, "tests")
    first = snapshot(project)
    code, out = fix(project, "tests")
    assert code == 0
    assert snapshot(project) == first
    assert out.splitlines()[:3] == [
        "ssot fix: 0 of 2 files changed",
        "fixed: 0 violations",
        "left for manual work: 1",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_it_keeps_file_permissions_and_leaves_no_temporary_files(project: Path) -> None:
    path = project / "tests/test_thing.py"
    path.chmod(0o640)
    fix(project, "tests")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_it_defaults_to_the_root_and_skips_virtualenvs_and_hidden_directories(
    project: Path,
) -> None:
    for directory in (".venv/lib", "venv2", "node_modules/pkg"):
        path = project / directory / "test_vendored.py"
        path.parent.mkdir(parents=True)
        path.write_text(LEGACY, encoding="utf-8")
    (project / "venv2/pyvenv.cfg").write_text("home = /usr\n", encoding="utf-8")
    code, out = fix(project)
    assert code == 0
    assert out.startswith("ssot fix: 2 of 3 files changed\n")  # tests/ and other/
    for directory in (".venv/lib", "venv2", "node_modules/pkg"):
        assert (project / directory / "test_vendored.py").read_text(encoding="utf-8") == LEGACY


def test_it_never_rewrites_the_ssot_infrastructure_itself(project: Path) -> None:
    base = project / "framework/base.py"
    base.parent.mkdir()
    (project / "framework/__init__.py").write_text("", encoding="utf-8")
    base.write_text(
        "import unittest\n\n\nclass SSotBaseTestCase(unittest.TestCase):\n    pass\n",
        encoding="utf-8",
    )
    code, out = fix(project, "framework/base.py")
    assert code == 0
    assert "left untouched: 1 file\n  framework/base.py: SSOT infrastructure" in out
    assert "unittest.TestCase" in base.read_text(encoding="utf-8")


def test_a_missing_path_is_a_usage_error(project: Path) -> None:
    code, out = fix(project, "nope")
    assert code == 2
    assert out == f"ssot fix: {project / 'nope'}: no such file or directory\n"


def test_no_fix_table_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ssot]\nmode = 'warn'\n", encoding="utf-8")
    code, out = fix(tmp_path)
    assert code == 2
    assert out.startswith(
        f"ssot fix: nothing to rewrite to: add a [tool.ssot.fix] table to "
        f"{tmp_path / 'pyproject.toml'}"
    )


def test_without_libcst_it_says_how_to_install_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "libcst", None)  # makes `import libcst` fail
    code, out = fix(project, "tests")
    assert code == 2
    assert out == "ssot fix needs the fix extra (libcst): pip install 'pytest-ssot[fix]'\n"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root"
)
def test_a_file_it_cannot_write_fails_the_run_and_is_reported(project: Path) -> None:
    (project / "tests").chmod(0o555)  # the temporary file cannot be created next to it
    try:
        code, out = fix(project, "tests/test_thing.py")
    finally:
        (project / "tests").chmod(0o755)
    assert code == 1
    assert "tests/test_thing.py: cannot be written: Permission denied" in out
    assert (project / "tests/test_thing.py").read_text(encoding="utf-8") == LEGACY


def test_it_refuses_to_overwrite_a_file_that_changed_since_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "test_x.py"
    path.write_bytes(b"edited by someone else\n")
    assert write_atomic(path, b"new\n", expected=b"what fix read\n") == (
        "changed on disk while ssot fix ran; run it again"
    )
    assert path.read_bytes() == b"edited by someone else\n"
    assert write_atomic(path, b"new\n", expected=b"edited by someone else\n") is None
    assert path.read_bytes() == b"new\n"


def test_many_files_are_fixed_in_worker_processes_with_the_same_result(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytest_ssot.fix, "PARALLEL_FROM", 4)  # workers from 4 files on
    for index in range(7):
        (project / f"tests/test_many_{index}.py").write_text(LEGACY, encoding="utf-8")
    serial = fix(project, "tests", diff=True, jobs=1)
    parallel = fix(project, "tests", diff=True, jobs=2)
    assert parallel == serial
    assert serial[1].count("+class TestThing(SSotBaseTestCase):\n") == 8


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git apply")
def test_the_diff_alone_goes_to_out_and_applies_to_the_same_result(project: Path) -> None:
    (project / "tests/test_no_newline.py").write_bytes(LEGACY.encode().rstrip(b"\n"))
    out, err = io.StringIO(), io.StringIO()
    config = load(rootdir=project)
    assert run([project / "tests"], config, diff=True, wrap_functions=False, out=out, err=err) == 0
    assert err.getvalue().startswith("ssot fix: 2 of 3 files would change")
    patch = project.parent / "changes.patch"
    patch.write_text(out.getvalue(), encoding="utf-8")
    copy = project.parent / "copy"
    shutil.copytree(project, copy)
    applied = subprocess.run(
        ["git", "apply", "-p1", str(patch)], cwd=copy, capture_output=True, text=True, check=False
    )
    assert applied.returncode == 0, applied.stderr
    fix(project, "tests")
    assert snapshot(copy) == snapshot(project)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(b"\xef\xbb\xbf" + LEGACY.encode(), id="utf-8 with a BOM"),
        pytest.param(
            b"# -*- coding: latin-1 -*-\n"
            + LEGACY.replace('"test"', '"t\xe9st"').encode("latin-1"),
            id="latin-1",
        ),
        pytest.param(LEGACY.replace("\n", "\r").encode(), id="CR line endings"),
        pytest.param(LEGACY.replace("\n", "\r\n").encode(), id="CRLF line endings"),
        pytest.param(LEGACY.encode().replace(b"\n", b"\r\n", 3), id="mixed line endings"),
    ],
)
def test_the_patch_applies_to_files_in_any_encoding_and_line_ending(
    project: Path, source: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The patch holds the file's own bytes: decoded and written as UTF-8 text, a BOM went
    missing and latin-1 bytes changed, and CR line endings are no line break to git."""
    (project / "tests/test_thing.py").write_bytes(source)
    elsewhere = tmp_path_factory.mktemp("applied")
    copy = elsewhere / "copy"
    shutil.copytree(project, copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    printed = subprocess.run(
        [sys.executable, "-m", "pytest_ssot", "fix", "--diff", "tests/test_thing.py"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.startswith(b"--- a/tests/test_thing.py\n")
    patch = elsewhere / "changes.patch"
    patch.write_bytes(printed.stdout)
    applied = subprocess.run(
        ["git", "apply", "-p1", str(patch)], cwd=copy, capture_output=True, text=True, check=False
    )
    assert applied.returncode == 0, applied.stderr
    fix(project, "tests/test_thing.py")
    assert (
        (copy / "tests/test_thing.py").read_bytes()
        == (project / "tests/test_thing.py").read_bytes()
        != source
    )


def test_it_fixes_only_the_files_pytest_collects_or_loads(project: Path) -> None:
    # pytest's own settings keep files from collection (python_files, norecursedirs,
    # --ignore) and so do conftest lists: ssot check never reports them, so ssot fix leaves
    # them as they are, and fixes the test modules python_files names however they look.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        PYPROJECT
        + "\n[tool.pytest.ini_options]\n"
        + 'python_files = ["test_*.py", "check_*.py"]\n'
        + 'norecursedirs = ["generated"]\n'
        + 'addopts = ["--ignore=tests/snapshots"]\n',
        encoding="utf-8",
    )
    (project / "tests/conftest.py").write_text(
        'collect_ignore = ["test_manual.py"]\ncollect_ignore_glob = ["*_wip.py"]\n',
        encoding="utf-8",
    )
    kept_out = (
        "tests/test_manual.py",
        "tests/test_feature_wip.py",
        "tests/generated/test_made.py",
        "tests/snapshots/test_shot.py",
    )
    for name in (*kept_out, "tests/check_custom.py", "tests/generated/conftest.py"):
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LEGACY, encoding="utf-8")

    code, out = fix(project, "tests")

    assert code == 0
    for name in kept_out:
        assert (project / name).read_text(encoding="utf-8") == LEGACY, name
    # Nor the conftest.py of a directory pytest never enters: it is never loaded.
    assert (project / "tests/generated/conftest.py").read_text(encoding="utf-8") == LEGACY
    for name in ("tests/test_thing.py", "tests/check_custom.py"):
        assert "SSotBaseTestCase" in (project / name).read_text(encoding="utf-8"), name
    assert out.startswith("ssot fix: 2 of 4 files changed\n")  # and conftest.py, test_broken


def test_the_files_it_fixes_are_those_ssot_check_checks(project: Path) -> None:
    (project / "tests/conftest.py").write_text(
        'collect_ignore = ["test_manual.py"]\n', encoding="utf-8"
    )
    (project / "tests/test_manual.py").write_text(LEGACY, encoding="utf-8")
    shown = subprocess.run(
        [sys.executable, "-m", "pytest_ssot", "check", "--show-files", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    checked = {line for line in shown.stdout.splitlines() if line}

    before = snapshot(project)
    fix(project, "tests")
    changed = {name for name, data in snapshot(project).items() if before.get(name) != data}

    assert changed
    assert changed <= checked, (changed, checked)
    assert "tests/test_manual.py" not in changed | checked


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_it_never_fixes_files_through_a_linked_directory(project: Path) -> None:
    # pytest follows the link; a rewrite through it could reach files outside the project.
    (project / "tests/linked").symlink_to(project / "other", target_is_directory=True)

    code, _ = fix(project, "tests")

    assert code == 0
    assert (project / "other/test_outside.py").read_text(encoding="utf-8") == LEGACY
    assert "SSotBaseTestCase" in (project / "tests/test_thing.py").read_text(encoding="utf-8")
