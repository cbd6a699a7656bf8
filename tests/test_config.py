"""Configuration: every ``[tool.ssot]`` key validated, precedence of modes, tiers, exclude."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import pytest_ssot
from pytest_ssot.config import (
    DEFAULT_MOCK_ALLOWED_NAMES,
    Config,
    ConfigWarning,
    Tier,
    check_required_version,
    find_pyproject,
    key_line,
    load,
    parse,
    unknown_rule_warnings,
)
from pytest_ssot.errors import ConfigError


def _pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(textwrap.dedent(body).lstrip())
    return path


def _problems(table: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as excinfo:
        parse(table, path=Path("/p/pyproject.toml"), root=Path("/p"), prefix="tool.ssot.")
    return excinfo.value.problems


def test_it_uses_the_defaults_without_a_tool_ssot_table(tmp_path: Path) -> None:
    _pyproject(tmp_path, "[tool.other]\nx = 1\n")
    config = load(rootdir=tmp_path)
    assert config.mode == "warn"
    assert config.path is None
    assert config.base_classes == ()
    assert config.allow_function_tests is False
    assert config.mock_allowed_names == DEFAULT_MOCK_ALLOWED_NAMES
    assert config.runner is None
    assert config.baseline is None
    assert config.fail_under == 0.0
    assert config.rules == {}
    assert config.tiers == ()
    assert not config.disabled


def test_it_uses_the_defaults_without_a_pyproject(tmp_path: Path) -> None:
    assert load(rootdir=tmp_path) == Config(root=tmp_path)


def test_it_reads_every_key_of_the_tool_ssot_table(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path,
        """
        [tool.ssot]
        mode = "strict"
        base_classes = ["fw.base:SSotBaseTestCase", "fw.base:Outer.Inner"]
        allow_function_tests = true
        env_modules = ["fw.env"]
        mock_modules = ["fw.mocks"]
        mock_allowed_names = ["ANY"]
        runner = "unified"
        baseline = "ssot-baseline.json"
        fail_under = 80
        exclude = ["tests/legacy/**"]
        rules = { SSOT003 = "warn", SSOT001 = "off" }
        required_version = ">=0.1"
        fix = { base_class = "fw.base:SSotBaseTestCase" }

        [[tool.ssot.tiers]]
        name = "mission_critical"
        paths = ["tests/critical/**"]
        mode = "strict"

        [[tool.ssot.tiers]]
        name = "legacy"
        paths = ["tests/old/**", "tests/older/**"]

        [[tool.ssot.sources]]
        code = "SSOT201"
        name = "raw-websocket"
        forbid = ["chat.ws.connect"]
        use = "testkit.ws()"
        modules = ["testkit"]
        """,
    )
    config = load(rootdir=tmp_path)
    assert config.path == path
    assert config.mode == "strict"
    assert config.base_classes == ("fw.base:SSotBaseTestCase", "fw.base:Outer.Inner")
    assert config.allow_function_tests is True
    assert config.env_modules == ("fw.env",)
    assert config.mock_modules == ("fw.mocks",)
    assert config.mock_allowed_names == ("ANY",)
    assert config.runner == "unified"
    assert config.baseline == tmp_path / "ssot-baseline.json"
    assert config.fail_under == 80.0
    assert config.exclude == ("tests/legacy/**",)
    assert config.rules == {"SSOT003": "warn", "SSOT001": "off"}
    assert config.required_version == ">=0.1"
    assert config.fix == {"base_class": "fw.base:SSotBaseTestCase"}
    assert config.tiers == (
        Tier("mission_critical", ("tests/critical/**",), "strict"),
        Tier("legacy", ("tests/old/**", "tests/older/**"), None),
    )
    assert [s.code for s in config.sources] == ["SSOT201"]
    assert config.sources[0].forbid == ("chat.ws.connect",)
    assert config.warnings == ()


def test_a_standalone_file_holds_the_keys_at_top_level(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[tool.ssot]\nmode = "off"\n')
    standalone = tmp_path / "ci" / "ssot.toml"
    standalone.parent.mkdir()
    standalone.write_text('mode = "strict"\nbaseline = "known.json"\n')
    config = load(rootdir=tmp_path, config_file=standalone)
    assert config.mode == "strict"
    assert config.path == standalone
    # Relative paths in a standalone file are relative to that file.
    assert config.baseline == standalone.parent / "known.json"


def test_a_pyproject_given_as_the_file_is_read_by_its_tool_ssot_table(tmp_path: Path) -> None:
    # `--ssot-config pyproject.toml` used to read `tool` as one unknown key: the whole
    # configuration was dropped for the defaults, and a strict CI passed.
    other = tmp_path / "service" / "pyproject.toml"
    other.parent.mkdir()
    other.write_text('[project]\nname = "x"\n\n[tool.ssot]\nmode = "strict"\nbaseline = "b.json"\n')
    config = load(rootdir=tmp_path, config_file=other)
    assert (config.mode, config.baseline, config.warnings) == (
        "strict",
        other.parent / "b.json",
        (),
    )
    other.write_text('[tool.ssot]\nmode = "loud"\n')
    with pytest.raises(ConfigError, match=r"tool\.ssot\.mode = 'loud'"):
        load(rootdir=tmp_path, config_file=other)


def test_a_standalone_file_reports_problems_without_a_table_prefix(tmp_path: Path) -> None:
    standalone = tmp_path / "ssot.toml"
    standalone.write_text('mode = "loud"\n')
    with pytest.raises(ConfigError) as excinfo:
        load(rootdir=tmp_path, config_file=standalone)
    assert excinfo.value.problems == [
        f'{standalone}: mode = \'loud\': expected one of "off", "warn", "strict"'
    ]


def test_unknown_keys_warn_and_name_the_key(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[tool.ssot]\nmode = "warn"\nbase_class = ["a:B"]\n')
    config = load(rootdir=tmp_path)
    (warning,) = config.warnings
    assert warning.message.startswith(f"{path}: unknown key tool.ssot.base_class is ignored")
    assert "base_classes" in warning.message
    assert (warning.key, config.table) == (("base_class",), ("tool", "ssot"))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("mode", "loud", 'expected one of "off", "warn", "strict"'),
        ("mode", 1, 'expected one of "off", "warn", "strict"'),
        ("base_classes", "fw.base:Base", "expected a list of strings"),
        ("base_classes", ["fw.base.Base"], '"package.module:ClassName"'),
        ("allow_function_tests", "yes", "expected true/false"),
        ("env_modules", "fw.env", "expected a list of strings"),
        ("env_modules", ["fw/env.py"], "a dotted name"),
        ("mock_modules", [1], "expected a list of strings"),
        ("mock_allowed_names", "ANY", "expected a list of strings"),
        ("runner", "", "expected a non-empty string"),
        ("runner", 3, "expected a non-empty string"),
        ("baseline", 5, "expected a path"),
        ("fail_under", 101, "expected a number from 0 to 100"),
        ("fail_under", -1, "expected a number from 0 to 100"),
        ("fail_under", "90", "expected a number from 0 to 100"),
        ("fail_under", True, "expected a number from 0 to 100"),
        ("exclude", "tests/legacy", "expected a list of strings"),
        ("exclude", ["tests/legacy/**", ""], 'an empty glob matches every file; write "**"'),
        ("exclude", ["/"], "an empty glob matches every file"),
        ("rules", "strict", "expected a table"),
        ("tiers", {"name": "x"}, "expected an array of tables"),
        ("required_version", "0.1", "PEP 440 specifier"),
        ("required_version", 1, "PEP 440 specifier"),
        ("required_version", "", "an empty specifier accepts any version"),
        ("required_version", " ", "an empty specifier accepts any version"),
        ("sources", {"code": "SSOT201"}, "expected an array of tables"),
        ("fix", "yes", "expected a table of templates"),
    ],
)
def test_a_bad_value_names_the_file_key_and_value(key: str, value: object, expected: str) -> None:
    problems = _problems({key: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"/p/pyproject.toml: tool.ssot.{key} = ")
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ({"SSOT2": "warn"}, "rules.SSOT2", "rule codes look like SSOT002"),
        ({"SSOT002": "loud"}, "rules.SSOT002", '"off", "warn", "strict"'),
    ],
)
def test_bad_rules_entries_name_the_rule(value: object, key: str, expected: str) -> None:
    (problem,) = _problems({"rules": value})
    assert f"tool.ssot.{key} = " in problem
    assert expected in problem


@pytest.mark.parametrize(
    ("tier", "key", "expected"),
    [
        ({"paths": ["a/**"]}, "tiers[0].name", "every tier needs a name"),
        ({"name": "default", "paths": ["a/**"]}, "tiers[0].name", "not 'default'"),
        ({"name": "t", "paths": []}, "tiers[0].paths", "at least one glob"),
        ({"name": "t", "paths": "a/**"}, "tiers[0].paths", "expected a list of strings"),
        ({"name": "t", "paths": [1]}, "tiers[0].paths", "expected a list of strings"),
        ({"name": "t"}, "tiers[0].paths", "at least one glob"),
        ({"name": "t", "paths": [" "]}, "tiers[0].paths", "an empty glob matches every file"),
        ({"name": "t", "paths": ["a/**"], "mode": "loud"}, "tiers[0].mode", '"off", "warn"'),
        ({"name": "t", "paths": ["a/**"], "glob": "x"}, "tiers[0].glob", "unknown tier key"),
    ],
)
def test_bad_tiers_name_the_tier_and_key(tier: dict[str, Any], key: str, expected: str) -> None:
    # One problem, one message: a list of the wrong type also said "needs at least one glob".
    (problem,) = _problems({"tiers": [tier]})
    assert f"tool.ssot.{key} = " in problem
    assert expected in problem


def test_tier_names_must_be_unique() -> None:
    tiers = [{"name": "t", "paths": ["a/**"]}, {"name": "t", "paths": ["b/**"]}]
    (problem,) = _problems({"tiers": tiers})
    assert "tool.ssot.tiers[1].name = 't'" in problem


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(
        {
            "mode": "loud",
            "fail_under": 200,
            "rules": {"SSOT002": "never"},
            "exclude": "x",
            "allow_function_tests": 1,
        }
    )
    keys = sorted(p.split(": ")[1].split(" = ")[0] for p in problems)
    assert keys == [
        "tool.ssot.allow_function_tests",
        "tool.ssot.exclude",
        "tool.ssot.fail_under",
        "tool.ssot.mode",
        "tool.ssot.rules.SSOT002",
    ]


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[tool.ssot\nmode = 'warn'\n")
    with pytest.raises(ConfigError) as excinfo:
        load(rootdir=tmp_path)
    (problem,) = excinfo.value.problems
    assert problem.startswith(f"{path}: not valid TOML")


def test_a_tool_ssot_that_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[tool]\nssot = "strict"\n')
    with pytest.raises(ConfigError, match=r"\[tool.ssot\] must be a table"):
        load(rootdir=tmp_path)


def test_a_missing_standalone_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load(rootdir=tmp_path, config_file=tmp_path / "missing.toml")


def _config(**kwargs: Any) -> Config:
    tiers = (
        Tier("critical", ("tests/critical/**",), "strict"),
        Tier("legacy", ("tests/legacy/**",), "off"),
        Tier("unmoded", ("tests/unmoded/**",), None),
    )
    return Config(root=Path("/p"), tiers=tiers, **kwargs)


@pytest.mark.parametrize(
    ("rules", "override", "path", "expected"),
    [
        # mode, then the tier's mode, then rules[CODE]
        ({}, None, "tests/unit/test_a.py", "warn"),
        ({}, None, "tests/critical/test_a.py", "strict"),
        ({}, None, "tests/legacy/test_a.py", "off"),
        ({}, None, "tests/unmoded/test_a.py", "warn"),
        ({"SSOT002": "strict"}, None, "tests/unit/test_a.py", "strict"),
        ({"SSOT002": "warn"}, None, "tests/critical/test_a.py", "warn"),
        ({"SSOT002": "strict"}, None, "tests/legacy/test_a.py", "strict"),
        ({"SSOT003": "strict"}, None, "tests/unit/test_a.py", "warn"),
        # --ssot-mode replaces mode and every tier's mode; a rule switched off stays off
        ({}, "strict", "tests/legacy/test_a.py", "strict"),
        ({}, "warn", "tests/critical/test_a.py", "warn"),
        ({"SSOT002": "strict"}, "warn", "tests/unit/test_a.py", "warn"),
        ({"SSOT002": "off"}, "strict", "tests/critical/test_a.py", "off"),
    ],
)
def test_the_mode_of_a_violation_follows_the_spec_precedence(
    rules: dict[str, Any], override: str | None, path: str, expected: str
) -> None:
    config = _config(rules=rules).with_overrides(mode=override)  # type: ignore[arg-type]
    assert config.mode_for("SSOT002", path) == expected


def test_the_first_matching_tier_names_a_file(tmp_path: Path) -> None:
    config = Config(
        root=tmp_path,
        tiers=(Tier("a", ("tests/x/**",)), Tier("b", ("tests/**",))),
    )
    assert config.tier_name("tests/x/test_a.py") == "a"
    assert config.tier_name("tests/y/test_a.py") == "b"
    assert config.tier_name("other/test_a.py") == "default"


def test_session_level_violations_follow_rules_then_mode() -> None:
    config = _config(mode="strict")
    assert config.session_mode_for("SSOT004") == "strict"
    assert _config(rules={"SSOT004": "warn"}).session_mode_for("SSOT004") == "warn"
    assert (
        _config(rules={"SSOT004": "off"}).with_overrides(mode="strict").session_mode_for("SSOT004")
        == "off"
    )
    assert _config(mode="strict").with_overrides(mode="warn").session_mode_for("SSOT004") == "warn"


def test_a_session_is_disabled_by_the_override_or_when_everything_is_off() -> None:
    assert _config().with_overrides(mode="off").disabled
    assert Config(root=Path("/p"), mode="off").disabled
    assert not Config(root=Path("/p"), mode="off", rules={"SSOT002": "warn"}).disabled
    assert not _config(mode="off").disabled  # the critical tier is strict


def test_exclude_globs_decide_which_files_are_never_checked() -> None:
    config = Config(root=Path("/p"), exclude=("tests/legacy/**", "*_generated.py"))
    assert config.is_excluded("tests/legacy/test_a.py")
    assert config.is_excluded("tests/unit/test_x_generated.py")
    assert not config.is_excluded("tests/unit/test_a.py")
    assert not Config(root=Path("/p")).is_excluded("tests/unit/test_a.py")


def test_required_version_accepts_a_satisfied_specifier() -> None:
    config = Config(root=Path("/p"), path=Path("/p/pyproject.toml"), required_version=">=0.1,<99")
    check_required_version(config, "0.1.0")


def test_required_version_refuses_an_unsatisfied_specifier() -> None:
    config = Config(root=Path("/p"), path=Path("/p/pyproject.toml"), required_version=">=99")
    with pytest.raises(ConfigError) as excinfo:
        check_required_version(config, "0.1.0")
    (problem,) = excinfo.value.problems
    assert problem.startswith("/p/pyproject.toml: required_version = '>=99'")
    assert "pytest-ssot 0.1.0 is installed" in problem


def test_find_pyproject_prefers_the_nearest_file_with_a_tool_ssot_table(tmp_path: Path) -> None:
    outer = _pyproject(tmp_path, '[tool.ssot]\nmode = "strict"\n')
    inner_dir = tmp_path / "sub" / "deeper"
    inner_dir.mkdir(parents=True)
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.black]\n")
    assert find_pyproject(inner_dir) == outer
    outer.write_text("[tool.black]\n")
    # Without any [tool.ssot], the nearest pyproject.toml is the project's.
    assert find_pyproject(inner_dir) == tmp_path / "sub" / "pyproject.toml"


# -- through pytest -------------------------------------------------------------------------


def test_pytest_exits_4_naming_file_key_and_value_for_every_problem(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml(
        '[tool.ssot]\nmode = "loud"\nfail_under = 120\nbase_classes = ["nocolon"]\n'
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    pyproject = pytester.path / "pyproject.toml"
    result.stderr.fnmatch_lines(
        [
            f"ERROR: {pyproject}: tool.ssot.mode = 'loud': expected one of*",
            f"ERROR: {pyproject}: tool.ssot.base_classes = 'nocolon': does not look like*",
            f"ERROR: {pyproject}: tool.ssot.fail_under = 120: expected a number from 0 to 100",
        ],
        consecutive=False,
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_pytest_shows_unknown_keys_and_rule_codes_as_warnings_once_and_runs(
    pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    # SSOT020 for SSOT002: a typo that would leave the rule it meant as it was, silently.
    pytester.makepyprojecttoml(
        '[tool.ssot]\nmodee = "strict"\nrules = {SSOT020 = "off", SSOT002 = "warn"}\n'
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", *xdist)
    assert result.ret == pytest.ExitCode.OK
    output = result.stdout.str()
    assert output.count("SSOTWarning: ") == 2  # once each, not once more per xdist worker
    result.stdout.fnmatch_lines(
        [
            "*SSOTWarning: *unknown key tool.ssot.modee is ignored*",
            "*SSOTWarning: *rules.SSOT020 names no rule, so it changes nothing (rules: SSOT001,*",
        ],
        consecutive=False,
    )


CONFIG_WITH_WARNINGS = """\
[project]
name = "example"

[tool.ssot]
mode = "warn"
modee = "strict"
rules = {SSOT002 = "warn", SSOT020 = "off"}

[tool.ssot.fix]
base_class = "fw:Base"
env_gett = "get_env({key})"
"""


@pytest.mark.parametrize("xdist", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_config_warnings_point_at_the_line_of_the_key_in_the_config_file(
    pytester: pytest.Pytester, xdist: tuple[str, ...]
) -> None:
    (pytester.path / "pyproject.toml").write_text(CONFIG_WITH_WARNINGS)
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", *xdist)
    assert result.ret == pytest.ExitCode.OK
    output = result.stdout.str()
    assert "plugin.py" not in output
    result.stdout.fnmatch_lines(
        [
            "*= warnings summary =*",
            "pyproject.toml:6",
            "*pyproject.toml:6: SSOTWarning: *unknown key tool.ssot.modee is ignored*",
            '    modee = "strict"',
            "pyproject.toml:7",
            "*pyproject.toml:7: SSOTWarning: *rules.SSOT020 names no rule*",
            "pyproject.toml:11",
            "*pyproject.toml:11: SSOTWarning: *unknown key tool.ssot.fix.env_gett is ignored*",
        ],
        consecutive=False,
    )
    assert output.count("SSOTWarning: ") == 3  # once each, not once more per xdist worker


def test_config_warnings_point_into_a_standalone_config_file(pytester: pytest.Pytester) -> None:
    (pytester.path / "ssot.toml").write_text(
        '# the team\'s SSOT settings\nmode = "warn"\n\n[rules]\nSSOT002 = "warn"\nSSOT020 = "off"\n'
    )
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", "--ssot-config=ssot.toml")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["ssot.toml:6", "*ssot.toml:6: SSOTWarning: *rules.SSOT020 names no rule*"]
    )


def test_key_line_finds_a_key_within_its_table_however_it_is_written() -> None:
    text = textwrap.dedent(
        """\
        [tool.other]
        modee = 1
        [tool.ssot]  # ours
        mode = "warn"
        "modee" = "strict"
        rules = {SSOT002 = "warn", SSOT020 = "off"}
        fix.env_gett = "x"

        [[tool.ssot.tiers]]
        name = "critical"
        """
    )
    ssot = ("tool", "ssot")
    assert key_line(text, (*ssot, "modee")) == 5  # not the same name in another table
    assert key_line(text, (*ssot, "rules", "SSOT020")) == 6  # the inline table holding it
    assert key_line(text, (*ssot, "fix", "env_gett")) == 7  # a dotted key
    assert key_line(text, (*ssot, "tiers", "name")) == 10
    assert key_line(text, (*ssot, "not_there")) == 3  # the table holding it
    assert key_line(text, ("elsewhere",)) == 1
    assert key_line("", (*ssot, "mode")) == 1


def test_ssot_check_warns_of_unknown_rule_codes_but_not_of_plugin_rules(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[tool.ssot]\nrules = {SSOT020 = "off", SSOT301 = "warn"}\n')
    config = load(rootdir=tmp_path)
    codes = ["SSOT001", "SSOT002"]
    assert unknown_rule_warnings(config, codes, plugin_rules_known=False) == [
        ConfigWarning(
            f"{path}: rules.SSOT020 names no rule, so it changes nothing (rules: SSOT001, SSOT002)",
            ("rules", "SSOT020"),
        )
    ]
    assert len(unknown_rule_warnings(config, codes)) == 2  # pytest knows its plugins' rules


def test_pytest_reads_a_standalone_config_given_with_ssot_config(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.path.joinpath("strict.toml").write_text('mode = "strict"\n')
    pytester.makepyfile(
        test_a="""
        import os

        def test_a():
            os.environ.get("X")
        """
    )
    result = pytester.runpytest("-p", "ssot", "--ssot-config", "strict.toml")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["ssot: mode strict (strict.toml)"])


def test_pytest_reports_a_bad_standalone_config_with_exit_4(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("bad.toml").write_text("rules = 3\n")
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", "--ssot-config", "bad.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *bad.toml: rules = 3: expected a table*"])


@pytest.mark.parametrize(
    ("spec", "accepted"),
    [(f"=={pytest_ssot.__version__}", True), (">=0", True), ("<0.0.1", False)],
)
def test_pytest_honours_required_version(
    pytester: pytest.Pytester, spec: str, accepted: bool
) -> None:
    pytester.makepyprojecttoml(f'[tool.ssot]\nrequired_version = "{spec}"\n')
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot")
    if accepted:
        assert result.ret == pytest.ExitCode.OK
    else:
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: *required_version = '{spec}'*pip install*"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--ssot-mode=loud", "'loud' is not a mode"),
        ("--ssot-fail-under=abc", "'abc' is not a number from 0 to 100"),
        ("--ssot-fail-under=101", "'101' is not a number from 0 to 100"),
        ("--ssot-report=json", "json needs a path"),
        ("--ssot-report=xml:out.xml", "unknown report format 'xml'"),
        # An empty path used to mean the default file (or none), silently.
        ("--ssot-config=", "argument --ssot-config: needs a path"),
        ("--ssot-baseline=", "argument --ssot-baseline: needs a path"),
        ("--ssot-history=", "argument --ssot-history: needs a path"),
        ("--ssot-report=json:a\0b", "a path cannot hold a NUL character"),
        ("--ssot-baseline=a\0b", "a path cannot hold a NUL character"),
    ],
)
def test_bad_command_line_options_are_usage_errors(
    pytester: pytest.Pytester, option: str, message: str
) -> None:
    pytester.makepyfile(test_a="def test_a(): pass")
    result = pytester.runpytest("-p", "ssot", option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize("failure", [RecursionError, MemoryError, None])
def test_a_fix_template_python_cannot_parse_is_one_short_usage_error(
    monkeypatch: pytest.MonkeyPatch, failure: type[Exception] | None
) -> None:
    # Nesting deeper than the parser's stack (where the parser has one: Python 3.11 and 3.12
    # stop at 5,000 unary minuses, 3.10 and 3.13 read them) raised RecursionError: an
    # INTERNALERROR. The failures are raised here so every Python meets them; None: a NUL.
    if failure is not None:
        import ast

        def parse(*args: object, **kwargs: object) -> object:
            raise failure()

        monkeypatch.setattr(ast, "parse", parse)
    template = "-" * 5000 + "{key}" if failure is not None else "get({key}\0)"
    problems = _problems({"fix": {"env_get": template}})
    assert len(problems) == 1
    assert problems[0].startswith("/p/pyproject.toml: tool.ssot.fix.env_get = ")
    assert problems[0].endswith(": not a valid Python expression")
    assert len(problems[0]) < 300  # the value is cut short, the line stays readable


@pytest.mark.parametrize(
    "template", ["-" * 5000 + "{key}", "a" + ".a" * 3000 + "({key})"], ids=["unary", "attributes"]
)
def test_a_deeply_nested_fix_template_is_read_or_refused_never_a_crash(template: str) -> None:
    # Whichever the running Python does: accepted, or one usage error naming the key.
    problems: list[str] = []
    try:
        parse(
            {"fix": {"env_get": template}},
            path=Path("/p/pyproject.toml"),
            root=Path("/p"),
            prefix="tool.ssot.",
        )
    except ConfigError as exc:
        problems = exc.problems
    assert len(problems) <= 1
    assert all(p.startswith("/p/pyproject.toml: tool.ssot.fix.env_get = ") for p in problems)


def test_a_fix_import_python_cannot_parse_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import ast

    def parse(*args: object, **kwargs: object) -> object:
        raise RecursionError

    monkeypatch.setattr(ast, "parse", parse)
    problems = _problems({"fix": {"env_import": "a" + ".a" * 100000}})
    assert len(problems) == 1
    assert "expected an absolute import statement" in problems[0]


def test_a_baseline_path_with_a_nul_is_a_usage_error() -> None:
    problems = _problems({"baseline": "a\0b.json"})
    assert problems == [
        "/p/pyproject.toml: tool.ssot.baseline = 'a\\x00b.json': a path cannot hold a NUL character"
    ]


def test_two_sources_cannot_share_a_name() -> None:
    source = {"forbid": ["requests.get"], "use": "http.get"}
    problems = _problems(
        {
            "sources": [
                {"code": "SSOT201", "name": "raw-http", **source},
                {"code": "SSOT202", "name": "raw-http", **source},
            ]
        }
    )
    assert problems == [
        "/p/pyproject.toml: tool.ssot.sources[1].name = 'raw-http': each source needs its own name"
    ]


def test_a_source_cannot_take_a_builtin_rules_name() -> None:
    source = {"code": "SSOT201", "forbid": ["requests.get"], "use": "http.get"}
    problems = _problems({"sources": [{"name": "direct-environ-access", **source}]})
    assert problems == [
        "/p/pyproject.toml: tool.ssot.sources[0].name = 'direct-environ-access': a built-in "
        "rule has this name; choose another"
    ]


def test_the_reserved_names_are_the_builtin_rules_names() -> None:
    from pytest_ssot.config import BUILTIN_RULE_NAMES
    from pytest_ssot.rules import builtin_rules

    assert {rule.info.name for rule in builtin_rules(Config(root=Path("/p")))} == BUILTIN_RULE_NAMES
