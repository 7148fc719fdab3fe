"""The FastAPI application factory (composition root of the HTTP side)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from casestream.bootstrap import REQUEST_PATIENCE, Parts, bootstrap
from casestream.credentials import AuthConfigError, Authenticator
from casestream.read_models.alert_queries import AlertQueries
from casestream.read_models.business_metrics import ReadModelCollector
from casestream.read_models.clock_queries import ClockQueries
from casestream.read_models.queries import CaseQueries
from casestream.read_models.webhook_deliveries import DeliveryStore
from casestream.settings import Settings

from . import (
    alerts,
    annual_report,
    case_commands,
    cases,
    clocks,
    console,
    console_actions,
    console_annual,
    console_case,
    console_cases,
    console_home,
    console_posts,
    console_rectifications,
    console_stats,
    events,
    files,
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
from .limits import (
    DATABASE_AWAY,
    BodyCap,
    RequestGuard,
    database_away,
    unreadable_body,
    validation_error,
)
from .params import reject_unknown_query
from .read_model_follower import FollowingCollector, ReadModelFollower
from .responses import AUTH_RESPONSES
from .sessions import SignInDesk


def create_app(
    settings: Settings | None = None,
    *,
    parts: Parts | None = None,
    now: Callable[[], datetime] = utc_now,
    heartbeat_seconds: float = 15.0,
) -> FastAPI:
    """The API on the read models of `settings`, or on `parts` already built by
    `casestream.bootstrap.bootstrap` (with an `ApiRegistry`, which GET /metrics serves); `now`
    is the time source of deadline queries. The app closes the parts when it stops.

    With CASESTREAM_KAFKA_BOOTSTRAP set, the app also reads alerts.events for GET /alerts/stream.
    Refuses (AuthConfigError) without a strong CASESTREAM_AUTH_SECRET or with an invalid
    CASESTREAM_API_KEYS_FILE.
    """
    if parts is None:
        if settings is None:
            raise TypeError("create_app takes the settings, or the parts built from them")
        authenticator = Authenticator.from_settings(settings)  # before anything is opened
        parts = bootstrap(settings, registry=ApiRegistry(), patience=REQUEST_PATIENCE)
    elif settings is not None:
        raise TypeError("create_app takes the settings or the parts, not both")
    else:
        authenticator = Authenticator.from_settings(parts.settings)
    if not isinstance(parts.registry, ApiRegistry):
        raise TypeError("the API's parts need bootstrap(settings, registry=ApiRegistry())")
    settings, registry = parts.settings, parts.registry
    engine, home_engine = parts.engine, parts.home_engine

    def figures_on(read_models: sa.Engine) -> ReadModelCollector:
        return ReadModelCollector(
            read_models,
            rulebook=parts.policy.rulebook,
            now=now,
            timezone=settings.timezone,
            departments=parts.departments,
            cache_seconds=settings.metrics_cache_seconds,
        )

    # business figures read from the read models at scrape time (cached between scrapes)
    figures = FollowingCollector(figures_on(engine))
    registry.register(figures)
    topics = parts.topics
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
        deliveries=DeliveryStore(home_engine),  # kept in the home across switches
        authenticator=authenticator,
        rulebook=parts.policy.rulebook,
        calendar=parts.policy.calendar,
        now=now,
        alert_feed=feed,
        heartbeat_seconds=heartbeat_seconds,
        scrape_token=read_scrape_token(settings),
        sender=parts.producer,
        signin=SignInDesk.from_settings(home_engine, settings, now),  # no sign-out by a switch
        home_engine=home_engine,
    )

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        follower = ReadModelFollower(
            served.state, parts.pointer, parts.serving, figures, figures_on
        )
        following = asyncio.ensure_future(follower.run(settings.read_model_poll_seconds))
        if feed is not None:
            await feed.start()
        try:
            yield
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
            if feed is not None:
                await feed.stop()
            follower.close()
            parts.close()

    app = FastAPI(
        title="casestream",
        description="Complaints, enterprise tip-offs, reconsiderations and lawsuits: cases, deadlines, disputes.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    # clocks first: its /cases/overdue must not be taken by the cases router's /cases/{case_id}
    # every router but health's needs a caller (api/auth.py): list new routers here
    for router in (
        clocks.router,
        cases.router,
        case_commands.router,
        case_commands.catalogue_router,
        alerts.router,
        events.router,
        files.router,
        webhooks.router,
        rectifications.router,
        rectification_commands.router,
        ledgers.router,
        annual_report.router,
        stats.router,
    ):
        app.include_router(
            router,
            dependencies=[Depends(current_principal), Depends(reject_unknown_query)],
            responses=AUTH_RESPONSES,
        )
    app.include_router(health.router)  # /healthz, /readyz, /metrics stay open
    app.include_router(console.router)  # the console's pages check the session themselves
    app.include_router(console_case.router)
    app.include_router(console_rectifications.router)
    app.include_router(console_stats.router)
    app.include_router(console_annual.router)  # 年度报告
    app.include_router(console_home.router)
    app.include_router(console_actions.router)
    app.include_router(console_cases.router)  # 案件列表
    app.mount(  # the console's own style sheet and script: public, nothing secret in them
        console.STATIC_PATH, StaticFiles(directory=console.STATIC_DIR), name="console-static"
    )
    # /metrics is timed too (route="/metrics"): a slow scrape is worth seeing
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, unreadable_body)
    away = database_away(console.unavailable_page)  # 503, not 500: a page on the console
    for error in DATABASE_AWAY:
        app.add_exception_handler(error, away)
    # anonymous bodies are refused unread, every body is capped (inside the timing: counted)
    app.add_middleware(
        RequestGuard,
        authenticator=lambda: services.authenticator,
        max_body_bytes=settings.max_body_bytes,
        open_paths=(console.router.prefix + "/",),  # signing in has no credential yet
        signed_in=lambda session_id: services.signin.session(session_id) is not None,
        database_away=away,
        route_caps={  # evidence files are larger than any JSON body (streamed to disk)
            files.router.prefix: BodyCap(
                settings.max_file_bytes, "CASESTREAM_MAX_FILE_BYTES", "send a smaller file"
            )
        },
        prefix_caps=dict.fromkeys(  # the console's command forms carry evidence files too
            console_posts.COMMAND_FORMS,
            BodyCap(
                console_posts.form_cap(settings),
                "CASESTREAM_MAX_FILE_BYTES + CASESTREAM_MAX_BODY_BYTES",
                "choose smaller files",
            ),
        ),
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
