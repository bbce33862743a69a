"""Storage: aiosqlite repositories and schema migrations. Nothing here imports Telegram."""

from storage.database import Database, open_database

__all__ = ["Database", "open_database"]
