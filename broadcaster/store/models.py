"""SQLAlchemy 2 models: stations, sessions, campaigns, bulletins, renders, airings, the as-run log, audit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The partial unique index on live airings (bulletin × session occurrence); migration 0005 creates it.
LIVE_AIRING_INDEX = "uq_airing_live_bulletin_start"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every backend (SQLite stores naive text, so attach UTC on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic needs them on SQLite)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class StationRow(Base):
    """A ward station."""

    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ward: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    ident: Mapped[str] = mapped_column(Text, default="")
    allowed_hours: Mapped[list[str]] = mapped_column(JSON, default=list)


class UserRow(Base):
    """A person who acts in the system, with one role."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # The web console's sign-in (migration 0006): an argon2 hash, and failed attempts for the growing delay.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime | None]
    __table_args__ = (
        CheckConstraint("role IN ('officer','leader','operator','admin','inspector')", name="role"),
    )


class SessionRow(Base):
    """A recurring broadcast session rule."""

    __tablename__ = "broadcast_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    weekdays: Mapped[str] = mapped_column(String(20))  # "0,1,2,3,4,5" (0 = Monday)
    start_time: Mapped[str] = mapped_column(String(5))  # local HH:MM
    max_seconds: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # The session's relay, if any: {"source", "seconds", "place" ("first"|"last"), "filler"}.
    relay: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (
        UniqueConstraint("station_id", "code", name="uq_session_station_code"),
        CheckConstraint("max_seconds > 0", name="max_seconds_positive"),
    )


class ExceptionRow(Base):
    """A dated cancel or extra session."""

    __tablename__ = "schedule_exception"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    session_code: Mapped[str | None] = mapped_column(String(64))
    start_time: Mapped[str | None] = mapped_column(String(5))
    max_seconds: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (CheckConstraint("kind IN ('cancel','extra')", name="kind"),)


class CampaignRow(Base):
    """An awareness campaign."""

    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    plan_ref: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    integrates: Mapped[list[str]] = mapped_column(JSON, default=list)
    target: Mapped[TargetRow | None] = relationship(back_populates="campaign", uselist=False)
    __table_args__ = (
        UniqueConstraint("station_id", "code", name="uq_campaign_station_code"),
        CheckConstraint("period_start <= period_end", name="period"),
    )


class TargetRow(Base):
    """Measurable targets of one campaign."""

    __tablename__ = "target"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), unique=True)
    min_airings_per_week: Mapped[int | None]
    min_airings_per_month: Mapped[int | None]
    min_minutes_per_month: Mapped[float | None] = mapped_column(Float)
    max_gap_days: Mapped[int | None]
    campaign: Mapped[CampaignRow] = relationship(back_populates="target")


class BulletinRow(Base):
    """A bulletin: its current state; the text lives in revisions."""

    __tablename__ = "bulletin"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    key: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    agency: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revisions: Mapped[list[RevisionRow]] = relationship(
        back_populates="bulletin", order_by="RevisionRow.number", foreign_keys="RevisionRow.bulletin_id"
    )
    campaign: Mapped[CampaignRow] = relationship()
    __table_args__ = (
        UniqueConstraint("station_id", "key", name="uq_bulletin_station_key"),
        CheckConstraint("status IN ('draft','submitted','approved','rejected','retired')", name="status"),
    )


class RevisionRow(Base):
    """One immutable text (or recording) of a bulletin; approval is recorded once and never changes."""

    __tablename__ = "bulletin_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    spoken_text: Mapped[str] = mapped_column(Text, default="")
    spoken_sha256: Mapped[str] = mapped_column(String(64), default="")
    source_audio: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    approval: Mapped[str] = mapped_column(String(16), default="pending")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # How it is read ("espeak:vi-vn-x-south"; "" the station's chain) and how fast: part of what is approved.
    voice: Mapped[str] = mapped_column(String(200), default="", server_default="")
    speed: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    bulletin: Mapped[BulletinRow] = relationship(back_populates="revisions", foreign_keys=[bulletin_id])
    __table_args__ = (
        UniqueConstraint("bulletin_id", "number", name="uq_revision_bulletin_number"),
        UniqueConstraint("id", "approval", name="uq_revision_id_approval"),
        CheckConstraint("approval IN ('pending','approved','rejected')", name="approval"),
        CheckConstraint(
            "approval <> 'approved' OR (approved_by IS NOT NULL AND approved_at IS NOT NULL)",
            name="approved_has_approver",
        ),
    )


class RenderRow(Base):
    """An audio file made for a revision (speech or recording), an ident, or a programme."""

    __tablename__ = "render"
    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin_revision.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(32))
    voice: Mapped[str] = mapped_column(String(64), default="")
    settings_key: Mapped[str] = mapped_column(Text, default="")
    spoken_sha256: Mapped[str] = mapped_column(String(64), default="")
    integrated_lufs: Mapped[float | None] = mapped_column(Float)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    __table_args__ = (
        CheckConstraint("kind IN ('speech','recording','ident','closing','programme')", name="kind"),
        Index("ix_render_revision", "revision_id"),
    )


class AiringRow(Base):
    """A planned airing: an approved revision queued into a session at a position."""

    __tablename__ = "airing"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    session_code: Mapped[str] = mapped_column(String(64))
    planned_start: Mapped[datetime]
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id"))
    revision_id: Mapped[int]
    # Always 'approved': with the composite key below, the database itself refuses an unapproved revision.
    revision_approval: Mapped[str] = mapped_column(String(16), default="approved")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    position: Mapped[int] = mapped_column(Integer, default=0)
    queued_by: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    # Why it left the plan: unqueued by the operator, its bulletin retired or edited (migration 0005).
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Exactly once (migration 0004): the daemon claims an airing (one conditional UPDATE) before it goes on
    # air; `settled_at` is set in the transaction that writes its as-run rows, so they are written once.
    claim: Mapped[str | None] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    __table_args__ = (
        ForeignKeyConstraint(
            ["revision_id", "revision_approval"],
            ["bulletin_revision.id", "bulletin_revision.approval"],
            name="fk_airing_approved_revision",
        ),
        CheckConstraint("revision_approval = 'approved'", name="approved_only"),
        CheckConstraint("priority IN ('normal','priority','emergency')", name="priority"),
        Index("ix_airing_station_start", "station_id", "planned_start"),
        # One live airing of a bulletin per session occurrence: the database refuses a racing duplicate.
        Index(
            LIVE_AIRING_INDEX,
            "bulletin_id",
            "planned_start",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
            postgresql_where=text("cancelled_at IS NULL"),
        ),
    )


class DaemonLeaseRow(Base):
    """The one daemon that airs a station: a lease renewed by its heartbeat (and what it is doing)."""

    __tablename__ = "daemon_lease"
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    home: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    on_air_start: Mapped[datetime | None]
    backlog: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (CheckConstraint("state IN ('idle','on_air','stopped')", name="state"),)


class AsRunRow(Base):
    """One as-run row: what actually happened. Append-only and hash-chained per station."""

    __tablename__ = "as_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    seq: Mapped[int]
    airing_id: Mapped[int | None] = mapped_column(ForeignKey("airing.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("as_run.id"))
    session_code: Mapped[str | None] = mapped_column(String(64))
    planned_start: Mapped[datetime | None]
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    start_error_ms: Mapped[int | None]
    played_ms: Mapped[int] = mapped_column(Integer, default=0)
    clip_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id"))
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin_revision.id"))
    revision_number: Mapped[int | None]
    campaign_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str | None] = mapped_column(String(64))
    player: Mapped[str] = mapped_column(String(32), default="")
    queued_by: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (
        UniqueConstraint("station_id", "seq", name="uq_as_run_station_seq"),
        CheckConstraint("outcome IN ('completed','interrupted','failed','missed','skipped')", name="outcome"),
        CheckConstraint("trigger IN ('schedule','manual','emergency')", name="trigger"),
        Index("ix_as_run_station_start", "station_id", "actual_start"),
        Index("ix_as_run_campaign", "campaign_code", "actual_start"),
        Index("ix_as_run_airing", "airing_id"),
        Index("ix_as_run_station_planned", "station_id", "planned_start"),
    )


class OffAirRow(Base):
    """What the station's ear heard while one as-run row aired: a fact added after the row, never an edit.

    Written once by the daemon after the airing (its recording is kept under HOME/offair for
    `[offair] keep_days`); a row without one was not listened to.
    """

    __tablename__ = "off_air"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    as_run_id: Mapped[int] = mapped_column(ForeignKey("as_run.id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))
    similarity: Mapped[float] = mapped_column(Float)
    dead_air_ms: Mapped[int] = mapped_column(Integer, default=0)
    delay_ms: Mapped[int] = mapped_column(Integer, default=0)
    detected_at: Mapped[datetime]
    recording: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]
    __table_args__ = (
        CheckConstraint("verdict IN ('heard','silent','different')", name="verdict"),
        Index("ix_off_air_station_detected", "station_id", "detected_at"),
    )


class AuditRow(Base):
    """Who did what and when."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebSessionRow(Base):
    """A signed-in browser: the sha256 of its cookie token and when it was last seen (idle timeout)."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client: Mapped[str] = mapped_column(String(255), default="")


class ApiTokenRow(Base):
    """A token for the JSON API: a user's (acts with that user's role) or a station's (machine to machine)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    __table_args__ = (CheckConstraint("(user_id IS NULL) != (station_id IS NULL)", name="owner"),)


class ForwardedAsRunRow(Base):
    """An as-run row a station forwarded to this district server, exactly as the station hashed it.

    `content` is the station's canonical JSON of the hashed fields (its own ids included), so the
    district checks each row's hash itself; the columns beside it are read from it for queries.
    """

    __tablename__ = "forwarded_as_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    seq: Mapped[int]
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    campaign_code: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300), default="")
    planned_start: Mapped[datetime | None]
    actual_start: Mapped[datetime | None]
    played_ms: Mapped[int] = mapped_column(Integer, default=0)
    clip_ms: Mapped[int] = mapped_column(Integer, default=0)
    # The station's own ids: of this row (not hashed, sent beside it) and of the row it corrects.
    station_row_id: Mapped[int | None]
    corrects_id: Mapped[int | None]
    received_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("station_id", "seq", name="uq_forwarded_station_seq"),
        Index("ix_forwarded_station_start", "station_id", "actual_start"),
        Index("ix_forwarded_campaign", "campaign_code", "actual_start"),
        # The district's table reads never-started rows by their planned start, corrections by the row
        # they correct (the station's own id): partial indexes, small beside the log.
        Index(
            "ix_forwarded_unaired",
            "campaign_code",
            "planned_start",
            postgresql_where=text("actual_start IS NULL"),
            sqlite_where=text("actual_start IS NULL"),
        ),
        Index(
            "ix_forwarded_corrections",
            "station_id",
            "corrects_id",
            postgresql_where=text("corrects_id IS NOT NULL"),
            sqlite_where=text("corrects_id IS NOT NULL"),
        ),
        Index("ix_forwarded_station_row", "station_id", "station_row_id"),
    )


class ForwardStateRow(Base):
    """Where one station's forwarded chain stands at the district: its head, last contact, any break."""

    __tablename__ = "forward_state"
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    last_contact_at: Mapped[datetime | None]
    signed_head: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    broken_at: Mapped[datetime | None]
    broken_reason: Mapped[str] = mapped_column(Text, default="")
    # The station's last heartbeat (migration 0009): daemon state, alerts, last airing, disk, clock.
    heartbeat: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    heartbeat_at: Mapped[datetime | None]


class DispatchRow(Base):
    """A bulletin the district sends down to a set of wards, approved by the district, at one level.

    Its audio is rendered and loudness-normalised here and named by its sha256; each ward fetches it
    by that hash and checks it before anything reaches its own database (migration 0009).
    """

    __tablename__ = "dispatch"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    spoken_text: Mapped[str] = mapped_column(Text)
    spoken_sha256: Mapped[str] = mapped_column(String(64))
    campaign_code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    # An emergency airs only until then; a station that hears of it later logs it as missed.
    valid_until: Mapped[datetime | None]
    audio_path: Mapped[str] = mapped_column(Text)
    audio_sha256: Mapped[str] = mapped_column(String(64))
    audio_ext: Mapped[str] = mapped_column(String(8))
    duration_s: Mapped[float] = mapped_column(Float)
    integrated_lufs: Mapped[float | None] = mapped_column(Float)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    targets: Mapped[list[DispatchTargetRow]] = relationship(back_populates="dispatch")
    __table_args__ = (
        CheckConstraint("level IN ('normal','priority','emergency')", name="level"),
        CheckConstraint("level <> 'emergency' OR valid_until IS NOT NULL", name="emergency_window"),
        Index("ix_dispatch_audio", "audio_sha256"),
    )


class DispatchTargetRow(Base):
    """One ward a dispatch is addressed to, and what that ward reported doing with it."""

    __tablename__ = "dispatch_target"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    # sent → received (normal: the ward chooses when) | queued (priority) | on_air (emergency) | missed
    # (an emergency past its window) | refused (the ward could not take it; `note` says why).
    state: Mapped[str] = mapped_column(String(16), default="sent")
    note: Mapped[str] = mapped_column(Text, default="")
    planned_start: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    dispatch: Mapped[DispatchRow] = relationship(back_populates="targets")
    __table_args__ = (
        UniqueConstraint("dispatch_id", "station_id", name="uq_dispatch_target"),
        CheckConstraint("state IN ('sent','received','queued','on_air','missed','refused')", name="state"),
        Index("ix_dispatch_target_station", "station_id", "state"),
    )


class ReceivedDispatchRow(Base):
    """At a station: a district dispatch taken in once (its district id), as the local bulletin it became."""

    __tablename__ = "received_dispatch"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    district_id: Mapped[int]
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id"))
    airing_id: Mapped[int | None]
    level: Mapped[str] = mapped_column(String(16))
    valid_until: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("station_id", "district_id", name="uq_received_dispatch"),)


class ForwardedAuditRow(Base):
    """A station's audit event as forwarded to this district server, once (by the station's own id)."""

    __tablename__ = "forwarded_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    station_event_id: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime]
    __table_args__ = (
        UniqueConstraint("station_id", "station_event_id", name="uq_forwarded_audit_event"),
        Index("ix_forwarded_audit_station_at", "station_id", "at"),
    )


class ScheduleChangeRow(Base):
    """At the district: a change to one ward's recurring session, sent down, and what the ward did with it."""

    __tablename__ = "schedule_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    session_code: Mapped[str] = mapped_column(String(32))
    # The session's new days, start, longest length (and name), as the station's settings take them.
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # sent → applied (the ward's schedule now says so) | refused (`note` says why).
    state: Mapped[str] = mapped_column(String(16), default="sent")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]
    __table_args__ = (
        CheckConstraint("state IN ('sent','applied','refused')", name="state"),
        Index("ix_schedule_change_station", "station_id", "state"),
    )


class ReceivedChangeRow(Base):
    """At a station: a district schedule change taken in once (its district id), and its outcome."""

    __tablename__ = "received_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    district_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]
    __table_args__ = (UniqueConstraint("station_id", "district_id", name="uq_received_change"),)
