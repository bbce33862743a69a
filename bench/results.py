"""Benchmark: results for 100,000 responses of 10 questions, the workspace's results pages, and the
export's peak memory.

    python bench/results.py [--responses 100000] [--texts 5000] [--runs 7] [--no-export]

Builds a database in a temporary folder (responses inserted as the bot stores them: a
responses row and one answers row per answer; `--texts` of them answer the free-text
question, each differently), then times, in turns in one process, the chat's /results
(its queries alone, and with its text and chart) and the workspace's pages through the
real Starlette app (bot/web/app.py) served by httpx's ASGI transport to an officer signed
in by a one-time link: the results page (alone, and with the pictures it shows), and the
written answers (first page, a late page, a search that finds one answer, one that finds
many). Then runs `haveyoursay export` as a child process for CSV and Excel, reporting each
one's peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversations import results  # noqa: E402
from conversations.deployment import load_deployment  # noqa: E402
from conversations.i18n import Catalogs  # noqa: E402
from conversations.services import Services, begin_visit  # noqa: E402
from conversations.survey.loader import load_consultation_text  # noqa: E402
from storage import open_database  # noqa: E402
from storage.responses import answer_rows  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DEPLOYMENT = ROOT / "haveyoursay.example.yaml"  # its areas: sittingbourne, sheerness, faversham
AREAS = ("sittingbourne", "sheerness", "faversham")


def consultation_text() -> str:
    """Ten questions, every type: four single choice, a multiple choice, a scale, yes/no, a number, an area
    and an optional free text."""
    questions = []
    for i in range(4):
        choices = "\n".join(f'      - {{id: c{j}, text: {{en: "Choice {j}"}}}}' for j in range(5))
        questions.append(
            f'  - id: q{i}\n    type: single_choice\n    text: {{en: "Question {i}"}}\n    choices:\n{choices}'
        )
    choices = "\n".join(f'      - {{id: m{j}, text: {{en: "Option {j}"}}}}' for j in range(6))
    questions.append(f'  - id: q4\n    type: multiple_choice\n    text: {{en: "Pick some"}}\n    choices:\n{choices}')
    questions.append('  - id: q5\n    type: scale\n    min: 1\n    max: 5\n    text: {en: "Rate it"}')
    questions.append('  - id: q6\n    type: yes_no\n    text: {en: "Would you book online?"}')
    questions.append('  - id: q7\n    type: number\n    min: 0\n    max: 300\n    text: {en: "How many minutes?"}')
    questions.append('  - id: q8\n    type: area\n    optional: true\n    text: {en: "Where do you live?"}')
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


def random_answers(rng: random.Random, written: str | None) -> dict[str, object]:
    answers: dict[str, object] = {f"q{i}": f"c{rng.randrange(5)}" for i in range(4)}
    answers["q4"] = sorted(rng.sample([f"m{j}" for j in range(6)], rng.randint(1, 3)))
    answers["q5"] = rng.randint(1, 5)
    answers["q6"] = rng.choice(["yes", "no"])
    answers["q7"] = rng.randint(0, 120)
    answers["q8"] = rng.choice([*AREAS, None])
    answers["q9"] = written
    return answers


async def build(path: Path, count: int, texts: int) -> None:
    loaded = load_consultation_text(consultation_text(), "bench.yaml")
    assert loaded.consultation is not None and loaded.data is not None, loaded.problems
    c = loaded.consultation
    rng = random.Random(7)
    writing = set(rng.sample(range(count), min(texts, count)))
    needle = min(writing) if writing else -1
    async with open_database(path) as db:
        await db.consultations.save(loaded.data, c.structure(), c.opens, c.closes, NOW)
        async with db.transaction():
            for start in range(0, count, 5000):
                responses, answers = [], []
                for n in range(start, min(count, start + 5000)):
                    rid = f"{n:032x}"
                    stamp = (NOW - timedelta(days=60) * (1 - n / count)).isoformat()  # over 60 days
                    written = written_answer(rng) if n in writing else None
                    if n == needle:
                        written = f"The {NEEDLE} surgery answers the phone at once."
                    given = random_answers(rng, written)
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
                            given["q8"],
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


VOCABULARY = (
    "appointment phone evening weekend surgery nurse doctor receptionist queue online app booking morning "
    "waiting parking bus prescription pharmacy letter text message callback week month early late lunch "
    "children work shift carer school hospital test results referral clinic staff kind rude quick slow "
    "difficult easy helpful confusing always never sometimes often later earlier open closed hours busy"
)
WORDS = VOCABULARY.split()
NEEDLE = "zanzibar"  # in exactly one written answer: the search that must find one in thousands


def written_answer(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 40))]
    return " ".join(words).capitalize() + "."


async def time_results(path: Path, runs: int) -> None:
    """The chat's /results (the baseline) and the workspace's pages through the real Starlette app, in turns
    in one process and one event loop, so the machine's changes of speed fall on both alike."""
    import httpx

    from bot.web.app import workspace_app
    from conversations import workspace

    officer = 1
    async with open_database(path) as db:
        services = Services(
            db=db,
            catalogs=Catalogs.load(),
            deployment=load_deployment(DEPLOYMENT),
            clock=lambda: NOW,
            admins=frozenset({officer}),
        )
        services.workspace_url = "http://workspace.test"
        visit = await begin_visit(services, officer, "en")
        app = workspace_app(services, "0:bench", services.workspace_url)
        # httpx's ASGI transport: the real app, in this process and event loop (as `haveyoursay run`
        # serves it beside the bot), without a socket; the officer signs in by a one-time link.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=services.workspace_url) as client:
            link = await workspace.signin_link(services, officer, NOW)
            signed = await client.post(link.removeprefix(services.workspace_url))
            assert signed.status_code == 303 and client.cookies, signed.status_code
            base = "/consultations/bench/results"

            async def page(url: str, *expected: str) -> str:
                got = await client.get(url)
                assert got.status_code == 200, (url, got.status_code)
                for text in expected:
                    assert text in got.text, (url, text)
                return got.text

            async def yardstick() -> None:  # the same work whatever the code: it shows the machine's speed
                await db.connection.execute_fetchall("SELECT COUNT(*) FROM answers WHERE consultation_id = 'bench'")

            async def chat_counts() -> None:
                assert (await db.results.tally("bench")).submitted > 0

            async def chat_results() -> None:
                assert await results.results(visit, "bench") is not None

            async def results_page() -> None:
                await page(base, "Results: Benchmark consultation")

            async def results_page_and_charts() -> None:
                text = await page(base)
                for src in re.findall(r'<img[^>]* src="(/[^"]+)"', text):  # not those drawn in the page
                    got = await client.get(src)
                    assert got.status_code == 200, (src, got.status_code)

            async def answers_first() -> None:
                await page(f"{base}/q9/answers", "Page 1 of")

            async def answers_late() -> None:
                await page(f"{base}/q9/answers?page=90", "Page 90 of")

            async def answers_search_one() -> None:
                await page(f"{base}/q9/answers?q={NEEDLE}", "1 answer contains")

            async def answers_search_many() -> None:
                await page(f"{base}/q9/answers?q=phone", "answers contain")

            measured: dict[str, Callable[[], Awaitable[None]]] = {
                "yardstick: SQLite counts every answer row (the same in any version)": yardstick,
                "chat /results: counts (all queries)": chat_counts,
                "chat /results: counts, text and chart": chat_results,
                "workspace: results page (HTML)": results_page,
                "workspace: results page and its pictures": results_page_and_charts,
                "workspace: written answers, page 1": answers_first,
                "workspace: written answers, page 90": answers_late,
                f"workspace: written answers, search found in one ({NEEDLE})": answers_search_one,
                "workspace: written answers, search found in many (phone)": answers_search_many,
            }
            times: dict[str, list[float]] = {name: [] for name in measured}
            cpu: dict[str, list[float]] = {name: [] for name in measured}
            first: dict[str, float] = {}
            for run in range(runs + 1):  # run 0 is the first use (imports, caches), reported apart
                for name, measure in measured.items():
                    started, used = time.perf_counter(), time.process_time()
                    await measure()
                    spent = time.perf_counter() - started
                    if run == 0:
                        first[name] = spent
                    else:
                        times[name].append(spent)
                        cpu[name].append(time.process_time() - used)  # every thread: SQLite's too
        total = (await db.results.text_answers_page("bench", "q9", "", 1, 0))[0]
    print(f"{total} written answers; median and worst of {runs} runs in turns, the first use apart:")
    print("| what | median | worst | CPU (median) | first use |\n| --- | ---: | ---: | ---: | ---: |")
    for name, spent in times.items():
        print(
            f"| {name} | {statistics.median(spent) * 1000:.0f} ms | {max(spent) * 1000:.0f} ms"
            f" | {statistics.median(cpu[name]) * 1000:.0f} ms | {first[name] * 1000:.0f} ms |"
        )


def export_peak(path: Path, file_format: str, out: Path) -> tuple[float, float]:
    env = {**os.environ, "HAVEYOURSAY_DB": str(path)}
    env["HAVEYOURSAY_CONFIG"] = str(DEPLOYMENT)
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
    parser.add_argument("--texts", type=int, default=5_000, help="responses that answer the free-text question")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each page, in turns")
    parser.add_argument("--no-export", action="store_true", help="time the results only, not the exports")
    parser.add_argument("--database", type=Path, help="built here if missing, else used as it is (to compare code)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.database or Path(folder) / "bench.db"
        if not path.exists():
            started = time.perf_counter()
            asyncio.run(build(path, args.responses, args.texts))
            print(
                f"built {args.responses} responses in {time.perf_counter() - started:.1f} s "
                f"({path.stat().st_size / 1e6:.0f} MB)"
            )
        asyncio.run(time_results(path, args.runs))
        if args.no_export:
            return
        for file_format in ("csv", "xlsx"):
            out = Path(folder) / f"export.{file_format}"
            seconds, peak = export_peak(path, file_format, out)
            print(
                f"export {file_format}: {seconds:.1f} s, peak RSS {peak:.0f} MB, file {out.stat().st_size / 1e6:.1f} MB"
            )
    print(f"benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
