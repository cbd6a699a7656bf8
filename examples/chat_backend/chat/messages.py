from dataclasses import dataclass

from chat.settings import max_message_length


@dataclass(frozen=True)
class Message:
    room: str
    author: str
    text: str


def validate(message: Message) -> Message:
    if not message.text.strip():
        raise ValueError("empty message")
    if len(message.text) > max_message_length():
        raise ValueError("message too long")
    return message
