"""The HTML report: one self-contained page a person would rather look at than read.

Static first: every number, chart (inline SVG) and table is rendered here, so the page works
where JavaScript is blocked (many CI artifact viewers). A small inline script only adds
filtering of the violations table, with the filter kept in the URL (``#status=new&rule=SSOT002``)
so a view can be shared. No network: no external fonts, scripts, styles or images, and a
Content-Security-Policy that allows only the page's own script (by hash), so even text that
escaped escaping could not run. Every piece of text from the suite goes through ``html.escape``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Outcome, Result, TierStats
from pytest_ssot.reporting import DEFAULT_CONTEXT, ReportContext
from pytest_ssot.reporting.history import trend

MAX_BARS = 30  # directories in the per-directory chart
MAX_NODEIDS = 50  # affected tests listed per violation
WORST_FILES = 15
_STATUS_ORDER = {"new": 0, "known": 1, "exempted": 2}
_PALETTE = ("#2563eb", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#dc2626")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def esc_path(path: str) -> str:
    """A path that may wrap after each "/" in a narrow column (and nowhere else)."""
    return esc(path).replace("/", "/<wbr>")


def tone(compliance: float) -> str:
    """The colour class of a compliance figure."""
    if compliance >= 90:
        return "good"
    if compliance >= 60:
        return "fair"
    return "poor"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _num(value: float) -> str:
    """SVG coordinates: short and locale-free."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    tests: int
    compliant: int
    detail: str = ""

    @property
    def compliance(self) -> float:
        return TierStats(self.tests, self.compliant).compliance


def directories(result: Result, limit: int = MAX_BARS) -> list[Bar]:
    """Compliance per directory, at the shallowest depth where the suite splits in two."""
    files = result.by_file
    if not files:
        return []
    parts = {path: posixpath.dirname(path).split("/") if "/" in path else [] for path in files}
    deepest = max(len(p) for p in parts.values())
    common = 0
    first = next(iter(parts.values()))
    while common < len(first) and all(
        len(p) > common and p[common] == first[common] for p in parts.values()
    ):
        common += 1
    depth = common + 1
    while True:
        groups: dict[str, list[int]] = {}
        for path, stats in files.items():
            key = "/".join(parts[path][:depth]) or "."
            group = groups.setdefault(key, [0, 0])
            group[0] += stats.tests
            group[1] += stats.compliant
        if len(groups) > 1 or depth >= deepest:
            break
        depth += 1
    bars = [Bar(name, tests, compliant) for name, (tests, compliant) in sorted(groups.items())]
    if len(bars) > limit:
        bars = sorted(sorted(bars, key=lambda b: -b.tests)[:limit], key=lambda b: b.label)
    return bars


def _tier_mode(config: Config, name: str) -> str:
    if config.mode_override:
        return config.mode_override
    for tier in config.tiers:
        if tier.name == name:
            return tier.mode or config.mode
    return config.mode


def _short(label: str, width: int = 30) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1) :]


def bar_chart(
    name: str, title: str, bars: Sequence[Bar], *, threshold: float = 0.0, label_width: int = 170
) -> str:
    """Horizontal compliance bars (0-100 %), one per row, with a tooltip each."""
    if not bars:
        return ""
    row, bar_h, width, value_w = 30, 18, 560, 110
    track = width - label_width - value_w
    height = row * len(bars) + 24
    out = [
        f'<svg class="chart" data-chart="{esc(name)}" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{esc(title)}">'
    ]
    for i, bar in enumerate(bars):
        y = 8 + i * row
        filled = track * bar.compliance / 100
        out.append(
            f'<g class="bar" data-label="{esc(bar.label)}" data-compliance="'
            f'{bar.compliance:.1f}" data-tests="{bar.tests}">'
            f"<title>{esc(bar.label)}: {_pct(bar.compliance)} ({bar.compliant}/{bar.tests} "
            f"tests compliant){esc(bar.detail)}</title>"
            f'<text class="label" x="{label_width - 10}" y="{y + 13}" text-anchor="end">'
            f"{esc(_short(bar.label, max(8, label_width // 8)))}</text>"
            f'<rect class="track" x="{label_width}" y="{y}" width="{track}" '
            f'height="{bar_h}" rx="4"/>'
            f'<rect class="fill {tone(bar.compliance)}" x="{label_width}" y="{y}" '
            f'width="{_num(filled)}" height="{bar_h}" rx="4"/>'
            f'<text class="value" x="{label_width + track + 10}" y="{y + 13}">'
            f'{_pct(bar.compliance)} <tspan class="muted">{bar.compliant}/{bar.tests}'
            f"</tspan></text></g>"
        )
    if threshold > 0:
        x = label_width + track * min(threshold, 100) / 100
        out.append(
            f'<g class="threshold"><title>fail_under {threshold:g}%</title>'
            f'<line x1="{_num(x)}" x2="{_num(x)}" y1="2" y2="{height - 16}"/>'
            f'<text x="{_num(x)}" y="{height - 4}" text-anchor="middle">'
            f"fail_under {threshold:g}%</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def rule_chart(result: Result) -> str:
    """Violations per rule, stacked new / known / exempted."""
    counts: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    for o in result.outcomes:
        counts.setdefault(o.finding.code, Counter())[o.status] += 1
        names[o.finding.code] = o.name
    if not counts:
        return ""
    label_width, width, row, bar_h = 250, 560, 30, 18
    track = width - label_width - 50
    most = max(sum(c.values()) for c in counts.values())
    height = row * len(counts) + 10
    out = [
        f'<svg class="chart" data-chart="rules" viewBox="0 0 {width} {height}" width="100%" '
        'role="img" aria-label="Violations by rule">'
    ]
    for i, code in enumerate(sorted(counts)):
        y = 6 + i * row
        c = counts[code]
        total = sum(c.values())
        x = float(label_width)
        out.append(
            f'<g class="bar" data-code="{esc(code)}" data-total="{total}">'
            f"<title>{esc(code)} {esc(names[code])}: {c['new']} new, {c['known']} known, "
            f"{c['exempted']} exempted</title>"
            f'<text class="label" x="{label_width - 10}" y="{y + 13}" text-anchor="end">'
            f"{esc(code)} {esc(_short(names[code], 26))}</text>"
        )
        for status in ("new", "known", "exempted"):
            w = track * c[status] / most
            if w:
                out.append(
                    f'<rect class="seg {status}" x="{_num(x)}" y="{y}" width="{_num(w)}" '
                    f'height="{bar_h}"/>'
                )
            x += w
        out.append(f'<text class="value" x="{_num(x + 8)}" y="{y + 13}">{total}</text></g>')
    out.append("</svg>")
    return "".join(out)


def trend_chart(records: Sequence[Mapping[str, Any]]) -> str:
    """Compliance over the recorded sessions: the suite as a thick line, each tier thin."""
    if not records:
        return ""
    width, height, left, right, top, bottom = 1000, 280, 44, 170, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(records)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / 100)

    out = [
        f'<svg class="chart" data-chart="trend" data-points="{n}" viewBox="0 0 {width} '
        f'{height}" width="100%" role="img" aria-label="Compliance over time">'
    ]
    for tick in (0, 25, 50, 75, 100):
        out.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{_num(y(tick))}" '
            f'y2="{_num(y(tick))}"/><text class="axis" x="{left - 6}" y="{_num(y(tick) + 4)}" '
            f'text-anchor="end">{tick}%</text>'
        )
    tiers = sorted({t for r in records for t in (r.get("by_tier") or {})})
    series: list[tuple[str, str, list[tuple[int, float]]]] = []
    if len(tiers) > 1:
        for k, tier in enumerate(tiers):
            points = [
                (i, float(r["by_tier"][tier]["compliance"]))
                for i, r in enumerate(records)
                if isinstance((r.get("by_tier") or {}).get(tier), dict)
                and isinstance(r["by_tier"][tier].get("compliance"), (int, float))
            ]
            series.append((tier, _PALETTE[k % len(_PALETTE)], points))
    overall = [(i, float(r["compliance"])) for i, r in enumerate(records)]
    series.append(("suite", "var(--ink)", overall))
    for k, (name, colour, points) in enumerate(series):
        main = k == len(series) - 1
        cls = "line main" if main else "line"
        coords = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in points)
        out.append(
            f'<g class="series" data-series="{esc(name)}"><polyline class="{cls}" '
            f'stroke="{colour}" points="{coords}"/>'
        )
        if main:
            for i, v in points:
                r = records[i]
                commit = str(r.get("commit") or "")[:10]
                out.append(
                    f'<circle class="point" cx="{_num(x(i))}" cy="{_num(y(v))}" r="3.5">'
                    f"<title>{esc(str(r.get('time', ''))[:16].replace('T', ' '))} "
                    f"{esc(commit)}: {_pct(v)} ({esc(r.get('compliant', '?'))}/"
                    f"{esc(r.get('tests', '?'))} tests), {esc(r.get('new', 0))} new</title>"
                    "</circle>"
                )
        legend_y = top + 14 + 18 * k
        out.append(
            f'<line x1="{left + plot_w + 16}" x2="{left + plot_w + 36}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{colour}" class="{cls}"/>'
            f'<text class="legend" x="{left + plot_w + 42}" y="{legend_y}">'
            f"{esc(_short(name, 16))}</text></g>"
        )
    first, last = str(records[0].get("time", ""))[:10], str(records[-1].get("time", ""))[:10]
    out.append(
        f'<text class="axis" x="{left}" y="{height - 10}">{esc(first)}</text>'
        f'<text class="axis" x="{left + plot_w}" y="{height - 10}" text-anchor="end">'
        f"{esc(last)}</text></svg>"
    )
    return "".join(out)


def gauge(compliance: float) -> str:
    """The overall compliance as a ring."""
    radius = 54
    circumference = 2 * 3.14159265 * radius
    filled = circumference * compliance / 100
    return (
        f'<svg class="gauge" data-chart="gauge" viewBox="0 0 140 140" width="140" height="140" '
        f'role="img" aria-label="compliance {_pct(compliance)}">'
        f'<circle class="track" cx="70" cy="70" r="{radius}"/>'
        f'<circle class="ring {tone(compliance)}" cx="70" cy="70" r="{radius}" '
        f'stroke-dasharray="{_num(filled)} {_num(circumference)}" '
        f'transform="rotate(-90 70 70)"/>'
        f'<text x="70" y="78" text-anchor="middle" class="gauge-value">{_pct(compliance)}</text>'
        "</svg>"
    )


def _kpi(key: str, value: object, label: str, sub: str = "", cls: str = "") -> str:
    return (
        f'<div class="kpi {cls}"><div class="kpi-value" data-kpi="{key}">{esc(value)}</div>'
        f'<div class="kpi-label">{esc(label)}</div>'
        + (f'<div class="kpi-sub">{esc(sub)}</div>' if sub else "")
        + "</div>"
    )


def _violation_row(o: Outcome, context: ReportContext) -> str:
    f = o.finding
    where = f"{f.path}:{f.line}"
    tests = ""
    if o.nodeids:
        shown = "".join(f"<li>{esc(n)}</li>" for n in o.nodeids[:MAX_NODEIDS])
        more = len(o.nodeids) - MAX_NODEIDS
        if more > 0:
            shown += f'<li class="muted">… and {more} more</li>'
        failing = f", {len(o.failing)} failing" if o.failing else ""
        tests = (
            f"<details><summary>{len(o.nodeids)} test{'s' if len(o.nodeids) != 1 else ''}"
            f'{failing}</summary><ul class="nodeids">{shown}</ul></details>'
        )
    fix = f'<pre class="fix">{esc(o.use_instead)}</pre>' if o.use_instead else ""
    scope = f' <span class="muted">in {esc(f.scope.dotted)}</span>' if f.scope.qualname else ""
    return (
        f'<tr data-status="{o.status}" data-rule="{esc(f.code)}" data-path="{esc(f.path)}" '
        f'data-tier="{esc(o.tier)}" data-source="{esc(f.source)}">'
        f'<td><span class="badge {o.status}">{o.status}</span>'
        f'<div class="muted small">{esc(o.severity)}</div></td>'
        f'<td><b>{esc(f.code)}</b><div class="muted small">{esc(o.name)}</div></td>'
        f'<td class="loc"><code>{esc_path(where)}</code>{scope}'
        f'<div class="muted small">{esc(o.tier)} · {esc(f.source)}</div></td>'
        f'<td><div class="message">{esc(f.message)}</div>{fix}</td>'
        f"<td>{tests}</td></tr>"
    )


def _table(head: Iterable[str], rows: Iterable[str], attrs: str = "") -> str:
    cells = "".join(f"<th>{esc(h)}</th>" for h in head)
    return f"<table{attrs}><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _worst(result: Result) -> str:
    counts: dict[str, Counter[str]] = {}
    for o in result.outcomes:
        if o.status != "exempted":
            counts.setdefault(o.finding.path, Counter())[o.status] += 1
    rows = []
    for path, total in result.worst_files(WORST_FILES):
        stats = result.by_file.get(path)
        compliance = (
            f'<span class="tone {tone(stats.compliance)}">{_pct(stats.compliance)}</span> '
            f'<span class="muted">{stats.compliant}/{stats.tests}</span>'
            if stats
            else '<span class="muted">no tests of its own</span>'
        )
        rows.append(
            f'<tr data-path="{esc(path)}"><td><a href="#path={esc(path)}" class="filter-link" '
            f'data-filter-path="{esc(path)}"><code>{esc_path(path)}</code></a></td>'
            f'<td class="num">{total}</td><td class="num">{counts[path]["new"]}</td>'
            f'<td class="num">{counts[path]["known"]}</td><td>{compliance}</td></tr>'
        )
    if not rows:
        return ""
    table = _table(("file", "violations", "new", "known", "compliant tests"), rows, ' id="worst"')
    return f'<div class="scroll">{table}</div>'


def _rules_reference(infos: Mapping[str, RuleInfo], seen: set[str]) -> str:
    parts = []
    for code in sorted(infos):
        info = infos[code]
        open_attr = " open" if code in seen and len(seen) <= 2 else ""
        parts.append(
            f'<details class="rule" id="rule-{esc(code)}"{open_attr}><summary><b>{esc(code)}</b> '
            f'{esc(info.name)} <span class="muted">{esc(info.summary)}</span></summary>'
            f'<p>{esc(info.why)}</p><div class="pair"><div><h4>Example</h4>'
            f"<pre>{esc(info.example)}</pre></div><div><h4>Use instead</h4>"
            f"<pre>{esc(info.use_instead)}</pre></div></div>"
            + (f'<p class="muted">Options: {esc(info.options)}</p>' if info.options else "")
            + "</details>"
        )
    return "".join(parts)


def _lists(result: Result) -> str:
    sections = []
    if result.stale:
        items = "".join(
            f"<li><b>{esc(e.get('code', ''))}</b> <code>{esc(e.get('path', ''))}:"
            f"{esc(e.get('line', ''))}</code> {esc(e.get('message', ''))}</li>"
            for e in result.stale
        )
        sections.append(
            f'<details id="stale" open><summary>Stale baseline entries ({len(result.stale)}): '
            f"fixed, dropped at the next <code>--ssot-update-baseline</code></summary>"
            f"<ul>{items}</ul></details>"
        )
    if result.expired:
        items = "".join(
            f"<li><code>{esc(e.origin)}</code> until {esc(e.until)}: {esc(e.reason)}</li>"
            for e in result.expired
        )
        sections.append(
            f'<details id="expired"><summary>Expired exemptions ({len(result.expired)})</summary>'
            f"<ul>{items}</ul></details>"
        )
    if result.invalid_exemptions:
        items = "".join(
            f"<li><code>{esc(w)}</code>: {esc(why)}</li>" for w, why in result.invalid_exemptions
        )
        sections.append(
            f'<details id="invalid"><summary>Invalid exemptions '
            f"({len(result.invalid_exemptions)})</summary><ul>{items}</ul></details>"
        )
    if result.unused_ignores:
        items = "".join(
            f"<li><code>{esc(path)}:{line}</code></li>" for path, line in result.unused_ignores
        )
        sections.append(
            f'<details id="unused"><summary>Unused <code>ssot: ignore</code> comments '
            f"({len(result.unused_ignores)})</summary><ul>{items}</ul></details>"
        )
    if result.unchecked:
        items = "".join(
            f"<li><code>{esc(u.path)}</code>: {esc(u.reason)}</li>" for u in result.unchecked
        )
        sections.append(
            f'<details id="unchecked"><summary>Files not checked ({len(result.unchecked)})'
            f"</summary><ul>{items}</ul></details>"
        )
    return "".join(sections)


def page(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The whole page."""
    outcomes = sorted(
        result.outcomes,
        key=lambda o: (_STATUS_ORDER[o.status], o.finding.path, o.finding.line, o.finding.code),
    )
    fail = bool(config.fail_under) and result.below(config.fail_under)
    project = context.project or "test suite"
    tier_bars = [
        Bar(name, s.tests, s.compliant, f"; mode {_tier_mode(config, name)}")
        for name, s in result.by_tier.items()
    ]
    dirs = directories(result)
    points = trend(context.history)
    meta = [f"pytest-ssot {version}", f"mode {config.effective_mode}"]
    if context.generated:
        meta.append(context.generated.replace("T", " ")[:16] + " UTC")
    if context.commit:
        meta.append(f"commit {context.commit[:12]}")
    session = "".join(
        f'<div class="alert"><b>{esc(o.finding.code)} {esc(o.name)}</b>: '
        f"{esc(o.finding.message)}</div>"
        for o in result.session_outcomes
    )
    if fail:
        session += (
            f'<div class="alert" id="fail-under">Compliance {_pct(result.compliance)} is below '
            f"<code>fail_under</code> {config.fail_under:g}%: the session fails.</div>"
        )
    kpis = "".join(
        [
            _kpi("tests", result.tests, "checked tests"),
            _kpi("compliant", result.compliant, "compliant tests"),
            _kpi("new", result.count("new"), "new violations", "fail strict tiers", "new"),
            _kpi("known", result.count("known"), "known violations", "in the baseline", "known"),
            _kpi("exempted", result.count("exempted"), "exempted", "markers and ignores"),
            _kpi("stale", len(result.stale), "stale baseline entries", "fixed since"),
        ]
    )
    tier_section = (
        f'<section class="card"><h2>Compliance by tier</h2>'
        f"{bar_chart('tiers', 'Compliance by tier', tier_bars, threshold=config.fail_under)}"
        "</section>"
        if tier_bars
        else ""
    )
    dir_section = (
        f'<section class="card"><h2>Compliance by directory</h2>'
        f"{bar_chart('directories', 'Compliance by directory', dirs, label_width=200)}</section>"
        if dirs
        else ""
    )
    if len(points) > 1:
        trend_body = trend_chart(points)
    elif points:
        trend_body = (
            trend_chart(points) + '<p class="muted">One session recorded so far; the trend '
            "grows with every run that passes <code>--ssot-history</code>.</p>"
        )
    else:
        trend_body = ""
    trend_section = (
        f'<section class="card wide"><h2>Trend</h2>{trend_body}</section>' if trend_body else ""
    )
    rules_chart = rule_chart(result)
    rules_section = (
        '<section class="card"><h2>Violations by rule</h2>'
        '<div class="legend-row"><span class="key new"></span>new '
        '<span class="key known"></span>known <span class="key exempted"></span>exempted</div>'
        f"{rules_chart}</section>"
        if rules_chart
        else ""
    )
    worst = _worst(result)
    worst_section = (
        f'<section class="card"><h2>Files with most violations</h2>{worst}</section>'
        if worst
        else ""
    )
    rows = [_violation_row(o, context) for o in outcomes]
    violations = (
        _table(("status", "rule", "where", "message and fix", "affects"), rows, ' id="violations"')
        if rows
        else '<p class="empty">No violations. Every checked test uses the SSOT infrastructure.</p>'
    )
    script = _SCRIPT
    hashes = " ".join(f"'sha256-{_digest(code)}'" for code in (_EARLY_SCRIPT, script))
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {hashes}; base-uri 'none'; form-action 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="en" data-js="off">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<meta name="generator" content="pytest-ssot {esc(version)}">
<title>SSOT compliance {_pct(result.compliance)} · {esc(project)}</title>
<style>{_CSS}</style>
<script>{_EARLY_SCRIPT}</script>
</head>
<body>
<header class="hero">
{gauge(result.compliance)}
<div>
<h1>SSOT compliance <span class="tone {tone(result.compliance)}" data-kpi="compliance">{
        _pct(result.compliance)
    }</span></h1>
<p class="lead"><b>{result.compliant}</b> of <b>{result.tests}</b> checked tests in
<b>{esc(project)}</b> use only the team's SSOT test infrastructure.</p>
<p class="muted small">{" · ".join(esc(m) for m in meta)}</p>
</div>
</header>
<main>
{session}
<section class="kpis">{kpis}</section>
<div class="grid">
{tier_section}
{rules_section}
{trend_section}
{dir_section}
{worst_section}
</div>
<section class="card wide" id="violations-section">
<h2>Violations <span class="muted" id="violation-count">{len(rows)}</span></h2>
<div id="filters"></div>
{violations}
</section>
<section class="card wide">{_lists(result)}
<h2>Rules</h2>
{_rules_reference(infos, {o.finding.code for o in result.outcomes})}
</section>
</main>
<footer class="muted small">Generated by pytest-ssot {esc(version)}. Self-contained: this file
loads nothing from the network.</footer>
<script>{script}</script>
</body>
</html>
"""


def _digest(code: str) -> str:
    """A script's CSP hash: only the page's own scripts may run."""
    return base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii")


def render(
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The HTML page as text."""
    return page(result, config, infos, version, context=context)


_CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;
--good:#16a34a;--fair:#d97706;--poor:#dc2626;--new:#dc2626;--known:#9ca3af;--exempted:#60a5fa;
--track:#eef0f3;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--card:#1b1e25;--ink:#e5e7eb;
--muted:#9ca3af;--line:#2d323c;--track:#262a33}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink)}
.hero{display:flex;gap:28px;align-items:center;padding:28px 40px;background:var(--card);
border-bottom:1px solid var(--line)}
h1{margin:0 0 6px;font-size:28px}h2{font-size:17px;margin:0 0 14px}h4{margin:8px 0 4px}
.lead{margin:0 0 6px;font-size:16px}.muted{color:var(--muted)}.small{font-size:12.5px}
main{padding:24px 40px;max-width:1500px;margin:0 auto}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:14px;
margin-bottom:18px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.kpi-value{font-size:28px;font-weight:650}.kpi-label{font-weight:550}
.kpi-sub{color:var(--muted);font-size:12.5px}.kpi.new .kpi-value{color:var(--new)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px;
align-items:start}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;
margin-bottom:18px}.wide{grid-column:1/-1}
.chart{display:block;max-width:100%;height:auto;font-size:13px}
.chart .label,.chart .value,.chart .axis,.chart .legend{fill:var(--ink)}
.chart .muted{fill:var(--muted)}.chart .track{fill:var(--track)}
.fill.good,.ring.good{fill:var(--good);stroke:var(--good)}
.fill.fair,.ring.fair{fill:var(--fair);stroke:var(--fair)}
.fill.poor,.ring.poor{fill:var(--poor);stroke:var(--poor)}
.fill{stroke:none!important}.tone.good{color:var(--good)}.tone.fair{color:var(--fair)}
.tone.poor{color:var(--poor)}
.gauge .track{fill:none;stroke:var(--track);stroke-width:14}
.gauge .ring{fill:none!important;stroke-width:14;stroke-linecap:round}
.gauge-value{font-size:22px;font-weight:700;fill:var(--ink)}
.threshold line{stroke:var(--ink);stroke-dasharray:4 3}.threshold text{fill:var(--ink);
font-size:11px}
.seg.new{fill:var(--new)}.seg.known{fill:var(--known)}.seg.exempted{fill:var(--exempted)}
.grid line.grid,.chart .grid{stroke:var(--line)}.line{fill:none;stroke-width:1.6}
.line.main{stroke-width:3}.point{fill:var(--ink)}
.legend-row{font-size:12.5px;color:var(--muted);margin:-6px 0 8px}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}
.key.new{background:var(--new)}.key.known{background:var(--known)}
.key.exempted{background:var(--exempted)}
table{width:100%;border-collapse:collapse;font-size:13.5px}
th,td{text-align:left;padding:8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--track);padding:8px 10px;border-radius:6px;overflow:auto;margin:6px 0 0;
white-space:pre-wrap}
pre.fix{border-left:3px solid var(--good)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;
color:#fff}.badge.new{background:var(--new)}.badge.known{background:var(--known)}
.badge.exempted{background:var(--exempted)}
.nodeids{margin:6px 0 0;padding-left:18px;font:12px ui-monospace,monospace;
overflow-wrap:anywhere}
.message{overflow-wrap:break-word}td.loc code{overflow-wrap:break-word}
.alert{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;border-radius:8px;
padding:10px 14px;margin-bottom:14px}
details{margin:6px 0}summary{cursor:pointer}.rule p{margin:8px 0}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:14px}
#filters{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:12px}
#show-more{margin-top:10px}
html[data-js="loading"] #violations tbody tr:nth-child(n+201){display:none}
#filters select,#filters input{font:inherit;padding:4px 8px;border:1px solid var(--line);
border-radius:6px;background:var(--card);color:var(--ink)}
a.filter-link{color:inherit}.scroll{overflow-x:auto}
#worst td:first-child{overflow-wrap:break-word}footer{padding:10px 40px 30px}
.empty{color:var(--good);font-weight:600}
"""

# Runs before the body is parsed, so the browser never lays out more than the first page of a
# long violations table (10,000 rows take seconds); without JavaScript it never runs and every
# row shows.
_EARLY_SCRIPT = 'document.documentElement.setAttribute("data-js", "loading");'

# Filtering only: the page is complete without it. Builds every element with textContent, so
# values read from the table (already text) can never become markup.
_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("violations");
  var holder = document.getElementById("filters");
  var counter = document.getElementById("violation-count");
  if (!table || !holder) { document.documentElement.setAttribute("data-js", "ready"); return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var fields = [["status", "status"], ["rule", "rule"], ["tier", "tier"]];
  var state = {status: "", rule: "", tier: "", path: "", q: ""};
  var selects = {};
  // Laying out ten thousand rows takes a browser seconds: show a page, then more on demand.
  var PAGE = 200;
  var limit = PAGE;
  var more = document.createElement("button");
  more.type = "button"; more.id = "show-more"; more.hidden = true;
  more.addEventListener("click", function () { limit += PAGE; apply(false); });
  table.parentNode.insertBefore(more, table.nextSibling);
  function distinct(key) {
    var seen = {};
    rows.forEach(function (r) { seen[r.getAttribute("data-" + key)] = true; });
    return Object.keys(seen).sort();
  }
  fields.forEach(function (field) {
    var select = document.createElement("select");
    select.setAttribute("aria-label", field[1]);
    select.id = "filter-" + field[0];
    var any = document.createElement("option");
    any.value = ""; any.textContent = "every " + field[1];
    select.appendChild(any);
    distinct(field[0]).forEach(function (value) {
      var option = document.createElement("option");
      option.value = value; option.textContent = value;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      state[field[0]] = select.value; limit = PAGE; apply(true);
    });
    selects[field[0]] = select;
    holder.appendChild(select);
  });
  var search = document.createElement("input");
  search.type = "search"; search.id = "filter-q";
  search.placeholder = "file, message or test";
  search.addEventListener("input", function () {
    state.q = search.value; limit = PAGE; apply(true);
  });
  holder.appendChild(search);
  var clear = document.createElement("button");
  clear.type = "button"; clear.textContent = "clear"; clear.id = "filter-clear";
  clear.addEventListener("click", function () {
    Object.keys(state).forEach(function (k) { state[k] = ""; });
    limit = PAGE;
    apply(true);
  });
  holder.appendChild(clear);
  function matches(row) {
    if (state.status && row.getAttribute("data-status") !== state.status) return false;
    if (state.rule && row.getAttribute("data-rule") !== state.rule) return false;
    if (state.tier && row.getAttribute("data-tier") !== state.tier) return false;
    var path = row.getAttribute("data-path");
    if (state.path && path !== state.path && path.indexOf(state.path + "/") !== 0) return false;
    if (state.q && row.textContent.toLowerCase().indexOf(state.q.toLowerCase()) < 0) return false;
    return true;
  }
  function apply(writeHash) {
    var matched = 0;
    rows.forEach(function (row) {
      var ok = matches(row);
      if (ok) matched += 1;
      row.hidden = !(ok && matched <= limit);
    });
    Object.keys(selects).forEach(function (k) { selects[k].value = state[k]; });
    if (search.value !== state.q) search.value = state.q;
    counter.textContent =
      matched === rows.length ? String(matched) : matched + " of " + rows.length;
    more.hidden = matched <= limit;
    more.textContent = "show " + Math.min(PAGE, matched - limit) + " more (" +
      (matched - limit) + " not shown)";
    if (writeHash) {
      var parts = [];
      Object.keys(state).forEach(function (k) {
        if (state[k]) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(state[k]));
      });
      try {
        history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname);
      } catch (e) { /* some browsers refuse it for file: pages; the filter still applies */ }
    }
  }
  function readHash() {
    var hash = location.hash.replace(/^#/, "");
    Object.keys(state).forEach(function (k) { state[k] = ""; });
    hash.split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at < 0) return;
      try {
        var key = decodeURIComponent(pair.slice(0, at));
        if (Object.prototype.hasOwnProperty.call(state, key)) {
          state[key] = decodeURIComponent(pair.slice(at + 1));
        }
      } catch (e) { /* a malformed %-escape: ignore that pair */ }
    });
    limit = PAGE;
    apply(false);
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-filter-path]") : null;
    if (!link) return;
    event.preventDefault();
    Object.keys(state).forEach(function (k) { state[k] = ""; });
    state.path = link.getAttribute("data-filter-path");
    limit = PAGE;
    apply(true);
    document.getElementById("violations-section").scrollIntoView();
  });
  window.addEventListener("hashchange", readHash);
  readHash();
  document.documentElement.setAttribute("data-js", "ready");
})();
"""
