import os

import pytest


@pytest.fixture
def staging_url():
    # Legacy fixture: reads the environment directly (SSOT002, affects only its users).
    return os.environ.get("CHAT_STAGING_URL", "https://staging.chat.example")
