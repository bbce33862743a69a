"""The `haveyoursay` command line: check, import and preview, as an operator runs them."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEPLOYMENT = Path(__file__).resolve().parent / "data" / "deployment.yaml"


@pytest.fixture(autouse=True)
def operator_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment in an empty folder, with the test deployment."""
    for name in ("TELEGRAM_BOT_TOKEN", "HAVEYOURSAY_ADMINS", "HAVEYOURSAY_DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "cli.db"
    monkeypatch.setenv("HAVEYOURSAY_DB", str(database))
    monkeypatch.setenv("HAVEYOURSAY_CONFIG", str(DEPLOYMENT))
    return database


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_passes_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert main(["check", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert all(f"{f}: ok" in out for f in files)


def test_check_reports_each_problem_on_one_line_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (EXAMPLES / "gp-opening-hours.yaml").read_text(encoding="utf-8")
    broken = text.replace("type: scale", "type: slider").replace(
        "closes: 2027-01-31T23:59:00Z", "closes: 2026-10-01T00:00:00Z"
    )
    path = write(tmp_path, "broken.yaml", broken)
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{path}:27: closes: closes (2026-10-01T00:00:00+00:00) must be after opens (2026-11-01T09:00:00+00:00)",
        f"{path}:51: survey[2].type: unknown question type 'slider'; known: single_choice, multiple_choice, "
        "scale, number, yes_no, text, area",
        f"{path}:64: survey[3].show_if.question: 'rating' has problems of its own (see above)",
    ]


def test_check_names_an_id_used_by_two_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = write(tmp_path, "copy.yaml", (EXAMPLES / "gp-opening-hours.yaml").read_text(encoding="utf-8"))
    assert main(["check", str(EXAMPLES / "gp-opening-hours.yaml"), str(copy)]) == 1
    assert f"{copy}: id: duplicate consultation id 'gp-opening-hours'" in capsys.readouterr().out


def test_import_adds_then_reports_unchanged(operator_environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = str(EXAMPLES / "gp-opening-hours.yaml")
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["import", example]) == 0
    assert main(["import", example]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [
        f"{example}: gp-opening-hours: added",
        f"{example}: gp-opening-hours: unchanged",
    ]
    assert printed.err.splitlines() == [f"Using the database {operator_environment.resolve()}"] * 2
    with sqlite3.connect(operator_environment) as connection:
        assert connection.execute("SELECT id, current_version FROM consultations").fetchall() == [
            ("gp-opening-hours", 1)
        ]


def test_import_of_a_broken_file_imports_nothing(
    operator_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write(tmp_path, "broken.yaml", "spec_version: 1\nid: x\n")
    assert main(["import", str(EXAMPLES / "gp-opening-hours.yaml"), str(broken)]) == 1
    assert "Nothing was imported" in capsys.readouterr().out
    assert not operator_environment.exists(), "the database is not even opened"


def test_preview_walks_the_survey_with_the_bots_texts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    taps = ["1", "1", "4", "5", "hello", "1", "20", "Faversham", "1"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(taps) + "\n"))
    assert main(["preview", str(EXAMPLES / "gp-opening-hours.yaml")]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Question 1 of 7",
        "[1] In the last week",
        "Question 2 of 7",
        "[1] ⬜ Before 8am",
        "[1] ✅ Before 8am",
        "Question 3 of 7",
        "Question 4 of 6",
        "⚠️ Please answer by tapping one of the buttons.",
        "Question 5 of 6",
        "Question 6 of 6",
        "Please check your answers",
        "Faversham",
        "Thank you. We have received your answers.",
    ):
        assert expected in out, expected
    assert "<b>" not in out


def test_preview_in_welsh_uses_the_welsh_texts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["preview", str(EXAMPLES / "gp-opening-hours.yaml"), "--lang", "cy"]) == 0
    out = capsys.readouterr().out
    assert "Pryd wnaethoch chi gysylltu â'ch meddygfa ddiwethaf?" in out
    assert "[1] Yn ystod yr wythnos ddiwethaf" in out


def other_deployment(folder: Path) -> Path:
    """Another organisation's deployment file (another council on the same server)."""
    text = DEPLOYMENT.read_text(encoding="utf-8").replace("Swale Health and Care Partnership", "Medway Council")
    return write(folder, "medway.yaml", text)


def test_import_refuses_a_database_that_does_not_exist_and_makes_none(
    operator_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(EXAMPLES / "gp-opening-hours.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"Using the database {operator_environment.resolve()}" in err
    assert f"there is no database at {operator_environment.resolve()}" in err
    assert "HAVEYOURSAY_DB" in err
    assert not operator_environment.exists(), "no new empty database"


@pytest.mark.parametrize(
    "command",
    [["export", "gp-opening-hours"], ["translations", "export", "gp-opening-hours", "--lang", "pl", "-o", "pl.po"]],
)
def test_export_and_translations_refuse_a_database_that_does_not_exist(
    operator_environment: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not operator_environment.exists()


def test_import_refuses_a_file_that_is_not_a_have_your_say_database(
    operator_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(operator_environment) as connection:
        connection.execute("CREATE TABLE something_else (x)")
    connection.close()
    assert main(["import", str(EXAMPLES / "gp-opening-hours.yaml")]) == 1
    assert "is not a Have Your Say database (it has no tables)" in capsys.readouterr().err
    with sqlite3.connect(operator_environment) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    connection.close()
    assert tables == [("something_else",)], "left as it was"


def test_import_refuses_the_database_of_another_deployment(
    operator_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0  # the database of the test deployment (Swale)
    monkeypatch.setenv("HAVEYOURSAY_CONFIG", str(other_deployment(tmp_path)))
    capsys.readouterr()
    assert main(["import", str(EXAMPLES / "gp-opening-hours.yaml")]) == 1
    err = capsys.readouterr().err
    assert "belongs to the deployment 'Swale Health and Care Partnership', not to 'Medway Council'" in err
    with sqlite3.connect(operator_environment) as connection:
        assert connection.execute("SELECT COUNT(*) FROM consultations").fetchone() == (0,)
    connection.close()
    assert main(["init"]) == 1, "nor does init take it over"


def test_a_deployment_file_may_name_its_deployment(
    operator_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    named = write(tmp_path, "named.yaml", "id: swale-hcp\n" + DEPLOYMENT.read_text(encoding="utf-8"))
    monkeypatch.setenv("HAVEYOURSAY_CONFIG", str(named))
    assert main(["init"]) == 0
    assert main(["init"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{operator_environment}: already set up; nothing to do"
    with sqlite3.connect(operator_environment) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone() == ("swale-hcp",)
    connection.close()
    assert main(["import", str(EXAMPLES / "gp-opening-hours.yaml")]) == 0


def test_migrate_brings_the_schema_up_to_date_and_exits(
    operator_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    with sqlite3.connect(operator_environment) as connection:
        latest = int(connection.execute("PRAGMA user_version").fetchone()[0])
        # As a database made before migrations 0021 (several workers), 0022 (answer counts) and 0023 would be.
        connection.executescript(
            "DROP TABLE leases; DROP TABLE ticks; DROP TRIGGER answers_counted; DROP TRIGGER answers_uncounted;"
            " DROP TRIGGER answers_recounted; DROP TABLE answer_counts; DROP TABLE flood_counts;"
            " PRAGMA user_version = 20;"
        )
    connection.close()
    capsys.readouterr()

    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{operator_environment}: the schema went from version 20 to {latest}"
    ]
    with sqlite3.connect(operator_environment) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    assert {"leases", "ticks", "answer_counts"} <= tables
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{operator_environment}: the schema is up to date (version {latest}); nothing to do"
    ]


def test_migrate_refuses_a_database_that_does_not_exist_and_makes_none(
    operator_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not operator_environment.exists()


def test_a_second_worker_on_an_sqlite_file_is_refused_and_told_several_workers_need_postgresql(
    operator_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.single_instance import InstanceLock

    assert main(["init"]) == 0
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST")
    monkeypatch.setenv("HAVEYOURSAY_WORKERS", "several")
    monkeypatch.setenv("HAVEYOURSAY_WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("HAVEYOURSAY_WEBHOOK_SECRET", "s3cret")
    running = InstanceLock(operator_environment)  # the first worker, running
    running.acquire()
    try:
        capsys.readouterr()
        assert main(["run"]) == 1
    finally:
        running.release()
    error = capsys.readouterr().err
    assert "already using the database" in error
    assert "several workers need PostgreSQL" in error
