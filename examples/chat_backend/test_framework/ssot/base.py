"""The SSOT base classes every test class should derive from."""

import unittest

from test_framework.ssot.isolated_environment import get_env
from test_framework.ssot.mocks import SSotMockFactory


class SSotBaseTestCase(unittest.TestCase):
    mocks = SSotMockFactory

    def setUp(self) -> None:
        super().setUp()
        self.env = get_env()
        self.addCleanup(self.env.restore)


class SSotAsyncTestCase(unittest.IsolatedAsyncioTestCase):
    mocks = SSotMockFactory

    def setUp(self) -> None:
        super().setUp()
        self.env = get_env()
        self.addCleanup(self.env.restore)
