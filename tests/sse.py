"""A Server-Sent Events client for tests of GET /alerts/stream."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Frame:
    fields: dict[str, str]
    received_at: float


class Listener:
    """An SSE client in a thread: frames (and comments, as field "comment") land in a queue."""

    def __init__(
        self, base_url: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.connected = threading.Event()
        self._client = httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(5, read=60), headers=headers
        )
        self._params = params
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fields: dict[str, str] = {}
        try:
            with self._client.stream("GET", "/alerts/stream", params=self._params) as response:
                assert response.status_code == 200
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    if line.startswith(":"):
                        continue
                    if not line:
                        if "data" in fields:  # a block without data is no event
                            self.frames.put(Frame(fields, time.monotonic()))
                        fields = {}
                        continue
                    name, _, value = line.partition(": ")
                    fields[name] = value
        except (httpx.HTTPError, RuntimeError):
            return  # closed by the test

    def next(self, timeout: float) -> Frame:
        return self.frames.get(timeout=timeout)

    def close(self) -> None:
        # shutdown() wakes the thread blocked reading; close() alone would leave the connection
        # open until the next heartbeat, and the server waiting for it
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._client.close()
