"""Product code reads its own settings from the environment: that is not a test violation."""

import os


def websocket_url() -> str:
    return os.environ.get("CHAT_WS_URL", "ws://localhost:8765")


def max_message_length() -> int:
    return int(os.getenv("CHAT_MAX_MESSAGE_LENGTH", "2000"))
