"""The SQL schema of the read models (the same on SQLite and PostgreSQL).

Read models are disposable: `casestream replay` rebuilds them from Kafka. No column holds
wall-clock processing time, so a rebuilt read model equals the live one row for row.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A tz-aware instant stored as UTC (SQLite keeps no offsets) and read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc_wall(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        instant: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return instant.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def utc_wall(instant: datetime) -> datetime:
    """The UTC wall time, without an offset, a UTCDateTime column stores for this instant.
    Remembered: a batch's rows share a few instants (a cohort's alerts, a day's deadlines), and
    a zone conversion per value was a tenth of recording a cohort."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return instant.astimezone(UTC).replace(tzinfo=None)


metadata = sa.MetaData()

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("last_occurred_at", UTCDateTime, nullable=False),
    sa.Column("department", sa.String(200)),
    sa.Column("handler", sa.String(200)),
    sa.Column("enterprise", sa.Boolean, nullable=False),
    sa.Column("enterprise_name", sa.String(200)),
    sa.Column("decision_ref", sa.String(200)),
    sa.Column("subject", sa.Text),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("anomaly_count", sa.Integer, nullable=False),
    sa.Column("satisfaction", sa.SmallInteger),  # complaints: the latest follow-up score, 1–5
    sa.Column("outcome", sa.String(16)),  # decided disputes: correction / loss / other
    sa.Column("state", sa.JSON, nullable=False),
    sa.Index("ix_cases_received", "received_at", "case_id"),
    # each filter of GET /cases in the list's order: a page (deep or not) is one index range
    sa.Index("ix_cases_kind_received", "case_kind", "received_at", "case_id"),
    sa.Index("ix_cases_status_received", "status", "received_at", "case_id"),
    sa.Index("ix_cases_department_received", "department", "received_at", "case_id"),
    sa.Index("ix_cases_enterprise_name_received", "enterprise_name", "received_at", "case_id"),
    # the business gauges read these alone (index-only scans)
    sa.Index("ix_cases_kind_status_department", "case_kind", "status", "department", "enterprise"),
    sa.Index(
        "ix_cases_decided",
        "case_kind",
        "department",
        "outcome",
        postgresql_where=sa.text("outcome IS NOT NULL"),
        sqlite_where=sa.text("outcome IS NOT NULL"),
    ),
    sa.Index(
        "ix_cases_scored",
        "case_kind",
        "satisfaction",
        postgresql_where=sa.text("satisfaction IS NOT NULL"),
        sqlite_where=sa.text("satisfaction IS NOT NULL"),
    ),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.UniqueConstraint("case_id", "version", name="uq_case_events_case_version"),
)

disputes = sa.Table(
    "disputes",
    metadata,
    sa.Column("decision_ref", sa.String(200), primary_key=True),
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("linked_at", UTCDateTime, nullable=False),
)

anomalies = sa.Table(
    "anomalies",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.String(100), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

projection_meta = sa.Table(
    "projection_meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

clocks = sa.Table(
    "clocks",
    metadata,
    sa.Column("clock_id", sa.String(250), primary_key=True),
    sa.Column("case_id", sa.String(100), nullable=False),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("rule_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running paused met breached cancelled
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
    sa.Column("stopped_at", UTCDateTime),
    sa.Column("department", sa.String(200)),
    sa.Column("enterprise", sa.Boolean, nullable=False),
    sa.Column("next_alert_at", UTCDateTime),  # the scanner's index: work grows with what is due
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("linked_case_id", sa.String(150), index=True),  # a case whose completion stops it
    sa.Index("ix_clocks_next_alert_at_clock", "next_alert_at", "clock_id"),  # the scanner's order
    sa.Index("ix_clocks_status_due", "status", "due_at"),
    # a case's clocks, and "has it a met/breached clock of these rules" (the figures) from the
    # index alone; without statistics SQLite prefers it to the status index for such lookups
    sa.Index("ix_clocks_case_rule_status", "case_id", "rule_id", "status"),
    # open clocks: a case's (next due, overdue) and the gauges' tallies, from the index alone
    sa.Index(
        "ix_clocks_open_case",
        "case_id",
        "status",
        "due_at",
        postgresql_where=sa.text("stopped_at IS NULL"),
        sqlite_where=sa.text("stopped_at IS NULL"),
    ),
    sa.Index(
        "ix_clocks_open_rule",
        "rule_id",
        "department",
        "status",
        "due_at",
        postgresql_where=sa.text("stopped_at IS NULL"),
        sqlite_where=sa.text("stopped_at IS NULL"),
    ),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.String(36), primary_key=True),
    sa.Column("clock_id", sa.String(250), nullable=False, index=True),
    sa.Column("case_id", sa.String(100), nullable=False),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("rule_id", sa.String(100), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("notify", sa.String(64)),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("scheduled_at", UTCDateTime, nullable=False),
    sa.Column("raised_at", UTCDateTime, nullable=False),
    sa.Column("department", sa.String(200)),
    sa.Column("enterprise", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open / cleared
    sa.Column("cleared_at", UTCDateTime),
    sa.Index("ix_alerts_status_raised", "status", "raised_at"),
)

# The evidence files (证据材料) the events of each case cite (`catalog.cited_files`): who may
# download a file is whoever may see a case citing it. Written with the case.
case_files = sa.Table(
    "case_files",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),  # as the first event citing it names it
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Index("ix_case_files_sha256", "sha256"),
)

READ_MODEL_TABLES = (
    cases,
    case_events,
    disputes,
    anomalies,
    checkpoints,
    clocks,
    alerts,
    case_files,
)
"""The tables a replay must reproduce row for row."""

# Outgoing alert webhooks: operational state of the notifier, not a read model. It holds
# wall-clock times and HTTP outcomes, so it is not in READ_MODEL_TABLES and a replay leaves
# it empty (a rebuilt database does not resend alerts already delivered from another one).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("alert_id", sa.String(200), primary_key=True),
    sa.Column("webhook_id", sa.String(100), primary_key=True),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(100), nullable=False),
    sa.Column("clock_id", sa.String(250), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending / delivered / failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_attempt_at", UTCDateTime),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UTCDateTime),
    sa.Column("body", sa.Text, nullable=False),  # the exact bytes POSTed (and signed)
    sa.Index("ix_webhook_deliveries_due", "webhook_id", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_clock", "clock_id"),
    sa.Index("ix_webhook_deliveries_created", "created_at"),
)

# Transactional outbox: events the projector derives (review and rectification of a lost
# case, the 督察 flag of a poor 回访), written in the same transaction as the event that caused
# them and published to their case kind's topic by the worker's relay. Event ids are deterministic, so a row published twice after a
# crash is one event. `published` is operational state, not part of READ_MODEL_TABLES.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("case_id", sa.String(100), nullable=False),
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    # a command's events are sent by the API itself: the relay leaves them until then (NULL:
    # at once, as for the events the projector derives)
    sa.Column("publish_after", UTCDateTime, nullable=True),
    sa.Index("ix_outbox_unpublished", "published", "occurred_at"),
)

# One writer per case: each command the API carries out reserves the version of the case it was
# decided on, in the same transaction as its events' outbox rows. The primary key is the guard:
# of two commands decided on the same version, the second insert fails (409), so no command is
# ever appended on a state it did not see. Operational state, not part of READ_MODEL_TABLES.
command_reservations = sa.Table(
    "command_reservations",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),  # the case's version decided on
    sa.Column("next_version", sa.Integer, nullable=False),  # its version once they are applied
    sa.Column("command", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("event_ids", sa.JSON, nullable=False),
    sa.Column("reserved_at", UTCDateTime, nullable=False),
)

# Operational state of the workers, not read models (wall-clock times; a replay leaves them
# empty). Each worker process writes its heartbeat every few seconds: GET /readyz is ready only
# while some worker's projector runs. A lease names the one worker that runs a timer (the
# escalation scanner, the outbox relay) until it expires, so no alert is sent twice by two.
worker_heartbeats = sa.Table(
    "worker_heartbeats",
    metadata,
    sa.Column("worker_id", sa.String(100), primary_key=True),
    sa.Column("beat_at", UTCDateTime, nullable=False),
    sa.Column("projector", sa.String(16), nullable=False),  # running / retrying / crashed
    sa.Column("since", UTCDateTime, nullable=False),  # in this projector state since
    sa.Column("progressed_at", UTCDateTime),  # its last batch committed
    sa.Column("detail", sa.Text, nullable=False),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# Evidence files received by POST /files, one row per uploader of a digest, written once the
# whole file is stored under its digest: the record that a digest was completely uploaded, and
# who may download it before any event cites it. Not a read model (nothing on Kafka says it; a
# replay leaves it as it is), like the outbox and the webhook deliveries.
evidence_uploads = sa.Table(
    "evidence_uploads",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("uploaded_by", sa.String(200), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("uploaded_at", UTCDateTime, nullable=False),
)

# Staff accounts of the web console (工作人员账号), their sign-in record (登录记录) and their
# open sessions. Not read models (nothing on Kafka says them; a replay into a fresh database
# starts without them), like the evidence uploads. A password is kept as its argon2 hash only;
# a session as the SHA-256 of the random id its cookie holds.
staff_accounts = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("department", sa.String(200)),  # required for handler and department_head
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False),  # wrong passwords in a row
    sa.Column("locked_until", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

staff_signins = sa.Table(
    "staff_signins",
    metadata,
    sa.Column("signin_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False),  # as typed (bounded), known or not
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),  # domain.staff.SignInOutcome
    sa.Column("remote_address", sa.String(64)),
    sa.Index("ix_staff_signins_username", "username", "attempted_at"),
)

staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("session_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),  # useless without the cookie
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),  # the absolute end
    sa.Index("ix_staff_sessions_username", "username"),
)


FIGURES = (
    "received",  # received, filed or opened
    "closed",  # 办结 / 核查 done / rectification completed
    "on_time",  # closed with a main clock met and none late
    "overdue",  # a main clock late
    "ent_received",  # the same four of the 涉企 complaints
    "ent_closed",
    "ent_on_time",
    "ent_overdue",
    "visited",  # 回访 done (a score given)
    "score_sum",
    "satisfied",
    "flagged",  # 督察 flagged at least once
    "supervised",  # under 督察 now
    "decided",  # reconsideration decided
    "corrections",  # … with a correcting decision
    "judged",  # lawsuit judged
    "losses",
    "heard",  # lawsuits with a hearing
    "appeared",  # … with the agency head at one of them
    "hearings",  # hearings held
    "head_appeared",  # hearings the agency head appeared at
    "opened",  # rectification opened (a deadline set, not cancelled)
    "cancelled",
    # 执法监督: the 评查意见 of a 考评 review, in all and by category, and the 不予处罚
    # decisions by ground (the names are the enumerations' values, spelt out for the migration)
    "opinions",
    "opinions_facts",
    "opinions_evidence",
    "opinions_procedure",
    "opinions_law",
    "opinions_documents",
    "opinions_discretion",
    "opinions_property",
    "opinions_other",
    "exemption_minor",
    "exemption_first_offence",
    "exemption_no_fault",
    "exemption_other",
)
"""The per-case figures, the counter tables' columns (figure_columns.py defines them)."""


TALLY_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("status", sa.String(32), server_default=""),
    sa.Column("enterprise", sa.Boolean, server_default=sa.false()),
    sa.Column("outcome", sa.String(16), server_default=""),  # correction / loss / other, "" none
    sa.Column("satisfaction", sa.SmallInteger, server_default="0"),  # the latest 回访, 0 none
    sa.Column("breached", sa.Boolean, server_default=sa.false()),  # an open clock breached
)
"""Where a case stands for the business gauges (templates: each table copies them)."""


def _figure_columns() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in FIGURES]


case_figures = sa.Table(
    "case_figures",
    metadata,
    sa.Column("case_id", sa.String(100), primary_key=True),
    sa.Column("department", sa.String(200), nullable=False),  # "" for none
    sa.Column("case_kind", sa.String(32), nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # the local day received
    *_figure_columns(),
    *(
        sa.Column(column.name, column.type, nullable=False, server_default=column.server_default)
        for column in TALLY_COLUMNS
    ),
    # the case's open clocks by (rule, department, status): case_tallies.clock_places
    sa.Column("clock_places", sa.Text, nullable=False, server_default=""),
)
"""What each case adds to the figures now (figure_columns.py) and where it stands in the
tallies (its TALLY_COLUMNS), so a change is applied to the counters as the difference from what
the case added before."""

case_tallies = sa.Table(
    "case_tallies",
    metadata,
    sa.Column("department", sa.String(200), primary_key=True),  # "" for none
    sa.Column("case_kind", sa.String(32), primary_key=True),
    *(sa.Column(column.name, column.type, primary_key=True) for column in TALLY_COLUMNS),
    sa.Column("total", sa.BigInteger, nullable=False),
)
"""How many cases stand at each (department, kind, status, enterprise, outcome class, follow-up
score, an open clock breached) now: the business gauges read O(departments × kinds × statuses)
rows, whatever the number of cases (case_tallies.py keeps them)."""

clock_tallies = sa.Table(
    "clock_tallies",
    metadata,
    sa.Column("rule_id", sa.String(100), primary_key=True),
    sa.Column("department", sa.String(200), primary_key=True),  # "" for none
    sa.Column("status", sa.String(32), primary_key=True),  # running, paused or breached
    sa.Column("total", sa.BigInteger, nullable=False),
)
"""How many clocks neither stopped nor cancelled there are of each rule, department and status
now (case_tallies.py keeps them with the cases' places)."""

figure_counts = sa.Table(
    "figure_counts",
    metadata,
    sa.Column("department", sa.String(200), primary_key=True),  # "" for none
    sa.Column("case_kind", sa.String(32), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    *_figure_columns(),
    sa.Index("ix_figure_counts_day", "day"),
)
"""The figures of the cases received on a local day, per department and kind: a period's
figures read O(departments × kinds × days) rows, whatever the number of cases."""
