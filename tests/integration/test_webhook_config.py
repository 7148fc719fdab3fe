"""The webhooks file: valid files load with their defaults; a bad one is refused at start-up
with the file, the webhook and the field named."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

import pytest

from casestream.stream_processors.webhooks import (
    WebhookConfigError,
    load_webhooks,
    signature,
)

GOOD = """
[delivery]
max_attempts = 4

[[webhook]]
id = "zhian"
url = "https://hooks.example.gov.cn/zhian"
secret = "0123456789abcdef0123"
departments = ["治安大队"]

[[webhook]]
id = "leaders"
url = "http://127.0.0.1:9000/leaders"
secret = "0123456789abcdef0123"
departments = ["*"]
levels = [3]
event_types = ["Escalated", "AlertCleared"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "webhooks.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_with_defaults_and_routing(tmp_path: Path) -> None:
    config = load_webhooks(write(tmp_path, GOOD))
    zhian, leaders = config.webhooks
    assert zhian.levels == {1, 2, 3} and "DeadlineApproaching" in zhian.event_types
    assert zhian.wants("DeadlineBreached", 2, "治安大队")
    assert not zhian.wants("DeadlineBreached", 2, "交警大队")
    assert leaders.wants("Escalated", 3, None) and not leaders.wants("Escalated", 2, "治安大队")
    assert not leaders.wants("DeadlineApproaching", 3, "治安大队")
    assert config.delivery.max_attempts == 4 and config.delivery.timeout_seconds == 5


def test_no_file_means_no_webhooks() -> None:
    assert load_webhooks(None).webhooks == ()


def test_retries_back_off_exponentially_up_to_five_minutes(tmp_path: Path) -> None:
    policy = load_webhooks(write(tmp_path, GOOD)).delivery
    delays = [policy.retry_delay(attempt).total_seconds() for attempt in range(1, 12)]
    assert delays[:5] == [1, 2, 4, 8, 16]
    assert delays[-1] == 300 and max(delays) == 300
    assert policy.retry_delay(1000) == timedelta(minutes=5)


def test_the_signature_is_an_hmac_sha256_of_the_body() -> None:
    digest = hmac.new(b"key", b"body", hashlib.sha256).hexdigest()
    assert signature("key", b"body") == f"sha256={digest}"


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('url = "http://127.0.0.1:9000/leaders"', 'url = "ftp://x"', "webhook 'leaders': url"),
        ("levels = [3]", "levels = [4]", "webhook 'leaders': levels"),
        (
            'event_types = ["Escalated", "AlertCleared"]',
            'event_types = ["Escalated", "Breached"]',
            "webhook 'leaders': event_types",
        ),
        ('departments = ["*"]', "departments = []", "webhook 'leaders': departments"),
        ('id = "leaders"', 'id = "zhian"', "webhook 'zhian': id: used twice"),
        ('id = "leaders"', 'id = "bad id!"', "webhook 'bad id!': id"),
        ('id = "leaders"\n', "", "webhook #2: id"),
        (
            'secret = "0123456789abcdef0123"\ndepartments = ["*"]',
            'secret = "short"\ndepartments = ["*"]',
            "webhook 'leaders': secret",
        ),
        ("max_attempts = 4", "max_attempts = 0", "delivery.max_attempts"),
        ("max_attempts = 4", "max_tries = 4", "delivery.max_tries"),
    ],
)
def test_an_invalid_file_names_file_webhook_and_field(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    assert replace in GOOD
    path = write(tmp_path, GOOD.replace(replace, by, 1))
    with pytest.raises(WebhookConfigError) as raised:
        load_webhooks(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and expected in message, message


def test_an_unknown_event_type_lists_the_choices(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('"AlertCleared"]', '"Cleared"]'))
    with pytest.raises(WebhookConfigError, match="choose from DeadlineApproaching"):
        load_webhooks(path)


def test_a_missing_or_broken_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(WebhookConfigError, match="CASESTREAM_WEBHOOKS_FILE"):
        load_webhooks(tmp_path / "nope.toml")
    with pytest.raises(WebhookConfigError, match="not valid TOML"):
        load_webhooks(write(tmp_path, "[[webhook]\nid="))
