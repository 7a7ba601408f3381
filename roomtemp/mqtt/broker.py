"""Where the broker is (ROOMTEMP_MQTT_URL) and who roomtemp is there (its client ids)."""

import fcntl
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

PORTS = {"mqtt": 1883, "mqtts": 8883}


class InvalidBrokerUrl(ValueError):
    """ROOMTEMP_MQTT_URL is not mqtt://[user:password@]host[:port] or mqtts://..."""


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_broker_url(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in PORTS or not parts.hostname or parts.path not in ("", "/"):
        raise InvalidBrokerUrl(
            f"the MQTT URL must read mqtt://[user:password@]host[:port] or mqtts://..., not"
            f" {parts.scheme}://{parts.hostname or ''}{parts.path}"  # never the password
        )
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError as error:
        raise InvalidBrokerUrl(f"the MQTT URL's port: {error}") from None
    return Broker(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class ClientIdentity:
    """A client id of this machine that no other live process holds, the same after a restart.

    The broker keeps a session, and the messages sent to it but not yet acknowledged, by client
    id: a process that comes back after a crash must come back as the same id to be sent them
    again, and two live processes must never share one (the broker would disconnect the first).
    Each process takes the lowest free number under a lock file that the kernel releases when
    the process dies: with N workers, the ids are PREFIX-0 to PREFIX-(N-1), before and after.
    """

    def __init__(self, prefix: str | None) -> None:
        self.prefix = prefix or f"roomtemp-{socket.gethostname()}"
        folder = Path(tempfile.gettempdir()) / "roomtemp-mqtt"
        folder.mkdir(mode=0o700, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.prefix)
        number = 0
        while True:
            lock: IO[bytes] = (folder / f"{safe}-{number}.lock").open("ab")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                number += 1
                continue
            break
        self._lock = lock
        self.client_id = f"{self.prefix}-{number}"

    def release(self) -> None:
        self._lock.close()
