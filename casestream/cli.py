"""The `casestream` command line (typer): run the system, feed it, rebuild it, inspect it.

Each command lives with its concept (`feed_cli`, `serve_cli`, `up_cli`, and the groups
`replay_cli` (with `switch`), `topics_cli`, `schema_cli`, `token_cli`, `deadline_cli`,
`deadletter_cli`, `user_cli`, `report_cli`); this module only puts them together under one name."""

from __future__ import annotations

import typer

from casestream.deadletter_cli import deadletter_app
from casestream.deadline_cli import deadline_app
from casestream.feed_cli import import_csv, produce, simulate_command
from casestream.replay_cli import replay_app, switch_command
from casestream.report_cli import report_command
from casestream.schema_cli import schema_app
from casestream.serve_cli import api, worker
from casestream.token_cli import token_app
from casestream.topics_cli import topics_app
from casestream.up_cli import up
from casestream.user_cli import user_app

app = typer.Typer(
    help="casestream: complaints, tip-offs, reconsiderations and lawsuits on Kafka.",
    no_args_is_help=True,
)
app.command("produce")(produce)
app.command("import")(import_csv)
app.command("simulate")(simulate_command)
app.command("worker")(worker)
app.command("api")(api)
app.add_typer(replay_app, name="replay")
app.command("switch")(switch_command)
app.command("up")(up)
app.add_typer(topics_app, name="topics")
app.add_typer(schema_app, name="schema")
app.add_typer(token_app, name="token")
app.add_typer(deadline_app, name="deadline")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(user_app, name="user")
app.command("report")(report_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
