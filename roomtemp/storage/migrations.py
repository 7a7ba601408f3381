"""Versioned schema migrations: `NNNN_name.sql` files in each backend's schema/ folder,
applied in order.

Each migration also says which code may use the schema after it (see 0004_schema_support):
by default only code that knows it; one whose first line is OLDER_CODE_MAY_USE leaves older
code in service (a migration that only adds what older code never touches)."""

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from roomtemp.storage.base import SchemaNewerThanCode

OLDER_CODE_MAY_USE = "-- older code may use this schema"
SUPPORT_SINCE = 4  # the migration that made schema_support


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # the file's name without .sql: "0001_initial"
    sql: str

    @property
    def raises_oldest_code(self) -> bool:
        """Whether code older than this migration must stop using the schema after it."""
        return self.version > SUPPORT_SINCE and not self.sql.startswith(OLDER_CODE_MAY_USE)


def check_support(backend: str, oldest_code: int) -> None:
    """SchemaNewerThanCode when this code is older than the schema allows."""
    known = newest(backend)
    if oldest_code > known:
        raise SchemaNewerThanCode(oldest_code, known)


def migrations_for(backend: str) -> list[Migration]:
    """Every migration shipped for `backend` ("sqlite" or "postgres"), oldest first."""
    folder = files("roomtemp.storage").joinpath(backend, "schema")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            name = entry.name.removesuffix(".sql")
            version = int(name.partition("_")[0])
            found.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


@cache
def newest(backend: str) -> int:
    """The version of the newest migration this code knows."""
    return migrations_for(backend)[-1].version


def pending(backend: str, applied: set[int], upto: int | None = None) -> list[Migration]:
    """The migrations not applied yet, oldest first (up to version `upto`, if given)."""
    return [
        migration
        for migration in migrations_for(backend)
        if migration.version not in applied and (upto is None or migration.version <= upto)
    ]
