"""Storage: aiosqlite repositories and schema migrations.

Imports neither telegram, bot/ nor conversations/ (tests/test_floors.py).
"""

from storage.database import Database, open_database

__all__ = ["Database", "open_database"]
