"""Importing the seed schedule: the station as data, idempotent, approvals from the file."""

from __future__ import annotations

from datetime import time

from seedpaths import SEED
from sqlalchemy import func, select

from broadcaster.app import App
from broadcaster.schedules import load_schedule
from broadcaster.services import stations
from broadcaster.store.models import AuditRow, BulletinRow, RevisionRow


def test_seed_import_loads_the_ward_station(seeded: App) -> None:
    with seeded.tx() as s:
        row = stations.find_station(s, None)
        station = stations.station_domain(s, row)
        campaigns = {c.code: c for c in stations.campaigns_domain(s, row.id)}
    assert station.timezone == "Asia/Ho_Chi_Minh"
    assert "Phú Thứ" in station.name
    assert sorted(r.start for r in station.sessions) == [time(6, 0), time(17, 0)]
    assert all(r.weekdays == frozenset(range(6)) for r in station.sessions)
    main = campaigns["mai-dam-2023"]
    assert main.target.min_airings_per_week == 1 and main.target.max_gap_days == 7
    assert {"ma-tuy-2023", "hiv-aids-2023", "mua-ban-nguoi-2023"} <= set(campaigns)


def test_importing_twice_changes_nothing(seeded: App) -> None:
    app = seeded
    with app.tx() as s:
        before = (
            s.scalar(select(func.count()).select_from(RevisionRow)),
            s.scalar(select(func.count()).select_from(AuditRow)),
        )
        summary = stations.import_schedule(
            s, load_schedule(SEED), actor="test", now=app.clock.now(), speak=app.speak
        )
    assert not summary.changed
    with app.tx() as s:
        after = (
            s.scalar(select(func.count()).select_from(RevisionRow)),
            s.scalar(select(func.count()).select_from(AuditRow)),
        )
    assert before == after


def test_changed_bulletin_text_becomes_a_new_revision(seeded: App, tmp_path: object) -> None:
    app = seeded
    sf = load_schedule(SEED)
    first = sf.bulletins[0]
    import dataclasses

    changed = dataclasses.replace(
        sf, bulletins=(dataclasses.replace(first, text=first.text + " Xin cảm ơn."), *sf.bulletins[1:])
    )
    with app.tx() as s:
        summary = stations.import_schedule(s, changed, actor="test", now=app.clock.now(), speak=app.speak)
        assert summary.updated == {"bulletin": 1}
        row = s.scalar(select(BulletinRow).where(BulletinRow.key == first.key))
        assert row is not None and [r.number for r in row.revisions] == [1, 2]
