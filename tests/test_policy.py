"""Policy as a pure function: statuses, modes per test, compliance, tiers, exemptions."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_ssot import policy
from pytest_ssot.config import Config, Tier
from pytest_ssot.model import Exemption, Finding, Scope, UncheckedFile, fingerprints
from pytest_ssot.policy import (
    SessionData,
    TierStats,
    compliance,
    evaluate,
    unattributed_fingerprints,
)
from pytest_ssot.policy import TestRecord as Record  # not a test class
from pytest_ssot.rules import RuleSet, builtin_rules

TODAY = datetime.date(2030, 6, 15)


def _config(**kwargs: Any) -> Config:
    return Config(root=Path("/p"), **kwargs)


def _infos(config: Config) -> dict[str, Any]:
    return RuleSet(tuple(builtin_rules(config))).infos


def _finding(code: str = "SSOT002", path: str = "tests/test_a.py", line: int = 3) -> Finding:
    return Finding(
        code=code,
        path=path,
        line=line,
        col=5,
        message="os.environ accessed directly",
        scope=Scope(("test_x",)),
        snippet=f"os.environ.get('L{line}')",
        end_line=line,
    )


def _data(*tests: tuple[str, str], **exemptions: tuple[Exemption, ...]) -> SessionData:
    data = SessionData()
    for nodeid, path in tests:
        name = nodeid.rpartition("::")[2]
        data.tests[nodeid] = Record(path, exemptions.get(name, ()))
    return data


def _evaluate(data: SessionData, config: Config, **kwargs: Any) -> Any:
    return evaluate(data, config, _infos(config), today=TODAY, **kwargs)


def test_a_new_violation_makes_its_tests_non_compliant() -> None:
    data = _data(
        ("tests/test_a.py::test_x", "tests/test_a.py"),
        ("tests/test_a.py::test_y", "tests/test_a.py"),
    )
    data.add(_finding(), ["tests/test_a.py::test_x"])
    result = _evaluate(data, _config())
    (outcome,) = result.outcomes
    assert outcome.status == "new"
    assert outcome.name == "direct-environ-access"
    assert outcome.mode == "warn"
    assert outcome.severity == "warning"
    assert outcome.failing == ()
    assert (result.tests, result.compliant, result.compliance) == (2, 1, 50.0)
    assert result.by_file["tests/test_a.py"] == TierStats(tests=2, compliant=1)


def test_strict_new_violations_fail_exactly_their_strict_tests() -> None:
    config = _config(tiers=(Tier("critical", ("tests/critical/**",), "strict"),))
    data = _data(
        ("tests/critical/test_c.py::test_x", "tests/critical/test_c.py"),
        ("tests/test_a.py::test_x", "tests/test_a.py"),
    )
    shared = _finding(path="tests/conftest.py")
    data.add(shared, ["tests/critical/test_c.py::test_x", "tests/test_a.py::test_x"])
    result = _evaluate(data, config)
    (outcome,) = result.outcomes
    assert outcome.mode == "strict"
    assert outcome.failing == ("tests/critical/test_c.py::test_x",)
    assert result.failing == {"tests/critical/test_c.py::test_x": (outcome,)}
    # The plugin asks each starting test with get() and `in`: absent ones give the default.
    assert result.failing.get("tests/critical/test_c.py::test_x") == (outcome,)
    assert result.failing.get("tests/test_a.py::test_x") is None
    assert result.failing.get("tests/test_a.py::test_x", ()) == ()
    assert "tests/critical/test_c.py::test_x" in result.failing
    assert "tests/test_a.py::test_x" not in result.failing
    assert outcome.line_for_error() == (
        "SSOT002 tests/conftest.py:3 os.environ accessed directly (direct-environ-access)"
    )


def test_known_violations_never_fail_and_unmatched_entries_are_stale() -> None:
    data = _data(("tests/test_a.py::test_x", "tests/test_a.py"))
    finding = _finding()
    data.add(finding, ["tests/test_a.py::test_x"])
    fingerprint = fingerprints([finding])[finding.key]
    stale = {"fingerprint": "0" * 20, "code": "SSOT003", "path": "tests/test_b.py"}
    known = {fingerprint: {"fingerprint": fingerprint}, "0" * 20: stale}
    result = _evaluate(data, _config(mode="strict"), known=known)
    (outcome,) = result.outcomes
    assert outcome.status == "known"
    assert outcome.failing == ()
    assert result.compliant == 0  # known still counts as non-compliant
    assert result.stale == (stale,)


def test_exemptions_cover_codes_names_or_everything_until_they_expire() -> None:
    def exempt(*codes: str, until: str | None = None) -> tuple[Exemption, ...]:
        return (Exemption(frozenset(codes), "why", until, origin="origin"),)

    data = _data(
        ("t.py::test_code", "t.py"),
        ("t.py::test_name", "t.py"),
        ("t.py::test_all", "t.py"),
        ("t.py::test_other", "t.py"),
        ("t.py::test_expired", "t.py"),
        ("t.py::test_current", "t.py"),
        test_code=exempt("SSOT002"),
        test_name=exempt("direct-environ-access"),
        test_all=exempt(),
        test_other=exempt("SSOT003"),
        test_expired=exempt(until="2030-06-14"),
        test_current=exempt(until="2030-06-15"),
    )
    for line, nodeid in enumerate(sorted(data.tests), start=1):
        data.add(_finding(path="t.py", line=line), [nodeid])
    result = _evaluate(data, _config(mode="strict"))
    statuses = {o.nodeids[0].partition("::")[2]: o.status for o in result.outcomes}
    assert statuses == {
        "test_code": "exempted",
        "test_name": "exempted",
        "test_all": "exempted",
        "test_other": "new",
        "test_expired": "new",
        "test_current": "exempted",
    }
    assert [e.until for e in result.expired] == ["2030-06-14"]
    assert set(result.failing) == {"t.py::test_other", "t.py::test_expired"}


def test_a_violation_exempted_for_some_tests_stays_new_for_the_others() -> None:
    data = _data(
        ("t.py::test_a", "t.py"),
        ("t.py::test_b", "t.py"),
        test_a=(Exemption(frozenset(), "why"),),
    )
    data.add(_finding(path="conftest.py"), ["t.py::test_a", "t.py::test_b"])
    result = _evaluate(data, _config(mode="strict"))
    (outcome,) = result.outcomes
    assert outcome.status == "new"
    assert outcome.failing == ("t.py::test_b",)
    assert (result.tests, result.compliant) == (2, 1)  # test_a is exempted, so compliant


def test_inline_ignores_exempt_by_code_or_name_and_unused_ones_are_listed() -> None:
    data = _data(("t.py::test_x", "t.py"))
    data.add(_finding(path="t.py", line=3), ["t.py::test_x"])
    data.add(_finding(path="t.py", line=4), ["t.py::test_x"])
    data.add(_finding("SSOT003", path="t.py", line=5), ["t.py::test_x"])
    data.suppressions["t.py"] = {
        3: frozenset({"SSOT002"}),
        4: frozenset({"direct-environ-access"}),
        5: frozenset({"SSOT002"}),  # the wrong code: not used
        9: frozenset(),  # nothing there: not used
    }
    result = _evaluate(data, _config())
    assert [o.status for o in result.outcomes] == ["exempted", "exempted", "new"]
    assert result.unused_ignores == (("t.py", 5), ("t.py", 9))


def test_an_ignore_on_any_line_of_a_multiline_violation_applies() -> None:
    data = _data(("t.py::test_x", "t.py"))
    finding = Finding("SSOT002", "t.py", 3, 1, "m", end_line=5)
    data.add(finding, ["t.py::test_x"])
    data.suppressions["t.py"] = {5: frozenset()}
    assert _evaluate(data, _config()).outcomes[0].status == "exempted"


def test_rules_switched_off_are_dropped_wherever_they_would_count() -> None:
    config = _config(rules={"SSOT003": "off"}, tiers=(Tier("legacy", ("tests/legacy/**",), "off"),))
    data = _data(
        ("tests/legacy/test_l.py::test_x", "tests/legacy/test_l.py"),
        ("tests/test_a.py::test_x", "tests/test_a.py"),
    )
    data.add(_finding("SSOT003", path="tests/test_a.py"), ["tests/test_a.py::test_x"])
    data.add(_finding(path="tests/legacy/test_l.py"), ["tests/legacy/test_l.py::test_x"])
    result = _evaluate(data, config)
    assert list(result.outcomes) == []
    assert result.compliance == 100.0


def test_compliance_is_per_tier_and_the_worst_files_skip_exempted() -> None:
    config = _config(tiers=(Tier("critical", ("tests/critical/**",), "strict"),))
    data = _data(
        ("tests/critical/test_c.py::test_1", "tests/critical/test_c.py"),
        ("tests/critical/test_c.py::test_2", "tests/critical/test_c.py"),
        ("tests/test_a.py::test_1", "tests/test_a.py"),
        ("tests/test_a.py::test_2", "tests/test_a.py"),
        ("tests/test_a.py::test_3", "tests/test_a.py"),
    )
    data.add(_finding(path="tests/test_a.py", line=1), ["tests/test_a.py::test_1"])
    data.add(_finding(path="tests/test_a.py", line=2), ["tests/test_a.py::test_1"])
    data.add(_finding(path="tests/test_b.py", line=1), ["tests/test_a.py::test_2"])
    data.add(_finding(path="tests/critical/test_c.py"), ["tests/critical/test_c.py::test_1"])
    data.suppressions["tests/test_b.py"] = {1: frozenset()}
    result = _evaluate(data, config)
    assert {name: (s.tests, s.compliant, s.compliance) for name, s in result.by_tier.items()} == {
        "critical": (2, 1, 50.0),
        "default": (3, 2, 66.7),
    }
    assert result.worst_files() == [("tests/test_a.py", 2), ("tests/critical/test_c.py", 1)]
    assert result.by_rule == {"SSOT002": 4}


def test_findings_of_tests_that_are_not_checked_are_not_decided() -> None:
    data = _data(("t.py::test_x", "t.py"))
    data.add(_finding(path="t.py"), ["excluded.py::test_y"])
    result = _evaluate(data, _config())
    # Attributed only to tests outside the checked set: reported, affecting nobody counted.
    assert all(o.nodeids == () for o in result.outcomes)
    assert result.compliant == 1


@pytest.mark.parametrize(
    ("compliant", "tests", "expected"),
    [(0, 0, 100.0), (1, 3, 33.3), (2, 3, 66.7), (3, 3, 100.0), (0, 7, 0.0)],
)
def test_compliance_is_rounded_to_a_tenth(compliant: int, tests: int, expected: float) -> None:
    assert compliance(compliant, tests) == expected


def test_session_data_merges_without_duplicates() -> None:
    left = _data(("t.py::test_a", "t.py"))
    right = _data(("t.py::test_b", "t.py"))
    finding = _finding(path="conftest.py")
    left.add(finding, ["t.py::test_a"])
    right.add(finding, ["t.py::test_b"])
    right.unchecked["bad.py"] = UncheckedFile("bad.py", "syntax error")
    right.invalid_exemptions["t.py::test_b"] = "needs reason"
    left.merge(right)
    assert set(left.tests) == {"t.py::test_a", "t.py::test_b"}
    assert set(left.affected[finding.key]) == {"t.py::test_a", "t.py::test_b"}
    assert len(left.findings) == 1
    assert set(left.unchecked) == {"bad.py"}
    result = _evaluate(left, _config())
    assert result.invalid_exemptions == (("t.py::test_b", "needs reason"),)
    assert result.unchecked == (UncheckedFile("bad.py", "syntax error"),)


def test_the_first_merge_into_an_empty_session_takes_its_findings_as_they_are() -> None:
    # An xdist controller holds nothing until the first worker's collection arrives: making
    # and adding each of a large suite's findings again cost it a large part of a second.
    first = _data(("t.py::test_a", "t.py"))
    first.add(_finding(line=3), ["t.py::test_a"])
    first.compact()
    controller = SessionData()
    controller.session_findings.append(Finding("SSOT004", "", 0, 0, "not started by the runner"))
    before = controller.signature()
    store, taken = controller.findings, first.findings._message
    controller.merge(first)
    assert controller.findings is store  # still the store its holders see (StaticSites)
    assert controller.findings._message is taken  # its rows as they are, not added again
    assert controller.affected[_finding(line=3).key] == ("t.py::test_a",)
    assert set(controller.tests) == {"t.py::test_a"}
    assert controller.signature() != before  # a cached decision is not reused
    assert len(controller.session_findings) == 1

    second = _data(("t.py::test_b", "t.py"))
    second.add(_finding(line=3), ["t.py::test_b"])
    controller.merge(second)  # not empty any more: merged finding by finding
    assert set(controller.affected[_finding(line=3).key]) == {"t.py::test_a", "t.py::test_b"}
    assert set(controller.tests) == {"t.py::test_a", "t.py::test_b"}


def test_session_level_findings_are_reported_but_attributed_to_no_test() -> None:
    data = _data(("t.py::test_a", "t.py"))
    data.session_findings.append(Finding("SSOT004", "", 0, 0, "not started by the runner"))
    result = _evaluate(data, _config(mode="strict"))
    (outcome,) = result.session_outcomes
    assert outcome.nodeids == ()
    assert outcome.mode == "strict"
    assert result.compliant == 1
    off = _evaluate(data, _config(mode="strict", rules={"SSOT004": "off"}))
    assert off.session_outcomes == ()


def test_the_signature_changes_with_anything_evaluate_decides_on() -> None:
    data = SessionData(tests={"t::a": Record("tests/test_a.py")})
    seen = {data.signature()}

    data.add(_finding(), ["t::a"])
    seen.add(data.signature())
    data.tests["t::b"] = Record("tests/test_a.py")
    seen.add(data.signature())
    data.add(_finding(), ["t::b"])  # the same finding, one more test: only the count shows it
    seen.add(data.signature())
    data.unchecked["tests/test_c.py"] = UncheckedFile("tests/test_c.py", "syntax error")
    seen.add(data.signature())
    data.session_findings.append(_finding("SSOT004", "conftest.py", 1))
    seen.add(data.signature())

    assert len(seen) == 6


def test_findings_with_the_same_tests_share_one_sorted_tuple_and_so_do_their_outcomes() -> None:
    data = _data(
        ("tests/test_a.py::test_y", "tests/test_a.py"),
        ("tests/test_a.py::test_x", "tests/test_a.py"),
    )
    module_wide = ["tests/test_a.py::test_y", "tests/test_a.py::test_x"]
    data.add(_finding(line=3), module_wide)
    data.add(_finding(line=4), reversed(module_wide))
    data.compact()
    first, second = (data.affected[f.key] for f in (_finding(line=3), _finding(line=4)))
    assert first is second
    assert first == ("tests/test_a.py::test_x", "tests/test_a.py::test_y")
    outcomes = _evaluate(data, _config()).outcomes
    assert outcomes[0].nodeids is first
    assert outcomes[1].nodeids is first


def test_an_add_after_compacting_grows_its_own_copy_not_the_shared_one() -> None:
    data = _data(("t.py::test_a", "t.py"), ("t.py::test_b", "t.py"), ("t.py::test_c", "t.py"))
    both = ["t.py::test_a", "t.py::test_b"]
    data.add(_finding(line=3), both)
    data.add(_finding(line=4), both)
    data.compact()
    shared = data.affected[_finding(line=3).key]
    data.add(_finding(line=3), ["t.py::test_a"])  # nothing new: stays shared
    assert data.affected[_finding(line=3).key] is shared
    data.add(_finding(line=3), ["t.py::test_c"])
    assert data.affected[_finding(line=3).key] == {"t.py::test_a", "t.py::test_b", "t.py::test_c"}
    assert data.affected[_finding(line=4).key] == ("t.py::test_a", "t.py::test_b")
    data.compact()
    assert data.affected[_finding(line=3).key] == ("t.py::test_a", "t.py::test_b", "t.py::test_c")


def test_a_finding_of_one_test_holds_its_node_id_alone_and_still_grows() -> None:
    data = _data(("t.py::test_a", "t.py"), ("t.py::test_b", "t.py"))
    nodeid = "".join(["t.py::", "test_a"])  # not the literal: identity below means "held"
    data.add(_finding(line=3), [nodeid])
    data.compact()
    held = data.findings._tests
    assert held == [nodeid]
    assert held[0] is nodeid  # no tuple around it
    assert data.affected[_finding(line=3).key] == ("t.py::test_a",)
    assert data.affects(_finding(line=3).key, "t.py::test_a")
    assert not data.affects(_finding(line=3).key, "t.py::test_b")
    data.add(_finding(line=3), ["t.py::test_b"])
    assert data.affected[_finding(line=3).key] == {"t.py::test_a", "t.py::test_b"}
    outcome = _evaluate(data, _config()).outcomes[0]
    assert outcome.nodeids == ("t.py::test_a", "t.py::test_b")


_TESTS = [
    (f"{path}::test_{n}", path)
    for path in ("tests/test_a.py", "tests/critical/test_b.py")
    for n in range(3)
]
_EXEMPTIONS = (
    (),
    (Exemption(frozenset({"SSOT002"}), "why", None, "origin"),),
    (Exemption(frozenset(), "why", "2030-06-01", "old"),),  # expired
    (Exemption(frozenset({"ad-hoc-mock"}), "why", "2099-01-01", "by name"),),
)


@given(
    per_file=st.lists(st.sampled_from(_EXEMPTIONS), min_size=2, max_size=2),
    odd_one=st.none() | st.tuples(st.integers(0, 5), st.sampled_from(_EXEMPTIONS)),
    findings=st.lists(
        st.tuples(
            st.sampled_from(["SSOT002", "SSOT003"]),
            st.integers(1, 4),
            st.sets(st.integers(0, 2), min_size=1),  # tests of the finding's own file
            st.booleans(),  # and one of the other file's (a conftest's finding, say)
        ),
        max_size=6,
    ),
    ignored=st.sets(st.integers(1, 4), max_size=2),
    mode=st.sampled_from(["warn", "strict"]),
    tier_mode=st.sampled_from(["warn", "strict", "off"]),
)
@settings(max_examples=300, deadline=None)
def test_tests_sharing_a_record_are_decided_as_if_each_had_its_own(
    per_file: list[tuple[Exemption, ...]],
    odd_one: tuple[int, tuple[Exemption, ...]] | None,
    findings: list[tuple[str, int, set[int], bool]],
    ignored: set[int],
    mode: str,
    tier_mode: str,
) -> None:
    # Tests of one file with the same exemptions share a record, and policy decides once for
    # all of them; with a record each (an exemption that covers nothing makes each distinct)
    # it decides test by test. The answers must be the same.
    config = _config(mode=mode, tiers=(Tier("critical", ("tests/critical/**",), tier_mode),))
    exemptions = [per_file[index // 3] for index in range(len(_TESTS))]
    if odd_one is not None:
        exemptions[odd_one[0]] = odd_one[1]

    def session(distinct: bool) -> SessionData:
        data = SessionData()
        for index, (nodeid, path) in enumerate(_TESTS):
            noop = (Exemption(frozenset({"SSOT999"}), "covers nothing", None, f"noop{index}"),)
            data.tests[nodeid] = Record(path, exemptions[index] + (noop if distinct else ()))
        for code, line, own, other in findings:
            first = 0 if line % 2 else 3  # test_a.py's tests, or test_b.py's
            affected = [_TESTS[first + i][0] for i in own] + [_TESTS[3 - first][0]] * other
            path = _TESTS[first][1]
            data.add(_finding(code=code, path=path, line=line), affected)
        for path in ("tests/test_a.py", "tests/critical/test_b.py"):
            data.suppressions[path] = {number: frozenset({"SSOT002"}) for number in ignored}
        data.compact()
        return data

    shared, each = _evaluate(session(False), config), _evaluate(session(True), config)
    assert list(shared.outcomes) == list(each.outcomes)
    assert (shared.compliant, shared.by_tier, shared.by_file) == (
        each.compliant,
        each.by_tier,
        each.by_file,
    )
    assert dict(shared.failing) == dict(each.failing)
    assert shared.expired == each.expired
    assert shared.unused_ignores == each.unused_ignores


def test_a_finding_attributed_to_no_test_has_the_fingerprint_a_run_would_give_it() -> None:
    # The same line twice in one scope: the occurrence index counts across the findings a
    # check attributes and those it cannot (a fixture only getfixturevalue reaches).
    first = _finding(line=3)
    same_anchor = Finding(
        code=first.code,
        path=first.path,
        line=9,
        col=first.col,
        message=first.message,
        scope=first.scope,
        snippet=first.snippet,
        end_line=9,
    )
    nodeid = "tests/test_a.py::test_x"
    ran = _data((nodeid, "tests/test_a.py"))
    ran.add(first, [nodeid])
    ran.add(same_anchor, [nodeid])
    expected = {o.fingerprint for o in _evaluate(ran, _config()).outcomes if o.finding.line == 9}
    checked = _data((nodeid, "tests/test_a.py"))
    checked.add(first, [nodeid])
    found = unattributed_fingerprints(checked, [same_anchor])
    # With the fingerprint an earlier version gave it: its line has quotes that are now made one.
    assert expected < found
    assert len(found) == 2
    assert unattributed_fingerprints(checked, []) == frozenset()


def test_fingerprints_are_hashed_only_when_asked_for_and_as_they_were_at_deciding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nodeid = "tests/test_a.py::test_x"
    data = _data((nodeid, "tests/test_a.py"))
    data.add(_finding(line=3), [nodeid])
    data.add(_finding(line=7), [nodeid])
    expected = [o.fingerprint for o in _evaluate(data, _config(), known={"x" * 20: {}}).outcomes]
    hashed: list[int] = []
    original = policy._digests_of

    def counted(*args: Any) -> Any:
        hashed.append(1)
        return original(*args)

    monkeypatch.setattr(policy, "_digests_of", counted)
    result = _evaluate(data, _config())
    assert [result.outcomes.status(i) for i in range(2)] == ["new", "new"]
    assert hashed == []  # no baseline, no report: a plain session never hashes an anchor
    # A finding added later (a run-time violation) with the same anchor comes after them in
    # the numbering: it must not shift the fingerprints already decided.
    data.add(dataclasses.replace(_finding(line=3), line=1, end_line=1), [nodeid])
    assert [o.fingerprint for o in result.outcomes] == expected
    assert hashed == [1]  # once for all outcomes
    assert [result.outcomes.fingerprint(i) for i in range(2)] == expected
    assert hashed == [1]
