"""The real `roomtemp serve` process, spoken to over real HTTP."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.network import free_port

ROOMTEMP = Path(sys.executable).with_name("roomtemp")  # the console script, as users run it


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def wait_until_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"roomtemp serve exited with {server.process.returncode}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"roomtemp serve did not answer /healthz within {timeout} s")


@contextmanager
def running_server(
    database_url: str,
    *flags: str,
    env: Mapping[str, str] | None = None,
    stderr: IO[bytes] | None = None,
    own_group: bool = False,
    port: int | None = None,
) -> Iterator[Server]:
    """`roomtemp serve` on a free port of 127.0.0.1, stopped (SIGTERM) at the end; `env` adds
    to the environment, which holds no other ROOMTEMP_ variable. With `own_group`, the server
    and its workers are a process group of their own, which os.killpg() ends at once."""
    port = port or free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("ROOMTEMP_")
    }
    command = [str(ROOMTEMP), "serve", "--port", str(port), "--database-url", database_url, *flags]
    process = subprocess.Popen(
        command,
        env={**environment, **(env or {})},
        stderr=stderr,
        process_group=0 if own_group else None,
    )
    server = Server(process, port)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def roomtemp(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `roomtemp` command, run to its end, with no ROOMTEMP_ variable but those in `env`."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("ROOMTEMP_")
    }
    return subprocess.run(
        [str(ROOMTEMP), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
    )


def create_token(database_url: str, name: str, *scopes: str) -> str:
    """A new token, made as an operator makes one."""
    scope_flags = [flag for scope in scopes for flag in ("--scope", scope)]
    result = roomtemp(
        "token", "create", "--name", name, *scope_flags, "--database-url", database_url
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
