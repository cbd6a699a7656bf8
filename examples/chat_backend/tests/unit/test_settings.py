import pytest

from chat.settings import max_message_length, websocket_url


def test_default_url(monkeypatch):
    monkeypatch.delenv("CHAT_WS_URL", raising=False)
    assert websocket_url().startswith("ws://")


@pytest.mark.ssot_exempt("SSOT002", reason="documents the env contract", until="2099-12-31")
def test_max_length_from_env(monkeypatch):
    monkeypatch.setenv("CHAT_MAX_MESSAGE_LENGTH", "10")
    assert max_message_length() == 10


def test_staging_url(staging_url):
    assert staging_url.startswith("https://")
