"""Which tests run a fixture, told by pytest itself: for suites of random ``parametrize``
marks (direct, ``indirect=True``, an ``indirect`` list; on the function or its class; names as
a string or a list) over fixtures that depend on each other, a finding inside a fixture is
attributed, by the plugin and by ``ssot check`` alike, to exactly the tests whose run sets
that fixture up."""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_agreement import plugin_report, static_report, write

NAMES = ("alpha", "beta", "gamma")
# Each example is a pytest run in a subprocess: a few per CI run, more by hand with
# SSOT_ORACLE_EXAMPLES=500 python -m pytest -p no:ssot tests/test_fixture_oracle.py
EXAMPLES = int(os.environ.get("SSOT_ORACLE_EXAMPLES", "12"))

# Each fixture reads the environment (a finding inside the fixture) and notes each test it
# is set up for; `gamma` requests `beta`, so giving `beta` directly also cuts what it asks.
CONFTEST = """
    import json
    import os

    import pytest

    RAN = []

    @pytest.fixture
    def alpha(request):
        RAN.append(["alpha", request.node.nodeid])
        return os.getenv("ALPHA")

    @pytest.fixture
    def beta(request):
        RAN.append(["beta", request.node.nodeid])
        return os.getenv("BETA")

    @pytest.fixture
    def gamma(request, beta):
        RAN.append(["gamma", request.node.nodeid])
        return os.getenv("GAMMA")

    def pytest_sessionfinish(session):
        with open("ran.json", "w", encoding="utf-8") as out:
            json.dump(RAN, out)
"""

names = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)


@st.composite
def marks(draw: st.DrawFn, taken: set[str]) -> str | None:
    """One ``parametrize`` decorator over names not parametrized yet, or None."""
    free = [n for n in NAMES if n not in taken]
    if not free:
        return None
    chosen = draw(st.lists(st.sampled_from(free), min_size=1, max_size=len(free), unique=True))
    taken.update(chosen)
    as_string = draw(st.booleans())
    spelled = repr(", ".join(chosen)) if as_string else repr(chosen)  # "a, b" or ["a", "b"]
    # One row: a bare value for one name given as a string, else a tuple (as pytest reads it).
    row = tuple(range(len(chosen)))
    values = "[0]" if as_string and len(chosen) == 1 else f"[{row!r}]"
    indirect = draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.lists(st.sampled_from(chosen), max_size=len(chosen), unique=True),
        )
    )
    keyword = "" if indirect is None else f", indirect={indirect!r}"
    return f"pytest.mark.parametrize({spelled}, {values}{keyword})"


@st.composite
def suites(draw: st.DrawFn) -> str:
    """A test module: a few functions and a class, each with its marks and arguments."""
    lines = ["import pytest", ""]
    for index in range(draw(st.integers(1, 3))):
        taken: set[str] = set()
        in_class = draw(st.booleans())
        class_mark = draw(marks(taken)) if in_class and draw(st.booleans()) else None
        decorators = [m for m in (draw(marks(taken)) for _ in range(2)) if m is not None]
        args = list(dict.fromkeys([*draw(names), *sorted(taken)]))
        indent = "    " if in_class else ""
        if in_class:
            lines.append(f"class TestCase{index}:")
            if class_mark is not None:
                lines.append(f"    pytestmark = {class_mark}")
        lines.extend(f"{indent}@{m}" for m in decorators)
        own = ["self", *args] if in_class else args
        lines.append(f"{indent}def test_{index}({', '.join(own)}):")
        lines.append(f"{indent}    pass")
        lines.append("")
    return "\n".join(lines)


def _attributed(report: dict[str, Any], conftest: list[str]) -> dict[str, set[str]]:
    """Fixture name -> the node ids its finding is attributed to."""
    found: dict[str, set[str]] = {name: set() for name in NAMES}
    for violation in report["violations"]:
        if violation["path"] == "conftest.py" and violation["code"] == "SSOT002":
            line = conftest[violation["line"] - 1]
            name = next(n for n in NAMES if f'"{n.upper()}"' in line)
            found[name] = set(violation["nodeids"])
    return found


@settings(max_examples=EXAMPLES)
@given(module=suites())
def test_a_fixtures_finding_affects_exactly_the_tests_pytest_sets_it_up_for(
    module: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("suite")
    write(
        root,
        {
            "pyproject.toml": '[tool.ssot]\nmode = "warn"\nallow_function_tests = true\n',
            "conftest.py": CONFTEST,
        },
    )
    (root / "test_params.py").write_text(module, encoding="utf-8")
    plugin = plugin_report(root)
    ran: dict[str, set[str]] = {name: set() for name in NAMES}
    for name, nodeid in json.loads((root / "ran.json").read_text(encoding="utf-8")):
        ran[name].add(nodeid)
    conftest = textwrap.dedent(CONFTEST).lstrip("\n").splitlines()
    assert plugin["summary"]["tests"] > 0
    assert _attributed(plugin, conftest) == ran, module

    # `ssot check` reads the same from the source.
    assert _attributed(static_report(root), conftest) == ran, module
