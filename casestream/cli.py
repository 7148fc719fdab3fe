"""The `casestream` command line (typer): run the system, feed it, rebuild it, inspect it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from prometheus_client import CollectorRegistry
from rich.console import Console
from rich.progress import Progress

from casestream.deadletter_cli import deadletter_app
from casestream.deadline_cli import deadline_app
from casestream.progress import progress_bar
from casestream.settings import Settings
from casestream.token_cli import token_app

app = typer.Typer(
    help="casestream: complaints, tip-offs, reconsiderations and lawsuits on Kafka.",
    no_args_is_help=True,
)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
schema_app = typer.Typer(help="Event schemas.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(schema_app, name="schema")
app.add_typer(token_app, name="token")
app.add_typer(deadline_app, name="deadline")
app.add_typer(deadletter_app, name="deadletter")

err = Console(stderr=True)
out = Console()


def _settings() -> Settings:
    return Settings()


def _progress() -> Progress:
    return progress_bar(err)


@topics_app.command("create")
def topics_create(partitions: int = 3) -> None:
    """Create the case, alert and dead-letter topics (infinite retention) if missing."""
    from casestream.producers.topics import Topics, create_topics

    settings = _settings()
    created = create_topics(
        settings.require_kafka(), Topics(settings.topic_prefix), partitions=partitions
    )
    out.print(f"created: {', '.join(created)}" if created else "all topics exist")


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write one JSON Schema file per event type into DIRECTORY."""
    from casestream.domain.envelope import event_json_schemas

    directory.mkdir(parents=True, exist_ok=True)
    schemas = event_json_schemas()
    for name, schema in schemas.items():
        (directory / f"{name}.schema.json").write_text(
            json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        )
    out.print(f"wrote {len(schemas)} schemas to {directory}")


@contextmanager
def _unconfirmed_sends(how_to_retry: str) -> Iterator[None]:
    """Exit 3 naming the events whose outcome is unknown when Kafka stops confirming."""
    from casestream.producers.kafka_producer import SendFailed

    try:
        yield
    except SendFailed as exc:
        err.print(str(exc), style="red", markup=False)
        err.print(
            f"{len(exc.event_ids)} event(s) of unknown outcome, e.g. {exc.event_ids[0]}; "
            f"{how_to_retry}",
            markup=False,
        )
        raise typer.Exit(3) from exc


def _send_file(path: Path, reader: str) -> None:
    from casestream.policy import date_window
    from casestream.producers import files
    from casestream.producers.kafka_producer import EventProducer
    from casestream.producers.topics import Topics

    if not path.exists():
        err.print(f"[red]no file {path}[/red]")
        raise typer.Exit(2)
    settings = _settings()
    read = files.read_csv if reader == "csv" else files.read_jsonl
    problems: list[files.Problem] = []
    sent = 0
    with (
        _unconfirmed_sends("re-run the same command: each line is sent with the same event id"),
        EventProducer(settings.require_kafka(), Topics(settings.topic_prefix)) as producer,
        _progress() as progress,
    ):
        task = progress.add_task(f"sending {path.name}", total=files.count_records(path))
        batch: list[Any] = []
        records = read(
            path, now=datetime.now(UTC), timezone=settings.timezone, window=date_window(settings)
        )
        for _, record in records:
            if isinstance(record, list):
                problems.extend(record)
                progress.advance(task)
                continue
            batch.append(record)
            if len(batch) >= 1000:
                sent += len(producer.send_many(batch, on_sent=lambda n: progress.advance(task, n)))
                batch = []
        sent += len(producer.send_many(batch, on_sent=lambda n: progress.advance(task, n)))
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    invalid_lines = len({problem.line for problem in problems})
    out.print(f"sent {sent} events; {invalid_lines} invalid records not sent")
    if problems:
        raise typer.Exit(1)


@app.command("produce")
def produce(file: Path) -> None:
    """Validate every record of a JSONL file and send the valid ones; invalid ones are listed."""
    _send_file(file, "jsonl")


@app.command("import")
def import_csv(file: Path) -> None:
    """Validate every row of a CSV file (envelope columns + payload columns) and send the valid ones."""
    _send_file(file, "csv")


@app.command("simulate")
def simulate_command(
    cases: Annotated[int, typer.Option(min=1)] = 100,
    rate: Annotated[float, typer.Option(help="events per second; 0 sends as fast as possible")] = 0,
    seed: int | None = None,
    prefix: str = "SIM",
) -> None:
    """Send realistic lifecycles of every case kind (incl. won and lost reconsiderations and lawsuits)."""
    from casestream.producers.kafka_producer import EventProducer
    from casestream.producers.simulation import simulate
    from casestream.producers.topics import Topics

    settings = _settings()
    seed = random.randrange(2**31) if seed is None else seed
    rng = random.Random(seed)
    events = simulate(rng, cases, datetime.now(ZoneInfo(settings.timezone)), prefix=prefix)
    again = f"re-run with --seed {seed} --prefix {prefix} to send the same events (same ids)"
    with (
        _unconfirmed_sends(again),
        EventProducer(settings.require_kafka(), Topics(settings.topic_prefix)) as producer,
        _progress() as progress,
    ):
        task = progress.add_task(f"simulating {cases} cases", total=len(events))
        step = max(1, int(rate / 10)) if rate > 0 else 1000
        for start in range(0, len(events), step):
            began = time.monotonic()
            producer.send_many(
                events[start : start + step], on_sent=lambda n: progress.advance(task, n)
            )
            if rate > 0:
                time.sleep(max(0.0, step / rate - (time.monotonic() - began)))
    out.print(f"sent {len(events)} events of {cases} cases (seed {seed})")


@app.command("worker")
def worker(
    metrics_port: Annotated[int, typer.Option(help="port of the worker's /metrics; 0: none")] = 0,
) -> None:
    """Run the stream processors (projector) until stopped."""
    from casestream.stream_processors.worker import run_worker

    sys.argv = [sys.argv[0], "worker"]  # faust's Worker reads its own command line
    run_worker(_settings(), metrics_port or None)


@app.command("api")
def api(
    host: str | None = None,
    port: int | None = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="worker processes (default: CASESTREAM_API_WORKERS, else 1)"),
    ] = None,
) -> None:
    """Run the HTTP API (docs at /docs)."""
    import uvicorn

    settings = _settings()
    port = port or settings.api_port
    workers = workers or settings.api_workers
    served: dict[str, Any] = {
        "host": host or settings.api_host,
        "port": port,
        "log_level": "warning",
        "timeout_graceful_shutdown": 3,  # open /alerts/stream connections never end by themselves
    }
    if workers == 1:
        from casestream.api.app import create_app

        uvicorn.run(create_app(settings), **served)
        return
    from casestream.api.http_metrics import share_metrics_between_workers
    from casestream.credentials import AuthConfigError, Authenticator
    from casestream.read_models.database import create_engine, migrate

    # refuse here what every worker would refuse: uvicorn restarts a worker that raises
    try:
        Authenticator.from_settings(settings)
    except AuthConfigError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)  # once, before the workers start
    engine.dispose()
    share_metrics_between_workers(settings.var_dir / "prometheus-multiproc" / f"api-{port}")
    uvicorn.run("casestream.api.app:app_from_environment", factory=True, workers=workers, **served)


@app.command("replay")
def replay_command(
    database_url: Annotated[
        str | None, typer.Option(help="target database (default: a new SQLite file under var/)")
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="target PostgreSQL schema (default: a new one)")
    ] = None,
) -> None:
    """Rebuild the read models from offset 0 into a fresh database or schema, with a progress bar."""
    from casestream.policy import clock_policy, outcome_settings
    from casestream.producers.topics import Topics
    from casestream.read_models.database import create_engine, migrate
    from casestream.read_models.projection import ProjectionWriter
    from casestream.stream_processors.metrics import ProjectorMetrics
    from casestream.stream_processors.replay import replay

    settings = _settings()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    url = database_url or settings.database_url
    if url.startswith("postgresql"):
        schema = schema or f"replay_{stamp}"
    elif database_url is None:
        url = f"sqlite:///{settings.var_dir}/replay-{stamp}.db"
    engine = create_engine(url, schema)
    migrate(engine)
    with _progress() as progress:
        task = progress.add_task("replaying", total=None)
        outcome = replay(
            settings.require_kafka(),
            Topics(settings.topic_prefix),
            ProjectionWriter(engine, clock_policy(settings), outcome_settings(settings)),
            ProjectorMetrics(CollectorRegistry()),
            settings.timezone,
            on_total=lambda total: progress.update(task, total=total),
            on_progress=lambda n: progress.advance(task, n),
        )
    where = f"{url} schema {schema}" if schema else url
    out.print(
        f"replayed {outcome.applied} events ({outcome.duplicates} duplicates skipped) into {where}"
    )
    out.print("point CASESTREAM_DATABASE_URL (and CASESTREAM_DATABASE_SCHEMA) there to serve it")


CHILDREN_GRACE_SECONDS = 8.0
"""How long `up`, asked to stop, waits for its processes before it SIGKILLs them."""
BROKER_GRACE_SECONDS = 5.0
"""How long it then waits for the local broker: everything is gone within 15 s of the signal."""


@app.command("up")
def up(
    demo: Annotated[
        bool, typer.Option(help="feed simulated cases so there is live data to see")
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
    from casestream.credentials import (
        AuthConfigError,
        Principal,
        Role,
        issue_token,
        secret_file,
        signing_secret,
    )
    from casestream.local import LocalServiceError, start_kafka, stop_kafka
    from casestream.read_models.database import create_engine, migrate
    from casestream.supervision import OnExit, StopRequested, Supervisor, stop_signals

    settings = _settings()
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
            stop.check()
            subprocess.run([*exe, "topics", "create"], env=env, check=True)
            # migrate once here, so worker and API never race to create the schema
            migrate(create_engine(settings.database_url, settings.database_schema))
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
