"""The client commands: simulate, import, export. Each parses its arguments, then calls one
thing; they talk to a server over HTTP and never touch storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from roomtemp.cli.import_export import add_export, add_import
from roomtemp.cli.simulate import add_simulate

if TYPE_CHECKING:
    from roomtemp.cli.arguments import Commands


def add_client_commands(commands: Commands) -> None:
    add_simulate(commands)
    add_import(commands)
    add_export(commands)
