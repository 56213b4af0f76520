"""Pure value types shared by every layer: priorities, outcomes, statuses, rules and records."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


class Priority(enum.StrEnum):
    """Thông tư 39/2020/TT-BTTTT levels: fitted in, ordered by the operator, or at once."""

    NORMAL = "normal"
    PRIORITY = "priority"
    EMERGENCY = "emergency"


class Outcome(enum.StrEnum):
    """What actually happened to one planned or manual airing."""

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    MISSED = "missed"
    SKIPPED = "skipped"


class OffAir(enum.StrEnum):
    """What the station's ear heard on its output during one airing (a fact added after the as-run row)."""

    HEARD = "heard"  # the recording matches the programme
    SILENT = "silent"  # dead air longer than the configured window
    DIFFERENT = "different"  # something else was heard


class Trigger(enum.StrEnum):
    """What started an airing."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    EMERGENCY = "emergency"


# Session codes of airings that no recurring session holds: queued by hand (play-now), an emergency,
# or an extra session declared without a code of its own. The as-run trigger follows from the first two.
MANUAL_SESSION = "manual"
EMERGENCY_SESSION = "emergency"
EXTRA_SESSION_CODE = "extra"


class BulletinStatus(enum.StrEnum):
    """Life cycle of a bulletin; only APPROVED may be queued or aired."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


class Role(enum.StrEnum):
    """Who may do what: officer writes, leader approves, operator queues and plays."""

    OFFICER = "officer"
    LEADER = "leader"
    OPERATOR = "operator"
    ADMIN = "admin"
    INSPECTOR = "inspector"  # reads everything, changes nothing (the district's or the ward's reviewer)


class ExceptionKind(enum.StrEnum):
    """A dated change to the recurring sessions."""

    CANCEL = "cancel"
    EXTRA = "extra"


@dataclass(frozen=True)
class TimeWindow:
    """Local wall-clock hours [start, end) in which anything non-emergency may play."""

    start: time
    end: time

    def contains(self, moment: time, length: timedelta = timedelta(0)) -> bool:
        """True if a programme starting at `moment` and lasting `length` fits inside the window."""
        start_s = _seconds(self.start)
        end_s = _seconds(self.end) if self.end != time(0) else 24 * 3600
        begin = _seconds(moment)
        return start_s <= begin and begin + length.total_seconds() <= end_s


def _seconds(t: time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


RELAY_PLACES = ("first", "last")


@dataclass(frozen=True)
class RelayRule:
    """A session's relay (tiếp sóng) of national or provincial radio: its source, length and place.

    `place` "first": the relay opens the session and the bulletins follow it; "last": the bulletins
    come first and the relay closes the session, starting on the second at the session's end minus
    its length. Either way the relay's length counts against the session's.
    """

    source: str  # http(s) stream URL, or "device:<capture source>" (the FM receiver's line-in)
    length: timedelta
    place: str = "first"
    filler: str = ""  # a file played while the stream is gone (empty: the signature tune)


@dataclass(frozen=True)
class SessionRule:
    """A recurring broadcast session: weekdays (0 = Monday), local start, maximum length, validity."""

    code: str
    name: str
    weekdays: frozenset[int]
    start: time
    max_length: timedelta
    valid_from: date | None = None
    valid_to: date | None = None
    relay: RelayRule | None = None

    def runs_on(self, day: date) -> bool:
        """True if the rule yields a session on this local date (exceptions aside)."""
        if self.valid_from and day < self.valid_from:
            return False
        if self.valid_to and day > self.valid_to:
            return False
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class ScheduleException:
    """No broadcast in a session on a date (CANCEL), or an extra session on a date (EXTRA)."""

    day: date
    kind: ExceptionKind
    session_code: str | None = None
    start: time | None = None
    max_length: timedelta | None = None
    reason: str = ""


@dataclass(frozen=True)
class Target:
    """Measurable campaign targets; None means no target of that kind."""

    min_airings_per_week: int | None = None
    min_airings_per_month: int | None = None
    min_minutes_per_month: float | None = None
    max_gap_days: int | None = None


@dataclass(frozen=True)
class Campaign:
    """An awareness campaign from a ward plan."""

    code: str
    title: str
    plan_ref: str
    period_start: date
    period_end: date
    topics: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    target: Target = field(default_factory=Target)
    integrates: tuple[str, ...] = ()

    def active_on(self, day: date) -> bool:
        """True if the campaign period covers this date."""
        return self.period_start <= day <= self.period_end


@dataclass(frozen=True)
class BulletinSpec:
    """A bulletin as written in a schedule file (imported as a draft or approved revision)."""

    key: str
    campaign_code: str
    title: str
    agency: str
    text: str
    approved_by: str | None = None


@dataclass(frozen=True)
class Station:
    """A ward station: identity, zone, the hours it may play in, its sessions and exceptions."""

    code: str
    name: str
    timezone: str
    ident: str
    allowed_hours: tuple[TimeWindow, ...]
    sessions: tuple[SessionRule, ...]
    exceptions: tuple[ScheduleException, ...] = ()

    def allows(self, local_start: time, length: timedelta) -> bool:
        """True if a non-emergency programme may play from `local_start` for `length`."""
        return any(w.contains(local_start, length) for w in self.allowed_hours)


@dataclass(frozen=True)
class RelayOccurrence:
    """One concrete relay: when it starts (UTC) and for how long, from where."""

    session_code: str
    name: str
    start: datetime
    length: timedelta
    source: str
    filler: str = ""

    @property
    def end(self) -> datetime:
        """When the relay stops."""
        return self.start + self.length


@dataclass(frozen=True)
class SessionOccurrence:
    """One concrete session: a rule (or an extra) on a date, as UTC-aware instants.

    With a relay, `start` and `max_length` are the bulletins' part of the session and `relay` the rest.
    """

    session_code: str
    name: str
    start: datetime
    max_length: timedelta
    relay: RelayOccurrence | None = None

    @property
    def end(self) -> datetime:
        """The latest instant the session may run to."""
        return self.start + self.max_length


@dataclass(frozen=True)
class AsRunRecord:
    """One as-run row as the reports see it (UTC-aware instants, durations in seconds)."""

    station_code: str
    campaign_code: str | None
    bulletin_id: int | None
    revision: int | None
    planned_start: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    played_s: float
    clip_s: float
    outcome: Outcome
    trigger: Trigger
    priority: Priority = Priority.NORMAL
    sha256: str | None = None
    title: str = ""
    topic: str = ""
    agency: str = ""
    queued_by: str | None = None
    approved_by: str | None = None
    row_id: int | None = None
    # The off-air verdict for this row (None: not listened to); `CountingRules.heard_only` reads it.
    heard: OffAir | None = None


@dataclass(frozen=True)
class AsRunEntry:
    """What happened to one item, as the daemon or an operator reports it (the as-run log appends it)."""

    outcome: Outcome
    trigger: Trigger
    planned_start: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    played_ms: int = 0
    clip_ms: int = 0
    start_error_ms: int | None = None
    priority: Priority = Priority.NORMAL
    airing_id: int | None = None
    session_code: str | None = None
    bulletin_id: int | None = None
    revision_id: int | None = None
    revision_number: int | None = None
    campaign_code: str | None = None
    title: str = ""
    sha256: str | None = None
    player: str = ""
    queued_by: str | None = None
    approved_by: str | None = None
    note: str = ""
    corrects_id: int | None = None
