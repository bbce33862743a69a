"""Benchmark: results for 100,000 responses of 10 questions, and the export's peak memory.

    python bench/results.py [--responses 100000]

Builds a database in a temporary folder (responses inserted as the bot stores them: a
responses row and one answers row per answer), then times the /results computation
(queries and rendering) and runs `haveyoursay export` as a child process for CSV and
Excel, reporting each one's peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations import results  # noqa: E402
from conversations.i18n import Catalogs  # noqa: E402
from conversations.services import Services, begin_visit  # noqa: E402
from conversations.survey.loader import load_consultation_text  # noqa: E402
from storage import open_database  # noqa: E402
from storage.responses import answer_rows  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def consultation_text() -> str:
    questions = []
    for i in range(7):
        choices = "\n".join(f'      - {{id: c{j}, text: {{en: "Choice {j}"}}}}' for j in range(5))
        questions.append(
            f'  - id: q{i}\n    type: single_choice\n    text: {{en: "Question {i}"}}\n    choices:\n{choices}'
        )
    choices = "\n".join(f'      - {{id: m{j}, text: {{en: "Option {j}"}}}}' for j in range(6))
    questions.append(f'  - id: q7\n    type: multiple_choice\n    text: {{en: "Pick some"}}\n    choices:\n{choices}')
    questions.append('  - id: q8\n    type: scale\n    min: 1\n    max: 5\n    text: {en: "Rate it"}')
    questions.append('  - id: q9\n    type: text\n    optional: true\n    text: {en: "Anything else?"}')
    header = """spec_version: 1
id: bench
default_language: en
title: {en: "Benchmark consultation"}
summary: {en: "Ten questions."}
organisation: {en: "Bench"}
can_influence: {en: "Everything."}
cannot_influence: {en: "Nothing."}
decision_by: {en: "Us."}
contact: {en: "bench@example.org"}
opens: 2026-01-01T00:00:00Z
closes: 2027-01-01T00:00:00Z
survey:
"""
    return header + "\n".join(questions) + "\n"


def random_answers(rng: random.Random) -> dict[str, object]:
    answers: dict[str, object] = {f"q{i}": f"c{rng.randrange(5)}" for i in range(7)}
    answers["q7"] = sorted(rng.sample([f"m{j}" for j in range(6)], rng.randint(1, 3)))
    answers["q8"] = rng.randint(1, 5)
    answers["q9"] = rng.choice([None, "It would help to have later appointments on weekdays."])
    return answers


async def build(path: Path, count: int) -> None:
    loaded = load_consultation_text(consultation_text(), "bench.yaml")
    assert loaded.consultation is not None and loaded.data is not None, loaded.problems
    c = loaded.consultation
    rng = random.Random(7)
    async with open_database(path) as db:
        await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, NOW)
        stamp = NOW.isoformat()
        async with db.transaction():
            for start in range(0, count, 5000):
                responses, answers = [], []
                for n in range(start, min(count, start + 5000)):
                    rid = f"{n:032x}"
                    given = random_answers(rng)
                    responses.append(
                        (
                            rid,
                            "bench",
                            1,
                            rng.choice(["en", "cy", "pl"]),
                            "{}",
                            json.dumps(given),
                            stamp,
                            stamp,
                            stamp,
                            rng.choice(["sittingbourne", "sheerness", None]),
                        )
                    )
                    answers += [(rid, "bench", q, v, first) for q, v, first in answer_rows(given)]
                await db.connection.executemany(
                    "INSERT INTO responses(response_id, consultation_id, version, language, state, answers,"
                    " started_at, updated_at, submitted_at, area_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    responses,
                )
                await db.connection.executemany(
                    "INSERT INTO answers(response_id, consultation_id, question_id, value, first)"
                    " VALUES (?, ?, ?, ?, ?)",
                    answers,
                )


async def time_results(path: Path) -> tuple[float, float]:
    from conversations.deployment import Deployment

    async with open_database(path) as db:
        services = Services(db=db, catalogs=Catalogs.load(), deployment=Deployment(), clock=lambda: NOW)
        visit = await begin_visit(services, 1, "en")
        started = time.perf_counter()
        tally = await db.results.tally("bench")
        queries = time.perf_counter() - started
        started = time.perf_counter()
        found = await results.results(visit, "bench")
        total = time.perf_counter() - started
        assert found is not None and tally.submitted > 0
        # The workspace's results page: the report, and the latest written answers shown on it.
        started = time.perf_counter()
        report = await results.results_report(services, visit.t, "bench", NOW)
        await results.written_answers_page(services, "bench", "q9", "", 1, 3)
        page = time.perf_counter() - started
        assert report is not None
        started = time.perf_counter()
        matching, _answers = await results.written_answers_page(services, "bench", "q9", "weekdays", 2)
        search = time.perf_counter() - started
        print(
            f"workspace results page: data {page * 1000:.0f} ms;"
            f" a search of {matching} written answers {search * 1000:.0f} ms"
        )
    return queries, total


def export_peak(path: Path, file_format: str, out: Path) -> tuple[float, float]:
    env = {**os.environ, "HAVEYOURSAY_DB": str(path)}
    env.pop("HAVEYOURSAY_CONFIG", None)
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "export", "bench", "--format", file_format, "-o", str(out)], env=env, cwd=ROOT
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        started = time.perf_counter()
        asyncio.run(build(path, args.responses))
        print(
            f"built {args.responses} responses in {time.perf_counter() - started:.1f} s "
            f"({path.stat().st_size / 1e6:.0f} MB)"
        )
        queries, total = asyncio.run(time_results(path))
        print(f"results: queries {queries * 1000:.0f} ms; queries, text and chart together {total * 1000:.0f} ms")
        for file_format in ("csv", "xlsx"):
            out = Path(folder) / f"export.{file_format}"
            seconds, peak = export_peak(path, file_format, out)
            print(
                f"export {file_format}: {seconds:.1f} s, peak RSS {peak:.0f} MB, file {out.stat().st_size / 1e6:.1f} MB"
            )
    print(f"benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
