"""How roomtemp talks to PostgreSQL: the connection type, and which errors mean "the database
is not there right now". Shared by the store and the migrations."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

from roomtemp.storage.base import StorageUnavailable

# Errors that say "the database is not there right now", not "this request is wrong".
_UNAVAILABLE = (
    OSError,  # refused, reset, and TimeoutError (connect and command timeouts)
    asyncpg.InterfaceError,  # the connection closed under us
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    # A server shutting down tells its idle connections why (57P01) and closes them; a query
    # sent on one in between finds it still reading that message: "cannot switch to state 12;
    # another operation (2) is in progress". Seen as 500s when PostgreSQL stopped under load.
    asyncpg.InternalClientError,
)
Pooled: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | Pooled"


@asynccontextmanager
async def unavailable_as_storage_errors() -> AsyncIterator[None]:
    try:
        yield
    except _UNAVAILABLE as error:
        # A timeout says nothing of itself (str(TimeoutError()) is empty): name it.
        raise StorageUnavailable(
            f"PostgreSQL is unavailable: {str(error) or type(error).__name__}"
        ) from error


async def keep_session(connection: Connection) -> None:
    """Release a connection without asyncpg's reset query (a round trip per use): roomtemp
    changes no session settings, and the staging table is meant to stay. An open transaction
    is still rolled back by asyncpg itself."""
