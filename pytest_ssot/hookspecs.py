"""pytest-ssot's own hooks, registered through ``pytest_addhooks``.

Implement them in a ``conftest.py`` or a plugin to add a team's own SSOT checks::

    def pytest_ssot_rules(config, ssot_config):
        return [NoRawSqlRule()]

    def pytest_ssot_violation(finding, config):
        if finding.path.startswith("tests/legacy/"):
            return False  # drop it
        return None  # keep it as it is
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_ssot.config import Config as SSOTConfig
    from pytest_ssot.model import Finding
    from pytest_ssot.rules import Rule


def pytest_ssot_rules(config: pytest.Config, ssot_config: SSOTConfig) -> list[Rule]:
    """Return rule objects to add to the session (all implementations are collected).

    A rule has ``info`` (a :class:`pytest_ssot.model.RuleInfo`), ``watched`` (dotted names
    whose references the scanner records for it, e.g. ``("requests.get",)``) and
    ``check(facts) -> Iterable[Finding]``; the built-in rules are contributed the same way.
    """
    return []


@pytest.hookspec(firstresult=True)
def pytest_ssot_violation(finding: Finding, config: pytest.Config) -> Finding | bool | None:
    """See each violation before policy applies: return ``False`` to drop it, a new
    :class:`~pytest_ssot.model.Finding` (e.g. ``dataclasses.replace`` with a richer message) to
    replace it, or ``None`` to keep it unchanged. The first non-``None`` answer wins."""
    return None
