"""Interim: a fresh PostgreSQL database per test on an already running cluster (HAVEYOURSAY_TEST_PG_ADMIN).

Same fixture names as tests/postgres.py (`postgres_url`, `database_target`), which replaces this.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from storage import open_database

ADMIN = os.environ.get("HAVEYOURSAY_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:55433/postgres")
_TEMPLATE = f"hys_template_{os.getpid()}"


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(sql.encode())


def _url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


async def _migrate(url: str) -> None:
    async with open_database(url):
        pass


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    _admin(f"DROP DATABASE IF EXISTS {_TEMPLATE}")
    _admin(f"CREATE DATABASE {_TEMPLATE}")
    asyncio.run(_migrate(_url(_TEMPLATE)))
    try:
        yield _TEMPLATE
    finally:
        _admin(f"DROP DATABASE IF EXISTS {_TEMPLATE} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    try:
        yield _url(name)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "haveyoursay.db")
    url: str = request.getfixturevalue("postgres_url")
    return url
