"""The composition root: what the API, the worker, `replay` and the commands run on, built once
from the settings by `bootstrap` instead of by each entry point on its own."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from casestream.domain.calendar import CalendarFileError
from casestream.domain.clocks import ClockPolicy
from casestream.domain.outcomes import OutcomeSettings
from casestream.domain.plausibility import DateWindow
from casestream.domain.rules import RuleFileError
from casestream.metric_labels import DepartmentLabels
from casestream.policy import clock_policy, date_window, outcome_settings
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine, migrate, target_engine
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.read_model_pointer import (
    ReadModelPointer,
    ReadModelTarget,
    same_place,
)
from casestream.settings import Settings

REFUSED_FILES: tuple[type[Exception], ...] = (RuleFileError, CalendarFileError)
"""What `bootstrap` raises for a deployment file it cannot use (the message names the file and
the fix): the commands print it and exit 2 rather than start a process that cannot work."""


@dataclass(frozen=True)
class SendPatience:
    """How long a send waits for Kafka to confirm, and to retry while it does not."""

    timeout_seconds: float = 30.0
    retry_seconds: float = 120.0


COMMAND_PATIENCE = SendPatience()
"""A command waits out a broker restart."""

REQUEST_PATIENCE = SendPatience(timeout_seconds=5.0, retry_seconds=0.0)
"""A request waits some seconds at most: then 503 with the event id to send again."""


class LazyProducer:
    """The event producer, connected on first use: building the parts never waits for Kafka,
    and a process that sends nothing never connects."""

    def __init__(self, settings: Settings, topics: Topics, patience: SendPatience) -> None:
        self._settings = settings
        self._topics = topics
        self._patience = patience
        self._producer: EventProducer | None = None
        self._lock = threading.Lock()  # requests send from several threads

    def get(self) -> EventProducer:
        """The connected producer; RuntimeError without CASESTREAM_KAFKA_BOOTSTRAP."""
        with self._lock:
            if self._producer is None:
                self._producer = EventProducer(
                    self._settings.require_kafka(),
                    self._topics,
                    timeout_seconds=self._patience.timeout_seconds,
                    retry_seconds=self._patience.retry_seconds,
                )
            return self._producer

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close()
                self._producer = None


@dataclass(frozen=True)
class Parts:
    """The pieces of one deployment every entry point shares."""

    settings: Settings
    engine: sa.Engine  # the read models, migrated to the newest schema
    topics: Topics
    policy: ClockPolicy  # deadline rules and working-day calendar (an invalid file fails here)
    outcomes: OutcomeSettings
    window: DateWindow  # the instants and dates intake accepts
    departments: DepartmentLabels  # the department label of every metric of this process
    registry: CollectorRegistry  # the metrics this process serves
    producer: LazyProducer
    control_engine: sa.Engine | None = None  # the home, when it does not hold the read models
    target: ReadModelTarget | None = None  # where `engine` points (None: the home)

    @property
    def home_engine(self) -> sa.Engine:
        """The home database: the read-model pointer, staff accounts and sessions, webhook
        deliveries, heartbeats (`read_model_pointer.CONTROL_TABLES`)."""
        return self.control_engine or self.engine

    @property
    def pointer(self) -> ReadModelPointer:
        home = ReadModelTarget(self.settings.database_url, self.settings.database_schema)
        return ReadModelPointer(self.home_engine, home)

    @property
    def serving(self) -> ReadModelTarget:
        """The read models `engine` is on."""
        return self.target or self.pointer.home

    def close(self) -> None:
        """Close the producer (if it connected) and the engines' connections."""
        self.producer.close()
        self.engine.dispose()
        if self.control_engine is not None:
            self.control_engine.dispose()


def bootstrap(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    patience: SendPatience = COMMAND_PATIENCE,
    follow_pointer: bool = True,
) -> Parts:
    """Build the parts of `settings`' deployment: open and migrate the read-model database,
    load the deadline rules and calendar; Kafka is connected on the first send only.

    `registry` is the one this process serves its metrics from (default: a fresh one), and
    `patience` how long its sends wait for the broker. The read models are those the home's
    pointer names (`casestream switch`), unless `follow_pointer` is false (a replay builds
    into the database it is given).
    """
    policy = clock_policy(settings)  # before the database: a bad rules file fails fast
    engine = create_engine(settings.database_url, settings.database_schema)
    counted = FigureCounter(policy.rulebook, policy.timezone).ensure
    migrate(engine, counted)
    home = ReadModelTarget(settings.database_url, settings.database_schema)
    control: sa.Engine | None = None
    target = ReadModelPointer(engine, home).active() if follow_pointer else home
    if not same_place(target, home):  # `casestream switch` pointed elsewhere
        control, engine = engine, target_engine(target)
        migrate(engine, counted)
    topics = Topics(settings.topic_prefix)
    return Parts(
        control_engine=control,
        target=None if control is None else target,
        settings=settings,
        engine=engine,
        topics=topics,
        policy=policy,
        outcomes=outcome_settings(settings),
        window=date_window(settings),
        departments=DepartmentLabels.from_settings(settings),
        registry=CollectorRegistry() if registry is None else registry,
        producer=LazyProducer(settings, topics, patience),
    )
