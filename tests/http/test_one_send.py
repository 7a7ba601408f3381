import asyncio
import socket

from roomtemp.http.one_send import HOLD_AT_MOST, OneSendPerTurn


class RecordingTransport(asyncio.Transport):
    """The socket's side of a transport: what was sent, one entry per send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closing = False

    def writelines(self, list_of_data: object) -> None:
        assert isinstance(list_of_data, list)
        self.sent.append(b"".join(list_of_data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 4242)}.get(name, default)


async def next_turn() -> None:
    await asyncio.sleep(0)


async def writes_in_one_turn_should_leave_in_one_send() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    held.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n")
    held.write(b"{}")
    assert transport.sent == []
    await next_turn()
    assert transport.sent == [b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}"]


async def writes_in_later_turns_should_leave_apart() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    held.write(b"first")
    await next_turn()
    held.write(b"second")
    await next_turn()
    assert transport.sent == [b"first", b"second"]


async def closing_should_send_what_is_held_first() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    held.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    held.close()
    assert transport.sent == [b"HTTP/1.1 408 Request Timeout\r\n\r\n"]
    assert transport.is_closing()
    await next_turn()
    assert len(transport.sent) == 1


async def a_long_stream_should_not_be_held_whole() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    chunk = b"x" * 1024
    for _ in range(HOLD_AT_MOST // len(chunk) * 3):
        held.write(chunk)
    assert [len(sent) for sent in transport.sent] == [HOLD_AT_MOST] * 3


async def nothing_should_be_sent_once_the_transport_is_closing() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    held.write(b"too late")
    transport.closing = True  # the peer went away meanwhile
    await next_turn()
    assert transport.sent == []


async def other_questions_should_reach_the_transport_itself() -> None:
    transport = RecordingTransport()
    held = OneSendPerTurn(transport, asyncio.get_running_loop())
    assert held.get_extra_info("peername") == ("127.0.0.1", 4242)


async def the_bytes_should_arrive_in_order_over_a_real_socket() -> None:
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    held = OneSendPerTurn(transport, loop)
    reader, writer = await asyncio.open_connection(sock=theirs)
    try:
        expected = b"".join(bytes([index % 256]) * 5000 for index in range(40))
        for index in range(40):
            held.write(bytes([index % 256]) * 5000)
        held.close()
        assert await reader.read() == expected
    finally:
        writer.close()
