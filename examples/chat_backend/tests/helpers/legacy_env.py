import os


def enable_debug_logging() -> None:
    # A helper in the tests package: only the runtime guard (SSOT102) can see this.
    os.environ["CHAT_DEBUG"] = "1"
