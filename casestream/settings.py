"""The one settings object of casestream, read from `CASESTREAM_*` environment variables."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASESTREAM_", extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None,
        description="host:port[,host:port]; unset: `casestream up` starts a local broker",
    )
    database_url: str = Field(default="sqlite:///var/casestream.db")
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema for the read models (default: public)"
    )
    timezone: str = "Asia/Shanghai"
    topic_prefix: str = Field(
        default="", description="prefix of every topic name, to share a cluster"
    )
    var_dir: Path = Path("var")
    topic_partitions: int = Field(
        default=3,
        ge=1,
        description="partitions of each topic `casestream topics create` makes: at most this "
        "many worker replicas share the projection",
    )
    topic_replication: int = Field(
        default=3,
        ge=1,
        description="replicas of each topic's partitions (one local broker: 1; `casestream up` "
        "sets 1 for the broker it starts)",
    )
    topic_min_insync: int = Field(
        default=2,
        ge=1,
        description="the topics' min.insync.replicas: producers (acks=all) get an event "
        "confirmed once this many replicas hold it",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_workers: int = Field(
        default=1,
        ge=1,
        description="API worker processes (`casestream api --workers`); /metrics adds them up",
    )
    projector_batch_size: int = Field(default=2000, ge=1)
    projector_batch_seconds: float = Field(default=0.2, gt=0)
    consistency_wait_seconds: float = Field(default=5.0, ge=0)
    command_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long a command waits for its events to be in the read models before "
        "answering 202 with a consistency token instead of 200",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="the API answers 413 to a request body larger than this",
    )
    evidence_dir: Path = Field(
        default=Path("var/evidence"),
        description="where uploaded evidence files are kept, each under its SHA-256 digest "
        "(every API process of a deployment needs the same directory)",
    )
    max_file_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="POST /files answers 413 to a file larger than this",
    )
    worker_web_port: int = 6066
    prometheus_port: int = Field(default=9090, description="`casestream up --prometheus`")
    worker_metrics_interval_seconds: float = Field(
        default=5.0, gt=0, description="how often a worker measures its consumer lag"
    )
    intake_earliest: date = Field(
        default=date(1990, 1, 1),
        description="intake refuses instants and dates before this day (422 naming the field)",
    )
    intake_future_days: int = Field(
        default=730, ge=1, le=3650, description="intake refuses instants later than now + this"
    )
    intake_date_years: int = Field(
        default=10,
        ge=1,
        le=100,
        description="intake refuses payload dates (deadlines, hearings) later than now + this",
    )
    rules_file: Path | None = Field(default=None, description="deployment deadline rules (TOML)")
    calendar_file: Path | None = Field(
        default=None, description="deployment working-day calendar (TOML)"
    )
    webhooks_file: Path | None = Field(
        default=None, description="outgoing alert webhooks per department (TOML)"
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="the address staff reach the API at (https://casestream.example.gov.cn): "
        "robot and e-mail notifications link to the console's case page there",
    )
    rectification_fallback_department: str = Field(
        default="法制大队",
        description="answers for a rectification whose source case names no department",
    )
    supervision_satisfaction_threshold: int = Field(
        default=2,
        ge=0,
        le=5,
        description="a 回访 follow-up with a satisfaction (1-5) at or below this flags the "
        "complaint for 督察 supervision (SupervisionFlagged); 0 flags none",
    )
    scanner_enabled: bool = Field(
        default=True, description="run the escalation scanner in this worker"
    )
    scanner_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        description="escalation scanner period (a pass with nothing due is one index probe)",
    )
    scanner_batch_size: int = Field(default=1000, ge=1)
    outbox_interval_seconds: float = Field(
        default=0.2,
        gt=0,
        description="how often the outbox relay publishes derived events (review, rectification)",
    )
    webhook_interval_seconds: float = Field(
        default=0.5, gt=0, description="how often due webhook deliveries are attempted"
    )
    timer_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="the escalation scanner and the outbox relay run on one worker at a time: "
        "the one holding their lease, renewed while it runs; another takes over after this",
    )
    read_model_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="how often the API and the worker re-read which read models to serve "
        "(`casestream switch`): one primary-key lookup in the home database",
    )
    heartbeat_seconds: float = Field(
        default=2.0, gt=0, description="how often a worker writes its heartbeat (GET /readyz)"
    )
    readiness_stale_seconds: float = Field(
        default=15.0,
        gt=0,
        description="GET /readyz is not ready when no worker's projector has reported running "
        "within this many seconds",
    )
    auth_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key of the API's bearer tokens (JWT), at least 32 random characters; "
        "required by the API (`casestream up` generates one into var/auth-secret)",
    )
    api_keys_file: Path | None = Field(
        default=None, description="API keys of other systems (TOML, SHA-256 hashes only)"
    )
    session_idle_minutes: float = Field(
        default=8 * 60,
        gt=0,
        description="a console sign-in session ends after this long without a request",
    )
    session_absolute_hours: float = Field(
        default=12, gt=0, description="a console sign-in session ends this long after sign-in"
    )
    cookie_secure: bool = Field(
        default=False,
        description="mark the console's cookies Secure even when the API sees plain http (set "
        "it behind a TLS-terminating proxy); https requests get Secure cookies anyway",
    )
    signin_max_failures: int = Field(
        default=5, ge=1, description="wrong passwords in a row that lock a console account"
    )
    signin_lock_minutes: float = Field(
        default=15, gt=0, description="how long a console account stays locked out"
    )
    metrics_departments: str | None = Field(
        default=None,
        description="comma-separated department names that are Prometheus label values; any "
        "other department is labelled `other` (unset: the first "
        "CASESTREAM_METRICS_MAX_DEPARTMENTS names seen, then `other`)",
    )
    metrics_token_file: Path | None = Field(
        default=None,
        description="a file holding the bearer token Prometheus scrapes the API's /metrics with "
        "(its `authorization.credentials_file`); `casestream up` generates var/metrics-token",
    )
    metrics_cache_seconds: float = Field(
        default=15.0,
        ge=0,
        description="the API reads its business figures from the database at most this often",
    )
    metrics_max_departments: int = Field(
        default=100, ge=1, description="distinct department labels when none are configured"
    )
    grafana_url: str = Field(
        default="http://localhost:3000",
        pattern=r"^https?://[^\s]+$",
        description="the address staff open Grafana at: the console's 统计 page links to the "
        "dashboards of infra/grafana/ there, by uid",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from exc
        return value

    @model_validator(mode="after")
    def _confirmable_writes(self) -> Settings:
        if self.topic_min_insync > self.topic_replication:
            raise ValueError(
                f"CASESTREAM_TOPIC_MIN_INSYNC ({self.topic_min_insync}) exceeds "
                f"CASESTREAM_TOPIC_REPLICATION ({self.topic_replication}): no write could be "
                "confirmed; set it at most the replication factor (2 of 3 in production)"
            )
        return self

    def require_kafka(self) -> str:
        if not self.kafka_bootstrap:
            raise RuntimeError(
                "CASESTREAM_KAFKA_BOOTSTRAP is not set; set it to host:port of your Kafka cluster, "
                "or run `casestream up`, which starts a local broker"
            )
        return self.kafka_bootstrap
