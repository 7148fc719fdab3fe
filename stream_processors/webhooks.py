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
    over_limit_grace_seconds = 3600    # a robot's "over the limit" answers cost no attempt this long

    [[webhook]]
    id = "zhian"
    url = "https://ops.example.gov.cn/hooks/casestream"
    secret = "at least 16 random characters"
    departments = ["治安大队"]          # or ["*"] for every department
    levels = [2, 3]                    # optional, default all (1 handler, 2 head, 3 leadership)
    event_types = ["DeadlineBreached", "Escalated", "AlertCleared"]   # optional, default all

Beside signed webhooks, an entry may be a notification channel to people, chosen by `type`
(default "signed"): a 企业微信 group robot, a 钉钉 group robot or e-mail. Every entry takes the
same routing fields (`departments`, `levels`, `event_types`, and `rules`, a list of rule ids,
default all) and may opt in to the daily digest (`digest = true`; not for signed webhooks)::

    [digest]              # optional; these are the defaults
    at = "08:30"          # local time (CASESTREAM_TIMEZONE), on working days only
    working_days_ahead = 3

    [[webhook]]
    id = "zhian-wecom"
    type = "wecom"                     # POST …/cgi-bin/webhook/send?key=KEY
    key = "the robot's key"
    departments = ["治安大队"]
    format = "markdown"                # or "text"
    digest = true

    [[webhook]]
    id = "leaders-dingtalk"
    type = "dingtalk"                  # POST …/robot/send?access_token=TOKEN
    access_token = "the robot's token"
    secret = "SEC…"                    # optional: 加签 (signed) mode
    departments = ["*"]
    levels = [3]
    rules = ["reconsideration.reply", "litigation.defence"]

    [[webhook]]
    id = "fazhi-mail"
    type = "email"
    host = "smtp.example.gov.cn"
    security = "starttls"              # or "ssl", or "plain" (a local relay)
    port = 587                         # optional: 587, 465 or 25 by security
    username = "casestream@example.gov.cn"
    password_file = "/run/secrets/smtp-password"   # or password_env = "SMTP_PASSWORD"
    sender = "casestream@example.gov.cn"
    to = ["fazhi@example.gov.cn"]
    departments = ["法制大队"]
    digest = true

Robots and e-mail get a message in Chinese (domain/notifications.py); a robot's answer with a
non-zero `errcode` is a failed attempt, retried like an HTTP error, except its "over the limit"
answer. Every entry takes `max_per_minute`, the most sends started in any rolling minute
(default 20 for robots, their documented limit; no limit for signed webhooks and e-mail).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from casestream.domain import catalog as ev

from .channel_models import ALL_DEPARTMENTS as ALL_DEPARTMENTS
from .channel_models import DingTalkRobot, EmailChannel, Route, WeComRobot, http_url

CLEARED = ev.AlertCleared.__name__
CHANNEL_TYPES = ("signed", "wecom", "dingtalk", "email")


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
    # how long after a delivery is recorded a robot's "over the limit" answer is waited out
    # without counting as an attempt; later ones count, so a robot refusing for ever still
    # ends the delivery failed after max_attempts
    over_limit_grace_seconds: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600.0

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s … capped."""
        seconds = self.first_retry_seconds * 2 ** max(0, min(attempts - 1, 40))
        return timedelta(seconds=min(seconds, self.max_retry_seconds))


class DigestSchedule(BaseModel):
    """When the daily digest goes out: local time on working days, and how far it looks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: time = time(8, 30)
    working_days_ahead: Annotated[int, Field(ge=1, le=20)] = 3

    @field_validator("at")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:  # a wall time with an offset cannot be compared to one without
            raise ValueError(
                'give the local time without an offset, e.g. "08:30"; '
                "its time zone is CASESTREAM_TIMEZONE"
            )
        return value


class Webhook(Route):
    """One receiver of signed alert events (the event's JSON, HMAC-SHA256 in a header)."""

    type: Literal["signed"] = "signed"
    url: str
    secret: Annotated[str, Field(min_length=16)]

    _url = field_validator("url")(http_url)

    @field_validator("digest")
    @classmethod
    def _no_digest(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "signed webhooks get alert events only; send digests to a "
                'type = "wecom", "dingtalk" or "email" channel'
            )
        return value


Channel = Annotated[Webhook | WeComRobot | DingTalkRobot | EmailChannel, Discriminator("type")]
"""One [[webhook]] entry: a signed webhook or a channel to people."""


class WebhookConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    webhook: tuple[Channel, ...] = ()
    delivery: DeliveryPolicy = DeliveryPolicy()
    digest: DigestSchedule = DigestSchedule()

    @model_validator(mode="before")
    @classmethod
    def _signed_by_default(cls, raw: Any) -> Any:
        entries = raw.get("webhook") if isinstance(raw, dict) else None
        if isinstance(entries, list):
            raw = {
                **raw,
                "webhook": [
                    {"type": "signed", **entry} if isinstance(entry, dict) else entry
                    for entry in entries
                ],
            }
        return raw

    @property
    def webhooks(self) -> tuple[Webhook | WeComRobot | DingTalkRobot | EmailChannel, ...]:
        return self.webhook

    @property
    def digest_channels(self) -> tuple[WeComRobot | DingTalkRobot | EmailChannel, ...]:
        return tuple(
            channel
            for channel in self.webhook
            if channel.digest and not isinstance(channel, Webhook)
        )


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


def load_webhooks(path: Path | None, known_rules: frozenset[str] | None = None) -> WebhookConfig:
    """The webhooks of `path` (CASESTREAM_WEBHOOKS_FILE); none when unset. `known_rules`, when
    given, are the rule ids a `rules` filter may name."""
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
    _refuse_inline_passwords(path, raw)
    try:
        config = WebhookConfig.model_validate(raw)
    except ValidationError as exc:
        raise WebhookConfigError(_describe(path, raw, exc)) from exc
    seen: set[str] = set()
    channels: list[Webhook | WeComRobot | DingTalkRobot | EmailChannel] = []
    for channel in config.webhook:
        label = f"{path}: webhook {channel.id!r}"
        if channel.id in seen:
            raise WebhookConfigError(f"{label}: id: used twice; give each [[webhook]] its own id")
        seen.add(channel.id)
        unknown = sorted((channel.rules or frozenset()) - known_rules) if known_rules else []
        if unknown:
            raise WebhookConfigError(
                f"{label}: rules: unknown rule id(s) {', '.join(unknown)}; "
                f"choose from {', '.join(sorted(known_rules or ()))}"
            )
        if isinstance(channel, EmailChannel):
            channel = channel.model_copy(update={"password": _password(path, channel)})
        channels.append(channel)
    return config.model_copy(update={"webhook": tuple(channels)})


def _refuse_inline_passwords(path: Path, raw: dict[str, Any]) -> None:
    entries = raw.get("webhook")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and "password" in entry:
            name = entry.get("id")
            label = f"webhook {name!r}" if isinstance(name, str) else f"webhook #{index + 1}"
            raise WebhookConfigError(
                f"{path}: {label}: password: not in this file; "
                "give password_file (a file holding it) or password_env (a variable's name)"
            )


def _password(path: Path, channel: EmailChannel) -> SecretStr | None:
    """The SMTP password of an e-mail channel, from its file or environment variable."""
    label = f"{path}: webhook {channel.id!r}"
    if channel.password_file:
        try:
            value = Path(channel.password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise WebhookConfigError(
                f"{label}: password_file: cannot be read ({type(exc).__name__}); "
                "give a readable file holding the SMTP password"
            ) from exc
        return _ascii_password(f"{label}: password_file", value)
    if channel.password_env:
        value = os.environ.get(channel.password_env, "")
        if not value:
            raise WebhookConfigError(
                f"{label}: password_env: {channel.password_env} is not set; "
                "set it to the SMTP password or give password_file"
            )
        return _ascii_password(f"{label}: password_env", value)
    return None


def _ascii_password(where: str, value: str) -> SecretStr:
    """SMTP login sends the password as ASCII: another one would fail every attempt."""
    if not value.isascii():
        raise WebhookConfigError(
            f"{where}: the SMTP password holds a character that is not ASCII, which SMTP "
            "login cannot send; give the mailbox an ASCII password"
        )
    return SecretStr(value)


_HINTS = {
    "secret": "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'",
    "departments": 'give a list of department names, e.g. ["治安大队"], or ["*"] for all',
    "levels": "give a list of levels: 1 handler, 2 department head, 3 bureau leadership",
    "url": 'e.g. url = "https://hooks.example.gov.cn/casestream"',
    "rules": 'give a list of rule ids, e.g. ["complaint.handling"]',
    "to": 'give a list of addresses, e.g. ["fazhi@example.gov.cn"]',
    "type": f"choose one of {', '.join(CHANNEL_TYPES)}",
}


def _describe(path: Path, raw: dict[str, Any], error: ValidationError) -> str:
    """One line per problem: file, webhook id (or its position) and field."""
    entries = raw.get("webhook")
    lines: list[str] = []
    for detail in error.errors():
        loc = list(detail["loc"])
        if len(loc) > 2 and loc[0] == "webhook" and loc[2] in CHANNEL_TYPES:
            del loc[2]  # the channel type pydantic chose by `type`
        where = ".".join(str(part) for part in loc) or "file"
        if len(loc) >= 2 and loc[0] == "webhook" and isinstance(loc[1], int):
            index = loc[1]
            entry = entries[index] if isinstance(entries, list) else None
            name = entry.get("id") if isinstance(entry, dict) else None
            label = f"webhook {name!r}" if isinstance(name, str) else f"webhook #{index + 1}"
            field = str(loc[2]) if len(loc) > 2 else "entry"
            if detail["type"] == "union_tag_invalid":
                field = "type"
            where = f"{label}: {field}"
        elif loc and loc[0] == "webhook":
            where = "webhook: give a list of [[webhook]] tables"
        message = detail["msg"].removeprefix("Value error, ")
        key = where.rsplit(": ", 1)[-1] if loc and loc[0] == "webhook" else None
        hint = _HINTS.get(key) if key else None
        if hint and hint not in message and detail["type"] != "value_error":
            message = f"{message}; {hint}"
        lines.append(f"{path}: {where}: {message}")
    return "\n".join(lines)
