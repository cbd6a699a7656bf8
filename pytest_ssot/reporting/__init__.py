"""Reporters render a finished :class:`~pytest_ssot.policy.Result`; they decide nothing.

Every format has the same entry point, so the plugin and the CLI produce identical reports::

    from pytest_ssot import reporting
    text = reporting.render("sarif", result, config, infos, version)

``context`` carries what is not in the result: where the rootdir sits in the repository (SARIF
and GitHub paths are repository-relative), the session history for the HTML trend chart, the
commit and the time of the run.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from pytest_ssot.config import Config
from pytest_ssot.model import RuleInfo
from pytest_ssot.policy import Result


@dataclasses.dataclass(frozen=True)
class ReportContext:
    """What a report needs beyond the result itself."""

    # The rootdir relative to the repository root, with "/" ("" when they are the same), so
    # paths in SARIF and GitHub annotations resolve against the repository.
    source_prefix: str = ""
    history: tuple[Mapping[str, Any], ...] = ()  # --ssot-history records, oldest first
    commit: str | None = None
    generated: str | None = None  # ISO 8601 time of the run
    project: str = ""  # a display name (the rootdir's name)

    def repo_path(self, path: str) -> str:
        """``path`` (rootdir-relative) relative to the repository root; a path outside the
        rootdir stays absolute."""
        prefix = self.source_prefix.strip("/")
        if not prefix or not path or path.startswith("/"):
            return path
        return f"{prefix}/{path}"


DEFAULT_CONTEXT = ReportContext()


class Renderer(Protocol):
    def __call__(
        self,
        result: Result,
        config: Config,
        infos: Mapping[str, RuleInfo],
        version: str,
        *,
        context: ReportContext = DEFAULT_CONTEXT,
    ) -> str: ...


#: format name -> (module, whether the format writes to a file)
FORMATS: dict[str, tuple[str, bool]] = {
    "json": ("pytest_ssot.reporting.jsonreport", True),
    "sarif": ("pytest_ssot.reporting.sarif", True),
    "markdown": ("pytest_ssot.reporting.markdown", True),
    "html": ("pytest_ssot.reporting.html", True),
    "github": ("pytest_ssot.reporting.github", False),
}


def renderer(fmt: str) -> Renderer:
    """The ``render`` function of one format (imported on first use: html is not small)."""
    module_name, _ = FORMATS[fmt]
    module = importlib.import_module(module_name)
    function: Renderer = module.render
    return function


def render(
    fmt: str,
    result: Result,
    config: Config,
    infos: Mapping[str, RuleInfo],
    version: str,
    *,
    context: ReportContext = DEFAULT_CONTEXT,
) -> str:
    """The report in format ``fmt`` (a key of :data:`FORMATS`) as text."""
    return renderer(fmt)(result, config, infos, version, context=context)
