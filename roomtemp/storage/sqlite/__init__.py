"""The SQLite backend: its store, statements, connection (with its file lock) and schema."""
