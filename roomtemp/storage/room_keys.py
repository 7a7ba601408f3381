"""Room names to their database keys, remembered so that a write needs no look-up: the most
recently used ones only, so that a deployment with a great many rooms keeps a bounded cache
(issue 10, item 12: it grew forever). Rooms are never renamed nor deleted, so a remembered key
is never stale; a forgotten one costs a look-up on its next write."""

from collections import OrderedDict
from collections.abc import Mapping

CAPACITY = 65_536  # ~10 MB of names and keys


class RoomKeys:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._keys: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity

    def get(self, name: str) -> int | None:
        key = self._keys.get(name)
        if key is not None:
            self._keys.move_to_end(name)
        return key

    def update(self, keys: Mapping[str, int]) -> None:
        """Remember `keys` (committed rooms only), forgetting the least recently used beyond
        the capacity."""
        for name, key in keys.items():
            self._keys[name] = key
            self._keys.move_to_end(name)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def __len__(self) -> int:
        return len(self._keys)
