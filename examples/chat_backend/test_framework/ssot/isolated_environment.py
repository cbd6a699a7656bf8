"""IsolatedEnvironment: the only code allowed to touch os.environ in tests (env_modules)."""

import os


class IsolatedEnvironment:
    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def get(self, key: str, default: str | None = None) -> str | None:
        return os.environ.get(key, default)

    def set(self, key: str, value: str, source: str = "test") -> None:
        self._saved.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def delete(self, key: str) -> None:
        self._saved.setdefault(key, os.environ.get(key))
        os.environ.pop(key, None)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


_ENV = IsolatedEnvironment()


def get_env() -> IsolatedEnvironment:
    return _ENV
