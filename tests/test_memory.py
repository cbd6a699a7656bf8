"""What a session keeps stays small: shared texts, and no scan facts beyond what is read again.

A suite of 10,000 files holds 100,000s of findings: a copy of the same message per finding,
or every file's references kept after its findings were made, would dominate the plugin's
memory (benchmarks/bench_collect.py measures it).
"""

from __future__ import annotations

import json

import pytest

from pytest_ssot.model import Finding
from pytest_ssot.policy import finding_from_row, finding_row
from pytest_ssot.scanner import FileFacts, scan


def _finding_read_back(path: str, line: int) -> Finding:
    # Texts built at run time and decoded from JSON, as the scan cache and xdist hand them over.
    message = "".join(["os.environ accessed ", "directly"])
    data = Finding(code="SSOT002", path=path, line=line, col=1, message=message).to_dict()
    return Finding.from_dict(json.loads(json.dumps(data)))


def test_findings_share_one_copy_of_each_message_and_path() -> None:
    first = _finding_read_back("tests/test_a.py", 3)
    second = _finding_read_back("tests/test_a.py", 9)

    assert first.message == second.message
    assert first.message is second.message
    assert first.path is second.path


def test_a_one_line_finding_holds_one_line_number_not_two() -> None:
    # Line numbers above 256 are separate int objects: a parsed node's end line is another.
    line, end_line = int("4000"), int("4000")
    assert line is not end_line

    finding = Finding("SSOT002", "t.py", line, 1, "m", end_line=end_line)
    assert finding.end_line is finding.line
    spanning = Finding("SSOT002", "t.py", line, 1, "m", end_line=int("4002"))
    assert spanning.end_line == 4002


def test_scopes_read_back_from_the_cache_or_the_wire_share_their_names() -> None:
    source = (
        b"import os\n\nclass TestX:\n"
        b"    def test_a(self):\n        os.getenv('A')\n"
        b"    def test_b(self):\n        os.getenv('B')\n"
    )
    facts = FileFacts.from_dict(json.loads(json.dumps(scan(source, "t.py").to_dict())))
    first, second = (ref.scope.qualname for ref in facts.refs)
    assert (first, second) == (("TestX", "test_a"), ("TestX", "test_b"))
    assert first[0] is second[0]

    wire = [
        json.loads(json.dumps(finding_row(Finding("SSOT002", "t.py", n, 1, "m", ref.scope))))
        for n, ref in enumerate(facts.refs, 1)
    ]
    one, two = (finding_from_row(row).scope.qualname for row in wire)
    assert one[0] is two[0]


def test_the_plugin_keeps_no_references_of_scanned_files(pytester: pytest.Pytester) -> None:
    from pytest_ssot.plugin import PLUGIN_KEY

    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    for name in ("test_a", "test_b"):
        pytester.makepyfile(
            **{name: "import os\n\nclass TestX:\n    def test_x(self):\n        os.getenv('A')\n"}
        )
    recorder = pytester.inline_run("-p", "ssot", "-W", "ignore::pytest_ssot.SSOTWarning")
    plugin = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY]

    # A file's facts are read while the collected tests are checked: after that, one shared
    # placeholder says the file was scanned.
    kept = {id(facts) for facts in plugin._facts.values()}
    assert len(plugin._facts) == 2
    assert len(kept) == 1
    assert plugin.scanned() == {"test_a.py", "test_b.py"}
    # So are the marks of the tests' classes and modules and the verdicts on their classes.
    assert plugin._node_marks == {}
    assert plugin._class_findings == {}
    findings = list(plugin.data.findings.values())
    assert len(findings) == 2
    assert findings[0].message is findings[1].message


def test_after_collection_only_findings_a_run_can_meet_again_stay_outside_the_data(
    pytester: pytest.Pytester,
) -> None:
    from pytest_ssot.plugin import PLUGIN_KEY

    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\nbase_classes = ["base:Base"]\n')
    pytester.makepyfile(base="class Base:\n    pass\n")
    pytester.makepyfile(
        test_a=(
            "import os\nfrom unittest import mock\n\n"
            "def helper():\n    return os.environ.get('A')\n\n"
            "class TestX:\n    def test_x(self):\n        os.getenv('A')\n"
            # Enough findings in one file for the store to index it when looked up.
            "    def test_many(self):\n" + "        os.getenv('B')\n" * 60
        )
    )
    # Collected only: tests that run look findings up (and may index their files) again.
    recorder = pytester.inline_run(
        "-p", "ssot", "--collect-only", "-W", "ignore::pytest_ssot.SSOTWarning"
    )
    plugin = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY]

    assert plugin._findings == {}  # each file's list of findings went with collection
    assert plugin.data.findings._index_of_path == {}  # nor the indexes made on the way
    sites = plugin.static_sites()
    # The static SSOT002 sites a run-time access can be, the helper's unattributed one too;
    # not the mock import (SSOT003) or the class verdict (SSOT001).
    assert len(sites) == 62
    in_test, in_helper = sites.at("SSOT002", "test_a.py", 9), sites.at("SSOT002", "test_a.py", 5)
    assert in_test is not None
    assert in_test == plugin.data.findings[in_test.key]  # found again in the session's data
    assert in_helper is not None
    assert in_helper.message.startswith("os.environ.get accessed directly")
    assert sites.at("SSOT003", "test_a.py", 2) is None
    assert sorted({f.code for f in plugin.data.findings.values()}) == [
        "SSOT001",
        "SSOT002",
        "SSOT003",
    ]


def test_the_tests_of_a_file_with_the_same_exemptions_share_one_record(
    pytester: pytest.Pytester,
) -> None:
    from pytest_ssot.plugin import PLUGIN_KEY
    from pytest_ssot.policy import SessionData

    pytester.makepyprojecttoml('[tool.ssot]\nmode = "warn"\n')
    pytester.makepyfile(
        test_a=(
            "import pytest\n\n"
            "class TestX:\n"
            "    def test_x(self): pass\n"
            "    def test_y(self): pass\n"
            "    @pytest.mark.ssot_exempt(reason='legacy')\n"
            "    def test_z(self): pass\n\n"
            "def test_f(): pass\n"
        )
    )
    recorder = pytester.inline_run("-p", "ssot", "-W", "ignore::pytest_ssot.SSOTWarning")
    tests = recorder.getcall("pytest_sessionfinish").session.config.stash[PLUGIN_KEY].data.tests

    plain = tests["test_a.py::TestX::test_x"]
    assert tests["test_a.py::TestX::test_y"] is plain
    assert tests["test_a.py::test_f"] is plain
    assert tests["test_a.py::TestX::test_z"] is not plain
    assert [e.reason for e in tests["test_a.py::TestX::test_z"].exemptions] == ["legacy"]

    received = SessionData.from_dict(json.loads(json.dumps(SessionData(tests=tests).to_dict())))
    assert received.tests == tests
    assert received.tests["test_a.py::test_f"] is received.tests["test_a.py::TestX::test_x"]


def test_what_attribution_keeps_per_test_is_small_and_shared(pytester: pytest.Pytester) -> None:
    from pytest_ssot.plugin import _Origins

    pytester.makepyfile(
        test_a=(
            "import pytest\n\n"
            "class TestX:\n"
            "    @pytest.mark.parametrize('n', [1, 2])\n"
            "    def test_x(self, n, tmp_path): pass\n\n"
            "    def test_y(self, tmp_path): pass\n"
        )
    )
    items, _ = pytester.inline_genitems()
    memo: dict[object, object] = {}
    first, second, third = (_Origins.of(item, memo) for item in items)
    assert third.fixturenames is items[2].fixturenames  # pytest's own list, not a copy

    assert not hasattr(first, "__dict__")
    # The fixtures that run for it: pytest's names but `n`, given by the mark, in one list
    # for the function's tests.
    assert first.fixturenames == [n for n in items[0].fixturenames if n != "n"]
    assert first.fixturenames is second.fixturenames
    assert "tmp_path" in first.fixturenames
    assert first.function is second.function  # one parametrized function, one origin
    assert first.function[1] == ("TestX", "test_x")
    assert first.classes is second.classes  # one class, one MRO
    # The class's MRO, the last parent, the last function and its fixture names, not one
    # entry per test.
    assert len(memo) == 4
