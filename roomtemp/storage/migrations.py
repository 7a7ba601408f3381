"""Versioned schema migrations: `NNNN_name.sql` files in each backend's schema/ folder,
applied in order."""

from dataclasses import dataclass
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str  # the file's name without .sql: "0001_initial"
    sql: str


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


def pending(backend: str, applied: set[int], upto: int | None = None) -> list[Migration]:
    """The migrations not applied yet, oldest first (up to version `upto`, if given)."""
    return [
        migration
        for migration in migrations_for(backend)
        if migration.version not in applied and (upto is None or migration.version <= upto)
    ]
