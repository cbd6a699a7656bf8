"""pytest-ssot: make a team's single-source-of-truth test infrastructure the only way to test.

``SSOTWarning`` subclasses ``pytest.PytestWarning``, so it is loaded lazily: the CLI and the pure
core import this package without importing pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_ssot._version import __version__
from pytest_ssot.errors import (
    ConfigError,
    EnvAccessError,
    RuntimeViolationError,
    SourceAccessError,
    SSOTError,
)

if TYPE_CHECKING:
    from pytest_ssot.plugin import SSOTWarning

__all__ = [
    "ConfigError",
    "EnvAccessError",
    "RuntimeViolationError",
    "SSOTError",
    "SSOTWarning",
    "SourceAccessError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "SSOTWarning":
        from pytest_ssot.plugin import SSOTWarning

        return SSOTWarning
    raise AttributeError(f"module 'pytest_ssot' has no attribute {name!r}")
