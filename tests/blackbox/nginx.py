"""Debian's nginx in front of roomtemp instances, running the configuration shipped in
deploy/nginx/roomtemp.conf: its own prefix in a temporary folder, in the foreground, as the
user running the tests."""

import getpass
import os
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.blackbox.server import Server

NGINX = Path("/usr/sbin/nginx")
SHIPPED = Path(__file__).parents[2] / "deploy" / "nginx" / "roomtemp.conf"
_UPSTREAM_SERVERS = re.compile(r"(?m)^(\s*)server 10\.0\.0\.\d+:8000([^;]*);\n")

_MAIN = """\
daemon off;
worker_processes 2;
pid {folder}/nginx.pid;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/roomtemp.conf;
}}
"""


def shipped_configuration(
    instances: Sequence[Server], port: int, replacements: dict[str, str] | None = None
) -> str:
    """deploy/nginx/roomtemp.conf with the instances' addresses and `port` put in, each
    server keeping the shipped parameters (max_fails, fail_timeout), and `replacements`
    (text -> text) made, each of which must be found."""
    text = SHIPPED.read_text()
    first = _UPSTREAM_SERVERS.search(text)
    assert first, "no upstream server line in the shipped configuration"
    indent, options = first.groups()
    servers = "".join(f"{indent}server 127.0.0.1:{s.port}{options};\n" for s in instances)
    without = _UPSTREAM_SERVERS.sub("", text)
    text = without[: first.start()] + servers + without[first.start() :]
    for old, new in {"listen 80;": f"listen 127.0.0.1:{port};", **(replacements or {})}.items():
        assert old in text, f"{old!r} is not in the shipped configuration"
        text = text.replace(old, new)
    return text


@contextmanager
def running_nginx(configuration: str, port: int, folder: Path) -> Iterator[str]:
    """nginx serving `configuration` (an http-block include listening on `port`); its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "roomtemp.conf").write_text(configuration)
    # As root, nginx would hand its workers to `nobody`, which may not enter the folder.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(_MAIN.format(folder=folder, user=user))
    command = [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    command += ["-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process)
        yield url
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown
        process.wait(timeout=30)


def _wait_until_listening(url: str, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}")
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError("nginx did not listen within 30 s")
