"""SARIF 2.1.0 for code-scanning upload (GitHub code scanning, Azure DevOps, IDE viewers).

One run, one result per violation. ``partialFingerprints`` carries the baseline fingerprint, so
code scanning tracks an alert across moved lines exactly as the baseline does;
``baselineState`` says new or known (``unchanged``); exempted violations carry an ``inSource``
suppression. Paths are relative to the repository root (``context.source_prefix``).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Outcome, Result
from pytest_ssot.reporting import DEFAULT_CONTEXT, ReportContext
from pytest_ssot.reporting.markdown import cell as markdown_cell

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/pytest-ssot/"
FINGERPRINT_KEY = "ssotFingerprint/v1"
SRCROOT = "%SRCROOT%"
_LEVEL = {"strict": "error", "warn": "warning", "off": "none"}
_BASELINE_STATE = {"new": "new", "known": "unchanged"}


def rule_help(info: RuleInfo) -> tuple[str, str]:
    """The rule's help as plain text and as Markdown (what code scanning shows)."""
    text = (
        f"{info.summary}.\n\nWhy is this bad? {info.why}\n\nExample:\n{info.example}\n\n"
        f"Use instead:\n{info.use_instead}"
    )
    markdown = (
        f"**{_md(info.summary)}.**\n\n**Why is this bad?** {_md(info.why)}\n\n"
        f"**Example**\n\n{_fenced(info.example)}\n\n"
        f"**Use instead**\n\n{_fenced(info.use_instead)}"
    )
    if info.options:
        text += f"\n\nOptions: {info.options}"
        markdown += f"\n\n**Options:** {_md(info.options)}"
    return text, markdown


def _md(text: str) -> str:
    """Prose that stays prose in Markdown: no raw HTML, links, emphasis or code spans (a
    plugin's rule documentation is text, never markup)."""
    return markdown_cell(text)


def _fenced(code: str) -> str:
    """A fenced code block that the code itself cannot close: the fence is longer than any
    run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{code}\n{fence}"


def _rule(info: RuleInfo, config: Config) -> dict[str, Any]:
    text, markdown = rule_help(info)
    mode = config.session_mode_for(info.code)  # rules, else mode: tiers vary per result
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.why},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"enabled": mode != "off", "level": _LEVEL[mode]},
        "properties": {"tags": ["ssot", "testing", "maintainability"], "precision": "high"},
    }


def _artifact(path: str, context: ReportContext) -> dict[str, str]:
    """A repository-relative URI under %SRCROOT%; a file outside the rootdir (a helper that
    touched the environment at run time) gets an absolute ``file:`` URI instead."""
    # surrogateescape: a file name that is not UTF-8 becomes its own bytes, percent-encoded.
    if path.startswith("/"):
        return {"uri": "file://" + urllib.parse.quote(path, safe="/", errors="surrogateescape")}
    uri = urllib.parse.quote(context.repo_path(path), safe="/", errors="surrogateescape")
    return {"uri": uri, "uriBaseId": SRCROOT}


def _result(outcome: Outcome, index: dict[str, int], context: ReportContext) -> dict[str, Any]:
    f = outcome.finding
    region: dict[str, Any] = {"startLine": max(f.line, 1), "startColumn": max(f.col, 1)}
    if f.end_line > f.line:
        region["endLine"] = f.end_line
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": _artifact(f.path, context),
            "region": region,
        }
    }
    if f.scope.qualname:
        location["logicalLocations"] = [
            {
                "fullyQualifiedName": f.scope.dotted,
                "kind": "function" if len(f.scope.qualname) > f.scope.classes else "type",
            }
        ]
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": _LEVEL[outcome.mode] if outcome.status != "exempted" else "note",
        "message": {"text": f"{f.message} ({outcome.name})"},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: outcome.fingerprint},
        "properties": {
            "status": outcome.status,
            "tier": outcome.tier,
            "source": f.source,
            "affectedTests": len(outcome.nodeids),
            "failingTests": len(outcome.failing),
        },
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if outcome.status in _BASELINE_STATE:
        result["baselineState"] = _BASELINE_STATE[outcome.status]
    else:
        result["suppressions"] = [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": "exempted by an ssot_exempt marker or an inline "
                "'# ssot: ignore' comment",
            }
        ]
    return result


def _notifications(
    result: Result, index: dict[str, int], context: ReportContext
) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    # Session-level violations (SSOT004 a) have no place in the source: code scanning requires
    # a location on every result, so they are notifications of the invocation.
    for outcome in result.session_outcomes:
        f = outcome.finding
        note: dict[str, Any] = {
            "level": _LEVEL[outcome.mode],
            "message": {"text": f"{f.code} {f.message} ({outcome.name})"},
            "associatedRule": {"id": f.code},
        }
        if f.code in index:
            note["associatedRule"]["index"] = index[f.code]
        notes.append(note)
    for unchecked in result.unchecked:
        notes.append(
            {
                "level": "warning",
                "message": {"text": f"not checked: {unchecked.reason}"},
                "locations": [
                    {"physicalLocation": {"artifactLocation": _artifact(unchecked.path, context)}}
                ],
            }
        )
    return notes


def log(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """The SARIF log as a dict."""
    codes = sorted({*infos, *(o.finding.code for o in result.outcomes)})
    rules = [
        _rule(infos[code], config)
        if code in infos
        else {"id": code, "shortDescription": {"text": code}}
        for code in codes
    ]
    index = {code: i for i, code in enumerate(codes)}
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notes = _notifications(result, index, context)
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pytest-ssot",
                "version": version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [_result(o, index, context) for o in result.outcomes],
        "properties": {
            "compliance": result.compliance,
            "tests": result.tests,
            "compliant": result.compliant,
            "byTier": {
                name: {"tests": s.tests, "compliant": s.compliant, "compliance": s.compliance}
                for name, s in result.by_tier.items()
            },
            "staleBaselineEntries": len(result.stale),
        },
    }
    if context.commit:
        # Not versionControlProvenance: that requires a repositoryUri we do not know.
        run["properties"]["commit"] = context.commit
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The SARIF log as text."""
    return json.dumps(log(result, config, infos, version, context=context), indent=2) + "\n"
