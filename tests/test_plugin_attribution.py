"""Attribution: each violation affects exactly the tests the SPEC says it does."""

from __future__ import annotations

import json
import textwrap

import pytest

FILES = {
    "tests/conftest.py": """
        import os

        import pytest

        ROOT = os.environ.get("ROOT_CONFTEST")


        @pytest.fixture
        def env_url():
            return os.environ.get("FIXTURE_URL", "x")


        @pytest.fixture
        def client(env_url):
            return env_url


        @pytest.fixture
        def clean():
            return 1
    """,
    "tests/a/conftest.py": """
        import os


        def pytest_configure(config):
            os.environ.get("A_DIRECTORY")
    """,
    "tests/a/test_a.py": """
        import os

        import pytest

        MODULE = os.environ.get("MODULE_LEVEL")


        def helper():
            return os.getenv("MODULE_HELPER")


        class TestOne:
            CLASS = os.getenv("CLASS_LEVEL")

            def test_x(self):
                pass

            def test_y(self):
                os.environ.get("IN_TEST")

            def _class_helper(self):
                return os.getenv("CLASS_HELPER")


        class TestTwo:
            def test_x(self, client):
                pass


        @pytest.mark.parametrize("n", [1, 2])
        def test_param(n):
            os.getenv("PARAMETRIZED")


        def test_plain():
            pass
    """,
    "tests/b/test_b.py": """
        def test_uses_fixture(env_url):
            pass


        def test_uses_nothing(clean):
            pass
    """,
    "tests/c/test_c.py": """
        import os


        class BaseSuite:
            def setup_method(self):
                os.environ.get("BASE_SETUP")

            def test_inherited(self):
                os.getenv("INHERITED_TEST")


        class TestDerived(BaseSuite):
            def test_own(self):
                pass


        class TestOverride(BaseSuite):
            def test_inherited(self):
                pass
    """,
    "tests/c/test_d.py": """
        from test_c import BaseSuite


        class TestElsewhere(BaseSuite):
            def test_mine(self):
                pass
    """,
}


def _write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def _run(pytester: pytest.Pytester) -> dict[str, set[str]]:
    """Marker string in the violating line -> the node ids the violation affects."""
    _write(pytester, FILES)
    # The runtime guard would add what tests actually touch: this is about static attribution.
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\nrules = { SSOT102 = "off" }\n')
    result = pytester.runpytest("-p", "ssot", "--ssot-report", "json:ssot.json")
    result.assert_outcomes(passed=13)
    report = json.loads((pytester.path / "ssot.json").read_text())
    found: dict[str, set[str]] = {}
    for violation in report["violations"]:
        line = (pytester.path / violation["path"]).read_text().splitlines()[violation["line"] - 1]
        marker = line.split('"')[1] if '"' in line else line.strip()
        found[marker] = set(violation["nodeids"])
    return found


A = "tests/a/test_a.py::"
B = "tests/b/test_b.py::"
C = "tests/c/test_c.py::"
D = "tests/c/test_d.py::"
ALL_A = {
    A + "TestOne::test_x",
    A + "TestOne::test_y",
    A + "TestTwo::test_x",
    A + "test_param[1]",
    A + "test_param[2]",
    A + "test_plain",
}


def test_each_violation_affects_exactly_the_tests_the_spec_names(
    pytester: pytest.Pytester,
) -> None:
    found = _run(pytester)
    everything = ALL_A | {
        B + "test_uses_fixture",
        B + "test_uses_nothing",
        C + "TestDerived::test_inherited",
        C + "TestDerived::test_own",
        C + "TestOverride::test_inherited",
        D + "TestElsewhere::test_inherited",
        D + "TestElsewhere::test_mine",
    }
    assert found == {
        # module level: every test of the module
        "MODULE_LEVEL": ALL_A,
        # a helper function of the module: every test of the module
        "MODULE_HELPER": ALL_A,
        # class level and a helper method of the class: the tests of the class
        "CLASS_LEVEL": {A + "TestOne::test_x", A + "TestOne::test_y"},
        "CLASS_HELPER": {A + "TestOne::test_x", A + "TestOne::test_y"},
        # inside a test: that test, with all its parametrizations
        "IN_TEST": {A + "TestOne::test_y"},
        "PARAMETRIZED": {A + "test_param[1]", A + "test_param[2]"},
        # a conftest fixture: its users, directly or through other fixtures, anywhere below
        "FIXTURE_URL": {A + "TestTwo::test_x", B + "test_uses_fixture"},
        # elsewhere in a conftest: every test under its directory, not in sibling directories
        "ROOT_CONFTEST": everything,
        "A_DIRECTORY": ALL_A,
        # a base class's methods: the tests of every class deriving from it, in any module;
        # a test body: wherever that very function runs as a test (not where it is overridden)
        "BASE_SETUP": {
            C + "TestDerived::test_inherited",
            C + "TestDerived::test_own",
            C + "TestOverride::test_inherited",
            D + "TestElsewhere::test_inherited",
            D + "TestElsewhere::test_mine",
        },
        "INHERITED_TEST": {C + "TestDerived::test_inherited", D + "TestElsewhere::test_inherited"},
    }


@pytest.mark.parametrize(
    "selection",
    [
        ("tests/test_m.py::test_clean", "tests/test_m.py::TestK::test_clean"),
        ("-k", "clean"),
        ("--deselect", "tests/test_m.py::test_dirty", "--deselect", "tests/test_m.py::TestK"),
    ],
    ids=["node-ids", "-k", "--deselect"],
)
def test_a_test_left_out_of_a_partial_run_is_not_taken_for_a_helper(
    pytester: pytest.Pytester, selection: tuple[str, ...]
) -> None:
    # Only the tests pytest collected are known as tests: the body of one left out used to
    # pass for a helper that every test of its module or class runs, and failed them.
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\nallow_function_tests = true\n')
    _write(
        pytester,
        {
            "tests/test_m.py": """
            import os

            def test_dirty():
                os.getenv("A")

            def test_clean():
                pass

            class TestK:
                def test_dirty(self):
                    os.getenv("B")

                def test_clean(self):
                    pass
            """
        },
    )
    result = pytester.runpytest("-p", "ssot", "-p", "no:cacheprovider", *selection)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["compliance 100.0% (* checked tests compliant)"])


SETTINGS_CONFTEST = """
    import os

    import pytest

    @pytest.fixture
    def settings():
        return os.getenv("SETTINGS")

    @pytest.fixture
    def chain(settings):
        return settings
"""


def _strict_errors(
    pytester: pytest.Pytester, files: dict[str, str]
) -> tuple[pytest.RunResult, list[str]]:
    """Run ``files`` in strict mode: the result, and the tests that erred, sorted."""
    pytester.makepyprojecttoml('[tool.ssot]\nmode = "strict"\nallow_function_tests = true\n')
    _write(pytester, files)
    result = pytester.runpytest("-p", "ssot", "-p", "no:cacheprovider", "-rE")
    errors = sorted(line.split()[1] for line in result.stdout.lines if line.startswith("ERROR "))
    return result, errors


def test_a_conftest_fixture_overridden_nearer_the_test_does_not_affect_it(
    pytester: pytest.Pytester,
) -> None:
    # pytest runs the nearest definition of a fixture name: a test whose module, class or
    # deeper conftest.py overrides it never runs the conftest's (unless the override asks
    # for the fixture it overrides).
    files = {
        "tests/conftest.py": SETTINGS_CONFTEST,
        "tests/test_mod.py": """
            import pytest

            @pytest.fixture
            def settings():
                return {}

            def test_overridden(settings):
                pass

            def test_chain_to_the_override(chain):
                pass
        """,
        "tests/test_cls.py": """
            import pytest

            class TestOverride:
                @pytest.fixture
                def settings(self):
                    return {}

                def test_overridden(self, settings):
                    pass

            class TestExtend:
                @pytest.fixture
                def settings(self, settings):
                    return settings

                def test_extended(self, settings):
                    pass
        """,
        "tests/sub/conftest.py": """
            import pytest

            @pytest.fixture
            def settings():
                return 1
        """,
        "tests/sub/test_sub.py": "def test_deeper_override(settings):\n    pass\n",
        "tests/test_plain.py": "def test_conftests(settings):\n    pass\n",
    }
    result, errors = _strict_errors(pytester, files)
    result.assert_outcomes(passed=4, errors=2)
    assert errors == [
        "tests/test_cls.py::TestExtend::test_extended",
        "tests/test_plain.py::test_conftests",
    ]


def test_a_fixture_whose_name_a_test_parametrizes_directly_does_not_affect_it(
    pytester: pytest.Pytester,
) -> None:
    # pytest gives a directly parametrized name the parameter's value and runs no fixture of
    # that name for the test, wherever the mark sits; `indirect` hands the value to the
    # fixture, which then runs.
    files = {
        "tests/conftest.py": SETTINGS_CONFTEST,
        "tests/test_params.py": """
            import os

            import pytest

            @pytest.fixture
            def local():
                return os.environ.get("LOCAL")

            @pytest.mark.parametrize("settings", [1, 2])
            def test_direct(settings):
                pass

            @pytest.mark.parametrize(argnames="other, settings", argvalues=[(1, 2)])
            def test_direct_by_keyword(other, settings):
                pass

            @pytest.mark.parametrize("local", [1])
            def test_direct_module_fixture(local):
                pass

            @pytest.mark.parametrize(["settings", "local"], [(1, 2)], indirect=["local"])
            def test_direct_beside_an_indirect_one(settings, local):
                pass

            @pytest.mark.parametrize("settings", [1], indirect=True)
            def test_indirect(settings):
                pass

            def test_plain(settings, local):
                pass

            class TestClassMark:
                pytestmark = pytest.mark.parametrize("settings", [1])

                def test_from_the_class(self, settings):
                    pass
        """,
    }
    result, errors = _strict_errors(pytester, files)
    assert errors == [
        "tests/test_params.py::test_direct_beside_an_indirect_one[1-2]",  # runs `local`
        "tests/test_params.py::test_indirect[1]",
        "tests/test_params.py::test_plain",
    ]
    result.assert_outcomes(passed=5, errors=3)


def test_a_checkout_moved_with_its_bytecode_cache_attributes_as_before(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's assertion rewriting reuses __pycache__ without fixing co_filename, so code
    # moved with its cache (a restored CI cache) still names the old location.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    old = pytester.mkdir("checkout")
    (old / "pyproject.toml").write_text('[tool.ssot]\nmode = "warn"\n', encoding="utf-8")
    (old / "test_moved.py").write_text(
        "import os\n\n\n"
        "def test_reads():\n    assert os.environ.get('A') is None\n\n\n"
        "def test_clean():\n    assert True\n",
        encoding="utf-8",
    )
    first = pytester.runpytest_subprocess("-p", "no:ssot", str(old))
    first.assert_outcomes(passed=2)
    assert list((old / "__pycache__").glob("test_moved*pytest*.pyc"))
    new = old.rename(pytester.path / "moved")

    result = pytester.runpytest_subprocess(
        "-p", "ssot", "--ssot-report", "json:report.json", str(new)
    )

    result.assert_outcomes(passed=2)
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    [violation] = [v for v in report["violations"] if v["code"] == "SSOT002"]
    assert violation["nodeids"] == ["test_moved.py::test_reads"]
