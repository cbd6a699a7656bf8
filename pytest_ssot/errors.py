"""The one exception hierarchy of pytest-ssot, so users can catch or filter it as a whole."""

from __future__ import annotations


class SSOTError(Exception):
    """Base class of every error pytest-ssot raises on purpose."""


class ConfigError(SSOTError):
    """Bad configuration: a usage error (pytest exit code 4, CLI exit code 2).

    Carries every problem found, so a user fixes them all in one go.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class BaselineError(ConfigError):
    """The baseline file is unreadable or malformed: never overwritten, never ignored."""

    def __init__(self, problem: str) -> None:
        super().__init__([problem])


class RuntimeViolationError(SSOTError):
    """A violation seen while a test ran, refused at its site in strict mode: SSOT102, or a
    call of an API a team-defined source forbids (``runtime = true``). Catch this to handle
    both; test code that swallows one still fails at teardown."""


class EnvAccessError(RuntimeViolationError):
    """Test code touched the process environment directly (SSOT102, strict mode).

    Picklable, so it survives the trip from an xdist worker to the controller.
    """

    def __init__(self, what: str, where: str, use_instead: str) -> None:
        self.what = what
        self.where = where
        self.use_instead = use_instead
        super().__init__(what, where, use_instead)

    def __str__(self) -> str:
        return (
            f"SSOT102 direct process-environment access {self.what} at {self.where}; "
            f"{self.use_instead}"
        )


class SourceAccessError(RuntimeViolationError):
    """Test code called an API that a team-defined source forbids (``[[tool.ssot.sources]]``
    with ``runtime = true``, strict mode). Picklable, like :class:`EnvAccessError`."""

    def __init__(self, code: str, api: str, where: str, use_instead: str) -> None:
        self.code = code
        self.api = api
        self.where = where
        self.use_instead = use_instead
        super().__init__(code, api, where, use_instead)

    def __str__(self) -> str:
        return f"{self.code} {self.api}() called directly at {self.where}; {self.use_instead}"


def os_reason(exc: OSError) -> str:
    """An OSError as a user reads it: "Read-only file system", not "[Errno 30] ... '/x'"."""
    return exc.strerror or str(exc)
