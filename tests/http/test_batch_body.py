"""A valid batch decoded a piece at a time is the batch decoded whole, wherever the pieces are
cut, whatever its room ids hold."""

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.http import batch_body
from roomtemp.http.problems import Problem
from roomtemp.http.schemas import PostedItem

# Room ids full of what a guessed cut might be fooled by.
room_ids = st.text(alphabet=st.sampled_from('ab},{"\\\n: é'), min_size=1, max_size=10)
items = st.lists(
    st.builds(
        PostedItem,
        room_id=room_ids,
        v=st.floats(0, 1000),
        u=st.sampled_from(["K", "C", "f"]),
        ts=st.none() | st.just("2026-11-27T14:00:00Z"),
    ),
    max_size=12,
)


def as_decoded(items: list[PostedItem]) -> list[PostedItem]:
    return items


@settings(max_examples=300, deadline=None)
@given(batch=items, piece_bytes=st.sampled_from([1, 2, 5, 17, 100]), spaced=st.booleans())
async def pieces_should_hold_the_items_of_the_whole(
    batch: list[PostedItem], piece_bytes: int, spaced: bool
) -> None:
    encoded = [msgspec.json.encode(item) for item in batch]
    array = b"[" + (b" ,\n " if spaced else b",").join(encoded) + b"]"
    lines = (b"\n\r\n  \n" if spaced else b"\n").join(encoded)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_body, "PIECE_BYTES", piece_bytes)
        from_array = await batch_body._decode_array(bytearray(array), 1000, as_decoded)
        from_lines = await batch_body._decode_lines(bytearray(lines), 1000, as_decoded)
    assert [item for piece in from_array for item in piece] == batch
    assert [item for piece in from_lines for item in piece] == batch


@pytest.mark.parametrize(
    "body",
    [b'[{"room_id": "a", "v": 1},]', b'[{"room_id": "a", "v": 1},,{"room_id": "b", "v": 1}]'],
)
async def a_body_that_is_not_json_should_not_pass_for_pieces_of_it(body: bytes) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_body, "PIECE_BYTES", 1)
        with pytest.raises(Problem) as raised:
            await batch_body._decode_array(bytearray(body), 1000, as_decoded)
    assert raised.value.status == 400
