from chat.messages import Message, validate
from test_framework.ssot.base import SSotBaseTestCase as Base


class LimitsMixin:
    limit = 2000


class TestMessageLimits(LimitsMixin, Base):
    """Alias and mixin: still an SSOT test class."""

    def test_long_message_is_rejected(self):
        self.env.set("CHAT_MAX_MESSAGE_LENGTH", "5")
        with self.assertRaises(ValueError):
            validate(Message(room="r", author="a", text="too long"))
