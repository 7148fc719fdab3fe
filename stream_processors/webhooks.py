"""Outgoing alert webhooks: the deployment's TOML file, which alerts each webhook wants, signing.

The file (`CASESTREAM_WEBHOOKS_FILE`) lists one `[[webhook]]` per receiver, usually one per
department (治安大队, 交警大队 …) plus one for bureau leadership, and an optional `[delivery]`
table with the retry policy::

    [delivery]            # optional; these are the defaults
    timeout_seconds = 5
    max_attempts = 10
    first_retry_seconds = 1
    max_retry_seconds = 300
    max_in_flight_per_webhook = 4

    [[webhook]]
    id = "zhian"
    url = "https://ops.example.gov.cn/hooks/casestream"
    secret = "at least 16 random characters"
    departments = ["治安大队"]          # or ["*"] for every department
    levels = [2, 3]                    # optional, default all (1 handler, 2 head, 3 leadership)
    event_types = ["DeadlineBreached", "Escalated", "AlertCleared"]   # optional, default all
"""

from __future__ import annotations

import hashlib
import hmac
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from casestream.domain import catalog as ev
from casestream.read_models.alert_queries import ALERT_EVENT_TYPES

CLEARED = ev.AlertCleared.__name__
ALL_DEPARTMENTS = "*"


class WebhookConfigError(ValueError):
    """The webhooks file cannot be used; the message names the file, the webhook and the field."""


class DeliveryPolicy(BaseModel):
    """How hard the notifier tries: per-attempt timeout, exponential backoff, give-up point."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 10
    first_retry_seconds: Annotated[float, Field(gt=0)] = 1.0
    max_retry_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_in_flight_per_webhook: Annotated[int, Field(ge=1, le=100)] = 4

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s … capped."""
        seconds = self.first_retry_seconds * 2 ** max(0, min(attempts - 1, 40))
        return timedelta(seconds=min(seconds, self.max_retry_seconds))


class Webhook(BaseModel):
    """One receiver of alerts and the alerts it wants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")]
    url: str
    secret: Annotated[str, Field(min_length=16)]
    departments: Annotated[tuple[str, ...], Field(min_length=1)]
    levels: Annotated[frozenset[Annotated[int, Field(ge=1, le=3)]], Field(min_length=1)] = (
        frozenset({1, 2, 3})
    )
    event_types: Annotated[frozenset[str], Field(min_length=1)] = frozenset(ALERT_EVENT_TYPES)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("give an http:// or https:// URL with a host")
        return value

    @field_validator("departments")
    @classmethod
    def _departments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in value):
            raise ValueError('department names may not be empty; use ["*"] for every department')
        return value

    @field_validator("event_types")
    @classmethod
    def _alert_types(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(ALERT_EVENT_TYPES))
        if unknown:
            raise ValueError(
                f"unknown alert event type(s) {', '.join(unknown)}; "
                f"choose from {', '.join(ALERT_EVENT_TYPES)}"
            )
        return value

    def wants_department(self, department: str | None) -> bool:
        return ALL_DEPARTMENTS in self.departments or department in self.departments

    def wants(self, event_type: str, level: int, department: str | None) -> bool:
        """Whether a warning, breach or escalation goes to this webhook.

        AlertCleared carries no level: it goes to the webhooks that were sent an alert on the
        same clock (the notifier decides that from its delivery log), if they want the type.
        """
        return (
            event_type in self.event_types
            and level in self.levels
            and self.wants_department(department)
        )


class WebhookConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook: tuple[Webhook, ...] = ()
    delivery: DeliveryPolicy = DeliveryPolicy()

    @property
    def webhooks(self) -> tuple[Webhook, ...]:
        return self.webhook


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, body)>`, as in the X-Casestream-Signature header."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def delivery_headers(secret: str, alert_id: str, event_type: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Casestream-Signature": signature(secret, body),
        "X-Casestream-Delivery": alert_id,
        "X-Casestream-Event": event_type,
    }


def load_webhooks(path: Path | None) -> WebhookConfig:
    """The webhooks of `path` (CASESTREAM_WEBHOOKS_FILE); none when unset."""
    if path is None:
        return WebhookConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WebhookConfigError(
            f"{path}: no such file; fix CASESTREAM_WEBHOOKS_FILE or unset it to send no webhooks"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise WebhookConfigError(f"{path}: cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise WebhookConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = WebhookConfig.model_validate(raw)
    except ValidationError as exc:
        raise WebhookConfigError(_describe(path, raw, exc)) from exc
    seen: set[str] = set()
    for webhook in config.webhook:
        if webhook.id in seen:
            raise WebhookConfigError(
                f"{path}: webhook {webhook.id!r}: id: used twice; give each [[webhook]] its own id"
            )
        seen.add(webhook.id)
    return config


_HINTS = {
    "secret": "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'",
    "departments": 'give a list of department names, e.g. ["治安大队"], or ["*"] for all',
    "levels": "give a list of levels: 1 handler, 2 department head, 3 bureau leadership",
    "url": 'e.g. url = "https://hooks.example.gov.cn/casestream"',
}


def _describe(path: Path, raw: dict[str, Any], error: ValidationError) -> str:
    """One line per problem: file, webhook id (or its position) and field."""
    entries = raw.get("webhook")
    lines: list[str] = []
    for detail in error.errors():
        loc = list(detail["loc"])
        where = ".".join(str(part) for part in loc) or "file"
        if len(loc) >= 2 and loc[0] == "webhook" and isinstance(loc[1], int):
            index = loc[1]
            entry = entries[index] if isinstance(entries, list) else None
            name = entry.get("id") if isinstance(entry, dict) else None
            label = f"webhook {name!r}" if isinstance(name, str) else f"webhook #{index + 1}"
            field = str(loc[2]) if len(loc) > 2 else "entry"
            where = f"{label}: {field}"
        elif loc and loc[0] == "webhook":
            where = "webhook: give a list of [[webhook]] tables"
        message = detail["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(str(loc[2])) if len(loc) > 2 and loc[0] == "webhook" else None
        if hint and hint not in message and detail["type"] != "value_error":
            message = f"{message}; {hint}"
        lines.append(f"{path}: {where}: {message}")
    return "\n".join(lines)
