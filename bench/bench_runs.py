"""The frame a bench run shares: the command line echoed, SIGTERM treated as Ctrl-C (so the run
cleans up), a fresh work directory for its logs, the logs' tails printed when it fails, and the
directory kept then (or with --keep) and removed otherwise."""

from __future__ import annotations

import shlex
import shutil
import signal
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

T = TypeVar("T")
INTERRUPTED = 130  # the exit code of a run stopped by Ctrl-C or SIGTERM


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_in_work_dir(
    console: Console,
    name: str,
    argv: list[str] | None,
    keep: bool,
    body: Callable[[str, Path], T],
) -> T | None:
    """`body(run_id, work_dir)`'s answer, or None when the run was interrupted (cleaned up)."""
    console.print(
        "command line: " + shlex.join([sys.executable, *sys.argv] if argv is None else argv),
        markup=False,
    )
    signal.signal(signal.SIGTERM, _terminate)
    run_id = uuid.uuid4().hex[:8]
    work_dir = Path(tempfile.mkdtemp(prefix=f"casestream-bench-{name}-{run_id}-"))
    failed = False
    try:
        return body(run_id, work_dir)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; cleaned up[/yellow]")
        return None
    except Exception:
        failed = True
        for log in sorted(work_dir.glob("*/*.log")):
            console.print(f"[bold]{log}[/bold] (tail)")
            console.print(log.read_text(errors="replace")[-2000:], markup=False)
        raise
    finally:
        if keep or failed:
            console.print(f"logs in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
