"""The test suite's throw-away PostgreSQL cluster (tests/postgres.py): one per run, a fresh database per test."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import postgres
from tests.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "fixture_test_template"


async def fill_template(url: str) -> None:
    """An asynchronous builder, as the storage backend's migrations are."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("CREATE TABLE from_template (note text)")
        await connection.execute("INSERT INTO from_template VALUES ('made once, in the template')")


postgres.prepare_template(fill_template, name=TEMPLATE)


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


class TestDatabaseFromATemplate:
    @pytest.fixture
    def postgres_template(self) -> str:
        return TEMPLATE

    @pytest.mark.parametrize("which", ["first", "second", "third"])
    def test_each_test_gets_a_fresh_copy_of_the_template(self, postgres_url: str, which: str) -> None:
        # Run side by side by xdist's workers: a table one of them made would show in another's database.
        assert tables(postgres_url) == {"from_template"}
        with psycopg.connect(postgres_url) as connection:
            assert connection.execute("SELECT note FROM from_template").fetchall() == [("made once, in the template",)]
            connection.execute("CREATE TABLE made_by_a_test (which text)")
            connection.execute("INSERT INTO from_template VALUES (%s)", (which,))
        assert tables(postgres_url) == {"from_template", "made_by_a_test"}

    async def test_an_asynchronous_test_gets_one_too(self, postgres_url: str) -> None:
        async with await psycopg.AsyncConnection.connect(postgres_url) as connection:
            cursor = await connection.execute("SELECT count(*) FROM from_template")
            assert await cursor.fetchone() == (1,)


@pytest.mark.parametrize("which", ["first", "second"])
def test_the_default_template_holds_the_migrated_schema(postgres_url: str, which: str) -> None:
    """tests/conftest.py fills it (prepare_template): every migration, as at start-up."""
    assert postgres_url.startswith("postgresql://postgres@127.0.0.1:")
    assert postgres_url.rsplit("/", 1)[1].startswith("test_")
    assert {"schema_version", "residents", "responses"} <= tables(postgres_url)
    assert "made_by_a_test" not in tables(postgres_url)
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE made_by_a_test (which text)")


def test_an_empty_database_whatever_the_template(empty_postgres_url: str) -> None:
    assert tables(empty_postgres_url) == set()
    with pytest.raises(ValueError):
        postgres.prepare_template(fill_template, name=postgres.EMPTY_TEMPLATE)


def test_two_databases_are_apart_and_dropped(postgres_cluster: PostgresCluster) -> None:
    one, other = postgres_cluster.create_database(), postgres_cluster.create_database()
    assert one != other
    with psycopg.connect(postgres_cluster.url(one)) as connection:
        connection.execute("CREATE TABLE only_here (n int)")
    assert tables(postgres_cluster.url(one)) - tables(postgres_cluster.url(other)) == {"only_here"}
    assert "only_here" not in tables(postgres_cluster.url(other))
    with psycopg.connect(postgres_cluster.url(other)):  # left open: dropping ends it
        postgres_cluster.drop_database(other)
    postgres_cluster.drop_database(one)
    with psycopg.connect(postgres_cluster.url()) as connection:
        names = {row[0] for row in connection.execute("SELECT datname FROM pg_database").fetchall()}
    assert one not in names and other not in names


def test_the_cluster_is_reachable_and_tuned_for_throw_away_data(postgres_cluster: PostgresCluster) -> None:
    by_tcp = psycopg.connect(postgres_cluster.url())
    by_socket = psycopg.connect(host=str(postgres_cluster.socket_dir), port=postgres_cluster.port, user="postgres")
    for connection in (by_tcp, by_socket):
        with connection:
            settings = {
                name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("fsync", "synchronous_commit", "full_page_writes", "port", "server_encoding")
            }
            assert settings == {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "port": str(postgres_cluster.port),
                "server_encoding": "UTF8",
            }


def test_database_target_is_a_sqlite_path_or_a_postgresql_url(database_target: str, tmp_path: Path) -> None:
    if database_target.startswith("postgresql://"):
        assert "residents" in tables(database_target)  # the migrated template's copy
    else:
        assert Path(database_target).parent == tmp_path
        assert not Path(database_target).exists()


def test_without_postgresql_the_tests_fail_and_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(postgres, "find_binaries", lambda: None)
    with pytest.raises(pytest.fail.Exception) as failure:
        postgres.start_cluster(tmp_path, os.getpid())
    assert "apt-get install postgresql" in str(failure.value)
    assert "HAVEYOURSAY_TEST_POSTGRES=off" in str(failure.value)


def test_off_and_a_test_that_needs_postgresql_unmarked_fails_and_says_why(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("HAVEYOURSAY_TEST_POSTGRES", "off")
    with pytest.raises(pytest.fail.Exception, match=r"mark it @pytest.mark.postgresql"):
        postgres.connect_cluster(request.config)


# ---------------------------------------------------------------------------------------------------
# Whole test runs in a pytest of their own.

INNER_TESTS = """
import json, os
from pathlib import Path

import pytest

from tests.postgres import read_state


def report(cluster, name):
    state = read_state(cluster.run_dir)
    postmaster = int((Path(state["data"]) / "postmaster.pid").read_text().split()[0])
    facts = {"port": cluster.port, "run_dir": str(cluster.run_dir), "postmaster": postmaster}
    facts["watchdog"] = state["watchdog"]
    Path(os.environ["REPORTS"], name).write_text(json.dumps(facts))
    return facts


@pytest.mark.parametrize("n", range(4))
def test_uses_postgres(postgres_url, postgres_cluster, n):
    report(postgres_cluster, f"uses-{n}")


def test_on_both(database_target):
    pass


def test_plain():
    pass


def test_killed(postgres_cluster):
    print("REPORT " + json.dumps(report(postgres_cluster, "killed")), flush=True)
    input()  # until the run is killed
"""


def inner_pytest(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    (tmp_path / "inner").mkdir(exist_ok=True)
    (tmp_path / "inner" / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), encoding="utf-8")
    (tmp_path / "inner" / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "reports").mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.postgres",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "inner" / "pytest.ini"),
            "--rootdir",
            str(tmp_path / "inner"),
            "-q",
            *args,
            str(tmp_path / "inner" / "test_inner.py"),
        ],
        cwd=ROOT,
        # Only the plugins these tests need: loading every installed one takes seconds on a busy machine.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "REPORTS": str(tmp_path / "reports"), **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once process `pid` has ended (it need not be our child)."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([handle], [], [], timeout)
        return bool(readable)
    finally:
        os.close(handle)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.postgresql
def test_one_cluster_for_all_workers_and_none_left_after_the_run(tmp_path: Path) -> None:
    run = inner_pytest(tmp_path, "-p", "xdist.plugin", "-n", "2", "-k", "uses_postgres")
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 0, output
    facts: list[dict[str, Any]] = [json.loads(path.read_text()) for path in (tmp_path / "reports").iterdir()]
    assert len(facts) == 4
    assert len({(fact["port"], fact["postmaster"]) for fact in facts}) == 1, facts
    assert wait_for_exit(facts[0]["postmaster"], timeout=10)
    assert not Path(facts[0]["run_dir"]).exists()


@pytest.mark.postgresql
def test_a_killed_run_leaves_no_cluster_behind(tmp_path: Path) -> None:
    run = inner_pytest(tmp_path, "-s", "-k", "killed")
    assert run.stdout is not None
    for line in run.stdout:
        if line.startswith("REPORT "):
            facts = json.loads(line.removeprefix("REPORT "))
            break
    else:
        raise AssertionError(f"the inner test did not report (exit status {run.wait()})")
    assert alive(facts["postmaster"])
    run.send_signal(signal.SIGKILL)
    run.wait()
    # The watchdog sees the run gone, stops the cluster, removes its directory, and ends.
    assert wait_for_exit(facts["watchdog"], timeout=60)
    assert wait_for_exit(facts["postmaster"], timeout=10)
    assert not Path(facts["run_dir"]).exists()


def test_off_deselects_the_postgresql_tests(tmp_path: Path) -> None:
    run = inner_pytest(tmp_path, "-k", "not killed", HAVEYOURSAY_TEST_POSTGRES="off")
    output, _ = run.communicate(timeout=120)
    assert run.returncode == 0, output
    assert "2 passed, 6 deselected" in output, output
    assert not list((tmp_path / "reports").iterdir())
