"""A token in the query string (InfluxDB 1.x's `p=`) must not reach the logs."""

from pathlib import Path

import httpx

from tests.blackbox.server import running_server

TOKEN = "an-admin-token-sent-as-p"


def a_token_sent_as_p_should_be_in_no_log_line(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with (
        log.open("wb") as stderr,
        running_server(
            "memory://", env={"ROOMTEMP_ADMIN_TOKEN": TOKEN, "ROOMTEMP_LOG_LEVEL": "debug"},
            stderr=stderr,
        ) as server,
        httpx.Client(base_url=server.url) as client,
    ):  # fmt: skip
        written = client.post(
            "/write", params={"u": "telegraf", "p": TOKEN}, content="t,room=hall value=20"
        )
        assert written.status_code == 204
        refused = client.get("/query", params={"q": "SHOW DATABASES", "p": TOKEN + "x"})
        assert refused.status_code == 401
    text = log.read_text()
    assert "/write 204" in text  # the request was logged, by its path alone
    assert TOKEN not in text
