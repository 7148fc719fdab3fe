"""Wiring of the API: the services a request may use, created once per app, not at import time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter, Gauge

from casestream.bootstrap import LazyProducer
from casestream.credentials import Authenticator
from casestream.domain.calendar import WorkingCalendar
from casestream.domain.rules import RuleBook
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.alert_queries import AlertQueries
from casestream.read_models.clock_queries import ClockQueries
from casestream.read_models.command_reservations import CommandReservations
from casestream.read_models.outbox import Outbox
from casestream.read_models.queries import CaseQueries
from casestream.read_models.webhook_deliveries import DeliveryStore
from casestream.settings import Settings

from .alert_feed import AlertFeed
from .consistency import OutboxMarks, ProjectedVersions, RecentWrites
from .http_metrics import ApiRegistry
from .sessions import SignInDesk


def utc_now() -> datetime:
    """The API's default time source; tests pass their own to `create_app`."""
    return datetime.now(UTC)


@dataclass
class ApiMetrics:
    events_posted: Counter
    events_rejected: Counter
    projector_lag: Gauge
    projectors_running: Gauge

    @classmethod
    def on(cls, registry: CollectorRegistry) -> ApiMetrics:
        return cls(
            Counter(
                "casestream_api_events_posted_total",
                "Events accepted by POST /events and the command routes",
                ["event_type"],
                registry=registry,
            ),
            Counter(
                "casestream_api_events_rejected_total",
                "Events refused by POST /events (422)",
                registry=registry,
            ),
            Gauge(
                "casestream_projector_lag_events",
                "Messages in the case topics not yet projected (measured at the last /readyz)",
                registry=registry,
                # several workers (`casestream api --workers N`): the latest /readyz of any
                # wins; absent until the first one (one process: 0 until then). Never set 0 at
                # start: a restarted worker's 0 would be "most recent" and hide the lag
                multiprocess_mode="mostrecent",
            ),
            Gauge(
                "casestream_projectors_running",
                "Workers whose projector reported running within CASESTREAM_READINESS_STALE_"
                "SECONDS (measured at the last /readyz); 0 means no projection",
                registry=registry,
                multiprocess_mode="mostrecent",
            ),
        )


@dataclass
class Services:
    settings: Settings
    queries: CaseQueries
    topics: Topics
    registry: ApiRegistry  # GET /metrics serves `registry.for_scrape()`
    metrics: ApiMetrics
    alerts: AlertQueries
    clocks: ClockQueries
    deliveries: DeliveryStore
    authenticator: Authenticator  # bearer tokens and API keys (api/auth.py)
    rulebook: RuleBook  # the deadline rules in force: the read models ask it by role
    calendar: WorkingCalendar  # the working-day calendar the clocks are counted with
    sender: LazyProducer  # POST /events and the commands send through it
    signin: SignInDesk  # staff accounts and sessions of the web console (cookie sign-in)
    home_engine: sa.Engine  # the home database: heartbeats, deliveries, staff (never switched)
    now: Callable[[], datetime] = utc_now  # "now" of the deadline queries
    alert_feed: AlertFeed | None = None  # live alerts; None without CASESTREAM_KAFKA_BOOTSTRAP
    heartbeat_seconds: float = 15.0  # SSE comment frame while no alert comes
    recent_writes: RecentWrites = field(default_factory=RecentWrites)
    projected: ProjectedVersions[str] = field(init=False)  # commands wait on it for the read models
    projected_offsets: ProjectedVersions[tuple[str, int]] = field(init=False)  # tokens wait on it
    sent_marks: OutboxMarks = field(init=False)  # the outbox rows the commands sent
    scrape_token: str | None = None  # Prometheus's bearer token for GET /metrics

    def __post_init__(self) -> None:
        self.projected = ProjectedVersions(
            CommandReservations(self.queries.engine).projected_versions
        )
        self.projected_offsets = ProjectedVersions(lambda _: self.queries.stored_offsets())
        self.sent_marks = OutboxMarks(Outbox(self.queries.engine).mark_published)

    @property
    def producer(self) -> EventProducer:
        """The producer of the parts the app was built on (connected on the first send)."""
        return self.sender.get()


async def get_services(request: Request) -> Services:
    """The app's services (async: FastAPI runs a plain `def` dependency in a worker thread,
    a hop every request would pay for nothing)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def read_model_engine(services: ServicesDep) -> sa.Engine:
    """The read-model engine the app was built with (the reporting routes run their own SQL)."""
    return services.queries.engine


ReadModelEngineDep = Annotated[sa.Engine, Depends(read_model_engine)]
