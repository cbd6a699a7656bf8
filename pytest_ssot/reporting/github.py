"""GitHub Actions workflow commands: one annotation per new violation, on stdout.

Known (baselined) and exempted violations are the accepted state of the suite and get no
annotation each, only a count in the closing notice: a pull request shows what it introduced.
Format: ``::error file=PATH,line=N,col=N,title=TITLE::MESSAGE``; data escapes ``%``, CR and LF,
properties also ``:`` and ``,`` (as GitHub's toolkit does).
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Outcome, Result
from pytest_ssot.reporting import DEFAULT_CONTEXT, ReportContext


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value (``file=``, ``title=``...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int) -> str:
    """One workflow command line, e.g. ``::warning file=a.py,line=3::text``."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _annotation(outcome: Outcome, infos: Mapping[str, RuleInfo], context: ReportContext) -> str:
    f = outcome.finding
    level = "error" if outcome.severity == "error" else "warning"
    message = f.message
    info = infos.get(f.code)
    if info is not None and info.use_instead:
        message += f"\nExample fix:\n{info.use_instead}"
    tests = len(outcome.nodeids)
    if tests:
        message += f"\nAffects {tests} test{'s' if tests != 1 else ''}"
        if outcome.failing:
            message += f" ({len(outcome.failing)} fail in strict mode)"
    properties: dict[str, str | int] = {"file": context.repo_path(f.path), "line": f.line}
    if f.col > 0:
        properties["col"] = f.col
    if f.end_line > f.line:
        properties["endLine"] = f.end_line
    properties["title"] = f"{f.code} {outcome.name}"
    return command(level, message, **properties)


def lines(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> list[str]:
    """The workflow commands, one per line."""
    out = [_annotation(o, infos, context) for o in result.outcomes if o.status == "new"]
    for outcome in result.session_outcomes:
        f = outcome.finding
        level = "error" if outcome.severity == "error" else "warning"
        out.append(command(level, f.message, title=f"{f.code} {outcome.name}"))
    summary = (
        f"compliance {result.compliance:.1f}% ({result.compliant}/{result.tests} checked tests "
        f"compliant); violations: {result.count('new')} new, {result.count('known')} known, "
        f"{result.count('exempted')} exempted"
    )
    if result.stale:
        summary += (
            f"; {len(result.stale)} stale baseline entries (fixed): run with "
            "--ssot-update-baseline to drop them"
        )
    out.append(command("notice", summary, title="SSOT compliance"))
    if config.fail_under and result.below(config.fail_under):
        out.append(
            command(
                "error",
                f"SSOT compliance {result.compliance:.1f}% is below fail_under "
                f"{config.fail_under:g}%",
                title="SSOT compliance",
            )
        )
    return out


def render(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The annotations as text, each command on its own line."""
    return "".join(line + "\n" for line in lines(result, config, infos, context=context))
