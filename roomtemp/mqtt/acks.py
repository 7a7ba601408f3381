"""Acknowledgements in the order the messages came, each sent once its reading is settled.

MQTT asks a client to send PUBACKs in the order the PUBLISHes arrived (MQTT 5 §4.6, 3.1.1
§4.6), while commits may settle out of order (a bad payload at once, a reading after its
commit). A message settled early waits for those before it: the broker keeps every message
not yet acknowledged and sends it again after a crash, so a late acknowledgement is safe and an
early one is not.
"""

from collections import deque
from collections.abc import Callable


class Pending:
    __slots__ = ("mid", "settled")

    def __init__(self, mid: int) -> None:
        self.mid = mid
        self.settled = False


class InOrderAcks:
    def __init__(self, acknowledge: Callable[[int], object]) -> None:
        self._acknowledge = acknowledge
        self._pending: deque[Pending] = deque()

    def expect(self, mid: int) -> Pending:
        """Note a message as arrived, not yet settled."""
        pending = Pending(mid)
        self._pending.append(pending)
        return pending

    def settle(self, pending: Pending) -> None:
        """The message is stored (or refused for good): acknowledge it and every settled one
        after it, as soon as none before them is waiting."""
        pending.settled = True
        while self._pending and self._pending[0].settled:
            self._acknowledge(self._pending.popleft().mid)

    def __len__(self) -> int:
        return len(self._pending)
