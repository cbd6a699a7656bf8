"""The team's unified test runner: every official run goes through here."""

import os
import sys

import pytest

if __name__ == "__main__":
    os.environ["PYTEST_SSOT_RUNNER"] = "unified"  # the one line that marks official runs
    sys.exit(pytest.main(["-p", "ssot", *sys.argv[1:]]))
