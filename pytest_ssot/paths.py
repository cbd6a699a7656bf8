"""Path helpers shared by config, scanner and policy: globs, relative paths, module names."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.replace("\\", "/").strip("/")
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    # DOTALL: a file name may hold a newline, and must not slip out of its tier or exclude.
    return re.compile("".join(parts), re.DOTALL)


def glob_match(path: str, pattern: str) -> bool:
    """Match a rootdir-relative ``/`` path against a glob with ``**`` support.

    A pattern also matches everything below a directory it matches, so ``tests/critical``
    and ``tests/critical/**`` mean the same; a pattern without ``/`` matches at any depth
    (``conftest.py``, ``*_legacy.py``), as in ``.gitignore``.
    """
    regex = _glob_regex(pattern)
    if "/" not in pattern.strip("/"):
        regex = _glob_regex("**/" + pattern.strip("/"))
    candidate = path
    while candidate:
        if regex.fullmatch(candidate):
            return True
        candidate = candidate.rpartition("/")[0]
    return False


@functools.lru_cache(maxsize=65536)
def any_glob_match(path: str, patterns: tuple[str, ...]) -> bool:
    # Asked per test (tier, exclude) for a few thousand distinct files: remember the answers.
    return any(glob_match(path, pattern) for pattern in patterns)


def relpath(path: Path | str, root: Path) -> str:
    """Rootdir-relative path with ``/``; absolute (still ``/``) when outside the root."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        rel = str(path)
    if rel.startswith(".."):
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def module_name(path: Path, packages: dict[Path, str] | None = None) -> str:
    """The dotted module name a file gets under pytest's rootdir-less ``prepend`` import mode:
    its stem, prefixed by every enclosing directory that is a package (has ``__init__.py``).

    ``packages`` remembers each directory's package name ("" for none) across the calls of
    one run: thousands of test modules share a few hundred directories."""
    package = _package(path.parent, {} if packages is None else packages)
    if path.name == "__init__.py":
        return package
    return f"{package}.{path.stem}" if package else path.stem


def _package(directory: Path, known: dict[Path, str]) -> str:
    name = known.get(directory)
    if name is None:
        name = ""
        if (directory / "__init__.py").is_file():
            parent = directory.parent
            outer = "" if parent == directory else _package(parent, known)
            name = f"{outer}.{directory.name}" if outer else directory.name
        known[directory] = name
    return name


def in_modules(name: str, modules: tuple[str, ...]) -> bool:
    """Whether dotted module ``name`` is one of ``modules`` or inside one of them."""
    return any(name == m or name.startswith(m + ".") for m in modules)


def prefix_or_glob(name: str, options: Sequence[str]) -> bool:
    """Whether ``name`` matches one of pytest's ``python_classes``/``python_functions``
    options: a prefix, or a glob when it has wildcards."""
    for option in options:
        if name.startswith(option):
            return True
        if any(c in option for c in "*?[") and fnmatch.fnmatch(name, option):
            return True
    return False
