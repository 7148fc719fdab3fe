"""The FastAPI application factory (composition root of the HTTP side)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from casestream.credentials import AuthConfigError, Authenticator
from casestream.domain.rules import load_rulebook
from casestream.metric_labels import DepartmentLabels
from casestream.producers.topics import Topics
from casestream.read_models.alert_queries import AlertQueries
from casestream.read_models.business_metrics import ReadModelCollector
from casestream.read_models.clock_queries import ClockQueries
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.queries import CaseQueries
from casestream.read_models.webhook_deliveries import DeliveryStore
from casestream.settings import Settings

from . import (
    alerts,
    cases,
    clocks,
    events,
    health,
    ledgers,
    rectification_commands,
    rectifications,
    stats,
    webhooks,
)
from .alert_feed import AlertFeed
from .auth import current_principal
from .deps import ApiMetrics, Services, utc_now
from .http_metrics import ApiRegistry, RequestMetrics, RequestTiming
from .limits import RequestGuard, unreadable_body, validation_error
from .params import reject_unknown_query
from .responses import AUTH_RESPONSES


def create_app(
    settings: Settings,
    *,
    now: Callable[[], datetime] = utc_now,
    heartbeat_seconds: float = 15.0,
) -> FastAPI:
    """The API on the read models of `settings`; `now` is the time source of deadline queries.

    With CASESTREAM_KAFKA_BOOTSTRAP set, the app also reads alerts.events for GET /alerts/stream.
    Refuses (AuthConfigError) without a strong CASESTREAM_AUTH_SECRET or with an invalid
    CASESTREAM_API_KEYS_FILE.
    """
    authenticator = Authenticator.from_settings(settings)  # before anything is opened
    rulebook = load_rulebook(settings.rules_file)  # an invalid rule file fails here
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)
    registry = ApiRegistry()
    # business figures read from the read models at scrape time (cached between scrapes)
    registry.register(
        ReadModelCollector(
            engine,
            rulebook=rulebook,
            now=now,
            timezone=settings.timezone,
            departments=DepartmentLabels.from_settings(settings),
            cache_seconds=settings.metrics_cache_seconds,
        )
    )
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
        authenticator=authenticator,
        rulebook=rulebook,
        now=now,
        alert_feed=feed,
        heartbeat_seconds=heartbeat_seconds,
        scrape_token=read_scrape_token(settings),
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
    # every router but health's needs a caller (api/auth.py): list new routers here
    for module in (
        clocks,
        cases,
        alerts,
        events,
        webhooks,
        rectifications,
        rectification_commands,
        ledgers,
        stats,
    ):
        app.include_router(
            module.router,
            dependencies=[Depends(current_principal), Depends(reject_unknown_query)],
            responses=AUTH_RESPONSES,
        )
    app.include_router(health.router)  # /healthz, /readyz, /metrics stay open
    # /metrics is timed too (route="/metrics"): a slow scrape is worth seeing
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, unreadable_body)
    # anonymous bodies are refused unread, every body is capped (inside the timing: counted)
    app.add_middleware(
        RequestGuard,
        authenticator=lambda: services.authenticator,
        max_body_bytes=settings.max_body_bytes,
    )
    app.add_middleware(RequestTiming, metrics=RequestMetrics.on(registry))
    return app


def read_scrape_token(settings: Settings) -> str | None:
    """The token of CASESTREAM_METRICS_TOKEN_FILE; AuthConfigError when unreadable or weak."""
    if settings.metrics_token_file is None:
        return None
    try:
        token = settings.metrics_token_file.read_text().strip()
    except OSError as exc:
        raise AuthConfigError(
            f"CASESTREAM_METRICS_TOKEN_FILE {settings.metrics_token_file}: {exc.strerror}"
        ) from exc
    if len(token) < 32:
        raise AuthConfigError(
            f"CASESTREAM_METRICS_TOKEN_FILE {settings.metrics_token_file}: the token needs at "
            "least 32 random characters"
        )
    return token


def app_from_environment() -> FastAPI:
    """The API configured by the `CASESTREAM_*` environment: what each worker process of
    `casestream api --workers N` runs (`casestream.api.app:app_from_environment`, a uvicorn
    factory)."""
    return create_app(Settings())
