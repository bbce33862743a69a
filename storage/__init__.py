"""Storage: aiosqlite repositories and schema migrations. Nothing here imports Telegram."""

from storage.database import Database, checkpoint, open_database

__all__ = ["Database", "checkpoint", "open_database"]
