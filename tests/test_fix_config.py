"""The [tool.ssot.fix] table: every problem named with file, key and value, all at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_ssot.config import Config, load, parse
from pytest_ssot.errors import ConfigError

GOOD: dict[str, Any] = {
    "base_class": "framework.base:SSotBaseTestCase",
    "async_base_class": "framework.base:SSotAsyncTestCase",
    "base_map": {"legacy.cases:OldBase": "framework.base:SSotBaseTestCase"},
    "env_import": ["from framework.env import get_env"],
    "env_get": "get_env().get({key}, {default})",
    "env_getitem": "get_env()[{key}]",
    "env_set": 'get_env().set({key}, {value}, source="test")',
    "env_delete": "get_env().delete({key})",
    "env_contains": "{key} in get_env()",
    "patch_environ": "get_env().patched({values}, clear={clear})",
    "monkeypatch_setenv": "get_env().set({key}, {value})",
    "monkeypatch_delenv": "get_env().delete({key})",
}


def parse_fix(fix: object, tmp_path: Path) -> Config:
    return parse({"fix": fix}, path=tmp_path / "pyproject.toml", root=tmp_path, prefix="tool.ssot.")


def problems(fix: object, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        parse_fix(fix, tmp_path)
    where = f"{tmp_path / 'pyproject.toml'}: "
    return [p.removeprefix(where) for p in excinfo.value.problems]


def test_it_accepts_every_documented_key(tmp_path: Path) -> None:
    config = parse_fix(GOOD, tmp_path)
    assert config.fix == {**GOOD, "env_import": ("from framework.env import get_env",)}
    assert config.warnings == ()


def test_it_reads_the_table_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ssot.fix]\n"
        'base_class = "framework.base:SSotBaseTestCase"\n'
        'env_import = "from framework.env import get_env"\n'
        'env_get = "get_env().get({key}, {default})"\n',
        encoding="utf-8",
    )
    config = load(rootdir=tmp_path)
    assert config.fix["env_get"] == "get_env().get({key}, {default})"
    assert config.fix["env_import"] == ("from framework.env import get_env",)


def test_it_reports_every_bad_value_at_once(tmp_path: Path) -> None:
    assert problems(
        {
            "base_class": "SSotBaseTestCase",
            "base_map": {"unittest.TestCase": "framework.base:Base"},
            "env_import": "get_env = None",
            "env_get": "get_env().get({name})",
            "env_set": "get_env().set({key}",
            "env_delete": 3,
        },
        tmp_path,
    ) == [
        "tool.ssot.fix.base_class = 'SSotBaseTestCase': expected \"package.module:ClassName\"",
        "tool.ssot.fix.base_map.'unittest.TestCase' = 'framework.base:Base': keys look like "
        '"module:ClassName"',
        "tool.ssot.fix.env_import = 'get_env = None': expected an absolute import statement",
        "tool.ssot.fix.env_get = 'get_env().get({name})': expected placeholders {default}, {key}",
        "tool.ssot.fix.env_set = 'get_env().set({key}': expected placeholders {key}, {value}",
        "tool.ssot.fix.env_delete = 3: expected a Python expression template",
    ]


def test_a_template_must_be_an_expression(tmp_path: Path) -> None:
    assert problems({"env_set": "get_env().set({key}, {value}) = 1"}, tmp_path) == [
        "tool.ssot.fix.env_set = 'get_env().set({key}, {value}) = 1': not a valid Python expression"
    ]


def test_a_template_may_only_use_names_its_import_brings(tmp_path: Path) -> None:
    assert problems({"env_get": "get_env().get({key})"}, tmp_path) == [
        "tool.ssot.fix.env_get = 'get_env().get({key})': uses get_env, which "
        "fix.env_import does not import"
    ]
    # builtins and self need no import
    assert parse_fix({"env_get": "self.env.get(str({key}))"}, tmp_path).fix == {
        "env_get": "self.env.get(str({key}))"
    }


def test_fix_must_be_a_table(tmp_path: Path) -> None:
    assert problems("get_env", tmp_path) == [
        "tool.ssot.fix = 'get_env': expected a table of templates"
    ]


def test_an_unknown_fix_key_warns(tmp_path: Path) -> None:
    config = parse_fix({"env_gett": "x"}, tmp_path)
    assert config.fix == {}
    (warning,) = config.warnings
    assert "unknown key tool.ssot.fix.env_gett is ignored" in warning.message
    assert warning.key == ("fix", "env_gett")
