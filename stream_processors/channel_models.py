"""The notification channels of the webhooks file beside signed webhooks: 企业微信 and 钉钉 group
robots and e-mail, and the routing every channel shares (departments, levels, rules, event
types, the daily digest). The file format is documented in `webhooks.py`."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from casestream.read_models.alert_queries import ALERT_EVENT_TYPES

ALL_DEPARTMENTS = "*"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DINGTALK_URL = "https://oapi.dingtalk.com/robot/send"
SMTP_PORTS = {"starttls": 587, "ssl": 465, "plain": 25}
ROBOT_PER_MINUTE = 20  # both robots' documented limit: 20 messages a minute

PerMinute = Annotated[int, Field(ge=1, le=10_000)]

Token = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._\-]+$")]
# one plain ASCII address: a header would read "a:b@x" as the group "a" holding b@x, and
# "a@[x" makes the mail library fail at every attempt
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
)


def mail_address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):
        raise ValueError(
            f"{value[:60]!r} is not one plain address; write it as fazhi@example.gov.cn "
            "(ASCII, no name or brackets)"
        )
    return value


Address = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(mail_address)]


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("give an http:// or https:// URL with a host")
    return value


def robot_url(value: str) -> str:
    """A robot's address (through a proxy): its key or token is a field of its own, added to it."""
    http_url(value)
    if urlsplit(value).query:
        raise ValueError(
            "give the address without its ?… part: the robot's key or access_token "
            "goes in its own field"
        )
    return value


def robot_credential(value: SecretStr) -> SecretStr:
    """A robot's key or access_token alone, not the whole address it was copied from."""
    if re.search(r"[\s?&=/:]", value.get_secret_value()):
        raise ValueError(
            "give only the value that follows key= (企业微信) or access_token= (钉钉) in the "
            "robot's address, not the address"
        )
    return value


class Route(BaseModel):
    """Which alerts (and digests) one channel wants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")]
    departments: Annotated[tuple[str, ...], Field(min_length=1)]
    levels: Annotated[frozenset[Annotated[int, Field(ge=1, le=3)]], Field(min_length=1)] = (
        frozenset({1, 2, 3})
    )
    event_types: Annotated[frozenset[str], Field(min_length=1)] = frozenset(ALERT_EVENT_TYPES)
    rules: Annotated[frozenset[str], Field(min_length=1)] | None = None  # None: every rule
    digest: bool = False  # the daily digest of each department it serves
    # sends started in any rolling minute, at most (domain/pacing.py); None: no limit
    max_per_minute: PerMinute | None = None

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

    def wants(
        self, event_type: str, level: int, department: str | None, rule: str | None = None
    ) -> bool:
        """Whether a warning, breach or escalation goes to this channel.

        AlertCleared carries no level: it goes to the channels that were sent an alert on the
        same clock (the notifier decides that from its delivery log), if they want the type.
        """
        return (
            event_type in self.event_types
            and level in self.levels
            and (self.rules is None or rule in self.rules)
            and self.wants_department(department)
        )


class WeComRobot(Route):
    """企业微信 group robot: POST {"msgtype": "markdown" | "text", …} to its URL with ?key=."""

    type: Literal["wecom"]
    key: Annotated[SecretStr, Field(min_length=1, max_length=200)]
    url: str = WECOM_URL
    format: Literal["markdown", "text"] = "markdown"
    max_per_minute: PerMinute | None = ROBOT_PER_MINUTE

    # the robot's answer when more than 20 messages came within a minute: wait, not a failure
    over_limit_errcodes: ClassVar[frozenset[int]] = frozenset({45009})

    _url = field_validator("url")(robot_url)
    _key = field_validator("key")(robot_credential)


class DingTalkRobot(Route):
    """钉钉 group robot: POST {"msgtype": "markdown", …} with ?access_token= (and, in signed
    mode, &timestamp=&sign=)."""

    type: Literal["dingtalk"]
    access_token: Annotated[SecretStr, Field(min_length=1, max_length=200)]
    secret: Annotated[SecretStr, Field(min_length=1, max_length=200)] | None = None  # 加签
    url: str = DINGTALK_URL
    max_per_minute: PerMinute | None = ROBOT_PER_MINUTE

    # 660026: sent too fast; 130101: more than 20 messages within a minute
    over_limit_errcodes: ClassVar[frozenset[int]] = frozenset({660026, 130101})

    _url = field_validator("url")(robot_url)
    _access_token = field_validator("access_token")(robot_credential)


class EmailChannel(Route):
    """E-mail over SMTP to a list of addresses (a department's mailbox, the leaders')."""

    type: Literal["email"]
    host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-:\[\]]+$")]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # by security: 587, 465, 25
    security: Literal["starttls", "ssl", "plain"] = "starttls"
    username: Annotated[str, Field(min_length=1, max_length=254)] | None = None
    password_file: str | None = None  # read at start-up; or password_env
    password_env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,99}$")] | None = None
    sender: Address
    to: Annotated[tuple[Address, ...], Field(min_length=1, max_length=100)]
    password: SecretStr | None = None  # set by the loader from password_file / password_env

    @field_validator("username")
    @classmethod
    def _ascii_username(cls, value: str | None) -> str | None:
        if value is not None and not value.isascii():
            raise ValueError(
                "SMTP login sends the username as ASCII: give the mailbox's ASCII login"
            )
        return value

    @model_validator(mode="after")
    def _one_password_source(self) -> EmailChannel:
        if self.password_file and self.password_env:
            raise ValueError("give password_file or password_env, not both")
        if (self.password_file or self.password_env) and not self.username:
            raise ValueError("a password needs a username")
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or SMTP_PORTS[self.security]
