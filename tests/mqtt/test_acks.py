from hypothesis import given
from hypothesis import strategies as st

from roomtemp.mqtt.acks import InOrderAcks


@given(st.integers(1, 50).flatmap(lambda n: st.permutations(range(n))))
def acknowledgements_should_leave_in_arrival_order_whatever_order_messages_settle(
    settle_order: list[int],
) -> None:
    sent: list[int] = []
    acks = InOrderAcks(sent.append)
    pending = [acks.expect(mid) for mid in range(len(settle_order))]
    for index in settle_order:
        acks.settle(pending[index])
        # never one whose predecessor is still waiting
        assert sent == list(range(len(sent)))
    assert sent == list(range(len(settle_order)))
    assert len(acks) == 0


def a_message_still_waiting_should_hold_back_the_ones_after_it() -> None:
    sent: list[int] = []
    acks = InOrderAcks(sent.append)
    first, second = acks.expect(7), acks.expect(8)
    acks.settle(second)
    assert sent == []
    acks.settle(first)
    assert sent == [7, 8]
