"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from kafka import KafkaAdminClient
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from casestream.producers.topics import end_offsets
from casestream.read_models.workers import Heartbeats

from .auth import authenticate, visible_department
from .deps import Services, ServicesDep
from .schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


def _projector_lag(services: Services) -> int:
    ends = end_offsets(services.settings.require_kafka(), services.topics.case_topics)
    stored = services.queries.stored_offsets()
    lag = sum(max(0, end - stored.get(key, 0)) for key, end in ends.items())
    services.metrics.projector_lag.set(lag)
    return lag


def _projector(services: Services, lag: int | None) -> tuple[bool, str]:
    """Whether some worker's projector runs (and, with a lag, still commits), and what it says."""
    now = datetime.now(UTC)  # heartbeats are wall-clock, whatever the deadline queries' now
    stale = timedelta(seconds=services.settings.readiness_stale_seconds)
    heard = Heartbeats(services.home_engine).fresh(now, stale)
    running = [beat for beat in heard if beat.projector == "running"]
    services.metrics.projectors_running.set(len(running))
    if not heard:
        return False, (
            f"no worker heard from in the last {stale.total_seconds():.0f} s "
            "(is `casestream worker` running?)"
        )
    if not running:
        latest = heard[0]
        return False, f"{latest.projector} since {latest.since.isoformat()}: {latest.detail}"
    progressed = max((beat.progressed_at for beat in running if beat.progressed_at), default=None)
    if lag and (progressed is None or now - progressed > stale):
        return False, (
            f"stalled: {lag} events behind and no batch committed since "
            f"{progressed.isoformat() if progressed else 'the workers started'}"
        )
    return True, f"ok ({len(running)} running)"


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
    ready = checks["kafka"] == "ok" and checks["database"] == "ok"
    if ready:
        try:
            lag = await run_in_threadpool(_projector_lag, services)
            checks["projector_lag"] = f"{lag} events behind"
            ready, checks["projector"] = await run_in_threadpool(_projector, services, lag)
        except Exception as exc:  # measured between the two checks above: not ready either
            ready, checks["projector"] = False, f"unknown: {exc.__class__.__name__}: {exc}"
    response.status_code = 200 if ready else 503
    return Health(status="ready" if ready else "not ready", checks=checks)


def scraper(request: Request, services: ServicesDep) -> None:
    """Who may read the business figures: Prometheus with the scrape token
    (CASESTREAM_METRICS_TOKEN_FILE), or a caller who sees every department (as in /stats)."""
    authorization = request.headers.get("Authorization")
    expected = services.scrape_token
    if expected and authorization:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), expected.encode()
        ):
            return
    principal = authenticate(
        services.authenticator, authorization, request.headers.get("X-API-Key")
    )
    if visible_department(principal) is not None:
        raise HTTPException(
            403,
            "the metrics hold every department's figures: a scrape token or an "
            "all-department role is needed",
        )


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(scraper)])
def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.registry.for_scrape()), media_type=CONTENT_TYPE_LATEST)
