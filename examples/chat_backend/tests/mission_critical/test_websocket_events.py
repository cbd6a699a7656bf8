"""Mission-critical tier: strict. Migrated, except one new regression."""

from chat.messages import Message, validate
from test_framework.ssot.base import SSotBaseTestCase


class TestWebSocketEvents(SSotBaseTestCase):
    def test_message_is_sent_to_room(self):
        client = self.mocks.create_websocket_client()
        message = validate(Message(room="general", author="ada", text="hi"))
        client.send("message", {"room": message.room, "text": message.text})
        client.send.assert_called_once()

    def test_ws_url_comes_from_isolated_environment(self):
        self.env.set("CHAT_WS_URL", "ws://test:1", source="test")
        from chat.settings import websocket_url

        assert websocket_url() == "ws://test:1"


class TestReconnect(SSotBaseTestCase):
    def test_reconnect_url(self):
        import os

        # A regression: strict mode rejects this test before its body runs.
        os.environ["CHAT_WS_URL"] = "ws://reconnect:1"
        assert True
