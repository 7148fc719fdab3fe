"""`casestream up`: the whole system on one machine (a local Kafka when none is configured,
topics, worker, API, optionally a demo feed and a Prometheus), supervised until stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from casestream.settings import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

err = Console(stderr=True)
out = Console()


CHILDREN_GRACE_SECONDS = 8.0
"""How long `up`, asked to stop, waits for its processes before it SIGKILLs them."""
BROKER_GRACE_SECONDS = 5.0
"""How long it then waits for the local broker: everything is gone within 15 s of the signal."""


def up(
    demo: Annotated[
        bool,
        typer.Option(
            help="feed simulated cases so there is live data to see, and create one console "
            "account per role (new random passwords, printed)"
        ),
    ] = False,
    demo_cases: int = 300,
    demo_rate: float = 50.0,
    prometheus: Annotated[
        bool,
        typer.Option(
            help="also run a local Prometheus scraping the worker and API, with the alerting "
            "rules (installs Debian's package if missing)"
        ),
    ] = False,
) -> None:
    """The main job: a local Kafka if none is configured, topics, worker and API (and a demo
    feed, and a Prometheus for the Grafana dashboards). SIGTERM, SIGINT (Ctrl-C) or SIGHUP
    stops them all; a worker that fails is started again."""
    from casestream.bootstrap import REFUSED_FILES, bootstrap
    from casestream.credentials import (
        AuthConfigError,
        Principal,
        issue_token,
        secret_file,
        signing_secret,
    )
    from casestream.domain.commands import Role
    from casestream.local import LocalServiceError, start_kafka, stop_kafka
    from casestream.supervision import OnExit, StopRequested, Supervisor, stop_signals

    settings = Settings()
    try:
        secret = signing_secret(settings, generate=True)
    except AuthConfigError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    scrape_token = _scrape_token_file(settings)
    env = {
        **os.environ,
        "CASESTREAM_AUTH_SECRET": secret,
        "CASESTREAM_METRICS_TOKEN_FILE": str(scrape_token),
    }
    local_kafka = not settings.kafka_bootstrap
    exe = [sys.executable, "-m", "casestream.cli"]
    supervisor = Supervisor(say=lambda message: err.print(message, style="yellow", markup=False))
    with stop_signals() as stop:
        try:
            if local_kafka:
                err.print(
                    "starting a local Kafka broker (first run fetches it from Maven Central)…"
                )
                env["CASESTREAM_KAFKA_BOOTSTRAP"] = start_kafka(settings.var_dir / "kafka")
                # one broker holds one replica: the production layout (3, 2) cannot be created
                env["CASESTREAM_TOPIC_REPLICATION"] = env["CASESTREAM_TOPIC_MIN_INSYNC"] = "1"
            stop.check()
            subprocess.run([*exe, "topics", "create"], env=env, check=True)
            # migrate once here, so worker and API never race to create the schema
            try:
                parts = bootstrap(settings)  # migrated once, before the workers start
            except REFUSED_FILES as exc:
                err.print(str(exc), style="red", markup=False)
                raise typer.Exit(2) from exc
            try:
                demo_accounts = _demo_accounts(parts.engine) if demo else None
            finally:
                parts.close()
            stop.check()
            worker_argv = [*exe, "worker", "--metrics-port", str(settings.worker_web_port)]
            supervisor.start("worker", worker_argv, env, OnExit.restart)
            supervisor.start("API", [*exe, "api"], env, OnExit.stop)
            base = f"http://{settings.api_host}:{settings.api_port}"
            out.print(f"Kafka      {env['CASESTREAM_KAFKA_BOOTSTRAP']}")
            out.print(f"API        {base}/cases   docs {base}/docs   metrics {base}/metrics")
            out.print(f"worker     http://127.0.0.1:{settings.worker_web_port}/metrics")
            scraper = _local_prometheus(settings, scrape_token) if prometheus else None
            if scraper is not None:
                supervisor.adopt("Prometheus", scraper)
            stop.check()
            demo_token = issue_token(
                secret,
                Principal("demo", Role.legal),
                now=datetime.now(UTC),
                ttl=timedelta(hours=12),
            )
            out.print(f"token      {demo_token}", soft_wrap=True)
            out.print(
                "           (role legal, 12 h) curl -H 'Authorization: Bearer <token>' "
                f"{base}/cases; more: casestream token issue --role handler --department 治安大队"
                + ("" if settings.auth_secret else f" (secret in {secret_file(settings)})"),
                soft_wrap=True,
            )
            if demo_accounts is not None:
                out.print(demo_accounts)
                out.print(f"console    {base}/console/ (sign in with an account above)")
            if demo:
                feed = [*exe, "simulate", "--cases", str(demo_cases), "--rate", str(demo_rate)]
                prefix = f"DEMO{int(time.time())}"
                supervisor.start("demo feed", [*feed, "--prefix", prefix], env, OnExit.ignore)
            out.print("Ctrl-C stops everything")
            code = supervisor.watch(stop)
        except StopRequested:
            code = 0
        except (LocalServiceError, subprocess.CalledProcessError):
            if not stop:  # not a step that Ctrl-C interrupted too
                raise
            code = 0
        finally:
            if stop.received is not None:
                err.print(f"{stop.received.name}: stopping everything")
            supervisor.stop(CHILDREN_GRACE_SECONDS)
            if local_kafka:
                stop_kafka(settings.var_dir / "kafka", BROKER_GRACE_SECONDS)
    raise typer.Exit(code)


def _demo_accounts(engine: sa.Engine) -> Table:
    """One console account per role with a new random password, as a table to print."""
    from casestream.read_models.staff_accounts import StaffAccounts
    from casestream.staff import demo_accounts

    table = Table("demo account", "password", "role", "department", title="console accounts")
    for account in demo_accounts(StaffAccounts(engine), now=datetime.now(UTC)):
        table.add_row(
            account.username, account.password, account.role.value, account.department or "—"
        )
    return table


def _scrape_token_file(settings: Settings) -> Path:
    """CASESTREAM_METRICS_TOKEN_FILE, or var/metrics-token (mode 0600, generated once): the
    token Prometheus presents to read the API's /metrics."""
    if settings.metrics_token_file is not None:
        return settings.metrics_token_file
    from casestream.credentials import stored_secret

    path = settings.var_dir / "metrics-token"
    stored_secret(path)
    return path.resolve()


def _local_prometheus(settings: Settings, scrape_token: Path) -> subprocess.Popen[bytes] | None:
    """The local Prometheus of `up --prometheus`, or None (said why) when it cannot run: the
    rest of `up` goes on without it."""
    import httpx

    from casestream.local import LocalServiceError, prometheus_config, start_prometheus

    config = prometheus_config(
        [f"{settings.api_host}:{settings.api_port}"],
        [f"127.0.0.1:{settings.worker_web_port}"],
        api_token_file=scrape_token,
    )
    data_dir = settings.var_dir / "prometheus"
    try:
        started = start_prometheus(config, data_dir, settings.prometheus_port)
    except LocalServiceError as exc:
        err.print(f"Prometheus not started, going on without it: {exc}", style="red", markup=False)
        return None
    url = f"http://127.0.0.1:{settings.prometheus_port}"
    deadline = time.monotonic() + 30
    while started.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                out.print(f"Prometheus {url}   (Grafana: README, 'Grafana dashboards')")
                return started
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    started.terminate()
    err.print(
        f"Prometheus did not start (port {settings.prometheus_port} taken? set "
        f"CASESTREAM_PROMETHEUS_PORT); see {data_dir / 'prometheus.log'}; going on without it",
        style="red",
        markup=False,
    )
    return None
