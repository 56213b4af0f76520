"""The queue decides in one transaction: two processes racing for one session never both win (issue 10.3).

Each race runs two real processes (multiprocessing, spawned) on the same database, SQLite and
PostgreSQL. A barrier inside the duration callback (the part of queueing that may render speech, and
runs before the plan lock) holds both processes until both have read the session, so without the lock
both pass the duplicate and capacity checks every time; with it exactly one wins each round.
"""

from __future__ import annotations

import multiprocessing
import queue as stdqueue
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from seedpaths import SEED
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from broadcaster import planning
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import BulletinStatus, SessionOccurrence
from broadcaster.errors import BroadcasterError
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, queue, stations
from broadcaster.services.queue import Lengths
from broadcaster.store import db
from broadcaster.store.models import AiringRow, RevisionRow

NOW = datetime(2023, 3, 19, 13, 0, tzinfo=UTC)  # Sunday evening in Hà Nội: the sessions lie ahead
SHAPE = planning.ProgrammeShape(ident_s=5.0, gap_s=1.0)
ROUNDS = 20
LONG_MINUTES = 8.0  # one fits a 15-minute session (08:06), two do not (16:07)


def _race_worker(
    url: str, rounds: list[tuple[SessionOccurrence, int, float]], barrier: Any, results: Any
) -> None:
    """Queue one bulletin per round; report ('ok' | error class, message) for each round."""
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    out: list[tuple[str, str]] = []
    for occurrence, bulletin_id, minutes in rounds:
        waited = False

        def duration(_rev: RevisionRow, minutes: float = minutes) -> float:
            nonlocal waited
            if not waited:
                waited = True
                barrier.wait(timeout=60)
            return minutes * 60

        try:
            with db.transaction(factory) as s:
                row = stations.find_station(s, "phu-thu")
                domain = stations.station_domain(s, row)
                queue.queue(
                    s, row, domain, occurrence, bulletin_id,
                    actor="hung", now=NOW, lengths=Lengths(SHAPE, duration),
                )  # fmt: skip
            out.append(("ok", ""))
        except BroadcasterError as exc:
            out.append((type(exc).__name__, exc.one_line()))
        except threading.BrokenBarrierError:
            out.append(("BrokenBarrierError", "the other process did not reach the barrier"))
        except Exception as exc:  # reported, so that the test fails with it instead of waiting
            out.append((type(exc).__name__, str(exc)))
        if not waited:  # refused before the barrier: let the other process go on alone
            barrier.abort()
    engine.dispose()
    results.put(out)


@pytest.fixture
def race_app(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The seed station on the database under test, its engine closed before the workers start."""
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.init()
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(SEED), actor="test", now=NOW, speak=app.speak)
    app.engine.dispose()
    yield app
    app.engine.dispose()


def _setting(app: App) -> tuple[list[SessionOccurrence], list[int]]:
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        domain = stations.station_domain(s, row)
        approved = bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)
        occs = [
            o for o in planning.occurrences(domain, date(2023, 3, 20), date(2023, 6, 30)) if o.start > NOW
        ]
    app.engine.dispose()
    assert len(occs) >= 2 * ROUNDS and len(approved) >= 2
    return occs, [b.id for b in approved]


def _race(url: str, first: list[Any], second: list[Any]) -> list[list[tuple[str, str]]]:
    """Run two workers at once; each one's per-round results."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_race_worker, args=(url, r, barrier, results)) for r in (first, second)]
    for w in workers:
        w.start()
    try:
        got = [results.get(timeout=300) for _ in workers]
    except stdqueue.Empty:
        pytest.fail("a race worker did not report")
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    return got  # in finishing order: the callers compare each round's pair of outcomes, sorted


def _live(app: App, start: datetime) -> list[AiringRow]:
    with app.tx() as s:
        rows = list(
            s.scalars(
                select(AiringRow).where(AiringRow.planned_start == start, AiringRow.cancelled_at.is_(None))
            )
        )
    app.engine.dispose()
    return rows


def test_the_same_bulletin_raced_into_one_session_is_queued_once(race_app: App, db_url: str) -> None:
    occs, ids = _setting(race_app)
    rounds = [(occs[n], ids[0], 1.0) for n in range(ROUNDS)]
    a, b = _race(db_url, rounds, rounds)
    for n in range(ROUNDS):
        outcomes = sorted([a[n], b[n]])
        assert [o[0] for o in outcomes] == ["InvalidStateError", "ok"], (n, outcomes)
        assert f"Bản tin {ids[0]} đã có trong buổi phát này" in outcomes[0][1]
        assert len(_live(race_app, occs[n].start)) == 1


def test_two_long_bulletins_raced_into_room_for_one_are_not_both_accepted(race_app: App, db_url: str) -> None:
    occs, ids = _setting(race_app)
    picked = occs[ROUNDS : 2 * ROUNDS]
    a, b = _race(
        db_url,
        [(o, ids[0], LONG_MINUTES) for o in picked],
        [(o, ids[1], LONG_MINUTES) for o in picked],
    )
    for n, occ in enumerate(picked):
        outcomes = sorted([a[n], b[n]])
        assert [o[0] for o in outcomes] == ["PlanningError", "ok"], (n, outcomes)
        assert "vượt" in outcomes[0][1]
        [kept] = _live(race_app, occ.start)
        assert kept.bulletin_id in ids[:2]


def test_the_database_refuses_a_second_live_airing_of_a_bulletin_in_one_session(race_app: App) -> None:
    """The unique index is the last word: a duplicate that bypasses the service is refused."""
    occs, ids = _setting(race_app)
    with race_app.tx() as s:
        revision_id = bulletins.approved_revision(bulletins.get(s, ids[0])).id
        station_id = stations.find_station(s, "phu-thu").id

    def airing(**extra: Any) -> AiringRow:
        return AiringRow(
            station_id=station_id,
            session_code=occs[0].session_code,
            planned_start=occs[0].start,
            bulletin_id=ids[0],
            revision_id=revision_id,
            queued_by="hung",
            queued_at=NOW,
            **extra,
        )

    with race_app.tx() as s:  # a cancelled airing does not count: the bulletin may be queued again
        s.add_all([airing(cancelled_at=NOW, cancelled_by="hung", cancel_reason="thử"), airing()])
    with pytest.raises(IntegrityError) as refused, race_app.tx() as s:
        s.add(airing())
    assert db.is_unique_violation(refused.value)
    assert len(_live(race_app, occs[0].start)) == 1


def test_a_duplicate_let_in_by_the_old_queue_is_cancelled_by_the_migration(tmp_path: Path) -> None:
    """Upgrading a database whose racing queue stored a bulletin twice in a session keeps the oldest."""
    from alembic import command

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config(engine)
    command.upgrade(cfg, "0004")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO station (id, code, name, ward, timezone, ident, allowed_hours) "
            "VALUES (1, 's', 'S', '', 'Asia/Ho_Chi_Minh', '', '[]')"
        )
        conn.exec_driver_sql(
            "INSERT INTO campaign (id, station_id, code, title, plan_ref, period_start, period_end, topics, "
            "agencies, integrates) VALUES (1, 1, 'c', 'C', '', '2023-01-01', '2023-12-31', '[]', '[]', '[]')"
        )
        conn.exec_driver_sql(
            "INSERT INTO bulletin (id, station_id, campaign_id, title, agency, status, created_by, "
            "created_at) VALUES (1, 1, 1, 'T', '', 'approved', 'lan', '2023-03-01 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO bulletin_revision (id, bulletin_id, number, text, spoken_text, spoken_sha256, "
            "author, created_at, approval, approved_by, approved_at) VALUES (1, 1, 1, 'x', 'x', '', 'lan', "
            "'2023-03-01 00:00:00', 'approved', 'khoi', '2023-03-01 00:00:00')"
        )
        for airing_id in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO airing (id, station_id, session_code, planned_start, bulletin_id, revision_id, "
                "revision_approval, priority, position, queued_by, queued_at) VALUES "
                f"({airing_id}, 1, 'sang', '2023-03-20 23:00:00', 1, 1, 'approved', 'normal', "
                f"{airing_id - 1}, 'hung', '2023-03-01 00:00:00')"
            )
    db.migrate(engine)
    with db.transaction(db.session_factory(engine)) as s:
        rows = {r.id: r for r in s.scalars(select(AiringRow))}
        assert rows[1].cancelled_at is None
        assert rows[2].cancelled_by == "migration" and "trùng" in (rows[2].cancel_reason or "")
    engine.dispose()


def test_a_queue_that_waits_for_a_retire_sees_the_bulletin_retired(race_app: App, db_url: str) -> None:
    """Retiring takes the same plan lock: a queue decided after it is refused, not slipped in."""
    occs, ids = _setting(race_app)
    engine = db.make_engine(db_url)
    factory = db.session_factory(engine)
    try:
        with db.transaction(factory) as s:
            row = stations.find_station(s, "phu-thu")
            domain = stations.station_domain(s, row)
            bulletin = bulletins.get(s, ids[0])
            assert bulletins.approved_revision(bulletin)  # read as approved before the retire commits
            with db.transaction(factory) as other:
                bulletins.retire(other, ids[0], actor="khoi", now=NOW + timedelta(seconds=1))
            with pytest.raises(BroadcasterError, match="ngừng phát"):
                queue.queue(
                    s,
                    row,
                    domain,
                    occs[0],
                    ids[0],
                    actor="hung",
                    now=NOW,
                    lengths=Lengths(SHAPE, lambda r: 60.0),
                )
    finally:
        engine.dispose()
