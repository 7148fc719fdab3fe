"""`casestream worker` and `casestream api`: the two long-running processes, each on the parts
`casestream.bootstrap` builds."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from casestream.settings import Settings

err = Console(stderr=True)


def worker(
    metrics_port: Annotated[int, typer.Option(help="port of the worker's /metrics; 0: none")] = 0,
) -> None:
    """Run the stream processors (projector) until stopped."""
    from casestream.stream_processors.worker import run_worker

    sys.argv = [sys.argv[0], "worker"]  # faust's Worker reads its own command line
    run_worker(Settings(), metrics_port or None)


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

    settings = Settings()
    port = port or settings.api_port
    workers = workers or settings.api_workers
    served: dict[str, Any] = {
        "host": host or settings.api_host,
        "port": port,
        "log_level": "warning",
        "access_log": False,  # never shown at "warning"; not formatting it saves every request
        "timeout_graceful_shutdown": 3,  # open /alerts/stream connections never end by themselves
    }
    from casestream.api.app import create_app
    from casestream.api.http_metrics import share_metrics_between_workers
    from casestream.bootstrap import REFUSED_FILES, bootstrap
    from casestream.credentials import AuthConfigError, Authenticator

    # refuse here what every worker would refuse: uvicorn restarts a worker that raises
    refused: tuple[type[Exception], ...] = (AuthConfigError, *REFUSED_FILES)
    try:
        Authenticator.from_settings(settings)
        if workers == 1:
            uvicorn.run(create_app(settings), **served)
            return
        bootstrap(settings).close()  # migrated once, before the workers start
    except refused as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    share_metrics_between_workers(settings.var_dir / "prometheus-multiproc" / f"api-{port}")
    uvicorn.run("casestream.api.app:app_from_environment", factory=True, workers=workers, **served)
