"""Storage: repositories on SQLite (aiosqlite) or PostgreSQL (psycopg), and schema migrations.

Imports neither telegram, bot/ nor conversations/ (tests/test_floors.py).
"""

from storage.database import Database, DatabaseRefused, open_database, open_existing_database

__all__ = ["Database", "DatabaseRefused", "open_database", "open_existing_database"]
