"""Not migrated yet: its own base class, os.environ, MagicMock, and it runs itself."""

import os
import unittest
from unittest.mock import MagicMock

from chat.rooms import Room


class BaseTestCase(unittest.TestCase):
    """Same name as the team's old base classes, but not the SSOT one."""

    def setUp(self):
        os.environ["CHAT_ENV"] = "test"


class TestRooms(BaseTestCase):
    def test_join(self):
        room = Room("general")
        room.join("ada")
        assert "ada" in room.members

    def test_leave_notifies_client(self):
        client = MagicMock()
        room = Room("general")
        room.leave("ada")
        client.send("left", {"user": "ada"})
        client.send.assert_called_once()


if __name__ == "__main__":
    unittest.main()
