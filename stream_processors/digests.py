"""The daily digest (每日待办提醒) of each department, recorded in the notifier's delivery log.

On a working day once the digest's local time has passed, `record_due` reads each department's
items from the read models and records one delivery per (department, day, channel) that opted
in (`digest = true`); the notifier's `deliver_due` sends them with the same retries and
per-channel limits as alerts. The delivery's id is the same whoever records it, so a restarted
worker or a second one records nothing new: a digest is sent once."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time

from casestream.domain.calendar import WorkingCalendar
from casestream.domain.digests import (
    DIGEST_EVENT,
    LISTED_PER_SECTION,
    digest_day,
    digest_horizon,
    digest_id,
    digest_message,
)
from casestream.read_models.digest_queries import DigestQueries
from casestream.read_models.webhook_deliveries import NewDelivery

from .channel_senders import message_body
from .notifier import WebhookNotifier


class DailyDigests:
    """Records the day's digests once it is time; the worker's digest timer calls `record_due`."""

    def __init__(
        self, queries: DigestQueries, notifier: WebhookNotifier, calendar: WorkingCalendar
    ) -> None:
        self._queries = queries
        self._notifier = notifier
        self._calendar = calendar
        self._recorded_day: date | None = None  # spares the queries for the rest of the day

    @property
    def enabled(self) -> bool:
        return bool(self._notifier.config.digest_channels)

    async def record_due(self, now: datetime) -> int:
        """Record the digests due at `now` (aware); the number of deliveries newly recorded."""
        if not self.enabled:
            return 0
        local_now = now.astimezone(self._notifier.wording.zone)
        day = digest_day(self._calendar, local_now, self._notifier.config.digest.at)
        if day is None or day == self._recorded_day:
            return 0
        recorded = await asyncio.to_thread(self._record, day, now)
        self._recorded_day = day
        for delivery in recorded:
            self._notifier.metrics.recorded.labels(delivery.webhook_id).inc()
        return len(recorded)

    def _record(self, day: date, now: datetime) -> list[NewDelivery]:
        config, wording = self._notifier.config, self._notifier.wording
        horizon = digest_horizon(self._calendar, day, config.digest.working_days_ahead)
        until = datetime.combine(horizon, time.max, wording.zone)
        planned: list[NewDelivery] = []
        for digest in self._queries.department_digests(now, until, listed=LISTED_PER_SECTION):
            channels = [
                channel
                for channel in config.digest_channels
                if channel.wants_department(digest.department)
            ]
            if digest.is_empty or not channels:
                continue
            message = digest_message(digest, day, horizon, wording)
            planned += [
                NewDelivery(
                    alert_id=digest_id(digest.department, day),
                    webhook_id=channel.id,
                    event_type=DIGEST_EVENT,
                    case_id="",
                    clock_id=f"digest/{digest.department}",
                    body=message_body(channel, message),
                    created_at=now,
                )
                for channel in channels
            ]
        return self._notifier.store.record(planned)
