"""Local services for one machine: a single-node Kafka broker and a private PostgreSQL cluster.

Both are started by the scripts in `infra/`, which fetch or install what they need.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1] / "infra"


class LocalServiceError(RuntimeError):
    """A local service could not be started; the message carries the script's own explanation."""


def _run(script: Path, *args: str) -> str:
    if not script.exists():
        raise LocalServiceError(
            f"{script} is missing; run casestream from a checkout of the repository"
        )
    completed = subprocess.run(
        ["bash", str(script), *args], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise LocalServiceError(
            f"{script.name} failed ({completed.returncode}):\n{completed.stderr[-4000:]}"
        )
    return completed.stdout.strip().splitlines()[-1]


def start_kafka(data_dir: Path) -> str:
    """Start (or find running) the local broker for `data_dir`; its bootstrap address."""
    return _run(INFRA / "kafka" / "start.sh", str(data_dir))


def stop_kafka(data_dir: Path) -> None:
    _run_quiet(INFRA / "kafka" / "stop.sh", str(data_dir))


def start_postgres(data_dir: Path) -> str:
    """Start (or find running) the local PostgreSQL cluster for `data_dir`; its SQLAlchemy URL."""
    return _run(INFRA / "postgres" / "start.sh", str(data_dir))


def stop_postgres(data_dir: Path) -> None:
    _run_quiet(INFRA / "postgres" / "stop.sh", str(data_dir))


def _run_quiet(script: Path, *args: str) -> None:
    subprocess.run(["bash", str(script), *args], capture_output=True, check=False)


def _alive(pid_file: Path, marker: str) -> bool:
    """Whether the process in `pid_file` (first line) runs and has `marker` in its command line."""
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return False
    return marker in cmdline


@contextmanager
def kafka_for(
    bootstrap: str | None, data_dir: Path, say: Callable[[str], object] = print
) -> Iterator[str]:
    """`bootstrap` if given; else a local broker in `data_dir`, stopped afterwards unless it ran before."""
    if bootstrap:
        yield bootstrap
        return
    was_running = _alive(data_dir / "kafka.pid", "kafka.Kafka")
    say(f"starting a local Kafka broker in {data_dir} …")
    started = start_kafka(data_dir)
    try:
        yield started
    finally:
        if not was_running:
            say("stopping the local Kafka broker …")
            stop_kafka(data_dir)


@contextmanager
def postgres_for(
    url: str | None, data_dir: Path, say: Callable[[str], object] = print
) -> Iterator[str]:
    """`url` if given; else a local cluster in `data_dir`, stopped afterwards unless it ran before."""
    if url:
        yield url
        return
    was_running = _alive(data_dir / "postmaster.pid", "postgres")
    say(f"starting a local PostgreSQL cluster in {data_dir} …")
    started = start_postgres(data_dir)
    try:
        yield started
    finally:
        if not was_running:
            say("stopping the local PostgreSQL cluster …")
            stop_postgres(data_dir)
