"""One home for configuration: ``[tool.ssot]`` in pyproject.toml, or a standalone TOML file.

The plugin and the CLI both call :func:`load`; every problem is collected and raised together
as a :class:`ConfigError` naming the file, the key and the offending value.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_ssot.errors import ConfigError
from pytest_ssot.model import MODES, Mode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_MOCK_ALLOWED_NAMES = ("ANY", "call", "sentinel", "DEFAULT")
DEFAULT_TIER = "default"
SOURCE_CODE_RE = re.compile(r"SSOT2\d\d")
# The built-in rules' names (rules.py), which a team-defined source may not take.
BUILTIN_RULE_NAMES = frozenset(
    {
        "non-ssot-test-class",
        "direct-environ-access",
        "ad-hoc-mock",
        "unified-runner-bypass",
        "runtime-environ-access",
    }
)
RULE_CODE_RE = re.compile(r"SSOT\d{3}")
DOTTED_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
BASE_CLASS_RE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


@dataclasses.dataclass(frozen=True)
class Tier:
    """A named group of test paths with its own mode (e.g. a 100 % mission-critical tier)."""

    name: str
    paths: tuple[str, ...]
    mode: Mode | None = None  # None: the global mode


@dataclasses.dataclass(frozen=True)
class SourceOfTruth:
    """A team-defined single source of truth: forbidden APIs and the sanctioned one to use."""

    code: str
    name: str
    forbid: tuple[str, ...]
    use: str
    modules: tuple[str, ...] = ()
    runtime: bool = False


@dataclasses.dataclass(frozen=True)
class ConfigWarning:
    """Something in the configuration that is ignored: said, not a usage error."""

    message: str  # names the file
    key: tuple[str, ...]  # the key it is about, within the table the configuration is read from

    def __str__(self) -> str:
        return self.message


@dataclasses.dataclass(frozen=True)
class Config:
    """The validated ``[tool.ssot]`` table. Relative paths are resolved against ``root``."""

    root: Path
    path: Path | None = None  # the file it was read from, None for defaults
    mode: Mode = "warn"
    base_classes: tuple[str, ...] = ()
    allow_function_tests: bool = False
    env_modules: tuple[str, ...] = ()
    mock_modules: tuple[str, ...] = ()
    mock_allowed_names: tuple[str, ...] = DEFAULT_MOCK_ALLOWED_NAMES
    runner: str | None = None
    baseline: Path | None = None
    fail_under: float = 0.0
    exclude: tuple[str, ...] = ()
    rules: Mapping[str, Mode] = dataclasses.field(default_factory=dict)
    tiers: tuple[Tier, ...] = ()
    required_version: str | None = None
    sources: tuple[SourceOfTruth, ...] = ()
    fix: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    mode_override: Mode | None = None
    warnings: tuple[ConfigWarning, ...] = ()
    # Where the keys are in ``path``: ("tool", "ssot") in a pyproject.toml, () at the top of a
    # standalone file.
    table: tuple[str, ...] = ()

    @property
    def effective_mode(self) -> Mode:
        return self.mode_override or self.mode

    @property
    def may_be_strict(self) -> bool:
        """Whether any violation can be strict this session (the mode, a tier, a rule)."""
        if self.mode_override is not None:
            return self.mode_override == "strict"
        return "strict" in {self.mode, *(t.mode for t in self.tiers), *self.rules.values()}

    @property
    def disabled(self) -> bool:
        """Nothing can be reported: ``--ssot-mode=off``, or everything configured off."""
        if self.mode_override == "off":
            return True
        modes = {self.mode, *(t.mode for t in self.tiers if t.mode), *self.rules.values()}
        return modes == {"off"}

    def with_overrides(
        self,
        *,
        mode: Mode | None = None,
        baseline: Path | None = None,
        fail_under: float | None = None,
    ) -> Config:
        changes: dict[str, Any] = {}
        if mode is not None:
            changes["mode_override"] = mode
        if baseline is not None:
            changes["baseline"] = baseline
        if fail_under is not None:
            changes["fail_under"] = fail_under
        return dataclasses.replace(self, **changes)

    def tier_for(self, relpath: str) -> Tier | None:
        from pytest_ssot.paths import any_glob_match

        for tier in self.tiers:
            if any_glob_match(relpath, tier.paths):
                return tier
        return None

    def tier_name(self, relpath: str) -> str:
        tier = self.tier_for(relpath)
        return tier.name if tier else DEFAULT_TIER

    def mode_for(self, code: str, relpath: str) -> Mode:
        """The mode of one violation of ``code`` affecting a test in ``relpath``.

        ``rules[code]`` wins, then the tier's mode, then ``mode``; ``--ssot-mode`` replaces
        all of them except a rule switched off.
        """
        rule_mode = self.rules.get(code)
        if rule_mode == "off":
            return "off"
        if self.mode_override is not None:
            return self.mode_override
        if rule_mode is not None:
            return rule_mode
        tier = self.tier_for(relpath)
        if tier is not None and tier.mode is not None:
            return tier.mode
        return self.mode

    def session_mode_for(self, code: str) -> Mode:
        """The mode of a session-level violation (not attributed to tests): rules, then mode."""
        rule_mode = self.rules.get(code)
        if rule_mode == "off":
            return "off"
        return self.mode_override or rule_mode or self.mode

    def is_excluded(self, relpath: str) -> bool:
        from pytest_ssot.paths import any_glob_match

        return bool(self.exclude) and any_glob_match(relpath, self.exclude)


KNOWN_KEYS = {f.name for f in dataclasses.fields(Config)} - {
    "root",
    "path",
    "mode_override",
    "warnings",
    "table",
}


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration: {exc.strerror}"]) from None
    except (ValueError, UnicodeDecodeError) as exc:  # also a 5,000-digit integer
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{path}: not valid TOML: nested too deeply"]) from None


def tools(pyproject: Path) -> dict[str, Any]:
    """The ``[tool]`` table of a pyproject.toml ({} without one); a ``tool`` that is not a
    table is a usage error naming the file."""
    table = read_toml(pyproject).get("tool", {})
    if not isinstance(table, dict):
        raise ConfigError([f"{pyproject}: tool = {table!r}: must be a table ([tool.ssot])"])
    return table


def own_rule_code(code: str) -> bool:
    """Whether ``code`` is in pytest-ssot's own range, SSOT000 to SSOT299 (built-in rules and
    team-defined sources): only there can a check that runs no pytest plugin tell a code
    that names no rule; a plugin's rules take codes above it."""
    return RULE_CODE_RE.fullmatch(code) is not None and code < "SSOT300"


def unknown_rule_warnings(
    config: Config, known: Iterable[str], *, plugin_rules_known: bool = True
) -> list[ConfigWarning]:
    """A warning for each ``rules`` entry naming no rule in ``known``: a typo (SSOT020 for
    SSOT002) would otherwise leave the rule it meant as it was, silently. Without
    ``plugin_rules_known`` (``ssot check``, which runs no pytest plugin) only codes of
    pytest-ssot's own range can be told unknown (see :func:`own_rule_code`)."""
    codes = set(known)
    where = config.path or "the configuration"
    return [
        ConfigWarning(
            f"{where}: rules.{code} names no rule, so it changes nothing "
            f"(rules: {', '.join(sorted(codes))})",
            ("rules", code),
        )
        for code in sorted(config.rules)
        if code not in codes and (plugin_rules_known or own_rule_code(code))
    ]


# What a line of TOML can start with: a table header, or a key (bare, quoted, dotted).
_TOML_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')"""
_TOML_KEY = rf"{_TOML_KEY_PART}(?:\s*\.\s*{_TOML_KEY_PART})*"
_TOML_HEADER_RE = re.compile(rf"\s*\[\[?\s*({_TOML_KEY})\s*\]\]?\s*(?:#.*)?$")
_TOML_ASSIGNMENT_RE = re.compile(rf"\s*({_TOML_KEY})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in re.findall(_TOML_KEY_PART, dotted))


def key_line(text: str, key: Iterable[str]) -> int:
    """The line (from 1) of the TOML ``text`` that sets ``key``, given by its parts from the
    top (``("tool", "ssot", "rules", "SSOT020")``), for a message to point at; else the line
    that sets the nearest table holding it (an inline table: ``rules = {SSOT020 = "off"}``),
    else 1. A scan of the lines, not a parse: tomllib keeps no positions, and a line inside
    a multi-line string that looks like a key can mislead it, which costs only the line."""
    target = tuple(key)
    table: tuple[str, ...] = ()
    best, depth = 1, 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER_RE.match(line)
        if header is not None:
            table = path = _key_parts(header.group(1))
        else:
            assignment = _TOML_ASSIGNMENT_RE.match(line)
            if assignment is None:
                continue
            path = table + _key_parts(assignment.group(1))
        if path == target:
            return number
        if depth < len(path) < len(target) and target[: len(path)] == path:
            best, depth = number, len(path)
    return best


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml above ``start`` with a ``[tool.ssot]`` table, else the
    nearest pyproject.toml at all (what the CLI uses when not given ``--config``)."""
    first: Path | None = None
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            first = first or candidate
            try:
                if "ssot" in tools(candidate):
                    return candidate
            except ConfigError:
                return candidate  # let load() report it properly
    return first


def load(*, rootdir: Path, config_file: Path | None = None) -> Config:
    """Read and validate the configuration.

    ``config_file`` is a standalone TOML file with the keys at top level; otherwise the
    ``[tool.ssot]`` table of ``rootdir/pyproject.toml`` is used, and defaults without one.
    """
    if config_file is not None:
        data = read_toml(config_file)
        tool = data.get("tool")
        if isinstance(tool, dict) and "ssot" in tool and not set(data) & KNOWN_KEYS:
            # A pyproject.toml given as the file: its [tool.ssot] table is what is meant
            # (read at top level, its one unknown key `tool` would drop the whole config).
            table = tool["ssot"]
            if not isinstance(table, dict):
                raise ConfigError([f"{config_file}: [tool.ssot] must be a table, got {table!r}"])
            return parse(table, path=config_file, root=config_file.parent, prefix="tool.ssot.")
        return parse(data, path=config_file, root=config_file.parent)
    pyproject = rootdir / "pyproject.toml"
    if not pyproject.is_file():
        return Config(root=rootdir)
    table = tools(pyproject).get("ssot")
    if table is None:
        return Config(root=rootdir)
    if not isinstance(table, dict):
        raise ConfigError([f"{pyproject}: [tool.ssot] must be a table, got {table!r}"])
    return parse(table, path=pyproject, root=rootdir, prefix="tool.ssot.")


class _Validator:
    """Collects every problem with the table, each naming file, key and value."""

    def __init__(self, path: Path, prefix: str) -> None:
        self.path = path
        self.prefix = prefix
        self.problems: list[str] = []

    def bad(self, key: str, value: object, expected: str) -> None:
        self.problems.append(f"{self.path}: {self.prefix}{key} = {shown_value(value)}: {expected}")

    def mode(self, key: str, value: object) -> Mode | None:
        if value in MODES:
            return value
        self.bad(key, value, 'expected one of "off", "warn", "strict"')
        return None

    def string_list(
        self, key: str, value: object, pattern: re.Pattern[str] | None = None
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.bad(key, value, "expected a list of strings")
            return ()
        if pattern is not None:
            for item in value:
                if not pattern.fullmatch(item):
                    self.bad(key, item, f"does not look like {_PATTERN_HELP[pattern.pattern]}")
        return tuple(value)

    def globs(self, key: str, value: object) -> tuple[str, ...]:
        """Path globs; an empty one (``""``, ``"/"``) would match every file, silently."""
        globs = self.string_list(key, value)
        for glob in globs:
            if not glob.strip().strip("/"):
                self.bad(key, glob, 'an empty glob matches every file; write "**" to mean that')
        return globs


_PATTERN_HELP = {
    DOTTED_RE.pattern: "a dotted name (package.module.attribute)",
    BASE_CLASS_RE.pattern: '"package.module:ClassName"',
}


def parse(table: Mapping[str, Any], *, path: Path, root: Path, prefix: str = "") -> Config:
    check = _Validator(path, prefix)
    warnings = [
        ConfigWarning(
            f"{path}: unknown key {prefix}{key} is ignored "
            f"(known keys: {', '.join(sorted(KNOWN_KEYS))})",
            (key,),
        )
        for key in table
        if key not in KNOWN_KEYS
    ]
    values: dict[str, Any] = {}

    if "mode" in table:
        values["mode"] = check.mode("mode", table["mode"])
    if "base_classes" in table:
        values["base_classes"] = check.string_list(
            "base_classes", table["base_classes"], BASE_CLASS_RE
        )
    for key in ("env_modules", "mock_modules"):
        if key in table:
            values[key] = check.string_list(key, table[key], DOTTED_RE)
    if "mock_allowed_names" in table:
        values["mock_allowed_names"] = check.string_list(
            "mock_allowed_names", table["mock_allowed_names"]
        )
    if "exclude" in table:
        values["exclude"] = check.globs("exclude", table["exclude"])
    if "allow_function_tests" in table:
        if isinstance(table["allow_function_tests"], bool):
            values["allow_function_tests"] = table["allow_function_tests"]
        else:
            check.bad("allow_function_tests", table["allow_function_tests"], "expected true/false")
    if "runner" in table:
        if isinstance(table["runner"], str) and table["runner"].strip():
            values["runner"] = table["runner"]
        else:
            check.bad("runner", table["runner"], "expected a non-empty string")
    if "baseline" in table:
        if isinstance(table["baseline"], str) and "\0" in table["baseline"]:
            check.bad("baseline", table["baseline"], "a path cannot hold a NUL character")
        elif isinstance(table["baseline"], str) and table["baseline"]:
            values["baseline"] = root / table["baseline"]
        else:
            check.bad("baseline", table["baseline"], "expected a path")
    if "fail_under" in table:
        values["fail_under"] = validate_fail_under(table["fail_under"], check)
    if "rules" in table:
        values["rules"] = _rules(table["rules"], check)
    if "tiers" in table:
        values["tiers"] = _tiers(table["tiers"], check)
    if "required_version" in table:
        values["required_version"] = _required_version(table["required_version"], check)
    if "sources" in table:
        values["sources"] = _sources(table["sources"], check)
    if "fix" in table:
        values["fix"] = _fix(table["fix"], check, warnings)

    if check.problems:
        raise ConfigError(check.problems)
    return Config(
        root=root,
        path=path,
        warnings=tuple(warnings),
        table=tuple(prefix.split(".")[:-1]),
        **{k: v for k, v in values.items() if v is not None},
    )


def validate_fail_under(value: object, check: _Validator | None = None) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 100:
        return float(value)
    if check is not None:
        check.bad("fail_under", value, "expected a number from 0 to 100")
    return None


def _rules(value: object, check: _Validator) -> dict[str, Mode] | None:
    if not isinstance(value, dict):
        check.bad("rules", value, 'expected a table like {SSOT002 = "warn"}')
        return None
    rules: dict[str, Mode] = {}
    for code, mode in value.items():
        if not RULE_CODE_RE.fullmatch(code):
            check.bad(f"rules.{code}", mode, "rule codes look like SSOT002")
            continue
        checked = check.mode(f"rules.{code}", mode)
        if checked is not None:
            rules[code] = checked
    return rules


def _tiers(value: object, check: _Validator) -> tuple[Tier, ...] | None:
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        check.bad("tiers", value, "expected an array of tables [[tool.ssot.tiers]]")
        return None
    tiers: list[Tier] = []
    names: set[str] = set()
    for index, entry in enumerate(value):
        key = f"tiers[{index}]"
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            check.bad(f"{key}.name", name, "every tier needs a name")
            continue
        if name in names or name == DEFAULT_TIER:
            check.bad(f"{key}.name", name, "tier names must be unique and not 'default'")
        names.add(name)
        # One message per problem: a value of the wrong type is not also "no glob".
        paths = check.globs(f"{key}.paths", entry["paths"]) if "paths" in entry else ()
        if entry.get("paths", []) == []:
            check.bad(f"{key}.paths", entry.get("paths"), "a tier needs at least one glob")
        mode = check.mode(f"{key}.mode", entry["mode"]) if "mode" in entry else None
        unknown = set(entry) - {"name", "paths", "mode"}
        for extra in sorted(unknown):
            check.bad(f"{key}.{extra}", entry[extra], "unknown tier key (name, paths, mode)")
        tiers.append(Tier(name=name, paths=paths, mode=mode))
    return tuple(tiers)


def _required_version(value: object, check: _Validator) -> str | None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if not isinstance(value, str):
        check.bad("required_version", value, 'expected a PEP 440 specifier such as ">=0.1,<1"')
        return None
    if not value.strip():
        # SpecifierSet("") accepts every version: a pin that pins nothing, silently.
        check.bad(
            "required_version",
            value,
            "an empty specifier accepts any version; write one such as "
            '">=0.1,<1" or remove the key',
        )
        return None
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        check.bad("required_version", value, 'expected a PEP 440 specifier such as ">=0.1,<1"')
        return None
    return value


def _sources(value: object, check: _Validator) -> tuple[SourceOfTruth, ...] | None:
    if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
        check.bad("sources", value, "expected an array of tables [[tool.ssot.sources]]")
        return None
    sources: list[SourceOfTruth] = []
    codes: set[str] = set()
    names: set[str] = set()
    for index, entry in enumerate(value):
        key = f"sources[{index}]"
        code = entry.get("code")
        if not isinstance(code, str) or not SOURCE_CODE_RE.fullmatch(code):
            check.bad(f"{key}.code", code, "team-defined codes are SSOT200 to SSOT299")
            continue
        if code in codes:
            check.bad(f"{key}.code", code, "each source needs its own code")
        codes.add(code)
        name = entry.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name or ""):
            check.bad(f"{key}.name", name, "expected a kebab-case name like raw-websocket")
        elif name in BUILTIN_RULE_NAMES:
            check.bad(f"{key}.name", name, "a built-in rule has this name; choose another")
        elif name in names:
            # An inline ignore names a rule by code or name: one name, one rule.
            check.bad(f"{key}.name", name, "each source needs its own name")
        names.add(str(name))
        forbid = check.string_list(f"{key}.forbid", entry.get("forbid"), DOTTED_RE)
        if not forbid:
            check.bad(f"{key}.forbid", entry.get("forbid"), "list at least one forbidden API")
        use = entry.get("use")
        if not isinstance(use, str) or not use:
            check.bad(f"{key}.use", use, "say what to use instead")
        modules = check.string_list(f"{key}.modules", entry.get("modules", []), DOTTED_RE)
        runtime = entry.get("runtime", False)
        if not isinstance(runtime, bool):
            check.bad(f"{key}.runtime", runtime, "expected true/false")
        for extra in sorted(set(entry) - {"code", "name", "forbid", "use", "modules", "runtime"}):
            check.bad(f"{key}.{extra}", entry[extra], "unknown source key")
        sources.append(
            SourceOfTruth(
                code=code,
                name=str(name),
                forbid=forbid,
                use=str(use),
                modules=modules,
                runtime=bool(runtime),
            )
        )
    return tuple(sources)


# What `ssot fix` rewrites to. Each template is a Python expression with {placeholders}:
# key -> (placeholders it must use, placeholders it may use).
FIX_TEMPLATES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "env_get": (frozenset({"key"}), frozenset({"default"})),
    "env_getitem": (frozenset({"key"}), frozenset()),
    "env_set": (frozenset({"key", "value"}), frozenset()),
    "env_delete": (frozenset({"key"}), frozenset()),
    "env_contains": (frozenset({"key"}), frozenset()),
    "patch_environ": (frozenset({"values"}), frozenset({"clear"})),
    "monkeypatch_setenv": (frozenset({"key", "value"}), frozenset()),
    "monkeypatch_delenv": (frozenset({"key"}), frozenset()),
}
FIX_CLASS_KEYS = ("base_class", "async_base_class")
FIX_KEYS = frozenset({*FIX_TEMPLATES, *FIX_CLASS_KEYS, "base_map", "env_import"})
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholder_name(name: str) -> str:
    """The identifier a ``{name}`` placeholder stands for while a template is parsed."""
    return f"__ssot_{name}__"


def _fix(value: object, check: _Validator, warnings: list[ConfigWarning]) -> dict[str, Any] | None:
    """Validate ``[tool.ssot.fix]``: class targets, templates and the import they need."""
    import ast
    import builtins

    if not isinstance(value, dict):
        check.bad("fix", value, "expected a table of templates")
        return None
    fix: dict[str, Any] = {}
    for key in sorted(set(value) - FIX_KEYS):
        warnings.append(
            ConfigWarning(
                f"{check.path}: unknown key {check.prefix}fix.{key} is ignored "
                f"(known keys: {', '.join(sorted(FIX_KEYS))})",
                ("fix", key),
            )
        )
    for key in FIX_CLASS_KEYS:
        if key in value:
            if isinstance(value[key], str) and BASE_CLASS_RE.fullmatch(value[key]):
                fix[key] = value[key]
            else:
                check.bad(f"fix.{key}", value[key], 'expected "package.module:ClassName"')
    if "base_map" in value:
        mapping = value["base_map"]
        if not isinstance(mapping, dict):
            check.bad("fix.base_map", mapping, 'expected a table {"old.module:Base" = "new:Base"}')
        else:
            fix["base_map"] = {}
            for old, new in mapping.items():
                if not BASE_CLASS_RE.fullmatch(old):
                    check.bad(f"fix.base_map.{old!r}", new, 'keys look like "module:ClassName"')
                elif not (isinstance(new, str) and BASE_CLASS_RE.fullmatch(new)):
                    check.bad(f"fix.base_map.{old!r}", new, 'expected "package.module:ClassName"')
                else:
                    fix["base_map"][old] = new
    imported: set[str] = set()
    if "env_import" in value:
        raw = value["env_import"]
        statements = [raw] if isinstance(raw, str) else raw
        if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
            check.bad("fix.env_import", raw, "expected an import statement or a list of them")
        else:
            good = True
            for statement in statements:
                parsed = _parsed(statement, "exec")
                body: list[ast.Import | ast.ImportFrom] = [
                    n
                    for n in (parsed.body if isinstance(parsed, ast.Module) else [])
                    if isinstance(n, (ast.Import, ast.ImportFrom)) and not getattr(n, "level", 0)
                ]
                if not body or len(body) != len(parsed.body):
                    check.bad("fix.env_import", statement, "expected an absolute import statement")
                    good = False
                    continue
                for node in body:
                    for alias in node.names:
                        if alias.name == "*":
                            check.bad("fix.env_import", statement, "name what it imports, not *")
                            good = False
                        imported.add((alias.asname or alias.name).split(".")[0])
            if good:
                fix["env_import"] = tuple(statements)
    known_names = imported | set(dir(builtins)) | {"self"}
    for key, (required, optional) in FIX_TEMPLATES.items():
        if key not in value:
            continue
        template = value[key]
        if not isinstance(template, str) or not template.strip():
            check.bad(f"fix.{key}", template, "expected a Python expression template")
            continue
        used = set(PLACEHOLDER_RE.findall(template))
        unknown = used - required - optional
        missing = required - used
        if unknown or missing:
            allowed = ", ".join("{" + n + "}" for n in sorted(required | optional))
            check.bad(f"fix.{key}", template, f"expected placeholders {allowed}")
            continue
        text = PLACEHOLDER_RE.sub(lambda m: placeholder_name(m.group(1)), template)
        tree = _parsed(text.strip(), "eval")
        if tree is None:
            check.bad(f"fix.{key}", template, "not a valid Python expression")
            continue
        free = sorted(
            {
                node.id
                for node in ast.walk(tree)
                if isinstance(node, ast.Name)
                and not node.id.startswith("__ssot_")
                and node.id not in known_names
            }
        )
        if free:
            check.bad(
                f"fix.{key}",
                template,
                f"uses {', '.join(free)}, which fix.env_import does not import",
            )
            continue
        fix[key] = template.strip()
    return fix


def check_required_version(config: Config, installed: str) -> None:
    """Refuse to run when the installed pytest-ssot does not satisfy ``required_version``."""
    if config.required_version is None:
        return
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(installed)
    except InvalidVersion:
        return
    if not SpecifierSet(config.required_version).contains(version, prereleases=True):
        raise ConfigError(
            [
                f"{config.path}: required_version = {config.required_version!r}, but "
                f"pytest-ssot {installed} is installed: run "
                f"pip install 'pytest-ssot{config.required_version}'"
            ]
        )


def parse_until(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _parsed(text: str, mode: str) -> Any:
    """``text`` parsed (an ``ast`` tree), or None where Python cannot parse it: a syntax
    error, a NUL byte, or nesting deeper than the parser's stack (a hostile template must be
    a usage error)."""
    import ast  # as in _fix: only a configured fix template needs it

    try:
        return ast.parse(text, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


MAX_SHOWN = 200  # characters of a bad value an error message repeats


def shown_value(value: object) -> str:
    """``repr(value)`` for an error message, cut short: the message stays one readable line
    however long the value is. Where ``__repr__`` raises (a marker argument is whatever the
    test module made it), the value's type."""
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 5]}...{text[-2:]}"
