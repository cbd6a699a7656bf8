"""Properties of `ssot fix` over generated mixes of rewrite shapes: the result parses, a second
run changes nothing, and the scanner never finds more than before."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("libcst")

from pytest_ssot.config import parse
from pytest_ssot.fix import fix_file
from pytest_ssot.scanner import ENV_TARGETS, scan

IMPORTS = [
    "import os",
    "import os as o",
    "from os import environ as E",
    "from os import getenv",
    "import unittest",
    "import pytest",
    "from unittest import mock",
]
# Each shape only uses names the imports above bind.
STATEMENTS = [
    'a = os.environ["A"]',
    'b = o.environ.get("B", "b")',
    'c = E.get("C")',
    'd = getenv("D", "d")',
    'os.environ["E"] = "e"',
    'del E["F"]',
    'g = "G" in os.environ',
    'h = "H" not in o.environ',
    'i = int(os.environ.get("I", os.getenv("J", "1")))',
    "k = f\"{os.environ['K']}-{getenv('L')}\"",
    "os.environ.update({})",
    'os.environ.pop("M", None)',
    'n = os.environ.pop("N", None)',
    "env = os.environ",
    'x = y = os.environ["X"] = "x"',
    'os.environ["P"]  # ssot: ignore[SSOT002]',
    "os.environ.get(  # a comment\n        'Q'\n    )",
    'monkeypatch.setenv("R", "r")',
    'mock.patch.dict(os.environ, {"S": "s"})',
    "pass",
]
CLASSES = [
    "class TestPlain:\n    def test_it(self):\n        {body}\n",
    "class TestCase_(unittest.TestCase):\n    def setUp(self):\n        {body}\n\n"
    "    def test_it(self):\n        pass\n",
    "class TestAsync(unittest.IsolatedAsyncioTestCase):\n    async def test_it(self):\n"
    "        {body}\n",
    "def test_function(monkeypatch):\n    {body}\n",
    'if __name__ == "__main__":\n    pytest.main([__file__])\n',
]


@st.composite
def modules(draw: st.DrawFn) -> str:
    imports = draw(st.lists(st.sampled_from(IMPORTS), unique=True, max_size=len(IMPORTS)))
    parts = ["\n".join(IMPORTS if draw(st.booleans()) else imports), ""]
    for template in draw(st.lists(st.sampled_from(CLASSES), min_size=1, max_size=4)):
        statements = draw(st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=5))
        indent = "        " if template.startswith("class") else "    "
        body = f"\n{indent}".join(s.replace("\n    ", "\n" + indent) for s in statements)
        parts.append("\n" + template.replace("{body}", "monkeypatch = None\n" + indent + body))
    return "\n".join(parts)


CONFIG = {
    "base_classes": ["framework.base:SSotBaseTestCase", "framework.base:SSotAsyncTestCase"],
    "fix": {
        "base_class": "framework.base:SSotBaseTestCase",
        "async_base_class": "framework.base:SSotAsyncTestCase",
        "env_import": "from framework.env import get_env",
        "env_get": "get_env().get({key}, {default})",
        "env_set": 'get_env().set({key}, {value}, source="test")',
        "env_delete": "get_env().delete({key})",
        "env_contains": "get_env().get({key}) is not None",
        "monkeypatch_setenv": 'get_env().set({key}, {value}, source="test")',
        "patch_environ": "get_env().patched({values})",
    },
}


@settings(
    # 40 keeps CI quick; HYPOTHESIS_PROFILE=long explores far more.
    max_examples=max(40, settings.default.max_examples // 2),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(source=modules(), wrap=st.booleans())
def test_fix_is_safe_and_idempotent(tmp_path: Path, source: str, wrap: bool) -> None:
    try:
        ast.parse(source)
    except SyntaxError:  # pragma: no cover - the generator only builds valid modules
        pytest.skip("not a valid module")
    config = parse(CONFIG, path=tmp_path / "pyproject.toml", root=tmp_path, prefix="tool.ssot.")
    path = tmp_path / "test_generated.py"
    path.write_text(source, encoding="utf-8")

    first = fix_file(path, config, wrap_functions=wrap)
    assert first.skipped is None, first.skipped
    ast.parse(first.after)  # still Python
    kinds = ("use", "string", "monkeypatch")
    before = [r for r in scan(first.before, "t.py", ENV_TARGETS, full=True).refs if r.kind in kinds]
    after = [r for r in scan(first.after, "t.py", ENV_TARGETS, full=True).refs if r.kind in kinds]
    # every environment access it removed is one it counted as fixed, and none is added
    assert len(before) - len(after) == first.fixed["SSOT002"]

    path.write_bytes(first.after)
    second = fix_file(path, config, wrap_functions=wrap)
    assert second.after == first.after
    assert sum(second.fixed.values()) == 0
