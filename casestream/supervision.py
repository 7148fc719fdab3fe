"""The processes of `casestream up` under one roof: a failed worker started again after a pause,
and all of them stopped together, in bounded time, on SIGTERM, SIGINT or SIGHUP."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import Enum
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
"""systemd and `kill` send SIGTERM, Ctrl-C SIGINT, a closed terminal SIGHUP."""


class StopRequested(Exception):
    """A stop signal arrived while `up` was still starting."""


class StopRequest:
    """Handler of the stop signals: notes the first one and does nothing else, so a signal
    arriving anywhere (again while stopping, or while a process is being started) never
    interrupts the code that starts or stops processes."""

    def __init__(self) -> None:
        self.received: signal.Signals | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum)

    def __bool__(self) -> bool:
        return self.received is not None

    def check(self) -> None:
        """StopRequested if a stop signal has arrived: between the steps of starting up."""
        if self.received is not None:
            raise StopRequested(self.received.name)


@contextmanager
def stop_signals() -> Iterator[StopRequest]:
    """A StopRequest handling the stop signals for the duration; the previous handlers after."""
    request = StopRequest()
    previous = {stop: signal.signal(stop, request) for stop in STOP_SIGNALS}
    try:
        yield request
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def stop_all(processes: Iterable[subprocess.Popen[bytes]], grace_seconds: float) -> None:
    """SIGTERM to every process still running, all at once; then wait for all of them until one
    deadline `grace_seconds` away, and SIGKILL whatever is left."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in running:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in running:
        if process.poll() is None:
            process.kill()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


class OnExit(Enum):
    """What `up` does when one of its processes ends on its own."""

    stop = "stop everything"  # the API: `up` is of no use without it
    restart = "start it again if it failed"  # the worker: it exits non-zero on purpose
    ignore = "nothing"  # the demo feed ends when it has sent its cases; Prometheus is optional


RESTART_PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Pauses before starting a failed process again, one step longer after each failure."""
STEADY_SECONDS = 60.0
"""A process that ran this long before failing is started again after the shortest pause."""


@dataclass
class Supervised:
    """One process of `up`, how to start it again, and its failures so far."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] | None
    on_exit: OnExit
    process: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.monotonic)
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    """The processes `up` started; `watch` them until a stop signal or the end of an essential
    one, then `stop` them all."""

    def __init__(self, say: Callable[[str], object]) -> None:
        self._say = say
        self._supervised: list[Supervised] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        on_exit: OnExit = OnExit.stop,
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(argv, env=env)
        self._supervised.append(Supervised(name, argv, env, on_exit, process))
        return process

    def adopt(self, name: str, process: subprocess.Popen[bytes]) -> None:
        """A process started elsewhere, stopped with the others; its own end changes nothing."""
        self._supervised.append(Supervised(name, (), None, OnExit.ignore, process))

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [supervised.process for supervised in self._supervised]

    def watch(self, stop: StopRequest, poll_seconds: float = 0.2) -> int:
        """Until a stop signal (exit code 0) or an essential process ends (1), starting a failed
        restartable process again after its pause."""
        while not stop:
            now = time.monotonic()
            for supervised in self._supervised:
                if stop:  # what ends now ends because of the signal that also reached `up`
                    break
                if supervised.restart_at is not None:
                    if now >= supervised.restart_at:
                        self._restart(supervised)
                    continue
                code = supervised.process.poll()
                if code is None or supervised.on_exit is OnExit.ignore:
                    continue
                if supervised.on_exit is OnExit.restart and code != 0:
                    self._schedule_restart(supervised, code, now)
                    continue
                self._say(f"{supervised.name} {_ended(code)}; stopping")
                return 1
            time.sleep(poll_seconds)
        return 0

    def stop(self, grace_seconds: float) -> None:
        stop_all(self.processes, grace_seconds)

    def _schedule_restart(self, supervised: Supervised, code: int, now: float) -> None:
        if now - supervised.started_at >= STEADY_SECONDS:
            supervised.failures = 0
        pause = RESTART_PAUSES[min(supervised.failures, len(RESTART_PAUSES) - 1)]
        supervised.failures += 1
        supervised.restart_at = now + pause
        self._say(f"{supervised.name} {_ended(code)}; starting it again in {pause:g} s")

    def _restart(self, supervised: Supervised) -> None:
        supervised.process = subprocess.Popen(supervised.argv, env=supervised.env)
        supervised.started_at = time.monotonic()
        supervised.restart_at = None


def _ended(code: int) -> str:
    """How a process ended, from its Popen return code (negative: the signal that killed it)."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"
