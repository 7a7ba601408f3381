"""Real MQTT brokers for the tests: Mosquitto (Debian's), or amqtt where it is not installed.

Each broker is a process of its own on a free port of 127.0.0.1, with a configuration and a
folder of its own. Mosquitto keeps its messages on disk (persistence), so that a broker
stopped and started again still holds what it had accepted, as in production.
"""

import getpass
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.network import free_port

MOSQUITTO = shutil.which("mosquitto") or next(
    (path for path in ("/usr/sbin/mosquitto",) if Path(path).exists()), None
)
AMQTT = str(Path(sys.executable).with_name("amqtt"))


@dataclass
class Broker:
    kind: str  # "mosquitto" (MQTT 5 and 3.1.1) or "amqtt" (3.1.1 only)
    command: list[str]
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    def url(self, user: str | None = None, password: str | None = None) -> str:
        credentials = f"{user}:{password}@" if user else ""
        return f"mqtt://{credentials}127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder / "broker.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        """SIGTERM: Mosquitto writes its messages to disk, then exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the broker did not listen on {port} within {timeout} s")


def mosquitto(folder: Path, *, passwords: dict[str, str] | None = None, extra: str = "") -> Broker:
    assert MOSQUITTO is not None
    port = free_port()
    lines = [
        f"listener {port} 127.0.0.1",
        # Started as root, Mosquitto would run as the user mosquitto, who cannot write here.
        f"user {getpass.getuser()}",
        f"persistence true\npersistence_location {folder}/",
        # No cap on what an offline session keeps (the default drops past 1,000 messages),
        # none on messages in flight to a 3.1.1 client (the default is 20).
        "max_queued_messages 0\nmax_inflight_messages 0",
        "log_type error\nlog_type warning\nlog_type notice",
        "connection_messages true",
    ]
    if passwords:
        password_file = folder / "passwords"
        password_file.touch(mode=0o600)
        for user, password in passwords.items():
            subprocess.run(
                ["mosquitto_passwd", "-b", str(password_file), user, password], check=True
            )
        lines += ["allow_anonymous false", f"password_file {password_file}"]
    else:
        lines.append("allow_anonymous true")
    config = folder / "mosquitto.conf"
    config.write_text("\n".join([*lines, extra]) + "\n")
    broker = Broker("mosquitto", [MOSQUITTO, "-c", str(config)], port, folder)
    broker.start()
    return broker


def amqtt(folder: Path) -> Broker:
    port = free_port()
    config = folder / "amqtt.yaml"
    config.write_text(
        "listeners:\n"
        "  default:\n"
        "    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n"
        "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
        "    allow_anonymous: true\n"
    )
    broker = Broker("amqtt", [AMQTT, "-c", str(config)], port, folder)
    broker.start()
    return broker
