"""Which Chromium the browser tests drive, and how it is started."""

import os
from pathlib import Path
from typing import Any

# Debian's package, which `.ci/run` installs: a browser download cannot work everywhere.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
# Chromium reaches for Google's services at start-up, which a closed network refuses many
# times over, and the GPU is of no use headless.
FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """ROOMTEMP_CHROMIUM when set, else Debian's Chromium when installed; None means the one
    that `playwright install chromium` fetched (what `make test` does where neither is)."""
    if chosen := os.environ.get("ROOMTEMP_CHROMIUM"):
        return chosen
    return str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None


def launch_options() -> dict[str, Any]:
    return {"executable_path": chromium_executable(), "args": FLAGS, "headless": True}
