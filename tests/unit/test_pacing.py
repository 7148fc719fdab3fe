"""Pacing of rate-limited channels (企业微信 and 钉钉 robots: 20 messages a minute), with an
explicit clock: how many sends a rolling minute allows, when the next one may start, when a
robot's "over the limit" answer stops being free, and which answers mean it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from casestream.domain.pacing import (
    RATE_WINDOW,
    Verdict,
    after_attempt,
    next_send_at,
    over_limit_is_free,
    sends_allowed,
)
from casestream.stream_processors.channel_models import DingTalkRobot, WeComRobot
from casestream.stream_processors.channel_senders import _http_outcome
from casestream.stream_processors.webhooks import WebhookConfig, WebhookConfigError, load_webhooks

T0 = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_robot_may_send_twenty_in_a_minute_and_one_more_once_the_first_is_a_minute_old() -> None:
    sent = [at(second) for second in range(20)]  # one a second from T0
    assert sends_allowed(20, sent[:5], at(5)) == 15
    assert sends_allowed(20, sent, at(20)) == 0
    assert sends_allowed(20, sent, at(59.9)) == 0
    assert sends_allowed(20, sent, at(60)) == 1  # the send at T0 left the window
    assert sends_allowed(20, sent, at(65)) == 6
    assert sends_allowed(20, sent, at(200)) == 20
    assert next_send_at(20, sent, at(20)) == at(60)
    assert next_send_at(20, sent, at(61.5)) == at(61.5)


def test_a_send_stamped_ahead_of_this_workers_clock_still_counts() -> None:
    assert sends_allowed(2, [at(10), at(11)], at(9)) == 0


def test_a_channel_without_a_limit_is_never_paced() -> None:
    sent = [T0] * 1000
    assert sends_allowed(None, sent, T0) >= 1000


@given(
    st.lists(st.floats(min_value=0, max_value=300, allow_nan=False), min_size=1, max_size=80),
    st.integers(min_value=1, max_value=20),
)
def test_sending_whenever_allowed_never_puts_more_than_the_limit_in_any_rolling_minute(
    ticks: list[float], limit: int
) -> None:
    sent: list[datetime] = []
    for tick in sorted(ticks):
        now = at(tick)
        sent.extend([now] * min(3, sends_allowed(limit, sent, now)))  # a burst per tick
    for start in sent:
        assert sum(1 for other in sent if start <= other < start + RATE_WINDOW) <= limit


def test_an_over_limit_answer_is_free_only_while_the_delivery_is_younger_than_the_grace() -> None:
    grace = timedelta(hours=1)
    assert over_limit_is_free(T0, at(3599), grace)
    assert not over_limit_is_free(T0, at(3600), grace)


def verdict(attempts_before: int, now: datetime, **outcome: bool) -> Verdict:
    return after_attempt(
        succeeded=outcome.get("succeeded", False),
        over_limit=outcome.get("over_limit", False),
        attempts_before=attempts_before,
        recorded_at=T0,
        now=now,
        max_attempts=3,
        retry_delay=lambda attempts: timedelta(seconds=2**attempts),
        over_limit_grace=timedelta(hours=1),
    )


def test_an_over_limit_answer_waits_a_minute_without_using_an_attempt_until_the_grace_ends() -> (
    None
):
    assert verdict(2, at(10), over_limit=True) == Verdict("pending", at(70), counts=False)
    # past the grace it counts (and waits at least the robot's minute) …
    assert verdict(0, at(3600), over_limit=True) == Verdict("pending", at(3660), counts=True)
    # … so a robot that refuses for ever ends the delivery failed after max_attempts
    assert verdict(2, at(3700), over_limit=True) == Verdict("failed", at(3700), counts=True)


def test_other_failures_back_off_and_give_up_after_max_attempts() -> None:
    assert verdict(0, at(5)) == Verdict("pending", at(7), counts=True)
    assert verdict(1, at(5)) == Verdict("pending", at(9), counts=True)
    assert verdict(2, at(5)) == Verdict("failed", at(5), counts=True)
    assert verdict(2, at(5), succeeded=True) == Verdict("delivered", at(5), counts=True)


def robot_answer(errcode: int, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"errcode": errcode, "errmsg": "too fast"})


def test_only_each_robots_own_rate_limit_errcodes_mean_wait() -> None:
    wecom, dingtalk = WeComRobot.over_limit_errcodes, DingTalkRobot.over_limit_errcodes
    refused = _http_outcome(robot_answer(45009), wecom)
    assert refused.over_limit and refused.error == "errcode 45009: too fast"
    assert _http_outcome(robot_answer(660026), dingtalk).over_limit
    assert _http_outcome(robot_answer(130101), dingtalk).over_limit
    assert not _http_outcome(robot_answer(45009), dingtalk).over_limit
    assert not _http_outcome(robot_answer(93000), wecom).over_limit  # a wrong key: a failure
    assert not _http_outcome(robot_answer(0), wecom).error
    assert not _http_outcome(robot_answer(45009, status=500), wecom).over_limit
    assert not _http_outcome(robot_answer(45009), None).over_limit  # signed webhooks: no errcode


def test_robots_are_paced_at_twenty_a_minute_by_default_and_other_channels_not_at_all() -> None:
    route = {"departments": ["*"]}
    config = WebhookConfig.model_validate(
        {
            "webhook": [
                {**route, "id": "w", "type": "wecom", "key": "k"},
                {**route, "id": "d", "type": "dingtalk", "access_token": "t"},
                {**route, "id": "slow", "type": "wecom", "key": "k", "max_per_minute": 5},
                {**route, "id": "s", "url": "https://h.example.gov.cn", "secret": "x" * 16},
                {
                    **route,
                    "id": "m",
                    "type": "email",
                    "host": "smtp.example.gov.cn",
                    "sender": "a@example.gov.cn",
                    "to": ["b@example.gov.cn"],
                },
            ]
        }
    )
    assert [channel.max_per_minute for channel in config.webhooks] == [20, 20, 5, None, None]


def test_a_limit_below_one_is_refused_naming_the_channel_and_field(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.toml"
    path.write_text(
        '[[webhook]]\nid = "zhian-wecom"\ntype = "wecom"\nkey = "k"\n'
        'departments = ["治安大队"]\nmax_per_minute = 0\n',
        encoding="utf-8",
    )
    with pytest.raises(WebhookConfigError, match=r"webhook 'zhian-wecom': max_per_minute: "):
        load_webhooks(path)
