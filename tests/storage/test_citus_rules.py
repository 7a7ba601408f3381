"""The migrated PostgreSQL schema keeps to what Citus needs to shard it by room (docs/scaling.md),
read from the catalog of a real migrated database, so that a migration breaking the road to
sharding fails here, not on the day a cluster is set up.

Citus's rules: a distributed table's unique indexes (its primary key, and so every ON CONFLICT
target) include the distribution column, since each shard can only check its own rows; a
foreign key from a distributed table may point at a reference table (copied to every node) or
at a co-located distributed table by the distribution column; a reference table may not point
at a distributed one."""

import asyncio

import asyncpg
import pytest

from roomtemp.storage import migrate

# Table -> distribution column. Every table must be named here or in REFERENCE: a new table
# must be placed before it can be sharded. (schema_support: which code may use the schema.)
DISTRIBUTED = {"measurements": "room", "rollups": "room"}
REFERENCE = {"rooms", "tokens", "schema_migrations", "schema_support"}

UNIQUE_INDEXES = """
SELECT index.indrelid::regclass::text, index.indexrelid::regclass::text,
       array_agg(attribute.attname::text ORDER BY attribute.attname)
FROM pg_index index
JOIN pg_class class ON class.oid = index.indrelid
JOIN pg_attribute attribute
  ON attribute.attrelid = index.indrelid AND attribute.attnum = ANY (index.indkey)
WHERE class.relnamespace = current_schema()::regnamespace AND index.indisunique
GROUP BY 1, 2
"""
# Exclusion constraints are unique checks too: Citus holds them to the same rule.
FOREIGN_KEYS = """
SELECT constraint_.conname::text, constraint_.conrelid::regclass::text,
       constraint_.confrelid::regclass::text,
       ARRAY(SELECT attname::text FROM pg_attribute
             WHERE attrelid = constraint_.conrelid AND attnum = ANY (constraint_.conkey)),
       ARRAY(SELECT attname::text FROM pg_attribute
             WHERE attrelid = constraint_.confrelid AND attnum = ANY (constraint_.confkey))
FROM pg_constraint constraint_
WHERE constraint_.connamespace = current_schema()::regnamespace AND constraint_.contype = 'f'
"""
EXCLUSIONS = """
SELECT conrelid::regclass::text, conname::text,
       ARRAY(SELECT attname::text FROM pg_attribute
             WHERE attrelid = conrelid AND attnum = ANY (conkey))
FROM pg_constraint
WHERE connamespace = current_schema()::regnamespace AND contype = 'x'
"""
TABLES = """
SELECT relname::text FROM pg_class
WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')
"""


@pytest.fixture
def catalog(postgres_url: str) -> dict[str, list[asyncpg.Record]]:
    """The migrated schema's tables, unique indexes, exclusion constraints and foreign keys."""

    async def read() -> dict[str, list[asyncpg.Record]]:
        await migrate(postgres_url)
        connection = await asyncpg.connect(postgres_url)
        try:
            queries = {
                "tables": TABLES,
                "unique": UNIQUE_INDEXES + "UNION ALL" + EXCLUSIONS,
                "foreign": FOREIGN_KEYS,
            }
            return {name: await connection.fetch(sql) for name, sql in queries.items()}
        finally:
            await connection.close()

    return asyncio.run(read())


def every_table_should_be_placed_as_distributed_or_reference(
    catalog: dict[str, list[asyncpg.Record]],
) -> None:
    tables = {row[0] for row in catalog["tables"]}
    assert DISTRIBUTED.keys() <= tables
    assert tables - DISTRIBUTED.keys() - REFERENCE == set()


def unique_indexes_of_distributed_tables_should_include_the_room(
    catalog: dict[str, list[asyncpg.Record]],
) -> None:
    unique = [(table, index, set(columns)) for table, index, columns in catalog["unique"]]
    checked = [(table, index) for table, index, _ in unique if table in DISTRIBUTED]
    assert {table for table, _ in checked} == DISTRIBUTED.keys()  # each has its primary key
    without_room = [
        (table, index)
        for table, index, columns in unique
        if table in DISTRIBUTED and DISTRIBUTED[table] not in columns
    ]
    assert without_room == []


def foreign_keys_should_be_ones_citus_can_keep(
    catalog: dict[str, list[asyncpg.Record]],
) -> None:
    refused = []
    for name, table, target, columns, target_columns in catalog["foreign"]:
        if table in REFERENCE and target in REFERENCE:
            continue
        if table in DISTRIBUTED and target in REFERENCE:
            continue
        # Distributed to distributed: co-located, by the distribution column on both sides.
        pairs = set(zip(columns, target_columns, strict=True))
        if (
            table in DISTRIBUTED
            and target in DISTRIBUTED
            and (DISTRIBUTED[table], DISTRIBUTED[target]) in pairs
        ):
            continue
        refused.append(name)
    assert catalog["foreign"], "the schema's foreign keys were not found"
    assert refused == []
