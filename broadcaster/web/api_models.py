"""The JSON API's request and response bodies (pydantic), so that /api/openapi.json documents them.

Values are codes (statuses, priorities, outcomes, roles) as in `--json` output; instants are ISO 8601
with the station's offset; messages a person reads (errors) are Vietnamese.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """Every refusal: a Vietnamese message and the HTTP status."""

    error: str = Field(description="Thông báo lỗi (tiếng Việt) và cách khắc phục")
    status: int


class RevisionOut(BaseModel):
    """One revision of a bulletin."""

    number: int
    author: str
    created_at: dt.datetime
    approval: Literal["pending", "approved", "rejected"]
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    spoken_sha256: str
    reject_reason: str | None = None
    recording: bool = Field(description="true: an operator recording, heard as recorded")
    voice: str = Field(default="", description='the voice it is read with, e.g. "espeak:vi"; "" the chain')
    speed: float = Field(default=1.0, description="the reading speed (0.8–1.25), pitch kept")


class BulletinOut(BaseModel):
    """A bulletin as the list shows it."""

    id: int
    title: str
    campaign: str = Field(description="campaign code")
    campaign_title: str
    agency: str
    status: Literal["draft", "submitted", "approved", "rejected", "retired"]
    revision: int = Field(description="number of the latest revision")
    created_by: str
    created_at: dt.datetime


class BulletinDetailOut(BulletinOut):
    """A bulletin with its latest text, the spoken text the leader approves, and every revision."""

    text: str
    spoken_text: str
    spoken_sha256: str
    revisions: list[RevisionOut]


class BulletinIn(BaseModel):
    """A new bulletin (a draft) written by an officer."""

    model_config = ConfigDict(str_strip_whitespace=True)

    campaign: str = Field(min_length=1, description="campaign code, e.g. mai-dam-2023")
    title: str = Field(min_length=1, max_length=300)
    agency: str = Field(default="", max_length=200)
    text: str = Field(min_length=1, description="Vietnamese text; paragraphs separated by a blank line")
    voice: str | None = Field(default=None, description='e.g. "espeak:vi-vn-x-south"; none: the default')
    speed: float | None = Field(default=None, description="0.8 to 1.25; none: the station's default")


class ApproveIn(BaseModel):
    """What the leader saw: the sha256 (or its first characters) of the spoken text."""

    spoken_sha256: str | None = Field(
        default=None, description="refuse if the spoken text changed since it was read (prefix allowed)"
    )


class ApprovedOut(BaseModel):
    """An approved bulletin and its air audio (made now; a render failure leaves the approval standing)."""

    bulletin: BulletinDetailOut
    audio_ready: bool
    audio_s: float | None = None
    note: str = ""


class AiringIn(BaseModel):
    """Queue a bulletin's approved revision into a session: by local date and start, or the next one."""

    bulletin_id: int
    date: dt.date | None = Field(default=None, description="local date of the session")
    time: str | None = Field(default=None, description="local start of the session, HH:MM")
    next: bool = Field(default=False, description="the next session instead of date and time")
    priority: Literal["normal", "priority"] = "normal"


class PlayNowIn(BaseModel):
    """Play an approved bulletin at once; an emergency interrupts what is on air, at any hour."""

    bulletin_id: int
    emergency: bool = False


class AiringOut(BaseModel):
    """A queued airing."""

    id: int
    bulletin_id: int
    revision_id: int
    session: str = Field(description="session code (manual, emergency for play-now)")
    planned_start: dt.datetime
    priority: Literal["normal", "priority", "emergency"]
    position: int
    queued_by: str
    queued_at: dt.datetime


class ScheduleItemOut(BaseModel):
    """One queued item of a session."""

    airing_id: int
    position: int
    bulletin_id: int
    title: str
    campaign: str
    revision: int
    priority: Literal["normal", "priority", "emergency"]
    queued_by: str
    duration_s: float | None = None


class SessionOut(BaseModel):
    """One session occurrence (or a play-now programme) with its items."""

    start: dt.datetime
    session: str
    name: str
    max_minutes: float | None = Field(default=None, description="null for play-now programmes")
    items: list[ScheduleItemOut]


class ScheduleOut(BaseModel):
    """The plan between two local dates (inclusive)."""

    station: str
    timezone: str
    from_date: dt.date
    to_date: dt.date
    sessions: list[SessionOut]


class AsRunOut(BaseModel):
    """One as-run row: what actually happened."""

    id: int | None
    date: dt.date | None
    planned_start: dt.datetime | None
    actual_start: dt.datetime | None
    end: dt.datetime | None
    played_s: float
    clip_s: float
    bulletin_id: int | None
    revision: int | None
    bulletin: str
    campaign: str | None
    agency: str
    priority: Literal["normal", "priority", "emergency"]
    trigger: Literal["schedule", "manual", "emergency"]
    outcome: Literal["completed", "interrupted", "failed", "missed", "skipped"]
    operator: str | None
    approver: str | None
    sha256: str | None
    corrects_id: int | None = Field(default=None, description="the row this one corrects")


class AsRunListOut(BaseModel):
    """As-run rows between two local dates, corrections applied unless `all` was asked."""

    station: str
    timezone: str
    rows: list[AsRunOut]


class ComplianceRowOut(BaseModel):
    """One period of a campaign's compliance."""

    model_config = ConfigDict(populate_by_name=True)

    label: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    partial: bool
    in_progress: bool
    airings: int
    minutes: float
    interrupted: int
    target_airings: int | None
    target_minutes: float | None
    longest_gap_days: int
    allowed_gap_days: int | None
    missed: int
    failed: int
    skipped: int
    met: bool | None


class ComplianceOut(BaseModel):
    """A campaign's compliance per period, from aired rows only."""

    campaign: str
    title: str
    plan_ref: str
    period: str
    timezone: str
    rows: list[ComplianceRowOut]


class ReportOut(BaseModel):
    """Compliance of the station's campaigns."""

    station: str
    reports: list[ComplianceOut]


class DaemonOut(BaseModel):
    """The station daemon's last heartbeat."""

    state: Literal["idle", "on_air", "stopped"]
    alive: bool = Field(description="true while the daemon's lease holds")
    host: str
    pid: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    seconds_since_contact: float
    on_air_start: dt.datetime | None
    backlog: int = Field(description="as-run rows waiting in the daemon's journal")


class StatusOut(BaseModel):
    """The station and its daemon (null when no daemon ever ran for it)."""

    station: str
    name: str
    timezone: str
    now: dt.datetime
    daemon: DaemonOut | None
