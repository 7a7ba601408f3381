"""The client commands are clients: they reach the service over HTTP, never its insides. And a
backend's driver loads only when that backend is chosen."""

import subprocess
import sys
from pathlib import Path

from tests.network import free_port

CLIENT_COMMANDS = ("roomtemp.cli.simulate", "roomtemp.cli.import_export")


def run_without(missing: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    """`code` in a new interpreter where importing any of `missing` fails, as fcntl does on
    Windows and asyncpg where it is not installed."""
    prelude = f"import sys\nfor name in {missing!r}: sys.modules[name] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60
    )


def client_commands_should_import_neither_storage_nor_the_http_layer() -> None:
    code = (
        f"import {', '.join(CLIENT_COMMANDS)}\n"
        "print('\\n'.join(name for name in sys.modules if name.startswith('roomtemp.')))"
    )
    result = run_without((), code)
    loaded = result.stdout.split()
    assert "roomtemp.cli.transfer" in loaded, result.stderr
    assert not [name for name in loaded if name.startswith(("roomtemp.storage", "roomtemp.http"))]


def export_should_run_without_fcntl_or_asyncpg() -> None:
    # Nothing listens there: the command gets as far as the network, and says so.
    url = f"http://127.0.0.1:{free_port()}"
    code = f"from roomtemp.cli.main import main\nmain(['export', 'Hall', '--url', {url!r}])\n"
    result = run_without(("fcntl", "asyncpg"), code)
    assert result.returncode == 1, result.stderr
    assert "roomtemp export:" in result.stderr
    assert "ImportError" not in result.stderr


def the_sqlite_backend_should_run_without_asyncpg(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roomtemp.sqlite3'}"
    code = f"from roomtemp.cli.main import main\nmain(['migrate', '--database-url', {url!r}])\n"
    result = run_without(("asyncpg",), code)
    assert result.returncode == 0, result.stderr
    assert "applied: 0001_initial" in result.stdout
