"""One throw-away PostgreSQL cluster for the whole test run, shared by every pytest-xdist worker.

How it works:
- The controlling pytest process (xdist's master, or the only process without xdist) makes a
  run-specific directory at start-up and hands its path to the workers (`pytest_configure_node`).
- The first test that needs PostgreSQL starts the cluster there, under a file lock in that directory;
  the other workers wait on the lock and reuse it (its port is in `state.json`).
- The controller stops the cluster and removes the directory at the end of the run
  (`pytest_unconfigure`, after every worker has finished). If the controller dies without getting
  there (killed), a watchdog started with the cluster sees it gone and stops the cluster: nothing is
  left running after the run.
- The cluster runs as the `postgres` user when the tests run as root (initdb refuses root), else as
  the current user. It is tuned for throw-away data: fsync, synchronous_commit and full_page_writes off.
  It lives in /dev/shm where there is one (else in the temporary directory), and listens on a unix
  socket in its directory and on a free TCP port on 127.0.0.1, with trust auth.
- Each test gets a fresh database (`postgres_url`), copied from a template database prepared once per
  run (`prepare_template`: the storage backend registers how to fill it, e.g. run the migrations), and
  dropped after the test. `empty_postgres_url` is a database with nothing in it, whatever the template
  holds; `postgres_cluster` makes and drops databases from any template (`create_database`).
- `database_target` runs a test on both backends: a SQLite file path or a PostgreSQL URL.
- Without PostgreSQL installed, the tests that need it fail and say what to install;
  HAVEYOURSAY_TEST_POSTGRES=off deselects them.

Measured on the 2-core development machine (medians of 20; "busy" is with a load average over 20):
- starting the cluster (initdb + pg_ctl start), once per run: 1.2 s idle, 5 to 8 s busy;
- a database copied from a template, busy: 55 ms from an empty one, 85 ms from one with 40 tables and
  40 indexes, with the cluster in /dev/shm and STRATEGY FILE_COPY. On disk (/tmp, ext4) the same took
  0.5 to 2.3 s, and WAL_LOG (PostgreSQL 15's default) is 2 to 3 times slower than FILE_COPY in memory;
- dropping it: 15 to 35 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import json
import os
import pwd
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ENVIRONMENT = "HAVEYOURSAY_TEST_POSTGRES"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
DEFAULT_TEMPLATE = "haveyoursay_template"
# Always empty (nobody may register a builder for it): for tests of what happens to a new database.
EMPTY_TEMPLATE = "haveyoursay_empty"
MARKER = "postgresql"

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR_KEY = "haveyoursay_postgres_run_dir"
CONTROLLER_KEY = "haveyoursay_postgres_controller"
_RUN_DIR = pytest.StashKey[Path]()

INSTALL_HINT = (
    "PostgreSQL is not installed, and these tests run on a throw-away PostgreSQL cluster. "
    "Install Debian's package: `apt-get install postgresql` (.ci/run does), "
    f"or set {ENVIRONMENT}=off to deselect the PostgreSQL tests."
)
PSYCOPG_HINT = 'psycopg is not installed: install the test extra (`pip install -e ".[test]"`).'

# For data thrown away after the run: nothing is written to disk for safety.
SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    # Every worker's tests, bot processes and their pools at once.
    "max_connections": "300",
    # An autovacuum worker in a template would hold up CREATE DATABASE from it.
    "autovacuum": "off",
    "jit": "off",
    "log_min_messages": "warning",
}

# How a template database is filled: called with the template's URL, once per run.
# It may return an awaitable (an `async def`), which is run to completion in an event loop of its own.
TemplateBuilder = Callable[[str], object]
_TEMPLATE_BUILDERS: dict[str, TemplateBuilder] = {}


def prepare_template(build: TemplateBuilder, name: str = DEFAULT_TEMPLATE) -> None:
    """Say how to fill the template database `name` that `postgres_url` copies for each test.

    Call it at import time (in a conftest or in this module) in every process: `build(url)` runs once
    per test run, in whichever worker needs the template first, under the cluster's file lock.
    Without a builder the template is an empty database.
    """
    if name == EMPTY_TEMPLATE:
        raise ValueError(f"{EMPTY_TEMPLATE} stays empty: fill a template of another name")
    _TEMPLATE_BUILDERS[name] = build


def postgres_off() -> bool:
    """HAVEYOURSAY_TEST_POSTGRES=off: the PostgreSQL tests are deselected (unset or `on`: they run)."""
    value = os.environ.get(ENVIRONMENT, "").strip().lower()
    if value not in ("", "on", "off"):
        raise pytest.UsageError(f"{ENVIRONMENT} is off or on, not {value!r}")
    return value == "off"


# ---------------------------------------------------------------------------------------------------
# The cluster on disk: started once per run, stopped by the controller (or its watchdog).


def find_binaries() -> Path | None:
    """The directory with initdb and pg_ctl: Debian's newest /usr/lib/postgresql/N/bin, else PATH."""

    def version(directory: Path) -> tuple[int, str]:
        name = directory.parent.name
        return (int(name) if name.isdigit() else -1, name)

    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True):
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "pg_ctl").is_file():
        return Path(initdb).parent
    return None


def _owner() -> pwd.struct_passwd | None:
    """The account the cluster runs as: `postgres` when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        pytest.fail(
            "The tests run as root and there is no `postgres` account to run PostgreSQL as (initdb refuses "
            "root). Debian's `postgresql` package makes it: `apt-get install postgresql`."
        )


def _as_owner(owner: pwd.struct_passwd | None, *args: str | Path) -> list[str]:
    command = [str(arg) for arg in args]
    return ["runuser", "-u", owner.pw_name, "--", *command] if owner else command


def _environment() -> dict[str, str]:
    """Ours, without the PG* variables that would point initdb or pg_ctl at another cluster."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # No stdin: a pytest-xdist worker's is its channel to the master.
    return subprocess.run(
        command, cwd=cwd, env=_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _memory_dir() -> str | None:
    """/dev/shm where there is one: databases copied in memory, not on disk (see the numbers at the top)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _state_path(run_dir: Path) -> Path:
    return run_dir / "state.json"


def read_state(run_dir: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(_state_path(run_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return state


def _write_state(run_dir: Path, state: dict[str, Any]) -> None:
    partial = run_dir / "state.json.partial"
    partial.write_text(json.dumps(state), encoding="utf-8")
    partial.replace(_state_path(run_dir))


@contextlib.contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """The run's file lock: one process at a time starts the cluster or fills a template."""
    with (run_dir / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_cluster(run_dir: Path, controller: int) -> dict[str, Any]:
    """initdb and start a cluster in `run_dir/cluster` (the caller holds the lock); its state."""
    binaries = find_binaries()
    if binaries is None:
        pytest.fail(INSTALL_HINT)
    owner = _owner()
    began = time.monotonic()
    home = run_dir / "cluster"
    home.mkdir()
    if owner:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data = home / "data"
    made = _run(
        _as_owner(
            owner,
            binaries / "initdb",
            "--pgdata",
            data,
            "--username",
            SUPERUSER,
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ),
        cwd=home,
    )
    if made.returncode != 0:
        pytest.fail(f"initdb failed for the tests' PostgreSQL cluster:\n{made.stdout}{made.stderr}")
    settings = {**SETTINGS, "listen_addresses": f"'{HOST}'", "unix_socket_directories": f"'{home}'"}
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# The test suite's throw-away cluster (tests/postgres.py)\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    # The watchdog first: it stops the cluster if the controller dies from here on.
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "tests.postgres", "watchdog", str(controller), str(run_dir)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    state: dict[str, Any] = {
        "binaries": str(binaries),
        "data": str(data),
        "socket": str(home),
        "watchdog": watchdog.pid,
    }
    _write_state(run_dir, state)
    failures = []
    for _attempt in range(5):  # another process may take the free port before the server binds it
        port = _free_port()
        started = _run(
            _as_owner(
                owner,
                binaries / "pg_ctl",
                "--pgdata",
                data,
                "--log",
                home / "log",
                "--wait",
                "--timeout=60",
                "--options",
                f"-p {port}",
                "start",
            ),
            cwd=home,
        )
        if started.returncode == 0:
            state.update(port=port, started_in_seconds=round(time.monotonic() - began, 3))
            _write_state(run_dir, state)
            return state
        log = home / "log"
        failures.append(started.stdout + started.stderr + (log.read_text(errors="replace") if log.exists() else ""))
    pytest.fail("The tests' PostgreSQL cluster did not start:\n" + "\n".join(failures))


def stop_cluster(run_dir: Path) -> None:
    """Stop the run's cluster if it was started, and remove the run's directory."""
    state = read_state(run_dir)
    if state and "data" in state:
        data = Path(state["data"])
        owner = None
        if os.geteuid() == 0:
            with contextlib.suppress(KeyError):
                owner = pwd.getpwnam(SUPERUSER)
        pg_ctl = Path(state["binaries"]) / "pg_ctl"
        stop = _as_owner(owner, pg_ctl, "--pgdata", data, "--mode=immediate", "--wait", "stop")
        stopped = _run(stop, cwd=data.parent)
        pidfile = data / "postmaster.pid"
        if stopped.returncode != 0 and pidfile.exists():  # its children end when the postmaster does
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                os.kill(int(pidfile.read_text().split()[0]), 9)
    shutil.rmtree(run_dir, ignore_errors=True)


def _watchdog(controller: int, run_dir: Path) -> None:
    """Wait for the controlling pytest process to end; then stop the cluster if it is still there."""
    try:
        handle = os.pidfd_open(controller)
    except ProcessLookupError:
        pass
    except OSError:  # no pidfd here: ask now and then
        while run_dir.exists():
            try:
                os.kill(controller, 0)
            except ProcessLookupError:
                break
            time.sleep(1)
    else:
        select.select([handle], [], [])
        os.close(handle)
    if run_dir.exists():
        with _locked(run_dir):
            stop_cluster(run_dir)


# ---------------------------------------------------------------------------------------------------
# A worker's handle on the cluster.


def _run_awaitable(awaitable: object) -> None:
    """Run an awaitable to completion in a thread of its own (a test's event loop may be running)."""

    async def wait() -> None:
        await awaitable  # type: ignore[misc]

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(wait())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


class PostgresCluster:
    """The run's cluster, as one test process uses it: databases made from templates and dropped."""

    def __init__(self, run_dir: Path, state: dict[str, Any]) -> None:
        self.run_dir = run_dir
        self.port = int(state["port"])
        self.socket_dir = Path(state["socket"])
        self.started_in_seconds = float(state.get("started_in_seconds", 0.0))
        self._templates: set[str] = set()
        self._admin: Any = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def _connection(self) -> Any:
        import psycopg

        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.url(), autocommit=True)
        return self._admin

    def _execute(self, sql: str) -> None:
        self._connection().execute(sql)

    def _server_version(self) -> int:
        version: int = self._connection().info.server_version
        return version

    def template(self, name: str = DEFAULT_TEMPLATE) -> str:
        """The template database `name`, filled by its builder once per run (see `prepare_template`)."""
        if name in self._templates:
            return name
        ready = self.run_dir / f"template-{name}.ready"
        with _locked(self.run_dir):
            if not ready.exists():
                self._execute(f'DROP DATABASE IF EXISTS "{name}"')  # a build that failed halfway
                self._execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
                build = _TEMPLATE_BUILDERS.get(name)
                if build is not None:
                    result = build(self.url(name))
                    if inspect.isawaitable(result):
                        _run_awaitable(result)
                # Nobody connects to it any more: a connection to a template stops CREATE DATABASE from it.
                self._execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
                ready.touch()
        self._templates.add(name)
        return name

    def create_database(self, template: str = DEFAULT_TEMPLATE) -> str:
        """A new database copied from `template` (prepared on first use); its name."""
        source = self.template(template)
        name = f"test_{uuid.uuid4().hex[:16]}"
        # FILE_COPY (PostgreSQL 15's default is WAL_LOG) copies the files whole: faster for a small template.
        strategy = " STRATEGY FILE_COPY" if self._server_version() >= 150000 else ""
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"{strategy}')
        return name

    def drop_database(self, name: str) -> None:
        """Drop it, ending any connection a test left open to it."""
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


def _run_dir(config: pytest.Config) -> tuple[Path, int]:
    """This run's directory and the pid of the process that stops the cluster."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and RUN_DIR_KEY in workerinput:
        return Path(workerinput[RUN_DIR_KEY]), int(workerinput[CONTROLLER_KEY])
    return config.stash[_RUN_DIR], os.getpid()


def connect_cluster(config: pytest.Config) -> PostgresCluster:
    """The run's cluster, started by this process if no other has yet."""
    if postgres_off():
        pytest.fail(
            f"{ENVIRONMENT}=off, yet this test needs PostgreSQL without saying so: "
            f"mark it @pytest.mark.{MARKER} so that it is deselected."
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(PSYCOPG_HINT)
    run_dir, controller = _run_dir(config)
    with _locked(run_dir):
        state = read_state(run_dir)
        if state is None or "port" not in state:
            if state is not None:  # a start that failed in another process: fail the same way, quickly
                pytest.fail(state.get("error", "The tests' PostgreSQL cluster did not start (see another test)."))
            try:
                state = start_cluster(run_dir, controller)
            except BaseException as failure:
                why = failure.msg if isinstance(failure, pytest.fail.Exception) else repr(failure)
                _write_state(run_dir, {**(read_state(run_dir) or {}), "error": why})
                raise
    return PostgresCluster(run_dir, state)


# ---------------------------------------------------------------------------------------------------
# Fixtures.


@pytest.fixture(scope="session")
def postgres_cluster(request: pytest.FixtureRequest) -> Iterator[PostgresCluster]:
    """The run's PostgreSQL cluster (shared by all workers, stopped at the end of the run)."""
    cluster = connect_cluster(request.config)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def postgres_template() -> str:
    """The template `postgres_url` copies; override it in a module or class to use another one."""
    return DEFAULT_TEMPLATE


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster, postgres_template: str) -> Iterator[str]:
    """A fresh database for this test, copied from the template: postgresql://postgres@127.0.0.1:PORT/test_…"""
    name = postgres_cluster.create_database(postgres_template)
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.drop_database(name)


@pytest.fixture
def empty_postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh, empty database for this test (no migrations, whatever the template has)."""
    name = postgres_cluster.create_database(EMPTY_TEMPLATE)
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", MARKER])
def database_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test once on each backend: a SQLite file path (not yet made), then a fresh PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "haveyoursay.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def another_target(database_target: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the backend of `database_target`, for a test that compares two."""
    if not database_target.startswith("postgresql://"):
        yield str(tmp_path / "another.db")
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database(request.getfixturevalue("postgres_template"))
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


# ---------------------------------------------------------------------------------------------------
# Hooks.


def pytest_configure(config: pytest.Config) -> None:
    postgres_off()  # a value it does not know stops the run at once
    config.addinivalue_line(
        "markers", f"{MARKER}: needs the test run's PostgreSQL cluster ({ENVIRONMENT}=off deselects)"
    )
    if getattr(config, "workerinput", None) is None:  # the controller: xdist's master, or the only process
        run_dir = Path(tempfile.mkdtemp(prefix="haveyoursay-pg-", dir=_memory_dir()))
        run_dir.chmod(0o711)  # the `postgres` account goes through it to its own cluster directory
        config.stash[_RUN_DIR] = run_dir


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist's master tells each worker where the run's cluster lives and who stops it."""
    node.workerinput[RUN_DIR_KEY] = str(node.config.stash[_RUN_DIR])
    node.workerinput[CONTROLLER_KEY] = os.getpid()


def needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    fixtures = getattr(item, "fixturenames", ())
    return (
        item.get_closest_marker(MARKER) is not None
        or "postgres_cluster" in fixtures  # postgres_url and empty_postgres_url use it
        or (callspec is not None and callspec.params.get("database_target") == MARKER)
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted, deselected = [], []
    for item in items:
        if needs_postgres(item):
            item.add_marker(MARKER)
            if postgres_off():
                deselected.append(item)
                continue
        wanted.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = wanted


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller stops the cluster: every worker has finished by now."""
    if getattr(config, "workerinput", None) is None and _RUN_DIR in config.stash:
        run_dir = config.stash[_RUN_DIR]
        if run_dir.exists():
            with _locked(run_dir):
                stop_cluster(run_dir)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "watchdog":
        _watchdog(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit("usage: python -m tests.postgres watchdog CONTROLLER_PID RUN_DIR")
