"""Migrations of a SQLite database: numbered .sql files, each applied once, in its own
transaction, recorded in schema_migrations."""

import sqlite3
from datetime import UTC, datetime

from roomtemp.storage.migrations import pending


def applied(connection: sqlite3.Connection) -> set[int]:
    """The versions of the migrations already applied to this database."""
    if not connection.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
    ).fetchone():
        return set()
    return {version for (version,) in connection.execute("SELECT version FROM schema_migrations")}


def missing(connection: sqlite3.Connection) -> list[str]:
    """The names of the migrations this database still lacks."""
    return [migration.name for migration in pending("sqlite", applied(connection))]


def statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3 runs one at a time inside a transaction)."""
    found, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip())
            current = ""
    return found


def migrate(connection: sqlite3.Connection, upto: int | None = None) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    BEGIN IMMEDIATE takes the write lock before reading what is applied, so two processes
    migrating at once apply each migration exactly once.
    """
    done: list[str] = []
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            todo = pending("sqlite", applied(connection), upto)
            if not todo:
                connection.execute("COMMIT")
                return done
            migration = todo[0]
            for statement in statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
            connection.execute("COMMIT")
            done.append(migration.name)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
