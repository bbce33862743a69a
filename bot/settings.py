"""Settings from the environment (and a `.env` file in the working directory)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from storage.sql import is_postgres_url

DEFAULT_API_URL = "https://api.telegram.org/bot"


class SettingsError(Exception):
    """A setting is missing or wrong; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    token: str | None
    api_url: str
    database: Path
    admins: frozenset[int]
    default_language: str
    config_path: Path | None
    send_rate: float = 30.0
    tick_seconds: float = 60.0
    erasure: str = "delete"
    retention_months: float = 24.0
    inactive_months: float = 24.0
    delivery_retry_hours: float = 12.0
    webhook_url: str | None = None
    webhook_listen: tuple[str, int] = ("0.0.0.0", 8443)
    webhook_secret: str | None = None
    # The officers' workspace: where it listens (None: HAVEYOURSAY_WEB=off) and its public address.
    web_listen: tuple[str, int] | None = ("127.0.0.1", 8080)
    web_url: str = "http://127.0.0.1:8080"
    # Several workers on one database behind a load balancer (HAVEYOURSAY_WORKERS=several; docs/scaling.md).
    several_workers: bool = False
    # HAVEYOURSAY_DB given as postgresql://user:pass@host/db (or postgres://): PostgreSQL, and
    # `database` is not used. A file path: SQLite at `database`, and this is None.
    database_url: str | None = None

    @property
    def database_target(self) -> str | Path:
        """What `storage.open_database` opens: the PostgreSQL URL, else the SQLite file's path."""
        return self.database_url if self.database_url is not None else self.database

    @property
    def database_label(self) -> str:
        """The database, for a person to read: the file's full path, or the URL without its password."""
        if self.database_url is None:
            return str(self.database.resolve())
        return re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:***@", self.database_url)

    def require_token(self) -> str:
        if not self.token:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot by talking to @BotFather in Telegram "
                "(send /newbot), then put the token it gives you in the environment or in a .env "
                "file here: TELEGRAM_BOT_TOKEN=123456:ABC..."
            )
        return self.token


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path = ".env") -> Settings:
    """Read settings; real environment variables win over the `.env` file."""
    values: dict[str, str] = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update(os.environ if environ is None else environ)
    config = values.get("HAVEYOURSAY_CONFIG")
    config_path = Path(config) if config else (Path("haveyoursay.yaml") if Path("haveyoursay.yaml").is_file() else None)
    return Settings(
        token=values.get("TELEGRAM_BOT_TOKEN") or None,
        api_url=values.get("TELEGRAM_API_URL") or DEFAULT_API_URL,
        **_database(values.get("HAVEYOURSAY_DB") or "haveyoursay.db"),
        admins=_admin_ids(values.get("HAVEYOURSAY_ADMINS", "")),
        default_language=values.get("HAVEYOURSAY_DEFAULT_LANGUAGE") or "en",
        config_path=config_path,
        send_rate=_positive_number(values, "HAVEYOURSAY_SEND_RATE", 30.0),
        tick_seconds=_positive_number(values, "HAVEYOURSAY_TICK_SECONDS", 60.0),
        erasure=_erasure(values.get("HAVEYOURSAY_ERASURE") or "delete"),
        retention_months=_positive_number(values, "HAVEYOURSAY_RETENTION_MONTHS", 24.0),
        inactive_months=_positive_number(values, "HAVEYOURSAY_INACTIVE_MONTHS", 24.0),
        delivery_retry_hours=_positive_number(values, "HAVEYOURSAY_DELIVERY_RETRY_HOURS", 12.0),
        **_webhook(values),
        **_workspace(values),
        several_workers=_several_workers(values),
    )


def _database(target: str) -> dict[str, Any]:
    """HAVEYOURSAY_DB: a postgresql:// (or postgres://) URL, or the SQLite file's path."""
    if is_postgres_url(target):
        return {"database": Path("haveyoursay.db"), "database_url": target}
    return {"database": Path(target)}


def _webhook(values: Mapping[str, str]) -> dict[str, Any]:
    """Webhook mode: the public URL Telegram calls, where to listen, and the secret it must send back."""
    url = values.get("HAVEYOURSAY_WEBHOOK_URL") or None
    if url is None:
        return {}
    if not url.startswith("https://"):
        raise SettingsError("HAVEYOURSAY_WEBHOOK_URL must be an https:// address: Telegram only calls those")
    secret = values.get("HAVEYOURSAY_WEBHOOK_SECRET") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise SettingsError(
            "HAVEYOURSAY_WEBHOOK_SECRET is required in webhook mode: 1-256 characters of A-Z a-z 0-9 _ - "
            "(Telegram sends it back with every update, and requests without it are refused)"
        )
    host, _, port = (values.get("HAVEYOURSAY_WEBHOOK_LISTEN") or "0.0.0.0:8443").rpartition(":")
    if not port.isdigit():
        raise SettingsError("HAVEYOURSAY_WEBHOOK_LISTEN must look like 0.0.0.0:8443")
    return {"webhook_url": url, "webhook_secret": secret, "webhook_listen": (host or "0.0.0.0", int(port))}


def _workspace(values: Mapping[str, str]) -> dict[str, Any]:
    """The web workspace: on unless HAVEYOURSAY_WEB=off; its links use HAVEYOURSAY_WEB_URL."""
    switch = (values.get("HAVEYOURSAY_WEB") or "on").strip().lower()
    if switch not in ("on", "off"):
        raise SettingsError(f"HAVEYOURSAY_WEB: {switch!r} must be on or off")
    if switch == "off":
        return {"web_listen": None, "web_url": ""}
    text = values.get("HAVEYOURSAY_WEB_LISTEN") or "127.0.0.1:8080"
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise SettingsError(f"HAVEYOURSAY_WEB_LISTEN: {text!r} must look like 127.0.0.1:8080")
    url = (values.get("HAVEYOURSAY_WEB_URL") or f"http://{text}").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"HAVEYOURSAY_WEB_URL: {url!r} must start with https:// (or http:// on this machine)")
    return {"web_listen": (host.strip("[]"), int(port)), "web_url": url}


def _several_workers(values: Mapping[str, str]) -> bool:
    """HAVEYOURSAY_WORKERS: one (the default) or several; several needs webhook mode."""
    text = (values.get("HAVEYOURSAY_WORKERS") or "one").strip().lower()
    if text not in ("one", "several"):
        raise SettingsError(f"HAVEYOURSAY_WORKERS: {text!r} must be one or several")
    if text == "several" and not values.get("HAVEYOURSAY_WEBHOOK_URL"):
        raise SettingsError(
            "HAVEYOURSAY_WORKERS=several needs webhook mode (HAVEYOURSAY_WEBHOOK_URL): "
            "Telegram lets only one process at a time read updates by long polling"
        )
    return text == "several"


def _erasure(text: str) -> str:
    if text not in ("delete", "anonymise"):
        raise SettingsError(f"HAVEYOURSAY_ERASURE: {text!r} must be delete or anonymise")
    return text


def _positive_number(values: Mapping[str, str], name: str, default: float) -> float:
    text = values.get(name)
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if number <= 0:
        raise SettingsError(f"{name}: {text!r} is not a positive number")
    return number


def _admin_ids(text: str) -> frozenset[int]:
    ids = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise SettingsError(f"HAVEYOURSAY_ADMINS: {part!r} is not a Telegram user id (a whole number)")
        ids.add(int(part))
    return frozenset(ids)
