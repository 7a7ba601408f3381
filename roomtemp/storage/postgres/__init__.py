"""The PostgreSQL backend: its store, statements, migrations and schema. Imports asyncpg."""
