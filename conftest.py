"""Shared settings for pytest-ssot's own test suite (run with -p no:ssot, see pyproject)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Loaded once for the whole run: pytester's in-process runs drop the modules first imported
# inside them, so each run would load a plugin module (and an SSOTWarning class) of its own,
# while pytest caches each parsed `-W` filter with its class. A run given
# `-W error::pytest_ssot.SSOTWarning` after another one in the same process then filtered
# the earlier run's class and let its own warnings through (a flaky failure under -n 2).
import pytest_ssot.plugin  # noqa: F401

# "ci" keeps property tests quick on the 2-core CI machine; "long" is for fuzzing by hand:
# HYPOTHESIS_PROFILE=long python -m pytest -p no:ssot tests/test_fuzz.py
# (SSOT_FUZZ_EXAMPLES=N sets its examples per test; 20,000 takes hours on two cores).
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("SSOT_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
