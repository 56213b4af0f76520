"""Migrations on SQLite and PostgreSQL, UTC-aware instants, and the constraints that matter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import AirLogError, StoreError
from broadcaster.store import db
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    CampaignRow,
    RevisionRow,
    StationRow,
)

NOW = datetime(2023, 3, 20, 1, 2, 3, 456789, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine, disposed after the test (psycopg warns about connections left open)."""
    eng = db.make_engine(db_url)
    db.migrate(eng)
    yield eng
    eng.dispose()


def _station_with_bulletin(s: Session, approval: str) -> tuple[StationRow, BulletinRow, RevisionRow]:
    station = StationRow(
        code="phu-thu", name="Đài Phú Thứ", timezone="Asia/Ho_Chi_Minh", ident="", allowed_hours=[]
    )
    s.add(station)
    s.flush()
    campaign = CampaignRow(
        station_id=station.id,
        code="c",
        title="C",
        period_start=date(2023, 1, 1),
        period_end=date(2023, 12, 31),
    )
    s.add(campaign)
    s.flush()
    bulletin = BulletinRow(
        station_id=station.id, campaign_id=campaign.id, title="T", created_by="lan", created_at=NOW
    )
    s.add(bulletin)
    s.flush()
    rev = RevisionRow(
        bulletin_id=bulletin.id,
        number=1,
        text="x",
        author="lan",
        created_at=NOW,
        approval=approval,
        approved_by="khoi" if approval == "approved" else None,
        approved_at=NOW if approval == "approved" else None,
    )
    s.add(rev)
    s.flush()
    return station, bulletin, rev


def test_migrate_creates_schema_and_is_idempotent(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.migrate(engine) is True
    engine.dispose()
    engine = db.make_engine(db_url)
    assert db.migrate(engine) is False
    assert db.current_revision(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {
        "station",
        "broadcast_session",
        "campaign",
        "target",
        "bulletin",
        "bulletin_revision",
        "render",
        "airing",
        "as_run",
        "user_account",
        "audit_event",
    } <= tables


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/w.db")
    db.migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_unmigrated_database_is_refused_with_a_hint(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(StoreError, match="broadcaster init"):
        db.require_migrated(engine)


def test_instants_come_back_utc_aware_to_the_microsecond(engine: Engine) -> None:
    factory = db.session_factory(engine)
    local = NOW.astimezone(timezone(timedelta(hours=7)))
    with db.transaction(factory) as s:
        _, bulletin, _ = _station_with_bulletin(s, "approved")
        bulletin.created_at = local
    with factory() as s:
        got = s.scalar(select(BulletinRow.created_at))
    assert got is not None
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == NOW


def test_naive_datetime_is_refused(engine: Engine) -> None:
    with db.transaction(db.session_factory(engine)) as s:
        _, bulletin, _ = _station_with_bulletin(s, "approved")
        bulletin.created_at = datetime(2023, 1, 1)
        with pytest.raises(Exception, match="naive"):
            s.flush()
        s.rollback()


def test_airing_cannot_reference_an_unapproved_revision(engine: Engine) -> None:
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        station, bulletin, rev = _station_with_bulletin(s, "pending")
        ids = (station.id, bulletin.id, rev.id)
    with pytest.raises(IntegrityError), db.transaction(factory) as s:
        s.add(
            AiringRow(
                station_id=ids[0],
                session_code="sang",
                planned_start=NOW,
                bulletin_id=ids[1],
                revision_id=ids[2],
                queued_by="hung",
                queued_at=NOW,
            )
        )
    with pytest.raises(IntegrityError), db.transaction(factory) as s:  # nor by claiming it is approved
        s.add(
            AiringRow(
                station_id=ids[0],
                session_code="sang",
                planned_start=NOW,
                bulletin_id=ids[1],
                revision_id=ids[2],
                revision_approval="pending",
                queued_by="hung",
                queued_at=NOW,
            )
        )
    with factory() as s:
        assert s.scalar(select(AiringRow.id)) is None


def test_airing_of_an_approved_revision_is_accepted(engine: Engine) -> None:
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        station, bulletin, rev = _station_with_bulletin(s, "approved")
        s.add(
            AiringRow(
                station_id=station.id,
                session_code="sang",
                planned_start=NOW,
                bulletin_id=bulletin.id,
                revision_id=rev.id,
                queued_by="hung",
                queued_at=NOW,
            )
        )
    with factory() as s:
        assert len(list(s.scalars(select(AiringRow)))) == 1


def test_approved_revision_needs_an_approver(engine: Engine) -> None:
    with pytest.raises(IntegrityError), db.transaction(db.session_factory(engine)) as s:
        _, _, rev = _station_with_bulletin(s, "pending")
        rev.approval = "approved"
        s.flush()


def test_as_run_rows_cannot_be_updated_or_deleted_through_the_repository(engine: Engine) -> None:
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        station, _, _ = _station_with_bulletin(s, "approved")
        row = airlog.append(
            s,
            station.id,
            AsRunEntry(Outcome.COMPLETED, Trigger.SCHEDULE, actual_start=NOW),
            recorded_by="daemon",
            now=NOW,
        )
        row_id = row.id
    with pytest.raises(AirLogError, match="không được sửa"), db.transaction(factory) as s:
        s.get_one(AsRunRow, row_id).outcome = "failed"
    with pytest.raises(AirLogError, match="không được xóa"), db.transaction(factory) as s:
        s.delete(s.get_one(AsRunRow, row_id))
    with factory() as s:
        kept = s.get_one(AsRunRow, row_id)
        assert kept.outcome == "completed"
        assert kept.actual_start == NOW.replace(microsecond=456000)  # stored to the millisecond
