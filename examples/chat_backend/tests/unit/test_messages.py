from chat.messages import Message, validate
from test_framework.ssot.base import SSotBaseTestCase


class TestValidate(SSotBaseTestCase):
    def test_accepts_text(self):
        assert validate(Message("r", "a", "hello")).text == "hello"

    def test_rejects_blank(self):
        with self.assertRaises(ValueError):
            validate(Message("r", "a", "   "))
