"""The ``SSOT compliance`` terminal section, as lines of text."""

from __future__ import annotations

from pytest_ssot.policy import Result


def summary_lines(
    result: Result, *, verbosity: int = 0, incomplete: str | None = None
) -> list[str]:
    """The lines of the session-end section; ``verbosity < 0`` (``-q``) keeps the essentials."""
    lines: list[str] = []
    head = (
        f"compliance {result.compliance:.1f}% "
        f"({result.compliant}/{result.tests} checked tests compliant)"
    )
    if incomplete:
        head += f" [incomplete: {incomplete}]"
    lines.append(head)
    lines.append(
        f"violations {len(result.outcomes)}: {result.count('new')} new, "
        f"{result.count('known')} known, {result.count('exempted')} exempted"
    )
    for outcome in result.session_outcomes:
        f = outcome.finding
        lines.append(f"session: {f.code} {f.message} ({outcome.name})")
    if verbosity < 0:
        return lines
    if result.by_rule:
        names = {o.finding.code: o.name for o in result.outcomes}
        lines.append("by rule:")
        lines.extend(
            f"  {code} {names[code]:<26} {count}" for code, count in result.by_rule.items()
        )
    if len(result.by_tier) > 1 or any(t != "default" for t in result.by_tier):
        lines.append("by tier:")
        lines.extend(
            f"  {tier:<20} {stats.compliance:5.1f}%  ({stats.compliant}/{stats.tests})"
            for tier, stats in result.by_tier.items()
        )
    worst = result.worst_files(5)
    if worst:
        lines.append("most violations:")
        lines.extend(f"  {count:4d}  {path}" for path, count in worst)
    if result.unchecked:
        lines.append(f"unchecked files {len(result.unchecked)}:")
        lines.extend(f"  {u.path}: {u.reason}" for u in result.unchecked[:20])
        if len(result.unchecked) > 20:
            lines.append(f"  ... and {len(result.unchecked) - 20} more")
    if result.stale:
        lines.append(f"stale baseline entries (fixed) {len(result.stale)}:")
        lines.extend(
            f"  {e.get('code')} {e.get('path')}:{e.get('line')} {e.get('message', '')}"
            for e in result.stale[:20]
        )
    if result.expired:
        lines.append(f"expired exemptions {len(result.expired)}:")
        lines.extend(f"  {e.origin} until {e.until}: {e.reason}" for e in result.expired)
    if result.invalid_exemptions:
        lines.append(f"invalid exemptions {len(result.invalid_exemptions)}:")
        lines.extend(f"  {where}: {why}" for where, why in result.invalid_exemptions)
    if result.unused_ignores:
        lines.append(f"unused ssot: ignore comments {len(result.unused_ignores)}:")
        lines.extend(f"  {path}:{line}" for path, line in result.unused_ignores)
    return lines
