"""Pacing of a notification channel: how many sends its rate limit allows now, given when its
recent sends started, and what one attempt makes of a delivery (delivered, retried after a
backoff, waiting out a robot's minute without using an attempt, or failed).

企业微信 and 钉钉 group robots take at most 20 messages a minute (企业微信 answers errcode 45009
beyond it, 钉钉 660026 or 130101); a burst past the limit would be refused and burn the
deliveries' attempts. The notifier asks `sends_allowed` before claiming a channel's deliveries,
so no rolling minute holds more than the channel's `max_per_minute` sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

RATE_WINDOW = timedelta(minutes=1)  # the robots' limits are per minute, counted rolling


def sends_allowed(max_per_minute: int | None, sent_at: Iterable[datetime], now: datetime) -> int:
    """How many more sends may start at `now` without any rolling minute holding more than
    `max_per_minute`; a send started at `s` counts until `s + RATE_WINDOW` (one stamped after
    `now`, by a worker whose clock is ahead, counts too). None: no limit (returns a number
    larger than any claim)."""
    if max_per_minute is None:
        return 1_000_000
    since = now - RATE_WINDOW
    recent = sum(1 for started in sent_at if started > since)
    return max(0, max_per_minute - recent)


def next_send_at(max_per_minute: int, sent_at: Iterable[datetime], now: datetime) -> datetime:
    """The first instant from `now` at which one more send is allowed."""
    since = now - RATE_WINDOW
    recent = sorted(started for started in sent_at if started > since)
    excess = len(recent) - max_per_minute
    if excess < 0:
        return now
    return recent[excess] + RATE_WINDOW


def over_limit_is_free(recorded_at: datetime, now: datetime, free_for: timedelta) -> bool:
    """Whether a robot's "over the limit" answer to a delivery is waited out without counting
    as one of its attempts: only while the delivery is younger than `free_for`, so a robot that
    refuses for ever still ends the delivery failed after its `max_attempts`."""
    return now - recorded_at < free_for


@dataclass(frozen=True)
class Verdict:
    """What an attempt makes of its delivery."""

    status: Literal["delivered", "pending", "failed"]
    next_attempt_at: datetime
    counts: bool  # whether the attempt used one of the delivery's `max_attempts`


def after_attempt(
    *,
    succeeded: bool,
    over_limit: bool,
    attempts_before: int,
    recorded_at: datetime,
    now: datetime,
    max_attempts: int,
    retry_delay: Callable[[int], timedelta],
    over_limit_grace: timedelta,
) -> Verdict:
    """Delivered; or, for a robot's "over the limit" answer within the grace, pending a minute
    with no attempt used; or failed once `max_attempts` are used; or pending after the backoff
    (`retry_delay(attempts)`, at least a minute after an over-limit answer)."""
    if succeeded:
        return Verdict("delivered", now, True)
    if over_limit and over_limit_is_free(recorded_at, now, over_limit_grace):
        return Verdict("pending", now + RATE_WINDOW, False)
    attempts = attempts_before + 1
    if attempts >= max_attempts:
        return Verdict("failed", now, True)
    delay = retry_delay(attempts)
    return Verdict("pending", now + (max(delay, RATE_WINDOW) if over_limit else delay), True)
