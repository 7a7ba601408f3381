"""The room-key cache stays within its capacity, forgetting the least recently used first."""

from roomtemp.storage.room_keys import RoomKeys


def room_keys_should_forget_the_least_recently_used_beyond_capacity() -> None:
    keys = RoomKeys(capacity=3)
    keys.update({"a": 1, "b": 2, "c": 3})
    assert keys.get("a") == 1  # used: now the most recent
    keys.update({"d": 4})
    assert len(keys) == 3
    assert keys.get("b") is None  # the least recently used went
    assert (keys.get("a"), keys.get("c"), keys.get("d")) == (1, 3, 4)


def room_keys_should_stay_bounded_whatever_the_number_of_rooms() -> None:
    keys = RoomKeys(capacity=100)
    for batch in range(1000):
        keys.update({f"room-{batch}-{index}": index for index in range(50)})
    assert len(keys) == 100
    assert keys.get("room-999-49") == 49
