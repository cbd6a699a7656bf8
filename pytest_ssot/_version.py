"""The installed version, in one place: the build reads it from here (``pyproject.toml``
names it), so the package never asks the distribution metadata (a directory search and an
e-mail header parse on every import)."""

__version__ = "0.1.0"
