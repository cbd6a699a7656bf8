import os
from unittest import mock

from test_framework.ssot.base import SSotAsyncTestCase
from tests.helpers.legacy_env import enable_debug_logging


class TestLogin(SSotAsyncTestCase):
    async def test_login_succeeds(self):
        token = os.getenv("CHAT_TEST_TOKEN", "t0ken")  # ssot: ignore[SSOT002]
        assert token

    async def test_login_with_patched_clock(self):
        with mock.patch("time.time", return_value=0):
            assert True

    async def test_debug_logging(self):
        enable_debug_logging()
        assert True
