"""What the projection writer remembers of the cases it wrote, so a batch reads nothing an
earlier batch of this writer wrote.

The memory holds only while this writer is the only one moving the projection's checkpoints:
each batch starts by comparing the checkpoints in the database with those its last commit left,
and forgets everything when they differ (another worker, a rebalance, a restart, a commit whose
outcome was lost). A batch's states and clocks are staged while its transaction runs and kept
only once it has committed; a failed or rolled-back batch leaves the memory as it was before it,
or empty. It is bounded: the cases least recently used are forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TypeVar

from casestream.domain.clocks import Clock
from casestream.domain.lifecycle import CaseState

K = TypeVar("K")
V = TypeVar("V")

Checkpoints = Mapping[tuple[str, int], int]  # next offset per (topic, partition)


def _clock_order(clock: Clock) -> tuple[object, ...]:
    return (clock.started_at, clock.clock_id)  # as they are read back from the clocks table


class CaseCache:
    def __init__(self, max_cases: int) -> None:
        self._max_cases = max_cases
        self._lock = threading.Lock()  # a revocation may clear it while a batch runs in a thread
        self._states: OrderedDict[str, CaseState] = OrderedDict()
        self._clocks: OrderedDict[str, tuple[Clock, ...]] = OrderedDict()  # per case, maybe ()
        self._checkpoints: dict[tuple[str, int], int] | None = None  # as of the last commit
        self._staged: (
            tuple[dict[str, CaseState], dict[str, tuple[Clock, ...]], dict[tuple[str, int], int]]
            | None
        ) = None

    def __len__(self) -> int:
        return len(self._states)

    def begin(self, stored: Checkpoints) -> None:
        """Start a batch that read `stored` (every checkpoint of the projection): forget
        everything unless they are exactly those this writer's last commit left."""
        with self._lock:
            self._staged = None
            if self._checkpoints != dict(stored):
                self._forget()
                self._checkpoints = None

    def states(self, case_ids: Iterable[str]) -> dict[str, CaseState]:
        with self._lock:
            return _found(self._states, case_ids)

    def clocks(self, case_ids: Iterable[str]) -> dict[str, tuple[Clock, ...]]:
        with self._lock:
            return _found(self._clocks, case_ids)

    def stage(
        self,
        states: Mapping[str, CaseState],
        clocks: Mapping[str, tuple[Clock, ...]],
        changed_clocks: Iterable[Clock],
        checkpoints: Checkpoints,
    ) -> None:
        """What the running batch leaves in the database, kept once it commits: the cases'
        states and clocks, clocks it changed in other cases, and every checkpoint."""
        case_clocks = {case_id: tuple(items) for case_id, items in clocks.items()}
        with self._lock:
            for clock in changed_clocks:
                known = case_clocks.get(clock.case_id, self._clocks.get(clock.case_id))
                if known is None:  # a case not remembered: nothing to keep up to date
                    continue
                others = [item for item in known if item.clock_id != clock.clock_id]
                case_clocks[clock.case_id] = (*others, clock)
            self._staged = (
                dict(states),
                {
                    case_id: tuple(sorted(items, key=_clock_order))
                    for case_id, items in case_clocks.items()
                },
                dict(checkpoints),
            )

    def committed(self) -> None:
        """The staged batch has committed: remember it."""
        with self._lock:
            staged, self._staged = self._staged, None
            if staged is None:
                self._forget()
                self._checkpoints = None
                return
            states, clocks, checkpoints = staged
            _remember(self._states, states, self._max_cases)
            _remember(self._clocks, clocks, self._max_cases)
            self._checkpoints = checkpoints

    def forget(self) -> None:
        """Forget everything (a rolled-back or failed batch, partitions revoked, clocks
        recounted outside a batch)."""
        with self._lock:
            self._staged = None
            self._forget()
            self._checkpoints = None

    def _forget(self) -> None:
        self._states = OrderedDict()
        self._clocks = OrderedDict()


def _found(known: OrderedDict[K, V], keys: Iterable[K]) -> dict[K, V]:
    found: dict[K, V] = {}
    for key in keys:
        value = known.get(key)
        if value is not None:
            known.move_to_end(key)
            found[key] = value
    return found


def _remember(known: OrderedDict[K, V], values: Mapping[K, V], limit: int) -> None:
    for key, value in values.items():
        known[key] = value
        known.move_to_end(key)
    while len(known) > limit:
        known.popitem(last=False)
