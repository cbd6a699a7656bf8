"""Generate a realistic synthetic test suite for benchmarks and demos.

The suite looks like a large team's suite in mid-migration to its SSOT test infrastructure:
packages of test modules with classes and module-level functions, file sizes spread like a real
suite's (log-normal, median about 15 KB), every rule's violations in the legacy files (SSOT001
non-SSOT classes and bare functions, SSOT002 ``os.environ``/``monkeypatch.setenv``, SSOT003
``MagicMock``/``patch``, SSOT004 ``__main__`` blocks, a team source SSOT201), inline ignores,
``ssot_exempt`` markers, a fixture in ``conftest.py`` that reads the environment, and a few files
that no longer parse. Every test passes, so a full run measures overhead, not failures.

Function API::

    from benchmarks.generate import generate
    suite = generate(Path("/tmp/suite"), files=2000, seed=1)
    print(suite.tests, suite.total_bytes)

Command line::

    python benchmarks/generate.py /tmp/suite --files 2000 [--seed 1] [--force]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import shutil
import statistics
import sys
import textwrap
from pathlib import Path

TIERS = ("unit", "integration", "mission_critical")
FILES_PER_PACKAGE = 50
SUITE_MARKER = ".ssot-benchmark-suite"

PYPROJECT = """\
# A generated suite (benchmarks/generate.py): a team in mid-migration to its SSOT test
# infrastructure. Regenerate instead of editing.
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
# Legacy files that no longer parse must not stop the rest of the suite.
addopts = ["--continue-on-collection-errors"]
filterwarnings = ["ignore::DeprecationWarning"]
# Registered here too, so runs with `-p no:ssot` compare like for like.
markers = ["ssot_exempt: exempt from SSOT rules (pytest-ssot)"]

[tool.ssot]
mode = "warn"
base_classes = ["suite_framework.ssot.base:SSotBaseTestCase"]
env_modules = ["suite_framework.ssot.isolated_environment"]
mock_modules = ["suite_framework.ssot.mocks"]
exclude = ["tests/helpers/**"]

[[tool.ssot.tiers]]
name = "mission_critical"
paths = ["tests/mission_critical/**"]
mode = "warn"

[[tool.ssot.sources]]
code = "SSOT201"
name = "raw-http-client"
forbid = ["product.http.raw_get"]
use = "suite_framework.ssot.http.get"
modules = ["suite_framework.ssot.http"]
"""

FRAMEWORK = {
    "suite_framework/__init__.py": '"""The team\'s test infrastructure."""\n',
    "suite_framework/ssot/__init__.py": '"""Single sources of truth for tests."""\n',
    "suite_framework/ssot/base.py": '''\
"""The SSOT base class every test class should derive from."""

import unittest

from suite_framework.ssot.isolated_environment import get_env
from suite_framework.ssot.mocks import SSotMockFactory


class SSotBaseTestCase(unittest.TestCase):
    mocks = SSotMockFactory

    def setUp(self):
        super().setUp()
        self.env = get_env()
        self.addCleanup(self.env.restore)
''',
    "suite_framework/ssot/isolated_environment.py": '''\
"""The only code allowed to touch os.environ in tests."""

import os


class IsolatedEnvironment:
    def __init__(self):
        self._saved = {}

    def get(self, key, default=None):
        return os.environ.get(key, default)

    def set(self, key, value, source="test"):
        self._saved.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def restore(self):
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


_ENV = IsolatedEnvironment()


def get_env():
    return _ENV
''',
    "suite_framework/ssot/mocks.py": '''\
"""The only code allowed to build mocks."""

from unittest import mock


class SSotMockFactory:
    @staticmethod
    def create_client():
        return mock.Mock(name="client")
''',
    "suite_framework/ssot/http.py": '''\
"""The sanctioned HTTP helper for tests."""

from product import http


def get(url):
    return http.raw_get(url)
''',
    "product/__init__.py": '"""Product code under test."""\n',
    "product/http.py": """\
def raw_get(url):
    return {"url": url, "status": 200}
""",
    "product/settings.py": '''\
"""Product code may read its own settings from the environment."""

import os


def region():
    return os.environ.get("BENCH_REGION", "eu-west-1")


def total(values):
    return sum(values)
''',
    "tests/__init__.py": "",
    "tests/conftest.py": """\
import os

import pytest


@pytest.fixture
def region_name():
    # Legacy fixture: reads the environment directly (SSOT002 for the tests that use it).
    return os.environ.get("BENCH_REGION", "eu-west-1")


@pytest.fixture
def sample_rows():
    return [{"id": i, "name": f"row-{i}"} for i in range(5)]
""",
}

WORDS = [
    "account",
    "audit",
    "billing",
    "cache",
    "channel",
    "client",
    "config",
    "customer",
    "delivery",
    "event",
    "export",
    "feed",
    "gateway",
    "invoice",
    "ledger",
    "login",
    "message",
    "metric",
    "order",
    "payment",
    "profile",
    "queue",
    "quota",
    "refund",
    "report",
    "room",
    "schedule",
    "search",
    "session",
    "shipment",
    "signup",
    "stream",
    "tenant",
    "token",
    "upload",
    "user",
    "webhook",
    "worker",
]


@dataclasses.dataclass(frozen=True)
class Suite:
    """What was generated: counts a benchmark can print next to its timings."""

    root: Path
    files: int
    tests: int
    unparsable: int
    legacy: int
    total_bytes: int
    median_bytes: int


def _size(rng: random.Random, median_kb: float) -> int:
    # Real suites are log-normal: most files mid-sized, a long tail of huge legacy modules.
    size = rng.lognormvariate(math.log(median_kb * 1024), 0.75)
    # Modules grow test by test past their target: aim a little lower to hit the median.
    return int(min(max(size * 0.91, 1500), 250_000))


def _data_rows(rng: random.Random, name: str, rows: int) -> str:
    lines = [f"{name} = ["]
    for i in range(rows):
        word = rng.choice(WORDS)
        lines.append(
            f'    {{"id": {i}, "kind": "{word}", "amount": {rng.randint(1, 9999)}, '
            f'"tags": ["{rng.choice(WORDS)}", "{rng.choice(WORDS)}"], "active": {i % 3 != 0}}},'
        )
    lines.append("]")
    return "\n".join(lines)


class _Module:
    """One test module's source, built test by test until it reaches its target size."""

    def __init__(self, rng: random.Random, index: int, legacy: bool) -> None:
        self.rng = rng
        self.index = index
        self.legacy = legacy
        self.tests = 0
        self.parts: list[str] = []
        self.uses_env = legacy and rng.random() < 0.6
        self.uses_mock = legacy and rng.random() < 0.5
        self.uses_http = legacy and rng.random() < 0.15
        self.runs_itself = legacy and rng.random() < 0.08
        self.module_exempt = legacy and rng.random() < 0.05

    def header(self) -> str:
        word = WORDS[self.index % len(WORDS)]
        lines = [f'"""Tests for the {word} service (generated module {self.index})."""', ""]
        lines += ["import json", "import os" if self.uses_env else "import math", "import unittest"]
        if self.uses_mock:
            lines.append("from unittest.mock import MagicMock, patch")
        lines += ["", "import pytest", ""]
        if self.uses_http:
            lines.append("from product import http")
        lines += [
            "from product import settings",
            "from suite_framework.ssot.base import SSotBaseTestCase",
            "from suite_framework.ssot.isolated_environment import get_env",
            "",
        ]
        if self.module_exempt:
            lines.append(
                'pytestmark = pytest.mark.ssot_exempt("SSOT003", reason="legacy mocks, '
                'migrating in Q3", until="2099-12-31")'
            )
        lines += ["", _data_rows(self.rng, "ROWS", self.rng.randint(3, 12)), ""]
        lines += [
            "",
            "def _active(rows):",
            '    return [row for row in rows if row["active"]]',
            "",
            "",
            "def _amounts(rows):",
            '    return sorted(row["amount"] for row in rows)',
            "",
        ]
        return "\n".join(lines)

    def _body(self, indent: str, in_class: bool) -> list[str]:
        rng = self.rng
        body: list[str] = []
        choice = rng.random()
        if self.legacy and self.uses_env and choice < 0.2:
            body.append(f'os.environ["BENCH_FLAG_{rng.randint(0, 99)}"] = "1"')
        elif self.legacy and self.uses_env and choice < 0.3:
            body.append(
                f'assert os.getenv("BENCH_UNSET_{rng.randint(0, 99)}", "x") == "x"'
                + ("  # ssot: ignore[SSOT002]" if rng.random() < 0.3 else "")
            )
        elif self.legacy and self.uses_mock and choice < 0.45:
            body += [
                "client = MagicMock()",
                'client.send("hello")',
                "client.send.assert_called_once()",
            ]
        elif self.legacy and self.uses_mock and choice < 0.5:
            body += [
                'with patch("product.settings.region", return_value="us-east-1"):',
                '    assert settings.region() == "us-east-1"',
            ]
        elif self.uses_http and choice < 0.55:
            body.append('assert http.raw_get("/health")["status"] == 200')
        elif not self.legacy and in_class and choice < 0.4:
            body += [
                f'self.env.set("BENCH_MODE_{rng.randint(0, 99)}", "on")',
                f'assert get_env().get("BENCH_MODE_NEVER_{rng.randint(0, 99)}") is None',
            ]
        rows = rng.randint(2, 9)
        body += [
            f"# {rng.choice(WORDS)} rows must survive a {rng.choice(WORDS)} round trip",
            f"rows = [dict(row, seen=True) for row in ROWS[:{rows}]]",
            "payload = json.dumps({'rows': rows, 'count': len(rows)}, sort_keys=True)",
            "expected = {",
        ]
        for _ in range(rng.randint(3, 14)):
            key = rng.choice(WORDS)
            body.append(
                f'    "{key}-{rng.randint(0, 999)}": {{"{key}": {rng.randint(0, 999)}, '
                f'"label": "{rng.choice(WORDS)}-{rng.randint(0, 99)}"}},'
            )
        body += [
            "}",
            "assert json.loads(payload)['count'] == len(rows) and len(_active(rows)) <= len(rows)",
            f"assert settings.total(_amounts(rows)) >= 0 and len(expected) > {rng.randint(0, 1)}",
        ]
        return [indent + line for line in body]

    def add_class(self, methods: int) -> None:
        rng = self.rng
        name = f"Test{rng.choice(WORDS).title()}{self.index}x{len(self.parts)}"
        if self.legacy:
            base = rng.choice(["unittest.TestCase", "unittest.TestCase", "object"])
            base_line = f"class {name}({base}):" if base != "object" else f"class {name}:"
        else:
            base_line = f"class {name}(SSotBaseTestCase):"
        lines = [base_line, f'    """Behaviour of {name[4:].lower()} under load."""', ""]
        if self.legacy and self.uses_env and rng.random() < 0.5:
            lines += ["    def setUp(self):", '        os.environ["BENCH_LEGACY"] = "1"', ""]
        if self.legacy and rng.random() < 0.1:
            lines.insert(
                0, '@pytest.mark.ssot_exempt("SSOT002", reason="reads a CI-provided variable")'
            )
        for m in range(methods):
            lines.append(f"    def test_{rng.choice(WORDS)}_{m}(self):")
            lines += self._body("        ", in_class=True)
            lines.append("")
            self.tests += 1
        self.parts.append("\n".join(lines))

    def add_function(self) -> None:
        rng = self.rng
        name = f"test_{rng.choice(WORDS)}_{self.index}_{len(self.parts)}"
        params = []
        lines: list[str] = []
        if self.legacy and rng.random() < 0.3:
            params.append("region_name")
        if self.legacy and self.uses_env and rng.random() < 0.3:
            params.append("monkeypatch")
        lines.append(f"def {name}({', '.join(params)}):")
        if "monkeypatch" in params:
            lines.append('    monkeypatch.setenv("BENCH_REGION", "us-east-1")')
        if "region_name" in params:
            lines.append("    assert region_name")
        lines += self._body("    ", in_class=False)
        self.tests += 1
        self.parts.append("\n".join(lines) + "\n")

    def footer(self) -> str:
        if self.runs_itself:
            return '\nif __name__ == "__main__":\n    unittest.main()\n'
        return ""


def _module_source(rng: random.Random, index: int, target: int, legacy: bool) -> tuple[str, int]:
    module = _Module(rng, index, legacy)
    header = module.header()
    size = len(header)
    while size < target or module.tests == 0:
        before = sum(len(p) for p in module.parts)
        if legacy and rng.random() < 0.35:
            module.add_function()
        else:
            module.add_class(rng.randint(2, 6))
        size += sum(len(p) for p in module.parts) - before + 2
    source = header + "\n\n" + "\n\n".join(module.parts) + module.footer()
    return source, module.tests


def _break(rng: random.Random, source: str) -> str:
    """Make a module unparsable the ways legacy files are: py2 syntax, conflict markers."""
    lines = source.splitlines()
    where = rng.randint(len(lines) // 3, max(len(lines) // 3, len(lines) - 1))
    breakage = rng.choice(
        [
            'print "legacy output"',
            "<<<<<<< HEAD",
            "def broken(:",
            "except Exception, exc:",
        ]
    )
    lines.insert(where, breakage)
    return "\n".join(lines) + "\n"


def generate(
    root: Path,
    files: int,
    *,
    seed: int = 1,
    median_kb: float = 15.0,
    legacy_share: float = 0.6,
    unparsable_share: float = 0.02,
    force: bool = False,
) -> Suite:
    """Write a suite of ``files`` test modules under ``root`` (deterministic for a seed).

    ``legacy_share`` of the modules are not migrated (they hold the violations),
    ``unparsable_share`` no longer parse. ``force`` replaces an earlier generated suite at
    ``root``; any other non-empty directory is refused, so nothing else is ever deleted.
    """
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not (root / SUITE_MARKER).is_file():
            raise FileExistsError(f"{root} is not empty and is not a generated suite")
        if not force:
            raise FileExistsError(f"{root} already holds a generated suite; pass force=True")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / SUITE_MARKER).write_text(f"files={files} seed={seed}\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for rel, text in FRAMEWORK.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    rng = random.Random(seed)
    tests = unparsable = legacy_count = 0
    sizes: list[int] = []
    packages: set[Path] = set()
    for index in range(files):
        tier = TIERS[0] if index % 10 < 6 else TIERS[1] if index % 10 < 9 else TIERS[2]
        package = root / "tests" / tier / f"pkg_{index // FILES_PER_PACKAGE:03d}"
        if package not in packages:
            package.mkdir(parents=True, exist_ok=True)
            (package / "__init__.py").write_text("", encoding="utf-8")
            init = package.parent / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")
            packages.add(package)
        legacy = rng.random() < legacy_share
        legacy_count += legacy
        source, count = _module_source(rng, index, _size(rng, median_kb), legacy)
        if rng.random() < unparsable_share:
            source = _break(rng, source)
            unparsable += 1
        else:
            tests += count
        data = source.encode("utf-8")
        sizes.append(len(data))
        word = WORDS[index % len(WORDS)]
        (package / f"test_{word}_{index:05d}.py").write_bytes(data)
    helpers = root / "tests" / "helpers"
    helpers.mkdir(exist_ok=True)
    (helpers / "__init__.py").write_text("", encoding="utf-8")
    (helpers / "legacy_env.py").write_text(
        textwrap.dedent(
            """\
            import os


            def configure():
                os.environ["BENCH_HELPER"] = "1"
            """
        ),
        encoding="utf-8",
    )
    return Suite(
        root=root,
        files=files,
        tests=tests,
        unparsable=unparsable,
        legacy=legacy_count,
        total_bytes=sum(sizes),
        median_bytes=int(statistics.median(sizes)) if sizes else 0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="directory to write the suite to")
    parser.add_argument("--files", type=int, default=200, help="test modules (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--median-kb", type=float, default=15.0)
    parser.add_argument("--legacy-share", type=float, default=0.6)
    parser.add_argument("--unparsable-share", type=float, default=0.02)
    parser.add_argument("--force", action="store_true", help="replace an earlier generated suite")
    args = parser.parse_args(argv)
    try:
        suite = generate(
            args.root,
            args.files,
            seed=args.seed,
            median_kb=args.median_kb,
            legacy_share=args.legacy_share,
            unparsable_share=args.unparsable_share,
            force=args.force,
        )
    except FileExistsError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    print(
        f"{suite.root}: {suite.files} files ({suite.legacy} legacy, {suite.unparsable} "
        f"unparsable), {suite.tests} tests, {suite.total_bytes / 1e6:.1f} MB, "
        f"median {suite.median_bytes / 1024:.1f} KB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
