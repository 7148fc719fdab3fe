"""Department as a Prometheus label: a bounded set of values, whatever the events carry.

A department name comes from event payloads, so a typo or a hostile sender could otherwise
create label values without end. Configured names (CASESTREAM_METRICS_DEPARTMENTS) are kept and
every other name becomes `other`; with none configured, the first
CASESTREAM_METRICS_MAX_DEPARTMENTS names seen by this process are kept. A case without a
department is labelled `none`.
"""

from __future__ import annotations

from casestream.settings import Settings

OTHER = "other"
NONE = "none"


class DepartmentLabels:
    def __init__(self, configured: frozenset[str] | None, max_seen: int = 100) -> None:
        self._configured = configured
        self._max_seen = max_seen
        self._seen: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> DepartmentLabels:
        configured = (
            frozenset(
                name.strip() for name in settings.metrics_departments.split(",") if name.strip()
            )
            if settings.metrics_departments
            else None
        )
        return cls(configured, settings.metrics_max_departments)

    def __call__(self, department: str | None) -> str:
        if not department:
            return NONE
        if self._configured is not None:
            return department if department in self._configured else OTHER
        if department in self._seen:
            return department
        if len(self._seen) < self._max_seen:  # one thread at a time: the worker's loop, or
            self._seen.add(department)  # the API's collector under its refresh lock
            return department
        return OTHER
