"""The client commands are clients: they reach the service over HTTP, never its insides."""

import subprocess
import sys


def client_commands_should_import_neither_storage_nor_the_http_layer() -> None:
    code = (
        "import sys, roomtemp.cli.client_commands;"
        "print('\\n'.join(name for name in sys.modules if name.startswith('roomtemp.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "roomtemp.cli.transfer" in loaded
    assert not [name for name in loaded if name.startswith(("roomtemp.storage", "roomtemp.http"))]
