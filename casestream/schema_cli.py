"""`casestream schema …`: the JSON Schema of every event type, for the systems that send them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

schema_app = typer.Typer(help="Event schemas.", no_args_is_help=True)
out = Console()


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write one JSON Schema file per event type into DIRECTORY."""
    from casestream.domain.envelope import event_json_schemas

    directory.mkdir(parents=True, exist_ok=True)
    schemas = event_json_schemas()
    for name, schema in schemas.items():
        (directory / f"{name}.schema.json").write_text(
            json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        )
    out.print(f"wrote {len(schemas)} schemas to {directory}")
