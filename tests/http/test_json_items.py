"""The scan that finds a JSON array's items without decoding them, against a JSON parser."""

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.http import json_items
from roomtemp.http.json_items import TooManyItems, item_bounds

# Strings full of what the scan must not mistake for structure.
tricky_text = st.text(alphabet=st.sampled_from('ab,[]{}"\\\n é'), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=4),
    max_leaves=20,
)


def items_of(body: bytes, max_items: int = 1000) -> list[Any] | None:
    bounds = item_bounds(bytearray(body), max_items)
    if bounds is None:
        return None
    return [json.loads(body[start + 1 : end]) for start, end in itertools.pairwise(bounds.tolist())]


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(json_values, max_size=8),
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 1]),
    chunk=st.sampled_from([1, 2, 3, 7, 1 << 18]),
)
def the_scan_should_find_every_item_as_a_json_parser_does(
    items: list[Any], ascii_only: bool, indent: int | None, chunk: int
) -> None:
    body = json.dumps(items, ensure_ascii=ascii_only, indent=indent).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json_items, "SCAN_BYTES", chunk)  # items cut across chunks, anywhere
        assert items_of(body) == items


@pytest.mark.parametrize(
    "body", [b"", b"  ", b"{}", b'"[1]"', b"[1, 2", b"[1, 2] 3", b'["a]', b"[[1]"]
)
def what_is_no_complete_array_should_be_left_to_the_decoder(body: bytes) -> None:
    assert items_of(body) is None


def more_items_than_allowed_should_be_known_before_the_end() -> None:
    assert items_of(b"[1, 2, 3]", max_items=3) == [1, 2, 3]
    with pytest.raises(TooManyItems):
        items_of(b"[1, 2, 3, 4", max_items=3)
