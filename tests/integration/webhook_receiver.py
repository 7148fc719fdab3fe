"""A local HTTP receiver for webhook and robot tests: records each POST and answers as told per
path (status, delay, and the body: a robot answers JSON with an `errcode`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    query: str = ""  # the URL's query string (a robot's key, 钉钉's timestamp and sign)


@dataclass
class Receiver:
    """Answers POST /<name> with `statuses[name]` in turn (the last one repeats), after `delays`."""

    port: int = 0
    statuses: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    answers: dict[str, list[bytes]] = field(default_factory=dict)  # bodies in turn, as statuses
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def on(self, name: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.path == f"/{name}"]

    def _answer(
        self, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, float, bytes]:
        path, _, query = target.partition("?")
        name = path.lstrip("/")
        with self._lock:
            self.received.append(Received(path, headers, body, time.monotonic(), query))
            statuses = self.statuses.get(name, [200])
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            answers = self.answers.get(name, [b"ok"])
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return status, self.delays.get(name, 0.0), answer


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, delay, answer = receiver._answer(self.path, dict(self.headers.items()), body)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the notifier gave up waiting (its timeout): what a hanging webhook does

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 refuses bursts of concurrent deliveries
        daemon_threads = True
        block_on_close = False

    server = Server(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="webhook receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
