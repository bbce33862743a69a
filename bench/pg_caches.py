"""What PostgreSQL's "no remembered rows" costs on a resident's answer (storage/database.py, `shared`).

    python bench/pg_caches.py postgresql://postgres@127.0.0.1:5432/bench [--answers 2000] [--concurrent 16]

On SQLite the bot remembers residents and responses (one process writes them); on PostgreSQL it
does not, since several workers may write the same rows. An answer reads its resident and its
response, then saves the response's progress: with the rows remembered that is one round trip,
without them three. Here the same answers run with the repositories remembering (as on SQLite)
and not (as on PostgreSQL), in alternating rounds of one run, on the same PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import open_database
from storage.residents import ResidentRepository
from storage.responses import ResponseRepository

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONSULTATION = "bench-caches"
RESIDENTS = 300


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with open_database(args.url) as db:
        stamp = NOW.isoformat()
        await db.connection.execute(
            "INSERT INTO consultations(id, current_version, revision, opens, closes, updated_at)"
            " VALUES (?, 1, 1, ?, ?, ?) ON CONFLICT DO NOTHING",
            (CONSULTATION, stamp, "2027-01-01T00:00:00+00:00", stamp),
        )
        await db.connection.execute(
            "INSERT INTO consultation_versions(consultation_id, version, definition, structure, created_at)"
            " VALUES (?, 1, '{}', '[]', ?) ON CONFLICT DO NOTHING",
            (CONSULTATION, stamp),
        )
        for chat in range(RESIDENTS):
            await db.residents.acknowledge(20_000 + chat, "en", NOW, None)
        results: dict[str, list[tuple[float, float]]] = {"remembered (as on SQLite)": [], "not remembered": []}
        for _ in range(args.rounds):
            for name in results:
                remembered = 100_000 if name.startswith("remembered") else 0
                residents = ResidentRepository(db.connection, remembered)
                responses = ResponseRepository(db.connection, remembered)
                latencies: list[float] = []
                numbers = iter(range(args.answers))

                async def answering(
                    residents: ResidentRepository = residents,
                    responses: ResponseRepository = responses,
                    latencies: list[float] = latencies,
                    numbers: object = numbers,
                ) -> None:
                    for n in numbers:  # type: ignore[attr-defined]
                        chat = 20_000 + n % RESIDENTS
                        began = time.perf_counter()
                        await residents.get(chat)
                        rid = f"cache-{chat}"
                        await responses.get(rid)
                        state = {"answers": {"q": n}, "path": ["q", "r"]}
                        await responses.save_progress(rid, CONSULTATION, 1, "en", state, NOW)
                        latencies.append(time.perf_counter() - began)

                began = time.perf_counter()
                await asyncio.gather(*(answering() for _ in range(args.concurrent)))
                elapsed = time.perf_counter() - began
                results[name].append((args.answers / elapsed, statistics.quantiles(latencies, n=100)[98] * 1000))
        await db.connection.execute("DELETE FROM responses WHERE consultation_id = ?", (CONSULTATION,))
        await db.connection.execute(
            "DELETE FROM residents WHERE chat_id >= 20000 AND chat_id < ?", (20_000 + RESIDENTS,)
        )
    print(
        f"{args.answers} answers x {args.rounds} rounds, {args.concurrent} in flight"
        " (read resident, read response, save)"
    )
    for name, runs in results.items():
        rates = [rate for rate, _ in runs]
        print(
            f"{name:28} {statistics.median(rates):6.0f} answers/s (runs {', '.join(f'{r:.0f}' for r in rates)})"
            f"  p99 {statistics.median([p for _, p in runs]):6.1f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
