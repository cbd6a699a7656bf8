"""A compact Markdown summary for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Headline, per-tier and per-rule tables, the new violations (capped: a job summary is limited to
1 MiB and a comment to 65,536 characters) and the details in collapsed sections. Every piece
of text from the suite is escaped: GitHub renders inline HTML, and a ``|`` would break a table.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Outcome, Result
from pytest_ssot.reporting import DEFAULT_CONTEXT, ReportContext

MAX_ROWS = 50  # new violations listed; the rest are counted
_UNSAFE_IN_CODE = re.compile(r"[`|<>&\r\n]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]|])")


def cell(text: object) -> str:
    """Text safe inside a table cell: HTML and Markdown specials neutralised, one line."""
    escaped = html.escape(str(text), quote=False)
    # Emphasis, links, images, code spans and table pipes must stay literal text.
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
    return " ".join(escaped.split())


def code(text: str) -> str:
    """A code span when the text allows one (entities are not decoded inside code spans)."""
    return cell(text) if _UNSAFE_IN_CODE.search(text) else f"`{text}`"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _icon(result: Result, config: Config) -> str:
    if result.count("new") or (config.fail_under and result.below(config.fail_under)):
        return ":x:"
    return ":white_check_mark:"


def _new_rows(outcomes: list[Outcome], context: ReportContext) -> list[str]:
    rows = ["| | location | rule | message | tests |", "|---|---|---|---|---:|"]
    for o in outcomes[:MAX_ROWS]:
        f = o.finding
        rows.append(
            f"| {o.severity} | {code(context.repo_path(f.path) + ':' + str(f.line))} "
            f"| {cell(f.code)} {cell(o.name)} | {cell(f.message)} | {len(o.nodeids)} |"
        )
    if len(outcomes) > MAX_ROWS:
        rows.append(
            f"\n… and {len(outcomes) - MAX_ROWS} more new violations (see the JSON or HTML report)."
        )
    return rows


def render(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The Markdown summary."""
    new = [o for o in result.outcomes if o.status == "new"]
    out = [
        f"## {_icon(result, config)} SSOT compliance {_pct(result.compliance)}",
        "",
        f"**{result.compliant}/{result.tests}** checked tests compliant · "
        f"**{len(new)}** new · {result.count('known')} known · "
        f"{result.count('exempted')} exempted violations"
        + (f" · {len(result.stale)} stale baseline entries (fixed)" if result.stale else ""),
    ]
    if config.fail_under:
        verdict = "**below**" if result.below(config.fail_under) else "meets"
        out += ["", f"Compliance {verdict} `fail_under` {config.fail_under:g}%."]
    for outcome in result.session_outcomes:
        f = outcome.finding
        out += ["", f"> **{cell(f.code)} {cell(outcome.name)}**: {cell(f.message)}"]
    if result.by_tier:
        out += ["", "| tier | tests | compliant | compliance |", "|---|---:|---:|---:|"]
        out += [
            f"| {cell(name)} | {s.tests} | {s.compliant} | {_pct(s.compliance)} |"
            for name, s in result.by_tier.items()
        ]
    if result.by_rule:
        out += ["", "| rule | violations | new | known | exempted |", "|---|---:|---:|---:|---:|"]
        for rule_code, total in result.by_rule.items():
            of_rule = [o for o in result.outcomes if o.finding.code == rule_code]
            name = of_rule[0].name if of_rule else ""
            statuses = ("new", "known", "exempted")
            counts = [sum(1 for o in of_rule if o.status == s) for s in statuses]
            out.append(
                f"| {cell(rule_code)} {cell(name)} | {total} | "
                + " | ".join(map(str, counts))
                + " |"
            )
    if new:
        out += ["", f"### New violations ({len(new)})", "", *_new_rows(new, context)]
    worst = result.worst_files(10)
    if worst:
        out += [
            "",
            "<details><summary>Files with most violations</summary>",
            "",
            "| file | violations |",
            "|---|---:|",
        ]
        out += [f"| {code(context.repo_path(path))} | {n} |" for path, n in worst]
        out += ["", "</details>"]
    if result.stale:
        out += [
            "",
            f"<details><summary>Stale baseline entries ({len(result.stale)}): fixed, dropped "
            "at the next <code>--ssot-update-baseline</code></summary>",
            "",
        ]
        for e in result.stale[:MAX_ROWS]:
            where = code(f"{e.get('path', '')}:{e.get('line', '')}")
            out.append(f"- {cell(e.get('code', ''))} {where} {cell(e.get('message', ''))}")
        out += ["", "</details>"]
    if result.expired or result.unused_ignores or result.unchecked:
        out += ["", "<details><summary>Housekeeping</summary>", ""]
        out += [
            f"- expired exemption {cell(e.origin)} (until {cell(e.until)})" for e in result.expired
        ]
        out += [
            f"- unused `ssot: ignore` at {code(context.repo_path(p) + ':' + str(line))}"
            for p, line in result.unused_ignores
        ]
        out += [
            f"- not checked: {code(context.repo_path(u.path))}: {cell(u.reason)}"
            for u in result.unchecked[:MAX_ROWS]
        ]
        out += ["", "</details>"]
    out += ["", f"<sub>pytest-ssot {cell(version)}</sub>", ""]
    return "\n".join(out)
