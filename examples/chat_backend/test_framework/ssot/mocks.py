"""SSotMockFactory: the only code allowed to build mocks (mock_modules)."""

from unittest import mock

from chat.rooms import WebSocketClient


class SSotMockFactory:
    @staticmethod
    def create_websocket_client() -> mock.Mock:
        return mock.create_autospec(WebSocketClient, instance=True)
