"""Benchmark: `haveyoursay copy-to` of 100,000 responses (1.1 million answer rows) into PostgreSQL.

    python bench/copy_to.py --url postgresql://postgres@127.0.0.1:5432/postgres [--responses 100000]
                            [--database built.db] [--postmaster-pid PID]

Builds the SQLite database as bench/results.py does (responses and their answer rows, as the bot
stores them) unless `--database` names one already built, makes a new database on the server of
`--url` for each run, and copies into it with `storage.copy_to` (the command's own code). Reports
the wall time, this process's CPU and, with `--postmaster-pid` (a server on this machine), the
server's: the backends' CPU is added to the postmaster's children's time when they exit.
The wall time depends on what else the machine runs; the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
import results  # noqa: E402

from storage.copy_to import copy_to_postgres  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def children_cpu(pid: int | None) -> float:
    """CPU seconds of the postmaster's children that have exited (its backends, once closed)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="a database on the server; a new one is made next to it")
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--database", type=Path, help="built here if missing, else used as it is")
    parser.add_argument("--postmaster-pid", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.database or Path(folder) / "bench.db"
        if not path.exists():
            asyncio.run(results.build(path, args.responses, 5_000))
        name = f"copy_to_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        target = args.url.rsplit("/", 1)[0] + "/" + name
        try:
            server, mine, began = children_cpu(args.postmaster_pid), time.process_time(), time.perf_counter()
            report = asyncio.run(copy_to_postgres(path, target, "", print))
            wall = time.perf_counter() - began
            used = children_cpu(args.postmaster_pid) - server
            print(
                f"copied {report.rows:,} rows: {wall:.1f} s wall, this process {time.process_time() - mine:.1f} s CPU"
                + (f", the server {used:.1f} s CPU" if args.postmaster_pid else "")
                + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            assert all(count.equal for count in report.counts)
        finally:
            with psycopg.connect(args.url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
