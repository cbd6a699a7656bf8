"""The baseline file and fingerprints as plain functions (no pytest session)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from pytest_ssot import baseline
from pytest_ssot.errors import BaselineError, ConfigError
from pytest_ssot.model import Finding, Scope, fingerprints


def _finding(line: int, snippet: str = "os.environ['A']", **kw: object) -> Finding:
    fields: dict[str, object] = {
        "code": "SSOT002",
        "path": "tests/test_a.py",
        "line": line,
        "col": 5,
        "message": "os.environ accessed directly",
        "scope": Scope(("TestA", "test_x"), classes=1),
        "snippet": snippet,
    }
    fields.update(kw)
    return Finding(**fields)  # type: ignore[arg-type]


def test_a_fingerprint_survives_moved_and_inserted_lines() -> None:
    before = fingerprints([_finding(10)])
    after = fingerprints([_finding(42)])
    assert list(before.values()) == list(after.values())


def test_a_second_identical_occurrence_in_the_same_scope_gets_a_new_fingerprint() -> None:
    one = fingerprints([_finding(10)])
    two = fingerprints([_finding(10), _finding(12)])
    assert set(one.values()) < set(two.values())
    assert len(set(two.values())) == 2


def test_the_same_line_in_another_scope_or_rule_is_another_violation() -> None:
    base = _finding(10)
    other_scope = _finding(10, scope=Scope(("TestA", "test_y"), classes=1))
    other_rule = _finding(10, code="SSOT102", source="runtime")
    prints = fingerprints([base])
    assert prints[base.key] != fingerprints([other_scope])[other_scope.key]
    assert prints[base.key] != fingerprints([other_rule])[other_rule.key]


@pytest.mark.parametrize(
    "edited",
    [
        "os.environ['A']  # TODO: migrate",  # a comment added to the line
        'os.environ["A"]',  # a formatter's quotes
        'os.environ["A"] # noqa: E501',
    ],
)
def test_a_comment_or_a_formatters_quotes_keep_the_fingerprint(edited: str) -> None:
    before = fingerprints([_finding(10)])
    after = fingerprints([_finding(10, snippet=edited)])
    assert list(before.values()) == list(after.values())


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('os.environ["A#B"]', 'os.environ["A"]'),  # a hash in a string is not a comment
        ('os.environ["""A#B"""]', 'os.environ["""A"""]'),
        ('os.environ["A\\"#"]', 'os.environ["A\\"]'),  # nor after an escaped quote
        ("os.environ['A'] + x # c", "os.environ['A']"),  # code before the comment counts
    ],
)
def test_what_the_line_does_still_tells_fingerprints_apart(one: str, other: str) -> None:
    first = fingerprints([_finding(10, snippet=one)])
    second = fingerprints([_finding(10, snippet=other)])
    assert list(first.values()) != list(second.values())


def test_a_baseline_of_an_earlier_version_still_matches_and_is_then_rewritten() -> None:
    from pytest_ssot.config import Config
    from pytest_ssot.policy import SessionData, TestRecord, evaluate
    from pytest_ssot.rules import RuleSet, builtin_rules

    # As versions before canonical lines fingerprinted: the line only whitespace-normalised.
    finding = _finding(10, snippet="os.environ['A'] # legacy")
    anchor = "\x1f".join(["SSOT002", "tests/test_a.py", "TestA.test_x", finding.snippet, "0"])
    legacy = hashlib.sha256(anchor.encode()).digest()[:10].hex()
    assert legacy not in fingerprints([finding]).values()
    known = {legacy: baseline.entry(finding, legacy)}
    data = SessionData()
    data.tests["tests/test_a.py::TestA::test_x"] = TestRecord("tests/test_a.py", ())
    data.add(finding, ["tests/test_a.py::TestA::test_x"])
    config = Config(root=Path("."), mode="strict")

    result = evaluate(data, config, RuleSet(tuple(builtin_rules(config))).infos, known=known)

    (outcome,) = result.outcomes
    assert (outcome.status, outcome.failing, result.stale) == ("known", (), ())
    current = [baseline.entry(outcome.finding, outcome.fingerprint)]
    # Even where the session could not judge the old entry (a partial run), it is replaced.
    updated = baseline.updated(known, current, lambda entry: False, result.renamed)
    assert [e["fingerprint"] for e in updated] == [fingerprints([finding])[finding.key]]


def test_reindenting_the_line_keeps_the_fingerprint_because_snippets_are_normalised() -> None:
    from pytest_ssot.model import normalise_snippet

    assert normalise_snippet("  x =   os.environ['A']  ") == normalise_snippet(
        "x = os.environ['A']"
    )


def _entries() -> list[dict[str, object]]:
    return [
        baseline.entry(_finding(30, snippet="b"), "fp-b"),
        baseline.entry(_finding(10, snippet="a", path="tests/test_z.py"), "fp-z"),
        baseline.entry(_finding(5, snippet="c", code="SSOT102", source="runtime"), "fp-r"),
    ]


def test_render_is_sorted_one_entry_per_line_and_independent_of_input_order() -> None:
    text = baseline.render(_entries())
    assert text == baseline.render(list(reversed(_entries())))
    lines = text.splitlines()
    assert lines[:3] == ["{", '  "version": 1,', '  "entries": [']
    body = [json.loads(line.strip().rstrip(",")) for line in lines[3:-2]]
    assert [e["path"] for e in body] == ["tests/test_a.py", "tests/test_a.py", "tests/test_z.py"]
    assert [e["code"] for e in body[:2]] == ["SSOT002", "SSOT102"]
    assert list(body[0]) == ["path", "line", "code", "scope", "message", "fingerprint"]
    assert body[1]["source"] == "runtime"
    assert json.loads(text)["entries"] == body


def test_render_drops_duplicate_fingerprints_and_writes_an_empty_list_readably() -> None:
    entries = _entries()
    assert len(json.loads(baseline.render([*entries, *entries]))["entries"]) == 3
    assert json.loads(baseline.render([])) == {"version": 1, "entries": []}


def test_load_reads_what_render_wrote(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(baseline.render(_entries()), encoding="utf-8")
    known = baseline.load(path)
    assert set(known) == {"fp-b", "fp-z", "fp-r"}
    assert known["fp-r"]["source"] == "runtime"


def test_a_missing_baseline_is_empty(tmp_path: Path) -> None:
    assert baseline.load(tmp_path / "nope.json") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a pytest-ssot baseline"),
        ('{"entries": []}', "not a pytest-ssot baseline"),
        ('{"version": 2, "entries": []}', "baseline version 2 is not supported"),
        ('{"version": true, "entries": []}', "baseline version True is not supported"),
        ('{"version": 1.0, "entries": []}', "baseline version 1.0 is not supported"),
        ('{"version": 1, "entries": {}}', '"entries" must be a list'),
        ('{"version": 1, "entries": [3]}', "entry 1 is int"),
        ('{"version": 1, "entries": [{"code": "SSOT002", "path": "a"}]}', "'fingerprint'"),
        ('{"version": 1, "entries": [{"fingerprint": "x", "code": "S"}]}', "'path'"),
        (
            '{"version": 1, "entries": [{"fingerprint": "x", "code": "S", "path": "a", '
            '"line": "3"}]}',
            "non-integer 'line'",
        ),
    ],
)
def test_a_malformed_baseline_is_a_usage_error_naming_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError) as info:
        baseline.load(path)
    assert isinstance(info.value, ConfigError)  # the plugin turns it into exit code 4
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_an_unreadable_baseline_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.mkdir()
    with pytest.raises(BaselineError, match=r"cannot read the baseline"):
        baseline.load(path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BaselineError, match=str(binary).replace("\\", "\\\\")):
        baseline.load(binary)


def test_write_atomic_keeps_the_old_files_permissions_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    baseline.write_atomic(path, "new\n")
    assert path.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_write_atomic_creates_a_new_file_readable_by_others_per_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        baseline.write_atomic(tmp_path / "sub" / "baseline.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "baseline.json").stat().st_mode) == 0o644


@pytest.mark.skipif(os.name == "nt", reason="POSIX symbolic links")
def test_write_atomic_writes_through_a_symbolic_link_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "baseline.json"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "baseline.json"
    link.symlink_to(Path("real") / "baseline.json")
    baseline.write_atomic(link, "new\n")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["baseline.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_write_atomic_writes_into_a_named_pipe_instead_of_replacing_it(tmp_path: Path) -> None:
    # As into /dev/stdout: `--ssot-report json:/dev/stdout` must print, not replace a device.
    import threading

    pipe = tmp_path / "report.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(
        target=lambda: received.append(pipe.read_text(encoding="utf-8")), daemon=True
    )
    reader.start()
    baseline.write_atomic(pipe, "{}\n")
    reader.join(timeout=10)
    assert received == ["{}\n"]
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.pipe"]


def test_write_atomic_into_a_directory_is_an_error_that_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "baseline.json").mkdir()
    with pytest.raises(IsADirectoryError):
        baseline.write_atomic(tmp_path / "baseline.json", "{}")
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


@pytest.mark.skipif(
    os.name == "nt" or (hasattr(os, "geteuid") and os.geteuid() == 0),
    reason="root ignores directory permissions",
)
def test_a_failed_write_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old", encoding="utf-8")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(PermissionError):
            baseline.write_atomic(path, "new")
    finally:
        tmp_path.chmod(0o700)
    assert path.read_text(encoding="utf-8") == "old"


def test_a_failed_write_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("old", encoding="utf-8")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        baseline.write_atomic(path, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]
    assert path.read_text(encoding="utf-8") == "old"


# -- which entries a session may judge ------------------------------------------------------
STATIC_A = {"fingerprint": "a", "code": "SSOT002", "path": "tests/unit/test_a.py"}
STATIC_B = {"fingerprint": "b", "code": "SSOT002", "path": "tests/api/test_b.py"}
CONFTEST = {"fingerprint": "c", "code": "SSOT002", "path": "tests/conftest.py"}
RUNTIME = {"fingerprint": "r", "code": "SSOT102", "path": "tests/helpers.py", "source": "runtime"}
GONE = {"fingerprint": "g", "code": "SSOT002", "path": "tests/unit/test_deleted.py"}
ALL = [STATIC_A, STATIC_B, CONFTEST, RUNTIME, GONE]
SCANNED = frozenset({"tests/unit/test_a.py", "tests/api/test_b.py", "tests/conftest.py"})


def _judged(coverage: baseline.Coverage) -> set[str]:
    return {e["fingerprint"] for e in ALL if coverage.covers(e)}


def test_a_whole_run_judges_every_entry() -> None:
    coverage = baseline.Coverage(
        roots=("",),
        complete_files=frozenset({"tests/unit/test_a.py", "tests/api/test_b.py"}),
        scanned=SCANNED,
        gone=frozenset({"tests/unit/test_deleted.py"}),
    )
    assert _judged(coverage) == {"a", "b", "c", "r", "g"}


def test_a_run_of_one_directory_judges_only_that_directory() -> None:
    coverage = baseline.Coverage(
        roots=("tests/unit",),
        complete_files=frozenset({"tests/unit/test_a.py"}),
        scanned=frozenset({"tests/unit/test_a.py", "tests/conftest.py"}),
        gone=frozenset({"tests/unit/test_deleted.py"}),
    )
    # The conftest above the directory serves tests that did not run.
    assert _judged(coverage) == {"a", "g"}


def test_a_run_with_deselection_judges_only_fully_selected_test_files() -> None:
    coverage = baseline.Coverage(
        roots=("",),
        complete_files=frozenset({"tests/api/test_b.py"}),
        scanned=SCANNED,
        whole=False,
        ran=True,
    )
    assert _judged(coverage) == {"b"}


def test_runtime_entries_need_a_run_that_executed_every_test() -> None:
    coverage = baseline.Coverage(roots=("",), scanned=SCANNED, ran=False)
    assert "r" not in _judged(coverage)
    assert {"c"} <= _judged(coverage)


def test_a_test_file_that_exists_but_was_not_collected_is_not_judged() -> None:
    coverage = baseline.Coverage(roots=("",), scanned=frozenset({"tests/unit/test_a.py"}))
    assert "b" not in _judged(coverage)


def test_updated_keeps_what_the_run_could_not_judge_and_replaces_the_rest() -> None:
    known = {e["fingerprint"]: e for e in ALL}
    current = [dict(STATIC_A, line=7), {"fingerprint": "n", "code": "SSOT003", "path": "t.py"}]
    coverage = baseline.Coverage(
        roots=("tests/unit",),
        complete_files=frozenset({STATIC_A["path"]}),
        gone=frozenset({GONE["path"]}),
    )
    result = baseline.updated(known, current, coverage.covers)
    by_fp = {e["fingerprint"]: e for e in result}
    assert set(by_fp) == {"a", "b", "c", "r", "n"}  # g: a deleted file under the run
    assert by_fp["a"]["line"] == 7  # the current entry wins over the old one


def test_stale_lists_only_judged_entries() -> None:
    coverage = baseline.Coverage(roots=("tests/api",), complete_files=frozenset({STATIC_B["path"]}))
    assert baseline.stale(ALL, coverage) == (STATIC_B,)


def test_an_entry_whose_path_no_file_can_have_is_gone_not_an_error(tmp_path: Path) -> None:
    # A hand-edited entry must not stop the session's end (and with it fail_under).
    (tmp_path / "here.py").write_text("")
    assert baseline.gone(tmp_path, "here.py") is False
    assert baseline.gone(tmp_path, "missing.py") is True
    assert baseline.gone(tmp_path, "tests/" + "a" * 300 + ".py") is True  # ENAMETOOLONG
    assert baseline.gone(tmp_path, "a\0b.py") is True


def test_a_baseline_path_with_a_nul_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="cannot read the baseline"):
        baseline.load(tmp_path / "a\0b.json")
