"""The peer library's projection, driven from the casestream benches.

`ensure_peer_venv()` creates var/bench-peer-venv on first use (pyeventsourcing with its
PostgreSQL driver, and kafka-python) and reuses it after; `run_peer()` runs
bench/peer_eventsourcing.py with that interpreter against the same broker, topics and
PostgreSQL cluster (its own schema) as the casestream projector, showing its progress.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
PEER_VENV = ROOT / "var" / "bench-peer-venv"
PEER_SCRIPT = Path(__file__).resolve().with_name("peer_eventsourcing.py")
PEER_VERSION = "9.5.6"
PEER_REQUIREMENTS = (f"eventsourcing[postgres]=={PEER_VERSION}", "kafka-python>=3.0")
PEER_LABEL = f"pyeventsourcing {PEER_VERSION}"


@dataclass(frozen=True)
class PeerRun:
    events: int
    seconds: float  # from the interpreter's start to the last commit
    steady_seconds: float  # from the consumer's assignment to the last commit


def _peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def ensure_peer_venv(say: Callable[[str], object] = print) -> Path:
    """The peer's interpreter; the virtual environment is made and filled on first use."""
    python = _peer_python()
    stamp = PEER_VENV / f".installed-{PEER_VERSION}"
    if python.exists() and stamp.exists():
        return python
    say(f"installing {', '.join(PEER_REQUIREMENTS)} into {PEER_VENV} (once)")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS], check=True)
    stamp.touch()
    return python


def _connection_args(url: str, schema: str) -> list[str]:
    parts = urlsplit(url)  # postgresql+psycopg://user[:password]@host:port/dbname
    return [
        "--pg-host",
        parts.hostname or "127.0.0.1",
        "--pg-port",
        str(parts.port or 5432),
        "--pg-user",
        unquote(parts.username or ""),
        "--pg-password",
        unquote(parts.password or ""),
        "--pg-dbname",
        parts.path.lstrip("/"),
        "--pg-schema",
        schema,
    ]


def run_peer(
    bootstrap: str,
    topics: tuple[str, ...],
    postgres_url: str,
    schema: str,
    expected: int,
    log_path: Path,
    on_progress: Callable[[int], object] = lambda done: None,
    timeout: float = 1800.0,
) -> PeerRun:
    """Project the topics with the peer library into `schema`; raises when it fails."""
    python = ensure_peer_venv()
    command = [
        str(python),
        str(PEER_SCRIPT),
        "--kafka",
        bootstrap,
        "--topics",
        ",".join(topics),
        "--expected",
        str(expected),
        *_connection_args(postgres_url, schema),
    ]
    deadline = time.monotonic() + timeout
    result: dict[str, float] | None = None
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if line.startswith("progress "):
                    on_progress(int(line.split()[1]))
                elif line.startswith("result "):
                    result = json.loads(line[len("result ") :])
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the peer took over {timeout:.0f} s; see {log_path}")
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    if code != 0 or result is None:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the peer exited with {code}; {log_path}:\n{tail}")
    on_progress(int(result["events"]))
    return PeerRun(int(result["events"]), result["seconds"], result["steady_seconds"])
