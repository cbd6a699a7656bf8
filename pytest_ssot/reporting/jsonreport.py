"""The JSON report (schema version 1, see SPEC.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Outcome, Result
from pytest_ssot.reporting import DEFAULT_CONTEXT, ReportContext

REPORT_VERSION = 1


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    f = outcome.finding
    return {
        "code": f.code,
        "name": outcome.name,
        "path": f.path,
        "line": f.line,
        "col": f.col,
        "message": f.message,
        "severity": outcome.severity,
        "status": outcome.status,
        "source": f.source,
        "tier": outcome.tier,
        "fingerprint": outcome.fingerprint,
        "nodeids": list(outcome.nodeids),
    }


def report(result: Result, config: Config, version: str) -> dict[str, Any]:
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "pytest-ssot", "version": version},
        "mode": config.effective_mode,
        "summary": {
            "tests": result.tests,
            "compliant": result.compliant,
            "compliance": result.compliance,
            "violations": len(result.outcomes),
            "new": result.count("new"),
            "known": result.count("known"),
            "exempted": result.count("exempted"),
            "by_rule": result.by_rule,
            "by_tier": {
                name: {"tests": s.tests, "compliant": s.compliant, "compliance": s.compliance}
                for name, s in result.by_tier.items()
            },
        },
        "violations": [outcome_dict(o) for o in result.outcomes],
        "session": [outcome_dict(o) for o in result.session_outcomes],
        "stale": list(result.stale),
        "unchecked": [{"path": u.path, "reason": u.reason} for u in result.unchecked],
        "expired_exemptions": [
            {"origin": e.origin, "codes": sorted(e.codes), "until": e.until, "reason": e.reason}
            for e in result.expired
        ],
        "unused_ignores": [{"path": p, "line": line} for p, line in result.unused_ignores],
    }


def render(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The JSON report (rootdir-relative paths, whatever ``context`` says)."""
    return json.dumps(report(result, config, version), indent=2, ensure_ascii=False) + "\n"
