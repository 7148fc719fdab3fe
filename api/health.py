"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from kafka import KafkaAdminClient
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from casestream.producers.topics import end_offsets

from .deps import Services, ServicesDep
from .schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


def _projector_lag(services: Services) -> str:
    ends = end_offsets(services.settings.require_kafka(), services.topics.case_topics)
    stored = services.queries.stored_offsets()
    lag = sum(max(0, end - stored.get(key, 0)) for key, end in ends.items())
    services.metrics.projector_lag.set(lag)
    return f"{lag} events behind"


def _check_kafka(services: Services) -> str:
    admin = KafkaAdminClient(
        bootstrap_servers=services.settings.require_kafka(),
        client_id="casestream-readyz",
        request_timeout_ms=3000,
    )
    try:
        missing = set(services.topics.all) - set(admin.list_topics())
    finally:
        admin.close()
    return (
        "ok"
        if not missing
        else f"missing topics: {', '.join(sorted(missing))} (run `casestream topics create`)"
    )


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(services: ServicesDep, response: Response) -> Health:
    checks: dict[str, str] = {}
    try:
        await run_in_threadpool(services.queries.ping)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason is reported
        checks["database"] = f"unreachable: {exc.__class__.__name__}: {exc}"
    try:
        checks["kafka"] = await run_in_threadpool(_check_kafka, services)
    except Exception as exc:
        checks["kafka"] = f"unreachable: {exc.__class__.__name__}: {exc}"
    if checks["kafka"] == "ok" and checks["database"] == "ok":
        checks["projector_lag"] = await run_in_threadpool(_projector_lag, services)
    ready = checks["kafka"] == "ok" and checks["database"] == "ok"
    response.status_code = 200 if ready else 503
    return Health(status="ready" if ready else "not ready", checks=checks)


@router.get("/metrics", include_in_schema=False)
def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.registry.for_scrape()), media_type=CONTENT_TYPE_LATEST)
