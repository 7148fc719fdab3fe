"""How one delivery is sent on each kind of channel: the body recorded for it, and one attempt
(signed webhook POST, 企业微信 / 钉钉 robot POST with its `errcode` checked, SMTP e-mail).

An attempt returns its outcome instead of raising; error texts never carry a key, token,
signature or password (robot URLs hold them, so exceptions are described without the URL)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote, urlencode

import httpx

from casestream.domain.notifications import Message

from .channel_models import DingTalkRobot, EmailChannel, WeComRobot
from .webhooks import Channel, Webhook, delivery_headers

WECOM_MARKDOWN_BYTES = 4096  # the robot refuses longer markdown content
WECOM_TEXT_BYTES = 2048  # … and longer text content


@dataclass(frozen=True)
class Outcome:
    """One attempt: success, or the error to record (and retry). `over_limit`: a robot refused
    it for its rate limit, so the delivery waits without the attempt counting."""

    status_code: int | None = None
    error: str | None = None
    over_limit: bool = False


def message_body(channel: Channel, message: Message) -> str:
    """The body recorded for a message on a channel to people: for a robot the exact JSON it
    is sent, for e-mail the subject and text."""
    if isinstance(channel, WeComRobot):
        if channel.format == "text":
            text = _cut(message.text, WECOM_TEXT_BYTES)
            content = {"msgtype": "text", "text": {"content": text}}
        else:
            markdown = _cut(message.markdown, WECOM_MARKDOWN_BYTES)
            content = {"msgtype": "markdown", "markdown": {"content": markdown}}
        return json.dumps(content, ensure_ascii=False)
    if isinstance(channel, DingTalkRobot):
        return json.dumps(
            {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown}},
            ensure_ascii=False,
        )
    return json.dumps({"subject": message.title, "text": message.text}, ensure_ascii=False)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(key=secret, "{timestamp}\\n{secret}")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return quote(base64.b64encode(digest).decode(), safe="")


def dingtalk_url(robot: DingTalkRobot, timestamp_ms: int) -> str:
    url = f"{robot.url}?{urlencode({'access_token': robot.access_token.get_secret_value()})}"
    if robot.secret is not None:
        sign = dingtalk_sign(robot.secret.get_secret_value(), timestamp_ms)
        url += f"&timestamp={timestamp_ms}&sign={sign}"
    return url


def wecom_url(robot: WeComRobot) -> str:
    return f"{robot.url}?{urlencode({'key': robot.key.get_secret_value()})}"


async def attempt(
    client: httpx.AsyncClient,
    channel: Channel,
    delivery_id: str,
    event_type: str,
    body: str,
    timeout: float,
    mail_threads: Executor | None = None,
) -> Outcome:
    """Send one delivery once, within `timeout` seconds. E-mail is sent by a blocking client on
    `mail_threads` (its own pool, so a hanging mail server holds none of the threads the
    database work runs on; the default pool without one)."""
    try:
        async with asyncio.timeout(timeout):
            if isinstance(channel, EmailChannel):
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(
                    mail_threads, _send_mail, channel, delivery_id, body, timeout
                )
                return Outcome()
            if isinstance(channel, Webhook):
                content = body.encode()
                headers = delivery_headers(channel.secret, delivery_id, event_type, content)
                response = await client.post(channel.url, content=content, headers=headers)
                return _http_outcome(response, None)
            url = (
                wecom_url(channel)
                if isinstance(channel, WeComRobot)
                else dingtalk_url(channel, int(time.time() * 1000))
            )
            response = await client.post(
                url, content=body.encode(), headers={"Content-Type": "application/json"}
            )
            return _http_outcome(response, channel.over_limit_errcodes, secrets=_query_values(url))
    except TimeoutError:
        return Outcome(error=f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        # the request's URL may hold a robot's key: name the failure, not the address
        return Outcome(error=f"{type(exc).__name__}: could not reach {_host(channel)}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(error=_smtp_error(exc))


def _http_outcome(
    response: httpx.Response,
    over_limit_errcodes: frozenset[int] | None,
    *,
    secrets: frozenset[str] = frozenset(),
) -> Outcome:
    """The outcome of a POST; `over_limit_errcodes` None for a signed webhook, else the robot's
    errcodes that mean "too many messages this minute"; `secrets` (what the robot's address
    carries) blanked from any text kept."""
    status = response.status_code
    if not response.is_success:
        return Outcome(status, f"HTTP {status}: {_blanked(response.text, secrets)[:300]}")
    if over_limit_errcodes is None:
        return Outcome(status)
    try:
        answer = response.json()
    except ValueError:
        return Outcome(
            status, f"not a robot's JSON answer: {_blanked(response.text, secrets)[:200]}"
        )
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        errmsg = str(answer.get("errmsg", "")) if isinstance(answer, dict) else ""
        over_limit = isinstance(errcode, int) and errcode in over_limit_errcodes
        return Outcome(status, f"errcode {errcode}: {_blanked(errmsg, secrets)[:200]}", over_limit)
    return Outcome(status)


def _query_values(url: str) -> frozenset[str]:
    """What a robot's address carries (key, access_token, sign), as sent and as decoded."""
    values = {value for _, value in httpx.URL(url).params.multi_items()}
    return frozenset(values | {quote(value, safe="") for value in values})


def _blanked(text: str, secrets: frozenset[str]) -> str:
    """`text` without any of `secrets`: a proxy's error page may repeat the address asked for."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:  # a shorter value would blank ordinary words
            text = text.replace(secret, "***")
    return text


def _host(channel: Channel) -> str:
    return httpx.URL(channel.url).host if not isinstance(channel, EmailChannel) else channel.host


def _smtp_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        )
        return f"SMTP {exc.smtp_code}: {detail[:200]}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"SMTP refused {len(exc.recipients)} recipient(s)"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _send_mail(channel: EmailChannel, delivery_id: str, body: str, timeout: float) -> None:
    """One e-mail, blocking (run in a thread): plain SMTP, STARTTLS or SMTPS."""
    content = json.loads(body)
    mail = EmailMessage()
    mail["Subject"] = content["subject"]
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=hashlib.sha256(delivery_id.encode()).hexdigest()[:16])
    mail.set_content(content["text"])
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if channel.security == "ssl":
        smtp = smtplib.SMTP_SSL(channel.host, channel.smtp_port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(channel.host, channel.smtp_port, timeout=timeout)
    with smtp:
        if channel.security == "starttls":
            smtp.starttls(context=context)
        if channel.username and channel.password is not None:
            smtp.login(channel.username, channel.password.get_secret_value())
        smtp.send_message(mail)


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes, cut at a line and marked as cut."""
    if len(text.encode()) <= limit:
        return text
    marker = "\n…（内容过长，请在控制台查看）"
    room = limit - len(marker.encode())
    kept = text.encode()[:room].decode(errors="ignore")
    return kept.rsplit("\n", 1)[0] + marker
