"""Who roomtemp is at the broker: a client id per process, the same after a restart."""

import fcntl
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import IO


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
        # A folder per user: another user's, made 0700, could not be written to.
        folder = Path(tempfile.gettempdir()) / f"roomtemp-mqtt-{os.getuid()}"
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
