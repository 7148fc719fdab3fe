"""The alert notifier: records who must hear of each alert, then sends it with retries: signed
webhooks, 企业微信 / 钉钉 group robots and e-mail (channel_senders.py).

`on_alerts` (called by the worker's agent on alerts.events) durably records one pending delivery
per matching channel, its body rendered once (the event's JSON for a signed webhook, a message
in Chinese for people); a redelivered alert changes nothing. `deliver_due` (a timer) starts one
task per due delivery, daily digests (digests.py) included: a channel that fails or hangs is
retried with exponential backoff and never holds up the others. A channel with a rate limit
(`max_per_minute`: 企业微信 and 钉钉 robots, 20 by default) is sent no more than that in any
rolling minute, counted across workers in the delivery log (domain/pacing.py); what waits for
the window stays pending without using an attempt, and a robot's "over the limit" answer holds
the channel for a minute without counting either (up to `over_limit_grace_seconds`). Time is a
parameter (`now`) or an injected clock; database work runs off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from casestream.domain.envelope import Event
from casestream.domain.notifications import AlertNotice, Message, Wording, alert_message
from casestream.domain.pacing import RATE_WINDOW, Verdict, after_attempt
from casestream.read_models.alert_queries import ALERT_EVENT_TYPES
from casestream.read_models.webhook_deliveries import DeliveryStore, DueDelivery, NewDelivery
from casestream.settings import Settings

from .channel_models import EmailChannel
from .channel_senders import Outcome, attempt, message_body
from .webhooks import CLEARED, Channel, Webhook, WebhookConfig, load_webhooks

log = logging.getLogger(__name__)

LEASE_MARGIN = timedelta(seconds=60)  # a claimed delivery is retried this long after its timeout


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NotifierMetrics:
    """Webhook metrics, created on a registry passed in (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "casestream_webhook_deliveries_total",
            "Webhook delivery attempts by outcome: delivered, retry (will try again), failed "
            "(gave up), over_limit (a robot's rate limit: waits, costs no attempt)",
            ["webhook", "outcome"],
            registry=registry,
        )
        self.recorded = Counter(
            "casestream_webhook_deliveries_recorded_total",
            "Pending deliveries recorded for new alerts (a redelivered alert records none)",
            ["webhook"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "casestream_webhook_in_flight",
            "Webhook requests being made now",
            ["webhook"],
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "casestream_webhook_attempt_seconds",
            "Duration of one webhook POST, up to its timeout",
            ["webhook"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.delivery_lag = Histogram(
            "casestream_webhook_delivery_lag_seconds",
            "From an alert's delivery being recorded to its successful POST",
            ["webhook"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
            registry=registry,
        )


class WebhookNotifier:
    """Delivers alert events to the webhooks of the departments concerned.

    The worker builds one with `from_settings` when webhooks are configured; its alerts agent
    hands each batch of decoded alerts to `on_alerts` and a timer calls `deliver_due`, both
    behind the worker's backoff; `aclose` on stop.
    """

    def __init__(
        self,
        store: DeliveryStore,
        config: WebhookConfig,
        registry: CollectorRegistry,
        *,
        clock: Callable[[], datetime] = _utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
        wording: Wording | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self._wording = wording or Wording()
        self._webhooks = {webhook.id: webhook for webhook in config.webhooks}
        self._policy = config.delivery
        self._clock = clock
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._mail_threads: ThreadPoolExecutor | None = None
        self._in_flight: dict[str, int] = dict.fromkeys(self._webhooks, 0)
        self._max_per_minute = {
            webhook.id: webhook.max_per_minute
            for webhook in config.webhooks
            if webhook.max_per_minute is not None
        }
        # a channel whose robot answered "over the limit" is not sent to again before this
        self._held_until: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.metrics = NotifierMetrics(registry)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: sa.Engine,
        registry: CollectorRegistry,
        rule_titles: Mapping[str, str] | None = None,
    ) -> WebhookNotifier:
        """Loads CASESTREAM_WEBHOOKS_FILE; raises WebhookConfigError naming file, webhook, field.
        `rule_titles` (rule id → Chinese title) word the messages and are the rule ids a
        channel's `rules` may name."""
        titles = dict(rule_titles or {})
        config = load_webhooks(settings.webhooks_file, frozenset(titles) or None)
        wording = Wording(settings.timezone, titles, settings.public_base_url)
        return cls(DeliveryStore(engine), config, registry, wording=wording)

    @property
    def webhooks(self) -> tuple[Channel, ...]:
        return self._config.webhooks

    @property
    def config(self) -> WebhookConfig:
        return self._config

    @property
    def wording(self) -> Wording:
        return self._wording

    @property
    def store(self) -> DeliveryStore:
        return self._store

    # --- recording ------------------------------------------------------------------------

    async def on_alert(self, event: Event[Any]) -> None:
        """Record one pending delivery per webhook that wants this alert (idempotent)."""
        await self.on_alerts([event])

    async def on_alerts(self, events: Sequence[Event[Any]]) -> int:
        """`on_alert` for a batch in one transaction; the number of deliveries newly recorded.

        Events that are not alerts are ignored, so the agent may pass everything it reads.
        """
        alerts = [event for event in events if event.event_type in ALERT_EVENT_TYPES]
        if not alerts or not self._webhooks:
            return 0
        recorded = await asyncio.to_thread(self._record, alerts, self._clock())
        for delivery in recorded:
            self.metrics.recorded.labels(delivery.webhook_id).inc()
        return len(recorded)

    def _record(self, alerts: Sequence[Event[Any]], now: datetime) -> list[NewDelivery]:
        cleared_clocks = [e.payload.clock_id for e in alerts if e.event_type == CLEARED]
        alerted = self._store.webhooks_alerted_on(cleared_clocks) if cleared_clocks else {}
        planned: dict[tuple[str, str], NewDelivery] = {}
        for event in alerts:
            payload = event.payload
            if event.event_type == CLEARED:
                targets = [
                    webhook
                    for webhook in self.webhooks
                    if webhook.id in alerted.get(payload.clock_id, set())
                    and CLEARED in webhook.event_types
                ]
            else:
                level = int(payload.level)
                targets = [
                    webhook
                    for webhook in self.webhooks
                    if webhook.wants(event.event_type, level, payload.department, payload.rule)
                ]
            event_json = event.model_dump_json()
            message: Message | None = None
            for webhook in targets:
                if isinstance(webhook, Webhook):
                    body = event_json
                else:
                    message = message or alert_message(_notice(event), self._wording)
                    body = message_body(webhook, message)
                alerted.setdefault(payload.clock_id, set()).add(webhook.id)
                planned[(payload.alert_id, webhook.id)] = NewDelivery(
                    alert_id=payload.alert_id,
                    webhook_id=webhook.id,
                    event_type=event.event_type,
                    case_id=event.case_id,
                    clock_id=payload.clock_id,
                    body=body,
                    created_at=now,
                )
        return self._store.record(list(planned.values()))

    # --- delivering -----------------------------------------------------------------------

    async def deliver_due(self, now: datetime) -> int:
        """Start an attempt for each due pending delivery; the number of attempts started.

        Each attempt runs as its own task with a timeout, at most `max_in_flight_per_webhook`
        per webhook, so this call returns at once and a slow webhook delays nobody. Deliveries
        still in flight from an earlier call are not started twice. A rate-limited channel is
        claimed only as far as its last minute's sends allow; the rest wait for a later call.
        `wait_idle()` waits for the attempts to finish.
        """
        wanted = {
            webhook_id: 0
            if self._held_until.get(webhook_id, now) > now
            else self._policy.max_in_flight_per_webhook - count
            for webhook_id, count in self._in_flight.items()
        }
        if not any(count > 0 for count in wanted.values()):
            return 0
        lease = now + timedelta(seconds=self._policy.timeout_seconds) + LEASE_MARGIN
        claimed = await asyncio.to_thread(
            self._store.claim_due, wanted, now, lease, self._max_per_minute
        )
        client = self._http()
        for delivery in claimed:
            webhook = self._webhooks[delivery.webhook_id]
            self._in_flight[webhook.id] += 1
            self.metrics.in_flight.labels(webhook.id).inc()
            task = asyncio.create_task(
                self._attempt(client, webhook, delivery, now),
                name=f"webhook {webhook.id} {delivery.alert_id}",
            )
            self._tasks.add(task)
            task.add_done_callback(self._finished(webhook.id))
        return len(claimed)

    def _finished(self, webhook_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            self._in_flight[webhook_id] -= 1
            self.metrics.in_flight.labels(webhook_id).dec()
            if not task.cancelled() and task.exception() is not None:
                # the row stays claimed and is retried when its lease runs out
                log.error("webhook %s: attempt failed", webhook_id, exc_info=task.exception())

        return done

    async def _attempt(
        self, client: httpx.AsyncClient, webhook: Channel, delivery: DueDelivery, now: datetime
    ) -> None:
        timeout = self._policy.timeout_seconds
        started = time.monotonic()
        try:
            result = await attempt(
                client,
                webhook,
                delivery.alert_id,
                delivery.event_type,
                delivery.body,
                timeout,
                self._mail_pool(),
            )
        finally:
            self.metrics.attempt_seconds.labels(webhook.id).observe(time.monotonic() - started)
        verdict = self._after(webhook, delivery, result, now)
        status = verdict.status
        outcome = "over_limit" if not verdict.counts else {"pending": "retry"}.get(status, status)
        self.metrics.deliveries.labels(webhook.id, outcome).inc()
        await asyncio.to_thread(
            self._store.finish,
            delivery,
            at=now,
            status=status,
            status_code=result.status_code,
            error=result.error,
            next_attempt_at=verdict.next_attempt_at,
            counts=verdict.counts,
        )

    def _after(
        self, webhook: Channel, delivery: DueDelivery, result: Outcome, now: datetime
    ) -> Verdict:
        verdict = after_attempt(
            succeeded=result.error is None,
            over_limit=result.over_limit,
            attempts_before=delivery.attempts,
            recorded_at=delivery.created_at,
            now=now,
            max_attempts=self._policy.max_attempts,
            retry_delay=self._policy.retry_delay,
            over_limit_grace=timedelta(seconds=self._policy.over_limit_grace_seconds),
        )
        if result.over_limit:
            # the robot counts messages we cannot see (other senders): wait out its minute
            held = self._held_until.get(webhook.id, now)
            self._held_until[webhook.id] = max(held, now + RATE_WINDOW)
        if verdict.status == "delivered":
            lag = max(0.0, (now - delivery.created_at).total_seconds())
            self.metrics.delivery_lag.labels(webhook.id).observe(lag)
        elif verdict.status == "failed":
            log.warning("webhook %s gave up on %s: %s", webhook.id, delivery.alert_id, result.error)
        return verdict

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            connections = max(100, len(self._webhooks) * self._policy.max_in_flight_per_webhook)
            self._client = httpx.AsyncClient(
                timeout=self._policy.timeout_seconds,
                limits=httpx.Limits(max_connections=connections),
                transport=self._transport,
                follow_redirects=False,
                headers={"User-Agent": "casestream-notifier"},
            )
        return self._client

    def _mail_pool(self) -> ThreadPoolExecutor | None:
        """Threads for the e-mail channels, as many as their attempts in flight can be."""
        mailboxes = sum(isinstance(channel, EmailChannel) for channel in self.webhooks)
        if mailboxes and self._mail_threads is None:
            self._mail_threads = ThreadPoolExecutor(
                max_workers=mailboxes * self._policy.max_in_flight_per_webhook,
                thread_name_prefix="smtp",
            )
        return self._mail_threads

    async def wait_idle(self) -> None:
        """Wait until every attempt started so far has finished and been recorded."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Let attempts in flight finish (each is bounded by its timeout), then close."""
        try:
            await asyncio.wait_for(self.wait_idle(), self._policy.timeout_seconds + 5)
        except TimeoutError:
            for task in list(self._tasks):
                task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._mail_threads is not None:
            self._mail_threads.shutdown(wait=False, cancel_futures=True)
            self._mail_threads = None


def _notice(event: Event[Any]) -> AlertNotice:
    payload = event.payload
    level = getattr(payload, "level", None)
    return AlertNotice(
        event_type=event.event_type,
        case_id=event.case_id,
        case_kind=str(event.case_kind),
        rule_id=payload.rule,
        due_at=payload.due_at,
        department=payload.department,
        level=int(level) if level is not None else None,
        reason=str(getattr(payload, "reason", "")),
    )
