"""The ``ssot`` command line (placeholder until the CLI issue lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("ssot: the command line is not available yet", file=sys.stderr)
    return 2
