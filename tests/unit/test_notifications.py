"""Notifications to people: the wording of an alert and of the daily digest, when the digest
is due, 钉钉 signing, robot bodies and the routing of the webhooks file's channels."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import date, datetime, time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from casestream.domain.calendar import package_calendar
from casestream.domain.digests import (
    DepartmentDigest,
    DigestClock,
    DigestRectification,
    digest_day,
    digest_horizon,
    digest_id,
    digest_message,
)
from casestream.domain.notifications import AlertNotice, Wording, alert_message
from casestream.stream_processors.channel_models import DingTalkRobot, EmailChannel, WeComRobot
from casestream.stream_processors.channel_senders import (
    WECOM_MARKDOWN_BYTES,
    attempt,
    dingtalk_sign,
    dingtalk_url,
    message_body,
)
from casestream.stream_processors.webhooks import WebhookConfig, WebhookConfigError, load_webhooks

CALENDAR = package_calendar()
CST = Wording(
    "Asia/Shanghai",
    {"complaint.handling": "投诉办理"},
    "https://casestream.example.gov.cn/",
)
BREACH = AlertNotice(
    event_type="DeadlineBreached",
    case_id="C-2026/001",
    case_kind="complaint",
    rule_id="complaint.handling",
    due_at=datetime.fromisoformat("2026-03-23T15:59:59+00:00"),  # 23:59:59 in Beijing
    department="治安大队",
    level=2,
)


def test_a_breach_message_says_case_kind_rule_level_local_due_instant_department_and_link() -> None:
    message = alert_message(BREACH, CST)
    assert message.title == "【已超期】投诉 C-2026/001"
    assert message.text.splitlines() == [
        "【已超期】投诉 C-2026/001",
        "",
        "案件：投诉 C-2026/001",
        "提醒：已超期",
        "事项：投诉办理",
        "级别：二级（部门负责人）",
        "到期时间：2026-03-23 23:59（周一）",
        "部门：治安大队",
        "查看案件：https://casestream.example.gov.cn/console/cases/C-2026%2F001",
    ]
    assert "- [查看案件](https://casestream.example.gov.cn/console/cases/C-2026%2F001)" in (
        message.markdown
    )


def test_without_a_public_address_there_is_no_link_and_an_unknown_rule_shows_its_id() -> None:
    notice = AlertNotice(
        "AlertCleared", "C-1", "litigation", "litigation.new_rule", BREACH.due_at, None
    )
    message = alert_message(notice, Wording())
    assert "查看案件" not in message.text
    assert "事项：litigation.new_rule" in message.text and "部门：未指定" in message.text
    assert "级别" not in message.text  # a clearing has no level


def test_markdown_from_event_fields_cannot_make_links_or_headings() -> None:
    notice = AlertNotice(
        "DeadlineApproaching", "C-1", "complaint", "x", BREACH.due_at, "[点此](http://evil)\n# x"
    )
    markdown = alert_message(notice, Wording()).markdown
    assert "](http://evil)" not in markdown and "\n# x" not in markdown
    assert r"\[点此\]\(http://evil\) \# x" in markdown


def test_dingtalk_signature_matches_the_documented_algorithm() -> None:
    secret, timestamp = "SECexample-secret", 1700000000000
    # worked by hand: printf '1700000000000\nSECexample-secret' |
    #   openssl dgst -sha256 -hmac 'SECexample-secret' -binary | base64
    worked = "0fkiC8KrRP8cNrqFxRls0ApmSoNm4LsTBQWMcJ9T5e0="
    independent = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert independent == worked
    assert dingtalk_sign(secret, timestamp) == urllib.parse.quote_plus(worked)
    robot = DingTalkRobot(
        id="d",
        type="dingtalk",
        departments=("*",),
        access_token=SecretStr("tok"),
        secret=SecretStr(secret),
    )
    assert dingtalk_url(robot, timestamp) == (
        "https://oapi.dingtalk.com/robot/send?access_token=tok"
        f"&timestamp={timestamp}&sign={urllib.parse.quote_plus(worked)}"
    )


def test_a_robot_answer_repeating_its_address_is_recorded_without_key_or_signature() -> None:
    def proxy_page(request: httpx.Request) -> httpx.Response:  # a proxy's page echoing the URL
        shown = f"no route for {request.url} (asked {dict(request.url.params)})"
        if request.url.host == "oapi.dingtalk.com":
            return httpx.Response(200, json={"errcode": 310000, "errmsg": shown})
        return httpx.Response(404, text=shown)

    wecom = WeComRobot(id="w", type="wecom", departments=("*",), key=SecretStr("wecom-key-1234"))
    ding = DingTalkRobot(
        id="d",
        type="dingtalk",
        departments=("*",),
        access_token=SecretStr("ding-token-5678"),
        secret=SecretStr("SECding-secret"),
    )

    async def errors() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(proxy_page)) as client:
            outcomes = [
                await attempt(client, robot, "a-1", "DeadlineBreached", "{}", 5.0)
                for robot in (wecom, ding)
            ]
        return [outcome.error or "" for outcome in outcomes]

    wecom_error, ding_error = asyncio.run(errors())
    assert wecom_error.startswith("HTTP 404: no route for https://qyapi.weixin.qq.com/")
    assert ding_error.startswith("errcode 310000: no route for https://oapi.dingtalk.com/")
    assert "key=***" in wecom_error and "wecom-key-1234" not in wecom_error
    assert "access_token=***" in ding_error and "ding-token-5678" not in ding_error
    assert "sign=***" in ding_error and "'sign': '***'" in ding_error


def test_robot_bodies_follow_the_wecom_and_dingtalk_formats() -> None:
    message = alert_message(BREACH, CST)
    wecom = WeComRobot(id="w", type="wecom", departments=("*",), key=SecretStr("k"))
    assert json.loads(message_body(wecom, message)) == {
        "msgtype": "markdown",
        "markdown": {"content": message.markdown},
    }
    text = wecom.model_copy(update={"format": "text"})
    assert json.loads(message_body(text, message)) == {
        "msgtype": "text",
        "text": {"content": message.text},
    }
    ding = DingTalkRobot(id="d", type="dingtalk", departments=("*",), access_token=SecretStr("t"))
    assert json.loads(message_body(ding, message)) == {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": message.markdown},
    }


def test_a_long_digest_is_cut_to_what_a_wecom_robot_accepts() -> None:
    clocks = tuple(
        DigestClock(f"C-{n:04d}" * 8, "complaint", "complaint.handling", BREACH.due_at)
        for n in range(200)
    )
    digest = DepartmentDigest("治安大队", overdue=clocks, overdue_total=200)
    message = digest_message(digest, date(2026, 3, 20), date(2026, 3, 25), CST)
    wecom = WeComRobot(id="w", type="wecom", departments=("*",), key=SecretStr("k"))
    content = json.loads(message_body(wecom, message))["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MARKDOWN_BYTES
    assert content.endswith("请在控制台查看）")


def test_the_digest_lists_overdue_due_soon_and_awaiting_verification_with_counts() -> None:
    due = DigestClock("C-9", "complaint", "complaint.handling", BREACH.due_at)
    digest = DepartmentDigest(
        "治安大队",
        overdue=(due,),
        overdue_total=12,
        awaiting_verification=(
            DigestRectification("R-1", "张三", datetime.fromisoformat("2026-03-19T02:00:00+00:00")),
        ),
        awaiting_total=1,
    )
    message = digest_message(digest, date(2026, 3, 20), date(2026, 3, 25), Wording())
    assert message.title == "【每日待办】治安大队 2026-03-20（周五）"
    assert message.text.splitlines()[1:] == [
        "",
        "已超期 12 件",
        "- 投诉 C-9，complaint.handling，到期 2026-03-23 23:59（周一）",
        "- 另有 11 件",
        "",
        "整改待核验 1 件",
        "- 复盘整改 R-1，责任人 张三，完成于 2026-03-19 10:00（周四）",
    ]
    assert not digest.is_empty and DepartmentDigest("x").is_empty
    broken = digest_message(
        DepartmentDigest("治安\n大队"), date(2026, 3, 20), date(2026, 3, 25), CST
    )
    assert (
        broken.title == "【每日待办】治安 大队 2026-03-20（周五）"
    )  # an e-mail subject is one line


@pytest.mark.parametrize(
    ("local_now", "expected"),
    [
        ("2026-03-20T08:29:59", None),  # a Friday, before 08:30
        ("2026-03-20T08:30:00", date(2026, 3, 20)),
        ("2026-03-20T17:00:00", date(2026, 3, 20)),
        ("2026-03-21T09:00:00", None),  # Saturday
        ("2026-10-01T09:00:00", None),  # 国庆节
        ("2026-09-20T09:00:00", date(2026, 9, 20)),  # a Sunday worked (调休)
    ],
)
def test_the_digest_is_due_on_working_days_after_its_local_time(
    local_now: str, expected: date | None
) -> None:
    assert digest_day(CALENDAR, datetime.fromisoformat(local_now), time(8, 30)) == expected


def test_the_digest_looks_three_working_days_ahead_over_weekends_and_holidays() -> None:
    assert digest_horizon(CALENDAR, date(2026, 3, 20), 3) == date(2026, 3, 25)  # Fri → Wed
    # over 国庆 (10-01 … 10-07), onto the Saturday worked (调休) 10-10
    assert digest_horizon(CALENDAR, date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_digest_ids_are_the_same_for_a_department_and_day_and_differ_otherwise() -> None:
    day = date(2026, 3, 20)
    assert digest_id("治安大队", day) == digest_id("治安大队", day)
    assert digest_id("治安大队", day) != digest_id("交警大队", day)
    assert digest_id("治安大队", day) != digest_id("治安大队", date(2026, 3, 23))
    assert len(digest_id("部" * 200, day)) <= 200  # fits the delivery log's key


CHANNELS = """
[digest]
at = "09:00"

[[webhook]]
id = "zhian-hook"
url = "https://hooks.example.gov.cn/zhian"
secret = "0123456789abcdef0123"
departments = ["治安大队"]

[[webhook]]
id = "zhian-wecom"
type = "wecom"
key = "abc-123"
departments = ["治安大队"]
digest = true

[[webhook]]
id = "leaders-ding"
type = "dingtalk"
access_token = "tok"
secret = "SECabc"
departments = ["*"]
levels = [3]
rules = ["complaint.handling"]

[[webhook]]
id = "fazhi-mail"
type = "email"
host = "smtp.example.gov.cn"
sender = "casestream@example.gov.cn"
to = ["fazhi@example.gov.cn", "leader@example.gov.cn"]
username = "casestream"
password_file = "{password}"
departments = ["法制大队"]
digest = true
"""


def load(tmp_path: Path, text: str, rules: frozenset[str] | None = None) -> WebhookConfig:
    (tmp_path / "password").write_text("p4ss\n", encoding="utf-8")
    path = tmp_path / "webhooks.toml"
    path.write_text(text.replace("{password}", str(tmp_path / "password")), encoding="utf-8")
    return load_webhooks(path, rules)


def test_channels_are_routed_by_department_level_and_rule_and_opt_in_to_the_digest(
    tmp_path: Path,
) -> None:
    config = load(tmp_path, CHANNELS, frozenset({"complaint.handling", "litigation.defence"}))
    hook, wecom, ding, mail = config.webhooks
    assert (hook.type, wecom.type, ding.type, mail.type) == ("signed", "wecom", "dingtalk", "email")
    assert wecom.wants("DeadlineBreached", 1, "治安大队", "litigation.defence")
    assert ding.wants("Escalated", 3, "交警大队", "complaint.handling")
    assert not ding.wants("Escalated", 3, "交警大队", "litigation.defence")
    assert not ding.wants("Escalated", 2, "交警大队", "complaint.handling")
    assert [c.id for c in config.digest_channels] == ["zhian-wecom", "fazhi-mail"]
    assert config.digest.at == time(9, 0)
    assert isinstance(mail, EmailChannel) and mail.smtp_port == 587
    assert mail.password is not None and mail.password.get_secret_value() == "p4ss"
    assert "p4ss" not in repr(mail) and "abc-123" not in repr(wecom)


def test_a_password_smtp_login_cannot_send_is_refused_at_start_without_showing_it(
    tmp_path: Path,
) -> None:
    config = load(tmp_path, CHANNELS)  # writes the password file
    assert config.webhooks
    (tmp_path / "password").write_text("密码p4ss\n", encoding="utf-8")
    path = tmp_path / "webhooks.toml"
    with pytest.raises(WebhookConfigError) as refused:
        load_webhooks(path)
    message = str(refused.value)
    assert "webhook 'fazhi-mail': password_file:" in message and "not ASCII" in message
    assert "p4ss" not in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('type = "wecom"', 'type = "wechat"'), "webhook 'zhian-wecom': type:"),
        (('key = "abc-123"', 'key = ""'), "webhook 'zhian-wecom': key:"),
        # the robot's whole address pasted: every attempt failed with an invalid key
        (
            (
                'key = "abc-123"',
                'key = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=inline"',
            ),
            "webhook 'zhian-wecom': key: give only the value that follows key=",
        ),
        (
            (
                'access_token = "tok"',
                'access_token = "tok"\nurl = "https://oapi.dingtalk.com/robot/send?access_token=inline"',
            ),
            "webhook 'leaders-ding': url: give the address without its ?… part",
        ),
        (('to = ["fazhi@', 'to = ["not-an-address", "fazhi@'), "webhook 'fazhi-mail': to:"),
        # a header reads "fazhi:leader@…" as a group: the mail would reach leader@… only
        (('to = ["fazhi@', 'to = ["fazhi:leader@'), "webhook 'fazhi-mail': to:"),
        # the mail library fails on this one at every attempt, so it is never marked failed
        (('sender = "casestream@example.gov.cn"', 'sender = "casestream@[x"'), "sender:"),
        (('username = "casestream"', 'username = "法制大队"'), "webhook 'fazhi-mail': username:"),
        (
            ('rules = ["complaint.handling"]', 'rules = ["no.such"]'),
            "webhook 'leaders-ding': rules:",
        ),
        (
            ('departments = ["治安大队"]\n', 'departments = ["治安大队"]\ndigest = true\n'),
            "webhook 'zhian-hook': digest:",
        ),
        (
            ('password_file = "{password}"', 'password = "inline"'),
            "webhook 'fazhi-mail': password:",
        ),
        (
            ('password_file = "{password}"', 'password_env = "NO_SUCH_SMTP_PASSWORD_VAR"'),
            "webhook 'fazhi-mail': password_env:",
        ),
        (('at = "09:00"', 'at = "25:00"'), "digest.at:"),
        # an offset made every check of the digest's time fail: no digest was ever sent
        (('at = "09:00"', 'at = "09:00+08:00"'), "digest.at: give the local time without"),
    ],
)
def test_a_bad_channel_is_refused_naming_the_file_entry_and_field(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    old, new = change
    assert old in CHANNELS
    with pytest.raises(WebhookConfigError) as refused:
        load(tmp_path, CHANNELS.replace(old, new, 1), frozenset({"complaint.handling"}))
    message = str(refused.value)
    assert str(tmp_path / "webhooks.toml") in message and named in message
    assert "inline" not in message and "p4ss" not in message
