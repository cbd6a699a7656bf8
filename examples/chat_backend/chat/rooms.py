class Room:
    def __init__(self, name: str) -> None:
        self.name = name
        self.members: set[str] = set()

    def join(self, user: str) -> None:
        self.members.add(user)

    def leave(self, user: str) -> None:
        self.members.discard(user)


class WebSocketClient:
    """Stands in for the real client the mock factory doubles."""

    def send(self, event: str, payload: dict) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError
