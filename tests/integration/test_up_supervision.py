"""How `casestream up` keeps its processes, with stand-in processes instead of the real ones: a
stop signal stops them all against one deadline, a failed worker is started again, the API's
end stops everything, and the local broker is killed when it ignores SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from casestream.local import stop_kafka
from casestream.supervision import OnExit, StopRequest, Supervisor
from tests.processes import running, wait_for

GRACE_SECONDS = 3.0

# "ready" in one write(2), so that the lines of processes sharing a pipe never interleave
IGNORES_SIGTERM = (
    "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "os.write(1, b'ready\\n'); time.sleep(120)"
)
OBEYS_SIGTERM = "import os, time; os.write(1, b'ready\\n'); time.sleep(120)"

UP_LIKE = textwrap.dedent(
    f"""
    import sys
    from casestream.supervision import OnExit, Supervisor, stop_signals

    supervisor = Supervisor(say=print)
    with stop_signals() as stop:
        supervisor.start("worker", [sys.executable, "-c", {IGNORES_SIGTERM!r}], None, OnExit.restart)
        supervisor.start("API", [sys.executable, "-c", {IGNORES_SIGTERM!r}], None, OnExit.stop)
        supervisor.start("demo feed", [sys.executable, "-c", {OBEYS_SIGTERM!r}], None, OnExit.ignore)
        print("pids", *(process.pid for process in supervisor.processes), flush=True)
        try:
            code = supervisor.watch(stop, poll_seconds=0.05)
        finally:
            supervisor.stop({GRACE_SECONDS})
    sys.exit(code)
    """
)


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda stop: stop.name
)
def test_a_stop_signal_stops_every_process_against_one_deadline_even_when_sent_twice(
    stop_signal: signal.Signals,
) -> None:
    supervisor = subprocess.Popen(
        [sys.executable, "-c", UP_LIKE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert supervisor.stdout is not None
    try:
        pids: list[int] = []
        ready = 0
        while not pids or ready < 3:  # every child has its signal handling in place
            line = supervisor.stdout.readline()
            assert line, supervisor.stderr.read() if supervisor.stderr else ""
            if line.startswith("pids"):
                pids = [int(pid) for pid in line.split()[1:]]
            ready += line.strip() == "ready"
        began = time.monotonic()
        supervisor.send_signal(stop_signal)
        time.sleep(0.5)
        supervisor.send_signal(stop_signal)  # again, while it is stopping
        code = supervisor.wait(timeout=4 * GRACE_SECONDS)
        took = time.monotonic() - began
    finally:
        supervisor.kill()
        supervisor.communicate()
    assert code == 0
    # two children ignore SIGTERM: one shared deadline, not one per child, then SIGKILL
    assert GRACE_SECONDS <= took < 2 * GRACE_SECONDS
    assert [pid for pid in pids if running(pid)] == []


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_failed_worker_is_started_again_and_the_end_of_the_api_stops_everything(
    tmp_path: Path,
) -> None:
    first_run = tmp_path / "worker-ran"
    second_run = tmp_path / "worker-ran-again"
    worker = (
        f"import pathlib, sys, time\n"
        f"if not pathlib.Path({str(first_run)!r}).exists():\n"
        f"    pathlib.Path({str(first_run)!r}).touch(); sys.exit(3)\n"
        f"pathlib.Path({str(second_run)!r}).touch(); time.sleep(120)\n"
    )
    api = (
        f"import pathlib, time\n"
        f"while not pathlib.Path({str(second_run)!r}).exists(): time.sleep(0.05)\n"
    )
    said: list[str] = []
    supervisor = Supervisor(say=said.append)
    try:
        supervisor.start("worker", _python(worker), None, OnExit.restart)
        supervisor.start("API", _python(api), None, OnExit.stop)
        code = supervisor.watch(StopRequest(), poll_seconds=0.05)
    finally:
        supervisor.stop(GRACE_SECONDS)
    assert code == 1
    assert said == [
        "worker exited with 3; starting it again in 1 s",
        "API exited with 0; stopping",
    ]
    assert [process.poll() is not None for process in supervisor.processes] == [True, True]


def test_stop_kafka_kills_a_broker_that_ignores_sigterm_after_its_timeout(tmp_path: Path) -> None:
    properties = tmp_path / "server.properties"
    properties.touch()
    # what stop.sh recognises as this directory's broker: `kafka.Kafka <its properties>`
    broker = subprocess.Popen(
        [*_python(IGNORES_SIGTERM), "kafka.Kafka", str(properties)], stdout=subprocess.PIPE
    )
    try:
        assert broker.stdout is not None and broker.stdout.readline().strip() == b"ready"
        (tmp_path / "kafka.pid").write_text(f"{broker.pid}\n")
        began = time.monotonic()
        stop_kafka(tmp_path, timeout_seconds=1)
        took = time.monotonic() - began
        assert wait_for(lambda: broker.poll() is not None, timeout=5)
    finally:
        broker.kill()
        broker.wait()
    assert broker.returncode == -signal.SIGKILL
    assert 1 <= took < 5
    assert not (tmp_path / "kafka.pid").exists()
