"""Local services for one machine: a single-node Kafka broker (or a cluster of several, to try
replication), a private PostgreSQL cluster and a Prometheus scraping casestream.

All are started by the scripts in `infra/`, which fetch or install what they need.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import yaml

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


def stop_kafka(data_dir: Path, timeout_seconds: float = 30) -> None:
    """Stop the local broker for `data_dir`: SIGTERM, then SIGKILL if it still runs after
    `timeout_seconds`."""
    _run_quiet(INFRA / "kafka" / "stop.sh", str(data_dir), f"{timeout_seconds:.3f}")


def start_kafka_cluster(data_dir: Path, brokers: int = 3) -> str:
    """Start (or complete: nodes that run are left alone, the others started) a local cluster
    of `brokers` KRaft nodes in `data_dir`, a controller quorum of three; its bootstrap
    addresses, comma-separated. Node N lives in `data_dir`/broker-N (see `cluster_node_dir`)."""
    return _run(INFRA / "kafka" / "start-cluster.sh", str(data_dir), str(brokers))


def stop_kafka_cluster(data_dir: Path, timeout_seconds: float = 30) -> None:
    """Stop every node of the local cluster in `data_dir` (as `stop_kafka` stops one)."""
    _run_quiet(INFRA / "kafka" / "stop-cluster.sh", str(data_dir), f"{timeout_seconds:.3f}")


def cluster_node_dir(data_dir: Path, node: int) -> Path:
    """Where node `node` (1, 2, …) of the local cluster in `data_dir` keeps its data, its
    server.properties and its kafka.pid; `stop_kafka` on it stops that node alone."""
    return data_dir / f"broker-{node}"


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
def _started_unless_given(
    given: str | None,
    data_dir: Path,
    what: str,
    pid_file: str,
    marker: str,
    start: Callable[[Path], str],
    stop: Callable[[Path], None],
    say: Callable[[str], object],
) -> Iterator[str]:
    """`given` if set; else the service in `data_dir`, stopped afterwards unless it ran before."""
    if given:
        yield given
        return
    was_running = _alive(data_dir / pid_file, marker)
    say(f"starting a local {what} in {data_dir} …")
    started = start(data_dir)
    try:
        yield started
    finally:
        if not was_running:
            say(f"stopping the local {what} …")
            stop(data_dir)


def kafka_for(
    bootstrap: str | None, data_dir: Path, say: Callable[[str], object] = print
) -> AbstractContextManager[str]:
    """`bootstrap` if given; else a local broker in `data_dir` for the duration."""
    return _started_unless_given(
        bootstrap,
        data_dir,
        "Kafka broker",
        "kafka.pid",
        "kafka.Kafka",
        start_kafka,
        stop_kafka,
        say,
    )


def postgres_for(
    url: str | None, data_dir: Path, say: Callable[[str], object] = print
) -> AbstractContextManager[str]:
    """`url` if given; else a local PostgreSQL cluster in `data_dir` for the duration."""
    return _started_unless_given(
        url,
        data_dir,
        "PostgreSQL cluster",
        "postmaster.pid",
        "postgres",
        start_postgres,
        stop_postgres,
        say,
    )


def prometheus_config(
    api_targets: list[str],
    worker_targets: list[str],
    *,
    interval_seconds: float = 15,
    api_token_file: Path | None = None,
) -> dict[str, Any]:
    """infra/prometheus/prometheus.yml with these targets and interval, rules by absolute path
    (so the file may live anywhere, e.g. under var/), and the API's scrape token file."""
    config: dict[str, Any] = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    interval = f"{interval_seconds:g}s"
    config["global"].update(scrape_interval=interval, evaluation_interval=interval)
    config["rule_files"] = [str(INFRA / "prometheus" / "rules" / "*.rules.yml")]
    targets = {"casestream-api": api_targets, "casestream-worker": worker_targets}
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
        if job["job_name"] == "casestream-api":
            if api_token_file is None:
                job.pop("authorization", None)
            else:
                job["authorization"] = {
                    "type": "Bearer",
                    "credentials_file": str(api_token_file.resolve()),
                }
    return config


def start_prometheus(config: dict[str, Any], data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Prometheus (Debian's package, installed by infra/prometheus/install.sh when missing) on
    127.0.0.1:`port` with `config`, its data and log in `data_dir`; stop it with terminate()."""
    _run(INFRA / "prometheus" / "install.sh")
    binary = shutil.which("prometheus")
    if binary is None:
        raise LocalServiceError("infra/prometheus/install.sh left no prometheus on PATH")
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    with (data_dir / "prometheus.log").open("ab") as log:
        return subprocess.Popen(
            [
                binary,
                f"--config.file={path}",
                f"--storage.tsdb.path={data_dir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
