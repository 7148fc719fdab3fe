"""The deadline policy of a deployment: packaged rules and calendar plus its own files."""

from __future__ import annotations

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.outcomes import OutcomeSettings
from casestream.domain.plausibility import DateWindow
from casestream.domain.rules import load_rulebook
from casestream.settings import Settings


def clock_policy(settings: Settings) -> ClockPolicy:
    """Load rules and calendar; an invalid file fails here, at start-up, naming rule and field."""
    return ClockPolicy(
        rulebook=load_rulebook(settings.rules_file),
        calendar=load_calendar(settings.calendar_file),
        timezone=settings.timezone,
    )


def outcome_settings(settings: Settings) -> OutcomeSettings:
    return OutcomeSettings(
        fallback_department=settings.rectification_fallback_department,
        timezone=settings.timezone,
        supervision_satisfaction_threshold=settings.supervision_satisfaction_threshold,
    )


def date_window(settings: Settings) -> DateWindow:
    """The instants and dates intake accepts (API, files)."""
    return DateWindow(
        earliest=settings.intake_earliest,
        future_days=settings.intake_future_days,
        date_years=settings.intake_date_years,
    )
