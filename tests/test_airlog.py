"""The as-run hash chain: raw-SQL tampering (edit, delete, insert, reorder) is caught and the row named."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from tamper import drop_asrun_guards

from broadcaster import airlog
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import AirLogError
from broadcaster.store import db
from broadcaster.store.models import AsRunRow, StationRow

T0 = datetime(2024, 1, 8, 23, 0, 0, 123456, tzinfo=UTC)  # 06:00 on 9 January in Hà Nội


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database (SQLite and PostgreSQL)."""
    eng = db.make_engine(db_url)
    db.migrate(eng)
    yield eng
    eng.dispose()


def build_log(engine: Engine, rows: int = 6) -> tuple[int, list[int]]:
    """Two stations; `rows` rows for the first (interleaved with the other's); returns its id and row ids."""
    with db.transaction(db.session_factory(engine)) as s:
        main = StationRow(
            code="phu-thu", name="Đài Phú Thứ", ward="Phường Phú Thứ", timezone="Asia/Ho_Chi_Minh"
        )
        other = StationRow(code="an-phu", name="Đài An Phụ", timezone="Asia/Ho_Chi_Minh")
        s.add_all([main, other])
        s.flush()
        ids = []
        for n in range(rows):
            start = T0 + timedelta(days=n)
            entry = AsRunEntry(
                Outcome.COMPLETED if n % 3 else Outcome.INTERRUPTED,
                Trigger.SCHEDULE,
                planned_start=start,
                actual_start=start + timedelta(seconds=2),
                actual_end=start + timedelta(seconds=92),
                played_ms=90_000,
                clip_ms=90_000,
                campaign_code="mai-dam-2024",
                title=f"Bản tin số {n + 1}",
            )
            ids.append(airlog.append(s, main.id, entry, recorded_by="daemon", now=start).id)
            airlog.append(s, other.id, entry, recorded_by="daemon", now=start)
        return main.id, ids


def execute(engine: Engine, sql: str, **params: object) -> None:
    """Tamper directly in the database, bypassing the application."""
    with engine.begin() as conn:
        drop_asrun_guards(conn)
        conn.execute(text(sql), params)


def check(engine: Engine, station_id: int, known_head: str | None = None) -> airlog.VerifyResult:
    """Run verify in a fresh session."""
    with Session(engine) as s:
        return airlog.verify(s, station_id, known_head=known_head)


def shift_seqs_up(engine: Engine, station_id: int, after: int) -> None:
    """Make room after seq `after` (two steps, so the unique (station, seq) constraint holds throughout)."""
    execute(engine, "UPDATE as_run SET seq = -seq WHERE station_id = :s AND seq > :a", s=station_id, a=after)
    execute(engine, "UPDATE as_run SET seq = 1 - seq WHERE station_id = :s AND seq < 0", s=station_id)


COPY_SQL = """
INSERT INTO as_run (station_id, seq, airing_id, corrects_id, session_code, planned_start, actual_start,
  actual_end, start_error_ms, played_ms, clip_ms, outcome, trigger, priority, bulletin_id, revision_id,
  revision_number, campaign_code, title, sha256, player, queued_by, approved_by, note, recorded_by,
  recorded_at, prev_hash, row_hash)
SELECT station_id, :seq, airing_id, corrects_id, session_code, planned_start, actual_start,
  actual_end, start_error_ms, played_ms, clip_ms, outcome, trigger, priority, bulletin_id, revision_id,
  revision_number, campaign_code, :title, sha256, player, queued_by, approved_by, note, recorded_by,
  recorded_at, :prev, :hash
FROM as_run WHERE id = :src
"""


def found(engine: Engine, station_id: int) -> tuple[str, int, int]:
    """(kind, row id, seq) of the first problem verify reports."""
    problem = first_problem(engine, station_id)
    return problem.kind, problem.row_id, problem.seq


def first_problem(engine: Engine, station_id: int) -> airlog.ChainProblem:
    """The first problem verify reports (there must be one)."""
    problem = check(engine, station_id).problem
    assert problem is not None
    return problem


def row_values(engine: Engine, row_id: int) -> dict[str, object]:
    """The hashed values of one stored row."""
    cols = [getattr(AsRunRow, name) for name in airlog.VERIFY_COLUMNS]
    with Session(engine) as s:
        return dict(s.execute(select(*cols).where(AsRunRow.id == row_id)).one()._asdict())


def new_id(engine: Engine) -> int:
    """The id of the newest row."""
    with Session(engine) as s:
        return int(s.scalar(select(AsRunRow.id).order_by(AsRunRow.id.desc()).limit(1)) or 0)


def test_an_untouched_log_verifies_and_reports_its_head(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    result = check(engine, station_id)
    assert result.ok and result.rows == 6
    assert result.head_hash == row_values(engine, ids[-1])["row_hash"]
    assert check(engine, station_id, known_head=result.head_hash).ok


def test_an_edited_field_names_the_row(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "UPDATE as_run SET outcome = 'completed' WHERE id = :id", id=ids[3])
    assert found(engine, station_id) == ("edited", ids[3], 4)


def test_an_edit_with_a_recomputed_hash_names_the_edited_row(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    values = row_values(engine, ids[2])
    values["played_ms"] = 1
    forged = airlog.row_digest(str(values["prev_hash"]), values)
    execute(engine, "UPDATE as_run SET played_ms = 1, row_hash = :h WHERE id = :id", h=forged, id=ids[2])
    problem = check(engine, station_id).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("edited", ids[2])


def test_a_deleted_row_names_the_row_after_the_gap(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "DELETE FROM as_run WHERE id = :id", id=ids[2])
    assert found(engine, station_id) == ("deleted", ids[3], 4)
    assert "thiếu 1 dòng" in first_problem(engine, station_id).message


def test_a_deleted_first_row_is_caught(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "DELETE FROM as_run WHERE id = :id", id=ids[0])
    problem = check(engine, station_id).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("deleted", ids[1])


def test_a_deletion_hidden_by_renumbering_is_still_a_deletion(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "DELETE FROM as_run WHERE id IN (:a, :b)", a=ids[1], b=ids[2])
    execute(engine, "UPDATE as_run SET seq = seq - 2 WHERE station_id = :s AND seq > 3", s=station_id)
    assert found(engine, station_id) == ("deleted", ids[3], 2)
    assert "thiếu 2 dòng" in first_problem(engine, station_id).message


def test_deleting_the_newest_rows_is_caught_against_a_recorded_head(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    head = check(engine, station_id).head_hash
    execute(engine, "DELETE FROM as_run WHERE id = :id", id=ids[-1])
    assert check(engine, station_id).ok  # a shorter chain is consistent in itself
    problem = check(engine, station_id, known_head=head).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("deleted", ids[-2])
    assert not check(engine, station_id, known_head=head[:16]).ok  # the prefix printed on reports
    assert check(engine, station_id, known_head=check(engine, station_id).head_hash[:12].upper()).ok
    with pytest.raises(AirLogError, match="quá ngắn"):
        check(engine, station_id, known_head=head[:8])


def test_a_row_inserted_with_correct_hashes_is_named(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    shift_seqs_up(engine, station_id, after=3)
    values = row_values(engine, ids[1])
    prev = str(row_values(engine, ids[2])["row_hash"])
    values.update(seq=4, title="Bản tin chèn thêm")
    forged = airlog.row_digest(prev, values)
    execute(engine, COPY_SQL, seq=4, title="Bản tin chèn thêm", prev=prev, hash=forged, src=ids[1])
    problem = check(engine, station_id).problem
    assert problem is not None and (problem.kind, problem.row_id, problem.seq) == (
        "inserted",
        new_id(engine),
        4,
    )


def test_a_row_inserted_with_a_wrong_hash_is_named(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    shift_seqs_up(engine, station_id, after=2)
    execute(engine, COPY_SQL, seq=3, title="Chèn", prev="f" * 64, hash="e" * 64, src=ids[0])
    problem = check(engine, station_id).problem
    assert problem is not None and (problem.kind, problem.row_id, problem.seq) == (
        "inserted",
        new_id(engine),
        3,
    )


def test_a_copied_row_appended_at_the_end_is_named(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    src = row_values(engine, ids[1])
    execute(
        engine, COPY_SQL, seq=7, title=src["title"], prev=src["prev_hash"], hash=src["row_hash"], src=ids[1]
    )
    problem = check(engine, station_id).problem
    assert problem is not None and (problem.kind, problem.row_id, problem.seq) == (
        "inserted",
        new_id(engine),
        7,
    )


def test_two_swapped_rows_are_reported_as_reordered(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "UPDATE as_run SET seq = -1 WHERE id = :id", id=ids[2])
    execute(engine, "UPDATE as_run SET seq = 3 WHERE id = :id", id=ids[3])
    execute(engine, "UPDATE as_run SET seq = 4 WHERE id = :id", id=ids[2])
    assert found(engine, station_id) == ("reordered", ids[3], 3)
    assert f"id={ids[2]}" in first_problem(engine, station_id).message


def test_tampering_with_one_station_leaves_the_other_intact(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "UPDATE as_run SET title = 'Sửa' WHERE id = :id", id=ids[0])
    assert not check(engine, station_id).ok
    with Session(engine) as s:
        other = s.scalar(select(StationRow.id).where(StationRow.code == "an-phu"))
    assert other is not None and check(engine, other).ok


def test_verify_rows_classifies_contents_exchanged_between_ids() -> None:
    rows = []
    prev = airlog.GENESIS
    for n, row_id in enumerate((10, 12, 11), start=1):
        values: dict[str, object] = {k: None for k in airlog.HASHED_FIELDS}
        values.update(seq=n, title=f"t{n}", outcome="completed", id=row_id, prev_hash=prev)
        values["row_hash"] = prev = airlog.row_digest(prev, values)
        rows.append(values)
    problem = airlog.verify_rows(rows).problem
    assert problem is not None and (problem.kind, problem.row_id) == ("reordered", 11)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_appends_to_one_station_serialise_on_postgresql(engine: Engine) -> None:
    station_id, _ = build_log(engine, rows=1)
    factory = db.session_factory(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for n in range(15):
                with db.transaction(factory) as s:
                    entry = AsRunEntry(
                        Outcome.COMPLETED, Trigger.MANUAL, actual_start=T0, title=f"{name} {n}"
                    )
                    airlog.append(s, station_id, entry, recorded_by=name, now=T0)
        except BaseException as exc:  # reported below: a thread's exception would otherwise be lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("daemon", "hung")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = check(engine, station_id)
    assert result.ok and result.rows == 31


def test_a_sub_millisecond_edit_is_caught(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    if engine.dialect.name == "sqlite":  # "…00.123000" → "…00.123999": the same millisecond
        sql = "UPDATE as_run SET actual_start = substr(actual_start, 1, 23) || '999' WHERE id = :id"
    else:
        sql = "UPDATE as_run SET actual_start = actual_start + interval '999 microseconds' WHERE id = :id"
    execute(engine, sql, id=ids[1])
    assert found(engine, station_id) == ("edited", ids[1], 2)


def test_text_where_a_time_was_is_caught(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    if engine.dialect.name == "sqlite":
        execute(engine, "UPDATE as_run SET actual_start = 'hôm qua' WHERE id = :id", id=ids[4])
        assert found(engine, station_id) == ("edited", ids[4], 5)
        execute(engine, "UPDATE as_run SET actual_end = 1704754892 WHERE id = :id", id=ids[0])
        assert found(engine, station_id) == ("edited", ids[0], 1)
    else:  # a server's typed column cannot hold text at all
        with pytest.raises(DataError):
            execute(engine, "UPDATE as_run SET actual_start = 'hôm qua' WHERE id = :id", id=ids[4])
        assert check(engine, station_id).ok


def test_a_trailing_space_in_a_title_is_caught(engine: Engine) -> None:
    station_id, ids = build_log(engine)
    execute(engine, "UPDATE as_run SET title = title || ' ' WHERE id = :id", id=ids[5])
    assert found(engine, station_id) == ("edited", ids[5], 6)


def test_sqlite_itself_refuses_update_and_delete_of_as_run(tmp_path: Path) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'guarded.db'}")
    db.migrate(eng)
    station_id, ids = build_log(eng)
    eng.dispose()
    conn = sqlite3.connect(tmp_path / "guarded.db")  # what the sqlite3 shell does
    for sql in ("UPDATE as_run SET played_ms = 1 WHERE id = ?", "DELETE FROM as_run WHERE id = ?"):
        with pytest.raises(sqlite3.DatabaseError, match="chỉ được ghi thêm"):
            conn.execute(sql, (ids[0],))
    conn.close()
    assert check(db.make_engine(f"sqlite:///{tmp_path / 'guarded.db'}"), station_id).ok
