"""The client side of HTTP: the token, retries, the server's problems as sentences. The server
is played by httpx's MockTransport, the network boundary, where its answers are chosen."""

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from roomtemp.cli.arguments import server_of
from roomtemp.cli.connection import BatchAnswer, ClientError, Server, post_batch
from roomtemp.cli.main import parser
from roomtemp.cli.progress import Progress
from roomtemp.cli.transfer import export_room

Handler = Callable[[httpx.Request], httpx.Response]


def client_of(server: Server, handler: Handler) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers=server.headers(), transport=httpx.MockTransport(handler)
    )


def a_token_should_be_sent_as_a_bearer_token() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, text="ts,v,u\n2026-11-27T10:00:00Z,290.0,K\n")

    out = io.StringIO()
    with client_of(Server("http://t", token="s3cret"), answer) as client:
        assert export_room(client, "hall", {}, out) == 1
    assert seen == ["Bearer s3cret"]
    assert out.getvalue() == "room_id,ts,v,u\nhall,2026-11-27T10:00:00Z,290.0,K\n"


def no_token_should_send_no_authorization() -> None:
    assert "Authorization" not in Server("http://t").headers()


def a_401_should_say_how_to_give_a_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"status": 401, "detail": "a token is needed"})

    with (
        client_of(Server("http://t"), refuse) as client,
        pytest.raises(ClientError, match="set ROOMTEMP_TOKEN, or ROOMTEMP_TOKEN_FILE"),
    ):
        export_room(client, "hall", {}, io.StringIO())


def url_and_token_should_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROOMTEMP_URL", "http://sensors.example:8000")
    monkeypatch.setenv("ROOMTEMP_TOKEN", "from-the-environment")
    args = parser().parse_args(["export", "hall"])
    assert (args.url, args.token) == ("http://sensors.example:8000", "from-the-environment")
    flags = parser().parse_args(["import", "f.csv", "--url", "http://other", "--token", "t"])
    assert (flags.url, flags.token) == ("http://other", "t")


def a_busy_server_should_be_asked_again_after_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "0"}, json={"detail": "busy"}),
            httpx.Response(200, json={"received": 1, "stored": 1, "duplicates": 0}),
        ]
    )
    with client_of(Server("http://t"), lambda request: next(answers)) as client:
        answer = post_batch(client, [{"room_id": "hall", "v": 290.0, "ts": "2026-11-27T10:00Z"}])
    assert answer == BatchAnswer(200, stored=1, duplicates=0)


def a_refused_batch_should_name_each_failing_item_and_field() -> None:
    problem = {
        "status": 422,
        "code": "invalid_measurement",
        "detail": "2 items are invalid; nothing was stored",
        "errors": [
            {"index": 1, "pointer": "#/1/v", "detail": "-1.0 K is below absolute zero"},
            {"index": 4, "pointer": "#/4", "detail": "not an object"},
        ],
    }
    with client_of(Server("http://t"), lambda request: httpx.Response(422, json=problem)) as c:
        answer = post_batch(c, [{}] * 5)
    assert answer.failures == ((1, "v: -1.0 K is below absolute zero"), (4, "not an object"))


def an_unreachable_server_should_be_a_client_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with (
        client_of(Server("http://t"), down) as client,
        pytest.raises(ClientError, match=r"cannot reach http://t.*is it running\?"),
    ):
        post_batch(client, [{}], reconnect_for=0.5)


@pytest.mark.parametrize(
    "dropped",
    [httpx.ConnectError("connection refused"), httpx.RemoteProtocolError("disconnected")],
)
def a_batch_should_be_sent_again_while_the_server_restarts(dropped: httpx.TransportError) -> None:
    attempts = []

    def restarting(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) <= 2:
            raise dropped
        return httpx.Response(200, json={"received": 1, "stored": 1, "duplicates": 0})

    with client_of(Server("http://t"), restarting) as client:
        assert post_batch(client, [{}]).stored == 1
    assert len(attempts) == 3


def a_server_that_does_not_answer_in_time_should_not_be_waited_for_again() -> None:
    attempts = []

    def silent(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ReadTimeout("timed out")

    with client_of(Server("http://t"), silent) as client, pytest.raises(ClientError):
        post_batch(client, [{}])
    assert len(attempts) == 1


def the_token_should_come_from_a_file_named_by_flag_or_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-from-a-file\n")
    args = parser().parse_args(["rooms", "--token-file", str(token_file)])
    assert server_of(args).token == "s3cret-from-a-file"
    monkeypatch.setenv("ROOMTEMP_TOKEN_FILE", str(token_file))
    assert server_of(parser().parse_args(["rooms"])).token == "s3cret-from-a-file"
    monkeypatch.setenv("ROOMTEMP_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ClientError, match="cannot read the token file"):
        server_of(parser().parse_args(["rooms"]))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def progress_should_draw_a_bar_on_a_terminal_only() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = Progress("importing f.csv", total=200, stream=stream)
        progress.update(50, 1000, force=True)
        progress.close()
    assert "\rimporting f.csv [########......................]  25% 1,000 measurements" in (
        terminal.getvalue()
    )
    assert pipe.getvalue() == ""
