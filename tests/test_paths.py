"""Path helpers: ``**`` globs, rootdir-relative paths, module names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_ssot.paths import any_glob_match, glob_match, in_modules, module_name, relpath


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("tests/critical/test_a.py", "tests/critical/**"),
        ("tests/critical/deep/er/test_a.py", "tests/critical/**"),
        ("tests/critical/test_a.py", "tests/critical"),
        ("tests/critical/test_a.py", "tests/critical/"),
        ("tests/critical/test_a.py", "tests/*/test_a.py"),
        ("tests/critical/test_a.py", "tests/**/test_a.py"),
        ("tests/test_a.py", "tests/**/test_a.py"),
        ("tests/unit/test_rooms_legacy.py", "*_legacy.py"),
        ("a/b/conftest.py", "conftest.py"),
        ("tests/test_a1.py", "tests/test_a?.py"),
        ("tests/legacy/x/test_a.py", "**/legacy/**"),
    ],
)
def test_it_matches_paths_against_globs(path: str, pattern: str) -> None:
    assert glob_match(path, pattern)


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("tests/critical_more/test_a.py", "tests/critical"),
        ("tests/critical/deep/test_a.py", "tests/*/test_a.py"),
        ("tests/unit/test_rooms.py", "*_legacy.py"),
        ("other/tests/critical/test_a.py", "tests/critical/**"),
        ("tests/test_a12.py", "tests/test_a?.py"),
        ("tests/test_a.py", "tests/test_a.py.bak"),
    ],
)
def test_it_does_not_match_unrelated_paths(path: str, pattern: str) -> None:
    assert not glob_match(path, pattern)


def test_it_treats_regex_characters_in_globs_literally() -> None:
    assert glob_match("tests/a+b/test_[x].py", "tests/a+b/test_[x].py")
    assert not glob_match("tests/aab/test_x.py", "tests/a+b/test_[x].py")


def test_it_matches_any_of_several_globs() -> None:
    assert any_glob_match("tests/legacy/test_a.py", ("nope/**", "tests/legacy/**"))
    assert not any_glob_match("tests/unit/test_a.py", ("nope/**", "tests/legacy/**"))
    assert not any_glob_match("tests/unit/test_a.py", ())


def test_it_makes_rootdir_relative_paths_with_forward_slashes(tmp_path: Path) -> None:
    assert relpath(tmp_path / "tests" / "unit" / "test_a.py", tmp_path) == "tests/unit/test_a.py"


def test_it_keeps_paths_outside_the_rootdir_absolute(tmp_path: Path) -> None:
    root = tmp_path / "project"
    outside = tmp_path / "elsewhere" / "test_a.py"
    assert relpath(outside, root) == str(outside).replace("\\", "/")


def test_it_names_modules_by_their_enclosing_packages(tmp_path: Path) -> None:
    package = tmp_path / "tests" / "unit"
    package.mkdir(parents=True)
    (tmp_path / "tests" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (tmp_path / "loose").mkdir()
    assert module_name(package / "test_a.py") == "tests.unit.test_a"
    assert module_name(package / "__init__.py") == "tests.unit"
    assert module_name(tmp_path / "loose" / "test_b.py") == "test_b"


def test_a_run_remembers_each_directorys_package_name(tmp_path: Path) -> None:
    package = tmp_path / "tests" / "unit"
    package.mkdir(parents=True)
    (tmp_path / "tests" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    packages: dict[Path, str] = {}
    assert module_name(package / "test_a.py", packages) == "tests.unit.test_a"
    assert packages[package] == "tests.unit"
    assert packages[tmp_path / "tests"] == "tests"
    assert packages[tmp_path] == ""
    # Answered from memory: no second look at the files of the run's directories.
    (package / "__init__.py").unlink()
    assert module_name(package / "test_b.py", packages) == "tests.unit.test_b"
    assert module_name(package / "test_b.py") == "test_b"


def test_it_knows_which_modules_are_inside_configured_ones() -> None:
    modules = ("fw.env", "mocks")
    assert in_modules("fw.env", modules)
    assert in_modules("fw.env.inner", modules)
    assert in_modules("mocks.factory", modules)
    assert not in_modules("fw.environment", modules)
    assert not in_modules("fw", modules)
    assert not in_modules("anything", ())
