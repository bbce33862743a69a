"""Officers upload a consultation file or an XLSForm into a draft, and download any consultation as either.

An upload is read as data only: YAML by the project's safe loader, a workbook by
`conversations.xlsform` (formulas never worked out). It fills the consultation's draft; what is
published, and every answer given to it, stays as it is until the draft is published. What could
not be used is listed (`Note`), and the checks of `haveyoursay check` say what still needs fixing.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from conversations import authoring
from conversations.i18n import Catalogs
from conversations.services import Services
from conversations.survey.loader import CONSULTATION_ID, LoadResult
from conversations.survey.yaml_lines import YamlSyntaxError, load_with_lines
from conversations.xlsform import NOTE_KINDS, NotAnXlsForm, Note, read_xlsform, write_xlsform

__all__ = ["Download", "Upload", "download", "keep_upload", "notes_from_json", "notes_to_json", "read_upload"]

ZIP_START = b"PK\x03\x04"
YAML_ENDINGS = (".yaml", ".yml")
XLSX_ENDINGS = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Upload:
    """What a file holds: a consultation's data and the notes on it, or the reason it cannot be read."""

    definition: dict[str, Any] | None
    notes: tuple[Note, ...] = ()
    kind: str = ""  # "yaml" or "xlsform"
    # Why it cannot be read: "neither", "not_yaml" (with `line` and `detail`, the parser's words),
    # "no_survey_sheet".
    problem: str | None = None
    line: int | None = None
    detail: str = ""

    @property
    def id(self) -> str:
        assert self.definition is not None
        return str(self.definition["id"])


def yes_no_words(catalogs: Catalogs) -> Callable[[str], tuple[str, str]]:
    """The bot's own words for yes and no in a language, as the chat's buttons say them."""

    def words(language: str) -> tuple[str, str]:
        t = catalogs.translator(language if language in catalogs.languages else catalogs.default_language)
        return t._("Yes"), t._("No")

    return words


def read_upload(filename: str, data: bytes, *, catalogs: Catalogs, timezone: ZoneInfo) -> Upload:
    """A consultation file (YAML) or an XLSForm workbook, told apart by what the file is."""
    name = filename.lower()
    if data.startswith(ZIP_START) or name.endswith(XLSX_ENDINGS):
        try:
            form = read_xlsform(data, timezone=timezone, yes_no_words=yes_no_words(catalogs))
        except NotAnXlsForm as error:
            return Upload(None, problem="no_survey_sheet" if error.reason == "no_survey_sheet" else "neither")
        _settle_id(form.definition, filename, form.notes, "settings", "form_id")
        return Upload(form.definition, tuple(form.notes), "xlsform")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Upload(None, problem="neither")
    try:
        value, lines = load_with_lines(text)
    except YamlSyntaxError as error:
        if name.endswith(YAML_ENDINGS):
            return Upload(None, problem="not_yaml", line=error.line, detail=str(error))
        return Upload(None, problem="neither")
    if not isinstance(value, dict):
        return Upload(None, problem="neither")
    definition = _json_ready(value)
    notes: list[Note] = []
    _settle_id(definition, filename, notes, "", "id", lines.get(("id",)))
    return Upload(definition, tuple(notes), "yaml")


def _json_ready(value: Any) -> Any:
    """The data as a draft keeps it (JSON): dates as ISO 8601 text, keys as text."""
    if isinstance(value, dict):
        return {str(key) if not isinstance(key, bool) else str(key).lower(): _json_ready(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _settle_id(
    definition: dict[str, Any], filename: str, notes: list[Note], sheet: str, column: str, line: int | None = None
) -> None:
    """Every draft is kept under an id a consultation can have: one missing is taken from the file's
    name, one that cannot be an id is made into one; each is noted."""
    given = definition.get("id")
    if given is None or isinstance(given, bool) or not str(given).strip():
        stem = re.sub(r"\.[A-Za-z]+$", "", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
        new = _slug(stem)
        notes.insert(0, Note(sheet, line, column, "no_id", {"id": new}))
    else:
        old = str(given).strip()
        new = old if CONSULTATION_ID.match(old) else _slug(old)
        if new != old:
            notes.insert(0, Note(sheet, line, column, "id_changed", {"old": old, "new": new}))
    # The id near the top, where a person reading the file looks for it.
    rest = {key: value for key, value in definition.items() if key not in ("spec_version", "id")}
    spec_version = definition.get("spec_version")
    definition.clear()
    if spec_version is not None:
        definition["spec_version"] = spec_version
    definition["id"] = new
    definition.update(rest)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
    return slug or "consultation"


def notes_to_json(notes: tuple[Note, ...]) -> str:
    """Notes carried through the page that asks before replacing a draft."""
    return json.dumps([[n.sheet, n.row, n.column, n.kind, dict(n.params)] for n in notes], ensure_ascii=False)


def notes_from_json(text: str) -> tuple[Note, ...]:
    """Notes sent back by that page; anything not a note is left out."""
    try:
        items = json.loads(text)
    except ValueError:
        return ()
    notes: list[Note] = []
    for item in items if isinstance(items, list) else []:
        if not (isinstance(item, list) and len(item) == 5):
            continue
        sheet, row, column, kind, params = item
        if kind not in NOTE_KINDS or not isinstance(params, dict):
            continue
        notes.append(
            Note(
                str(sheet or ""),
                row if isinstance(row, int) and not isinstance(row, bool) else None,
                str(column) if column is not None else None,
                str(kind),
                {str(k): str(v) for k, v in params.items()},
            )
        )
    return tuple(notes)


async def keep_upload(
    services: Services, officer_id: int, definition: Mapping[str, Any], filename: str, now: datetime
) -> LoadResult:
    """The upload becomes the consultation's draft (published answers are never touched), audited
    with the officer's id; returns the checks of `haveyoursay check` on it."""
    data = dict(definition)
    async with services.db.transaction():
        await services.db.workspace.save_draft(data, officer_id, now)
        await services.db.officers.audit(officer_id, "upload", f"{data['id']} from {filename[:100]}", now)
    return authoring.check(services, data)


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    content: bytes


MEDIA_TYPES = {
    "yaml": "application/yaml; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def download(
    services: Services, officer_id: int, consultation_id: str, kind: str, now: datetime
) -> Download | None:
    """The working copy (the draft if any, else what is published) as a consultation file ("yaml")
    or an XLSForm ("xlsx"), audited; None if there is no such consultation."""
    detail = await authoring.consultation_detail(services, consultation_id, now)
    if detail is None:
        return None
    if kind == "yaml":
        content = consultation_yaml(detail.definition).encode("utf-8")
    else:
        out = io.BytesIO()
        write_xlsform(detail.definition, out, yes_no_words(services.catalogs))
        content = out.getvalue()
    filename = f"{_slug(consultation_id)}.{kind}"
    await services.db.officers.audit(officer_id, "download", filename, now, consultation_id)
    return Download(filename, MEDIA_TYPES[kind], content)


def consultation_yaml(definition: Mapping[str, Any]) -> str:
    """A consultation's data as a consultation file that `haveyoursay check` reads back the same."""
    return yaml.safe_dump(
        _with_number_keys(dict(definition)), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def _with_number_keys(value: Any) -> Any:
    """Scale labels keyed by their points (1, not "1"), as a person writes them in a file."""
    if isinstance(value, dict):
        return {
            (int(k) if isinstance(k, str) and re.fullmatch(r"-?\d+", k) else k): _with_number_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_with_number_keys(item) for item in value]
    return value
