"""The services a deadline-timer bench run uses: a broker and PostgreSQL (local ones unless
given), casestream subcommands in their own directories, and the clean-up of topics and
schemas."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from timer_config import ROOT, TIMEZONE
from timer_report import console

from casestream.local import kafka_for, postgres_for
from casestream.producers.topics import Topics


def kafka_broker(bootstrap: str | None) -> contextlib.AbstractContextManager[str]:
    return kafka_for(bootstrap, ROOT / "var" / "bench-kafka", console.print)


def postgres_server(url: str | None) -> contextlib.AbstractContextManager[str]:
    return postgres_for(url, ROOT / "var" / "bench-postgres", console.print)


def delete_topics(bootstrap: str, topics: Topics) -> None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
        try:
            admin.delete_topics(list(topics.all))
        finally:
            admin.close()
    except Exception as exc:
        console.print(f"[yellow]could not delete the bench topics: {exc}[/yellow]")


def drop_schemas(url: str, schemas: Sequence[str]) -> None:
    if not schemas:
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except sa.exc.SQLAlchemyError as exc:
        console.print(f"[yellow]could not drop the bench schemas: {exc}[/yellow]")
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A casestream subcommand in its own process and directory, logging to a file there."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], run_dir: Path) -> None:
        self.name = name
        run_dir.mkdir(parents=True, exist_ok=True)  # faust keeps its data dir under the cwd
        self.log = run_dir / f"{name}.log"
        self._handle = self.log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "casestream.cli", *args],
            env=env,
            cwd=run_dir,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        self._handle.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def service_env(
    bootstrap: str, topics: Topics, url: str, schema: str, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASESTREAM_")}
    env.update(
        CASESTREAM_KAFKA_BOOTSTRAP=bootstrap,
        CASESTREAM_TOPIC_PREFIX=topics.prefix,
        CASESTREAM_DATABASE_URL=url,
        CASESTREAM_DATABASE_SCHEMA=schema,
        CASESTREAM_TIMEZONE=TIMEZONE,
        **extra,
    )
    return env


def wait_until(what: str, condition: Any, timeout: float, interval: float = 0.1) -> Any:
    """The first truthy value of `condition()`; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)
