"""Running casestream's own processes (worker, API) from the outside, as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from casestream.read_models.schema import READ_MODEL_TABLES


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """The first truthy value of `condition`, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def answer(url: str, timeout: float = 10.0) -> httpx.Response | None:
    """GET `url`'s answer, or None while nothing answers there (not started, restarting)."""
    try:
        return httpx.get(url, timeout=timeout)
    except httpx.TransportError:
        return None


def wait_until_answers(
    base_url: str | httpx.URL,
    path: str = "/healthz",
    *,
    status: int | None = 200,
    timeout: float = 60.0,
    interval: float = 0.1,
    check: Callable[[], object] | None = None,
) -> httpx.Response:
    """Poll GET `base_url` + `path` (e.g. an API's /healthz or /readyz) until it answers
    `status` (None: any status), and return that answer; `check` runs before each try, to fail
    at once, say, when the process that should answer has exited."""

    def answered() -> httpx.Response | None:
        if check is not None:
            check()
        found = answer(f"{str(base_url).rstrip('/')}{path}")
        return found if found is not None and status in (None, found.status_code) else None

    found: httpx.Response = wait_for(answered, timeout=timeout, interval=interval)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without any CASESTREAM_ variable, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASESTREAM_")}
    env.update(settings)
    return env


def service_env(
    bootstrap: str, topics: Topics, database_env: dict[str, str], **extra: str
) -> dict[str, str]:
    return clean_env(
        CASESTREAM_KAFKA_BOOTSTRAP=bootstrap,
        CASESTREAM_TOPIC_PREFIX=topics.prefix,
        **database_env,
        **extra,
    )


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: state, parent pid, …; None if there is no PID."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def running(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (an ended orphan may stay a zombie)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
        and (fields := _stat_fields(int(entry.name))) is not None
        and int(fields[1]) == pid
    ]


class Process:
    """A casestream subcommand running in its own process, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._handle = log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "casestream.cli", *args],
            env=env,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no chance to flush or commit anything."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._handle.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def table_rows(url: str, schema: str | None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, sorted: two read models are equal iff these are."""
    engine = create_engine(url, schema)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(
                    (tuple(str(value) for value in row) for row in conn.execute(sa.select(table))),
                    key=repr,
                )
                for table in READ_MODEL_TABLES
            }
    finally:
        engine.dispose()


def case_status(url: str, schema: str | None, case_id: str) -> tuple[str, int] | None:
    engine = create_engine(url, schema)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT status, version FROM cases WHERE case_id = :c"), {"c": case_id}
            ).first()
    except sa.exc.OperationalError:
        return None
    except sa.exc.ProgrammingError:
        return None
    finally:
        engine.dispose()
    return None if row is None else (row.status, row.version)


def caught_up(url: str, schema: str | None, bootstrap: str, topics: Topics) -> bool:
    """The worker has projected every message now in the case and alert topics, and published
    every derived event it owes (outbox empty): what a replay would find, it has."""
    from casestream.producers.topics import end_offsets

    engine = create_engine(url, schema)
    try:
        with engine.connect() as conn:
            stored = {
                (row.topic, row.partition): row.next_offset
                for row in conn.execute(
                    sa.text("SELECT topic, partition, next_offset FROM checkpoints")
                )
            }
            unpublished = conn.execute(
                sa.text("SELECT COUNT(*) FROM outbox WHERE NOT published")
            ).scalar()
    except sa.exc.DatabaseError:
        return False
    finally:
        engine.dispose()
    ends = end_offsets(bootstrap, (*topics.case_topics, topics.alerts))
    return unpublished == 0 and all(
        stored.get(key, 0) >= end for key, end in ends.items() if end > 0
    )


@contextmanager
def running_system(
    env: dict[str, str], logs: Path, headers: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    """A worker and an API (port from CASESTREAM_API_PORT in `env`), and a client once it answers."""
    worker = Process(["worker"], env, logs / "worker.log")
    server = Process(["api"], env, logs / "api.log")
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{env['CASESTREAM_API_PORT']}", timeout=40, headers=headers or {}
    )

    try:  # the API answers and sees the worker's projector running
        wait_until_answers(client.base_url, "/readyz", timeout=90, interval=0.3)
        yield client
    finally:
        client.close()
        server.stop()
        worker.stop()


def replay_into(
    url: str, schema: str | None, bootstrap: str, topics: Topics, processes: int | None = None
) -> str:
    """Run `casestream replay` into a fresh database (in `processes` processes, or as many as
    it chooses); its standard output."""
    replayed = subprocess.run(
        [
            sys.executable,
            "-m",
            "casestream.cli",
            "replay",
            "--database-url",
            url,
            *(["--schema", schema] if schema else []),
            *(["--processes", str(processes)] if processes else []),
        ],
        env=service_env(bootstrap, topics, {}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert replayed.returncode == 0, replayed.stderr
    return replayed.stdout
