"""Shared settings for pytest-ssot's own test suite (run with -p no:ssot, see pyproject)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
