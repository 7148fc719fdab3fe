"""The FastAPI application factory (composition root of the HTTP side)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from casestream.producers.topics import Topics
from casestream.read_models.alert_queries import AlertQueries
from casestream.read_models.clock_queries import ClockQueries
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.queries import CaseQueries
from casestream.read_models.webhook_deliveries import DeliveryStore
from casestream.settings import Settings

from . import alerts, cases, clocks, events, health, webhooks
from .alert_feed import AlertFeed
from .deps import ApiMetrics, Services, utc_now


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utc_now,
    heartbeat_seconds: float = 15.0,
) -> FastAPI:
    """The API on the read models of `settings`; `now` is the time source of deadline queries.

    With CASESTREAM_KAFKA_BOOTSTRAP set, the app also reads alerts.events for GET /alerts/stream.
    """
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)
    registry = CollectorRegistry()
    topics = Topics(settings.topic_prefix)
    feed = (
        AlertFeed(settings.kafka_bootstrap, topics.alerts, registry, timezone=settings.timezone)
        if settings.kafka_bootstrap
        else None
    )
    services = Services(
        settings=settings,
        queries=CaseQueries(engine),
        topics=topics,
        registry=registry,
        metrics=ApiMetrics.on(registry),
        alerts=AlertQueries(engine),
        clocks=ClockQueries(engine),
        deliveries=DeliveryStore(engine),
        now=now,
        alert_feed=feed,
        heartbeat_seconds=heartbeat_seconds,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            await feed.start()
        try:
            yield
        finally:
            if feed is not None:
                await feed.stop()
            services.close()
            engine.dispose()

    app = FastAPI(
        title="casestream",
        description="Complaints, enterprise tip-offs, reconsiderations and lawsuits: cases, deadlines, disputes.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    # clocks first: its /cases/overdue must not be taken by the cases router's /cases/{case_id}
    for module in (clocks, cases, alerts, events, webhooks, health):
        app.include_router(module.router)
    return app
