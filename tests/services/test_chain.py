"""The chain's tail: deleting, forging or rewriting rows is caught against the head the station signed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broadcaster import airlog
from broadcaster.app import App
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import AirLogError, InvalidStateError, PermissionDenied
from broadcaster.services import chain
from broadcaster.services.stations import find_station
from broadcaster.witness import HeadStore, StationKey, Witness

T0 = datetime(2023, 3, 20, 23, 0, 0, 250000, tzinfo=UTC)


def append_rows(app: App, count: int) -> None:
    """`count` completed airings through the application (each commit signs the new head)."""
    for n in range(count):
        with app.tx() as s:
            station = find_station(s, "phu-thu")
            start = T0 + timedelta(days=n)
            entry = AsRunEntry(
                Outcome.COMPLETED,
                Trigger.SCHEDULE,
                planned_start=start,
                actual_start=start,
                actual_end=start + timedelta(seconds=60),
                played_ms=60_000,
                clip_ms=60_000,
                campaign_code="mai-dam-2023",
                title=f"Bản tin {n + 1}",
            )
            airlog.append(s, station.id, entry, recorded_by="daemon", now=start)


def check(app: App) -> airlog.VerifyResult:
    with app.tx() as s:
        return chain.verify_chain(s, find_station(s, "phu-thu"), app.witness).result


def raw(app: App) -> sqlite3.Connection:
    """The sqlite3 shell's view of the database, guards dropped as a forger would."""
    conn = sqlite3.connect(app.config.home / "broadcaster.db", isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS as_run_no_update")
    conn.execute("DROP TRIGGER IF EXISTS as_run_no_delete")
    return conn


def forge_append(conn: sqlite3.Connection) -> None:
    """Append a row with correct hashes, computed the way airlog does (a script with hashlib)."""
    cols = ", ".join(airlog.VERIFY_COLUMNS)
    last = conn.execute(f"SELECT {cols} FROM as_run ORDER BY seq DESC LIMIT 1").fetchone()
    values = dict(zip(airlog.VERIFY_COLUMNS, last, strict=True))
    values.update(seq=values["seq"] + 1, title="Bản tin giả", prev_hash=values["row_hash"])
    for key in ("planned_start", "actual_start", "actual_end", "recorded_at"):
        values[key] = f"{values[key][:10]}T{values[key][11:23]}Z"
    values["row_hash"] = hashlib.sha256(
        f"{values['prev_hash']}\n{airlog.canonical_content(values)}".encode()
    ).hexdigest()
    stored = {k: v for k, v in values.items() if k != "id"}
    for key in ("planned_start", "actual_start", "actual_end", "recorded_at"):
        stored[key] = stored[key].replace("T", " ").replace("Z", "000")
    names = ", ".join(stored)
    conn.execute(
        f"INSERT INTO as_run ({names}) VALUES ({', '.join('?' * len(stored))})", list(stored.values())
    )


def test_every_commit_signs_the_head_and_an_intact_log_verifies(seeded: App) -> None:
    append_rows(seeded, 3)
    head = json.loads((seeded.config.home / "heads" / "phu-thu.json").read_text(encoding="utf-8"))
    assert head["rows"] == 3 and head["key"] == seeded.witness.key.fingerprint()
    assert check(seeded).ok
    daily = (seeded.config.home / "heads" / "phu-thu.log").read_text(encoding="utf-8").splitlines()
    assert len(daily) == 1  # one line a day, not one per append


def test_deleting_the_last_row_or_all_rows_is_caught(seeded: App) -> None:
    append_rows(seeded, 4)
    conn = raw(seeded)
    conn.execute("DELETE FROM as_run WHERE seq = 4")
    problem = check(seeded).problem
    assert problem is not None and problem.kind == "deleted"
    conn.execute("DELETE FROM as_run")
    problem = check(seeded).problem
    assert problem is not None and problem.kind == "deleted"


def test_a_forged_row_with_correct_hashes_is_caught_as_unsigned(seeded: App) -> None:
    append_rows(seeded, 2)
    forge_append(raw(seeded))
    with seeded.tx() as s:
        assert airlog.verify(s, find_station(s, "phu-thu").id).ok  # the unkeyed chain alone is fooled
    problem = check(seeded).problem
    assert problem is not None and (problem.kind, problem.seq) == ("unsigned", 3)


def test_rewriting_and_rehashing_the_whole_chain_is_caught(seeded: App) -> None:
    append_rows(seeded, 3)
    conn = raw(seeded)
    rows = conn.execute(f"SELECT {', '.join(airlog.VERIFY_COLUMNS)} FROM as_run ORDER BY seq").fetchall()
    prev = airlog.GENESIS
    for row in rows:
        values = dict(zip(airlog.VERIFY_COLUMNS, row, strict=True))
        values["played_ms"] = 1
        for key in ("planned_start", "actual_start", "actual_end", "recorded_at"):
            values[key] = f"{values[key][:10]}T{values[key][11:23]}Z"
        digest = airlog.row_digest(prev, values)
        conn.execute(
            "UPDATE as_run SET played_ms = 1, prev_hash = ?, row_hash = ? WHERE id = ?",
            (prev, digest, values["id"]),
        )
        prev = digest
    with seeded.tx() as s:
        assert airlog.verify(s, find_station(s, "phu-thu").id).ok
    problem = check(seeded).problem
    assert problem is not None and problem.kind == "deleted"


def test_a_removed_head_file_leaves_the_rows_unsigned(seeded: App) -> None:
    append_rows(seeded, 2)
    (seeded.config.home / "heads" / "phu-thu.json").unlink()
    problem = check(seeded).problem
    assert problem is not None and problem.kind == "unsigned"


def test_a_head_file_edited_without_the_key_is_refused(seeded: App) -> None:
    append_rows(seeded, 2)
    path = seeded.config.home / "heads" / "phu-thu.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["rows"] = 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AirLogError, match="không khớp chữ ký"):
        check(seeded)


def test_a_leader_signs_unsigned_rows_after_checking_but_never_a_rewritten_chain(seeded: App) -> None:
    append_rows(seeded, 2)
    forge_append(raw(seeded))
    now = datetime.now(UTC)
    with seeded.tx() as s, pytest.raises(PermissionDenied):
        chain.sign_head(s, find_station(s, "phu-thu"), seeded.witness, actor="hung", reason="x", now=now)
    with seeded.tx() as s:
        head = chain.sign_head(
            s,
            find_station(s, "phu-thu"),
            seeded.witness,
            actor="khoi",
            reason="đã đối chiếu sổ giấy",
            now=now,
        )
    assert head.rows == 3 and check(seeded).ok
    raw(seeded).execute("DELETE FROM as_run WHERE seq = 3")
    with seeded.tx() as s, pytest.raises(InvalidStateError):
        chain.sign_head(s, find_station(s, "phu-thu"), seeded.witness, actor="khoi", reason="x", now=now)


def test_first_init_signs_a_log_written_before_signed_heads(seeded: App) -> None:
    append_rows(seeded, 2)
    home = seeded.config.home
    for path in (home / "heads" / "phu-thu.json", home / "keys" / "station-ed25519.pem"):
        path.unlink()
    seeded.__dict__.pop("witness")  # a fresh key object, as a new process would build
    seeded.init()
    assert check(seeded).ok


def test_a_key_signs_and_checks_its_own_heads_only(tmp_path: Path) -> None:
    mine = Witness(StationKey(tmp_path / "a.pem"), HeadStore(tmp_path / "heads"))
    other = StationKey(tmp_path / "b.pem")
    head = mine.record("phu-thu", 5, "ab" * 32, T0)
    assert mine.key.check(head) and not other.check(head)
    assert (tmp_path / "a.pem").stat().st_mode & 0o777 == 0o600
    with pytest.raises(AirLogError):
        Witness(other, HeadStore(tmp_path / "heads")).last("phu-thu")
