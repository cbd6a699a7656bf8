"""The findings store and the decided outcomes read back exactly what went in.

Both hold a session's findings as columns instead of objects (see pytest_ssot/store.py): these
tests compare them with the plain dictionaries and objects they stand for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_ssot.config import Config, Tier
from pytest_ssot.model import Finding, Scope, fingerprints
from pytest_ssot.policy import SessionData, evaluate
from pytest_ssot.policy import TestRecord as Record
from pytest_ssot.rules import AD_HOC_MOCK, DIRECT_ENVIRON_ACCESS
from pytest_ssot.store import _INDEXED_FROM, AffectedTests, FindingStore, StaticSites

INFOS = {info.code: info for info in (DIRECT_ENVIRON_ACCESS, AD_HOC_MOCK)}


def _finding(
    line: int, col: int = 1, code: str = "SSOT002", path: str = "t.py", **kw: Any
) -> Finding:
    return Finding(code, path, line, col, kw.pop("message", f"m{line}"), **kw)


def test_a_finding_reads_back_equal_whatever_its_scope_and_source() -> None:
    store = FindingStore()
    findings = [
        _finding(1),
        _finding(2, scope=Scope(("helper",))),
        _finding(3, scope=Scope(("TestX", "test_a"), None, 1), snippet="os.getenv('A')"),
        _finding(4, scope=Scope(("env",), "env"), end_line=6),
        _finding(5, code="SSOT102", source="runtime"),
    ]
    for finding in findings:
        assert store.add(finding, ["t.py::test_a"])
    assert [store.finding(row) for row in range(len(store))] == findings
    assert list(store.values()) == findings
    assert dict(store.items()) == {f.key: f for f in findings}
    assert store[findings[2].key] == findings[2]
    assert store.get(("SSOT002", "t.py", 99, 1)) is None
    assert findings[3].key in store
    assert ("SSOT002", "other.py", 1, 1) not in store
    assert store.rows_in("t.py") == (0, 1, 2, 3, 4)
    assert store.rows_in("other.py") == ()
    assert (store.count_in("t.py"), store.count_in("other.py")) == (5, 0)


def test_the_first_form_of_a_key_stays_and_its_tests_accumulate() -> None:
    store = FindingStore()
    assert store.add(_finding(3, message="first"), ["t.py::a"])
    assert not store.add(_finding(3, message="second"), iter(["t.py::b"]))
    assert len(store) == 1
    assert store.finding(0).message == "first"
    assert store.tests(0) == {"t.py::a", "t.py::b"}


def test_numbers_beyond_four_bytes_widen_the_column_and_keep_the_rest() -> None:
    store = FindingStore()
    store.add(_finding(7, col=3, end_line=9), [])
    huge = 2**40
    store.add(_finding(huge, col=huge + 1), [])
    assert store.finding(0) == _finding(7, col=3, end_line=9)
    assert store.finding(1) == _finding(huge, col=huge + 1)
    assert store.row(("SSOT002", "t.py", huge, huge + 1)) == 1


def test_a_file_with_many_findings_is_indexed_and_compacting_drops_the_index() -> None:
    store = FindingStore()
    count = _INDEXED_FROM * 3
    for line in range(1, count + 1):
        store.add(_finding(line), [f"t.py::test_{line}"])
    assert store._index_of_path  # a file this size is found by dictionary
    store.compact()
    assert store._index_of_path == {}
    # Looking up and adding still find every row: the index is made again when needed.
    assert all(store.row(("SSOT002", "t.py", line, 1)) == line - 1 for line in range(1, count))
    assert not store.add(_finding(5), ["t.py::test_x"])
    assert store.add(_finding(count + 1), ["t.py::test_y"])
    assert len(store) == count + 1
    assert set(store.tests(4)) == {"t.py::test_5", "t.py::test_x"}


def test_compacting_shares_equal_test_tuples_and_keeps_single_tests_bare() -> None:
    store = FindingStore()
    store.add(_finding(1), ["t.py::b", "t.py::a"])
    store.add(_finding(2), ["t.py::a", "t.py::b"])
    store.add(_finding(3), ["t.py::a"])
    store.add(_finding(4), [])
    store.compact()
    assert store.tests(0) is store.tests(1)
    assert store.tests(0) == ("t.py::a", "t.py::b")
    assert isinstance(store.tests(0), AffectedTests)
    assert store._tests[2] == "t.py::a"
    assert store.tests(2) == ("t.py::a",)
    assert store.tests(3) == ()


def test_scopes_of_one_name_are_held_as_the_name_alone() -> None:
    store = FindingStore()
    name = sys.intern("test_" + "alone")
    store.add(_finding(1, scope=Scope((name,))), [])
    assert store._qualname[0] is name
    assert store.finding(0).scope == Scope((name,))
    assert store.anchor(0) == ("SSOT002", "t.py", "test_alone", "")


def test_static_sites_find_the_first_site_covering_a_line_and_hold_only_the_unattributed() -> None:
    session = FindingStore()
    attributed = _finding(3, col=5, end_line=4, message="in a test")
    session.add(attributed, ["t.py::test_a"])
    sites = StaticSites(session)
    unattributed = _finding(10, col=2, message="in a helper no test calls")
    wider = _finding(2, col=1, end_line=6, code="SSOT201", message="a source's")
    for finding in (attributed, unattributed, wider, _finding(2**40, path="u.py")):
        sites.add(finding)

    assert len(sites) == 4
    assert sites.at("SSOT002", "t.py", 4) == attributed  # its last line counts too
    assert sites.at("SSOT002", "t.py", 10) == unattributed
    assert sites.at("SSOT201", "t.py", 3) == wider  # per rule: the SSOT002 site is not it
    assert sites.at("SSOT002", "t.py", 5) is None
    assert sites.at("SSOT002", "other.py", 3) is None
    # The key alone, for a hit that needs no more, names the same finding.
    assert sites.key_at("SSOT002", "t.py", 4) == attributed.key
    assert sites.key_at("SSOT002", "t.py", 10) == unattributed.key
    assert sites.key_at("SSOT002", "t.py", 5) is None
    assert sites.at("SSOT003", "t.py", 3) is None
    assert sites.at("SSOT002", "u.py", 2**40) == _finding(2**40, path="u.py")
    assert list(sites._unattributed) == [
        unattributed.key,
        wider.key,
        _finding(2**40, path="u.py").key,
    ]


_keys = st.tuples(
    st.sampled_from(["SSOT002", "SSOT003"]),
    st.sampled_from(["a.py", "b.py"]),
    st.integers(min_value=0, max_value=80),
    st.integers(min_value=0, max_value=3),
)


@given(
    st.lists(
        st.tuples(_keys, st.text(max_size=3), st.lists(st.sampled_from("xyz"), max_size=3)),
        max_size=300,
    ),
    st.integers(min_value=0, max_value=300),
)
def test_the_store_behaves_like_the_dictionaries_it_replaces(
    adds: list[tuple[tuple[str, str, int, int], str, list[str]]], compact_at: int
) -> None:
    store = FindingStore()
    findings: dict[tuple[str, str, int, int], Finding] = {}
    tests: dict[tuple[str, str, int, int], set[str]] = {}
    for number, ((code, path, line, col), message, nodeids) in enumerate(adds):
        if number == compact_at:
            store.compact()
        finding = Finding(code, path, line, col, message)
        assert store.add(finding, nodeids) == (finding.key not in findings)
        findings.setdefault(finding.key, finding)
        tests.setdefault(finding.key, set()).update(nodeids)
    assert dict(store.items()) == findings
    assert list(store) == list(findings)  # in the order first added
    for key in findings:
        row = store.row(key)
        assert row is not None
        assert set(store.tests(row)) == tests[key]


def _session() -> SessionData:
    data = SessionData(
        tests={
            "tests/critical/test_c.py::test_c": Record("tests/critical/test_c.py"),
            "tests/test_a.py::test_a": Record("tests/test_a.py"),
            "tests/test_a.py::test_b": Record("tests/test_a.py"),
        }
    )
    data.add(_finding(3, path="tests/test_a.py"), ["tests/test_a.py::test_a"])
    data.add(_finding(3, path="tests/test_a.py", col=9), ["tests/test_a.py::test_b"])
    data.add(
        _finding(1, path="tests/test_a.py", code="SSOT003"),
        ["tests/test_a.py::test_a", "tests/test_a.py::test_b"],
    )
    data.add(_finding(2, path="tests/critical/test_c.py"), ["tests/critical/test_c.py::test_c"])
    data.suppressions["tests/test_a.py"] = {3: frozenset({"SSOT002"})}
    data.compact()
    return data


def test_decided_outcomes_are_made_on_demand_and_agree_with_their_counts() -> None:
    config = Config(root=Path("/p"), tiers=(Tier("critical", ("tests/critical/**",), "strict"),))
    data = _session()
    result = evaluate(data, config, INFOS)
    outcomes = list(result.outcomes)
    prints = fingerprints(data.findings.values())

    assert [(o.finding.path, o.finding.line, o.finding.col) for o in outcomes] == [
        ("tests/critical/test_c.py", 2, 1),
        ("tests/test_a.py", 1, 1),
        ("tests/test_a.py", 3, 1),
        ("tests/test_a.py", 3, 9),
    ]
    assert [o.fingerprint for o in outcomes] == [prints[o.finding.key] for o in outcomes]
    assert [o.status for o in outcomes] == ["new", "new", "exempted", "exempted"]
    assert [o.tier for o in outcomes] == ["critical", "default", "default", "default"]
    assert [o.mode for o in outcomes] == ["strict", "warn", "warn", "warn"]
    assert outcomes[1].nodeids == ("tests/test_a.py::test_a", "tests/test_a.py::test_b")
    assert outcomes[0].failing == ("tests/critical/test_c.py::test_c",)
    assert outcomes[1].name == "ad-hoc-mock"
    assert outcomes[1].use_instead == INFOS["SSOT003"].use_instead

    assert result.outcomes[-1] == outcomes[-1]
    assert list(result.outcomes[1:3]) == outcomes[1:3]
    assert result.outcomes == evaluate(data, config, INFOS).outcomes
    assert (result.count("new"), result.count("known"), result.count("exempted")) == (2, 0, 2)
    assert result.by_rule == {"SSOT002": 3, "SSOT003": 1}
    assert result.worst_files() == [("tests/critical/test_c.py", 1), ("tests/test_a.py", 1)]
    assert dict(result.failing) == {"tests/critical/test_c.py::test_c": (outcomes[0],)}
    # A warning's text and place, read without making the outcome.
    assert [result.outcomes.warning(i) for i in range(len(outcomes))] == [
        (f"{o.finding.code} {o.finding.message} ({o.name})", o.finding.path, o.finding.line)
        for o in outcomes
    ]


def test_only_an_empty_store_takes_another_ones_rows() -> None:
    store, other = FindingStore(), FindingStore()
    other.add(_finding(3), ["t.py::a"])
    store.take(other)
    assert store.finding(0) == _finding(3)
    assert store.tests(0) == {"t.py::a"}
    with pytest.raises(ValueError, match="empty store"):
        store.take(other)
