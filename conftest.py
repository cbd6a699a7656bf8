"""Shared settings for pytest-ssot's own test suite (run with -p no:ssot, see pyproject)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "ci" keeps property tests quick on the 2-core CI machine; "long" is for fuzzing by hand:
# HYPOTHESIS_PROFILE=long python -m pytest tests -k fuzz
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
