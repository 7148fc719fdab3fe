"""What `produce`, `import` and `simulate` say when Kafka does not confirm."""

from __future__ import annotations

import pytest
import typer

from casestream.feed_cli import _unconfirmed_sends
from casestream.producers.kafka_producer import SendFailed


def test_no_broker_at_all_exits_3_with_the_fix_and_no_crash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as exited, _unconfirmed_sends("re-run the same command"):
        raise SendFailed("no Kafka broker answered at localhost:1 within 1 s", [])
    assert exited.value.exit_code == 3
    said = capsys.readouterr().err
    assert "no Kafka broker answered" in said and "unknown outcome" not in said


def test_unconfirmed_events_are_named_with_how_to_retry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as exited, _unconfirmed_sends("re-run the same command"):
        raise SendFailed("Kafka did not confirm", ["id-1", "id-2"])
    assert exited.value.exit_code == 3
    said = capsys.readouterr().err
    assert "2 event(s) of unknown outcome, e.g. id-1; re-run the same command" in said.replace(
        "\n", " "
    )
