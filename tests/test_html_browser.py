"""The HTML report in a real browser: headless Chromium loads the file with JavaScript on and
the tests read the rendered DOM (``--dump-dom``) and a screenshot.

Needs a Chromium binary (Debian: ``apt-get install chromium``; ``.ci/run`` installs it). Set
``SSOT_UPDATE_SCREENSHOT=1`` to refresh ``docs/html-report.png`` from the screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_reports import HOSTILE_ID, REPORTS, build_every_rule_suite, run_pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
DOCS_SCREENSHOT = Path(__file__).parent.parent / "docs" / "html-report.png"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no Chromium binary on PATH (tried " + ", ".join(BROWSERS) + "); on Debian: "
        "apt-get install chromium"
    )


class Page:
    """What a browser made of the report."""

    def __init__(self, browser: str, root: Path) -> None:
        self.browser = browser
        self.root = root
        self.file = root / "out" / "report.html"
        self.report: dict[str, Any] = json.loads((root / "out" / "report.json").read_text())

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        profile = self.root / "chromium-profile"
        completed = subprocess.run(
            [self.browser, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed

    def dom(self, fragment: str = "") -> Dom:
        url = self.file.as_uri() + (f"#{fragment}" if fragment else "")
        return Dom(self.run("--dump-dom", url).stdout)


class Dom(HTMLParser):
    """The dumped DOM as a flat list of elements, each with the text right after its tag."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.source = text
        self.elements: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self.elements:
            self.elements[-1]["text"] += data

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.elements
            if (tag is None or e["tag"] == tag)
            and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def with_attr(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.elements if name in e["attrs"]]


@pytest.fixture(scope="module")
def page(browser: str, tmp_path_factory: pytest.TempPathFactory) -> Page:
    root = tmp_path_factory.mktemp("browser") / "chat_backend"  # the name the page shows
    root.mkdir()
    build_every_rule_suite(root)
    run_pytest(root, *REPORTS)
    return Page(browser, root)


@pytest.fixture(scope="module")
def dom(page: Page) -> Dom:
    return page.dom()


def test_the_browser_runs_the_pages_own_script_and_builds_the_filters(dom: Dom) -> None:
    assert dom.find("html")[0]["attrs"]["data-js"] == "ready"
    statuses = [e["attrs"]["value"] for e in dom.elements if e["tag"] == "option"]
    assert {"new", "known", "exempted", "SSOT002", "mission_critical"} <= set(statuses)
    assert dom.find("input", id="filter-q")


def test_the_rendered_numbers_match_the_json_report(page: Page, dom: Dom) -> None:
    summary = page.report["summary"]
    kpis = {e["attrs"]["data-kpi"]: e["text"].strip() for e in dom.with_attr("data-kpi")}
    assert kpis["compliance"] == f"{summary['compliance']:.1f}%"
    for key in ("tests", "compliant", "new", "known", "exempted"):
        assert kpis[key] == str(summary[key]), key
    assert kpis["stale"] == str(len(page.report["stale"]))
    tiers = {
        e["attrs"]["data-label"]: float(e["attrs"]["data-compliance"])
        for e in dom.find("g", **{"class": "bar"})
        if "data-compliance" in e["attrs"]
    }
    for tier, stats in summary["by_tier"].items():
        assert tiers[tier] == stats["compliance"]
    rows = dom.with_attr("data-status")
    assert len([r for r in rows if r["tag"] == "tr"]) == summary["violations"]
    counter = dom.find(id="violation-count")[0]["text"].strip()
    assert counter == str(summary["violations"])


def test_the_charts_are_drawn(dom: Dom) -> None:
    charts = {e["attrs"]["data-chart"]: e for e in dom.find("svg")}
    assert {"gauge", "tiers", "directories", "rules", "trend"} <= set(charts)
    fills = [e for e in dom.find("rect") if "fill" in e["attrs"].get("class", "")]
    assert len(fills) >= 4  # two tiers and two directories
    assert dom.find("polyline")  # the trend lines
    assert charts["trend"]["attrs"]["data-points"] == "2"


def test_a_filter_in_the_address_shows_only_matching_violations(page: Page) -> None:
    filtered = page.dom("status=new")
    rows = [e for e in filtered.with_attr("data-status") if e["tag"] == "tr"]
    shown = [r for r in rows if "hidden" not in r["attrs"]]
    summary = page.report["summary"]
    assert len(rows) == summary["violations"]
    assert {r["attrs"]["data-status"] for r in shown} == {"new"}
    assert len(shown) == summary["new"]
    counter = filtered.find(id="violation-count")[0]["text"].strip()
    assert counter == f"{summary['new']} of {summary['violations']}"
    assert filtered.find("select", id="filter-status")


def test_the_hostile_test_name_shows_as_text_and_runs_nothing(dom: Dom) -> None:
    assert any(HOSTILE_ID in e["text"] for e in dom.find("li"))
    assert len(dom.find("script")) == 2  # only the page's own two
    title = dom.find("title")[0]["text"]
    assert title.startswith("SSOT compliance ")
    assert "pwned" not in title
    assert not dom.find("img")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_screenshot_of_the_report_for_the_docs(page: Page, tmp_path: Path) -> None:
    shot = tmp_path / "html-report.png"
    page.run("--window-size=1280,1700", f"--screenshot={shot}", page.file.as_uri())
    assert _png_size(shot) == (1280, 1700)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
    if os.environ.get("SSOT_UPDATE_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)


def test_a_long_violation_list_shows_a_page_and_a_button_for_more(
    browser: str, tmp_path: Path
) -> None:
    from pytest_ssot import reporting
    from pytest_ssot.config import Config
    from pytest_ssot.model import Finding
    from pytest_ssot.policy import SessionData, TestRecord, evaluate

    data = SessionData()
    for i in range(450):
        path = f"tests/test_{i}.py"
        data.tests[f"{path}::test_x"] = TestRecord(path)
        data.add(Finding("SSOT002", path, 3, 1, "os.environ", snippet="x"), [f"{path}::test_x"])
    config = Config(root=Path("."))
    (tmp_path / "out").mkdir()
    report = reporting.render("html", evaluate(data, config, {}), config, {}, "1.0")
    (tmp_path / "out" / "report.html").write_text(report, encoding="utf-8")
    (tmp_path / "out" / "report.json").write_text("{}", encoding="utf-8")
    dom = Page(browser, tmp_path).dom()
    rows = [e for e in dom.with_attr("data-status") if e["tag"] == "tr"]
    assert len(rows) == 450  # all there, for search and for readers without JavaScript
    assert len([r for r in rows if "hidden" not in r["attrs"]]) == 200
    assert dom.find("button", id="show-more")[0]["text"].strip() == "show 200 more (250 not shown)"
