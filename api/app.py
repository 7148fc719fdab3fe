"""The FastAPI application factory (composition root of the HTTP side)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.queries import CaseQueries
from casestream.settings import Settings

from . import cases, events, health
from .deps import ApiMetrics, Services


def create_app(settings: Settings) -> FastAPI:
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)
    registry = CollectorRegistry()
    services = Services(
        settings=settings,
        queries=CaseQueries(engine),
        topics=Topics(settings.topic_prefix),
        registry=registry,
        metrics=ApiMetrics.on(registry),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()
        engine.dispose()

    app = FastAPI(
        title="casestream",
        description="Complaints, enterprise tip-offs, reconsiderations and lawsuits: cases, deadlines, disputes.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.services = services
    for module in (cases, events, health):
        app.include_router(module.router)
    return app
